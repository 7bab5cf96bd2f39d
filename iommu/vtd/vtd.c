// SPDX-License-Identifier: GPL-2.0-only
/* The VT-d unit's life cycle: capabilities, MMIO registration, DMAR, counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "iommu/vtd/vtd_priv.h"
#include "vmm/irq.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define CAP_CM (1ULL << 7)
#define ECAP_SMTS (1ULL << 43)
#define ECAP_SLTS (1ULL << 46)
#define ECAP_FLTS (1ULL << 47)

void vtd_compute_caps(const struct vtd_params *p, uint64_t *cap, uint64_t *ecap)
{
	uint64_t sagaw = p->aw == 39 ? 0x2 : 0x6; /* 39-bit (3-level) [+ 48-bit (4-level)] */

	*cap = 6ULL			      /* ND: 65536 domains */
	       | (sagaw << 8) | ((uint64_t)(p->aw - 1) << 16) /* MGAW */
	       | ((uint64_t)VTD_FRO << 24)			/* one FRCD at 0x220, NFR 0 */
	       | (3ULL << 34)					/* SLLPS: 2 MiB, 1 GiB */
	       | (1ULL << 39)					/* PSI */
	       | (18ULL << 48);					/* MAMV */
	/* Host hardware does the DMA: the guest must tell kite about every new mapping. */
	if (p->mode == VTD_MODE_SHADOW || p->mode == VTD_MODE_NESTED)
		*cap |= CAP_CM;
	*ecap = (1ULL << 1) | (1ULL << 6) | ((uint64_t)VTD_IRO << 8); /* QI, PT, IRO */
	if (p->scalable) {
		*ecap |= ECAP_SMTS | ECAP_FLTS | ECAP_SLTS;
		*cap |= 1ULL << 56; /* FL1GP */
	}
}

int vtd_init(struct vtd *v, const struct guest_mem *mem, const struct vtd_params *p,
	     int (*msi)(void *ctx, uint64_t addr, uint32_t data), void *msi_ctx)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->mem = mem;
	v->params = *p;
	v->msi = msi;
	v->msi_ctx = msi_ctx;
	vtd_compute_caps(p, &v->cap, &v->ecap);
	v->caps.mgaw = p->aw;
	v->caps.sagaw = (uint8_t)((v->cap >> 8) & 0x1f);
	v->caps.sllps_2m = v->caps.sllps_1g = true;
	v->caps.fl1gp = p->scalable;
	v->caps.pt = true;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->cache_lock, NULL);
	v->cache_gen = 1;
	vtd_reset(v);
	ret = viommu_queue_init(&v->q, mem, &vtd_queue_ops, v, VTD_MAX_QUEUE_BYTES);
	if (ret) {
		pthread_mutex_destroy(&v->lock);
		pthread_mutex_destroy(&v->cache_lock);
	}
	return ret;
}

void vtd_uninit(struct vtd *v)
{
	viommu_queue_destroy(&v->q);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->cache_lock);
}

int vtd_add_sid(struct vtd *v, uint16_t sid)
{
	for (unsigned int i = 0; i < v->nsids; i++)
		if (v->sids[i] == sid)
			return (int)i;
	if (v->nsids == VTD_MAX_SIDS)
		return -ENOSPC;
	v->devs[v->nsids] = (struct vtd_dev){ .v = v, .sid = sid };
	v->sids[v->nsids] = sid;
	return (int)v->nsids++;
}

static int provider_init(struct dma_provider *p, uint16_t sid, struct dma_space *d)
{
	struct vtd *v = container_of(p, struct vtd, provider);
	int i = vtd_add_sid(v, sid);

	if (i < 0) {
		log_error("vtd: more than %d devices behind the unit", VTD_MAX_SIDS);
		return i;
	}
	vtd_dma_init(v, &v->devs[i], d);
	return 1;
}

int vtd_add_host_dev(struct vtd *v, const struct viommu_host_dev *hd)
{
	if (!hd->host || !hd->target.encode || !hd->target.entry_len ||
	    hd->target.entry_len > VIOMMU_MAX_ENTRY_LEN)
		return -EINVAL;
	for (unsigned int i = 0; i < v->nhdevs; i++)
		if (v->hdevs[i].sid == hd->sid)
			return -EEXIST;
	if (v->nhdevs == VTD_MAX_HOST_DEVS || vtd_add_sid(v, hd->sid) < 0)
		return -ENOSPC;
	v->hdevs[v->nhdevs++] = *hd;
	return 0;
}

void vtd_get_counters(struct vtd *v, struct viommu_counters *c)
{
	c->forwarded = __atomic_load_n(&v->q.ctr.forwarded, __ATOMIC_RELAXED);
	c->host_calls = __atomic_load_n(&v->q.ctr.host_calls, __ATOMIC_RELAXED);
	c->descriptors = __atomic_load_n(&v->q.ctr.descriptors, __ATOMIC_RELAXED);
	c->faults = __atomic_load_n(&v->faults, __ATOMIC_RELAXED);
	pthread_mutex_lock(&v->lock);
	c->doorbells = v->doorbells;
	c->iqe = v->iqes;
	pthread_mutex_unlock(&v->lock);
}

static int vtd_vm_msi(void *ctx, uint64_t addr, uint32_t data)
{
	return vm_signal_msi(ctx, addr, data);
}

static void vtd_destroy(void *arg)
{
	struct vtd *v = arg;
	struct viommu_counters c;

	viommu_queue_destroy(&v->q);
	vtd_get_counters(v, &c);
	/* An info-level line with its own fixed prefix: scenarios and agents match it exactly. */
	if (log_get_level() >= LOG_INFO)
		fprintf(stderr,
			"kite: vtd: doorbells=%llu descriptors=%llu forwarded=%llu host_calls=%llu "
			"iqe=%llu faults=%llu\n",
			(unsigned long long)c.doorbells, (unsigned long long)c.descriptors,
			(unsigned long long)c.forwarded, (unsigned long long)c.host_calls,
			(unsigned long long)c.iqe, (unsigned long long)c.faults);
	if (v->vm && v->vm->dma_provider == &v->provider)
		v->vm->dma_provider = NULL;
	vtd_uninit(v);
	free(v);
}

static const struct bus_ops vtd_bus_ops = { .read = vtd_mmio_read, .write = vtd_mmio_write };

struct vtd *vtd_create(struct vm *vm, const struct vtd_params *p)
{
	struct vtd *v = malloc(sizeof(*v));
	int ret;

	if (!v) {
		log_error("vtd: out of memory");
		return NULL;
	}
	ret = vtd_init(v, &vm->mem, p, vtd_vm_msi, vm);
	if (ret) {
		log_error("vtd: cannot set up the invalidation queue: %s", strerror(-ret));
		free(v);
		return NULL;
	}
	v->vm = vm;
	v->provider.init = provider_init;
	ret = bus_register(&vm->mmio, VTD_MMIO_BASE, VTD_MMIO_SIZE, &vtd_bus_ops, v, "vtd");
	if (ret) {
		log_error("vtd: cannot register its registers at 0x%llx: %s",
			  (unsigned long long)VTD_MMIO_BASE, strerror(-ret));
		vtd_uninit(v);
		free(v);
		return NULL;
	}
	if (vm_own(vm, vtd_destroy, v)) {
		log_error("vtd: too many VM-owned objects");
		vtd_uninit(v);
		free(v);
		return NULL;
	}
	vm->dma_provider = &v->provider;
	return v;
}

struct vtd *vtd_of_vm(struct vm *vm)
{
	if (!vm->dma_provider || vm->dma_provider->init != provider_init)
		return NULL;
	return container_of(vm->dma_provider, struct vtd, provider);
}

static int cmp_sid(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int vtd_finalize(struct vtd *v)
{
	uint16_t sids[VTD_MAX_SIDS];
	struct acpi_dmar_cfg cfg = {
		.base = VTD_MMIO_BASE, .haw = v->params.aw, .sids = sids, .nsids = v->nsids,
	};
	uint8_t buf[512];
	int len, ret;

	memcpy(sids, v->sids, v->nsids * sizeof(sids[0]));
	qsort(sids, v->nsids, sizeof(sids[0]), cmp_sid);
	len = acpi_build_dmar(&cfg, buf, sizeof(buf));
	if (len < 0) {
		log_error("vtd: cannot build the DMAR table: %s", strerror(-len));
		return len;
	}
	ret = vm_add_acpi_table(v->vm, buf, (size_t)len);
	if (ret) {
		log_error("vtd: cannot add the DMAR table: %s", strerror(-ret));
		return ret;
	}
	ret = viommu_queue_start(&v->q, "kite-vtd-qi");
	if (ret)
		return ret;
	v->finalized = true;
	log_info("vtd: %s mode, %u-bit, %u device(s) behind the unit, CAP 0x%016llx ECAP 0x%016llx",
		 v->params.scalable ? "scalable" : "legacy", v->params.aw, v->nsids,
		 (unsigned long long)v->cap, (unsigned long long)v->ecap);
	return 0;
}
