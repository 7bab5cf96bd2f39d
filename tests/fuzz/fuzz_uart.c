// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the 8250 UART's registers: reads and writes of every width at and
 * around 0x3f8..0x3ff through the port bus (as a KVM_EXIT_IO reaches them), host input
 * pushed into the receive FIFO, and the event loop's transmit drain, in any order. The
 * output fd is a pipe the target empties now and then, so the transmit buffer fills,
 * stalls and drains (the buffer is 512 bytes here, so that happens often). Checked along
 * the way: the IRQ line kite drives matches IIR's "interrupt pending" bit, and THRE is
 * clear exactly while the transmit buffer is full.
 */
// fuzz-sources: vmm/bus.c vmm/vm.c vmm/irq.c vmm/log.c vmm/guest_mem.c vmm/dma.c
// fuzz-sources: vmm/event_loop.c vmm/exitcode.c acpi/aml.c acpi/mcfg.c acpi/tables.c
// fuzz-sources: vmm/seccomp.c -lseccomp -luring
// fuzz-sources: devices/legacy/acpi_pm.c devices/legacy/boot_timer.c devices/legacy/debug_exit.c
// fuzz-sources: devices/legacy/ged.c devices/legacy/i8042.c devices/legacy/pvpanic.c
// fuzz-sources: devices/pci/*.c devices/virtio/*.c
#include "tests/fuzz/fuzz_platform.h"

/* The UART itself, with a transmit buffer small enough to fill in a few hundred writes. */
#define TX_BUF_SIZE 512
#include "devices/legacy/uart8250.c"

static struct uart8250 *u;
static int out[2];
static uint8_t junk[1 << 16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_platform_init(NULL);
	/* A UART of its own on a pipe the target controls (the platform's writes to /dev/null). */
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK))
		fz_die("pipe");
	fcntl(out[1], F_SETPIPE_SZ, 4096);
	u = uart8250_create(NULL, 0x2f8, 3, out[1]);
	if (!u)
		fz_die("uart");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* At most 128 steps an input: each may be a syscall or two. */
	struct fz_in in = { data, size < 512 ? size : 512 };

	fz_platform_rearm();
	while (in.n >= 4) {
		uint8_t op = fz_u8(&in), reg = fz_u8(&in), v1 = fz_u8(&in), v2 = fz_u8(&in);
		uint32_t w = fz_width(op >> 4, false);

		switch (op & 15) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			uart8250_write_reg(u, reg & 7, v1);
			break;
		case 5:
		case 6:
			uart8250_read_reg(u, reg & 7);
			break;
		case 7:
			uart8250_push_input(u, in.p, in.n < v1 ? in.n : v1);
			break;
		case 8:
			uart8250_tx_drain(u);
			break;
		case 9:
			while (read(out[0], junk, v1 * 64u + 1) > 0 && v2 & 1)
				;
			break;
		case 10:
		case 11:
		case 12:
			/* The platform's COM1 through the bus, straddling its ends too. */
			fz_pio((uint16_t)(0x3f6 + reg % 12), op & 1, w, (uint32_t)v1 | v2 << 8);
			break;
		default:
			/* Transmit bursts: the buffer must fill without blocking. */
			for (unsigned int i = 0; i < v1 * 4u; i++)
				uart8250_write_reg(u, 0, v2);
			break;
		}
		/* IIR bit 0 is 1 when nothing is pending: the line kite drives must agree. */
		if (op & 0x80) {
			int level = uart8250_irq_level(u);

			if ((uart8250_read_reg(u, 2) & 1) == level)
				__builtin_trap();
		}
		/* THRE is clear exactly while the transmit buffer is full (and not looping). */
		if (op & 0x40) {
			bool full = u->tx_count == TX_BUF_SIZE && !(u->mcr & MCR_LOOP);

			if (!!(uart8250_read_reg(u, 5) & 0x20) == full)
				__builtin_trap();
		}
	}
	return 0;
}
