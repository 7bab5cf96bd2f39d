// SPDX-License-Identifier: GPL-2.0-only
#include <jansson.h>
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
	status = kite_main(argc, argv, &reason);

	if (status < 0 || status > 255)
		status = 249; /* never an undefined status */
	if (reason)
		fprintf(stderr, "kite: exit: %s status=%d\n", reason, status);
	return status;
}
