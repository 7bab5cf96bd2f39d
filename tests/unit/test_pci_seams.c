// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI-core seams that passthrough devices need and every device may use: sub-page BARs,
 * the config-read hook, device memory slots added at run time, and MSI-X in external mode
 * (capability at a given offset, table and PBA in different BARs, eventfds wired to KVM only
 * while deliverable, pending shown from the eventfd).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "test_pci_util.h"
#include "vmm/memslot.h"
#include "vmm/util.h"
#include "vmm/vm.h"

static struct vm vm;
static struct pci_bus *bus;

static void setup(void)
{
	struct pci_bus_layout l = test_layout();

	test_vm_init(&vm);
	bus = pci_bus_create(&vm, &l);
	cr_assert_not_null(bus);
}

static void teardown(void)
{
	vm_destroy(&vm);
}

TestSuite(pci_seams, .init = setup, .fini = teardown);

Test(pci_seams, sub_page_bars_get_a_page_each)
{
	struct tdev a, b;

	tdev_init(&a);
	tdev_init(&b);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x20, false), 0);
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_MEM32, 0x10, false), 0);
	cr_assert_eq(pci_device_set_bar(&b.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	cr_assert_eq(pci_bus_add(bus, &b.pci), 0);
	cr_assert_eq(a.pci.bars[0].addr % 0x1000, 0);
	cr_assert_eq(a.pci.bars[1].addr, a.pci.bars[0].addr + 0x1000);
	cr_assert_eq(b.pci.bars[0].addr, a.pci.bars[1].addr + 0x1000);
	/* Sizing a 32-byte BAR reads back its mask. */
	uint64_t addr0 = a.pci.bars[0].addr;

	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_0, 4), 0xffffffe0);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)addr0);
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* An access inside the BAR reaches it; one in the rest of its page does not. */
	cr_assert_eq(test_mmio_read(&vm, a.pci.bars[0].addr + 0x1c, 4), 0x1c);
	cr_assert_eq(test_mmio_read(&vm, a.pci.bars[0].addr + 0x20, 4), 0,
		     "past the BAR, in its page: nobody decodes it");
	cr_assert_eq(test_mmio_read(&vm, a.pci.bars[1].addr + 0x8, 8), (uint64_t)1 << 56 | 0x8);
}

Test(pci_seams, io_bars)
{
	struct pci_bus_layout l = test_layout();
	struct pci_bus *b2;
	struct tdev a, c;
	struct vm v2;
	uint8_t d[4] = { 0 };

	test_vm_init(&v2);
	l.io_base = 0xc000;
	l.io_size = 0x4000;
	b2 = pci_bus_create(&v2, &l);
	cr_assert_not_null(b2);
	tdev_init(&a);
	tdev_init(&c);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_IO, 0x20, false), 0);
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_IO, 0x2, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_IO, 0x200, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_IO, 0x100, false), 0);
	cr_assert_eq(pci_device_set_bar(&c.pci, 0, PCI_BAR_IO, 0x4, false), 0);
	cr_assert_eq(pci_bus_add(b2, &a.pci), 0);
	cr_assert_eq(pci_bus_add(b2, &c.pci), 0);
	cr_assert_eq(a.pci.bars[0].addr, 0xc000);
	cr_assert_eq(a.pci.bars[1].addr, 0xc100, "naturally aligned, no page rounding");
	cr_assert_eq(c.pci.bars[0].addr, 0xc200);
	cr_assert_eq(pci_config_read(&a.pci, PCI_BASE_ADDRESS_0, 4), 0xc001);
	pci_config_write(&a.pci, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(&a.pci, PCI_BASE_ADDRESS_0, 4), 0xffe1);
	pci_config_write(&a.pci, PCI_BASE_ADDRESS_0, 4, 0xc000);
	/* Memory Space alone does not decode I/O BARs; I/O Space does, in port space only. */
	pci_config_write(&a.pci, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cr_assert_eq(a.pci.bars[0].decode, PCI_BAR_UNMAPPED);
	pci_config_write(&a.pci, PCI_COMMAND, 2, PCI_COMMAND_IO);
	cr_assert_eq(a.pci.bars[0].decode, 0xc000);
	cr_assert_eq(bus_read(&v2.pio, 0xc01c, d, 4), 0);
	cr_assert_eq(get_le32(d), 0x1c);
	cr_assert_eq(test_mmio_read(&v2, 0xc01c, 4), 0xffffffff, "not in MMIO space");
	/* A BAR moved outside the window decodes nowhere. */
	pci_config_write(&a.pci, PCI_BASE_ADDRESS_0, 4, 0x1000);
	cr_assert_eq(a.pci.bars[0].decode, PCI_BAR_UNMAPPED);
	/* Without an I/O window an I/O BAR cannot be placed. */
	{
		struct tdev e;

		tdev_init(&e);
		cr_assert_eq(pci_device_set_bar(&e.pci, 0, PCI_BAR_IO, 0x20, false), 0);
		cr_assert_eq(pci_bus_add(bus, &e.pci), -ENOSPC);
	}
	vm_destroy(&v2);
}

static uint32_t hook_read(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val)
{
	if (off >= 0x100)
		return 0xabcd0000u | off;
	return off == PCI_VENDOR_ID ? val ^ 0xffff : val;
}

Test(pci_seams, config_read_hook)
{
	static struct pci_device_ops ops;
	struct tdev t;

	tdev_init(&t);
	ops = *t.pci.ops;
	ops.config_read = hook_read;
	t.pci.ops = &ops;
	cr_assert_eq(pci_bus_add(bus, &t.pci), 0);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_VENDOR_ID, 2), 0x1af4 ^ 0xffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(test_cfg_read(&vm, 1, 0x104, 4), 0xabcd0104);
	/* Out-of-range accesses never reach the hook. */
	cr_assert_eq(pci_config_read(&t.pci, 4095, 4), 0xffffffff);
}

Test(pci_seams, memslots)
{
	struct vm_memslot s;
	int a, b;

	cr_assert_eq(vm_memslot_add(&vm, 0xc0000000, 0x4000, (void *)0x7f0000000000, &a), 0);
	cr_assert_eq(vm_memslot_add(&vm, 0xc0010000, 0x1000, (void *)0x7f0000100000, &b), 0);
	cr_assert_neq(a, b);
	cr_assert(vm_memslot_find(&vm, 0xc0003fff, &s));
	cr_assert_eq(s.gpa, 0xc0000000);
	cr_assert_eq(s.size, 0x4000);
	cr_assert_not(vm_memslot_find(&vm, 0xc0004000, &s));
	vm_memslot_del(&vm, a);
	cr_assert_not(vm_memslot_find(&vm, 0xc0000000, &s));
	cr_assert(vm_memslot_find(&vm, 0xc0010000, &s));
	vm_memslot_del(&vm, a); /* twice: ignored */
	vm_memslot_del(&vm, -1);
	cr_assert_eq(vm_memslot_add(&vm, 0xc0000800, 0x1000, (void *)0x7f0000000000, &a), -EINVAL);
	cr_assert_eq(vm_memslot_add(&vm, 0xc0000000, 0, (void *)0x7f0000000000, &a), -EINVAL);
	cr_assert_eq(vm_memslot_add(&vm, 0xfffffffffffff000ull, 0x2000, (void *)0x7f0000000000, &a),
		     -EINVAL);
	for (int i = 0; i < VM_MEMSLOT_MAX - 1; i++)
		cr_assert_eq(vm_memslot_add(&vm, 0x100000000ull + 0x1000ull * i, 0x1000,
					    (void *)0x7f0000000000, &a),
			     0);
	cr_assert_eq(vm_memslot_add(&vm, 0x200000000ull, 0x1000, (void *)0x7f0000000000, &a),
		     -ENOSPC);
}

/* MSI-X in external mode, table in BAR0, PBA in BAR2, the capability at 0x70. */
struct xdev {
	struct pci_device pci;
	struct msix *msix;
};

static void x_read(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
		   uint32_t size)
{
	struct xdev *x = dev->opaque;

	if (!msix_bar_access(x->msix, bar, off, data, size, false))
		memset(data, 0x11, size);
}

static void x_write(struct pci_device *dev, unsigned int bar, uint64_t off, const uint8_t *data,
		    uint32_t size)
{
	struct xdev *x = dev->opaque;

	msix_bar_access(x->msix, bar, off, (uint8_t *)data, size, true);
}

static void x_cfg(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val)
{
	struct xdev *x = dev->opaque;

	msix_config_write(x->msix, off, size, val);
}

static const struct pci_device_ops x_ops = { .bar_read = x_read,
					     .bar_write = x_write,
					     .config_write = x_cfg };

static void signal_efd(int efd)
{
	uint64_t one = 1;

	cr_assert_eq(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

Test(pci_seams, msix_external)
{
	struct msix_params p = { .nvec = 3,
				 .table_bar = 0,
				 .pba_bar = 2,
				 .table_off = 0,
				 .pba_off = 0x800,
				 .cap_off = 0x70,
				 .external = true };
	struct xdev x = { 0 };
	uint64_t t, pbaaddr;
	int efd;

	pci_device_init(&x.pci, &x_ops, &x, "xdev", 0x8086, 0x10d3, 0x020000, 0, 0x8086, 0);
	cr_assert_eq(pci_device_set_bar(&x.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(&x.pci, 2, PCI_BAR_MEM32, 0x1000, false), 0);
	/* The caller chains the capability; msix fills its body. */
	x.pci.config[PCI_CAPABILITY_LIST] = 0x70;
	x.pci.config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	x.msix = msix_create_params(&vm, &x.pci, &p);
	cr_assert_not_null(x.msix);
	cr_assert_eq(msix_cap_offset(x.msix), 0x70);
	cr_assert_eq(pci_bus_add(bus, &x.pci), 0);
	cr_assert_eq(test_find_cap(&x.pci, PCI_CAP_ID_MSIX), 0x70);
	cr_assert_eq(test_cfg_read(&vm, 1, 0x72, 2), 2);
	cr_assert_eq(test_cfg_read(&vm, 1, 0x74, 4), 0);
	cr_assert_eq(test_cfg_read(&vm, 1, 0x78, 4), 0x802);
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	t = x.pci.bars[0].addr;
	pbaaddr = x.pci.bars[2].addr + 0x800;

	test_mmio_write(&vm, t + 16, 4, 0xfee00000);
	test_mmio_write(&vm, t + 16 + 8, 4, 0x41);
	cr_assert_not(msix_vector_wired(x.msix, 1), "masked at reset");
	test_cfg_write(&vm, 1, 0x72, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert_not(msix_vector_wired(x.msix, 1), "still masked by its entry");
	efd = msix_vector_eventfd(x.msix, 1);
	cr_assert_geq(efd, 0);
	/* Fired while masked: pending in the PBA, and the eventfd keeps it for KVM. */
	signal_efd(efd);
	cr_assert_eq(test_mmio_read(&vm, pbaaddr, 8), 2);
	test_mmio_write(&vm, t + 16 + 12, 4, 0);
	cr_assert(msix_vector_wired(x.msix, 1));
	cr_assert(msix_vector_route(x.msix, 1, NULL, NULL, NULL));
	/* Wired: the PBA no longer reports it (KVM consumes the eventfd). */
	cr_assert_eq(test_mmio_read(&vm, pbaaddr, 8), 0);
	test_cfg_write(&vm, 1, 0x72, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cr_assert_not(msix_vector_wired(x.msix, 1), "function mask unwires");
	test_cfg_write(&vm, 1, 0x72, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert(msix_vector_wired(x.msix, 1));
	test_cfg_write(&vm, 1, 0x72, 2, 0);
	cr_assert_not(msix_vector_wired(x.msix, 1), "disable unwires");
	/* BAR0 outside the table and BAR2 outside the PBA are the device's. */
	cr_assert_eq(test_mmio_read(&vm, t + 0x100, 4), 0x11111111);
	cr_assert_eq(test_mmio_read(&vm, x.pci.bars[2].addr, 4), 0x11111111);
	msix_destroy(x.msix);
}

Test(pci_seams, msix_params_rejected)
{
	struct msix_params p = {
		.nvec = 3, .table_bar = 0, .pba_bar = 1, .table_off = 0, .pba_off = 0
	};
	struct xdev x = { 0 };

	pci_device_init(&x.pci, &x_ops, &x, "xdev", 0x8086, 0x10d3, 0x020000, 0, 0x8086, 0);
	cr_assert_eq(pci_device_set_bar(&x.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_null(msix_create_params(&vm, &x.pci, &p), "PBA BAR absent");
	p.pba_bar = 0;
	cr_assert_null(msix_create_params(&vm, &x.pci, &p), "PBA over the table");
	p.pba_off = 0x800;
	p.cap_off = 0x72;
	cr_assert_null(msix_create_params(&vm, &x.pci, &p), "unaligned capability");
	p.cap_off = 0xfc;
	cr_assert_null(msix_create_params(&vm, &x.pci, &p), "capability past 256");
	cr_assert_null(msix_create_params(&vm, &x.pci, NULL));
}
