// SPDX-License-Identifier: GPL-2.0-only
/*
 * MCFG: where each PCI segment's ECAM (enhanced configuration access
 * mechanism) lives, written from the PCI Firmware Specification 3.3, 4.1.2.
 * Bus b of an entry is at base + (b << 20); the table does not reserve the
 * range, the DSDT must (a PNP0C02 device, see devices/pci/host.c).
 */
#include "acpi/acpi.h"

#include <errno.h>
#include <string.h>

#include "vmm/util.h"

#define MCFG_REVISION 1
#define MCFG_ENTRIES 44 /* after the header and 8 reserved bytes */
#define MCFG_ENTRY_LEN 16
#define ECAM_BUS_SHIFT 20

int acpi_build_mcfg(const struct acpi_mcfg_entry *e, size_t n, uint8_t *buf, size_t cap)
{
	size_t len, i;

	if (!e || !buf || n == 0 || n > ACPI_MCFG_MAX_ENTRIES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t end_off = ((uint64_t)e[i].bus_end + 1) << ECAM_BUS_SHIFT;

		if (e[i].base & ((1u << ECAM_BUS_SHIFT) - 1) || e[i].bus_start > e[i].bus_end ||
		    e[i].base > UINT64_MAX - end_off + 1)
			return -EINVAL;
	}
	len = ACPI_MCFG_LEN(n);
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	acpi_table_header(buf, "MCFG", MCFG_REVISION, (uint32_t)len);
	for (i = 0; i < n; i++) {
		uint8_t *p = buf + MCFG_ENTRIES + MCFG_ENTRY_LEN * i;

		put_le64(p, e[i].base);
		put_le16(p + 8, e[i].segment);
		p[10] = e[i].bus_start;
		p[11] = e[i].bus_end;
	}
	acpi_table_finish(buf, (uint32_t)len);
	return (int)len;
}
