/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest RAM: a few host mmap regions at fixed guest-physical addresses.
 * Every accessor taking a guest-controlled address fails unless the whole
 * range lies inside one RAM region; nothing hands out an unchecked pointer.
 */
#ifndef KITE_VMM_GUEST_MEM_H
#define KITE_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int nregions;
	uint64_t ram_size; /* total bytes of RAM across regions */
};

/*
 * Maps @ram_size bytes of anonymous memory and splits it around the 32-bit
 * MMIO hole [hole_start, 4 GiB). Returns 0 or -errno.
 */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_size, uint64_t hole_start);
/*
 * Same, backed by hugetlbfs pages (2 MiB) when @hugetlb is set; fails with
 * -ENOMEM when the host has not reserved enough (vm.nr_hugepages).
 */
int guest_mem_init_opts(struct guest_mem *mem, uint64_t ram_size, uint64_t hole_start,
			bool hugetlb);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len), or NULL if any byte is outside RAM. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
bool guest_mem_range_ok(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* 0, or -EFAULT when the range is not fully inside one RAM region. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, size_t len);

#endif
