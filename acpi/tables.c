// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSDP, XSDT, FADT, MADT and DSDT for an x86 guest booted without firmware,
 * written from the ACPI 6.5 specification (5.2). The platform is
 * "hardware-reduced" (5.2.9, HW_REDUCED_ACPI): no PM1/GPE register blocks
 * and no SCI; power-off goes through the FADT sleep control register.
 */
#include "acpi/acpi.h"

#include <errno.h>
#include <string.h>

#include "acpi/aml.h"
#include "vmm/util.h"

#define ACPI_OEM_ID "KITE  "
#define ACPI_OEM_TABLE_ID "KITEVM  "
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "KITE"
#define ACPI_CREATOR_REVISION 1

/* Table header field offsets (5.2.6) */
#define HDR_LENGTH 4
#define HDR_CHECKSUM 9

/* RSDP (5.2.5.3) */
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_LEN 20

/* FADT (5.2.9), revision 6 */
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 0
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_MINOR 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_HYPERVISOR_ID 268

#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define FADT_F_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/*
 * SCI_INT means nothing on a hardware-reduced platform, but Linux compares
 * it with every MADT interrupt source override; 9 (the PC convention) keeps
 * it from matching the usual IRQ0 -> GSI2 override.
 */
#define FADT_SCI_IRQ 9

/* Generic Address Structure (5.2.3.2) */
#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_LEN 12

/* MADT (5.2.12), revision 5 */
#define MADT_REVISION 5
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_OVERRIDE 2
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_OVERRIDE_LEN 10
#define MADT_LAPIC_ENABLED (1u << 0)

#define XSDT_REVISION 1
#define DSDT_REVISION 2 /* 2 and above: 64-bit AML integers */

/* ISA has 16 IRQs; each can be overridden once. */
#define ACPI_MAX_OVERRIDES 16
/* Generous; an XSDT with more entries would mean a caller bug. */
#define ACPI_MAX_EXTRA 64
#define ACPI_MAX_CPUS 255

/* ScopeOp PkgLength(up to 4 bytes) '\' "_SB_" */
#define DSDT_SCOPE_HDR_MAX (1 + 4 + 1 + 4)

/*
 * Name (\_S5, Package (4) { 5, 0, 0, 0 }): SLP_TYPa = 5. Linux powers off by
 * writing (SLP_TYPa << 2) | SLP_EN (bit 5) = 0x34 to SLEEP_CONTROL_REG.
 */
/* clang-format off */
static const uint8_t dsdt_s5[] = {
	0x08, '\\', '_', 'S', '5', '_', /* NameOp \_S5_ */
	0x12, 0x07, 0x04,		/* PackageOp, PkgLength 7, 4 elements */
	0x0a, 0x05, 0x00, 0x00, 0x00,	/* BytePrefix 5, Zero, Zero, Zero */
};
/* clang-format on */

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

void acpi_table_checksum(uint8_t *t, size_t len, size_t csum_off)
{
	t[csum_off] = 0;
	t[csum_off] = acpi_checksum(t, len);
}

void acpi_table_header(uint8_t *t, const char sig[4], uint8_t revision, uint32_t len)
{
	memset(t, 0, ACPI_TABLE_HEADER_LEN);
	memcpy(t, sig, 4);
	put_le32(t + HDR_LENGTH, len);
	t[8] = revision;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(t + 24, ACPI_OEM_REVISION);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le32(t + 32, ACPI_CREATOR_REVISION);
}

void acpi_table_finish(uint8_t *t, uint32_t len)
{
	put_le32(t + HDR_LENGTH, len);
	acpi_table_checksum(t, len, HDR_CHECKSUM);
}

static void put_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SPACE_SYSTEM_IO;
	p[1] = 8; /* register bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put_le64(p + 4, port);
}

/* Where each table goes; computed in full before a single byte is written. */
struct acpi_layout {
	size_t xsdt, xsdt_len;
	size_t fadt;
	size_t madt, madt_len;
	size_t dsdt, dsdt_len;
	size_t total; /* end of the last table; extra tables follow the DSDT, 8-byte aligned */
};

static int acpi_check_cfg(const struct acpi_tables_cfg *cfg, uint64_t base)
{
	size_t i;

	if (!cfg || cfg->ncpus == 0 || cfg->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (base & 15)
		return -EINVAL;
	if (cfg->noverrides > ACPI_MAX_OVERRIDES || (cfg->noverrides && !cfg->overrides))
		return -EINVAL;
	for (i = 0; i < cfg->noverrides; i++)
		if (cfg->overrides[i].source >= 16)
			return -EINVAL;
	if (cfg->sb_aml_len && !cfg->sb_aml)
		return -EINVAL;
	/* The Scope's PkgLength counts the "\_SB_" name and itself too. */
	if (cfg->sb_aml_len > AML_PKGLEN_MAX - DSDT_SCOPE_HDR_MAX)
		return -EINVAL;
	if (cfg->nextra > ACPI_MAX_EXTRA || (cfg->nextra && !cfg->extra))
		return -EINVAL;
	for (i = 0; i < cfg->nextra; i++) {
		const struct acpi_extra_table *e = &cfg->extra[i];

		/* A complete table says its own length; anything else is a caller bug. */
		if (!e->data || e->len < ACPI_TABLE_HEADER_LEN || e->len > UINT32_MAX ||
		    get_le32(e->data + HDR_LENGTH) != e->len || acpi_checksum(e->data, e->len))
			return -EINVAL;
	}
	return 0;
}

static size_t dsdt_scope_len(size_t sb_len, uint8_t pkglen[4], size_t *npkg)
{
	/* Body of the Scope: the name (root char + segment) and the caller's AML. */
	*npkg = aml_pkglength_encode(pkglen, 5 + sb_len);
	return 1 + *npkg + 5 + sb_len;
}

static int acpi_layout(const struct acpi_tables_cfg *cfg, uint64_t base, struct acpi_layout *l)
{
	uint8_t pkglen[4];
	size_t npkg, i;
	uint64_t off;

	l->xsdt = ALIGN_UP((size_t)ACPI_RSDP_LEN, 8);
	l->xsdt_len = ACPI_TABLE_HEADER_LEN + 8 * (2 + cfg->nextra);
	l->fadt = ALIGN_UP(l->xsdt + l->xsdt_len, 8);
	l->madt = ALIGN_UP(l->fadt + ACPI_FADT_LEN, 8);
	l->madt_len = MADT_ENTRIES + MADT_LAPIC_LEN * cfg->ncpus + MADT_IOAPIC_LEN +
		      MADT_OVERRIDE_LEN * cfg->noverrides;
	l->dsdt = ALIGN_UP(l->madt + l->madt_len, 8);
	l->dsdt_len = ACPI_TABLE_HEADER_LEN + dsdt_scope_len(cfg->sb_aml_len, pkglen, &npkg) +
		      sizeof(dsdt_s5);
	if (!npkg || l->dsdt_len > UINT32_MAX)
		return -EINVAL;

	/* 64-bit arithmetic: extra tables may be up to 4 GiB each. */
	off = l->dsdt + l->dsdt_len;
	for (i = 0; i < cfg->nextra; i++)
		off = ALIGN_UP(off, (uint64_t)8) + cfg->extra[i].len;
	if (off > SIZE_MAX || base + off < base)
		return -EINVAL;
	l->total = (size_t)off;
	return 0;
}

static void acpi_build_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
	memset(p, 0, ACPI_RSDP_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	p[RSDP_REVISION] = 2;
	put_le32(p + RSDP_RSDT, 0); /* no RSDT: every consumer we care about reads the XSDT */
	put_le32(p + RSDP_LENGTH, ACPI_RSDP_LEN);
	put_le64(p + RSDP_XSDT, xsdt_gpa);
	/* The first checksum covers the ACPI 1.0 part only, the second all of it. */
	acpi_table_checksum(p, RSDP_V1_LEN, RSDP_CHECKSUM);
	acpi_table_checksum(p, ACPI_RSDP_LEN, RSDP_EXT_CHECKSUM);
}

static void acpi_build_fadt(uint8_t *t, uint64_t dsdt_gpa, const struct acpi_tables_cfg *cfg)
{
	acpi_table_header(t, "FACP", FADT_REVISION, ACPI_FADT_LEN);
	memset(t + ACPI_TABLE_HEADER_LEN, 0, ACPI_FADT_LEN - ACPI_TABLE_HEADER_LEN);
	/* The 32-bit field only if it can hold the address; X_DSDT always. */
	put_le32(t + FADT_DSDT, dsdt_gpa <= UINT32_MAX ? (uint32_t)dsdt_gpa : 0);
	put_le16(t + FADT_SCI_INT, FADT_SCI_IRQ);
	put_le16(t + FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT);
	/* RESET_REG_SUP stays clear: reset goes through the i8042 (0xfe to port 0x64). */
	put_le32(t + FADT_FLAGS,
		 FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_HW_REDUCED_ACPI);
	t[FADT_MINOR] = FADT_MINOR_REVISION;
	put_le64(t + FADT_X_DSDT, dsdt_gpa);
	put_gas_io8(t + FADT_SLEEP_CONTROL, cfg->sleep_ctl_port);
	put_gas_io8(t + FADT_SLEEP_STATUS, cfg->sleep_sts_port);
	memcpy(t + FADT_HYPERVISOR_ID, "KITE\0\0\0\0", 8);
	acpi_table_finish(t, ACPI_FADT_LEN);
}

static void acpi_build_madt(uint8_t *t, size_t len, const struct acpi_tables_cfg *cfg)
{
	uint8_t *p = t + MADT_ENTRIES;
	unsigned int i;

	acpi_table_header(t, "APIC", MADT_REVISION, (uint32_t)len);
	put_le32(t + MADT_LAPIC_ADDR, cfg->lapic_addr);
	/* KVM's in-kernel irqchip includes the dual 8259, so say it is there. */
	put_le32(t + MADT_FLAGS, MADT_PCAT_COMPAT);

	for (i = 0; i < cfg->ncpus; i++, p += MADT_LAPIC_LEN) {
		p[0] = MADT_TYPE_LAPIC;
		p[1] = MADT_LAPIC_LEN;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC id */
		put_le32(p + 4, MADT_LAPIC_ENABLED);
	}

	p[0] = MADT_TYPE_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = cfg->ioapic_id;
	p[3] = 0;
	put_le32(p + 4, cfg->ioapic_addr);
	put_le32(p + 8, cfg->ioapic_gsi_base);
	p += MADT_IOAPIC_LEN;

	for (i = 0; i < cfg->noverrides; i++, p += MADT_OVERRIDE_LEN) {
		const struct acpi_irq_override *o = &cfg->overrides[i];

		p[0] = MADT_TYPE_OVERRIDE;
		p[1] = MADT_OVERRIDE_LEN;
		p[2] = 0; /* bus: ISA */
		p[3] = o->source;
		put_le32(p + 4, o->gsi);
		put_le16(p + 8, o->flags);
	}
	acpi_table_finish(t, (uint32_t)len);
}

static void acpi_build_dsdt(uint8_t *t, size_t len, const struct acpi_tables_cfg *cfg)
{
	uint8_t *p = t + ACPI_TABLE_HEADER_LEN;
	uint8_t pkglen[4];
	size_t npkg;

	acpi_table_header(t, "DSDT", DSDT_REVISION, (uint32_t)len);
	dsdt_scope_len(cfg->sb_aml_len, pkglen, &npkg);
	*p++ = 0x10; /* ScopeOp */
	memcpy(p, pkglen, npkg);
	p += npkg;
	memcpy(p, "\\_SB_", 5);
	p += 5;
	if (cfg->sb_aml_len)
		memcpy(p, cfg->sb_aml, cfg->sb_aml_len);
	p += cfg->sb_aml_len;
	memcpy(p, dsdt_s5, sizeof(dsdt_s5));
	acpi_table_finish(t, (uint32_t)len);
}

int acpi_build_tables(const struct acpi_tables_cfg *cfg, uint64_t base, uint8_t *buf, size_t cap,
		      size_t *used)
{
	struct acpi_layout l;
	size_t i, off;
	uint8_t *xsdt;
	int ret;

	if (!buf)
		return -EINVAL;
	ret = acpi_check_cfg(cfg, base);
	if (!ret)
		ret = acpi_layout(cfg, base, &l);
	if (ret)
		return ret;
	if (l.total > cap)
		return -ENOSPC;

	/* Alignment gaps are zeroed too, so the output does not depend on @buf's old contents. */
	memset(buf, 0, l.total);
	acpi_build_rsdp(buf, base + l.xsdt);

	xsdt = buf + l.xsdt;
	acpi_table_header(xsdt, "XSDT", XSDT_REVISION, (uint32_t)l.xsdt_len);
	put_le64(xsdt + ACPI_TABLE_HEADER_LEN, base + l.fadt);
	put_le64(xsdt + ACPI_TABLE_HEADER_LEN + 8, base + l.madt);

	acpi_build_fadt(buf + l.fadt, base + l.dsdt, cfg);
	acpi_build_madt(buf + l.madt, l.madt_len, cfg);
	acpi_build_dsdt(buf + l.dsdt, l.dsdt_len, cfg);

	off = l.dsdt + l.dsdt_len;
	for (i = 0; i < cfg->nextra; i++) {
		off = ALIGN_UP(off, (size_t)8);
		memcpy(buf + off, cfg->extra[i].data, cfg->extra[i].len);
		put_le64(xsdt + ACPI_TABLE_HEADER_LEN + 8 * (2 + i), base + off);
		off += cfg->extra[i].len;
	}
	acpi_table_finish(xsdt, (uint32_t)l.xsdt_len);

	if (used)
		*used = l.total;
	return 0;
}
