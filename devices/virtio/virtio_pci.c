// SPDX-License-Identifier: GPL-2.0-only
/*
 * Modern virtio-pci transport (4.1), non-transitional: vendor 0x1af4,
 * device 0x1040 + virtio ID, revision 1, no legacy I/O BAR, no INTx.
 *
 * One 64-bit memory BAR holds every register block, each found by the
 * driver through a vendor-specific capability:
 *
 *   0x0000  common configuration (cfg_type 1)
 *   0x0100  ISR status (cfg_type 3)
 *   0x0200  device-specific configuration (cfg_type 4, if the device has any)
 *   0x1000  notifications (cfg_type 2): queue i at 0x1000 + 4 * i
 *   0x2000  MSI-X table, 0x3000 PBA
 *
 * Each queue's notification address is an ioeventfd, so a kick never
 * leaves the kernel on the vCPU side; the event loop reads the eventfd and
 * runs the queue. Writes that still arrive here (no KVM ioeventfd, or the
 * BAR mid-move) signal the same eventfd, so queue processing only ever
 * happens on the event loop. The PCI configuration access capability
 * (cfg_type 5) is not offered: it needs a config-read hook the PCI core
 * does not have, and Linux does not use it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/event_loop.h"
#include "vmm/irq.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_REVISION 1

/* Capability cfg_type (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

#define VPCI_BAR 0
#define VPCI_BAR_SIZE 0x4000
#define VPCI_COMMON 0x0000
#define VPCI_ISR 0x0100
#define VPCI_DEVICE 0x0200
#define VPCI_DEVICE_MAX 0x0e00
#define VPCI_NOTIFY 0x1000
#define VPCI_NOTIFY_MULT 4
#define VPCI_MSIX_TABLE 0x2000
#define VPCI_MSIX_PBA 0x3000

struct virtio_pci;

struct vpci_queue {
	struct virtio_pci *t;
	uint16_t index;
	int efd;
	bool watched;	/* on the event loop */
	bool ioeventfd; /* registered with KVM at notify_base */
};

struct virtio_pci {
	struct pci_device pci;
	struct virtio_dev *vdev;
	struct vm *vm;
	struct msix *msix;
	/* Where the BAR decodes, as last told by bar_remap (under the bus config lock). */
	uint64_t bar_addr;
	struct vpci_queue q[VIRTIO_MAX_QUEUES];
};

static void vpci_kick(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_pci *t = vdev->transport;
	uint64_t one = 1;

	/* Counter overflow (EAGAIN) means a kick is pending anyway. */
	if (q < vdev->nqueues && write(t->q[q].efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: queue %u: kick: %s", vdev->name, q, strerror(errno));
}

static void vpci_signal(struct virtio_dev *vdev, uint16_t vector)
{
	struct virtio_pci *t = vdev->transport;

	msix_notify(t->msix, vector);
}

static void vpci_queue_event(void *opaque, uint32_t events)
{
	struct vpci_queue *q = opaque;
	uint64_t cnt;

	/* Any number of kicks is one pass over the ring. */
	if (read(q->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	virtio_dev_kick(q->t->vdev, q->index);
}

static void vpci_bar_read(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
			  uint32_t size)
{
	struct virtio_pci *t = dev->opaque;
	struct virtio_dev *vdev = t->vdev;

	if (msix_bar_access(t->msix, bar, off, data, size, false))
		return;
	memset(data, 0, size);
	if (bar != VPCI_BAR || off >= VPCI_BAR_SIZE)
		return;
	if (off < VPCI_COMMON + VIRTIO_COMMON_SIZE)
		virtio_common_read(vdev, (uint32_t)off - VPCI_COMMON, data, size);
	else if (off == VPCI_ISR)
		data[0] = virtio_isr_read(vdev);
	else if (off >= VPCI_DEVICE && off < VPCI_DEVICE + VPCI_DEVICE_MAX)
		virtio_config_read(vdev, (uint32_t)off - VPCI_DEVICE, data, size);
}

static void vpci_bar_write(struct pci_device *dev, unsigned int bar, uint64_t off,
			   const uint8_t *data, uint32_t size)
{
	struct virtio_pci *t = dev->opaque;
	struct virtio_dev *vdev = t->vdev;

	if (msix_bar_access(t->msix, bar, off, (uint8_t *)data, size, true))
		return;
	if (bar != VPCI_BAR || off >= VPCI_BAR_SIZE)
		return;
	if (off < VPCI_COMMON + VIRTIO_COMMON_SIZE) {
		virtio_common_write(vdev, (uint32_t)off - VPCI_COMMON, data, size);
	} else if (off >= VPCI_NOTIFY &&
		   off < VPCI_NOTIFY + (uint64_t)vdev->nqueues * VPCI_NOTIFY_MULT) {
		/* The ioeventfd missed this one: route it through the same eventfd. */
		vpci_kick(vdev, (uint16_t)((off - VPCI_NOTIFY) / VPCI_NOTIFY_MULT));
	}
	/* The device configuration is read-only; ISR writes are ignored. */
}

static void vpci_ioeventfds(struct virtio_pci *t, bool assign)
{
	/* Without KVM (unit tests) there is nothing to register. */
	if (t->vm->vm_fd < 0 || t->bar_addr == PCI_BAR_UNMAPPED)
		return;
	for (uint16_t i = 0; i < t->vdev->nqueues; i++) {
		struct vpci_queue *q = &t->q[i];
		uint64_t addr = t->bar_addr + VPCI_NOTIFY + (uint64_t)i * VPCI_NOTIFY_MULT;
		int ret;

		if (q->efd < 0 || q->ioeventfd == assign)
			continue;
		/* Length 0: any write width matches, and KVM can take its fast MMIO path. */
		ret = vm_ioeventfd(t->vm, q->efd, addr, 0, true, assign);
		if (!ret)
			q->ioeventfd = assign;
		else if (ret == -EEXIST)
			/* Notifies trap to vpci_bar_write instead; retried when the BAR moves. */
			log_msg(virtio_guest_log_level(&t->vdev->warnings),
				"%s: queue %u notify at 0x%llx overlaps another device's BAR",
				t->vdev->name, i, (unsigned long long)addr);
	}
}

static void vpci_bar_remap(struct pci_device *dev, unsigned int bar, uint64_t addr)
{
	struct virtio_pci *t = dev->opaque;

	if (bar != VPCI_BAR)
		return;
	vpci_ioeventfds(t, false);
	t->bar_addr = addr;
	vpci_ioeventfds(t, true);
}

static void vpci_config_write(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val)
{
	struct virtio_pci *t = dev->opaque;

	msix_config_write(t->msix, off, size, val);
}

static const struct pci_device_ops vpci_ops = {
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.bar_remap = vpci_bar_remap,
	.config_write = vpci_config_write,
};

/* struct virtio_pci_cap (4.1.4) after cap_vndr and cap_next, plus notify_off_multiplier. */
static int vpci_add_cap(struct virtio_pci *t, uint8_t type, uint32_t off, uint32_t len)
{
	uint8_t body[18] = { 0 };
	size_t blen = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 18 : 14;

	body[0] = (uint8_t)(blen + 2); /* cap_len counts the two header bytes */
	body[1] = type;
	body[2] = VPCI_BAR;
	put_le32(body + 6, off);
	put_le32(body + 10, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put_le32(body + 14, VPCI_NOTIFY_MULT);
	return pci_device_add_cap(&t->pci, PCI_CAP_ID_VNDR, body, NULL, blen);
}

static void virtio_pci_free(void *arg)
{
	struct virtio_pci *t = arg;

	vpci_ioeventfds(t, false);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		/* Normally the loop is gone by now (vm_destroy stops it before devices). */
		if (t->q[i].watched && t->vm->devloop)
			event_loop_del(t->vm->devloop, t->q[i].efd);
		if (t->q[i].efd >= 0)
			close(t->q[i].efd);
	}
	msix_destroy(t->msix);
	virtio_dev_destroy(t->vdev);
	free(t);
}

/*
 * Behind a vIOMMU the device's DMA space translates, and the driver must then use the DMA API
 * (VIRTIO_F_ACCESS_PLATFORM), not guest-physical addresses. Source id: bus 0, slot, fn 0.
 */
static int vpci_setup_dma(struct vm *vm, struct virtio_pci *t)
{
	int ret;

	if (!vm->dma_provider)
		return 0;
	ret = vm->dma_provider->init(vm->dma_provider, (uint16_t)(t->pci.slot << 3), &t->vdev->dma);
	if (ret > 0)
		t->vdev->host_features |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	return ret < 0 ? ret : 0;
}

int virtio_pci_attach(struct vm *vm, struct pci_bus *bus, struct virtio_dev *vdev)
{
	uint16_t id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vdev->device_id);
	struct virtio_pci *t = calloc(1, sizeof(*t));
	int ret;

	if (!t) {
		log_error("%s: out of memory", vdev->name);
		virtio_dev_destroy(vdev);
		return -ENOMEM;
	}
	t->vdev = vdev;
	t->vm = vm;
	t->bar_addr = PCI_BAR_UNMAPPED;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		t->q[i] = (struct vpci_queue){ .t = t, .index = (uint16_t)i, .efd = -1 };
	/* From here on the VM frees everything, whatever fails below. */
	if (vm_own(vm, virtio_pci_free, t)) {
		log_error("%s: the VM cannot own more devices", vdev->name);
		virtio_pci_free(t);
		return -ENOSPC;
	}
	vdev->transport = t;
	vdev->signal = vpci_signal;
	vdev->kick = vpci_kick;

	/* Subsystem ID >= 0x40 marks a non-transitional device (4.1.2.1). */
	pci_device_init(&t->pci, &vpci_ops, t, vdev->name, VIRTIO_PCI_VENDOR, id, vdev->pci_class,
			VIRTIO_PCI_REVISION, VIRTIO_PCI_VENDOR, id);
	ret = pci_device_set_bar(&t->pci, VPCI_BAR, PCI_BAR_MEM64, VPCI_BAR_SIZE, false);
	if (!ret)
		ret = vpci_add_cap(t, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON, VIRTIO_COMMON_SIZE);
	if (ret >= 0)
		ret = vpci_add_cap(t, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 1);
	if (ret >= 0 && vdev->config_len)
		ret = vpci_add_cap(t, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE, vdev->config_len);
	if (ret >= 0)
		ret = vpci_add_cap(t, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY,
				   (uint32_t)vdev->nqueues * VPCI_NOTIFY_MULT);
	if (ret < 0) {
		log_error("%s: cannot build PCI configuration space: %s", vdev->name,
			  strerror(-ret));
		return ret;
	}
	t->msix = msix_create(vm, &t->pci, (uint16_t)(vdev->nqueues + 1), VPCI_BAR, VPCI_MSIX_TABLE,
			      VPCI_MSIX_PBA);
	if (!t->msix)
		return -ENOMEM; /* logged */
	vdev->nvec = (uint16_t)(vdev->nqueues + 1);

	for (uint16_t i = 0; i < vdev->nqueues; i++) {
		struct vpci_queue *q = &t->q[i];

		q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->efd < 0) {
			ret = -errno;
			log_error("%s: eventfd: %s", vdev->name, strerror(errno));
			return ret;
		}
		ret = event_loop_add(vm->devloop, q->efd, EPOLLIN, vpci_queue_event, q);
		if (ret)
			return ret; /* logged */
		q->watched = true;
	}
	ret = pci_bus_add(bus, &t->pci);
	if (!ret)
		vm_add_device(vm, vdev->name, (int)t->pci.slot, &vdev->metrics);
	/* It names the full slot table or window itself; the rest is ours to say. */
	if (ret && ret != -ENOSPC)
		log_error("%s: cannot add to the PCI bus: %s", vdev->name, strerror(-ret));
	if (!ret)
		ret = vpci_setup_dma(vm, t);
	return ret;
}
