// SPDX-License-Identifier: GPL-2.0-only
/*
 * Split virtqueue walker. The guest owns the rings and may change them
 * under our feet, so every value is read once into host memory, checked,
 * and only then used; nothing here trusts an index, a length or an address
 * it has not just validated.
 */
#include "devices/virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dma.h"
#include "vmm/log.h"

/* Offsets inside the rings (2.7.6, 2.7.8). */
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_IDX 2
#define USED_RING 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

int vq_init(struct virtqueue *vq, struct dma_space *dma, const char *name, uint16_t index,
	    uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	if (!max_size || max_size > VQ_MAX_SIZE || (max_size & (max_size - 1)))
		return -EINVAL;
	vq->dma = dma;
	vq->name = name;
	vq->index = index;
	vq->max_size = max_size;
	/* Room for the largest indirect table accepted (as long as the ring). */
	vq->indirect_buf = malloc((size_t)max_size * VRING_DESC_SIZE);
	if (!vq->indirect_buf)
		return -ENOMEM;
	vq_reset(vq);
	return 0;
}

void vq_free(struct virtqueue *vq)
{
	free(vq->indirect_buf);
	vq->indirect_buf = NULL;
}

void vq_reset(struct virtqueue *vq)
{
	vq->size = vq->max_size;
	vq->msix_vector = 0xffff;
	vq->ready = false;
	vq->desc_addr = vq->avail_addr = vq->used_addr = 0;
	vq->event_idx = vq->indirect = false;
	vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
	vq->broken = false;
}

static bool range_wraps(uint64_t addr, uint64_t len)
{
	return addr > UINT64_MAX - len;
}

int vq_enable(struct virtqueue *vq, bool event_idx, bool indirect)
{
	uint64_t n = vq->size;

	if (!n || n > vq->max_size || (n & (n - 1))) {
		log_msg(virtio_guest_log_level(&vq->warnings), "%s: queue %u: bad size %llu",
			vq->name, vq->index, (unsigned long long)n);
		return -EINVAL;
	}
	/* 2.7: alignment of the three parts, and none may wrap the address space. */
	if ((vq->desc_addr & 15) || (vq->avail_addr & 1) || (vq->used_addr & 3) ||
	    range_wraps(vq->desc_addr, n * VRING_DESC_SIZE) ||
	    range_wraps(vq->avail_addr, 6 + 2 * n) ||
	    range_wraps(vq->used_addr, 6 + VRING_USED_ELEM_SIZE * n)) {
		log_msg(virtio_guest_log_level(&vq->warnings),
			"%s: queue %u: bad ring addresses 0x%llx 0x%llx 0x%llx", vq->name,
			vq->index, (unsigned long long)vq->desc_addr,
			(unsigned long long)vq->avail_addr, (unsigned long long)vq->used_addr);
		return -EINVAL;
	}
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
	vq->broken = false;
	vq->ready = true;
	return 0;
}

/*
 * Host pointer to a small ring field. Fields are naturally aligned, so they
 * never straddle a page and one segment is enough even behind a vIOMMU.
 */
static void *ring_ptr(struct virtqueue *vq, uint64_t addr, uint64_t len, bool write)
{
	struct iovec iov;

	if (dma_map(vq->dma, addr, len, write, &iov, 1) != 1 || iov.iov_len != len)
		return NULL;
	return iov.iov_base;
}

static void vq_set_broken(struct virtqueue *vq, const char *why)
{
	if (!vq->broken)
		log_msg(virtio_guest_log_level(&vq->warnings),
			"%s: queue %u: %s; device needs reset", vq->name, vq->index, why);
	vq->broken = true;
}

/* Reads avail->idx. Acquire: ring entries and descriptors are read after it. */
static int read_avail_idx(struct virtqueue *vq, uint16_t *idx)
{
	uint16_t *p = ring_ptr(vq, vq->avail_addr + AVAIL_IDX, 2, false);

	if (!p)
		return -EIO;
	*idx = le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return 0;
}

static void decode_desc(const uint8_t *raw, struct desc *d)
{
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static int read_desc(struct virtqueue *vq, uint16_t i, struct desc *d)
{
	const uint8_t *p = ring_ptr(vq, vq->desc_addr + (uint64_t)i * VRING_DESC_SIZE,
				    VRING_DESC_SIZE, false);
	uint8_t raw[VRING_DESC_SIZE];

	if (!p)
		return -EIO;
	/* One copy, then decode: the guest may be rewriting it concurrently. */
	memcpy(raw, p, sizeof(raw));
	decode_desc(raw, d);
	return 0;
}

/* Maps one descriptor's buffer into @e. NULL on success, or why it is bad. */
static const char *map_desc(struct virtqueue *vq, const struct desc *d, struct vq_elem *e,
			    bool *seen_write)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	unsigned int used = e->nout + e->nin;
	int n;

	/* 2.7.4.2: device-writable descriptors come after all device-readable ones. */
	if (!write && *seen_write)
		return "readable descriptor after a writable one";
	*seen_write |= write;
	/* Zero-length buffers carry nothing; skipping them is harmless. */
	if (!d->len)
		return NULL;
	if (range_wraps(d->addr, d->len))
		return "buffer wraps the address space";
	n = dma_map(vq->dma, d->addr, d->len, write, &e->iov[used], (int)(VQ_MAX_IOV - used));
	if (n == -E2BIG)
		return "too many segments";
	if (n < 0)
		return "buffer outside DMA space";
	if (write) {
		e->nin += (unsigned int)n;
		e->in_len += d->len;
	} else {
		e->nout += (unsigned int)n;
		e->out_len += d->len;
	}
	return NULL;
}

/*
 * Walks the chain at @head. 0, -EIO (descriptor table unreadable), or
 * -EBADMSG with *why set.
 */
static int walk(struct virtqueue *vq, uint16_t head, struct vq_elem *e, const char **why)
{
	const uint8_t *table = NULL; /* the indirect table copy once inside one */
	unsigned int count = 0, max = vq->size;
	bool seen_write = false;
	uint16_t i = head;
	struct desc d;

	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	if (head >= vq->size) {
		*why = "head out of range";
		return -EBADMSG;
	}
	for (;;) {
		/* Each table holds at most @max entries: more steps mean a loop. */
		if (++count > max) {
			*why = "descriptor chain loops or exceeds the queue size";
			return -EBADMSG;
		}
		if (table)
			decode_desc(table + (size_t)i * VRING_DESC_SIZE, &d);
		else if (read_desc(vq, i, &d))
			return -EIO;

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: one level, never chained, a whole number of entries. */
			if (!vq->indirect)
				*why = "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
			else if (table)
				*why = "nested indirect descriptor";
			else if (d.flags & VRING_DESC_F_NEXT)
				*why = "indirect descriptor with NEXT";
			else if (!d.len || d.len % VRING_DESC_SIZE ||
				 d.len / VRING_DESC_SIZE > vq->size)
				*why = "bad indirect table length";
			else if (dma_read(vq->dma, d.addr, vq->indirect_buf, d.len))
				*why = "indirect table outside DMA space";
			else
				*why = NULL;
			if (*why)
				return -EBADMSG;
			table = vq->indirect_buf;
			max = d.len / VRING_DESC_SIZE;
			count = 0;
			i = 0;
			continue;
		}
		*why = map_desc(vq, &d, e, &seen_write);
		if (*why)
			return -EBADMSG;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= max) {
			*why = "next index out of range";
			return -EBADMSG;
		}
		i = d.next;
	}
}

static void log_bad_chain(struct virtqueue *vq, uint16_t head, const char *why)
{
	vq->bad_chains++;
	log_msg(virtio_guest_log_level(&vq->warnings), "%s: queue %u: dropping chain %u: %s",
		vq->name, vq->index, head, why);
}

int vq_walk(struct virtqueue *vq, uint16_t head, struct vq_elem *e)
{
	const char *why = NULL;
	int r;

	if (vq->broken)
		return -EIO;
	r = walk(vq, head, e, &why);
	if (r == -EIO)
		vq_set_broken(vq, "descriptor table outside DMA space");
	else if (r)
		log_bad_chain(vq, head, why);
	return r;
}

int vq_pop(struct virtqueue *vq, struct vq_elem *e)
{
	uint16_t avail, head, *p;

	if (!vq->ready)
		return 0;
	if (vq->broken)
		return -EIO;
	if (read_avail_idx(vq, &avail)) {
		vq_set_broken(vq, "available ring outside DMA space");
		return -EIO;
	}
	if (avail == vq->last_avail_idx)
		return 0;
	/* The driver can be at most one ring ahead of us; more is corruption. */
	if ((uint16_t)(avail - vq->last_avail_idx) > vq->size) {
		vq_set_broken(vq, "available index moved more than the queue size");
		return -EIO;
	}
	p = ring_ptr(vq, vq->avail_addr + AVAIL_RING + 2ULL * (vq->last_avail_idx & (vq->size - 1)),
		     2, false);
	if (!p) {
		vq_set_broken(vq, "available ring outside DMA space");
		return -EIO;
	}
	head = le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
	/* A head we cannot name in the used ring cannot be given back: the ring is unusable. */
	if (head >= vq->size) {
		vq_set_broken(vq, "available ring names a descriptor beyond the queue size");
		return -EIO;
	}
	vq->last_avail_idx++;
	return vq_walk(vq, head, e) == 0 ? 1 : (vq->broken ? -EIO : -EBADMSG);
}

int vq_next(struct virtqueue *vq, struct vq_elem *e)
{
	for (;;) {
		int r = vq_pop(vq, e);

		if (r != -EBADMSG)
			return r;
		if (vq_push(vq, e->head, 0))
			return -EIO;
	}
}

int vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len, uint16_t pos)
{
	uint16_t slot = (uint16_t)(vq->used_idx + pos) & (vq->size - 1);
	uint8_t elem[VRING_USED_ELEM_SIZE];
	uint32_t v;

	if (vq->broken)
		return -EIO;
	v = htole32(head);
	memcpy(elem, &v, 4);
	v = htole32(len);
	memcpy(elem + 4, &v, 4);
	/*
	 * The ring is only 4-byte aligned, so an entry may straddle a page:
	 * a copy, which may take two segments behind a vIOMMU. The driver
	 * reads it only after the used idx store in vq_flush.
	 */
	if (dma_write(vq->dma, vq->used_addr + USED_RING + (uint64_t)slot * VRING_USED_ELEM_SIZE,
		      elem, sizeof(elem))) {
		vq_set_broken(vq, "used ring outside DMA space");
		return -EIO;
	}
	return 0;
}

int vq_flush(struct virtqueue *vq, uint16_t count)
{
	uint16_t *p;

	if (vq->broken)
		return -EIO;
	p = ring_ptr(vq, vq->used_addr + USED_IDX, 2, true);
	if (!p) {
		vq_set_broken(vq, "used ring outside DMA space");
		return -EIO;
	}
	vq->used_idx = (uint16_t)(vq->used_idx + count);
	/* Release: the entries and the buffer contents are visible before the index. */
	__atomic_store_n(p, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

int vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	int r = vq_fill(vq, head, len, 0);

	return r ? r : vq_flush(vq, 1);
}

bool vq_has_avail(struct virtqueue *vq)
{
	uint16_t avail;

	if (!vq->ready || vq->broken || read_avail_idx(vq, &avail))
		return false;
	return avail != vq->last_avail_idx;
}

bool vq_enable_notify(struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		/* avail_event sits after the used ring's entries. */
		uint16_t *p = ring_ptr(vq,
				       vq->used_addr + USED_RING +
					       (uint64_t)vq->size * VRING_USED_ELEM_SIZE,
				       2, true);

		if (!p) {
			vq_set_broken(vq, "used ring outside DMA space");
			return false;
		}
		__atomic_store_n(p, htole16(vq->last_avail_idx), __ATOMIC_RELAXED);
	}
	/*
	 * Full barrier: the driver either sees our avail_event before it
	 * decides whether to kick, or we see its new avail idx here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_has_avail(vq);
}

bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used, val, *p;

	if (!vq->ready || vq->used_idx == old)
		return false;
	/* Full barrier: our used idx store is ordered before reading the driver's hint. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = vq->used_idx;
	if (vq->event_idx)
		p = ring_ptr(vq, vq->avail_addr + AVAIL_RING + 2ULL * vq->size, 2, false);
	else
		p = ring_ptr(vq, vq->avail_addr, 2, false);
	/* Unreadable hint: notifying is always allowed, suppressing is only an optimisation. */
	if (!p)
		return true;
	val = le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
	if (vq->event_idx)
		return vring_need_event(val, vq->used_idx, old);
	return !(val & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Copies between a flat buffer and the bytes of an iovec array past its first @skip bytes. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len - done)
			l = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, buf + done, l);
		else
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + skip, l);
		done += l;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip, const void *buf,
		    size_t len)
{
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, true);
}

int iov_slice(const struct iovec *src, unsigned int n, size_t skip, size_t len, struct iovec *dst,
	      unsigned int max)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		if (out == max)
			return -E2BIG;
		dst[out].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[out].iov_len = l;
		out++;
		len -= l;
		skip = 0;
	}
	return len ? -EINVAL : (int)out;
}
