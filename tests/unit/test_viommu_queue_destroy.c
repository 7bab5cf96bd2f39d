// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_queue_destroy() runs twice when a VT-d unit is torn down (vtd_destroy, then
 * vtd_uninit): it must be idempotent once the gather arrays of a host target were allocated,
 * which only happens with a host-backed device (found by the vtd-forward scenario: kite-test
 * aborted with a double free at exit).
 */
#include <criterion/criterion.h>

#include "iommu/viommu_queue.h"
#include "vmm/guest_mem.h"

static int encode_one(void *opaque, const struct viommu_inval *inv, void *entry)
{
	(void)opaque;
	(void)inv;
	*(uint8_t *)entry = 1;
	return 0;
}

Test(viommu_queue, destroy_twice_after_gather)
{
	static const struct viommu_queue_ops ops;
	struct guest_mem mem = { 0 };
	struct viommu_queue q;
	struct viommu_host_dev hd = {
		.sid = 8,
		.host = (struct host_iommu *)&mem,
		.dev_id = 1,
		.all_domains = true,
		.target = { .id = 6, .data_type = 1, .entry_len = 8, .encode = encode_one },
	};
	struct viommu_inval inv = { .scope = VIOMMU_INVAL_GLOBAL };

	cr_assert_eq(viommu_queue_init(&q, &mem, &ops, NULL, 4096), 0);
	cr_assert_eq(viommu_gather_add(&q.g, &hd, &inv), 0);
	cr_assert_eq(q.g.tg[0].n, 1);
	viommu_queue_destroy(&q);
	viommu_queue_destroy(&q);
	cr_assert_null(q.g.tg[0].entries);
	cr_assert_null(q.g.tg[0].desc_of);
}
