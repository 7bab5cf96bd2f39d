// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hardware-reduced ACPI power button: a Generic Event Device (ACPI 6.5,
 * 5.6.9, _HID ACPI0013) whose one interrupt runs _EVT, which notifies a
 * control-method power button (PNP0C0C, 4.8.2.2.1.2) with 0x80. Linux's
 * evged and button drivers turn that into KEY_POWER, which the guest's
 * power manager (systemd-logind, busybox acpid) answers by powering off
 * through \_S5 (devices/legacy/acpi_pm.c). The control API's `shutdown`
 * presses it. The FADT's PWR_BUTTON flag stays set: there is no
 * fixed-feature button on a hardware-reduced platform.
 */
#include <errno.h>
#include <stdlib.h>

#include "acpi/aml.h"
#include "devices/legacy/legacy.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define AML_NAME_OP 0x08
#define AML_BUFFER_OP 0x11
#define AML_BYTE_PREFIX 0x0a
#define AML_METHOD_OP 0x14
#define AML_NOTIFY_OP 0x86

#define RES_EXT_IRQ 0x89 /* Extended Interrupt Descriptor (6.4.3.6), large item 0x09 */
#define RES_EXT_IRQ_CONSUMER 0x01
#define RES_EXT_IRQ_EDGE 0x02 /* active-high (bit 2 clear), exclusive (bit 3 clear) */
#define RES_END_TAG 0x79

#define BUTTON_NOTIFY_STATUS 0x80 /* "button pressed" (4.8.2.2.1.2) */

struct ged {
	struct vm *vm;
	uint32_t gsi;
};

/* Name (_CRS, ResourceTemplate () { Interrupt (ResourceConsumer, Edge, ActiveHigh) { gsi } }) */
static int ged_crs(struct aml_buf *b, uint32_t gsi)
{
	/* clang-format off */
	const uint8_t res[] = {
		RES_EXT_IRQ, 6, 0, RES_EXT_IRQ_CONSUMER | RES_EXT_IRQ_EDGE, 1,
		(uint8_t)gsi, (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16), (uint8_t)(gsi >> 24),
		RES_END_TAG, 0,
	};
	/* clang-format on */
	const uint8_t head[] = { AML_NAME_OP, '_', 'C', 'R', 'S', AML_BUFFER_OP };
	const uint8_t size[] = { AML_BYTE_PREFIX, sizeof(res) };

	aml_append(b, head, sizeof(head));
	if (aml_pkglength(b, sizeof(size) + sizeof(res)))
		return -EINVAL;
	aml_append(b, size, sizeof(size));
	aml_append(b, res, sizeof(res));
	return b->err;
}

/* Method (_EVT, 1) { Notify (PWRB, 0x80) }: one interrupt, so Arg0 needs no test. */
static int ged_evt(struct aml_buf *b)
{
	/* clang-format off */
	const uint8_t body[] = {
		'_', 'E', 'V', 'T', 0x01 /* one argument, not serialized */,
		AML_NOTIFY_OP, 'P', 'W', 'R', 'B', AML_BYTE_PREFIX, BUTTON_NOTIFY_STATUS,
	};
	/* clang-format on */
	const uint8_t op = AML_METHOD_OP;

	aml_append(b, &op, 1);
	if (aml_pkglength(b, sizeof(body)))
		return -EINVAL;
	aml_append(b, body, sizeof(body));
	return b->err;
}

static int ged_power_button(void *opaque)
{
	struct ged *g = opaque;
	int ret;

	/* An edge: raise and lower the line at once. */
	ret = vm_irq_line(g->vm, g->gsi, 1);
	if (!ret)
		ret = vm_irq_line(g->vm, g->gsi, 0);
	if (!ret)
		log_info("ACPI power button pressed (GED, GSI %u)", g->gsi);
	return ret;
}

int ged_init(struct vm *vm, uint32_t gsi)
{
	struct ged *g = calloc(1, sizeof(*g));
	struct aml_buf body;
	int ret;

	if (!g)
		return -ENOMEM;
	if (vm_own(vm, free, g)) {
		free(g);
		return -ENOSPC;
	}
	g->vm = vm;
	g->gsi = gsi;
	ret = aml_device(&vm->sb_aml, "PWRB", "PNP0C0C", 0, NULL, 0);
	aml_buf_init(&body);
	if (!ret)
		ret = aml_name_id(&body, "_HID", "ACPI0013");
	if (!ret)
		ret = aml_name_integer(&body, "_UID", 0);
	if (!ret)
		ret = ged_crs(&body, gsi);
	if (!ret)
		ret = ged_evt(&body);
	if (!ret)
		ret = aml_device_raw(&vm->sb_aml, "GED0", body.data, body.len);
	aml_buf_free(&body);
	if (ret) {
		log_error("GED power button: cannot describe it in ACPI: %d", ret);
		return ret;
	}
	vm->power_button = ged_power_button;
	vm->power_button_opaque = g;
	return 0;
}
