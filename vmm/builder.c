// SPDX-License-Identifier: GPL-2.0-only
/* The VM builder: the only place that knows the full device set. */
#include "vmm/builder.h"

#include "arch/x86/layout.h"
#include "devices/legacy/legacy.h"
#include "vmm/arch.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"

int vm_build(struct vm *vm, int serial_fd, struct uart8250 **uart)
{
	int ret;

	*uart = uart8250_create(vm, X86_COM1_PORT, X86_COM1_IRQ, serial_fd);
	if (!*uart)
		return KITE_EXIT_DEVICE;
	if (i8042_init(vm, X86_I8042_PORT) || debug_exit_init(vm, X86_DEBUG_EXIT_PORT) ||
	    pvpanic_init(vm, X86_PVPANIC_PORT) || boot_timer_init(vm, X86_BOOT_TIMER_PORT) ||
	    acpi_pm_init(vm, X86_PM_SLEEP_CTL_PORT, X86_PM_SLEEP_STS_PORT))
		return KITE_EXIT_DEVICE;
	ret = arch_load_guest(vm);
	if (ret)
		return ret;
	return vm_create_vcpus(vm);
}
