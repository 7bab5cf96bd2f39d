/* SPDX-License-Identifier: GPL-2.0-only */
/* Answers fake-kernel tests share for the iommufd ioctls they do not care about. */
#ifndef KITE_TESTS_UNIT_TEST_FAKE_IOMMUFD_H
#define KITE_TESTS_UNIT_TEST_FAKE_IOMMUFD_H

#include <stdint.h>

#include "iommu/uapi.h"

/* IOMMU_IOAS_IOVA_RANGES: one range, [0, 2^48), 4 KiB alignment. Returns 0. */
static inline int test_fake_iova_ranges(void *arg)
{
	struct iommu_ioas_iova_ranges *c = arg;
	struct iommu_iova_range *out = (void *)(uintptr_t)c->allowed_iovas;

	if (c->num_iovas >= 1) {
		out[0].start = 0;
		out[0].last = (1ull << 48) - 1;
	}
	c->num_iovas = 1;
	c->out_iova_alignment = 4096;
	return 0;
}

#endif
