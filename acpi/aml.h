/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small AML encoder. Devices use it to describe themselves; the VM builder
 * concatenates the fragments into the DSDT's \_SB scope.
 */
#ifndef KITE_ACPI_AML_H
#define KITE_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer; on allocation failure `err` is set and later appends are dropped. */
struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* 0 or -ENOMEM */
};

void aml_buf_init(struct aml_buf *b);
void aml_buf_free(struct aml_buf *b);
void aml_append(struct aml_buf *b, const void *bytes, size_t len);

enum aml_res_type {
	AML_RES_IO,	/* fixed-range I/O ports: base, len (<= 255) */
	AML_RES_IRQ,	/* ISA IRQ number in base (edge, active-high) */
	AML_RES_MEM32,	/* 32-bit fixed memory range: base, len */
};

struct aml_res {
	enum aml_res_type type;
	uint64_t base;
	uint64_t len;
};

/*
 * Appends Device (NAME) { Name (_HID, hid) Name (_UID, uid) Name (_CRS, ...) [_STA = 0xF] }.
 * @name: 1..4 chars [A-Z0-9_], first not a digit. @hid: either a 7-char EISA id
 * ("PNP0501", encoded as EisaId) or any other string (encoded as a string, e.g. "QEMU0001").
 * Returns 0 or -EINVAL (bad name, too many resources) / -ENOMEM.
 */
int aml_device(struct aml_buf *b, const char *name, const char *hid, uint32_t uid,
	       const struct aml_res *res, size_t nres);

#endif
