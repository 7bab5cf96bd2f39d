// SPDX-License-Identifier: GPL-2.0-only
/*
 * The translating struct dma_space of a device behind the unit, with kite's IOTLB and context
 * cache. Only successful lookups are cached (CM=0 in emulated mode: the guest does not
 * invalidate not-present -> present changes), and a cached entry with too few permissions is
 * re-walked rather than trusted. Entries are tagged with the DID/PASID the guest's descriptors
 * name, so the queue drops exactly what they invalidate (vtd_iotlb_flush).
 */
#include <errno.h>
#include <string.h>

#include "iommu/vtd/vtd_priv.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define PAGE 4096ULL

static unsigned int iotlb_index(uint16_t sid, uint64_t pfn)
{
	uint64_t h = (pfn ^ ((uint64_t)sid << 20)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned int)(h >> 52) & (VTD_IOTLB_SIZE - 1);
}

static void caps_snapshot(struct vtd *v, struct vtd_caps *caps, uint64_t *rtaddr, bool *te)
{
	pthread_mutex_lock(&v->lock);
	*caps = v->caps;
	*rtaddr = v->rtaddr_latched;
	*te = v->gsts & VTD_GCMD_TE;
	pthread_mutex_unlock(&v->lock);
}

static int get_ctx(struct vtd *v, const struct vtd_caps *caps, uint64_t rtaddr, uint16_t sid,
		   struct vtd_ctx *ctx, struct vtd_fault *f)
{
	struct vtd_ctx_entry *ce = &v->ctxc[sid % VTD_CTX_CACHE_SIZE];
	uint32_t gen;
	int ret;

	pthread_mutex_lock(&v->cache_lock);
	gen = v->cache_gen;
	if (ce->valid && ce->gen == gen && ce->sid == sid) {
		*ctx = ce->ctx;
		pthread_mutex_unlock(&v->cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&v->cache_lock);
	ret = vtd_resolve_ctx(v->mem, caps, rtaddr, sid, ctx, f);
	if (ret)
		return ret;
	pthread_mutex_lock(&v->cache_lock);
	if (v->cache_gen == gen) {
		ce->ctx = *ctx;
		ce->sid = sid;
		ce->gen = gen;
		ce->valid = true;
	}
	pthread_mutex_unlock(&v->cache_lock);
	return 0;
}

/* One page: 0 with *gpa, or -EFAULT / -EPERM after recording the fault. */
static int translate(struct vtd *v, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa)
{
	unsigned int need = write ? 2 : 1, perm = 0, idx = iotlb_index(sid, iova >> 12);
	struct vtd_iotlb_entry *e = &v->iotlb[idx];
	struct vtd_fault f = { 0 };
	struct vtd_caps caps;
	/* Zeroed: a root or context fault happens before any FPD is known, and is reported. */
	struct vtd_ctx ctx = { 0 };
	uint64_t rtaddr, page = iova & ~(PAGE - 1);
	uint32_t seq;
	bool te;
	int ret;

	pthread_mutex_lock(&v->cache_lock);
	if (e->gen == v->cache_gen && e->tag == (page | 1) && e->sid == sid && (e->perm & need)) {
		*gpa = e->gpa;
		pthread_mutex_unlock(&v->cache_lock);
		return 0;
	}
	seq = v->cache_seq;
	pthread_mutex_unlock(&v->cache_lock);

	caps_snapshot(v, &caps, &rtaddr, &te);
	if (!te) {
		*gpa = page;
		return 0;
	}
	ret = get_ctx(v, &caps, rtaddr, sid, &ctx, &f);
	if (!ret)
		ret = vtd_walk(v->mem, &caps, &ctx, iova, gpa, &perm, &f);
	if (!ret && !(perm & need)) {
		f.reason = caps.scalable ? (ctx.kind == VTD_XLATE_FS
						    ? (write ? VTD_FR_FS_WRITE : VTD_FR_FS_READ)
						    : VTD_FR_SS_PERM)
					 : (write ? VTD_FR_WRITE : VTD_FR_READ);
		f.qualified = !ctx.fpd;
		ret = perm ? -EPERM : -EFAULT;
	}
	if (ret) {
		/* Emulated devices send no PASID prefix: RID_PASID walks are recorded PP = 0. */
		if (f.qualified || !ctx.fpd)
			vtd_record_fault(v, sid, page, write, f.reason, false, 0);
		else
			__atomic_fetch_add(&v->faults, 1, __ATOMIC_RELAXED);
		return ret;
	}
	pthread_mutex_lock(&v->cache_lock);
	/* An invalidation that ran during the walk may have covered this page: don't cache. */
	if (v->cache_seq == seq) {
		e->tag = page | 1;
		e->gpa = *gpa;
		e->gen = v->cache_gen;
		e->sid = sid;
		e->did = ctx.did;
		e->pasid = ctx.pasid;
		e->perm = (uint8_t)perm;
	}
	pthread_mutex_unlock(&v->cache_lock);
	return 0;
}

static int vtd_dma_map(struct dma_space *d, uint64_t iova, uint64_t len, bool write,
		       struct iovec *iov, int max)
{
	struct vtd_dev *dev = d->opaque;
	int n = 0;

	if (max < 1)
		return -E2BIG;
	if (len == 0) {
		iov[0] = (struct iovec){ .iov_base = NULL, .iov_len = 0 };
		return 0;
	}
	if (iova + len < iova)
		return -EFAULT;
	while (len) {
		uint64_t off = iova & (PAGE - 1), chunk = PAGE - off, gpa;
		uint8_t *p;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = translate(dev->v, dev->sid, iova, write, &gpa);
		if (ret)
			return ret;
		p = guest_mem_ptr(d->mem, gpa + off, chunk);
		if (!p)
			return -EFAULT;
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += chunk;
		} else {
			if (n == max)
				return -E2BIG;
			iov[n++] = (struct iovec){ .iov_base = p, .iov_len = chunk };
		}
		iova += chunk;
		len -= chunk;
	}
	return n;
}

static const struct dma_ops vtd_dma_ops = { .map = vtd_dma_map };

void vtd_dma_init(struct vtd *v, struct vtd_dev *dev, struct dma_space *d)
{
	d->ops = &vtd_dma_ops;
	d->mem = v->mem;
	d->opaque = dev;
}

void vtd_cache_flush_all(struct vtd *v)
{
	pthread_mutex_lock(&v->cache_lock);
	v->cache_gen++;
	v->cache_seq++;
	pthread_mutex_unlock(&v->cache_lock);
}

void vtd_ctx_flush(struct vtd *v, int sid)
{
	pthread_mutex_lock(&v->cache_lock);
	v->cache_seq++;
	for (unsigned int i = 0; i < VTD_CTX_CACHE_SIZE; i++)
		if (sid < 0 || v->ctxc[i].sid == sid)
			v->ctxc[i].valid = false;
	pthread_mutex_unlock(&v->cache_lock);
}

static bool inval_covers(const struct viommu_inval *inv, const struct vtd_iotlb_entry *e)
{
	uint64_t page = e->tag & ~(PAGE - 1);

	if (inv->scope == VIOMMU_INVAL_GLOBAL)
		return true;
	if (e->did != inv->did || (inv->has_pasid && e->pasid != inv->pasid))
		return false;
	if (inv->scope == VIOMMU_INVAL_DOMAIN)
		return true;
	return page >= inv->addr && (page - inv->addr) >> 12 < inv->npages;
}

void vtd_iotlb_flush(struct vtd *v, const struct viommu_inval *inv)
{
	pthread_mutex_lock(&v->cache_lock);
	v->cache_seq++;
	if (inv->scope == VIOMMU_INVAL_GLOBAL) {
		v->cache_gen++;
	} else {
		for (unsigned int i = 0; i < VTD_IOTLB_SIZE; i++) {
			struct vtd_iotlb_entry *e = &v->iotlb[i];

			if (e->gen == v->cache_gen && (e->tag & 1) && inval_covers(inv, e))
				e->tag = 0;
		}
	}
	pthread_mutex_unlock(&v->cache_lock);
}
