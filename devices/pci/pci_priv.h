/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the PCI config-space code (pci.c) and the host bridge (host.c). */
#ifndef KITE_DEVICES_PCI_PRIV_H
#define KITE_DEVICES_PCI_PRIV_H

#include <pthread.h>

#include "devices/pci/pci.h"

/* One MMIO window registered on vm->mmio; accesses are routed to BARs by address. */
struct pci_window {
	struct pci_bus *bus;
	uint64_t base;
	uint64_t size;
	uint64_t next; /* allocation cursor for pci_bus_add */
	bool io;       /* port space (I/O BARs) rather than memory */
};

struct pci_bus {
	struct vm *vm;
	struct pci_bus_layout layout;
	/* Serialises config space (ECAM accesses, pci_bus_add) and bar_remap calls. */
	pthread_mutex_t cfg_lock;
	/* Guards every bars[].decode for the window dispatch; written with cfg_lock held. */
	pthread_rwlock_t map_lock;
	struct pci_device *slots[PCI_MAX_SLOTS];
	unsigned int nslots; /* slots in use; the next device gets this slot */
	struct pci_device host;
	struct pci_window win32;
	struct pci_window win64;
	struct pci_window winio;
	bool finalized;
};

/*
 * Recomputes where each BAR of @dev decodes (Memory Space Enable, the
 * programmed address, the windows) and calls bar_remap for each change.
 * Called after every config write, with the config lock held on a live bus.
 */
void pci_bus_update_decode(struct pci_device *dev);

#endif
