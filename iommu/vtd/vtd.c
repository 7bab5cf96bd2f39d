// SPDX-License-Identifier: GPL-2.0-only
/* The VT-d unit without a VM: capabilities, state, host-backed devices, counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu/vtd/vtd_priv.h"

#define CAP_CM (1ULL << 7)
#define ECAP_SMTS (1ULL << 43)
#define ECAP_SLTS (1ULL << 46)
#define ECAP_FLTS (1ULL << 47)

void vtd_compute_caps(const struct vtd_params *p, uint64_t *cap, uint64_t *ecap)
{
	uint64_t sagaw = p->aw == 39 ? 0x2 : 0x6; /* 39-bit (3-level) [+ 48-bit (4-level)] */

	*cap = 6ULL					      /* ND: 65536 domains */
	       | (sagaw << 8) | ((uint64_t)(p->aw - 1) << 16) /* MGAW */
	       | ((uint64_t)VTD_FRO << 24)		      /* one FRCD at 0x220, NFR 0 */
	       | (3ULL << 34)				      /* SLLPS: 2 MiB, 1 GiB */
	       | (1ULL << 39)				      /* PSI */
	       | (18ULL << 48);				      /* MAMV */
	/* Host hardware does the DMA: the guest must tell kite about every new mapping. */
	if (p->mode == VTD_MODE_SHADOW || p->mode == VTD_MODE_NESTED)
		*cap |= CAP_CM;
	*ecap = (1ULL << 1) | (1ULL << 6) | ((uint64_t)VTD_IRO << 8); /* QI, PT, IRO */
	if (p->scalable) {
		*ecap |= ECAP_SMTS | ECAP_SLTS;
		/* CM does not cover first-stage maps (no invalidation on map): no FS to shadow. */
		if (p->mode != VTD_MODE_SHADOW)
			*ecap |= ECAP_FLTS;
		*cap |= 1ULL << 56; /* FL1GP */
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int vtd_init(struct vtd *v, const struct guest_mem *mem, const struct vtd_params *p,
	     int (*msi)(void *ctx, uint64_t addr, uint32_t data), void *msi_ctx)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->mem = mem;
	v->params = *p;
	v->msi = msi;
	v->msi_ctx = msi_ctx;
	v->now_ns = mono_ns;
	v->err_window_start = mono_ns() - 1000000000ULL; /* the first error opens a window */
	vtd_compute_caps(p, &v->cap, &v->ecap);
	v->caps.mgaw = p->aw;
	v->caps.sagaw = (uint8_t)((v->cap >> 8) & 0x1f);
	v->caps.sllps_2m = v->caps.sllps_1g = true;
	v->caps.fl1gp = p->scalable;
	v->caps.pt = true;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->cache_lock, NULL);
	pthread_mutex_init(&v->shadow_lock, NULL);
	v->cache_gen = 1;
	vtd_reset(v);
	ret = viommu_queue_init(&v->q, mem, &vtd_queue_ops, v, VTD_MAX_QUEUE_BYTES);
	if (ret) {
		pthread_mutex_destroy(&v->lock);
		pthread_mutex_destroy(&v->cache_lock);
		pthread_mutex_destroy(&v->shadow_lock);
	}
	return ret;
}

void vtd_uninit(struct vtd *v)
{
	viommu_queue_destroy(&v->q);
	vtd_shadow_free(v);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->cache_lock);
	pthread_mutex_destroy(&v->shadow_lock);
}

int vtd_add_sid(struct vtd *v, uint16_t sid)
{
	for (unsigned int i = 0; i < v->nsids; i++)
		if (v->sids[i] == sid)
			return (int)i;
	if (v->nsids == VTD_MAX_SIDS)
		return -ENOSPC;
	v->devs[v->nsids] = (struct vtd_dev){ .v = v, .sid = sid };
	v->sids[v->nsids] = sid;
	return (int)v->nsids++;
}

int vtd_add_host_dev(struct vtd *v, const struct viommu_host_dev *hd)
{
	if (!hd->host || !hd->target.encode || !hd->target.entry_len ||
	    hd->target.entry_len > VIOMMU_MAX_ENTRY_LEN)
		return -EINVAL;
	for (unsigned int i = 0; i < v->nhdevs; i++)
		if (v->hdevs[i].sid == hd->sid)
			return -EEXIST;
	if (v->nhdevs == VTD_MAX_HOST_DEVS || vtd_add_sid(v, hd->sid) < 0)
		return -ENOSPC;
	v->hdevs[v->nhdevs++] = *hd;
	return 0;
}

void vtd_get_counters(struct vtd *v, struct viommu_counters *c)
{
	/* Shadowed devices: invalidations applied to a shadow, and its IOAS MAP/UNMAP calls. */
	c->forwarded = __atomic_load_n(&v->q.ctr.forwarded, __ATOMIC_RELAXED) +
		       __atomic_load_n(&v->shadow_invals, __ATOMIC_RELAXED);
	c->host_calls = __atomic_load_n(&v->q.ctr.host_calls, __ATOMIC_RELAXED) +
			__atomic_load_n(&v->shadow_calls, __ATOMIC_RELAXED);
	c->descriptors = __atomic_load_n(&v->q.ctr.descriptors, __ATOMIC_RELAXED);
	c->faults = __atomic_load_n(&v->faults, __ATOMIC_RELAXED);
	pthread_mutex_lock(&v->lock);
	c->doorbells = v->doorbells;
	c->iqe = v->iqes;
	pthread_mutex_unlock(&v->lock);
}
