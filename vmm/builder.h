/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KITE_VMM_BUILDER_H
#define KITE_VMM_BUILDER_H

#include "vmm/vm.h"

struct uart8250;

/*
 * Creates kite's devices on a fresh VM, loads the guest and creates the
 * vCPUs. *@uart receives the console UART (for input). Returns 0 or a kite
 * exit code.
 */
int vm_build(struct vm *vm, int serial_fd, struct uart8250 **uart);

#endif
