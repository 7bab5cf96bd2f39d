/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the platform fuzz targets: kite's device set on a struct vm without KVM
 * (vm_fd -1, so irq lines, irqfds and ioeventfds are no-ops), assembled the way the
 * builder does it: the legacy devices on the port bus (UART, i8042, debug-exit, pvpanic,
 * boot timer, ACPI PM, GED), the PCI host bridge with ECAM, and virtio-blk (on a memfd),
 * virtio-net (a socketpair for the tap), virtio-console and virtio-rng on it. Guest
 * accesses go through bus_read/bus_write on vm->pio and vm->mmio, which is what a vCPU's
 * KVM_EXIT_IO / KVM_EXIT_MMIO handler calls.
 *
 * Each target repeats FZ_PLATFORM_SOURCES (below) on its own fuzz-sources lines, which is
 * where tests/fuzz/run reads them.
 *
 * The VM is built once (LLVMFuzzerInitialize); each input starts by clearing the exit
 * request, so a device that asked to stop the VM keeps being fuzzed.
 */
#ifndef KITE_FUZZ_PLATFORM_H
#define KITE_FUZZ_PLATFORM_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "devices/legacy/legacy.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/arch.h"
#include "vmm/event_loop.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define FZ_RAM (1024 * 1024)
#define FZ_MMIO64 (1ULL << 32)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm fz_vm;
static struct vm_config fz_cfg;
static struct pci_bus *fz_bus;
static struct uart8250 *fz_uart;
static int fz_net_peer;

/* Every slot the bus has filled: host bridge, blk, net, console, rng. */
#define FZ_SLOTS 5

/* vm.c's KVM set-up is never called here; arch/ is not linked in. */
uint64_t arch_mmio_hole_start(void)
{
	abort();
}

int arch_vm_setup(struct vm *vm)
{
	abort();
}

int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu)
{
	abort();
}

void arch_vcpu_dump(const struct vcpu *vcpu, int level, const char *why)
{
	abort();
}

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz set-up failed: %s\n", what);
	abort();
}

/* @extra (may be NULL) adds a target's own devices to the bus before it is finalized. */
static void fz_platform_init(void (*extra)(void))
{
	const struct pci_bus_layout layout = {
		.ecam_base = X86_PCI_ECAM_BASE,
		.mmio32_base = X86_PCI_MMIO32_BASE,
		.mmio32_size = X86_PCI_MMIO32_SIZE,
		.mmio64_base = FZ_MMIO64,
		.mmio64_size = X86_PCI_MMIO64_SIZE,
	};
	struct virtio_dev *vdev;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), img, sv[2];
	char path[64];

	/* Errors a hostile guest can cause are logged once each; keep libFuzzer's output. */
	log_set_level(LOG_ERROR);
	memset(&fz_vm, 0, sizeof(fz_vm));
	fz_vm.cfg = &fz_cfg;
	fz_vm.kvm_fd = fz_vm.vm_fd = -1;
	pthread_mutex_init(&fz_vm.exit_lock, NULL);
	pthread_mutex_init(&fz_vm.pause_lock, NULL);
	pthread_cond_init(&fz_vm.pause_cond, NULL);
	bus_init(&fz_vm.pio, "pio");
	bus_init(&fz_vm.mmio, "mmio");
	aml_buf_init(&fz_vm.sb_aml);
	fz_vm.exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fz_vm.devloop = event_loop_create(); /* never started: handlers run only when called */
	if (devnull < 0 || fz_vm.exit_efd < 0 || !fz_vm.devloop ||
	    guest_mem_init(&fz_vm.mem, FZ_RAM, X86_MMIO_HOLE))
		fz_die("vm");

	fz_uart = uart8250_create(&fz_vm, X86_COM1_PORT, X86_COM1_IRQ, devnull);
	if (!fz_uart || i8042_init(&fz_vm, X86_I8042_PORT) ||
	    debug_exit_init(&fz_vm, X86_DEBUG_EXIT_PORT) ||
	    pvpanic_init(&fz_vm, X86_PVPANIC_PORT) ||
	    boot_timer_init(&fz_vm, X86_BOOT_TIMER_PORT) ||
	    acpi_pm_init(&fz_vm, X86_PM_SLEEP_CTL_PORT, X86_PM_SLEEP_STS_PORT) ||
	    ged_init(&fz_vm, X86_GED_GSI))
		fz_die("legacy devices");

	fz_bus = pci_bus_create(&fz_vm, &layout);
	img = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (!fz_bus || img < 0 || ftruncate(img, 64 * 1024) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		fz_die("pci");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
	fz_net_peer = sv[1];
	if (virtio_blk_create(&fz_vm, fz_bus, path, &(const struct virtio_blk_opts){ 0 }))
		fz_die("blk");
	if (virtio_net_new(&fz_vm.mem, sv[0], (const uint8_t *)"\x02\0\0\0\0\1", &vdev) ||
	    virtio_pci_attach(&fz_vm, fz_bus, vdev))
		fz_die("net");
	if (virtio_console_create(&fz_vm, fz_bus, -1, devnull) || virtio_rng_create(&fz_vm, fz_bus))
		fz_die("console, rng");
	if (extra)
		extra();
	if (pci_bus_finalize(fz_bus))
		fz_die("finalize");
}

/* Before each input: the VM is running again, whatever the last input asked for. */
static inline void fz_platform_rearm(void)
{
	uint64_t v;

	fz_vm.exiting = false;
	fz_vm.exit_deferred = false;
	if (read(fz_vm.exit_efd, &v, sizeof(v)) < 0) {
		/* nothing was pending */
	}
}

/* Guest accesses, as the vCPU exit handlers make them. */
static inline void fz_pio(uint16_t port, bool write, uint32_t size, uint32_t val)
{
	uint8_t d[4];

	put_le32(d, val);
	if (write)
		bus_write(&fz_vm.pio, port, d, size);
	else
		bus_read(&fz_vm.pio, port, d, size);
}

static inline uint64_t fz_mmio(uint64_t addr, bool write, uint32_t size, uint64_t val)
{
	uint8_t d[8] = { 0 };

	put_le64(d, val);
	if (write)
		bus_write(&fz_vm.mmio, addr, d, size);
	else
		bus_read(&fz_vm.mmio, addr, d, size);
	return get_le64(d);
}

static inline uint64_t fz_ecam(unsigned int slot, unsigned int fn, unsigned int reg)
{
	return X86_PCI_ECAM_BASE + ((uint64_t)slot << 15) + ((uint64_t)fn << 12) + reg;
}

/* Byte-sized reader of the fuzz input. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fz_u8(in) << (8 * i);
	return v;
}

/* Access width: mostly 1, 2, 4 (8 for MMIO); now and then the odd sizes KVM never sends. */
static inline uint32_t fz_width(uint8_t b, bool mmio)
{
	static const uint32_t w[8] = { 1, 2, 4, 8, 1, 2, 4, 3 };
	uint32_t s = w[b & 7];

	return !mmio && s > 4 ? 4 : s;
}

#endif
