/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * struct dma_space: how a device reaches guest memory. Devices never touch
 * guest_mem directly for DMA: today the space is an identity map of guest
 * RAM; behind a virtual IOMMU it translates (and may fault) per page.
 */
#ifndef KITE_VMM_DMA_H
#define KITE_VMM_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

struct dma_space;

struct dma_ops {
	/*
	 * Translates [iova, iova+len) for a read (device reads memory) or a
	 * write (device writes memory) into at most @max host segments. Returns
	 * the number of segments, or -EFAULT (unmapped/outside RAM), -EPERM
	 * (permission), -E2BIG (needs more than @max segments).
	 */
	int (*map)(struct dma_space *d, uint64_t iova, uint64_t len, bool write, struct iovec *iov,
		   int max);
};

struct dma_space {
	const struct dma_ops *ops;
	const struct guest_mem *mem;
	void *opaque; /* the translating layer's state (vIOMMU) */
};

/*
 * A translating layer in front of PCI devices (a vIOMMU), found in vm->dma_provider. init()
 * sets up @d for the device with PCI source id @sid (bus << 8 | devfn): 1 when the space now
 * translates (the device must then negotiate VIRTIO_F_ACCESS_PLATFORM or equivalent), 0 when
 * it stays identity, or -errno.
 */
struct host_iommu;

struct dma_provider {
	int (*init)(struct dma_provider *p, uint16_t sid, struct dma_space *d);
	/*
	 * Optional, for a device whose DMA the host IOMMU does (VFIO) through IOAS @ioas_id of
	 * @h, which the device is attached to: the provider keeps that IOAS equal to the guest's
	 * translations for @sid from now on (all RAM at IOVA == GPA while the guest translates
	 * nothing). 0, or -errno (logged): the device must not be offered to the guest. NULL:
	 * the provider cannot do this, and such a device cannot sit behind it.
	 */
	int (*attach_host)(struct dma_provider *p, uint16_t sid, struct host_iommu *h,
			   uint32_t ioas_id);
	/* Stops managing @sid's IOAS and empties it (before the device or IOAS goes away). */
	void (*detach_host)(struct dma_provider *p, uint16_t sid);
};

/* Identity: IOVA == guest-physical address, any access inside RAM allowed. */
void dma_space_init_identity(struct dma_space *d, const struct guest_mem *mem);

static inline int dma_map(struct dma_space *d, uint64_t iova, uint64_t len, bool write,
			  struct iovec *iov, int max)
{
	return d->ops->map(d, iova, len, write, iov, max);
}

/* Copies between a host buffer and DMA space. 0 or the negative errno of dma_map. */
int dma_read(struct dma_space *d, uint64_t iova, void *buf, size_t len);
int dma_write(struct dma_space *d, uint64_t iova, const void *buf, size_t len);

#endif
