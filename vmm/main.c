// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "vmm/run.h"

int main(int argc, char **argv)
{
	const char *reason = NULL;
	int status = kite_main(argc, argv, &reason);

	if (status < 0 || status > 255)
		status = 249; /* never an undefined status */
	if (reason)
		fprintf(stderr, "kite: exit: %s status=%d\n", reason, status);
	return status;
}
