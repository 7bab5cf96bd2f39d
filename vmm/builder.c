// SPDX-License-Identifier: GPL-2.0-only
/* The VM builder: the only place that knows the full device set. */
#include "vmm/builder.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/legacy/legacy.h"
#include "devices/pci/pci.h"
#include "devices/vfio/vfio.h"
#include "devices/virtio/virtio.h"
#include "iommu/mock_backend.h"
#include "iommu/vtd/vtd.h"
#include "vmm/arch.h"
#include "vmm/config_fd.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/util.h"

static int build_legacy(struct vm *vm, int serial_fd, struct uart8250 **uart)
{
	*uart = uart8250_create(vm, X86_COM1_PORT, X86_COM1_IRQ, serial_fd);
	if (!*uart)
		return KITE_EXIT_DEVICE;
	if (i8042_init(vm, X86_I8042_PORT) || debug_exit_init(vm, X86_DEBUG_EXIT_PORT) ||
	    pvpanic_init(vm, X86_PVPANIC_PORT) || boot_timer_init(vm, X86_BOOT_TIMER_PORT) ||
	    acpi_pm_init(vm, X86_PM_SLEEP_CTL_PORT, X86_PM_SLEEP_STS_PORT) ||
	    ged_init(vm, X86_GED_GSI))
		return KITE_EXIT_DEVICE;
	return 0;
}

/* epoll refuses regular files and /dev/null: such a stdin simply gives the guest no input. */
static bool fd_pollable(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	bool ok;

	if (ep < 0)
		return false;
	ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	close(ep);
	return ok;
}

/* fd=NAME devices: the registry (vmm/config_fd.h) lends a duplicate the device then owns. */
static int build_fd_disk(struct vm *vm, struct pci_bus *bus, const struct disk_config *d)
{
	const struct virtio_blk_opts o = { .readonly = d->readonly, .direct = d->cache_none };
	char label[FD_NAME_MAX + 3];
	int fd = config_fd_open(vm->cfg, d->fd_name, "disk");

	snprintf(label, sizeof(label), "fd=%s", d->fd_name);
	return fd < 0 ? fd : virtio_blk_create_fd(vm, bus, fd, label, &o);
}

static int build_disk(struct vm *vm, struct pci_bus *bus, const struct disk_config *d)
{
	const struct virtio_blk_opts o = { .readonly = d->readonly, .direct = d->cache_none };

	return d->fd_name ? build_fd_disk(vm, bus, d) : virtio_blk_create(vm, bus, d->path, &o);
}

static int build_fd_net(struct vm *vm, struct pci_bus *bus, const struct net_config *n)
{
	char label[FD_NAME_MAX + 3];
	int fd = config_fd_open(vm->cfg, n->fd_name, "net");

	snprintf(label, sizeof(label), "fd=%s", n->fd_name);
	return fd < 0 ? fd : virtio_net_create_fd(vm, bus, fd, label, n->has_mac ? n->mac : NULL);
}

static int build_pci(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	const struct guest_mem_region *top = &vm->mem.regions[vm->mem.nregions - 1];
	struct pci_bus_layout layout = {
		.ecam_base = X86_PCI_ECAM_BASE,
		.mmio32_base = X86_PCI_MMIO32_BASE,
		.mmio32_size = X86_PCI_MMIO32_SIZE,
		/* Above all RAM (and never below 4 GiB), 1 GiB aligned. */
		.mmio64_base = ALIGN_UP(top->gpa + top->size > (1ULL << 32) ? top->gpa + top->size
									    : (1ULL << 32),
					1ULL << 30),
		.mmio64_size = X86_PCI_MMIO64_SIZE,
		.io_base = X86_PCI_IO_BASE,
		.io_size = X86_PCI_IO_SIZE,
	};
	struct pci_bus *bus = pci_bus_create(vm, &layout);

	if (!bus)
		return KITE_EXIT_DEVICE;
	/* Slot order follows this sequence, so a given command line always gives the same slots. */
	for (unsigned int i = 0; i < cfg->ndisks; i++)
		if (build_disk(vm, bus, &cfg->disks[i]))
			return KITE_EXIT_DEVICE;
	for (unsigned int i = 0; i < cfg->nnets; i++)
		if (cfg->nets[i].fd_name
			    ? build_fd_net(vm, bus, &cfg->nets[i])
			    : virtio_net_create(vm, bus, cfg->nets[i].tap,
						cfg->nets[i].has_mac ? cfg->nets[i].mac : NULL))
			return KITE_EXIT_DEVICE;
	/* With a virtio console, stdin belongs to it rather than to the UART. */
	if (cfg->console == CONSOLE_VIRTIO &&
	    virtio_console_create(vm, bus,
				  cfg->serial == SERIAL_STDIO && fd_pollable(STDIN_FILENO)
					  ? STDIN_FILENO
					  : -1,
				  STDOUT_FILENO))
		return KITE_EXIT_DEVICE;
	if (cfg->rng && virtio_rng_create(vm, bus))
		return KITE_EXIT_DEVICE;
	if (vfio_build(vm, bus))
		return KITE_EXIT_DEVICE;
#ifdef KITE_TEST_HOOKS
	/* Test-only: a mock host device behind one guest device (KITE_TEST_VTD_MOCK). */
	int mock = mock_backend_setup(vm, bus);
	if (mock)
		return mock;
#endif
	if (pci_bus_finalize(bus))
		return KITE_EXIT_DEVICE;
	return 0;
}

/*
 * --iommu vtd: the unit exists before any PCI device, so each one gets its DMA space from it
 * (vm->dma_provider). mode=nested needs a host VT-d that can nest behind a host-backed
 * device; kite checks that with IOMMU_GET_HW_INFO per device, and a VM without one has none.
 */
static int build_iommu(struct vm *vm)
{
	const struct iommu_config *c = &vm->cfg->iommu;
	struct vtd_params p = { .scalable = c->scalable, .aw = c->aw };

	if (c->kind != IOMMU_VTD)
		return 0;
	switch (c->mode) {
	case IOMMU_MODE_NESTED:
		log_error(
			"--iommu vtd,mode=nested: not available: kite has no nesting over a host "
			"VT-d (IOMMU_HWPT_DATA_VTD_S1 on a host with ECAP.NEST); use mode=shadow");
		return KITE_EXIT_DEVICE;
	case IOMMU_MODE_SHADOW:
		p.mode = VTD_MODE_SHADOW;
		break;
	default:
		/* auto: a VFIO device needs its IOAS shadowed (nesting is not built). */
		if (c->mode == IOMMU_MODE_AUTO && vm->cfg->nvfio) {
			p.mode = VTD_MODE_SHADOW;
			log_info("vtd: mode=auto picks shadow: %u VFIO device(s), no nesting",
				 vm->cfg->nvfio);
			break;
		}
		/* auto without host-backed devices: kite does all DMA, so nothing needs CM. */
		p.mode = VTD_MODE_EMULATED;
		if (c->mode == IOMMU_MODE_AUTO)
			log_info("vtd: mode=auto picks emulated: no host-backed device");
		break;
	}
	return vtd_create(vm, &p) ? 0 : KITE_EXIT_DEVICE;
}

static int finalize_iommu(struct vm *vm)
{
	struct vtd *v = vtd_of_vm(vm);

	return v && vtd_finalize(v) ? KITE_EXIT_DEVICE : 0;
}

int vm_build(struct vm *vm, int serial_fd, struct uart8250 **uart)
{
	int ret = build_legacy(vm, serial_fd, uart);

	if (!ret)
		ret = build_iommu(vm);
	if (!ret)
		ret = build_pci(vm);
	if (!ret)
		ret = finalize_iommu(vm);
	if (!ret)
		ret = arch_load_guest(vm);
	if (!ret)
		ret = vm_create_vcpus(vm);
	return ret;
}
