// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/dma.h"

#include <errno.h>
#include <string.h>

static int identity_map(struct dma_space *d, uint64_t iova, uint64_t len, bool write,
			struct iovec *iov, int max)
{
	void *p;

	if (max < 1)
		return -E2BIG;
	if (len == 0) {
		iov[0] = (struct iovec){ .iov_base = NULL, .iov_len = 0 };
		return 0;
	}
	/* Guest RAM regions are separate mappings: a range must sit inside one. */
	p = guest_mem_ptr(d->mem, iova, len);
	if (!p)
		return -EFAULT;
	iov[0] = (struct iovec){ .iov_base = p, .iov_len = len };
	return 1;
}

static const struct dma_ops identity_ops = { .map = identity_map };

void dma_space_init_identity(struct dma_space *d, const struct guest_mem *mem)
{
	d->ops = &identity_ops;
	d->mem = mem;
	d->opaque = NULL;
}

#define DMA_COPY_SEGS 16

static int dma_copy(struct dma_space *d, uint64_t iova, void *buf, size_t len, bool to_guest)
{
	struct iovec iov[DMA_COPY_SEGS];
	uint8_t *p = buf;
	int n = dma_map(d, iova, len, to_guest, iov, DMA_COPY_SEGS);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (to_guest)
			memcpy(iov[i].iov_base, p, iov[i].iov_len);
		else
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	return 0;
}

int dma_read(struct dma_space *d, uint64_t iova, void *buf, size_t len)
{
	return dma_copy(d, iova, buf, len, false);
}

int dma_write(struct dma_space *d, uint64_t iova, const void *buf, size_t len)
{
	return dma_copy(d, iova, (void *)buf, len, true);
}
