// SPDX-License-Identifier: GPL-2.0-only
/*
 * AML encoder tests: byte-exact encodings derived by hand from the ACPI spec
 * (20.2 AML grammar, 6.4 resource descriptors), hostile input, and a round
 * trip through the iasl disassembler inside a DSDT built by acpi_build_tables.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "vmm/util.h"

/* From test_acpi.c. */
char *test_acpi_iasl(const uint8_t *table, size_t len);
void test_acpi_squash(char *s);

#define assert_bytes(b, ...)                                                                       \
	do {                                                                                       \
		static const uint8_t want_[] = { __VA_ARGS__ };                                    \
		assert_buf_eq((b), want_, sizeof(want_), __LINE__);                                \
	} while (0)

static void assert_buf_eq(const struct aml_buf *b, const uint8_t *want, size_t n, int line)
{
	size_t i;

	cr_assert_eq(b->err, 0, "line %d: err %d", line, b->err);
	for (i = 0; i < n && i < b->len; i++)
		cr_assert_eq(b->data[i], want[i], "line %d: byte %zu is 0x%02x, want 0x%02x", line,
			     i, b->data[i], want[i]);
	cr_assert_eq(b->len, n, "line %d: length %zu, want %zu", line, b->len, n);
}

static void reset(struct aml_buf *b)
{
	aml_buf_free(b);
	aml_buf_init(b);
}

Test(aml, buf_append_grows)
{
	struct aml_buf b;
	uint8_t chunk[100];
	size_t i;

	aml_buf_init(&b);
	cr_assert_eq(b.len, 0);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (i = 0; i < 50; i++)
		aml_append(&b, chunk, sizeof(chunk));
	aml_append(&b, NULL, 0);
	cr_assert_eq(b.err, 0);
	cr_assert_eq(b.len, 5000);
	cr_assert(b.cap >= b.len);
	for (i = 0; i < 5000; i++)
		cr_assert_eq(b.data[i], i % 100);
	aml_buf_free(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	aml_buf_free(&b); /* twice is harmless */
}

Test(aml, pkglength)
{
	static const struct {
		size_t body;
		uint8_t n, enc[4];
	} cases[] = {
		/* 1 byte: bits 5:0 hold the whole length (body + 1). */
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },
		/* 2 bytes: 63 + 2 = 65 = 0x041 -> lead 0x40 | 0x1, then 0x04. */
		{ 63, 2, { 0x41, 0x04 } },
		{ 4093, 2, { 0x4f, 0xff } }, /* 4095 = 0xfff, the 2-byte maximum */
		/* 3 bytes: 4094 + 3 = 4097 = 0x01001 -> 0x81, 0x00, 0x01. */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },
		{ 0xffffc, 3, { 0x8f, 0xff, 0xff } }, /* 0xfffff: bits 5:4 of the lead stay 0 */
		{ 0xffffd, 4, { 0xc1, 0x00, 0x00, 0x01 } }, /* 0x100001 */
		{ AML_PKGLEN_MAX - 4, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t enc[4];
	struct aml_buf b;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(enc, 0xee, sizeof(enc));
		n = aml_pkglength_encode(enc, cases[i].body);
		cr_assert_eq(n, cases[i].n, "body %zu: %zu bytes", cases[i].body, n);
		cr_assert(!memcmp(enc, cases[i].enc, n), "body %zu", cases[i].body);
	}
	cr_assert_eq(aml_pkglength_encode(enc, AML_PKGLEN_MAX - 3), 0);
	cr_assert_eq(aml_pkglength_encode(enc, SIZE_MAX), 0);

	aml_buf_init(&b);
	cr_assert_eq(aml_pkglength(&b, 63), 0);
	assert_bytes(&b, 0x41, 0x04);
	cr_assert_eq(aml_pkglength(&b, SIZE_MAX), -EINVAL);
	cr_assert_eq(b.len, 2);
	aml_buf_free(&b);
}

Test(aml, integers)
{
	struct aml_buf b;

	aml_buf_init(&b);
	aml_integer(&b, 0);
	assert_bytes(&b, 0x00);
	reset(&b);
	aml_integer(&b, 1);
	assert_bytes(&b, 0x01);
	reset(&b);
	aml_integer(&b, 2);
	assert_bytes(&b, 0x0a, 0x02);
	reset(&b);
	aml_integer(&b, 0xff);
	assert_bytes(&b, 0x0a, 0xff);
	reset(&b);
	aml_integer(&b, 0x100);
	assert_bytes(&b, 0x0b, 0x00, 0x01);
	reset(&b);
	aml_integer(&b, 0xffff);
	assert_bytes(&b, 0x0b, 0xff, 0xff);
	reset(&b);
	aml_integer(&b, 0x10000);
	assert_bytes(&b, 0x0c, 0x00, 0x00, 0x01, 0x00);
	reset(&b);
	aml_integer(&b, 0xfed00000);
	assert_bytes(&b, 0x0c, 0x00, 0x00, 0xd0, 0xfe);
	reset(&b);
	aml_integer(&b, 0x100000000ull);
	assert_bytes(&b, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
	reset(&b);
	aml_integer(&b, UINT64_MAX);
	assert_bytes(&b, 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	aml_buf_free(&b);
}

Test(aml, eisaid)
{
	static const char *const bad[] = { "pnp0501", "PNP050",	 "PNP05011", "PNP050G", "P1P0501",
					   "PNP050a", "@NP0501", "",	     "QEMU0001" };
	uint32_t v;
	size_t i;

	/* P=16, N=14, P=16: 0 10000 01110 10000 = 0x41d0, then 0x0501; stored byte-wise. */
	cr_assert_eq(aml_eisaid("PNP0501", &v), 0);
	cr_assert_eq(v, 0x0105d041);
	cr_assert_eq(aml_eisaid("PNP0A03", &v), 0);
	cr_assert_eq(v, 0x030ad041);
	/* A=1, B=2, C=3: 0 00001 00010 00011 = 0x0443. */
	cr_assert_eq(aml_eisaid("ABC1234", &v), 0);
	cr_assert_eq(v, 0x34124304);
	cr_assert_eq(aml_eisaid("ZZZFFFF", &v), 0);
	cr_assert_eq(v, 0xffff5a6b);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(aml_eisaid(bad[i], &v), -EINVAL, "\"%s\"", bad[i]);
	cr_assert_eq(aml_eisaid(NULL, &v), -EINVAL);
}

Test(aml, names)
{
	static const char *const bad[] = { "",	   "1ABC", "ABCDE", "ab",      "A-B",	"A B",
					   "\\",   "A..B", "A.",    ".A",      "\\\\A", "A.1B",
					   "_SB.", "^ABC", "ABC\n", "\xc3\xa9" };
	struct aml_buf b;
	char seg[4];
	size_t i;

	cr_assert_eq(aml_name_seg("A", seg), 0);
	cr_assert(!memcmp(seg, "A___", 4));
	cr_assert_eq(aml_name_seg("_SB", seg), 0);
	cr_assert(!memcmp(seg, "_SB_", 4));
	cr_assert_eq(aml_name_seg("COM1", seg), 0);
	cr_assert(!memcmp(seg, "COM1", 4));
	cr_assert_eq(aml_name_seg(NULL, seg), -EINVAL);

	aml_buf_init(&b);
	cr_assert_eq(aml_name_path(&b, "\\_S5"), 0);
	assert_bytes(&b, '\\', '_', 'S', '5', '_');
	reset(&b);
	cr_assert_eq(aml_name_path(&b, "\\_SB.PCI0"), 0);
	assert_bytes(&b, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	reset(&b);
	cr_assert_eq(aml_name_path(&b, "_SB.PCI0.S8"), 0);
	assert_bytes(&b, 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '8', '_', '_');
	reset(&b);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(aml_name_path(&b, bad[i]), -EINVAL, "\"%s\"", bad[i]);
		cr_assert_eq(b.len, 0, "\"%s\" left bytes behind", bad[i]);
		if (!strchr(bad[i], '.') && bad[i][0] != '\\')
			cr_assert_eq(aml_name_seg(bad[i], seg), -EINVAL, "\"%s\"", bad[i]);
	}
	cr_assert_eq(aml_name_path(&b, NULL), -EINVAL);
	aml_buf_free(&b);
}

Test(aml, named_objects)
{
	static const uint64_t s5[] = { 5, 0, 0, 0 };
	static const uint8_t noop = 0xa3;
	struct aml_buf b;

	aml_buf_init(&b);
	/* Same bytes the DSDT builder uses for \_S5. */
	cr_assert_eq(aml_name_package(&b, "\\_S5", s5, 4), 0);
	assert_bytes(&b, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0, 0, 0);
	reset(&b);
	cr_assert_eq(aml_name_package(&b, "EMPT", NULL, 0), 0);
	assert_bytes(&b, 0x08, 'E', 'M', 'P', 'T', 0x12, 0x02, 0x00);
	reset(&b);
	cr_assert_eq(aml_name_string(&b, "_STR", "ab"), 0);
	assert_bytes(&b, 0x08, '_', 'S', 'T', 'R', 0x0d, 'a', 'b', 0x00);
	reset(&b);
	cr_assert_eq(aml_name_integer(&b, "_ADR", 0x10002), 0);
	assert_bytes(&b, 0x08, '_', 'A', 'D', 'R', 0x0c, 0x02, 0x00, 0x01, 0x00);
	reset(&b);
	cr_assert_eq(aml_name_id(&b, "_CID", "PNP0A03"), 0);
	assert_bytes(&b, 0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	reset(&b);
	/* Not an EISA id ('@' is no letter), so a string. */
	cr_assert_eq(aml_name_id(&b, "_HID", "@@@0000"), 0);
	assert_bytes(&b, 0x08, '_', 'H', 'I', 'D', 0x0d, '@', '@', '@', '0', '0', '0', '0', 0);
	reset(&b);
	cr_assert_eq(aml_scope(&b, "\\_SB.PCI0", &noop, 1), 0);
	/* body = name (10) + NoOp (1) = 11, PkgLength 12 */
	assert_bytes(&b, 0x10, 0x0c, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 0xa3);
	reset(&b);
	cr_assert_eq(aml_device_raw(&b, "S08", NULL, 0), 0);
	assert_bytes(&b, 0x5b, 0x82, 0x05, 'S', '0', '8', '_');
	reset(&b);

	cr_assert_eq(aml_name_package(&b, "PKG", s5, 256), -EINVAL);
	cr_assert_eq(aml_name_package(&b, "PKG", NULL, 1), -EINVAL);
	cr_assert_eq(aml_name_package(&b, "1PKG", s5, 1), -EINVAL);
	cr_assert_eq(aml_name_string(&b, "_STR", "tab\there"), -EINVAL);
	cr_assert_eq(aml_name_string(&b, "_STR", NULL), -EINVAL);
	cr_assert_eq(aml_name_string(&b, "bad", "x"), -EINVAL);
	cr_assert_eq(aml_name_integer(&b, "", 1), -EINVAL);
	cr_assert_eq(aml_scope(&b, "\\_SB", NULL, 3), -EINVAL);
	cr_assert_eq(aml_device_raw(&b, "X", &noop, AML_PKGLEN_MAX), -EINVAL);
	cr_assert_eq(b.len, 0, "failed calls must append nothing");
	aml_buf_free(&b);
}

static const struct aml_res com1_res[] = { { AML_RES_IO, 0x3f8, 8 }, { AML_RES_IRQ, 4, 0 } };
static const struct aml_res pvpanic_res[] = { { AML_RES_IO, 0x505, 1 } };
static const struct aml_res hpet_res[] = { { AML_RES_MEM32, 0xfed00000, 0x400 } };

Test(aml, device_com1)
{
	struct aml_buf b;

	aml_buf_init(&b);
	cr_assert_eq(aml_device(&b, "COM1", "PNP0501", 0, com1_res, 2), 0);
	/*
	 * Device body: _HID 10 + _UID 6 + _STA 7 + _CRS 22 = 45, plus the name:
	 * 49, so PkgLength 50. _CRS buffer: IO (8) + IRQNoFlags (3) + EndTag (2)
	 * = 13 bytes after BufferSize (0A 0D), so its PkgLength is 15 + 1.
	 */
	/* clang-format off */
	assert_bytes(&b, 0x5b, 0x82, 0x32, 'C', 'O', 'M', '1',
		     0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
		     0x08, '_', 'U', 'I', 'D', 0x00,
		     0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f,
		     0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
		     0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO Decode16 */
		     0x22, 0x10, 0x00,				     /* IRQNoFlags {4} */
		     0x79, 0x00);				     /* EndTag */
	/* clang-format on */
	aml_buf_free(&b);
}

Test(aml, device_pvpanic_and_mem32)
{
	struct aml_buf b;

	aml_buf_init(&b);
	cr_assert_eq(aml_device(&b, "PEVT", "QEMU0001", 0, pvpanic_res, 1), 0);
	/* _HID 15 + _UID 6 + _STA 7 + _CRS 19 = 47, + name = 51, PkgLength 52. */
	/* clang-format off */
	assert_bytes(&b, 0x5b, 0x82, 0x34, 'P', 'E', 'V', 'T',
		     0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
		     0x08, '_', 'U', 'I', 'D', 0x00,
		     0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f,
		     0x08, '_', 'C', 'R', 'S', 0x11, 0x0d, 0x0a, 0x0a,
		     0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,
		     0x79, 0x00);
	/* clang-format on */
	reset(&b);

	cr_assert_eq(aml_device(&b, "HPET", "PNP0103", 0x1234, hpet_res, 1), 0);
	/* _HID 10 + _UID 8 + _STA 7 + _CRS 23 = 48, + name = 52, PkgLength 53. */
	/* clang-format off */
	assert_bytes(&b, 0x5b, 0x82, 0x35, 'H', 'P', 'E', 'T',
		     0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x01, 0x03,
		     0x08, '_', 'U', 'I', 'D', 0x0b, 0x34, 0x12,
		     0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f,
		     0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e,
		     0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe, 0x00, 0x04, 0x00, 0x00,
		     0x79, 0x00);
	/* clang-format on */
	aml_buf_free(&b);
}

Test(aml, device_long_body)
{
	struct aml_res res[8];
	struct aml_buf b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(res); i++)
		res[i] = (struct aml_res){ AML_RES_IO, 0x100 + 16 * i, 4 };
	aml_buf_init(&b);
	cr_assert_eq(aml_device(&b, "BIG", "KITE0001", 7, res, ARRAY_SIZE(res)), 0);
	/*
	 * _CRS buffer: 8 * 8 + 2 = 66 bytes, BufferSize 0A 42, Buffer PkgLength
	 * 2 + 66 + 2 = 70 = 0x46 -> 46 04. Device: _HID 15 + _UID 7 + _STA 7 +
	 * _CRS (1 + 4 + 1 + 2 + 2 + 66 = 76) = 105, + name = 109, + 2 = 111 = 0x6f.
	 */
	cr_assert_eq(b.len, 2 + 111);
	cr_assert_eq(b.data[2], 0x4f);
	cr_assert_eq(b.data[3], 0x06);
	cr_assert(!memcmp(b.data + 4, "BIG_", 4));
	cr_assert(!memcmp(b.data + 4 + 4 + 15 + 7 + 7, "\x08_CRS\x11\x46\x04\x0a\x42", 10));
	cr_assert(!memcmp(b.data + b.len - 2, "\x79\x00", 2));
	aml_buf_free(&b);
}

Test(aml, hostile_input)
{
	static const char *const bad_names[] = { "1ABC", "", "ABCDE", "abc", "A.B", "\\ABC" };
	struct aml_res many[AML_MAX_RES + 1];
	/* clang-format off */
	static const struct aml_res bad_res[] = {
		{ AML_RES_IO, 0x3f8, 0 },	  { AML_RES_IO, 0x3f8, 256 },
		{ AML_RES_IO, 0x10000, 1 },	  { AML_RES_IO, 0xffff, 2 },
		{ AML_RES_IRQ, 16, 0 },		  { AML_RES_IRQ, ~0ull, 0 },
		{ AML_RES_MEM32, 0x100000000, 1 }, { AML_RES_MEM32, 0xfffff000, 0x2000 },
		{ AML_RES_MEM32, 0, 0 },	  { AML_RES_MEM32, 0, 0x100000000 },
		{ (enum aml_res_type)99, 0, 1 },
	};
	/* clang-format on */
	struct aml_buf b;
	size_t i;

	aml_buf_init(&b);
	for (i = 0; i < ARRAY_SIZE(bad_names); i++)
		cr_assert_eq(aml_device(&b, bad_names[i], "PNP0501", 0, com1_res, 2), -EINVAL,
			     "name \"%s\"", bad_names[i]);
	cr_assert_eq(aml_device(&b, NULL, "PNP0501", 0, com1_res, 2), -EINVAL);
	cr_assert_eq(aml_device(&b, "COM1", NULL, 0, com1_res, 2), -EINVAL);
	cr_assert_eq(aml_device(&b, "COM1", "", 0, com1_res, 2), -EINVAL);
	cr_assert_eq(aml_device(&b, "COM1", "bad\x01id", 0, com1_res, 2), -EINVAL);
	cr_assert_eq(aml_device(&b, "COM1", "PNP0501", 0, NULL, 1), -EINVAL);

	for (i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct aml_res){ AML_RES_IO, 0x100 + i, 1 };
	cr_assert_eq(aml_device(&b, "MANY", "PNP0501", 0, many, AML_MAX_RES + 1), -EINVAL);
	cr_assert_eq(aml_device(&b, "MANY", "PNP0501", 0, many, SIZE_MAX), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad_res); i++)
		cr_assert_eq(aml_device(&b, "BAD", "PNP0501", 0, &bad_res[i], 1), -EINVAL,
			     "resource %zu", i);
	cr_assert_eq(b.len, 0, "failed calls must append nothing");

	/* The limits themselves are fine. */
	cr_assert_eq(aml_device(&b, "MANY", "PNP0501", 0, many, AML_MAX_RES), 0);
	cr_assert_eq(aml_device(&b, "A", "PNP0501", 0, NULL, 0), 0);
	cr_assert_eq(aml_device(&b, "EDGE", "PNP0501", UINT32_MAX,
				(const struct aml_res[]){ { AML_RES_IO, 0xffff, 1 },
							  { AML_RES_IRQ, 15, 0 },
							  { AML_RES_MEM32, 0xfffff000, 0x1000 } },
				3),
		     0);
	cr_assert_eq(b.err, 0);
	aml_buf_free(&b);
}

/* Builds the DSDT around @sb and returns its disassembly, squashed. */
static char *dsdt_roundtrip(const struct aml_buf *sb)
{
	struct acpi_tables_cfg c = {
		.ncpus = 1,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.sleep_ctl_port = 0x600,
		.sleep_sts_port = 0x601,
		.sb_aml = sb->data,
		.sb_aml_len = sb->len,
	};
	size_t cap = 1 << 20, used;
	uint8_t *buf = malloc(cap);
	const uint8_t *f, *dsdt;
	char *dsl;

	cr_assert_not_null(buf);
	cr_assert_eq(sb->err, 0);
	cr_assert_eq(acpi_build_tables(&c, 0xe0000, buf, cap, &used), 0);
	f = buf + (get_le64(buf + 40 + 36) - 0xe0000); /* XSDT entry 0: FADT */
	cr_assert(!memcmp(f, "FACP", 4));
	dsdt = buf + (get_le64(f + 140) - 0xe0000);
	dsl = test_acpi_iasl(dsdt, get_le32(dsdt + 4));
	free(buf);
	test_acpi_squash(dsl);
	return dsl;
}

static void assert_asl(const char *dsl, const char *asl)
{
	char *want = strdup(asl);
	const char *body;

	cr_assert_not_null(want);
	test_acpi_squash(want);
	body = strchr(dsl, '{'); /* skip the DefinitionBlock header */
	cr_assert_not_null(body);
	cr_assert_str_eq(body, want);
	free(want);
}

Test(aml, iasl_roundtrip)
{
	static const uint64_t vals[] = { 0, 1, 0x12, 0x1234, 0x12345678, 0x123456789aull };
	struct aml_res many[20];
	struct aml_buf sb, pci, dev;
	char *dsl;
	size_t i;

	aml_buf_init(&sb);
	aml_buf_init(&pci);
	aml_buf_init(&dev);
	cr_assert_eq(aml_device(&sb, "COM1", "PNP0501", 0, com1_res, 2), 0);
	cr_assert_eq(aml_device(&sb, "PEVT", "QEMU0001", 0, pvpanic_res, 1), 0);
	cr_assert_eq(aml_device(&sb, "HPET", "PNP0103", 0x1234, hpet_res, 1), 0);
	for (i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct aml_res){ AML_RES_IO, 0x100 + 4 * i, 4 };
	cr_assert_eq(aml_device(&sb, "BIG", "KITE0001", 0x123456, many, ARRAY_SIZE(many)), 0);

	/* The shape of a PCI host bridge: nested devices and a package. */
	cr_assert_eq(aml_name_integer(&dev, "_ADR", 0x00030000), 0);
	cr_assert_eq(aml_name_id(&pci, "_HID", "PNP0A08"), 0);
	cr_assert_eq(aml_name_id(&pci, "_CID", "PNP0A03"), 0);
	cr_assert_eq(aml_name_integer(&pci, "_SEG", 0), 0);
	cr_assert_eq(aml_name_integer(&pci, "_BBN", 0), 0);
	cr_assert_eq(aml_name_package(&pci, "VALS", vals, ARRAY_SIZE(vals)), 0);
	cr_assert_eq(aml_device_raw(&pci, "S03", dev.data, dev.len), 0);
	cr_assert_eq(aml_device_raw(&sb, "PCI0", pci.data, pci.len), 0);
	reset(&dev);
	cr_assert_eq(aml_name_string(&dev, "NOTE", "kite"), 0);
	cr_assert_eq(aml_scope(&sb, "\\_SB.PCI0.S03", dev.data, dev.len), 0);

	dsl = dsdt_roundtrip(&sb);
	cr_assert(strstr(dsl, "Device(BIG){Name(_HID,\"KITE0001\")Name(_UID,0x00123456)"), "%s",
		  dsl);
	cr_assert(strstr(dsl, "IO(Decode16,0x014C,0x014C,0x01,0x04,)})}"), "%s", dsl);
	/* Cut BIG (20 IO lines) out of the comparison below to keep it readable. */
	{
		char *b = strstr(dsl, "Device(BIG)"), *e = strstr(dsl, "Device(PCI0)");

		cr_assert(b && e && e > b);
		memmove(b, e, strlen(e) + 1);
	}
	assert_asl(dsl, "{\n"
			"  Scope (\\_SB) {\n"
			"    Device (COM1) {\n"
			"      Name (_HID, EisaId (\"PNP0501\"))\n"
			"      Name (_UID, Zero)\n"
			"      Name (_STA, 0x0F)\n"
			"      Name (_CRS, ResourceTemplate () {\n"
			"        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, )\n"
			"        IRQNoFlags () {4}\n"
			"      })\n"
			"    }\n"
			"    Device (PEVT) {\n"
			"      Name (_HID, \"QEMU0001\")\n"
			"      Name (_UID, Zero)\n"
			"      Name (_STA, 0x0F)\n"
			"      Name (_CRS, ResourceTemplate () {\n"
			"        IO (Decode16, 0x0505, 0x0505, 0x01, 0x01, )\n"
			"      })\n"
			"    }\n"
			"    Device (HPET) {\n"
			"      Name (_HID, EisaId (\"PNP0103\"))\n"
			"      Name (_UID, 0x1234)\n"
			"      Name (_STA, 0x0F)\n"
			"      Name (_CRS, ResourceTemplate () {\n"
			"        Memory32Fixed (ReadWrite, 0xFED00000, 0x00000400, )\n"
			"      })\n"
			"    }\n"
			"    Device (PCI0) {\n"
			"      Name (_HID, EisaId (\"PNP0A08\"))\n"
			"      Name (_CID, EisaId (\"PNP0A03\"))\n"
			"      Name (_SEG, Zero)\n"
			"      Name (_BBN, Zero)\n"
			"      Name (VALS, Package (0x06) {\n"
			"        Zero, One, 0x12, 0x1234, 0x12345678, 0x000000123456789A\n"
			"      })\n"
			"      Device (S03) {\n"
			"        Name (_ADR, 0x00030000)\n"
			"      }\n"
			"    }\n"
			"    Scope (\\_SB.PCI0.S03) {\n"
			"      Name (NOTE, \"kite\")\n"
			"    }\n"
			"  }\n"
			"  Name (\\_S5, Package (0x04) { 0x05, Zero, Zero, Zero })\n"
			"}\n");
	free(dsl);
	aml_buf_free(&dev);
	aml_buf_free(&pci);
	aml_buf_free(&sb);
}

/* Enough devices that the \_SB scope needs a 3-byte PkgLength. */
Test(aml, iasl_large_scope)
{
	struct aml_buf sb;
	char name[8], *dsl, *p;
	size_t i, n = 0;

	aml_buf_init(&sb);
	for (i = 0; i < 120; i++) {
		struct aml_res r = { AML_RES_IO, 0x1000 + 8 * i, 8 };

		snprintf(name, sizeof(name), "D%03zu", i);
		cr_assert_eq(aml_device(&sb, name, "PNP0501", (uint32_t)i, &r, 1), 0);
	}
	cr_assert_gt(sb.len, 4096);
	dsl = dsdt_roundtrip(&sb);
	for (p = dsl; (p = strstr(p, "Device(")); p++) {
		snprintf(name, sizeof(name), "D%03zu", n++);
		cr_assert(!strncmp(p + 7, name, 4), "device %zu out of place", n - 1);
	}
	cr_assert_eq(n, 120);
	/* \_S5 must come after the scope closes, at the root. */
	cr_assert(strstr(dsl, ")})}}Name(\\_S5,Package(0x04){0x05,Zero,Zero,Zero})}"), "%s", dsl);
	free(dsl);
	aml_buf_free(&sb);
}
