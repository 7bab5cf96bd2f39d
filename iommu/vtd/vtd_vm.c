// SPDX-License-Identifier: GPL-2.0-only
/* The VT-d unit inside a VM: MMIO registration, DMA provider, DMAR, drain thread, exit line. */
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

static int provider_attach_host(struct dma_provider *p, uint16_t sid, struct host_iommu *h,
				uint32_t ioas_id)
{
	struct vtd *v = container_of(p, struct vtd, provider);
	int ret;

	if (v->params.mode != VTD_MODE_SHADOW) {
		log_error("vtd: a host-backed device (%02x:%02x.%u) behind the unit needs "
			  "--iommu vtd,mode=shadow",
			  sid >> 8, (sid >> 3) & 31, sid & 7);
		return -EOPNOTSUPP;
	}
	ret = vtd_shadow_add(v, sid, h, ioas_id);
	if (ret)
		log_error("vtd: cannot shadow the IOAS of %02x:%02x.%u: %s", sid >> 8,
			  (sid >> 3) & 31, sid & 7, strerror(ret == -EIO ? EIO : -ret));
	return ret;
}

static void provider_detach_host(struct dma_provider *p, uint16_t sid)
{
	vtd_shadow_del(container_of(p, struct vtd, provider), sid);
}

static int vtd_vm_msi(void *ctx, uint64_t addr, uint32_t data)
{
	return vm_signal_msi(ctx, addr, data);
}

static void vtd_vm_error(void *opaque, const struct viommu_error *e)
{
	struct vtd *v = opaque;

	vm_notify_data(v->vm, VM_EVENT_VIOMMU_ERROR, e);
}

static void vtd_vm_counters(void *opaque, struct viommu_counters *c)
{
	vtd_get_counters(opaque, c);
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
	if (v->vm && v->vm->viommu_opaque == v) {
		v->vm->viommu_counters = NULL;
		v->vm->viommu_opaque = NULL;
	}
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
	v->provider.attach_host = provider_attach_host;
	v->provider.detach_host = provider_detach_host;
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
	v->on_error = vtd_vm_error;
	v->on_error_opaque = v;
	vm->viommu_type = "vtd";
	vm->viommu_counters = vtd_vm_counters;
	vm->viommu_opaque = v;
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
		.base = VTD_MMIO_BASE,
		.haw = v->params.aw,
		.sids = sids,
		.nsids = v->nsids,
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
	log_info(
		"vtd: %s%s mode, %u-bit, %u device(s) behind the unit, CAP 0x%016llx ECAP 0x%016llx",
		v->params.mode == VTD_MODE_SHADOW ? "shadow, " : "",
		v->params.scalable ? "scalable" : "legacy", v->params.aw, v->nsids,
		(unsigned long long)v->cap, (unsigned long long)v->ecap);
	return 0;
}
