// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for guest accesses to a passthrough device: a VFIO device (fake kernel:
 * config space, BARs, regions with a sparse-mmap capability, MSI-X) is built on a PCI bus,
 * then the input plays guest config reads/writes through ECAM and BAR reads/writes through
 * the MMIO windows (BARs move, decode toggles, MSI-X enable/mask, table and PBA accesses,
 * sub-page and trapped BARs). The device must never crash, hang, or let a guest write reach
 * a capability body of the real device.
 *
 * fuzz-sources: devices/vfio/vfio.c devices/pci/pci.c devices/pci/host.c devices/pci/msix.c
 * fuzz-sources: vmm/irq.c vmm/memslot.c vmm/bus.c vmm/log.c acpi/aml.c acpi/mcfg.c
 * fuzz-sources: acpi/tables.c iommu/iommufd.c devices/pci/msi.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "devices/vfio/vfio.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* vm.c is not linked: the VM's ownership list is ours. */
static struct vm_cleanup owned[16];
static unsigned int nowned;

int vm_own(struct vm *vm, void (*fn)(void *), void *arg)
{
	if (nowned == 16)
		return -ENOSPC;
	owned[nowned++] = (struct vm_cleanup){ fn, arg };
	return 0;
}

int vm_add_acpi_table(struct vm *vm, const uint8_t *data, size_t len)
{
	return 0;
}

int vm_add_device(struct vm *vm, const char *name, int pci_slot, struct dev_metrics *m)
{
	return 0;
}

#define REG_SHIFT 40
static uint8_t cfg[256], cfg_orig[256];
static uint8_t bars[6][0x4000];
static const uint64_t bar_size[6] = { 0x4000, 0x80, 0x20, 0x4000, 0x1000, 0 };

static ssize_t f_rw(void *ctx, int fd, void *buf, size_t n, uint64_t off, bool write)
{
	unsigned int r = (unsigned int)(off >> REG_SHIFT);
	uint64_t rel = off & ((1ull << REG_SHIFT) - 1);

	if (r == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (rel > 256 || n > 256 - rel)
			__builtin_trap();
		if (write) {
			/* Only the command register may be written by kite. */
			if (rel != PCI_COMMAND || n != 2)
				__builtin_trap();
			memcpy(cfg + rel, buf, n);
		} else {
			memcpy(buf, cfg + rel, n);
		}
		return (ssize_t)n;
	}
	if (r >= 6 || rel > bar_size[r] || n > bar_size[r] - rel)
		__builtin_trap();
	if (write)
		memcpy(bars[r] + rel, buf, n);
	else
		memcpy(buf, bars[r] + rel, n);
	return (ssize_t)n;
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
	return f_rw(ctx, fd, buf, n, off, false);
}

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
	return f_rw(ctx, fd, (void *)buf, n, off, true);
}

static void *f_mmap(void *ctx, int fd, size_t len, uint64_t off)
{
	void *p;

	return posix_memalign(&p, 4096, len) ? NULL : p;
}

static void f_munmap(void *ctx, void *p, size_t len)
{
	free(p);
}

static int f_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_DEVICE_BIND_IOMMUFD:
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
	case VFIO_DEVICE_RESET:
	case VFIO_DEVICE_SET_IRQS:
		return 0;
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *i = arg;

		i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		i->num_regions = VFIO_PCI_NUM_REGIONS;
		i->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *i = arg;

		i->flags = VFIO_IRQ_INFO_EVENTFD;
		i->count = 4;
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *ri = arg;

		if (ri->index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		ri->offset = (uint64_t)ri->index << REG_SHIFT;
		ri->cap_offset = 0;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		ri->size = ri->index < 6			       ? bar_size[ri->index]
			   : ri->index == VFIO_PCI_CONFIG_REGION_INDEX ? 256
								       : 0;
		if (ri->index == 0 || ri->index == 3 || ri->index == 4)
			ri->flags |= VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	}
	}
	return -ENOTTY;
}

static int f_open(void *ctx, const char *path)
{
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static const struct vfio_env env = { .ioctl = f_ioctl,
				     .pread = f_pread,
				     .pwrite = f_pwrite,
				     .mmap = f_mmap,
				     .munmap = f_munmap,
				     .open = f_open };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	put_le16(cfg + PCI_VENDOR_ID, 0x8086);
	put_le16(cfg + PCI_DEVICE_ID, 0x10d3);
	put_le32(cfg + PCI_CLASS_REVISION, 0x02000000);
	put_le16(cfg + PCI_STATUS, PCI_STATUS_CAP_LIST);
	put_le32(cfg + PCI_BASE_ADDRESS_2, 0xc001);
	put_le32(cfg + PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_MEM_PREFETCH);
	cfg[PCI_CAPABILITY_LIST] = 0xc8;
	cfg[0xc8] = PCI_CAP_ID_PM, cfg[0xc9] = 0xd0;
	cfg[0xd0] = PCI_CAP_ID_MSI, cfg[0xd1] = 0xe0;
	cfg[0xe0] = PCI_CAP_ID_EXP, cfg[0xe1] = 0xa0;
	cfg[0xa0] = PCI_CAP_ID_MSIX, cfg[0xa1] = 0;
	put_le16(cfg + 0xa2, 3);
	put_le32(cfg + 0xa4, 0x0000 | 3);
	put_le32(cfg + 0xa8, 0x2000 | 3);
	memcpy(cfg_orig, cfg, sizeof(cfg));
	return 0;
}

#define ECAM 0xe0000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_bus_layout l = { .ecam_base = ECAM,
				    .mmio32_base = 0xc0000000ull,
				    .mmio32_size = 0x20000000ull,
				    .mmio64_base = 1ull << 34,
				    .mmio64_size = 1ull << 30,
				    .io_base = 0xc000,
				    .io_size = 0x4000 };
	static struct vm vm;
	struct host_iommu h;
	struct vfio_dev *d;
	struct pci_bus *bus;
	struct pci_device *pd;

	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = vm.exit_efd = -1;
	pthread_mutex_init(&vm.memslot_lock, NULL);
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	memcpy(cfg, cfg_orig, sizeof(cfg));
	host_iommu_init_fd(&h, -1, false);
	host_iommu_set_ioctl(&h, f_ioctl, NULL);
	bus = pci_bus_create(&vm, &l);
	if (!bus)
		abort();
	d = vfio_dev_create(&vm, bus, &env, &h, 3, open("/dev/null", O_RDWR | O_CLOEXEC), "fuzz");
	if (!d)
		abort();
	pd = vfio_dev_pci(d);
	while (size >= 8) {
		uint8_t op = data[0], sz = (uint8_t)(1u << (data[1] & 3));
		uint16_t off = get_le16(data + 2);
		uint32_t val = get_le32(data + 4);
		uint8_t buf[8];

		data += 8;
		size -= 8;
		put_le32(buf, val);
		put_le32(buf + 4, ~val);
		if (op & 0x80) {
			/* BAR access: which BAR in op's low bits, offset inside (or just past) it. */
			const struct pci_bar *b = &pd->bars[op % PCI_NUM_BARS];
			uint64_t a = (b->addr & ~0xfffull) + (off % 0x4100);

			struct bus *space = b->type == PCI_BAR_IO ? &vm.pio : &vm.mmio;

			if (b->type == PCI_BAR_IO)
				a = b->addr + (off % 0x120);
			if (op & 0x40)
				bus_write(space, a, buf, sz);
			else
				bus_read(space, a, buf, sz);
		} else {
			uint64_t a = ECAM + (1u << 15) + (off & 0xfff);

			if (op & 0x40)
				bus_write(&vm.mmio, a, buf, sz);
			else
				bus_read(&vm.mmio, a, buf, sz);
		}
	}
	/* Nothing the guest did may have changed the device's capabilities. */
	if (memcmp(cfg + PCI_CAP_START, cfg_orig + PCI_CAP_START, 256 - PCI_CAP_START))
		__builtin_trap();
	vfio_dev_destroy(d);
	while (nowned) {
		nowned--;
		owned[nowned].fn(owned[nowned].arg);
	}
	vm_irq_routes_free(&vm);
	pthread_mutex_destroy(&vm.memslot_lock);
	return 0;
}
