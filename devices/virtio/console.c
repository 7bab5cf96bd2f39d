// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-console (5.3) with a single port, hvc0 in Linux: receiveq (0)
 * carries host input to the guest, transmitq (1) guest output to the host.
 *
 * Input is pulled, never pushed: the fd is only read when the guest has a
 * buffer to put the bytes in, and only after poll() says it will not block
 * (the fd may be a shared, blocking terminal we must not switch to
 * O_NONBLOCK). Its readiness is watched edge-triggered, so an idle guest
 * with typed-ahead input costs nothing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/event_loop.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define CONSOLE_QUEUE_SIZE 128
#define CONSOLE_RXQ 0
#define CONSOLE_TXQ 1
#define CONSOLE_RX_BUDGET 64	 /* buffers per turn of the event loop */
#define CONSOLE_OUT_WAIT_MS 1000 /* how long a stuck output may stall the loop */
#define CONSOLE_CFG_LEN 12 /* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr */

struct virtio_console {
	struct virtio_dev vdev;
	int in_fd, out_fd;
	bool in_eof;
	bool out_err_logged;
	struct vm *vm; /* for vm_console_activity; NULL in unit tests */
	/* A receive buffer popped but not filled (input ran dry); reused next time. */
	bool rx_held;
	uint16_t rx_head;
	uint8_t config[CONSOLE_CFG_LEN];
	struct vq_elem elem;
};

static struct virtio_console *to_console(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_console, vdev);
}

static bool input_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* POLLHUP too: the read then reports EOF instead of blocking. */
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static void console_rx(struct virtio_console *c)
{
	struct virtqueue *vq = &c->vdev.vqs[CONSOLE_RXQ];
	struct vq_elem *e = &c->elem;
	unsigned int budget = CONSOLE_RX_BUDGET;
	ssize_t n;

	while (c->in_fd >= 0 && !c->in_eof && budget && input_ready(c->in_fd)) {
		if (c->rx_held) {
			if (vq_walk(vq, c->rx_head, e)) {
				vq->broken = true;
				break;
			}
		} else {
			int r = vq_next(vq, e);

			if (r < 0)
				break;
			if (r == 0) {
				if (vq_enable_notify(vq))
					continue;
				break;
			}
		}
		if (!e->in_len) {
			/* Nothing writable: return it and move on. */
			c->rx_held = false;
			if (vq_push(vq, e->head, 0))
				break;
			continue;
		}
		n = readv(c->in_fd, e->iov + e->nout, (int)e->nin);
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
				c->rx_held = true;
				c->rx_head = e->head;
				break;
			}
			/* EOF or a dead fd: no more input, ever. Keep the buffer. */
			if (n < 0)
				log_warn("%s: input: %s", c->vdev.name, strerror(errno));
			c->in_eof = true;
			c->rx_held = true;
			c->rx_head = e->head;
			break;
		}
		c->rx_held = false;
		budget--;
		if (vq_push(vq, e->head, (uint32_t)n))
			break;
	}
	if (!budget && c->vdev.kick)
		c->vdev.kick(&c->vdev, CONSOLE_RXQ);
	virtio_queue_notify_driver(&c->vdev, vq);
}

/* Writes the whole chain's readable part; a stuck or broken output drops the rest. */
static void console_write(struct virtio_console *c, struct iovec *iov, unsigned int cnt)
{
	while (cnt) {
		ssize_t n = writev(c->out_fd, iov, (int)cnt);

		if (n < 0) {
			struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && poll(&p, 1, CONSOLE_OUT_WAIT_MS) == 1)
				continue;
			if (!c->out_err_logged)
				log_warn("%s: output: %s", c->vdev.name, strerror(errno));
			c->out_err_logged = true;
			return;
		}
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
}

static int console_tx_one(struct virtio_dev *vdev, struct vq_elem *e)
{
	struct virtio_console *c = to_console(vdev);

	if (c->out_fd >= 0)
		console_write(c, e->iov, e->nout);
	vm_console_activity(c->vm, 1);
	return vq_push(&vdev->vqs[CONSOLE_TXQ], e->head, 0);
}

static void console_queue_notify(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_console *c = to_console(vdev);

	if (q == CONSOLE_RXQ)
		console_rx(c);
	else
		virtio_process_queue(vdev, &vdev->vqs[q], &c->elem, console_tx_one);
}

void virtio_console_input_event(struct virtio_dev *vdev)
{
	struct virtqueue *vq = &vdev->vqs[CONSOLE_RXQ];

	pthread_mutex_lock(&vdev->lock);
	if (virtio_dev_running(vdev) && vq->ready && !vq->broken)
		console_rx(to_console(vdev));
	if (vq->broken)
		virtio_dev_needs_reset(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

static void console_reset(struct virtio_dev *vdev)
{
	to_console(vdev)->rx_held = false;
}

static void console_destroy(struct virtio_dev *vdev)
{
	virtio_dev_uninit(vdev);
	free(to_console(vdev));
}

static const struct virtio_dev_ops console_ops = {
	.queue_notify = console_queue_notify,
	.reset = console_reset,
	.destroy = console_destroy,
};

int virtio_console_new(const struct guest_mem *mem, int in_fd, int out_fd, struct virtio_dev **out)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		log_error("virtio-console: out of memory");
		return -ENOMEM;
	}
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	ret = virtio_dev_init(&c->vdev, "virtio-console", VIRTIO_ID_CONSOLE,
			      0x078000 /* communication, other */, &console_ops, mem, 0, 2,
			      CONSOLE_QUEUE_SIZE, c->config, sizeof(c->config));
	if (ret) {
		free(c);
		return ret;
	}
	*out = &c->vdev;
	return 0;
}

static void console_in_handler(void *opaque, uint32_t events)
{
	virtio_console_input_event(opaque);
}

int virtio_console_create(struct vm *vm, struct pci_bus *bus, int in_fd, int out_fd)
{
	struct virtio_dev *vdev;
	struct stat st;
	int ret = virtio_console_new(&vm->mem, in_fd, out_fd, &vdev);

	if (ret)
		return ret;
	to_console(vdev)->vm = vm;
	ret = virtio_pci_attach(vm, bus, vdev);
	if (ret || in_fd < 0)
		return ret;
	/*
	 * epoll refuses regular files; they are always readable anyway, so
	 * their input is read whenever the guest adds buffers.
	 */
	if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	ret = event_loop_add(vm->devloop, in_fd, EPOLLIN | EPOLLET, console_in_handler, vdev);
	return ret;
}
