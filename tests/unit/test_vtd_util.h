/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the VT-d unit tests (test_vtd_qi.c, test_vtd_walk.c): a unit without a VM over a
 * test's guest memory, and guest-width register accesses as a vCPU makes them. Static: each
 * test file gets its own copy.
 */
#ifndef KITE_TESTS_UNIT_TEST_VTD_UTIL_H
#define KITE_TESTS_UNIT_TEST_VTD_UTIL_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "iommu/vtd/vtd_priv.h"
#include "vmm/util.h"

/* A fresh unit (calloc'd, vtd_init'ed) over @mem; @msi gets its interrupts. */
static inline struct vtd *vtd_test_new(const struct guest_mem *mem, bool scalable, unsigned int aw,
				       enum vtd_mode mode,
				       int (*msi)(void *ctx, uint64_t addr, uint32_t data))
{
	struct vtd_params p = { .scalable = scalable, .aw = aw, .mode = mode };
	struct vtd *u = calloc(1, sizeof(*u));

	cr_assert_not_null(u);
	cr_assert_eq(vtd_init(u, mem, &p, msi, NULL), 0);
	return u;
}

static inline void vtd_test_free(struct vtd *u)
{
	if (u) {
		vtd_uninit(u);
		free(u);
	}
}

/* An MMIO write of @size (4 or 8) bytes at register offset @off. */
static inline void vtd_test_wr(struct vtd *u, uint64_t off, uint64_t val, uint32_t size)
{
	uint8_t b[8];

	put_le64(b, val);
	vtd_mmio_write(u, off, b, size);
}

static inline uint64_t vtd_test_rd(struct vtd *u, uint64_t off, uint32_t size)
{
	uint8_t b[8] = { 0 };

	vtd_mmio_read(u, off, b, size);
	return size == 8 ? get_le64(b) : get_le32(b);
}

#endif
