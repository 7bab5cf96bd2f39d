/* SPDX-License-Identifier: GPL-2.0-only */
/* The x86_64 guest-physical memory map kite presents. */
#ifndef KITE_ARCH_X86_LAYOUT_H
#define KITE_ARCH_X86_LAYOUT_H

#define X86_GDT_ADDR 0x500ULL
#define X86_BOOT_STACK 0x8ff0ULL /* grows down through 0x8000..0x8fff, between zero page and PML4 */
#define X86_ZERO_PAGE 0x7000ULL
#define X86_PML4_ADDR 0x9000ULL
#define X86_PDPT_ADDR 0xa000ULL
#define X86_PD_ADDR 0xb000ULL /* four pages: identity map of 0..4 GiB in 2 MiB pages */
#define X86_CMDLINE_ADDR 0x20000ULL
#define X86_CMDLINE_MAX 0x10000ULL
#define X86_EBDA_START 0x9fc00ULL
#define X86_ACPI_ADDR 0xe0000ULL	  /* RSDP first, so the legacy BIOS-area scan finds it */
#define X86_ACPI_SIZE 0x1f000ULL	  /* up to 0xff000; the BIOS reset vector page follows */
#define X86_RESET_VECTOR 0xffff0ULL	  /* real-mode F000:FFF0, where a BIOS reboot jumps */
#define X86_HIMEM_START 0x100000ULL	  /* protected-mode kernel load address */
#define X86_MMIO_HOLE 0xc0000000ULL	  /* 32-bit MMIO hole: 3 GiB .. 4 GiB */
#define X86_PCI_MMIO32_BASE 0xc0000000ULL /* 32-bit BAR window: 3 GiB .. 3.5 GiB */
#define X86_PCI_MMIO32_SIZE 0x20000000ULL
#define X86_PCI_ECAM_BASE 0xe0000000ULL	  /* bus 0 only: 1 MiB */
#define X86_PCI_MMIO64_SIZE (64ULL << 30) /* 64-bit BAR window, above RAM */
#define X86_PCI_IO_BASE 0xc000ULL	  /* I/O BAR window: ports 0xc000..0xffff */
#define X86_PCI_IO_SIZE 0x4000ULL
#define X86_IOAPIC_ADDR 0xfec00000ULL
#define X86_LAPIC_ADDR 0xfee00000ULL
#define X86_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define X86_TSS_ADDR 0xfffbd000ULL

/* Legacy I/O ports and ISA IRQs of kite's fixed devices. */
#define X86_COM1_PORT 0x3f8
#define X86_COM1_IRQ 4
#define X86_I8042_PORT 0x60 /* data 0x60, command/status 0x64 */
#define X86_DEBUG_EXIT_PORT 0x501
#define X86_PVPANIC_PORT 0x505
#define X86_BOOT_TIMER_PORT 0x509
#define X86_PM_SLEEP_CTL_PORT 0x600
#define X86_PM_SLEEP_STS_PORT 0x601
#define X86_GED_GSI 5 /* ACPI GED power button, edge, active-high */

#endif
