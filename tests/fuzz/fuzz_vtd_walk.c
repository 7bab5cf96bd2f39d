// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the root/context/PASID walkers and the first- and second-stage page
 * walks, through the translating dma_space (IOTLB, context cache, fault recording). Input:
 * flags, then 8 requests (sid, iova, len, write), then guest RAM holding the tables. Every
 * segment handed out is read and written in full so ASan sees an escape from RAM.
 *
 * fuzz-sources: iommu/vtd/vtd.c iommu/vtd/vtd_regs.c iommu/vtd/vtd_qi.c iommu/vtd/vtd_dma.c iommu/vtd/vtd_walk.c iommu/vtd/vtd_shadow.c iommu/viommu_queue.c iommu/iommufd.c vmm/guest_mem.c vmm/log.c
 * fuzz-sources: vmm/seccomp.c -lseccomp
 */
#include "tests/fuzz/fuzz_vtd_common.h"

#define NREQ 8
#define REQ_LEN 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dma_space dma[2];
	struct vtd *v;
	uint8_t flags;
	size_t hdr = 1 + NREQ * REQ_LEN;

	if (size < hdr)
		return 0;
	fz_init_once();
	flags = data[0];
	memset(fz_mem.regions[0].hva, 0, FZ_RAM);
	memcpy(fz_mem.regions[0].hva, data + hdr, size - hdr < FZ_RAM ? size - hdr : FZ_RAM);
	v = fz_unit(flags & 1, false);
	vtd_dma_init(v, &v->devs[vtd_add_sid(v, 0x08)], &dma[0]);
	vtd_dma_init(v, &v->devs[vtd_add_sid(v, 0x90)], &dma[1]);
	fz_reg_write(v, VTD_RTADDR, ((uint64_t)data[0] << 12 & 0x3f000) | ((flags & 2) << 9), 8);
	fz_reg_write(v, VTD_GCMD, VTD_GCMD_SRTP, 4);
	fz_reg_write(v, VTD_GCMD, VTD_GCMD_TE, 4);
	fz_reg_write(v, VTD_FECTL, 0, 4);
	for (unsigned int r = 0; r < NREQ; r++) {
		const uint8_t *q = data + 1 + r * REQ_LEN;
		struct iovec iov[8];
		uint64_t iova = get_le64(q + 1);
		uint32_t len = get_le16(q + 9) & 0x3fff;
		bool write = q[11] & 1;
		int n;

		/* Mostly small IOVAs, so they hit the tables the input laid out. */
		if (!(q[11] & 2))
			iova &= 0xffffffULL;
		n = dma_map(&dma[q[0] & 1], iova, len, write, iov, 8);
		if (n > 8)
			abort();
		for (int i = 0; i < n; i++) {
			volatile uint8_t *p = iov[i].iov_base;

			if ((uint8_t *)p < fz_mem.regions[0].hva ||
			    (uint8_t *)p + iov[i].iov_len > fz_mem.regions[0].hva + FZ_RAM)
				abort();
			for (size_t k = 0; k < iov[i].iov_len; k += 512) {
				uint8_t b = p[k];

				p[k] = b;
			}
			if (iov[i].iov_len)
				p[iov[i].iov_len - 1] = p[iov[i].iov_len - 1];
		}
		/* Clear the fault record now and then, as the guest's handler would. */
		if (q[11] & 4) {
			fz_reg_write(v, VTD_FRCD + 12, 1u << 31, 4);
			fz_reg_write(v, VTD_FSTS, VTD_FSTS_PFO, 4);
		}
	}
	fz_free(v);
	return 0;
}
