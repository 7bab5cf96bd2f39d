// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio device core: feature negotiation, the device status state
 * machine (3.1), the common configuration registers (4.1.4.3) and the
 * glue between queues and interrupts. Nothing here knows PCI, so the unit
 * tests drive it directly.
 */
#include "devices/virtio/virtio_dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/log.h"

#define BASE_FEATURES                                                                              \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) |                             \
	 (1ULL << VIRTIO_F_INDIRECT_DESC))

int virtio_dev_init(struct virtio_dev *vdev, const char *name, uint16_t device_id,
		    uint32_t pci_class, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, uint64_t features, uint16_t nqueues,
		    uint16_t queue_size, uint8_t *config, uint32_t config_len)
{
	int ret;

	memset(vdev, 0, sizeof(*vdev));
	if (!nqueues || nqueues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	snprintf(vdev->name, sizeof(vdev->name), "%s", name);
	vdev->device_id = device_id;
	vdev->pci_class = pci_class;
	vdev->ops = ops;
	dma_space_init_identity(&vdev->dma, mem);
	vdev->host_features = BASE_FEATURES | features;
	vdev->nqueues = nqueues;
	vdev->nvec = 0;
	vdev->config = config;
	vdev->config_len = config_len;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	for (uint16_t i = 0; i < nqueues; i++) {
		ret = vq_init(&vdev->vqs[i], &vdev->dma, vdev->name, i, queue_size);
		if (ret) {
			while (i--)
				vq_free(&vdev->vqs[i]);
			log_error("%s: cannot set up queues: %s", vdev->name, strerror(-ret));
			return ret;
		}
	}
	pthread_mutex_init(&vdev->lock, NULL);
	return 0;
}

void virtio_dev_uninit(struct virtio_dev *vdev)
{
	for (uint16_t i = 0; i < vdev->nqueues; i++)
		vq_free(&vdev->vqs[i]);
	pthread_mutex_destroy(&vdev->lock);
}

void virtio_dev_destroy(struct virtio_dev *vdev)
{
	if (vdev)
		vdev->ops->destroy(vdev);
}

bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->guest_features & (1ULL << bit);
}

bool virtio_dev_running(const struct virtio_dev *vdev)
{
	return (vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

static void signal_vector(struct virtio_dev *vdev, uint16_t vector)
{
	/* No INTx: an unmapped event (NO_VECTOR) is simply not delivered. */
	if (vector != VIRTIO_NO_VECTOR && vdev->signal) {
		metric_add(&vdev->metrics.interrupts, 1);
		vdev->signal(vdev, vector);
	}
}

void virtio_dev_needs_reset(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	vdev->isr |= VIRTIO_ISR_CONFIG;
	/* 2.1.2: the driver learns about it through a configuration change notification. */
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		signal_vector(vdev, vdev->config_vector);
}

void virtio_queue_notify_driver(struct virtio_dev *vdev, struct virtqueue *vq)
{
	if (vq->broken) {
		virtio_dev_needs_reset(vdev);
		return;
	}
	if (!vq_should_notify(vq))
		return;
	vdev->isr |= VIRTIO_ISR_QUEUE;
	signal_vector(vdev, vq->msix_vector);
}

void virtio_process_queue(struct virtio_dev *vdev, struct virtqueue *vq, struct vq_elem *e,
			  int (*handle)(struct virtio_dev *vdev, struct vq_elem *e))
{
	/* One ring's worth per turn, so a busy queue cannot starve the rest of the loop. */
	unsigned int budget = vq->size;

	for (;;) {
		int r;

		while (budget && (r = vq_next(vq, e)) > 0) {
			budget--;
			if (handle(vdev, e))
				break;
		}
		if (vq->broken)
			break;
		if (!budget) {
			/* Come back after the other sources had their turn. */
			if (vdev->kick)
				vdev->kick(vdev, vq->index);
			break;
		}
		/* Sleep only once the driver is sure to kick for what comes next. */
		if (!vq_enable_notify(vq))
			break;
	}
	virtio_queue_notify_driver(vdev, vq);
}

static void virtio_dev_reset(struct virtio_dev *vdev)
{
	vdev->status = 0;
	vdev->isr = 0;
	vdev->guest_features = 0;
	vdev->dfselect = vdev->gfselect = 0;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	vdev->queue_select = 0;
	for (uint16_t i = 0; i < vdev->nqueues; i++)
		vq_reset(&vdev->vqs[i]);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

void virtio_dev_kick(struct virtio_dev *vdev, uint16_t q)
{
	pthread_mutex_lock(&vdev->lock);
	/* 3.1.1: nothing is consumed before DRIVER_OK; DRIVER_OK re-kicks every queue. */
	if (q < vdev->nqueues && virtio_dev_running(vdev) && vdev->vqs[q].ready &&
	    !vdev->vqs[q].broken)
		vdev->ops->queue_notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

static struct virtqueue *selected_queue(struct virtio_dev *vdev)
{
	return vdev->queue_select < vdev->nqueues ? &vdev->vqs[vdev->queue_select] : NULL;
}

static uint16_t checked_vector(struct virtio_dev *vdev, uint16_t v)
{
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
	return v < vdev->nvec ? v : VIRTIO_NO_VECTOR;
}

struct common_field {
	uint8_t off, size;
};

static const struct common_field common_fields[] = {
	{ VIRTIO_COMMON_DFSELECT, 4 }, { VIRTIO_COMMON_DF, 4 },
	{ VIRTIO_COMMON_GFSELECT, 4 }, { VIRTIO_COMMON_GF, 4 },
	{ VIRTIO_COMMON_MSIX, 2 },     { VIRTIO_COMMON_NUMQ, 2 },
	{ VIRTIO_COMMON_STATUS, 1 },   { VIRTIO_COMMON_CFGGENERATION, 1 },
	{ VIRTIO_COMMON_Q_SELECT, 2 }, { VIRTIO_COMMON_Q_SIZE, 2 },
	{ VIRTIO_COMMON_Q_MSIX, 2 },   { VIRTIO_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_COMMON_Q_NOFF, 2 },   { VIRTIO_COMMON_Q_DESC, 8 },
	{ VIRTIO_COMMON_Q_AVAIL, 8 },  { VIRTIO_COMMON_Q_USED, 8 },
};

static const struct common_field *common_field_at(uint32_t off, uint32_t size)
{
	for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
		const struct common_field *f = &common_fields[i];

		/* Any access inside one field works, e.g. a 64-bit address as two halves. */
		if (off >= f->off && size <= f->size && off - f->off <= f->size - size)
			return f;
	}
	return NULL;
}

static uint64_t common_get(struct virtio_dev *vdev, uint8_t field)
{
	struct virtqueue *vq = selected_queue(vdev);

	switch (field) {
	case VIRTIO_COMMON_DFSELECT:
		return vdev->dfselect;
	case VIRTIO_COMMON_DF:
		return vdev->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * vdev->dfselect))
					  : 0;
	case VIRTIO_COMMON_GFSELECT:
		return vdev->gfselect;
	case VIRTIO_COMMON_GF:
		return vdev->gfselect < 2
			       ? (uint32_t)(vdev->guest_features >> (32 * vdev->gfselect))
			       : 0;
	case VIRTIO_COMMON_MSIX:
		return vdev->config_vector;
	case VIRTIO_COMMON_NUMQ:
		return vdev->nqueues;
	case VIRTIO_COMMON_STATUS:
		return vdev->status;
	case VIRTIO_COMMON_CFGGENERATION:
		return vdev->config_generation;
	case VIRTIO_COMMON_Q_SELECT:
		return vdev->queue_select;
	}
	/* Queue fields of a queue that does not exist read 0 (size 0: unavailable). */
	if (!vq)
		return 0;
	switch (field) {
	case VIRTIO_COMMON_Q_SIZE:
		return vq->size;
	case VIRTIO_COMMON_Q_MSIX:
		return vq->msix_vector;
	case VIRTIO_COMMON_Q_ENABLE:
		return vq->ready;
	case VIRTIO_COMMON_Q_NOFF:
		return vdev->queue_select; /* queue i notifies at i * multiplier */
	case VIRTIO_COMMON_Q_DESC:
		return vq->desc_addr;
	case VIRTIO_COMMON_Q_AVAIL:
		return vq->avail_addr;
	case VIRTIO_COMMON_Q_USED:
		return vq->used_addr;
	}
	return 0;
}

static bool features_ok(struct virtio_dev *vdev)
{
	uint64_t extra = vdev->guest_features & ~vdev->host_features;

	if (extra) {
		log_msg(virtio_guest_log_level(&vdev->warnings),
			"%s: driver accepted features 0x%llx that were not offered", vdev->name,
			(unsigned long long)extra);
		return false;
	}
	/* Modern-only device: legacy (pre-1.0) drivers are refused. */
	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		log_msg(virtio_guest_log_level(&vdev->warnings),
			"%s: driver did not accept VIRTIO_F_VERSION_1", vdev->name);
		return false;
	}
	return !vdev->ops->features_accept || vdev->ops->features_accept(vdev);
}

static void write_status(struct virtio_dev *vdev, uint8_t val)
{
	uint8_t want = val & (uint8_t)~VIRTIO_STATUS_NEEDS_RESET; /* that bit is the device's */
	uint8_t added = want & (uint8_t)~vdev->status;

	if (!val) {
		virtio_dev_reset(vdev);
		return;
	}
	/* 3.1.1: FEATURES_OK stays clear when the device refuses the feature set. */
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !features_ok(vdev))
		want &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(want & VIRTIO_STATUS_FEATURES_OK)) {
		log_msg(virtio_guest_log_level(&vdev->warnings),
			"%s: DRIVER_OK without FEATURES_OK", vdev->name);
		want &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	vdev->status = want | (vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	/* 2.1.2: a device that already needs reset says so as soon as the driver listens. */
	if ((added & want & VIRTIO_STATUS_DRIVER_OK) && (vdev->status & VIRTIO_STATUS_NEEDS_RESET))
		signal_vector(vdev, vdev->config_vector);
	if ((added & want & VIRTIO_STATUS_DRIVER_OK) && vdev->kick) {
		/* Buffers made available before DRIVER_OK were not looked at yet. */
		for (uint16_t i = 0; i < vdev->nqueues; i++)
			if (vdev->vqs[i].ready)
				vdev->kick(vdev, i);
	}
}

static void common_set(struct virtio_dev *vdev, uint8_t field, uint64_t val)
{
	struct virtqueue *vq = selected_queue(vdev);
	bool features_fixed = vdev->status & VIRTIO_STATUS_FEATURES_OK;

	switch (field) {
	case VIRTIO_COMMON_DFSELECT:
		vdev->dfselect = (uint32_t)val;
		return;
	case VIRTIO_COMMON_GFSELECT:
		vdev->gfselect = (uint32_t)val;
		return;
	case VIRTIO_COMMON_GF:
		/* Features are frozen once accepted. */
		if (vdev->gfselect < 2 && !features_fixed) {
			unsigned int shift = 32 * vdev->gfselect;

			vdev->guest_features &= ~(0xffffffffULL << shift);
			vdev->guest_features |= (uint64_t)(uint32_t)val << shift;
		}
		return;
	case VIRTIO_COMMON_MSIX:
		vdev->config_vector = checked_vector(vdev, (uint16_t)val);
		return;
	case VIRTIO_COMMON_STATUS:
		write_status(vdev, (uint8_t)val);
		return;
	case VIRTIO_COMMON_Q_SELECT:
		vdev->queue_select = (uint16_t)val;
		return;
	}
	if (!vq)
		return;
	switch (field) {
	case VIRTIO_COMMON_Q_MSIX:
		vq->msix_vector = checked_vector(vdev, (uint16_t)val);
		return;
	case VIRTIO_COMMON_Q_ENABLE:
		/* Only 1 is meaningful; a queue is disabled by resetting the device. */
		if (val != 1 || vq->ready)
			return;
		if (vq_enable(vq, virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX),
			      virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC)))
			virtio_dev_needs_reset(vdev);
		return;
	}
	/* The ring layout may only change while the queue is disabled. */
	if (vq->ready)
		return;
	switch (field) {
	case VIRTIO_COMMON_Q_SIZE:
		vq->size = (uint16_t)val; /* checked when the queue is enabled */
		return;
	case VIRTIO_COMMON_Q_DESC:
		vq->desc_addr = val;
		return;
	case VIRTIO_COMMON_Q_AVAIL:
		vq->avail_addr = val;
		return;
	case VIRTIO_COMMON_Q_USED:
		vq->used_addr = val;
		return;
	}
}

void virtio_common_read(struct virtio_dev *vdev, uint32_t off, uint8_t *data, uint32_t size)
{
	const struct common_field *f = common_field_at(off, size);
	uint64_t v;

	memset(data, 0, size);
	if (!f)
		return;
	pthread_mutex_lock(&vdev->lock);
	v = common_get(vdev, f->off);
	pthread_mutex_unlock(&vdev->lock);
	v >>= 8 * (off - f->off);
	for (uint32_t i = 0; i < size; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

void virtio_common_write(struct virtio_dev *vdev, uint32_t off, const uint8_t *data, uint32_t size)
{
	const struct common_field *f = common_field_at(off, size);
	unsigned int shift;
	uint64_t v;

	if (!f)
		return;
	shift = 8 * (off - f->off);
	pthread_mutex_lock(&vdev->lock);
	/* Merge into the current value: partial writes of wide fields keep the rest. */
	v = common_get(vdev, f->off);
	for (uint32_t i = 0; i < size; i++) {
		v &= ~(0xffULL << (shift + 8 * i));
		v |= (uint64_t)data[i] << (shift + 8 * i);
	}
	common_set(vdev, f->off, v);
	pthread_mutex_unlock(&vdev->lock);
}

uint8_t virtio_isr_read(struct virtio_dev *vdev)
{
	uint8_t v;

	pthread_mutex_lock(&vdev->lock);
	v = vdev->isr;
	vdev->isr = 0;
	pthread_mutex_unlock(&vdev->lock);
	return v;
}

void virtio_config_read(struct virtio_dev *vdev, uint32_t off, uint8_t *data, uint32_t size)
{
	memset(data, 0, size);
	pthread_mutex_lock(&vdev->lock);
	for (uint32_t i = 0; i < size; i++)
		if (off < vdev->config_len && i < vdev->config_len - off)
			data[i] = vdev->config[off + i];
	pthread_mutex_unlock(&vdev->lock);
}
