/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host IOMMU backend on iommufd: one struct host_iommu per VM owns (or borrows) an iommufd and
 * wraps the ioctls kite needs: IOAS and guest-RAM mapping, paging and nested HWPTs, batched
 * cache invalidation, hardware info, VFIO cdev bind/attach/detach (iommu/iommufd.c), and the
 * vIOMMU objects where the kernel has them: vIOMMU, vDEVICE, vEVENTQ, HW queue
 * (iommu/iommufd_viommu.c).
 *
 * Every function returns 0 or a negative errno and logs its own failure once. IDs are the
 * kernel's object IDs (never 0). All ioctls go through h->ioctl so unit tests can stand in for
 * the kernel.
 */
#ifndef KITE_IOMMU_IOMMUFD_H
#define KITE_IOMMU_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/uapi.h"

struct guest_mem;

/* Returns >= 0 on success or -errno, like ioctl(2) with errno folded in. */
typedef int host_iommu_ioctl_fn(void *ctx, int fd, unsigned long request, void *arg);

enum host_iommu_feature {
	HOST_IOMMU_FEATURE_UNKNOWN = 0, /* not probed yet */
	HOST_IOMMU_FEATURE_ABSENT,	/* the kernel lacks the ioctl (ENOTTY) */
	HOST_IOMMU_FEATURE_PRESENT,
};

struct host_iommu {
	int fd;
	bool owns_fd;
	host_iommu_ioctl_fn *ioctl;
	void *ioctl_ctx;
	/* Kernel limits on one IOMMU_HWPT_INVALIDATE call; tests may lower inval_entry_max. */
	uint32_t inval_entry_max;
	uint32_t page_size;
	/* Run-time probes (ENOTTY = absent); once ABSENT, the alloc calls make no ioctl. */
	enum host_iommu_feature viommu;	  /* IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC: v6.13 */
	enum host_iommu_feature veventq;  /* IOMMU_VEVENTQ_ALLOC: v6.15 */
	enum host_iommu_feature hw_queue; /* IOMMU_HW_QUEUE_ALLOC: v6.17 */
};

/* Opens @path (NULL: /dev/iommu). */
int host_iommu_open(struct host_iommu *h, const char *path);
/* Uses an already open iommufd; @owned says whether host_iommu_close() closes it. */
void host_iommu_init_fd(struct host_iommu *h, int fd, bool owned);
/* Routes every ioctl through @fn (NULL restores ioctl(2)). */
void host_iommu_set_ioctl(struct host_iommu *h, host_iommu_ioctl_fn *fn, void *ctx);
void host_iommu_close(struct host_iommu *h);

int host_iommu_destroy(struct host_iommu *h, uint32_t id);

/* ---- IOAS ---- */

int host_iommu_ioas_alloc(struct host_iommu *h, uint32_t *ioas_id);

/*
 * Copies up to @max usable IOVA ranges into @ranges; *@n gets the number the kernel has (may be
 * more than @max, in which case -EMSGSIZE is returned). @alignment may be NULL.
 */
int host_iommu_ioas_iova_ranges(struct host_iommu *h, uint32_t ioas_id,
				struct iommu_iova_range *ranges, uint32_t max, uint32_t *n,
				uint64_t *alignment);

/*
 * Maps [@va, @va + @len) into @ioas_id. @flags are IOMMU_IOAS_MAP_*; with FIXED_IOVA *@iova is
 * the input address, otherwise the kernel picks one and writes it back.
 */
int host_iommu_ioas_map(struct host_iommu *h, uint32_t ioas_id, const void *va, uint64_t len,
			uint64_t *iova, uint32_t flags);
/* @unmapped (may be NULL) gets the bytes removed. iova 0, len UINT64_MAX unmaps everything. */
int host_iommu_ioas_unmap(struct host_iommu *h, uint32_t ioas_id, uint64_t iova, uint64_t len,
			  uint64_t *unmapped);

/*
 * Maps every guest RAM region read/write at IOVA == GPA, after checking that each region lies
 * inside one usable IOVA range (-ERANGE otherwise) and is aligned as the IOAS requires
 * (-EINVAL). On failure nothing stays mapped.
 */
int host_iommu_map_guest_mem(struct host_iommu *h, uint32_t ioas_id, const struct guest_mem *mem);
int host_iommu_unmap_guest_mem(struct host_iommu *h, uint32_t ioas_id, const struct guest_mem *mem);

/* ---- HW page tables ---- */

/* Paging HWPT over an IOAS; pass IOMMU_HWPT_ALLOC_NEST_PARENT to nest guest tables on it. */
int host_iommu_hwpt_alloc_paging(struct host_iommu *h, uint32_t dev_id, uint32_t ioas_id,
				 uint32_t flags, uint32_t *hwpt_id);

/*
 * Nested HWPT on @parent_id (a nest-parent HWPT, or a vIOMMU on v6.13+) carrying driver data of
 * @data_type. @fault_id != 0 attaches a fault queue (IOMMU_HWPT_FAULT_ID_VALID).
 */
int host_iommu_hwpt_alloc_nested(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 uint32_t data_type, const void *data, uint32_t data_len,
				 uint32_t fault_id, uint32_t *hwpt_id);
int host_iommu_hwpt_alloc_vtd_s1(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 const struct iommu_hwpt_vtd_s1 *s1, uint32_t *hwpt_id);
int host_iommu_hwpt_alloc_smmuv3(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 const struct iommu_hwpt_arm_smmuv3 *ste, uint32_t *hwpt_id);
int host_iommu_hwpt_alloc_selftest(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				   uint32_t iotlb, uint32_t *hwpt_id);

/* I/O page-fault queue: an object id for HWPT alloc and an fd to read faults from. */
int host_iommu_fault_alloc(struct host_iommu *h, uint32_t *fault_id, int *fault_fd);

/*
 * The single forwarding entry point for guest cache invalidations: sends @n entries of
 * @entry_len bytes and @data_type to a nested HWPT or vIOMMU in one IOMMU_HWPT_INVALIDATE,
 * splitting only when @n exceeds the kernel's per-call cap. *@handled (required) gets the
 * number of entries the kernel handled: @n on success, else the index of the entry that
 * failed. @n == 0 is passed through (the kernel's data-type probe). Per-type entry sizes are
 * the kernel's to check; only entry_len 0, entry_len above the page size and NULL @entries
 * with @n > 0 are refused here with -EINVAL. It only reads @h, so a queue drain thread may
 * call it while other threads use the same host_iommu.
 */
int host_iommu_invalidate(struct host_iommu *h, uint32_t hwpt_or_viommu_id, uint32_t data_type,
			  const void *entries, uint32_t n, uint32_t entry_len, uint32_t *handled);

/* ---- hardware info ---- */

struct host_iommu_hw_info {
	uint32_t type;		/* IOMMU_HW_INFO_TYPE_* or IOMMU_HW_INFO_TYPE_SELFTEST */
	uint32_t data_len;	/* payload size the kernel has (may exceed what was kept) */
	uint64_t capabilities;	/* IOMMU_HW_CAP_* */
	uint8_t max_pasid_log2; /* 0: no PASID */
	union {
		struct iommu_hw_info_vtd vtd;
		struct iommu_hw_info_arm_smmuv3 smmuv3;
		struct iommu_test_hw_info selftest;
		uint8_t raw[64];
	};
};

int host_iommu_get_hw_info(struct host_iommu *h, uint32_t dev_id, struct host_iommu_hw_info *info);

/* ---- vIOMMU objects (iommu/iommufd_viommu.c) ---- */

/*
 * Each asks the kernel, without creating anything, whether it has the ioctl: the reserved type
 * DEFAULT is refused with EOPNOTSUPP before any object lookup where the ioctl exists, and an
 * older kernel answers ENOTTY. Returns HOST_IOMMU_FEATURE_PRESENT or _ABSENT (also cached in
 * h->viommu / h->veventq / h->hw_queue), or -errno. No vIOMMU means no vEVENTQ or HW queue.
 */
int host_iommu_probe_viommu(struct host_iommu *h);
int host_iommu_probe_veventq(struct host_iommu *h);
int host_iommu_probe_hw_queue(struct host_iommu *h);

/* "present" / "absent" / "unknown", for logs and the conformance program. */
const char *host_iommu_feature_name(enum host_iommu_feature f);

/*
 * vIOMMU of @type over the nest-parent HWPT @nest_parent_id, backed by @dev_id's physical IOMMU.
 * The _data form passes driver data (read and written back by the kernel; NULL/0 for none).
 * Both return -ENOTTY, logged at info level and with h->viommu = ABSENT, when the kernel has no
 * vIOMMU objects; callers then fall back to HWPT-based nesting.
 */
int host_iommu_viommu_alloc(struct host_iommu *h, uint32_t dev_id, uint32_t nest_parent_id,
			    uint32_t type, uint32_t *viommu_id);
int host_iommu_viommu_alloc_data(struct host_iommu *h, uint32_t dev_id, uint32_t nest_parent_id,
				 uint32_t type, void *data, uint32_t data_len, uint32_t *viommu_id);
/*
 * Tells the vIOMMU that @dev_id is the device the guest calls @virt_id (VT-d source ID, SMMUv3
 * StreamID). vIOMMU-targeted invalidations and vEVENTs name devices by this ID; one vDEVICE per
 * device, one device per ID (EEXIST otherwise).
 */
int host_iommu_vdevice_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t dev_id,
			     uint64_t virt_id, uint32_t *vdevice_id);

/*
 * Event queue on @viommu_id for events of @type, holding up to @depth events (1..2^19). Read
 * *@veventq_fd with host_iommu_vevent_drain(). -ENOTTY (logged at info, h->veventq = ABSENT) on
 * kernels before 6.15; h->viommu is left alone since 6.13/6.14 have vIOMMUs without queues.
 */
int host_iommu_veventq_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t type,
			     uint32_t depth, uint32_t *veventq_id, int *veventq_fd);

/*
 * HW-accelerated queue @index of @type on @viommu_id over guest memory [@iova, @iova + @len) of
 * the nest parent's IOAS (the kernel pins it and needs it physically contiguous). -ENOTTY
 * (logged at info, h->hw_queue = ABSENT) on kernels before 6.17.
 */
int host_iommu_hw_queue_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t type,
			      uint32_t index, uint64_t iova, uint64_t len, uint32_t *hw_queue_id);

/*
 * Reader state across reads of one vEVENTQ. Every event the kernel reports, delivered or lost,
 * takes the next sequence number (0..INT_MAX, then 0 again).
 */
struct host_iommu_vevent_stream {
	uint32_t next_seq;  /* the sequence the next record should carry */
	bool seq_known;	    /* false until the first record (or host_iommu_vevent_stream_init) */
	uint64_t events;    /* records with a payload seen */
	uint64_t lost;	    /* events known to be lost (a lower bound without a baseline) */
	uint64_t overflows; /* LOST_EVENTS records seen */
};

/* For a queue just allocated: the kernel numbers its first event 0. */
void host_iommu_vevent_stream_init(struct host_iommu_vevent_stream *st);

struct host_iommu_vevent {
	uint32_t flags; /* IOMMU_VEVENTQ_FLAG_* from the header */
	uint32_t sequence;
	const void *data; /* the payload; NULL for a LOST_EVENTS record */
	uint32_t gap;	  /* events lost right before this record, or that it reports */
};

/*
 * Parses the record at the start of @buf (@len bytes, as read() returned them); @payload_len is
 * the event size of the queue's type. Returns the bytes consumed (> 0), 0 when @len is 0, or
 * -EINVAL when the record is truncated (the stream is left as it was).
 *
 * A sequence jump before a normal record is events the kernel dropped: ev->gap, counted in
 * st->lost. A header-only LOST_EVENTS record carries the sequence of the last event dropped, so
 * the events from the expected sequence up to and including its own were lost (ev->gap; 1 when
 * nothing was expected yet) and the next record carries its sequence + 1. Neither is an error:
 * the caller tells the guest its event queue overflowed.
 */
int host_iommu_vevent_parse(struct host_iommu_vevent_stream *st, const void *buf, size_t len,
			    uint32_t payload_len, struct host_iommu_vevent *ev);

typedef void host_iommu_vevent_fn(void *ctx, const struct host_iommu_vevent *ev);

/*
 * Reads @fd (a vEVENTQ fd) until it has nothing more (read() returns 0 or EAGAIN), or for at most
 * HOST_IOMMU_VEVENT_DRAIN_READS reads of 4 KiB so that an event flood cannot pin the caller, and
 * calls @fn for every record, in order, LOST_EVENTS records included. Returns the number of
 * records, or -errno from read(), or -EIO when the kernel returned a truncated record (the rest
 * of that read is dropped). The kernel never splits a record across reads.
 */
#define HOST_IOMMU_VEVENT_DRAIN_READS 64
int host_iommu_vevent_drain(struct host_iommu_vevent_stream *st, int fd, uint32_t payload_len,
			    host_iommu_vevent_fn *fn, void *ctx);

/* ---- VFIO device cdev ---- */

/* Binds the cdev fd of /dev/vfio/devices/vfioN to this iommufd; *@dev_id is its device id. */
int host_iommu_vfio_bind(struct host_iommu *h, int dev_fd, uint32_t *dev_id);
/*
 * Attaches to an IOAS or HWPT; on an attached device the kernel replaces the domain without a
 * blocking window. @attached (may be NULL) gets the HWPT actually in use.
 */
int host_iommu_vfio_attach(struct host_iommu *h, int dev_fd, uint32_t pt_id, uint32_t *attached);
int host_iommu_vfio_detach(struct host_iommu *h, int dev_fd);

#endif
