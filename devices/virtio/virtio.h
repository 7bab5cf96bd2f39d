/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kite's virtio devices: modern (1.x, non-transitional) virtio-pci functions
 * with split virtqueues, EVENT_IDX and indirect descriptors. Each device
 * takes the next PCI slot, gets one MSI-X vector per queue plus one for
 * configuration changes, and does all its I/O on vm->devloop.
 *
 * Call after pci_bus_create() and before pci_bus_finalize() and vm_start().
 * Each returns 0, or a negative errno after logging one line naming the
 * problem. On success the VM owns the device (vm_destroy frees it); on
 * failure nothing is left to clean up by the caller.
 */
#ifndef KITE_DEVICES_VIRTIO_H
#define KITE_DEVICES_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_bus;

struct virtio_blk_opts {
	bool readonly; /* opened O_RDONLY, VIRTIO_BLK_F_RO */
	bool direct;   /* cache=none: O_DIRECT, bypassing the host page cache */
};
/*
 * Raw image (regular file or block device), opened O_RDWR, or O_RDONLY with
 * readonly. Its I/O is asynchronous: io_uring, or worker threads where the
 * kernel refuses io_uring.
 */
int virtio_blk_create(struct vm *vm, struct pci_bus *bus, const char *path,
		      const struct virtio_blk_opts *o);
/* The same on an image already opened (fd=NAME), which it owns from now on; @label names it. */
int virtio_blk_create_fd(struct vm *vm, struct pci_bus *bus, int fd, const char *label,
			 const struct virtio_blk_opts *o);
/*
 * Attaches to the existing or new tap @tap_name. @mac: 6 bytes, or NULL for
 * a stable locally administered address derived from the tap name.
 */
int virtio_net_create(struct vm *vm, struct pci_bus *bus, const char *tap_name, const uint8_t *mac);
/*
 * The same on a tap fd opened by someone else (fd=NAME, IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR), which it owns from now on; @label names it in messages.
 */
int virtio_net_create_fd(struct vm *vm, struct pci_bus *bus, int fd, const char *label,
			 const uint8_t *mac);
/*
 * hvc0: guest output is written to @out_fd, input read from @in_fd (-1: no
 * input). The fds stay the caller's (not closed). Input is read only when
 * the guest has buffers, so @in_fd must not be watched by anything else.
 */
int virtio_console_create(struct vm *vm, struct pci_bus *bus, int in_fd, int out_fd);
/* Entropy from getrandom(2). */
int virtio_rng_create(struct vm *vm, struct pci_bus *bus);

#endif
