// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pure half of the test-only mock backend (iommu/mock_backend.h): descriptor-to-entry
 * encoding and the clipping of guest RAM to the mock's IOVA aperture. Separate from the
 * set-up so tests/unit/test_mock_backend.c can compile it with KITE_TEST_HOOKS.
 */
#ifdef KITE_TEST_HOOKS

#include "iommu/mock_backend.h"

#include <errno.h>
#include <string.h>

int mock_backend_encode(void *opaque, const struct viommu_inval *inv, void *entry)
{
	struct iommu_hwpt_invalidate_selftest *e = entry;

	(void)opaque;
	if (inv->has_pasid && inv->pasid != 0)
		return 1;
	switch (inv->scope) {
	case VIOMMU_INVAL_GLOBAL:
		/* iotlb_id must still be <= 3: 6.12 checks it even with FLAG_ALL. */
		e->flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
		e->iotlb_id = 0;
		return 0;
	case VIOMMU_INVAL_DOMAIN:
	case VIOMMU_INVAL_RANGE:
		/* Unclamped on purpose: DID >= 4 is the kernel's to refuse. */
		e->flags = 0;
		e->iotlb_id = inv->did;
		return 0;
	}
	return -EINVAL;
}

int mock_backend_clip_ram(const struct guest_mem *ram, const struct iommu_iova_range *r,
			  uint32_t nr, uint64_t align, struct guest_mem *out)
{
	unsigned int n = 0;

	if (!align)
		align = 4096;
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < ram->nregions; i++) {
		const struct guest_mem_region *g = &ram->regions[i];

		for (uint32_t k = 0; k < nr; k++) {
			uint64_t lo = g->gpa > r[k].start ? g->gpa : r[k].start;
			uint64_t g_last = g->gpa + g->size - 1;
			uint64_t hi = g_last < r[k].last ? g_last : r[k].last; /* inclusive */

			if (!g->size || lo > hi)
				continue;
			lo = (lo + align - 1) & ~(align - 1);
			if (lo > hi || hi - lo + 1 < align)
				continue;
			hi = lo + ((hi - lo + 1) & ~(align - 1)) - 1;
			if (n == GUEST_MEM_MAX_REGIONS)
				return -E2BIG;
			out->regions[n] = (struct guest_mem_region){
				.gpa = lo, .size = hi - lo + 1, .hva = g->hva + (lo - g->gpa)
			};
			out->ram_size += hi - lo + 1;
			n++;
		}
	}
	out->nregions = n;
	return (int)n;
}

#endif
