/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI: one host bridge with ECAM on segment 0, bus 0, type-0 endpoints
 * (function 0 of each slot), BARs placed in a 32-bit and a 64-bit MMIO
 * window and an I/O port window, MSI-X (devices/pci/msix.h). Legacy INTx is
 * not provided.
 *
 * Threading: config and BAR accesses arrive on vCPU threads; the bus
 * serialises config space with its own lock. BAR handlers of one device may
 * run concurrently on several vCPUs and must lock their own state.
 *
 * Locking contract for device models (details in devices/pci/host.c):
 * - bar_read/bar_write run with no bus lock held; they may take the device's
 *   own lock and call msix_bar_access()/msix_notify().
 * - bar_remap and config_write run with the bus config lock held, so they are
 *   serialised with every other config access of the bus. They may take the
 *   device's own lock and issue KVM ioctls, but must not call
 *   pci_config_read/write (the lock is not recursive). Lock order: bus config
 *   lock -> device lock -> MSI-X lock -> VM routing-table lock.
 *
 * Register offsets and bits are <linux/pci_regs.h>'s (PCI_COMMAND, ...).
 */
#ifndef KITE_DEVICES_PCI_H
#define KITE_DEVICES_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pci_regs.h>

struct aml_buf;
struct vm;
struct pci_bus;
struct pci_device;

#define PCI_CFG_SIZE 4096 /* ECAM gives each function 4 KiB; above 256 reads as 0 */
#define PCI_NUM_BARS 6
#define PCI_MAX_SLOTS 32
#define PCI_BAR_UNMAPPED UINT64_MAX
#define PCI_CAP_START 0x40 /* first capability; the type-0 header ends here */

/*
 * Slot 0 is the host bridge: Red Hat's id for a generic PCIe host bridge
 * (1b36:0008, the one QEMU's gpex uses), which no Linux driver or quirk
 * claims, with class 06/00/00 "Host bridge".
 */
#define PCI_HOST_VENDOR_ID 0x1b36
#define PCI_HOST_DEVICE_ID 0x0008
#define PCI_HOST_CLASS 0x060000

enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

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
	/*
	 * Optional. A guest config read of @off..@off+size-1 (inside the 4 KiB,
	 * 1..4 bytes) returns what this returns; @val is what the core's
	 * register file holds (0 above byte 255). Lets a device show registers
	 * it does not keep in config[], e.g. a passthrough device's own
	 * capabilities. Runs under the bus config lock, like config_write.
	 */
	uint32_t (*config_read)(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val);
};

struct pci_bar {
	enum pci_bar_type type;
	/*
	 * Power of two. Memory: >= 16, placed on at least a 4 KiB boundary. I/O: 4..256, in
	 * the bus's I/O window (port space), naturally aligned; decodes with I/O Space Enable.
	 */
	uint64_t size;
	bool prefetchable;
	uint64_t addr; /* current guest address as programmed */
	/*
	 * Where the BAR decodes now, as last passed to bar_remap:
	 * PCI_BAR_UNMAPPED unless Memory Space Enable is set and the whole BAR
	 * lies inside one of the bus's windows (so a BAR being sized, or moved
	 * out of the windows, decodes nowhere). Written under the bus locks.
	 */
	uint64_t decode;
};

struct pci_device {
	uint8_t config[256];
	uint8_t wmask[256];   /* bits the guest may write */
	uint8_t w1cmask[256]; /* write-1-to-clear bits (status register) */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_device_ops *ops;
	void *opaque; /* the device model's state */
	const char *name;
	struct pci_bus *bus; /* set by pci_bus_add */
	unsigned int slot;
	uint8_t last_cap; /* offset of the last capability in the list, 0 if none */
	uint16_t cap_end; /* first free config byte for capabilities (256: full) */
};

/*
 * Fills the type-0 header (single function, no INTx: Interrupt Pin 0) and
 * resets the rest of @dev. Guest-writable: Command (Memory Space, Bus
 * Master, Parity/SERR response, INTx disable), Cache Line Size, Interrupt
 * Line and the BAR address bits; Status error bits are write-1-to-clear.
 * @class_code is the 24-bit class/subclass/prog-if.
 */
void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
		     const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/*
 * Declares BAR @bar (a MEM64 BAR also takes @bar+1). @size: a power of two,
 * >= 16 (the smallest memory BAR), at most 2 GiB for MEM32. A BAR smaller
 * than a page is still placed on its own 4 KiB-aligned page, so nothing else
 * decodes in the rest of that page and a device can trap it whole. PCI_BAR_IO:
 * 4..256 bytes of port space (the bus needs an I/O window). -EINVAL for anything else, for a BAR
 * slot already in use, or once the device is on a bus.
 */
int pci_device_set_bar(struct pci_device *dev, unsigned int bar, enum pci_bar_type type,
		       uint64_t size, bool prefetchable);
/*
 * Appends a capability with ID @id; @body is what follows the ID and next
 * pointer (@len bytes), @body_wmask the guest-writable bits of the body (or
 * NULL: read-only). Returns the capability's config offset or -ENOSPC.
 */
int pci_device_add_cap(struct pci_device *dev, uint8_t id, const void *body, const void *body_wmask,
		       size_t len);

/*
 * Config-space access as the guest sees it (used by the bus, exposed for
 * tests). Any @off/@size: bytes at 256..4095 read 0 and ignore writes, an
 * access with @size 0 or > 4 or reaching past 4095 reads all-ones and writes
 * nothing, unaligned accesses work byte by byte. Writes go through wmask and
 * w1cmask, then update BAR decoding (bar_remap) and call config_write.
 * Not locked: on a live bus only the bus calls these (under its config
 * lock); elsewhere use them before the vCPUs start.
 */
uint32_t pci_config_read(struct pci_device *dev, uint32_t off, uint32_t size);
void pci_config_write(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val);

struct pci_bus_layout {
	uint64_t ecam_base; /* 1 MiB: bus 0 only */
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size; /* size 0: no 64-bit window */
	uint64_t io_base, io_size;	   /* port window for I/O BARs; size 0: none */
};

/*
 * Creates the host bridge: registers ECAM and both windows on vm->mmio.
 * The bus is owned by the VM (freed by vm_destroy). ECAM must be 1 MiB
 * aligned, the 32-bit window non-empty, 4 KiB aligned and below 4 GiB, the
 * 64-bit window (if any) 4 KiB aligned; none may overlap. NULL on failure
 * (logged).
 */
struct pci_bus *pci_bus_create(struct vm *vm, const struct pci_bus_layout *layout);
/*
 * Adds an endpoint in the next free slot (slot order = call order, so a
 * command line always yields the same slots) and places its BARs.
 * 0, -ENOSPC (no slot or window space), -EINVAL.
 *
 * Placement: BARs in index order, each aligned to max(size, 4 KiB), first fit after
 * the previous one; MEM32 BARs in the 32-bit window, MEM64 BARs in the
 * 64-bit window (the 32-bit one if the layout has no 64-bit window). The
 * addresses are programmed into the BARs; Memory Space Enable is left to
 * the guest, so bar_remap first runs when the guest turns decoding on.
 * On failure nothing changes. Call before the vCPUs start.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_device *dev);
/*
 * Describes the bus to the guest after all devices are added: appends the
 * PCI0 host-bridge node (PNP0A08/PNP0A03, _CRS with bus range and windows)
 * to vm->sb_aml and the MCFG table with vm_add_acpi_table(). 0 or -errno.
 */
int pci_bus_finalize(struct pci_bus *bus);

/*
 * The DSDT fragment pci_bus_finalize() appends to vm->sb_aml: Device (PCI0)
 * and Device (PRES), a PNP0C02 reserving the ECAM range (Linux wants ECAM
 * reserved by a motherboard resource). Pure; exposed for tests. 0 or -errno.
 */
int pci_bus_build_aml(const struct pci_bus_layout *layout, struct aml_buf *out);

/* The device in @slot, or NULL (empty, or slot >= PCI_MAX_SLOTS). Slot 0 is the host bridge. */
struct pci_device *pci_bus_device(struct pci_bus *bus, unsigned int slot);

#endif
