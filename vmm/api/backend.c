// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's back end on a real VM: what `boot`, `pause`, `info` ...
 * do to kite. Runs on the API thread with api->lock held, except the event
 * hook, which runs on whichever VM thread saw the event.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommu/viommu.h"
#include "vmm/api/internal.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/metrics.h"

static int be_boot(void *opaque)
{
	struct api *api = opaque;
	uint64_t one = 1;

	api->boot_req = API_BOOT_REQUESTED;
	clock_gettime(CLOCK_MONOTONIC, &api->boot_req_time);
	return write(api->boot_efd, &one, sizeof(one)) < 0 ? -errno : 0;
}

static int be_pause(void *opaque)
{
	struct api *api = opaque;

	return api->vm ? vm_pause(api->vm) : -ESHUTDOWN;
}

static int be_resume(void *opaque)
{
	struct api *api = opaque;

	if (!api->vm)
		return -ESHUTDOWN;
	vm_resume(api->vm);
	return 0;
}

static int be_shutdown(void *opaque)
{
	struct api *api = opaque;

	if (!api->vm)
		return -ESHUTDOWN;
	if (!api->vm->power_button)
		return -ENODEV;
	return api->vm->power_button(api->vm->power_button_opaque);
}

static void be_kill(void *opaque)
{
	struct api *api = opaque;
	uint64_t one = 1;

	if (api->vm) {
		vm_request_exit(api->vm, KITE_EXIT_SIGNAL, "api-kill");
		return;
	}
	api->boot_req = API_BOOT_KILLED;
	if (write(api->boot_efd, &one, sizeof(one)) < 0)
		log_debug("API: kill: %s", strerror(errno));
}

static json_t *device_json(const struct vm_device *d)
{
	json_t *o = json_pack("{s:s}", "name", d->name);
	char bdf[24];

	if (o && d->pci_slot >= 0) {
		snprintf(bdf, sizeof(bdf), "0000:00:%02x.0", (unsigned int)d->pci_slot & 0x1f);
		json_object_set_new(o, "pci", json_string(bdf));
	}
	return o;
}

json_t *api_viommu_json(const char *type, const struct viommu_counters *c)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "type", type, "doorbells",
			 (json_int_t)c->doorbells, "descriptors", (json_int_t)c->descriptors,
			 "forwarded", (json_int_t)c->forwarded, "host_calls",
			 (json_int_t)c->host_calls, "iqe", (json_int_t)c->iqe, "faults",
			 (json_int_t)c->faults);
}

json_t *api_viommu_error_json(const struct viommu_error *e)
{
	char sid[16];

	if (e->kind == VIOMMU_ERROR_IQE)
		return json_pack("{s:s, s:I, s:i, s:I}", "kind", "iqe", "index",
				 (json_int_t)e->index, "iqei", e->code, "suppressed",
				 (json_int_t)e->suppressed);
	snprintf(sid, sizeof(sid), "%02x:%02x.%u", e->sid >> 8, (e->sid >> 3) & 0x1f, e->sid & 7u);
	return json_pack("{s:s, s:I, s:s, s:b, s:i, s:I}", "kind", "dma-fault", "address",
			 (json_int_t)e->addr, "source_id", sid, "write", e->write, "reason",
			 e->code, "suppressed", (json_int_t)e->suppressed);
}

static void add_viommu(const struct vm *vm, json_t *out)
{
	struct viommu_counters c;

	if (!vm->viommu_counters)
		return;
	vm->viommu_counters(vm->viommu_opaque, &c);
	json_object_set_new(out, "viommu", api_viommu_json(vm->viommu_type, &c));
}

static int be_info(void *opaque, json_t *out)
{
	struct api *api = opaque;
	struct vm *vm = api->vm;
	json_t *devs = json_array(), *regions = json_array();

	if (!vm || !devs || !regions)
		goto fail;
	for (unsigned int i = 0; i < vm->ndevices; i++)
		json_array_append_new(devs, device_json(&vm->devices[i]));
	for (unsigned int i = 0; i < vm->mem.nregions; i++)
		json_array_append_new(regions, json_pack("{s:I, s:I}", "gpa",
							 (json_int_t)vm->mem.regions[i].gpa, "size",
							 (json_int_t)vm->mem.regions[i].size));
	json_object_set_new(out, "vcpus", json_integer(vm->ncpus));
	json_object_set_new(out, "memory",
			    json_pack("{s:I, s:o}", "bytes", (json_int_t)vm->cfg->memory, "regions",
				      regions));
	json_object_set_new(out, "devices", devs);
	add_viommu(vm, out);
	return 0;
fail:
	json_decref(devs);
	json_decref(regions);
	return -ENOMEM;
}

static int be_metrics(void *opaque, json_t *out)
{
	struct api *api = opaque;
	struct vm *vm = api->vm;
	json_t *devs = json_object_get(out, "devices");

	if (!vm || !devs)
		return -EINVAL;
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		const struct vm_device *d = &vm->devices[i];
		json_t *o = device_json(d);

		if (o && d->metrics) {
			json_object_set_new(o, "requests",
					    json_integer((json_int_t)metric_read(
						    &d->metrics->requests)));
			json_object_set_new(o, "bytes_to_guest",
					    json_integer((json_int_t)metric_read(
						    &d->metrics->bytes_to_guest)));
			json_object_set_new(o, "bytes_from_guest",
					    json_integer((json_int_t)metric_read(
						    &d->metrics->bytes_from_guest)));
			json_object_set_new(o, "interrupts",
					    json_integer((json_int_t)metric_read(
						    &d->metrics->interrupts)));
		}
		json_array_append_new(devs, o);
	}
	add_viommu(vm, out);
	return 0;
}

const struct api_backend api_vm_backend = {
	.boot = be_boot,
	.pause = be_pause,
	.resume = be_resume,
	.shutdown = be_shutdown,
	.kill = be_kill,
	.info = be_info,
	.metrics = be_metrics,
};

static double ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* On a vCPU, device or drain thread: never takes api->lock (see server.c). */
static void api_vm_event(void *opaque, enum vm_event ev, const void *data)
{
	struct api *api = opaque;

	if (ev == VM_EVENT_BOOT) {
		double ms = vm_elapsed_ms(api->event_vm);
		json_t *d = json_pack("{s:f}", "ms", ms);

		/* boot_req_time is written before the boot starts and never again. */
		if (d && api->boot_req_time.tv_sec)
			json_object_set_new(d, "since_boot_request_ms",
					    json_real(ms_since(&api->boot_req_time)));
		api_queue(api, 0, api_event("boot", d), ms);
	} else if (ev == VM_EVENT_PANIC) {
		api_queue(api, 0, api_event("panic", NULL), -1);
	} else if (ev == VM_EVENT_VIOMMU_ERROR && data) {
		/* Already rate-limited by the unit (VIOMMU_ERROR_EVENTS_PER_SEC). */
		api_queue(api, 0, api_event("vtd-error", api_viommu_error_json(data)), -1);
	}
}

void api_attach_events(struct api *api, struct vm *vm)
{
	if (!api)
		return;
	api->event_vm = vm;
	vm->event_fn = api_vm_event;
	vm->event_opaque = api;
}
