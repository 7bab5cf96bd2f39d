/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM memory slots added and removed while the VM runs: device memory that
 * the guest reaches without exits (a passthrough device's mmap-ed BAR at the
 * address the guest programmed). Guest RAM keeps its slots from vm_create
 * (0 .. nregions-1); device slots are numbered from VM_MEMSLOT_FIRST.
 *
 * A device adds a slot when the guest enables decoding of a BAR and deletes
 * it when the guest disables decoding or moves the BAR (then adds it at the
 * new address). Any thread; the VM's slot table has its own lock.
 * Without KVM (vm_fd < 0: unit tests) slots are only recorded.
 */
#ifndef KITE_VMM_MEMSLOT_H
#define KITE_VMM_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define VM_MEMSLOT_FIRST 16
#define VM_MEMSLOT_MAX 64 /* device slots */

struct vm_memslot {
	bool used;
	uint64_t gpa, size;
	void *hva;
};

/*
 * Maps @size bytes at @hva (page aligned, @size a page multiple) at guest
 * address @gpa. *@slot gets the slot number for vm_memslot_del.
 * 0, -EINVAL, -ENOSPC, or -errno of KVM_SET_USER_MEMORY_REGION (logged).
 */
int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, int *slot);
/* Removes a slot vm_memslot_add returned; a negative @slot is ignored. */
void vm_memslot_del(struct vm *vm, int slot);
/* For tests: the device slot covering @gpa, copied to @out. true if found. */
bool vm_memslot_find(struct vm *vm, uint64_t gpa, struct vm_memslot *out);

#endif
