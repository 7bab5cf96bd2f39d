// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for MSI-X: the vector table and PBA of every virtio device (BAR0 at
 * 0x2000/0x3000) and of a 64-vector test function (table at 0, PBA at 0x800 of its BAR0),
 * reached through the BAR windows as a vCPU's MMIO exit reaches them, interleaved with
 * writes to the MSI-X capability (enable, function mask), Command (memory decode) and the
 * BARs, and with notifies of any vector number, in range or not. A notify of a vector
 * that is masked must leave its pending bit set, and the bit must read back in the PBA.
 */
// fuzz-sources: vmm/bus.c vmm/vm.c vmm/irq.c vmm/log.c vmm/guest_mem.c vmm/dma.c
// fuzz-sources: vmm/event_loop.c vmm/exitcode.c acpi/aml.c acpi/mcfg.c acpi/tables.c
// fuzz-sources: vmm/seccomp.c -lseccomp -luring
// fuzz-sources: devices/legacy/*.c devices/pci/*.c devices/virtio/*.c
#include "devices/pci/msix.h"
#include "tests/fuzz/fuzz_platform.h"

#define T_NVEC MSIX_MAX_VECTORS
#define T_PBA 0x800

static struct pci_device tdev;
static struct msix *tmsix;
static unsigned int tslot, tcap;

static void add_test_device(void)
{
	pci_device_init(&tdev, NULL, NULL, "fuzz-msix", 0x1234, 0x5678, 0xff0000, 0, 0, 0);
	if (pci_device_set_bar(&tdev, 0, PCI_BAR_MEM32, 0x1000, false))
		fz_die("bar");
	tmsix = msix_create(&fz_vm, &tdev, T_NVEC, 0, 0, T_PBA);
	if (!tmsix || pci_bus_add(fz_bus, &tdev))
		fz_die("msix device");
	tslot = tdev.slot;
}

/* The device's BAR handlers: only the MSI-X structures live in this BAR. */
static void t_read(struct pci_device *d, unsigned int bar, uint64_t off, uint8_t *data,
		   uint32_t size)
{
	if (!msix_bar_access(tmsix, bar, off, data, size, false))
		memset(data, 0, size);
}

static void t_write(struct pci_device *d, unsigned int bar, uint64_t off, const uint8_t *data,
		    uint32_t size)
{
	msix_bar_access(tmsix, bar, off, (uint8_t *)data, size, true);
}

static void t_config_write(struct pci_device *d, uint32_t off, uint32_t size, uint32_t val)
{
	msix_config_write(tmsix, off, size, val);
}

static const struct pci_device_ops t_ops = { .bar_read = t_read,
					     .bar_write = t_write,
					     .config_write = t_config_write };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_platform_init(add_test_device);
	tdev.ops = &t_ops;
	for (unsigned int c = tdev.config[PCI_CAPABILITY_LIST]; c; c = tdev.config[c + 1])
		if (tdev.config[c] == PCI_CAP_ID_MSIX)
			tcap = c;
	if (!tcap)
		fz_die("no MSI-X capability");
	/* Memory decode on everywhere to start with; inputs may turn it off. */
	for (unsigned int s = 1; s <= tslot; s++)
		fz_mmio(fz_ecam(s, 0, PCI_COMMAND), true, 2,
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return 0;
}

static uint64_t bar0(unsigned int slot)
{
	return pci_bus_device(fz_bus, slot)->bars[0].addr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	fz_platform_rearm();
	while (in.n >= 8) {
		uint8_t op = fz_u8(&in), sel = fz_u8(&in);
		uint16_t off = (uint16_t)(fz_u8(&in) | fz_u8(&in) << 8);
		uint32_t val = fz_u32(&in), w = fz_width(op >> 4, true);
		unsigned int slot = 1 + sel % tslot; /* a virtio device or the test function */
		uint16_t vec = (uint16_t)(sel % (T_NVEC + 8));

		switch (op & 15) {
		case 0:
		case 1:
		case 2:
		case 3:
			/* Table and PBA: the test function's BAR, or 0x2000.. of a virtio BAR0 */
			fz_mmio(bar0(slot) +
					(slot == tslot ? off & 0xfff : 0x2000 + (off & 0x1fff)),
				op & 1, w, val);
			break;
		case 4:
		case 5:
			fz_mmio(fz_ecam(tslot, 0, tcap + 2), true, 2,
				val & 0xc000); /* enable, mask */
			break;
		case 6:
			fz_mmio(fz_ecam(slot, 0, (off & 0xff)), true, w > 4 ? 4 : w, val);
			break;
		case 7:
			fz_mmio(fz_ecam(slot, 0, PCI_COMMAND), true, 2, val & 0x7);
			break;
		case 8:
		case 9:
		case 10: {
			/* Read through the model itself: another BAR may overlap this one. */
			uint8_t b[8] = { 0 };
			uint32_t ctrl = 0;
			int ret;

			if (vec < T_NVEC) {
				msix_bar_access(tmsix, 0, vec * 16u + 12, b, 4, false);
				ctrl = get_le32(b);
			}
			ret = msix_notify(tmsix, vec);
			if (vec >= T_NVEC && ret == 0)
				__builtin_trap(); /* a vector that does not exist was "sent" */
			/* Masked: the notify must be remembered as pending. */
			if (vec < T_NVEC && msix_enabled(tmsix) && (ctrl & 1)) {
				msix_bar_access(tmsix, 0, T_PBA, b, 8, false);
				if (!(get_le64(b) & (1ULL << vec)))
					__builtin_trap();
			}
			break;
		}
		default:
			fz_mmio(bar0(slot) + (off & 0x3fff), op & 1, w, val);
			break;
		}
	}
	return 0;
}
