// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debug-exit port: the guest writes a byte and kite exits with exactly that
 * status, 0 included (unlike QEMU's isa-debug-exit, which reports (v<<1)|1).
 */
#include <errno.h>
#include <stdlib.h>

#include "devices/legacy/legacy.h"
#include "vmm/log.h"
#include "vmm/vm.h"

static void debug_exit_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vm *vm = opaque;

	/* Any width is accepted at the base port; the low byte is the status. */
	if (off != 0)
		return;
	log_info("guest requested exit status %u through the debug-exit port", data[0]);
	vm_request_exit(vm, data[0], "guest-exit");
}

static const struct bus_ops debug_exit_ops = { .read = bus_read_zeros, .write = debug_exit_write };

int debug_exit_init(struct vm *vm, uint16_t port)
{
	int ret = bus_register(&vm->pio, port, 4, &debug_exit_ops, vm, "debug-exit");

	if (ret)
		log_error("debug-exit: cannot register port 0x%x: %d", port, ret);
	return ret;
}
