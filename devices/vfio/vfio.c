// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's view of a VFIO PCI device (see vfio.h for the set-up path, vfio_host.c).
 *
 * Config space: kite keeps the type-0 header itself (IDs copied from the device; BARs, the
 * command register's decode bits, the ROM BAR and the interrupt pin virtualised) and shows
 * the device's capability list, re-chained to leave out MSI when there is MSI-X.
 * Capability bodies are read live from the device through the config-read hook, except
 * MSI-X's and MSI's, which kite emulates (devices/pci/msix.c in external mode, msi.c: the
 * guest's vector programming becomes KVM MSI routes, and the host's interrupt eventfds,
 * handed to the kernel with VFIO_DEVICE_SET_IRQS, are KVM irqfds). Guest writes to capability bodies other than
 * MSI-X's Message Control are dropped: the PCIe capability is read-through only, so a guest
 * cannot start an FLR, change payload sizes or ASPM behind kite's back. Extended config space
 * reads as 0 (no extended capabilities).
 *
 * BARs: memory BARs (32/64-bit, prefetchable kept, sub-page included) keep the device's
 * sizes. Parts the kernel lets us mmap (the sparse-mmap capability honoured) become KVM
 * memory slots at the guest's BAR address while Memory Space is enabled; the pages holding
 * the MSI-X table and PBA, and whatever cannot be mapped, are trapped and forwarded with
 * pread/pwrite, like I/O BARs (up to 256 ports, in the bus's I/O window).
 */
#include "devices/vfio/vfio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/pci/msi.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "vmm/log.h"
#include "vmm/memslot.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define VFIO_PAGE 4096ull
#define MAX_AREAS 8
#define CFG_LEN 256

struct vfio_area {
	uint64_t off, size; /* inside the region */
	void *hva;
	int slot; /* KVM memory slot while decoding, else -1 */
};

struct vfio_region {
	uint32_t flags;
	uint64_t size, offset;
	unsigned int nareas;
	struct vfio_area areas[MAX_AREAS];
};

struct vfio_dev {
	struct pci_device pci;
	struct vm *vm;
	struct host_iommu *h;
	struct vfio_env env;
	int fd;
	int kvm_dev_fd;
	bool attached;
	bool can_reset;
	char label[80];
	uint32_t num_irqs;
	struct vfio_region regions[VFIO_PCI_NUM_REGIONS];
	uint8_t real[CFG_LEN]; /* config space as read at start */
	uint8_t live[CFG_LEN]; /* 1: guest reads of this byte go to the device */
	struct msix *msix;
	unsigned int msix_cap;
	unsigned int host_vectors; /* MSI-X vectors the kernel has eventfds for */
	struct msi *msi;	   /* only when the device has no MSI-X */
	unsigned int host_msi;	   /* MSI vectors the kernel has eventfds for */
};

static int dev_ioctl(struct vfio_dev *d, unsigned long req, void *arg)
{
	return d->h->ioctl(d->h->ioctl_ctx, d->fd, req, arg);
}

static bool cfg_rw(struct vfio_dev *d, void *buf, size_t n, uint64_t off, bool write)
{
	uint64_t base = d->regions[VFIO_PCI_CONFIG_REGION_INDEX].offset;
	ssize_t r = write ? d->env.pwrite(d->env.ctx, d->fd, buf, n, base + off)
			  : d->env.pread(d->env.ctx, d->fd, buf, n, base + off);

	return r == (ssize_t)n;
}

/* ---- interrupts ---- */

/* Hands the kernel one eventfd per vector (@n > 0), or turns MSI-X or MSI off (@n == 0). */
static int set_irqs(struct vfio_dev *d, unsigned int index, unsigned int n)
{
	size_t len = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, len);
	int ret;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)len;
	s->flags = (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
		   VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = 0;
	s->count = n;
	for (unsigned int i = 0; i < n; i++) {
		int32_t efd = index == VFIO_PCI_MSIX_IRQ_INDEX
				      ? msix_vector_eventfd(d->msix, (uint16_t)i)
				      : msi_vector_eventfd(d->msi, i);

		memcpy(s->data + i * sizeof(int32_t), &efd, sizeof(efd));
	}
	ret = dev_ioctl(d, VFIO_DEVICE_SET_IRQS, s);
	free(s);
	if (ret < 0)
		log_error("%s: VFIO_DEVICE_SET_IRQS %s %u vectors: %s", d->label,
			  index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI", n, strerror(-ret));
	else if (index == VFIO_PCI_MSIX_IRQ_INDEX)
		d->host_vectors = n;
	else
		d->host_msi = n;
	return ret < 0 ? ret : 0;
}

static int set_msix_irqs(struct vfio_dev *d, unsigned int n)
{
	return set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, n);
}

/* ---- config space ---- */

static uint32_t vfio_config_read(struct pci_device *pci, uint32_t off, uint32_t size, uint32_t val)
{
	struct vfio_dev *d = pci->opaque;
	uint8_t b[4];

	if (off >= CFG_LEN)
		return 0;
	val = msi_config_read(d->msi, off, size, val);
	for (uint32_t i = 0; i < size; i++) {
		if (off + i >= CFG_LEN || !d->live[off + i])
			continue;
		/* One byte at a time keeps this simple; these registers are rarely read. */
		if (!cfg_rw(d, &b[i], 1, off + i, false))
			b[i] = 0xff;
		val = (val & ~(0xffu << (8 * i))) | (uint32_t)b[i] << (8 * i);
	}
	return val;
}

static void vfio_config_write(struct pci_device *pci, uint32_t off, uint32_t size, uint32_t val)
{
	struct vfio_dev *d = pci->opaque;

	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND) {
		uint16_t guest = get_le16(pci->config + PCI_COMMAND), host;

		/* The device decodes and masters as the guest says; INTx stays off. */
		if (cfg_rw(d, &host, 2, PCI_COMMAND, false)) {
			const uint16_t fwd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
					     PCI_COMMAND_MASTER;

			host = (uint16_t)((host & ~fwd) | (guest & fwd) | PCI_COMMAND_INTX_DISABLE);
			if (!cfg_rw(d, &host, 2, PCI_COMMAND, true))
				log_warn("%s: command register write failed", d->label);
		}
	}
	if (d->msi) {
		unsigned int n;

		msi_config_write(d->msi, off, size);
		n = msi_enabled_vectors(d->msi);
		/* The kernel cannot resize an enabled MSI block: off first, then the new count. */
		if (n != d->host_msi && d->host_msi)
			set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, 0);
		if (n != d->host_msi && n)
			set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, n);
	}
	if (d->msix) {
		bool on;

		msix_config_write(d->msix, off, size, val);
		on = msix_enabled(d->msix);
		if (on && !d->host_vectors)
			set_msix_irqs(d, msix_nvec(d->msix));
		else if (!on && d->host_vectors)
			set_msix_irqs(d, 0);
	}
}

/* ---- BARs ---- */

static void vfio_bar_access(struct pci_device *pci, unsigned int bar, uint64_t off, uint8_t *data,
			    uint32_t size, bool write)
{
	struct vfio_dev *d = pci->opaque;
	const struct vfio_region *r = &d->regions[bar];
	ssize_t n;

	if (msix_bar_access(d->msix, bar, off, data, size, write))
		return;
	if (off >= r->size || size > r->size - off) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	n = write ? d->env.pwrite(d->env.ctx, d->fd, data, size, r->offset + off)
		  : d->env.pread(d->env.ctx, d->fd, data, size, r->offset + off);
	if (n != (ssize_t)size && !write)
		memset(data, 0xff, size);
}

static void vfio_bar_read(struct pci_device *pci, unsigned int bar, uint64_t off, uint8_t *data,
			  uint32_t size)
{
	vfio_bar_access(pci, bar, off, data, size, false);
}

static void vfio_bar_write(struct pci_device *pci, unsigned int bar, uint64_t off,
			   const uint8_t *data, uint32_t size)
{
	vfio_bar_access(pci, bar, off, (uint8_t *)data, size, true);
}

/* Decoding changed: move the mapped parts of the BAR (runs under the bus config lock). */
static void vfio_bar_remap(struct pci_device *pci, unsigned int bar, uint64_t addr)
{
	struct vfio_dev *d = pci->opaque;
	struct vfio_region *r = &d->regions[bar];

	for (unsigned int i = 0; i < r->nareas; i++) {
		struct vfio_area *a = &r->areas[i];

		vm_memslot_del(d->vm, a->slot);
		a->slot = -1;
		if (addr == PCI_BAR_UNMAPPED || !a->hva)
			continue;
		/* On failure the area stays trapped: slower, still correct. */
		if (vm_memslot_add(d->vm, addr + a->off, a->size, a->hva, &a->slot))
			a->slot = -1;
	}
}

static const struct pci_device_ops vfio_pci_ops = {
	.bar_read = vfio_bar_read,
	.bar_write = vfio_bar_write,
	.bar_remap = vfio_bar_remap,
	.config_write = vfio_config_write,
	.config_read = vfio_config_read,
};

/* ---- region info ---- */

static void add_area(struct vfio_region *r, uint64_t off, uint64_t size)
{
	if (size && r->nareas < MAX_AREAS)
		r->areas[r->nareas++] = (struct vfio_area){ .off = off, .size = size, .slot = -1 };
}

/* Removes [start, end) from every area, splitting where needed. */
static void cut_areas(struct vfio_region *r, uint64_t start, uint64_t end)
{
	struct vfio_area in[MAX_AREAS];
	unsigned int n = r->nareas;

	memcpy(in, r->areas, sizeof(in));
	r->nareas = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t a = in[i].off, b = in[i].off + in[i].size;

		if (end <= a || start >= b) {
			add_area(r, a, b - a);
			continue;
		}
		if (start > a)
			add_area(r, a, start - a);
		if (end < b)
			add_area(r, end, b - end);
	}
}

/* The sparse-mmap capability, if the kernel gave one: the only parts we may map. */
static bool sparse_areas(struct vfio_region *r, const uint8_t *buf, uint32_t argsz,
			 uint32_t cap_off)
{
	unsigned int hops = 0;

	while (cap_off && hops++ < 16) {
		const struct vfio_info_cap_header *h;

		if (cap_off < sizeof(struct vfio_region_info) ||
		    cap_off > argsz - sizeof(struct vfio_info_cap_header))
			return false;
		h = (const void *)(buf + cap_off);
		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			const struct vfio_region_info_cap_sparse_mmap *s = (const void *)h;
			uint32_t nr;

			if (cap_off > argsz - sizeof(*s))
				return false;
			nr = s->nr_areas;
			if (nr > (argsz - cap_off - sizeof(*s)) / sizeof(s->areas[0]))
				return false;
			r->nareas = 0;
			for (uint32_t i = 0; i < nr; i++) {
				uint64_t o = s->areas[i].offset, sz = s->areas[i].size;

				if (o <= r->size && sz <= r->size - o)
					add_area(r, o, sz);
			}
			return true;
		}
		cap_off = h->next;
	}
	return false;
}

static int region_info(struct vfio_dev *d, unsigned int index)
{
	struct vfio_region *r = &d->regions[index];
	struct vfio_region_info hdr = { .argsz = sizeof(hdr), .index = index };
	uint8_t *buf = NULL;
	int ret = dev_ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &hdr);

	if (ret < 0) {
		log_error("%s: VFIO_DEVICE_GET_REGION_INFO %u: %s", d->label, index,
			  strerror(-ret));
		return ret;
	}
	r->flags = hdr.flags;
	r->size = hdr.size;
	r->offset = hdr.offset;
	r->nareas = 0;
	if (index > VFIO_PCI_BAR5_REGION_INDEX || !(hdr.flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !r->size)
		return 0;
	add_area(r, 0, r->size);
	if ((hdr.flags & VFIO_REGION_INFO_FLAG_CAPS) && hdr.argsz > sizeof(hdr) &&
	    hdr.argsz <= 65536) {
		uint32_t argsz = hdr.argsz;

		buf = calloc(1, argsz);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, &hdr, sizeof(hdr));
		((struct vfio_region_info *)buf)->argsz = argsz;
		ret = dev_ioctl(d, VFIO_DEVICE_GET_REGION_INFO, buf);
		if (ret >= 0) {
			const struct vfio_region_info *full = (const void *)buf;

			if (full->argsz <= argsz && (full->flags & VFIO_REGION_INFO_FLAG_CAPS))
				sparse_areas(r, buf, argsz, full->cap_offset);
		}
		free(buf);
	}
	return 0;
}

/* ---- building the guest view ---- */

static bool mem_bar(const uint8_t *real, unsigned int i, bool *is64, bool *pref)
{
	uint32_t v = get_le32(real + PCI_BASE_ADDRESS_0 + 4 * i);

	if (v & PCI_BASE_ADDRESS_SPACE_IO)
		return false;
	*is64 = (v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
	*pref = v & PCI_BASE_ADDRESS_MEM_PREFETCH;
	return true;
}

static int setup_bars(struct vfio_dev *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct vfio_region *r = &d->regions[i];
		bool is64, pref;
		int ret;

		if (!r->size)
			continue;
		if (!mem_bar(d->real, i, &is64, &pref)) {
			/* Trapped and forwarded like any non-mappable region. */
			if (pci_device_set_bar(&d->pci, i, PCI_BAR_IO, r->size, false))
				log_info("%s: I/O BAR%u (0x%llx bytes) not offered to the guest",
					 d->label, i, (unsigned long long)r->size);
			continue;
		}
		if (is64 && i == PCI_NUM_BARS - 1) {
			log_error("%s: BAR%u is 64-bit but is the last BAR", d->label, i);
			return -EINVAL;
		}
		ret = pci_device_set_bar(&d->pci, i, is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32, r->size,
					 pref);
		if (ret) {
			log_error("%s: BAR%u of 0x%llx bytes cannot be placed in the guest layout "
				  "(not a power of two, or a 32-bit BAR above 2 GiB)",
				  d->label, i, (unsigned long long)r->size);
			return ret;
		}
		if (is64)
			i++;
	}
	return 0;
}

/* Maps what may be mapped; called once the MSI-X pages are cut out. */
static void map_areas(struct vfio_dev *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_region *r = &d->regions[i];

		if (d->pci.bars[i].type == PCI_BAR_NONE) {
			r->nareas = 0;
			continue;
		}
		for (unsigned int j = 0; j < r->nareas; j++) {
			struct vfio_area *a = &r->areas[j];

			/* KVM slots are page granular: anything smaller stays trapped. */
			if (a->off % VFIO_PAGE || a->size % VFIO_PAGE)
				continue;
			a->hva = d->env.mmap(d->env.ctx, d->fd, a->size, r->offset + a->off);
			if (!a->hva)
				log_info("%s: BAR%u +0x%llx not mappable (%s): trapped", d->label,
					 i, (unsigned long long)a->off, strerror(errno));
		}
	}
}

static void unmap_areas(struct vfio_dev *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_region *r = &d->regions[i];

		for (unsigned int j = 0; j < r->nareas; j++) {
			struct vfio_area *a = &r->areas[j];

			vm_memslot_del(d->vm, a->slot);
			a->slot = -1;
			if (a->hva)
				d->env.munmap(d->env.ctx, a->hva, a->size);
			a->hva = NULL;
		}
	}
}

/* Offset of the first capability @id in the device's own list, 0 if none. */
static unsigned int real_cap(const struct vfio_dev *d, uint8_t id)
{
	unsigned int hops = 0;

	if (!(get_le16(d->real + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	for (unsigned int off = d->real[PCI_CAPABILITY_LIST] & ~3u;
	     off >= PCI_CAP_START && off <= CFG_LEN - 4 && hops++ < 48;
	     off = d->real[off + 1] & ~3u)
		if (d->real[off] == id)
			return off;
	return 0;
}

/*
 * Walks the device's list: MSI-X emulated, MSI emulated only when there is no MSI-X (else
 * left out), the rest read live.
 */
static int setup_caps(struct vfio_dev *d, unsigned int *msix_cap, unsigned int *msi_cap)
{
	uint8_t *c = d->pci.config;
	unsigned int off, prev = PCI_CAPABILITY_LIST, hops = 0;
	bool seen[CFG_LEN] = { false }, has_msix = real_cap(d, PCI_CAP_ID_MSIX) != 0;

	*msix_cap = *msi_cap = 0;
	c[PCI_CAPABILITY_LIST] = 0;
	put_le16(c + PCI_STATUS, get_le16(c + PCI_STATUS) & ~PCI_STATUS_CAP_LIST);
	/* Nothing is appended after the device's own list. */
	d->pci.cap_end = CFG_LEN;
	if (!(get_le16(d->real + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	for (off = d->real[PCI_CAPABILITY_LIST] & ~3u; off; off = d->real[off + 1] & ~3u) {
		uint8_t id;

		if (off < PCI_CAP_START || off > CFG_LEN - 4 || seen[off] || hops++ > 48) {
			log_warn("%s: capability list broken at 0x%x: ends there", d->label, off);
			break;
		}
		seen[off] = true;
		id = d->real[off];
		if (id == PCI_CAP_ID_MSI &&
		    (has_msix || *msi_cap ||
		     off + msi_cap_len(get_le16(d->real + off + 2)) > CFG_LEN)) {
			log_info("%s: MSI capability at 0x%x hidden%s", d->label, off,
				 has_msix ? " (MSI-X is offered)" : "");
			continue;
		}
		if (id == PCI_CAP_ID_MSI)
			*msi_cap = off;
		if (id == PCI_CAP_ID_MSIX) {
			if (off > CFG_LEN - PCI_CAP_MSIX_SIZEOF)
				continue;
			*msix_cap = off;
		}
		c[off] = id;
		c[off + 1] = 0;
		c[prev == PCI_CAPABILITY_LIST ? PCI_CAPABILITY_LIST : prev + 1] = (uint8_t)off;
		prev = off;
		put_le16(c + PCI_STATUS, get_le16(c + PCI_STATUS) | PCI_STATUS_CAP_LIST);
		d->pci.last_cap = (uint8_t)off;
	}
	/* Capability bodies go live, except the ID/next bytes of the chain and MSI-X's. */
	memset(d->live + PCI_CAP_START, 1, CFG_LEN - PCI_CAP_START);
	for (off = c[PCI_CAPABILITY_LIST]; off; off = c[off + 1]) {
		d->live[off] = d->live[off + 1] = 0;
		if (off == *msix_cap)
			memset(d->live + off, 0, PCI_CAP_MSIX_SIZEOF);
		if (off == *msi_cap)
			memset(d->live + off, 0, msi_cap_len(get_le16(d->real + off + 2)));
	}
	return 0;
}

static int setup_msix(struct vfio_dev *d, unsigned int cap)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct msix_params p = { .cap_off = cap, .external = true };
	uint32_t table = get_le32(d->real + cap + PCI_MSIX_TABLE);
	uint32_t pba = get_le32(d->real + cap + PCI_MSIX_PBA);
	unsigned int nvec = (get_le16(d->real + cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
	int ret;

	if (d->num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX) {
		log_error("%s: has an MSI-X capability but VFIO offers no MSI-X interrupts",
			  d->label);
		return -EINVAL;
	}
	ret = dev_ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq);
	if (ret < 0 || !(irq.flags & VFIO_IRQ_INFO_EVENTFD) || irq.count == 0) {
		log_error("%s: VFIO_DEVICE_GET_IRQ_INFO MSI-X: %s", d->label,
			  ret < 0 ? strerror(-ret) : "no eventfd vectors");
		return ret < 0 ? ret : -EINVAL;
	}
	if (nvec > irq.count)
		nvec = irq.count;
	/* The guest sees at most MSIX_MAX_VECTORS (its Table Size says so); Linux copes. */
	if (nvec > MSIX_MAX_VECTORS) {
		log_info("%s: MSI-X offers %u of %u vectors", d->label, MSIX_MAX_VECTORS, nvec);
		nvec = MSIX_MAX_VECTORS;
	}
	p.nvec = (uint16_t)nvec;
	p.table_bar = table & PCI_MSIX_TABLE_BIR;
	p.table_off = table & PCI_MSIX_TABLE_OFFSET;
	p.pba_bar = pba & PCI_MSIX_PBA_BIR;
	p.pba_off = pba & PCI_MSIX_PBA_OFFSET;
	if (p.table_bar >= PCI_NUM_BARS || p.pba_bar >= PCI_NUM_BARS) {
		log_error("%s: MSI-X table or PBA in a BAR that does not exist (BIR %u/%u)",
			  d->label, p.table_bar, p.pba_bar);
		return -EINVAL;
	}
	d->msix = msix_create_params(d->vm, &d->pci, &p);
	if (!d->msix)
		return -EINVAL;
	/* Never map the pages the table and PBA live in: the guest must trap there. */
	cut_areas(&d->regions[p.table_bar], ALIGN_DOWN((uint64_t)p.table_off, VFIO_PAGE),
		  ALIGN_UP((uint64_t)p.table_off + nvec * PCI_MSIX_ENTRY_SIZE, VFIO_PAGE));
	cut_areas(&d->regions[p.pba_bar], ALIGN_DOWN((uint64_t)p.pba_off, VFIO_PAGE),
		  ALIGN_UP((uint64_t)p.pba_off + 8 * ((nvec + 63) / 64), VFIO_PAGE));
	return 0;
}

static void header_from_device(struct vfio_dev *d)
{
	const uint8_t *r = d->real;

	pci_device_init(&d->pci, &vfio_pci_ops, d, d->label, get_le16(r + PCI_VENDOR_ID),
			get_le16(r + PCI_DEVICE_ID), get_le32(r + PCI_CLASS_REVISION) >> 8,
			r[PCI_REVISION_ID], get_le16(r + PCI_SUBSYSTEM_VENDOR_ID),
			get_le16(r + PCI_SUBSYSTEM_ID));
	/* Capability bodies are the device's; the header is ours (ROM BAR 0: no ROM). */
	memcpy(d->pci.config + PCI_CAP_START, r + PCI_CAP_START, CFG_LEN - PCI_CAP_START);
	d->pci.config[PCI_CACHE_LINE_SIZE] = r[PCI_CACHE_LINE_SIZE];
	d->pci.config[PCI_INTERRUPT_PIN] = 0;
}

/* kvm-vfio pseudo device: lets KVM honour guest cache attributes for a non-coherent device. */
static void kvm_vfio_add(struct vfio_dev *d)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	int32_t fd = d->fd;
	struct kvm_device_attr attr = { .group = KVM_DEV_VFIO_GROUP,
					.attr = KVM_DEV_VFIO_GROUP_ADD,
					.addr = (uintptr_t)&fd };

	if (d->vm->vm_fd < 0 || d->env.ioctl)
		return;
	if (ioctl(d->vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
		log_info("%s: no kvm-vfio device: %s", d->label, strerror(errno));
		return;
	}
	d->kvm_dev_fd = (int)cd.fd;
	if (ioctl(d->kvm_dev_fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
		log_info("%s: kvm-vfio FILE_ADD: %s", d->label, strerror(errno));
}

static int bind_attach(struct vfio_dev *d, uint32_t ioas_id)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = d->h->fd };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = ioas_id };
	int ret = dev_ioctl(d, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (ret < 0) {
		if (ret == -EINVAL || ret == -EBUSY)
			log_error(
				"%s: busy: VFIO_DEVICE_BIND_IOMMUFD refused (%s, errno %d); is it "
				"open in another process (a running kite or QEMU)?",
				d->label, strerror(-ret), -ret);
		else
			log_error(
				"%s: VFIO_DEVICE_BIND_IOMMUFD refused by the kernel: %s (errno %d)",
				d->label, strerror(-ret), -ret);
		return ret;
	}
	ret = dev_ioctl(d, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	if (ret < 0) {
		log_error("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT to the guest-RAM IOAS refused by the "
			  "kernel: %s (errno %d)",
			  d->label, strerror(-ret), -ret);
		return ret;
	}
	d->attached = true;
	return 0;
}

static void reset_device(struct vfio_dev *d, const char *when)
{
	int ret;

	if (!d->can_reset)
		return;
	ret = dev_ioctl(d, VFIO_DEVICE_RESET, NULL);
	if (ret < 0)
		log_warn("%s: VFIO_DEVICE_RESET %s: %s", d->label, when, strerror(-ret));
}

void vfio_dev_destroy(struct vfio_dev *d)
{
	if (!d)
		return;
	if (d->host_vectors)
		set_msix_irqs(d, 0);
	if (d->host_msi)
		set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, 0);
	unmap_areas(d);
	if (d->fd >= 0) {
		reset_device(d, "at exit");
		if (d->attached) {
			struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };

			dev_ioctl(d, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt);
		}
		/* Closing the cdev unbinds it from the iommufd. */
		close(d->fd);
	}
	if (d->kvm_dev_fd >= 0)
		close(d->kvm_dev_fd);
	msix_destroy(d->msix);
	msi_destroy(d->msi);
	free(d);
}

struct vfio_dev *vfio_dev_create(struct vm *vm, struct pci_bus *bus, const struct vfio_env *env,
				 struct host_iommu *h, uint32_t ioas_id, int fd, const char *label)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_dev *d = calloc(1, sizeof(*d));
	unsigned int msix_cap, msi_cap;
	int ret;

	if (!d) {
		log_error("%s: out of memory", label);
		close(fd);
		return NULL;
	}
	d->vm = vm;
	d->h = h;
	d->env = *env;
	d->fd = fd;
	d->kvm_dev_fd = -1;
	snprintf(d->label, sizeof(d->label), "%s", label);
	if (bind_attach(d, ioas_id))
		goto err;
	ret = dev_ioctl(d, VFIO_DEVICE_GET_INFO, &info);
	if (ret < 0 || !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		log_error("%s: %s", d->label,
			  ret < 0 ? "VFIO_DEVICE_GET_INFO failed" : "not a VFIO PCI device");
		goto err;
	}
	d->num_irqs = info.num_irqs;
	d->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	for (unsigned int i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++)
		if (region_info(d, i))
			goto err;
	/* Reset before the guest (or we) look at it: whatever the last user left is gone. */
	reset_device(d, "before start");
	if (d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size < CFG_LEN ||
	    !cfg_rw(d, d->real, CFG_LEN, 0, false)) {
		log_error("%s: cannot read its config space", d->label);
		goto err;
	}
	if ((d->real[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
		log_error("%s: not a type-0 endpoint (header type 0x%x): bridges cannot be passed "
			  "through",
			  d->label, d->real[PCI_HEADER_TYPE]);
		goto err;
	}
	header_from_device(d);
	if (setup_bars(d) || setup_caps(d, &msix_cap, &msi_cap))
		goto err;
	if (msix_cap && setup_msix(d, msix_cap))
		goto err;
	if (msi_cap) {
		d->msi = msi_create(vm, &d->pci, msi_cap,
				    get_le16(d->real + msi_cap + PCI_MSI_FLAGS));
		if (!d->msi)
			goto err;
	}
	if (!msix_cap && !msi_cap)
		log_warn("%s: no MSI-X or MSI capability: the guest gets no interrupts from it "
			 "(INTx is not offered yet)",
			 d->label);
	d->msix_cap = msix_cap;
	map_areas(d);
	/* Quiet until the guest enables it: no decoding, no DMA, no INTx. */
	{
		uint16_t cmd = PCI_COMMAND_INTX_DISABLE;

		if (!cfg_rw(d, &cmd, 2, PCI_COMMAND, true))
			log_warn("%s: cannot clear its command register", d->label);
	}
	ret = pci_bus_add(bus, &d->pci);
	if (ret) {
		log_error("%s: its BARs cannot be placed in the guest's PCI windows (%s)", d->label,
			  strerror(-ret));
		goto err;
	}
	kvm_vfio_add(d);
	vm_add_device(vm, d->label, (int)d->pci.slot, NULL);
	log_info("%s: guest slot %02x.0 [%04x:%04x], %s", d->label, d->pci.slot,
		 get_le16(d->real + PCI_VENDOR_ID), get_le16(d->real + PCI_DEVICE_ID),
		 msix_cap  ? "MSI-X"
		 : msi_cap ? "MSI"
			   : "no interrupts");
	return d;
err:
	vfio_dev_destroy(d);
	return NULL;
}

struct pci_device *vfio_dev_pci(struct vfio_dev *d)
{
	return &d->pci;
}

struct msix *vfio_dev_msix(struct vfio_dev *d)
{
	return d->msix;
}

struct msi *vfio_dev_msi(struct vfio_dev *d)
{
	return d->msi;
}

unsigned int vfio_dev_host_vectors(struct vfio_dev *d)
{
	return d->host_vectors;
}
