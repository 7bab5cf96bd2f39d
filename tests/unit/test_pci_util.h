/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the PCI and MSI-X tests: a struct vm without KVM (vm_fd -1) that
 * still has the MMIO bus, the DSDT fragment buffer and the ACPI table list,
 * and guest-style accessors that go through that bus.
 */
#ifndef KITE_TESTS_UNIT_TEST_PCI_UTIL_H
#define KITE_TESTS_UNIT_TEST_PCI_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define T_ECAM 0xe0000000ull
#define T_MMIO32 0xc0000000ull
#define T_MMIO32_SIZE 0x20000000ull
#define T_MMIO64 0x400000000ull
#define T_MMIO64_SIZE (64ull << 30)

static inline void test_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->exit_efd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->memslot_lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	aml_buf_init(&vm->sb_aml);
}

static inline struct pci_bus_layout test_layout(void)
{
	return (struct pci_bus_layout){
		.ecam_base = T_ECAM,
		.mmio32_base = T_MMIO32,
		.mmio32_size = T_MMIO32_SIZE,
		.mmio64_base = T_MMIO64,
		.mmio64_size = T_MMIO64_SIZE,
	};
}

static inline uint64_t test_ecam_addr(unsigned int slot, unsigned int fn, unsigned int reg)
{
	return T_ECAM + ((uint64_t)slot << 15) + ((uint64_t)fn << 12) + reg;
}

static inline uint64_t test_mmio_read(struct vm *vm, uint64_t addr, uint32_t size)
{
	uint8_t d[8] = { 0 };

	bus_read(&vm->mmio, addr, d, size);
	return get_le64(d) & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
}

static inline void test_mmio_write(struct vm *vm, uint64_t addr, uint32_t size, uint64_t v)
{
	uint8_t d[8];

	put_le64(d, v);
	bus_write(&vm->mmio, addr, d, size);
}

static inline uint32_t test_cfg_read(struct vm *vm, unsigned int slot, unsigned int reg,
				     uint32_t size)
{
	return (uint32_t)test_mmio_read(vm, test_ecam_addr(slot, 0, reg), size);
}

static inline void test_cfg_write(struct vm *vm, unsigned int slot, unsigned int reg, uint32_t size,
				  uint32_t v)
{
	test_mmio_write(vm, test_ecam_addr(slot, 0, reg), size, v);
}

/* Config offset of the first capability with @id, or 0; fails the test on a broken chain. */
static inline unsigned int test_find_cap(struct pci_device *dev, uint8_t id)
{
	unsigned int off, hops = 0;

	if (!(pci_config_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	for (off = pci_config_read(dev, PCI_CAPABILITY_LIST, 1); off; hops++) {
		cr_assert(off >= 0x40 && off <= 0xfc && off % 4 == 0, "bad capability offset 0x%x",
			  off);
		cr_assert(hops < 48, "capability loop");
		if (pci_config_read(dev, off, 1) == id)
			return off;
		off = pci_config_read(dev, off + 1, 1);
	}
	return 0;
}

/* Value an eventfd accumulated since the last call (0 if none). */
static inline uint64_t test_efd_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v)) {
		cr_assert_eq(errno, EAGAIN);
		return 0;
	}
	return v;
}

/*
 * A test endpoint that records what reaches it: BAR accesses, remaps, config writes.
 */
#define TDEV_MAX_EVENTS 64

struct tdev {
	struct pci_device pci;
	unsigned int nremap;
	unsigned int remap_bar[TDEV_MAX_EVENTS];
	uint64_t remap_addr[TDEV_MAX_EVENTS];
	unsigned int nread, nwrite, ncfg;
	unsigned int last_bar;
	uint64_t last_off, last_val;
	uint32_t last_size;
	uint32_t cfg_off, cfg_size, cfg_val;
};

/* Reads return (bar << 56 | offset) so a test sees which BAR and offset were hit. */
static inline void tdev_bar_read(struct pci_device *dev, unsigned int bar, uint64_t off,
				 uint8_t *data, uint32_t size)
{
	struct tdev *t = container_of(dev, struct tdev, pci);
	uint8_t v[8];

	t->nread++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_size = size;
	put_le64(v, (uint64_t)bar << 56 | off);
	memcpy(data, v, size);
}

static inline void tdev_bar_write(struct pci_device *dev, unsigned int bar, uint64_t off,
				  const uint8_t *data, uint32_t size)
{
	struct tdev *t = container_of(dev, struct tdev, pci);
	uint8_t v[8] = { 0 };

	t->nwrite++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_size = size;
	memcpy(v, data, size);
	t->last_val = get_le64(v);
}

static inline void tdev_bar_remap(struct pci_device *dev, unsigned int bar, uint64_t addr)
{
	struct tdev *t = container_of(dev, struct tdev, pci);

	/* A ring: hostile tests remap far more often than anyone looks. */
	t->remap_bar[t->nremap % TDEV_MAX_EVENTS] = bar;
	t->remap_addr[t->nremap % TDEV_MAX_EVENTS] = addr;
	t->nremap++;
}

static inline void tdev_config_write(struct pci_device *dev, uint32_t off, uint32_t size,
				     uint32_t val)
{
	struct tdev *t = container_of(dev, struct tdev, pci);

	t->ncfg++;
	t->cfg_off = off;
	t->cfg_size = size;
	t->cfg_val = val;
}

static const struct pci_device_ops tdev_ops = {
	.bar_read = tdev_bar_read,
	.bar_write = tdev_bar_write,
	.bar_remap = tdev_bar_remap,
	.config_write = tdev_config_write,
};

static inline void tdev_init(struct tdev *t)
{
	memset(t, 0, sizeof(*t));
	pci_device_init(&t->pci, &tdev_ops, t, "tdev", 0x1af4, 0x1042, 0x010000, 0x01, 0x1af4,
			0x1100);
}

#endif
