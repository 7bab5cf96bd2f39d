// SPDX-License-Identifier: GPL-2.0-only
/* x86_64 VM and vCPU set-up, and guest loading (bzImage, initrd, ACPI, zero page). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "vmm/arch.h"
#include "vmm/exitcode.h"
#include "vmm/irq.h"
#include "vmm/log.h"
#include "vmm/vm.h"

uint64_t arch_mmio_hole_start(void)
{
	return X86_MMIO_HOLE;
}

/*
 * Legacy interrupt routing as on a PC with an IOAPIC: ISA IRQ n reaches PIC
 * pin n and IOAPIC pin n, except that the PIT's IRQ 0 is wired to IOAPIC pin
 * 2. The MADT announces that with an interrupt source override.
 */
static int x86_setup_irq_routing(struct vm *vm)
{
	int ret = 0;

	for (unsigned int i = 0; i < 16 && !ret; i++)
		if (i != 2) /* the cascade */
			ret = vm_irq_route_pin(vm, i,
					       i < 8 ? KVM_IRQCHIP_PIC_MASTER
						     : KVM_IRQCHIP_PIC_SLAVE,
					       i & 7);
	for (unsigned int i = 0; i < 24 && !ret; i++)
		if (i != 2)
			ret = vm_irq_route_pin(vm, i, KVM_IRQCHIP_IOAPIC, i == 0 ? 2 : i);
	if (!ret)
		ret = vm_irq_routes_commit(vm);
	return ret ? KITE_EXIT_KVM : 0;
}

int arch_vm_setup(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = X86_IDENTITY_MAP_ADDR;

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_TSS_ADDR) < 0) {
		log_error("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return KITE_EXIT_KVM;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
		log_error("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		return KITE_EXIT_KVM;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_error("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return KITE_EXIT_KVM;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_error("KVM_CREATE_PIT2: %s", strerror(errno));
		return KITE_EXIT_KVM;
	}
	return x86_setup_irq_routing(vm);
}

static struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd)
{
	for (unsigned int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return NULL;
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

static void x86_fixup_cpuid(struct kvm_cpuid2 *c, unsigned int id, unsigned int ncpus)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id, logical CPU count; mark that a hypervisor runs us. */
			e->ebx = (e->ebx & 0x0000ffff) | (id << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= 1u << 31;
			break;
		case 0xb:
		case 0x1f:
			/* One thread per core, all cores in one package. */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = order_base_2(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = id;
			break;
		default:
			break;
		}
	}
}

static int x86_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0 = (uint32_t *)&lapic.regs[0x350];
	uint32_t *lvt1 = (uint32_t *)&lapic.regs[0x360];

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* LINT0 as ExtINT (the PIC's output), LINT1 as NMI, as on PC firmware hand-off. */
	*lvt0 = (*lvt0 & ~0x700u & ~0x10000u) | (7u << 8);
	*lvt1 = (*lvt1 & ~0x700u & ~0x10000u) | (4u << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static int x86_setup_boot_regs(struct vm *vm, struct vcpu *v)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x10,
		.type = 11,
		.present = 1,
		.dpl = 0,
		.db = 0,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x18,
		.type = 3,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = vm->boot_entry,
		.rsi = vm->boot_param,
		.rsp = X86_BOOT_STACK,
		.rbp = X86_BOOT_STACK,
		.rflags = 0x2,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = X86_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr3 = X86_PML4_ADDR;
	sregs.cr4 = 1u << 5;		     /* PAE */
	sregs.cr0 = 0x80050033;		     /* PG WP NE ET MP PE */
	sregs.efer = (1u << 8) | (1u << 10); /* LME LMA */
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

void arch_vcpu_dump(const struct vcpu *v, int level, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		log_msg(level, "vCPU %u: %s; registers unavailable: %s", v->id, why,
			strerror(errno));
		return;
	}
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		memset(&ev, 0, sizeof(ev));
	log_msg(level,
		"vCPU %u: %s: rip 0x%llx rsp 0x%llx rflags 0x%llx cs 0x%x ss 0x%x cr0 0x%llx "
		"cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx idt 0x%llx/%u gdt 0x%llx/%u tr 0x%x "
		"exception injected=%u nr=%u",
		v->id, why, (unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags, s.cs.selector, s.ss.selector,
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer,
		(unsigned long long)s.idt.base, s.idt.limit, (unsigned long long)s.gdt.base,
		s.gdt.limit, s.tr.selector, ev.exception.injected, ev.exception.nr);
}

int arch_vcpu_setup(struct vm *vm, struct vcpu *v)
{
	struct kvm_cpuid2 *cpuid;
	int ret;

	if (!vm->arch_cpuid)
		vm->arch_cpuid = x86_supported_cpuid(vm->kvm_fd);
	cpuid = vm->arch_cpuid;
	if (!cpuid)
		return KITE_EXIT_KVM;
	/* The fix-ups only touch per-vCPU fields, rewritten for each vCPU. */
	x86_fixup_cpuid(cpuid, v->id, vm->ncpus);
	ret = ioctl(v->fd, KVM_SET_CPUID2, cpuid);
	if (ret < 0) {
		log_error("vCPU %u: KVM_SET_CPUID2: %s", v->id, strerror(errno));
		return KITE_EXIT_KVM;
	}
	ret = x86_setup_lapic(v);
	if (ret) {
		log_error("vCPU %u: LAPIC set-up: %s", v->id, strerror(-ret));
		return KITE_EXIT_KVM;
	}
	/* Application processors wait for INIT/SIPI from the guest, in the in-kernel LAPIC. */
	if (v->id == 0) {
		ret = x86_setup_boot_regs(vm, v);
		if (ret) {
			log_error("vCPU 0: register set-up: %s", strerror(-ret));
			return KITE_EXIT_KVM;
		}
	}
	return 0;
}

/* Reads the start of the kernel file and validates it. Returns an open fd or -1 (logged). */
static int x86_open_kernel(const char *path, uint8_t *hdr, size_t *hdr_len, uint64_t *file_size,
			   struct x86_kernel_info *ki)
{
	const char *why = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("kernel %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("kernel %s: not a regular file", path);
		close(fd);
		return -1;
	}
	n = pread(fd, hdr, X86_BZIMAGE_HDR_LEN, 0);
	if (n < 0) {
		log_error("kernel %s: read: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*hdr_len = (size_t)n;
	*file_size = (uint64_t)st.st_size;
	if (x86_bzimage_parse(hdr, *hdr_len, *file_size, ki, &why)) {
		log_error("kernel %s: %s", path, why);
		close(fd);
		return -1;
	}
	return fd;
}

int arch_probe_kernel(const char *path)
{
	uint8_t hdr[X86_BZIMAGE_HDR_LEN];
	struct x86_kernel_info ki;
	uint64_t size;
	size_t len;
	int fd = x86_open_kernel(path, hdr, &len, &size, &ki);

	if (fd < 0)
		return KITE_EXIT_LOAD;
	close(fd);
	return 0;
}

/* Reads @len bytes at @off of @fd into guest memory at @gpa. */
static int read_into_guest(struct vm *vm, int fd, uint64_t off, uint64_t gpa, uint64_t len)
{
	uint8_t *dst = guest_mem_ptr(&vm->mem, gpa, len);

	if (!dst)
		return -EFAULT;
	while (len) {
		ssize_t n = pread(fd, dst, len > (1u << 30) ? (1u << 30) : len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		dst += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int x86_load_initrd(struct vm *vm, const struct x86_kernel_info *ki, uint64_t kernel_end,
			   uint64_t *addr, uint64_t *size)
{
	const char *path = vm->cfg->initrd;
	uint64_t low_end = vm->mem.regions[0].size;
	struct stat st;
	int fd, ret;

	*addr = *size = 0;
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("initrd %s: %s", path, strerror(errno));
		return KITE_EXIT_LOAD;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("initrd %s: not a regular file", path);
		close(fd);
		return KITE_EXIT_LOAD;
	}
	if (x86_initrd_place(low_end, kernel_end, ki->initrd_addr_max, (uint64_t)st.st_size,
			     addr)) {
		log_error("initrd %s (%llu MiB) does not fit in guest RAM between the kernel's end "
			  "at %llu MiB and %llu MiB; give the VM more --memory",
			  path, (unsigned long long)(st.st_size >> 20),
			  (unsigned long long)(kernel_end >> 20),
			  (unsigned long long)(low_end >> 20));
		close(fd);
		return KITE_EXIT_LOAD;
	}
	*size = (uint64_t)st.st_size;
	ret = read_into_guest(vm, fd, 0, *addr, *size);
	close(fd);
	if (ret) {
		log_error("initrd %s: read: %s", path, strerror(-ret));
		return KITE_EXIT_LOAD;
	}
	return 0;
}

static int x86_build_acpi(struct vm *vm)
{
	static const struct acpi_irq_override overrides[] = {
		{ .source = 0, .gsi = 2, .flags = 0 }, /* PIT: matches x86_setup_irq_routing */
	};
	struct acpi_tables_cfg acfg = {
		.ncpus = vm->ncpus,
		.lapic_addr = X86_LAPIC_ADDR,
		.ioapic_addr = X86_IOAPIC_ADDR,
		.ioapic_id = 0,
		.ioapic_gsi_base = 0,
		.overrides = overrides,
		.noverrides = sizeof(overrides) / sizeof(overrides[0]),
		.sleep_ctl_port = X86_PM_SLEEP_CTL_PORT,
		.sleep_sts_port = X86_PM_SLEEP_STS_PORT,
		.sb_aml = vm->sb_aml.data,
		.sb_aml_len = vm->sb_aml.len,
		.extra = vm->acpi_extra,
		.nextra = vm->nacpi_extra,
	};
	uint8_t *buf = guest_mem_ptr(&vm->mem, X86_ACPI_ADDR, X86_ACPI_SIZE);
	size_t used;
	int ret;

	if (!buf || vm->sb_aml.err)
		return KITE_EXIT_INTERNAL;
	ret = acpi_build_tables(&acfg, X86_ACPI_ADDR, buf, X86_ACPI_SIZE, &used);
	if (ret) {
		log_error("building ACPI tables: %s", strerror(-ret));
		return KITE_EXIT_INTERNAL;
	}
	log_debug("ACPI tables: %zu bytes at 0x%llx", used, (unsigned long long)X86_ACPI_ADDR);
	return 0;
}

/*
 * Linux on a hardware-reduced ACPI machine reboots the "EFI" way, and
 * without EFI that falls through to a jump to the BIOS reset vector
 * (F000:FFF0) in real mode; it never tries the keyboard controller. kite
 * has no BIOS, so the reset vector holds a three-instruction stub that
 * pulses the i8042 reset line, which kite turns into a reset exit.
 */
static int x86_install_reset_stub(struct vm *vm)
{
	static const uint8_t stub[] = {
		0xb0, 0xfe, /* mov al, 0xfe */
		0xe6, 0x64, /* out 0x64, al */
		0xf4,	    /* hlt */
		0xeb, 0xfd, /* jmp back to hlt */
	};

	return guest_mem_write(&vm->mem, X86_RESET_VECTOR, stub, sizeof(stub));
}

int arch_load_guest(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	const char *cmdline = cfg->cmdline ? cfg->cmdline : KITE_DEFAULT_CMDLINE;
	uint8_t hdr[X86_BZIMAGE_HDR_LEN];
	struct x86_kernel_info ki;
	uint64_t file_size, load, initrd_addr, initrd_size, low_end = vm->mem.regions[0].size;
	size_t hdr_len, cmdline_len = strlen(cmdline);
	struct boot_params *bp;
	int fd, ret;

	fd = x86_open_kernel(cfg->kernel, hdr, &hdr_len, &file_size, &ki);
	if (fd < 0)
		return KITE_EXIT_LOAD;
	load = x86_kernel_load_addr(&ki, low_end);
	if (load + ki.init_size > low_end) {
		log_error("kernel %s needs %u MiB from %llu MiB, more than the VM's RAM below the "
			  "MMIO hole; give the VM more --memory",
			  cfg->kernel, ki.init_size >> 20, (unsigned long long)(load >> 20));
		close(fd);
		return KITE_EXIT_LOAD;
	}
	ret = read_into_guest(vm, fd, ki.setup_size, load, ki.pm_size);
	close(fd);
	if (ret) {
		log_error("kernel %s: read: %s", cfg->kernel, strerror(-ret));
		return KITE_EXIT_LOAD;
	}

	if (cmdline_len > ki.cmdline_size || cmdline_len >= X86_CMDLINE_MAX) {
		log_error("kernel command line is %zu bytes; this kernel accepts at most %u",
			  cmdline_len, ki.cmdline_size);
		return KITE_EXIT_USAGE;
	}
	if (guest_mem_write(&vm->mem, X86_CMDLINE_ADDR, cmdline, cmdline_len + 1))
		return KITE_EXIT_INTERNAL;

	ret = x86_load_initrd(vm, &ki, load + ki.init_size, &initrd_addr, &initrd_size);
	if (ret)
		return ret;
	ret = x86_build_acpi(vm);
	if (ret)
		return ret;

	bp = guest_mem_ptr(&vm->mem, X86_ZERO_PAGE, sizeof(*bp));
	if (!bp || x86_setup_boot_tables(&vm->mem) || x86_install_reset_stub(vm))
		return KITE_EXIT_INTERNAL;
	x86_build_zero_page(bp, hdr, hdr_len, &vm->mem, X86_CMDLINE_ADDR, initrd_addr, initrd_size,
			    X86_ACPI_ADDR);
	vm->boot_entry = load + 0x200; /* the 64-bit entry point, startup_64 */
	vm->boot_param = X86_ZERO_PAGE;
	return 0;
}
