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
	AML_RES_IO,    /* fixed-range I/O ports: base, len (<= 255) */
	AML_RES_IRQ,   /* ISA IRQ number in base (edge, active-high) */
	AML_RES_MEM32, /* 32-bit fixed memory range: base, len */
	/*
	 * Address-space descriptors a bridge produces for its children (a PCI
	 * root bridge's _CRS): fixed min/max, positive decode, memory
	 * non-cacheable and read-write, granularity and translation 0.
	 */
	AML_RES_BUS_WINDOW,   /* WordBusNumber: first bus in base, bus count in len */
	AML_RES_MEM32_WINDOW, /* DWordMemory: base, len, below 4 GiB */
	AML_RES_MEM64_WINDOW, /* QWordMemory: base, len, anywhere */
	AML_RES_IO_WINDOW,    /* WordIO: base, len, inside the 64 KiB port space */
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

/* aml_device() and aml_resource_template() refuse more descriptors than this. */
#define AML_MAX_RES 32

/* Largest value a PkgLength can carry (28 bits, the 4-byte encoding). */
#define AML_PKGLEN_MAX 0x0FFFFFFFu

/*
 * Lower-level building blocks, for nodes aml_device() does not cover (a PCI
 * host bridge with _CID/_SEG/_BBN/_PRT, nested scopes, ...). Functions that
 * return int give 0 or a negative errno and append nothing on -EINVAL.
 */

/*
 * Encodes the PkgLength of an object whose body (everything after the
 * PkgLength) is @body_len bytes; the encoded value counts its own bytes too.
 * Returns the number of bytes written to @out (1..4), or 0 if too large.
 */
size_t aml_pkglength_encode(uint8_t out[4], size_t body_len);
int aml_pkglength(struct aml_buf *b, size_t body_len);

/* Checks a 1..4 char name segment ([A-Z_][A-Z0-9_]*) and pads it with '_'. */
int aml_name_seg(const char *name, char seg[4]);

/* NameString: optional root prefix '\', then segments separated by '.' ("\_SB.PCI0"). */
int aml_name_path(struct aml_buf *b, const char *path);

/* Integer constant in its shortest form (Zero/One/Byte/Word/DWord/QWord). */
void aml_integer(struct aml_buf *b, uint64_t v);

/* String constant; @s must be printable ASCII. */
int aml_string(struct aml_buf *b, const char *s);

/* Compresses "PNP0501" (3 letters A-Z, 4 hex digits) to its EISA id value; -EINVAL if not one. */
int aml_eisaid(const char *id, uint32_t *out);

/* Name (NAME, value) for the value kinds devices need. @name is a NameString. */
int aml_name_integer(struct aml_buf *b, const char *name, uint64_t v);
int aml_name_string(struct aml_buf *b, const char *name, const char *s);
/* EisaId for a 7-char EISA id, otherwise a string: the usual _HID/_CID encoding. */
int aml_name_id(struct aml_buf *b, const char *name, const char *id);
/* Name (NAME, Package () { v0, v1, ... }) of integers; at most 255 elements. */
int aml_name_package(struct aml_buf *b, const char *name, const uint64_t *vals, size_t n);
/* Name (NAME, ResourceTemplate () { res... EndTag }). */
int aml_name_resources(struct aml_buf *b, const char *name, const struct aml_res *res, size_t nres);

/* ResourceTemplate () { ... } as a Buffer object (term), EndTag included. */
int aml_resource_template(struct aml_buf *b, const struct aml_res *res, size_t nres);

/* Scope (PATH) { body } and Device (PATH) { body } around already-encoded AML. */
int aml_scope(struct aml_buf *b, const char *path, const uint8_t *body, size_t len);
int aml_device_raw(struct aml_buf *b, const char *path, const uint8_t *body, size_t len);

#endif
