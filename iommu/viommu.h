/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every guest-facing IOMMU model (VT-d now, SMMUv3 later) shares:
 *
 * 1. Host-backed devices. The builder (or a test-only back end) registers a guest PCI device
 *    whose DMA is done by host hardware (VFIO, or the IOMMUFD_TEST mock) with
 *    vtd_add_host_dev() (iommu/vtd/vtd.h). The model then forwards the guest's IOTLB
 *    invalidations that concern that device to its host target, batched: one
 *    host_iommu_invalidate() per target per doorbell.
 *
 * 2. The queue pipeline (iommu/viommu_queue.c): doorbell -> drain thread -> one bounded copy of
 *    [head, tail) -> validate -> gather per host target -> one host call per target -> complete
 *    waits in order -> stop at the first bad descriptor or failed host entry. The model supplies
 *    the descriptor parser; the core owns the thread, the copy, the gather arrays and the
 *    entry-to-descriptor map.
 *
 * STABLE INTERFACE: branches vtdmock and vfio build on struct viommu_inval, struct
 * viommu_host_target and struct viommu_host_dev. Add fields only at the end.
 */
#ifndef KITE_IOMMU_VIOMMU_H
#define KITE_IOMMU_VIOMMU_H

#include <stdbool.h>
#include <stdint.h>

struct host_iommu;

/* A guest invalidation after parsing, independent of the guest IOMMU's descriptor format. */
enum viommu_inval_scope {
	VIOMMU_INVAL_GLOBAL = 1, /* every translation of the unit */
	VIOMMU_INVAL_DOMAIN,	 /* every translation tagged @did (and @pasid if has_pasid) */
	VIOMMU_INVAL_RANGE,	 /* [addr, addr + npages * 4 KiB) in @did (and @pasid) */
};

struct viommu_inval {
	enum viommu_inval_scope scope;
	uint16_t did;	/* VT-d domain id (SMMUv3: VMID/ASID later) */
	bool has_pasid; /* VT-d PASID-based descriptor (type 6) */
	uint32_t pasid;
	uint64_t addr;	    /* 4 KiB aligned; RANGE only */
	uint64_t npages;    /* RANGE only; >= 1, may be UINT64_MAX >> 12 for "everything" */
	bool leaf;	    /* the guest only changed leaf entries (VT-d IH) */
	const uint8_t *raw; /* the guest descriptor as copied (validated), for native formats */
	uint32_t raw_len;   /* 16 or 32 */
	uint32_t raw_type;  /* the descriptor type (VT-d: 2 IOTLB, 6 PASID-IOTLB) */
};

/*
 * Where the invalidations of one host-backed device go. Several devices may share a target
 * (same @id): their entries then land in the same array and the same call.
 */
struct viommu_host_target {
	uint32_t id;	    /* nested HWPT or vIOMMU id: host_iommu_invalidate()'s target */
	uint32_t data_type; /* IOMMU_HWPT_INVALIDATE_DATA_* / IOMMU_VIOMMU_INVALIDATE_DATA_* */
	uint32_t entry_len; /* bytes per host entry, 1..VIOMMU_MAX_ENTRY_LEN */
	/*
	 * Encodes @inv as one host entry of entry_len bytes at @entry (zeroed by the caller).
	 * Returns 0 (entry added), 1 (nothing to forward for this device: skipped), or -errno:
	 * the guest's descriptor cannot be expressed for this device, which the model reports to
	 * the guest as a queue error at that descriptor. Runs on the drain thread.
	 */
	int (*encode)(void *opaque, const struct viommu_inval *inv, void *entry);
	void *opaque;
};

#define VIOMMU_MAX_ENTRY_LEN 64

/* Which host stage the guest's tables drive for a host-backed device (see docs/vtd.md). */
enum viommu_host_mode {
	VIOMMU_HOST_FORWARD = 0, /* invalidations go to @target as they are (nested, or a mock) */
	VIOMMU_HOST_SHADOW,	 /* kite re-walks guest tables into @ioas_id (IOAS MAP/UNMAP) */
};

struct viommu_host_dev {
	uint16_t sid;		 /* PCI source id on the unit: bus << 8 | devfn */
	struct host_iommu *host; /* the iommufd it is bound to */
	uint32_t dev_id;	 /* the kernel's device id (IOMMU_VFIO/mock bind) */
	struct viommu_host_target target;
	/*
	 * true: every IOTLB invalidation of the unit is offered to encode(), whatever its domain
	 * (a test back end whose guest never programs a context entry). false: only global ones
	 * and those whose DID is the one the device's current context/PASID entry names.
	 */
	bool all_domains;
	enum viommu_host_mode mode;
	uint32_t ioas_id; /* SHADOW: the IOAS kite maps the guest's translations into */
};

/* Per-unit counters, printed at exit as the `kite: vtd: ...` line. */
struct viommu_counters {
	uint64_t doorbells;   /* tail writes that found new descriptors */
	uint64_t descriptors; /* descriptors consumed (including the failing one) */
	uint64_t forwarded;   /* host entries handed to host_iommu_invalidate() */
	uint64_t host_calls;  /* host_iommu_invalidate() calls */
	uint64_t iqe;	      /* queue errors raised */
	uint64_t faults;      /* DMA faults recorded or suppressed */
};

/*
 * A guest-visible vIOMMU error, reported to the control API as a `vtd-error` event
 * (docs/api.md). At most VIOMMU_ERROR_EVENTS_PER_SEC per unit per second; the next one sent
 * after a quiet spell says how many were dropped.
 */
enum viommu_error_kind { VIOMMU_ERROR_IQE, VIOMMU_ERROR_DMA_FAULT };

#define VIOMMU_ERROR_EVENTS_PER_SEC 10

struct viommu_error {
	enum viommu_error_kind kind;
	uint32_t index;	     /* IQE: the queue slot IQH points at */
	uint8_t code;	     /* IQE: IQER.IQEI; DMA fault: the fault reason */
	uint64_t addr;	     /* DMA fault: the faulting page (IOVA) */
	uint16_t sid;	     /* DMA fault: the requester's source id */
	bool write;	     /* DMA fault: a write request */
	uint64_t suppressed; /* errors the rate limit dropped since the last one reported */
};

#endif
