// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI config-space tests on a lone device: the type-0 header, read-only and
 * W1C bits, the capability chain, BAR sizing and hostile accesses.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci.h"
#include "test_pci_util.h"
#include "vmm/util.h"

/* Config space of a lone device */

Test(pci_config, header)
{
	struct tdev t;
	struct pci_device *d = &t.pci;

	tdev_init(&t);
	cr_assert_eq(pci_config_read(d, PCI_VENDOR_ID, 2), 0x1af4);
	cr_assert_eq(pci_config_read(d, PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(pci_config_read(d, 0, 4), 0x10421af4);
	cr_assert_eq(pci_config_read(d, PCI_CLASS_REVISION, 4), 0x01000001);
	cr_assert_eq(pci_config_read(d, PCI_HEADER_TYPE, 1), 0);
	cr_assert_eq(pci_config_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	cr_assert_eq(pci_config_read(d, PCI_SUBSYSTEM_ID, 2), 0x1100);
	cr_assert_eq(pci_config_read(d, PCI_INTERRUPT_PIN, 1), 0, "no INTx");
	cr_assert_eq(pci_config_read(d, PCI_COMMAND, 2), 0);
	cr_assert_eq(pci_config_read(d, PCI_STATUS, 2), 0, "no capability list yet");
	cr_assert_eq(pci_config_read(d, PCI_CAPABILITY_LIST, 1), 0);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0 + 4 * i, 4), 0);
	cr_assert_eq(d->cap_end, PCI_CAP_START);
	cr_assert_null(d->bus);
}

Test(pci_config, read_only_fields_stay)
{
	struct tdev t;
	struct pci_device *d = &t.pci;
	uint8_t before[256];

	tdev_init(&t);
	memcpy(before, d->config, sizeof(before));
	pci_config_write(d, PCI_VENDOR_ID, 4, 0xffffffff);
	pci_config_write(d, PCI_CLASS_REVISION, 4, 0xffffffff);
	pci_config_write(d, PCI_HEADER_TYPE, 1, 0xff);
	pci_config_write(d, PCI_SUBSYSTEM_VENDOR_ID, 4, 0xffffffff);
	pci_config_write(d, PCI_ROM_ADDRESS, 4, 0xffffffff);
	pci_config_write(d, PCI_CAPABILITY_LIST, 4, 0xffffffff);
	pci_config_write(d, PCI_INTERRUPT_PIN, 1, 0xff);
	pci_config_write(d, 0x28, 4, 0xffffffff); /* CardBus CIS */
	cr_assert(!memcmp(before, d->config, sizeof(before)), "a read-only register changed");
	cr_assert_eq(pci_config_read(d, PCI_ROM_ADDRESS, 4), 0, "no expansion ROM to size");

	/* Writable: Command (its defined bits only), Cache Line Size, Interrupt Line. */
	pci_config_write(d, PCI_COMMAND, 2, 0xffff);
	cr_assert_eq(pci_config_read(d, PCI_COMMAND, 2),
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			     PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	cr_assert_eq(pci_config_read(d, PCI_COMMAND, 2) & PCI_COMMAND_IO, 0, "no I/O BARs");
	pci_config_write(d, PCI_CACHE_LINE_SIZE, 1, 0x10);
	pci_config_write(d, PCI_INTERRUPT_LINE, 1, 0x0b);
	cr_assert_eq(pci_config_read(d, PCI_CACHE_LINE_SIZE, 1), 0x10);
	cr_assert_eq(pci_config_read(d, PCI_INTERRUPT_LINE, 1), 0x0b);
	cr_assert_eq(pci_config_read(d, PCI_LATENCY_TIMER, 1), 0);
	cr_assert_eq(t.ncfg, 11, "config_write runs after every write");
	cr_assert_eq(t.cfg_off, PCI_INTERRUPT_LINE);
	cr_assert_eq(t.cfg_size, 1);
	cr_assert_eq(t.cfg_val, 0x0b);
}

Test(pci_config, status_write_one_to_clear)
{
	struct tdev t;
	struct pci_device *d = &t.pci;
	uint16_t errs = PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR |
			PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT |
			PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_PARITY;

	tdev_init(&t);
	cr_assert_geq(pci_device_add_cap(d, PCI_CAP_ID_VNDR, "\x04\x00", NULL, 2), 0);
	/* The device model raises error bits itself. */
	put_le16(d->config + PCI_STATUS, get_le16(d->config + PCI_STATUS) | errs);
	pci_config_write(d, PCI_STATUS, 2, 0);
	cr_assert_eq(pci_config_read(d, PCI_STATUS, 2), errs | PCI_STATUS_CAP_LIST, "0 keeps");
	pci_config_write(d, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST);
	cr_assert_eq(pci_config_read(d, PCI_STATUS, 2),
		     (errs & ~PCI_STATUS_REC_MASTER_ABORT) | PCI_STATUS_CAP_LIST,
		     "1 clears an error bit, CAP_LIST is read-only");
	/* A dword write at Command with all-ones in the Status half clears every error bit. */
	pci_config_write(d, PCI_COMMAND, 4, 0xffff0000u | PCI_COMMAND_MASTER);
	cr_assert_eq(pci_config_read(d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	cr_assert_eq(pci_config_read(d, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
}

Test(pci_config, capability_chain)
{
	static const uint8_t body_a[6] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t body_b[1] = { 0x77 };
	static const uint8_t body_c[14] = { 0 };
	static const uint8_t wmask_c[14] = { 0xff, 0x0f };
	struct tdev t;
	struct pci_device *d = &t.pci;
	int a, b, c;
	unsigned int off, n = 0;
	const uint8_t ids[] = { 0x09, 0x05, 0x10 };

	tdev_init(&t);
	a = pci_device_add_cap(d, 0x09, body_a, NULL, sizeof(body_a));
	b = pci_device_add_cap(d, 0x05, body_b, NULL, sizeof(body_b));
	c = pci_device_add_cap(d, 0x10, body_c, wmask_c, sizeof(body_c));
	cr_assert_eq(a, 0x40);
	cr_assert_eq(b, 0x48, "dword aligned after 2 + 6 bytes");
	cr_assert_eq(c, 0x4c, "2 + 1 bytes round up to 4");
	cr_assert(pci_config_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cr_assert_eq(pci_config_read(d, PCI_CAPABILITY_LIST, 1), 0x40);

	for (off = pci_config_read(d, PCI_CAPABILITY_LIST, 1); off;
	     off = pci_config_read(d, off + 1, 1)) {
		cr_assert_lt(n, 3);
		cr_assert_eq(off % 4, 0);
		cr_assert_eq(pci_config_read(d, off, 1), ids[n], "cap %u id", n);
		n++;
	}
	cr_assert_eq(n, 3);
	cr_assert_eq(pci_config_read(d, a + 2, 4), 0x04030201);
	cr_assert_eq(pci_config_read(d, b + 2, 1), 0x77);
	cr_assert_eq(test_find_cap(d, 0x10), (unsigned int)c);
	cr_assert_eq(test_find_cap(d, 0x11), 0);

	/* Only the body's writable bits move; ids and next pointers never do. */
	pci_config_write(d, c, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, c, 4), 0x0fff0010);
	pci_config_write(d, a, 4, 0);
	cr_assert_eq(pci_config_read(d, a, 2), 0x4809);
	pci_config_write(d, b + 2, 1, 0);
	cr_assert_eq(pci_config_read(d, b + 2, 1), 0x77);
}

Test(pci_config, capability_space_runs_out)
{
	uint8_t body[254] = { 0 };
	struct tdev t;
	int ret, n = 0;

	tdev_init(&t);
	cr_assert_eq(pci_device_add_cap(&t.pci, 0x09, body, NULL, 193), -ENOSPC,
		     "0x40 + 195 > 256");
	cr_assert_eq(pci_device_add_cap(&t.pci, 0x09, NULL, NULL, 4), -EINVAL);
	while ((ret = pci_device_add_cap(&t.pci, 0x09, body, NULL, 14)) >= 0)
		n++;
	cr_assert_eq(ret, -ENOSPC);
	cr_assert_eq(n, 12, "192 bytes of 16-byte capabilities");
	cr_assert_eq(t.pci.cap_end, 256);
	cr_assert_eq(pci_device_add_cap(&t.pci, 0x09, NULL, NULL, 0), -ENOSPC);

	tdev_init(&t);
	cr_assert_eq(pci_device_add_cap(&t.pci, 0x09, body, NULL, 190), 0x40, "exactly fills");
	cr_assert_eq(pci_device_add_cap(&t.pci, 0x09, NULL, NULL, 0), -ENOSPC);
}

Test(pci_config, bar32_sizing)
{
	struct tdev t;
	struct pci_device *d = &t.pci;

	tdev_init(&t);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 0x4000, false), 0);
	cr_assert_eq(pci_device_set_bar(d, 1, PCI_BAR_MEM32, 0x1000, true), 0);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0, 4), 0);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_1, 4), PCI_BASE_ADDRESS_MEM_PREFETCH);

	pci_config_write(d, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0, 4), 0xffffc000);
	pci_config_write(d, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_1, 4), 0xfffff008);
	pci_config_write(d, PCI_BASE_ADDRESS_0, 4, 0x12345678);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0, 4), 0x12344000);
	cr_assert_eq(d->bars[0].addr, 0x12344000);
	/* Byte and word writes size too (some guests size a byte at a time). */
	pci_config_write(d, PCI_BASE_ADDRESS_0, 1, 0xff);
	pci_config_write(d, PCI_BASE_ADDRESS_0 + 1, 1, 0xff);
	pci_config_write(d, PCI_BASE_ADDRESS_0 + 2, 2, 0xffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0, 4), 0xffffc000);
	/* Unused BARs stay 0: not implemented. */
	pci_config_write(d, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_2, 4), 0);
}

Test(pci_config, bar64_sizing)
{
	struct tdev t;
	struct pci_device *d = &t.pci;

	tdev_init(&t);
	cr_assert_eq(pci_device_set_bar(d, 2, PCI_BAR_MEM64, 0x100000, true), 0);
	cr_assert_eq(pci_device_set_bar(d, 4, PCI_BAR_MEM64, 8ull << 30, false), 0);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_2, 4),
		     PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);

	pci_config_write(d, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	pci_config_write(d, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_2, 4), 0xfff0000c);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	pci_config_write(d, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	pci_config_write(d, PCI_BASE_ADDRESS_5, 4, 0xffffffff);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_4, 4), 0x00000004, "8 GiB: low all 0");
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_5, 4), 0xfffffffe);

	pci_config_write(d, PCI_BASE_ADDRESS_2, 4, 0x12345678);
	pci_config_write(d, PCI_BASE_ADDRESS_3, 4, 0x9);
	cr_assert_eq(d->bars[2].addr, 0x912300000ull);
	cr_assert_eq(d->bars[3].type, PCI_BAR_NONE, "upper half is not a BAR of its own");
}

Test(pci_config, set_bar_rejects)
{
	struct tdev t;
	struct pci_device *d = &t.pci;

	tdev_init(&t);
	cr_assert_eq(pci_device_set_bar(d, 6, PCI_BAR_MEM32, 0x1000, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 0x8, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 0x3000, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 0, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 1ull << 32, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_NONE, 0x1000, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 0, (enum pci_bar_type)7, 0x1000, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(d, 5, PCI_BAR_MEM64, 0x1000, false), -EINVAL);
	cr_assert_eq(pci_device_set_bar(NULL, 0, PCI_BAR_MEM32, 0x1000, false), -EINVAL);

	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM64, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM32, 0x1000, false), -EINVAL, "in use");
	cr_assert_eq(pci_device_set_bar(d, 1, PCI_BAR_MEM32, 0x1000, false), -EINVAL, "upper half");
	cr_assert_eq(pci_device_set_bar(d, 3, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_eq(pci_device_set_bar(d, 2, PCI_BAR_MEM64, 0x1000, false), -EINVAL,
		     "would swallow BAR3");
	cr_assert_eq(pci_device_set_bar(d, 2, PCI_BAR_MEM32, 1ull << 31, false), 0);
}

Test(pci_config, odd_accesses)
{
	struct tdev t;
	struct pci_device *d = &t.pci;

	tdev_init(&t);
	cr_assert_eq(pci_config_read(d, 0, 0), 0xffffffff);
	cr_assert_eq(pci_config_read(d, 0, 5), 0xffffffff);
	cr_assert_eq(pci_config_read(d, 0, 8), 0xffffffff);
	cr_assert_eq(pci_config_read(d, 4095, 2), 0xffffffff, "runs past 4 KiB");
	cr_assert_eq(pci_config_read(d, 4096, 1), 0xffffffff);
	cr_assert_eq(pci_config_read(d, UINT32_MAX, 4), 0xffffffff);
	cr_assert_eq(pci_config_read(d, 4095, 1), 0);
	cr_assert_eq(pci_config_read(d, 256, 4), 0, "extended space reads 0");
	cr_assert_eq(pci_config_read(d, 254, 4), 0x00000000 | pci_config_read(d, 254, 2));
	/* Unaligned and odd sizes are byte-wise. */
	cr_assert_eq(pci_config_read(d, 1, 2), 0x421a);
	cr_assert_eq(pci_config_read(d, 1, 3), 0x10421a);
	cr_assert_eq(pci_config_read(d, 3, 4), 0x00000010);

	t.ncfg = 0;
	pci_config_write(d, 256, 4, 0xffffffff);
	pci_config_write(d, 4094, 4, 0xffffffff);
	pci_config_write(d, 0, 0, 0xffffffff);
	pci_config_write(d, 0, 8, 0xffffffff);
	cr_assert_eq(t.ncfg, 0, "ignored writes reach nobody");
	/* Crossing a dword: Device ID (read-only) and Command in one write. */
	pci_config_write(d, PCI_DEVICE_ID, 4, 0x0006ffff);
	cr_assert_eq(pci_config_read(d, PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(pci_config_read(d, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cr_assert_eq(t.ncfg, 1);
}

Test(pci_config, hostile_sweep)
{
	struct tdev t;
	struct pci_device *d = &t.pci;
	unsigned int seed = 1;

	tdev_init(&t);
	cr_assert_eq(pci_device_set_bar(d, 0, PCI_BAR_MEM64, 0x4000, true), 0);
	cr_assert_eq(pci_device_set_bar(d, 2, PCI_BAR_MEM32, 0x1000, false), 0);
	cr_assert_geq(pci_device_add_cap(d, 0x09, "\x08\x00\x00\x00\x00\x00",
					 "\xff\xff\xff\x00\x00\x00", 6),
		      0);
	for (uint32_t off = 0; off < 4200; off++) {
		for (uint32_t size = 0; size <= 8; size++) {
			uint32_t v = (uint32_t)rand_r(&seed) * 2654435761u;

			pci_config_write(d, off, size, v);
			pci_config_read(d, off, size);
		}
	}
	cr_assert_eq(pci_config_read(d, 0, 4), 0x10421af4);
	cr_assert_eq(pci_config_read(d, PCI_CLASS_REVISION, 4), 0x01000001);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_0, 4) & 0x3fff, 0xc);
	cr_assert_eq(pci_config_read(d, PCI_BASE_ADDRESS_2, 4) & 0xfff, 0);
	cr_assert_eq(pci_config_read(d, PCI_CAPABILITY_LIST, 1), 0x40);
	cr_assert_eq(pci_config_read(d, 0x41, 1), 0);
	cr_assert_eq(pci_config_read(d, PCI_INTERRUPT_PIN, 1), 0);
}
