// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest RAM bounds: every accessor must refuse any range not wholly inside
 * one RAM region, whatever the guest passes (overflowing gpa + len, ranges
 * across the MMIO hole or between the two regions, past the end of RAM).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/util.h"

#define HOLE 0xc0000000ull
#define FOUR_G (4ull << 30)

static struct guest_mem mem;

static void fini(void)
{
	guest_mem_destroy(&mem);
}

TestSuite(guest_mem, .fini = fini);

Test(guest_mem, small_vm_is_one_region)
{
	cr_assert_eq(guest_mem_init(&mem, MiB(64), HOLE), 0);
	cr_assert_eq(mem.nregions, 1);
	cr_assert_eq(mem.regions[0].gpa, 0);
	cr_assert_eq(mem.regions[0].size, MiB(64));
	cr_assert_eq(mem.ram_size, MiB(64));
	cr_assert_not_null(mem.regions[0].hva);
}

Test(guest_mem, split_around_the_hole)
{
	cr_assert_eq(guest_mem_init(&mem, GiB(4), HOLE), 0);
	cr_assert_eq(mem.nregions, 2);
	cr_assert_eq(mem.regions[0].gpa, 0);
	cr_assert_eq(mem.regions[0].size, HOLE);
	cr_assert_eq(mem.regions[1].gpa, FOUR_G);
	cr_assert_eq(mem.regions[1].size, GiB(4) - HOLE);
	cr_assert_eq(mem.ram_size, GiB(4));
}

Test(guest_mem, exactly_up_to_the_hole)
{
	cr_assert_eq(guest_mem_init(&mem, HOLE, HOLE), 0);
	cr_assert_eq(mem.nregions, 1);
	cr_assert_eq(mem.regions[0].size, HOLE);
}

Test(guest_mem, init_rejects)
{
	cr_assert_eq(guest_mem_init(&mem, 0, HOLE), -EINVAL);
	cr_assert_eq(guest_mem_init(&mem, MiB(16) + 1, HOLE), -EINVAL);
	cr_assert_eq(guest_mem_init(&mem, MiB(16) + 2048, HOLE), -EINVAL);
	cr_assert_eq(guest_mem_init(&mem, MiB(16), FOUR_G + 4096), -EINVAL);
	cr_assert_eq(mem.nregions, 0);
}

Test(guest_mem, memory_starts_zeroed_and_round_trips)
{
	uint8_t buf[64], zero[64] = { 0 };

	cr_assert_eq(guest_mem_init(&mem, MiB(16), HOLE), 0);
	cr_assert_eq(guest_mem_read(&mem, 0x1000, buf, sizeof(buf)), 0);
	cr_assert_eq(memcmp(buf, zero, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 3);
	cr_assert_eq(guest_mem_write(&mem, 0x12345, buf, sizeof(buf)), 0);
	cr_assert_eq(memcmp(mem.regions[0].hva + 0x12345, buf, sizeof(buf)), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(guest_mem_read(&mem, 0x12345, buf, sizeof(buf)), 0);
	cr_assert_eq(buf[63], (uint8_t)(63 * 3));
	cr_assert_eq(guest_mem_ptr(&mem, 0x12345, 1), mem.regions[0].hva + 0x12345);
}

Test(guest_mem, bounds_single_region)
{
	const uint64_t end = MiB(16);
	uint8_t b[16] = { 0 };

	cr_assert_eq(guest_mem_init(&mem, end, HOLE), 0);
	cr_assert(guest_mem_range_ok(&mem, 0, end), "all of RAM");
	cr_assert(guest_mem_range_ok(&mem, end - 1, 1), "last byte");
	cr_assert_not(guest_mem_range_ok(&mem, end - 1, 2), "one byte past the end");
	cr_assert_not(guest_mem_range_ok(&mem, end, 1), "first byte after RAM");
	cr_assert_not(guest_mem_range_ok(&mem, 0, end + 1));
	cr_assert_not(guest_mem_range_ok(&mem, HOLE, 1), "the hole");
	cr_assert_not(guest_mem_range_ok(&mem, FOUR_G, 1), "no high region");
	cr_assert_eq(guest_mem_read(&mem, end - 8, b, 16), -EFAULT);
	cr_assert_eq(guest_mem_write(&mem, end - 8, b, 16), -EFAULT);
	cr_assert_eq(guest_mem_write(&mem, end, b, 1), -EFAULT);
	cr_assert_null(guest_mem_ptr(&mem, end, 1));
}

Test(guest_mem, overflowing_ranges)
{
	uint8_t b[16] = { 0 };

	cr_assert_eq(guest_mem_init(&mem, GiB(4), HOLE), 0);
	/* gpa + len wraps around 2^64 and would land back inside RAM. */
	cr_assert_not(guest_mem_range_ok(&mem, 0x1000, UINT64_MAX));
	cr_assert_not(guest_mem_range_ok(&mem, 0x1000, UINT64_MAX - 0xfff));
	cr_assert_not(guest_mem_range_ok(&mem, UINT64_MAX, 2));
	cr_assert_not(guest_mem_range_ok(&mem, UINT64_MAX, 1));
	cr_assert_not(guest_mem_range_ok(&mem, UINT64_MAX - 0xf, 0x20));
	cr_assert_not(guest_mem_range_ok(&mem, FOUR_G + 0x1000, UINT64_MAX - FOUR_G));
	cr_assert_not(guest_mem_range_ok(&mem, 1ull << 63, 1ull << 63));
	cr_assert_eq(guest_mem_read(&mem, UINT64_MAX - 7, b, 16), -EFAULT);
	cr_assert_eq(guest_mem_write(&mem, UINT64_MAX - 7, b, 16), -EFAULT);
}

Test(guest_mem, ranges_around_the_mmio_hole)
{
	uint8_t b[8192] = { 0 };

	cr_assert_eq(guest_mem_init(&mem, GiB(4), HOLE), 0);
	/* Low region: up to the hole. */
	cr_assert(guest_mem_range_ok(&mem, HOLE - 4096, 4096));
	cr_assert_not(guest_mem_range_ok(&mem, HOLE - 4096, 4097), "into the hole");
	cr_assert_not(guest_mem_range_ok(&mem, HOLE, 1), "hole start");
	cr_assert_not(guest_mem_range_ok(&mem, 0xfee00000, 4), "LAPIC page");
	cr_assert_not(guest_mem_range_ok(&mem, FOUR_G - 1, 1), "hole end");
	/* Across the whole hole, from low RAM into high RAM: not one region. */
	cr_assert_not(guest_mem_range_ok(&mem, HOLE - 4096, FOUR_G - HOLE + 8192));
	cr_assert_not(guest_mem_range_ok(&mem, 0, GiB(5)));
	/* From the hole into high RAM. */
	cr_assert_not(guest_mem_range_ok(&mem, FOUR_G - 4096, 8192));
	cr_assert_eq(guest_mem_read(&mem, FOUR_G - 4096, b, sizeof(b)), -EFAULT);
	cr_assert_eq(guest_mem_write(&mem, HOLE - 4096, b, sizeof(b)), -EFAULT);
}

Test(guest_mem, region_above_4g)
{
	const uint64_t high_end = FOUR_G + (GiB(4) - HOLE);
	uint8_t in[16], out[16];

	cr_assert_eq(guest_mem_init(&mem, GiB(4), HOLE), 0);
	cr_assert(guest_mem_range_ok(&mem, FOUR_G, 1), "first high byte");
	cr_assert(guest_mem_range_ok(&mem, FOUR_G, GiB(4) - HOLE), "the whole high region");
	cr_assert(guest_mem_range_ok(&mem, high_end - 1, 1));
	cr_assert_not(guest_mem_range_ok(&mem, high_end - 1, 2));
	cr_assert_not(guest_mem_range_ok(&mem, high_end, 1));
	cr_assert_not(guest_mem_range_ok(&mem, GiB(6), 1));
	/* The high region is backed by the memory right after the low one. */
	cr_assert_eq(guest_mem_ptr(&mem, FOUR_G, 1), mem.regions[0].hva + HOLE);
	memset(in, 0xa5, sizeof(in));
	cr_assert_eq(guest_mem_write(&mem, high_end - 16, in, 16), 0);
	cr_assert_eq(guest_mem_read(&mem, high_end - 16, out, 16), 0);
	cr_assert_eq(memcmp(in, out, 16), 0);
	/* And low RAM at the same offset is a different byte. */
	cr_assert_eq(guest_mem_read(&mem, HOLE - 16, out, 16), 0);
	cr_assert_neq(memcmp(in, out, 16), 0);
}

Test(guest_mem, zero_length)
{
	cr_assert_eq(guest_mem_init(&mem, MiB(16), HOLE), 0);
	cr_assert(guest_mem_range_ok(&mem, 0, 0));
	cr_assert(guest_mem_range_ok(&mem, MiB(16), 0), "empty range at the end");
	cr_assert_not(guest_mem_range_ok(&mem, MiB(16) + 1, 0), "empty range outside RAM");
	cr_assert_not(guest_mem_range_ok(&mem, UINT64_MAX, 0));
	cr_assert_eq(guest_mem_read(&mem, 0x100, &(uint8_t){ 0 }, 0), 0);
	cr_assert_eq(guest_mem_write(&mem, MiB(16), &(uint8_t){ 0 }, 0), 0);
}

Test(guest_mem, empty_struct_refuses_everything)
{
	struct guest_mem none;

	memset(&none, 0, sizeof(none));
	cr_assert_not(guest_mem_range_ok(&none, 0, 1));
	cr_assert_not(guest_mem_range_ok(&none, 0, 0));
	guest_mem_destroy(&none); /* harmless */
}

Test(guest_mem, destroy_twice)
{
	cr_assert_eq(guest_mem_init(&mem, MiB(16), HOLE), 0);
	guest_mem_destroy(&mem);
	cr_assert_eq(mem.nregions, 0);
	guest_mem_destroy(&mem);
}

Test(guest_mem, hugetlb_size_rules)
{
	/* Only the size check: whether the host has huge pages is not ours to know. */
	cr_assert_eq(guest_mem_init_opts(&mem, MiB(16) + 4096, HOLE, true), -EINVAL);
	cr_assert_eq(guest_mem_init_opts(&mem, MiB(16) + 4096, HOLE, false), 0);
}
