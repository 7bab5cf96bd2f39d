// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net (5.1) on a host tap device: one receive and one transmit
 * queue, no offloads, mergeable receive buffers. The tap hands over each
 * packet behind a 12-byte struct virtio_net_hdr_v1, the same header the
 * guest expects, so packets pass through with the header rewritten.
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
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_HDR_LEN 12		/* struct virtio_net_hdr_v1 */
#define NET_HDR_NUM_BUFFERS 10
#define NET_PKT_MAX (NET_HDR_LEN + 65535 + 14 + 4) /* largest tap frame with its header */
#define NET_QUEUE_SIZE 256
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_RX_BUDGET 256	/* packets per turn of the event loop */

/* struct virtio_net_config (5.1.4): mac[6], status. */
#define NET_CFG_MAC 0
#define NET_CFG_STATUS 6
#define NET_CFG_LEN 12

struct virtio_net {
	struct virtio_dev vdev;
	int tap_fd;
	char tap_name[IFNAMSIZ];
	uint8_t config[NET_CFG_LEN];
	bool rx_pending;	/* the tap may hold packets we have not read */
	size_t rx_len;		/* bytes in rx_pkt not yet delivered (0: none) */
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
		/*
		 * No GUEST_CSUM or GUEST_TSO was offered: 5.1.6.4.1 wants flags
		 * and gso_type zero; num_buffers is filled in on delivery.
		 */
		memset(n->rx_pkt, 0, NET_HDR_LEN);
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
	static const uint8_t zero_hdr[NET_HDR_LEN];
	struct virtio_net *n = to_net(vdev);
	size_t len = e->out_len;
	int cnt;

	if (len < NET_HDR_LEN || len > NET_PKT_MAX)
		goto done;
	/*
	 * No CSUM or HOST_TSO was offered, so the header carries nothing the
	 * tap needs; a zero one keeps guest-chosen offload requests out of the
	 * host kernel.
	 */
	n->tx_iov[0] = (struct iovec){ .iov_base = (void *)zero_hdr, .iov_len = NET_HDR_LEN };
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
}

static void net_destroy(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	virtio_dev_uninit(vdev);
	if (n->tap_fd >= 0)
		close(n->tap_fd);
	free(n->rx_pkt);
	free(n->stash);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.queue_notify = net_queue_notify,
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

int virtio_net_create(struct vm *vm, struct pci_bus *bus, const char *tap_name,
		      const uint8_t *mac)
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
