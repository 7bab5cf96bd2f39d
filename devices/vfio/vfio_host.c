// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host side of VFIO passthrough: finding a device's cdev, the iommufd and its guest-RAM IOAS,
 * and the builder entry that turns each --vfio into a guest device. Each failure is one
 * error line naming the device and what to do; the VM's cleanup list undoes what was done.
 */
#include "devices/vfio/vfio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "vmm/config.h"
#include "vmm/config_fd.h"
#include "vmm/dma.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/vm.h"

static ssize_t sys_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off);
}

static ssize_t sys_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
	return pwrite(fd, buf, n, (off_t)off);
}

static void *sys_mmap(void *ctx, int fd, size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

static void sys_munmap(void *ctx, void *p, size_t len)
{
	munmap(p, len);
}

static int sys_open(void *ctx, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

const struct vfio_env vfio_env_host = {
	.pread = sys_pread,
	.pwrite = sys_pwrite,
	.mmap = sys_mmap,
	.munmap = sys_munmap,
	.open = sys_open,
};

#define SYSFS_PCI "/sys/bus/pci/devices"
#define DEV_VFIO "/dev/vfio/devices"
#define DEV_IOMMU "/dev/iommu"

static const char *or_default(const char *s, const char *def)
{
	return s ? s : def;
}

int vfio_cdev_path(const struct vfio_env *env, const char *bdf, char *out, size_t len)
{
	const char *sys = or_default(env->sysfs_pci, SYSFS_PCI);
	char dir[PATH_MAX], link[PATH_MAX + 16], target[PATH_MAX];
	const char *drv = NULL, *cdev = NULL;
	struct dirent *e;
	struct stat st;
	DIR *dd;
	ssize_t n;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", sys, bdf) >= sizeof(dir) ||
	    stat(dir, &st)) {
		log_error("vfio %s: no such PCI device (ls %s lists the host's)", bdf, sys);
		return -ENODEV;
	}
	snprintf(link, sizeof(link), "%s/driver", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		drv = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	}
	if (!drv || strcmp(drv, "vfio-pci")) {
		char unbind[PATH_MAX + 64] = "";

		if (drv)
			snprintf(unbind, sizeof(unbind), "\n  echo %s > %s/%s/driver/unbind", bdf,
				 sys, bdf);
		log_error("vfio %s: %s%s%s, not vfio-pci; as root, rebind it with:%s\n"
			  "  echo vfio-pci > %s/%s/driver_override && echo %s > "
			  "/sys/bus/pci/drivers_probe",
			  bdf, drv ? "bound to driver " : "not bound to any driver", drv ? drv : "",
			  "", unbind, sys, bdf, bdf);
		return -EBUSY;
	}
	snprintf(link, sizeof(link), "%s/vfio-dev", dir);
	dd = opendir(link);
	while (dd && (e = readdir(dd)))
		if (!strncmp(e->d_name, "vfio", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9') {
			snprintf(target, sizeof(target), "%s", e->d_name);
			cdev = target;
			break;
		}
	if (dd)
		closedir(dd);
	if (!cdev) {
		log_error("vfio %s: bound to vfio-pci but has no VFIO cdev (%s/vfio-dev): the "
			  "kernel lacks CONFIG_VFIO_DEVICE_CDEV",
			  bdf, dir);
		return -ENOENT;
	}
	if ((size_t)snprintf(out, len, "%s/%s", or_default(env->dev_vfio, DEV_VFIO), cdev) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_cdev(const struct vfio_env *env, const char *label, const char *path)
{
	int fd = env->open(env->ctx, path);

	if (fd == -ENOENT)
		log_error("%s: %s does not exist: no VFIO cdev (kernel without "
			  "CONFIG_VFIO_DEVICE_CDEV, or no devtmpfs/udev node)",
			  label, path);
	else if (fd == -EACCES || fd == -EPERM)
		log_error("%s: %s: permission denied (run as root, or pass an open fd with "
			  "--vfio fd=)",
			  label, path);
	else if (fd < 0)
		log_error("%s: cannot open %s: %s", label, path, strerror(-fd));
	return fd;
}

/* The iommufd and its IOAS, owned by the VM; destroyed after every device (LIFO cleanups). */
struct vfio_host {
	struct host_iommu h;
	uint32_t ioas_id;
	bool mapped;
	const struct guest_mem *mem;
};

static void vfio_host_free(void *arg)
{
	struct vfio_host *vh = arg;

	if (vh->mapped)
		host_iommu_unmap_guest_mem(&vh->h, vh->ioas_id, vh->mem);
	if (vh->ioas_id)
		host_iommu_destroy(&vh->h, vh->ioas_id);
	host_iommu_close(&vh->h);
	free(vh);
}

static void vfio_dev_free(void *arg)
{
	vfio_dev_destroy(arg);
}

/*
 * A device behind a translating vIOMMU (--iommu vtd,mode=shadow): its own IOAS, whose
 * contents the provider manages (dma_provider.attach_host). Torn down device first, IOAS last.
 */
struct vfio_behind {
	struct vfio_dev *d;
	struct host_iommu *h;
	uint32_t ioas_id;
	struct dma_provider *p;
	uint16_t sid;
	bool managed;
};

static void vfio_behind_free(void *arg)
{
	struct vfio_behind *b = arg;

	if (b->managed)
		b->p->detach_host(b->p, b->sid);
	vfio_dev_destroy(b->d);
	if (b->ioas_id)
		host_iommu_destroy(b->h, b->ioas_id);
	free(b);
}

static int build_behind(struct vm *vm, struct pci_bus *bus, const struct vfio_env *env,
			struct vfio_host *vh, int fd, const char *label)
{
	struct dma_provider *p = vm->dma_provider;
	struct vfio_behind *b = calloc(1, sizeof(*b));
	int ret;

	if (!b) {
		close(fd);
		return KITE_EXIT_INTERNAL;
	}
	b->h = &vh->h;
	b->p = p;
	if (vm_own(vm, vfio_behind_free, b)) {
		close(fd);
		free(b);
		return KITE_EXIT_INTERNAL;
	}
	/* Empty until the provider fills it: the device is quiet (no bus master) until then. */
	if (host_iommu_ioas_alloc(&vh->h, &b->ioas_id)) {
		close(fd);
		return KITE_EXIT_DEVICE;
	}
	b->d = vfio_dev_create(vm, bus, env, &vh->h, b->ioas_id, fd, label);
	if (!b->d)
		return KITE_EXIT_DEVICE;
	b->sid = (uint16_t)(vfio_dev_pci(b->d)->slot << 3);
	ret = p->attach_host(p, b->sid, &vh->h, b->ioas_id);
	if (ret)
		return KITE_EXIT_DEVICE;
	b->managed = true;
	log_info("%s: behind the vIOMMU (source id 0x%04x), its own IOAS %u", label, b->sid,
		 b->ioas_id);
	return 0;
}

static int open_iommufd(struct vm *vm, const struct vfio_env *env, struct vfio_host *vh)
{
	const char *path = or_default(env->dev_iommu, DEV_IOMMU);
	int fd;

	if (vm->cfg->iommufd_fd) {
		fd = config_fd_open(vm->cfg, vm->cfg->iommufd_fd, "iommufd");
		if (fd < 0)
			return fd;
	} else {
		fd = env->open(env->ctx, path);
		if (fd == -ENOENT) {
			log_error("vfio: %s does not exist: the kernel lacks CONFIG_IOMMUFD (or "
				  "modprobe iommufd)",
				  path);
			return fd;
		}
		if (fd < 0) {
			log_error("vfio: cannot open %s: %s%s", path, strerror(-fd),
				  fd == -EACCES ? " (run as root or pass --iommufd fd=)" : "");
			return fd;
		}
	}
	host_iommu_init_fd(&vh->h, fd, true);
	if (env->ioctl)
		host_iommu_set_ioctl(&vh->h, env->ioctl, env->ctx);
	return 0;
}

int vfio_build_env(struct vm *vm, struct pci_bus *bus, const struct vfio_env *env)
{
	const struct vm_config *cfg = vm->cfg;
	struct vfio_host *vh;
	char label[300], path[PATH_MAX];
	int ret;

	if (!cfg->nvfio)
		return 0;
	vh = calloc(1, sizeof(*vh));
	if (!vh)
		return KITE_EXIT_INTERNAL;
	vh->h.fd = -1;
	vh->mem = &vm->mem;
	if (open_iommufd(vm, env, vh)) {
		free(vh);
		return KITE_EXIT_DEVICE;
	}
	if (vm_own(vm, vfio_host_free, vh)) {
		vfio_host_free(vh);
		return KITE_EXIT_INTERNAL;
	}
	if (vm->dma_provider && !vm->dma_provider->attach_host) {
		log_error("vfio: the vIOMMU in front of the PCI bus cannot manage a host IOAS");
		return KITE_EXIT_DEVICE;
	}
	if (vm->dma_provider)
		goto devices;
	/* All guest RAM, pinned, before any device can DMA: IOVA == GPA. */
	if (host_iommu_ioas_alloc(&vh->h, &vh->ioas_id))
		return KITE_EXIT_DEVICE;
	ret = host_iommu_map_guest_mem(&vh->h, vh->ioas_id, &vm->mem);
	if (ret) {
		log_error("vfio: cannot map guest RAM for DMA: %s%s", strerror(-ret),
			  ret == -ENOMEM ? " (RLIMIT_MEMLOCK too low? ulimit -l)" : "");
		return KITE_EXIT_DEVICE;
	}
	vh->mapped = true;
devices:
	for (unsigned int i = 0; i < cfg->nvfio; i++) {
		const struct vfio_config *v = &cfg->vfio[i];
		struct vfio_dev *d;
		int fd;

		vfio_config_label(v, label, sizeof(label));
		if (v->fd_name) {
			fd = config_fd_open(cfg, v->fd_name, "vfio");
		} else if (v->bdf) {
			fd = vfio_cdev_path(env, v->bdf, path, sizeof(path));
			if (!fd)
				fd = open_cdev(env, label, path);
		} else {
			fd = open_cdev(env, label, v->path);
		}
		if (fd < 0)
			return KITE_EXIT_DEVICE;
		if (vm->dma_provider) {
			ret = build_behind(vm, bus, env, vh, fd, label);
			if (ret)
				return ret;
			continue;
		}
		d = vfio_dev_create(vm, bus, env, &vh->h, vh->ioas_id, fd, label);
		if (!d)
			return KITE_EXIT_DEVICE;
		if (vm_own(vm, vfio_dev_free, d)) {
			vfio_dev_destroy(d);
			return KITE_EXIT_INTERNAL;
		}
	}
	return 0;
}

int vfio_build(struct vm *vm, struct pci_bus *bus)
{
	return vfio_build_env(vm, bus, &vfio_env_host);
}
