/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * struct vm: everything one microVM owns. No global mutable state, so tests
 * can build several VMs in one process and tear them down cleanly.
 */
#ifndef KITE_VMM_VM_H
#define KITE_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/guest_mem.h"
#include "vmm/memslot.h"

struct kvm_run;
struct vm;
struct dev_metrics;
struct irq_routes;
struct event_loop;
struct dma_provider;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
};

struct vm_cleanup {
	void (*fn)(void *);
	void *arg;
};

#define VM_MAX_CLEANUPS 64

/* A device the control API lists (`info`, `metrics`). */
struct vm_device {
	const char *name;	     /* the device's own, lives as long as the VM */
	int pci_slot;		     /* bus 0 slot, function 0; -1: not on PCI */
	struct dev_metrics *metrics; /* may be NULL */
};

#define VM_MAX_DEVICES 32

/*
 * What the VM tells the control API about, from any thread. VM_EVENT_VIOMMU_ERROR carries a
 * const struct viommu_error * (iommu/viommu.h); the others no data.
 */
enum vm_event { VM_EVENT_BOOT, VM_EVENT_PANIC, VM_EVENT_VIOMMU_ERROR };

struct viommu_counters;

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	unsigned int max_vcpus;
	struct guest_mem mem;
	/* Device memory slots added while running (vmm/memslot.h). */
	pthread_mutex_t memslot_lock;
	struct vm_memslot memslots[VM_MEMSLOT_MAX];
	struct bus pio;
	struct bus mmio;
	unsigned int ncpus;
	struct vcpu *vcpus;

	struct irq_routes *irq_routes; /* see vmm/irq.h */
	struct event_loop *devloop;    /* device I/O thread, see vmm/event_loop.h */
	/* The vIOMMU in front of PCI devices (--iommu), or NULL: see vmm/dma.h. */
	struct dma_provider *dma_provider;

	/* AML device fragments for the DSDT's \_SB scope, appended by devices. */
	struct aml_buf sb_aml;
	/* Extra ACPI tables (MCFG, DMAR, ...) that devices contribute; owned copies. */
	struct acpi_extra_table acpi_extra[8];
	unsigned int nacpi_extra;

	/* Device state the VM owns, released in reverse order by vm_destroy. */
	struct vm_cleanup cleanups[VM_MAX_CLEANUPS];
	unsigned int ncleanups;

	/* KVM's supported CPUID, read once for all vCPUs (arch-defined; freed by vm_destroy). */
	void *arch_cpuid;

	/* Where vCPU 0 starts, and the boot-parameter pointer it gets (arch-defined). */
	uint64_t boot_entry;
	uint64_t boot_param;

	struct timespec start_mono; /* when kite started, for boot timing */

	/* Devices for the control API, in creation order. */
	struct vm_device devices[VM_MAX_DEVICES];
	unsigned int ndevices;

	/* Set before vm_start; called on the thread where the event happens. */
	void (*event_fn)(void *opaque, enum vm_event ev, const void *data);
	void *event_opaque;

	/* The vIOMMU's counters for `info`/`metrics` (any thread), if the VM has one. */
	const char *viommu_type; /* "vtd" */
	void (*viommu_counters)(void *opaque, struct viommu_counters *c);
	void *viommu_opaque;

	/* Presses the guest's power button (ACPI GED), if the platform has one. 0 or -errno. */
	int (*power_button)(void *opaque);
	void *power_button_opaque;

	/* vm_pause: vCPUs park at the top of their run loop until vm_resume. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_req;
	unsigned int nparked;

	pthread_mutex_t exit_lock;
	bool exit_deferred;   /* vm_request_exit_drained: its code wins, the stop waits */
	uint64_t console_out; /* guest console bytes so far (atomic), watched by the drain */
	bool exiting;
	int exit_code;
	const char *exit_reason;
	int exit_efd; /* eventfd, signalled once when the VM must stop */
};

/*
 * Opens KVM and creates an empty VM with guest RAM, in-kernel irqchip and
 * PIT. Returns 0 or a kite exit code (KVM or INTERNAL) after logging why.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, const char *kvm_path);
void vm_destroy(struct vm *vm);

/* Creates the vCPUs (not yet running). Returns 0 or a kite exit code. */
int vm_create_vcpus(struct vm *vm);
/* Starts one thread per vCPU. Returns 0 or a kite exit code. */
int vm_start(struct vm *vm);
/* Stops and joins vCPU threads (after vm_request_exit). */
void vm_join(struct vm *vm);

/* Hands @arg to the VM, which calls @fn(@arg) on destruction. 0 or -ENOSPC. */
int vm_own(struct vm *vm, void (*fn)(void *), void *arg);

/* Copies a complete ACPI table for the XSDT to list. 0, -ENOSPC or -ENOMEM. */
int vm_add_acpi_table(struct vm *vm, const uint8_t *data, size_t len);

/* Raises or lowers an interrupt line (GSI) of the in-kernel irqchip. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);

/*
 * Asks the VM to stop with @code. The first request wins; later ones are
 * ignored. Safe from any thread, including vCPU threads.
 */
void vm_request_exit(struct vm *vm, int code, const char *reason);
/*
 * The same request, but the VM keeps running until the guest's consoles have gone
 * quiet (the main loop decides, bounded: see vmm/run.c), so a panicking guest's last
 * words reach the log. Its code and reason win over any request that comes later.
 */
void vm_request_exit_drained(struct vm *vm, int code, const char *reason);
/* A drained exit is waiting for the consoles (and no plain exit has started). */
bool vm_exit_is_draining(struct vm *vm);
/* Counts @n bytes of guest console output, from any thread; @vm may be NULL. */
static inline void vm_console_activity(struct vm *vm, uint64_t n)
{
	if (vm)
		__atomic_add_fetch(&vm->console_out, n, __ATOMIC_RELAXED);
}

/*
 * Stops every vCPU (parked outside KVM_RUN) and quiesces the device event
 * loop; returns once they are stopped. 0, or -ESHUTDOWN if the VM is exiting.
 * vm_resume undoes it. Both from one control thread, never a vCPU thread.
 */
int vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Lists a device for the control API. 0 or -ENOSPC. */
int vm_add_device(struct vm *vm, const char *name, int pci_slot, struct dev_metrics *m);
/* Reports @ev (with @data, see enum vm_event) to vm->event_fn, if any. */
void vm_notify(struct vm *vm, enum vm_event ev);
void vm_notify_data(struct vm *vm, enum vm_event ev, const void *data);

/* Milliseconds of wall time since kite started. */
double vm_elapsed_ms(const struct vm *vm);

/* Frees the routing table (vm_destroy does this). */
void vm_irq_routes_free(struct vm *vm);

/* Pure check, unit-tested: does @ncpus fit KVM's limit? 0 or KITE_EXIT_USAGE (logged). */
int vm_check_cpus(unsigned int ncpus, unsigned int kvm_max);

#endif
