// SPDX-License-Identifier: GPL-2.0-only
/* virtio-rng / entropy device (5.4): fills the driver's buffers from getrandom(2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define RNG_QUEUE_SIZE 64
/* Per request: a guest asking for gigabytes must not hold the event loop for long. */
#define RNG_MAX_REQUEST (64 * 1024)

struct virtio_rng {
	struct virtio_dev vdev;
	struct vq_elem elem;
};

static size_t rng_fill(struct vq_elem *e)
{
	size_t done = 0;

	for (unsigned int i = e->nout; i < e->nout + e->nin && done < RNG_MAX_REQUEST; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t len = e->iov[i].iov_len, off = 0;

		if (len > RNG_MAX_REQUEST - done)
			len = RNG_MAX_REQUEST - done;
		while (off < len) {
			ssize_t n = getrandom(p + off, len - off, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				log_warn("virtio-rng: getrandom: %s", strerror(errno));
				return done + off;
			}
			off += (size_t)n;
		}
		done += len;
	}
	return done;
}

static int rng_handle(struct virtio_dev *vdev, struct vq_elem *e)
{
	/* Device-readable descriptors carry nothing for this device and are ignored. */
	return vq_push(&vdev->vqs[0], e->head, (uint32_t)rng_fill(e));
}

static void rng_queue_notify(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_rng *r = container_of(vdev, struct virtio_rng, vdev);

	virtio_process_queue(vdev, &vdev->vqs[q], &r->elem, rng_handle);
}

static void rng_destroy(struct virtio_dev *vdev)
{
	virtio_dev_uninit(vdev);
	free(container_of(vdev, struct virtio_rng, vdev));
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

int virtio_rng_new(const struct guest_mem *mem, struct virtio_dev **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		log_error("virtio-rng: out of memory");
		return -ENOMEM;
	}
	ret = virtio_dev_init(&r->vdev, "virtio-rng", VIRTIO_ID_RNG, 0xff0000 /* other */, &rng_ops,
			      mem, 0, 1, RNG_QUEUE_SIZE, NULL, 0);
	if (ret) {
		free(r);
		return ret;
	}
	*out = &r->vdev;
	return 0;
}

int virtio_rng_create(struct vm *vm, struct pci_bus *bus)
{
	struct virtio_dev *vdev;
	int ret = virtio_rng_new(&vm->mem, &vdev);

	return ret ? ret : virtio_pci_attach(vm, bus, vdev);
}
