/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure ACPI table builders: bytes in a caller-provided buffer, no KVM, no
 * device knowledge beyond what the caller passes in.
 */
#ifndef KITE_ACPI_ACPI_H
#define KITE_ACPI_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* An interrupt source override for the MADT (ISA IRQ -> GSI). */
struct acpi_irq_override {
	uint8_t source; /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags (polarity/trigger), 0 = bus default */
};

/* A table built elsewhere (MCFG, DMAR, ...) that the XSDT must list. */
struct acpi_extra_table {
	const uint8_t *data; /* complete table, header and checksum included */
	size_t len;
};

struct acpi_tables_cfg {
	unsigned int ncpus; /* local APIC ids 0..ncpus-1, all enabled */
	uint32_t lapic_addr;
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	uint32_t ioapic_gsi_base;
	const struct acpi_irq_override *overrides;
	size_t noverrides;
	/* FADT hardware-reduced sleep registers, in I/O port space (8 bits each). */
	uint16_t sleep_ctl_port;
	uint16_t sleep_sts_port;
	/* AML (device definitions) placed inside Scope (\_SB) of the DSDT. */
	const uint8_t *sb_aml;
	size_t sb_aml_len;
	const struct acpi_extra_table *extra;
	size_t nextra;
};

#define ACPI_TABLE_HEADER_LEN 36
#define ACPI_RSDP_LEN 36
#define ACPI_FADT_LEN 276

/*
 * Lays out RSDP, XSDT, FADT, MADT, DSDT (with \_S5) and the extra tables in
 * @buf, which the guest will see at guest-physical address @base. RSDP comes
 * first, at @base (16-byte aligned), so legacy scans of the BIOS area find it.
 * Returns 0 and the bytes used in *@used (which may be NULL), or -ENOSPC
 * (nothing written) / -EINVAL: NULL @cfg or @buf, ncpus 0 or > 255, @base not
 * 16-byte aligned, more than 16 overrides or an ISA source >= 16, a NULL
 * array with a non-zero count, more than 64 extra tables, an extra table whose
 * header length or checksum is wrong.
 */
int acpi_build_tables(const struct acpi_tables_cfg *cfg, uint64_t base, uint8_t *buf, size_t cap,
		      size_t *used);

/* One ECAM region of the MCFG: the configuration space of buses bus_start..bus_end. */
struct acpi_mcfg_entry {
	uint64_t base; /* address of bus 0's space (even if bus_start > 0), 1 MiB aligned */
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

#define ACPI_MCFG_MAX_ENTRIES 16
#define ACPI_MCFG_LEN(n) (44 + 16 * (n))

/*
 * Builds an MCFG table (PCI Firmware spec 3.3, 4.1.2) with @n entries into
 * @buf. Returns its length, -ENOSPC if @cap is too small (nothing written) or
 * -EINVAL: NULL pointers, @n 0 or > ACPI_MCFG_MAX_ENTRIES, a base that is not
 * 1 MiB aligned, bus_start > bus_end, or a region that wraps the address space.
 */
int acpi_build_mcfg(const struct acpi_mcfg_entry *e, size_t n, uint8_t *buf, size_t cap);

/* DMAR (acpi/dmar.c): one DRHD at @base with one PCI-endpoint scope per source id. */
#define ACPI_DMAR_MAX_SCOPES 256
struct acpi_dmar_cfg {
	uint64_t base; /* register page, 4 KiB aligned, non-zero */
	uint16_t segment;
	unsigned int haw;     /* host address width in bits (39, 48) */
	const uint16_t *sids; /* bus << 8 | devfn, each a PCI endpoint */
	size_t nsids;
};

size_t acpi_dmar_len(size_t nsids);
/* Returns the table length, -ENOSPC (nothing written) or -EINVAL (bad @cfg). */
int acpi_build_dmar(const struct acpi_dmar_cfg *cfg, uint8_t *buf, size_t cap);

/* Fills the standard 36-byte header and later fixes length and checksum. */
void acpi_table_header(uint8_t *t, const char sig[4], uint8_t revision, uint32_t len);
/* Sets t[@csum_off] so that the @len bytes at @t sum to zero (any old value ignored). */
void acpi_table_checksum(uint8_t *t, size_t len, size_t csum_off);
/* Stores @len in the header and sets the header checksum over @len bytes. */
void acpi_table_finish(uint8_t *t, uint32_t len);

/* Value with which the 8-bit sum of @len bytes at @p is zero. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
