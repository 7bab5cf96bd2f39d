/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interrupt plumbing on the in-kernel irqchip: the GSI routing table (legacy
 * irqchip pins plus MSI routes), irqfd and ioeventfd. KVM_SET_GSI_ROUTING
 * replaces the whole table, so the VM keeps it and recommits on change.
 * Every function is safe from any thread.
 */
#ifndef KITE_VMM_IRQ_H
#define KITE_VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define VM_IRQ_MAX_ROUTES 1024
#define VM_IRQ_FIRST_MSI_GSI 24 /* GSIs below are the IOAPIC's pins */

/* Adds an irqchip pin route (arch set-up; not yet committed). 0 or -ENOSPC. */
int vm_irq_route_pin(struct vm *vm, uint32_t gsi, uint32_t irqchip, uint32_t pin);
/* Pushes the table to KVM. 0 or -errno (logged). */
int vm_irq_routes_commit(struct vm *vm);

/* Allocates a GSI for an MSI route, initially pointing nowhere (addr 0). 0 or -ENOSPC. */
int vm_msi_alloc(struct vm *vm, uint32_t *gsi);
/* Sets the MSI message of an allocated GSI and commits. 0 or -errno. */
int vm_msi_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
/* Releases an MSI GSI (its irqfd must be deassigned first). */
void vm_msi_free(struct vm *vm, uint32_t gsi);
/* Injects one MSI directly (KVM_SIGNAL_MSI). 0 or -errno. */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* Wires eventfd @efd to @gsi (assign) or unwires it. 0 or -errno (logged). */
int vm_irqfd(struct vm *vm, int efd, uint32_t gsi, bool assign);
/*
 * A guest write of @len bytes (1, 2, 4, 8; 0 = any) to @addr in MMIO (or PIO)
 * space signals @efd without leaving the kernel. 0 or -errno (logged).
 */
int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, uint32_t len, bool mmio, bool assign);

#endif
