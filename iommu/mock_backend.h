/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test-only host backend (build/kite-test, KITE_TEST_HOOKS): backs one guest PCI device behind
 * the emulated VT-d unit with a CONFIG_IOMMUFD_TEST mock device, so the guest's invalidation
 * queue reaches a real kernel's IOMMU_HWPT_INVALIDATE. Enabled by the environment variable
 * KITE_TEST_VTD_MOCK=virtio-rng (with --iommu vtd --rng); build/kite has none of this.
 *
 * Host side, in order: open /dev/iommu, allocate an IOAS, create a mock device on it
 * (IOMMU_TEST_OP_MOCK_DOMAIN), map every byte of guest RAM that lies inside the IOAS's usable
 * IOVA ranges at IOVA == GPA (the mock's aperture is [16 MiB, 2 GiB), so the first 16 MiB and
 * anything above 2 GiB stay unmapped), allocate a NEST_PARENT paging HWPT on the IOAS and a
 * nested selftest HWPT on it (all four mock IOTLB slots = IOMMU_TEST_IOTLB_DEFAULT), move the
 * mock device onto the nested HWPT, and register it with vtd_add_host_dev() as the host side
 * of the guest's virtio-rng (its source id is in the DMAR scopes).
 *
 * Descriptor -> mock entry (struct iommu_hwpt_invalidate_selftest), see mock_backend_encode():
 * the mock has four IOTLB slots and no addresses, so the slots stand for guest domain ids:
 *   global invalidation                -> { FLAG_ALL, iotlb_id 0 }      clears all four slots
 *   domain or range invalidation, DID d -> { 0, iotlb_id d }            clears slot d
 *   PASID-based with a PASID other than 0 -> skipped (the mock device has only RID_PASID)
 * DIDs 4 and up pass through unchanged, and the kernel refuses them (EINVAL at that entry):
 * that is the "host rejects entry j" path, decided by the kernel, not by kite.
 *
 * Every IOMMU_HWPT_INVALIDATE the unit sends through this backend is logged at info level,
 * with the mock's IOTLB slots read back afterwards (IOMMU_TEST_OP_MD_CHECK_IOTLB):
 *   kite: vtd-mock: call=K hwpt=H entries=N handled=M ret=R iotlb=V0,V1,V2,V3
 * where Vi is 0, badbeef (untouched) or ? (neither).
 */
#ifndef KITE_IOMMU_MOCK_BACKEND_H
#define KITE_IOMMU_MOCK_BACKEND_H

#ifdef KITE_TEST_HOOKS

#include <stdint.h>

#include "iommu/uapi.h"
#include "iommu/viommu.h"
#include "vmm/guest_mem.h"

struct vm;
struct pci_bus;

#define MOCK_BACKEND_ENV "KITE_TEST_VTD_MOCK"

/*
 * Reads KITE_TEST_VTD_MOCK and, if set, builds the mock and registers it for the named device
 * (only "virtio-rng"). Call after the PCI devices are added and before the unit is finalized.
 * 0 (unset, or set up), or a kite exit code after logging why.
 */
int mock_backend_setup(struct vm *vm, struct pci_bus *bus);

/* The encode callback of the host target (pure; exposed for unit tests). */
int mock_backend_encode(void *opaque, const struct viommu_inval *inv, void *entry);

/*
 * The parts of @ram inside the @nr usable IOVA ranges @r, each clipped to @align (a power of
 * two; 0 means 4 KiB), as regions of @out (at most GUEST_MEM_MAX_REGIONS). Returns the number
 * of regions, or -E2BIG when they do not fit. Pure; exposed for unit tests.
 */
int mock_backend_clip_ram(const struct guest_mem *ram, const struct iommu_iova_range *r,
			  uint32_t nr, uint64_t align, struct guest_mem *out);

#endif
#endif
