// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net (a socketpair stands in for the tap: one read, one frame),
 * virtio-console (pipes) and virtio-rng, driven through the device core as a
 * driver would.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/virtio_dev.h"
#include "test_virtio_util.h"

#define QSZ 16
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define DESC2 0x14000
#define AVAIL2 0x15000
#define USED2 0x16000
#define BUF 0x100000

#define NET_F_MAC (1ull << 5)
#define NET_F_MRG_RXBUF (1ull << 15)
#define NET_F_STATUS (1ull << 16)
#define NET_HDR 12

static struct guest_mem mem;
static struct virtio_dev *vdev;
static struct t_transport tt;
static struct tring rx, tx;
static int peer = -1;

static void mem_setup(void)
{
	cr_assert_eq(guest_mem_init(&mem, T_RAM, T_HOLE), 0);
}

static void dev_teardown(void)
{
	virtio_dev_destroy(vdev);
	if (peer >= 0)
		close(peer);
	guest_mem_destroy(&mem);
}

static void start_two_queues(uint64_t features)
{
	t_attach(vdev, &tt);
	cr_assert(t_negotiate(vdev, features) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&rx, &mem, QSZ, DESC, AVAIL, USED);
	tr_init(&tx, &mem, QSZ, DESC2, AVAIL2, USED2);
	t_queue(vdev, 0, &rx, 1);
	t_queue(vdev, 1, &tx, 2);
	t_driver_ok(vdev);
}

/* virtio-net */

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void net_open(uint64_t features)
{
	int sv[2];

	mem_setup();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	peer = sv[1];
	cr_assert_eq(virtio_net_new(&mem, sv[0], test_mac, &vdev), 0);
	start_two_queues(features);
}

static void net_setup(void)
{
	net_open(T_FEATURES_BASE | NET_F_MAC | NET_F_MRG_RXBUF | NET_F_STATUS);
}

/* Sends @hdr (12 bytes) and @len payload bytes from the "tap". */
static void tap_send_hdr(const uint8_t *hdr, size_t len, uint8_t seed)
{
	uint8_t f[4096];

	cr_assert_leq(NET_HDR + len, sizeof(f));
	memcpy(f, hdr, NET_HDR);
	for (size_t i = 0; i < len; i++)
		f[NET_HDR + i] = (uint8_t)(seed + i);
	cr_assert_eq(send(peer, f, NET_HDR + len, 0), (ssize_t)(NET_HDR + len));
}

/*
 * A frame as a tap without offloads hands it over: DATA_VALID may be set,
 * no GSO; the other fields (and num_buffers, which the tap skips) garbage.
 */
static void tap_send(size_t len, uint8_t seed)
{
	uint8_t hdr[NET_HDR];

	memset(hdr, 0xcc, NET_HDR);
	hdr[0] = 2;
	hdr[1] = 0;
	tap_send_hdr(hdr, len, seed);
}

static void rx_buffer(uint16_t d, uint64_t gpa, uint32_t len)
{
	tr_desc(&rx, d, gpa, len, VRING_DESC_F_WRITE, 0);
	tr_post(&rx, d);
}

static void assert_used(struct tring *r, uint16_t n, uint32_t want_id, uint32_t want_len)
{
	uint32_t id, len;

	tr_used(r, n, &id, &len);
	cr_assert_eq(id, want_id, "used[%u] id %u, want %u", n, id, want_id);
	cr_assert_eq(len, want_len, "used[%u] len %u, want %u", n, len, want_len);
}

/* Checks a received frame's payload, spread over @n buffers of @each bytes. */
static void assert_payload(const uint64_t *gpas, unsigned int n, uint32_t each, size_t len,
			   uint8_t seed)
{
	size_t off = 0;

	for (unsigned int b = 0; b < n; b++) {
		const uint8_t *p = t_ptr(&mem, gpas[b], each);

		for (uint32_t i = 0; i < each && off < NET_HDR + len; i++, off++)
			if (off >= NET_HDR)
				cr_assert_eq(p[i], (uint8_t)(seed + off - NET_HDR), "byte %zu",
					     off);
	}
}

TestSuite(virtio_net, .init = net_setup, .fini = dev_teardown);

Test(virtio_net, config_and_features)
{
	uint8_t cfg[8];
	uint64_t f = t_device_features(vdev);

	cr_assert_eq(f & (NET_F_MAC | NET_F_MRG_RXBUF | NET_F_STATUS),
		     NET_F_MAC | NET_F_MRG_RXBUF | NET_F_STATUS);
	cr_assert_not(f & 1, "no checksum offload");
	virtio_config_read(vdev, 0, cfg, 8);
	cr_assert_arr_eq(cfg, test_mac, 6);
	cr_assert_eq(get_le16(cfg + 6), 1, "link up");
	cr_assert_eq(vdev->device_id, VIRTIO_ID_NET);
}

Test(virtio_net, mac_from_name)
{
	uint8_t a[6], b[6], c[6];

	virtio_net_mac_from_name("tap0", a);
	virtio_net_mac_from_name("tap0", b);
	virtio_net_mac_from_name("tap1", c);
	cr_assert_arr_eq(a, b, 6, "stable");
	cr_assert_arr_neq(a, c, 6);
	cr_assert_eq(a[0] & 0x03, 0x02, "unicast, locally administered");
	cr_assert_eq(c[0] & 0x03, 0x02);
}

Test(virtio_net, rx_merges_buffers)
{
	const uint64_t g[3] = { BUF, BUF + 0x1000, BUF + 0x2000 };

	for (uint16_t i = 0; i < 3; i++)
		rx_buffer(i, g[i], 600);
	tap_send(1500, 7);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 3);
	assert_used(&rx, 0, 0, 600);
	assert_used(&rx, 1, 1, 600);
	assert_used(&rx, 2, 2, 1512 - 1200);
	/* Header: nothing the guest did not negotiate, and the buffer count. */
	cr_assert_arr_eq(t_ptr(&mem, BUF, 10), "\0\0\0\0\0\0\0\0\0\0", 10);
	cr_assert_eq(get_le16(t_ptr(&mem, BUF + 10, 2)), 3);
	assert_payload(g, 3, 600, 1500, 7);
	cr_assert_eq(tt.signals[1], 1);
}

Test(virtio_net, rx_waits_for_buffers)
{
	tap_send(100, 1);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 0);
	cr_assert_eq(tr_avail_event(&rx), 0, "asked to be kicked for the next buffer");
	rx_buffer(0, BUF, 2048);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, 112);
	cr_assert_eq(get_le16(t_ptr(&mem, BUF + 10, 2)), 1);
}

Test(virtio_net, rx_partial_buffers_not_published)
{
	const uint64_t g[3] = { BUF, BUF + 0x1000, BUF + 0x2000 };

	rx_buffer(0, g[0], 600);
	tap_send(1500, 3);
	tap_send(20, 9);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 0, "half a packet is never visible");
	rx_buffer(1, g[1], 600);
	rx_buffer(2, g[2], 600);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 3);
	assert_used(&rx, 0, 0, 600);
	assert_payload(g, 3, 600, 1500, 3);
	/* The second frame waits for a fourth buffer. */
	rx_buffer(3, BUF + 0x3000, 600);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 4);
	assert_used(&rx, 3, 3, 32);
}

Test(virtio_net, rx_frame_needing_more_buffers_than_the_ring_dropped)
{
	/* 16 buffers of 20 bytes cannot hold a 1512-byte frame however the driver refills. */
	for (uint16_t i = 0; i < QSZ; i++)
		rx_buffer(i, BUF + 0x100ull * i, 20);
	tap_send(1500, 1);
	tap_send(5, 2);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 1, "the big frame dropped, the small one delivered");
	assert_used(&rx, 0, 0, NET_HDR + 5);
	cr_assert_eq(*t_ptr(&mem, BUF + NET_HDR, 1), 2);
	cr_assert_not(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_net, rx_bad_buffer_returned_rest_delivered)
{
	const uint64_t g[3] = { BUF, BUF + 0x2000, BUF + 0x3000 };

	rx_buffer(0, g[0], 600);
	rx_buffer(1, T_RAM - 8, 600); /* outside RAM */
	rx_buffer(2, g[1], 600);
	rx_buffer(3, BUF + 0x1000, 8); /* smaller than the header */
	rx_buffer(4, g[2], 600);
	tap_send(1500, 5);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 5);
	assert_used(&rx, 0, 1, 0);
	assert_used(&rx, 1, 3, 0);
	assert_used(&rx, 2, 0, 600);
	assert_used(&rx, 3, 2, 600);
	assert_used(&rx, 4, 4, 312);
	cr_assert_eq(get_le16(t_ptr(&mem, BUF + 10, 2)), 3);
	assert_payload(g, 3, 600, 1500, 5);
	cr_assert_not(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_net, rx_without_mrg_needs_one_big_buffer)
{
	virtio_dev_destroy(vdev);
	close(peer);
	guest_mem_destroy(&mem);
	net_open(T_FEATURES_BASE | NET_F_MAC);
	rx_buffer(0, BUF, 100);
	tap_send(200, 1);
	tap_send(50, 2);
	virtio_net_tap_event(vdev);
	/* The first frame does not fit and is dropped; the second takes the buffer. */
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, 62);
	cr_assert_eq(get_le16(t_ptr(&mem, BUF + 10, 2)), 1);
	cr_assert_eq(*t_ptr(&mem, BUF + NET_HDR, 1), 2);
}

Test(virtio_net, tx_sends_frames)
{
	uint8_t f[256], *p = t_ptr(&mem, BUF, 12 + 100);
	ssize_t n;

	memset(p, 0xee, NET_HDR); /* offload requests the device did not offer */
	for (int i = 0; i < 100; i++)
		p[NET_HDR + i] = (uint8_t)i;
	tr_desc(&tx, 0, BUF, 40, VRING_DESC_F_NEXT, 1);
	tr_desc(&tx, 1, BUF + 40, 72, 0, 0);
	tr_post(&tx, 0);
	/* A runt: returned, not sent. */
	tr_desc(&tx, 2, BUF, 6, 0, 0);
	tr_post(&tx, 2);
	virtio_dev_kick(vdev, 1);
	cr_assert_eq(tr_used_idx(&tx), 2);
	assert_used(&tx, 0, 0, 0);
	assert_used(&tx, 1, 2, 0);
	n = recv(peer, f, sizeof(f), 0);
	cr_assert_eq(n, 112);
	cr_assert_arr_eq(f, "\0\0\0\0\0\0\0\0\0\0\0\0", NET_HDR);
	cr_assert_arr_eq(f + NET_HDR, p + NET_HDR, 100);
	cr_assert_eq(recv(peer, f, sizeof(f), 0), -1, "nothing else");
	cr_assert_eq(tt.signals[2], 1);
}

Test(virtio_net, reset_forgets_held_buffers)
{
	rx_buffer(0, BUF, 600);
	tap_send(1500, 1);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 0);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	start_two_queues(T_FEATURES_BASE | NET_F_MRG_RXBUF);
	rx_buffer(0, BUF, 2048);
	tap_send(30, 4);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, 42);
}

Test(virtio_net, tap_event_before_driver_ok_is_kept)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	tap_send(30, 4);
	virtio_net_tap_event(vdev); /* not running: nothing read */
	start_two_queues(T_FEATURES_BASE | NET_F_MRG_RXBUF);
	rx_buffer(0, BUF, 2048);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 1);
}

/* virtio-net offloads (a recording hook stands in for TUNSETOFFLOAD) */

#define NET_F_CSUM (1ull << 0)
#define NET_F_GUEST_CSUM (1ull << 1)
#define NET_F_GUEST_TSO4 (1ull << 7)
#define NET_F_GUEST_TSO6 (1ull << 8)
#define NET_F_GUEST_ECN (1ull << 9)
#define NET_F_GUEST_UFO (1ull << 10)
#define NET_F_HOST_TSO4 (1ull << 11)
#define NET_F_HOST_TSO6 (1ull << 12)
#define NET_F_HOST_ECN (1ull << 13)
#define NET_F_HOST_UFO (1ull << 14)
#define T_TUN_ALL (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)

static unsigned int offload_calls, offload_last;
static int offload_ret;

static int record_offload(void *opaque, unsigned int flags)
{
	offload_calls++;
	offload_last = flags;
	return offload_ret;
}

/* A device whose "tap" takes @caps, negotiated with @features (MRG_RXBUF added). */
static void net_open_offloads(unsigned int caps, uint64_t features)
{
	int sv[2];

	mem_setup();
	offload_calls = offload_last = 0;
	offload_ret = 0;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	peer = sv[1];
	cr_assert_eq(virtio_net_new(&mem, sv[0], test_mac, &vdev), 0);
	virtio_net_test_offloads(vdev, caps, record_offload, NULL);
	start_two_queues(T_FEATURES_BASE | NET_F_MRG_RXBUF | features);
}

static void hdr_make(uint8_t *h, uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
		     uint16_t cstart, uint16_t coff)
{
	h[0] = flags;
	h[1] = gso;
	put_le16(h + 2, hdr_len);
	put_le16(h + 4, gso_size);
	put_le16(h + 6, cstart);
	put_le16(h + 8, coff);
	put_le16(h + 10, 0x5555);
}

TestSuite(virtio_net_offload, .fini = dev_teardown);

Test(virtio_net_offload, feature_mapping)
{
	cr_assert_eq(virtio_net_tun_offloads(0), 0);
	cr_assert_eq(virtio_net_tun_offloads(NET_F_CSUM | NET_F_HOST_TSO4 | NET_F_HOST_UFO), 0,
		     "host-side offloads need nothing from the tap");
	cr_assert_eq(virtio_net_tun_offloads(NET_F_GUEST_CSUM), TUN_F_CSUM);
	cr_assert_eq(virtio_net_tun_offloads(NET_F_GUEST_CSUM | NET_F_GUEST_TSO4),
		     TUN_F_CSUM | TUN_F_TSO4);
	cr_assert_eq(virtio_net_tun_offloads(NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 |
					     NET_F_GUEST_TSO6 | NET_F_GUEST_ECN | NET_F_GUEST_UFO),
		     T_TUN_ALL);
	/* Offered only what the tap takes. */
	cr_assert_eq(virtio_net_offload_features(0), 0);
	cr_assert_eq(virtio_net_offload_features(TUN_F_CSUM), 0);
	cr_assert_eq(virtio_net_offload_features(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
						 TUN_F_TSO_ECN),
		     NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 |
			     NET_F_GUEST_ECN | NET_F_HOST_TSO4 | NET_F_HOST_TSO6 | NET_F_HOST_ECN);
	cr_assert_eq(virtio_net_offload_features(T_TUN_ALL) & (NET_F_GUEST_UFO | NET_F_HOST_UFO),
		     NET_F_GUEST_UFO | NET_F_HOST_UFO);
	/* 5.1.3.1 dependencies. */
	cr_assert_eq(virtio_net_features_check(NET_F_GUEST_CSUM | NET_F_GUEST_TSO4), 0);
	cr_assert_eq(virtio_net_features_check(NET_F_GUEST_TSO4), -EINVAL);
	cr_assert_eq(virtio_net_features_check(NET_F_GUEST_CSUM | NET_F_GUEST_ECN), -EINVAL);
	cr_assert_eq(virtio_net_features_check(NET_F_HOST_TSO6), -EINVAL);
	cr_assert_eq(virtio_net_features_check(NET_F_CSUM | NET_F_HOST_ECN), -EINVAL);
	cr_assert_eq(virtio_net_features_check(NET_F_HOST_UFO), -EINVAL);
}

Test(virtio_net_offload, not_a_tap_offers_none)
{
	net_setup();
	cr_assert_eq(t_device_features(vdev) & 0x1ffff, NET_F_MAC | NET_F_MRG_RXBUF | NET_F_STATUS);
}

Test(virtio_net_offload, negotiation_sets_exactly_the_guest_offloads)
{
	uint64_t f;

	net_open_offloads(T_TUN_ALL, NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 |
					     NET_F_HOST_TSO4 | NET_F_HOST_TSO6);
	f = t_device_features(vdev);
	cr_assert_eq(f & 0x1ffff,
		     NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_MAC | NET_F_GUEST_TSO4 |
			     NET_F_GUEST_TSO6 | NET_F_GUEST_ECN | NET_F_GUEST_UFO |
			     NET_F_HOST_TSO4 | NET_F_HOST_TSO6 | NET_F_HOST_ECN | NET_F_HOST_UFO |
			     NET_F_MRG_RXBUF | NET_F_STATUS,
		     "offered 0x%llx", (unsigned long long)f);
	cr_assert(vdev->status & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(offload_calls, 1);
	cr_assert_eq(offload_last, TUN_F_CSUM | TUN_F_TSO4);
	/* Reset: back to 0 before the next driver negotiates. */
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert_eq(offload_calls, 2);
	cr_assert_eq(offload_last, 0);
	start_two_queues(T_FEATURES_BASE | NET_F_GUEST_CSUM);
	cr_assert_eq(offload_last, TUN_F_CSUM);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	start_two_queues(T_FEATURES_BASE);
	cr_assert_eq(offload_last, 0, "a driver without offloads gets none");
}

Test(virtio_net_offload, broken_dependencies_refused)
{
	net_open_offloads(T_TUN_ALL, 0);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	offload_calls = 0;
	cr_assert_not(t_negotiate(vdev, T_FEATURES_BASE | NET_F_GUEST_TSO4) &
		      VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(t_negotiate(vdev, T_FEATURES_BASE | NET_F_CSUM | NET_F_HOST_ECN) &
		      VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(offload_calls, 0, "no TUNSETOFFLOAD for a refused set");
	/* A tap that refuses the ioctl refuses FEATURES_OK too. */
	offload_ret = -EINVAL;
	cr_assert_not(t_negotiate(vdev, T_FEATURES_BASE | NET_F_GUEST_CSUM) &
		      VIRTIO_STATUS_FEATURES_OK);
	/* Offload features the tap did not take are not offered, so cannot be accepted. */
	virtio_dev_destroy(vdev);
	close(peer);
	guest_mem_destroy(&mem);
	net_open_offloads(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN, 0);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert_not(t_negotiate(vdev, T_FEATURES_BASE | NET_F_GUEST_CSUM | NET_F_GUEST_UFO) &
		      VIRTIO_STATUS_FEATURES_OK);
}

/* Sends one frame of @len payload bytes behind @hdr on the transmit queue. */
static void tx_frame(uint16_t d, const uint8_t *hdr, size_t len)
{
	uint8_t *p = t_ptr(&mem, BUF + 0x4000ull * d, NET_HDR + len);

	memcpy(p, hdr, NET_HDR);
	for (size_t i = 0; i < len; i++)
		p[NET_HDR + i] = (uint8_t)i;
	tr_desc(&tx, d, BUF + 0x4000ull * d, (uint32_t)(NET_HDR + len), 0, 0);
	tr_post(&tx, d);
}

Test(virtio_net_offload, tx_header_passes_through)
{
	uint8_t h[NET_HDR], f[4096];

	net_open_offloads(T_TUN_ALL, NET_F_CSUM | NET_F_HOST_TSO4 | NET_F_HOST_ECN);
	hdr_make(h, 1, 0x81, 54, 1448, 34, 16); /* TSOv4 with ECN, TCP checksum to fill */
	tx_frame(0, h, 3000);
	virtio_dev_kick(vdev, 1);
	cr_assert_eq(tr_used_idx(&tx), 1);
	cr_assert_eq(recv(peer, f, sizeof(f), 0), NET_HDR + 3000);
	put_le16(h + 10, 0); /* num_buffers is not the tap's business */
	cr_assert_arr_eq(f, h, NET_HDR);
	cr_assert_eq(f[NET_HDR + 2999], (uint8_t)2999);
}

Test(virtio_net_offload, tx_bad_headers_dropped)
{
	static const struct {
		uint8_t flags, gso;
		uint16_t hdr_len, gso_size, cstart, coff;
	} bad[] = {
		{ 1, 4, 54, 1448, 34, 16 },	/* TSOv6 not negotiated */
		{ 1, 3, 42, 1400, 34, 6 },	/* UFO not negotiated */
		{ 1, 1, 54, 0, 34, 16 },	/* GSO without an MSS */
		{ 0, 1, 54, 1448, 34, 16 },	/* GSO without NEEDS_CSUM */
		{ 1, 1, 0xffff, 1448, 34, 16 }, /* header longer than the frame */
		{ 1, 0, 0, 0, 0xfff0, 16 },	/* csum_start past the end */
		{ 1, 0, 0, 0, 90, 0xffff },	/* csum_offset past the end */
		{ 1, 7, 54, 1448, 34, 16 },	/* unknown gso_type */
		{ 1, 0x80, 54, 1448, 34, 16 },	/* ECN without GSO */
	};
	uint8_t h[NET_HDR], f[4096];
	uint16_t i;

	net_open_offloads(T_TUN_ALL, NET_F_CSUM | NET_F_HOST_TSO4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hdr_make(h, bad[i].flags, bad[i].gso, bad[i].hdr_len, bad[i].gso_size,
			 bad[i].cstart, bad[i].coff);
		tx_frame(i, h, 100);
	}
	/* ECN on TCPv4 without HOST_ECN: also refused. */
	hdr_make(h, 1, 0x81, 54, 1448, 34, 16);
	tx_frame(i++, h, 2000);
	/* A good one last: plain partial checksum; flags it may not set are cleared. */
	hdr_make(h, 1 | 2 | 0x40, 0, 0xffff, 77, 34, 6);
	tx_frame(i++, h, 100);
	virtio_dev_kick(vdev, 1);
	cr_assert_eq(tr_used_idx(&tx), i, "every chain returned");
	cr_assert_eq(recv(peer, f, sizeof(f), 0), NET_HDR + 100, "only the good frame sent");
	cr_assert_eq(f[0], 1);
	cr_assert_eq(get_le16(f + 2), 0, "hdr_len beyond the frame dropped as a hint");
	cr_assert_eq(get_le16(f + 4), 0, "no gso_size without GSO");
	cr_assert_eq(recv(peer, f, sizeof(f), 0), -1, "nothing else");
	cr_assert_not(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_net_offload, tx_without_csum_ignores_header)
{
	uint8_t h[NET_HDR], f[4096];

	net_open_offloads(T_TUN_ALL, 0);
	hdr_make(h, 1, 1, 54, 1448, 34, 16);
	tx_frame(0, h, 100);
	virtio_dev_kick(vdev, 1);
	cr_assert_eq(recv(peer, f, sizeof(f), 0), NET_HDR + 100);
	cr_assert_arr_eq(f, "\0\0\0\0\0\0\0\0\0\0\0\0", NET_HDR);
}

Test(virtio_net_offload, rx_header_passes_through)
{
	uint8_t h[NET_HDR];

	net_open_offloads(T_TUN_ALL, NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6);
	rx_buffer(0, BUF, 4096);
	hdr_make(h, 1, 4, 74, 1428, 54, 16); /* a TSOv6 frame from the tap */
	tap_send_hdr(h, 3000, 1);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, NET_HDR + 3000);
	cr_assert_arr_eq(t_ptr(&mem, BUF, 10), h, 10);
	cr_assert_eq(get_le16(t_ptr(&mem, BUF + 10, 2)), 1);
	cr_assert_eq(*t_ptr(&mem, BUF + NET_HDR + 2999, 1), (uint8_t)(1 + 2999));
}

Test(virtio_net_offload, rx_unnegotiated_gso_dropped_and_partial_csum_completed)
{
	uint8_t h[NET_HDR], *p;
	uint32_t sum = 0;

	net_open_offloads(T_TUN_ALL, NET_F_GUEST_CSUM | NET_F_GUEST_TSO4);
	/* Frames the tap queued before a reset turned its offloads off. */
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	start_two_queues(T_FEATURES_BASE | NET_F_MRG_RXBUF);
	rx_buffer(0, BUF, 4096);
	rx_buffer(1, BUF + 0x1000, 4096);
	hdr_make(h, 1, 1, 54, 1448, 34, 16);
	tap_send_hdr(h, 3000, 1); /* TSO: dropped */
	hdr_make(h, 1, 0, 0, 0, 20, 6);
	tap_send_hdr(h, 101, 9); /* partial checksum over bytes 20..100, field at 26 */
	hdr_make(h, 1, 0, 0, 0, 100, 0);
	tap_send_hdr(h, 101, 9); /* checksum field past the end: dropped */
	tap_send(60, 3);
	virtio_net_tap_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 2);
	assert_used(&rx, 0, 0, NET_HDR + 101);
	assert_used(&rx, 1, 1, NET_HDR + 60);
	cr_assert_arr_eq(t_ptr(&mem, BUF, 10), "\0\0\0\0\0\0\0\0\0\0", 10);
	/*
	 * The field held the pseudo-header sum (here: the payload bytes that were
	 * there); with it, the covered bytes now sum to 0xffff, as a receiver checks.
	 */
	p = t_ptr(&mem, BUF + NET_HDR, 101);
	sum = (uint32_t)(uint8_t)(9 + 26) << 8 | (uint8_t)(9 + 27);
	for (int i = 20; i < 100; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	sum += (uint32_t)p[100] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(sum, 0xffff, "checksum completes to 0x%x", sum);
	cr_assert_eq(p[21], (uint8_t)(9 + 21), "data around the field untouched");
}

/* virtio-console */

static int in_pipe[2], out_pipe[2];

static void console_setup(void)
{
	mem_setup();
	cr_assert_eq(pipe2(in_pipe, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(virtio_console_new(&mem, in_pipe[0], out_pipe[1], &vdev), 0);
	start_two_queues(T_FEATURES_BASE);
}

static void console_teardown(void)
{
	dev_teardown();
	close(in_pipe[0]);
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	close(out_pipe[0]);
	close(out_pipe[1]);
}

TestSuite(virtio_console, .init = console_setup, .fini = console_teardown);

Test(virtio_console, output)
{
	char buf[32] = { 0 };

	memcpy(t_ptr(&mem, BUF, 5), "hel", 3);
	memcpy(t_ptr(&mem, BUF + 0x100, 5), "lo\n", 3);
	tr_desc(&tx, 0, BUF, 3, VRING_DESC_F_NEXT, 1);
	tr_desc(&tx, 1, BUF + 0x100, 3, 0, 0);
	tr_post(&tx, 0);
	virtio_dev_kick(vdev, 1);
	cr_assert_eq(tr_used_idx(&tx), 1);
	cr_assert_eq(read(out_pipe[0], buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "hello\n");
}

Test(virtio_console, input)
{
	cr_assert_eq(write(in_pipe[1], "abc", 3), 3);
	rx_buffer(0, BUF, 16);
	virtio_console_input_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, 3);
	cr_assert_arr_eq(t_ptr(&mem, BUF, 3), "abc", 3);
	cr_assert_eq(tt.signals[1], 1);
}

Test(virtio_console, input_waits_for_buffers)
{
	cr_assert_eq(write(in_pipe[1], "xy", 2), 2);
	virtio_console_input_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 0);
	rx_buffer(0, BUF, 1);
	rx_buffer(1, BUF + 0x10, 16);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 2);
	assert_used(&rx, 0, 0, 1);
	assert_used(&rx, 1, 1, 1);
	cr_assert_eq(*t_ptr(&mem, BUF + 0x10, 1), 'y');
}

Test(virtio_console, buffer_held_until_input)
{
	rx_buffer(0, BUF, 16);
	virtio_dev_kick(vdev, 0); /* no input: the buffer is not consumed */
	cr_assert_eq(tr_used_idx(&rx), 0);
	cr_assert_eq(write(in_pipe[1], "z", 1), 1);
	virtio_console_input_event(vdev);
	cr_assert_eq(tr_used_idx(&rx), 1);
	assert_used(&rx, 0, 0, 1);
	/* EOF: no more input, no buffer consumed, nothing spins. */
	close(in_pipe[1]);
	in_pipe[1] = -1;
	rx_buffer(1, BUF + 0x100, 16);
	virtio_console_input_event(vdev);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 1);
}

Test(virtio_console, no_input_fd)
{
	virtio_dev_destroy(vdev);
	cr_assert_eq(virtio_console_new(&mem, -1, out_pipe[1], &vdev), 0);
	start_two_queues(T_FEATURES_BASE);
	rx_buffer(0, BUF, 16);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 0);
	cr_assert_eq(vdev->config_len, 12);
	cr_assert_eq(vdev->device_id, VIRTIO_ID_CONSOLE);
}

/* virtio-rng */

static void rng_setup(void)
{
	mem_setup();
	cr_assert_eq(virtio_rng_new(&mem, &vdev), 0);
	t_attach(vdev, &tt);
	cr_assert(t_negotiate(vdev, T_FEATURES_BASE) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&rx, &mem, QSZ, DESC, AVAIL, USED);
	t_queue(vdev, 0, &rx, 0);
	t_driver_ok(vdev);
}

TestSuite(virtio_rng, .init = rng_setup, .fini = dev_teardown);

Test(virtio_rng, fills_buffers)
{
	const uint8_t zero[64] = { 0 };

	memset(t_ptr(&mem, BUF, 64), 0, 64);
	rx_buffer(0, BUF, 64);
	/* Gigantic requests are served in part, so the event loop is never held long. */
	rx_buffer(1, BUF + 0x1000, 1 << 20);
	/* Device-readable parts are ignored. */
	tr_desc(&rx, 2, BUF, 8, VRING_DESC_F_NEXT, 3);
	tr_desc(&rx, 3, BUF + 0x200000, 16, VRING_DESC_F_WRITE, 0);
	tr_post(&rx, 2);
	virtio_dev_kick(vdev, 0);
	cr_assert_eq(tr_used_idx(&rx), 3);
	assert_used(&rx, 0, 0, 64);
	assert_used(&rx, 1, 1, 64 * 1024);
	assert_used(&rx, 2, 2, 16);
	cr_assert_arr_neq(t_ptr(&mem, BUF, 64), zero, 64);
	cr_assert_eq(vdev->config_len, 0);
	cr_assert_eq(tt.signals[0], 1);
}
