// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test-only mock backend's pure parts (iommu/mock_backend_encode.c, normally compiled only
 * into build/kite-test): how a guest invalidation becomes a mock IOTLB entry, and which part of
 * guest RAM lands in the mock's IOVA aperture.
 */
#define KITE_TEST_HOOKS 1
#include "iommu/mock_backend_encode.c"

#include <criterion/criterion.h>

static struct iommu_hwpt_invalidate_selftest enc(const struct viommu_inval *inv, int *ret)
{
	struct iommu_hwpt_invalidate_selftest e = { .flags = 0x55, .iotlb_id = 0x55 };

	*ret = mock_backend_encode(NULL, inv, &e);
	return e;
}

Test(mock_backend, global_clears_every_slot)
{
	struct viommu_inval inv = { .scope = VIOMMU_INVAL_GLOBAL, .did = 7 };
	int ret;
	struct iommu_hwpt_invalidate_selftest e = enc(&inv, &ret);

	cr_assert_eq(ret, 0);
	cr_assert_eq(e.flags, IOMMU_TEST_INVALIDATE_FLAG_ALL);
	cr_assert_eq(e.iotlb_id, 0, "6.12 checks iotlb_id <= 3 even with FLAG_ALL");
}

Test(mock_backend, domain_and_range_pick_the_did_slot)
{
	static const enum viommu_inval_scope scopes[] = { VIOMMU_INVAL_DOMAIN, VIOMMU_INVAL_RANGE };

	for (unsigned int s = 0; s < 2; s++)
		for (uint16_t did = 0; did < 4; did++) {
			struct viommu_inval inv = { .scope = scopes[s],
						    .did = did,
						    .addr = 0x1000,
						    .npages = 1,
						    .has_pasid = true,
						    .pasid = 0 };
			int ret;
			struct iommu_hwpt_invalidate_selftest e = enc(&inv, &ret);

			cr_assert_eq(ret, 0);
			cr_assert_eq(e.flags, 0);
			cr_assert_eq(e.iotlb_id, did);
		}
}

Test(mock_backend, large_did_is_left_for_the_kernel_to_refuse)
{
	struct viommu_inval inv = { .scope = VIOMMU_INVAL_RANGE, .did = 0xffff, .npages = 1 };
	int ret;
	struct iommu_hwpt_invalidate_selftest e = enc(&inv, &ret);

	cr_assert_eq(ret, 0);
	cr_assert_eq(e.iotlb_id, 0xffff);
}

Test(mock_backend, other_pasids_are_skipped)
{
	struct viommu_inval inv = {
		.scope = VIOMMU_INVAL_DOMAIN, .did = 1, .has_pasid = true, .pasid = 5
	};
	int ret;

	enc(&inv, &ret);
	cr_assert_eq(ret, 1);
}

Test(mock_backend, bad_scope_is_an_error)
{
	struct viommu_inval inv = { .scope = (enum viommu_inval_scope)0 };
	int ret;

	enc(&inv, &ret);
	cr_assert_eq(ret, -EINVAL);
}

/* Host addresses are only carried along, never dereferenced. */
#define RAM_LO ((uint8_t *)(uintptr_t)0x7f0000000000ull)
#define RAM_HI ((uint8_t *)(uintptr_t)0x7f8000000000ull)

static struct guest_mem two_regions(void)
{
	/* 256 MiB below 3 GiB and 1 GiB above 4 GiB, as kite splits a 1.25 GiB guest at a hole. */
	struct guest_mem m = { .nregions = 2, .ram_size = (256ull << 20) + (1ull << 30) };

	m.regions[0] = (struct guest_mem_region){ .gpa = 0, .size = 256ull << 20, .hva = RAM_LO };
	m.regions[1] = (struct guest_mem_region){ .gpa = 4ull << 30,
						  .size = 1ull << 30,
						  .hva = RAM_HI };
	return m;
}

Test(mock_backend, clip_to_mock_aperture)
{
	struct iommu_iova_range r = { .start = MOCK_APERTURE_START, .last = MOCK_APERTURE_LAST };
	struct guest_mem m = two_regions(), out;

	cr_assert_eq(mock_backend_clip_ram(&m, &r, 1, 0, &out), 1);
	cr_assert_eq(out.nregions, 1);
	cr_assert_eq(out.regions[0].gpa, 16ull << 20);
	cr_assert_eq(out.regions[0].size, 240ull << 20);
	cr_assert_eq((uintptr_t)out.regions[0].hva, (uintptr_t)RAM_LO + (16ull << 20),
		     "hva follows the GPA offset");
	cr_assert_eq(out.ram_size, 240ull << 20);
}

Test(mock_backend, clip_honours_alignment_and_drops_slivers)
{
	/* A range starting mid-page and one smaller than the alignment. */
	struct iommu_iova_range r[2] = { { .start = 0x1000800, .last = 0x2ffffff },
					 { .start = 0x3000000, .last = 0x3000fff } };
	struct guest_mem m = two_regions(), out;

	cr_assert_eq(mock_backend_clip_ram(&m, r, 2, 0x10000, &out), 1);
	cr_assert_eq(out.regions[0].gpa, 0x1010000);
	cr_assert_eq(out.regions[0].gpa + out.regions[0].size, 0x3000000);
}

Test(mock_backend, clip_everything_and_nothing)
{
	struct iommu_iova_range all = { .start = 0, .last = UINT64_MAX };
	struct iommu_iova_range none = { .start = 1ull << 40, .last = (1ull << 41) - 1 };
	struct guest_mem m = two_regions(), out;

	cr_assert_eq(mock_backend_clip_ram(&m, &all, 1, 0, &out), 2);
	cr_assert_eq(out.ram_size, m.ram_size);
	cr_assert_eq(mock_backend_clip_ram(&m, &none, 1, 0, &out), 0);
	cr_assert_eq(out.nregions, 0);
}

Test(mock_backend, clip_too_many_pieces)
{
	struct iommu_iova_range r[5];
	struct guest_mem m = two_regions(), out;

	for (unsigned int i = 0; i < 5; i++)
		r[i] = (struct iommu_iova_range){ .start = (uint64_t)i << 24,
						  .last = ((uint64_t)i << 24) + 0xfffff };
	cr_assert_eq(mock_backend_clip_ram(&m, r, 5, 0, &out), -E2BIG);
}
