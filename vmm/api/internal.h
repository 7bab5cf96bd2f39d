/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the API's server (server.c) and its VM back end (backend.c). */
#ifndef KITE_VMM_API_INTERNAL_H
#define KITE_VMM_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "vmm/api/api.h"
#include "vmm/api/core.h"

struct api_client;

/* A reply or event waiting for the API thread to send it (api_queue). */
struct api_msg {
	struct api_msg *next;
	uint64_t serial; /* 0: every client */
	char *line;
	size_t len;
	double boot_ms; /* a boot event: record it for `info` (< 0: not one) */
};

enum api_boot_req { API_BOOT_NONE, API_BOOT_REQUESTED, API_BOOT_KILLED };

struct api {
	pthread_mutex_t lock; /* core, vm, boot_* */
	struct api_core core;
	struct vm *vm; /* set while the VM runs (RUNNING, PAUSED) */
	enum api_boot_req boot_req;
	json_t *boot_id; /* the deferred `boot` reply's id, and its client */
	uint64_t boot_serial;
	struct timespec boot_req_time;
	struct vm *event_vm; /* the VM whose events we report (api_attach_events) */

	pthread_mutex_t qlock; /* queue only */
	struct api_msg *queue;

	uid_t uid;  /* the only peer UID served */
	char *path; /* socket we created (unlinked at the end) */
	int listen_fd, epfd, wake_efd, boot_efd;
	pthread_t thread;
	bool started;
	bool stop; /* atomic */
	struct api_client *clients[API_MAX_CLIENTS];
	uint64_t next_serial;
};

extern const struct api_backend api_vm_backend;

struct viommu_counters;
struct viommu_error;
/* The `viommu` member of info/metrics, and a `vtd-error` event's data (new references). */
json_t *api_viommu_json(const char *type, const struct viommu_counters *c);
json_t *api_viommu_error_json(const struct viommu_error *e);

/* Queues @obj (consumed) for client @serial (0: all); any thread. @boot_ms >= 0: a boot event. */
void api_queue(struct api *api, uint64_t serial, json_t *obj, double boot_ms);

#endif
