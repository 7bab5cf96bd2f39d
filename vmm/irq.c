// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/log.h"
#include "vmm/vm.h"

struct irq_routes {
	pthread_mutex_t lock;
	unsigned int n;
	struct kvm_irq_routing_entry e[VM_IRQ_MAX_ROUTES];
	uint8_t msi_used[VM_IRQ_MAX_ROUTES]; /* by GSI */
};

static struct irq_routes *routes(struct vm *vm)
{
	if (!vm->irq_routes) {
		struct irq_routes *r = calloc(1, sizeof(*r));

		if (!r)
			return NULL;
		pthread_mutex_init(&r->lock, NULL);
		vm->irq_routes = r;
	}
	return vm->irq_routes;
}

void vm_irq_routes_free(struct vm *vm)
{
	if (vm->irq_routes) {
		pthread_mutex_destroy(&vm->irq_routes->lock);
		free(vm->irq_routes);
		vm->irq_routes = NULL;
	}
}

int vm_irq_route_pin(struct vm *vm, uint32_t gsi, uint32_t irqchip, uint32_t pin)
{
	struct irq_routes *r = routes(vm);
	int ret = 0;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	if (r->n == VM_IRQ_MAX_ROUTES)
		ret = -ENOSPC;
	else
		r->e[r->n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = irqchip, .pin = pin },
		};
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* Called with the lock held. */
static int routes_commit_locked(struct vm *vm, struct irq_routes *r)
{
	struct kvm_irq_routing *t;
	int ret = 0;

	t = calloc(1, sizeof(*t) + r->n * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	t->nr = r->n;
	memcpy(t->entries, r->e, r->n * sizeof(r->e[0]));
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0) {
		ret = -errno;
		log_error("KVM_SET_GSI_ROUTING (%u routes): %s", r->n, strerror(errno));
	}
	free(t);
	return ret;
}

int vm_irq_routes_commit(struct vm *vm)
{
	struct irq_routes *r = routes(vm);
	int ret;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	ret = routes_commit_locked(vm, r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int vm_msi_alloc(struct vm *vm, uint32_t *gsi)
{
	struct irq_routes *r = routes(vm);
	int ret = -ENOSPC;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	for (uint32_t g = VM_IRQ_FIRST_MSI_GSI; g < VM_IRQ_MAX_ROUTES; g++) {
		if (r->msi_used[g])
			continue;
		if (r->n == VM_IRQ_MAX_ROUTES)
			break;
		r->msi_used[g] = 1;
		r->e[r->n++] = (struct kvm_irq_routing_entry){ .gsi = g,
							       .type = KVM_IRQ_ROUTING_MSI };
		*gsi = g;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static struct kvm_irq_routing_entry *find_msi(struct irq_routes *r, uint32_t gsi)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->e[i].gsi == gsi && r->e[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->e[i];
	return NULL;
}

int vm_msi_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct irq_routes *r = routes(vm);
	struct kvm_irq_routing_entry *e;
	int ret;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		pthread_mutex_unlock(&r->lock);
		return -ENOENT;
	}
	if (e->u.msi.address_lo == (uint32_t)addr &&
	    e->u.msi.address_hi == (uint32_t)(addr >> 32) && e->u.msi.data == data) {
		pthread_mutex_unlock(&r->lock);
		return 0; /* unchanged: spare KVM a table rebuild */
	}
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	ret = routes_commit_locked(vm, r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void vm_msi_free(struct vm *vm, uint32_t gsi)
{
	struct irq_routes *r = routes(vm);
	struct kvm_irq_routing_entry *e;

	if (!r || gsi >= VM_IRQ_MAX_ROUTES)
		return;
	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (e) {
		*e = r->e[--r->n];
		r->msi_used[gsi] = 0;
		routes_commit_locked(vm, r);
	}
	pthread_mutex_unlock(&r->lock);
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

int vm_irqfd(struct vm *vm, int efd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)efd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int err = -errno;

		log_error("KVM_IRQFD %s fd %d gsi %u: %s", assign ? "assign" : "deassign", efd, gsi,
			  strerror(errno));
		return err;
	}
	return 0;
}

int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, uint32_t len, bool mmio, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = efd,
		.flags = (mmio ? 0 : KVM_IOEVENTFD_FLAG_PIO) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int err = -errno;

		/* Another ioeventfd at that address: the guest overlapped two BARs; the caller says so. */
		if (err == -EEXIST && assign)
			return err;
		log_error("KVM_IOEVENTFD %s fd %d at %s 0x%llx len %u: %s",
			  assign ? "assign" : "deassign", efd, mmio ? "mmio" : "pio",
			  (unsigned long long)addr, len, strerror(errno));
		return err;
	}
	return 0;
}
