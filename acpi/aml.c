// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small AML encoder, written from the ACPI specification (chapter 20, "ACPI
 * Machine Language Specification", and 6.4, "Resource Data Types").
 *
 * Objects with a PkgLength (Scope, Device, Package, Buffer) need their body
 * size up front, so bodies are encoded into a scratch aml_buf first and then
 * appended behind the opcode and PkgLength.
 */
#include "acpi/aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/util.h"

/* AML opcodes (ACPI 6.5, 20.3) */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR 0x5c

/* Resource descriptor tags (ACPI 6.5, 6.4.2 and 6.4.3) */
#define RES_IRQ_NOFLAGS 0x22 /* small item 0x04, 2 data bytes: edge, active-high */
#define RES_IO 0x47	     /* small item 0x08, 7 data bytes */
#define RES_END_TAG 0x79     /* small item 0x0f, 1 data byte (checksum) */
#define RES_MEM32_FIXED 0x86 /* large item 0x06 */
#define RES_DWORD_ADDR 0x87  /* large item 0x07 */
#define RES_WORD_ADDR 0x88   /* large item 0x08 */
#define RES_QWORD_ADDR 0x8a  /* large item 0x0a */

#define RES_IO_DECODE16 0x01
#define RES_MEM_RW 0x01
#define RES_ISA_IRQS 16

/* Address space descriptors (6.4.3.5): resource type and flags */
#define RES_ADDR_MEMORY 0
#define RES_ADDR_IO 1
#define RES_ADDR_BUS 2
#define RES_ADDR_IO_ENTIRE 0x03	     /* type-specific, I/O: ISA and non-ISA ranges */
#define RES_ADDR_MIN_FIXED (1u << 2) /* general flags; bit 0 clear: producer, bit 1 clear: pos. */
#define RES_ADDR_MAX_FIXED (1u << 3)
#define RES_ADDR_MEM_RW 0x01 /* type-specific, memory: read-write, non-cacheable */

/* Longest string aml_string() accepts; far beyond any id, guards silly input. */
#define AML_STRING_MAX 1024

void aml_buf_init(struct aml_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

void aml_buf_free(struct aml_buf *b)
{
	free(b->data);
	aml_buf_init(b);
}

void aml_append(struct aml_buf *b, const void *bytes, size_t len)
{
	if (b->err || len == 0)
		return;
	if (len > SIZE_MAX - b->len) {
		b->err = -ENOMEM;
		return;
	}
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		uint8_t *n;

		while (ncap < b->len + len) {
			if (ncap > SIZE_MAX / 2) {
				ncap = b->len + len;
				break;
			}
			ncap *= 2;
		}
		n = realloc(b->data, ncap);
		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
}

static void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_append(b, &v, 1);
}

size_t aml_pkglength_encode(uint8_t out[4], size_t body_len)
{
	size_t n, total;

	/*
	 * One byte holds 6 bits; with n bytes (n = 2..4) the lead byte keeps 4
	 * bits and each following byte 8, and bits 7:6 of the lead say n - 1.
	 */
	if (body_len > AML_PKGLEN_MAX)
		return 0;
	if (body_len + 1 <= 0x3f) {
		out[0] = (uint8_t)(body_len + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		if (body_len > AML_PKGLEN_MAX - n)
			return 0;
		total = body_len + n;
		if (total < ((size_t)1 << (4 + 8 * (n - 1)))) {
			size_t i;

			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
			for (i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

int aml_pkglength(struct aml_buf *b, size_t body_len)
{
	uint8_t enc[4];
	size_t n = aml_pkglength_encode(enc, body_len);

	if (!n)
		return -EINVAL;
	aml_append(b, enc, n);
	return b->err;
}

static bool is_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_lead_char(c) || (c >= '0' && c <= '9');
}

/* Validates the segment in name[0..len) and pads it to four characters. */
static int name_seg_n(const char *name, size_t len, char seg[4])
{
	size_t i;

	if (len < 1 || len > 4 || !is_lead_char(name[0]))
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (i < len && !is_name_char(name[i]))
			return -EINVAL;
		seg[i] = i < len ? name[i] : '_';
	}
	return 0;
}

int aml_name_seg(const char *name, char seg[4])
{
	if (!name)
		return -EINVAL;
	return name_seg_n(name, strnlen(name, 5), seg);
}

int aml_name_path(struct aml_buf *b, const char *path)
{
	/* Encoded into a local first so a bad segment appends nothing. */
	uint8_t enc[2 + 4 * 255];
	size_t nsegs = 0, n, hdr;
	const char *p, *dot;
	bool root = false;

	if (!path)
		return -EINVAL;
	if (*path == '\\') {
		root = true;
		path++;
	}
	/* A '\' alone would be a NullName; no caller needs that. */
	hdr = 2; /* room for a multi-name prefix and count */
	for (p = path;; p = dot + 1) {
		char seg[4];

		dot = strchr(p, '.');
		if (nsegs == 255 || name_seg_n(p, dot ? (size_t)(dot - p) : strlen(p), seg) < 0)
			return -EINVAL;
		memcpy(enc + hdr + 4 * nsegs++, seg, 4);
		if (!dot)
			break;
	}
	if (root)
		aml_byte(b, AML_ROOT_CHAR);
	if (nsegs == 1) {
		n = 2;
	} else if (nsegs == 2) {
		n = 1;
		enc[1] = AML_DUAL_NAME_PREFIX;
	} else {
		n = 0;
		enc[0] = AML_MULTI_NAME_PREFIX;
		enc[1] = (uint8_t)nsegs;
	}
	aml_append(b, enc + n, hdr - n + 4 * nsegs);
	return b->err;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[9];
	size_t n;

	if (v == 0) {
		aml_byte(b, AML_ZERO_OP);
		return;
	}
	if (v == 1) {
		aml_byte(b, AML_ONE_OP);
		return;
	}
	if (v <= UINT8_MAX) {
		enc[0] = AML_BYTE_PREFIX;
		enc[1] = (uint8_t)v;
		n = 2;
	} else if (v <= UINT16_MAX) {
		enc[0] = AML_WORD_PREFIX;
		put_le16(enc + 1, (uint16_t)v);
		n = 3;
	} else if (v <= UINT32_MAX) {
		enc[0] = AML_DWORD_PREFIX;
		put_le32(enc + 1, (uint32_t)v);
		n = 5;
	} else {
		enc[0] = AML_QWORD_PREFIX;
		put_le64(enc + 1, v);
		n = 9;
	}
	aml_append(b, enc, n);
}

int aml_string(struct aml_buf *b, const char *s)
{
	size_t len, i;

	if (!s)
		return -EINVAL;
	len = strnlen(s, AML_STRING_MAX + 1);
	if (len > AML_STRING_MAX)
		return -EINVAL;
	/* AML strings are ASCII 0x01..0x7f; keep to printable to stay readable. */
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -EINVAL;
	aml_byte(b, AML_STRING_PREFIX);
	aml_append(b, s, len + 1);
	return b->err;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid(const char *id, uint32_t *out)
{
	uint8_t enc[4];
	int i;

	if (!id || strnlen(id, 8) != 7)
		return -EINVAL;
	for (i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
	for (i = 3; i < 7; i++)
		if (hex_val(id[i]) < 0)
			return -EINVAL;
	/*
	 * Letters are 5-bit values ('A' = 1) packed big-endian into 15 bits
	 * after a zero bit, followed by the product number as four nibbles;
	 * AML stores the resulting bytes in that order as a little-endian
	 * DWord, which is why "PNP0501" reads 0x0105D041.
	 */
	enc[0] = (uint8_t)(((id[0] - '@') << 2) | ((id[1] - '@') >> 3));
	enc[1] = (uint8_t)((((id[1] - '@') & 7) << 5) | (id[2] - '@'));
	enc[2] = (uint8_t)((hex_val(id[3]) << 4) | hex_val(id[4]));
	enc[3] = (uint8_t)((hex_val(id[5]) << 4) | hex_val(id[6]));
	if (out)
		*out = get_le32(enc);
	return 0;
}

/* Appends NameOp NameString; the caller appends the value. */
static int name_op(struct aml_buf *b, const char *name)
{
	struct aml_buf tmp;
	int ret;

	/* Validate into a scratch buffer so a bad name leaves @b untouched. */
	aml_buf_init(&tmp);
	ret = aml_name_path(&tmp, name);
	if (!ret) {
		aml_byte(b, AML_NAME_OP);
		aml_append(b, tmp.data, tmp.len);
		ret = b->err;
	}
	aml_buf_free(&tmp);
	return ret;
}

int aml_name_integer(struct aml_buf *b, const char *name, uint64_t v)
{
	int ret = name_op(b, name);

	if (ret)
		return ret;
	aml_integer(b, v);
	return b->err;
}

/*
 * Appends Name (@name, <value>) where the value was encoded into @val (with
 * status @ret), so nothing is appended when the value failed. Frees @val.
 */
static int name_encoded_value(struct aml_buf *b, const char *name, struct aml_buf *val, int ret)
{
	if (!ret)
		ret = val->err;
	if (!ret)
		ret = name_op(b, name);
	if (!ret) {
		aml_append(b, val->data, val->len);
		ret = b->err;
	}
	aml_buf_free(val);
	return ret;
}

int aml_name_string(struct aml_buf *b, const char *name, const char *s)
{
	struct aml_buf val;
	int ret;

	aml_buf_init(&val);
	ret = aml_string(&val, s);
	return name_encoded_value(b, name, &val, ret);
}

int aml_name_id(struct aml_buf *b, const char *name, const char *id)
{
	uint32_t eisa;

	if (!id || !*id)
		return -EINVAL;
	if (aml_eisaid(id, &eisa) == 0)
		/* Always DWord-encoded, as EisaId() is; iasl shows it as EisaId. */
		return aml_name_integer(b, name, eisa);
	return aml_name_string(b, name, id);
}

/* Appends OP PkgLength [prefix] body, the shape of Buffer/Package/Scope/Device. */
static int pkg_wrap(struct aml_buf *b, const uint8_t *op, size_t oplen, const uint8_t *prefix,
		    size_t prefix_len, const uint8_t *body, size_t len)
{
	uint8_t enc[4];
	size_t n;

	if (len > AML_PKGLEN_MAX || prefix_len > AML_PKGLEN_MAX - len)
		return -EINVAL;
	n = aml_pkglength_encode(enc, prefix_len + len);
	if (!n)
		return -EINVAL;
	aml_append(b, op, oplen);
	aml_append(b, enc, n);
	aml_append(b, prefix, prefix_len);
	aml_append(b, body, len);
	return b->err;
}

int aml_name_package(struct aml_buf *b, const char *name, const uint64_t *vals, size_t n)
{
	static const uint8_t op = AML_PACKAGE_OP;
	struct aml_buf body, nm;
	uint8_t count = (uint8_t)n;
	size_t i;
	int ret;

	if (n > 255 || (n && !vals))
		return -EINVAL;
	aml_buf_init(&body);
	aml_buf_init(&nm);
	for (i = 0; i < n; i++)
		aml_integer(&body, vals[i]);
	ret = body.err;
	if (!ret)
		ret = aml_name_path(&nm, name);
	if (!ret) {
		aml_byte(b, AML_NAME_OP);
		aml_append(b, nm.data, nm.len);
		ret = pkg_wrap(b, &op, 1, &count, 1, body.data, body.len);
	}
	aml_buf_free(&nm);
	aml_buf_free(&body);
	return ret;
}

/*
 * Word/DWord/QWord address space descriptor for a fixed window [min, min+len)
 * a bridge produces: tag, length, type, flags, then five fields of @width
 * bytes each (granularity, min, max, translation, length). Fixed min and max
 * with a non-zero length require granularity 0 (6.4.3.5, table 6.44).
 */
static void res_addr_space(struct aml_buf *b, uint8_t tag, uint8_t type, uint8_t tflags,
			   unsigned int width, uint64_t min, uint64_t len)
{
	const uint64_t field[5] = { 0, min, min + len - 1, 0, len };
	uint8_t d[6 + 5 * 8];
	size_t n = 6;

	d[0] = tag;
	put_le16(d + 1, (uint16_t)(3 + 5 * width));
	d[3] = type;
	d[4] = RES_ADDR_MIN_FIXED | RES_ADDR_MAX_FIXED;
	d[5] = tflags;
	for (size_t i = 0; i < ARRAY_SIZE(field); i++, n += width) {
		if (width == 2)
			put_le16(d + n, (uint16_t)field[i]);
		else if (width == 4)
			put_le32(d + n, (uint32_t)field[i]);
		else
			put_le64(d + n, field[i]);
	}
	aml_append(b, d, n);
}

static int res_encode(struct aml_buf *b, const struct aml_res *r)
{
	uint8_t d[12];

	switch (r->type) {
	case AML_RES_IO:
		/* Fixed range: min == max, 16-bit decode, alignment 1. */
		if (r->len == 0 || r->len > 255 || r->base > 0xffff || r->base + r->len > 0x10000)
			return -EINVAL;
		d[0] = RES_IO;
		d[1] = RES_IO_DECODE16;
		put_le16(d + 2, (uint16_t)r->base);
		put_le16(d + 4, (uint16_t)r->base);
		d[6] = 1;
		d[7] = (uint8_t)r->len;
		aml_append(b, d, 8);
		break;
	case AML_RES_IRQ:
		if (r->base >= RES_ISA_IRQS)
			return -EINVAL;
		d[0] = RES_IRQ_NOFLAGS;
		put_le16(d + 1, (uint16_t)(1u << r->base));
		aml_append(b, d, 3);
		break;
	case AML_RES_MEM32:
		if (r->len == 0 || r->base > UINT32_MAX || r->len > UINT32_MAX ||
		    r->base + r->len - 1 > UINT32_MAX)
			return -EINVAL;
		d[0] = RES_MEM32_FIXED;
		put_le16(d + 1, 9); /* large item: length of the data that follows */
		d[3] = RES_MEM_RW;
		put_le32(d + 4, (uint32_t)r->base);
		put_le32(d + 8, (uint32_t)r->len);
		aml_append(b, d, 12);
		break;
	case AML_RES_BUS_WINDOW:
		if (r->len == 0 || r->base > 255 || r->len > 256 - r->base)
			return -EINVAL;
		res_addr_space(b, RES_WORD_ADDR, RES_ADDR_BUS, 0, 2, r->base, r->len);
		break;
	case AML_RES_MEM32_WINDOW:
		/* _LEN is a DWord too, so a window cannot cover all 4 GiB. */
		if (r->len == 0 || r->base > UINT32_MAX || r->len > UINT32_MAX ||
		    r->base + r->len - 1 > UINT32_MAX)
			return -EINVAL;
		res_addr_space(b, RES_DWORD_ADDR, RES_ADDR_MEMORY, RES_ADDR_MEM_RW, 4, r->base,
			       r->len);
		break;
	case AML_RES_MEM64_WINDOW:
		if (r->len == 0 || r->len - 1 > UINT64_MAX - r->base)
			return -EINVAL;
		res_addr_space(b, RES_QWORD_ADDR, RES_ADDR_MEMORY, RES_ADDR_MEM_RW, 8, r->base,
			       r->len);
		break;
	case AML_RES_IO_WINDOW:
		if (r->len == 0 || r->base > 0xffff || r->len > 0x10000 - r->base)
			return -EINVAL;
		res_addr_space(b, RES_WORD_ADDR, RES_ADDR_IO, RES_ADDR_IO_ENTIRE, 2, r->base,
			       r->len);
		break;
	default:
		return -EINVAL;
	}
	return b->err;
}

int aml_resource_template(struct aml_buf *b, const struct aml_res *res, size_t nres)
{
	static const uint8_t op = AML_BUFFER_OP;
	/* A checksum of 0 tells the OS not to check it (6.4.2.9). */
	static const uint8_t end_tag[2] = { RES_END_TAG, 0 };
	struct aml_buf body, size;
	size_t i;
	int ret = 0;

	if (nres > AML_MAX_RES || (nres && !res))
		return -EINVAL;
	aml_buf_init(&body);
	aml_buf_init(&size);
	for (i = 0; i < nres && !ret; i++)
		ret = res_encode(&body, &res[i]);
	if (!ret) {
		aml_append(&body, end_tag, sizeof(end_tag));
		/* Buffer (BufferSize) { bytes }: the size is a TermArg, an integer here. */
		aml_integer(&size, body.len);
		ret = body.err ? body.err : size.err;
	}
	if (!ret)
		ret = pkg_wrap(b, &op, 1, size.data, size.len, body.data, body.len);
	aml_buf_free(&size);
	aml_buf_free(&body);
	return ret;
}

int aml_name_resources(struct aml_buf *b, const char *name, const struct aml_res *res, size_t nres)
{
	struct aml_buf val;
	int ret;

	aml_buf_init(&val);
	ret = aml_resource_template(&val, res, nres);
	return name_encoded_value(b, name, &val, ret);
}

static int named_pkg(struct aml_buf *b, const uint8_t *op, size_t oplen, const char *path,
		     const uint8_t *body, size_t len)
{
	struct aml_buf nm;
	int ret;

	if (len && !body)
		return -EINVAL;
	aml_buf_init(&nm);
	ret = aml_name_path(&nm, path);
	if (!ret)
		ret = nm.err;
	if (!ret)
		ret = pkg_wrap(b, op, oplen, nm.data, nm.len, body, len);
	aml_buf_free(&nm);
	return ret;
}

int aml_scope(struct aml_buf *b, const char *path, const uint8_t *body, size_t len)
{
	static const uint8_t op = AML_SCOPE_OP;

	return named_pkg(b, &op, 1, path, body, len);
}

int aml_device_raw(struct aml_buf *b, const char *path, const uint8_t *body, size_t len)
{
	static const uint8_t op[2] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };

	return named_pkg(b, op, sizeof(op), path, body, len);
}

int aml_device(struct aml_buf *b, const char *name, const char *hid, uint32_t uid,
	       const struct aml_res *res, size_t nres)
{
	struct aml_buf body;
	char seg[4];
	int ret;

	/* A device here is a single segment; paths go through aml_device_raw(). */
	if (aml_name_seg(name, seg) < 0 || !hid || nres > AML_MAX_RES)
		return -EINVAL;
	aml_buf_init(&body);
	ret = aml_name_id(&body, "_HID", hid);
	if (!ret)
		ret = aml_name_integer(&body, "_UID", uid);
	/* Present, enabled, shown in UI, functioning. */
	if (!ret)
		ret = aml_name_integer(&body, "_STA", 0x0f);
	if (!ret)
		ret = aml_name_resources(&body, "_CRS", res, nres);
	if (!ret)
		ret = body.err;
	if (!ret)
		ret = aml_device_raw(b, name, body.data, body.len);
	aml_buf_free(&body);
	return ret;
}
