/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the control API: the request parser, the dispatcher and its state
 * machine, with no sockets or threads, so unit tests and the fuzz target
 * drive them directly. The server (server.c) owns the I/O.
 */
#ifndef KITE_VMM_API_CORE_H
#define KITE_VMM_API_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/config.h"

enum api_state { API_PREBOOT, API_BOOTING, API_RUNNING, API_PAUSED, API_STOPPING };

/* Error codes in replies (docs/api.md lists them all). */
#define API_E_PARSE "parse-error"
#define API_E_REQUEST "invalid-request"
#define API_E_METHOD "unknown-method"
#define API_E_PARAMS "invalid-params"
#define API_E_STATE "wrong-state"
#define API_E_NOFD "no-fd"
#define API_E_BOOT "boot-failed"
#define API_E_FAILED "failed"
#define API_E_CLIENTS "too-many-clients"
#define API_E_LINE "line-too-long"

/*
 * What the dispatcher drives. Called on the API thread with the core's
 * lock held; run.c provides the real one, tests a mock. Each returns 0 or
 * -errno (the error reply then says "failed").
 */
struct api_backend {
	/* Asks the main thread to build and start core->cfg; completion: api_core_boot_done. */
	int (*boot)(void *opaque);
	int (*pause)(void *opaque);
	int (*resume)(void *opaque);
	int (*shutdown)(void *opaque); /* presses the ACPI power button */
	void (*kill)(void *opaque);
	/* Adds the running VM's part of `info` / `metrics` to @out. */
	int (*info)(void *opaque, json_t *out);
	int (*metrics)(void *opaque, json_t *out);
};

/* fds a client sent with SCM_RIGHTS, oldest first; add-fd claims the oldest. */
struct api_fdq {
	int fd[8];
	unsigned int n;
};

struct api_core {
	enum api_state state;
	struct vm_config cfg;	 /* pre-boot: being configured; then the booted config */
	struct fd_registry *fds; /* cfg.fds points here */
	const struct api_backend *be;
	void *be_opaque;
	double boot_ms; /* kite start to the guest's boot-timer write; <0: not yet */
};

/* @base: the config kite was started with (copied). 0 or -ENOMEM. */
int api_core_init(struct api_core *c, const struct vm_config *base, const struct api_backend *be,
		  void *opaque);
void api_core_destroy(struct api_core *c);
const char *api_state_name(enum api_state s);

/*
 * Handles one request line (without its newline). Returns the reply (new
 * reference), or NULL when the reply is deferred (`boot`: then *@deferred_id
 * gets a reference to the request's id, and the caller replies once the
 * backend reports). @fdq: the connection's received fds (may be NULL).
 */
json_t *api_core_handle(struct api_core *c, const char *line, size_t len, struct api_fdq *fdq,
			json_t **deferred_id);

/* Reply / error / event objects (new references; @id may be NULL). */
json_t *api_reply(json_t *id, json_t *result);
json_t *api_error(json_t *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *api_event(const char *name, json_t *data);
/* One compact line with its '\n' (malloc'd), or NULL. Consumes @obj. */
char *api_line(json_t *obj, size_t *len);

/* The boot the backend was asked for finished: 0 = running, else its exit code. */
json_t *api_core_boot_done(struct api_core *c, json_t *id, int code, const char *why);

#endif
