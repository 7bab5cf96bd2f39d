// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI bus tests, through a VM without KVM: the host bridge, BAR placement in
 * both windows, slots, the ECAM decode, BAR decoding (bar_remap) and the
 * dispatch of window accesses to BARs.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci.h"
#include "test_helpers.h"
#include "test_pci_util.h"
#include "vmm/util.h"
#include "vmm/vm.h"

static struct vm vm;
static struct pci_bus *bus;

static void bus_setup(void)
{
	struct pci_bus_layout l = test_layout();

	test_vm_init(&vm);
	bus = pci_bus_create(&vm, &l);
	cr_assert_not_null(bus);
}

static void bus_teardown(void)
{
	vm_destroy(&vm);
}

/* The bus */

TestSuite(pci_bus, .init = bus_setup, .fini = bus_teardown);

Test(pci_bus, host_bridge_in_slot0)
{
	struct pci_device *host = pci_bus_device(bus, 0);

	cr_assert_not_null(host);
	cr_assert_eq(test_cfg_read(&vm, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
	cr_assert_eq(test_cfg_read(&vm, 0, PCI_DEVICE_ID, 2), PCI_HOST_DEVICE_ID);
	cr_assert_eq(test_cfg_read(&vm, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	cr_assert_eq(test_cfg_read(&vm, 0, PCI_HEADER_TYPE, 1), 0);
	cr_assert_null(pci_bus_device(bus, 1));
	cr_assert_null(pci_bus_device(bus, 32));
}

Test(pci_bus, bars_in_both_windows)
{
	struct tdev a;

	tdev_init(&a);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x4000, false), 0);
	cr_assert_eq(pci_device_set_bar(&a.pci, 2, PCI_BAR_MEM64, 0x100000, true), 0);
	cr_assert_eq(pci_device_set_bar(&a.pci, 4, PCI_BAR_MEM64, 0x1000, false), 0);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	cr_assert_eq(a.pci.slot, 1);
	cr_assert_eq(a.pci.bus, bus);
	cr_assert_eq(pci_bus_device(bus, 1), &a.pci);

	cr_assert_eq(a.pci.bars[0].addr, T_MMIO32);
	cr_assert_eq(a.pci.bars[2].addr, T_MMIO64);
	cr_assert_eq(a.pci.bars[4].addr, T_MMIO64 + 0x100000);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_0, 4), (uint32_t)T_MMIO32);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_2, 4), 0xc);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_3, 4), T_MMIO64 >> 32);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_4, 4), 0x100004);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, 0,
		     "decoding is the guest's to enable");
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		cr_assert_eq(a.pci.bars[i].decode, PCI_BAR_UNMAPPED);
	cr_assert_eq(a.nremap, 0);
	cr_assert_eq(pci_bus_add(bus, &a.pci), -EINVAL, "already on a bus");
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_MEM32, 0x1000, false), -EINVAL);
}

Test(pci_bus, natural_alignment)
{
	struct tdev a, b, c;

	tdev_init(&a);
	tdev_init(&b);
	tdev_init(&c);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(&a.pci, 1, PCI_BAR_MEM32, 0x2000, false), 0);
	cr_assert_eq(pci_device_set_bar(&b.pci, 0, PCI_BAR_MEM32, 0x100000, false), 0);
	cr_assert_eq(pci_device_set_bar(&b.pci, 1, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(&c.pci, 0, PCI_BAR_MEM64, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(&c.pci, 2, PCI_BAR_MEM64, 1ull << 30, false), 0);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	cr_assert_eq(pci_bus_add(bus, &b.pci), 0);
	cr_assert_eq(pci_bus_add(bus, &c.pci), 0);
	cr_assert_eq(a.pci.bars[0].addr, T_MMIO32);
	cr_assert_eq(a.pci.bars[1].addr, T_MMIO32 + 0x2000);
	cr_assert_eq(b.pci.bars[0].addr, T_MMIO32 + 0x100000);
	cr_assert_eq(b.pci.bars[1].addr, T_MMIO32 + 0x200000);
	cr_assert_eq(c.pci.bars[0].addr, T_MMIO64);
	cr_assert_eq(c.pci.bars[2].addr, T_MMIO64 + (1ull << 30));
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *bars[] = { &a.pci.bars[i], &b.pci.bars[i], &c.pci.bars[i] };

		for (unsigned int j = 0; j < 3; j++)
			if (bars[j]->type != PCI_BAR_NONE)
				cr_assert_eq(bars[j]->addr % bars[j]->size, 0);
	}
	cr_assert_eq(b.pci.slot, 2);
	cr_assert_eq(c.pci.slot, 3);
}

Test(pci_bus, window_exhaustion)
{
	struct pci_bus_layout l = test_layout();
	struct pci_bus *small;
	struct vm v2;
	struct tdev a, big, b, c;
	struct test_capture cap;
	char *err;

	test_vm_init(&v2);
	l.mmio32_size = 0x10000;
	l.mmio64_size = 0x100000;
	small = pci_bus_create(&v2, &l);
	cr_assert_not_null(small);
	tdev_init(&a);
	tdev_init(&big);
	tdev_init(&b);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x8000, false), 0);
	cr_assert_eq(pci_bus_add(small, &a.pci), 0);
	/* BAR0 would fit; BAR2 does not: nothing may change. */
	cr_assert_eq(pci_device_set_bar(&big.pci, 0, PCI_BAR_MEM32, 0x4000, false), 0);
	cr_assert_eq(pci_device_set_bar(&big.pci, 2, PCI_BAR_MEM64, 0x200000, false), 0);
	test_stderr_begin(&cap);
	cr_assert_eq(pci_bus_add(small, &big.pci), -ENOSPC);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "no room for BAR2 of tdev (0x200000 bytes) in the 64-bit window"),
		  "%s", err);
	free(err);
	cr_assert_null(big.pci.bus);
	cr_assert_null(pci_bus_device(small, 2));
	cr_assert_eq(pci_config_read(&big.pci, PCI_BASE_ADDRESS_0, 4), 0);

	cr_assert_eq(pci_device_set_bar(&b.pci, 0, PCI_BAR_MEM32, 0x8000, false), 0);
	cr_assert_eq(pci_device_set_bar(&b.pci, 1, PCI_BAR_MEM64, 0x100000, false), 0);
	cr_assert_eq(pci_bus_add(small, &b.pci), 0, "exactly fills both windows");
	cr_assert_eq(b.pci.slot, 2);
	cr_assert_eq(b.pci.bars[0].addr, T_MMIO32 + 0x8000);
	cr_assert_eq(b.pci.bars[1].addr, T_MMIO64);

	tdev_init(&c);
	cr_assert_eq(pci_device_set_bar(&c.pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	test_stderr_begin(&cap);
	cr_assert_eq(pci_bus_add(small, &c.pci), -ENOSPC);
	free(test_stderr_end(&cap));
	vm_destroy(&v2);
}

Test(pci_bus, mem64_without_64bit_window)
{
	struct pci_bus_layout l = test_layout();
	struct pci_bus *b32;
	struct vm v2;
	struct tdev a;

	test_vm_init(&v2);
	l.mmio64_size = 0;
	b32 = pci_bus_create(&v2, &l);
	cr_assert_not_null(b32);
	tdev_init(&a);
	cr_assert_eq(pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM64, 0x4000, false), 0);
	cr_assert_eq(pci_bus_add(b32, &a.pci), 0);
	cr_assert_eq(a.pci.bars[0].addr, T_MMIO32);
	cr_assert_eq(pci_config_read(&a.pci, PCI_BASE_ADDRESS_1, 4), 0);
	vm_destroy(&v2);
}

Test(pci_bus, thirty_two_slots)
{
	static struct tdev devs[PCI_MAX_SLOTS];
	struct test_capture cap;
	char *err;

	for (unsigned int i = 0; i < PCI_MAX_SLOTS; i++) {
		tdev_init(&devs[i]);
		cr_assert_eq(pci_device_set_bar(&devs[i].pci, 0, PCI_BAR_MEM32, 0x1000, false), 0);
	}
	for (unsigned int i = 0; i < PCI_MAX_SLOTS - 1; i++) {
		cr_assert_eq(pci_bus_add(bus, &devs[i].pci), 0, "device %u", i);
		cr_assert_eq(devs[i].pci.slot, i + 1);
		cr_assert_eq(test_cfg_read(&vm, i + 1, PCI_VENDOR_ID, 2), 0x1af4);
	}
	test_stderr_begin(&cap);
	cr_assert_eq(pci_bus_add(bus, &devs[PCI_MAX_SLOTS - 1].pci), -ENOSPC);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "no free slot"), "%s", err);
	free(err);
	cr_assert_null(devs[PCI_MAX_SLOTS - 1].pci.bus);
}

Test(pci_bus, slots_are_stable)
{
	struct pci_bus_layout l = test_layout();
	static struct tdev d1[4], d2[4];
	const uint64_t sizes[4] = { 0x1000, 0x100000, 0x4000, 0x2000 };
	struct vm v2;
	struct pci_bus *b2;

	test_vm_init(&v2);
	b2 = pci_bus_create(&v2, &l);
	cr_assert_not_null(b2);
	for (unsigned int i = 0; i < 4; i++) {
		tdev_init(&d1[i]);
		tdev_init(&d2[i]);
		pci_device_set_bar(&d1[i].pci, 0, i % 2 ? PCI_BAR_MEM64 : PCI_BAR_MEM32, sizes[i],
				   false);
		pci_device_set_bar(&d2[i].pci, 0, i % 2 ? PCI_BAR_MEM64 : PCI_BAR_MEM32, sizes[i],
				   false);
		cr_assert_eq(pci_bus_add(bus, &d1[i].pci), 0);
		cr_assert_eq(pci_bus_add(b2, &d2[i].pci), 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		cr_assert_eq(d1[i].pci.slot, i + 1);
		cr_assert_eq(d1[i].pci.slot, d2[i].pci.slot);
		cr_assert_eq(d1[i].pci.bars[0].addr, d2[i].pci.bars[0].addr);
	}
	vm_destroy(&v2);
}

Test(pci_bus, bad_layouts)
{
	const struct pci_bus_layout good = test_layout();
	struct pci_bus_layout bad[9];
	struct test_capture cap;
	struct vm v2;
	char *err;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		bad[i] = good;
	bad[0].ecam_base += 0x1000;	   /* not 1 MiB aligned */
	bad[1].ecam_base = 0x100000000ull; /* above 4 GiB */
	bad[2].mmio32_size = 0;
	bad[3].mmio32_base = 0xf0000000; /* runs past 4 GiB */
	bad[4].mmio32_base += 0x800;
	bad[5].ecam_base = T_MMIO32 + 0x100000; /* inside the 32-bit window */
	bad[6].mmio64_base = T_MMIO32;		/* windows overlap */
	bad[7].mmio64_base = UINT64_MAX & ~0xfffull;
	bad[8].mmio64_size = 0x1800;
	test_vm_init(&v2);
	test_stderr_begin(&cap);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_null(pci_bus_create(&v2, &bad[i]), "layout %u", i);
	cr_assert_null(pci_bus_create(&v2, NULL));
	cr_assert_null(pci_bus_create(NULL, &good));
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "invalid host bridge layout"), "%s", err);
	free(err);
	cr_assert_eq(v2.mmio.nranges, 0);
	vm_destroy(&v2);
}

/* ECAM */

Test(pci_bus, ecam_decode)
{
	struct tdev a;

	tdev_init(&a);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	cr_assert_eq(test_cfg_read(&vm, 1, 0, 4), 0x10421af4);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_CLASS_REVISION, 4), 0x01000001);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_DEVICE_ID + 1, 1), 0x10);
	/* Absent: functions 1-7 of present slots, empty slots. */
	for (unsigned int fn = 1; fn < 8; fn++) {
		cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(0, fn, 0), 4), 0xffffffff);
		cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, fn, 0), 2), 0xffff);
		test_mmio_write(&vm, test_ecam_addr(1, fn, PCI_COMMAND), 2, 0xffff);
	}
	for (unsigned int slot = 2; slot < 32; slot++)
		cr_assert_eq(test_cfg_read(&vm, slot, 0, 4), 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_COMMAND, 2), 0, "function writes went nowhere");

	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	cr_assert_eq(pci_config_read(&a.pci, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	cr_assert_eq(a.cfg_off, PCI_COMMAND);
	cr_assert_eq(a.cfg_size, 2);
	test_cfg_write(&vm, 1, PCI_INTERRUPT_LINE, 1, 0x0a);
	cr_assert_eq(a.pci.config[PCI_INTERRUPT_LINE], 0x0a);
	/* The host bridge's writable bits behave the same. */
	test_cfg_write(&vm, 0, PCI_COMMAND, 2, 0xffff);
	cr_assert_eq(test_cfg_read(&vm, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
}

Test(pci_bus, ecam_odd_accesses)
{
	struct tdev a;

	tdev_init(&a);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	/* 8 bytes split into two dwords. */
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, 0), 8), 0x0000000010421af4ull);
	test_mmio_write(&vm, test_ecam_addr(1, 0, PCI_COMMAND), 8, 0x0000000000000006ull);
	cr_assert_eq(pci_config_read(&a.pci, PCI_COMMAND, 2), 6);
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, PCI_CLASS_REVISION), 8),
		     0x0000000001000001ull);
	/* Extended space reads 0; the last bytes of a function too. */
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, 0x100), 4), 0);
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, 0xffc), 4), 0);
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, 0xff8), 8), 0);
	/* Spilling into the next function: all-ones, and a write is dropped. */
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(1, 0, 0xffe), 4), 0xffffffff);
	cr_assert_eq(test_mmio_read(&vm, test_ecam_addr(0, 7, 0xffc), 8), ~0ull);
	test_mmio_write(&vm, test_ecam_addr(0, 7, 0xffc), 8, 0);
	cr_assert_eq(test_cfg_read(&vm, 1, 0, 4), 0x10421af4);
	/* Unaligned within a dword. */
	cr_assert_eq(test_cfg_read(&vm, 1, 1, 2), 0x421a);
	cr_assert_eq(test_cfg_read(&vm, 1, 3, 4), 0x00000610);
	/* The very end of ECAM. */
	cr_assert_eq(test_mmio_read(&vm, T_ECAM + 0xffffc, 4), 0xffffffff);
	cr_assert_eq(test_mmio_read(&vm, T_ECAM + 0xfffff, 1), 0xff);
}

Test(pci_bus, ecam_hostile_sweep)
{
	struct tdev a;
	unsigned int seed = 7;

	tdev_init(&a);
	pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM64, 0x4000, false);
	pci_device_set_bar(&a.pci, 2, PCI_BAR_MEM32, 0x1000, false);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	for (unsigned int slot = 0; slot < 3; slot++) {
		for (uint32_t reg = 0; reg < 0x1010; reg++) {
			static const uint32_t sizes[] = { 1, 2, 4, 8 };

			for (unsigned int s = 0; s < ARRAY_SIZE(sizes); s++) {
				uint64_t addr = test_ecam_addr(slot, 0, 0) + reg;
				uint64_t v = (uint64_t)rand_r(&seed) << 32 |
					     (uint64_t)rand_r(&seed);

				test_mmio_write(&vm, addr, sizes[s], v);
				test_mmio_read(&vm, addr, sizes[s]);
			}
		}
	}
	cr_assert_eq(test_cfg_read(&vm, 1, 0, 4), 0x10421af4);
	cr_assert_eq(test_cfg_read(&vm, 0, 0, 4), PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	/* Whatever the guest left in the BARs, lookups in the windows stay sane. */
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (uint64_t off = 0; off < 0x10000; off += 0x800) {
		test_mmio_read(&vm, T_MMIO32 + off, 4);
		test_mmio_read(&vm, T_MMIO64 + off, 8);
	}
}

/* BAR decoding and the window dispatch */

static void enable_memory(unsigned int slot, bool on)
{
	test_cfg_write(&vm, slot, PCI_COMMAND, 2, on ? PCI_COMMAND_MEMORY : 0);
}

Test(pci_bus, remap_follows_memory_enable)
{
	struct tdev a;

	tdev_init(&a);
	pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x4000, false);
	pci_device_set_bar(&a.pci, 2, PCI_BAR_MEM64, 0x4000, true);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);

	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x10, 4), 0, "not decoding yet");
	cr_assert_eq(a.nread, 0);

	enable_memory(1, true);
	cr_assert_eq(a.nremap, 2);
	cr_assert_eq(a.remap_bar[0], 0);
	cr_assert_eq(a.remap_addr[0], T_MMIO32);
	cr_assert_eq(a.remap_bar[1], 2);
	cr_assert_eq(a.remap_addr[1], T_MMIO64);
	enable_memory(1, true);
	cr_assert_eq(a.nremap, 2, "no change, no call");

	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x10, 4), 0x10);
	cr_assert_eq(a.last_bar, 0);
	cr_assert_eq(a.last_size, 4);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO64 + 0x3ff8, 8), 2ull << 56 | 0x3ff8);
	test_mmio_write(&vm, T_MMIO64 + 0x20, 2, 0xbeef);
	cr_assert_eq(a.last_bar, 2);
	cr_assert_eq(a.last_off, 0x20);
	cr_assert_eq(a.last_val, 0xbeef);
	/* Past the BAR's end, or straddling it: nobody. */
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x4000, 4), 0);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x3ffe, 4), 0);
	cr_assert_eq(a.nread, 2);

	enable_memory(1, false);
	cr_assert_eq(a.nremap, 4);
	cr_assert_eq(a.remap_addr[2], PCI_BAR_UNMAPPED);
	cr_assert_eq(a.remap_addr[3], PCI_BAR_UNMAPPED);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x10, 4), 0);
	test_mmio_write(&vm, T_MMIO32, 4, 1);
	cr_assert_eq(a.nread, 2);
	cr_assert_eq(a.nwrite, 1);
}

Test(pci_bus, remap_on_move_and_sizing)
{
	struct tdev a;
	uint32_t lo, hi;

	tdev_init(&a);
	pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x1000, false);
	pci_device_set_bar(&a.pci, 2, PCI_BAR_MEM64, 0x1000, false);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	enable_memory(1, true);
	cr_assert_eq(a.nremap, 2);

	/* Sizing with decoding on: the BAR holds its mask, which is outside every window. */
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cr_assert_eq(test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
	cr_assert_eq(a.nremap, 3);
	cr_assert_eq(a.remap_addr[2], PCI_BAR_UNMAPPED);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32, 4), 0);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)T_MMIO32 + 0x10000);
	cr_assert_eq(a.nremap, 4);
	cr_assert_eq(a.remap_addr[3], T_MMIO32 + 0x10000);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x10004, 4), 4);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32, 4), 0, "old address is gone");

	/* A 64-bit move, low then high dword: intermediate address out of the window. */
	lo = 0x2000;
	hi = (uint32_t)((T_MMIO64 + (1ull << 32)) >> 32);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_2, 4, lo);
	cr_assert_eq(a.remap_addr[a.nremap - 1], T_MMIO64 + 0x2000, "still in the window");
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_3, 4, hi);
	cr_assert_eq(a.remap_bar[a.nremap - 1], 2);
	cr_assert_eq(a.remap_addr[a.nremap - 1], ((uint64_t)hi << 32) | lo);
	cr_assert_eq(test_mmio_read(&vm, ((uint64_t)hi << 32) | (lo + 8), 8), 2ull << 56 | 8);

	/* Moved over RAM or beyond the window: decodes nowhere. */
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_3, 4, 0);
	cr_assert_eq(a.remap_addr[a.nremap - 1], PCI_BAR_UNMAPPED);
	/* A 64-bit BAR may go into the 32-bit window. */
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_2, 4, (uint32_t)T_MMIO32 + 0x20000);
	cr_assert_eq(a.remap_addr[a.nremap - 1], T_MMIO32 + 0x20000);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x20000, 8), 2ull << 56);
}

Test(pci_bus, overlapping_bars_do_not_crash)
{
	struct tdev a, b;

	tdev_init(&a);
	tdev_init(&b);
	pci_device_set_bar(&a.pci, 0, PCI_BAR_MEM32, 0x1000, false);
	pci_device_set_bar(&b.pci, 0, PCI_BAR_MEM32, 0x2000, false);
	cr_assert_eq(pci_bus_add(bus, &a.pci), 0);
	cr_assert_eq(pci_bus_add(bus, &b.pci), 0);
	test_cfg_write(&vm, 2, PCI_BASE_ADDRESS_0, 4, (uint32_t)T_MMIO32);
	enable_memory(1, true);
	enable_memory(2, true);
	test_mmio_read(&vm, T_MMIO32 + 0x10, 4);
	cr_assert_eq(a.nread + b.nread, 1, "exactly one device answers");
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32 + 0x1010, 4), 0x1010);
	cr_assert_eq(b.nread, a.nread == 1 ? 1 : 2);
}

Test(pci_bus, device_without_handlers)
{
	static const struct pci_device_ops none = { 0 };
	struct pci_device d;

	pci_device_init(&d, &none, NULL, "bare", 0x1234, 0x5678, 0xff0000, 0, 0, 0);
	pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, false);
	cr_assert_eq(pci_bus_add(bus, &d), 0);
	enable_memory(1, true);
	cr_assert_eq(d.bars[0].decode, T_MMIO32);
	cr_assert_eq(test_mmio_read(&vm, T_MMIO32, 4), 0);
	test_mmio_write(&vm, T_MMIO32, 4, 0);
}

Test(pci_bus, create_failures_leave_the_vm_sane)
{
	static const struct bus_ops nop = { 0 };
	struct pci_bus_layout l = test_layout();
	struct test_capture cap;
	struct vm v2;
	char *err;

	/* The 64-bit window collides with a range already on the bus. */
	test_vm_init(&v2);
	cr_assert_eq(bus_register(&v2.mmio, T_MMIO64 + 0x1000, 0x1000, &nop, NULL, "other"), 0);
	test_stderr_begin(&cap);
	cr_assert_null(pci_bus_create(&v2, &l));
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "cannot register"), "%s", err);
	free(err);
	/* The ranges that did register still point at a live bus until vm_destroy. */
	cr_assert_eq(test_mmio_read(&v2, T_ECAM, 4), PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	vm_destroy(&v2);

	/* The VM cannot own one more object. */
	test_vm_init(&v2);
	v2.ncleanups = VM_MAX_CLEANUPS;
	test_stderr_begin(&cap);
	cr_assert_null(pci_bus_create(&v2, &l));
	free(test_stderr_end(&cap));
	cr_assert_eq(v2.mmio.nranges, 0);
	v2.ncleanups = 0;
	vm_destroy(&v2);
}

/* A device whose BAR handlers may run on several threads at once. */
struct cdev {
	struct pci_device pci;
	unsigned long reads, remaps;
};

static void cdev_bar_read(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
			  uint32_t size)
{
	struct cdev *c = dev->opaque;

	__atomic_fetch_add(&c->reads, 1, __ATOMIC_RELAXED);
	memset(data, 0, size);
}

static void cdev_bar_remap(struct pci_device *dev, unsigned int bar, uint64_t addr)
{
	struct cdev *c = dev->opaque;

	/* Serialised by the bus config lock: a plain increment must not lose updates. */
	c->remaps++;
}

static const struct pci_device_ops cdev_ops = {
	.bar_read = cdev_bar_read,
	.bar_remap = cdev_bar_remap,
};

static struct cdev cd;
static volatile bool stop;

static void *window_reader(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		test_mmio_read(&vm, T_MMIO32, 4);
		test_mmio_read(&vm, T_MMIO32 + 0x100000, 4);
		test_cfg_read(&vm, 1, PCI_BASE_ADDRESS_0, 4);
	}
	return arg;
}

static void *config_writer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	for (unsigned int i = 0; i < 5000; i++) {
		test_cfg_write(&vm, 1, PCI_COMMAND, 2, (i + id) & 1 ? PCI_COMMAND_MEMORY : 0);
		test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4,
			       (uint32_t)T_MMIO32 + (i & 2 ? 0x100000 : 0));
	}
	return NULL;
}

Test(pci_bus, concurrent_config_and_window_accesses)
{
	pthread_t r[2], w[2];

	pci_device_init(&cd.pci, &cdev_ops, &cd, "cdev", 1, 2, 0xff0000, 0, 0, 0);
	pci_device_set_bar(&cd.pci, 0, PCI_BAR_MEM32, 0x1000, false);
	cr_assert_eq(pci_bus_add(bus, &cd.pci), 0);
	for (uintptr_t i = 0; i < 2; i++) {
		cr_assert_eq(pthread_create(&r[i], NULL, window_reader, NULL), 0);
		cr_assert_eq(pthread_create(&w[i], NULL, config_writer, (void *)i), 0);
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	/* Every remap left decode consistent with the registers. */
	test_cfg_write(&vm, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	test_cfg_write(&vm, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)T_MMIO32 + 0x200000);
	cr_assert_eq(cd.pci.bars[0].decode, T_MMIO32 + 0x200000);
	cr_assert_gt(cd.remaps, 0);
	test_mmio_read(&vm, T_MMIO32 + 0x200000, 4);
	cr_assert_gt(cd.reads, 0);
}
