// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMAR (VT-d spec 8): one DRHD with an explicit PCI-endpoint device scope per source id, no
 * INCLUDE_PCI_ALL, so the table names exactly which devices sit behind the unit.
 */
#include <errno.h>
#include <string.h>

#include "acpi/acpi.h"
#include "vmm/util.h"

#define DMAR_HDR_LEN 48
#define DRHD_LEN 16
#define SCOPE_LEN 8

size_t acpi_dmar_len(size_t nsids)
{
	return DMAR_HDR_LEN + DRHD_LEN + nsids * SCOPE_LEN;
}

int acpi_build_dmar(const struct acpi_dmar_cfg *cfg, uint8_t *buf, size_t cap)
{
	size_t len;
	uint8_t *d;

	if (!cfg || !buf || (cfg->nsids && !cfg->sids) || cfg->nsids > ACPI_DMAR_MAX_SCOPES ||
	    cfg->haw < 12 || cfg->haw > 64 || !cfg->base || (cfg->base & 0xfff))
		return -EINVAL;
	len = acpi_dmar_len(cfg->nsids);
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	acpi_table_header(buf, "DMAR", 1, (uint32_t)len);
	buf[36] = (uint8_t)(cfg->haw - 1); /* Host Address Width: N - 1 */
	buf[37] = 0;			   /* no interrupt remapping, no x2APIC opt-out */
	d = buf + DMAR_HDR_LEN;
	put_le16(d, 0); /* DRHD */
	put_le16(d + 2, (uint16_t)(DRHD_LEN + cfg->nsids * SCOPE_LEN));
	d[4] = 0; /* flags: explicit scopes */
	d[5] = 0; /* register set: 2^0 pages */
	put_le16(d + 6, cfg->segment);
	put_le64(d + 8, cfg->base);
	d += DRHD_LEN;
	for (size_t i = 0; i < cfg->nsids; i++, d += SCOPE_LEN) {
		uint16_t sid = cfg->sids[i];

		d[0] = 1; /* PCI endpoint */
		d[1] = SCOPE_LEN;
		d[4] = 0;			     /* enumeration id */
		d[5] = (uint8_t)(sid >> 8);	     /* start bus */
		d[6] = (uint8_t)((sid >> 3) & 0x1f); /* device */
		d[7] = (uint8_t)(sid & 7);	     /* function */
	}
	acpi_table_finish(buf, (uint32_t)len);
	return (int)len;
}
