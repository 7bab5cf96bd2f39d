/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PIO and MMIO buses. Devices register address ranges before the vCPUs start;
 * lookups on the vCPU exit path are lock-free because the tables never change
 * while the VM runs.
 */
#ifndef KITE_VMM_BUS_H
#define KITE_VMM_BUS_H

#include <stdint.h>

struct bus_ops {
	/* @offset is relative to the registered base; @size is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned int nranges;
	const char *name;
};

void bus_init(struct bus *bus, const char *name);
/* A read handler for registers that always read as zero. */
void bus_read_zeros(void *opaque, uint64_t offset, uint8_t *data, uint32_t size);
/* 0, -EBUSY if the range overlaps another, -ENOSPC if the table is full, -EINVAL if empty. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name);
/*
 * Dispatches an access. Returns 0 if a device handled it, -ENOENT if none
 * claims the whole range (reads then return all-ones, writes are dropped).
 */
int bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t size);
int bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t size);

#endif
