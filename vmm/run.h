/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KITE_VMM_RUN_H
#define KITE_VMM_RUN_H

#include "vmm/config.h"

/*
 * The whole program behind main(): parses @argv, runs the VM, and returns the
 * documented exit status (docs/exit-codes.md). *@reason names why.
 */
int kite_main(int argc, char **argv, const char **reason);

/* Builds and runs one VM to completion. Returns its exit status. */
int kite_run(const struct vm_config *cfg, const char **reason);

#endif
