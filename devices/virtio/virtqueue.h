/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Split virtqueues (virtio 1.x, 2.7) as seen from the device, for a guest
 * that may be hostile: every ring access goes through the queue's
 * dma_space, every index and length is checked before use, and a chain
 * that cannot be walked never reaches the device model.
 *
 * Threading: one thread at a time per queue (the device event loop, with
 * the device lock held), except vq_reset/vq_enable which run under the
 * same lock from vCPU threads.
 */
#ifndef KITE_DEVICES_VIRTIO_VIRTQUEUE_H
#define KITE_DEVICES_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/log.h"

struct dma_space;

/* Ring layout (2.7.5 - 2.7.8). */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1
#define VRING_DESC_SIZE 16
#define VRING_USED_ELEM_SIZE 8

#define VQ_MAX_SIZE 32768 /* the largest split ring the spec allows */
/*
 * Host segments one element may map to: readv/writev take at most IOV_MAX
 * (1024) segments, and devices size their seg_max/size_max so that a
 * request fits even when every 4 KiB page maps separately (vIOMMU).
 */
#define VQ_MAX_IOV 1024

struct virtqueue {
	struct dma_space *dma;
	const char *name; /* device name, for the log */
	uint16_t index;
	uint16_t max_size;
	/* Programmed by the driver through the transport. */
	uint16_t size;
	uint16_t msix_vector;
	bool ready;
	uint64_t desc_addr, avail_addr, used_addr;
	/* Negotiated features that change how the ring is read. */
	bool event_idx;
	bool indirect;
	/* Device-side state. */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used; /* used_idx when the driver was last notified */
	bool signalled_used_valid;
	bool broken;		 /* the ring itself is unusable until reset */
	unsigned int bad_chains; /* malformed chains dropped */
	unsigned int warnings;	 /* guest-triggered log lines so far (kept across resets) */
	uint8_t *indirect_buf;	 /* copy of the indirect table being walked */
};

/*
 * One popped descriptor chain: iov[0..nout) are device-readable,
 * iov[nout..nout+nin) device-writable.
 */
struct vq_elem {
	uint16_t head;
	unsigned int nout, nin;
	size_t out_len, in_len;
	struct iovec iov[VQ_MAX_IOV];
};

/* @max_size: power of two, at most VQ_MAX_SIZE. 0, -EINVAL or -ENOMEM. */
int vq_init(struct virtqueue *vq, struct dma_space *dma, const char *name, uint16_t index,
	    uint16_t max_size);
void vq_free(struct virtqueue *vq);
/* Back to the state after device reset (size = max_size, not ready). */
void vq_reset(struct virtqueue *vq);
/*
 * The driver enabled the queue: checks size and alignment. 0, or -EINVAL
 * when the configuration is unusable (the device must then need reset).
 */
int vq_enable(struct virtqueue *vq, bool event_idx, bool indirect);

/*
 * Takes the next available chain and maps it. 1: @e holds it; 0: nothing
 * available; -EIO: the ring is broken (avail index more than a ring ahead,
 * head out of range, ring outside DMA space), the device must set
 * DEVICE_NEEDS_RESET; -EBADMSG: the chain at e->head is malformed (loop,
 * bad next, outside DMA space, wrapping length, readable after writable,
 * bad indirect table, too many segments). It is consumed: the caller gives
 * it back, normally with used length 0.
 */
int vq_pop(struct virtqueue *vq, struct vq_elem *e);
/*
 * vq_pop for devices that complete chains one at a time: malformed chains
 * go straight back to the driver with used length 0. 1, 0 or -EIO.
 */
int vq_next(struct virtqueue *vq, struct vq_elem *e);
/*
 * Maps the chain at @head again (a chain popped earlier and still owned by
 * the device). 0, -EBADMSG or -EIO as for vq_pop.
 */
int vq_walk(struct virtqueue *vq, uint16_t head, struct vq_elem *e);
/* Returns chain @head with @len bytes written, and publishes it. 0 or -EIO. */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/*
 * Batched return: vq_fill writes the used entry @pos places after the last
 * published one; vq_flush publishes @count of them at once (so the driver
 * never sees half of a merged receive buffer). 0 or -EIO.
 */
int vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len, uint16_t pos);
int vq_flush(struct virtqueue *vq, uint16_t count);

/* Whether the driver made buffers available that were not popped yet. */
bool vq_has_avail(struct virtqueue *vq);
/*
 * Asks the driver to notify on the next available buffer (avail_event with
 * EVENT_IDX). Returns true when buffers arrived meanwhile, so the caller
 * must process again instead of sleeping.
 */
bool vq_enable_notify(struct virtqueue *vq);
/*
 * After pushing: whether the driver wants a used-buffer notification now
 * (used_event with EVENT_IDX, else VRING_AVAIL_F_NO_INTERRUPT). Records
 * the notification as sent when it returns true.
 */
bool vq_should_notify(struct virtqueue *vq);

/*
 * Level for a log line the guest can trigger at will: the first few at
 * warn, the rest at debug, so a guest cannot flood kite's log.
 */
#define VIRTIO_WARN_LIMIT 8
static inline enum log_level virtio_guest_log_level(unsigned int *count)
{
	if (*count >= VIRTIO_WARN_LIMIT)
		return LOG_DEBUG;
	++*count;
	return LOG_WARN;
}

/* 2.7.10: does moving the index from @old to @new_idx pass @event_idx? */
static inline bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* Helpers over iovec arrays (host side, after mapping). */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip, const void *buf,
		    size_t len);
/*
 * Fills @dst (room for @max) with the part [skip, skip+len) of @src.
 * Returns the number of segments, or -E2BIG, or -EINVAL if @src is short.
 */
int iov_slice(const struct iovec *src, unsigned int n, size_t skip, size_t len, struct iovec *dst,
	      unsigned int max);

#endif
