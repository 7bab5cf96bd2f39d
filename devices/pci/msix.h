/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI-X for emulated PCI devices: the capability, the vector table and the
 * PBA inside one of the device's BARs, and delivery through KVM: each
 * vector owns a GSI with an MSI route and an irqfd.
 */
#ifndef KITE_DEVICES_PCI_MSIX_H
#define KITE_DEVICES_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_device;
struct msix;

#define MSIX_MAX_VECTORS 64

/*
 * Adds the MSI-X capability to @dev with @nvec vectors whose table sits at
 * @table_off and PBA at @pba_off inside BAR @bar (both 8-byte aligned, inside
 * the BAR). Allocates GSIs and irqfds. NULL on failure (logged).
 */
struct msix *msix_create(struct vm *vm, struct pci_device *dev, uint16_t nvec, unsigned int bar,
			 uint32_t table_off, uint32_t pba_off);

struct msix_params {
	uint16_t nvec;
	unsigned int table_bar, pba_bar;
	uint32_t table_off, pba_off;
	/*
	 * > 0: the capability already sits at this config offset (a passthrough
	 * device's own, chained by the caller): only its body is (re)written.
	 * 0: a new capability is appended.
	 */
	unsigned int cap_off;
	/*
	 * Vectors are fired by something else writing their eventfds (a VFIO
	 * device through VFIO_DEVICE_SET_IRQS), not by msix_notify. Each
	 * eventfd is then wired to KVM (irqfd) only while its vector is
	 * deliverable; while masked the eventfd just counts, the PBA shows it
	 * as pending, and re-wiring on unmask makes KVM deliver it. Interrupts
	 * never pass through a kite thread.
	 */
	bool external;
};

/* The general form of msix_create. NULL on failure (logged). */
struct msix *msix_create_params(struct vm *vm, struct pci_device *dev, const struct msix_params *p);
void msix_destroy(struct msix *m);

/*
 * To be called from the device's bar_read/bar_write: returns true and
 * handles the access if it falls in the table or PBA (out-of-range or
 * misaligned accesses there are ignored / read as 0, never a crash).
 */
bool msix_bar_access(struct msix *m, unsigned int bar, uint64_t off, uint8_t *data, uint32_t size,
		     bool write);
/*
 * To be called from the device's config_write hook (tracks Enable / Function
 * Mask; reads the capability from dev->config, so the bus config lock, which
 * the hook runs under, must be held).
 */
void msix_config_write(struct msix *m, uint32_t off, uint32_t size, uint32_t val);

/* Signals vector @vec: injected now, or left pending in the PBA while masked. Any thread. */
int msix_notify(struct msix *m, uint16_t vec);
bool msix_enabled(struct msix *m);
uint16_t msix_nvec(struct msix *m);

/* The eventfd that fires vector @vec (-EINVAL if out of range); external mode hands it out. */
int msix_vector_eventfd(struct msix *m, uint16_t vec);
/*
 * For tests and debugging: has vector @vec's route been programmed, and with
 * which GSI and message (any output pointer may be NULL)? Without KVM
 * (vm_fd < 0) nothing reaches KVM, but this still reports what would have.
 */
bool msix_vector_route(struct msix *m, uint16_t vec, uint32_t *gsi, uint64_t *addr, uint32_t *data);

/* For tests: is vector @vec's eventfd wired to KVM now (irqfd assigned, or would be)? */
bool msix_vector_wired(struct msix *m, uint16_t vec);
/* Config offset of the capability. */
unsigned int msix_cap_offset(struct msix *m);

#endif
