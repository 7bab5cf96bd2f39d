/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI: one host bridge with ECAM on segment 0, bus 0, type-0 endpoints
 * (function 0 of each slot), BARs placed in a 32-bit and a 64-bit MMIO
 * window, MSI-X (devices/pci/msix.h). Legacy INTx is not provided.
 *
 * Threading: config and BAR accesses arrive on vCPU threads; the bus
 * serialises config space with its own lock. BAR handlers of one device may
 * run concurrently on several vCPUs and must lock their own state.
 */
#ifndef KITE_DEVICES_PCI_H
#define KITE_DEVICES_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct pci_bus;
struct pci_device;

#define PCI_CFG_SIZE 4096	/* ECAM gives each function 4 KiB; above 256 reads as 0 */
#define PCI_NUM_BARS 6
#define PCI_MAX_SLOTS 32
#define PCI_BAR_UNMAPPED UINT64_MAX

enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_device_ops {
	/* Guest access to a BAR's registers; @off is relative to the BAR start. */
	void (*bar_read)(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
			 uint32_t size);
	void (*bar_write)(struct pci_device *dev, unsigned int bar, uint64_t off,
			  const uint8_t *data, uint32_t size);
	/*
	 * Optional. The BAR now decodes at @addr (PCI_BAR_UNMAPPED when memory
	 * decoding is off or the BAR is being sized), e.g. to move ioeventfds.
	 */
	void (*bar_remap)(struct pci_device *dev, unsigned int bar, uint64_t addr);
	/*
	 * Optional. Called after the core applied a config write (through
	 * wmask) at @off..@off+size-1, so the device can react to its own
	 * capability registers. @val is the value as written.
	 */
	void (*config_write)(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val);
};

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size;		/* power of two, >= 4096 */
	bool prefetchable;
	uint64_t addr;		/* current guest address as programmed */
};

struct pci_device {
	uint8_t config[256];
	uint8_t wmask[256];	/* bits the guest may write */
	uint8_t w1cmask[256];	/* write-1-to-clear bits (status register) */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_device_ops *ops;
	void *opaque;		/* the device model's state */
	const char *name;
	struct pci_bus *bus;	/* set by pci_bus_add */
	unsigned int slot;
	uint8_t last_cap;	/* offset of the last capability in the list, 0 if none */
	uint8_t cap_end;	/* first free config byte for capabilities */
};

/* Fills the type-0 header. @class_code is the 24-bit class/subclass/prog-if. */
void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
		     const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* Declares BAR @bar (a MEM64 BAR also takes @bar+1). 0 or -EINVAL. */
int pci_device_set_bar(struct pci_device *dev, unsigned int bar, enum pci_bar_type type,
		       uint64_t size, bool prefetchable);
/*
 * Appends a capability with ID @id; @body is what follows the ID and next
 * pointer (@len bytes), @body_wmask the guest-writable bits of the body (or
 * NULL: read-only). Returns the capability's config offset or -ENOSPC.
 */
int pci_device_add_cap(struct pci_device *dev, uint8_t id, const void *body,
		       const void *body_wmask, size_t len);

/* Config-space access as the guest sees it (used by the bus, exposed for tests). */
uint32_t pci_config_read(struct pci_device *dev, uint32_t off, uint32_t size);
void pci_config_write(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val);

struct pci_bus_layout {
	uint64_t ecam_base;	/* 1 MiB: bus 0 only */
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size;
};

/*
 * Creates the host bridge: registers ECAM and both windows on vm->mmio.
 * The bus is owned by the VM (freed by vm_destroy).
 */
struct pci_bus *pci_bus_create(struct vm *vm, const struct pci_bus_layout *layout);
/*
 * Adds an endpoint in the next free slot (slot order = call order, so a
 * command line always yields the same slots) and places its BARs.
 * 0, -ENOSPC (no slot or window space), -EINVAL.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_device *dev);
/*
 * Describes the bus to the guest after all devices are added: appends the
 * PCI0 host-bridge node (PNP0A08/PNP0A03, _CRS with bus range and windows)
 * to vm->sb_aml and the MCFG table with vm_add_acpi_table(). 0 or -errno.
 */
int pci_bus_finalize(struct pci_bus *bus);

#endif
