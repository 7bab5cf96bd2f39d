/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The emulated Intel VT-d unit (one per VM): register file at VTD_MMIO_BASE, queued
 * invalidation drained by its own thread (iommu/viommu_queue.c), legacy and scalable-mode
 * translation for emulated devices (struct dma_space), fault recording, and forwarding of
 * guest invalidations to host-backed devices (iommu/viommu.h). See docs/vtd.md.
 *
 * Life cycle (vmm/builder.c): vtd_create() before any PCI device; every PCI device gets its
 * struct dma_space from vm->dma_provider (vm_dma_space_init) when it is placed on the bus;
 * host-backed devices are added with vtd_add_host_dev(); vtd_finalize() after the bus is
 * final builds the DMAR table (one DRHD, one PCI-endpoint scope per source id) and starts the
 * drain thread. The VM owns the unit (vm_own), so vm_destroy stops and frees it.
 */
#ifndef KITE_IOMMU_VTD_VTD_H
#define KITE_IOMMU_VTD_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/viommu.h"

struct vm;
struct vtd;

#define VTD_MMIO_BASE 0xfed90000ULL
#define VTD_MMIO_SIZE 0x1000ULL

enum vtd_mode {
	VTD_MODE_AUTO = 0, /* nested where the host can, else shadow (emulated if no host dev) */
	VTD_MODE_EMULATED, /* kite walks the guest tables itself; CM=0 */
	VTD_MODE_SHADOW,   /* CM=1: guest mappings re-walked into the device's host IOAS */
	VTD_MODE_NESTED,   /* CM=1: guest first stage bound as an IOMMU_HWPT_DATA_VTD_S1 HWPT */
};

struct vtd_params {
	bool scalable;	 /* ECAP.SMTS (+FSTS, SSTS) */
	unsigned int aw; /* 39 or 48 */
	enum vtd_mode mode;
};

/* Creates the unit and registers its MMIO page on vm->mmio. NULL on failure (logged). */
struct vtd *vtd_create(struct vm *vm, const struct vtd_params *p);

/*
 * Registers a host-backed device (iommu/viommu.h) before the vCPUs start. @hd is copied;
 * hd->host must outlive the VM. Its source id joins the DMAR scopes. 0, -EINVAL (bad target:
 * entry_len 0 or > VIOMMU_MAX_ENTRY_LEN, NULL encode or host), -EEXIST (sid already host
 * backed), -ENOSPC.
 */
int vtd_add_host_dev(struct vtd *v, const struct viommu_host_dev *hd);

/* Builds and adds the DMAR table, starts the drain thread. 0 or -errno (logged). */
int vtd_finalize(struct vtd *v);

/* The VM's unit, or NULL without --iommu vtd. */
struct vtd *vtd_of_vm(struct vm *vm);

/* A copy of the counters (any thread). */
void vtd_get_counters(struct vtd *v, struct viommu_counters *c);

#endif
