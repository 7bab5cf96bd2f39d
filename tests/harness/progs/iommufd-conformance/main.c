// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd-conformance: drives kite's iommufd backend (iommu/iommufd*.c) against the real kernel,
 * using the CONFIG_IOMMUFD_TEST mock IOMMU as the device. Runs inside the harness's L1 guest
 * (the 6.12 or 7.2 test kernel, no emulated VT-d: the mock cannot bind while one is registered).
 * This file: IOAS, HW info, HWPTs, HWPT invalidation, replace; viommu.c: the vIOMMU objects.
 *
 *   iommufd-conformance [--expect-viommu present|absent]
 *                                  one "PASS name" / "FAIL name (detail)" line per check; the
 *                                  flag says what the vIOMMU probe must find (7.2: present,
 *                                  6.12: absent); without it the probe is only reported
 *   iommufd-conformance --bench [--viommu]
 *                                  N single-entry invalidations vs one N-entry invalidation, to a
 *                                  nested HWPT or (--viommu, 6.13+) to the mock vIOMMU
 *
 * Exit: 0 all checks passed, 1 a check failed, 2 no /dev/iommu or no mock (wrong kernel).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "iommu/iommufd.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

/* Forwards to ioctl(2), counting invalidations so "one call per batch" can be checked. */
static int counting_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct conf *c = ctx;
	int ret;

	if (request == IOMMU_HWPT_INVALIDATE)
		c->inval_calls++;
	ret = ioctl(fd, request, arg);
	return ret < 0 ? -errno : ret;
}

int test_cmd(struct conf *c, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(c->h.fd, IOMMU_TEST_CMD, cmd) < 0 ? -errno : 0;
}

bool check(struct conf *c, const char *name, bool ok, const char *fmt, ...)
{
	char detail[256] = "";
	va_list ap;

	if (ok) {
		c->passed++;
		printf("PASS %s\n", name);
	} else {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		c->failed++;
		printf("FAIL %s (%s)\n", name, detail);
	}
	fflush(stdout);
	return ok;
}

const char *err(int ret)
{
	return ret ? strerror(-ret) : "success";
}

bool iotlb_is(struct conf *c, uint32_t hwpt, const uint32_t want[NSLOTS], char *why, size_t len)
{
	for (unsigned int i = 0; i < NSLOTS; i++) {
		struct iommu_test_cmd cmd = {
			.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
			.id = hwpt,
			.check_iotlb = { .id = i, .iotlb = want[i] },
		};
		int ret = test_cmd(c, &cmd);

		if (ret) {
			snprintf(why, len, "iotlb[%u] != %#x (%s)", i, want[i], err(ret));
			return false;
		}
	}
	return true;
}

static int nested_alloc(struct conf *c, uint32_t *id)
{
	return host_iommu_hwpt_alloc_selftest(&c->h, c->dev, c->parent, DEF, id);
}

int mock_device(struct conf *c, uint32_t *stdev, uint32_t *hwpt, uint32_t *dev_id)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = c->ioas };
	int ret = test_cmd(c, &cmd);

	if (ret)
		return ret;
	*stdev = cmd.mock_domain.out_stdev_id;
	*hwpt = cmd.mock_domain.out_hwpt_id;
	*dev_id = cmd.mock_domain.out_idev_id;
	return 0;
}

static int setup_mock(struct conf *c)
{
	int ret;

	ret = host_iommu_ioas_alloc(&c->h, &c->ioas);
	if (!check(c, "ioas_alloc", ret == 0, "%s", err(ret)))
		return 1;
	ret = mock_device(c, &c->stdev, &c->hwpt0, &c->dev);
	if (ret == -ENOTTY) {
		printf("FAIL mock_domain (IOMMU_TEST_CMD missing: kernel without "
		       "CONFIG_IOMMUFD_TEST)\n");
		return 2;
	}
	if (!check(c, "mock_domain", ret == 0, "%s%s", err(ret),
		   ret == -EINVAL ? "; is a VT-d/AMD-Vi unit registered? boot without one" : ""))
		return 1;
	return 0;
}

static bool mock_maps(struct conf *c, uint64_t iova, uint64_t len, const void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = c->hwpt0,
		.check_map = { .iova = iova, .length = len, .uptr = (uintptr_t)va },
	};

	return test_cmd(c, &cmd) == 0;
}

static void check_ioas(struct conf *c)
{
	struct iommu_iova_range r[8];
	struct guest_mem m = { 0 };
	uint64_t align = 0, iova = 0, gone = 0;
	uint32_t n = 0;
	uint8_t *ram;
	bool ok = false;
	int ret;

	ret = host_iommu_ioas_iova_ranges(&c->h, c->ioas, r, 8, &n, &align);
	for (uint32_t i = 0; !ret && i < n && i < 8; i++)
		ok |= r[i].start <= MOCK_APERTURE_START && r[i].last >= MOCK_APERTURE_LAST;
	check(c, "iova_ranges", ok, "%s, %u ranges, first [%#llx, %#llx]", err(ret), n,
	      n ? (unsigned long long)r[0].start : 0ull, n ? (unsigned long long)r[0].last : 0ull);

	/* Two RAM regions at fixed GPAs inside the mock's aperture, backed by real pages. */
	ram = mmap(NULL, 6u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		check(c, "map_guest_mem", false, "mmap: %s", strerror(errno));
		return;
	}
	memset(ram, 0x5a, 6u << 20);
	m.nregions = 2;
	m.regions[0] = (struct guest_mem_region){ .gpa = 16u << 20, .size = 2u << 20, .hva = ram };
	m.regions[1] = (struct guest_mem_region){ .gpa = 64u << 20,
						  .size = 4u << 20,
						  .hva = ram + (2u << 20) };
	m.ram_size = 6u << 20;
	ret = host_iommu_map_guest_mem(&c->h, c->ioas, &m);
	check(c, "map_guest_mem",
	      ret == 0 && mock_maps(c, 16u << 20, 2u << 20, ram) &&
		      mock_maps(c, 64u << 20, 4u << 20, ram + (2u << 20)),
	      "%s, or the mock domain does not map IOVA == GPA onto the region", err(ret));

	ret = host_iommu_ioas_unmap(&c->h, c->ioas, 64u << 20, 4u << 20, &gone);
	check(c, "ioas_unmap", ret == 0 && gone == 4u << 20, "%s, unmapped %#llx", err(ret),
	      (unsigned long long)gone);
	ret = host_iommu_ioas_unmap(&c->h, c->ioas, 64u << 20, 4u << 20, &gone);
	check(c, "ioas_unmap_twice_enoent", ret == -ENOENT, "%s", err(ret));
	ret = host_iommu_ioas_unmap(&c->h, c->ioas, 0, UINT64_MAX, &gone);
	check(c, "ioas_unmap_all", ret == 0 && gone == 2u << 20, "%s, unmapped %#llx", err(ret),
	      (unsigned long long)gone);

	ret = host_iommu_ioas_map(&c->h, c->ioas, ram, 1u << 20, &iova,
				  IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	check(c, "ioas_map_kernel_iova",
	      ret == 0 && iova >= MOCK_APERTURE_START &&
		      iova + (1u << 20) - 1 <= MOCK_APERTURE_LAST &&
		      mock_maps(c, iova, 1u << 20, ram),
	      "%s, iova %#llx", err(ret), (unsigned long long)iova);
	if (!ret)
		host_iommu_ioas_unmap(&c->h, c->ioas, iova, 1u << 20, NULL);

	/* RAM at GPA 0 is below the mock's aperture: refused before any map is attempted. */
	m.regions[0].gpa = 0;
	ret = host_iommu_map_guest_mem(&c->h, c->ioas, &m);
	host_iommu_ioas_unmap(&c->h, c->ioas, 0, UINT64_MAX, &gone);
	check(c, "map_guest_mem_outside_ranges", ret == -ERANGE && gone == 0,
	      "%s, %#llx bytes were mapped", err(ret), (unsigned long long)gone);
	munmap(ram, 6u << 20);
}

static void check_hw_info(struct conf *c)
{
	struct host_iommu_hw_info info;
	int ret = host_iommu_get_hw_info(&c->h, c->dev, &info);

	check(c, "hw_info_selftest",
	      ret == 0 && info.type == IOMMU_HW_INFO_TYPE_SELFTEST && info.data_len == 8 &&
		      info.selftest.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL,
	      "%s, type %#x len %u test_reg %#x", err(ret), info.type, info.data_len,
	      info.selftest.test_reg);
}

/* One batch of @n entries whose iotlb_id is i % 4, in one ioctl, with slots checked around it. */
static void check_batch(struct conf *c, uint32_t n)
{
	struct iommu_hwpt_invalidate_selftest *e = calloc(n, sizeof(*e));
	uint32_t want[NSLOTS] = { DEF, DEF, DEF, DEF };
	uint32_t hwpt = 0, handled = 0;
	unsigned int calls;
	char name[64], why[128] = "";
	int ret;

	snprintf(name, sizeof(name), "invalidate_%u_one_call", n);
	if (!e || nested_alloc(c, &hwpt)) {
		check(c, name, false, "setup failed");
		free(e);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		e[i].iotlb_id = i % NSLOTS;
		want[i % NSLOTS] = 0;
	}
	if (!iotlb_is(c, hwpt, (uint32_t[NSLOTS]){ DEF, DEF, DEF, DEF }, why, sizeof(why))) {
		check(c, name, false, "before: %s", why);
		goto out;
	}
	calls = c->inval_calls;
	ret = host_iommu_invalidate(&c->h, hwpt, SEL_TYPE, e, n, sizeof(*e), &handled);
	calls = c->inval_calls - calls;
	if (check(c, name, ret == 0 && handled == n && calls == 1, "%s, handled %u, %u ioctls",
		  err(ret), handled, calls)) {
		snprintf(name, sizeof(name), "invalidate_%u_iotlb", n);
		check(c, name, iotlb_is(c, hwpt, want, why, sizeof(why)), "after: %s", why);
	}
out:
	host_iommu_destroy(&c->h, hwpt);
	free(e);
}

/*
 * A batch whose entry @k is bad: entries before it target slot @before, entries after it slot
 * 3, so the slots show both that the good prefix ran and that nothing past @k did.
 */
static void check_bad_entry(struct conf *c, const char *name, uint32_t n, uint32_t k,
			    struct iommu_hwpt_invalidate_selftest bad, int want_err,
			    uint32_t before)
{
	struct iommu_hwpt_invalidate_selftest *e = calloc(n, sizeof(*e));
	uint32_t want[NSLOTS] = { DEF, DEF, DEF, DEF };
	uint32_t hwpt = 0, handled = 0;
	unsigned int calls;
	char why[128] = "";
	int ret;

	if (!e || nested_alloc(c, &hwpt)) {
		check(c, name, false, "setup failed");
		free(e);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		e[i].iotlb_id = i < k ? before : 3;
	e[k] = bad;
	if (k)
		want[before] = 0;
	calls = c->inval_calls;
	ret = host_iommu_invalidate(&c->h, hwpt, SEL_TYPE, e, n, sizeof(*e), &handled);
	calls = c->inval_calls - calls;
	check(c, name,
	      ret == want_err && handled == k && calls == 1 &&
		      iotlb_is(c, hwpt, want, why, sizeof(why)),
	      "%s (want %s), handled %u (want %u), %u ioctls%s%s", err(ret), err(want_err), handled,
	      k, calls, why[0] ? ", " : "", why);
	host_iommu_destroy(&c->h, hwpt);
	free(e);
}

/* A whole call the kernel must refuse with @want_err, touching no slot. */
static void check_refused(struct conf *c, const char *name, uint32_t hwpt, uint32_t type,
			  uint32_t entry_len, int want_err, int alt_err)
{
	static const uint32_t all_def[NSLOTS] = { DEF, DEF, DEF, DEF };
	uint8_t buf[64] = { 0 }; /* one zero entry: flags 0, iotlb_id 0 */
	uint32_t handled = 99;
	char why[128] = "";
	bool slots_ok = true;
	int ret;

	ret = host_iommu_invalidate(&c->h, hwpt, type, buf, 1, entry_len, &handled);
	if (hwpt != c->parent)
		slots_ok = iotlb_is(c, hwpt, all_def, why, sizeof(why));
	check(c, name, (ret == want_err || (alt_err && ret == alt_err)) && handled == 0 && slots_ok,
	      "%s (want %s), handled %u%s%s", err(ret), err(want_err), handled, why[0] ? ", " : "",
	      why);
}

static void check_invalidate(struct conf *c)
{
	static const uint32_t sizes[] = { 1, 2, 64, 512 };
	const uint32_t cap = IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX;
	struct iommu_hwpt_invalidate_selftest *big;
	uint32_t hwpt = 0, handled = 0;
	unsigned int calls;
	int ret;

	ret = host_iommu_hwpt_alloc_paging(&c->h, c->dev, c->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
					   &c->parent);
	if (!check(c, "hwpt_alloc_nest_parent", ret == 0, "%s", err(ret)))
		return;
	ret = nested_alloc(c, &hwpt);
	if (!check(c, "hwpt_alloc_nested_selftest", ret == 0, "%s", err(ret)))
		return;

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_batch(c, sizes[i]);

	check_bad_entry(c, "invalidate_bad_iotlb_id_at_37", 64, 37,
			(struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 4 }, -EINVAL, 0);
	check_bad_entry(c, "invalidate_bad_flags_at_1", 2, 1,
			(struct iommu_hwpt_invalidate_selftest){ .flags = 0xffffffff }, -EOPNOTSUPP,
			1);
	check_bad_entry(c, "invalidate_bad_first_entry", 512, 0,
			(struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 9 }, -EINVAL, 0);

	check_refused(c, "invalidate_entry_len_too_small", hwpt, SEL_TYPE, 4, -EINVAL, 0);
	check_refused(c, "invalidate_entry_len_too_large", hwpt, SEL_TYPE, 9, -EINVAL, 0);
	check_refused(c, "invalidate_entry_len_16", hwpt, SEL_TYPE, 16, -EINVAL, 0);
	check_refused(c, "invalidate_unknown_type", hwpt,
		      IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 8, -EINVAL, 0);
	check_refused(c, "invalidate_vtd_type_on_mock", hwpt, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 24,
		      -EINVAL, 0);
	/* 6.12 answers ENOENT for a paging HWPT; 6.13+ EINVAL. */
	check_refused(c, "invalidate_parent_refused", c->parent, SEL_TYPE, 8, -ENOENT, -EINVAL);

	ret = host_iommu_invalidate(&c->h, hwpt, SEL_TYPE, NULL, 0, 8, &handled);
	check(c, "invalidate_type_probe_zero_entries", ret == 0 && handled == 0, "%s, handled %u",
	      err(ret), handled);
	ret = host_iommu_invalidate(&c->h, hwpt, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, NULL,
				    0, 8, &handled);
	check(c, "invalidate_type_probe_unknown", ret == -EINVAL, "%s", err(ret));

	/* The kernel's own cap (6.12.96+), asked directly, then kite's split around it. */
	big = calloc((size_t)cap + 5, sizeof(*big));
	if (!big) {
		check(c, "invalidate_above_cap_split", false, "no memory");
		goto out;
	}
	{
		struct iommu_hwpt_invalidate raw = {
			.size = sizeof(raw),
			.hwpt_id = hwpt,
			.data_uptr = (uintptr_t)big,
			.data_type = SEL_TYPE,
			.entry_len = sizeof(*big),
			.entry_num = cap + 1,
		};

		ret = ioctl(c->h.fd, IOMMU_HWPT_INVALIDATE, &raw) < 0 ? -errno : 0;
		check(c, "kernel_refuses_entry_num_above_cap", ret == -EINVAL && raw.entry_num == 0,
		      "%s, entry_num %u", err(ret), raw.entry_num);
		raw.entry_num = 1;
		raw.entry_len = c->h.page_size + 8;
		ret = ioctl(c->h.fd, IOMMU_HWPT_INVALIDATE, &raw) < 0 ? -errno : 0;
		check(c, "kernel_refuses_entry_len_above_page", ret == -EINVAL, "%s", err(ret));
	}
	calls = c->inval_calls;
	ret = host_iommu_invalidate(&c->h, hwpt, SEL_TYPE, big, cap + 5, sizeof(*big), &handled);
	calls = c->inval_calls - calls;
	check(c, "invalidate_above_cap_split", ret == 0 && handled == cap + 5 && calls == 2,
	      "%s, handled %u of %u, %u ioctls", err(ret), handled, cap + 5, calls);
	big[cap + 2].iotlb_id = 7;
	calls = c->inval_calls;
	ret = host_iommu_invalidate(&c->h, hwpt, SEL_TYPE, big, cap + 5, sizeof(*big), &handled);
	calls = c->inval_calls - calls;
	check(c, "invalidate_above_cap_fails_in_second_call",
	      ret == -EINVAL && handled == cap + 2 && calls == 2,
	      "%s, handled %u (want %u), %u ioctls", err(ret), handled, cap + 2, calls);
	free(big);
out:
	host_iommu_destroy(&c->h, hwpt);
}

static void check_attach(struct conf *c)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = c->stdev };
	uint32_t hwpt = 0;
	int ret;

	if (!c->parent || nested_alloc(c, &hwpt) != 0) {
		check(c, "replace_to_nested", false, "no nest parent or nested HWPT");
		return;
	}
	cmd.mock_domain_replace.pt_id = hwpt;
	ret = test_cmd(c, &cmd);
	check(c, "replace_to_nested", ret == 0, "%s", err(ret));
	ret = host_iommu_destroy(&c->h, hwpt);
	check(c, "destroy_attached_nested_ebusy", ret == -EBUSY, "%s", err(ret));
	cmd.mock_domain_replace.pt_id = c->ioas;
	ret = test_cmd(c, &cmd);
	check(c, "replace_back_to_ioas", ret == 0, "%s", err(ret));
	ret = host_iommu_destroy(&c->h, hwpt);
	check(c, "destroy_detached_nested", ret == 0, "%s", err(ret));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Where the benchmark's invalidations go: a nested HWPT, or a vIOMMU (7.2). */
struct bench_target {
	uint32_t id, type, entry_len;
	const uint8_t *e; /* 512 entries */
};

/* One repetition: ns per entry over >= @min_entries entries, sent singly or as @n-entry batches. */
static double bench_rep(struct conf *c, const struct bench_target *t, uint32_t n, bool batched,
			uint32_t min_entries, int *ret)
{
	uint32_t iters = min_entries / n ? min_entries / n : 1, handled;
	uint64_t t0 = now_ns();

	for (uint32_t it = 0; it < iters && !*ret; it++) {
		if (batched) {
			*ret = host_iommu_invalidate(&c->h, t->id, t->type, t->e, n, t->entry_len,
						     &handled);
			continue;
		}
		for (uint32_t i = 0; i < n && !*ret; i++)
			*ret = host_iommu_invalidate(&c->h, t->id, t->type,
						     t->e + (size_t)i * t->entry_len, 1,
						     t->entry_len, &handled);
	}
	return (double)(now_ns() - t0) / ((double)iters * n);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * --bench: a nested mock HWPT's iotlb slots; --bench --viommu: the mock vIOMMU, entries naming
 * the mock device by its virtual ID (needs a kernel with vIOMMU objects).
 */
static int run_bench(struct conf *c, unsigned int reps, uint32_t min_entries, bool viommu)
{
	static const uint32_t sizes[] = { 1, 16, 64, 512 };
	static struct iommu_hwpt_invalidate_selftest he[512];
	static struct iommu_viommu_invalidate_selftest ve[512];
	struct bench_target t = { 0 };
	uint32_t vdev = 0;
	int ret;

	ret = host_iommu_hwpt_alloc_paging(&c->h, c->dev, c->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
					   &c->parent);
	if (!ret && !viommu) {
		ret = nested_alloc(c, &t.id);
		t.type = SEL_TYPE;
		t.entry_len = sizeof(he[0]);
		t.e = (const uint8_t *)he;
		for (unsigned int i = 0; i < 512; i++)
			he[i] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = i % NSLOTS };
	} else if (!ret) {
		ret = host_iommu_viommu_alloc(&c->h, c->dev, c->parent, IOMMU_VIOMMU_TYPE_SELFTEST,
					      &t.id);
		if (!ret)
			ret = host_iommu_vdevice_alloc(&c->h, t.id, c->dev, 0x100, &vdev);
		t.type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
		t.entry_len = sizeof(ve[0]);
		t.e = (const uint8_t *)ve;
		for (unsigned int i = 0; i < 512; i++)
			ve[i] = (struct iommu_viommu_invalidate_selftest){
				.vdev_id = 0x100, .cache_id = i % MOCK_DEV_CACHE_NUM
			};
	}
	if (ret) {
		fprintf(stderr, "bench: %s setup failed: %s\n", viommu ? "vIOMMU" : "HWPT",
			err(ret));
		return 1;
	}

	printf("iommufd HWPT_INVALIDATE on the selftest mock's %s, median of %u reps, >= %u "
	       "entries/rep\n",
	       viommu ? "vIOMMU (entries by virtual ID)" : "nested HWPT", reps, min_entries);
	printf("%6s  %20s  %20s  %8s\n", "N", "N ioctls (ns/entry)", "1 ioctl (ns/entry)", "ratio");
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];
		double single, batch;

		double one[64], many[64];

		/* A warm-up pass keeps page faults and cold caches out of the numbers. */
		bench_rep(c, &t, n, true, n, &ret);
		/* Alternate the two modes so load changes on the host hit both alike. */
		for (unsigned int r = 0; r < reps && !ret; r++) {
			one[r] = bench_rep(c, &t, n, false, min_entries, &ret);
			many[r] = bench_rep(c, &t, n, true, min_entries, &ret);
		}
		if (ret) {
			fprintf(stderr, "bench: invalidate failed: %s\n", err(ret));
			return 1;
		}
		single = median(one, reps);
		batch = median(many, reps);
		printf("%6u  %20.0f  %20.0f  %7.1fx\n", n, single, batch, single / batch);
	}
	if (vdev)
		host_iommu_destroy(&c->h, vdev);
	host_iommu_destroy(&c->h, t.id);
	return 0;
}

int main(int argc, char **argv)
{
	struct conf c = { 0 };
	enum expect_viommu expect = EXPECT_VIOMMU_ANY;
	unsigned int reps = 15;
	uint32_t min_entries = 65536;
	bool bench = false, bench_viommu = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bench"))
			bench = true;
		else if (!strcmp(argv[i], "--viommu"))
			bench_viommu = true;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--entries") && i + 1 < argc)
			min_entries = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--expect-viommu") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "present") || !strcmp(argv[i + 1], "absent")))
			expect = !strcmp(argv[++i], "present") ? EXPECT_VIOMMU_PRESENT
							       : EXPECT_VIOMMU_ABSENT;
		else if (!strcmp(argv[i], "-v"))
			log_set_level(LOG_DEBUG);
		else {
			fprintf(stderr,
				"usage: %s [--expect-viommu present|absent] [--bench [--viommu] "
				"[--reps N] [--entries N]] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > 64 || !min_entries) {
		fprintf(stderr, "--reps must be 1..64, --entries > 0\n");
		return 2;
	}
	if (access("/dev/iommu", F_OK)) {
		printf("SKIP /dev/iommu missing (kernel without CONFIG_IOMMUFD)\n");
		return 2;
	}
	ret = host_iommu_open(&c.h, NULL);
	if (ret) {
		printf("FAIL open_dev_iommu (%s)\n", err(ret));
		return 1;
	}
	host_iommu_set_ioctl(&c.h, counting_ioctl, &c);
	ret = setup_mock(&c);
	if (ret)
		goto out;
	if (bench) {
		ret = run_bench(&c, reps, min_entries, bench_viommu);
		goto out;
	}
	/* Negative checks make the backend log errors on purpose; they go to stderr. */
	fprintf(stderr, "iommufd-conformance: 'kite: error:' lines below come from checks that "
			"expect a refusal\n");
	check_ioas(&c);
	check_hw_info(&c);
	check_invalidate(&c);
	check_attach(&c);
	check_viommu(&c, expect);
	printf("%u checks, %u failed\n", c.passed + c.failed, c.failed);
	ret = c.failed ? 1 : 0;
out:
	host_iommu_close(&c.h);
	return ret;
}
