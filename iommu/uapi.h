/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel ABI for iommufd, VFIO device cdev and the CONFIG_IOMMUFD_TEST mock, as of Linux 6.12.117
 * plus the newer objects kite probes for at run time (vIOMMU, vDEVICE, vEVENTQ, HW queue, SMMUv3
 * data). The newer objects and the 7.x mock values were checked against Linux 7.2.13's
 * include/uapi/linux/iommufd.h and drivers/iommu/iommufd/iommufd_test.h (Debian's
 * linux-source-7.2 7.2.13-1), by tests/uapi-verify compiled against those headers.
 *
 * Debian 12's linux-libc-dev (6.1) has no <linux/iommufd.h> and no VFIO cdev ioctls, so the
 * project keeps its own copy of the ABI here, written from the documented layout. Every struct
 * size and every field offset is pinned by a _Static_assert: a typo here would otherwise turn
 * into a silent EINVAL or E2BIG from the kernel. Names follow the kernel so the documentation
 * applies directly; never include the system <linux/iommufd.h> next to this file.
 */
#ifndef KITE_IOMMU_UAPI_H
#define KITE_IOMMU_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <stddef.h>

#ifdef _UAPI_IOMMUFD_H
#error "iommu/uapi.h and <linux/iommufd.h> define the same ABI; include only one"
#endif

#define KITE_UAPI_CHECK(type, field, off)                                                          \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field " offset")
#define KITE_UAPI_SIZE(type, sz) _Static_assert(sizeof(struct type) == (sz), #type " size")

/* ---- iommufd: ioctl numbers (all _IO(';', nr), the size lives in the struct) ---- */

#define IOMMUFD_TYPE (';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,	/* v6.13 */
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,	/* v6.13 */
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,	/* v6.13 */
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92, /* v6.13 */
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,	/* v6.15 */
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,	/* v6.17 */
};

#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

_Static_assert(IOMMU_DESTROY == 0x3b80, "IOMMU_DESTROY value");
_Static_assert(IOMMU_IOAS_MAP == 0x3b85, "IOMMU_IOAS_MAP value");
_Static_assert(IOMMU_HWPT_INVALIDATE == 0x3b8d, "IOMMU_HWPT_INVALIDATE value");
_Static_assert(IOMMU_VIOMMU_ALLOC == 0x3b90, "IOMMU_VIOMMU_ALLOC value");
_Static_assert(IOMMU_VDEVICE_ALLOC == 0x3b91, "IOMMU_VDEVICE_ALLOC value");
_Static_assert(IOMMU_VEVENTQ_ALLOC == 0x3b93, "IOMMU_VEVENTQ_ALLOC value");
_Static_assert(IOMMU_HW_QUEUE_ALLOC == 0x3b94, "IOMMU_HW_QUEUE_ALLOC value");

/* ---- objects and IOAS ---- */

struct iommu_destroy {
	__u32 size;
	__u32 id;
};
KITE_UAPI_SIZE(iommu_destroy, 8);
KITE_UAPI_CHECK(iommu_destroy, id, 4);

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
KITE_UAPI_SIZE(iommu_ioas_alloc, 12);
KITE_UAPI_CHECK(iommu_ioas_alloc, flags, 4);
KITE_UAPI_CHECK(iommu_ioas_alloc, out_ioas_id, 8);

/* An inclusive IOVA interval: [start, last]. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};
KITE_UAPI_SIZE(iommu_iova_range, 16);
KITE_UAPI_CHECK(iommu_iova_range, last, 8);

/*
 * The kernel always writes the number of ranges it has into num_iovas and fails with EMSGSIZE
 * when the caller's array was too small, so a caller can size its buffer and retry.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
KITE_UAPI_SIZE(iommu_ioas_iova_ranges, 32);
KITE_UAPI_CHECK(iommu_ioas_iova_ranges, ioas_id, 4);
KITE_UAPI_CHECK(iommu_ioas_iova_ranges, num_iovas, 8);
KITE_UAPI_CHECK(iommu_ioas_iova_ranges, __reserved, 12);
KITE_UAPI_CHECK(iommu_ioas_iova_ranges, allowed_iovas, 16);
KITE_UAPI_CHECK(iommu_ioas_iova_ranges, out_iova_alignment, 24);

struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};
KITE_UAPI_SIZE(iommu_ioas_allow_iovas, 24);
KITE_UAPI_CHECK(iommu_ioas_allow_iovas, allowed_iovas, 16);

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova; /* in with FIXED_IOVA, else chosen by the kernel */
};
KITE_UAPI_SIZE(iommu_ioas_map, 40);
KITE_UAPI_CHECK(iommu_ioas_map, flags, 4);
KITE_UAPI_CHECK(iommu_ioas_map, ioas_id, 8);
KITE_UAPI_CHECK(iommu_ioas_map, __reserved, 12);
KITE_UAPI_CHECK(iommu_ioas_map, user_va, 16);
KITE_UAPI_CHECK(iommu_ioas_map, length, 24);
KITE_UAPI_CHECK(iommu_ioas_map, iova, 32);

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length; /* in: range; out: bytes unmapped */
};
KITE_UAPI_SIZE(iommu_ioas_unmap, 24);
KITE_UAPI_CHECK(iommu_ioas_unmap, ioas_id, 4);
KITE_UAPI_CHECK(iommu_ioas_unmap, iova, 8);
KITE_UAPI_CHECK(iommu_ioas_unmap, length, 16);

/* ---- hardware page tables ---- */

enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3, /* v6.15 */
};

enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2, /* v6.13 */
};

struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id; /* IOAS -> paging; nest parent (or v6.13+ vIOMMU) -> nested */
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id; /* only with IOMMU_HWPT_FAULT_ID_VALID */
	__u32 __reserved2;
};
KITE_UAPI_SIZE(iommu_hwpt_alloc, 48);
KITE_UAPI_CHECK(iommu_hwpt_alloc, flags, 4);
KITE_UAPI_CHECK(iommu_hwpt_alloc, dev_id, 8);
KITE_UAPI_CHECK(iommu_hwpt_alloc, pt_id, 12);
KITE_UAPI_CHECK(iommu_hwpt_alloc, out_hwpt_id, 16);
KITE_UAPI_CHECK(iommu_hwpt_alloc, __reserved, 20);
KITE_UAPI_CHECK(iommu_hwpt_alloc, data_type, 24);
KITE_UAPI_CHECK(iommu_hwpt_alloc, data_len, 28);
KITE_UAPI_CHECK(iommu_hwpt_alloc, data_uptr, 32);
KITE_UAPI_CHECK(iommu_hwpt_alloc, fault_id, 40);
KITE_UAPI_CHECK(iommu_hwpt_alloc, __reserved2, 44);

enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/* VT-d first-stage table handed to the host; the kernel wants data_len == 24 exactly. */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr; /* guest-physical root of the guest's first-stage table */
	__u32 addr_width;
	__u32 __reserved;
};
KITE_UAPI_SIZE(iommu_hwpt_vtd_s1, 24);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1, pgtbl_addr, 8);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1, addr_width, 16);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1, __reserved, 20);

/* SMMUv3 guest STE words 0-1, little endian (v6.13). */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};
KITE_UAPI_SIZE(iommu_hwpt_arm_smmuv3, 16);

/* ---- cache invalidation ---- */

enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1, /* v6.13, sent to a vIOMMU id */
};

/*
 * Upper bound on entry_num that 6.12.96+ enforces (EINVAL above it); older kernels have no
 * bound, so honouring it everywhere costs nothing.
 */
#define IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX (1u << 19)

struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id; /* nested HWPT, or v6.13+ vIOMMU */
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num; /* in: entries; out: entries handled */
	__u32 __reserved;
};
KITE_UAPI_SIZE(iommu_hwpt_invalidate, 32);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, hwpt_id, 4);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, data_uptr, 8);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, data_type, 16);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, entry_len, 20);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, entry_num, 24);
KITE_UAPI_CHECK(iommu_hwpt_invalidate, __reserved, 28);

enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;   /* 4 KiB aligned */
	__aligned_u64 npages; /* addr 0 with npages U64_MAX means everything */
	__u32 flags;
	__u32 __reserved;
};
KITE_UAPI_SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1_invalidate, npages, 8);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1_invalidate, flags, 16);
KITE_UAPI_CHECK(iommu_hwpt_vtd_s1_invalidate, __reserved, 20);

/* One raw SMMUv3 CMDQ entry, little endian (v6.13). */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};
KITE_UAPI_SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);

/* ---- I/O page faults ---- */

struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
KITE_UAPI_SIZE(iommu_fault_alloc, 16);
KITE_UAPI_CHECK(iommu_fault_alloc, out_fault_id, 8);
KITE_UAPI_CHECK(iommu_fault_alloc, out_fault_fd, 12);

struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};
KITE_UAPI_SIZE(iommu_hwpt_pgfault, 40);
KITE_UAPI_CHECK(iommu_hwpt_pgfault, perm, 16);
KITE_UAPI_CHECK(iommu_hwpt_pgfault, addr, 24);
KITE_UAPI_CHECK(iommu_hwpt_pgfault, length, 32);
KITE_UAPI_CHECK(iommu_hwpt_pgfault, cookie, 36);

struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};
KITE_UAPI_SIZE(iommu_hwpt_page_response, 8);

/* ---- hardware information ---- */

enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2, /* v6.13 */
};

enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1, /* 6.12.31+ */
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2, /* 6.12.31+ */
};

struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len; /* in: buffer size; out: size of the kernel's payload */
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2; /* 6.12.31+; 0 = no PASID */
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
KITE_UAPI_SIZE(iommu_hw_info, 40);
KITE_UAPI_CHECK(iommu_hw_info, flags, 4);
KITE_UAPI_CHECK(iommu_hw_info, dev_id, 8);
KITE_UAPI_CHECK(iommu_hw_info, data_len, 12);
KITE_UAPI_CHECK(iommu_hw_info, data_uptr, 16);
KITE_UAPI_CHECK(iommu_hw_info, out_data_type, 24);
KITE_UAPI_CHECK(iommu_hw_info, out_max_pasid_log2, 28);
KITE_UAPI_CHECK(iommu_hw_info, __reserved, 29);
KITE_UAPI_CHECK(iommu_hw_info, out_capabilities, 32);

enum iommu_hw_info_vtd_flags {
	/* Read-only second-stage mappings are not allowed on this unit. */
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};
KITE_UAPI_SIZE(iommu_hw_info_vtd, 24);
KITE_UAPI_CHECK(iommu_hw_info_vtd, cap_reg, 8);
KITE_UAPI_CHECK(iommu_hw_info_vtd, ecap_reg, 16);

struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};
KITE_UAPI_SIZE(iommu_hw_info_arm_smmuv3, 40);
KITE_UAPI_CHECK(iommu_hw_info_arm_smmuv3, idr, 8);
KITE_UAPI_CHECK(iommu_hw_info_arm_smmuv3, iidr, 32);
KITE_UAPI_CHECK(iommu_hw_info_arm_smmuv3, aidr, 36);

/* ---- vIOMMU and vDEVICE (v6.13; absent on 6.12, where they fail with ENOTTY) ---- */

enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
};

/*
 * The v6.17 layout. 6.13-6.16 kernels know only the first 24 bytes; they accept the longer
 * struct as long as the tail (data_len, data_uptr) is zero.
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id; /* the nest-parent paging HWPT (stage 2) */
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};
KITE_UAPI_SIZE(iommu_viommu_alloc, 40);
KITE_UAPI_CHECK(iommu_viommu_alloc, type, 8);
KITE_UAPI_CHECK(iommu_viommu_alloc, dev_id, 12);
KITE_UAPI_CHECK(iommu_viommu_alloc, hwpt_id, 16);
KITE_UAPI_CHECK(iommu_viommu_alloc, out_viommu_id, 20);
KITE_UAPI_CHECK(iommu_viommu_alloc, data_len, 24);
KITE_UAPI_CHECK(iommu_viommu_alloc, data_uptr, 32);

struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id; /* vSID / vRID the guest uses for this device */
};
KITE_UAPI_SIZE(iommu_vdevice_alloc, 24);
KITE_UAPI_CHECK(iommu_vdevice_alloc, dev_id, 8);
KITE_UAPI_CHECK(iommu_vdevice_alloc, out_vdevice_id, 12);
KITE_UAPI_CHECK(iommu_vdevice_alloc, virt_id, 16);

/* ---- vEVENTQ (v6.15; ENOTTY before) ---- */

enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
};

struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth; /* events queued before the kernel starts dropping */
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
KITE_UAPI_SIZE(iommu_veventq_alloc, 32);
KITE_UAPI_CHECK(iommu_veventq_alloc, viommu_id, 8);
KITE_UAPI_CHECK(iommu_veventq_alloc, type, 12);
KITE_UAPI_CHECK(iommu_veventq_alloc, veventq_depth, 16);
KITE_UAPI_CHECK(iommu_veventq_alloc, out_veventq_id, 20);
KITE_UAPI_CHECK(iommu_veventq_alloc, out_veventq_fd, 24);
KITE_UAPI_CHECK(iommu_veventq_alloc, __reserved, 28);

/* A header-only record with this flag means the queue overflowed and events were dropped. */
#define IOMMU_VEVENTQ_FLAG_LOST_EVENTS (1u << 0)

/* Every record read() returns starts with this; sequence counts 0..INT_MAX, then wraps to 0. */
struct iommufd_vevent_header {
	__u32 flags;
	__u32 sequence;
};
KITE_UAPI_SIZE(iommufd_vevent_header, 8);
KITE_UAPI_CHECK(iommufd_vevent_header, sequence, 4);

#define IOMMU_VEVENT_SEQUENCE_MAX 0x7fffffffu

/* SMMUv3 event record, little endian; the StreamID field holds the vSID. */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};
KITE_UAPI_SIZE(iommu_vevent_arm_smmuv3, 32);

/* ---- HW queue (v6.17; ENOTTY before): a guest queue the host IOMMU reads directly ---- */

enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0, /* refused with EOPNOTSUPP: the presence probe */
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 index; /* per vIOMMU and type; drivers may require ascending order */
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova; /* guest-physical base, mapped in the parent's IOAS */
	__aligned_u64 length;
};
KITE_UAPI_SIZE(iommu_hw_queue_alloc, 40);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, viommu_id, 8);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, type, 12);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, index, 16);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, out_hw_queue_id, 20);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, nesting_parent_iova, 24);
KITE_UAPI_CHECK(iommu_hw_queue_alloc, length, 32);

/* ---- VFIO device cdev (/dev/vfio/devices/vfioN) ---- */

#ifndef VFIO_TYPE
#define VFIO_TYPE (';')
#endif
#ifndef VFIO_BASE
#define VFIO_BASE 100
#endif

#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
_Static_assert(VFIO_DEVICE_BIND_IOMMUFD == 0x3b76, "VFIO_DEVICE_BIND_IOMMUFD value");
_Static_assert(VFIO_DEVICE_DETACH_IOMMUFD_PT == 0x3b78, "VFIO_DEVICE_DETACH_IOMMUFD_PT value");

/*
 * 6.12 sizes. VFIO copies only its minimum size and ignores the rest, so these short forms also
 * work on kernels that grew the structs (VF token, PASID).
 */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
KITE_UAPI_SIZE(vfio_device_bind_iommufd, 16);
KITE_UAPI_CHECK(vfio_device_bind_iommufd, iommufd, 8);
KITE_UAPI_CHECK(vfio_device_bind_iommufd, out_devid, 12);

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id; /* in: IOAS or HWPT; out: the HWPT actually attached */
};
KITE_UAPI_SIZE(vfio_device_attach_iommufd_pt, 12);
KITE_UAPI_CHECK(vfio_device_attach_iommufd_pt, pt_id, 8);

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
KITE_UAPI_SIZE(vfio_device_detach_iommufd_pt, 8);

/*
 * ---- CONFIG_IOMMUFD_TEST mock (not exported uapi; 6.12 iommufd_test.h layout, with the ops and
 * union members 6.13-7.2 appended: the enum only grows, so 6.12's values stay valid) ----
 */

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)
_Static_assert(IOMMU_TEST_CMD == 0x3ba0, "IOMMU_TEST_CMD value");

enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	IOMMU_TEST_OP_ACCESS_RW = 8,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	IOMMU_TEST_OP_DIRTY = 13,
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16, /* v6.13 */
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,  /* v6.15 */
};

/* A mock paging domain maps only IOVAs inside this window. */
#define MOCK_APERTURE_START (1ull << 24)
#define MOCK_APERTURE_LAST ((1ull << 31) - 1)

enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
};

enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/* v6.13+: every mock device has 4 cache slots that vIOMMU invalidations clear. */
enum {
	MOCK_DEV_CACHE_ID_MAX = 3,
	MOCK_DEV_CACHE_NUM = 4,
};
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddadu

struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id; /* the iommufd device id ("dev_id") */
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;    /* slot 0..3 */
			__u32 iotlb; /* expected value */
		} check_iotlb;
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			__u64 addr;
		} trigger_iopf;
		struct {
			__u32 id;    /* slot 0..3; the device is the command's @id */
			__u32 cache; /* expected value */
		} check_dev_cache;   /* v6.13 */
		struct {
			__u32 dev_id; /* must be attached to a nested HWPT of its vIOMMU */
		} trigger_vevent;     /* v6.15 */
	};
	__u32 last;
};
KITE_UAPI_SIZE(iommu_test_cmd, 72);
KITE_UAPI_CHECK(iommu_test_cmd, op, 4);
KITE_UAPI_CHECK(iommu_test_cmd, id, 8);
KITE_UAPI_CHECK(iommu_test_cmd, __reserved, 12);
KITE_UAPI_CHECK(iommu_test_cmd, add_reserved.length, 24);
KITE_UAPI_CHECK(iommu_test_cmd, mock_domain.out_stdev_id, 16);
KITE_UAPI_CHECK(iommu_test_cmd, mock_domain.out_hwpt_id, 20);
KITE_UAPI_CHECK(iommu_test_cmd, mock_domain.out_idev_id, 24);
KITE_UAPI_CHECK(iommu_test_cmd, mock_domain_flags.dev_flags, 28);
KITE_UAPI_CHECK(iommu_test_cmd, mock_domain_replace.pt_id, 16);
KITE_UAPI_CHECK(iommu_test_cmd, check_map.uptr, 32);
KITE_UAPI_CHECK(iommu_test_cmd, check_refs.refs, 32);
KITE_UAPI_CHECK(iommu_test_cmd, access_pages.iova, 24);
KITE_UAPI_CHECK(iommu_test_cmd, access_pages.uptr, 40);
KITE_UAPI_CHECK(iommu_test_cmd, access_rw.flags, 40);
KITE_UAPI_CHECK(iommu_test_cmd, memory_limit.limit, 16);
KITE_UAPI_CHECK(iommu_test_cmd, dirty.iova, 24);
KITE_UAPI_CHECK(iommu_test_cmd, dirty.out_nr_dirty, 56);
KITE_UAPI_CHECK(iommu_test_cmd, check_iotlb.id, 16);
KITE_UAPI_CHECK(iommu_test_cmd, check_iotlb.iotlb, 20);
KITE_UAPI_CHECK(iommu_test_cmd, trigger_iopf.perm, 28);
KITE_UAPI_CHECK(iommu_test_cmd, trigger_iopf.addr, 32);
KITE_UAPI_CHECK(iommu_test_cmd, check_dev_cache.id, 16);
KITE_UAPI_CHECK(iommu_test_cmd, check_dev_cache.cache, 20);
KITE_UAPI_CHECK(iommu_test_cmd, trigger_vevent.dev_id, 16);
KITE_UAPI_CHECK(iommu_test_cmd, last, 64);

#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeefu
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeefu

struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};
KITE_UAPI_SIZE(iommu_test_hw_info, 8);
KITE_UAPI_CHECK(iommu_test_hw_info, test_reg, 4);

/*
 * Nested-HWPT data for the mock: every iotlb[] slot starts at @iotlb. 6.12 knows only @iotlb;
 * 7.x appends a pagetable_type (0 = default), and both accept this 4-byte version.
 */
#define IOMMU_HWPT_DATA_SELFTEST 0xdeadu
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeefu

struct iommu_hwpt_selftest {
	__u32 iotlb;
};
KITE_UAPI_SIZE(iommu_hwpt_selftest, 4);

#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeefu
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1u << 0)

/* entry_len must be exactly 8; iotlb_id must be <= 3 even with FLAG_ALL on 6.12. */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;
	__u32 iotlb_id;
};
KITE_UAPI_SIZE(iommu_hwpt_invalidate_selftest, 8);
KITE_UAPI_CHECK(iommu_hwpt_invalidate_selftest, iotlb_id, 4);

/* v6.13+ mock vIOMMU. */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeefu

/* Optional vIOMMU alloc data (v6.17): the kernel echoes @in_data into @out_data. */
struct iommu_viommu_selftest {
	__u32 in_data;
	__u32 out_data;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};
KITE_UAPI_SIZE(iommu_viommu_selftest, 24);
KITE_UAPI_CHECK(iommu_viommu_selftest, out_data, 4);
KITE_UAPI_CHECK(iommu_viommu_selftest, out_mmap_offset, 8);
KITE_UAPI_CHECK(iommu_viommu_selftest, out_mmap_length, 16);

/*
 * One vIOMMU invalidation: clears cache slot @cache_id (all four with FLAG_ALL) of the device
 * whose vDEVICE has virtual ID @vdev_id. Unknown @vdev_id or @cache_id > 3: EINVAL; unknown
 * flags: EOPNOTSUPP.
 */
struct iommu_viommu_invalidate_selftest {
	__u32 flags;
	__u32 vdev_id;
	__u32 cache_id;
};
KITE_UAPI_SIZE(iommu_viommu_invalidate_selftest, 12);
KITE_UAPI_CHECK(iommu_viommu_invalidate_selftest, vdev_id, 4);
KITE_UAPI_CHECK(iommu_viommu_invalidate_selftest, cache_id, 8);

/* v6.15+ mock vEVENTQ: IOMMU_TEST_OP_TRIGGER_VEVENT queues one of these (the vDEVICE's id). */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeefu

struct iommu_viommu_event_selftest {
	__u32 virt_id;
};
KITE_UAPI_SIZE(iommu_viommu_event_selftest, 4);

/* v6.17+ mock HW queue: indexes 0 and 1, index 1 needs index 0 (which it then pins). */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeefu
#define IOMMU_TEST_HW_QUEUE_MAX 2

#undef KITE_UAPI_CHECK
#undef KITE_UAPI_SIZE

#endif
