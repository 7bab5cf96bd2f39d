/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API (docs/api.md): JSON lines over a unix socket, served by
 * its own thread. run.c drives the lifecycle:
 *
 *   api_start()       socket + thread, before anything else exists
 *   api_wait_boot()   pre-boot only: until a client's `boot` (or kill/signal)
 *   api_boot_done()   the VM runs (or failed to build): the `boot` reply
 *   api_vm_stopping() the VM is exiting: no more calls into it
 *   api_stop()        the `shutdown` event, a bounded flush, the thread joined
 */
#ifndef KITE_VMM_API_API_H
#define KITE_VMM_API_API_H

#include <signal.h>

#include "vmm/vm.h"

#define API_VERSION 1
#define API_MAX_CLIENTS 32	 /* connections served at once; more are refused */
#define API_LINE_MAX (1u << 20)	 /* a longer request line closes its connection */
#define API_OUT_MAX (256u << 10) /* unread replies/events a client may have queued */
#define API_MAX_QUEUED_FDS 8	 /* SCM_RIGHTS fds received but not yet claimed by add-fd */

struct api;

/*
 * Serves cfg->api_socket (created 0600, a stale socket replaced) or the
 * listening cfg->api_fd. @cfg is the starting point of pre-boot `configure`.
 * 0 or a kite exit code (logged).
 */
int api_start(struct api **out, const struct vm_config *cfg);
/*
 * Pre-boot: waits for `boot` (returns 0, *@cfg = the configured VM, owned by
 * the API), `kill` (KITE_EXIT_SIGNAL, *@reason "api-kill") or a signal from
 * @sigs (KITE_EXIT_SIGNAL, "signal").
 */
int api_wait_boot(struct api *api, const sigset_t *sigs, const struct vm_config **cfg,
		  const char **reason);
/* Before vm_start: lets the VM report events (boot timer, panic) to the API. */
void api_attach_events(struct api *api, struct vm *vm);
/* The VM runs (@code 0), or could not be built (@code: its exit code). */
void api_boot_done(struct api *api, struct vm *vm, int code);
void api_vm_stopping(struct api *api);
/* Emits `shutdown` {exit_code, reason}, flushes (bounded), frees everything. NULL is fine. */
void api_stop(struct api *api, int code, const char *reason);

/* `kite ctl SOCKET METHOD [JSON] [--fd N] ...`: the client. Returns the exit status. */
int api_ctl_main(int argc, char **argv);

#endif
