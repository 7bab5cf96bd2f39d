// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d side of the queue pipeline (iommu/viommu_queue.h): queue geometry from IQA/IQH/IQT,
 * the descriptor parser (spec 6.5.2, every type Linux 6.12 issues), kite's own cache effects,
 * what is forwarded to host-backed devices, wait completion, and IQE reporting.
 *
 * Only the drain thread runs these, on its private copy of the descriptors.
 */
#include <errno.h>

#include "iommu/vtd/vtd_priv.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define IQA_DW (1ULL << 11)
#define VTD_MAMV 18

/* Lock held. The caller sends the vtd-error event after unlocking (report_iqe). */
static void raise_iqe(struct vtd *v, unsigned int iqei)
{
	uint32_t old = v->fsts;
	struct viommu_error e = {
		.kind = VIOMMU_ERROR_IQE,
		.code = (uint8_t)(iqei & 0xf),
		.index = (uint32_t)(v->iqh / ((v->iqa_latched & IQA_DW) ? 32 : 16)),
	};

	v->fsts |= VTD_FSTS_IQE;
	v->iqer = iqei & 0xf;
	v->iqes++;
	vtd_fault_event(v, old);
	if (vtd_error_admit(v, &e)) {
		v->iqe_report = e;
		v->iqe_report_pending = true;
	}
}

/* Lock not held; drain thread only (the one that raises IQEs). */
static void report_iqe(struct vtd *v)
{
	if (v->iqe_report_pending) {
		v->iqe_report_pending = false;
		vtd_error_send(v, &v->iqe_report);
	}
}

static int vtd_snapshot(void *model, struct viommu_queue_snap *s)
{
	struct vtd *v = model;
	uint64_t size, tail_bytes;
	int ret = 0;

	/* TE / SRTP / register invalidations since the last pass (mode=shadow). */
	vtd_shadow_poll(v);
	pthread_mutex_lock(&v->lock);
	if (!(v->gsts & VTD_GCMD_QIE) || (v->fsts & VTD_FSTS_IQE))
		goto out;
	size = 4096ULL << (v->iqa_latched & 7);
	s->desc_len = (v->iqa_latched & IQA_DW) ? 32 : 16;
	s->nslots = (uint32_t)(size / s->desc_len);
	s->base = v->iqa_latched & ~0xfffULL;
	s->gen = v->qgen;
	tail_bytes = v->iqt & 0x7fff0;
	if ((v->iqa_latched & IQA_DW) && !(v->ecap & (1ULL << 43))) {
		raise_iqe(v, VTD_IQEI_WIDTH);
		goto out;
	}
	if (tail_bytes & (s->desc_len - 1)) {
		raise_iqe(v, VTD_IQEI_ALIGN);
		goto out;
	}
	if (tail_bytes >= size) {
		raise_iqe(v, VTD_IQEI_TAIL);
		goto out;
	}
	v->drain_wide = s->desc_len == 32;
	s->head = (uint32_t)(v->iqh / s->desc_len);
	s->tail = (uint32_t)(tail_bytes / s->desc_len);
	ret = s->head != s->tail;
out:
	pthread_mutex_unlock(&v->lock);
	report_iqe(v);
	return ret;
}

static void vtd_finish(void *model, const struct viommu_queue_snap *s, uint32_t head, int err)
{
	struct vtd *v = model;

	pthread_mutex_lock(&v->lock);
	/* The guest disabled or re-based the queue meanwhile: this pass no longer counts. */
	if (s->gen == v->qgen) {
		v->iqh = (uint64_t)head * s->desc_len;
		if (err == VIOMMU_ERR_FETCH)
			raise_iqe(v, VTD_IQEI_FETCH);
		else if (err == VIOMMU_ERR_HOST)
			raise_iqe(v, 0); /* the descriptor is valid; the host refused it */
		else if (err)
			raise_iqe(v, (unsigned int)-err);
	}
	pthread_mutex_unlock(&v->lock);
	report_iqe(v);
}

static void current_caps(struct vtd *v, struct vtd_caps *caps, uint64_t *rtaddr)
{
	pthread_mutex_lock(&v->lock);
	*caps = v->caps;
	*rtaddr = v->rtaddr_latched;
	pthread_mutex_unlock(&v->lock);
}

/* Offers @inv to every host-backed device it concerns. 0 or the model error for this desc. */
static int forward(struct vtd *v, const struct viommu_inval *inv, struct viommu_gather *g)
{
	struct vtd_caps caps;
	uint64_t rtaddr = 0;
	bool have_caps = false;

	for (unsigned int i = 0; i < v->nhdevs; i++) {
		const struct viommu_host_dev *hd = &v->hdevs[i];
		int ret;

		if (hd->mode != VIOMMU_HOST_FORWARD)
			continue;
		if (!hd->all_domains && inv->scope != VIOMMU_INVAL_GLOBAL) {
			struct vtd_ctx ctx;
			struct vtd_fault f;

			if (!have_caps) {
				current_caps(v, &caps, &rtaddr);
				have_caps = true;
			}
			if (vtd_resolve_ctx(v->mem, &caps, rtaddr, hd->sid, &ctx, &f) ||
			    ctx.did != inv->did)
				continue;
		}
		ret = viommu_gather_add(g, hd, inv);
		if (ret < 0)
			return -VTD_IQEI_RSVD;
	}
	return 0;
}

/* Page-selective IOTLB and PASID-IOTLB: 2^AM pages at ADDR, AM at most @max_am. */
static int page_range(const uint64_t *qw, unsigned int max_am, struct viommu_inval *inv)
{
	unsigned int am = qw[1] & 0x3f;

	if (am > max_am)
		return -VTD_IQEI_RSVD;
	inv->scope = VIOMMU_INVAL_RANGE;
	/* Address bits below the mask are ignored (spec 6.5.2.3); AM = 52 is all of them. */
	inv->addr = 12 + am >= 64 ? 0 : qw[1] & ~((1ULL << (12 + am)) - 1);
	inv->npages = 1ULL << am;
	inv->leaf = qw[1] & (1u << 6);
	return 0;
}

static int parse_iotlb(struct vtd *v, const uint64_t *qw, struct viommu_inval *inv)
{
	unsigned int g = (qw[0] >> 4) & 3;

	if ((qw[0] & 0xffffffff0000ff00ULL) || (qw[1] & 0xf80))
		return -VTD_IQEI_RSVD;
	inv->did = (uint16_t)(qw[0] >> 16);
	switch (g) {
	case 1:
		inv->scope = VIOMMU_INVAL_GLOBAL;
		return 0;
	case 2:
		inv->scope = VIOMMU_INVAL_DOMAIN;
		return 0;
	case 3:
		return page_range(qw, VTD_MAMV, inv);
	default:
		return -VTD_IQEI_RSVD;
	}
}

static int parse_piotlb(struct vtd *v, const uint64_t *qw, struct viommu_inval *inv)
{
	unsigned int g = (qw[0] >> 4) & 3;

	if ((qw[0] & 0xfff000000000f1c0ULL) || (qw[1] & 0xf80))
		return -VTD_IQEI_RSVD;
	inv->did = (uint16_t)(qw[0] >> 16);
	inv->pasid = (uint32_t)((qw[0] >> 32) & 0xfffff);
	inv->has_pasid = true;
	switch (g) {
	case 2:
		inv->scope = VIOMMU_INVAL_DOMAIN;
		return 0;
	case 3:
		/* Linux rounds the range up to a power of two: AM is not limited by MAMV. */
		return page_range(qw, 52, inv);
	default:
		return -VTD_IQEI_RSVD;
	}
}

/*
 * A shadow's host MAP/UNMAP failed: the descriptor is valid but did not take effect, so the
 * queue stops at it as for a refused forwarded entry (IQE, IQEI 0).
 */
static int shadow_result(int err)
{
	return err ? VIOMMU_ERR_HOST : VIOMMU_DESC_OK;
}

static int vtd_parse(void *model, const uint8_t *desc, struct viommu_gather *g)
{
	struct vtd *v = model;
	uint64_t qw[4] = { get_le64(desc), get_le64(desc + 8), 0, 0 };
	unsigned int type = (unsigned int)((qw[0] & 0xf) | ((qw[0] >> 5) & 0x70));
	struct viommu_inval inv = { .raw = desc, .raw_len = 16, .raw_type = type };
	bool wide = v->drain_wide;
	int ret;

	if (wide) {
		qw[2] = get_le64(desc + 16);
		qw[3] = get_le64(desc + 24);
		inv.raw_len = 32;
		/* Every descriptor Linux issues is 128 bits wide: the upper half is reserved. */
		if (qw[2] || qw[3])
			return -VTD_IQEI_RSVD;
	}
	switch (type) {
	case VTD_DESC_CC: {
		unsigned int gran = (qw[0] >> 4) & 3;

		if (!gran || (qw[0] & 0xfffc00000000ffc0ULL) || qw[1])
			return -VTD_IQEI_RSVD;
		/* Contexts may change DID and tables: nothing cached below them survives. */
		vtd_ctx_flush(v, -1);
		vtd_cache_flush_all(v);
		return shadow_result(vtd_shadow_sync_all(v));
	}
	case VTD_DESC_IOTLB:
		ret = parse_iotlb(v, qw, &inv);
		if (ret)
			return ret;
		vtd_iotlb_flush(v, &inv);
		ret = forward(v, &inv, g);
		return ret ? ret : shadow_result(vtd_shadow_inval(v, &inv));
	case VTD_DESC_PIOTLB:
		ret = parse_piotlb(v, qw, &inv);
		if (ret)
			return ret;
		vtd_iotlb_flush(v, &inv);
		ret = forward(v, &inv, g);
		return ret ? ret : shadow_result(vtd_shadow_inval(v, &inv));
	case VTD_DESC_PC: {
		unsigned int gran = (qw[0] >> 4) & 3;

		if (gran == 2 || (qw[0] & 0xfff000000000f1c0ULL) || qw[1])
			return -VTD_IQEI_RSVD;
		vtd_ctx_flush(v, -1);
		vtd_cache_flush_all(v);
		return shadow_result(vtd_shadow_sync_all(v));
	}
	case VTD_DESC_DEVTLB:
		/* No ATS (ECAP.DT = 0): nothing is cached in devices. Accepted. */
		if ((qw[0] & 0x000f0000ffe00ff0ULL) || (qw[1] & 0xffe))
			return -VTD_IQEI_RSVD;
		return VIOMMU_DESC_OK;
	case VTD_DESC_PDEVTLB:
		if ((qw[0] & 0x0e00ULL) || (qw[1] & 0x7fe))
			return -VTD_IQEI_RSVD;
		return VIOMMU_DESC_OK;
	case VTD_DESC_IEC:
		/* No interrupt remapping: nothing cached. Accepted. */
		if ((qw[0] & 0xffff000007ffffe0ULL) || qw[1])
			return -VTD_IQEI_RSVD;
		return VIOMMU_DESC_OK;
	case VTD_DESC_WAIT:
		/* Bits 31:8 except the type's high bits 11:9 are reserved; so are status 1:0. */
		if ((qw[0] & 0xfffff100ULL) || (qw[1] & 3))
			return -VTD_IQEI_RSVD;
		return VIOMMU_DESC_WAIT;
	default:
		return -VTD_IQEI_TYPE;
	}
}

static void vtd_wait(void *model, const uint8_t *desc)
{
	struct vtd *v = model;
	uint64_t qw0 = get_le64(desc), qw1 = get_le64(desc + 8);

	if (qw0 & (1u << 5)) {
		uint8_t data[4];

		/* Exactly 4 bytes: the neighbouring status words belong to other submissions. */
		put_le32(data, (uint32_t)(qw0 >> 32));
		if (guest_mem_write(v->mem, qw1 & ~3ULL, data, 4))
			log_debug("vtd: wait status address 0x%llx is outside RAM",
				  (unsigned long long)(qw1 & ~3ULL));
	}
	if (qw0 & (1u << 4)) {
		pthread_mutex_lock(&v->lock);
		if (!(v->ics & VTD_ICS_IWC)) {
			v->ics |= VTD_ICS_IWC;
			if (v->iectl & VTD_FECTL_IM) {
				v->iectl |= VTD_FECTL_IP;
			} else if (v->msi) {
				v->iectl &= ~VTD_FECTL_IP;
				v->msi(v->msi_ctx, ((uint64_t)v->ieuaddr << 32) | v->ieaddr,
				       v->iedata);
			}
		}
		pthread_mutex_unlock(&v->lock);
	}
}

const struct viommu_queue_ops vtd_queue_ops = {
	.snapshot = vtd_snapshot,
	.parse = vtd_parse,
	.wait = vtd_wait,
	.finish = vtd_finish,
};
