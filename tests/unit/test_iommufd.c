// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd backend against a fake kernel: the error paths and batching rules the real mock
 * cannot provoke (EFAULT, ENOMEM, short counts, the entry-count cap, missing vIOMMU), plus the
 * exact arguments each ioctl receives.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "vmm/guest_mem.h"

#define FAKE_FD 77
#define MAX_LOG 16

struct fake_kernel {
	unsigned int calls[256]; /* by ioctl nr */
	uint32_t size_seen[256]; /* first u32 (size / argsz) of the last call, by nr */
	int fail[256];		 /* forced -errno by nr, 0 = behave */
	int last_fd;

	/* IOAS */
	struct iommu_iova_range ranges[16];
	uint32_t nranges;
	uint64_t alignment;
	struct iommu_ioas_map maps[MAX_LOG];
	unsigned int nmaps;
	int fail_map_at; /* 1-based map call that fails with -ENOMEM, 0 = none */
	struct iommu_ioas_unmap unmaps[MAX_LOG];
	unsigned int nunmaps;

	/* HWPT_INVALIDATE */
	const uint8_t *inval_base;
	uint32_t inval_fail_index; /* global entry index that fails */
	int inval_errno;	   /* 0 = every entry succeeds */
	bool inval_no_writeback;   /* fail without writing entry_num back */
	bool inval_short_success;  /* succeed but report one entry fewer */
	struct iommu_hwpt_invalidate inval_log[MAX_LOG];
	unsigned int ninval;

	/* misc */
	struct iommu_hwpt_alloc last_hwpt;
	uint32_t hw_type;
	uint8_t hw_payload[64];
	uint32_t hw_len;
	struct iommu_veventq_alloc last_veventq;
};

static struct fake_kernel fk;
static struct host_iommu h;

static int fake_invalidate(struct iommu_hwpt_invalidate *cmd)
{
	uint32_t first;

	if (fk.ninval < MAX_LOG)
		fk.inval_log[fk.ninval] = *cmd;
	fk.ninval++;
	first = fk.inval_base && cmd->entry_len
			? (uint32_t)(((const uint8_t *)(uintptr_t)cmd->data_uptr - fk.inval_base) /
				     cmd->entry_len)
			: 0;
	if (fk.inval_errno && fk.inval_fail_index >= first &&
	    fk.inval_fail_index < first + cmd->entry_num) {
		if (!fk.inval_no_writeback)
			cmd->entry_num = fk.inval_fail_index - first;
		return -fk.inval_errno;
	}
	if (fk.inval_short_success && cmd->entry_num)
		cmd->entry_num--;
	return 0;
}

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct fake_kernel *k = ctx;
	unsigned int nr = _IOC_NR(request);

	k->calls[nr]++;
	k->last_fd = fd;
	k->size_seen[nr] = *(uint32_t *)arg;
	if (k->fail[nr])
		return k->fail[nr];

	switch (request) {
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = 3;
		return 0;
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges *c = arg;
		struct iommu_iova_range *out = (void *)(uintptr_t)c->allowed_iovas;
		uint32_t max = c->num_iovas;

		for (uint32_t i = 0; i < k->nranges && i < max; i++)
			out[i] = k->ranges[i];
		c->num_iovas = k->nranges;
		c->out_iova_alignment = k->alignment;
		return k->nranges > max ? -EMSGSIZE : 0;
	}
	case IOMMU_IOAS_MAP:
		if (k->nmaps < MAX_LOG)
			k->maps[k->nmaps] = *(struct iommu_ioas_map *)arg;
		k->nmaps++;
		return k->fail_map_at && k->nmaps == (unsigned int)k->fail_map_at ? -ENOMEM : 0;
	case IOMMU_IOAS_UNMAP:
		if (k->nunmaps < MAX_LOG)
			k->unmaps[k->nunmaps] = *(struct iommu_ioas_unmap *)arg;
		k->nunmaps++;
		return 0;
	case IOMMU_HWPT_ALLOC:
		k->last_hwpt = *(struct iommu_hwpt_alloc *)arg;
		((struct iommu_hwpt_alloc *)arg)->out_hwpt_id = 9;
		return 0;
	case IOMMU_HWPT_INVALIDATE:
		return fake_invalidate(arg);
	case IOMMU_GET_HW_INFO: {
		struct iommu_hw_info *c = arg;
		uint32_t n = c->data_len < k->hw_len ? c->data_len : k->hw_len;

		memcpy((void *)(uintptr_t)c->data_uptr, k->hw_payload, n);
		c->data_len = k->hw_len;
		c->out_data_type = k->hw_type;
		c->out_capabilities = IOMMU_HW_CAP_DIRTY_TRACKING;
		return 0;
	}
	case IOMMU_VIOMMU_ALLOC:
		((struct iommu_viommu_alloc *)arg)->out_viommu_id = 11;
		return 0;
	case IOMMU_VDEVICE_ALLOC:
		((struct iommu_vdevice_alloc *)arg)->out_vdevice_id = 12;
		return 0;
	case IOMMU_VEVENTQ_ALLOC:
		k->last_veventq = *(struct iommu_veventq_alloc *)arg;
		((struct iommu_veventq_alloc *)arg)->out_veventq_id = 13;
		((struct iommu_veventq_alloc *)arg)->out_veventq_fd = 44;
		return 0;
	case VFIO_DEVICE_BIND_IOMMUFD:
		((struct vfio_device_bind_iommufd *)arg)->out_devid = 5;
		return 0;
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		((struct vfio_device_attach_iommufd_pt *)arg)->pt_id += 100;
		return 0;
	default:
		return 0;
	}
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.nranges = 1;
	fk.ranges[0] = (struct iommu_iova_range){ 0, (1ull << 48) - 1 };
	host_iommu_init_fd(&h, FAKE_FD, false);
	host_iommu_set_ioctl(&h, fake_ioctl, &fk);
}

static void teardown(void)
{
	host_iommu_close(&h);
}

#define NR(req) _IOC_NR(req)

/* ---- invalidation ---- */

static struct iommu_hwpt_invalidate_selftest *make_entries(uint32_t n)
{
	struct iommu_hwpt_invalidate_selftest *e = calloc(n ? n : 1, sizeof(*e));

	cr_assert_not_null(e);
	fk.inval_base = (const uint8_t *)e;
	return e;
}

TestSuite(iommufd_invalidate, .init = setup, .fini = teardown);

Test(iommufd_invalidate, one_call_for_each_size_up_to_cap)
{
	static const uint32_t sizes[] = { 1, 2, 64, 512, 4096 };

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct iommu_hwpt_invalidate_selftest *e = make_entries(sizes[i]);
		uint32_t handled = 1234;
		unsigned int before = fk.ninval;

		cr_assert_eq(host_iommu_invalidate(&h, 7, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, e,
						   sizes[i], sizeof(*e), &handled),
			     0);
		cr_assert_eq(handled, sizes[i]);
		cr_assert_eq(fk.ninval - before, 1, "n=%u took %u calls", sizes[i],
			     fk.ninval - before);
		free(e);
	}
	cr_assert_eq(fk.inval_log[3].entry_num, 512);
	cr_assert_eq(fk.inval_log[3].entry_len, 8);
	cr_assert_eq(fk.inval_log[3].hwpt_id, 7);
	cr_assert_eq(fk.inval_log[3].data_type, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST);
	cr_assert_eq(fk.inval_log[3].size, sizeof(struct iommu_hwpt_invalidate));
	cr_assert_eq(fk.inval_log[3].__reserved, 0);
}

Test(iommufd_invalidate, exactly_cap_is_one_call)
{
	uint32_t cap = IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX, handled = 0;
	struct iommu_hwpt_invalidate_selftest *e = make_entries(cap);

	cr_assert_eq(h.inval_entry_max, cap);
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, cap, sizeof(*e), &handled), 0);
	cr_assert_eq(handled, cap);
	cr_assert_eq(fk.ninval, 1);
	free(e);
}

Test(iommufd_invalidate, above_real_cap_splits_in_two)
{
	uint32_t cap = IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX, handled = 0;
	struct iommu_hwpt_invalidate_selftest *e = make_entries(cap + 3);

	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, cap + 3, sizeof(*e), &handled), 0);
	cr_assert_eq(handled, cap + 3);
	cr_assert_eq(fk.ninval, 2);
	cr_assert_eq(fk.inval_log[0].entry_num, cap);
	cr_assert_eq(fk.inval_log[1].entry_num, 3);
	cr_assert_eq(fk.inval_log[1].data_uptr, (uintptr_t)(e + cap));
	free(e);
}

Test(iommufd_invalidate, split_uses_exactly_needed_calls)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(10);
	uint32_t handled = 0;

	h.inval_entry_max = 4;
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 10, sizeof(*e), &handled), 0);
	cr_assert_eq(handled, 10);
	cr_assert_eq(fk.ninval, 3);
	cr_assert_eq(fk.inval_log[0].entry_num, 4);
	cr_assert_eq(fk.inval_log[1].entry_num, 4);
	cr_assert_eq(fk.inval_log[2].entry_num, 2);
	cr_assert_eq(fk.inval_log[1].data_uptr, (uintptr_t)(e + 4));
	cr_assert_eq(fk.inval_log[2].data_uptr, (uintptr_t)(e + 8));
	free(e);
}

Test(iommufd_invalidate, split_stops_at_first_failure_with_cumulative_count)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(12);
	uint32_t handled = 0;

	h.inval_entry_max = 4;
	fk.inval_errno = EOPNOTSUPP;
	fk.inval_fail_index = 6; /* second chunk, its entry 2 */
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 12, sizeof(*e), &handled),
		     -EOPNOTSUPP);
	cr_assert_eq(handled, 6);
	cr_assert_eq(fk.ninval, 2, "no call after the failing chunk");
	free(e);
}

Test(iommufd_invalidate, partial_count_with_errno)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(5);
	uint32_t handled = 99;

	fk.inval_errno = EINVAL;
	fk.inval_fail_index = 3;
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 5, sizeof(*e), &handled), -EINVAL);
	cr_assert_eq(handled, 3);
	cr_assert_eq(fk.ninval, 1);
	free(e);
}

Test(iommufd_invalidate, efault_reports_kernel_count)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(4);
	uint32_t handled = 99;

	fk.inval_errno = EFAULT;
	fk.inval_fail_index = 0;
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 4, sizeof(*e), &handled), -EFAULT);
	cr_assert_eq(handled, 0);
	free(e);
}

Test(iommufd_invalidate, failure_without_writeback_claims_nothing)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(4);
	uint32_t handled = 99;

	fk.inval_errno = EFAULT;
	fk.inval_fail_index = 2;
	fk.inval_no_writeback = true; /* entry_num still reads 4 */
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 4, sizeof(*e), &handled), -EFAULT);
	cr_assert_eq(handled, 0);
	free(e);
}

Test(iommufd_invalidate, enomem_passed_through)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(2);
	uint32_t handled = 99;

	fk.fail[NR(IOMMU_HWPT_INVALIDATE)] = -ENOMEM;
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 2, sizeof(*e), &handled), -ENOMEM);
	cr_assert_eq(handled, 0);
	free(e);
}

Test(iommufd_invalidate, zero_entries_is_passed_to_kernel)
{
	uint32_t handled = 99;

	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, NULL, 0, 8, &handled), 0);
	cr_assert_eq(handled, 0);
	cr_assert_eq(fk.ninval, 1);
	cr_assert_eq(fk.inval_log[0].entry_num, 0);
}

Test(iommufd_invalidate, bad_arrays_refused_without_ioctl)
{
	struct iommu_hwpt_invalidate_selftest e[2] = { 0 };
	uint32_t handled = 99;

	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 2, 0, &handled), -EINVAL);
	cr_assert_eq(handled, 0);
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, NULL, 2, 8, &handled), -EINVAL);
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 1, h.page_size + 1, &handled),
		     -EINVAL);
	cr_assert_eq(fk.ninval, 0);
}

Test(iommufd_invalidate, per_type_entry_len_left_to_kernel)
{
	uint8_t buf[64] = { 0 };
	uint32_t handled = 0;

	/* 1 and 9 bytes are wrong for the selftest type, but that is the kernel's call. */
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, buf, 1, 1, &handled), 0);
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, buf, 1, 9, &handled), 0);
	cr_assert_eq(fk.ninval, 2);
	cr_assert_eq(fk.inval_log[1].entry_len, 9);
}

Test(iommufd_invalidate, success_with_short_count_is_an_error)
{
	struct iommu_hwpt_invalidate_selftest *e = make_entries(3);
	uint32_t handled = 99;

	/* A kernel breaking the "success means every entry" rule. */
	fk.inval_short_success = true;
	cr_assert_eq(host_iommu_invalidate(&h, 7, 0xdeadbeef, e, 3, sizeof(*e), &handled), -EIO);
	cr_assert_eq(handled, 2);
	free(e);
}

/* ---- structure sizes the kernel reads first ---- */

TestSuite(iommufd_abi, .init = setup, .fini = teardown);

Test(iommufd_abi, size_fields_match_struct_sizes)
{
	struct iommu_hwpt_vtd_s1 s1 = { 0 };
	struct iommu_hwpt_arm_smmuv3 ste = { 0 };
	struct host_iommu_hw_info info;
	uint64_t iova = 1ull << 24, unmapped;
	uint32_t id, handled, fid;
	int ffd;
	uint8_t e[8] = { 0 };

	cr_assert_eq(host_iommu_ioas_alloc(&h, &id), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_IOAS_ALLOC)], 12);
	cr_assert_eq(host_iommu_ioas_map(&h, 3, e, 4096, &iova,
					 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE),
		     0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_IOAS_MAP)], 40);
	cr_assert_eq(host_iommu_ioas_unmap(&h, 3, iova, 4096, &unmapped), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_IOAS_UNMAP)], 24);
	cr_assert_eq(host_iommu_hwpt_alloc_paging(&h, 5, 3, IOMMU_HWPT_ALLOC_NEST_PARENT, &id), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_HWPT_ALLOC)], 48);
	cr_assert_eq(fk.last_hwpt.flags, IOMMU_HWPT_ALLOC_NEST_PARENT);
	cr_assert_eq(fk.last_hwpt.data_type, IOMMU_HWPT_DATA_NONE);
	cr_assert_eq(host_iommu_hwpt_alloc_vtd_s1(&h, 5, 9, &s1, &id), 0);
	cr_assert_eq(fk.last_hwpt.data_type, IOMMU_HWPT_DATA_VTD_S1);
	cr_assert_eq(fk.last_hwpt.data_len, 24);
	cr_assert_eq(fk.last_hwpt.data_uptr, (uintptr_t)&s1);
	cr_assert_eq(host_iommu_hwpt_alloc_smmuv3(&h, 5, 9, &ste, &id), 0);
	cr_assert_eq(fk.last_hwpt.data_type, IOMMU_HWPT_DATA_ARM_SMMUV3);
	cr_assert_eq(fk.last_hwpt.data_len, 16);
	cr_assert_eq(host_iommu_hwpt_alloc_selftest(&h, 5, 9, 0xbadbeef, &id), 0);
	cr_assert_eq(fk.last_hwpt.data_type, IOMMU_HWPT_DATA_SELFTEST);
	cr_assert_eq(fk.last_hwpt.data_len, 4);
	cr_assert_eq(fk.last_hwpt.flags, 0);
	cr_assert_eq(host_iommu_invalidate(&h, 9, 0, e, 1, 8, &handled), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_HWPT_INVALIDATE)], 32);
	cr_assert_eq(host_iommu_get_hw_info(&h, 5, &info), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_GET_HW_INFO)], 40);
	cr_assert_eq(host_iommu_fault_alloc(&h, &fid, &ffd), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_FAULT_QUEUE_ALLOC)], 16);
	cr_assert_eq(host_iommu_viommu_alloc(&h, 5, 9, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_VIOMMU_ALLOC)], 40);
	cr_assert_eq(host_iommu_vdevice_alloc(&h, 11, 5, 0x99, &id), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_VDEVICE_ALLOC)], 24);
	cr_assert_eq(host_iommu_destroy(&h, 9), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_DESTROY)], 8);
	cr_assert_eq(host_iommu_vfio_bind(&h, 40, &id), 0);
	cr_assert_eq(fk.size_seen[NR(VFIO_DEVICE_BIND_IOMMUFD)], 16);
	cr_assert_eq(host_iommu_vfio_attach(&h, 40, 9, NULL), 0);
	cr_assert_eq(fk.size_seen[NR(VFIO_DEVICE_ATTACH_IOMMUFD_PT)], 12);
	cr_assert_eq(host_iommu_vfio_detach(&h, 40), 0);
	cr_assert_eq(fk.size_seen[NR(VFIO_DEVICE_DETACH_IOMMUFD_PT)], 8);
}

Test(iommufd_abi, nested_alloc_with_fault_queue)
{
	struct iommu_hwpt_selftest d = { .iotlb = 1 };
	uint32_t id;

	cr_assert_eq(host_iommu_hwpt_alloc_nested(&h, 5, 9, IOMMU_HWPT_DATA_SELFTEST, &d, sizeof(d),
						  21, &id),
		     0);
	cr_assert_eq(fk.last_hwpt.flags, IOMMU_HWPT_FAULT_ID_VALID);
	cr_assert_eq(fk.last_hwpt.fault_id, 21);
	cr_assert_eq(id, 9);
}

Test(iommufd_abi, enomem_and_efault_leave_outputs_alone)
{
	uint32_t id = 0x5555;

	fk.fail[NR(IOMMU_IOAS_ALLOC)] = -ENOMEM;
	cr_assert_eq(host_iommu_ioas_alloc(&h, &id), -ENOMEM);
	cr_assert_eq(id, 0x5555);
	fk.fail[NR(IOMMU_HWPT_ALLOC)] = -EFAULT;
	cr_assert_eq(host_iommu_hwpt_alloc_selftest(&h, 5, 9, 1, &id), -EFAULT);
	cr_assert_eq(id, 0x5555);
	fk.fail[NR(VFIO_DEVICE_BIND_IOMMUFD)] = -EINVAL;
	cr_assert_eq(host_iommu_vfio_bind(&h, 40, &id), -EINVAL);
	cr_assert_eq(id, 0x5555);
}

/* ---- hw info ---- */

TestSuite(iommufd_hw_info, .init = setup, .fini = teardown);

Test(iommufd_hw_info, selftest_payload_is_typed)
{
	struct iommu_test_hw_info p = { .flags = 0, .test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL };
	struct host_iommu_hw_info info;

	fk.hw_type = IOMMU_HW_INFO_TYPE_SELFTEST;
	memcpy(fk.hw_payload, &p, sizeof(p));
	fk.hw_len = sizeof(p);
	cr_assert_eq(host_iommu_get_hw_info(&h, 5, &info), 0);
	cr_assert_eq(info.type, IOMMU_HW_INFO_TYPE_SELFTEST);
	cr_assert_eq(info.data_len, 8);
	cr_assert_eq(info.selftest.test_reg, 0xdeadbeef);
	cr_assert_eq(info.capabilities, IOMMU_HW_CAP_DIRTY_TRACKING);
}

Test(iommufd_hw_info, vtd_registers)
{
	struct iommu_hw_info_vtd p = { .flags = 1,
				       .cap_reg = 0x00d2008c22260206ull,
				       .ecap_reg = 1ull << 26 };
	struct host_iommu_hw_info info;

	fk.hw_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	memcpy(fk.hw_payload, &p, sizeof(p));
	fk.hw_len = sizeof(p);
	cr_assert_eq(host_iommu_get_hw_info(&h, 5, &info), 0);
	cr_assert_eq(info.type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	cr_assert_eq(info.vtd.cap_reg, p.cap_reg);
	cr_assert(info.vtd.ecap_reg & (1ull << 26));
	cr_assert_eq(info.vtd.flags, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
}

Test(iommufd_hw_info, efault)
{
	struct host_iommu_hw_info info;

	fk.fail[NR(IOMMU_GET_HW_INFO)] = -EFAULT;
	cr_assert_eq(host_iommu_get_hw_info(&h, 5, &info), -EFAULT);
}

/* ---- vIOMMU probing ---- */

TestSuite(iommufd_viommu, .init = setup, .fini = teardown);

Test(iommufd_viommu, enotty_means_absent)
{
	uint32_t id = 0;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -ENOTTY;
	fk.fail[NR(IOMMU_VDEVICE_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(host_iommu_viommu_alloc(&h, 5, 9, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id), -ENOTTY);
	cr_assert_eq(host_iommu_vdevice_alloc(&h, 11, 5, 0x99, &id), -ENOTTY);
	/* Once known absent, no further ioctls are spent on it. */
	cr_assert_eq(fk.calls[NR(IOMMU_VIOMMU_ALLOC)], 1);
	cr_assert_eq(fk.calls[NR(IOMMU_VDEVICE_ALLOC)], 0);
}

Test(iommufd_viommu, alloc_without_probe_detects_absence)
{
	uint32_t id = 0;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_viommu_alloc(&h, 5, 9, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id), -ENOTTY);
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_ABSENT);
}

Test(iommufd_viommu, eopnotsupp_means_present)
{
	uint32_t id = 0;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -EOPNOTSUPP;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_PRESENT);
	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = 0;
	cr_assert_eq(host_iommu_viommu_alloc(&h, 5, 9, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id), 0);
	cr_assert_eq(id, 11);
	cr_assert_eq(host_iommu_vdevice_alloc(&h, id, 5, 0x99, &id), 0);
	cr_assert_eq(id, 12);
}

/* ---- guest RAM mapping ---- */

TestSuite(iommufd_map, .init = setup, .fini = teardown);

static void two_regions(struct guest_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->nregions = 2;
	m->regions[0] = (struct guest_mem_region){ .gpa = 0,
						   .size = 3ull << 30,
						   .hva = (uint8_t *)(uintptr_t)0x7f0000000000ull };
	m->regions[1] = (struct guest_mem_region){ .gpa = 4ull << 30,
						   .size = 1ull << 30,
						   .hva = (uint8_t *)(uintptr_t)0x7f4000000000ull };
	m->ram_size = 4ull << 30;
}

Test(iommufd_map, two_regions_map_at_gpa)
{
	const uint32_t want = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_WRITEABLE;
	struct guest_mem m;

	two_regions(&m);
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), 0);
	cr_assert_eq(fk.calls[NR(IOMMU_IOAS_IOVA_RANGES)], 1);
	cr_assert_eq(fk.nmaps, 2);
	for (unsigned int i = 0; i < 2; i++) {
		cr_assert_eq(fk.maps[i].size, 40);
		cr_assert_eq(fk.maps[i].flags, want);
		cr_assert_eq(fk.maps[i].ioas_id, 3);
		cr_assert_eq(fk.maps[i].__reserved, 0);
		cr_assert_eq(fk.maps[i].iova, m.regions[i].gpa);
		cr_assert_eq(fk.maps[i].length, m.regions[i].size);
		cr_assert_eq(fk.maps[i].user_va, (uintptr_t)m.regions[i].hva);
	}
	cr_assert_eq(host_iommu_unmap_guest_mem(&h, 3, &m), 0);
	cr_assert_eq(fk.nunmaps, 2);
	cr_assert_eq(fk.unmaps[1].iova, 4ull << 30);
	cr_assert_eq(fk.unmaps[1].length, 1ull << 30);
}

Test(iommufd_map, region_outside_ranges_refused)
{
	struct guest_mem m;

	two_regions(&m);
	/* The mock's aperture: RAM at GPA 0 cannot sit at IOVA 0. */
	fk.ranges[0] = (struct iommu_iova_range){ MOCK_APERTURE_START, MOCK_APERTURE_LAST };
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -ERANGE);
	cr_assert_eq(fk.nmaps, 0);
}

Test(iommufd_map, region_straddling_a_hole_refused)
{
	struct guest_mem m;

	two_regions(&m);
	fk.nranges = 2;
	fk.ranges[0] = (struct iommu_iova_range){ 0, 0xfedfffffull };
	fk.ranges[1] = (struct iommu_iova_range){ 0xfef00000ull, (1ull << 48) - 1 };
	m.regions[0].size = 4ull << 30; /* crosses the hole */
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -ERANGE);
	cr_assert_eq(fk.nmaps, 0);
}

Test(iommufd_map, many_ranges_emsgsize_retry)
{
	struct guest_mem m;

	two_regions(&m);
	fk.nranges = 12; /* more than the first buffer holds */
	for (unsigned int i = 0; i < 11; i++)
		fk.ranges[i] = (struct iommu_iova_range){ (uint64_t)i << 20,
							  ((uint64_t)i << 20) + 1 };
	fk.ranges[11] = (struct iommu_iova_range){ 0, (1ull << 48) - 1 };
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), 0);
	cr_assert_eq(fk.calls[NR(IOMMU_IOAS_IOVA_RANGES)], 2);
	cr_assert_eq(fk.nmaps, 2);
}

Test(iommufd_map, misaligned_region_refused)
{
	struct guest_mem m;

	two_regions(&m);
	fk.alignment = 1ull << 21;
	m.regions[1].size = (1ull << 30) + 4096;
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -EINVAL);
	cr_assert_eq(fk.nmaps, 0);
}

Test(iommufd_map, failure_unwinds_earlier_regions)
{
	struct guest_mem m;

	two_regions(&m);
	fk.fail_map_at = 2;
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -ENOMEM);
	cr_assert_eq(fk.nunmaps, 1);
	cr_assert_eq(fk.unmaps[0].iova, 0);
	cr_assert_eq(fk.unmaps[0].length, 3ull << 30);
}

Test(iommufd_map, ranges_query_failure)
{
	struct guest_mem m;

	two_regions(&m);
	fk.fail[NR(IOMMU_IOAS_IOVA_RANGES)] = -ENOENT;
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -ENOENT);
	cr_assert_eq(fk.nmaps, 0);
}

/* ---- VFIO cdev ---- */

TestSuite(iommufd_vfio, .init = setup, .fini = teardown);

Test(iommufd_vfio, bind_attach_replace_detach_use_device_fd)
{
	uint32_t dev = 0, hwpt = 0;

	cr_assert_eq(host_iommu_vfio_bind(&h, 40, &dev), 0);
	cr_assert_eq(fk.last_fd, 40);
	cr_assert_eq(dev, 5);
	cr_assert_eq(host_iommu_vfio_attach(&h, 40, 3, &hwpt), 0);
	cr_assert_eq(hwpt, 103, "kernel-reported HWPT is returned");
	cr_assert_eq(host_iommu_vfio_attach(&h, 40, 9, &hwpt), 0);
	cr_assert_eq(fk.calls[NR(VFIO_DEVICE_ATTACH_IOMMUFD_PT)], 2);
	cr_assert_eq(host_iommu_vfio_detach(&h, 40), 0);
	cr_assert_eq(fk.last_fd, 40);
	cr_assert_eq(host_iommu_ioas_alloc(&h, &hwpt), 0);
	cr_assert_eq(fk.last_fd, FAKE_FD);
}

Test(iommufd_map, corrupt_region_count_refused)
{
	struct guest_mem m;

	two_regions(&m);
	m.nregions = GUEST_MEM_MAX_REGIONS + 1;
	cr_assert_eq(host_iommu_map_guest_mem(&h, 3, &m), -EINVAL);
	cr_assert_eq(fk.calls[NR(IOMMU_IOAS_IOVA_RANGES)], 0);
	cr_assert_eq(fk.nmaps, 0);
}

/* ---- vEVENTQ ---- */

TestSuite(iommufd_veventq, .init = setup, .fini = teardown);

Test(iommufd_veventq, alloc_arguments_and_outputs)
{
	uint32_t id = 0;
	int fd = -1;

	cr_assert_eq(host_iommu_veventq_alloc(&h, 11, IOMMU_VEVENTQ_TYPE_SELFTEST, 8, &id, &fd), 0);
	cr_assert_eq(fk.size_seen[NR(IOMMU_VEVENTQ_ALLOC)], 32);
	cr_assert_eq(fk.last_veventq.viommu_id, 11);
	cr_assert_eq(fk.last_veventq.type, IOMMU_VEVENTQ_TYPE_SELFTEST);
	cr_assert_eq(fk.last_veventq.veventq_depth, 8);
	cr_assert_eq(fk.last_veventq.flags, 0);
	cr_assert_eq(fk.last_veventq.__reserved, 0);
	cr_assert_eq(id, 13);
	cr_assert_eq(fd, 44);
}

Test(iommufd_veventq, enotty_and_errors_leave_outputs_alone)
{
	uint32_t id = 0x5555;
	int fd = -7;

	fk.fail[NR(IOMMU_VEVENTQ_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_veventq_alloc(&h, 11, 1, 8, &id, &fd), -ENOTTY);
	/* A 6.13/6.14 kernel has vIOMMUs but no event queues: the vIOMMU state is kept. */
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_UNKNOWN);
	cr_assert_eq(h.veventq, HOST_IOMMU_FEATURE_ABSENT);
	/* Known absent: no second ioctl. */
	cr_assert_eq(host_iommu_veventq_alloc(&h, 11, 1, 8, &id, &fd), -ENOTTY);
	cr_assert_eq(fk.calls[NR(IOMMU_VEVENTQ_ALLOC)], 1);
	h.veventq = HOST_IOMMU_FEATURE_UNKNOWN;
	fk.fail[NR(IOMMU_VEVENTQ_ALLOC)] = -EEXIST;
	cr_assert_eq(host_iommu_veventq_alloc(&h, 11, 1, 8, &id, &fd), -EEXIST);
	cr_assert_eq(id, 0x5555);
	cr_assert_eq(fd, -7);
}

Test(iommufd_veventq, no_ioctl_once_viommu_known_absent)
{
	uint32_t id;
	int fd;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(host_iommu_veventq_alloc(&h, 11, 1, 8, &id, &fd), -ENOTTY);
	cr_assert_eq(fk.calls[NR(IOMMU_VEVENTQ_ALLOC)], 0);
}

/* Appends one record (header + payload) to @buf at @off; returns the new offset. */
static size_t put_rec(uint8_t *buf, size_t off, uint32_t flags, uint32_t seq, uint32_t virt_id,
		      bool payload)
{
	struct iommufd_vevent_header hdr = { .flags = flags, .sequence = seq };
	struct iommu_viommu_event_selftest ev = { .virt_id = virt_id };

	memcpy(buf + off, &hdr, sizeof(hdr));
	off += sizeof(hdr);
	if (payload) {
		memcpy(buf + off, &ev, sizeof(ev));
		off += sizeof(ev);
	}
	return off;
}

Test(iommufd_veventq, parse_consecutive_records)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	struct iommu_viommu_event_selftest p;
	uint8_t buf[64] = { 0 };
	size_t len = 0, off = 0;
	int n;

	len = put_rec(buf, len, 0, 0, 0x99, true);
	len = put_rec(buf, len, 0, 1, 0x98, true);
	n = host_iommu_vevent_parse(&st, buf, len, sizeof(p), &ev);
	cr_assert_eq(n, 12);
	cr_assert_eq(ev.sequence, 0);
	cr_assert_not_null(ev.data);
	memcpy(&p, ev.data, sizeof(p));
	cr_assert_eq(p.virt_id, 0x99);
	off += (size_t)n;
	n = host_iommu_vevent_parse(&st, buf + off, len - off, sizeof(p), &ev);
	cr_assert_eq(n, 12);
	memcpy(&p, ev.data, sizeof(p));
	cr_assert_eq(p.virt_id, 0x98);
	cr_assert_eq(ev.gap, 0);
	cr_assert_eq(st.lost, 0);
	cr_assert_eq(st.next_seq, 2);
	off += (size_t)n;
	cr_assert_eq(host_iommu_vevent_parse(&st, buf + off, len - off, sizeof(p), &ev), 0);
}

Test(iommufd_veventq, sequence_gap_counts_lost_events)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, 0, 5, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 0, "the first record sets the baseline");
	put_rec(buf, 0, 0, 9, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 3);
	cr_assert_eq(st.lost, 3);
}

Test(iommufd_veventq, sequence_wraps_at_int_max)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, 0, IOMMU_VEVENT_SEQUENCE_MAX, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(st.next_seq, 0);
	put_rec(buf, 0, 0, 0, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 0);
	/* A jump across the wrap: MAX-1 then 1 misses MAX and 0. */
	st.next_seq = IOMMU_VEVENT_SEQUENCE_MAX - 1;
	put_rec(buf, 0, 0, 1, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 3);
}

/*
 * The kernel numbers every reported event, the dropped ones included, and gives a LOST_EVENTS
 * header the sequence of the (latest) event it dropped: after event 0, dropping events 1..7
 * reads back as LOST_EVENTS{sequence 7}, and the next delivered event is 8. The parser once
 * expected 7 again after such a record and so reported event 8 as one more lost event.
 */
Test(iommufd_veventq, lost_events_record_counts_up_to_its_sequence)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };
	size_t len;

	put_rec(buf, 0, 0, 0, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	len = put_rec(buf, 0, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 7, 0, false);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, len, 4, &ev), 8, "header only");
	cr_assert_eq(ev.flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	cr_assert_null(ev.data);
	cr_assert_eq(ev.sequence, 7);
	cr_assert_eq(ev.gap, 7, "events 1..7 were dropped");
	cr_assert_eq(st.overflows, 1);
	cr_assert_eq(st.lost, 7);
	cr_assert_eq(st.next_seq, 8);
	put_rec(buf, 0, 0, 8, 2, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 0, "event 8 follows the LOST record directly");
	cr_assert_eq(st.lost, 7);
	cr_assert_eq(st.next_seq, 9);
}

/* One dropped event: the kernel's own example, header3 {seq 3}, header4 {LOST, seq 4}. */
Test(iommufd_veventq, single_lost_event_at_the_tail)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };
	size_t len;

	len = put_rec(buf, 0, 0, 3, 1, true);
	len = put_rec(buf, len, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 4, 0, false);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, len, 4, &ev), 12);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf + 12, len - 12, 4, &ev), 8);
	cr_assert_eq(ev.gap, 1);
	cr_assert_eq(st.lost, 1);
	cr_assert_eq(st.next_seq, 5);
}

/* The LOST record is the last of the queue: a jump right after it is a second loss. */
Test(iommufd_veventq, gap_after_lost_record_counts_again)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 4, 0, false);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 8, 4, &ev), 8);
	cr_assert_eq(ev.gap, 1, "no baseline: at least the event it names");
	put_rec(buf, 0, 0, 7, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 2, "5 and 6 missing");
	cr_assert_eq(st.lost, 3);
}

Test(iommufd_veventq, lost_record_across_the_wrap)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, 0, IOMMU_VEVENT_SEQUENCE_MAX - 1, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	/* MAX, 0 and 1 dropped. */
	put_rec(buf, 0, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1, 0, false);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 8, 4, &ev), 8);
	cr_assert_eq(ev.gap, 3);
	cr_assert_eq(st.next_seq, 2);
	/* A LOST record naming exactly MAX: next is 0. */
	st.next_seq = IOMMU_VEVENT_SEQUENCE_MAX;
	put_rec(buf, 0, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, IOMMU_VEVENT_SEQUENCE_MAX, 0, false);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 8, 4, &ev), 8);
	cr_assert_eq(ev.gap, 1);
	cr_assert_eq(st.next_seq, 0);
	put_rec(buf, 0, 0, 0, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.gap, 0);
}

/* Bit 31 is outside the kernel's range; it must not turn into a 2^31 gap. */
Test(iommufd_veventq, sequence_bit_31_ignored)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, 0, 5, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	put_rec(buf, 0, 0, 0x80000006u, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 12, 4, &ev), 12);
	cr_assert_eq(ev.sequence, 6);
	cr_assert_eq(ev.gap, 0);
}

Test(iommufd_veventq, truncated_records_refused)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct host_iommu_vevent ev;
	uint8_t buf[64] = { 0 };

	put_rec(buf, 0, 0, 0, 1, true);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 7, 4, &ev), -EINVAL);
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 11, 4, &ev), -EINVAL);
	cr_assert_eq(st.seq_known, false, "a refused record does not move the stream");
	cr_assert_eq(host_iommu_vevent_parse(&st, buf, 40, 32, &ev), 40);
}
