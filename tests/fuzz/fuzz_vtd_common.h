/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared set-up of the VT-d fuzz targets: a small guest RAM, a unit, one host-backed device. */
#ifndef KITE_FUZZ_VTD_COMMON_H
#define KITE_FUZZ_VTD_COMMON_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/vtd/vtd_priv.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define FZ_RAM (256 * 1024)

static struct guest_mem fz_mem;
static struct host_iommu fz_host;
static int fz_fail_at = -1;

static int fz_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct iommu_hwpt_invalidate *c = arg;
	const uint8_t *e = (const uint8_t *)(uintptr_t)c->data_uptr;
	volatile uint8_t sink = 0;

	/* mode=shadow: the host address of every map must be guest RAM, all of it. */
	if (request == IOMMU_IOAS_MAP) {
		const struct iommu_ioas_map *m = arg;
		const uint8_t *base = fz_mem.regions[0].hva;
		uint64_t va = m->user_va, len = m->length;

		if (!len || va < (uintptr_t)base || va + len > (uintptr_t)base + FZ_RAM ||
		    !(m->flags & IOMMU_IOAS_MAP_FIXED_IOVA) || (m->iova & 0xfff) || (len & 0xfff))
			abort();
		return fz_fail_at == 0xfe ? -ENOMEM : 0;
	}
	if (request == IOMMU_IOAS_UNMAP)
		return 0;
	if (request == IOMMU_IOAS_IOVA_RANGES) {
		struct iommu_ioas_iova_ranges *c = arg;
		struct iommu_iova_range *out = (void *)(uintptr_t)c->allowed_iovas;

		if (c->num_iovas >= 1)
			*out = (struct iommu_iova_range){ .start = 0, .last = (1ULL << 48) - 1 };
		c->num_iovas = 1;
		c->out_iova_alignment = 4096;
		return 0;
	}
	if (request != IOMMU_HWPT_INVALIDATE)
		return -ENOTTY;
	/* Touch every entry so ASan sees an array shorter than announced. */
	for (uint64_t i = 0; i < (uint64_t)c->entry_num * c->entry_len; i++)
		sink ^= e[i];
	(void)sink;
	if (fz_fail_at >= 0 && (uint32_t)fz_fail_at < c->entry_num) {
		c->entry_num = (uint32_t)fz_fail_at;
		return -EINVAL;
	}
	return 0;
}

static int fz_encode(void *opaque, const struct viommu_inval *inv, void *entry)
{
	if (inv->raw_len > 32)
		abort();
	memcpy(entry, inv->raw, 16);
	return inv->did == 0xdead ? -EINVAL : (inv->did == 0xbeef ? 1 : 0);
}

static int fz_msi(void *ctx, uint64_t addr, uint32_t data)
{
	return 0;
}

static void fz_init_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	log_set_level(LOG_ERROR);
	if (guest_mem_init(&fz_mem, FZ_RAM, 0xc0000000ULL))
		abort();
	host_iommu_init_fd(&fz_host, 99, false);
	host_iommu_set_ioctl(&fz_host, fz_ioctl, NULL);
}

static struct vtd *fz_unit(bool scalable, bool shadow)
{
	struct vtd_params p = { .scalable = scalable,
				.aw = 48,
				.mode = shadow ? VTD_MODE_SHADOW : VTD_MODE_EMULATED };
	struct viommu_host_dev hd = {
		.sid = 0x08,
		.host = &fz_host,
		.dev_id = 1,
		.all_domains = !shadow,
		.target = { .id = 5, .data_type = 1, .entry_len = 16, .encode = fz_encode },
	};
	struct vtd *v = malloc(sizeof(*v));

	if (!v || vtd_init(v, &fz_mem, &p, fz_msi, NULL))
		abort();
	if (vtd_add_host_dev(v, &hd))
		abort();
	/* Shadow mode: the same source id's IOAS follows the fuzzed tables too (vtd_shadow.c). */
	if (shadow && vtd_shadow_add(v, 0x08, &fz_host, 3) && fz_fail_at != 0xfe)
		abort();
	return v;
}

static void fz_free(struct vtd *v)
{
	vtd_uninit(v);
	free(v);
}

static __attribute__((unused)) void fz_reg_write(struct vtd *v, uint64_t off, uint64_t val,
						 uint32_t size)
{
	uint8_t b[8];

	put_le64(b, val);
	vtd_mmio_write(v, off, b, size);
}

#endif
