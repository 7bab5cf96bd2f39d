// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net (5.1) on a host tap device: one receive and one transmit
 * queue, mergeable receive buffers, and the checksum/segmentation offloads
 * the tap supports. The tap hands over each packet behind a 12-byte struct
 * virtio_net_hdr_v1 (TUNSETVNETHDRSZ), the same header the guest uses, so
 * headers pass straight through: checked against the negotiated features on
 * the way out, and on the way in reduced to what the driver negotiated.
 *
 * Offloads: what the guest may receive is what the tap may hand us, so the
 * tap's TUNSETOFFLOAD is exactly the guest's GUEST_* features once it sets
 * FEATURES_OK, and 0 before that and after a reset (a tap left configured by
 * its previous user must not send a driver GSO frames it never asked for).
 * What the guest sends (CSUM, HOST_*) the tap accepts from any writer.
 *
 * Receive is edge-triggered: the tap is read until it runs dry or the
 * guest runs out of buffers. In the latter case the packet already read
 * waits in rx_pkt and the tap is left alone (the kernel queues, then drops)
 * until the driver adds buffers and kicks the receive queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/event_loop.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define F(bit) (1ULL << VIRTIO_NET_F_##bit)
/* Offered when the tap takes TUN_F_CSUM | TSO4 | TSO6 | TSO_ECN, and with TUN_F_UFO. */
#define NET_FEATURES_TSO                                                                           \
	(F(CSUM) | F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN) | F(HOST_TSO4) |   \
	 F(HOST_TSO6) | F(HOST_ECN))
#define NET_FEATURES_UFO (F(GUEST_UFO) | F(HOST_UFO))

/* struct virtio_net_hdr_v1 (5.1.6). */
#define HDR_FLAGS 0
#define HDR_GSO_TYPE 1
#define HDR_HDR_LEN 2
#define HDR_GSO_SIZE 4
#define HDR_CSUM_START 6
#define HDR_CSUM_OFFSET 8
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define HDR_GSO_NONE 0
#define HDR_GSO_TCPV4 1
#define HDR_GSO_UDP 3
#define HDR_GSO_TCPV6 4
#define HDR_GSO_ECN 0x80

#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
#define NET_HDR_NUM_BUFFERS 10
/* Largest frame with its header: a 64 KiB GSO frame (the tap's and the driver's limit) plus headroom. */
#define NET_PKT_MAX (NET_HDR_LEN + 65536 + 256)
#define NET_QUEUE_SIZE 256
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_RX_BUDGET 256 /* packets per turn of the event loop */

/* struct virtio_net_config (5.1.4): mac[6], status. */
#define NET_CFG_MAC 0
#define NET_CFG_STATUS 6
#define NET_CFG_LEN 12

struct virtio_net {
	struct virtio_dev vdev;
	int tap_fd;
	char tap_name[IFNAMSIZ];
	unsigned int tap_offloads; /* TUN_F_* the tap accepted when probed */
	unsigned int cur_offloads; /* what TUNSETOFFLOAD was last set to */
	unsigned int offload_logs;
	int (*set_offload)(void *opaque, unsigned int tun_flags);
	void *set_offload_opaque;
	uint64_t tx_dropped, rx_dropped; /* frames with headers we refused */
	uint8_t config[NET_CFG_LEN];
	bool rx_pending; /* the tap may hold packets we have not read */
	size_t rx_len;	 /* bytes in rx_pkt not yet delivered (0: none) */
	uint8_t *rx_pkt;
	/* Receive chains popped but not yet used, in ring order (heads only). */
	uint16_t *stash;
	uint16_t nstash;
	bool rx_err_logged, tx_err_logged;
	struct vq_elem elem;
	struct iovec tx_iov[VQ_MAX_IOV];
};

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

unsigned int virtio_net_tun_offloads(uint64_t features)
{
	unsigned int t = 0;

	if (features & F(GUEST_CSUM))
		t |= TUN_F_CSUM;
	if (features & F(GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (features & F(GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (features & F(GUEST_ECN))
		t |= TUN_F_TSO_ECN;
	if (features & F(GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}

uint64_t virtio_net_offload_features(unsigned int tun_flags)
{
	const unsigned int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	uint64_t f = 0;

	if ((tun_flags & tso) == tso) {
		f |= NET_FEATURES_TSO;
		if (tun_flags & TUN_F_UFO)
			f |= NET_FEATURES_UFO;
	}
	return f;
}

/* 5.1.3.1: the offload features and what each requires. */
static const struct {
	uint64_t feature, needs;
} net_feature_deps[] = {
	{ F(GUEST_TSO4), F(GUEST_CSUM) }, { F(GUEST_TSO6), F(GUEST_CSUM) },
	{ F(GUEST_UFO), F(GUEST_CSUM) },  { F(GUEST_ECN), F(GUEST_TSO4) | F(GUEST_TSO6) },
	{ F(HOST_TSO4), F(CSUM) },	  { F(HOST_TSO6), F(CSUM) },
	{ F(HOST_UFO), F(CSUM) },	  { F(HOST_ECN), F(HOST_TSO4) | F(HOST_TSO6) },
};

int virtio_net_features_check(uint64_t features)
{
	for (size_t i = 0; i < sizeof(net_feature_deps) / sizeof(net_feature_deps[0]); i++)
		if ((features & net_feature_deps[i].feature) &&
		    !(features & net_feature_deps[i].needs))
			return -EINVAL;
	return 0;
}

/* Whether @gso_type (ECN bit included) is one the negotiated features allow. */
static bool gso_allowed(uint8_t gso_type, uint64_t features, bool to_guest)
{
	uint64_t tso4 = to_guest ? F(GUEST_TSO4) : F(HOST_TSO4);
	uint64_t tso6 = to_guest ? F(GUEST_TSO6) : F(HOST_TSO6);
	uint64_t ufo = to_guest ? F(GUEST_UFO) : F(HOST_UFO);
	uint64_t ecn = to_guest ? F(GUEST_ECN) : F(HOST_ECN);

	if ((gso_type & HDR_GSO_ECN) && !(features & ecn))
		return false;
	switch (gso_type & ~HDR_GSO_ECN) {
	case HDR_GSO_NONE:
		return !(gso_type & HDR_GSO_ECN);
	case HDR_GSO_TCPV4:
		return features & tso4;
	case HDR_GSO_TCPV6:
		return features & tso6;
	case HDR_GSO_UDP:
		return features & ufo;
	}
	return false;
}

/* The checksum field [start + off, +2) must lie inside the @len payload bytes. */
static bool csum_fits(const uint8_t *hdr, size_t len)
{
	size_t start = get_le16(hdr + HDR_CSUM_START), off = get_le16(hdr + HDR_CSUM_OFFSET);

	return start + off + 2 <= len;
}

int virtio_net_tx_hdr_check(uint8_t hdr[12], size_t len, uint64_t features)
{
	uint8_t gso = hdr[HDR_GSO_TYPE];

	put_le16(hdr + 10, 0); /* num_buffers means nothing on transmit */
	/* Without CSUM nothing else can be negotiated: the header carries no requests. */
	if (!(features & F(CSUM))) {
		memset(hdr, 0, 12);
		return 0;
	}
	/* DATA_VALID (and any other flag) is the device's to set, not the driver's. */
	hdr[HDR_FLAGS] &= HDR_F_NEEDS_CSUM;
	if ((hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM) && !csum_fits(hdr, len))
		return -EINVAL;
	if (!gso_allowed(gso, features, false))
		return -EINVAL;
	if ((gso & ~HDR_GSO_ECN) == HDR_GSO_NONE) {
		put_le16(hdr + HDR_GSO_SIZE, 0);
		if (get_le16(hdr + HDR_HDR_LEN) > len)
			put_le16(hdr + HDR_HDR_LEN, 0); /* only a hint without GSO */
		return 0;
	}
	/* 5.1.6.2.1: a GSO frame needs a checksum to fill and an MSS. */
	if (!(hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM) || !get_le16(hdr + HDR_GSO_SIZE) ||
	    get_le16(hdr + HDR_HDR_LEN) > len)
		return -EINVAL;
	return 0;
}

/* Completes a CHECKSUM_PARTIAL frame: the ones' complement sum from csum_start on. */
static void csum_complete(uint8_t *hdr, uint8_t *pkt, size_t len)
{
	size_t start = get_le16(hdr + HDR_CSUM_START), off = get_le16(hdr + HDR_CSUM_OFFSET);
	uint32_t sum = 0;
	uint16_t c;

	for (size_t i = start; i + 1 < len; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	if ((len - start) & 1)
		sum += (uint32_t)pkt[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	pkt[start + off] = (uint8_t)(c >> 8);
	pkt[start + off + 1] = (uint8_t)c;
}

int virtio_net_rx_hdr_fix(uint8_t *hdr, size_t len, uint64_t features)
{
	uint8_t *pkt = hdr + 12;

	/* A GSO frame the driver did not ask for cannot be cut up here: drop it. */
	if (!gso_allowed(hdr[HDR_GSO_TYPE], features, true))
		return -EINVAL;
	if ((hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM) && !csum_fits(hdr, len))
		return -EINVAL;
	if (features & F(GUEST_CSUM)) {
		hdr[HDR_FLAGS] &= HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID;
		return 0;
	}
	/*
	 * 5.1.6.4.1: without GUEST_CSUM, flags are zero and the frame is fully
	 * checksummed. A partial one can only be a frame the tap queued before
	 * its offloads were turned off; finish its checksum.
	 */
	if (hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM)
		csum_complete(hdr, pkt, len);
	memset(hdr, 0, 12);
	return 0;
}

static int tap_set_offload(void *opaque, unsigned int tun_flags)
{
	struct virtio_net *n = opaque;

	return ioctl(n->tap_fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0 ? -errno : 0;
}

/* Sets the tap's offloads to @tun_flags. 0 or -errno (logged). */
static int net_set_offload(struct virtio_net *n, unsigned int tun_flags)
{
	int r = n->set_offload(n->set_offload_opaque, tun_flags);

	if (r) {
		log_warn("tap %s: TUNSETOFFLOAD 0x%x: %s", n->tap_name, tun_flags, strerror(-r));
		return r;
	}
	/* A driver can renegotiate in a loop: the first few changes at info, the rest at debug. */
	if (n->cur_offloads != tun_flags)
		log_msg(n->offload_logs < 8 ? (n->offload_logs++, LOG_INFO) : LOG_DEBUG,
			"tap %s: offloads now 0x%x", n->tap_name, tun_flags);
	n->cur_offloads = tun_flags;
	return 0;
}

void virtio_net_test_offloads(struct virtio_dev *vdev, unsigned int tap_offloads,
			      int (*set_offload)(void *opaque, unsigned int tun_flags),
			      void *opaque)
{
	struct virtio_net *n = to_net(vdev);

	n->tap_offloads = tap_offloads;
	n->set_offload = set_offload;
	n->set_offload_opaque = opaque;
	vdev->host_features &= ~(NET_FEATURES_TSO | NET_FEATURES_UFO);
	vdev->host_features |= virtio_net_offload_features(tap_offloads);
}

static bool net_features_accept(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	unsigned int want;

	if (virtio_net_features_check(vdev->guest_features)) {
		log_msg(virtio_guest_log_level(&vdev->warnings),
			"%s: driver accepted offload features 0x%llx without the ones they "
			"depend on",
			vdev->name, (unsigned long long)vdev->guest_features);
		return false;
	}
	want = virtio_net_tun_offloads(vdev->guest_features);
	return want == n->cur_offloads || net_set_offload(n, want) == 0;
}

/* Drops the first @n stashed chains (they were used). */
static void stash_drop(struct virtio_net *n, uint16_t count)
{
	memmove(n->stash, n->stash + count, (size_t)(n->nstash - count) * sizeof(*n->stash));
	n->nstash = (uint16_t)(n->nstash - count);
}

/*
 * Copies rx_pkt into receive buffers and publishes them in one go. 0 when
 * done (delivered or dropped), -EAGAIN when the driver has too few
 * buffers (the chains taken so far stay stashed), -EIO when the ring broke.
 */
static int net_deliver(struct virtio_net *n)
{
	struct virtqueue *vq = &n->vdev.vqs[NET_RXQ];
	bool mrg = virtio_has_feature(&n->vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct vq_elem *e = &n->elem;
	struct iovec hdr_iov[2];
	int hdr_n = 0, r;
	uint16_t i, nbuf;
	size_t off;

again:
	off = 0;
	for (i = 0; off < n->rx_len; i++) {
		size_t len;

		/*
		 * More buffers than the ring holds can never be published at
		 * once (and would overrun the stash): drop the frame, keep the
		 * buffers for the next one.
		 */
		if (i == vq->size) {
			n->rx_dropped++;
			log_msg(virtio_guest_log_level(&n->vdev.warnings),
				"%s: a %zu-byte frame needs more receive buffers than the ring "
				"holds; dropped",
				n->vdev.name, n->rx_len);
			return 0;
		}
		if (i == n->nstash) {
			r = vq_pop(vq, e);
			if (r == 0)
				return -EAGAIN;
			if (r == -EIO)
				return -EIO;
			/* 5.1.6.3.1: every buffer holds at least the header. */
			if (r == -EBADMSG || e->in_len < NET_HDR_LEN) {
				/* Nothing is published yet: hand it back and start over. */
				if (vq_push(vq, e->head, 0))
					return -EIO;
				goto again;
			}
			n->stash[n->nstash++] = e->head;
		} else if (vq_walk(vq, n->stash[i], e) || e->in_len < NET_HDR_LEN) {
			/* A buffer the driver gave us changed under us. */
			return -EIO;
		}
		if (!mrg && e->in_len < n->rx_len) {
			/* Without MRG_RXBUF a packet needs one chain; keep it for the next one. */
			log_debug("%s: receive buffer of %zu bytes too small for %zu", n->vdev.name,
				  e->in_len, n->rx_len);
			return 0;
		}
		if (i == 0) {
			hdr_n = iov_slice(e->iov + e->nout, e->nin, NET_HDR_NUM_BUFFERS, 2, hdr_iov,
					  2);
			if (hdr_n < 0)
				return -EIO;
		}
		len = e->in_len < n->rx_len - off ? e->in_len : n->rx_len - off;
		iov_from_buf(e->iov + e->nout, e->nin, 0, n->rx_pkt + off, len);
		if (vq_fill(vq, e->head, (uint32_t)len, i))
			return -EIO;
		off += len;
	}
	nbuf = htole16(i);
	iov_from_buf(hdr_iov, (unsigned int)hdr_n, 0, &nbuf, sizeof(nbuf));
	if (vq_flush(vq, i))
		return -EIO;
	stash_drop(n, i);
	return 0;
}

/* Reads one packet from the tap into rx_pkt. true if there is one. */
static bool net_read_tap(struct virtio_net *n)
{
	for (;;) {
		ssize_t r = read(n->tap_fd, n->rx_pkt, NET_PKT_MAX);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (errno != EAGAIN && !n->rx_err_logged) {
				log_warn("tap %s: read: %s", n->tap_name, strerror(errno));
				n->rx_err_logged = true;
			}
			n->rx_pending = false;
			return false;
		}
		if (r < NET_HDR_LEN)
			continue; /* not a frame */
		/* num_buffers is filled in on delivery. */
		if (virtio_net_rx_hdr_fix(n->rx_pkt, (size_t)r - NET_HDR_LEN,
					  n->vdev.guest_features)) {
			n->rx_dropped++;
			log_debug("%s: dropped a received frame the driver cannot take",
				  n->vdev.name);
			continue;
		}
		n->rx_len = (size_t)r;
		return true;
	}
}

static void net_rx(struct virtio_net *n)
{
	struct virtqueue *vq = &n->vdev.vqs[NET_RXQ];
	unsigned int budget = NET_RX_BUDGET;

	while (budget) {
		int r;

		if (!n->rx_len && !(n->rx_pending && net_read_tap(n)))
			break;
		r = net_deliver(n);
		if (r == -EAGAIN) {
			/* Out of buffers: wait for a kick, unless some arrived meanwhile. */
			if (vq_enable_notify(vq))
				continue;
			break;
		}
		if (r == -EIO) {
			vq->broken = true;
			break;
		}
		metric_add(&n->vdev.metrics.requests, 1);
		metric_add(&n->vdev.metrics.bytes_to_guest, n->rx_len - NET_HDR_LEN);
		n->rx_len = 0;
		budget--;
	}
	if (!budget && n->vdev.kick)
		n->vdev.kick(&n->vdev, NET_RXQ); /* more later: let the other sources run */
	virtio_queue_notify_driver(&n->vdev, vq);
}

static int net_tx_one(struct virtio_dev *vdev, struct vq_elem *e)
{
	struct virtio_net *n = to_net(vdev);
	size_t len = e->out_len;
	uint8_t hdr[NET_HDR_LEN];
	int cnt;

	if (len < NET_HDR_LEN || len > NET_PKT_MAX)
		goto done;
	/*
	 * The tap gets a checked copy of the header, never the guest's memory
	 * (which could change between our check and the kernel's).
	 */
	iov_to_buf(e->iov, e->nout, 0, hdr, NET_HDR_LEN);
	if (virtio_net_tx_hdr_check(hdr, len - NET_HDR_LEN, vdev->guest_features)) {
		n->tx_dropped++;
		log_msg(virtio_guest_log_level(&vdev->warnings),
			"%s: dropped a frame with a bad or unnegotiated offload header "
			"(flags 0x%x gso_type 0x%x)",
			vdev->name, hdr[HDR_FLAGS], hdr[HDR_GSO_TYPE]);
		goto done;
	}
	n->tx_iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = NET_HDR_LEN };
	cnt = iov_slice(e->iov, e->nout, NET_HDR_LEN, len - NET_HDR_LEN, n->tx_iov + 1,
			VQ_MAX_IOV - 1);
	if (cnt < 0)
		goto done;
	metric_add(&vdev->metrics.requests, 1);
	metric_add(&vdev->metrics.bytes_from_guest, len - NET_HDR_LEN);
	while (writev(n->tap_fd, n->tx_iov, cnt + 1) < 0) {
		if (errno == EINTR)
			continue;
		/* A full or downed tap drops the packet, as a real link would. */
		if (errno != EAGAIN && !n->tx_err_logged) {
			log_warn("tap %s: write: %s", n->tap_name, strerror(errno));
			n->tx_err_logged = true;
		}
		break;
	}
done:
	return vq_push(&vdev->vqs[NET_TXQ], e->head, 0);
}

static void net_queue_notify(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_net *n = to_net(vdev);

	if (q == NET_RXQ)
		net_rx(n);
	else
		virtio_process_queue(vdev, &vdev->vqs[q], &n->elem, net_tx_one);
}

void virtio_net_tap_event(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	pthread_mutex_lock(&vdev->lock);
	n->rx_pending = true;
	if (virtio_dev_running(vdev) && vdev->vqs[NET_RXQ].ready && !vdev->vqs[NET_RXQ].broken)
		net_rx(n);
	if (vdev->vqs[NET_RXQ].broken)
		virtio_dev_needs_reset(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	/* The stash named chains of the old rings; the pending packet goes with them. */
	n->nstash = 0;
	n->rx_len = 0;
	n->rx_pending = true;
	/* The next driver has negotiated nothing yet. */
	if (n->cur_offloads)
		net_set_offload(n, 0);
}

static void net_destroy(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	virtio_dev_uninit(vdev);
	if (n->tap_fd >= 0) {
		/* Leave the tap as plain as we found it usable, for its next user. */
		if (n->cur_offloads)
			net_set_offload(n, 0);
		close(n->tap_fd);
	}
	free(n->rx_pkt);
	free(n->stash);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.queue_notify = net_queue_notify,
	.features_accept = net_features_accept,
	.reset = net_reset,
	.destroy = net_destroy,
};

void virtio_net_mac_from_name(const char *name, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & ~0x01) | 0x02); /* unicast, locally administered */
}

/*
 * Which TUN_F_* offloads the tap takes, leaving it at 0 (nothing negotiated
 * yet, whatever its previous user set). Not a tap (unit tests): none.
 */
static unsigned int tap_probe_offloads(int fd)
{
	const unsigned int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	unsigned int got = 0;

	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tso) == 0) {
		got = tso;
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(tso | TUN_F_UFO)) == 0)
			got |= TUN_F_UFO;
	}
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		if (errno != ENOTTY && errno != EINVAL)
			log_warn("net: cannot clear the tap's offloads: %s", strerror(errno));
	} else {
		log_info("net: tap offloads cleared (available: 0x%x)", got);
	}
	return got;
}

int virtio_net_new(const struct guest_mem *mem, int tap_fd, const uint8_t mac[6],
		   struct virtio_dev **out)
{
	uint64_t features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_NET_F_STATUS);
	struct virtio_net *n = calloc(1, sizeof(*n));
	int ret;

	if (n) {
		n->rx_pkt = malloc(NET_PKT_MAX);
		n->stash = calloc(NET_QUEUE_SIZE, sizeof(*n->stash));
	}
	if (!n || !n->rx_pkt || !n->stash) {
		log_error("virtio-net: out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	n->tap_fd = tap_fd;
	n->rx_pending = true;
	n->set_offload = tap_set_offload;
	n->set_offload_opaque = n;
	n->tap_offloads = tap_probe_offloads(tap_fd);
	features |= virtio_net_offload_features(n->tap_offloads);
	memcpy(n->config + NET_CFG_MAC, mac, 6);
	put_le16(n->config + NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	ret = virtio_dev_init(&n->vdev, "virtio-net", VIRTIO_ID_NET, 0x020000 /* Ethernet */,
			      &net_ops, mem, features, 2, NET_QUEUE_SIZE, n->config,
			      sizeof(n->config));
	if (ret)
		goto fail;
	*out = &n->vdev;
	return 0;
fail:
	if (n) {
		free(n->rx_pkt);
		free(n->stash);
	}
	free(n);
	close(tap_fd);
	return ret;
}

/*
 * What every tap kite drives needs, opened here or handed over: our header size, and no
 * offloads. Offloads outlive the fd on a persistent tap; left on, the host would hand us
 * GSO frames and partial checksums that a guest which negotiated no offload cannot take.
 * 0 or a positive errno (logged).
 */
static int tap_prepare(int fd, const char *label)
{
	int hdr = NET_HDR_LEN, err;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = errno;
		log_error("tap %s: cannot set the vnet header size: %s", label, strerror(err));
		return err;
	}
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		err = errno;
		log_error("tap %s: cannot turn its offloads off: %s", label, strerror(err));
		return err;
	}
	return 0;
}

int virtio_net_tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, err;

	if (!*name || strlen(name) >= IFNAMSIZ) {
		log_error("tap %s: name must be 1 to %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		log_error("tap %s: cannot open /dev/net/tun: %s", name, strerror(err));
		return -err;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		if (err == EPERM)
			log_error("tap %s: %s (create it for this user with `ip tuntap add %s "
				  "mode tap user $USER vnet_hdr`, or run with CAP_NET_ADMIN)",
				  name, strerror(err), name);
		else if (err == EBUSY)
			log_error("tap %s: %s (in use by another process, or not a vnet_hdr tap)",
				  name, strerror(err));
		else if (err == EINVAL)
			log_error("tap %s: %s (an interface of that name exists and is not a tap)",
				  name, strerror(err));
		else
			log_error("tap %s: %s", name, strerror(err));
		goto fail;
	}
	err = tap_prepare(fd, name);
	if (err)
		goto fail;
	return fd;
fail:
	close(fd);
	return -err;
}

static void net_tap_handler(void *opaque, uint32_t events)
{
	virtio_net_tap_event(opaque);
}

static int net_attach(struct vm *vm, struct pci_bus *bus, int fd, const char *tap_name,
		      const uint8_t *mac)
{
	struct virtio_dev *vdev;
	uint8_t gen[6];
	int ret;

	if (!mac) {
		virtio_net_mac_from_name(tap_name, gen);
		mac = gen;
	}
	ret = virtio_net_new(&vm->mem, fd, mac, &vdev);
	if (ret)
		return ret;
	snprintf(to_net(vdev)->tap_name, IFNAMSIZ, "%s", tap_name);
	snprintf(vdev->name, sizeof(vdev->name), "virtio-net %s", tap_name);
	ret = virtio_pci_attach(vm, bus, vdev);
	if (ret)
		return ret;
	/* Edge-triggered: with no guest buffers we stop reading, and must not be woken again. */
	ret = event_loop_add(vm->devloop, fd, EPOLLIN | EPOLLET, net_tap_handler, vdev);
	if (ret)
		log_error("tap %s: cannot watch it: %s", tap_name, strerror(-ret));
	return ret;
}

int virtio_net_create(struct vm *vm, struct pci_bus *bus, const char *tap_name, const uint8_t *mac)
{
	int fd = virtio_net_tap_open(tap_name);

	return fd < 0 ? fd : net_attach(vm, bus, fd, tap_name, mac);
}

int virtio_net_create_fd(struct vm *vm, struct pci_bus *bus, int fd, const char *label,
			 const uint8_t *mac)
{
	const short need = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	struct ifreq ifr = { 0 };
	int fl, err;

	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		err = errno;
		log_error("net %s: not an attached tap: %s", label, strerror(err));
		goto fail;
	}
	if ((ifr.ifr_flags & need) != need) {
		err = EINVAL;
		log_error("net %s: tap %.*s was not opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR",
			  label, IFNAMSIZ, ifr.ifr_name);
		goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		err = errno;
		log_error("net %s: cannot set up the tap: %s", label, strerror(err));
		goto fail;
	}
	err = tap_prepare(fd, label);
	if (err)
		goto fail;
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	return net_attach(vm, bus, fd, ifr.ifr_name, mac);
fail:
	close(fd);
	return -err;
}
