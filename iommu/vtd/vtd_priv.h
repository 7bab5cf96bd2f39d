/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the VT-d model: register layout, descriptor fields, the unit's state. */
#ifndef KITE_IOMMU_VTD_PRIV_H
#define KITE_IOMMU_VTD_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu/viommu.h"
#include "iommu/viommu_queue.h"
#include "iommu/vtd/vtd.h"
#include "vmm/dma.h"

struct guest_mem;

/* Register offsets (VT-d spec 10.4). */
#define VTD_VER 0x000
#define VTD_CAP 0x008
#define VTD_ECAP 0x010
#define VTD_GCMD 0x018
#define VTD_GSTS 0x01c
#define VTD_RTADDR 0x020
#define VTD_CCMD 0x028
#define VTD_FSTS 0x034
#define VTD_FECTL 0x038
#define VTD_FEDATA 0x03c
#define VTD_FEADDR 0x040
#define VTD_FEUADDR 0x044
#define VTD_PMEN 0x064
#define VTD_IQH 0x080
#define VTD_IQT 0x088
#define VTD_IQA 0x090
#define VTD_ICS 0x09c
#define VTD_IECTL 0x0a0
#define VTD_IEDATA 0x0a4
#define VTD_IEADDR 0x0a8
#define VTD_IEUADDR 0x0ac
#define VTD_IQER 0x0b0
#define VTD_IRO 0x0f /* IVA at 0xf0, IOTLB at 0xf8 */
#define VTD_IVA 0x0f0
#define VTD_IOTLB 0x0f8
#define VTD_FRO 0x22 /* one fault recording register at 0x220 */
#define VTD_FRCD 0x220
#define VTD_REG_END 0x230

/* GCMD / GSTS. */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_SFL (1u << 29)
#define VTD_GCMD_EAFL (1u << 28)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)

/* FSTS / FECTL. */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FECTL_IM (1u << 31)
#define VTD_FECTL_IP (1u << 30)
#define VTD_ICS_IWC 1u

/* IQER.IQEI codes (spec 11.4.9.9). */
#define VTD_IQEI_TAIL 1
#define VTD_IQEI_FETCH 2
#define VTD_IQEI_TYPE 3
#define VTD_IQEI_RSVD 4
#define VTD_IQEI_WIDTH 5
#define VTD_IQEI_ALIGN 6

/* Fault reasons (spec 7.1.3, Linux dmar.c tables). */
#define VTD_FR_ROOT_NP 0x1
#define VTD_FR_CTX_NP 0x2
#define VTD_FR_CTX_INVALID 0x3
#define VTD_FR_ADDR_BEYOND 0x4
#define VTD_FR_WRITE 0x5
#define VTD_FR_READ 0x6
#define VTD_FR_PTE_ADDR 0x7
#define VTD_FR_ROOT_ADDR 0x8
#define VTD_FR_CTX_ADDR 0x9
#define VTD_FR_ROOT_RSVD 0xa
#define VTD_FR_CTX_RSVD 0xb
#define VTD_FR_PTE_RSVD 0xc
#define VTD_FR_SM_ROOT_NP 0x39
#define VTD_FR_SM_CTX_NP 0x41
#define VTD_FR_SM_CTX_RSVD 0x42
#define VTD_FR_SM_PDE_NP 0x51
#define VTD_FR_SM_PDE_RSVD 0x52
#define VTD_FR_SM_PE_NP 0x59
#define VTD_FR_SM_PE_RSVD 0x5a
#define VTD_FR_SM_PE_INVALID 0x5b
#define VTD_FR_SM_TABLE_ADDR 0x5c
#define VTD_FR_FS_NP 0x71
#define VTD_FR_FS_RSVD 0x72
#define VTD_FR_FS_ADDR 0x73
#define VTD_FR_SS_PERM 0x79
#define VTD_FR_SS_RSVD 0x7a
#define VTD_FR_SS_ADDR 0x7b
#define VTD_FR_NONCANON 0x80
#define VTD_FR_FS_US 0x81
#define VTD_FR_SM_BEYOND 0x83
#define VTD_FR_FS_WRITE 0x85
#define VTD_FR_FS_READ 0x86
#define VTD_FR_SM_INTR 0x87
#define VTD_FR_INTR 0xe

/* Descriptor types. */
#define VTD_DESC_CC 1
#define VTD_DESC_IOTLB 2
#define VTD_DESC_DEVTLB 3
#define VTD_DESC_IEC 4
#define VTD_DESC_WAIT 5
#define VTD_DESC_PIOTLB 6
#define VTD_DESC_PC 7
#define VTD_DESC_PDEVTLB 8

#define VTD_MAX_QUEUE_BYTES (4096u << 7) /* QS = 7 */
#define VTD_MAX_HOST_DEVS 8
#define VTD_MAX_SIDS 64
#define VTD_IOTLB_SIZE 4096u
#define VTD_CTX_CACHE_SIZE 256u

/* A resolved translation context: what a source id's requests without PASID walk. */
enum vtd_xlate_kind {
	VTD_XLATE_BLOCKED = 0,
	VTD_XLATE_PT, /* pass-through */
	VTD_XLATE_SS, /* second stage */
	VTD_XLATE_FS, /* first stage (scalable mode) */
};

struct vtd_ctx {
	enum vtd_xlate_kind kind;
	uint16_t did;
	uint32_t pasid; /* RID_PASID in scalable mode */
	uint64_t root;	/* page-table root */
	unsigned int levels;
	bool fpd; /* fault processing disabled */
};

/* Unit configuration the walkers need (no locks, no guest state). */
struct vtd_caps {
	bool scalable;	   /* root table is in scalable format (RTADDR.TTM = 01) */
	unsigned int mgaw; /* 39 or 48 */
	uint8_t sagaw;	   /* CAP.SAGAW bits */
	bool sllps_2m, sllps_1g, fl1gp, pt;
};

struct vtd_fault {
	uint8_t reason;
	bool qualified; /* suppressed by FPD */
};

/* Pure walkers (vtd_walk.c). 0, or -EFAULT with f filled. */
int vtd_resolve_ctx(const struct guest_mem *mem, const struct vtd_caps *caps, uint64_t rtaddr,
		    uint16_t sid, struct vtd_ctx *ctx, struct vtd_fault *f);
/* Translates one 4 KiB page: *gpa page address, *perm bit0 read, bit1 write. */
int vtd_walk(const struct guest_mem *mem, const struct vtd_caps *caps, const struct vtd_ctx *ctx,
	     uint64_t iova, uint64_t *gpa, unsigned int *perm, struct vtd_fault *f);

struct vtd_iotlb_entry {
	uint64_t tag; /* iova page | valid */
	uint64_t gpa; /* page */
	uint32_t gen;
	uint16_t sid;
	uint16_t did;
	uint32_t pasid;
	uint8_t perm;
};

struct vtd_ctx_entry {
	struct vtd_ctx ctx;
	uint32_t gen;
	uint16_t sid;
	bool valid;
};

struct vtd_dev {
	struct vtd *v;
	uint16_t sid;
};

/* One range of a shadowed device's IOAS as kite mapped it (vtd_shadow.c). */
struct vtd_area {
	uint64_t iova, len, gpa;
	uint8_t perm; /* bit0 read, bit1 write */
};

enum vtd_shadow_state {
	VTD_SHADOW_EMPTY = 0, /* context not present / invalid: nothing mapped */
	VTD_SHADOW_IDENTITY,  /* TE off or pass-through context: all RAM at IOVA == GPA */
	VTD_SHADOW_XLATE,     /* @areas: the guest's translations for this source id */
};

/* A host-backed device whose IOAS kite keeps equal to the guest's tables (mode=shadow). */
struct vtd_shadow {
	bool used;
	uint16_t sid;
	struct host_iommu *host;
	uint32_t ioas_id;
	enum vtd_shadow_state state;
	struct vtd_ctx ctx;	/* the context @areas were walked under (XLATE) */
	struct vtd_area *areas; /* sorted by iova, disjoint */
	uint32_t n, cap;
};

struct vtd {
	struct dma_provider provider;
	struct vm *vm;
	const struct guest_mem *mem;
	struct vtd_params params;
	uint64_t cap, ecap;
	int (*msi)(void *ctx, uint64_t addr, uint32_t data); /* fault/completion interrupts */
	void *msi_ctx;

	pthread_mutex_t lock; /* registers */
	uint32_t gsts;
	uint64_t rtaddr, rtaddr_latched;
	uint32_t fsts, fectl, fedata, feaddr, feuaddr;
	uint64_t iqa, iqa_latched, iqh, iqt, iqer;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t frcd_lo, frcd_hi;
	uint64_t ccmd, iotlb_reg, iva;
	uint64_t qgen;	      /* bumped when the queue is enabled/disabled/re-based */
	struct vtd_caps caps; /* as latched at SRTP */

	struct viommu_queue q;
	bool drain_wide; /* the drain pass's descriptors are 256-bit (drain thread only) */
	uint64_t doorbells, faults, iqes;

	pthread_mutex_t cache_lock; /* IOTLB and context cache */
	uint32_t cache_gen;	    /* bumped by global flushes: older entries are dead */
	uint32_t cache_seq;	    /* bumped by every flush: a walk that raced one is not cached */
	struct vtd_iotlb_entry iotlb[VTD_IOTLB_SIZE];
	struct vtd_ctx_entry ctxc[VTD_CTX_CACHE_SIZE];

	struct viommu_host_dev hdevs[VTD_MAX_HOST_DEVS];
	unsigned int nhdevs;
	uint16_t sids[VTD_MAX_SIDS]; /* DMAR device scopes, in bus order */
	unsigned int nsids;
	struct vtd_dev devs[VTD_MAX_SIDS];
	bool finalized;
	bool te_logged;

	/* mode=shadow (vtd_shadow.c): touched by the drain thread under @shadow_lock. */
	pthread_mutex_t shadow_lock;
	struct vtd_shadow shadows[VTD_MAX_HOST_DEVS];
	unsigned int nshadows;
	bool shadow_dirty;	/* under @lock: TE/SRTP/register invalidation since the last sync */
	uint64_t shadow_invals; /* invalidations applied to a shadow (atomic) */
	uint64_t shadow_calls;	/* IOAS MAP/UNMAP calls (atomic) */
	uint64_t shadow_errors; /* failed host calls (atomic), for the log's rate limit */

	/* vtd-error events (vtd_error_admit/vtd_error_send); the window state under @lock. */
	void (*on_error)(void *opaque, const struct viommu_error *e);
	void *on_error_opaque;
	uint64_t (*now_ns)(void); /* CLOCK_MONOTONIC; unit tests substitute their own clock */
	uint64_t err_window_start;
	unsigned int err_in_window;
	uint64_t err_suppressed;
	struct viommu_error iqe_report; /* raised under @lock, sent after it (drain thread) */
	bool iqe_report_pending;
};

/* vtd_regs.c */
void vtd_mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size);
void vtd_mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size);
void vtd_reset(struct vtd *v);
/* Records a DMA fault (any thread). */
void vtd_record_fault(struct vtd *v, uint16_t sid, uint64_t addr, bool write, uint8_t reason,
		      bool has_pasid, uint32_t pasid);
/* Lock held: raises the fault event if nothing was pending. */
void vtd_fault_event(struct vtd *v, uint32_t old_fsts);
/*
 * Lock held: whether error @e may be reported now (at most VIOMMU_ERROR_EVENTS_PER_SEC a
 * second); fills e->suppressed with how many were dropped since the last one admitted.
 */
bool vtd_error_admit(struct vtd *v, struct viommu_error *e);
/* Lock not held: hands an admitted error to v->on_error. */
void vtd_error_send(struct vtd *v, const struct viommu_error *e);

/* vtd_qi.c */
extern const struct viommu_queue_ops vtd_queue_ops;
/* Local caches. */
void vtd_cache_flush_all(struct vtd *v);
void vtd_iotlb_flush(struct vtd *v, const struct viommu_inval *inv);
void vtd_ctx_flush(struct vtd *v, int sid); /* -1: all */

/* vtd_shadow.c (drain thread, or set-up/tear-down while the drain thread is idle). */
int vtd_shadow_add(struct vtd *v, uint16_t sid, struct host_iommu *h, uint32_t ioas_id);
void vtd_shadow_del(struct vtd *v, uint16_t sid);
/* Re-resolves every shadowed context and re-walks what changed. 0, or -EIO (a host call failed). */
int vtd_shadow_sync_all(struct vtd *v);
/* Applies one IOTLB / PASID-IOTLB invalidation to the shadows it concerns. 0 or -EIO. */
int vtd_shadow_inval(struct vtd *v, const struct viommu_inval *inv);
/* Drain thread: runs vtd_shadow_sync_all if a register write asked for it. */
void vtd_shadow_poll(struct vtd *v);
void vtd_shadow_free(struct vtd *v);
/* Upper bound on guest page-table entries one sync visits (a hostile guest's aliased tables). */
#define VTD_SHADOW_MAX_VISIT (1u << 20)
/* ... new runs one walk collects, and areas one device's IOAS holds (32 bytes each). */
#define VTD_SHADOW_MAX_RUNS (1u << 18)
#define VTD_SHADOW_MAX_AREAS (1u << 20)

/* vtd_dma.c */
void vtd_dma_init(struct vtd *v, struct vtd_dev *dev, struct dma_space *d);
/* CAP/ECAP for @p (pure; unit-tested). */
void vtd_compute_caps(const struct vtd_params *p, uint64_t *cap, uint64_t *ecap);
/*
 * Sets up a unit without a VM (unit tests, fuzzers): @msi receives interrupts. The caller
 * owns @v; vtd_uninit frees what this allocated.
 */
int vtd_init(struct vtd *v, const struct guest_mem *mem, const struct vtd_params *p,
	     int (*msi)(void *ctx, uint64_t addr, uint32_t data), void *msi_ctx);
void vtd_uninit(struct vtd *v);
int vtd_add_sid(struct vtd *v, uint16_t sid);

#endif
