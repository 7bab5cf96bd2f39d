// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for PCI configuration space through ECAM, for every function kite has
 * (host bridge, virtio-blk, -net, -console, -rng) and the empty slots and functions
 * around them: reads and writes of any width at any offset, interleaved with accesses
 * into the BAR windows at wherever the guest has moved the BARs to (overlapping,
 * half-sized, decode off and on). Afterwards every BAR must decode nowhere or inside a
 * window, and each input ends by asking for an ACPI power-off, which must be granted.
 */
// fuzz-sources: vmm/bus.c vmm/vm.c vmm/irq.c vmm/log.c vmm/guest_mem.c vmm/dma.c
// fuzz-sources: vmm/event_loop.c vmm/exitcode.c acpi/aml.c acpi/mcfg.c acpi/tables.c
// fuzz-sources: vmm/seccomp.c -lseccomp -luring
// fuzz-sources: devices/legacy/*.c devices/pci/*.c devices/virtio/*.c
#include "tests/fuzz/fuzz_platform.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_platform_init(NULL);
	return 0;
}

static bool in_window(uint64_t a, uint64_t len)
{
	return (a >= X86_PCI_MMIO32_BASE && a + len <= X86_PCI_MMIO32_BASE + X86_PCI_MMIO32_SIZE) ||
	       (a >= FZ_MMIO64 && a + len <= FZ_MMIO64 + X86_PCI_MMIO64_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	fz_platform_rearm();
	while (in.n >= 8) {
		uint8_t op = fz_u8(&in), slot = fz_u8(&in) & 7;
		uint16_t reg = (uint16_t)(fz_u8(&in) | fz_u8(&in) << 8);
		uint32_t val = fz_u32(&in), w = fz_width(op >> 3, true);
		struct pci_device *dev = pci_bus_device(fz_bus, slot % FZ_SLOTS);

		switch (op & 7) {
		case 0:
		case 1:
		case 2:
		case 3:
			/* Mostly function 0's header, where BARs and Command live. */
			fz_mmio(fz_ecam(slot, (reg >> 12) & 7, (op & 4) ? reg & 0xfff : reg & 0x3f),
				true, w, val);
			break;
		case 4:
			fz_mmio(fz_ecam(slot, (reg >> 12) & 7, reg & 0xfff), false, w, 0);
			break;
		case 5:
		case 6:
			/* Into a BAR at its current address: the dispatch must follow the move. */
			if (dev && slot) {
				const struct pci_bar *b = &dev->bars[(reg >> 14) % PCI_NUM_BARS];

				if (b->type != PCI_BAR_NONE)
					fz_mmio(b->addr + (reg & 0x3fff), (op & 7) == 5, w, val);
			}
			break;
		case 7:
			/* Anywhere in the 32-bit window, where moved BARs may now sit. */
			fz_mmio(X86_PCI_MMIO32_BASE + ((uint64_t)val & 0x1fffffff), reg & 1, w,
				val);
			break;
		}
	}
	for (unsigned int s = 1; s < FZ_SLOTS; s++) {
		struct pci_device *dev = pci_bus_device(fz_bus, s);

		for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &dev->bars[i];

			if (b->type != PCI_BAR_NONE && b->decode != PCI_BAR_UNMAPPED &&
			    !in_window(b->decode, b->size))
				__builtin_trap();
		}
	}
	/* A guest that powers off after any config writes gets its power-off. */
	fz_pio(X86_PM_SLEEP_CTL_PORT, true, 1, 0x20 | (5 << 2));
	if (!fz_vm.exiting || fz_vm.exit_code != 0)
		__builtin_trap();
	return 0;
}
