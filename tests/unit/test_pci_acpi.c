// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the PCI host bridge describes itself: the MCFG builder, the bridge
 * address-space resource descriptors (byte-exact, from ACPI 6.5 6.4.3.5), and
 * the PCI0 / PNP0C02 nodes and MCFG of pci_bus_finalize() run through iasl.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "devices/pci/pci.h"
#include "test_helpers.h"
#include "test_pci_util.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* From test_acpi.c. */
char *test_acpi_iasl(const uint8_t *table, size_t len);
void test_acpi_squash(char *s);

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

Test(pci_acpi, mcfg_layout)
{
	const struct acpi_mcfg_entry e[2] = {
		{ .base = 0xe0000000, .segment = 0, .bus_start = 0, .bus_end = 0 },
		{ .base = 0x3000000000ull, .segment = 1, .bus_start = 0x10, .bus_end = 0x1f },
	};
	uint8_t t[128];

	memset(t, 0xaa, sizeof(t));
	cr_assert_eq(acpi_build_mcfg(e, 1, t, sizeof(t)), 60);
	cr_assert(!memcmp(t, "MCFG", 4));
	cr_assert_eq(get_le32(t + 4), 60);
	cr_assert_eq(t[8], 1, "revision");
	cr_assert_eq(sum8(t, 60), 0);
	cr_assert_eq(get_le64(t + 36), 0, "reserved");
	cr_assert_eq(get_le64(t + 44), 0xe0000000);
	cr_assert_eq(get_le16(t + 52), 0);
	cr_assert_eq(t[54], 0);
	cr_assert_eq(t[55], 0);
	cr_assert_eq(get_le32(t + 56), 0);
	cr_assert_eq(t[60], 0xaa, "nothing written past the table");

	cr_assert_eq(acpi_build_mcfg(e, 2, t, sizeof(t)), 76);
	cr_assert_eq(sum8(t, 76), 0);
	cr_assert_eq(get_le64(t + 60), 0x3000000000ull);
	cr_assert_eq(get_le16(t + 68), 1);
	cr_assert_eq(t[70], 0x10);
	cr_assert_eq(t[71], 0x1f);
}

Test(pci_acpi, mcfg_rejects)
{
	struct acpi_mcfg_entry e = { .base = 0xe0000000 };
	struct acpi_mcfg_entry many[ACPI_MCFG_MAX_ENTRIES + 1] = { 0 };
	uint8_t t[512];

	memset(t, 0x55, sizeof(t));
	cr_assert_eq(acpi_build_mcfg(&e, 1, t, 59), -ENOSPC);
	cr_assert_eq(t[0], 0x55, "-ENOSPC writes nothing");
	cr_assert_eq(acpi_build_mcfg(NULL, 1, t, sizeof(t)), -EINVAL);
	cr_assert_eq(acpi_build_mcfg(&e, 1, NULL, sizeof(t)), -EINVAL);
	cr_assert_eq(acpi_build_mcfg(&e, 0, t, sizeof(t)), -EINVAL);
	cr_assert_eq(acpi_build_mcfg(many, ACPI_MCFG_MAX_ENTRIES + 1, t, sizeof(t)), -EINVAL);
	cr_assert_eq(acpi_build_mcfg(many, ACPI_MCFG_MAX_ENTRIES, t, sizeof(t)),
		     ACPI_MCFG_LEN(ACPI_MCFG_MAX_ENTRIES));
	e.base = 0xe0080000;
	cr_assert_eq(acpi_build_mcfg(&e, 1, t, sizeof(t)), -EINVAL, "not 1 MiB aligned");
	e.base = 0xe0000000;
	e.bus_start = 2;
	e.bus_end = 1;
	cr_assert_eq(acpi_build_mcfg(&e, 1, t, sizeof(t)), -EINVAL);
	e.bus_start = 0;
	e.bus_end = 255;
	e.base = UINT64_MAX - (128ull << 20) + 1;
	cr_assert_eq(acpi_build_mcfg(&e, 1, t, sizeof(t)), -EINVAL, "256 buses wrap");
	e.base = UINT64_MAX - (256ull << 20) + 1;
	cr_assert_eq(acpi_build_mcfg(&e, 1, t, sizeof(t)), 60, "256 buses end at the top");
}

Test(pci_acpi, mcfg_iasl)
{
	const struct acpi_mcfg_entry e = { .base = 0xe0000000 };
	uint8_t t[64];
	char *dsl;

	cr_assert_eq(acpi_build_mcfg(&e, 1, t, sizeof(t)), 60);
	dsl = test_acpi_iasl(t, 60);
	cr_assert(strstr(dsl, "Memory Mapped Configuration"), "%s", dsl);
	cr_assert(strstr(dsl, "Base Address : 00000000E0000000"), "%s", dsl);
	cr_assert(strstr(dsl, "Start Bus Number : 00"), "%s", dsl);
	cr_assert(strstr(dsl, "End Bus Number : 00"), "%s", dsl);
	free(dsl);
}

#define assert_template(res, n, ...)                                                               \
	do {                                                                                       \
		static const uint8_t want_[] = { __VA_ARGS__ };                                    \
		struct aml_buf b_;                                                                 \
		aml_buf_init(&b_);                                                                 \
		cr_assert_eq(aml_resource_template(&b_, (res), (n)), 0);                           \
		cr_assert_eq(b_.len, sizeof(want_), "length %zu, want %zu", b_.len,                \
			     sizeof(want_));                                                       \
		for (size_t i_ = 0; i_ < sizeof(want_); i_++)                                      \
			cr_assert_eq(b_.data[i_], want_[i_], "byte %zu: 0x%02x, want 0x%02x", i_,  \
				     b_.data[i_], want_[i_]);                                      \
		aml_buf_free(&b_);                                                                 \
	} while (0)

Test(pci_acpi, word_bus_number)
{
	const struct aml_res r = { AML_RES_BUS_WINDOW, 0, 1 };

	assert_template(&r, 1, 0x11, 0x15, 0x0a, 0x12, /* Buffer, PkgLength, BufferSize 18 */
			0x88, 0x0d, 0x00,	       /* Word address space, 13 bytes follow */
			0x02, 0x0c, 0x00,	       /* bus range; producer, MinFixed, MaxFixed */
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* granularity, min, max */
			0x00, 0x00, 0x01, 0x00,		    /* translation, length */
			0x79, 0x00);
}

Test(pci_acpi, dword_memory)
{
	const struct aml_res r = { AML_RES_MEM32_WINDOW, 0xc0000000, 0x20000000 };

	assert_template(&r, 1, 0x11, 0x1f, 0x0a, 0x1c,	    /* BufferSize 28 */
			0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, /* memory, fixed, non-cacheable RW */
			0x00, 0x00, 0x00, 0x00,		    /* granularity */
			0x00, 0x00, 0x00, 0xc0,		    /* min */
			0xff, 0xff, 0xff, 0xdf,		    /* max */
			0x00, 0x00, 0x00, 0x00,		    /* translation */
			0x00, 0x00, 0x00, 0x20,		    /* length */
			0x79, 0x00);
}

Test(pci_acpi, qword_memory)
{
	const struct aml_res r = { AML_RES_MEM64_WINDOW, 0x400000000ull, 64ull << 30 };

	assert_template(&r, 1, 0x11, 0x33, 0x0a, 0x30, /* BufferSize 48 */
			0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x00,					/* granularity */
			0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, /* min */
			0xff, 0xff, 0xff, 0xff, 0x13, 0x00, 0x00, 0x00, /* max */
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* translation */
			0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, /* length */
			0x79, 0x00);
}

Test(pci_acpi, bad_windows)
{
	static const struct aml_res bad[] = {
		{ AML_RES_BUS_WINDOW, 0, 0 },
		{ AML_RES_BUS_WINDOW, 256, 1 },
		{ AML_RES_BUS_WINDOW, 255, 2 },
		{ AML_RES_BUS_WINDOW, 0, 257 },
		{ AML_RES_MEM32_WINDOW, 0, 0 },
		{ AML_RES_MEM32_WINDOW, 0, 1ull << 32 },
		{ AML_RES_MEM32_WINDOW, 0xfffff000, 0x2000 },
		{ AML_RES_MEM32_WINDOW, 1ull << 32, 0x1000 },
		{ AML_RES_MEM64_WINDOW, 0, 0 },
		{ AML_RES_MEM64_WINDOW, UINT64_MAX, 2 },
		{ AML_RES_MEM64_WINDOW, 2, UINT64_MAX },
	};
	static const struct aml_res good[] = {
		{ AML_RES_BUS_WINDOW, 0, 256 },
		{ AML_RES_BUS_WINDOW, 255, 1 },
		{ AML_RES_MEM32_WINDOW, 0xfffff000, 0x1000 },
		{ AML_RES_MEM64_WINDOW, 0, UINT64_MAX },
		{ AML_RES_MEM64_WINDOW, UINT64_MAX, 1 },
	};
	struct aml_buf b;

	aml_buf_init(&b);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(aml_resource_template(&b, &bad[i], 1), -EINVAL, "bad %zu", i);
		cr_assert_eq(b.len, 0, "bad %zu appended", i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		cr_assert_eq(aml_resource_template(&b, &good[i], 1), 0, "good %zu", i);
	aml_buf_free(&b);
}

/* Runs the DSDT built around @sb_aml through iasl; returns the squashed .dsl. */
static char *dsdt_dsl(struct vm *v)
{
	struct acpi_tables_cfg c = {
		.ncpus = 1,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.sleep_ctl_port = 0x600,
		.sleep_sts_port = 0x601,
		.sb_aml = v->sb_aml.data,
		.sb_aml_len = v->sb_aml.len,
		.extra = v->acpi_extra,
		.nextra = v->nacpi_extra,
	};
	size_t used, cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	const uint8_t *xsdt, *fadt = NULL;
	const uint8_t *dsdt;
	char *dsl;

	cr_assert_not_null(buf);
	cr_assert_eq(acpi_build_tables(&c, 0xe0000, buf, cap, &used), 0);
	xsdt = buf + (get_le64(buf + 24) - 0xe0000);
	for (size_t i = 0; i < (get_le32(xsdt + 4) - 36) / 8; i++) {
		const uint8_t *t = buf + (get_le64(xsdt + 36 + 8 * i) - 0xe0000);

		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	cr_assert_not_null(fadt);
	dsdt = buf + (get_le64(fadt + 140) - 0xe0000);
	dsl = test_acpi_iasl(dsdt, get_le32(dsdt + 4));
	test_acpi_squash(dsl);
	free(buf);
	return dsl;
}

Test(pci_acpi, finalize)
{
	struct pci_bus_layout l = test_layout();
	struct test_capture cap;
	struct pci_bus *b;
	struct vm v;
	char *dsl, *err;

	test_vm_init(&v);
	b = pci_bus_create(&v, &l);
	cr_assert_not_null(b);
	cr_assert_eq(pci_bus_finalize(b), 0);
	cr_assert_eq(v.nacpi_extra, 1);
	cr_assert(!memcmp(v.acpi_extra[0].data, "MCFG", 4));
	cr_assert_eq(v.acpi_extra[0].len, 60);
	cr_assert_eq(get_le64(v.acpi_extra[0].data + 44), T_ECAM);
	cr_assert_eq(v.acpi_extra[0].data[55], 0, "bus 0 only");
	cr_assert_gt(v.sb_aml.len, 0);

	test_stderr_begin(&cap);
	cr_assert_eq(pci_bus_finalize(b), -EINVAL, "once only");
	cr_assert_eq(pci_bus_finalize(NULL), -EINVAL);
	err = test_stderr_end(&cap);
	free(err);
	cr_assert_eq(v.nacpi_extra, 1);

	dsl = dsdt_dsl(&v);
	cr_assert(strstr(dsl, "Device(PCI0){Name(_HID,EisaId(\"PNP0A08\"))"
			      "Name(_CID,EisaId(\"PNP0A03\"))Name(_SEG,Zero)Name(_BBN,Zero)"
			      "Name(_UID,Zero)Name(_CRS,ResourceTemplate(){"),
		  "%s", dsl);
	cr_assert(strstr(dsl, "WordBusNumber(ResourceProducer,MinFixed,MaxFixed,PosDecode,"
			      "0x0000,0x0000,0x0000,0x0000,0x0001,"),
		  "%s", dsl);
	cr_assert(strstr(dsl, "DWordMemory(ResourceProducer,PosDecode,MinFixed,MaxFixed,"
			      "NonCacheable,ReadWrite,0x00000000,0xC0000000,0xDFFFFFFF,"
			      "0x00000000,0x20000000,"),
		  "%s", dsl);
	cr_assert(strstr(dsl, "QWordMemory(ResourceProducer,PosDecode,MinFixed,MaxFixed,"
			      "NonCacheable,ReadWrite,0x0000000000000000,0x0000000400000000,"
			      "0x00000013FFFFFFFF,0x0000000000000000,0x0000001000000000,"),
		  "%s", dsl);
	cr_assert(strstr(dsl, "Device(PRES){Name(_HID,EisaId(\"PNP0C02\"))"), "%s", dsl);
	cr_assert(strstr(dsl, "Memory32Fixed(ReadWrite,0xE0000000,0x00100000,)"), "%s", dsl);
	free(dsl);
	vm_destroy(&v);
}

Test(pci_acpi, aml_without_64bit_window)
{
	struct pci_bus_layout l = test_layout();
	struct vm v;
	char *dsl;

	l.mmio64_size = 0;
	test_vm_init(&v);
	cr_assert_eq(pci_bus_build_aml(&l, &v.sb_aml), 0);
	dsl = dsdt_dsl(&v);
	cr_assert(strstr(dsl, "DWordMemory("), "%s", dsl);
	cr_assert_null(strstr(dsl, "QWordMemory("), "%s", dsl);
	free(dsl);
	vm_destroy(&v);
}
