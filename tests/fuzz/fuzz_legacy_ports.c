// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the legacy port devices that end or mark a VM's life: the i8042
 * (0x60 data, 0x64 command), ACPI PM sleep control/status (0x600/0x601), debug-exit
 * (0x501..0x504), pvpanic (0x505) and the boot timer (0x509), plus any other port. Reads
 * and writes of every width, through the port bus as a KVM_EXIT_IO reaches it. A
 * reference model says which exit each write must request (first request wins; pvpanic's
 * is drained and its code wins over later ones) and what each read returns; any
 * difference traps.
 */
// fuzz-sources: vmm/bus.c vmm/vm.c vmm/irq.c vmm/log.c vmm/guest_mem.c vmm/dma.c
// fuzz-sources: vmm/event_loop.c vmm/exitcode.c acpi/aml.c acpi/mcfg.c acpi/tables.c
// fuzz-sources: vmm/seccomp.c -lseccomp -luring
// fuzz-sources: devices/legacy/*.c devices/pci/*.c devices/virtio/*.c
#include "tests/fuzz/fuzz_platform.h"
#include "vmm/exitcode.h"

struct model {
	bool exiting, deferred;
	int code;
	uint8_t i8042_cmd;
};

static void m_exit(struct model *m, int code, bool drained)
{
	if (m->exiting || (drained && m->deferred))
		return;
	if (!m->deferred)
		m->code = code;
	if (drained)
		m->deferred = true;
	else
		m->exiting = true;
}

/* Applies a write the bus delivers whole to one device (or to nobody). */
static void m_write(struct model *m, uint16_t port, uint32_t w, uint32_t v)
{
	if (port == 0x60 && w == 1) {
		if (m->i8042_cmd == 0xd1 && !(v & 1))
			m_exit(m, KITE_EXIT_RESET, false);
		m->i8042_cmd = 0;
	} else if (port == 0x64 && w == 1) {
		if ((v & 0xff) == 0xfe)
			m_exit(m, KITE_EXIT_RESET, false);
		m->i8042_cmd = (uint8_t)v;
	} else if (port == 0x501 && w <= 4) {
		m_exit(m, (int)(v & 0xff), false);
	} else if (port == 0x505 && w == 1) {
		if (v & 1)
			m_exit(m, KITE_EXIT_PANIC, true);
	} else if (port == 0x600 && w == 1) {
		if ((v & 0x20) && ((v >> 2) & 7) == 5)
			m_exit(m, KITE_EXIT_POWEROFF, false);
	}
}

/* What a read returns: -1 for "not one of these devices" (not checked). */
static int64_t m_read(uint16_t port, uint32_t w)
{
	if (w == 1 &&
	    (port == 0x60 || port == 0x64 || port == 0x509 || port == 0x600 || port == 0x601))
		return 0;
	if (port >= 0x501 && port + w <= 0x505)
		return 0;
	if (port == 0x505 && w == 1)
		return 3; /* pvpanic: PANICKED | CRASH_LOADED */
	/* Straddling or missing a 1-port device: nobody answers, all ones. */
	if ((port < 0x60 && port + w > 0x60) || (port == 0x60 && w > 1) ||
	    (port < 0x64 && port + w > 0x64) || (port == 0x64 && w > 1) ||
	    (port < 0x505 && port + w > 0x505) || (port == 0x505 && w > 1) ||
	    (port == 0x509 && w > 1) || (port == 0x600 && w > 1) || (port == 0x601 && w > 1))
		return (int64_t)((1ULL << (8 * w)) - 1);
	return -1;
}

static uint16_t pick_port(uint8_t sel, uint16_t raw)
{
	static const uint16_t ports[] = { 0x5f,	 0x60,	0x61,  0x63,  0x64,  0x500, 0x501,
					  0x502, 0x503, 0x504, 0x505, 0x506, 0x508, 0x509,
					  0x5ff, 0x600, 0x601, 0x602, 0x3f8, 0x3fd };

	return sel < 200 ? ports[sel % (sizeof(ports) / sizeof(ports[0]))] : raw;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_platform_init(NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct model m = { 0 };

	fz_platform_rearm();
	fz_pio(0x64, true, 1, 0); /* the i8042 forgets the last input's pending command */
	while (in.n >= 8) {
		uint8_t op = fz_u8(&in), sel = fz_u8(&in);
		uint16_t raw = (uint16_t)(fz_u8(&in) | fz_u8(&in) << 8);
		uint32_t val = fz_u32(&in), w = fz_width(op >> 1, false);
		uint16_t port = pick_port(sel, raw);

		if ((uint32_t)port + w > 0x10000)
			continue;
		if (op & 1) {
			uint8_t d[4] = { 0 };
			int64_t want = m_read(port, w);

			bus_read(&fz_vm.pio, port, d, w);
			if (want >= 0 && (get_le32(d) & (uint32_t)((1ULL << (8 * w)) - 1)) != want)
				__builtin_trap();
		} else {
			fz_pio(port, true, w, val);
			m_write(&m, port, w, val & (uint32_t)((1ULL << (8 * w)) - 1));
		}
		if (fz_vm.exiting != m.exiting || fz_vm.exit_deferred != m.deferred ||
		    ((m.exiting || m.deferred) && fz_vm.exit_code != m.code))
			__builtin_trap();
	}
	return 0;
}
