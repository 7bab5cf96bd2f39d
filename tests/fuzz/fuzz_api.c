// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the control API's request parser and dispatcher (state
 * machine included) on client bytes, split into lines as the server does,
 * against a mock back end. Each input may carry one fd for add-fd.
 *
 * fuzz-sources: vmm/api/core.c vmm/config.c vmm/config_fd.c vmm/log.c vmm/exitcode.c -ljansson
 * fuzz-sources: vmm/seccomp.c vmm/config_vfio.c -lseccomp
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/core.h"
#include "vmm/config.h"
#include "vmm/log.h"

static int f_ok(void *o)
{
	return 0;
}
static int f_fail(void *o)
{
	return -1;
}
static void f_kill(void *o)
{
}
static int f_info(void *o, json_t *out)
{
	return 0;
}

static const struct api_backend be = {
	.boot = f_ok,
	.pause = f_ok,
	.resume = f_ok,
	.shutdown = f_fail,
	.kill = f_kill,
	.info = f_info,
	.metrics = f_info,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config base;
	struct api_core core;
	struct api_fdq q = { .n = 1 };
	size_t start = 0;

	log_set_level(LOG_ERROR);
	config_init(&base);
	if (api_core_init(&core, &base, &be, NULL))
		return 0;
	q.fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i <= size; i++) {
		json_t *def = NULL, *r;

		if (i < size && data[i] != '\n')
			continue;
		r = api_core_handle(&core, (const char *)data + start, i - start, &q, &def);
		if (def) /* a boot: complete it, alternately failing */
			r = api_core_boot_done(&core, def, (i & 1) ? 248 : 0, "x");
		json_decref(def);
		json_decref(r);
		start = i + 1;
	}
	for (unsigned int i = 0; i < q.n; i++)
		close(q.fd[i]);
	api_core_destroy(&core);
	config_free(&base);
	return 0;
}
