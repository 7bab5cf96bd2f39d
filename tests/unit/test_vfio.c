// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO passthrough against a fake kernel: an e1000e-like device (PM -> MSI -> PCIe -> MSI-X
 * capabilities; BAR0 128 KiB mmap-able, BAR1 a 128-byte trapped BAR, BAR2 I/O, BAR3 16 KiB
 * with the MSI-X table and PBA under a sparse-mmap capability, BAR4 64-bit prefetchable),
 * with every VFIO and iommufd ioctl, config/BAR pread/pwrite and mmap going through
 * struct vfio_env. Checks the guest's config view, BAR sizing and decode toggles (memory
 * slots), capability filtering, MSI-X programming -> routes + SET_IRQS, trapped accesses,
 * and teardown/reset on success and on every error path.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pci/msi.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "devices/vfio/vfio.h"
#include "test_pci_util.h"
#include "tests/unit/test_fake_iommufd.h"
#include "vmm/config.h"
#include "vmm/dma.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/memslot.h"
#include "vmm/vm.h"

#define REG_SHIFT 40
#define REG_OFF(i) ((uint64_t)(i) << REG_SHIFT)
#define NVEC 5
#define MAX_MAPS 16

enum ev { EV_BIND = 1, EV_ATTACH, EV_DETACH, EV_RESET, EV_CFG_READ, EV_SET_IRQS };

struct fake {
	uint8_t cfg[256];
	uint8_t bar[6][0x20000];
	uint64_t bar_size[6];
	uint32_t bar_flags[6];
	int fail_nr[256]; /* forced -errno by ioctl nr */
	unsigned int calls[256];
	int order[64];
	unsigned int norder;
	unsigned int bar_preads, bar_pwrites;
	uint64_t last_bar_off;
	uint16_t cmd_writes, last_cmd;
	unsigned int last_irq_count, last_irq_flags, last_irq_index;
	int32_t irq_fds[NVEC];
	void *maps[MAX_MAPS];
	size_t map_len[MAX_MAPS];
	uint64_t map_off[MAX_MAPS];
	unsigned int nmaps, nunmaps;
	unsigned int ioas_maps, ioas_unmaps, destroys;
	int open_errno; /* for the cdev/iommu open */
	int opened, info_flags;
	bool sparse;
};

static struct fake fk;
static struct vm vm;
static struct vm_config cfg;
static struct pci_bus *bus;
static struct vfio_env env;

static void note(int e)
{
	if (fk.norder < 64)
		fk.order[fk.norder++] = e;
}

static int region_of(uint64_t off, uint64_t *rel)
{
	*rel = off & ((1ull << REG_SHIFT) - 1);
	return (int)(off >> REG_SHIFT);
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
	uint64_t rel;
	int r = region_of(off, &rel);

	if (r == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (rel + n > 256)
			return -1;
		note(EV_CFG_READ);
		memcpy(buf, fk.cfg + rel, n);
		return (ssize_t)n;
	}
	if (r < 6 && rel + n <= fk.bar_size[r]) {
		fk.bar_preads++;
		fk.last_bar_off = off;
		memcpy(buf, fk.bar[r] + rel, n);
		return (ssize_t)n;
	}
	return -1;
}

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
	uint64_t rel;
	int r = region_of(off, &rel);

	if (r == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (rel == PCI_COMMAND && n == 2) {
			fk.cmd_writes++;
			memcpy(&fk.last_cmd, buf, 2);
		}
		if (rel + n > 256)
			return -1;
		memcpy(fk.cfg + rel, buf, n);
		return (ssize_t)n;
	}
	if (r < 6 && rel + n <= fk.bar_size[r]) {
		fk.bar_pwrites++;
		fk.last_bar_off = off;
		memcpy(fk.bar[r] + rel, buf, n);
		return (ssize_t)n;
	}
	return -1;
}

static void *f_mmap(void *ctx, int fd, size_t len, uint64_t off)
{
	void *p;

	if (fk.nmaps == MAX_MAPS || posix_memalign(&p, 4096, len))
		return NULL;
	fk.maps[fk.nmaps] = p;
	fk.map_len[fk.nmaps] = len;
	fk.map_off[fk.nmaps++] = off;
	return p;
}

static void f_munmap(void *ctx, void *p, size_t len)
{
	fk.nunmaps++;
	free(p);
}

static int f_open(void *ctx, const char *path)
{
	int fd;

	if (fk.open_errno && strstr(path, "iommu"))
		return -fk.open_errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fk.opened++;
	return fd;
}

static int region_ioctl(struct vfio_region_info *ri)
{
	uint32_t i = ri->index, need;

	if (i >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	ri->cap_offset = 0;
	ri->offset = REG_OFF(i);
	if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
		ri->size = 256;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	}
	if (i >= 6) {
		ri->size = 0;
		ri->flags = 0;
		return 0;
	}
	ri->size = fk.bar_size[i];
	ri->flags = fk.bar_flags[i];
	if (i != 3 || !fk.sparse)
		return 0;
	/* BAR3: one sparse area over the whole BAR (the kernel lets MSI-X pages be mapped). */
	need = sizeof(*ri) + sizeof(struct vfio_region_info_cap_sparse_mmap) +
	       sizeof(struct vfio_region_sparse_mmap_area);
	ri->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (ri->argsz < need) {
		ri->argsz = need;
		return 0;
	}
	{
		struct vfio_region_info_cap_sparse_mmap *s = (void *)((uint8_t *)ri + sizeof(*ri));

		ri->cap_offset = sizeof(*ri);
		s->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		s->header.version = 1;
		s->header.next = 0;
		s->nr_areas = 1;
		s->areas[0].offset = 0;
		s->areas[0].size = fk.bar_size[3];
	}
	return 0;
}

static int f_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	unsigned int nr = _IOC_NR(req);

	fk.calls[nr]++;
	if (fk.fail_nr[nr])
		return fk.fail_nr[nr];
	switch (req) {
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = 3;
		return 0;
	case IOMMU_IOAS_IOVA_RANGES:
		return test_fake_iova_ranges(arg);
	case IOMMU_IOAS_MAP:
		fk.ioas_maps++;
		return 0;
	case IOMMU_IOAS_UNMAP:
		fk.ioas_unmaps++;
		return 0;
	case IOMMU_DESTROY:
		fk.destroys++;
		return 0;
	case VFIO_DEVICE_BIND_IOMMUFD:
		note(EV_BIND);
		((struct vfio_device_bind_iommufd *)arg)->out_devid = 5;
		return 0;
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		cr_assert_eq(((struct vfio_device_attach_iommufd_pt *)arg)->pt_id, 3);
		note(EV_ATTACH);
		return 0;
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		note(EV_DETACH);
		return 0;
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *i = arg;

		i->flags = (uint32_t)fk.info_flags;
		i->num_regions = VFIO_PCI_NUM_REGIONS;
		i->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		return region_ioctl(arg);
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *i = arg;

		i->flags = VFIO_IRQ_INFO_EVENTFD;
		i->count = i->index == VFIO_PCI_MSIX_IRQ_INDEX ? NVEC : 1;
		return 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set *s = arg;

		fk.last_irq_index = s->index;
		note(EV_SET_IRQS);
		fk.last_irq_count = s->count;
		fk.last_irq_flags = s->flags;
		for (unsigned int i = 0; i < s->count && i < NVEC; i++)
			memcpy(&fk.irq_fds[i], s->data + 4 * i, 4);
		return 0;
	}
	case VFIO_DEVICE_RESET:
		note(EV_RESET);
		return 0;
	}
	return -ENOTTY;
}

static void put_cap(uint8_t off, uint8_t id, uint8_t next)
{
	fk.cfg[off] = id;
	fk.cfg[off + 1] = next;
}

static void fake_device(void)
{
	uint8_t *c = fk.cfg;

	memset(&fk, 0, sizeof(fk));
	fk.info_flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	fk.sparse = true;
	put_le16(c + PCI_VENDOR_ID, 0x8086);
	put_le16(c + PCI_DEVICE_ID, 0x10d3);
	put_le32(c + PCI_CLASS_REVISION, 0x02000000);
	put_le16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
	put_le16(c + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	put_le16(c + PCI_SUBSYSTEM_ID, 0x0000);
	c[PCI_INTERRUPT_PIN] = 1;
	put_le32(c + PCI_BASE_ADDRESS_0, 0xfeb80000);
	put_le32(c + PCI_BASE_ADDRESS_1, 0xfebf1000);
	put_le32(c + PCI_BASE_ADDRESS_2, 0xc001);
	put_le32(c + PCI_BASE_ADDRESS_3, 0xfebf0000);
	put_le32(c + PCI_BASE_ADDRESS_4,
		 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	put_le32(c + PCI_ROM_ADDRESS, 0xfeb40000);
	c[PCI_CAPABILITY_LIST] = 0xc8;
	put_cap(0xc8, PCI_CAP_ID_PM, 0xd0);
	put_le16(c + 0xca, 0x0022);
	put_cap(0xd0, PCI_CAP_ID_MSI, 0xe0);
	put_cap(0xe0, PCI_CAP_ID_EXP, 0xa0);
	put_le16(c + 0xe0 + PCI_EXP_FLAGS, 0x0002);
	put_le16(c + 0xe0 + PCI_EXP_DEVCTL, 0x2810);
	put_cap(0xa0, PCI_CAP_ID_MSIX, 0);
	put_le16(c + 0xa2, NVEC - 1);
	put_le32(c + 0xa4, 0x0000 | 3);
	put_le32(c + 0xa8, 0x2000 | 3);
	fk.bar_size[0] = 0x20000;
	fk.bar_flags[0] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			  VFIO_REGION_INFO_FLAG_MMAP;
	fk.bar_size[1] = 0x80;
	fk.bar_flags[1] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	fk.bar_size[2] = 0x20;
	fk.bar_flags[2] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	fk.bar_size[3] = 0x4000;
	fk.bar_flags[3] = fk.bar_flags[0];
	fk.bar_size[4] = 0x4000;
	fk.bar_flags[4] = fk.bar_flags[0];
	for (int i = 0; i < 6; i++)
		for (uint64_t j = 0; j < fk.bar_size[i] && j < sizeof(fk.bar[i]); j++)
			fk.bar[i][j] = (uint8_t)(i << 4 | (j & 0xf));
}

static void setup(void)
{
	struct pci_bus_layout l = test_layout();

	l.io_base = 0xc000;
	l.io_size = 0x4000;
	fake_device();
	test_vm_init(&vm);
	cr_assert_eq(guest_mem_init(&vm.mem, MiB(16), GiB(3)), 0);
	config_init(&cfg);
	vm.cfg = &cfg;
	bus = pci_bus_create(&vm, &l);
	cr_assert_not_null(bus);
	env = vfio_env_host;
	env.ioctl = f_ioctl;
	env.pread = f_pread;
	env.pwrite = f_pwrite;
	env.mmap = f_mmap;
	env.munmap = f_munmap;
	env.open = f_open;
	env.ctx = &fk;
}

static void teardown(void)
{
	vm_destroy(&vm);
	config_free(&cfg);
}

static void add_path(const char *p)
{
	cr_assert_eq(parse_vfio(p, &cfg.vfio[cfg.nvfio]), 0);
	cfg.nvfio++;
}

static int build(void)
{
	return vfio_build_env(&vm, bus, &env);
}

static struct pci_device *guest_dev(void)
{
	struct pci_device *d = pci_bus_device(bus, 1);

	cr_assert_not_null(d);
	return d;
}

static int index_of(int ev)
{
	for (unsigned int i = 0; i < fk.norder; i++)
		if (fk.order[i] == ev)
			return (int)i;
	return -1;
}

static unsigned int count_of(int ev)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fk.norder; i++)
		n += fk.order[i] == ev;
	return n;
}

TestSuite(vfio, .init = setup, .fini = teardown);

Test(vfio, set_up_order_and_ioas)
{
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	cr_assert_eq(index_of(EV_BIND), 0);
	cr_assert_eq(index_of(EV_ATTACH), 1);
	/* Reset before the config space is read for the guest view. */
	cr_assert_lt(index_of(EV_RESET), index_of(EV_CFG_READ));
	cr_assert_eq(fk.ioas_maps, vm.mem.nregions, "all guest RAM mapped");
	cr_assert_eq(fk.calls[_IOC_NR(IOMMU_IOAS_ALLOC)], 1);
	/* Device quiet until the guest enables it. */
	cr_assert_eq(fk.last_cmd, PCI_COMMAND_INTX_DISABLE);
}

Test(vfio, config_view)
{
	struct pci_device *d;
	unsigned int off, ids[8], n = 0;

	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	d = guest_dev();
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_VENDOR_ID, 4), 0x10d38086);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_CLASS_REVISION, 4), 0x02000000);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_INTERRUPT_PIN, 1), 0, "no INTx offered");
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_ROM_ADDRESS, 4), 0, "no ROM");
	cr_assert_eq(test_cfg_read(&vm, 1, 0x100, 4), 0, "no extended capabilities");
	/* The chain leaves MSI out. */
	for (off = test_cfg_read(&vm, 1, PCI_CAPABILITY_LIST, 1); off && n < 8;
	     off = test_cfg_read(&vm, 1, off + 1, 1))
		ids[n++] = test_cfg_read(&vm, 1, off, 1);
	cr_assert_eq(n, 3);
	cr_assert_eq(ids[0], PCI_CAP_ID_PM);
	cr_assert_eq(ids[1], PCI_CAP_ID_EXP);
	cr_assert_eq(ids[2], PCI_CAP_ID_MSIX);
	cr_assert_eq(test_find_cap(d, PCI_CAP_ID_MSI), 0);
	/* Capability bodies are read live; writes to them do not reach the device. */
	cr_assert_eq(test_cfg_read(&vm, 1, 0xe0 + PCI_EXP_DEVCTL, 2), 0x2810);
	put_le16(fk.cfg + 0xe0 + PCI_EXP_DEVSTA, 0x0004);
	cr_assert_eq(test_cfg_read(&vm, 1, 0xe0 + PCI_EXP_DEVSTA, 2), 0x0004);
	test_cfg_write(&vm, 1, 0xe0 + PCI_EXP_DEVCTL, 2, 0x8000 | PCI_EXP_DEVCTL_BCR_FLR);
	cr_assert_eq(get_le16(fk.cfg + 0xe0 + PCI_EXP_DEVCTL), 0x2810, "FLR/DEVCTL write dropped");
	test_cfg_write(&vm, 1, 0xcc, 2, 0x0003); /* PMCSR to D3hot */
	cr_assert_eq(get_le16(fk.cfg + 0xcc), 0);
	/* MSI-X's Message Control is kite's: the table size as the device has it. */
	cr_assert_eq(test_cfg_read(&vm, 1, 0xa2, 2), NVEC - 1);
	cr_assert_eq(test_cfg_read(&vm, 1, 0xa4, 4), 3);
	cr_assert_eq(test_cfg_read(&vm, 1, 0xa8, 4), 0x2003);
}

Test(vfio, bar_sizing)
{
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_0, 4), 0xfffe0000);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_1, 4), 0xffffff80, "sub-page BAR");
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_2, 4), 0xffe1, "32-port I/O BAR");
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_5, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_4, 4),
		     0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_5, 4), 0xffffffff);
}

Test(vfio, decode_toggles_memory_slots)
{
	struct pci_device *d;
	struct vm_memslot s;
	uint64_t b0, b3;

	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	d = guest_dev();
	b0 = d->bars[0].addr;
	b3 = d->bars[3].addr;
	/* BAR0 whole, BAR3 without its table (0x0) and PBA (0x2000) pages, BAR4: 4 maps. */
	cr_assert_eq(fk.nmaps, 4);
	cr_assert_not(vm_memslot_find(&vm, b0, &s), "nothing mapped before Memory Space Enable");
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cr_assert_eq(fk.last_cmd,
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	cr_assert(vm_memslot_find(&vm, b0 + 0x1fff0, &s));
	cr_assert_eq(s.gpa, b0);
	cr_assert_eq(s.size, 0x20000);
	cr_assert_not(vm_memslot_find(&vm, b3, &s), "MSI-X table page trapped");
	cr_assert_not(vm_memslot_find(&vm, b3 + 0x2000, &s), "PBA page trapped");
	cr_assert(vm_memslot_find(&vm, b3 + 0x1000, &s));
	cr_assert(vm_memslot_find(&vm, b3 + 0x3000, &s));
	cr_assert_not(vm_memslot_find(&vm, d->bars[1].addr, &s), "sub-page BAR trapped");
	/* Move BAR0: the slot follows. */
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)(b0 + 0x100000));
	cr_assert_not(vm_memslot_find(&vm, b0, &s));
	cr_assert(vm_memslot_find(&vm, b0 + 0x100000, &s));
	/* Decode off: every slot goes. */
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, 0);
	cr_assert_not(vm_memslot_find(&vm, b0 + 0x100000, &s));
	cr_assert_not(vm_memslot_find(&vm, b3 + 0x1000, &s));
	cr_assert_eq(fk.last_cmd, PCI_COMMAND_INTX_DISABLE);
}

Test(vfio, trapped_accesses)
{
	struct pci_device *d;
	unsigned int before;

	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	d = guest_dev();
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* The sub-page BAR is forwarded with pread/pwrite at its region offset. */
	cr_assert_eq(test_mmio_read(&vm, d->bars[1].addr + 4, 4), 0x17161514);
	cr_assert_eq(fk.last_bar_off, REG_OFF(1) + 4);
	test_mmio_write(&vm, d->bars[1].addr + 8, 4, 0xdeadbeef);
	cr_assert_eq(get_le32(fk.bar[1] + 8), 0xdeadbeef);
	/* The I/O BAR is forwarded too, once I/O Space is on. */
	cr_assert_eq(d->bars[2].type, PCI_BAR_IO);
	{
		uint8_t v[4] = { 0 };

		cr_assert_eq(bus_read(&vm.pio, d->bars[2].addr + 4, v, 4), 0);
		cr_assert_eq(get_le32(v), 0xffffffff, "I/O decode off");
		test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
		cr_assert_eq(fk.last_cmd,
			     PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);
		cr_assert_eq(bus_read(&vm.pio, d->bars[2].addr + 4, v, 4), 0);
		cr_assert_eq(get_le32(v), 0x27262524);
		cr_assert_eq(fk.last_bar_off, REG_OFF(2) + 4);
	}
	/* Past the real 128 bytes, inside the guest's page: nobody decodes it. */
	cr_assert_eq(test_mmio_read(&vm, d->bars[1].addr + 0x80, 4), 0);
	/* The MSI-X table is kite's: no access reaches the device. */
	before = fk.bar_preads + fk.bar_pwrites;
	test_mmio_write(&vm, d->bars[3].addr + 16, 4, 0xfee00000);
	cr_assert_eq(test_mmio_read(&vm, d->bars[3].addr + 16, 4), 0xfee00000);
	cr_assert_eq(test_mmio_read(&vm, d->bars[3].addr + 0x2000, 8), 0, "PBA");
	cr_assert_eq(fk.bar_preads + fk.bar_pwrites, before);
	cr_assert_eq(get_le32(fk.bar[3] + 16), 0x00000000 | 0x33323130, "device table untouched");
}

Test(vfio, msix_programming)
{
	struct msix *m;
	uint32_t gsi, data;
	uint64_t addr, tab;
	struct pci_device *d;

	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	d = guest_dev();
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	tab = d->bars[3].addr;
	cr_assert_eq(count_of(EV_SET_IRQS), 0);
	/* Linux: enable with the function masked, program, unmask. */
	test_cfg_write(&vm, 1, 0xa2, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cr_assert_eq(count_of(EV_SET_IRQS), 1);
	cr_assert_eq(fk.last_irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_eq(fk.last_irq_count, NVEC);
	cr_assert_eq(fk.last_irq_flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	m = vfio_dev_msix(vm.cleanups[vm.ncleanups - 1].arg);
	cr_assert_not_null(m);
	for (unsigned int i = 0; i < NVEC; i++)
		cr_assert_eq(fk.irq_fds[i], msix_vector_eventfd(m, (uint16_t)i));
	test_mmio_write(&vm, tab + 32, 4, 0xfee01000);
	test_mmio_write(&vm, tab + 36, 4, 0);
	test_mmio_write(&vm, tab + 40, 4, 0x4032);
	test_mmio_write(&vm, tab + 44, 4, 0);
	cr_assert_not(msix_vector_wired(m, 2), "function still masked");
	test_cfg_write(&vm, 1, 0xa2, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert(msix_vector_wired(m, 2));
	cr_assert(msix_vector_route(m, 2, &gsi, &addr, &data));
	cr_assert_eq(addr, 0xfee01000);
	cr_assert_eq(data, 0x4032);
	cr_assert_not(msix_vector_wired(m, 0), "masked entry stays unwired");
	cr_assert_eq(count_of(EV_SET_IRQS), 1, "no SET_IRQS for mask changes");
	test_cfg_write(&vm, 1, 0xa2, 2, 0);
	cr_assert_eq(count_of(EV_SET_IRQS), 2);
	cr_assert_eq(fk.last_irq_count, 0);
	cr_assert_eq(fk.last_irq_flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_not(msix_vector_wired(m, 2));
}

/* A device with MSI and no MSI-X: kite emulates MSI, multiple messages and per-vector masks. */
Test(vfio, msi_without_msix)
{
	struct msi *m;
	uint64_t addr;
	uint32_t data;
	unsigned int n = 0, ids[8], off;

	/* PM (0xc8) -> MSI (0x50, 64-bit with masks: 24 bytes) -> PCIe (0xe0). */
	memset(fk.cfg + 0xd0, 0, 2);
	put_cap(0xc8, PCI_CAP_ID_PM, 0x50);
	put_cap(0x50, PCI_CAP_ID_MSI, 0xe0);
	put_cap(0xe0, PCI_CAP_ID_EXP, 0);
	put_le16(fk.cfg + 0x52, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3 << 1));
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	m = vfio_dev_msi(vm.cleanups[vm.ncleanups - 1].arg);
	cr_assert_not_null(m);
	for (off = test_cfg_read(&vm, 1, PCI_CAPABILITY_LIST, 1); off && n < 8;
	     off = test_cfg_read(&vm, 1, off + 1, 1))
		ids[n++] = test_cfg_read(&vm, 1, off, 1);
	cr_assert_eq(n, 3);
	cr_assert_eq(ids[1], PCI_CAP_ID_MSI);
	cr_assert_eq(ids[2], PCI_CAP_ID_EXP);
	cr_assert_eq(test_cfg_read(&vm, 1, 0xe0 + PCI_EXP_DEVCTL, 2), 0x2810, "PCIe still live");
	cr_assert_eq(test_cfg_read(&vm, 1, 0x52, 2), 0x0186, "MMC 8, 64-bit, per-vector masks");
	test_cfg_write(&vm, 1, 0x54, 4, 0xfee00000);
	test_cfg_write(&vm, 1, 0x58, 4, 0);
	test_cfg_write(&vm, 1, 0x5c, 2, 0x4020);
	test_cfg_write(&vm, 1, 0x60, 4, 0x2); /* mask register: vector 1 */
	cr_assert_eq(count_of(EV_SET_IRQS), 0);
	test_cfg_write(&vm, 1, 0x52, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
	cr_assert_eq(count_of(EV_SET_IRQS), 1);
	cr_assert_eq(fk.last_irq_index, VFIO_PCI_MSI_IRQ_INDEX);
	cr_assert_eq(fk.last_irq_count, 4);
	for (unsigned int i = 0; i < 4; i++)
		cr_assert_eq(fk.irq_fds[i], msi_vector_eventfd(m, i));
	cr_assert(msi_vector_wired(m, 0, &addr, &data));
	cr_assert_eq(addr, 0xfee00000);
	cr_assert_eq(data, 0x4020);
	cr_assert_not(msi_vector_wired(m, 1, NULL, NULL), "masked");
	cr_assert(msi_vector_wired(m, 3, NULL, &data));
	cr_assert_eq(data, 0x4023);
	cr_assert_not(msi_vector_wired(m, 4, NULL, NULL), "beyond the enabled count");
	/* A masked vector that fires is pending, read from kite's Pending Bits. */
	{
		uint64_t one = 1;

		cr_assert_eq(write(msi_vector_eventfd(m, 1), &one, 8), 8);
	}
	cr_assert_eq(test_cfg_read(&vm, 1, 0x64, 4), 0x2);
	test_cfg_write(&vm, 1, 0x60, 4, 0);
	cr_assert(msi_vector_wired(m, 1, NULL, NULL));
	cr_assert_eq(test_cfg_read(&vm, 1, 0x64, 4), 0, "wired: KVM has it");
	/* More vectors: the kernel's block is torn down and rebuilt. */
	test_cfg_write(&vm, 1, 0x52, 2, PCI_MSI_FLAGS_ENABLE | (3 << 4));
	cr_assert_eq(count_of(EV_SET_IRQS), 3);
	cr_assert_eq(fk.last_irq_count, 8);
	test_cfg_write(&vm, 1, 0x52, 2, 0);
	cr_assert_eq(count_of(EV_SET_IRQS), 4);
	cr_assert_eq(fk.last_irq_count, 0);
	cr_assert_not(msi_vector_wired(m, 0, NULL, NULL));
	/* Body writes stay kite's: the device's own MSI registers are untouched. */
	cr_assert_eq(get_le32(fk.cfg + 0x54), 0);
}

Test(vfio, teardown_resets_and_releases)
{
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	test_cfg_write(&vm, 1, 0xa2, 2, PCI_MSIX_FLAGS_ENABLE);
	fk.norder = 0;
	vm_destroy(&vm);
	cr_assert_eq(fk.order[0], EV_SET_IRQS, "interrupts off first");
	cr_assert_eq(fk.last_irq_count, 0);
	cr_assert_eq(count_of(EV_RESET), 1);
	cr_assert_lt(index_of(EV_RESET), index_of(EV_DETACH));
	cr_assert_eq(fk.nunmaps, fk.nmaps);
	cr_assert_eq(fk.ioas_unmaps, vm.mem.nregions ? vm.mem.nregions : fk.ioas_maps);
	cr_assert_eq(fk.destroys, 1, "IOAS destroyed");
	test_vm_init(&vm); /* teardown's vm_destroy then has nothing to do */
}

static void expect_build_fails(const char *what, const char *msg)
{
	fk.norder = 0;
	cr_assert_eq(build(), KITE_EXIT_DEVICE, "%s", what);
	if (msg)
		cr_assert(strstr(log_last_error(), msg), "%s: '%s' lacks '%s'", what,
			  log_last_error(), msg);
}

Test(vfio, bind_refused_is_busy)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.fail_nr[_IOC_NR(VFIO_DEVICE_BIND_IOMMUFD)] = -EINVAL;
	expect_build_fails("busy", "busy");
	cr_assert(strstr(log_last_error(), "vfio /dev/vfio/devices/vfio0"));
	cr_assert_eq(count_of(EV_ATTACH), 0);
	cr_assert_eq(count_of(EV_RESET), 0, "nothing to reset on a device never bound");
}

Test(vfio, attach_refused)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.fail_nr[_IOC_NR(VFIO_DEVICE_ATTACH_IOMMUFD_PT)] = -EPERM;
	expect_build_fails("attach", "ATTACH_IOMMUFD_PT");
	cr_assert(strstr(log_last_error(), "errno 1"));
	cr_assert_eq(count_of(EV_DETACH), 0);
	cr_assert_eq(fk.nmaps, 0);
}

Test(vfio, unplaceable_bar_resets_and_detaches)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.bar_size[0] = 0x30000; /* not a power of two */
	expect_build_fails("bar", "cannot be placed");
	cr_assert_eq(count_of(EV_RESET), 2, "reset at start and on the way out");
	cr_assert_eq(count_of(EV_DETACH), 1);
	cr_assert_eq(fk.nunmaps, fk.nmaps);
	cr_assert_eq(pci_bus_device(bus, 1), NULL, "not on the bus");
}

Test(vfio, not_pci)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.info_flags = VFIO_DEVICE_FLAGS_RESET;
	expect_build_fails("not pci", "not a VFIO PCI device");
	cr_assert_eq(count_of(EV_DETACH), 1);
}

Test(vfio, iommu_missing)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.open_errno = ENOENT;
	expect_build_fails("no /dev/iommu", "CONFIG_IOMMUFD");
	cr_assert_eq(fk.opened, 0);
}

Test(vfio, guest_ram_map_refused)
{
	add_path("path=/dev/vfio/devices/vfio0");
	fk.fail_nr[_IOC_NR(IOMMU_IOAS_MAP)] = -ENOMEM;
	expect_build_fails("map", "RLIMIT_MEMLOCK");
	cr_assert_eq(fk.opened, 1, "no device opened");
}

Test(vfio, second_device_fails_first_released)
{
	add_path("path=/dev/vfio/devices/vfio0");
	add_path("path=/dev/vfio/devices/vfio1");
	cr_assert_eq(build(), 0);
	cr_assert_eq(count_of(EV_BIND), 2);
}

/* A sysfs tree in a temp dir for bdf= resolution. */
static char sysroot[64];

static void mk(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", sysroot, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static void sysfs_setup(const char *driver, bool cdev)
{
	char p[256], t[256];

	snprintf(sysroot, sizeof(sysroot), "/tmp/kite-vfio-sys.XXXXXX");
	cr_assert_not_null(mkdtemp(sysroot));
	mk("0000:00:02.0");
	mk("drv");
	if (driver) {
		snprintf(t, sizeof(t), "%s/drv/%s", sysroot, driver);
		cr_assert_eq(mkdir(t, 0755), 0);
		snprintf(p, sizeof(p), "%s/0000:00:02.0/driver", sysroot);
		cr_assert_eq(symlink(t, p), 0);
	}
	if (cdev) {
		mk("0000:00:02.0/vfio-dev");
		mk("0000:00:02.0/vfio-dev/vfio3");
	}
	env.sysfs_pci = sysroot;
	env.dev_vfio = "/fake/dev";
}

static void sysfs_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysroot);
	cr_assert_eq(system(cmd), 0);
}

Test(vfio, bdf_resolution)
{
	char path[256];

	sysfs_setup("vfio-pci", true);
	cr_assert_eq(vfio_cdev_path(&env, "0000:00:02.0", path, sizeof(path)), 0);
	cr_assert_str_eq(path, "/fake/dev/vfio3");
	cr_assert_eq(vfio_cdev_path(&env, "0000:00:09.0", path, sizeof(path)), -ENODEV);
	cr_assert(strstr(log_last_error(), "vfio 0000:00:09.0: no such PCI device"));
	sysfs_cleanup();
}

Test(vfio, bdf_other_driver_prints_rebind_commands)
{
	char path[256];
	const char *e;

	sysfs_setup("e1000e", false);
	cr_assert_eq(vfio_cdev_path(&env, "0000:00:02.0", path, sizeof(path)), -EBUSY);
	e = log_last_error();
	cr_assert(strstr(e, "vfio 0000:00:02.0: bound to driver e1000e, not vfio-pci"), "%s", e);
	cr_assert(strstr(e, "0000:00:02.0/driver/unbind"), "%s", e);
	cr_assert(strstr(e, "echo vfio-pci > "), "%s", e);
	cr_assert(strstr(e, "drivers_probe"), "%s", e);
	sysfs_cleanup();
}

Test(vfio, bdf_without_cdev)
{
	char path[256];

	sysfs_setup("vfio-pci", false);
	cr_assert_eq(vfio_cdev_path(&env, "0000:00:02.0", path, sizeof(path)), -ENOENT);
	cr_assert(strstr(log_last_error(), "CONFIG_VFIO_DEVICE_CDEV"));
	sysfs_cleanup();
}

Test(vfio, bdf_unbound)
{
	char path[256];

	sysfs_setup(NULL, false);
	cr_assert_eq(vfio_cdev_path(&env, "0000:00:02.0", path, sizeof(path)), -EBUSY);
	cr_assert(strstr(log_last_error(), "not bound to any driver"));
	cr_assert_null(strstr(log_last_error(), "unbind"));
	sysfs_cleanup();
}

/* A translating vIOMMU in front of the bus (vm->dma_provider) that manages host IOASes. */
static struct {
	struct dma_provider p;
	unsigned int attaches, detaches;
	uint16_t sid;
	uint32_t ioas;
	int ret;
	unsigned int maps_at_attach, destroys_at_detach;
} prov;

static int prov_attach(struct dma_provider *p, uint16_t sid, struct host_iommu *h, uint32_t ioas_id)
{
	(void)p;
	cr_assert_not_null(h);
	prov.attaches++;
	prov.sid = sid;
	prov.ioas = ioas_id;
	prov.maps_at_attach = fk.ioas_maps;
	return prov.ret;
}

static void prov_detach(struct dma_provider *p, uint16_t sid)
{
	(void)p;
	cr_assert_eq(sid, prov.sid);
	prov.detaches++;
	prov.destroys_at_detach = fk.destroys;
	/* The device is still attached: the detach comes before its teardown. */
	cr_assert_eq(count_of(EV_DETACH), 0);
}

static void behind_provider(int ret)
{
	memset(&prov, 0, sizeof(prov));
	prov.p.attach_host = prov_attach;
	prov.p.detach_host = prov_detach;
	prov.ret = ret;
	vm.dma_provider = &prov.p;
}

Test(vfio, behind_a_vIOMMU_its_own_managed_ioas)
{
	behind_provider(0);
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), 0);
	/* Its own IOAS, attached, handed over with its source id; kite maps nothing itself. */
	cr_assert_eq(fk.calls[_IOC_NR(IOMMU_IOAS_ALLOC)], 1);
	cr_assert_eq(prov.attaches, 1);
	cr_assert_eq(prov.ioas, 3);
	cr_assert_eq(prov.sid, (uint16_t)(guest_dev()->slot << 3));
	cr_assert_eq(prov.maps_at_attach, 0);
	cr_assert_eq(fk.ioas_maps, 0);
	cr_assert_lt(index_of(EV_ATTACH), index_of(EV_CFG_READ));
	vm_destroy(&vm);
	/* Detached from the provider first, then the device, then the IOAS destroyed. */
	cr_assert_eq(prov.detaches, 1);
	cr_assert_eq(prov.destroys_at_detach, 0);
	cr_assert_eq(count_of(EV_DETACH), 1);
	cr_assert_geq(fk.destroys, 1);
	test_vm_init(&vm);
}

Test(vfio, behind_a_vIOMMU_that_refuses)
{
	behind_provider(-EOPNOTSUPP);
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), KITE_EXIT_DEVICE);
	cr_assert_eq(prov.attaches, 1);
	vm_destroy(&vm);
	cr_assert_eq(prov.detaches, 0, "never managed, never detached");
	cr_assert_eq(count_of(EV_DETACH), 1);
	test_vm_init(&vm);
}

Test(vfio, behind_a_vIOMMU_without_host_support)
{
	behind_provider(0);
	prov.p.attach_host = NULL;
	add_path("path=/dev/vfio/devices/vfio0");
	cr_assert_eq(build(), KITE_EXIT_DEVICE);
	cr_assert_eq(fk.calls[_IOC_NR(IOMMU_IOAS_ALLOC)], 0);
	vm.dma_provider = NULL;
}
