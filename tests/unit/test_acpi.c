// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI table builder tests: structure parsed back by hand, checksums, error
 * paths, and every table run through the ACPICA disassembler (iasl -d), which
 * the project depends on (acpica-tools), so a missing iasl is a failure.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "vmm/util.h"

/* Shared with test_aml.c. */
char *test_acpi_iasl(const uint8_t *table, size_t len);
void test_acpi_squash(char *s);

#define BASE 0xe0000ull

static const struct acpi_irq_override overrides[] = {
	{ .source = 0, .gsi = 2, .flags = 0 },
	{ .source = 9, .gsi = 9, .flags = 0xd }, /* level, active-high */
};

static struct acpi_tables_cfg std_cfg(unsigned int ncpus)
{
	struct acpi_tables_cfg c = {
		.ncpus = ncpus,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.ioapic_id = 0xfe,
		.ioapic_gsi_base = 0,
		.overrides = overrides,
		.noverrides = ARRAY_SIZE(overrides),
		.sleep_ctl_port = 0x600,
		.sleep_sts_port = 0x601,
	};
	return c;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Table at guest address @gpa of a build placed at @base. */
static const uint8_t *at(const uint8_t *buf, size_t used, uint64_t base, uint64_t gpa)
{
	cr_assert(gpa >= base && gpa - base + ACPI_TABLE_HEADER_LEN <= used,
		  "address 0x%llx outside the build", (unsigned long long)gpa);
	cr_assert(get_le32(buf + (gpa - base) + 4) <= used - (gpa - base), "table overruns build");
	return buf + (gpa - base);
}

static const uint8_t *xsdt_of(const uint8_t *buf, size_t used, uint64_t base)
{
	return at(buf, used, base, get_le64(buf + 24));
}

static size_t xsdt_count(const uint8_t *xsdt)
{
	return (get_le32(xsdt + 4) - ACPI_TABLE_HEADER_LEN) / 8;
}

static const uint8_t *find_table(const uint8_t *buf, size_t used, uint64_t base, const char *sig)
{
	const uint8_t *xsdt = xsdt_of(buf, used, base);
	size_t i;

	if (!memcmp(sig, "DSDT", 4))
		return at(buf, used, base, get_le64(find_table(buf, used, base, "FACP") + 140));
	for (i = 0; i < xsdt_count(xsdt); i++) {
		const uint8_t *t = at(buf, used, base, get_le64(xsdt + 36 + 8 * i));

		if (!memcmp(t, sig, 4))
			return t;
	}
	cr_assert_fail("no %.4s table", sig);
	return NULL;
}

static uint8_t *build(const struct acpi_tables_cfg *c, uint64_t base, size_t *used)
{
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);
	int ret;

	cr_assert_not_null(buf);
	ret = acpi_build_tables(c, base, buf, cap, used);
	cr_assert_eq(ret, 0, "acpi_build_tables: %d", ret);
	return buf;
}

/* A minimal MCFG (PCI Firmware spec 4.1.2), built with the public header helpers. */
static size_t make_mcfg(uint8_t *t)
{
	acpi_table_header(t, "MCFG", 1, 0);
	memset(t + 36, 0, 24);
	put_le64(t + 44, 0xb0000000); /* ECAM base */
	put_le16(t + 52, 0);	      /* segment */
	t[54] = 0;		      /* start bus */
	t[55] = 0xff;		      /* end bus */
	acpi_table_finish(t, 60);
	return 60;
}

Test(acpi_tables, checksum_helpers)
{
	uint8_t t[64];

	memset(t, 0x5a, sizeof(t));
	acpi_table_checksum(t, sizeof(t), 7);
	cr_assert_eq(sum8(t, sizeof(t)), 0);
	cr_assert_eq(acpi_checksum(t, sizeof(t)), 0);
	cr_assert_eq(acpi_checksum((const uint8_t *)"\x01\x02", 2), 0xfd);
	cr_assert_eq(acpi_checksum(t, 0), 0);

	acpi_table_header(t, "TEST", 3, 40);
	cr_assert(!memcmp(t, "TEST", 4));
	cr_assert_eq(get_le32(t + 4), 40);
	cr_assert_eq(t[8], 3);
	cr_assert(!memcmp(t + 10, "KITE  ", 6));
	cr_assert(!memcmp(t + 16, "KITEVM  ", 8));
	cr_assert(!memcmp(t + 28, "KITE", 4));
	acpi_table_finish(t, 44);
	cr_assert_eq(get_le32(t + 4), 44);
	cr_assert_eq(sum8(t, 44), 0);
}

Test(acpi_tables, rsdp)
{
	struct acpi_tables_cfg c = std_cfg(2);
	size_t used;
	uint8_t *buf = build(&c, BASE, &used);
	uint64_t xsdt;

	cr_assert(!memcmp(buf, "RSD PTR ", 8));
	cr_assert(!memcmp(buf + 9, "KITE  ", 6));
	cr_assert_eq(buf[15], 2, "revision");
	cr_assert_eq(get_le32(buf + 16), 0, "no RSDT");
	cr_assert_eq(get_le32(buf + 20), 36);
	cr_assert_eq(sum8(buf, 20), 0, "v1 checksum");
	cr_assert_eq(sum8(buf, 36), 0, "extended checksum");
	xsdt = get_le64(buf + 24);
	cr_assert_eq(xsdt % 8, 0);
	cr_assert(!memcmp(at(buf, used, BASE, xsdt), "XSDT", 4));
	free(buf);
}

Test(acpi_tables, all_checksums_and_xsdt)
{
	uint8_t mcfg[64], other[48];
	struct acpi_extra_table extra[2] = { { mcfg, 0 }, { other, sizeof(other) } };
	struct acpi_tables_cfg c = std_cfg(4);
	const char *want[] = { "FACP", "APIC", "MCFG", "OEMX" };
	const uint8_t *xsdt;
	size_t used, i;
	uint8_t *buf;

	extra[0].len = make_mcfg(mcfg);
	acpi_table_header(other, "OEMX", 1, sizeof(other));
	for (i = 36; i < sizeof(other); i++)
		other[i] = (uint8_t)i;
	acpi_table_finish(other, sizeof(other));
	c.extra = extra;
	c.nextra = 2;

	buf = build(&c, BASE, &used);
	xsdt = xsdt_of(buf, used, BASE);
	cr_assert_eq(get_le32(xsdt + 4), 36 + 8 * 4);
	cr_assert_eq(xsdt[8], 1);
	cr_assert_eq(sum8(xsdt, get_le32(xsdt + 4)), 0, "XSDT checksum");
	cr_assert_eq(xsdt_count(xsdt), ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		uint64_t gpa = get_le64(xsdt + 36 + 8 * i);
		const uint8_t *t = at(buf, used, BASE, gpa);

		cr_assert_eq(gpa % 8, 0, "entry %zu not 8-byte aligned", i);
		cr_assert(!memcmp(t, want[i], 4), "entry %zu is %.4s, want %s", i, t, want[i]);
		cr_assert_eq(sum8(t, get_le32(t + 4)), 0, "%s checksum", want[i]);
	}
	cr_assert(!memcmp(find_table(buf, used, BASE, "MCFG"), mcfg, extra[0].len));
	cr_assert(!memcmp(find_table(buf, used, BASE, "OEMX"), other, sizeof(other)));
	{
		const uint8_t *dsdt = find_table(buf, used, BASE, "DSDT");

		cr_assert_eq(sum8(dsdt, get_le32(dsdt + 4)), 0, "DSDT checksum");
		cr_assert_eq((uint64_t)(dsdt - buf + BASE) % 8, 0);
	}
	free(buf);
}

Test(acpi_tables, fadt)
{
	struct acpi_tables_cfg c = std_cfg(1);
	const uint8_t *f, *dsdt;
	uint32_t flags;
	size_t used;
	uint8_t *buf = build(&c, BASE, &used);

	f = find_table(buf, used, BASE, "FACP");
	cr_assert_eq(get_le32(f + 4), 276);
	cr_assert_eq(f[8], 6);
	cr_assert(f[131] == 0 || f[131] == 3, "minor version %u", f[131]);
	flags = get_le32(f + 112);
	cr_assert(flags & (1u << 20), "HW_REDUCED_ACPI");
	cr_assert(flags & (1u << 0), "WBINVD");
	cr_assert(flags & (1u << 4), "PWR_BUTTON");
	cr_assert(flags & (1u << 5), "SLP_BUTTON");
	cr_assert(!(flags & (1u << 10)), "RESET_REG_SUP must be clear");
	cr_assert_eq(get_le16(f + 109), (1u << 2) | (1u << 5), "IAPC_BOOT_ARCH");
	dsdt = find_table(buf, used, BASE, "DSDT");
	cr_assert_eq(get_le32(f + 40), dsdt - buf + BASE, "DSDT (32-bit)");
	cr_assert_eq(get_le64(f + 140), dsdt - buf + BASE, "X_DSDT");
	cr_assert_eq(get_le32(f + 36), 0, "no FACS");
	cr_assert_eq(get_le64(f + 132), 0, "no X_FACS");
	/* SLEEP_CONTROL_REG / SLEEP_STATUS_REG: SystemIO, 8 bits, byte access. */
	cr_assert(!memcmp(f + 244, "\x01\x08\x00\x01", 4));
	cr_assert_eq(get_le64(f + 248), 0x600);
	cr_assert(!memcmp(f + 256, "\x01\x08\x00\x01", 4));
	cr_assert_eq(get_le64(f + 260), 0x601);
	cr_assert(!memcmp(f + 268, "KITE", 4), "hypervisor vendor id");
	free(buf);
}

Test(acpi_tables, fadt_above_4g)
{
	struct acpi_tables_cfg c = std_cfg(1);
	uint64_t base = 0x100000000ull;
	const uint8_t *f, *dsdt;
	size_t used;
	uint8_t *buf = build(&c, base, &used);

	f = find_table(buf, used, base, "FACP");
	dsdt = find_table(buf, used, base, "DSDT");
	cr_assert_eq(get_le32(f + 40), 0, "32-bit DSDT cannot hold the address");
	cr_assert_eq(get_le64(f + 140), dsdt - buf + base);
	cr_assert_eq(get_le64(buf + 24), base + 40, "XSDT right after the RSDP");
	free(buf);
}

Test(acpi_tables, madt_cpu_counts)
{
	static const unsigned int counts[] = { 1, 2, 64, 255 };
	size_t k;

	for (k = 0; k < ARRAY_SIZE(counts); k++) {
		struct acpi_tables_cfg c = std_cfg(counts[k]);
		unsigned int nlapic = 0, nioapic = 0, novr = 0;
		const uint8_t *m, *p, *end;
		size_t used;
		uint8_t *buf = build(&c, BASE, &used);

		m = find_table(buf, used, BASE, "APIC");
		end = m + get_le32(m + 4);
		cr_assert_eq(m[8], 5);
		cr_assert_eq(sum8(m, get_le32(m + 4)), 0);
		cr_assert_eq(get_le32(m + 36), 0xfee00000);
		cr_assert_eq(get_le32(m + 40), 1, "PCAT_COMPAT");
		for (p = m + 44; p < end; p += p[1]) {
			cr_assert(p[1] >= 2 && p + p[1] <= end, "bad entry length");
			switch (p[0]) {
			case 0:
				cr_assert_eq(p[1], 8);
				cr_assert_eq(p[2], nlapic, "processor UID");
				cr_assert_eq(p[3], nlapic, "APIC id");
				cr_assert_eq(get_le32(p + 4), 1, "enabled");
				nlapic++;
				break;
			case 1:
				cr_assert_eq(p[1], 12);
				cr_assert_eq(p[2], 0xfe);
				cr_assert_eq(get_le32(p + 4), 0xfec00000);
				cr_assert_eq(get_le32(p + 8), 0);
				nioapic++;
				break;
			case 2:
				cr_assert_eq(p[1], 10);
				cr_assert_eq(p[2], 0, "bus ISA");
				cr_assert_eq(p[3], overrides[novr].source);
				cr_assert_eq(get_le32(p + 4), overrides[novr].gsi);
				cr_assert_eq(get_le16(p + 8), overrides[novr].flags);
				novr++;
				break;
			default:
				cr_assert_fail("unexpected MADT entry type %u", p[0]);
			}
		}
		cr_assert_eq(p, end, "entries must fill the table exactly");
		cr_assert_eq(nlapic, counts[k]);
		cr_assert_eq(nioapic, 1);
		cr_assert_eq(novr, ARRAY_SIZE(overrides));
		free(buf);
	}
}

/* Decodes a PkgLength; returns the value and its size in *n. */
static size_t pkglen_decode(const uint8_t *p, size_t *n)
{
	size_t len, i;

	*n = 1 + (p[0] >> 6);
	if (*n == 1)
		return p[0] & 0x3f;
	len = p[0] & 0x0f;
	for (i = 1; i < *n; i++)
		len |= (size_t)p[i] << (4 + 8 * (i - 1));
	return len;
}

Test(acpi_tables, dsdt_layout)
{
	/* Body sizes that need 1-, 2- and 3-byte PkgLengths for the scope. */
	static const size_t sizes[] = { 0, 1, 57, 58, 100, 4089, 4090, 70000 };
	static const uint8_t s5[] = { 0x08, '\\', '_',	'S',  '5',  '_',  0x12,
				      0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00 };
	uint8_t *sb = malloc(70000);
	size_t k, i;

	cr_assert_not_null(sb);
	for (i = 0; i < 70000; i++)
		sb[i] = (uint8_t)(i * 7);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct acpi_tables_cfg c = std_cfg(1);
		const uint8_t *d, *p;
		size_t used, n, plen, dlen;
		uint8_t *buf;

		c.sb_aml = sizes[k] ? sb : NULL;
		c.sb_aml_len = sizes[k];
		buf = build(&c, BASE, &used);
		d = find_table(buf, used, BASE, "DSDT");
		dlen = get_le32(d + 4);
		cr_assert_eq(d[8], 2);
		cr_assert_eq(sum8(d, dlen), 0);
		p = d + 36;
		cr_assert_eq(p[0], 0x10, "ScopeOp");
		plen = pkglen_decode(p + 1, &n);
		cr_assert_eq(plen, n + 5 + sizes[k], "scope PkgLength for body %zu", sizes[k]);
		/* The shortest encoding: 1 byte up to 63, then 2 bytes up to 4095, ... */
		cr_assert_eq(n, plen <= 63 ? 1 : plen <= 4095 ? 2 : 3);
		cr_assert(!memcmp(p + 1 + n, "\\_SB_", 5));
		cr_assert(!sizes[k] || !memcmp(p + 1 + n + 5, sb, sizes[k]));
		p += 1 + plen;
		cr_assert_eq((size_t)(d + dlen - p), sizeof(s5));
		cr_assert(!memcmp(p, s5, sizeof(s5)));
		free(buf);
	}
	free(sb);
}

Test(acpi_tables, bad_config)
{
	struct acpi_tables_cfg c;
	struct acpi_irq_override bad_ovr = { .source = 16, .gsi = 16 };
	uint8_t good[64], badlen[64], badsum[64];
	struct acpi_extra_table ex;
	uint8_t *buf = malloc(65536);
	size_t used = 12345;

	cr_assert_not_null(buf);
	c = std_cfg(1);
	cr_assert_eq(acpi_build_tables(NULL, BASE, buf, 65536, &used), -EINVAL);
	cr_assert_eq(acpi_build_tables(&c, BASE, NULL, 65536, &used), -EINVAL);
	c.ncpus = 0;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c.ncpus = 256;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c.ncpus = ~0u;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c = std_cfg(1);
	cr_assert_eq(acpi_build_tables(&c, BASE + 8, buf, 65536, &used), -EINVAL, "unaligned");
	c.overrides = NULL;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c = std_cfg(1);
	c.overrides = &bad_ovr;
	c.noverrides = 1;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c = std_cfg(1);
	c.sb_aml_len = 10;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c = std_cfg(1);
	c.sb_aml = good;
	c.sb_aml_len = SIZE_MAX - 2;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL, "huge AML");
	c = std_cfg(1);
	c.nextra = 1;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	c.extra = &ex;
	ex.data = NULL;
	ex.len = 60;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL);
	ex.data = good;
	ex.len = 10;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL,
		     "shorter than header");

	ex.len = make_mcfg(good);
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), 0);
	memcpy(badlen, good, sizeof(good));
	put_le32(badlen + 4, 61);
	acpi_table_checksum(badlen, 60, 9);
	ex.data = badlen;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL, "length mismatch");
	memcpy(badsum, good, sizeof(good));
	badsum[9]++;
	ex.data = badsum;
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, 65536, &used), -EINVAL, "bad checksum");
	c = std_cfg(1);
	cr_assert_eq(acpi_build_tables(&c, ~0ull & ~15ull, buf, 65536, &used), -EINVAL,
		     "tables would wrap the address space");
	free(buf);
}

Test(acpi_tables, enospc_never_writes_past_cap)
{
	uint8_t mcfg[64];
	struct acpi_extra_table ex = { mcfg, 0 };
	struct acpi_tables_cfg c = std_cfg(8);
	uint8_t sb[100];
	size_t need, used, cap, i;
	uint8_t *buf, *ref;

	memset(sb, 0x5b, sizeof(sb)); /* arbitrary bytes; only copied */
	c.sb_aml = sb;
	c.sb_aml_len = sizeof(sb);
	ex.len = make_mcfg(mcfg);
	c.extra = &ex;
	c.nextra = 1;
	ref = build(&c, BASE, &need);
	buf = malloc(need + 64);
	cr_assert_not_null(buf);

	for (cap = 0; cap < need; cap++) {
		memset(buf, 0xa5, need + 64);
		used = 777;
		cr_assert_eq(acpi_build_tables(&c, BASE, buf, cap, &used), -ENOSPC, "cap %zu", cap);
		cr_assert_eq(used, 777, "used written on failure");
		for (i = cap; i < need + 64; i++)
			cr_assert_eq(buf[i], 0xa5, "byte %zu written with cap %zu", i, cap);
	}

	/* Exactly enough works, writes nothing past it, and ignores old contents. */
	memset(buf, 0xa5, need + 64);
	cr_assert_eq(acpi_build_tables(&c, BASE, buf, need, NULL), 0);
	for (i = need; i < need + 64; i++)
		cr_assert_eq(buf[i], 0xa5);
	cr_assert(!memcmp(buf, ref, need), "output depends on old buffer contents");
	free(buf);
	free(ref);
}

/* ---- iasl ---- */

static bool has_marker(const char *text, const char **why)
{
	static const char *const bad[] = { "error",   "warning",    "incorrect", "****",
					   "invalid", "terminates", "unknown",	 "unexpected" };
	char *low = strdup(text);
	char *line, *save = NULL;
	bool found = false;
	size_t i;

	cr_assert_not_null(low);
	for (i = 0; low[i]; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	for (line = strtok_r(low, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		int e, w;

		/* iasl's "N Errors, N Warnings" summary is fine when both are zero. */
		const char *s = strstr(line, " errors, ");
		if (s) {
			while (s > line && isdigit((unsigned char)s[-1]))
				s--;
			if (sscanf(s, "%d errors, %d warnings", &e, &w) == 2 && !e && !w)
				continue;
		}
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(line, bad[i])) {
				found = true;
				*why = bad[i];
			}
		}
	}
	free(low);
	return found;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		s = calloc(1, (size_t)n + 1);
		if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		}
	}
	fclose(f);
	return s;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Runs `iasl -d` on one table in a private temporary directory. Returns its
 * wait status and hands back its combined stdout/stderr and the .dsl (either
 * may be NULL; free both).
 */
static int iasl_run(const uint8_t *table, size_t len, char **log, char **dsl)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300];
	int fd, status = -1;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/kite-acpi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/table.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, table, len), (ssize_t)len);
	close(fd);

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* Output files land next to the input; run there with a relative name. */
		snprintf(path, sizeof(path), "%s/iasl.log", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || chdir(dir) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execlp("iasl", "iasl", "-d", "table.dat", (char *)NULL);
		dprintf(2, "exec iasl: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	snprintf(path, sizeof(path), "%s/iasl.log", dir);
	*log = slurp(path);
	snprintf(path, sizeof(path), "%s/table.dsl", dir);
	*dsl = slurp(path);
	rm_tree(dir);
	cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 127),
		  "iasl not found: kite's tests need acpica-tools (apt-get install acpica-tools)");
	return status;
}

/*
 * Disassembles one table and fails the test unless iasl exits 0 and neither
 * its output nor the .dsl mentions an error, warning, bad checksum or
 * truncated structure (iasl -d exits 0 on those and only prints them).
 * Returns the .dsl text (free it).
 */
char *test_acpi_iasl(const uint8_t *table, size_t len)
{
	const char *why = "";
	char *log, *dsl;
	int status = iasl_run(table, len, &log, &dsl);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "iasl -d failed (status 0x%x):\n%s", status, log ? log : "");
	cr_assert_not_null(log);
	cr_assert_not_null(dsl, "iasl wrote no .dsl:\n%s", log);
	cr_assert(!has_marker(log, &why) && !has_marker(dsl, &why),
		  "iasl complained (\"%s\"):\n%s\n%s", why, log, dsl);
	free(log);
	return dsl;
}

/* Drops comments and whitespace so .dsl text compares independent of layout. */
void test_acpi_squash(char *s)
{
	char *w = s;
	bool in_str = false;

	while (*s) {
		if (!in_str && s[0] == '/' && s[1] == '*') {
			char *e = strstr(s + 2, "*/");

			s = e ? e + 2 : s + strlen(s);
		} else if (!in_str && s[0] == '/' && s[1] == '/') {
			s += strcspn(s, "\n");
		} else if (!in_str && isspace((unsigned char)*s)) {
			s++;
		} else {
			if (*s == '"')
				in_str = !in_str;
			*w++ = *s++;
		}
	}
	*w = 0;
}

static void disasm_table(const uint8_t *t, const char *must_have)
{
	char *dsl = test_acpi_iasl(t, get_le32(t + 4));

	cr_assert(strstr(dsl, must_have), "%.4s: no \"%s\" in\n%s", t, must_have, dsl);
	free(dsl);
}

Test(acpi_tables, iasl_clean)
{
	static const struct aml_res com1[] = { { AML_RES_IO, 0x3f8, 8 }, { AML_RES_IRQ, 4, 0 } };
	static const struct aml_res pvpanic[] = { { AML_RES_IO, 0x505, 1 } };
	uint8_t mcfg[64];
	struct acpi_extra_table ex = { mcfg, 0 };
	struct acpi_tables_cfg c = std_cfg(4);
	const uint8_t *dsdt;
	struct aml_buf sb;
	char *dsl;
	size_t used;
	uint8_t *buf;

	aml_buf_init(&sb);
	cr_assert_eq(aml_device(&sb, "COM1", "PNP0501", 0, com1, ARRAY_SIZE(com1)), 0);
	cr_assert_eq(aml_device(&sb, "PEVT", "QEMU0001", 0, pvpanic, ARRAY_SIZE(pvpanic)), 0);
	c.sb_aml = sb.data;
	c.sb_aml_len = sb.len;
	ex.len = make_mcfg(mcfg);
	c.extra = &ex;
	c.nextra = 1;
	buf = build(&c, BASE, &used);

	disasm_table(find_table(buf, used, BASE, "FACP"), "Hardware Reduced (V5) : 1");
	disasm_table(find_table(buf, used, BASE, "APIC"), "Processor Local APIC");
	disasm_table(find_table(buf, used, BASE, "MCFG"), "Memory Mapped Configuration");
	disasm_table(xsdt_of(buf, used, BASE), "Extended System Description Table");

	dsdt = find_table(buf, used, BASE, "DSDT");
	dsl = test_acpi_iasl(dsdt, get_le32(dsdt + 4));
	cr_assert(strstr(dsl, "PNP0501"), "%s", dsl);
	cr_assert(strstr(dsl, "QEMU0001"), "%s", dsl);
	cr_assert(strstr(dsl, "_S5_"), "%s", dsl);
	test_acpi_squash(dsl);
	cr_assert(strstr(dsl, "Name(\\_S5,Package(0x04){0x05,Zero,Zero,Zero})"), "%s", dsl);
	cr_assert(strstr(dsl, "Scope(\\_SB){Device(COM1){Name(_HID,EisaId(\"PNP0501\"))"), "%s",
		  dsl);
	free(dsl);
	aml_buf_free(&sb);
	free(buf);
}

Test(acpi_tables, iasl_clean_255_cpus)
{
	struct acpi_tables_cfg c = std_cfg(255);
	size_t used;
	uint8_t *buf = build(&c, BASE, &used);

	disasm_table(find_table(buf, used, BASE, "APIC"), "Local Apic ID : FE");
	disasm_table(find_table(buf, used, BASE, "DSDT"), "_S5");
	free(buf);
}

/* The checks in test_acpi_iasl() must notice what iasl says about broken tables. */
Test(acpi_tables, iasl_complaints_are_caught)
{
	struct acpi_tables_cfg c = std_cfg(2);
	const char *why = NULL;
	char *log, *dsl;
	uint8_t t[ACPI_FADT_LEN];
	uint8_t *madt;
	size_t used;
	uint8_t *buf = build(&c, BASE, &used);

	cr_assert(!has_marker("Compilation complete. 0 Errors, 0 Warnings, 3 Remarks", &why));
	cr_assert(has_marker("Compilation complete. 1 Errors, 0 Warnings", &why));

	/* Bad checksum: iasl still exits 0. */
	memcpy(t, find_table(buf, used, BASE, "FACP"), sizeof(t));
	t[9] ^= 0x55;
	cr_assert_eq(iasl_run(t, sizeof(t), &log, &dsl), 0);
	cr_assert(has_marker(log, &why) || has_marker(dsl, &why), "%s", log);
	free(log);
	free(dsl);

	/* A MADT entry claiming to be shorter than its type. */
	madt = (uint8_t *)find_table(buf, used, BASE, "APIC");
	madt[44 + 1] = 6;
	acpi_table_checksum(madt, get_le32(madt + 4), 9);
	cr_assert_eq(iasl_run(madt, get_le32(madt + 4), &log, &dsl), 0);
	cr_assert(has_marker(log, &why) || has_marker(dsl, &why), "%s\n%s", log, dsl);
	free(log);
	free(dsl);
	free(buf);
}
