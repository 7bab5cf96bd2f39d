// SPDX-License-Identifier: GPL-2.0-only
/* The identity dma_space: IOVA == GPA, inside one RAM region or -EFAULT. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/dma.h"
#include "vmm/util.h"

#define HOLE 0xc0000000ull
#define FOUR_G (4ull << 30)

static struct guest_mem mem;
static struct dma_space dma;

static void small(void)
{
	cr_assert_eq(guest_mem_init(&mem, MiB(16), HOLE), 0);
	dma_space_init_identity(&dma, &mem);
}

static void fini(void)
{
	guest_mem_destroy(&mem);
}

TestSuite(dma, .init = small, .fini = fini);

Test(dma, init)
{
	cr_assert_not_null(dma.ops);
	cr_assert_not_null(dma.ops->map);
	cr_assert_eq(dma.mem, &mem);
	cr_assert_null(dma.opaque);
}

Test(dma, map_is_identity)
{
	struct iovec iov[4];

	cr_assert_eq(dma_map(&dma, 0x2000, 0x3000, false, iov, 4), 1);
	cr_assert_eq(iov[0].iov_base, mem.regions[0].hva + 0x2000);
	cr_assert_eq(iov[0].iov_len, 0x3000);
	cr_assert_eq(dma_map(&dma, 0x2000, 0x3000, true, iov, 1), 1, "writes alike");
	cr_assert_eq(dma_map(&dma, 0, MiB(16), true, iov, 1), 1, "all of RAM");
}

Test(dma, map_outside_ram)
{
	struct iovec iov[1];

	cr_assert_eq(dma_map(&dma, MiB(16), 1, false, iov, 1), -EFAULT);
	cr_assert_eq(dma_map(&dma, MiB(16) - 1, 2, true, iov, 1), -EFAULT);
	cr_assert_eq(dma_map(&dma, HOLE, 4, true, iov, 1), -EFAULT);
	cr_assert_eq(dma_map(&dma, 0x1000, UINT64_MAX, false, iov, 1), -EFAULT, "wraps");
	cr_assert_eq(dma_map(&dma, UINT64_MAX, 1, false, iov, 1), -EFAULT);
}

Test(dma, map_needs_room_for_a_segment)
{
	struct iovec iov[1];

	cr_assert_eq(dma_map(&dma, 0x1000, 16, false, iov, 0), -E2BIG);
	cr_assert_eq(dma_map(&dma, 0x1000, 16, false, iov, -1), -E2BIG);
}

Test(dma, zero_length)
{
	struct iovec iov[1] = { { (void *)1, 1 } };

	cr_assert_eq(dma_map(&dma, 0x1000, 0, false, iov, 1), 0);
	cr_assert_eq(iov[0].iov_len, 0);
	cr_assert_eq(dma_read(&dma, 0x1000, NULL, 0), 0);
	cr_assert_eq(dma_write(&dma, UINT64_MAX, NULL, 0), 0);
}

Test(dma, read_write_round_trip)
{
	uint8_t in[100], out[100];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x40 + i);
	cr_assert_eq(dma_write(&dma, 0x7000, in, sizeof(in)), 0);
	cr_assert_eq(memcmp(mem.regions[0].hva + 0x7000, in, sizeof(in)), 0);
	cr_assert_eq(dma_read(&dma, 0x7000, out, sizeof(out)), 0);
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);
}

Test(dma, failed_copy_touches_nothing)
{
	uint8_t buf[32], guard[32];

	memset(buf, 0x33, sizeof(buf));
	memcpy(guard, buf, sizeof(buf));
	cr_assert_eq(dma_read(&dma, MiB(16) - 16, buf, sizeof(buf)), -EFAULT);
	cr_assert_eq(memcmp(buf, guard, sizeof(buf)), 0, "buffer untouched");
	cr_assert_eq(dma_write(&dma, MiB(16) - 16, buf, sizeof(buf)), -EFAULT);
	memset(guard, 0, sizeof(guard));
	cr_assert_eq(memcmp(mem.regions[0].hva + MiB(16) - 16, guard, 16), 0, "RAM untouched");
}

Test(dma, across_the_hole_and_above_4g)
{
	struct iovec iov[4];
	uint8_t b[16] = { 1, 2, 3 };

	guest_mem_destroy(&mem);
	cr_assert_eq(guest_mem_init(&mem, GiB(4), HOLE), 0);
	dma_space_init_identity(&dma, &mem);
	/* One range may not span both RAM regions, even given room for two segments. */
	cr_assert_eq(dma_map(&dma, HOLE - 8, FOUR_G - HOLE + 16, false, iov, 4), -EFAULT);
	cr_assert_eq(dma_map(&dma, FOUR_G - 8, 16, false, iov, 4), -EFAULT);
	cr_assert_eq(dma_map(&dma, FOUR_G, 16, false, iov, 4), 1);
	cr_assert_eq(iov[0].iov_base, mem.regions[1].hva);
	cr_assert_eq(dma_write(&dma, FOUR_G + 0x100, b, sizeof(b)), 0);
	cr_assert_eq(guest_mem_read(&mem, FOUR_G + 0x100, b + 8, 8), 0);
	cr_assert_eq(b[8], 1);
	cr_assert_eq(b[10], 3);
	cr_assert_eq(dma_read(&dma, GiB(5), b, 1), -EFAULT, "past high RAM");
}
