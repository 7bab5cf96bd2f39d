// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/memslot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define PAGE_MASK 0xfffull

static int set_region(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)(VM_MEMSLOT_FIRST + slot),
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (vm->vm_fd < 0)
		return 0;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int err = errno;

		log_error("KVM_SET_USER_MEMORY_REGION slot %u (gpa 0x%llx, 0x%llx bytes): %s",
			  r.slot, (unsigned long long)gpa, (unsigned long long)size, strerror(err));
		return -err;
	}
	return 0;
}

int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, int *slot)
{
	int ret = -ENOSPC;

	if (!vm || !slot || !size || (gpa | size | (uintptr_t)hva) & PAGE_MASK || gpa + size < gpa)
		return -EINVAL;
	pthread_mutex_lock(&vm->memslot_lock);
	for (int i = 0; i < VM_MEMSLOT_MAX; i++) {
		struct vm_memslot *s = &vm->memslots[i];

		if (s->used)
			continue;
		ret = set_region(vm, i, gpa, size, hva);
		if (!ret) {
			*s = (struct vm_memslot){
				.used = true, .gpa = gpa, .size = size, .hva = hva
			};
			*slot = i;
		}
		break;
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	if (ret == -ENOSPC)
		log_error("no free KVM memory slot for 0x%llx bytes at 0x%llx (%d device slots)",
			  (unsigned long long)size, (unsigned long long)gpa, VM_MEMSLOT_MAX);
	return ret;
}

void vm_memslot_del(struct vm *vm, int slot)
{
	if (!vm || slot < 0 || slot >= VM_MEMSLOT_MAX)
		return;
	pthread_mutex_lock(&vm->memslot_lock);
	if (vm->memslots[slot].used) {
		/* Size 0 deletes the slot; KVM then zaps its mappings before returning. */
		set_region(vm, slot, vm->memslots[slot].gpa, 0, NULL);
		vm->memslots[slot].used = false;
	}
	pthread_mutex_unlock(&vm->memslot_lock);
}

bool vm_memslot_find(struct vm *vm, uint64_t gpa, struct vm_memslot *out)
{
	bool found = false;

	pthread_mutex_lock(&vm->memslot_lock);
	for (int i = 0; i < VM_MEMSLOT_MAX && !found; i++) {
		const struct vm_memslot *s = &vm->memslots[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*out = *s;
			found = true;
		}
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	return found;
}
