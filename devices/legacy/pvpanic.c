// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvpanic on an I/O port, described in ACPI as QEMU0001 so that Linux's
 * pvpanic-mmio driver binds (it accepts an I/O resource as well as memory).
 */
#include <errno.h>

#include "acpi/aml.h"
#include "devices/legacy/legacy.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define PVPANIC_PANICKED 0x1
#define PVPANIC_CRASH_LOADED 0x2

static void pvpanic_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	/* The capability byte: which events the guest may report. */
	for (uint32_t i = 0; i < size; i++)
		data[i] = i == 0 ? (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED) : 0;
}

static void pvpanic_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vm *vm = opaque;

	if (data[0] & PVPANIC_PANICKED) {
		log_info("guest reported a panic through pvpanic");
		vm_notify(vm, VM_EVENT_PANIC);
		/*
		 * Linux writes here from its first panic notifier, before the rest of its
		 * report is on the console: stop once the console has drained.
		 */
		vm_request_exit_drained(vm, KITE_EXIT_PANIC, "panic");
	} else if (data[0] & PVPANIC_CRASH_LOADED) {
		log_info("guest reported a crash handled by its crash kernel");
	}
}

static const struct bus_ops pvpanic_ops = { .read = pvpanic_read, .write = pvpanic_write };

int pvpanic_init(struct vm *vm, uint16_t port)
{
	const struct aml_res res[] = { { .type = AML_RES_IO, .base = port, .len = 1 } };
	int ret = bus_register(&vm->pio, port, 1, &pvpanic_ops, vm, "pvpanic");

	if (!ret)
		ret = aml_device(&vm->sb_aml, "PEVT", "QEMU0001", 0, res, 1);
	if (ret)
		log_error("pvpanic: cannot register port 0x%x: %d", port, ret);
	return ret;
}
