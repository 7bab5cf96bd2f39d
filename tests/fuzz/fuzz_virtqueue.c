// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the split-virtqueue walker: the input is the ring
 * configuration and device-side indices, then the contents of guest RAM
 * (descriptor table, avail ring, buffers, indirect tables). The walker runs
 * until the ring is empty or broken; every host segment it hands out is
 * checked to lie inside guest RAM and is read and written in full, so
 * AddressSanitizer sees any escape.
 *
 * fuzz-sources: devices/virtio/virtqueue.c vmm/dma.c vmm/guest_mem.c vmm/log.c
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "vmm/dma.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

/* Two RAM regions, [0, 32K) and [4G, 4G + 32K), so chains can straddle a hole. */
#define RAM_SIZE (64 * 1024)
#define RAM_HOLE (32 * 1024)
#define MAX_QUEUE 256
#define HDR_LEN 11

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;
static struct dma_space dma;
static struct virtqueue vq;
static struct vq_elem elem;
static volatile uint8_t sink; /* keeps the reads of readable buffers */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, RAM_SIZE, RAM_HOLE) || vq_init(&vq, &dma, "fuzz", 0, MAX_QUEUE))
		abort();
	dma_space_init_identity(&dma, &mem);
	return 0;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void check_segment(const struct iovec *iov)
{
	const uint8_t *p = iov->iov_base;

	for (unsigned int r = 0; r < mem.nregions; r++) {
		const uint8_t *base = mem.regions[r].hva;

		if (p >= base && iov->iov_len <= mem.regions[r].size &&
		    (size_t)(p - base) <= mem.regions[r].size - iov->iov_len)
			return;
	}
	__builtin_trap(); /* a segment outside guest RAM */
}

/* What a device does with a chain: read what is readable, fill what is writable. */
static uint32_t consume(struct vq_elem *e)
{
	size_t total = 0;

	if (e->nout + e->nin > VQ_MAX_IOV)
		__builtin_trap();
	for (unsigned int i = 0; i < e->nout + e->nin; i++) {
		uint8_t *p = e->iov[i].iov_base;

		check_segment(&e->iov[i]);
		if (i < e->nout) {
			for (size_t j = 0; j < e->iov[i].iov_len; j++)
				sink ^= p[j];
		} else {
			memset(p, 0xa5, e->iov[i].iov_len);
			total += e->iov[i].iov_len;
		}
	}
	if (total != e->in_len)
		__builtin_trap();
	return (uint32_t)total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_LEN] = { 0 };
	uint8_t *low = mem.regions[0].hva;
	unsigned int steps;

	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	data += size < HDR_LEN ? size : HDR_LEN;
	size -= size < HDR_LEN ? size : HDR_LEN;

	/* Guest RAM: the input, then zeroes. */
	memset(low, 0, RAM_HOLE);
	memset(mem.regions[1].hva, 0, RAM_SIZE - RAM_HOLE);
	memcpy(low, data, size < RAM_HOLE ? size : RAM_HOLE);
	if (size > RAM_HOLE)
		memcpy(mem.regions[1].hva, data + RAM_HOLE,
		       size - RAM_HOLE < RAM_SIZE - RAM_HOLE ? size - RAM_HOLE
							     : RAM_SIZE - RAM_HOLE);

	vq_reset(&vq);
	vq.size = (uint16_t)(1u << (hdr[0] & 7)) * 2; /* 2..256, or too big when bit 3 says so */
	if (hdr[0] & 0x08)
		vq.size = (uint16_t)(vq.size + 1);
	vq.desc_addr = le16(hdr + 1) & (RAM_HOLE - 1);
	vq.avail_addr = le16(hdr + 3) & (RAM_HOLE - 1);
	vq.used_addr = le16(hdr + 5) & (RAM_HOLE - 1);
	if (hdr[0] & 0x80)
		vq.used_addr += 0x100000000ull; /* used ring in the high region */
	if (vq_enable(&vq, hdr[0] & 0x10, hdr[0] & 0x20))
		return 0;
	vq.last_avail_idx = le16(hdr + 7);
	vq.used_idx = vq.signalled_used = le16(hdr + 9);

	for (steps = 0; steps < 2u * vq.size + 4; steps++) {
		int r = vq_pop(&vq, &elem);

		if (r == 1) {
			if (vq_push(&vq, elem.head, consume(&elem)))
				break;
		} else if (r == -EBADMSG) {
			if (vq_push(&vq, elem.head, 0))
				break;
		} else if (r < 0 || !vq_enable_notify(&vq)) {
			break;
		}
	}
	(void)vq_should_notify(&vq);
	/* Walk again by a guest-chosen head, as the net device does for chains it holds. */
	if (!vq.broken && vq_walk(&vq, le16(hdr + 1) % vq.size, &elem) == 0)
		consume(&elem);
	return 0;
}
