// SPDX-License-Identifier: GPL-2.0-only
/*
 * mode=shadow: the IOAS of a host-backed device (VFIO) behind the unit holds exactly what the
 * guest's tables say for its source id, so the host IOMMU enforces the guest's mappings.
 *
 * - TE off, or a pass-through context: all guest RAM at IOVA == GPA (host_iommu_map_guest_mem).
 * - Context not present or invalid: nothing mapped (the device's DMA faults on the host).
 * - Translating context: one IOMMU_IOAS_MAP per run of leaves that are contiguous in IOVA, in
 *   guest RAM (hence in kite's host mapping) and of the same permission; kite keeps the list
 *   of what it mapped (struct vtd_area) to unmap exactly that later.
 *
 * CAP.CM=1 makes the guest invalidate also not-present -> present changes, so every change the
 * guest makes reaches kite as a descriptor: context-cache / PASID-cache ones (and TE, SRTP)
 * re-resolve the context (vtd_shadow_sync_all), IOTLB ones re-walk exactly their range
 * (vtd_shadow_inval). A re-walk compares with what is mapped: areas the guest did not change
 * stay mapped (no window for DMA in flight to them), changed ones are unmapped and what the
 * tables now say is mapped. An area only partly inside the range and changed there is unmapped
 * whole and its outside parts mapped again.
 *
 * Only the drain thread calls this (and set-up/tear-down), so the host calls are done before
 * the waits behind the descriptor complete. A guest table outside RAM or a leaf pointing
 * outside RAM maps nothing for that range: the host IOMMU then blocks that DMA (the fault is
 * the host's; kite records nothing, as a VT-d records faults on requests, not invalidations).
 * Every walk visits at most VTD_SHADOW_MAX_VISIT entries, and only present ones are followed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/vtd/vtd_priv.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define PAGE 4096ULL

struct runs {
	struct vtd_area *a;
	uint32_t n, cap;
	bool oom;
};

static void runs_free(struct runs *r)
{
	free(r->a);
	*r = (struct runs){ 0 };
}

static void runs_push(struct runs *r, uint64_t iova, uint64_t len, uint64_t gpa, uint8_t perm)
{
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 64;
		struct vtd_area *a = cap > r->cap ? realloc(r->a, cap * sizeof(*a)) : NULL;

		if (!a) {
			r->oom = true;
			return;
		}
		r->a = a;
		r->cap = cap;
	}
	r->a[r->n++] = (struct vtd_area){ .iova = iova, .len = len, .gpa = gpa, .perm = perm };
}

static bool shadow_err_log(struct vtd *v)
{
	uint64_t n = __atomic_add_fetch(&v->shadow_errors, 1, __ATOMIC_RELAXED);

	return n <= 10 || n % 1000 == 0;
}

static void count_call(struct vtd *v)
{
	__atomic_fetch_add(&v->shadow_calls, 1, __ATOMIC_RELAXED);
}

static int host_map(struct vtd *v, struct vtd_shadow *s, const struct vtd_area *e)
{
	void *va = guest_mem_ptr(v->mem, e->gpa, e->len);
	uint64_t iova = e->iova;
	uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA | ((e->perm & 1) ? IOMMU_IOAS_MAP_READABLE : 0) |
			 ((e->perm & 2) ? IOMMU_IOAS_MAP_WRITEABLE : 0);
	int ret;

	if (!va)
		return -EFAULT; /* not reached: runs are checked against RAM when collected */
	count_call(v);
	ret = host_iommu_ioas_map(s->host, s->ioas_id, va, e->len, &iova, flags);
	if (ret < 0 && shadow_err_log(v))
		log_warn("vtd: shadow of %02x:%02x.%u: IOAS map 0x%llx+0x%llx failed: %s",
			 s->sid >> 8, (s->sid >> 3) & 31, s->sid & 7, (unsigned long long)e->iova,
			 (unsigned long long)e->len, strerror(-ret));
	return ret;
}

static int host_unmap(struct vtd *v, struct vtd_shadow *s, uint64_t iova, uint64_t len)
{
	int ret;

	count_call(v);
	ret = host_iommu_ioas_unmap(s->host, s->ioas_id, iova, len, NULL);
	if (ret == -ENOENT) /* nothing there: what we wanted */
		ret = 0;
	if (ret < 0 && shadow_err_log(v))
		log_warn("vtd: shadow of %02x:%02x.%u: IOAS unmap 0x%llx+0x%llx failed: %s",
			 s->sid >> 8, (s->sid >> 3) & 31, s->sid & 7, (unsigned long long)iova,
			 (unsigned long long)len, strerror(-ret));
	return ret;
}

/* ---- collecting the guest's leaves in [a, last] ---- */

struct walk {
	struct vtd *v;
	const struct vtd_caps *caps;
	const struct vtd_ctx *ctx;
	uint64_t a, last;
	uint32_t visited;
	bool truncated;
	struct runs *out;
};

/* One leaf's part [s, e] (inclusive): the page walker decides gpa and permission. */
static void emit(struct walk *w, uint64_t s, uint64_t e)
{
	uint64_t gpa, len = e - s + 1;
	unsigned int perm = 0;
	struct vtd_fault f;
	struct runs *r = w->out;

	if (vtd_walk(w->v->mem, w->caps, w->ctx, s, &gpa, &perm, &f) || !(perm & 3))
		return;
	/* A leaf (or part) outside RAM maps nothing. */
	if (!guest_mem_ptr(w->v->mem, gpa, len))
		return;
	if (r->n) {
		struct vtd_area *p = &r->a[r->n - 1];

		if (p->iova + p->len == s && p->gpa + p->len == gpa && p->perm == perm &&
		    guest_mem_ptr(w->v->mem, p->gpa, p->len + len)) {
			p->len += len;
			return;
		}
	}
	if (r->n == VTD_SHADOW_MAX_RUNS) {
		w->truncated = true;
		return;
	}
	runs_push(r, s, len, gpa, (uint8_t)perm);
}

static uint64_t addr_mask(const struct vtd_caps *caps)
{
	return ((1ULL << caps->mgaw) - 1) & ~(PAGE - 1);
}

static void walk_table(struct walk *w, uint64_t table, unsigned int level, uint64_t base)
{
	unsigned int shift = 12 + 9 * (level - 1);
	uint64_t span = 1ULL << shift, lo = w->a > base ? w->a : base;
	uint64_t top = base + (512ULL << shift) - 1, hi = w->last < top ? w->last : top;
	bool fs = w->ctx->kind == VTD_XLATE_FS;
	uint64_t t[512];

	if (lo > hi)
		return;
	/* A table outside RAM maps nothing below it. */
	if (guest_mem_read(w->v->mem, table, t, sizeof(t)))
		return;
	for (uint64_t i = (lo - base) >> shift; i <= (hi - base) >> shift; i++) {
		uint64_t pte = t[i], iova = base + i * span;

		if (w->truncated || ++w->visited > VTD_SHADOW_MAX_VISIT) {
			w->truncated = true;
			return;
		}
		if (!(pte & (fs ? 1 : 3)))
			continue;
		if (level == 1 || (pte & (1u << 7))) {
			uint64_t s = iova > w->a ? iova : w->a, e = iova + span - 1;

			emit(w, s, e < w->last ? e : w->last);
		} else {
			walk_table(w, pte & addr_mask(w->caps), level - 1, iova);
		}
	}
}

/* The last IOVA the context translates (its address width). */
static uint64_t ctx_last(const struct vtd_caps *caps, const struct vtd_ctx *ctx)
{
	unsigned int width = ctx->kind == VTD_XLATE_FS ? 48 : 12 + 9 * ctx->levels;

	if (ctx->kind != VTD_XLATE_FS && width > caps->mgaw)
		width = caps->mgaw;
	return (1ULL << width) - 1;
}

static void collect(struct vtd *v, const struct vtd_caps *caps, const struct vtd_ctx *ctx,
		    uint64_t a, uint64_t last, struct runs *out)
{
	struct walk w = { .v = v, .caps = caps, .ctx = ctx, .a = a, .last = last, .out = out };
	unsigned int levels = ctx->kind == VTD_XLATE_FS ? 4 : ctx->levels;

	if (levels < 1 || levels > 4)
		return;
	walk_table(&w, ctx->root, levels, 0);
	if (w.truncated && shadow_err_log(v))
		log_warn("vtd: shadow of domain %u: more than %u table entries or %u runs in one "
			 "walk; the rest of 0x%llx..0x%llx is not mapped",
			 ctx->did, VTD_SHADOW_MAX_VISIT, VTD_SHADOW_MAX_RUNS, (unsigned long long)a,
			 (unsigned long long)last);
}

/* ---- comparing and applying ---- */

/* First index in @r (sorted, disjoint) whose end is above @x. */
static uint32_t first_after(const struct vtd_area *r, uint32_t n, uint64_t x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r[mid].iova + r[mid].len <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether @want maps [x, y] exactly as gpa @gpa at x onwards with @perm. */
static bool same(const struct runs *want, uint64_t x, uint64_t y, uint64_t gpa, uint8_t perm)
{
	uint64_t cur = x;

	for (uint32_t i = first_after(want->a, want->n, x); i < want->n && cur <= y; i++) {
		const struct vtd_area *r = &want->a[i];

		if (r->iova > cur || r->perm != perm || r->gpa + (cur - r->iova) != gpa + (cur - x))
			return false;
		cur = r->iova + r->len;
	}
	return cur > y;
}

static int cmp_area(const void *a, const void *b)
{
	const struct vtd_area *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* Re-walks [a, last] of a XLATE shadow: unmap what changed, map what is new. 0 or -EIO. */
static int resync(struct vtd *v, struct vtd_shadow *s, const struct vtd_caps *caps, uint64_t a,
		  uint64_t last)
{
	struct runs want = { 0 }, keep = { 0 }, todo = { 0 }, rec = { 0 };
	uint32_t lo, hi, kp = 0;
	int err = 0;

	if (last > ctx_last(caps, &s->ctx))
		last = ctx_last(caps, &s->ctx);
	if (a > last)
		return 0;
	collect(v, caps, &s->ctx, a, last, &want);
	lo = first_after(s->areas, s->n, a);
	for (hi = lo; hi < s->n && s->areas[hi].iova <= last; hi++) {
		const struct vtd_area *e = &s->areas[hi];
		uint64_t end = e->iova + e->len - 1;
		uint64_t x = e->iova > a ? e->iova : a, y = end < last ? end : last;

		if (same(&want, x, y, e->gpa + (x - e->iova), e->perm)) {
			runs_push(&keep, e->iova, e->len, e->gpa, e->perm);
			continue;
		}
		if (host_unmap(v, s, e->iova, e->len)) {
			/* Still mapped as far as we know: keep it so a later sync retries. */
			runs_push(&keep, e->iova, e->len, e->gpa, e->perm);
			err = -EIO;
			continue;
		}
		if (e->iova < x)
			runs_push(&todo, e->iova, x - e->iova, e->gpa, e->perm);
		if (y < end)
			runs_push(&todo, y + 1, end - y, e->gpa + (y + 1 - e->iova), e->perm);
	}
	/* todo += want minus what is kept. */
	for (uint32_t i = 0; i < want.n; i++) {
		const struct vtd_area *w = &want.a[i];
		uint64_t cur = w->iova, end = w->iova + w->len;

		while (kp < keep.n && keep.a[kp].iova + keep.a[kp].len <= w->iova)
			kp++;
		for (uint32_t k = kp; k < keep.n && keep.a[k].iova < end && cur < end; k++) {
			if (keep.a[k].iova > cur)
				runs_push(&todo, cur, keep.a[k].iova - cur,
					  w->gpa + (cur - w->iova), w->perm);
			if (keep.a[k].iova + keep.a[k].len > cur)
				cur = keep.a[k].iova + keep.a[k].len;
		}
		if (cur < end)
			runs_push(&todo, cur, end - cur, w->gpa + (cur - w->iova), w->perm);
	}
	/* The new record: untouched areas, kept ones, and what maps now. */
	for (uint32_t i = 0; i < lo; i++)
		runs_push(&rec, s->areas[i].iova, s->areas[i].len, s->areas[i].gpa,
			  s->areas[i].perm);
	for (uint32_t i = hi; i < s->n; i++)
		runs_push(&rec, s->areas[i].iova, s->areas[i].len, s->areas[i].gpa,
			  s->areas[i].perm);
	for (uint32_t i = 0; i < keep.n; i++)
		runs_push(&rec, keep.a[i].iova, keep.a[i].len, keep.a[i].gpa, keep.a[i].perm);
	for (uint32_t i = 0; i < todo.n; i++) {
		if (rec.n >= VTD_SHADOW_MAX_AREAS) {
			if (shadow_err_log(v))
				log_warn(
					"vtd: shadow of sid 0x%04x: more than %u areas; the rest is "
					"not mapped",
					s->sid, VTD_SHADOW_MAX_AREAS);
			break;
		}
		if (host_map(v, s, &todo.a[i])) {
			err = -EIO;
			continue;
		}
		runs_push(&rec, todo.a[i].iova, todo.a[i].len, todo.a[i].gpa, todo.a[i].perm);
	}
	if (want.oom || keep.oom || todo.oom || rec.oom) {
		/* Out of memory: forget everything and start from an empty IOAS next time. */
		log_error("vtd: shadow of sid 0x%04x: out of memory; its IOAS is emptied", s->sid);
		host_unmap(v, s, 0, UINT64_MAX);
		rec.n = 0;
		s->state = VTD_SHADOW_EMPTY;
		err = -EIO;
	}
	qsort(rec.a, rec.n, sizeof(*rec.a), cmp_area);
	free(s->areas);
	s->areas = rec.a;
	s->n = rec.n;
	s->cap = rec.cap;
	runs_free(&want);
	runs_free(&keep);
	runs_free(&todo);
	return err;
}

static void caps_now(struct vtd *v, struct vtd_caps *caps, uint64_t *rtaddr, bool *te)
{
	pthread_mutex_lock(&v->lock);
	*caps = v->caps;
	*rtaddr = v->rtaddr_latched;
	*te = v->gsts & VTD_GCMD_TE;
	pthread_mutex_unlock(&v->lock);
}

static bool ctx_differs(const struct vtd_ctx *a, const struct vtd_ctx *b)
{
	return a->kind != b->kind || a->root != b->root || a->levels != b->levels ||
	       a->did != b->did || a->pasid != b->pasid;
}

/* Shadow lock held. Re-resolves @s's context and re-walks it whole if it changed. */
static int sync_dev(struct vtd *v, struct vtd_shadow *s)
{
	enum vtd_shadow_state want = VTD_SHADOW_IDENTITY;
	struct vtd_ctx ctx = { 0 };
	struct vtd_caps caps;
	struct vtd_fault f;
	uint64_t rtaddr;
	bool te;
	int ret = 0;

	caps_now(v, &caps, &rtaddr, &te);
	if (te) {
		if (vtd_resolve_ctx(v->mem, &caps, rtaddr, s->sid, &ctx, &f))
			want = VTD_SHADOW_EMPTY;
		else if (ctx.kind == VTD_XLATE_SS || ctx.kind == VTD_XLATE_FS)
			want = VTD_SHADOW_XLATE;
		else if (ctx.kind != VTD_XLATE_PT)
			want = VTD_SHADOW_EMPTY;
	}
	if (want == s->state && (want != VTD_SHADOW_XLATE || !ctx_differs(&ctx, &s->ctx)))
		return want == VTD_SHADOW_XLATE ? resync(v, s, &caps, 0, UINT64_MAX) : 0;
	/* A different translation: start from an empty IOAS. */
	if (host_unmap(v, s, 0, UINT64_MAX))
		ret = -EIO;
	s->n = 0;
	s->state = VTD_SHADOW_EMPTY;
	s->ctx = ctx;
	if (want == VTD_SHADOW_IDENTITY) {
		count_call(v);
		if (host_iommu_map_guest_mem(s->host, s->ioas_id, v->mem)) {
			if (shadow_err_log(v))
				log_warn("vtd: shadow of sid 0x%04x: cannot map guest RAM", s->sid);
			return -EIO;
		}
		s->state = want;
	} else if (want == VTD_SHADOW_XLATE) {
		s->state = want;
		if (resync(v, s, &caps, 0, UINT64_MAX))
			ret = -EIO;
	}
	return ret;
}

int vtd_shadow_sync_all(struct vtd *v)
{
	int err = 0;

	pthread_mutex_lock(&v->shadow_lock);
	for (unsigned int i = 0; i < v->nshadows; i++) {
		if (!v->shadows[i].used)
			continue;
		__atomic_fetch_add(&v->shadow_invals, 1, __ATOMIC_RELAXED);
		if (sync_dev(v, &v->shadows[i]))
			err = -EIO;
	}
	pthread_mutex_unlock(&v->shadow_lock);
	return err;
}

int vtd_shadow_inval(struct vtd *v, const struct viommu_inval *inv)
{
	uint64_t a = 0, last = UINT64_MAX;
	int err = 0;

	if (inv->scope == VIOMMU_INVAL_RANGE) {
		a = inv->addr;
		if (inv->npages < (1ULL << 52) && a + (inv->npages << 12) - 1 >= a)
			last = a + (inv->npages << 12) - 1;
	}
	pthread_mutex_lock(&v->shadow_lock);
	for (unsigned int i = 0; i < v->nshadows; i++) {
		struct vtd_shadow *s = &v->shadows[i];
		struct vtd_caps caps;
		uint64_t rtaddr;
		bool te;

		if (!s->used || s->state != VTD_SHADOW_XLATE)
			continue;
		if (inv->scope != VIOMMU_INVAL_GLOBAL &&
		    (inv->did != s->ctx.did || (inv->has_pasid && inv->pasid != s->ctx.pasid)))
			continue;
		caps_now(v, &caps, &rtaddr, &te);
		__atomic_fetch_add(&v->shadow_invals, 1, __ATOMIC_RELAXED);
		if (resync(v, s, &caps, a, last))
			err = -EIO;
	}
	pthread_mutex_unlock(&v->shadow_lock);
	return err;
}

void vtd_shadow_poll(struct vtd *v)
{
	bool dirty;

	pthread_mutex_lock(&v->lock);
	dirty = v->shadow_dirty;
	v->shadow_dirty = false;
	pthread_mutex_unlock(&v->lock);
	if (dirty && v->nshadows && vtd_shadow_sync_all(v) && shadow_err_log(v))
		log_warn("vtd: shadow update after a TE/SRTP change failed");
}

int vtd_shadow_add(struct vtd *v, uint16_t sid, struct host_iommu *h, uint32_t ioas_id)
{
	struct vtd_shadow *s;
	int ret;

	if (v->params.mode != VTD_MODE_SHADOW)
		return -EOPNOTSUPP;
	if (!h || !ioas_id)
		return -EINVAL;
	pthread_mutex_lock(&v->shadow_lock);
	for (unsigned int i = 0; i < v->nshadows; i++)
		if (v->shadows[i].used && v->shadows[i].sid == sid) {
			pthread_mutex_unlock(&v->shadow_lock);
			return -EEXIST;
		}
	if (v->nshadows == VTD_MAX_HOST_DEVS || vtd_add_sid(v, sid) < 0) {
		pthread_mutex_unlock(&v->shadow_lock);
		return -ENOSPC;
	}
	s = &v->shadows[v->nshadows++];
	*s = (struct vtd_shadow){ .used = true, .sid = sid, .host = h, .ioas_id = ioas_id };
	ret = sync_dev(v, s);
	pthread_mutex_unlock(&v->shadow_lock);
	return ret;
}

void vtd_shadow_del(struct vtd *v, uint16_t sid)
{
	pthread_mutex_lock(&v->shadow_lock);
	for (unsigned int i = 0; i < v->nshadows; i++) {
		struct vtd_shadow *s = &v->shadows[i];

		if (!s->used || s->sid != sid)
			continue;
		host_unmap(v, s, 0, UINT64_MAX);
		free(s->areas);
		*s = (struct vtd_shadow){ 0 };
	}
	pthread_mutex_unlock(&v->shadow_lock);
}

void vtd_shadow_free(struct vtd *v)
{
	for (unsigned int i = 0; i < v->nshadows; i++)
		free(v->shadows[i].areas);
	v->nshadows = 0;
}
