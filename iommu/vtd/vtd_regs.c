// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d register file (spec 10.4) as Linux 6.12 drives it: 4- and 8-byte accesses, 64-bit
 * registers also by halves. GCMD commands complete inside the write (Linux polls GSTS and
 * panics after ~10 s); an IQT write only records the tail and rings the drain thread.
 */
#include <string.h>

#include "iommu/vtd/vtd_priv.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define VTD_VER_1_0 0x10

static void send_msi(struct vtd *v, uint32_t lo, uint32_t hi, uint32_t data)
{
	if (v->msi)
		v->msi(v->msi_ctx, ((uint64_t)hi << 32) | lo, data);
}

void vtd_fault_event(struct vtd *v, uint32_t old_fsts)
{
	/* An event is already outstanding: software has not serviced the previous one. */
	if (old_fsts & (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE))
		return;
	if (v->fectl & VTD_FECTL_IM) {
		v->fectl |= VTD_FECTL_IP;
		return;
	}
	v->fectl &= ~VTD_FECTL_IP;
	send_msi(v, v->feaddr, v->feuaddr, v->fedata);
}

bool vtd_error_admit(struct vtd *v, struct viommu_error *e)
{
	uint64_t now;

	if (!v->on_error)
		return false;
	now = v->now_ns();
	if (now - v->err_window_start >= 1000000000ULL) {
		v->err_window_start = now;
		v->err_in_window = 0;
	}
	if (v->err_in_window >= VIOMMU_ERROR_EVENTS_PER_SEC) {
		v->err_suppressed++;
		return false;
	}
	v->err_in_window++;
	e->suppressed = v->err_suppressed;
	v->err_suppressed = 0;
	return true;
}

void vtd_error_send(struct vtd *v, const struct viommu_error *e)
{
	if (v->on_error)
		v->on_error(v->on_error_opaque, e);
}

void vtd_record_fault(struct vtd *v, uint16_t sid, uint64_t addr, bool write, uint8_t reason,
		      bool has_pasid, uint32_t pasid)
{
	struct viommu_error e = {
		.kind = VIOMMU_ERROR_DMA_FAULT,
		.code = reason,
		.addr = addr & ~0xfffULL,
		.sid = sid,
		.write = write,
	};
	bool send;
	uint32_t old;

	__atomic_fetch_add(&v->faults, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&v->lock);
	old = v->fsts;
	if (v->frcd_hi & (1ULL << 63)) {
		/* The only recording register is full: overflow, no new record, no new event. */
		v->fsts |= VTD_FSTS_PFO;
	} else {
		v->frcd_lo = addr & ~0xfffULL;
		v->frcd_hi = sid | ((uint64_t)has_pasid << 31) | ((uint64_t)reason << 32) |
			     ((uint64_t)(pasid & 0xfffff) << 40) | ((uint64_t)!write << 62) |
			     (1ULL << 63);
		v->fsts = (v->fsts & ~0xff00u) | VTD_FSTS_PPF; /* FRI 0 */
		vtd_fault_event(v, old);
	}
	/* Also when the record overflowed: the host agent still learns of the fault. */
	send = vtd_error_admit(v, &e);
	pthread_mutex_unlock(&v->lock);
	if (send)
		vtd_error_send(v, &e);
}

void vtd_reset(struct vtd *v)
{
	v->gsts = 0;
	v->rtaddr = v->rtaddr_latched = 0;
	v->fsts = 0;
	v->fectl = VTD_FECTL_IM;
	v->fedata = v->feaddr = v->feuaddr = 0;
	v->iqa = v->iqa_latched = v->iqh = v->iqt = v->iqer = 0;
	v->ics = 0;
	v->iectl = VTD_FECTL_IM;
	v->iedata = v->ieaddr = v->ieuaddr = 0;
	v->frcd_lo = v->frcd_hi = 0;
	v->ccmd = v->iotlb_reg = v->iva = 0;
	v->caps.scalable = false;
}

static void handle_gcmd(struct vtd *v, uint32_t val)
{
	uint32_t changed = (val ^ v->gsts) & (VTD_GCMD_TE | VTD_GCMD_QIE);

	if (val & VTD_GCMD_SRTP) {
		unsigned int ttm = (v->rtaddr >> 10) & 3;

		v->rtaddr_latched = v->rtaddr;
		/* TTM 01 (scalable) only where SMTS is offered; anything else walks as legacy. */
		v->caps.scalable = ttm == 1 && (v->ecap & (1ULL << 43));
		v->gsts |= VTD_GCMD_SRTP; /* RTPS stays set, as kvm-unit-tests expects */
		vtd_cache_flush_all(v);
		vtd_ctx_flush(v, -1);
		v->shadow_dirty = true;
	}
	if (changed & VTD_GCMD_QIE) {
		v->qgen++;
		v->iqh = 0;
		if (val & VTD_GCMD_QIE) {
			v->iqa_latched = v->iqa;
			v->gsts |= VTD_GCMD_QIE;
		} else {
			v->gsts &= ~VTD_GCMD_QIE;
		}
	}
	if (changed & VTD_GCMD_TE) {
		v->gsts ^= VTD_GCMD_TE;
		vtd_cache_flush_all(v);
		v->shadow_dirty = true;
		/* Once per VM: a guest toggling TE must not fill the log. */
		if ((v->gsts & VTD_GCMD_TE) && !v->te_logged) {
			v->te_logged = true;
			log_info("vtd: guest enabled translation (%s root table)",
				 v->caps.scalable ? "scalable-mode" : "legacy");
		}
	}
	/* WBF (no CAP.RWBF), SFL/EAFL, and the IR commands (no ECAP.IR) are ignored. */
}

static uint32_t read32(struct vtd *v, uint64_t off)
{
	switch (off) {
	/* clang-format off */
	case VTD_VER: return VTD_VER_1_0;
	case VTD_CAP: return (uint32_t)v->cap;
	case VTD_CAP + 4: return (uint32_t)(v->cap >> 32);
	case VTD_ECAP: return (uint32_t)v->ecap;
	case VTD_ECAP + 4: return (uint32_t)(v->ecap >> 32);
	case VTD_GSTS: return v->gsts;
	case VTD_RTADDR: return (uint32_t)v->rtaddr;
	case VTD_RTADDR + 4: return (uint32_t)(v->rtaddr >> 32);
	case VTD_CCMD: return (uint32_t)v->ccmd;
	case VTD_CCMD + 4: return (uint32_t)(v->ccmd >> 32);
	case VTD_FSTS: return v->fsts;
	case VTD_FECTL: return v->fectl;
	case VTD_FEDATA: return v->fedata;
	case VTD_FEADDR: return v->feaddr;
	case VTD_FEUADDR: return v->feuaddr;
	case VTD_IQH: return (uint32_t)v->iqh;
	case VTD_IQT: return (uint32_t)v->iqt;
	case VTD_IQA: return (uint32_t)v->iqa;
	case VTD_IQA + 4: return (uint32_t)(v->iqa >> 32);
	case VTD_ICS: return v->ics;
	case VTD_IECTL: return v->iectl;
	case VTD_IEDATA: return v->iedata;
	case VTD_IEADDR: return v->ieaddr;
	case VTD_IEUADDR: return v->ieuaddr;
	case VTD_IQER: return (uint32_t)v->iqer;
	case VTD_IQER + 4: return (uint32_t)(v->iqer >> 32);
	case VTD_IOTLB: return (uint32_t)v->iotlb_reg;
	case VTD_IOTLB + 4: return (uint32_t)(v->iotlb_reg >> 32);
	case VTD_FRCD: return (uint32_t)v->frcd_lo;
	case VTD_FRCD + 4: return (uint32_t)(v->frcd_lo >> 32);
	case VTD_FRCD + 8: return (uint32_t)v->frcd_hi;
	case VTD_FRCD + 12: return (uint32_t)(v->frcd_hi >> 32);
	default: return 0; /* unimplemented and write-only registers read 0 */
		/* clang-format on */
	}
}

static uint64_t merge(uint64_t old, uint64_t off, uint64_t reg, uint64_t val, uint32_t size)
{
	if (size == 8)
		return val;
	if (off == reg)
		return (old & ~0xffffffffULL) | (uint32_t)val;
	return (old & 0xffffffffULL) | (val << 32);
}

/* Writes of @size (4 or 8) at @off (aligned to it). Lock held. Returns true to ring. */
static bool write_reg(struct vtd *v, uint64_t off, uint64_t val, uint32_t size)
{
	uint64_t reg = off & ~7ULL;
	uint32_t old;

	switch (reg) {
	case VTD_GCMD & ~7ULL: /* 0x18: GCMD at +0, GSTS (read-only) at +4 */
		if (off == VTD_GCMD)
			handle_gcmd(v, (uint32_t)val);
		/* Shadowed devices follow TE/SRTP on the drain thread (vtd_shadow_poll). */
		return v->shadow_dirty && v->nshadows;
	case VTD_RTADDR:
		v->rtaddr = merge(v->rtaddr, off, reg, val, size) & ~0x3ffULL;
		return false;
	case VTD_CCMD:
		v->ccmd = merge(v->ccmd, off, reg, val, size) & 0xe0000003ffffffffULL;
		if (v->ccmd & (1ULL << 63)) {
			/* Register-based invalidation (no QI): every context is dropped. */
			vtd_ctx_flush(v, -1);
			vtd_cache_flush_all(v);
			v->ccmd = (v->ccmd & ~(1ULL << 63) & ~(3ULL << 59)) |
				  (((v->ccmd >> 61) & 3) << 59);
			v->shadow_dirty = true;
		}
		return v->shadow_dirty && v->nshadows;
	case VTD_FSTS & ~7ULL: /* 0x30: FSTS at +4 */
		if (off == VTD_FSTS || size == 8) {
			uint32_t w1c = (uint32_t)(size == 8 ? val >> 32 : val);

			old = v->fsts;
			v->fsts &= ~(w1c &
				     (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
			/* Cleared IQE: the unit fetches again from IQH. */
			return (old & VTD_FSTS_IQE) && !(v->fsts & VTD_FSTS_IQE);
		}
		return false;
	case VTD_FECTL & ~7ULL: /* 0x38: FECTL, FEDATA */
		if (off == VTD_FECTL || size == 8) {
			v->fectl = (v->fectl & ~VTD_FECTL_IM) | ((uint32_t)val & VTD_FECTL_IM);
			if (!(v->fectl & VTD_FECTL_IM) && (v->fectl & VTD_FECTL_IP)) {
				v->fectl &= ~VTD_FECTL_IP;
				send_msi(v, v->feaddr, v->feuaddr, v->fedata);
			}
		}
		if (off == VTD_FEDATA || size == 8)
			v->fedata = (uint32_t)(size == 8 ? val >> 32 : val);
		return false;
	case VTD_FEADDR: /* FEADDR, FEUADDR */
		if (off == VTD_FEADDR)
			v->feaddr = (uint32_t)val & ~3u;
		if (off == VTD_FEUADDR || size == 8)
			v->feuaddr = (uint32_t)(size == 8 ? val >> 32 : val);
		return false;
	case VTD_IQT:
		if (off != VTD_IQT)
			return false;
		v->iqt = val & 0x7fff0;
		v->doorbells++;
		return true;
	case VTD_IQA:
		v->iqa = merge(v->iqa, off, reg, val, size) & 0xfffffffffffff807ULL;
		return false;
	case VTD_ICS & ~7ULL: /* 0x98: ICS at +4 */
		if (off == VTD_ICS || size == 8)
			v->ics &= ~((uint32_t)(size == 8 ? val >> 32 : val) & VTD_ICS_IWC);
		return false;
	case VTD_IECTL: /* IECTL, IEDATA */
		if (off == VTD_IECTL) {
			v->iectl = (v->iectl & ~VTD_FECTL_IM) | ((uint32_t)val & VTD_FECTL_IM);
			if (!(v->iectl & VTD_FECTL_IM) && (v->iectl & VTD_FECTL_IP)) {
				v->iectl &= ~VTD_FECTL_IP;
				send_msi(v, v->ieaddr, v->ieuaddr, v->iedata);
			}
		}
		if (off == VTD_IEDATA || size == 8)
			v->iedata = (uint32_t)(size == 8 ? val >> 32 : val);
		return false;
	case VTD_IEADDR:
		if (off == VTD_IEADDR)
			v->ieaddr = (uint32_t)val & ~3u;
		if (off == VTD_IEUADDR || size == 8)
			v->ieuaddr = (uint32_t)(size == 8 ? val >> 32 : val);
		return false;
	case VTD_IVA:
		v->iva = merge(v->iva, off, reg, val, size) & 0xfffffffffffff07fULL;
		return false;
	case VTD_IOTLB:
		v->iotlb_reg = merge(v->iotlb_reg, off, reg, val, size) & 0xb003ffff00000000ULL;
		if (v->iotlb_reg & (1ULL << 63)) {
			vtd_cache_flush_all(v);
			v->iotlb_reg = (v->iotlb_reg & ~(1ULL << 63) & ~(3ULL << 57)) |
				       (((v->iotlb_reg >> 60) & 3) << 57);
			/* Register-based: re-walked whole by the drain thread (no range here). */
			v->shadow_dirty = true;
		}
		return v->shadow_dirty && v->nshadows;
	case VTD_FRCD + 8:
		if (off == VTD_FRCD + 12 || size == 8) {
			uint32_t hi = (uint32_t)(size == 8 ? val >> 32 : val);

			if (hi & (1u << 31)) {
				v->frcd_hi &= ~(1ULL << 63);
				v->fsts &= ~VTD_FSTS_PPF;
			}
		}
		return false;
	default:
		return false; /* read-only (VER, CAP, ECAP, IQH, IQER) or unimplemented */
	}
}

void vtd_mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct vtd *v = opaque;
	uint64_t val;

	if ((size != 4 && size != 8) || (off & (size - 1))) {
		memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&v->lock);
	val = read32(v, off);
	if (size == 8)
		val |= (uint64_t)read32(v, off + 4) << 32;
	pthread_mutex_unlock(&v->lock);
	if (size == 8)
		put_le64(data, val);
	else
		put_le32(data, (uint32_t)val);
}

void vtd_mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vtd *v = opaque;
	bool ring;

	/* The spec allows only aligned 4- and 8-byte accesses; others are dropped. */
	if ((size != 4 && size != 8) || (off & (size - 1)))
		return;
	pthread_mutex_lock(&v->lock);
	ring = write_reg(v, off, size == 8 ? get_le64(data) : get_le32(data), size);
	pthread_mutex_unlock(&v->lock);
	if (ring)
		viommu_queue_doorbell(&v->q);
}
