// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the VT-d register file: any sequence of 4- and 8-byte (and odd) reads
 * and writes at any offset, with a drain after each tail write, over guest RAM from the input.
 * Ops are 12 bytes: offset (2), size (1), kind (1), value (8).
 *
 * fuzz-sources: iommu/vtd/vtd.c iommu/vtd/vtd_regs.c iommu/vtd/vtd_qi.c iommu/vtd/vtd_dma.c iommu/vtd/vtd_walk.c iommu/vtd/vtd_shadow.c iommu/viommu_queue.c iommu/iommufd.c vmm/guest_mem.c vmm/log.c
 * fuzz-sources: vmm/seccomp.c -lseccomp
 */
#include "tests/fuzz/fuzz_vtd_common.h"

#define OP_LEN 12
#define MAX_OPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nops, used;
	struct vtd *v;

	if (size < 1)
		return 0;
	fz_init_once();
	nops = (size - 1) / OP_LEN;
	if (nops > MAX_OPS)
		nops = MAX_OPS;
	used = 1 + nops * OP_LEN;
	memset(fz_mem.regions[0].hva, 0, FZ_RAM);
	memcpy(fz_mem.regions[0].hva, data + used, size - used < FZ_RAM ? size - used : FZ_RAM);
	fz_fail_at = data[0] & 0x80 ? data[0] & 0x3f : -1;
	v = fz_unit(data[0] & 1, data[0] & 2);
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *op = data + 1 + i * OP_LEN;
		uint64_t off = get_le16(op) & 0xfff;
		uint32_t sz = 1u << (op[2] & 3);
		uint8_t buf[8];

		memcpy(buf, op + 4, 8);
		if (op[3] & 1)
			vtd_mmio_write(v, off, buf, sz);
		else
			vtd_mmio_read(v, off, buf, sz);
		if (op[3] & 2)
			viommu_queue_drain(&v->q);
	}
	fz_free(v);
	return 0;
}
