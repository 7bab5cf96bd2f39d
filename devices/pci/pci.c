// SPDX-License-Identifier: GPL-2.0-only
/*
 * Type-0 configuration space of one PCI function, written from the PCI Local
 * Bus Specification 3.0 (6.1 header, 6.2.2 command/status, 6.2.5 base
 * address registers, 6.7 capabilities list).
 *
 * The emulation is byte based: config[] is the register file, wmask[] says
 * which bits a guest write may change and w1cmask[] which bits a written 1
 * clears. Every register is then plain data, BARs included: a BAR's address
 * bits are writable down to its size and its type bits are read-only, so the
 * sizing sequence (write all-ones, read back the size mask with the type
 * bits) needs no special case, whatever the access size or alignment, and a
 * 64-bit BAR is simply two such registers. Side effects (where BARs decode,
 * the device's own config_write hook) run after the bytes are applied.
 */
#include "devices/pci/pci.h"

#include <errno.h>
#include <string.h>

#include "devices/pci/pci_priv.h"
#include "vmm/util.h"

#define PCI_CFG_SPACE 256 /* what we back; the rest of the 4 KiB reads 0 */

#define CMD_WMASK                                                                                  \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |         \
	 PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C                                                                                 \
	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |           \
	 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define BAR_FLAGS_MASK 0xfu /* memory BARs: space, type and prefetchable bits */
#define BAR_MIN_SIZE 16u    /* PCI 3.0 6.2.5.1: memory BARs claim at least 16 bytes */
#define BAR_MEM32_MAX_SIZE (1ull << 31)
#define BAR_IO_FLAGS_MASK 0x3u
#define BAR_IO_MIN_SIZE 4u
#define BAR_IO_MAX_SIZE 256u

static unsigned int bar_reg(unsigned int bar)
{
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}

/* Is BAR slot @bar taken, by its own BAR or as the upper half of a 64-bit one? */
static bool bar_in_use(const struct pci_device *dev, unsigned int bar)
{
	return dev->bars[bar].type != PCI_BAR_NONE ||
	       (bar > 0 && dev->bars[bar - 1].type == PCI_BAR_MEM64);
}

void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
		     const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id)
{
	uint8_t *c = dev->config;

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->opaque = opaque;
	dev->name = name;
	put_le16(c + PCI_VENDOR_ID, vendor);
	put_le16(c + PCI_DEVICE_ID, device);
	put_le32(c + PCI_CLASS_REVISION, (class_code & 0xffffffu) << 8 | revision);
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL; /* single function */
	put_le16(c + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	put_le16(c + PCI_SUBSYSTEM_ID, subsys_id);
	/* Interrupt Pin 0: no INTx. Linux still writes Interrupt Line: keep it a scratch byte. */
	put_le16(dev->wmask + PCI_COMMAND, CMD_WMASK);
	put_le16(dev->w1cmask + PCI_STATUS, STATUS_W1C);
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->cap_end = PCI_CAP_START;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		dev->bars[i].decode = PCI_BAR_UNMAPPED;
}

int pci_device_set_bar(struct pci_device *dev, unsigned int bar, enum pci_bar_type type,
		       uint64_t size, bool prefetchable)
{
	unsigned int reg = bar_reg(bar);
	uint64_t mask = ~(size - 1);
	uint32_t flags = prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;

	if (!dev || dev->bus || bar >= PCI_NUM_BARS || size < BAR_IO_MIN_SIZE ||
	    (size & (size - 1)))
		return -EINVAL;
	if (type == PCI_BAR_IO) {
		if (size > BAR_IO_MAX_SIZE)
			return -EINVAL;
		flags = PCI_BASE_ADDRESS_SPACE_IO;
	} else if (size < BAR_MIN_SIZE) {
		return -EINVAL;
	} else if (type == PCI_BAR_MEM32) {
		if (size > BAR_MEM32_MAX_SIZE)
			return -EINVAL;
		flags |= PCI_BASE_ADDRESS_MEM_TYPE_32;
	} else if (type == PCI_BAR_MEM64) {
		if (bar + 1 >= PCI_NUM_BARS || bar_in_use(dev, bar + 1))
			return -EINVAL;
		flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	} else {
		return -EINVAL;
	}
	if (bar_in_use(dev, bar))
		return -EINVAL;

	put_le32(dev->config + reg, flags);
	put_le32(dev->wmask + reg,
		 (uint32_t)mask & ~(type == PCI_BAR_IO ? BAR_IO_FLAGS_MASK : BAR_FLAGS_MASK));
	if (type == PCI_BAR_IO) {
		/* The upper 16 bits read 0: x86 port space is 64 KiB. */
		put_le32(dev->wmask + reg, (uint32_t)mask & 0xfffcu);
		/* I/O Space Enable exists only on a function with I/O BARs. */
		put_le16(dev->wmask + PCI_COMMAND,
			 get_le16(dev->wmask + PCI_COMMAND) | PCI_COMMAND_IO);
	}
	if (type == PCI_BAR_MEM64) {
		put_le32(dev->config + reg + 4, 0);
		put_le32(dev->wmask + reg + 4, (uint32_t)(mask >> 32));
	}
	dev->bars[bar] = (struct pci_bar){
		.type = type,
		.size = size,
		.prefetchable = prefetchable,
		.addr = 0,
		.decode = PCI_BAR_UNMAPPED,
	};
	return 0;
}

int pci_device_add_cap(struct pci_device *dev, uint8_t id, const void *body, const void *body_wmask,
		       size_t len)
{
	unsigned int off;

	if (!dev || (len && !body))
		return -EINVAL;
	off = dev->cap_end;
	/* Capabilities are dword aligned (the low two bits of a next pointer are reserved). */
	if (off < PCI_CAP_START || off % 4 || len > PCI_CFG_SPACE - 2 - (size_t)off ||
	    off > PCI_CFG_SPACE - 4)
		return -ENOSPC;

	dev->config[off] = id;
	dev->config[off + 1] = 0;
	if (len)
		memcpy(dev->config + off + 2, body, len);
	if (len && body_wmask)
		memcpy(dev->wmask + off + 2, body_wmask, len);
	if (dev->last_cap) {
		dev->config[dev->last_cap + 1] = (uint8_t)off;
	} else {
		dev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
		put_le16(dev->config + PCI_STATUS,
			 get_le16(dev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
	}
	dev->last_cap = (uint8_t)off;
	dev->cap_end = (uint16_t)ALIGN_UP(off + 2 + len, 4);
	return (int)off;
}

static bool access_ok(uint32_t off, uint32_t size)
{
	return size >= 1 && size <= 4 && off < PCI_CFG_SIZE && size <= PCI_CFG_SIZE - off;
}

uint32_t pci_config_read(struct pci_device *dev, uint32_t off, uint32_t size)
{
	uint32_t v = 0;

	if (!access_ok(off, size))
		return UINT32_MAX;
	for (uint32_t i = 0; i < size; i++)
		if (off + i < PCI_CFG_SPACE)
			v |= (uint32_t)dev->config[off + i] << (8 * i);
	if (dev->ops && dev->ops->config_read)
		v = dev->ops->config_read(dev, off, size, v);
	return v;
}

/* The guest-visible BAR values changed: refresh bars[].addr from the registers. */
static void bars_sync(struct pci_device *dev)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint64_t addr;

		if (b->type == PCI_BAR_NONE)
			continue;
		addr = get_le32(dev->config + bar_reg(i)) &
		       ~(b->type == PCI_BAR_IO ? BAR_IO_FLAGS_MASK : BAR_FLAGS_MASK);
		if (b->type == PCI_BAR_MEM64)
			addr |= (uint64_t)get_le32(dev->config + bar_reg(i) + 4) << 32;
		b->addr = addr;
	}
}

void pci_config_write(struct pci_device *dev, uint32_t off, uint32_t size, uint32_t val)
{
	if (!access_ok(off, size) || off >= PCI_CFG_SPACE)
		return;
	for (uint32_t i = 0; i < size && off + i < PCI_CFG_SPACE; i++) {
		uint32_t o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t v = dev->config[o];

		v = (uint8_t)((v & ~dev->wmask[o]) | (b & dev->wmask[o]));
		v &= (uint8_t) ~(b & dev->w1cmask[o]);
		dev->config[o] = v;
	}
	bars_sync(dev);
	pci_bus_update_decode(dev);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, off, size, val);
}
