// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X tests on a VM without KVM: the capability, the vector table and PBA
 * as the guest reaches them (ECAM and the BAR window), masking at the three
 * levels, pending bits delivered on unmask, which routes get programmed,
 * hostile accesses and concurrent notifies. Delivery is observed on each
 * vector's eventfd, which KVM would otherwise consume through irqfd.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "test_helpers.h"
#include "test_pci_util.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define NVEC 5
#define MBAR 1
#define MBAR_SIZE 0x4000
#define TABLE_OFF 0x1000
#define PBA_OFF 0x2000

struct mdev {
	struct pci_device pci;
	struct msix *msix;
	unsigned int other_reads;
};

static void mdev_bar_read(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
			  uint32_t size)
{
	struct mdev *m = dev->opaque;

	if (msix_bar_access(m->msix, bar, off, data, size, false))
		return;
	m->other_reads++;
	memset(data, 0x5a, size);
}

static void mdev_bar_write(struct pci_device *dev, unsigned int bar, uint64_t off,
			   const uint8_t *data, uint32_t size)
{
	struct mdev *m = dev->opaque;

	msix_bar_access(m->msix, bar, off, (uint8_t *)data, size, true);
}

static void mdev_config_write(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val)
{
	struct mdev *m = dev->opaque;

	msix_config_write(m->msix, off, size, val);
}

static const struct pci_device_ops mdev_ops = {
	.bar_read = mdev_bar_read,
	.bar_write = mdev_bar_write,
	.config_write = mdev_config_write,
};

static struct vm vm;
static struct pci_bus *bus;
static struct mdev md;
static uint64_t bar_base;
static unsigned int cap;

static void setup(void)
{
	struct pci_bus_layout l = test_layout();

	test_vm_init(&vm);
	bus = pci_bus_create(&vm, &l);
	cr_assert_not_null(bus);
	memset(&md, 0, sizeof(md));
	pci_device_init(&md.pci, &mdev_ops, &md, "mdev", 0x1af4, 0x1041, 0x020000, 1, 0x1af4, 1);
	cr_assert_eq(pci_device_set_bar(&md.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(&md.pci, MBAR, PCI_BAR_MEM32, MBAR_SIZE, false), 0);
	/* Another capability first, so MSI-X is not at the head of the list. */
	cr_assert_eq(pci_device_add_cap(&md.pci, PCI_CAP_ID_VNDR, "\x04\x00", NULL, 2), 0x40);
	md.msix = msix_create(&vm, &md.pci, NVEC, MBAR, TABLE_OFF, PBA_OFF);
	cr_assert_not_null(md.msix);
	cr_assert_eq(pci_bus_add(bus, &md.pci), 0);
	cap = test_find_cap(&md.pci, PCI_CAP_ID_MSIX);
	cr_assert_neq(cap, 0);
	bar_base = md.pci.bars[MBAR].addr;
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void teardown(void)
{
	msix_destroy(md.msix);
	vm_destroy(&vm);
}

TestSuite(msix, .init = setup, .fini = teardown);

static uint64_t entry_addr(unsigned int vec, unsigned int field)
{
	return bar_base + TABLE_OFF + 16 * vec + field;
}

static void set_ctl(uint16_t flags)
{
	test_cfg_write(&vm, 1, cap + PCI_MSIX_FLAGS, 2, flags);
}

static void program(unsigned int vec, uint64_t addr, uint32_t data)
{
	test_mmio_write(&vm, entry_addr(vec, PCI_MSIX_ENTRY_LOWER_ADDR), 4, (uint32_t)addr);
	test_mmio_write(&vm, entry_addr(vec, PCI_MSIX_ENTRY_UPPER_ADDR), 4, addr >> 32);
	test_mmio_write(&vm, entry_addr(vec, PCI_MSIX_ENTRY_DATA), 4, data);
}

static void mask(unsigned int vec, bool on)
{
	test_mmio_write(&vm, entry_addr(vec, PCI_MSIX_ENTRY_VECTOR_CTRL), 4,
			on ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static uint64_t pba(void)
{
	return test_mmio_read(&vm, bar_base + PBA_OFF, 8);
}

static uint64_t fired(unsigned int vec)
{
	return test_efd_count(msix_vector_eventfd(md.msix, (uint16_t)vec));
}

Test(msix, capability)
{
	cr_assert_eq(cap, 0x44, "after the vendor capability");
	cr_assert_eq(test_cfg_read(&vm, 1, cap, 1), PCI_CAP_ID_MSIX);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + 1, 1), 0, "last in the list");
	cr_assert_eq(test_cfg_read(&vm, 1, 0x41, 1), cap);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_FLAGS, 2), NVEC - 1);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_TABLE, 4), TABLE_OFF | MBAR);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_PBA, 4), PBA_OFF | MBAR);
	/* Only Enable and Function Mask are writable. */
	set_ctl(0xffff);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_FLAGS, 2),
		     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (NVEC - 1));
	test_cfg_write(&vm, 1, cap + PCI_MSIX_TABLE, 4, 0xffffffff);
	test_cfg_write(&vm, 1, cap + PCI_MSIX_PBA, 4, 0);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_TABLE, 4), TABLE_OFF | MBAR);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_PBA, 4), PBA_OFF | MBAR);
	cr_assert(msix_enabled(md.msix));
	cr_assert_eq(msix_nvec(md.msix), NVEC);
	/* A byte write to the upper half of Message Control counts too. */
	test_cfg_write(&vm, 1, cap + PCI_MSIX_FLAGS + 1, 1, 0);
	cr_assert_not(msix_enabled(md.msix));
}

Test(msix, table_resets_masked)
{
	for (unsigned int v = 0; v < NVEC; v++) {
		cr_assert_eq(test_mmio_read(&vm, entry_addr(v, 0), 4), 0);
		cr_assert_eq(test_mmio_read(&vm, entry_addr(v, 4), 4), 0);
		cr_assert_eq(test_mmio_read(&vm, entry_addr(v, 8), 4), 0);
		cr_assert_eq(test_mmio_read(&vm, entry_addr(v, 12), 4), 1, "masked");
		cr_assert_not(msix_vector_route(md.msix, (uint16_t)v, NULL, NULL, NULL));
	}
	cr_assert_eq(pba(), 0);
	/* Read and write back through 8-byte accesses. */
	test_mmio_write(&vm, entry_addr(2, 0), 8, 0x00000001fee01000ull);
	test_mmio_write(&vm, entry_addr(2, 8), 8, 0xffffffff00004041ull);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(2, 0), 8), 0x00000001fee01000ull);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(2, 8), 8), 0x0000000100004041ull,
		     "Vector Control keeps only the mask bit");
	cr_assert_eq(md.other_reads, 0);
	test_mmio_read(&vm, bar_base + 0x100, 4);
	cr_assert_eq(md.other_reads, 1, "the rest of the BAR is the device's");
}

Test(msix, pending_while_disabled)
{
	uint64_t addr;
	uint32_t data, gsi;

	program(0, 0xfee00000, 0x41);
	mask(0, false);
	cr_assert_eq(msix_notify(md.msix, 0), 0);
	cr_assert_eq(fired(0), 0, "MSI-X not enabled yet");
	cr_assert_eq(pba(), 1);
	cr_assert_not(msix_vector_route(md.msix, 0, NULL, NULL, NULL), "no route while disabled");

	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(fired(0), 1, "delivered on enable");
	cr_assert_eq(pba(), 0);
	cr_assert(msix_vector_route(md.msix, 0, &gsi, &addr, &data));
	cr_assert_eq(addr, 0xfee00000);
	cr_assert_eq(data, 0x41);
	cr_assert_geq(gsi, 24);

	cr_assert_eq(msix_notify(md.msix, 0), 0);
	cr_assert_eq(msix_notify(md.msix, 0), 0);
	cr_assert_eq(fired(0), 2, "direct while deliverable");
	cr_assert_eq(pba(), 0);
}

Test(msix, function_mask)
{
	program(1, 0xfee00000, 0x51);
	program(3, 0xfee01000, 0x53);
	mask(1, false);
	mask(3, false);
	set_ctl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cr_assert_eq(msix_notify(md.msix, 1), 0);
	cr_assert_eq(msix_notify(md.msix, 3), 0);
	cr_assert_eq(fired(1) + fired(3), 0);
	cr_assert_eq(pba(), (1u << 1) | (1u << 3));
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(fired(1), 1);
	cr_assert_eq(fired(3), 1);
	cr_assert_eq(pba(), 0);
	/* Disabling MSI-X masks everything again. */
	set_ctl(0);
	cr_assert_eq(msix_notify(md.msix, 1), 0);
	cr_assert_eq(fired(1), 0);
	cr_assert_eq(pba(), 1u << 1);
}

Test(msix, vector_mask_and_unmask)
{
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	program(4, 0xfee02000, 0x64);
	cr_assert_eq(msix_notify(md.msix, 4), 0);
	cr_assert_eq(fired(4), 0, "reset masked");
	cr_assert_eq(pba(), 1u << 4);
	cr_assert_eq(test_mmio_read(&vm, bar_base + PBA_OFF, 4), 1u << 4, "dword PBA read");
	cr_assert_eq(test_mmio_read(&vm, bar_base + PBA_OFF + 4, 4), 0);

	mask(4, false);
	cr_assert_eq(fired(4), 1, "pending vector fires on unmask");
	cr_assert_eq(pba(), 0);
	mask(4, true);
	cr_assert_eq(msix_notify(md.msix, 4), 0);
	cr_assert_eq(msix_notify(md.msix, 4), 0);
	cr_assert_eq(pba(), 1u << 4, "pending is one bit, not a count");
	mask(4, false);
	cr_assert_eq(fired(4), 1);
	mask(4, false);
	cr_assert_eq(fired(4), 0, "nothing pending, nothing fires");
}

Test(msix, routes_only_for_unmasked_vectors)
{
	uint64_t addr;
	uint32_t data;

	for (unsigned int v = 0; v < NVEC; v++)
		program(v, 0xfee00000 + 0x1000 * v, 0x30 + v);
	mask(2, false);
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v < NVEC; v++)
		cr_assert_eq(msix_vector_route(md.msix, (uint16_t)v, NULL, NULL, NULL), v == 2,
			     "vector %u", v);

	/* The guest moves an unmasked vector: the route follows. */
	program(2, 0xfee03000, 0x99);
	cr_assert(msix_vector_route(md.msix, 2, NULL, &addr, &data));
	cr_assert_eq(addr, 0xfee03000);
	cr_assert_eq(data, 0x99);
	/* Rewritten while masked: the route catches up on unmask. */
	mask(2, true);
	program(2, 0x1fee04000ull, 0x77);
	cr_assert(msix_vector_route(md.msix, 2, NULL, &addr, &data));
	cr_assert_eq(addr, 0xfee03000);
	mask(2, false);
	cr_assert(msix_vector_route(md.msix, 2, NULL, &addr, &data));
	cr_assert_eq(addr, 0x1fee04000ull);
	cr_assert_eq(data, 0x77);
}

Test(msix, out_of_range_vectors)
{
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(msix_notify(md.msix, NVEC), -EINVAL);
	cr_assert_eq(msix_notify(md.msix, 0xffff), -EINVAL);
	cr_assert_eq(msix_notify(NULL, 0), -EINVAL);
	cr_assert_eq(msix_vector_eventfd(md.msix, NVEC), -EINVAL);
	cr_assert_not(msix_vector_route(md.msix, NVEC, NULL, NULL, NULL));
	cr_assert_eq(pba(), 0);
	/* Entries past the table: the device's, not the table's. */
	cr_assert_eq(test_mmio_read(&vm, entry_addr(NVEC, 0), 4), 0x5a5a5a5a);
}

Test(msix, hostile_bar_accesses)
{
	static const uint32_t sizes[] = { 1, 2, 3, 4, 5, 8 };
	unsigned int seed = 3;
	uint8_t buf[8];

	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	/* Misaligned or odd-sized accesses in the table read 0 and write nothing. */
	program(0, 0xfee00000, 0x41);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 1), 4), 0);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 0), 2), 0);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 4), 8), 0, "QWORD must be 8-aligned");
	test_mmio_write(&vm, entry_addr(0, 12), 1, 0);
	test_mmio_write(&vm, entry_addr(0, 2), 4, 0xffffffff);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 12), 4), 1, "still masked");
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 0), 4), 0xfee00000);
	/* The PBA is read-only. */
	msix_notify(md.msix, 0);
	test_mmio_write(&vm, bar_base + PBA_OFF, 8, 0);
	test_mmio_write(&vm, bar_base + PBA_OFF, 4, 0);
	cr_assert_eq(pba(), 1);
	/* Straddling the table's end or the PBA's start. */
	cr_assert(msix_bar_access(md.msix, MBAR, TABLE_OFF + 16 * NVEC - 4, buf, 8, false));
	cr_assert_eq(get_le64(buf), 0);
	cr_assert(msix_bar_access(md.msix, MBAR, PBA_OFF - 4, buf, 8, false));
	cr_assert_eq(get_le64(buf), 0);
	cr_assert_not(msix_bar_access(md.msix, 0, TABLE_OFF, buf, 4, false), "other BAR");
	cr_assert_not(msix_bar_access(md.msix, MBAR, PBA_OFF + 8, buf, 4, false));
	cr_assert_not(msix_bar_access(md.msix, MBAR, TABLE_OFF, buf, 0, false));
	cr_assert_not(msix_bar_access(NULL, MBAR, TABLE_OFF, buf, 4, false));

	/* Everything, everywhere. */
	for (uint64_t off = TABLE_OFF - 16; off < PBA_OFF + 24; off++) {
		for (unsigned int s = 0; s < ARRAY_SIZE(sizes); s++) {
			uint64_t v = (uint64_t)rand_r(&seed) << 33 ^ (uint64_t)rand_r(&seed);

			put_le64(buf, v);
			msix_bar_access(md.msix, MBAR, off, buf, sizes[s], true);
			msix_bar_access(md.msix, MBAR, off, buf, sizes[s], false);
			msix_notify(md.msix, (uint16_t)(v % (NVEC + 2)));
		}
	}
	for (unsigned int off = 0; off < 256; off++)
		test_cfg_write(&vm, 1, off, 4, (uint32_t)rand_r(&seed));
	cr_assert_eq(test_cfg_read(&vm, 1, cap, 1), PCI_CAP_ID_MSIX);
	cr_assert_eq(test_cfg_read(&vm, 1, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE,
		     NVEC - 1);
}

Test(msix, through_a_live_bar_move)
{
	/* The guest moves the BAR; the table follows it. */
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_1, 4, (uint32_t)T_MMIO32 + 0x100000);
	bar_base = T_MMIO32 + 0x100000;
	program(0, 0xfee00000, 0x41);
	cr_assert_eq(test_mmio_read(&vm, entry_addr(0, 8), 4), 0x41);
}

Test(msix, create_rejects)
{
	struct pci_device d;
	struct test_capture c;
	char *err;

	pci_device_init(&d, &mdev_ops, NULL, "bad", 1, 2, 0xff0000, 0, 0, 0);
	pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, false);
	test_stderr_begin(&c);
	cr_assert_null(msix_create(&vm, &d, 0, 0, 0, 0x800));
	cr_assert_null(msix_create(&vm, &d, MSIX_MAX_VECTORS + 1, 0, 0, 0x800));
	cr_assert_null(msix_create(&vm, &d, 4, 1, 0, 0x800), "BAR1 not declared");
	cr_assert_null(msix_create(&vm, &d, 4, 6, 0, 0x800));
	cr_assert_null(msix_create(&vm, &d, 4, 0, 4, 0x800), "table not 8-byte aligned");
	cr_assert_null(msix_create(&vm, &d, 4, 0, 0, 0x804));
	cr_assert_null(msix_create(&vm, &d, 4, 0, 0xfc8, 0), "table past the BAR");
	cr_assert_null(msix_create(&vm, &d, 4, 0, 0, 0xff8 + 8));
	cr_assert_null(msix_create(&vm, &d, 4, 0, 0, 0x38), "PBA inside the table");
	cr_assert_null(msix_create(NULL, &d, 4, 0, 0, 0x800));
	cr_assert_null(msix_create(&vm, NULL, 4, 0, 0, 0x800));
	err = test_stderr_end(&c);
	cr_assert(strstr(err, "msix"), "%s", err);
	free(err);
	cr_assert_eq(test_find_cap(&d, PCI_CAP_ID_MSIX), 0, "nothing added");

	{
		struct msix *m = msix_create(&vm, &d, MSIX_MAX_VECTORS, 0, 0, 0xff8);

		cr_assert_not_null(m, "64 vectors, the PBA in the last 8 bytes");
		cr_assert_eq(msix_nvec(m), MSIX_MAX_VECTORS);
		msix_destroy(m);
	}
	msix_destroy(NULL);
}

Test(msix, sixty_four_vectors_pba)
{
	struct pci_device d;
	struct msix *m;
	uint8_t buf[8];

	pci_device_init(&d, &mdev_ops, NULL, "wide", 1, 2, 0xff0000, 0, 0, 0);
	pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x2000, false);
	m = msix_create(&vm, &d, MSIX_MAX_VECTORS, 0, 0, 0x1000);
	cr_assert_not_null(m);
	for (uint16_t v = 0; v < MSIX_MAX_VECTORS; v += 9)
		cr_assert_eq(msix_notify(m, v), 0);
	cr_assert(msix_bar_access(m, 0, 0x1000, buf, 8, false));
	cr_assert_eq(get_le64(buf), 0x8040201008040201ull);
	msix_destroy(m);
}

static void *notifier(void *arg)
{
	for (unsigned int i = 0; i < 20000; i++)
		msix_notify(md.msix, (uint16_t)(i % NVEC));
	return arg;
}

Test(msix, concurrent_notify_and_masking)
{
	pthread_t t;
	uint64_t total = 0;

	for (unsigned int v = 0; v < NVEC; v++)
		program(v, 0xfee00000, 0x40 + v);
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(pthread_create(&t, NULL, notifier, NULL), 0);
	for (unsigned int i = 0; i < 2000; i++) {
		mask(i % NVEC, i & 1);
		set_ctl(PCI_MSIX_FLAGS_ENABLE | (i % 7 == 0 ? PCI_MSIX_FLAGS_MASKALL : 0));
		test_mmio_read(&vm, bar_base + PBA_OFF, 8);
	}
	pthread_join(t, NULL);
	set_ctl(PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v < NVEC; v++)
		mask(v, false);
	cr_assert_eq(pba(), 0, "everything pending was delivered");
	for (unsigned int v = 0; v < NVEC; v++)
		total += fired(v);
	cr_assert_gt(total, 0);
	cr_assert_leq(total, 20000);
}
