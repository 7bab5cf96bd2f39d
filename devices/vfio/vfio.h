/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO PCI passthrough over the iommufd cdev API: a host PCI device bound to vfio-pci becomes
 * a PCI device of the guest (docs/vfio.md).
 *
 * vfio_build() is the builder's one entry: it opens (or adopts, --iommufd fd=) the iommufd,
 * allocates an IOAS mapping all guest RAM at IOVA == GPA, then, per --vfio, opens the cdev
 * (bdf= through sysfs, path=, fd=), binds it, attaches it to the IOAS, resets it and puts it
 * on the PCI bus. Everything is owned by the VM: vm_destroy resets each device, unmaps and
 * detaches it and closes the fds, on every exit path.
 *
 * Every host access goes through struct vfio_env, so unit tests stand in for the kernel: the
 * VFIO and iommufd ioctls through the host_iommu ioctl hook, config/BAR reads and writes
 * through pread/pwrite, BAR mappings through mmap, sysfs and /dev paths under given roots.
 */
#ifndef KITE_DEVICES_VFIO_H
#define KITE_DEVICES_VFIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iommu/iommufd.h"

struct vm;
struct pci_bus;
struct pci_device;
struct vfio_dev;

struct vfio_env {
	host_iommu_ioctl_fn *ioctl; /* NULL: ioctl(2) */
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, uint64_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, uint64_t off);
	/* MAP_SHARED read/write of @len bytes at @off; NULL on failure (errno set). */
	void *(*mmap)(void *ctx, int fd, size_t len, uint64_t off);
	void (*munmap)(void *ctx, void *p, size_t len);
	/* open(2) of a cdev or /dev/iommu, O_RDWR | O_CLOEXEC; -errno. */
	int (*open)(void *ctx, const char *path);
	void *ctx;
	const char *sysfs_pci; /* NULL: /sys/bus/pci/devices */
	const char *dev_vfio;  /* NULL: /dev/vfio/devices */
	const char *dev_iommu; /* NULL: /dev/iommu */
};

/* The real kernel. */
extern const struct vfio_env vfio_env_host;

/*
 * Builds every --vfio device of vm->cfg on @bus (nothing when there is none).
 * 0 or KITE_EXIT_DEVICE after one error line naming the device and what to do.
 */
int vfio_build(struct vm *vm, struct pci_bus *bus);
int vfio_build_env(struct vm *vm, struct pci_bus *bus, const struct vfio_env *env);

/*
 * Resolves a --vfio bdf= to its cdev path (@out, @len bytes) through sysfs: the device must
 * exist and be bound to vfio-pci with a vfio-dev/vfioN entry. 0 or -errno after one error
 * line (for a wrong driver, the commands that rebind the device follow on the same message).
 */
int vfio_cdev_path(const struct vfio_env *env, const char *bdf, char *out, size_t len);

/*
 * One passthrough device on an open cdev @fd (owned from here on, closed on failure): bind
 * to @h, attach to @ioas_id, read device/region/IRQ info, reset, build the guest view, add
 * it to @bus. NULL on failure (logged), with nothing left bound or attached.
 */
struct vfio_dev *vfio_dev_create(struct vm *vm, struct pci_bus *bus, const struct vfio_env *env,
				 struct host_iommu *h, uint32_t ioas_id, int fd, const char *label);
/* Turns interrupts off, resets the device, removes its slots and mappings, detaches, closes. */
void vfio_dev_destroy(struct vfio_dev *d);

/* For tests. */
struct pci_device *vfio_dev_pci(struct vfio_dev *d);
struct msix *vfio_dev_msix(struct vfio_dev *d);
struct msi *vfio_dev_msi(struct vfio_dev *d);
/* Host-side MSI-X vectors enabled through VFIO_DEVICE_SET_IRQS (0: off). */
unsigned int vfio_dev_host_vectors(struct vfio_dev *d);

#endif
