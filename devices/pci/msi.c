// SPDX-License-Identifier: GPL-2.0-only
/* MSI with externally fired vectors; see msi.h. */
#include "devices/pci/msi.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "vmm/irq.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

struct msi_vec {
	uint32_t gsi;
	int efd;
	bool wired, routed;
	uint64_t addr;
	uint32_t data;
};

struct msi {
	struct vm *vm;
	struct pci_device *dev;
	unsigned int cap;
	bool kvm, is64, pvm;
	unsigned int len;  /* bytes the capability spans */
	unsigned int nvec; /* Multiple Message Capable */
	unsigned int on;   /* enabled vectors */
	struct msi_vec v[MSI_MAX_VECTORS];
};

unsigned int msi_cap_len(uint16_t ctrl)
{
	return 10 + ((ctrl & PCI_MSI_FLAGS_64BIT) ? 4 : 0) +
	       ((ctrl & PCI_MSI_FLAGS_MASKBIT) ? 10 : 0);
}

static unsigned int reg_data(const struct msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static unsigned int reg_mask(const struct msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

void msi_destroy(struct msi *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->nvec; i++) {
		if (m->v[i].wired && m->kvm)
			vm_irqfd(m->vm, m->v[i].efd, m->v[i].gsi, false);
		if (m->v[i].efd >= 0)
			close(m->v[i].efd);
		if (m->kvm)
			vm_msi_free(m->vm, m->v[i].gsi);
	}
	free(m);
}

struct msi *msi_create(struct vm *vm, struct pci_device *dev, unsigned int cap, uint16_t ctrl)
{
	unsigned int len = msi_cap_len(ctrl), mmc = (ctrl & PCI_MSI_FLAGS_QMASK) >> 1;
	struct msi *m;
	uint8_t *c;

	if (!vm || !dev || cap < PCI_CAP_START || cap % 4 || cap + len > 256 || mmc > 5) {
		log_error("msi: invalid capability at 0x%x (control 0x%x)", cap, ctrl);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->vm = vm;
	m->dev = dev;
	m->cap = cap;
	m->kvm = vm->vm_fd >= 0;
	m->is64 = ctrl & PCI_MSI_FLAGS_64BIT;
	m->pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
	m->nvec = 1u << mmc;
	m->len = len;
	for (unsigned int i = 0; i < MSI_MAX_VECTORS; i++)
		m->v[i].efd = -1;
	for (unsigned int i = 0; i < m->nvec; i++) {
		m->v[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->v[i].efd < 0 || vm_msi_alloc(vm, &m->v[i].gsi)) {
			log_error("msi %s: no eventfd or GSI for vector %u", dev->name, i);
			if (m->v[i].efd >= 0)
				close(m->v[i].efd);
			m->v[i].efd = -1;
			m->nvec = i;
			msi_destroy(m);
			return NULL;
		}
	}
	c = dev->config;
	memset(c + cap + 2, 0, len - 2);
	memset(dev->wmask + cap + 2, 0, len - 2);
	memset(dev->w1cmask + cap + 2, 0, len - 2);
	put_le16(c + cap + PCI_MSI_FLAGS,
		 ctrl & (PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT));
	put_le16(dev->wmask + cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	put_le32(dev->wmask + cap + PCI_MSI_ADDRESS_LO, 0xfffffffc);
	if (m->is64)
		put_le32(dev->wmask + cap + PCI_MSI_ADDRESS_HI, 0xffffffff);
	put_le16(dev->wmask + reg_data(m), 0xffff);
	if (m->pvm)
		put_le32(dev->wmask + reg_mask(m),
			 m->nvec == 32 ? 0xffffffffu : (1u << m->nvec) - 1);
	return m;
}

static void wire(struct msi *m, struct msi_vec *v, bool on)
{
	if (v->wired == on)
		return;
	if (m->kvm && vm_irqfd(m->vm, v->efd, v->gsi, on))
		return;
	v->wired = on;
}

void msi_config_write(struct msi *m, uint32_t off, uint32_t size)
{
	const uint8_t *c;
	uint16_t ctrl;
	uint64_t addr;
	uint32_t data, mask = 0;
	unsigned int mme;

	if (!m || off + size <= m->cap || off >= m->cap + m->len)
		return;
	c = m->dev->config;
	ctrl = get_le16(c + m->cap + PCI_MSI_FLAGS);
	mme = (ctrl & PCI_MSI_FLAGS_QSIZE) >> 4;
	/* A guest asking for more than the device can gets what it can (6.8.1.3). */
	m->on = ctrl & PCI_MSI_FLAGS_ENABLE ? 1u << (mme > 5 ? 5 : mme) : 0;
	if (m->on > m->nvec)
		m->on = m->nvec;
	addr = get_le32(c + m->cap + PCI_MSI_ADDRESS_LO);
	if (m->is64)
		addr |= (uint64_t)get_le32(c + m->cap + PCI_MSI_ADDRESS_HI) << 32;
	data = get_le16(c + reg_data(m));
	if (m->pvm)
		mask = get_le32(c + reg_mask(m));
	for (unsigned int i = 0; i < m->nvec; i++) {
		struct msi_vec *v = &m->v[i];
		/* Multiple messages: the low bits of the data carry the vector number. */
		uint32_t d = m->on ? (data & ~(m->on - 1)) | i : data;
		bool live = i < m->on && !(mask & (1u << i));

		if (!live) {
			wire(m, v, false);
			continue;
		}
		if (!v->routed || v->addr != addr || v->data != d) {
			if (m->kvm && vm_msi_set(m->vm, v->gsi, addr, d)) {
				wire(m, v, false);
				continue;
			}
			v->routed = true;
			v->addr = addr;
			v->data = d;
		}
		wire(m, v, true);
	}
}

uint32_t msi_config_read(struct msi *m, uint32_t off, uint32_t size, uint32_t val)
{
	unsigned int pend;
	uint32_t bits = 0;

	if (!m || !m->pvm)
		return val;
	pend = reg_mask(m) + 4;
	if (off + size <= pend || off >= pend + 4)
		return val;
	for (unsigned int i = 0; i < m->nvec; i++) {
		struct pollfd p = { .fd = m->v[i].efd, .events = POLLIN };

		if (!m->v[i].wired && poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
			bits |= 1u << i;
	}
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = off + i;

		if (o >= pend && o < pend + 4)
			val = (val & ~(0xffu << (8 * i))) | ((bits >> (8 * (o - pend))) & 0xff)
								    << (8 * i);
	}
	return val;
}

unsigned int msi_enabled_vectors(struct msi *m)
{
	return m ? m->on : 0;
}

int msi_vector_eventfd(struct msi *m, unsigned int vec)
{
	return m && vec < m->nvec ? m->v[vec].efd : -EINVAL;
}

bool msi_vector_wired(struct msi *m, unsigned int vec, uint64_t *addr, uint32_t *data)
{
	if (!m || vec >= m->nvec)
		return false;
	if (addr)
		*addr = m->v[vec].addr;
	if (data)
		*data = m->v[vec].data;
	return m->v[vec].wired;
}
