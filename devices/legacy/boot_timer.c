// SPDX-License-Identifier: GPL-2.0-only
/* Boot timer: the guest's init writes the port once; kite logs the time since its own start. */
#include <errno.h>
#include <stdlib.h>

#include "devices/legacy/legacy.h"
#include "vmm/log.h"
#include "vmm/vm.h"

struct boot_timer {
	struct vm *vm;
	int fired; /* atomic: several vCPUs may race on the first write */
};

static void boot_timer_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct boot_timer *t = opaque;
	double ms = vm_elapsed_ms(t->vm);

	if (__atomic_exchange_n(&t->fired, 1, __ATOMIC_SEQ_CST) == 0) {
		log_info("boot-timer: %.3f ms from kite start to the guest's write", ms);
		vm_notify(t->vm, VM_EVENT_BOOT);
	} else
		log_debug("boot-timer: another write at %.3f ms", ms);
}

static const struct bus_ops boot_timer_ops = { .read = bus_read_zeros, .write = boot_timer_write };

int boot_timer_init(struct vm *vm, uint16_t port)
{
	struct boot_timer *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->vm = vm;
	if (vm_own(vm, free, t)) {
		free(t);
		return -ENOSPC;
	}
	ret = bus_register(&vm->pio, port, 1, &boot_timer_ops, t, "boot-timer");
	if (ret)
		log_error("boot-timer: cannot register port 0x%x: %d", port, ret);
	return ret;
}
