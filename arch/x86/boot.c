// SPDX-License-Identifier: GPL-2.0-only
#include "arch/x86/boot.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "vmm/util.h"

/* Offsets in the bzImage file / zero page, from the Linux x86 boot protocol. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_LEN 0x268

int x86_bzimage_parse(const uint8_t *hdr, size_t hdr_len, uint64_t file_size,
		      struct x86_kernel_info *ki, const char **why)
{
	uint32_t setup_sects;

	memset(ki, 0, sizeof(*ki));
	if (hdr_len < HDR_MIN_LEN || file_size < HDR_MIN_LEN) {
		*why = "file too small to be a bzImage";
		return -ENOEXEC;
	}
	if (get_le16(hdr + HDR_BOOT_FLAG) != 0xaa55 || memcmp(hdr + HDR_MAGIC, "HdrS", 4)) {
		*why = "not a bzImage (no x86 boot-protocol 'HdrS' header)";
		return -ENOEXEC;
	}
	ki->version = get_le16(hdr + HDR_VERSION);
	if (ki->version < 0x020c) {
		*why = "boot protocol older than 2.12 (no 64-bit entry point)";
		return -ENOEXEC;
	}
	if (!(hdr[HDR_LOADFLAGS] & LOADED_HIGH)) {
		*why = "zImage (loaded low) kernels are not supported";
		return -ENOEXEC;
	}
	if (!(get_le16(hdr + HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
		*why = "kernel has no 64-bit entry point (not an x86_64 kernel?)";
		return -ENOEXEC;
	}
	setup_sects = hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4;
	ki->setup_size = (setup_sects + 1) * 512;
	if (ki->setup_size >= file_size) {
		*why = "truncated bzImage (no protected-mode code after the setup sectors)";
		return -ENOEXEC;
	}
	ki->pm_size = file_size - ki->setup_size;
	if (ki->pm_size > UINT32_MAX) {
		*why = "kernel larger than 4 GiB"; /* init_size, 32 bits, could not cover it */
		return -ENOEXEC;
	}
	ki->init_size = get_le32(hdr + HDR_INIT_SIZE);
	ki->cmdline_size = get_le32(hdr + HDR_CMDLINE_SIZE);
	ki->initrd_addr_max = get_le32(hdr + HDR_INITRD_ADDR_MAX);
	ki->pref_address = get_le64(hdr + HDR_PREF_ADDRESS);
	ki->relocatable = hdr[HDR_RELOCATABLE] != 0;
	if (ki->init_size < ki->pm_size)
		ki->init_size = (uint32_t)ki->pm_size;
	return 0;
}

uint64_t x86_kernel_load_addr(const struct x86_kernel_info *ki, uint64_t ram_low_end)
{
	/*
	 * The decompressor moves itself up to at least pref_address (the
	 * kernel's LOAD_PHYSICAL_ADDR) wherever it is loaded, so loading lower
	 * saves no RAM: it only turns "does not fit" into a triple fault.
	 */
	(void)ram_low_end;
	if (ki->pref_address >= X86_HIMEM_START)
		return ki->pref_address;
	return X86_HIMEM_START;
}

int x86_initrd_place(uint64_t ram_low_end, uint64_t kernel_end, uint64_t addr_max, uint64_t size,
		     uint64_t *addr)
{
	uint64_t top = ram_low_end;

	if (addr_max && addr_max < UINT64_MAX && addr_max + 1 < top)
		top = addr_max + 1;
	if (size > top)
		return -ENOSPC;
	top = ALIGN_DOWN(top - size, 4096ULL);
	if (top < kernel_end)
		return -ENOSPC;
	*addr = top;
	return 0;
}

static void e820_add(struct boot_e820_entry *e, unsigned int max, unsigned int *n, uint64_t addr,
		     uint64_t size, uint32_t type)
{
	if (*n < max && size)
		e[(*n)++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
}

unsigned int x86_build_e820(struct boot_e820_entry *e, unsigned int max,
			    const struct guest_mem *mem)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (r->gpa == 0) {
			/* Low RAM minus the EBDA and the BIOS area holding the ACPI tables. */
			e820_add(e, max, &n, 0, X86_EBDA_START, 1);
			e820_add(e, max, &n, X86_EBDA_START, 0xa0000 - X86_EBDA_START, 2);
			e820_add(e, max, &n, X86_ACPI_ADDR, X86_HIMEM_START - X86_ACPI_ADDR, 2);
			if (r->size > X86_HIMEM_START)
				e820_add(e, max, &n, X86_HIMEM_START, r->size - X86_HIMEM_START, 1);
		} else {
			e820_add(e, max, &n, r->gpa, r->size, 1);
		}
	}
	return n;
}

void x86_build_zero_page(struct boot_params *bp, const uint8_t *hdr, size_t hdr_len,
			 const struct guest_mem *mem, uint64_t cmdline_addr, uint64_t initrd_addr,
			 uint64_t initrd_size, uint64_t rsdp_addr)
{
	size_t start = offsetof(struct boot_params, hdr);
	size_t end = start + sizeof(bp->hdr);

	memset(bp, 0, sizeof(*bp));
	/* The header's own length field, if the file is long enough to have one. */
	if (hdr_len > HDR_JUMP + 1 && HDR_JUMP + 2u + hdr[HDR_JUMP + 1] < end)
		end = HDR_JUMP + 2u + hdr[HDR_JUMP + 1];
	if (end > hdr_len)
		end = hdr_len;
	if (end > start)
		memcpy((uint8_t *)bp + start, hdr + start, end - start);

	bp->hdr.type_of_loader = 0xff;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline_addr >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
	bp->acpi_rsdp_addr = rsdp_addr;
	bp->e820_entries = (uint8_t)x86_build_e820(bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE, mem);
}

int x86_setup_boot_tables(const struct guest_mem *mem)
{
	/* clang-format off */
	static const uint64_t gdt[4] = {
		0,
		0,
		0x00af9b000000ffffULL, /* 0x10: 64-bit code, the boot protocol's __BOOT_CS */
		0x00cf93000000ffffULL, /* 0x18: flat data, __BOOT_DS */
	};
	/* clang-format on */
	uint8_t *pml4 = guest_mem_ptr(mem, X86_PML4_ADDR, 4096);
	uint8_t *pdpt = guest_mem_ptr(mem, X86_PDPT_ADDR, 4096);
	uint8_t *pd = guest_mem_ptr(mem, X86_PD_ADDR, 4 * 4096);
	uint8_t *g = guest_mem_ptr(mem, X86_GDT_ADDR, sizeof(gdt));

	if (!pml4 || !pdpt || !pd || !g)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put_le64(pml4, X86_PDPT_ADDR | 0x3);
	for (unsigned int i = 0; i < 4; i++)
		put_le64(pdpt + 8 * i, (X86_PD_ADDR + 4096ULL * i) | 0x3);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put_le64(pd + 8 * i, (i << 21) | 0x83); /* present, writable, 2 MiB page */
	for (unsigned int i = 0; i < ARRAY_SIZE(gdt); i++)
		put_le64(g + 8 * i, gdt[i]);
	return 0;
}
