/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the virtio tests: the driver's side of a split ring in guest
 * memory (descriptors, avail ring, used ring read-back) and register
 * accessors that go through the common configuration like a driver does.
 */
#ifndef KITE_TESTS_UNIT_TEST_VIRTIO_UTIL_H
#define KITE_TESTS_UNIT_TEST_VIRTIO_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "devices/virtio/virtio_dev.h"
#include "devices/virtio/virtqueue.h"
#include "vmm/dma.h"
#include "vmm/guest_mem.h"
#include "vmm/util.h"

#define T_RAM (16ull << 20)
#define T_HOLE (3ull << 30)

struct tring {
	struct guest_mem *mem;
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx; /* the driver's next avail index */
};

static inline uint8_t *t_ptr(struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(mem, gpa, len);

	cr_assert_not_null(p, "gpa 0x%llx+%llu outside test RAM", (unsigned long long)gpa,
			   (unsigned long long)len);
	return p;
}

static inline void t_write_desc(struct guest_mem *mem, uint64_t gpa, uint64_t addr, uint32_t len,
				uint16_t flags, uint16_t next)
{
	uint8_t *p = t_ptr(mem, gpa, 16);

	put_le64(p, addr);
	put_le32(p + 8, len);
	put_le16(p + 12, flags);
	put_le16(p + 14, next);
}

static inline void tr_init(struct tring *tr, struct guest_mem *mem, uint16_t size, uint64_t desc,
			   uint64_t avail, uint64_t used)
{
	*tr = (struct tring){
		.mem = mem, .size = size, .desc = desc, .avail = avail, .used = used
	};
	memset(t_ptr(mem, desc, 16ull * size), 0, 16ull * size);
	memset(t_ptr(mem, avail, 6 + 2ull * size), 0, 6 + 2ull * size);
	memset(t_ptr(mem, used, 6 + 8ull * size), 0, 6 + 8ull * size);
}

static inline void tr_desc(struct tring *tr, uint16_t i, uint64_t addr, uint32_t len,
			   uint16_t flags, uint16_t next)
{
	t_write_desc(tr->mem, tr->desc + 16ull * i, addr, len, flags, next);
}

static inline void tr_set_avail_idx(struct tring *tr, uint16_t idx)
{
	tr->avail_idx = idx;
	put_le16(t_ptr(tr->mem, tr->avail + 2, 2), idx);
}

/* Makes chain @head available. */
static inline void tr_post(struct tring *tr, uint16_t head)
{
	put_le16(t_ptr(tr->mem, tr->avail + 4 + 2ull * (tr->avail_idx % tr->size), 2), head);
	tr_set_avail_idx(tr, (uint16_t)(tr->avail_idx + 1));
}

static inline uint16_t tr_used_idx(struct tring *tr)
{
	return get_le16(t_ptr(tr->mem, tr->used + 2, 2));
}

static inline void tr_used(struct tring *tr, uint16_t n, uint32_t *id, uint32_t *len)
{
	const uint8_t *p = t_ptr(tr->mem, tr->used + 4 + 8ull * (n % tr->size), 8);

	*id = get_le32(p);
	*len = get_le32(p + 4);
}

static inline void tr_set_used_event(struct tring *tr, uint16_t v)
{
	put_le16(t_ptr(tr->mem, tr->avail + 4 + 2ull * tr->size, 2), v);
}

static inline uint16_t tr_avail_event(struct tring *tr)
{
	return get_le16(t_ptr(tr->mem, tr->used + 4 + 8ull * tr->size, 2));
}

static inline void tr_set_avail_flags(struct tring *tr, uint16_t flags)
{
	put_le16(t_ptr(tr->mem, tr->avail, 2), flags);
}

/*
 * A stand-in for a vIOMMU: IOVA page n is guest page n ^ 1, so anything
 * that crosses a page boundary is discontiguous in guest memory and maps to
 * one segment per page.
 */
static inline uint64_t t_scramble(uint64_t iova)
{
	return iova ^ 0x1000;
}

static inline int t_scrambled_map(struct dma_space *d, uint64_t iova, uint64_t len, bool write,
				  struct iovec *iov, int max)
{
	int n = 0;

	while (len) {
		uint64_t chunk = 0x1000 - (iova & 0xfff);
		void *p;

		if (chunk > len)
			chunk = len;
		if (n == max)
			return -E2BIG;
		if (iova > UINT64_MAX - chunk)
			return -EFAULT;
		p = guest_mem_ptr(d->mem, t_scramble(iova), chunk);
		if (!p)
			return -EFAULT;
		iov[n++] = (struct iovec){ .iov_base = p, .iov_len = chunk };
		iova += chunk;
		len -= chunk;
	}
	return n;
}

static const struct dma_ops t_scrambled_ops = { .map = t_scrambled_map };

/* Common configuration, as the driver sees it. */
static inline void t_cw(struct virtio_dev *vdev, uint32_t off, uint32_t size, uint64_t v)
{
	uint8_t d[8];

	put_le64(d, v);
	virtio_common_write(vdev, off, d, size);
}

static inline uint64_t t_cr(struct virtio_dev *vdev, uint32_t off, uint32_t size)
{
	uint8_t d[8] = { 0 };

	virtio_common_read(vdev, off, d, size);
	return get_le64(d);
}

static inline uint64_t t_device_features(struct virtio_dev *vdev)
{
	t_cw(vdev, VIRTIO_COMMON_DFSELECT, 4, 0);
	uint64_t lo = t_cr(vdev, VIRTIO_COMMON_DF, 4);

	t_cw(vdev, VIRTIO_COMMON_DFSELECT, 4, 1);
	return lo | t_cr(vdev, VIRTIO_COMMON_DF, 4) << 32;
}

/* 3.1.1 up to FEATURES_OK; returns the status read back. */
static inline uint8_t t_negotiate(struct virtio_dev *vdev, uint64_t features)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	t_cw(vdev, VIRTIO_COMMON_GFSELECT, 4, 0);
	t_cw(vdev, VIRTIO_COMMON_GF, 4, (uint32_t)features);
	t_cw(vdev, VIRTIO_COMMON_GFSELECT, 4, 1);
	t_cw(vdev, VIRTIO_COMMON_GF, 4, (uint32_t)(features >> 32));
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)t_cr(vdev, VIRTIO_COMMON_STATUS, 1);
}

/* Programs and enables queue @q on ring @tr, interrupts on @vector. */
static inline void t_queue(struct virtio_dev *vdev, uint16_t q, struct tring *tr, uint16_t vector)
{
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, q);
	t_cw(vdev, VIRTIO_COMMON_Q_SIZE, 2, tr->size);
	t_cw(vdev, VIRTIO_COMMON_Q_DESC, 8, tr->desc);
	t_cw(vdev, VIRTIO_COMMON_Q_AVAIL, 8, tr->avail);
	t_cw(vdev, VIRTIO_COMMON_Q_USED, 8, tr->used);
	t_cw(vdev, VIRTIO_COMMON_Q_MSIX, 2, vector);
	t_cw(vdev, VIRTIO_COMMON_Q_ENABLE, 2, 1);
}

static inline void t_driver_ok(struct virtio_dev *vdev)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		     VIRTIO_STATUS_DRIVER_OK);
}

/* What a test transport records. */
struct t_transport {
	unsigned int signals[16]; /* by vector */
	unsigned int kicks[VIRTIO_MAX_QUEUES];
};

static inline void t_signal(struct virtio_dev *vdev, uint16_t vector)
{
	struct t_transport *t = vdev->transport;

	cr_assert_lt(vector, 16);
	t->signals[vector]++;
}

static inline void t_kick(struct virtio_dev *vdev, uint16_t q)
{
	struct t_transport *t = vdev->transport;

	t->kicks[q]++;
}

static inline void t_attach(struct virtio_dev *vdev, struct t_transport *t)
{
	memset(t, 0, sizeof(*t));
	vdev->transport = t;
	vdev->signal = t_signal;
	vdev->kick = t_kick;
	vdev->nvec = (uint16_t)(vdev->nqueues + 1);
}

#define T_FEATURES_BASE                                                                            \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) |                             \
	 (1ull << VIRTIO_F_INDIRECT_DESC))

#endif
