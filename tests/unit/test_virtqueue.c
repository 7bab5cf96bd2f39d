// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split-ring walker against a hostile driver: loops, addresses outside
 * RAM, chains longer than the ring, bad indices and next pointers, wrapping
 * lengths, writable-before-readable, malformed indirect tables. Plus the
 * EVENT_IDX arithmetic and the used ring as the driver reads it back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "test_virtio_util.h"
#include "vmm/dma.h"
#include "vmm/guest_mem.h"

#define QSZ 8
/* Room for rings of up to 2048 entries. */
#define DESC 0x200000
#define AVAIL 0x210000
#define USED 0x220000
#define BUF 0x10000
#define TABLE 0x8000

static struct guest_mem mem;
static struct dma_space dma;
static struct virtqueue vq;
static struct tring tr;
static struct vq_elem *e;

static void setup_ring(uint16_t max, uint16_t size, bool event_idx, bool indirect)
{
	cr_assert_eq(guest_mem_init(&mem, T_RAM, T_HOLE), 0);
	dma_space_init_identity(&dma, &mem);
	cr_assert_eq(vq_init(&vq, &dma, "test", 0, max), 0);
	tr_init(&tr, &mem, size, DESC, AVAIL, USED);
	vq.size = size;
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL;
	vq.used_addr = USED;
	cr_assert_eq(vq_enable(&vq, event_idx, indirect), 0);
	e = calloc(1, sizeof(*e));
	cr_assert_not_null(e);
}

static void setup(void)
{
	setup_ring(QSZ, QSZ, true, true);
}

static void teardown(void)
{
	free(e);
	vq_free(&vq);
	guest_mem_destroy(&mem);
}

/* The chain is dropped: consumed, handed back with used length 0, the ring stays usable. */
static void assert_dropped(uint16_t head)
{
	uint16_t used_before = tr_used_idx(&tr);
	uint32_t id, len;

	cr_assert_eq(vq_pop(&vq, e), -EBADMSG);
	cr_assert_eq(e->head, head);
	cr_assert_eq(vq_push(&vq, e->head, 0), 0);
	cr_assert_eq(tr_used_idx(&tr), (uint16_t)(used_before + 1));
	tr_used(&tr, used_before, &id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 0);
	cr_assert_not(vq.broken);
	cr_assert_eq(vq_pop(&vq, e), 0, "nothing else available");
}

TestSuite(virtqueue, .init = setup, .fini = teardown);

Test(virtqueue, empty_ring)
{
	cr_assert_eq(vq_pop(&vq, e), 0);
	cr_assert_not(vq_has_avail(&vq));
}

Test(virtqueue, readable_then_writable_chain)
{
	tr_desc(&tr, 3, BUF, 16, VRING_DESC_F_NEXT, 5);
	tr_desc(&tr, 5, BUF + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	tr_desc(&tr, 1, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 3);
	cr_assert(vq_has_avail(&vq));
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->head, 3);
	cr_assert_eq(e->nout, 1);
	cr_assert_eq(e->nin, 2);
	cr_assert_eq(e->out_len, 16);
	cr_assert_eq(e->in_len, 513);
	cr_assert_eq(e->iov[0].iov_base, guest_mem_ptr(&mem, BUF, 16));
	cr_assert_eq(e->iov[1].iov_base, guest_mem_ptr(&mem, BUF + 0x100, 512));
	cr_assert_eq(e->iov[2].iov_len, 1);
	cr_assert_eq(vq_pop(&vq, e), 0);
}

Test(virtqueue, used_ring_updates)
{
	uint32_t id, len;

	for (uint16_t i = 0; i < 3; i++) {
		tr_desc(&tr, i, BUF + 0x100 * i, 64, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, i);
	}
	for (uint16_t i = 0; i < 3; i++) {
		cr_assert_eq(vq_pop(&vq, e), 1);
		cr_assert_eq(vq_push(&vq, e->head, 10u + i), 0);
		cr_assert_eq(tr_used_idx(&tr), i + 1);
	}
	for (uint16_t i = 0; i < 3; i++) {
		tr_used(&tr, i, &id, &len);
		cr_assert_eq(id, i);
		cr_assert_eq(len, 10u + i);
	}
}

Test(virtqueue, batched_fill_publishes_once)
{
	uint32_t id, len;

	for (uint16_t i = 0; i < 3; i++) {
		tr_desc(&tr, i, BUF + 0x100 * i, 64, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, i);
	}
	for (uint16_t i = 0; i < 3; i++) {
		cr_assert_eq(vq_pop(&vq, e), 1);
		cr_assert_eq(vq_fill(&vq, e->head, 64, i), 0);
		cr_assert_eq(tr_used_idx(&tr), 0, "nothing visible before the flush");
	}
	cr_assert_eq(vq_flush(&vq, 3), 0);
	cr_assert_eq(tr_used_idx(&tr), 3);
	tr_used(&tr, 2, &id, &len);
	cr_assert_eq(id, 2);
}

Test(virtqueue, indices_wrap_at_65536)
{
	uint32_t id, len;

	vq.last_avail_idx = vq.used_idx = vq.signalled_used = 65534;
	tr_set_avail_idx(&tr, 65534);
	put_le16(t_ptr(&mem, USED + 2, 2), 65534);
	for (uint16_t i = 0; i < 4; i++) {
		tr_desc(&tr, i, BUF, 8, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, i);
	}
	cr_assert_eq(tr.avail_idx, 2);
	for (uint16_t i = 0; i < 4; i++) {
		cr_assert_eq(vq_pop(&vq, e), 1);
		cr_assert_eq(e->head, i);
		cr_assert_eq(vq_push(&vq, e->head, 8), 0);
	}
	cr_assert_eq(vq_pop(&vq, e), 0);
	cr_assert_eq(tr_used_idx(&tr), 2);
	tr_used(&tr, 1, &id, &len); /* slot (65537 % 8) = 1 holds the fourth */
	cr_assert_eq(id, 3);
}

Test(virtqueue, loop_is_dropped)
{
	tr_desc(&tr, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, BUF, 8, VRING_DESC_F_NEXT, 2);
	tr_desc(&tr, 2, BUF, 8, VRING_DESC_F_NEXT, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, self_loop_is_dropped)
{
	tr_desc(&tr, 4, BUF, 8, VRING_DESC_F_NEXT, 4);
	tr_post(&tr, 4);
	assert_dropped(4);
}

Test(virtqueue, chain_of_queue_size_is_fine)
{
	for (uint16_t i = 0; i < QSZ; i++)
		tr_desc(&tr, i, BUF + 16 * i, 16, i + 1 < QSZ ? VRING_DESC_F_NEXT : 0, i + 1);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->nout, QSZ);
	cr_assert_eq(e->out_len, 16 * QSZ);
}

Test(virtqueue, bad_next_is_dropped)
{
	tr_desc(&tr, 0, BUF, 8, VRING_DESC_F_NEXT, QSZ);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, next_beyond_driver_size_is_dropped)
{
	/* The ring is 8 long, the device could take 16: only the driver's size counts. */
	teardown();
	setup_ring(16, 8, true, true);
	tr_desc(&tr, 0, BUF, 8, VRING_DESC_F_NEXT, 9);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, outside_ram_is_dropped)
{
	tr_desc(&tr, 0, T_RAM, 8, 0, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
	tr_desc(&tr, 1, T_RAM - 4, 8, VRING_DESC_F_WRITE, 0); /* straddles the end */
	tr_post(&tr, 1);
	assert_dropped(1);
	tr_desc(&tr, 2, 0xfee00000, 4, VRING_DESC_F_WRITE, 0); /* the MMIO hole */
	tr_post(&tr, 2);
	assert_dropped(2);
}

Test(virtqueue, wrapping_length_is_dropped)
{
	tr_desc(&tr, 0, UINT64_MAX - 3, 16, 0, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
	tr_desc(&tr, 1, BUF, UINT32_MAX, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 1);
	assert_dropped(1);
}

Test(virtqueue, zero_length_descriptor_is_skipped)
{
	tr_desc(&tr, 0, 0xdeadbeef000ull, 0, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, BUF, 8, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->nout, 0);
	cr_assert_eq(e->nin, 1);
	cr_assert_eq(e->in_len, 8);
}

Test(virtqueue, readable_after_writable_is_dropped)
{
	tr_desc(&tr, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, BUF + 8, 8, 0, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, head_out_of_range_breaks_ring)
{
	tr_post(&tr, QSZ);
	cr_assert_eq(vq_pop(&vq, e), -EIO);
	cr_assert(vq.broken);
	cr_assert_eq(vq_pop(&vq, e), -EIO, "stays broken until reset");
	cr_assert_eq(tr_used_idx(&tr), 0);
}

Test(virtqueue, avail_idx_too_far_ahead_breaks_ring)
{
	tr_set_avail_idx(&tr, QSZ + 1);
	cr_assert_eq(vq_pop(&vq, e), -EIO);
	cr_assert(vq.broken);
	cr_assert_not(vq_has_avail(&vq));
	vq_reset(&vq);
	cr_assert_not(vq.broken);
	cr_assert_not(vq.ready);
}

Test(virtqueue, avail_idx_exactly_one_ring_ahead_is_fine)
{
	for (uint16_t i = 0; i < QSZ; i++) {
		tr_desc(&tr, i, BUF, 8, 0, 0);
		tr_post(&tr, i);
	}
	for (uint16_t i = 0; i < QSZ; i++)
		cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_pop(&vq, e), 0);
}

Test(virtqueue, descriptor_table_outside_ram_breaks_ring)
{
	vq.desc_addr = T_RAM - 16 * 4; /* entries 4..7 lie past the end of RAM */
	tr_post(&tr, 5);
	cr_assert_eq(vq_pop(&vq, e), -EIO);
	cr_assert(vq.broken);
}

Test(virtqueue, rings_outside_ram_break_ring)
{
	vq.avail_addr = T_RAM;
	cr_assert_eq(vq_pop(&vq, e), -EIO);
	cr_assert(vq.broken);

	vq_reset(&vq);
	vq.size = QSZ;
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL;
	vq.used_addr = T_RAM - 8;
	cr_assert_eq(vq_enable(&vq, true, true), 0);
	tr_desc(&tr, 0, BUF, 8, 0, 0);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, 0, 0), -EIO);
	cr_assert(vq.broken);
}

Test(virtqueue, enable_checks_layout)
{
	vq_reset(&vq);
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL;
	vq.used_addr = USED;
	vq.size = 6;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "not a power of two");
	vq.size = 0;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL);
	vq.size = 2 * QSZ;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "above the maximum");
	vq.size = QSZ;
	vq.desc_addr = DESC + 8;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "descriptor table alignment");
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL + 1;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "avail alignment");
	vq.avail_addr = AVAIL;
	vq.used_addr = USED + 2;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "used alignment");
	vq.used_addr = UINT64_MAX - 15;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "used ring wraps");
	vq.used_addr = USED;
	vq.desc_addr = UINT64_MAX - 15;
	cr_assert_eq(vq_enable(&vq, false, false), -EINVAL, "table wraps");
	vq.desc_addr = DESC;
	cr_assert_eq(vq_enable(&vq, false, false), 0);
	cr_assert(vq.ready);
}

Test(virtqueue, indirect_table)
{
	t_write_desc(&mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 2);
	t_write_desc(&mem, TABLE + 32, BUF + 0x1000, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		     1);
	t_write_desc(&mem, TABLE + 16, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	tr_desc(&tr, 6, TABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 6);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->head, 6);
	cr_assert_eq(e->nout, 1);
	cr_assert_eq(e->nin, 2);
	cr_assert_eq(e->in_len, 4097);
}

Test(virtqueue, indirect_after_direct_descriptors)
{
	t_write_desc(&mem, TABLE, BUF + 0x100, 8, VRING_DESC_F_WRITE, 0);
	tr_desc(&tr, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->out_len, 16);
	cr_assert_eq(e->in_len, 8);
}

Test(virtqueue, indirect_without_feature_is_dropped)
{
	teardown();
	setup_ring(QSZ, QSZ, true, false);
	t_write_desc(&mem, TABLE, BUF, 16, 0, 0);
	tr_desc(&tr, 0, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, indirect_malformed_is_dropped)
{
	uint16_t head = 0;

	/* Length not a multiple of 16. */
	tr_desc(&tr, head, TABLE, 24, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* Empty table. */
	tr_desc(&tr, head, TABLE, 0, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* More entries than the ring. */
	tr_desc(&tr, head, TABLE, 16 * (QSZ + 1), VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* Table outside RAM. */
	tr_desc(&tr, head, T_RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* INDIRECT together with NEXT. */
	t_write_desc(&mem, TABLE, BUF, 16, 0, 0);
	tr_desc(&tr, head, TABLE, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* Nested indirect. */
	t_write_desc(&mem, TABLE, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	tr_desc(&tr, head, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* A loop inside the table. */
	t_write_desc(&mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 1);
	t_write_desc(&mem, TABLE + 16, BUF, 16, VRING_DESC_F_NEXT, 0);
	tr_desc(&tr, head, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
	/* next past the end of the table (but inside the ring). */
	t_write_desc(&mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 2);
	tr_desc(&tr, head, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, head);
	assert_dropped(head++);
}

Test(virtqueue, indirect_table_buffer_outside_ram_is_dropped)
{
	t_write_desc(&mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 1);
	t_write_desc(&mem, TABLE + 16, 0x100000000ull, 16, VRING_DESC_F_WRITE, 0);
	tr_desc(&tr, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, vq_next_returns_bad_chains_and_continues)
{
	uint32_t id, len;

	tr_desc(&tr, 0, T_RAM, 8, 0, 0);
	tr_desc(&tr, 1, BUF, 8, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	tr_post(&tr, 1);
	cr_assert_eq(vq_next(&vq, e), 1);
	cr_assert_eq(e->head, 1);
	cr_assert_eq(tr_used_idx(&tr), 1);
	tr_used(&tr, 0, &id, &len);
	cr_assert_eq(id, 0);
	cr_assert_eq(len, 0);
}

Test(virtqueue, too_many_segments_is_dropped)
{
	/* A 2048-entry ring lets a chain name more buffers than VQ_MAX_IOV. */
	const uint16_t n = VQ_MAX_IOV + 1;

	teardown();
	setup_ring(2048, 2048, true, true);
	for (uint16_t i = 0; i < n; i++)
		t_write_desc(&mem, 0x100000 + 16ull * i, BUF + i, 1,
			     i + 1 < n ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	tr_desc(&tr, 0, 0x100000, 16u * n, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
}

Test(virtqueue, buffer_across_pages_maps_whole)
{
	tr_desc(&tr, 0, BUF + 4096 - 100, 300, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(e->nin, 1);
	cr_assert_eq(e->iov[0].iov_len, 300);
}

Test(virtqueue, buffer_across_ram_regions_is_dropped)
{
	/* RAM split by the hole at 8 MiB: [0, 8M) and [4G, 4G + 8M) are not contiguous. */
	teardown();
	cr_assert_eq(guest_mem_init(&mem, T_RAM, 8ull << 20), 0);
	dma_space_init_identity(&dma, &mem);
	cr_assert_eq(vq_init(&vq, &dma, "test", 0, QSZ), 0);
	tr_init(&tr, &mem, QSZ, DESC, AVAIL, USED);
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL;
	vq.used_addr = USED;
	cr_assert_eq(vq_enable(&vq, true, true), 0);
	e = calloc(1, sizeof(*e));
	tr_desc(&tr, 0, (8ull << 20) - 8, 16, 0, 0);
	tr_post(&tr, 0);
	assert_dropped(0);
	tr_desc(&tr, 1, 0x100000000ull, 16, 0, 0);
	tr_post(&tr, 1);
	cr_assert_eq(vq_pop(&vq, e), 1, "the high region is RAM too");
}

Test(virtqueue, discontiguous_iova)
{
	uint8_t *elem;

	/* The driver's view is in IOVA; write the rings where the IOVAs really land. */
	dma.ops = &t_scrambled_ops;
	vq_reset(&vq);
	vq.size = QSZ;
	vq.desc_addr = 0x400000;
	vq.avail_addr = 0x401000;
	vq.used_addr = 0x402ffc - 4 - 8 * 2; /* used entry 2 straddles a page */
	cr_assert_eq(vq_enable(&vq, true, true), 0);
	tr_init(&tr, &mem, QSZ, t_scramble(vq.desc_addr), t_scramble(vq.avail_addr),
		t_scramble(vq.used_addr));
	tr_desc(&tr, 0, 0x410f00, 0x2100, VRING_DESC_F_WRITE, 0); /* three pages */
	for (int i = 0; i < 3; i++)
		tr_post(&tr, 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(vq_pop(&vq, e), 1);
		cr_assert_eq(e->nin, 3);
		cr_assert_eq(e->iov[0].iov_base, guest_mem_ptr(&mem, t_scramble(0x410f00), 0x100));
		cr_assert_eq(e->iov[0].iov_len, 0x100);
		cr_assert_eq(e->iov[1].iov_base, guest_mem_ptr(&mem, t_scramble(0x411000), 0x1000));
		cr_assert_eq(e->iov[2].iov_len, 0x1000);
		cr_assert_eq(vq_push(&vq, 0, 0x1234u + (uint32_t)i), 0);
	}
	cr_assert_not(vq.broken);
	/* Entry 2 is split: id in one guest page, len in the other. */
	elem = t_ptr(&mem, t_scramble(0x402ffc), 4);
	cr_assert_eq(get_le32(elem), 0);
	cr_assert_eq(get_le32(t_ptr(&mem, t_scramble(0x403000), 4)), 0x1236);
	cr_assert_eq(get_le16(t_ptr(&mem, t_scramble(vq.used_addr + 2), 2)), 3);
}

Test(virtqueue, vring_need_event_math)
{
	/* Notify when the new index passes event + 1 in (old, new]. */
	cr_assert(vring_need_event(0, 1, 0));
	cr_assert_not(vring_need_event(1, 1, 0));
	cr_assert(vring_need_event(1, 2, 0));
	cr_assert(vring_need_event(5, 10, 0));
	cr_assert_not(vring_need_event(10, 10, 0));
	cr_assert_not(vring_need_event(3, 10, 5), "event before old: already notified");
	cr_assert_not(vring_need_event(0, 0, 0), "nothing new");
	/* Across the 16-bit wrap. */
	cr_assert(vring_need_event(65535, 1, 65534));
	cr_assert(vring_need_event(0, 2, 65535));
	cr_assert_not(vring_need_event(2, 2, 65535));
	cr_assert(vring_need_event(65533, 65534, 65530));
}

Test(virtqueue, event_idx_suppresses_interrupts)
{
	for (uint16_t i = 0; i < 4; i++) {
		tr_desc(&tr, i, BUF, 8, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, i);
	}
	/* The driver wants to hear once the entry at index 2 is used. */
	tr_set_used_event(&tr, 2);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert_not(vq_should_notify(&vq), "used idx 1 has not passed event 2");
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert_not(vq_should_notify(&vq));
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert(vq_should_notify(&vq), "used idx 3 passed event 2");
	cr_assert_not(vq_should_notify(&vq), "nothing new since");
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert_not(vq_should_notify(&vq), "event 2 already behind us");
	tr_set_used_event(&tr, 4);
	cr_assert_not(vq_should_notify(&vq), "no new entries since the last check");
}

Test(virtqueue, event_idx_batch_crossing_event)
{
	for (uint16_t i = 0; i < 4; i++) {
		tr_desc(&tr, i, BUF, 8, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, i);
	}
	tr_set_used_event(&tr, 1);
	for (uint16_t i = 0; i < 4; i++) {
		cr_assert_eq(vq_pop(&vq, e), 1);
		cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	}
	cr_assert(vq_should_notify(&vq), "a batch 0->4 passes event 1");
}

Test(virtqueue, no_interrupt_flag_without_event_idx)
{
	teardown();
	setup_ring(QSZ, QSZ, false, false);
	tr_desc(&tr, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	tr_post(&tr, 0);
	tr_set_avail_flags(&tr, VRING_AVAIL_F_NO_INTERRUPT);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert_not(vq_should_notify(&vq));
	tr_set_avail_flags(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_eq(vq_push(&vq, e->head, 1), 0);
	cr_assert(vq_should_notify(&vq));
	cr_assert_not(vq_should_notify(&vq), "nothing new");
}

Test(virtqueue, enable_notify_publishes_avail_event)
{
	tr_desc(&tr, 0, BUF, 8, 0, 0);
	tr_post(&tr, 0);
	tr_post(&tr, 0);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert(vq_enable_notify(&vq), "one more is available");
	cr_assert_eq(tr_avail_event(&tr), 1);
	cr_assert_eq(vq_pop(&vq, e), 1);
	cr_assert_not(vq_enable_notify(&vq));
	cr_assert_eq(tr_avail_event(&tr), 2);
	/* The driver's view: adding entry 2 -> 3 passes avail_event 2, so it kicks. */
	cr_assert(vring_need_event(tr_avail_event(&tr), 3, 2));
}

Test(virtqueue, walk_again_by_head)
{
	tr_desc(&tr, 2, BUF, 64, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 2);
	cr_assert_eq(vq_pop(&vq, e), 1);
	memset(e, 0, sizeof(*e));
	cr_assert_eq(vq_walk(&vq, 2, e), 0);
	cr_assert_eq(e->in_len, 64);
	cr_assert_eq(vq_walk(&vq, QSZ, e), -EBADMSG);
}

Test(virtqueue, not_ready_pops_nothing)
{
	tr_desc(&tr, 0, BUF, 8, 0, 0);
	tr_post(&tr, 0);
	vq_reset(&vq);
	cr_assert_eq(vq_pop(&vq, e), 0);
	cr_assert_not(vq_enable_notify(&vq));
	cr_assert_not(vq_should_notify(&vq));
}

Test(virtqueue, init_rejects_bad_sizes)
{
	struct virtqueue v;

	cr_assert_eq(vq_init(&v, &dma, "x", 0, 0), -EINVAL);
	cr_assert_eq(vq_init(&v, &dma, "x", 0, 100), -EINVAL);
}

Test(iov, slice_and_copy)
{
	uint8_t a[10], b[5], c[20], out[40];
	struct iovec src[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec dst[3];
	int n;

	for (unsigned int i = 0; i < 10; i++)
		a[i] = (uint8_t)i;
	for (unsigned int i = 0; i < 5; i++)
		b[i] = (uint8_t)(10 + i);
	for (unsigned int i = 0; i < 20; i++)
		c[i] = (uint8_t)(15 + i);
	n = iov_slice(src, 3, 8, 10, dst, 3);
	cr_assert_eq(n, 3);
	cr_assert_eq(dst[0].iov_base, a + 8);
	cr_assert_eq(dst[0].iov_len, 2);
	cr_assert_eq(dst[1].iov_len, 5);
	cr_assert_eq(dst[2].iov_base, c);
	cr_assert_eq(dst[2].iov_len, 3);
	cr_assert_eq(iov_slice(src, 3, 8, 10, dst, 2), -E2BIG);
	cr_assert_eq(iov_slice(src, 3, 30, 10, dst, 3), -EINVAL, "source too short");
	cr_assert_eq(iov_slice(src, 3, 35, 0, dst, 3), 0);
	cr_assert_eq(iov_to_buf(src, 3, 12, out, sizeof(out)), 23);
	cr_assert_eq(out[0], 12);
	cr_assert_eq(out[22], 34);
	memset(out, 0xee, sizeof(out));
	cr_assert_eq(iov_from_buf(src, 3, 33, out, 5), 2);
	cr_assert_eq(c[19], 0xee);
}
