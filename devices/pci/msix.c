// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X (PCI Local Bus Specification 3.0, 6.8.2): the capability in config
 * space, the vector table and the pending-bit array in a BAR, and delivery
 * through KVM.
 *
 * Every vector owns a GSI with an MSI route and an eventfd wired to it with
 * irqfd, so firing a vector is one eventfd write from whichever thread the
 * device runs on. The route is only (re)programmed when a vector becomes
 * deliverable (unmasked with MSI-X enabled and the function unmasked) or its
 * message changes while deliverable, which keeps KVM_SET_GSI_ROUTING (a
 * whole-table commit) off the notify path. A notify while masked sets the
 * vector's pending bit; the vector fires when it is unmasked.
 *
 * Threads: table accesses come from vCPU threads, config writes from vCPU
 * threads under the bus config lock, notifies from the device event loop (or
 * a BAR handler). One mutex covers the whole state; it is taken below the bus
 * config lock and a device's own lock, and above the VM's routing-table lock.
 *
 * A VM without KVM (vm_fd < 0: unit tests) gets the full table and PBA
 * emulation and the eventfds, but no routes or irqfds; what would have been
 * programmed is recorded, see msix_vector_route().
 */
#include "devices/pci/msix.h"

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

_Static_assert(MSIX_MAX_VECTORS <= 64, "the PBA is kept in one 64-bit word");

#define MSIX_CAP_BODY_LEN 10 /* Message Control, Table Offset/BIR, PBA Offset/BIR */
#define MSIX_PBA_LEN 8	     /* one QWORD covers up to 64 vectors */

struct msix_vector {
	/* The guest's table entry. */
	uint32_t addr_lo, addr_hi, data, ctrl;
	uint32_t gsi;
	bool gsi_valid;
	int efd;
	bool irqfd;
	/* The message last programmed into the route, valid if routed. */
	bool routed;
	uint64_t route_addr;
	uint32_t route_data;
};

struct msix {
	struct vm *vm;
	struct pci_device *dev;
	pthread_mutex_t lock;
	bool kvm;
	bool external; /* see struct msix_params */
	uint16_t nvec;
	unsigned int table_bar, pba_bar;
	uint32_t table_off, pba_off;
	unsigned int cap; /* config offset of the capability */
	bool enabled, fmasked;
	uint64_t pba;
	struct msix_vector vec[];
};

static uint64_t vec_addr(const struct msix_vector *v)
{
	return (uint64_t)v->addr_hi << 32 | v->addr_lo;
}

/* Lock held. */
static bool vec_masked(const struct msix *m, const struct msix_vector *v)
{
	return !m->enabled || m->fmasked || (v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Makes the vector's route carry its current message. Lock held. */
static int vec_route(struct msix *m, struct msix_vector *v)
{
	int ret;

	if (v->routed && v->route_addr == vec_addr(v) && v->route_data == v->data)
		return 0;
	if (m->kvm) {
		ret = vm_msi_set(m->vm, v->gsi, vec_addr(v), v->data);
		if (ret) {
			log_error("msix %s: cannot route vector %ld (gsi %u): %s", m->dev->name,
				  (long)(v - m->vec), v->gsi, strerror(-ret));
			return ret;
		}
	}
	v->routed = true;
	v->route_addr = vec_addr(v);
	v->route_data = v->data;
	return 0;
}

/* Lock held, vector deliverable. */
static int vec_fire(struct msix *m, struct msix_vector *v)
{
	uint64_t one = 1;
	int ret = vec_route(m, v);

	if (ret)
		return ret;
	if (write(v->efd, &one, sizeof(one)) != sizeof(one)) {
		ret = -errno;
		log_warn("msix %s: signalling vector %ld: %s", m->dev->name, (long)(v - m->vec),
			 strerror(errno));
		return ret;
	}
	return 0;
}

/* External mode: wire or unwire the vector's eventfd to its GSI. Lock held. */
static void vec_wire(struct msix *m, struct msix_vector *v, bool on)
{
	if (v->irqfd == on)
		return;
	/* KVM checks the eventfd when wiring: a message that came while masked is delivered. */
	if (m->kvm && vm_irqfd(m->vm, v->efd, v->gsi, on))
		return;
	v->irqfd = on;
}

/* After anything that may have (un)masked @v: route it and deliver what is pending. Lock held. */
static void vec_update(struct msix *m, unsigned int i)
{
	struct msix_vector *v = &m->vec[i];

	if (m->external) {
		if (vec_masked(m, v))
			vec_wire(m, v, false);
		else if (!vec_route(m, v))
			vec_wire(m, v, true);
		return;
	}
	if (vec_masked(m, v))
		return;
	if (vec_route(m, v))
		return;
	if (m->pba & (1ull << i)) {
		m->pba &= ~(1ull << i);
		vec_fire(m, v);
	}
}

void msix_destroy(struct msix *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->nvec; i++) {
		struct msix_vector *v = &m->vec[i];

		if (v->irqfd && m->kvm)
			vm_irqfd(m->vm, v->efd, v->gsi, false);
		if (v->efd >= 0)
			close(v->efd);
		/* Without KVM the commit would only fail; the table goes with the VM. */
		if (v->gsi_valid && m->kvm)
			vm_msi_free(m->vm, v->gsi);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct msix *msix_create(struct vm *vm, struct pci_device *dev, uint16_t nvec, unsigned int bar,
			 uint32_t table_off, uint32_t pba_off)
{
	const struct msix_params p = { .nvec = nvec,
				       .table_bar = bar,
				       .pba_bar = bar,
				       .table_off = table_off,
				       .pba_off = pba_off };

	return msix_create_params(vm, dev, &p);
}

static bool bar_ok(const struct pci_device *dev, unsigned int bar)
{
	return bar < PCI_NUM_BARS && dev->bars[bar].type != PCI_BAR_NONE;
}

struct msix *msix_create_params(struct vm *vm, struct pci_device *dev, const struct msix_params *p)
{
	uint8_t body[MSIX_CAP_BODY_LEN], wmask[MSIX_CAP_BODY_LEN] = { 0 };
	uint16_t nvec = p ? p->nvec : 0;
	uint64_t table_len = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE, tsize, psize;
	uint32_t table_off, pba_off;
	struct msix *m;
	int cap, ret;

	if (!vm || !dev || !p || nvec == 0 || nvec > MSIX_MAX_VECTORS ||
	    !bar_ok(dev, p->table_bar) || !bar_ok(dev, p->pba_bar) || p->table_off % 8 ||
	    p->pba_off % 8 ||
	    (p->cap_off && (p->cap_off < PCI_CAP_START || p->cap_off > 256 - 2 - sizeof(body) ||
			    p->cap_off % 4))) {
		log_error("msix: invalid parameters (%u vectors in BAR%u)", nvec,
			  p ? p->table_bar : 0);
		return NULL;
	}
	table_off = p->table_off;
	pba_off = p->pba_off;
	tsize = dev->bars[p->table_bar].size;
	psize = dev->bars[p->pba_bar].size;
	if (table_off > tsize || table_len > tsize - table_off || pba_off > psize ||
	    MSIX_PBA_LEN > psize - pba_off ||
	    (p->table_bar == p->pba_bar && pba_off < table_off + table_len &&
	     table_off < pba_off + MSIX_PBA_LEN)) {
		log_error("msix %s: table 0x%x+0x%llx (BAR%u) or PBA 0x%x (BAR%u) outside its BAR",
			  dev->name, table_off, (unsigned long long)table_len, p->table_bar,
			  pba_off, p->pba_bar);
		return NULL;
	}
	m = calloc(1, sizeof(*m) + nvec * sizeof(m->vec[0]));
	if (!m) {
		log_error("msix %s: out of memory", dev->name);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->vm = vm;
	m->dev = dev;
	m->kvm = vm->vm_fd >= 0;
	m->external = p->external;
	m->nvec = nvec;
	m->table_bar = p->table_bar;
	m->pba_bar = p->pba_bar;
	m->table_off = table_off;
	m->pba_off = pba_off;
	for (unsigned int i = 0; i < nvec; i++) {
		m->vec[i].efd = -1;
		m->vec[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* entries reset masked */
	}
	for (unsigned int i = 0; i < nvec; i++) {
		struct msix_vector *v = &m->vec[i];

		ret = vm_msi_alloc(vm, &v->gsi);
		if (ret) {
			log_error("msix %s: no GSI for vector %u: %s", dev->name, i,
				  strerror(-ret));
			goto err;
		}
		v->gsi_valid = true;
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->efd < 0) {
			log_error("msix %s: eventfd: %s", dev->name, strerror(errno));
			goto err;
		}
		/* External vectors are wired when they become deliverable (vec_update). */
		if (m->kvm && !m->external) {
			if (vm_irqfd(vm, v->efd, v->gsi, true))
				goto err;
			v->irqfd = true;
		}
	}

	put_le16(body, (uint16_t)(nvec - 1));
	put_le32(body + 2, table_off | p->table_bar);
	put_le32(body + 6, pba_off | p->pba_bar);
	put_le16(wmask, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	if (p->cap_off) {
		cap = (int)p->cap_off;
		dev->config[cap] = PCI_CAP_ID_MSIX;
		memcpy(dev->config + cap + 2, body, sizeof(body));
		memcpy(dev->wmask + cap + 2, wmask, sizeof(wmask));
		memset(dev->w1cmask + cap + 2, 0, sizeof(body));
	} else {
		cap = pci_device_add_cap(dev, PCI_CAP_ID_MSIX, body, wmask, sizeof(body));
	}
	if (cap < 0) {
		log_error("msix %s: no room for the capability", dev->name);
		goto err;
	}
	m->cap = (unsigned int)cap;
	return m;
err:
	msix_destroy(m);
	return NULL;
}

void msix_config_write(struct msix *m, uint32_t off, uint32_t size, uint32_t val)
{
	uint32_t ctl = m ? m->cap + PCI_MSIX_FLAGS : 0;
	uint16_t flags;

	if (!m || (uint64_t)off + size <= ctl || off >= ctl + 2)
		return;
	/* The core already applied the write through wmask: read the result, not @val. */
	flags = get_le16(m->dev->config + ctl);
	pthread_mutex_lock(&m->lock);
	m->enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	m->fmasked = flags & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned int i = 0; i < m->nvec; i++)
		vec_update(m, i);
	pthread_mutex_unlock(&m->lock);
}

static bool overlaps(uint64_t off, uint32_t size, uint64_t start, uint64_t len)
{
	return off < start + len && start < off + size;
}

/* One aligned dword of the table. Lock held. */
static uint32_t *table_dword(struct msix *m, uint64_t toff)
{
	struct msix_vector *v = &m->vec[toff / PCI_MSIX_ENTRY_SIZE];

	switch (toff % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return &v->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return &v->addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return &v->data;
	default:
		return &v->ctrl;
	}
}

/* Lock held; @off is a 4-aligned dword inside the table or (@pba) the PBA. */
static uint32_t dword_read(struct msix *m, uint64_t off, bool pba)
{
	if (pba)
		return (uint32_t)(m->pba >> (8 * (off - m->pba_off)));
	return *table_dword(m, off - m->table_off);
}

static void dword_write(struct msix *m, uint64_t off, uint32_t val, bool pba)
{
	uint64_t toff = off - m->table_off;
	uint32_t *p;

	/* The PBA is read-only. */
	if (pba)
		return;
	p = table_dword(m, toff);
	/* Vector Control: only the mask bit is defined, the rest reads 0. */
	*p = toff % PCI_MSIX_ENTRY_SIZE == PCI_MSIX_ENTRY_VECTOR_CTRL
		     ? val & PCI_MSIX_ENTRY_CTRL_MASKBIT
		     : val;
	vec_update(m, (unsigned int)(toff / PCI_MSIX_ENTRY_SIZE));
}

/*
 * External mode: a masked vector whose eventfd fired has its message pending. The eventfd is
 * only polled, never read, so wiring it on unmask still delivers it. Lock held.
 */
static uint64_t pba_external(struct msix *m)
{
	uint64_t pba = 0;

	for (unsigned int i = 0; i < m->nvec; i++) {
		struct pollfd pfd = { .fd = m->vec[i].efd, .events = POLLIN };

		if (!m->vec[i].irqfd && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
			pba |= 1ull << i;
	}
	return pba;
}

bool msix_bar_access(struct msix *m, unsigned int bar, uint64_t off, uint8_t *data, uint32_t size,
		     bool write)
{
	uint64_t table_len, region_end;
	bool in_table, in_pba;

	if (!m || (bar != m->table_bar && bar != m->pba_bar) || size == 0)
		return false;
	table_len = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	in_table = bar == m->table_bar && overlaps(off, size, m->table_off, table_len);
	in_pba = bar == m->pba_bar && overlaps(off, size, m->pba_off, MSIX_PBA_LEN);
	if (!in_table && !in_pba)
		return false;
	region_end = in_table ? m->table_off + table_len : m->pba_off + MSIX_PBA_LEN;
	/*
	 * Only aligned DWORD and QWORD accesses wholly inside one structure
	 * are defined (6.8.2); everything else reads 0 and writes nothing.
	 */
	if ((size != 4 && size != 8) || off % size || (in_table && in_pba) ||
	    off < (in_table ? m->table_off : m->pba_off) || off + size > region_end) {
		if (!write)
			memset(data, 0, size);
		return true;
	}
	pthread_mutex_lock(&m->lock);
	if (in_pba && m->external)
		m->pba = pba_external(m);
	for (uint32_t i = 0; i < size; i += 4) {
		if (write)
			dword_write(m, off + i, get_le32(data + i), in_pba);
		else
			put_le32(data + i, dword_read(m, off + i, in_pba));
	}
	pthread_mutex_unlock(&m->lock);
	return true;
}

int msix_notify(struct msix *m, uint16_t vec)
{
	struct msix_vector *v;
	int ret = 0;

	if (!m || vec >= m->nvec)
		return -EINVAL;
	v = &m->vec[vec];
	pthread_mutex_lock(&m->lock);
	if (m->external) {
		/* Whoever is wired (KVM, or nobody while masked) sees the eventfd. */
		uint64_t one = 1;

		if (write(v->efd, &one, sizeof(one)) != sizeof(one))
			ret = -errno;
	} else if (vec_masked(m, v))
		m->pba |= 1ull << vec;
	else
		ret = vec_fire(m, v);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool msix_enabled(struct msix *m)
{
	bool on;

	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

uint16_t msix_nvec(struct msix *m)
{
	return m ? m->nvec : 0;
}

int msix_vector_eventfd(struct msix *m, uint16_t vec)
{
	if (!m || vec >= m->nvec)
		return -EINVAL;
	return m->vec[vec].efd;
}

bool msix_vector_route(struct msix *m, uint16_t vec, uint32_t *gsi, uint64_t *addr, uint32_t *data)
{
	bool routed;

	if (!m || vec >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	routed = m->vec[vec].routed;
	if (gsi)
		*gsi = m->vec[vec].gsi;
	if (addr)
		*addr = m->vec[vec].route_addr;
	if (data)
		*data = m->vec[vec].route_data;
	pthread_mutex_unlock(&m->lock);
	return routed;
}

bool msix_vector_wired(struct msix *m, uint16_t vec)
{
	bool on;

	if (!m || vec >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->external ? m->vec[vec].irqfd : m->vec[vec].routed;
	pthread_mutex_unlock(&m->lock);
	return on;
}

unsigned int msix_cap_offset(struct msix *m)
{
	return m ? m->cap : 0;
}
