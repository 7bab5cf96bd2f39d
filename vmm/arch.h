/* SPDX-License-Identifier: GPL-2.0-only */
/* The narrow seam between generic VM code and one architecture. */
#ifndef KITE_VMM_ARCH_H
#define KITE_VMM_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Start of the 32-bit MMIO hole; guest RAM above it is relocated to 4 GiB. */
uint64_t arch_mmio_hole_start(void);
/* VM-wide set-up after memory exists: irqchip, timers. Returns 0 or a kite exit code. */
int arch_vm_setup(struct vm *vm);
/* Per-vCPU set-up: CPUID, MSRs, LAPIC, boot registers on vCPU 0. */
int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu);
/*
 * Loads the kernel, initrd and command line, builds firmware tables (ACPI
 * with vm->sb_aml) and boot parameters. Returns 0 or a kite exit code.
 */
int arch_load_guest(struct vm *vm);
/*
 * Logs at @level, in one line, the vCPU state that explains why it stopped
 * (a triple fault, a failed entry, a guest still running at the timeout).
 * Called from the vCPU's own thread, outside KVM_RUN.
 */
void arch_vcpu_dump(const struct vcpu *vcpu, int level, const char *why);
/* Checks, before KVM is touched, that the kernel file is loadable. 0 or KITE_EXIT_LOAD. */
int arch_probe_kernel(const char *path);

#endif
