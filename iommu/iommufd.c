// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd host backend. See iommu/iommufd.h for the API and docs/iommufd.md for the kernel
 * behaviour it relies on. The vIOMMU objects (v6.13+) live in iommu/iommufd_viommu.c.
 */
#include "iommu/iommufd.h"
#include "iommu/iommufd_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define HOST_IOMMU_DEFAULT_PATH "/dev/iommu"

static int host_iommu_sys_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	int ret = ioctl(fd, request, arg);

	return ret < 0 ? -errno : ret;
}

int host_iommu_ioctl(struct host_iommu *h, unsigned long request, void *arg)
{
	return h->ioctl(h->ioctl_ctx, h->fd, request, arg);
}

static int hio(struct host_iommu *h, unsigned long request, void *arg)
{
	return host_iommu_ioctl(h, request, arg);
}

static void host_iommu_defaults(struct host_iommu *h)
{
	long ps = sysconf(_SC_PAGESIZE);

	h->ioctl = host_iommu_sys_ioctl;
	h->ioctl_ctx = NULL;
	h->inval_entry_max = IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX;
	h->page_size = ps > 0 ? (uint32_t)ps : 4096;
	h->viommu = HOST_IOMMU_FEATURE_UNKNOWN;
	h->veventq = HOST_IOMMU_FEATURE_UNKNOWN;
	h->hw_queue = HOST_IOMMU_FEATURE_UNKNOWN;
}

int host_iommu_open(struct host_iommu *h, const char *path)
{
	if (!path)
		path = HOST_IOMMU_DEFAULT_PATH;
	memset(h, 0, sizeof(*h));
	host_iommu_defaults(h);
	h->fd = open(path, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		int err = -errno;

		log_error("iommufd: cannot open %s: %s", path, strerror(-err));
		return err;
	}
	h->owns_fd = true;
	return 0;
}

void host_iommu_init_fd(struct host_iommu *h, int fd, bool owned)
{
	memset(h, 0, sizeof(*h));
	host_iommu_defaults(h);
	h->fd = fd;
	h->owns_fd = owned;
}

void host_iommu_set_ioctl(struct host_iommu *h, host_iommu_ioctl_fn *fn, void *ctx)
{
	h->ioctl = fn ? fn : host_iommu_sys_ioctl;
	h->ioctl_ctx = fn ? ctx : NULL;
}

void host_iommu_close(struct host_iommu *h)
{
	/* Closing the iommufd destroys every object on it, leaf objects first. */
	if (h->owns_fd && h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->owns_fd = false;
}

int host_iommu_destroy(struct host_iommu *h, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };
	int ret = hio(h, IOMMU_DESTROY, &cmd);

	if (ret < 0)
		log_error("iommufd: destroy object %u: %s", id, strerror(-ret));
	return ret < 0 ? ret : 0;
}

int host_iommu_ioas_alloc(struct host_iommu *h, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret = hio(h, IOMMU_IOAS_ALLOC, &cmd);

	if (ret < 0) {
		log_error("iommufd: IOAS alloc: %s", strerror(-ret));
		return ret;
	}
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

int host_iommu_ioas_iova_ranges(struct host_iommu *h, uint32_t ioas_id,
				struct iommu_iova_range *ranges, uint32_t max, uint32_t *n,
				uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = max,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int ret = hio(h, IOMMU_IOAS_IOVA_RANGES, &cmd);

	/* EMSGSIZE still reports the count, so callers can grow the array and ask again. */
	if (ret < 0 && ret != -EMSGSIZE) {
		log_error("iommufd: IOVA ranges of IOAS %u: %s", ioas_id, strerror(-ret));
		return ret;
	}
	*n = cmd.num_iovas;
	if (alignment)
		*alignment = cmd.out_iova_alignment;
	return ret < 0 ? ret : 0;
}

int host_iommu_ioas_map(struct host_iommu *h, uint32_t ioas_id, const void *va, uint64_t len,
			uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *iova : 0,
	};
	int ret = hio(h, IOMMU_IOAS_MAP, &cmd);

	if (ret < 0) {
		log_error("iommufd: map va %p len %#llx at iova %#llx%s into IOAS %u: %s", va,
			  (unsigned long long)len, (unsigned long long)cmd.iova,
			  (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? "" : " (any)", ioas_id,
			  strerror(-ret));
		return ret;
	}
	*iova = cmd.iova;
	return 0;
}

int host_iommu_ioas_unmap(struct host_iommu *h, uint32_t ioas_id, uint64_t iova, uint64_t len,
			  uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};
	int ret = hio(h, IOMMU_IOAS_UNMAP, &cmd);

	if (ret < 0) {
		log_error("iommufd: unmap iova %#llx len %#llx from IOAS %u: %s",
			  (unsigned long long)iova, (unsigned long long)len, ioas_id,
			  strerror(-ret));
		return ret;
	}
	if (unmapped)
		*unmapped = cmd.length;
	return 0;
}

/*
 * Reads all usable ranges, growing the buffer when the kernel says EMSGSIZE (a device attach in
 * between can change the count, hence the loop). *@out is malloc'd; the caller frees it.
 */
static int iova_ranges_all(struct host_iommu *h, uint32_t ioas_id, struct iommu_iova_range **out,
			   uint32_t *n, uint64_t *alignment)
{
	uint32_t max = 8;

	for (int tries = 0; tries < 4; tries++) {
		struct iommu_iova_range *r = calloc(max, sizeof(*r));
		uint32_t have = 0;
		int ret;

		if (!r) {
			log_error("iommufd: no memory for %u IOVA ranges", max);
			return -ENOMEM;
		}
		ret = host_iommu_ioas_iova_ranges(h, ioas_id, r, max, &have, alignment);
		if (ret == 0) {
			*out = r;
			*n = have;
			return 0;
		}
		free(r);
		if (ret != -EMSGSIZE)
			return ret;
		max = have > max ? have : max * 2;
	}
	log_error("iommufd: IOVA ranges of IOAS %u keep changing", ioas_id);
	return -EAGAIN;
}

static bool range_fits(const struct iommu_iova_range *r, uint32_t n, uint64_t start, uint64_t last)
{
	for (uint32_t i = 0; i < n; i++)
		if (start >= r[i].start && last <= r[i].last)
			return true;
	return false;
}

static int check_guest_mem(struct host_iommu *h, uint32_t ioas_id, const struct guest_mem *mem)
{
	struct iommu_iova_range *r = NULL;
	uint64_t align = 0;
	uint32_t n = 0;
	int ret;

	if (mem->nregions > GUEST_MEM_MAX_REGIONS) {
		log_error("iommufd: guest_mem claims %u regions (max %u)", mem->nregions,
			  GUEST_MEM_MAX_REGIONS);
		return -EINVAL;
	}
	ret = iova_ranges_all(h, ioas_id, &r, &n, &align);
	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *g = &mem->regions[i];
		uint64_t last = g->gpa + g->size - 1;

		if (!g->size || last < g->gpa) {
			log_error("iommufd: guest RAM region %u (gpa %#llx size %#llx) is empty or "
				  "wraps",
				  i, (unsigned long long)g->gpa, (unsigned long long)g->size);
			ret = -EINVAL;
			goto out;
		}
		if (!range_fits(r, n, g->gpa, last)) {
			log_error(
				"iommufd: guest RAM [%#llx, %#llx] (region %u) is outside the host "
				"IOMMU's usable IOVA ranges of IOAS %u (%u ranges, first [%#llx, "
				"%#llx]); cannot map it at IOVA == GPA",
				(unsigned long long)g->gpa, (unsigned long long)last, i, ioas_id, n,
				n ? (unsigned long long)r[0].start : 0ull,
				n ? (unsigned long long)r[0].last : 0ull);
			ret = -ERANGE;
			goto out;
		}
		if (align > 1 && ((g->gpa | g->size | (uintptr_t)g->hva) & (align - 1))) {
			log_error("iommufd: guest RAM region %u (gpa %#llx size %#llx) is not "
				  "aligned to the IOAS's %#llx-byte IOVA alignment",
				  i, (unsigned long long)g->gpa, (unsigned long long)g->size,
				  (unsigned long long)align);
			ret = -EINVAL;
			goto out;
		}
	}
out:
	free(r);
	return ret;
}

int host_iommu_map_guest_mem(struct host_iommu *h, uint32_t ioas_id, const struct guest_mem *mem)
{
	const uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			       IOMMU_IOAS_MAP_WRITEABLE;
	unsigned int i;
	int ret;

	ret = check_guest_mem(h, ioas_id, mem);
	if (ret < 0)
		return ret;
	for (i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *g = &mem->regions[i];
		uint64_t iova = g->gpa;

		ret = host_iommu_ioas_map(h, ioas_id, g->hva, g->size, &iova, flags);
		if (ret < 0)
			goto unwind;
	}
	return 0;

unwind:
	/* A half-mapped guest would let a device DMA into some RAM but fault on the rest. */
	while (i-- > 0)
		host_iommu_ioas_unmap(h, ioas_id, mem->regions[i].gpa, mem->regions[i].size, NULL);
	return ret;
}

int host_iommu_unmap_guest_mem(struct host_iommu *h, uint32_t ioas_id, const struct guest_mem *mem)
{
	int first = 0;

	/* Keep going past a failure so one bad region does not leave the rest pinned. */
	for (unsigned int i = 0; i < mem->nregions; i++) {
		int ret = host_iommu_ioas_unmap(h, ioas_id, mem->regions[i].gpa,
						mem->regions[i].size, NULL);

		if (ret < 0 && !first)
			first = ret;
	}
	return first;
}

static int hwpt_alloc(struct host_iommu *h, struct iommu_hwpt_alloc *cmd, const char *what,
		      uint32_t *hwpt_id)
{
	int ret = hio(h, IOMMU_HWPT_ALLOC, cmd);

	if (ret < 0) {
		log_error("iommufd: %s HWPT alloc (dev %u on %u, flags %#x, data type %#x len %u): "
			  "%s",
			  what, cmd->dev_id, cmd->pt_id, cmd->flags, cmd->data_type, cmd->data_len,
			  strerror(-ret));
		return ret;
	}
	*hwpt_id = cmd->out_hwpt_id;
	return 0;
}

int host_iommu_hwpt_alloc_paging(struct host_iommu *h, uint32_t dev_id, uint32_t ioas_id,
				 uint32_t flags, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = ioas_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};

	return hwpt_alloc(h, &cmd, "paging", hwpt_id);
}

int host_iommu_hwpt_alloc_nested(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 uint32_t data_type, const void *data, uint32_t data_len,
				 uint32_t fault_id, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0,
		.dev_id = dev_id,
		.pt_id = parent_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};

	return hwpt_alloc(h, &cmd, "nested", hwpt_id);
}

int host_iommu_hwpt_alloc_vtd_s1(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 const struct iommu_hwpt_vtd_s1 *s1, uint32_t *hwpt_id)
{
	return host_iommu_hwpt_alloc_nested(h, dev_id, parent_id, IOMMU_HWPT_DATA_VTD_S1, s1,
					    sizeof(*s1), 0, hwpt_id);
}

int host_iommu_hwpt_alloc_smmuv3(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				 const struct iommu_hwpt_arm_smmuv3 *ste, uint32_t *hwpt_id)
{
	return host_iommu_hwpt_alloc_nested(h, dev_id, parent_id, IOMMU_HWPT_DATA_ARM_SMMUV3, ste,
					    sizeof(*ste), 0, hwpt_id);
}

int host_iommu_hwpt_alloc_selftest(struct host_iommu *h, uint32_t dev_id, uint32_t parent_id,
				   uint32_t iotlb, uint32_t *hwpt_id)
{
	struct iommu_hwpt_selftest data = { .iotlb = iotlb };

	return host_iommu_hwpt_alloc_nested(h, dev_id, parent_id, IOMMU_HWPT_DATA_SELFTEST, &data,
					    sizeof(data), 0, hwpt_id);
}

int host_iommu_fault_alloc(struct host_iommu *h, uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int ret = hio(h, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (ret < 0) {
		log_error("iommufd: fault queue alloc: %s", strerror(-ret));
		return ret;
	}
	*fault_id = cmd.out_fault_id;
	*fault_fd = (int)cmd.out_fault_fd;
	return 0;
}

/* One IOMMU_HWPT_INVALIDATE; *done gets the kernel's handled count, kept within [0, n]. */
static int invalidate_once(struct host_iommu *h, uint32_t id, uint32_t data_type,
			   const void *entries, uint32_t n, uint32_t entry_len, uint32_t *done)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (uintptr_t)entries,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = n,
	};
	int ret = hio(h, IOMMU_HWPT_INVALIDATE, &cmd);

	if (ret >= 0) {
		if (cmd.entry_num != n) {
			/* The ABI says success means every entry was handled; don't guess. */
			log_error("iommufd: invalidate on %u succeeded but kernel handled %u of %u",
				  id, cmd.entry_num, n);
			*done = cmd.entry_num < n ? cmd.entry_num : 0;
			return -EIO;
		}
		*done = n;
		return 0;
	}
	/*
	 * A failing call names the entry that failed. A count of n (or more) can only mean the
	 * kernel never wrote it back; invalidations are idempotent, so claiming nothing was
	 * handled is the safe reading.
	 */
	*done = (n && cmd.entry_num < n) ? cmd.entry_num : 0;
	return ret;
}

int host_iommu_invalidate(struct host_iommu *h, uint32_t hwpt_or_viommu_id, uint32_t data_type,
			  const void *entries, uint32_t n, uint32_t entry_len, uint32_t *handled)
{
	const uint8_t *p = entries;
	uint32_t cap = h->inval_entry_max ? h->inval_entry_max : 1;
	uint32_t total = 0;
	int ret = 0;

	*handled = 0;
	if (n && (!entries || !entry_len || entry_len > h->page_size)) {
		/* The kernel refuses these too; catching them here keeps the pointer math sane. */
		log_error("iommufd: invalidate on %u: bad array (entries %p, %u x %u bytes)",
			  hwpt_or_viommu_id, entries, n, entry_len);
		return -EINVAL;
	}
	if (n <= cap)
		ret = invalidate_once(h, hwpt_or_viommu_id, data_type, entries, n, entry_len,
				      &total);
	while (n > cap && total < n) {
		uint32_t chunk = n - total < cap ? n - total : cap;
		uint32_t done = 0;

		ret = invalidate_once(h, hwpt_or_viommu_id, data_type,
				      p + (size_t)total * entry_len, chunk, entry_len, &done);
		total += done;
		if (ret < 0)
			break;
	}
	*handled = total;
	if (ret < 0)
		/* Guest-triggerable (a bad descriptor), and the caller reports it to the guest. */
		log_debug("iommufd: invalidate on %u (type %#x, %u x %u bytes) stopped at entry "
			  "%u: %s",
			  hwpt_or_viommu_id, data_type, n, entry_len, total, strerror(-ret));
	return ret;
}

int host_iommu_get_hw_info(struct host_iommu *h, uint32_t dev_id, struct host_iommu_hw_info *info)
{
	struct iommu_hw_info cmd;
	int ret;

	memset(info, 0, sizeof(*info));
	cmd = (struct iommu_hw_info){
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(info->raw),
		.data_uptr = (uintptr_t)info->raw,
	};
	ret = hio(h, IOMMU_GET_HW_INFO, &cmd);
	if (ret < 0) {
		log_error("iommufd: hw info of device %u: %s", dev_id, strerror(-ret));
		return ret;
	}
	info->type = cmd.out_data_type;
	info->data_len = cmd.data_len;
	info->capabilities = cmd.out_capabilities;
	info->max_pasid_log2 = cmd.out_max_pasid_log2;
	return 0;
}

/* VFIO cdev ioctls go to the device fd, not the iommufd, through the same hook. */
static int vfio_io(struct host_iommu *h, int dev_fd, unsigned long request, void *arg)
{
	return h->ioctl(h->ioctl_ctx, dev_fd, request, arg);
}

int host_iommu_vfio_bind(struct host_iommu *h, int dev_fd, uint32_t *dev_id)
{
	struct vfio_device_bind_iommufd cmd = { .argsz = sizeof(cmd), .iommufd = h->fd };
	int ret = vfio_io(h, dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &cmd);

	if (ret < 0) {
		log_error("iommufd: VFIO bind of device fd %d to iommufd %d: %s", dev_fd, h->fd,
			  strerror(-ret));
		return ret;
	}
	*dev_id = cmd.out_devid;
	return 0;
}

int host_iommu_vfio_attach(struct host_iommu *h, int dev_fd, uint32_t pt_id, uint32_t *attached)
{
	struct vfio_device_attach_iommufd_pt cmd = { .argsz = sizeof(cmd), .pt_id = pt_id };
	int ret = vfio_io(h, dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);

	if (ret < 0) {
		log_error("iommufd: VFIO attach of device fd %d to %u: %s", dev_fd, pt_id,
			  strerror(-ret));
		return ret;
	}
	if (attached)
		*attached = cmd.pt_id;
	return 0;
}

int host_iommu_vfio_detach(struct host_iommu *h, int dev_fd)
{
	struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };
	int ret = vfio_io(h, dev_fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);

	if (ret < 0) {
		log_error("iommufd: VFIO detach of device fd %d: %s", dev_fd, strerror(-ret));
		return ret;
	}
	return 0;
}
