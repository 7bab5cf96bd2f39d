/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside kite's virtio: the transport-independent device core (feature
 * negotiation, status, the common configuration registers, queues,
 * interrupts) shared by the PCI transport and the device models, and the
 * device constructors the unit tests drive without a VM.
 *
 * Threading: vdev->lock protects everything here. Register accesses take
 * it on vCPU threads; queue processing runs on the device event loop with
 * it held. Never call event_loop_add/del with it held (the loop thread
 * holds its own lock while it waits for ours).
 */
#ifndef KITE_DEVICES_VIRTIO_DEV_H
#define KITE_DEVICES_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/blk_aio.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtqueue.h"
#include "vmm/dma.h"
#include "vmm/metrics.h"

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Transport-independent feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_NO_VECTOR 0xffff

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Device IDs (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* struct virtio_pci_common_cfg (4.1.4.3), offsets. */
#define VIRTIO_COMMON_DFSELECT 0x00
#define VIRTIO_COMMON_DF 0x04
#define VIRTIO_COMMON_GFSELECT 0x08
#define VIRTIO_COMMON_GF 0x0c
#define VIRTIO_COMMON_MSIX 0x10
#define VIRTIO_COMMON_NUMQ 0x12
#define VIRTIO_COMMON_STATUS 0x14
#define VIRTIO_COMMON_CFGGENERATION 0x15
#define VIRTIO_COMMON_Q_SELECT 0x16
#define VIRTIO_COMMON_Q_SIZE 0x18
#define VIRTIO_COMMON_Q_MSIX 0x1a
#define VIRTIO_COMMON_Q_ENABLE 0x1c
#define VIRTIO_COMMON_Q_NOFF 0x1e
#define VIRTIO_COMMON_Q_DESC 0x20
#define VIRTIO_COMMON_Q_AVAIL 0x28
#define VIRTIO_COMMON_Q_USED 0x30
#define VIRTIO_COMMON_SIZE 0x38

#define VIRTIO_MAX_QUEUES 8

struct virtio_dev;

struct virtio_dev_ops {
	/* Buffers may be available on queue @q. Event-loop thread, lock held, device running. */
	void (*queue_notify)(struct virtio_dev *vdev, uint16_t q);
	/*
	 * Optional. The driver sets FEATURES_OK with vdev->guest_features (a
	 * subset of what was offered, VERSION_1 included): false refuses them
	 * (FEATURES_OK stays clear), true configures the device for them. Lock
	 * held, vCPU thread.
	 */
	bool (*features_accept)(struct virtio_dev *vdev);
	/* Optional. The driver reset the device: drop in-flight state. Lock held, any thread. */
	void (*reset)(struct virtio_dev *vdev);
	/* Frees the device model (the object holding @vdev). */
	void (*destroy)(struct virtio_dev *vdev);
};

struct virtio_dev {
	pthread_mutex_t lock;
	char name[32];
	uint16_t device_id;
	uint32_t pci_class;
	const struct virtio_dev_ops *ops;
	struct dma_space dma;

	uint64_t host_features;
	uint64_t guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint16_t config_vector;
	uint16_t queue_select;
	uint16_t nqueues;
	uint16_t nvec; /* MSI-X vectors the transport provides; vectors >= nvec read NO_VECTOR */
	unsigned int warnings; /* guest-triggered log lines so far, see virtio_guest_log_level */
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];
	struct dev_metrics metrics; /* for the control API's `metrics` */

	/* Device-specific configuration, little-endian, read-only for the driver. */
	uint8_t *config;
	uint32_t config_len;

	/* Set by the transport (or a test). Both may be called with the lock held. */
	void (*signal)(struct virtio_dev *vdev, uint16_t vector);
	/* Makes the event loop call virtio_dev_kick(vdev, q) soon. */
	void (*kick)(struct virtio_dev *vdev, uint16_t q);
	void *transport;
};

/*
 * Fills the core of a device model: @nqueues queues of @queue_size
 * entries, offering VERSION_1, EVENT_IDX, INDIRECT_DESC and @features.
 * 0 or -errno (logged).
 */
int virtio_dev_init(struct virtio_dev *vdev, const char *name, uint16_t device_id,
		    uint32_t pci_class, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, uint64_t features, uint16_t nqueues,
		    uint16_t queue_size, uint8_t *config, uint32_t config_len);
/* Releases what virtio_dev_init allocated (device models call it from destroy). */
void virtio_dev_uninit(struct virtio_dev *vdev);
/* Destroys the whole device model through ops->destroy. */
void virtio_dev_destroy(struct virtio_dev *vdev);

/* Register accesses as the driver makes them (take the lock). */
void virtio_common_read(struct virtio_dev *vdev, uint32_t off, uint8_t *data, uint32_t size);
void virtio_common_write(struct virtio_dev *vdev, uint32_t off, const uint8_t *data, uint32_t size);
uint8_t virtio_isr_read(struct virtio_dev *vdev); /* read-to-clear */
void virtio_config_read(struct virtio_dev *vdev, uint32_t off, uint8_t *data, uint32_t size);

/* Event-loop side of a queue notification: runs ops->queue_notify if the queue may run. */
void virtio_dev_kick(struct virtio_dev *vdev, uint16_t q);

/* The following expect the lock held. */
bool virtio_dev_running(const struct virtio_dev *vdev);
bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit);
/* Enters DEVICE_NEEDS_RESET and tells the driver through a config interrupt. */
void virtio_dev_needs_reset(struct virtio_dev *vdev);
/* After pushing to @vq: interrupts the driver if it asked to be told. */
void virtio_queue_notify_driver(struct virtio_dev *vdev, struct virtqueue *vq);
/*
 * The usual loop for queues whose chains complete one at a time: calls
 * @handle for each chain (it must push the chain, and return 0 or -EIO when
 * the ring broke), re-arms notifications, interrupts the driver. A broken
 * ring puts the device in NEEDS_RESET.
 */
void virtio_process_queue(struct virtio_dev *vdev, struct virtqueue *vq, struct vq_elem *e,
			  int (*handle)(struct virtio_dev *vdev, struct vq_elem *e));

/* The device models without a transport (unit tests), and the hooks their fds need. */
int virtio_blk_new(const struct guest_mem *mem, const char *path, bool readonly,
		   struct virtio_dev **out);
/* The same with options, an already open @given_fd (or -1), and a choice of I/O back end. */
int virtio_blk_new_opts(const struct guest_mem *mem, const char *path, int given_fd,
			const struct virtio_blk_opts *o, enum blk_aio_backend aio,
			struct virtio_dev **out);
/* Readable when disk I/O completed; the event loop then completes the requests. */
int virtio_blk_io_fd(struct virtio_dev *vdev);
/* Waits for all of the disk's I/O in flight and completes it (unit tests). */
void virtio_blk_io_wait(struct virtio_dev *vdev);
/* Takes ownership of @tap_fd (non-blocking, packets carry a 12-byte virtio_net_hdr_v1). */
int virtio_net_new(const struct guest_mem *mem, int tap_fd, const uint8_t mac[6],
		   struct virtio_dev **out);
int virtio_console_new(const struct guest_mem *mem, int in_fd, int out_fd, struct virtio_dev **out);
int virtio_rng_new(const struct guest_mem *mem, struct virtio_dev **out);
/* The tap (net) or input fd (console) became readable; event-loop thread. */
void virtio_net_tap_event(struct virtio_dev *vdev);
void virtio_console_input_event(struct virtio_dev *vdev);
/*
 * Attaches to tap @name (non-blocking, vnet header, offloads reset until the guest
 * negotiates its own: a previous user may have left TSO/checksum on). The fd or -errno (logged).
 */
int virtio_net_tap_open(const char *name);
/*
 * virtio-net's offload logic, pure (unit tests): the TUN_F_* flags for the
 * negotiated @features; the offload features a tap taking @tun_flags allows;
 * 0 or -EINVAL for a feature set that breaks 5.1.3.1's dependencies;
 * transmit: checks (and trims in place) the guest's 12-byte header for
 * @len payload bytes, -EINVAL drops the frame; receive: reduces the tap's
 * header at @hdr (payload follows it, @len bytes) to what the driver
 * negotiated, completing a partial checksum if needed, -EINVAL drops it.
 */
unsigned int virtio_net_tun_offloads(uint64_t features);
uint64_t virtio_net_offload_features(unsigned int tun_flags);
int virtio_net_features_check(uint64_t features);
int virtio_net_tx_hdr_check(uint8_t hdr[12], size_t len, uint64_t features);
int virtio_net_rx_hdr_fix(uint8_t *hdr, size_t len, uint64_t features);
/*
 * Test seam: pretend the tap takes @tap_offloads (re-deriving the offered
 * features) and route TUNSETOFFLOAD to @set_offload. Before negotiation.
 */
void virtio_net_test_offloads(struct virtio_dev *vdev, unsigned int tap_offloads,
			      int (*set_offload)(void *opaque, unsigned int tun_flags),
			      void *opaque);
/* A stable locally administered unicast MAC derived from @name. */
void virtio_net_mac_from_name(const char *name, uint8_t mac[6]);

struct vm;
struct pci_bus;
/*
 * Puts @vdev on @bus as a modern virtio-pci function with MSI-X, its
 * notifications on ioeventfds served by vm->devloop. Takes ownership of
 * @vdev in every case (freed now on failure, else by vm_destroy).
 * 0 or -errno (logged).
 */
int virtio_pci_attach(struct vm *vm, struct pci_bus *bus, struct virtio_dev *vdev);

#endif
