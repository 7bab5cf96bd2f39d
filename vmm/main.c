// SPDX-License-Identifier: GPL-2.0-only
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>

#include "vmm/run.h"

int main(int argc, char **argv)
{
	const char *reason = NULL;
	int status;

	/*
	 * jansson seeds its hash function on first use, from /dev/urandom; done lazily that
	 * happens on whichever thread first builds an object (the API thread, under a seccomp
	 * filter that has no openat). Seed it here, before any thread exists, as jansson asks.
	 */
	json_object_seed(0);
	/*
	 * One malloc arena. glibc gives other threads arenas of their own, and trimming one
	 * reads /proc/sys/vm/overcommit_memory: an openat on whichever thread freed memory
	 * (the API thread died with 250 under 16 clients). The main arena never does, and
	 * kite's threads allocate too little for arena contention to matter.
	 */
	mallopt(M_ARENA_MAX, 1);
	status = kite_main(argc, argv, &reason);

	if (status < 0 || status > 255)
		status = 249; /* never an undefined status */
	if (reason)
		fprintf(stderr, "kite: exit: %s status=%d\n", reason, status);
	return status;
}
