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
void msix_destroy(struct msix *m);

/*
 * To be called from the device's bar_read/bar_write: returns true and
 * handles the access if it falls in the table or PBA (out-of-range or
 * misaligned accesses there are ignored / read as 0, never a crash).
 */
bool msix_bar_access(struct msix *m, unsigned int bar, uint64_t off, uint8_t *data,
		     uint32_t size, bool write);
/* To be called from the device's config_write hook (tracks Enable / Function Mask). */
void msix_config_write(struct msix *m, uint32_t off, uint32_t size, uint32_t val);

/* Signals vector @vec: injected now, or left pending in the PBA while masked. Any thread. */
int msix_notify(struct msix *m, uint16_t vec);
bool msix_enabled(struct msix *m);
uint16_t msix_nvec(struct msix *m);

#endif
