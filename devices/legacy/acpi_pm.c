// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware-reduced ACPI sleep control and status registers (FADT
 * SLEEP_CONTROL_REG / SLEEP_STATUS_REG). Entering S5 powers the VM off.
 */
#include <errno.h>

#include "devices/legacy/legacy.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x7
#define S5_SLP_TYP 5 /* must match the DSDT's \_S5 package */

static void pm_ctl_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vm *vm = opaque;
	unsigned int typ = (data[0] >> SLP_TYP_SHIFT) & SLP_TYP_MASK;

	if (!(data[0] & SLP_EN))
		return;
	if (typ == S5_SLP_TYP) {
		log_info("guest entered ACPI S5: power-off");
		vm_request_exit(vm, KITE_EXIT_POWEROFF, "poweroff");
	} else {
		log_warn("guest asked for ACPI sleep type %u, which kite does not implement", typ);
	}
}

static void pm_sts_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	/* WAK_STS is write-1-to-clear and never set: nothing to do. */
}

static const struct bus_ops pm_ctl_ops = { .read = bus_read_zeros, .write = pm_ctl_write };
static const struct bus_ops pm_sts_ops = { .read = bus_read_zeros, .write = pm_sts_write };

int acpi_pm_init(struct vm *vm, uint16_t sleep_ctl_port, uint16_t sleep_sts_port)
{
	int ret = bus_register(&vm->pio, sleep_ctl_port, 1, &pm_ctl_ops, vm, "acpi-sleep-ctl");

	if (!ret)
		ret = bus_register(&vm->pio, sleep_sts_port, 1, &pm_sts_ops, vm, "acpi-sleep-sts");
	if (ret)
		log_error("ACPI PM: cannot register ports 0x%x/0x%x: %d", sleep_ctl_port,
			  sleep_sts_port, ret);
	return ret;
}
