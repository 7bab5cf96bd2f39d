// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's vIOMMU parts on the real VM back end: the `viommu` member of info and
 * metrics (present exactly when the VM has a vIOMMU, with its counters), and the `vtd-error`
 * event the VM's error notification becomes (IQE and DMA fault data).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iommu/viommu.h"
#include "vmm/api/internal.h"
#include "vmm/config.h"
#include "vmm/vm.h"

static struct vm vm;
static struct vm_config cfg;
static struct api api;
static struct viommu_counters ctr;

static void fake_counters(void *opaque, struct viommu_counters *c)
{
	cr_assert_eq(opaque, &ctr);
	*c = ctr;
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&api, 0, sizeof(api));
	config_init(&cfg);
	vm.cfg = &cfg;
	vm.ncpus = 1;
	api.vm = &vm;
	pthread_mutex_init(&api.qlock, NULL);
	api.wake_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	cr_assert_geq(api.wake_efd, 0);
	ctr = (struct viommu_counters){ .doorbells = 12,
					.descriptors = 22,
					.forwarded = 3,
					.host_calls = 2,
					.iqe = 1,
					.faults = 5 };
}

static void teardown(void)
{
	while (api.queue) {
		struct api_msg *m = api.queue;

		api.queue = m->next;
		free(m->line);
		free(m);
	}
	close(api.wake_efd);
	pthread_mutex_destroy(&api.qlock);
	config_free(&cfg);
}

TestSuite(api_viommu, .init = setup, .fini = teardown);

static void check_counters(json_t *o)
{
	json_t *vi = json_object_get(o, "viommu");

	cr_assert_not_null(vi, "no viommu member");
	cr_assert_str_eq(json_string_value(json_object_get(vi, "type")), "vtd");
	cr_assert_eq(json_integer_value(json_object_get(vi, "doorbells")), 12);
	cr_assert_eq(json_integer_value(json_object_get(vi, "descriptors")), 22);
	cr_assert_eq(json_integer_value(json_object_get(vi, "forwarded")), 3);
	cr_assert_eq(json_integer_value(json_object_get(vi, "host_calls")), 2);
	cr_assert_eq(json_integer_value(json_object_get(vi, "iqe")), 1);
	cr_assert_eq(json_integer_value(json_object_get(vi, "faults")), 5);
}

Test(api_viommu, info_and_metrics_carry_the_counters_only_with_a_viommu)
{
	json_t *info = json_object(), *met = json_pack("{s:[]}", "devices");

	cr_assert_eq(api_vm_backend.info(&api, info), 0);
	cr_assert_eq(api_vm_backend.metrics(&api, met), 0);
	cr_assert_null(json_object_get(info, "viommu"), "no vIOMMU, no member");
	cr_assert_null(json_object_get(met, "viommu"));
	json_decref(info);
	json_decref(met);

	vm.viommu_type = "vtd";
	vm.viommu_counters = fake_counters;
	vm.viommu_opaque = &ctr;
	info = json_object();
	met = json_pack("{s:[]}", "devices");
	cr_assert_eq(api_vm_backend.info(&api, info), 0);
	cr_assert_eq(api_vm_backend.metrics(&api, met), 0);
	check_counters(info);
	check_counters(met);
	/* Read at each call, not cached. */
	ctr.faults = 6;
	json_decref(info);
	info = json_object();
	cr_assert_eq(api_vm_backend.info(&api, info), 0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(info, "viommu"), "faults")),
		     6);
	json_decref(info);
	json_decref(met);
}

/* The event the API queued last, parsed. */
static json_t *last_event(void)
{
	struct api_msg *m = api.queue;
	json_error_t err;

	cr_assert_not_null(m, "no event queued");
	while (m->next)
		m = m->next;
	cr_assert_eq(m->serial, 0, "events go to every client");
	return json_loadb(m->line, m->len, 0, &err);
}

Test(api_viommu, vtd_error_events)
{
	struct viommu_error fault = { .kind = VIOMMU_ERROR_DMA_FAULT,
				      .addr = 0x40001000,
				      .sid = 0x0119,
				      .write = true,
				      .code = 5,
				      .suppressed = 7 };
	struct viommu_error iqe = { .kind = VIOMMU_ERROR_IQE, .index = 37, .code = 4 };
	json_t *ev, *d;

	api_attach_events(&api, &vm);
	cr_assert_not_null(vm.event_fn);
	vm_notify_data(&vm, VM_EVENT_VIOMMU_ERROR, &fault);
	ev = last_event();
	cr_assert_str_eq(json_string_value(json_object_get(ev, "event")), "vtd-error");
	d = json_object_get(ev, "data");
	cr_assert_str_eq(json_string_value(json_object_get(d, "kind")), "dma-fault");
	cr_assert_eq(json_integer_value(json_object_get(d, "address")), 0x40001000);
	cr_assert_str_eq(json_string_value(json_object_get(d, "source_id")), "01:03.1");
	cr_assert(json_is_true(json_object_get(d, "write")));
	cr_assert_eq(json_integer_value(json_object_get(d, "reason")), 5);
	cr_assert_eq(json_integer_value(json_object_get(d, "suppressed")), 7);
	json_decref(ev);

	vm_notify_data(&vm, VM_EVENT_VIOMMU_ERROR, &iqe);
	ev = last_event();
	d = json_object_get(ev, "data");
	cr_assert_str_eq(json_string_value(json_object_get(d, "kind")), "iqe");
	cr_assert_eq(json_integer_value(json_object_get(d, "index")), 37);
	cr_assert_eq(json_integer_value(json_object_get(d, "iqei")), 4);
	cr_assert_eq(json_integer_value(json_object_get(d, "suppressed")), 0);
	cr_assert_null(json_object_get(d, "address"));
	json_decref(ev);

	/* No data: nothing queued (and no crash). */
	d = NULL;
	{
		struct api_msg *before = api.queue;
		unsigned int n = 0, m = 0;

		for (struct api_msg *p = before; p; p = p->next)
			n++;
		vm_notify_data(&vm, VM_EVENT_VIOMMU_ERROR, NULL);
		for (struct api_msg *p = api.queue; p; p = p->next)
			m++;
		cr_assert_eq(m, n);
	}
}
