/* SPDX-License-Identifier: GPL-2.0-only */
/* Linux x86 boot protocol: bzImage parsing, zero page, e820, initial page tables. */
#ifndef KITE_ARCH_X86_BOOT_H
#define KITE_ARCH_X86_BOOT_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

#define X86_BZIMAGE_HDR_LEN 0x1000 /* bytes of the file x86_bzimage_parse looks at */

struct x86_kernel_info {
	uint16_t version;
	uint32_t setup_size;   /* file offset of the protected-mode code */
	uint64_t pm_size;      /* bytes of protected-mode code */
	uint32_t init_size;    /* memory the kernel needs from its load address */
	uint32_t cmdline_size; /* longest command line, without the NUL */
	uint32_t initrd_addr_max;
	uint64_t pref_address;
	bool relocatable;
};

/*
 * Validates a bzImage header. @hdr holds the first min(file size,
 * X86_BZIMAGE_HDR_LEN) bytes. Returns 0, or -ENOEXEC with *why set to a
 * short human-readable reason.
 */
int x86_bzimage_parse(const uint8_t *hdr, size_t hdr_len, uint64_t file_size,
		      struct x86_kernel_info *ki, const char **why);

/* Where the protected-mode kernel goes, given the RAM below the MMIO hole. */
uint64_t x86_kernel_load_addr(const struct x86_kernel_info *ki, uint64_t ram_low_end);

/*
 * Places an initrd of @size bytes as high as allowed below @ram_low_end and
 * @addr_max, above @kernel_end. Returns 0 or -ENOSPC.
 */
int x86_initrd_place(uint64_t ram_low_end, uint64_t kernel_end, uint64_t addr_max, uint64_t size,
		     uint64_t *addr);

/* Fills an e820 table describing @mem. Returns the number of entries. */
unsigned int x86_build_e820(struct boot_e820_entry *e, unsigned int max,
			    const struct guest_mem *mem);

/* Builds the zero page. @hdr is the start of the kernel file (setup header source). */
void x86_build_zero_page(struct boot_params *bp, const uint8_t *hdr, size_t hdr_len,
			 const struct guest_mem *mem, uint64_t cmdline_addr, uint64_t initrd_addr,
			 uint64_t initrd_size, uint64_t rsdp_addr);

/* Identity-maps 0..4 GiB with 2 MiB pages and writes the boot GDT. 0 or -EFAULT. */
int x86_setup_boot_tables(const struct guest_mem *mem);

#endif
