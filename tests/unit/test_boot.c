// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 boot protocol pieces: bzImage header validation on synthetic headers,
 * load and initrd placement, e820, the zero page and the identity-mapping
 * page tables, all on real guest_mem mappings (no KVM).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "tests/unit/test_helpers.h"
#include "vmm/guest_mem.h"

/* e820 types from the ACPI spec (the kernel's asm/e820/types.h is not UAPI). */
#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2

#define FILE_SIZE (TEST_BZ_SETUP_SIZE + 0x100000ull) /* 1 MiB of protected-mode code */

static uint8_t hdr[X86_BZIMAGE_HDR_LEN];

static void fresh_hdr(void)
{
	test_bzimage_hdr(hdr, sizeof(hdr));
}

TestSuite(bzimage, .init = fresh_hdr);

static int parse(uint64_t file_size, struct x86_kernel_info *ki, const char **why)
{
	*why = NULL;
	return x86_bzimage_parse(hdr, sizeof(hdr), file_size, ki, why);
}

static void expect_reject(uint64_t file_size, const char *needle)
{
	struct x86_kernel_info ki;
	const char *why;

	cr_assert_eq(parse(file_size, &ki, &why), -ENOEXEC);
	cr_assert_not_null(why, "no reason given");
	cr_assert(strstr(why, needle), "reason '%s' does not mention '%s'", why, needle);
}

Test(bzimage, valid_header)
{
	struct x86_kernel_info ki;
	const char *why;

	cr_assert_eq(parse(FILE_SIZE, &ki, &why), 0, "%s", why);
	cr_assert_eq(ki.version, 0x020f);
	cr_assert_eq(ki.setup_size, TEST_BZ_SETUP_SIZE);
	cr_assert_eq(ki.pm_size, FILE_SIZE - TEST_BZ_SETUP_SIZE);
	cr_assert_eq(ki.init_size, TEST_BZ_INIT_SIZE);
	cr_assert_eq(ki.cmdline_size, 2047);
	cr_assert_eq(ki.initrd_addr_max, 0x7fffffff);
	cr_assert_eq(ki.pref_address, TEST_BZ_PREF_ADDR);
	cr_assert(ki.relocatable);
}

Test(bzimage, oldest_accepted_protocol)
{
	struct x86_kernel_info ki;
	const char *why;

	put_le16(hdr + 0x206, 0x020c);
	cr_assert_eq(parse(FILE_SIZE, &ki, &why), 0, "%s", why);
	cr_assert_eq(ki.version, 0x020c);
}

Test(bzimage, setup_sects_0_means_4)
{
	struct x86_kernel_info ki;
	const char *why;

	hdr[0x1f1] = 0;
	cr_assert_eq(parse(FILE_SIZE, &ki, &why), 0, "%s", why);
	cr_assert_eq(ki.setup_size, 5 * 512);
	cr_assert_eq(ki.pm_size, FILE_SIZE - 5 * 512);
}

Test(bzimage, init_size_at_least_the_code)
{
	struct x86_kernel_info ki;
	const char *why;

	put_le32(hdr + 0x260, 4096); /* smaller than the code itself */
	cr_assert_eq(parse(FILE_SIZE, &ki, &why), 0, "%s", why);
	cr_assert_eq(ki.init_size, ki.pm_size);
}

Test(bzimage, not_relocatable)
{
	struct x86_kernel_info ki;
	const char *why;

	hdr[0x234] = 0;
	cr_assert_eq(parse(FILE_SIZE, &ki, &why), 0, "%s", why);
	cr_assert_not(ki.relocatable);
}

Test(bzimage, bad_boot_flag)
{
	put_le16(hdr + 0x1fe, 0x55aa);
	expect_reject(FILE_SIZE, "bzImage");
}

Test(bzimage, bad_magic)
{
	memcpy(hdr + 0x202, "HdrZ", 4);
	expect_reject(FILE_SIZE, "HdrS");
}

Test(bzimage, old_protocol)
{
	put_le16(hdr + 0x206, 0x020b);
	expect_reject(FILE_SIZE, "2.12");
}

Test(bzimage, zimage_loaded_low)
{
	hdr[0x211] &= (uint8_t)~0x01;
	expect_reject(FILE_SIZE, "zImage");
}

Test(bzimage, no_64bit_entry)
{
	put_le16(hdr + 0x236, 0x7e); /* everything but XLF_KERNEL_64 */
	expect_reject(FILE_SIZE, "64-bit");
}

Test(bzimage, truncated_file)
{
	/* Nothing after the setup sectors, or less than the header itself. */
	expect_reject(TEST_BZ_SETUP_SIZE, "truncated");
	expect_reject(TEST_BZ_SETUP_SIZE - 1, "truncated");
	expect_reject(0x267, "too small");
	expect_reject(0, "too small");
}

Test(bzimage, short_header_buffer)
{
	struct x86_kernel_info ki;
	const char *why = NULL;

	/* A file shorter than the header: the caller read fewer bytes. */
	cr_assert_eq(x86_bzimage_parse(hdr, 0x200, FILE_SIZE, &ki, &why), -ENOEXEC);
	cr_assert(strstr(why, "too small"), "%s", why);
	cr_assert_eq(x86_bzimage_parse(hdr, 0x267, FILE_SIZE, &ki, &why), -ENOEXEC);
	cr_assert_eq(x86_bzimage_parse(hdr, 0x268, FILE_SIZE, &ki, &why), 0, "%s", why);
}

Test(bzimage, setup_larger_than_file)
{
	hdr[0x1f1] = 0xff; /* 256 sectors = 128 KiB of setup */
	expect_reject(64 * 1024, "truncated");
}

Test(bzimage, all_zero_and_all_ones)
{
	memset(hdr, 0, sizeof(hdr));
	expect_reject(FILE_SIZE, "bzImage");
	memset(hdr, 0xff, sizeof(hdr));
	expect_reject(FILE_SIZE, "bzImage");
}

Test(bzimage, code_larger_than_4g)
{
	/* init_size is 32 bits: it cannot describe more code than that. */
	struct x86_kernel_info ki;
	const char *why;

	expect_reject(TEST_BZ_SETUP_SIZE + (5ull << 30), "4 GiB");
	cr_assert_eq(parse(TEST_BZ_SETUP_SIZE + (uint64_t)UINT32_MAX, &ki, &why), 0, "%s", why);
	cr_assert_eq(ki.init_size, UINT32_MAX);
}

/* ---- load address and initrd placement ---- */

Test(boot, kernel_load_addr)
{
	struct x86_kernel_info ki = { .init_size = 32u << 20, .pref_address = 16ull << 20 };

	cr_assert_eq(x86_kernel_load_addr(&ki, 256ull << 20), 16ull << 20, "preferred fits");
	cr_assert_eq(x86_kernel_load_addr(&ki, 48ull << 20), 16ull << 20, "exactly fits");
	/*
	 * Too little RAM above the preferred address: still loaded there (the
	 * decompressor would move there anyway), so the caller's fit check fails.
	 */
	cr_assert_eq(x86_kernel_load_addr(&ki, (48ull << 20) - 1), 16ull << 20);
	cr_assert_eq(x86_kernel_load_addr(&ki, 16ull << 20), 16ull << 20);
	ki.pref_address = 0x80000; /* below 1 MiB: never */
	cr_assert_eq(x86_kernel_load_addr(&ki, 256ull << 20), X86_HIMEM_START);
	ki.pref_address = 0;
	cr_assert_eq(x86_kernel_load_addr(&ki, 256ull << 20), X86_HIMEM_START);
	ki.pref_address = X86_HIMEM_START;
	cr_assert_eq(x86_kernel_load_addr(&ki, 256ull << 20), X86_HIMEM_START);
}

Test(boot, initrd_place_top_of_low_ram)
{
	uint64_t addr = 0;

	cr_assert_eq(x86_initrd_place(256ull << 20, 50ull << 20, 0x7fffffff, 10ull << 20, &addr),
		     0);
	cr_assert_eq(addr, 246ull << 20);
	/* Page aligned, end within RAM. */
	cr_assert_eq(x86_initrd_place(256ull << 20, 50ull << 20, 0x7fffffff, 12345, &addr), 0);
	cr_assert_eq(addr % 4096, 0);
	cr_assert_leq(addr + 12345, 256ull << 20);
	cr_assert_gt(addr + 12345 + 4096, 256ull << 20);
}

Test(boot, initrd_place_respects_addr_max)
{
	uint64_t addr = 0;

	/* 3 GiB of low RAM but the kernel takes initrds only below 2 GiB. */
	cr_assert_eq(x86_initrd_place(3ull << 30, 50ull << 20, 0x7fffffff, 1ull << 20, &addr), 0);
	cr_assert_eq(addr, (2ull << 30) - (1ull << 20));
	cr_assert_eq(x86_initrd_place(3ull << 30, 50ull << 20, 0, 1ull << 20, &addr), 0);
	cr_assert_eq(addr, (3ull << 30) - (1ull << 20), "0 means no limit");
	cr_assert_eq(x86_initrd_place(3ull << 30, 50ull << 20, UINT64_MAX, 1ull << 20, &addr), 0);
	cr_assert_eq(addr, (3ull << 30) - (1ull << 20));
}

Test(boot, initrd_does_not_fit)
{
	uint64_t addr = 0xdead;

	/* 64 MiB of initrd into 16 MiB of RAM. */
	cr_assert_eq(x86_initrd_place(16ull << 20, 2ull << 20, 0x7fffffff, 64ull << 20, &addr),
		     -ENOSPC);
	/* Fits in RAM, but would overlap the kernel. */
	cr_assert_eq(x86_initrd_place(64ull << 20, 50ull << 20, 0x7fffffff, 16ull << 20, &addr),
		     -ENOSPC);
	/* Exactly the gap between the kernel and the top. */
	cr_assert_eq(x86_initrd_place(64ull << 20, 48ull << 20, 0x7fffffff, 16ull << 20, &addr), 0);
	cr_assert_eq(addr, 48ull << 20);
	/* Below addr_max there is no room above the kernel. */
	cr_assert_eq(x86_initrd_place(3ull << 30, 2ull << 30, 0x7fffffff, 1ull << 20, &addr),
		     -ENOSPC);
	cr_assert_eq(x86_initrd_place(64ull << 20, 0, 0, UINT64_MAX, &addr), -ENOSPC);
}

/* ---- e820, zero page and page tables on real guest memory ---- */

static struct guest_mem mem;

static void mem_fini(void)
{
	guest_mem_destroy(&mem);
}

static void mem_init(uint64_t size)
{
	cr_assert_eq(guest_mem_init(&mem, size, X86_MMIO_HOLE), 0);
}

TestSuite(e820, .fini = mem_fini);

static void expect_entry(const struct boot_e820_entry *e, uint64_t addr, uint64_t size,
			 uint32_t type)
{
	cr_assert_eq(e->addr, addr, "addr 0x%llx, want 0x%llx", (unsigned long long)e->addr,
		     (unsigned long long)addr);
	cr_assert_eq(e->size, size, "size 0x%llx at 0x%llx, want 0x%llx",
		     (unsigned long long)e->size, (unsigned long long)addr,
		     (unsigned long long)size);
	cr_assert_eq(e->type, type, "type %u at 0x%llx", e->type, (unsigned long long)addr);
}

Test(e820, small_vm)
{
	struct boot_e820_entry e[16];
	unsigned int n;

	mem_init(256ull << 20);
	n = x86_build_e820(e, 16, &mem);
	cr_assert_eq(n, 4);
	expect_entry(&e[0], 0, X86_EBDA_START, E820_TYPE_RAM);
	expect_entry(&e[1], X86_EBDA_START, 0xa0000 - X86_EBDA_START, E820_TYPE_RESERVED);
	expect_entry(&e[2], X86_ACPI_ADDR, 0x100000 - X86_ACPI_ADDR, E820_TYPE_RESERVED);
	expect_entry(&e[3], X86_HIMEM_START, (256ull << 20) - X86_HIMEM_START, E820_TYPE_RAM);
}

Test(e820, split_around_the_mmio_hole)
{
	struct boot_e820_entry e[16];
	unsigned int n;

	mem_init(4ull << 30);
	n = x86_build_e820(e, 16, &mem);
	cr_assert_eq(n, 5);
	expect_entry(&e[3], X86_HIMEM_START, X86_MMIO_HOLE - X86_HIMEM_START, E820_TYPE_RAM);
	expect_entry(&e[4], 4ull << 30, (4ull << 30) - X86_MMIO_HOLE, E820_TYPE_RAM);
	/* Sorted, non-overlapping, and nothing in the hole. */
	for (unsigned int i = 1; i < n; i++)
		cr_assert_leq(e[i - 1].addr + e[i - 1].size, e[i].addr);
	for (unsigned int i = 0; i < n; i++)
		cr_assert(e[i].addr + e[i].size <= X86_MMIO_HOLE || e[i].addr >= 4ull << 30);
}

Test(e820, exactly_up_to_the_hole)
{
	struct boot_e820_entry e[16];

	mem_init(3ull << 30);
	cr_assert_eq(x86_build_e820(e, 16, &mem), 4);
	expect_entry(&e[3], X86_HIMEM_START, X86_MMIO_HOLE - X86_HIMEM_START, E820_TYPE_RAM);
}

Test(e820, table_full)
{
	struct boot_e820_entry e[3];

	mem_init(4ull << 30);
	cr_assert_eq(x86_build_e820(e, 3, &mem), 3);
	cr_assert_eq(x86_build_e820(e, 0, &mem), 0);
}

TestSuite(zero_page, .fini = mem_fini);

static void build_zero_page(struct boot_params *bp, uint64_t ram)
{
	test_bzimage_hdr(hdr, sizeof(hdr));
	mem_init(ram);
	memset(bp, 0x5a, sizeof(*bp));
	x86_build_zero_page(bp, hdr, sizeof(hdr), &mem, X86_CMDLINE_ADDR, 0x7f000000, 0x1234567,
			    X86_ACPI_ADDR);
}

Test(zero_page, layout_matches_the_boot_protocol)
{
	cr_assert_eq(sizeof(struct boot_params), 4096);
	cr_assert_eq(offsetof(struct boot_params, hdr), 0x1f1);
	cr_assert_eq(offsetof(struct boot_params, acpi_rsdp_addr), 0x070);
	cr_assert_eq(offsetof(struct boot_params, ext_ramdisk_image), 0x0c0);
	cr_assert_eq(offsetof(struct boot_params, ext_cmd_line_ptr), 0x0c8);
	cr_assert_eq(offsetof(struct boot_params, e820_entries), 0x1e8);
	cr_assert_eq(offsetof(struct boot_params, e820_table), 0x2d0);
	cr_assert_eq(offsetof(struct boot_params, hdr.cmd_line_ptr), 0x228);
	cr_assert_eq(offsetof(struct boot_params, hdr.ramdisk_image), 0x218);
	cr_assert_eq(offsetof(struct boot_params, hdr.type_of_loader), 0x210);
}

Test(zero_page, fields)
{
	struct boot_params bp;
	const uint8_t *raw = (const uint8_t *)&bp;

	build_zero_page(&bp, 256ull << 20);
	/* The setup header, copied up to its own end (0x202 + hdr[0x201])... */
	cr_assert_eq(bp.hdr.setup_sects, TEST_BZ_SETUP_SECTS);
	cr_assert_eq(bp.hdr.boot_flag, 0xaa55);
	cr_assert_eq(bp.hdr.header, 0x53726448, "HdrS");
	cr_assert_eq(bp.hdr.version, 0x020f);
	cr_assert_eq(bp.hdr.vid_mode, 0xffff);
	cr_assert_eq(bp.hdr.kernel_alignment, 0x200000);
	cr_assert_eq(bp.hdr.relocatable_kernel, 1);
	cr_assert_eq(bp.hdr.xloadflags, 0x7f);
	cr_assert_eq(bp.hdr.cmdline_size, 2047);
	cr_assert_eq(bp.hdr.pref_address, TEST_BZ_PREF_ADDR);
	cr_assert_eq(bp.hdr.init_size, TEST_BZ_INIT_SIZE);
	/* ...and nothing before it: the rest of the page starts zeroed. */
	for (size_t i = 0; i < 0x1f1; i++)
		if (i < 0x070 || i >= 0x078) /* acpi_rsdp_addr */
			if (i != 0x1e8)	     /* e820_entries */
				cr_assert_eq(raw[i], 0, "byte 0x%zx = 0x%x", i, raw[i]);
	/* Loader-owned fields. */
	cr_assert_eq(bp.hdr.type_of_loader, 0xff);
	cr_assert(bp.hdr.loadflags & LOADED_HIGH);
	cr_assert(bp.hdr.loadflags & CAN_USE_HEAP);
	cr_assert_eq(bp.hdr.cmd_line_ptr, X86_CMDLINE_ADDR);
	cr_assert_eq(bp.ext_cmd_line_ptr, 0);
	cr_assert_eq(bp.hdr.ramdisk_image, 0x7f000000);
	cr_assert_eq(bp.hdr.ramdisk_size, 0x1234567);
	cr_assert_eq(bp.ext_ramdisk_image, 0);
	cr_assert_eq(bp.ext_ramdisk_size, 0);
	cr_assert_eq(bp.acpi_rsdp_addr, X86_ACPI_ADDR);
	cr_assert_eq(bp.e820_entries, 4);
	expect_entry(&bp.e820_table[3], X86_HIMEM_START, (256ull << 20) - X86_HIMEM_START,
		     E820_TYPE_RAM);
	cr_assert_eq(bp.e820_table[4].size, 0, "unused entries zeroed");
}

Test(zero_page, header_beyond_its_length_is_not_copied)
{
	struct boot_params bp;

	test_bzimage_hdr(hdr, sizeof(hdr));
	hdr[0x201] = 0x5e; /* header ends at 0x260: init_size is outside */
	mem_init(64ull << 20);
	x86_build_zero_page(&bp, hdr, sizeof(hdr), &mem, X86_CMDLINE_ADDR, 0, 0, 0);
	cr_assert_eq(bp.hdr.pref_address, TEST_BZ_PREF_ADDR);
	cr_assert_eq(bp.hdr.init_size, 0);
	cr_assert_eq(bp.hdr.ramdisk_image, 0);
	cr_assert_eq(bp.hdr.ramdisk_size, 0);
}

Test(zero_page, high_addresses_use_ext_fields)
{
	struct boot_params bp;

	test_bzimage_hdr(hdr, sizeof(hdr));
	mem_init(64ull << 20);
	x86_build_zero_page(&bp, hdr, sizeof(hdr), &mem, 0x123456789ull, 0x234567890ull,
			    0x345678901ull, 0x100000000ull);
	cr_assert_eq(bp.hdr.cmd_line_ptr, 0x23456789);
	cr_assert_eq(bp.ext_cmd_line_ptr, 0x1);
	cr_assert_eq(bp.hdr.ramdisk_image, 0x34567890);
	cr_assert_eq(bp.ext_ramdisk_image, 0x2);
	cr_assert_eq(bp.hdr.ramdisk_size, 0x45678901);
	cr_assert_eq(bp.ext_ramdisk_size, 0x3);
	cr_assert_eq(bp.acpi_rsdp_addr, 0x100000000ull);
}

Test(zero_page, e820_with_ram_above_4g)
{
	struct boot_params bp;

	build_zero_page(&bp, 4ull << 30);
	cr_assert_eq(bp.e820_entries, 5);
	expect_entry(&bp.e820_table[1], X86_EBDA_START, 0xa0000 - X86_EBDA_START,
		     E820_TYPE_RESERVED);
	expect_entry(&bp.e820_table[2], X86_ACPI_ADDR, 0x100000 - X86_ACPI_ADDR,
		     E820_TYPE_RESERVED);
	expect_entry(&bp.e820_table[3], X86_HIMEM_START, X86_MMIO_HOLE - X86_HIMEM_START,
		     E820_TYPE_RAM);
	expect_entry(&bp.e820_table[4], 4ull << 30, 1ull << 30, E820_TYPE_RAM);
}

Test(zero_page, short_kernel_header)
{
	/* Fewer bytes than the setup header: copy what there is, read nothing beyond. */
	struct boot_params bp;
	uint8_t *small = malloc(0x1f8);

	cr_assert_not_null(small);
	test_bzimage_hdr(hdr, sizeof(hdr));
	memcpy(small, hdr, 0x1f8);
	mem_init(64ull << 20);
	x86_build_zero_page(&bp, small, 0x1f8, &mem, X86_CMDLINE_ADDR, 0, 0, 0);
	cr_assert_eq(bp.hdr.setup_sects, TEST_BZ_SETUP_SECTS);
	cr_assert_eq(bp.hdr.boot_flag, 0);
	cr_assert_eq(bp.hdr.type_of_loader, 0xff);
	x86_build_zero_page(&bp, small, 0x100, &mem, X86_CMDLINE_ADDR, 0, 0, 0);
	cr_assert_eq(bp.hdr.setup_sects, 0);
	free(small);
}

TestSuite(page_tables, .fini = mem_fini);

/* Walks the 4-level tables at X86_PML4_ADDR; returns the physical address or ~0 if unmapped. */
static uint64_t walk(uint64_t va)
{
	uint64_t e;

	cr_assert_eq(guest_mem_read(&mem, X86_PML4_ADDR + 8 * ((va >> 39) & 511), &e, 8), 0);
	if (!(e & 1))
		return ~0ull;
	cr_assert_eq(e & 0x80, 0, "no 512 GiB pages");
	cr_assert_eq(guest_mem_read(&mem, (e & 0xffffffffff000ull) + 8 * ((va >> 30) & 511), &e, 8),
		     0);
	if (!(e & 1))
		return ~0ull;
	cr_assert_eq(e & 0x80, 0, "PDPT entries point at page directories");
	cr_assert_eq(guest_mem_read(&mem, (e & 0xffffffffff000ull) + 8 * ((va >> 21) & 511), &e, 8),
		     0);
	if (!(e & 1))
		return ~0ull;
	cr_assert(e & 0x80, "2 MiB pages");
	cr_assert(e & 0x2, "writable");
	return (e & 0xfffffffe00000ull) | (va & 0x1fffff);
}

Test(page_tables, identity_map_0_to_4g)
{
	static const uint64_t probes[] = {
		0,	    0x1000,	X86_HIMEM_START, 0x1000000,  0x1234567,
		0x3fffffff, 0x40000000, 0x7fffffff,	 0x80000000, 0xbfffffff,
		0xc0000000, 0xfec00000, 0xfee00000,	 0xffffffff,
	};
	uint64_t gdt[4];

	mem_init(64ull << 20);
	cr_assert_eq(x86_setup_boot_tables(&mem), 0);
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		cr_assert_eq(walk(probes[i]), probes[i], "va 0x%llx maps to 0x%llx",
			     (unsigned long long)probes[i], (unsigned long long)walk(probes[i]));
	cr_assert_eq(walk(4ull << 30), ~0ull, "nothing above 4 GiB");
	cr_assert_eq(walk(1ull << 39), ~0ull);
	/* The boot GDT: null, null, __BOOT_CS (64-bit code), __BOOT_DS. */
	cr_assert_eq(guest_mem_read(&mem, X86_GDT_ADDR, gdt, sizeof(gdt)), 0);
	cr_assert_eq(gdt[0], 0);
	cr_assert_eq(gdt[2] & (1ull << 53), 1ull << 53, "L bit on the code segment");
	cr_assert_eq((gdt[2] >> 40) & 0x9a, 0x9a, "present code segment");
	cr_assert_eq((gdt[3] >> 40) & 0x92, 0x92, "present data segment");
}

Test(page_tables, do_not_overlap_other_boot_data)
{
	/* GDT, zero page, page tables, command line and ACPI must not share bytes. */
	static const struct {
		uint64_t start, len;
	} areas[] = {
		{ X86_GDT_ADDR, 32 },
		{ X86_ZERO_PAGE, 4096 },
		{ X86_PML4_ADDR, 4096 },
		{ X86_PDPT_ADDR, 4096 },
		{ X86_PD_ADDR, 4 * 4096 },
		{ X86_CMDLINE_ADDR, X86_CMDLINE_MAX },
		{ X86_ACPI_ADDR, X86_ACPI_SIZE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(areas); i++) {
		cr_assert_leq(areas[i].start + areas[i].len,
			      X86_EBDA_START > areas[i].start ? X86_EBDA_START : X86_HIMEM_START);
		for (size_t j = i + 1; j < ARRAY_SIZE(areas); j++)
			cr_assert(areas[i].start + areas[i].len <= areas[j].start ||
					  areas[j].start + areas[j].len <= areas[i].start,
				  "areas %zu and %zu overlap", i, j);
	}
}

Test(page_tables, memory_too_small)
{
	struct guest_mem tiny = { .nregions = 1 };
	uint8_t page[4096];

	/* A RAM region that ends before the page directories. */
	tiny.regions[0] = (struct guest_mem_region){ .gpa = 0, .size = sizeof(page), .hva = page };
	tiny.ram_size = sizeof(page);
	cr_assert_eq(x86_setup_boot_tables(&tiny), -EFAULT);
}
