// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd-conformance, vIOMMU section: kite's iommu/iommufd_viommu.c against the kernel's vIOMMU
 * objects (Linux 6.13+; the harness runs it on the 7.2 test kernel), with the CONFIG_IOMMUFD_TEST
 * mock's vIOMMU, vDEVICE, vEVENTQ and HW queue.
 *
 * The mock keeps four cache slots per device (0xbaddad at creation, never reset) that a
 * vIOMMU-targeted invalidation clears, addressed by the virtual device ID of the device's
 * vDEVICE; IOMMU_TEST_OP_DEV_CHECK_CACHE reads one slot back. Every batch therefore gets fresh
 * mock devices. On a kernel without vIOMMU objects (6.12) only the refusals are checked.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "iommu/iommufd.h"

#define CDEF IOMMU_TEST_DEV_CACHE_DEFAULT
#define VSEL IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST

/* A mock device with a vDEVICE on the vIOMMU under test. */
struct vdev {
	uint32_t stdev, hwpt, dev, vdevice;
	uint32_t virt_id;
};

struct vctx {
	struct conf *c;
	uint32_t viommu;
	uint32_t next_virt; /* virtual IDs handed out to fresh devices */
};

static const char *feat(int f)
{
	return f < 0 ? "error" : host_iommu_feature_name((enum host_iommu_feature)f);
}

/* The device's cache slots equal @want; names the first that differs. */
static bool cache_is(struct conf *c, uint32_t dev_id, const uint32_t want[MOCK_DEV_CACHE_NUM],
		     char *why, size_t len)
{
	for (unsigned int i = 0; i < MOCK_DEV_CACHE_NUM; i++) {
		struct iommu_test_cmd cmd = {
			.op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
			.id = dev_id,
			.check_dev_cache = { .id = i, .cache = want[i] },
		};
		int ret = test_cmd(c, &cmd);

		if (ret) {
			snprintf(why, len, "dev %u cache[%u] != %#x (%s)", dev_id, i, want[i],
				 err(ret));
			return false;
		}
	}
	return true;
}

static int fresh_vdev(struct vctx *v, struct vdev *d)
{
	int ret = mock_device(v->c, &d->stdev, &d->hwpt, &d->dev);

	if (ret)
		return ret;
	d->virt_id = v->next_virt++;
	return host_iommu_vdevice_alloc(&v->c->h, v->viommu, d->dev, d->virt_id, &d->vdevice);
}

/* One vIOMMU invalidation through kite's single entry point, counting the ioctls it took. */
static int vinval(struct vctx *v, uint32_t type, const void *e, uint32_t n, uint32_t len,
		  uint32_t *handled, unsigned int *calls)
{
	unsigned int before = v->c->inval_calls;
	int ret = host_iommu_invalidate(&v->c->h, v->viommu, type, e, n, len, handled);

	*calls = v->c->inval_calls - before;
	return ret;
}

/*
 * @n entries in one call, alternating between two fresh devices X and Y (entry i: X when even,
 * Y when odd; cache slot (i / 2) % 3), so slot 3 of both stays untouched and the two devices
 * show that each entry reached the device its virtual ID names.
 */
static void check_vbatch(struct vctx *v, uint32_t n, uint32_t untouched_dev)
{
	struct conf *c = v->c;
	struct iommu_viommu_invalidate_selftest *e = calloc(n, sizeof(*e));
	uint32_t want_x[MOCK_DEV_CACHE_NUM] = { CDEF, CDEF, CDEF, CDEF };
	uint32_t want_y[MOCK_DEV_CACHE_NUM] = { CDEF, CDEF, CDEF, CDEF };
	const uint32_t all_def[MOCK_DEV_CACHE_NUM] = { CDEF, CDEF, CDEF, CDEF };
	struct vdev x, y;
	uint32_t handled = 0;
	unsigned int calls = 0;
	char name[64], why[160] = "";
	int ret;

	snprintf(name, sizeof(name), "viommu_invalidate_%u_one_call", n);
	if (!e || fresh_vdev(v, &x) || fresh_vdev(v, &y)) {
		check(c, name, false, "setup failed");
		free(e);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		bool to_y = i % 2;

		e[i].vdev_id = to_y ? y.virt_id : x.virt_id;
		e[i].cache_id = (i / 2) % 3;
		(to_y ? want_y : want_x)[e[i].cache_id] = 0;
	}
	if (!cache_is(c, x.dev, all_def, why, sizeof(why)) ||
	    !cache_is(c, y.dev, all_def, why, sizeof(why))) {
		check(c, name, false, "before: %s", why);
		goto out;
	}
	ret = vinval(v, VSEL, e, n, sizeof(*e), &handled, &calls);
	if (!check(c, name, ret == 0 && handled == n && calls == 1, "%s, handled %u, %u ioctls",
		   err(ret), handled, calls))
		goto out;
	snprintf(name, sizeof(name), "viommu_invalidate_%u_caches", n);
	check(c, name,
	      cache_is(c, x.dev, want_x, why, sizeof(why)) &&
		      cache_is(c, y.dev, want_y, why, sizeof(why)) &&
		      cache_is(c, untouched_dev, all_def, why, sizeof(why)),
	      "after: %s", why);
out:
	free(e);
}

/*
 * 64 entries on a fresh device, entry @k bad: entries before it clear slot 0, entries after it
 * slot 3. The kernel must stop at k (entry_num == k) with @want_err, slot 0 cleared, slot 3 not.
 */
static void check_vbad(struct vctx *v, const char *name, uint32_t k,
		       struct iommu_viommu_invalidate_selftest bad, bool bad_targets_dev,
		       int want_err)
{
	struct conf *c = v->c;
	struct iommu_viommu_invalidate_selftest e[64];
	uint32_t want[MOCK_DEV_CACHE_NUM] = { CDEF, CDEF, CDEF, CDEF };
	struct vdev x;
	uint32_t handled = 99;
	unsigned int calls = 0;
	char why[160] = "";
	int ret;

	if (fresh_vdev(v, &x)) {
		check(c, name, false, "setup failed");
		return;
	}
	for (uint32_t i = 0; i < 64; i++)
		e[i] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = x.virt_id,
								  .cache_id = i < k ? 0 : 3 };
	if (bad_targets_dev)
		bad.vdev_id = x.virt_id;
	e[k] = bad;
	if (k)
		want[0] = 0;
	ret = vinval(v, VSEL, e, 64, sizeof(e[0]), &handled, &calls);
	check(c, name,
	      ret == want_err && handled == k && calls == 1 &&
		      cache_is(c, x.dev, want, why, sizeof(why)),
	      "%s (want %s), entry_num %u (want %u), %u ioctls%s%s", err(ret), err(want_err),
	      handled, k, calls, why[0] ? ", " : "", why);
}

static void check_invalidation(struct vctx *v, const struct vdev *a)
{
	struct conf *c = v->c;
	static const uint32_t sizes[] = { 1, 64, 512 };
	struct iommu_viommu_invalidate_selftest one = { .vdev_id = 0xdead0, .cache_id = 1 };
	uint8_t padded[16] = { 0 };
	const uint32_t all_def[MOCK_DEV_CACHE_NUM] = { CDEF, CDEF, CDEF, CDEF };
	uint32_t handled = 99;
	unsigned int calls;
	char why[160] = "";
	int ret;

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_vbatch(v, sizes[i], a->dev);

	check_vbad(v, "viommu_invalidate_bad_cache_id_at_37", 37,
		   (struct iommu_viommu_invalidate_selftest){ .cache_id = MOCK_DEV_CACHE_ID_MAX +
									  1 },
		   true, -EINVAL);
	check_vbad(v, "viommu_invalidate_bad_flags_at_5", 5,
		   (struct iommu_viommu_invalidate_selftest){ .flags = 0x2, .cache_id = 1 }, true,
		   -EOPNOTSUPP);
	check_vbad(v, "viommu_invalidate_unknown_virt_id_at_20", 20,
		   (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0xdead0, .cache_id = 1 },
		   false, -EINVAL);
	check_vbad(v, "viommu_invalidate_bad_first_entry", 0,
		   (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0xdead0 }, false, -EINVAL);

	ret = vinval(v, VSEL, &one, 1, sizeof(one), &handled, &calls);
	check(c, "viommu_invalidate_unknown_virt_id_refused",
	      ret == -EINVAL && handled == 0 && cache_is(c, a->dev, all_def, why, sizeof(why)),
	      "%s, entry_num %u%s%s", err(ret), handled, why[0] ? ", " : "", why);
	ret = vinval(v, VSEL, NULL, 0, sizeof(one), &handled, &calls);
	check(c, "viommu_invalidate_type_probe_zero_entries", ret == 0 && handled == 0,
	      "%s, entry_num %u", err(ret), handled);
	ret = vinval(v, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, &one, 1, sizeof(one),
		     &handled, &calls);
	check(c, "viommu_invalidate_unknown_type", ret == -EINVAL && handled == 0, "%s", err(ret));
	/* A longer entry is read as a newer struct: a non-zero tail is refused, not ignored. */
	memcpy(padded, &(struct iommu_viommu_invalidate_selftest){ .vdev_id = a->virt_id }, 12);
	padded[15] = 1;
	ret = vinval(v, VSEL, padded, 1, sizeof(padded), &handled, &calls);
	check(c, "viommu_invalidate_nonzero_tail_e2big",
	      ret == -E2BIG && handled == 0 && cache_is(c, a->dev, all_def, why, sizeof(why)),
	      "%s, entry_num %u%s%s", err(ret), handled, why[0] ? ", " : "", why);
}

struct vev_log {
	unsigned int n;
	struct host_iommu_vevent ev[8];
	uint32_t virt_id[8];
};

static void vev_collect(void *ctx, const struct host_iommu_vevent *ev)
{
	struct vev_log *l = ctx;

	if (l->n < 8) {
		l->ev[l->n] = *ev;
		l->virt_id[l->n] = 0;
		if (ev->data) {
			struct iommu_viommu_event_selftest p;

			memcpy(&p, ev->data, sizeof(p));
			l->virt_id[l->n] = p.virt_id;
		}
	}
	l->n++;
}

static int trigger(struct conf *c, uint32_t dev_id)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_TRIGGER_VEVENT,
				      .trigger_vevent = { .dev_id = dev_id } };

	return test_cmd(c, &cmd);
}

static int drain(int fd, struct host_iommu_vevent_stream *st, struct vev_log *l)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	memset(l, 0, sizeof(*l));
	/* Events are queued synchronously by the trigger; poll only guards against a hang. */
	if (poll(&p, 1, 1000) <= 0)
		return -ETIMEDOUT;
	return host_iommu_vevent_drain(st, fd, sizeof(struct iommu_viommu_event_selftest),
				       vev_collect, l);
}

/* @a is attached to a nested HWPT of the vIOMMU; @b has a vDEVICE but is not attached. */
static void check_veventq(struct vctx *v, const struct vdev *a, const struct vdev *b)
{
	struct conf *c = v->c;
	struct host_iommu_vevent_stream st;
	struct vev_log l;
	uint32_t id = 0, id2 = 0;
	int fd = -1, fd2 = -1, ret, n;

	ret = host_iommu_veventq_alloc(&c->h, v->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd);
	if (!check(c, "veventq_alloc_depth_2", ret == 0 && id && fd >= 0, "%s", err(ret)))
		return;
	ret = host_iommu_veventq_alloc(&c->h, v->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id2,
				       &fd2);
	check(c, "veventq_second_of_type_eexist", ret == -EEXIST, "%s", err(ret));
	if (!ret)
		close(fd2);
	host_iommu_vevent_stream_init(&st);

	ret = trigger(c, a->dev);
	n = ret ? ret : drain(fd, &st, &l);
	check(c, "vevent_triggered_read_parsed",
	      ret == 0 && n == 1 && l.ev[0].sequence == 0 && l.ev[0].flags == 0 &&
		      l.ev[0].gap == 0 && l.virt_id[0] == a->virt_id,
	      "trigger %s, %d records, seq %u flags %#x gap %u virt_id %#x (want %#x)", err(ret), n,
	      l.ev[0].sequence, l.ev[0].flags, l.ev[0].gap, l.virt_id[0], a->virt_id);

	ret = trigger(c, b->dev);
	check(c, "vevent_trigger_unattached_enoent", ret == -ENOENT, "%s", err(ret));

	/* Depth 2, four events: 1 and 2 queued, 3 and 4 dropped, read as one LOST_EVENTS(4). */
	ret = 0;
	for (int i = 0; i < 4 && !ret; i++)
		ret = trigger(c, a->dev);
	n = ret ? ret : drain(fd, &st, &l);
	check(c, "vevent_overflow_lost_events",
	      ret == 0 && n == 3 && l.ev[0].sequence == 1 && l.ev[1].sequence == 2 &&
		      l.ev[2].flags == IOMMU_VEVENTQ_FLAG_LOST_EVENTS && l.ev[2].sequence == 4 &&
		      !l.ev[2].data && l.ev[2].gap == 2 && st.lost == 2 && st.overflows == 1,
	      "trigger %s, %d records (want 3), seqs %u,%u,%u, last flags %#x gap %u, lost %llu "
	      "overflows %llu",
	      err(ret), n, l.ev[0].sequence, l.ev[1].sequence, l.ev[2].sequence, l.ev[2].flags,
	      l.ev[2].gap, (unsigned long long)st.lost, (unsigned long long)st.overflows);

	/* The next event carries LOST's sequence + 1: no further loss may be reported. */
	ret = trigger(c, a->dev);
	n = ret ? ret : drain(fd, &st, &l);
	check(c, "vevent_after_overflow_no_gap",
	      ret == 0 && n == 1 && l.ev[0].sequence == 5 && l.ev[0].gap == 0 && st.lost == 2 &&
		      l.virt_id[0] == a->virt_id,
	      "trigger %s, %d records, seq %u gap %u, lost %llu", err(ret), n, l.ev[0].sequence,
	      l.ev[0].gap, (unsigned long long)st.lost);
	close(fd);
	host_iommu_destroy(&c->h, id);
}

static void check_hw_queue(struct vctx *v)
{
	struct conf *c = v->c;
	const uint64_t iova = 32u << 20;
	uint32_t q0 = 0, q1 = 0, q = 0;
	uint64_t map_iova = iova;
	long ps = sysconf(_SC_PAGESIZE);
	void *mem;
	int ret;

	mem = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		check(c, "hw_queue_alloc_index_0", false, "mmap failed");
		return;
	}
	memset(mem, 0, (size_t)ps);
	ret = host_iommu_ioas_map(&c->h, c->ioas, mem, (uint64_t)ps, &map_iova,
				  IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					  IOMMU_IOAS_MAP_WRITEABLE);
	if (!check(c, "hw_queue_memory_mapped", ret == 0, "%s", err(ret)))
		goto out_unmap_mem;

	ret = host_iommu_hw_queue_alloc(&c->h, v->viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova,
					(uint64_t)ps, &q0);
	check(c, "hw_queue_alloc_index_0", ret == 0 && q0, "%s", err(ret));
	ret = host_iommu_hw_queue_alloc(&c->h, v->viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova,
					(uint64_t)ps, &q1);
	check(c, "hw_queue_alloc_index_1", ret == 0 && q1, "%s", err(ret));
	ret = host_iommu_hw_queue_alloc(&c->h, v->viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova,
					(uint64_t)ps, &q);
	check(c, "hw_queue_index_1_again_eexist", ret == -EEXIST, "%s", err(ret));
	ret = host_iommu_hw_queue_alloc(&c->h, v->viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST,
					IOMMU_TEST_HW_QUEUE_MAX, iova, (uint64_t)ps, &q);
	check(c, "hw_queue_index_above_max_einval", ret == -EINVAL, "%s", err(ret));
	ret = host_iommu_hw_queue_alloc(&c->h, v->viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova, 0,
					&q);
	check(c, "hw_queue_zero_length_einval", ret == -EINVAL, "%s", err(ret));
	if (q0 && q1) {
		/* Queue 1 depends on queue 0, so 0 cannot go first. */
		ret = host_iommu_destroy(&c->h, q0);
		check(c, "hw_queue_destroy_depended_on_ebusy", ret == -EBUSY, "%s", err(ret));
	}
	if (q1)
		host_iommu_destroy(&c->h, q1);
	if (q0) {
		ret = host_iommu_destroy(&c->h, q0);
		check(c, "hw_queue_destroy_in_order", ret == 0, "%s", err(ret));
	}
	host_iommu_ioas_unmap(&c->h, c->ioas, iova, (uint64_t)ps, NULL);
out_unmap_mem:
	munmap(mem, (size_t)ps);
}

/* Asks the kernel directly, past kite's cached probe result. */
static int raw_ioctl(struct conf *c, unsigned long request, void *arg)
{
	return ioctl(c->h.fd, request, arg) < 0 ? -errno : 0;
}

/*
 * The kernel has no vIOMMU objects: each ioctl is unknown to it (ENOTTY), and kite's entry
 * points say ENOTTY without creating anything.
 */
static void check_absent(struct conf *c)
{
	struct iommu_vdevice_alloc vd = { .size = sizeof(vd), .dev_id = c->dev, .virt_id = 1 };
	struct iommu_veventq_alloc vq = { .size = sizeof(vq),
					  .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
					  .veventq_depth = 2 };
	struct iommu_hw_queue_alloc hq = { .size = sizeof(hq),
					   .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
					   .length = 4096 };
	uint32_t id = 0;
	int fd = -1, ret;

	ret = raw_ioctl(c, IOMMU_VDEVICE_ALLOC, &vd);
	check(c, "kernel_vdevice_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
	ret = raw_ioctl(c, IOMMU_VEVENTQ_ALLOC, &vq);
	check(c, "kernel_veventq_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
	ret = raw_ioctl(c, IOMMU_HW_QUEUE_ALLOC, &hq);
	check(c, "kernel_hw_queue_alloc_enotty", ret == -ENOTTY, "%s", err(ret));

	ret = host_iommu_viommu_alloc(&c->h, c->dev, c->parent, IOMMU_VIOMMU_TYPE_SELFTEST, &id);
	check(c, "viommu_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
	ret = host_iommu_vdevice_alloc(&c->h, 1, c->dev, 0x99, &id);
	check(c, "vdevice_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
	ret = host_iommu_veventq_alloc(&c->h, 1, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd);
	check(c, "veventq_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
	ret = host_iommu_hw_queue_alloc(&c->h, 1, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, 32u << 20, 4096,
					&id);
	check(c, "hw_queue_alloc_enotty", ret == -ENOTTY, "%s", err(ret));
}

void check_viommu(struct conf *c, enum expect_viommu expect)
{
	struct iommu_viommu_selftest data = { .in_data = 0x1234abcd };
	struct iommu_test_cmd replace = { .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE };
	struct vctx v = { .c = c, .next_virt = 0x100 };
	struct vdev a = { 0 }, b = { 0 }, d = { 0 };
	uint32_t id = 0, hwpt = 0;
	uint32_t want_iotlb[NSLOTS] = { DEF, DEF, DEF, DEF };
	char why[160] = "";
	int pv, pq, ph, ret;
	bool present;

	pv = host_iommu_probe_viommu(&c->h);
	pq = host_iommu_probe_veventq(&c->h);
	ph = host_iommu_probe_hw_queue(&c->h);
	printf("viommu: %s, veventq: %s, hw_queue: %s\n", feat(pv), feat(pq), feat(ph));
	fflush(stdout);
	present = pv == HOST_IOMMU_FEATURE_PRESENT;
	if (expect == EXPECT_VIOMMU_PRESENT)
		check(c, "viommu_probe_present",
		      present && pq == HOST_IOMMU_FEATURE_PRESENT &&
			      ph == HOST_IOMMU_FEATURE_PRESENT,
		      "viommu %s, veventq %s, hw_queue %s", feat(pv), feat(pq), feat(ph));
	else if (expect == EXPECT_VIOMMU_ABSENT)
		check(c, "viommu_probe_absent",
		      pv == HOST_IOMMU_FEATURE_ABSENT && pq == HOST_IOMMU_FEATURE_ABSENT &&
			      ph == HOST_IOMMU_FEATURE_ABSENT,
		      "viommu %s, veventq %s, hw_queue %s", feat(pv), feat(pq), feat(ph));
	if (!present) {
		check_absent(c);
		return;
	}
	if (!check(c, "viommu_needs_nest_parent", c->parent != 0, "no nest-parent HWPT"))
		return;

	/* vIOMMU: only on a nest parent, only of a type the driver has. */
	ret = host_iommu_hwpt_alloc_paging(&c->h, c->dev, c->ioas, 0, &hwpt);
	if (!ret) {
		ret = host_iommu_viommu_alloc(&c->h, c->dev, hwpt, IOMMU_VIOMMU_TYPE_SELFTEST, &id);
		host_iommu_destroy(&c->h, hwpt);
		hwpt = 0;
	}
	check(c, "viommu_on_non_parent_einval", ret == -EINVAL, "%s", err(ret));
	ret = host_iommu_viommu_alloc(&c->h, c->dev, c->parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &id);
	check(c, "viommu_foreign_type_eopnotsupp", ret == -EOPNOTSUPP, "%s", err(ret));
	ret = host_iommu_viommu_alloc_data(&c->h, c->dev, c->parent, IOMMU_VIOMMU_TYPE_SELFTEST,
					   &data, sizeof(data), &id);
	check(c, "viommu_alloc_data_echoed", ret == 0 && data.out_data == data.in_data,
	      "%s, out_data %#x", err(ret), data.out_data);
	if (!ret)
		host_iommu_destroy(&c->h, id);
	ret = host_iommu_viommu_alloc(&c->h, c->dev, c->parent, IOMMU_VIOMMU_TYPE_SELFTEST,
				      &v.viommu);
	if (!check(c, "viommu_alloc_on_nest_parent", ret == 0 && v.viommu, "%s", err(ret)))
		return;

	/* vDEVICE: virtual ID -> mock device, one each way. */
	ret = fresh_vdev(&v, &a);
	check(c, "vdevice_alloc", ret == 0 && a.vdevice, "%s", err(ret));
	ret = mock_device(c, &b.stdev, &b.hwpt, &b.dev);
	if (!ret)
		ret = host_iommu_vdevice_alloc(&c->h, v.viommu, b.dev, a.virt_id, &id);
	check(c, "vdevice_virt_id_taken_eexist", ret == -EEXIST, "%s", err(ret));
	b.virt_id = v.next_virt++;
	ret = host_iommu_vdevice_alloc(&c->h, v.viommu, b.dev, b.virt_id, &b.vdevice);
	check(c, "vdevice_alloc_second_device", ret == 0, "%s", err(ret));
	ret = host_iommu_vdevice_alloc(&c->h, v.viommu, a.dev, v.next_virt++, &id);
	check(c, "vdevice_device_taken_eexist", ret == -EEXIST, "%s", err(ret));

	/* Nested HWPT through the vIOMMU; attaching needs the device's vDEVICE. */
	ret = host_iommu_hwpt_alloc_selftest(&c->h, a.dev, v.viommu, DEF, &hwpt);
	check(c, "hwpt_alloc_nested_on_viommu",
	      ret == 0 && iotlb_is(c, hwpt, want_iotlb, why, sizeof(why)), "%s%s%s", err(ret),
	      why[0] ? ", " : "", why);
	if (ret)
		return;
	replace.id = a.stdev;
	replace.mock_domain_replace.pt_id = hwpt;
	ret = test_cmd(c, &replace);
	check(c, "attach_to_viommu_nested", ret == 0, "%s", err(ret));
	ret = mock_device(c, &d.stdev, &d.hwpt, &d.dev);
	if (!ret) {
		replace.id = d.stdev;
		ret = test_cmd(c, &replace);
	}
	check(c, "attach_without_vdevice_enoent", ret == -ENOENT, "%s", err(ret));

	check_invalidation(&v, &a);
	check_veventq(&v, &a, &b);
	check_hw_queue(&v);
}
