/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI (PCI Local Bus Specification 3.0, 6.8.1) emulated at a given config offset, for a
 * device whose interrupts are fired by someone else writing per-vector eventfds (a VFIO
 * device: the host kernel, through VFIO_DEVICE_SET_IRQS). As MSI-X's external mode
 * (devices/pci/msix.h): each vector has a GSI with an MSI route and an eventfd that is a
 * KVM irqfd only while the vector is deliverable (MSI enabled, vector below the enabled
 * count, not masked); a masked vector's eventfd counts and shows in the Pending Bits.
 * Called under the bus config lock (config hooks).
 */
#ifndef KITE_DEVICES_PCI_MSI_H
#define KITE_DEVICES_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_device;
struct msi;

#define MSI_MAX_VECTORS 32

/*
 * The capability body at @cap (ID and next already in dev->config; Message Control's
 * capability bits, i.e. Multiple Message Capable, 64-bit and per-vector masking, taken from
 * @ctrl) becomes kite's: registers reset, guest-writable bits set. NULL on failure (logged).
 */
struct msi *msi_create(struct vm *vm, struct pci_device *dev, unsigned int cap, uint16_t ctrl);
void msi_destroy(struct msi *m);
/* From the device's config_write hook. */
void msi_config_write(struct msi *m, uint32_t off, uint32_t size);
/* From the config_read hook: fills in the Pending Bits register. */
uint32_t msi_config_read(struct msi *m, uint32_t off, uint32_t size, uint32_t val);
/* Vectors the guest enabled (0 while MSI is off). */
unsigned int msi_enabled_vectors(struct msi *m);
int msi_vector_eventfd(struct msi *m, unsigned int vec);
/* For tests: is vector @vec wired, and with which message? */
bool msi_vector_wired(struct msi *m, unsigned int vec, uint64_t *addr, uint32_t *data);
/* Bytes the capability spans (10..24). */
unsigned int msi_cap_len(uint16_t ctrl);

#endif
