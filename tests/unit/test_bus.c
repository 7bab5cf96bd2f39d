// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PIO/MMIO bus: registration rules (overlap, full table, empty and
 * wrapping ranges), dispatch with offsets relative to the base, straddling
 * accesses, and all-ones reads for addresses nobody claims.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/util.h"

struct fake_dev {
	unsigned int reads, writes;
	uint64_t last_off;
	uint32_t last_size;
	uint8_t last_data[8];
	uint8_t fill;
};

static void fake_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct fake_dev *d = opaque;

	d->reads++;
	d->last_off = off;
	d->last_size = size;
	for (uint32_t i = 0; i < size; i++)
		data[i] = (uint8_t)(d->fill + off + i);
}

static void fake_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct fake_dev *d = opaque;

	d->writes++;
	d->last_off = off;
	d->last_size = size;
	memcpy(d->last_data, data, size);
}

static const struct bus_ops rw_ops = { .read = fake_read, .write = fake_write };
static const struct bus_ops ro_ops = { .read = fake_read };
static const struct bus_ops wo_ops = { .write = fake_write };

static struct bus bus;

static void setup(void)
{
	bus_init(&bus, "test");
}

TestSuite(bus, .init = setup);

Test(bus, init)
{
	cr_assert_eq(bus.nranges, 0);
	cr_assert_str_eq(bus.name, "test");
}

Test(bus, register_and_dispatch_with_relative_offsets)
{
	struct fake_dev a = { .fill = 0x10 }, b = { .fill = 0x80 };
	uint8_t buf[8];

	cr_assert_eq(bus_register(&bus, 0x3f8, 8, &rw_ops, &a, "uart"), 0);
	cr_assert_eq(bus_register(&bus, 0x60, 1, &rw_ops, &b, "kbd"), 0);

	cr_assert_eq(bus_read(&bus, 0x3fd, buf, 1), 0);
	cr_assert_eq(a.reads, 1);
	cr_assert_eq(a.last_off, 5);
	cr_assert_eq(buf[0], 0x15);

	cr_assert_eq(bus_write(&bus, 0x3f8, (const uint8_t *)"\x41\x42", 2), 0);
	cr_assert_eq(a.writes, 1);
	cr_assert_eq(a.last_off, 0);
	cr_assert_eq(a.last_size, 2);
	cr_assert_eq(memcmp(a.last_data, "AB", 2), 0);

	cr_assert_eq(bus_read(&bus, 0x60, buf, 1), 0);
	cr_assert_eq(b.reads, 1);
	cr_assert_eq(b.last_off, 0);
	cr_assert_eq(buf[0], 0x80);
	cr_assert_eq(a.reads, 1, "the other device saw nothing");
}

Test(bus, every_access_size)
{
	struct fake_dev d = { 0 };
	uint8_t buf[8];

	cr_assert_eq(bus_register(&bus, 0xd0000000, 0x1000, &rw_ops, &d, "mmio"), 0);
	for (uint32_t size = 1; size <= 8; size *= 2) {
		cr_assert_eq(bus_read(&bus, 0xd0000ff8, buf, size), 0);
		cr_assert_eq(d.last_size, size);
		cr_assert_eq(d.last_off, 0xff8);
	}
}

Test(bus, unclaimed_reads_all_ones_writes_dropped)
{
	struct fake_dev d = { 0 };
	uint8_t buf[8];

	memset(buf, 0, sizeof(buf));
	cr_assert_eq(bus_read(&bus, 0x80, buf, 4), -ENOENT, "empty bus");
	cr_assert_eq(memcmp(buf, "\xff\xff\xff\xff\0\0\0\0", 8), 0, "exactly size bytes");

	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &rw_ops, &d, "dev"), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(bus_read(&bus, 0xff, buf, 1), -ENOENT, "just below");
	cr_assert_eq(buf[0], 0xff);
	cr_assert_eq(bus_read(&bus, 0x110, buf, 8), -ENOENT, "just above");
	cr_assert_eq(memcmp(buf, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0);
	cr_assert_eq(bus_write(&bus, 0x110, buf, 1), -ENOENT);
	cr_assert_eq(bus_write(&bus, 0, buf, 1), -ENOENT);
	cr_assert_eq(bus_read(&bus, UINT64_MAX, buf, 1), -ENOENT);
	cr_assert_eq(d.reads + d.writes, 0);
}

Test(bus, range_edges)
{
	struct fake_dev d = { 0 };
	uint8_t buf[8];

	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &rw_ops, &d, "dev"), 0);
	cr_assert_eq(bus_read(&bus, 0x100, buf, 8), 0, "first byte");
	cr_assert_eq(bus_read(&bus, 0x108, buf, 8), 0, "last eight bytes");
	cr_assert_eq(d.last_off, 8);
	cr_assert_eq(bus_read(&bus, 0x10f, buf, 1), 0, "last byte");
	cr_assert_eq(d.last_off, 0xf);
	cr_assert_eq(d.reads, 3);
}

Test(bus, straddling_accesses_belong_to_nobody)
{
	struct fake_dev a = { 0 }, b = { 0 };
	uint8_t buf[8] = { 0 };

	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &rw_ops, &a, "a"), 0);
	cr_assert_eq(bus_register(&bus, 0x110, 0x10, &rw_ops, &b, "b"), 0);
	/* Across the end of a into b. */
	cr_assert_eq(bus_read(&bus, 0x10e, buf, 4), -ENOENT);
	cr_assert_eq(memcmp(buf, "\xff\xff\xff\xff", 4), 0);
	cr_assert_eq(bus_write(&bus, 0x10c, buf, 8), -ENOENT);
	/* From a gap into a range. */
	cr_assert_eq(bus_read(&bus, 0xfe, buf, 4), -ENOENT);
	/* Across the end of the last range. */
	cr_assert_eq(bus_read(&bus, 0x11f, buf, 2), -ENOENT);
	cr_assert_eq(a.reads + a.writes + b.reads + b.writes, 0);
}

Test(bus, straddling_the_top_of_the_address_space)
{
	struct fake_dev d = { 0 };
	uint8_t buf[8];

	cr_assert_eq(bus_register(&bus, UINT64_MAX - 3, 4, &rw_ops, &d, "top"), 0);
	cr_assert_eq(bus_read(&bus, UINT64_MAX - 3, buf, 4), 0);
	cr_assert_eq(bus_read(&bus, UINT64_MAX, buf, 1), 0);
	cr_assert_eq(d.last_off, 3);
	cr_assert_eq(bus_read(&bus, UINT64_MAX - 1, buf, 4), -ENOENT, "wraps past 2^64");
	cr_assert_eq(bus_read(&bus, UINT64_MAX, buf, 8), -ENOENT);
	cr_assert_eq(d.reads, 2);
}

Test(bus, overlap_refused)
{
	struct fake_dev d = { 0 };

	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &rw_ops, &d, "a"), 0);
	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &rw_ops, &d, "same"), -EBUSY);
	cr_assert_eq(bus_register(&bus, 0x108, 0x10, &rw_ops, &d, "tail"), -EBUSY);
	cr_assert_eq(bus_register(&bus, 0xf8, 0x9, &rw_ops, &d, "head"), -EBUSY);
	cr_assert_eq(bus_register(&bus, 0x104, 1, &rw_ops, &d, "inside"), -EBUSY);
	cr_assert_eq(bus_register(&bus, 0, 0x1000, &rw_ops, &d, "around"), -EBUSY);
	cr_assert_eq(bus_register(&bus, 0x10f, 1, &rw_ops, &d, "last byte"), -EBUSY);
	cr_assert_eq(bus.nranges, 1);
	/* Touching is fine. */
	cr_assert_eq(bus_register(&bus, 0xf8, 8, &rw_ops, &d, "below"), 0);
	cr_assert_eq(bus_register(&bus, 0x110, 8, &rw_ops, &d, "above"), 0);
	cr_assert_eq(bus.nranges, 3);
}

Test(bus, invalid_ranges)
{
	struct fake_dev d = { 0 };

	cr_assert_eq(bus_register(&bus, 0x100, 0, &rw_ops, &d, "empty"), -EINVAL);
	cr_assert_eq(bus_register(&bus, UINT64_MAX, 2, &rw_ops, &d, "wraps"), -EINVAL);
	cr_assert_eq(bus_register(&bus, 2, UINT64_MAX, &rw_ops, &d, "wraps"), -EINVAL);
	cr_assert_eq(bus_register(&bus, 1, UINT64_MAX, &rw_ops, &d, "1..2^64-1"), 0);
	bus_init(&bus, "test");
	cr_assert_eq(bus_register(&bus, 0x100, 1, NULL, &d, "no ops"), -EINVAL);
	cr_assert_eq(bus_register(&bus, 0, UINT64_MAX, &rw_ops, &d, "nearly all"), 0);
	cr_assert_eq(bus.nranges, 1);
}

Test(bus, table_full)
{
	struct fake_dev d = { 0 };

	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++)
		cr_assert_eq(bus_register(&bus, 0x1000 * (uint64_t)i, 0x10, &rw_ops, &d, "r"), 0);
	cr_assert_eq(bus_register(&bus, 0x100000, 0x10, &rw_ops, &d, "one more"), -ENOSPC);
	cr_assert_eq(bus.nranges, BUS_MAX_RANGES);
}

Test(bus, many_ranges_any_order_all_found)
{
	static struct fake_dev devs[BUS_MAX_RANGES];
	uint8_t buf[1];

	/* Registered in a scrambled order; the lookup must still find each one. */
	for (unsigned int k = 0; k < BUS_MAX_RANGES; k++) {
		unsigned int i = (k * 37) % BUS_MAX_RANGES;

		devs[i].fill = (uint8_t)i;
		cr_assert_eq(bus_register(&bus, 0x100 + 0x20 * (uint64_t)i, 0x10, &rw_ops, &devs[i],
					  "r"),
			     0);
	}
	for (unsigned int i = 1; i < bus.nranges; i++)
		cr_assert_lt(bus.ranges[i - 1].base, bus.ranges[i].base, "table kept sorted");
	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++) {
		uint64_t base = 0x100 + 0x20 * (uint64_t)i;

		cr_assert_eq(bus_read(&bus, base + 3, buf, 1), 0, "range %u", i);
		cr_assert_eq(devs[i].reads, 1, "range %u", i);
		cr_assert_eq(buf[0], (uint8_t)(i + 3));
		cr_assert_eq(bus_read(&bus, base + 0x10, buf, 1), -ENOENT, "gap after %u", i);
	}
}

Test(bus, missing_handler)
{
	struct fake_dev r = { .fill = 1 }, w = { 0 };
	uint8_t buf[2] = { 0, 0 };

	cr_assert_eq(bus_register(&bus, 0x10, 2, &ro_ops, &r, "ro"), 0);
	cr_assert_eq(bus_register(&bus, 0x20, 2, &wo_ops, &w, "wo"), 0);
	cr_assert_eq(bus_write(&bus, 0x10, buf, 1), -ENOENT, "write to a read-only device");
	cr_assert_eq(bus_read(&bus, 0x10, buf, 1), 0);
	cr_assert_eq(buf[0], 1);
	cr_assert_eq(bus_read(&bus, 0x20, buf, 2), -ENOENT, "read from a write-only device");
	cr_assert_eq(buf[0], 0xff);
	cr_assert_eq(buf[1], 0xff);
	cr_assert_eq(bus_write(&bus, 0x21, buf, 1), 0);
	cr_assert_eq(w.last_off, 1);
}
