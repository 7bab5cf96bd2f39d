// SPDX-License-Identifier: GPL-2.0-only
/*
 * Root, context, PASID-directory and PASID-table walkers and the first- and second-stage page
 * walks. Pure functions of guest memory: every entry is read through guest_mem_read (a table
 * outside RAM is an address fault, never a host access), and each walk is bounded by its level
 * count, so a table that points to itself cannot loop.
 */
#include <errno.h>

#include "iommu/vtd/vtd_priv.h"
#include "vmm/guest_mem.h"

#define PAGE_MASK_4K (~0xfffULL)

static uint64_t addr_mask(const struct vtd_caps *caps)
{
	return ((1ULL << caps->mgaw) - 1) & PAGE_MASK_4K;
}

static int fault(struct vtd_fault *f, uint8_t reason, bool qualified)
{
	f->reason = reason;
	f->qualified = qualified;
	return -EFAULT;
}

static int read64(const struct guest_mem *mem, uint64_t gpa, uint64_t *v, unsigned int n)
{
	return guest_mem_read(mem, gpa, v, n * sizeof(*v));
}

static int resolve_legacy(const struct guest_mem *mem, const struct vtd_caps *caps, uint64_t rtaddr,
			  uint16_t sid, struct vtd_ctx *ctx, struct vtd_fault *f)
{
	uint64_t re[2], ce[2], hi_rsvd_aw;
	unsigned int aw, tt;

	if (read64(mem, (rtaddr & PAGE_MASK_4K) + (sid >> 8) * 16, re, 2))
		return fault(f, VTD_FR_ROOT_ADDR, false);
	if (!(re[0] & 1))
		return fault(f, VTD_FR_ROOT_NP, false);
	if ((re[0] & 0xffe) || (re[0] & ~addr_mask(caps) & PAGE_MASK_4K) || re[1])
		return fault(f, VTD_FR_ROOT_RSVD, false);
	if (read64(mem, (re[0] & PAGE_MASK_4K) + (sid & 0xff) * 16, ce, 2))
		return fault(f, VTD_FR_CTX_ADDR, false);
	if (!(ce[0] & 1))
		return fault(f, VTD_FR_CTX_NP, false);
	ctx->fpd = ce[0] & 2;
	hi_rsvd_aw = 0xffffffffff000080ULL;
	if ((ce[0] & 0xff0) || (ce[1] & hi_rsvd_aw))
		return fault(f, VTD_FR_CTX_RSVD, !ctx->fpd);
	tt = (ce[0] >> 2) & 3;
	aw = ce[1] & 7;
	ctx->did = (uint16_t)(ce[1] >> 8);
	ctx->pasid = 0;
	if (tt == 2) {
		if (!caps->pt)
			return fault(f, VTD_FR_CTX_INVALID, !ctx->fpd);
		ctx->kind = VTD_XLATE_PT;
		return 0;
	}
	/* TT 01 needs device-TLB support (ECAP.DT), which kite does not offer. */
	if (tt != 0 || !(caps->sagaw & (1u << aw)) || aw < 1 || aw > 2)
		return fault(f, VTD_FR_CTX_INVALID, !ctx->fpd);
	if (ce[0] & ~addr_mask(caps) & PAGE_MASK_4K)
		return fault(f, VTD_FR_CTX_RSVD, !ctx->fpd);
	ctx->kind = VTD_XLATE_SS;
	ctx->levels = aw + 2;
	ctx->root = ce[0] & PAGE_MASK_4K;
	return 0;
}

static int resolve_scalable(const struct guest_mem *mem, const struct vtd_caps *caps,
			    uint64_t rtaddr, uint16_t sid, struct vtd_ctx *ctx, struct vtd_fault *f)
{
	uint64_t re[2], ce[4], pde, pe[8], ctp, mask = addr_mask(caps);
	unsigned int devfn = sid & 0xff, pgtt, pdts, aw;
	uint32_t pasid;

	if (read64(mem, (rtaddr & PAGE_MASK_4K) + (sid >> 8) * 16, re, 2))
		return fault(f, VTD_FR_ROOT_ADDR, false);
	ctp = re[devfn >= 0x80];
	if (!(ctp & 1))
		return fault(f, VTD_FR_SM_ROOT_NP, false);
	if ((ctp & 0xffe) || (ctp & ~mask & PAGE_MASK_4K))
		return fault(f, VTD_FR_ROOT_RSVD, false);
	if (read64(mem, (ctp & PAGE_MASK_4K) + (devfn & 0x7f) * 32, ce, 4))
		return fault(f, VTD_FR_CTX_ADDR, false);
	if (!(ce[0] & 1))
		return fault(f, VTD_FR_SM_CTX_NP, false);
	ctx->fpd = ce[0] & 2;
	/* DTE, PASIDE and PRE need ECAP.DT/PASID/PRS, which kite does not offer. */
	if ((ce[0] & 0x1fc) || (ce[0] & ~mask & PAGE_MASK_4K) || (ce[1] & ~0xfffffULL) || ce[2] ||
	    ce[3])
		return fault(f, VTD_FR_SM_CTX_RSVD, !ctx->fpd);
	pdts = (ce[0] >> 9) & 7;
	pasid = (uint32_t)(ce[1] & 0xfffff);
	if ((pasid >> 6) >= (1u << (pdts + 7)))
		return fault(f, VTD_FR_SM_PDE_RSVD, !ctx->fpd);
	if (read64(mem, (ce[0] & PAGE_MASK_4K) + (uint64_t)(pasid >> 6) * 8, &pde, 1))
		return fault(f, VTD_FR_SM_TABLE_ADDR, !ctx->fpd);
	if (!(pde & 1))
		return fault(f, VTD_FR_SM_PDE_NP, !ctx->fpd);
	ctx->fpd |= pde & 2;
	if ((pde & 0xffc) || (pde & ~mask & PAGE_MASK_4K))
		return fault(f, VTD_FR_SM_PDE_RSVD, !ctx->fpd);
	if (read64(mem, (pde & PAGE_MASK_4K) + (uint64_t)(pasid & 63) * 64, pe, 8))
		return fault(f, VTD_FR_SM_TABLE_ADDR, !ctx->fpd);
	if (!(pe[0] & 1))
		return fault(f, VTD_FR_SM_PE_NP, !ctx->fpd);
	ctx->fpd |= pe[0] & 2;
	ctx->did = (uint16_t)pe[1];
	ctx->pasid = pasid;
	pgtt = (pe[0] >> 6) & 7;
	aw = (pe[0] >> 2) & 7;
	switch (pgtt) {
	case 1: /* first stage only: 4-level (FSPM 00), user requests (SRE 0 is fine) */
		if ((pe[2] >> 2) & 3)
			return fault(f, VTD_FR_SM_PE_INVALID, !ctx->fpd);
		if (pe[2] & ~mask & PAGE_MASK_4K)
			return fault(f, VTD_FR_SM_PE_RSVD, !ctx->fpd);
		ctx->kind = VTD_XLATE_FS;
		ctx->levels = 4;
		ctx->root = pe[2] & PAGE_MASK_4K;
		return 0;
	case 2:
		if (!(caps->sagaw & (1u << aw)) || aw < 1 || aw > 2)
			return fault(f, VTD_FR_SM_PE_INVALID, !ctx->fpd);
		if (pe[0] & ~mask & PAGE_MASK_4K)
			return fault(f, VTD_FR_SM_PE_RSVD, !ctx->fpd);
		ctx->kind = VTD_XLATE_SS;
		ctx->levels = aw + 2;
		ctx->root = pe[0] & PAGE_MASK_4K;
		return 0;
	case 4:
		if (!caps->pt)
			return fault(f, VTD_FR_SM_PE_INVALID, !ctx->fpd);
		ctx->kind = VTD_XLATE_PT;
		return 0;
	default: /* nested (011) is only for host-backed devices; the rest is reserved */
		return fault(f, VTD_FR_SM_PE_INVALID, !ctx->fpd);
	}
}

int vtd_resolve_ctx(const struct guest_mem *mem, const struct vtd_caps *caps, uint64_t rtaddr,
		    uint16_t sid, struct vtd_ctx *ctx, struct vtd_fault *f)
{
	*ctx = (struct vtd_ctx){ 0 };
	if (caps->scalable)
		return resolve_scalable(mem, caps, rtaddr, sid, ctx, f);
	return resolve_legacy(mem, caps, rtaddr, sid, ctx, f);
}

static int walk_ss(const struct guest_mem *mem, const struct vtd_caps *caps,
		   const struct vtd_ctx *ctx, uint64_t iova, uint64_t *gpa, unsigned int *perm,
		   struct vtd_fault *f)
{
	bool sm = caps->scalable;
	uint64_t table = ctx->root, pte = 0, mask = addr_mask(caps);
	unsigned int p = 3, width = 12 + 9 * ctx->levels;

	if (width > caps->mgaw)
		width = caps->mgaw;
	if (iova >> width)
		return fault(f, sm ? VTD_FR_SM_BEYOND : VTD_FR_ADDR_BEYOND, !ctx->fpd);
	for (unsigned int l = ctx->levels; l >= 1; l--) {
		unsigned int shift = 12 + 9 * (l - 1);

		if (read64(mem, table + ((iova >> shift) & 0x1ff) * 8, &pte, 1))
			return fault(f, sm ? VTD_FR_SS_ADDR : VTD_FR_PTE_ADDR, !ctx->fpd);
		p &= pte & 3;
		if (!(pte & 3) || !p) {
			*perm = 0;
			/* Not present: reported as the access that was refused. */
			return 0;
		}
		if (pte & ~mask & 0x000ffffffffff000ULL)
			return fault(f, sm ? VTD_FR_SS_RSVD : VTD_FR_PTE_RSVD, !ctx->fpd);
		if (l > 1 && (pte & (1u << 7))) {
			if ((l == 2 && !caps->sllps_2m) || (l == 3 && !caps->sllps_1g) || l > 3)
				return fault(f, sm ? VTD_FR_SS_RSVD : VTD_FR_PTE_RSVD, !ctx->fpd);
			if (pte & ((1ULL << shift) - 1) & PAGE_MASK_4K & 0x000fffffffffffffULL)
				return fault(f, sm ? VTD_FR_SS_RSVD : VTD_FR_PTE_RSVD, !ctx->fpd);
			*gpa = (pte & mask & ~((1ULL << shift) - 1)) |
			       (iova & ((1ULL << shift) - 1) & PAGE_MASK_4K);
			*perm = p;
			return 0;
		}
		table = pte & mask;
	}
	*gpa = pte & mask;
	*perm = p;
	return 0;
}

static int walk_fs(const struct guest_mem *mem, const struct vtd_caps *caps,
		   const struct vtd_ctx *ctx, uint64_t iova, uint64_t *gpa, unsigned int *perm,
		   struct vtd_fault *f)
{
	uint64_t table = ctx->root, pte = 0, mask = addr_mask(caps);
	unsigned int p = 3;
	int64_t top = (int64_t)iova >> 47;

	if (top != 0 && top != -1)
		return fault(f, VTD_FR_NONCANON, !ctx->fpd);
	for (unsigned int l = 4; l >= 1; l--) {
		unsigned int shift = 12 + 9 * (l - 1);

		if (read64(mem, table + ((iova >> shift) & 0x1ff) * 8, &pte, 1))
			return fault(f, VTD_FR_FS_ADDR, !ctx->fpd);
		if (!(pte & 1))
			return fault(f, VTD_FR_FS_NP, !ctx->fpd);
		/* Requests without PASID are user requests: U/S must allow them at every level. */
		if (!(pte & 4))
			return fault(f, VTD_FR_FS_US, !ctx->fpd);
		if (!(pte & 2))
			p &= ~2u;
		if (pte & ~mask & 0x000ffffffffff000ULL)
			return fault(f, VTD_FR_FS_RSVD, !ctx->fpd);
		if (l > 1 && (pte & (1u << 7))) {
			if (l > 3 || (l == 3 && !caps->fl1gp))
				return fault(f, VTD_FR_FS_RSVD, !ctx->fpd);
			/* Bit 12 of a large leaf is PAT: the frame starts above it. */
			if (pte & ((1ULL << shift) - 1) & ~0x1fffULL & 0x000fffffffffffffULL)
				return fault(f, VTD_FR_FS_RSVD, !ctx->fpd);
			*gpa = (pte & mask & ~((1ULL << shift) - 1)) |
			       (iova & ((1ULL << shift) - 1) & PAGE_MASK_4K);
			*perm = p;
			return 0;
		}
		table = pte & mask;
	}
	*gpa = pte & mask;
	*perm = p;
	return 0;
}

int vtd_walk(const struct guest_mem *mem, const struct vtd_caps *caps, const struct vtd_ctx *ctx,
	     uint64_t iova, uint64_t *gpa, unsigned int *perm, struct vtd_fault *f)
{
	switch (ctx->kind) {
	case VTD_XLATE_PT:
		*gpa = iova & PAGE_MASK_4K;
		*perm = 3;
		return 0;
	case VTD_XLATE_SS:
		return walk_ss(mem, caps, ctx, iova, gpa, perm, f);
	case VTD_XLATE_FS:
		return walk_fs(mem, caps, ctx, iova, gpa, perm, f);
	default:
		return fault(f, caps->scalable ? VTD_FR_SM_CTX_NP : VTD_FR_CTX_NP, false);
	}
}
