// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI host bridge: segment 0, bus 0, configuration through ECAM (PCI
 * Express Base 4.0, 7.2.2: bus << 20 | device << 15 | function << 12 | reg),
 * and two MMIO windows in which BARs are placed and decoded.
 *
 * vm->mmio is fixed once the vCPUs run, so the bus registers the ECAM range
 * and each whole window there once, and routes a window access to whichever
 * BAR currently decodes the address.
 *
 * Locking:
 * - cfg_lock (mutex) serialises all of config space: every ECAM access, and
 *   pci_bus_add. A config write's side effects run under it, in order:
 *   bar_remap (which may move ioeventfds: KVM ioctls) and the device's
 *   config_write hook (e.g. MSI-X enable: routing-table commit). Two vCPUs
 *   toggling Memory Space Enable therefore reach the device in the order the
 *   registers changed. Those callbacks must not re-enter pci_config_*.
 * - map_lock (rwlock) guards bars[].decode and the slot table for the window
 *   dispatch. Writers hold cfg_lock too; the dispatch takes only the read
 *   side, and only to look the BAR up: it drops the lock before calling
 *   bar_read/bar_write. So a BAR handler can take its device's lock, call
 *   msix_notify() or do slow work without ever blocking config space, and a
 *   config write (holding cfg_lock) never waits for a BAR handler. A handler
 *   that races with a remap may see one access at the old address, as on
 *   real hardware. Devices live until vm_destroy, after the vCPUs stopped,
 *   so the pointer taken under the lock stays valid.
 * Order: cfg_lock -> map_lock; cfg_lock -> device lock -> MSI-X lock -> the
 * VM's routing-table lock. Nothing takes cfg_lock while holding the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "devices/pci/pci.h"
#include "devices/pci/pci_priv.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define ECAM_SIZE MiB(1) /* bus 0 only */
#define ECAM_FN_SIZE PCI_CFG_SIZE
#define ECAM_SLOT_SHIFT 15
#define ECAM_FN_SHIFT 12
#define WINDOW_ALIGN KiB(4)
#define MAX_32BIT (1ull << 32)

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a <= b + (blen - 1) && b <= a + (alen - 1);
}

static bool window_contains(const struct pci_window *w, uint64_t addr, uint64_t size)
{
	return w->size && addr >= w->base && addr - w->base < w->size &&
	       size <= w->size - (addr - w->base);
}

void pci_bus_update_decode(struct pci_device *dev)
{
	struct pci_bus *bus = dev->bus;
	bool mse, ioe;

	if (!bus)
		return;
	mse = get_le16(dev->config + PCI_COMMAND) & PCI_COMMAND_MEMORY;
	ioe = get_le16(dev->config + PCI_COMMAND) & PCI_COMMAND_IO;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint64_t want = PCI_BAR_UNMAPPED;

		if (b->type == PCI_BAR_NONE)
			continue;
		if (b->type == PCI_BAR_IO) {
			if (ioe && window_contains(&bus->winio, b->addr, b->size))
				want = b->addr;
			goto apply;
		}
		/*
		 * Only addresses inside a window can reach us; anything else
		 * (a BAR holding its size mask while being sized, a guest
		 * moving it over RAM or the APIC) decodes nowhere.
		 */
		if (mse && (window_contains(&bus->win32, b->addr, b->size) ||
			    window_contains(&bus->win64, b->addr, b->size)))
			want = b->addr;
apply:
		if (want == b->decode)
			continue;
		pthread_rwlock_wrlock(&bus->map_lock);
		b->decode = want;
		pthread_rwlock_unlock(&bus->map_lock);
		log_debug("pci %02x.0 %s: BAR%u %s 0x%llx", dev->slot, dev->name, i,
			  want == PCI_BAR_UNMAPPED ? "unmapped, was" : "decodes at",
			  (unsigned long long)(want == PCI_BAR_UNMAPPED ? b->addr : want));
		if (dev->ops && dev->ops->bar_remap)
			dev->ops->bar_remap(dev, i, want);
	}
}

/* ECAM */

static uint32_t le_get(const uint8_t *p, uint32_t n)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *p, uint32_t n, uint32_t v)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One access of 1..4 bytes within one function's 4 KiB. */
static void ecam_access_one(struct pci_bus *bus, uint64_t off, uint8_t *data, uint32_t size,
			    bool write)
{
	unsigned int slot = (off >> ECAM_SLOT_SHIFT) & (PCI_MAX_SLOTS - 1);
	unsigned int fn = (off >> ECAM_FN_SHIFT) & 7;
	uint32_t reg = off & (ECAM_FN_SIZE - 1);
	struct pci_device *dev;

	pthread_mutex_lock(&bus->cfg_lock);
	/* Single-function devices: functions 1-7 and empty slots are absent. */
	dev = fn == 0 && slot < bus->nslots ? bus->slots[slot] : NULL;
	if (!dev) {
		if (!write)
			memset(data, 0xff, size);
	} else if (write) {
		pci_config_write(dev, reg, size, le_get(data, size));
	} else {
		le_put(data, size, pci_config_read(dev, reg, size));
	}
	pthread_mutex_unlock(&bus->cfg_lock);
}

static void ecam_access(struct pci_bus *bus, uint64_t off, uint8_t *data, uint32_t size, bool write)
{
	/*
	 * Config requests are at most a dword; split wider accesses, and drop
	 * one that spills into the next function's space (reads all-ones).
	 */
	if (off >= ECAM_SIZE || size == 0 || size > ECAM_FN_SIZE - (off & (ECAM_FN_SIZE - 1))) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	while (size) {
		uint32_t n = size < 4 ? size : 4;

		ecam_access_one(bus, off, data, n, write);
		off += n;
		data += n;
		size -= n;
	}
}

static void ecam_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	ecam_access(opaque, off, data, size, false);
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	/* ecam_access only reads @data on a write. */
	ecam_access(opaque, off, (uint8_t *)data, size, true);
}

static const struct bus_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* BAR dispatch inside the windows */

static struct pci_device *bar_lookup(struct pci_bus *bus, bool io, uint64_t addr, uint32_t size,
				     unsigned int *bar, uint64_t *bar_off)
{
	struct pci_device *found = NULL;

	pthread_rwlock_rdlock(&bus->map_lock);
	for (unsigned int s = 1; s < bus->nslots && !found; s++) {
		struct pci_device *dev = bus->slots[s];

		for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &dev->bars[i];

			if (b->decode == PCI_BAR_UNMAPPED || (b->type == PCI_BAR_IO) != io ||
			    addr < b->decode || addr - b->decode >= b->size ||
			    size > b->size - (addr - b->decode))
				continue;
			found = dev;
			*bar = i;
			*bar_off = addr - b->decode;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->map_lock);
	return found;
}

static void window_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct pci_window *w = opaque;
	struct pci_device *dev;
	unsigned int bar;
	uint64_t bar_off;

	dev = bar_lookup(w->bus, w->io, w->base + off, size, &bar, &bar_off);
	/*
	 * Nobody decodes it. The I/O window floats to all-ones as on x86. The memory window
	 * reads 0 (as QEMU's unassigned memory does): Linux's virtio reset waits for the
	 * status register to read 0, so with all-ones a guest whose BAR was moved or whose
	 * decode was switched off (a stray or hostile config write) would hang at power-off.
	 */
	if (!dev || !dev->ops || !dev->ops->bar_read) {
		memset(data, w->io ? 0xff : 0, size);
		return;
	}
	dev->ops->bar_read(dev, bar, bar_off, data, size);
}

static void window_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct pci_window *w = opaque;
	struct pci_device *dev;
	unsigned int bar;
	uint64_t bar_off;

	dev = bar_lookup(w->bus, w->io, w->base + off, size, &bar, &bar_off);
	if (dev && dev->ops && dev->ops->bar_write)
		dev->ops->bar_write(dev, bar, bar_off, data, size);
}

static const struct bus_ops window_ops = { .read = window_read, .write = window_write };

/* Bus life cycle */

static void pci_bus_free(void *arg)
{
	struct pci_bus *bus = arg;

	pthread_rwlock_destroy(&bus->map_lock);
	pthread_mutex_destroy(&bus->cfg_lock);
	free(bus);
}

static int layout_check(const struct pci_bus_layout *l)
{
	/* Linux ignores an MCFG entry above 4 GiB on machines without a recent DMI BIOS date. */
	if (l->ecam_base % ECAM_SIZE || l->ecam_base > MAX_32BIT - ECAM_SIZE)
		return -EINVAL;
	if (!l->mmio32_size || l->mmio32_base % WINDOW_ALIGN || l->mmio32_size % WINDOW_ALIGN ||
	    l->mmio32_base >= MAX_32BIT || l->mmio32_size > MAX_32BIT - l->mmio32_base)
		return -EINVAL;
	if (l->mmio64_size && (l->mmio64_base % WINDOW_ALIGN || l->mmio64_size % WINDOW_ALIGN ||
			       l->mmio64_size - 1 > UINT64_MAX - l->mmio64_base))
		return -EINVAL;
	if (l->io_size && (l->io_base % 256 || l->io_size % 256 || l->io_base > 0xffff ||
			   l->io_size > 0x10000 - l->io_base))
		return -EINVAL;
	if (ranges_overlap(l->ecam_base, ECAM_SIZE, l->mmio32_base, l->mmio32_size) ||
	    ranges_overlap(l->ecam_base, ECAM_SIZE, l->mmio64_base, l->mmio64_size) ||
	    ranges_overlap(l->mmio32_base, l->mmio32_size, l->mmio64_base, l->mmio64_size))
		return -EINVAL;
	return 0;
}

struct pci_bus *pci_bus_create(struct vm *vm, const struct pci_bus_layout *layout)
{
	struct pci_bus *bus;
	int ret;

	if (!vm || !layout || layout_check(layout)) {
		log_error("pci: invalid host bridge layout");
		return NULL;
	}
	bus = calloc(1, sizeof(*bus));
	if (!bus) {
		log_error("pci: out of memory for the host bridge");
		return NULL;
	}
	pthread_mutex_init(&bus->cfg_lock, NULL);
	pthread_rwlock_init(&bus->map_lock, NULL);
	bus->vm = vm;
	bus->layout = *layout;
	bus->win32 = (struct pci_window){ bus, layout->mmio32_base, layout->mmio32_size,
					  layout->mmio32_base };
	bus->win64 = (struct pci_window){ bus, layout->mmio64_base, layout->mmio64_size,
					  layout->mmio64_base };
	bus->winio = (struct pci_window){ bus, layout->io_base, layout->io_size, layout->io_base,
					  true };
	pci_device_init(&bus->host, NULL, bus, "host-bridge", PCI_HOST_VENDOR_ID,
			PCI_HOST_DEVICE_ID, PCI_HOST_CLASS, 0, PCI_HOST_VENDOR_ID,
			PCI_HOST_DEVICE_ID);
	bus->host.bus = bus;
	bus->host.slot = 0;
	bus->slots[0] = &bus->host;
	bus->nslots = 1;

	/*
	 * Hand the bus to the VM before registering anything: vm->mmio has no
	 * unregister, so once a range points at the bus it must live as long
	 * as the VM, even if a later registration fails.
	 */
	if (vm_own(vm, pci_bus_free, bus)) {
		log_error("pci: the VM cannot own more objects");
		pci_bus_free(bus);
		return NULL;
	}
	ret = bus_register(&vm->mmio, layout->ecam_base, ECAM_SIZE, &ecam_ops, bus, "pci-ecam");
	if (!ret)
		ret = bus_register(&vm->mmio, layout->mmio32_base, layout->mmio32_size, &window_ops,
				   &bus->win32, "pci-mmio32");
	if (!ret && layout->mmio64_size)
		ret = bus_register(&vm->mmio, layout->mmio64_base, layout->mmio64_size, &window_ops,
				   &bus->win64, "pci-mmio64");
	if (!ret && layout->io_size)
		ret = bus_register(&vm->pio, layout->io_base, layout->io_size, &window_ops,
				   &bus->winio, "pci-io");
	if (ret) {
		log_error("pci: cannot register ECAM 0x%llx and windows 0x%llx+0x%llx, "
			  "0x%llx+0x%llx on the MMIO bus: %s",
			  (unsigned long long)layout->ecam_base,
			  (unsigned long long)layout->mmio32_base,
			  (unsigned long long)layout->mmio32_size,
			  (unsigned long long)layout->mmio64_base,
			  (unsigned long long)layout->mmio64_size, strerror(-ret));
		return NULL;
	}
	return bus;
}

struct pci_device *pci_bus_device(struct pci_bus *bus, unsigned int slot)
{
	struct pci_device *dev = NULL;

	if (!bus || slot >= PCI_MAX_SLOTS)
		return NULL;
	pthread_rwlock_rdlock(&bus->map_lock);
	if (slot < bus->nslots)
		dev = bus->slots[slot];
	pthread_rwlock_unlock(&bus->map_lock);
	return dev;
}

/*
 * First fit for @size at or after *@next in @w, aligned to max(size, 4 KiB): a sub-page BAR
 * gets a page of its own, so a device can trap (or map) it without sharing the page.
 * 0 or -ENOSPC.
 */
static int window_fit(const struct pci_window *w, uint64_t *next, uint64_t size, uint64_t *addr)
{
	uint64_t a, span = size < WINDOW_ALIGN && !w->io ? WINDOW_ALIGN : size;

	if (!w->size || *next > UINT64_MAX - (span - 1))
		return -ENOSPC;
	a = ALIGN_UP(*next, span);
	if (!window_contains(w, a, span))
		return -ENOSPC;
	*addr = a;
	*next = a + span;
	return 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_device *dev)
{
	uint64_t addr[PCI_NUM_BARS] = { 0 };
	uint64_t next32, next64, nextio;
	int ret = 0;

	if (!bus || !dev || dev->bus)
		return -EINVAL;
	pthread_mutex_lock(&bus->cfg_lock);
	if (bus->nslots == PCI_MAX_SLOTS) {
		log_error("pci: no free slot for %s (%u slots)", dev->name, PCI_MAX_SLOTS);
		ret = -ENOSPC;
		goto out;
	}
	/* Place every BAR on scratch cursors first, so a failure leaves the bus as it was. */
	next32 = bus->win32.next;
	next64 = bus->win64.next;
	nextio = bus->winio.next;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &dev->bars[i];
		bool use64 = b->type == PCI_BAR_MEM64 && bus->win64.size;
		bool io = b->type == PCI_BAR_IO;

		if (b->type == PCI_BAR_NONE)
			continue;
		ret = window_fit(io	 ? &bus->winio
				 : use64 ? &bus->win64
					 : &bus->win32,
				 io	 ? &nextio
				 : use64 ? &next64
					 : &next32,
				 b->size, &addr[i]);
		if (ret) {
			log_error("pci: no room for BAR%u of %s (0x%llx bytes) in the %s window", i,
				  dev->name, (unsigned long long)b->size,
				  io	  ? "I/O"
				  : use64 ? "64-bit"
					  : "32-bit");
			goto out;
		}
	}
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint8_t *reg = dev->config + PCI_BASE_ADDRESS_0 + 4 * i;

		if (b->type == PCI_BAR_NONE)
			continue;
		put_le32(reg,
			 (get_le32(reg) & (b->type == PCI_BAR_IO ? 0x3 : 0xf)) | (uint32_t)addr[i]);
		if (b->type == PCI_BAR_MEM64)
			put_le32(reg + 4, (uint32_t)(addr[i] >> 32));
		b->addr = addr[i];
		b->decode = PCI_BAR_UNMAPPED;
		log_debug("pci %02x.0 %s: BAR%u at 0x%llx (0x%llx bytes)", bus->nslots, dev->name,
			  i, (unsigned long long)addr[i], (unsigned long long)b->size);
	}
	bus->win32.next = next32;
	bus->win64.next = next64;
	bus->winio.next = nextio;
	dev->bus = bus;
	dev->slot = bus->nslots;
	pthread_rwlock_wrlock(&bus->map_lock);
	bus->slots[bus->nslots++] = dev;
	pthread_rwlock_unlock(&bus->map_lock);
	log_debug("pci: %02x.0 %s [%04x:%04x]", dev->slot, dev->name,
		  get_le16(dev->config + PCI_VENDOR_ID), get_le16(dev->config + PCI_DEVICE_ID));
out:
	pthread_mutex_unlock(&bus->cfg_lock);
	return ret;
}

/* ACPI description */

int pci_bus_build_aml(const struct pci_bus_layout *l, struct aml_buf *out)
{
	struct aml_res crs[4] = {
		{ AML_RES_BUS_WINDOW, 0, 1 },
		{ AML_RES_MEM32_WINDOW, l->mmio32_base, l->mmio32_size },
	};
	size_t ncrs = 2;
	const struct aml_res ecam = { AML_RES_MEM32, l->ecam_base, ECAM_SIZE };
	struct aml_buf body;
	int ret;

	if (l->mmio64_size)
		crs[ncrs++] = (struct aml_res){ AML_RES_MEM64_WINDOW, l->mmio64_base,
						l->mmio64_size };
	if (l->io_size)
		crs[ncrs++] = (struct aml_res){ AML_RES_IO_WINDOW, l->io_base, l->io_size };
	aml_buf_init(&body);
	/* PCI Express root bridge, compatible with plain PCI (ACPI 6.5, 6.1.2 and 6.5.6). */
	ret = aml_name_id(&body, "_HID", "PNP0A08");
	if (!ret)
		ret = aml_name_id(&body, "_CID", "PNP0A03");
	if (!ret)
		ret = aml_name_integer(&body, "_SEG", 0);
	if (!ret)
		ret = aml_name_integer(&body, "_BBN", 0);
	if (!ret)
		ret = aml_name_integer(&body, "_UID", 0);
	/*
	 * Both windows are non-prefetchable: Linux refuses a non-prefetchable
	 * BAR inside a prefetchable window, and the 64-bit one holds both kinds.
	 */
	if (!ret)
		ret = aml_name_resources(&body, "_CRS", crs, ncrs);
	if (!ret)
		ret = body.err;
	if (!ret)
		ret = aml_device_raw(out, "PCI0", body.data, body.len);
	/*
	 * The PCI Firmware spec (4.1.2) wants the ECAM range reserved by a
	 * motherboard resource; Linux checks it (pci_mmcfg_reserved, late, for
	 * ECAM it did not already accept early) and reserves it in iomem.
	 */
	if (!ret)
		ret = aml_device(out, "PRES", "PNP0C02", 0, &ecam, 1);
	aml_buf_free(&body);
	return ret;
}

int pci_bus_finalize(struct pci_bus *bus)
{
	const struct acpi_mcfg_entry ecam = { .base = bus ? bus->layout.ecam_base : 0 };
	uint8_t mcfg[ACPI_MCFG_LEN(1)];
	struct aml_buf aml;
	int ret, len;

	if (!bus || bus->finalized)
		return -EINVAL;
	aml_buf_init(&aml);
	ret = pci_bus_build_aml(&bus->layout, &aml);
	if (ret) {
		log_error("pci: cannot describe the host bridge in AML: %s", strerror(-ret));
		goto out;
	}
	len = acpi_build_mcfg(&ecam, 1, mcfg, sizeof(mcfg));
	if (len < 0) {
		ret = len;
		log_error("pci: cannot build the MCFG table: %s", strerror(-ret));
		goto out;
	}
	ret = vm_add_acpi_table(bus->vm, mcfg, (size_t)len);
	if (ret) {
		log_error("pci: cannot add the MCFG table: %s", strerror(-ret));
		goto out;
	}
	aml_append(&bus->vm->sb_aml, aml.data, aml.len);
	ret = bus->vm->sb_aml.err;
	if (ret) {
		log_error("pci: out of memory for the DSDT fragment");
		goto out;
	}
	bus->finalized = true;
out:
	aml_buf_free(&aml);
	return ret;
}
