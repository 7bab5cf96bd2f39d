// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the VT-d invalidation queue: descriptor parser, drain pipeline (copy,
 * gather, one host call, failure mapping, waits) against a fake host that fails at an
 * input-chosen entry. Input: flags, IQA, head, tail, then guest RAM (queue, status words,
 * root/context tables the forwarding DID filter walks).
 *
 * fuzz-sources: iommu/vtd/vtd.c iommu/vtd/vtd_regs.c iommu/vtd/vtd_qi.c iommu/vtd/vtd_dma.c iommu/vtd/vtd_walk.c iommu/vtd/vtd_shadow.c iommu/viommu_queue.c iommu/iommufd.c vmm/guest_mem.c vmm/log.c
 * fuzz-sources: vmm/seccomp.c -lseccomp
 */
#include "tests/fuzz/fuzz_vtd_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vtd *v;
	uint8_t flags;
	uint64_t iqa;
	uint32_t head, tail;

	if (size < 14)
		return 0;
	fz_init_once();
	flags = data[0];
	iqa = get_le64(data + 1) & 0xfffffffffffff807ULL;
	head = get_le16(data + 9);
	tail = get_le16(data + 11);
	fz_fail_at = data[13] == 0xff ? -1 : data[13];
	memset(fz_mem.regions[0].hva, 0, FZ_RAM);
	memcpy(fz_mem.regions[0].hva, data + 14, size - 14 < FZ_RAM ? size - 14 : FZ_RAM);
	/* Mostly keep the queue inside RAM so descriptors get parsed. */
	if (!(flags & 0x80))
		iqa &= 0x3f807ULL;
	v = fz_unit(flags & 1, flags & 2);
	fz_reg_write(v, VTD_RTADDR, get_le64(data + 1) & 0x3f000ULL, 8);
	fz_reg_write(v, VTD_GCMD, VTD_GCMD_SRTP, 4);
	fz_reg_write(v, VTD_IQA, iqa, 8);
	fz_reg_write(v, VTD_GCMD, VTD_GCMD_QIE | ((flags & 4) ? VTD_GCMD_TE : 0), 4);
	fz_reg_write(v, VTD_FECTL, 0, 4);
	v->iqh = (uint64_t)head << 4 & 0x7fff0;
	fz_reg_write(v, VTD_IQT, (uint64_t)tail << 4, 4);
	viommu_queue_drain(&v->q);
	/* Recovery as Linux does it: clear IQE and go on. */
	for (int i = 0; i < 3 && (v->fsts & VTD_FSTS_IQE); i++) {
		fz_fail_at = -1;
		fz_reg_write(v, VTD_FSTS, VTD_FSTS_IQE, 4);
		viommu_queue_drain(&v->q);
	}
	fz_free(v);
	return 0;
}
