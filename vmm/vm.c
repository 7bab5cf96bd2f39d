// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/event_loop.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/seccomp.h"

#define KVM_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return -EINTR */
}

static int kvm_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		log_error("KVM unavailable: %s does not exist (is the kvm module loaded and "
			  "virtualization enabled?)",
			  path);
		break;
	case EACCES:
	case EPERM:
		log_error("KVM unavailable: permission denied opening %s (add yourself to the kvm "
			  "group)",
			  path);
		break;
	default:
		log_error("KVM unavailable: cannot open %s: %s", path, strerror(errno));
	}
	return -1;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
};

int vm_check_cpus(unsigned int ncpus, unsigned int kvm_max)
{
	if (ncpus > kvm_max) {
		fprintf(stderr,
			"kite: error: --cpus %u exceeds this host's KVM limit of %u vCPUs\n", ncpus,
			kvm_max);
		return KITE_EXIT_USAGE;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, const char *kvm_path)
{
	struct kvm_userspace_memory_region region;
	int ret, max;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->exit_efd = -1;
	vm->ncpus = cfg->cpus;
	clock_gettime(CLOCK_MONOTONIC, &vm->start_mono);
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_mutex_init(&vm->memslot_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	aml_buf_init(&vm->sb_aml);

	vm->devloop = event_loop_create();
	if (!vm->devloop)
		return KITE_EXIT_INTERNAL;
	vm->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_efd < 0) {
		log_error("eventfd: %s", strerror(errno));
		return KITE_EXIT_INTERNAL;
	}

	vm->kvm_fd = kvm_open(kvm_path);
	if (vm->kvm_fd < 0)
		return KITE_EXIT_KVM;
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		log_error("KVM unavailable: %s reports API version %d, kite needs %d", kvm_path,
			  ret, KVM_API_VERSION);
		return KITE_EXIT_KVM;
	}
	for (unsigned int i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			log_error("KVM unavailable: missing capability %s", required_caps[i].name);
			return KITE_EXIT_KVM;
		}
	}
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	vm->max_vcpus = max > 0 ? (unsigned int)max : 4;
	ret = vm_check_cpus(cfg->cpus, vm->max_vcpus);
	if (ret)
		return ret;

	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		log_error("KVM unavailable: bad KVM_GET_VCPU_MMAP_SIZE %d", vm->vcpu_mmap_size);
		return KITE_EXIT_KVM;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_error("KVM unavailable: KVM_CREATE_VM: %s", strerror(errno));
		return KITE_EXIT_KVM;
	}

	ret = guest_mem_init_opts(&vm->mem, cfg->memory, arch_mmio_hole_start(), cfg->hugepages);
	if (ret) {
		log_error("cannot allocate %llu MiB of guest memory%s: %s",
			  (unsigned long long)(cfg->memory >> 20),
			  cfg->hugepages
				  ? " from hugetlbfs (reserve pages with sysctl vm.nr_hugepages)"
				  : "",
			  strerror(-ret));
		return KITE_EXIT_INTERNAL;
	}
	for (unsigned int i = 0; i < vm->mem.nregions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];

		region = (struct kvm_userspace_memory_region){
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			log_error("KVM_SET_USER_MEMORY_REGION slot %u (gpa 0x%llx, %llu MiB): %s",
				  i, (unsigned long long)r->gpa,
				  (unsigned long long)(r->size >> 20), strerror(errno));
			return KITE_EXIT_INTERNAL;
		}
	}
	return arch_vm_setup(vm);
}

int vm_create_vcpus(struct vm *vm)
{
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return KITE_EXIT_INTERNAL;
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		void *run;
		int ret;

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			log_error("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return KITE_EXIT_KVM;
		}
		run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   v->fd, 0);
		if (run == MAP_FAILED) {
			log_error("mmap of vCPU %u run area: %s", i, strerror(errno));
			return KITE_EXIT_INTERNAL;
		}
		v->run = run;
		ret = arch_vcpu_setup(vm, v);
		if (ret)
			return ret;
	}
	return 0;
}

void vm_request_exit(struct vm *vm, int code, const char *reason)
{
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&vm->exit_lock);
	first = !vm->exiting;
	if (first) {
		if (!vm->exit_deferred) {
			vm->exit_code = code;
			vm->exit_reason = reason;
		}
		__atomic_store_n(&vm->exiting, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->exit_lock);
	if (!first)
		return;
	/* Parked vCPUs and a waiting vm_pause must see it. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	if (write(vm->exit_efd, &one, sizeof(one)) < 0)
		log_warn("exit eventfd: %s", strerror(errno));
	/* Kick every vCPU out of KVM_RUN; immediate_exit covers a vCPU about to enter it. */
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (v->thread_started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, KVM_KICK_SIGNAL);
	}
}

void vm_request_exit_drained(struct vm *vm, int code, const char *reason)
{
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&vm->exit_lock);
	first = !vm->exiting && !vm->exit_deferred;
	if (first) {
		vm->exit_code = code;
		vm->exit_reason = reason;
		vm->exit_deferred = true;
	}
	pthread_mutex_unlock(&vm->exit_lock);
	/* Wakes the main loop, which starts watching the consoles. */
	if (first && write(vm->exit_efd, &one, sizeof(one)) < 0)
		log_warn("exit eventfd: %s", strerror(errno));
}

bool vm_exit_is_draining(struct vm *vm)
{
	bool d;

	pthread_mutex_lock(&vm->exit_lock);
	d = vm->exit_deferred && !vm->exiting;
	pthread_mutex_unlock(&vm->exit_lock);
	return d;
}

static bool vm_is_exiting(struct vm *vm)
{
	/* Lock-free: polled on every exit on the vCPU hot path. */
	return __atomic_load_n(&vm->exiting, __ATOMIC_ACQUIRE);
}

double vm_elapsed_ms(const struct vm *vm)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - vm->start_mono.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - vm->start_mono.tv_nsec) / 1e6;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		log_warn("KVM_IRQ_LINE gsi %u level %d: %s", gsi, level, strerror(errno));
		return -errno;
	}
	return 0;
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t size = run->io.size;

	/* KVM guarantees data_offset/size/count describe a buffer inside the run page. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		int ret;

		if (run->io.direction == KVM_EXIT_IO_OUT)
			ret = bus_write(&v->vm->pio, run->io.port, data, size);
		else
			ret = bus_read(&v->vm->pio, run->io.port, data, size);
		if (ret && log_get_level() >= LOG_DEBUG)
			log_debug("vCPU %u: unclaimed port %s 0x%x size %u", v->id,
				  run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
				  run->io.port, size);
	}
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void log_startup_cost(struct vcpu *v)
{
	struct timespec cpu;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	log_info("startup: %.3f ms CPU before first KVM_RUN (%.3f ms wall)",
		 (double)cpu.tv_sec * 1e3 + (double)cpu.tv_nsec / 1e6, vm_elapsed_ms(v->vm));
}

static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	/* vm_pause set it to get us out of KVM_RUN; an exit request sets `exiting` first. */
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	vm->nparked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE) && !vm_is_exiting(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nparked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void vcpu_kick_all(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (v->thread_started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, KVM_KICK_SIGNAL);
	}
}

int vm_pause(struct vm *vm)
{
	unsigned int nstarted = 0;
	int ret = 0;

	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++)
		nstarted += vm->vcpus[i].thread_started;
	__atomic_store_n(&vm->pause_req, true, __ATOMIC_RELEASE);
	vcpu_kick_all(vm);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nparked < nstarted && !vm_is_exiting(vm)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		/* Re-kick on a timeout: a vCPU may have re-entered KVM_RUN before the flag. */
		if (pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&vm->pause_lock);
			vcpu_kick_all(vm);
			pthread_mutex_lock(&vm->pause_lock);
		}
	}
	if (vm_is_exiting(vm))
		ret = -ESHUTDOWN;
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret) {
		__atomic_store_n(&vm->pause_req, false, __ATOMIC_RELEASE);
		return ret;
	}
	event_loop_pause(vm->devloop);
	return 0;
}

void vm_resume(struct vm *vm)
{
	event_loop_resume(vm->devloop);
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_req, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_add_device(struct vm *vm, const char *name, int pci_slot, struct dev_metrics *m)
{
	if (vm->ndevices == VM_MAX_DEVICES)
		return -ENOSPC;
	vm->devices[vm->ndevices++] = (struct vm_device){ .name = name,
							  .pci_slot = pci_slot,
							  .metrics = m };
	return 0;
}

void vm_notify_data(struct vm *vm, enum vm_event ev, const void *data)
{
	if (vm->event_fn)
		vm->event_fn(vm->event_opaque, ev, data);
}

void vm_notify(struct vm *vm, enum vm_event ev)
{
	vm_notify_data(vm, ev, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	bool timed_out;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "kite-vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (v->id == 0)
		log_startup_cost(v);
	/* Set-up is done: from here on the thread serves the guest, under its filter. */
	if (kite_seccomp_enter(KITE_THREAD_VCPU)) {
		vm_request_exit(vm, KITE_EXIT_INTERNAL, "seccomp");
		return NULL;
	}
#ifdef KITE_TEST_HOOKS
	/* Test-only: vCPU 0 makes a system call no filter allows (tests/harness/scenarios). */
	if (v->id == 0 && getenv("KITE_TEST_SECCOMP_VIOLATE"))
		syscall(SYS_acct, NULL);
#endif
	while (!vm_is_exiting(vm)) {
		int ret;

		if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE)) {
			vcpu_park(v);
			continue;
		}
		ret = ioctl(v->fd, KVM_RUN, 0);

		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error("vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			vm_request_exit(vm, KITE_EXIT_INTERNAL, "kvm-run-failed");
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			vcpu_handle_io(v);
			break;
		case KVM_EXIT_MMIO:
			vcpu_handle_mmio(v);
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; treat as an idle spin. */
			break;
		case KVM_EXIT_SHUTDOWN:
			arch_vcpu_dump(v, LOG_ERROR, "triple fault (KVM_EXIT_SHUTDOWN)");
			vm_request_exit(vm, KITE_EXIT_SHUTDOWN, "shutdown");
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (v->run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				vm_request_exit(vm, KITE_EXIT_RESET, "reset");
			else if (v->run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				vm_request_exit(vm, KITE_EXIT_POWEROFF, "poweroff");
			else
				vm_request_exit(vm, KITE_EXIT_SHUTDOWN, "system-event");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			log_error("vCPU %u: KVM entry failed, hardware reason 0x%llx", v->id,
				  (unsigned long long)
					  v->run->fail_entry.hardware_entry_failure_reason);
			arch_vcpu_dump(v, LOG_ERROR, "entry failed");
			vm_request_exit(vm, KITE_EXIT_SHUTDOWN, "entry-failed");
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			log_error("vCPU %u: KVM internal error, suberror %u", v->id,
				  v->run->internal.suberror);
			vm_request_exit(vm, KITE_EXIT_SHUTDOWN, "internal-error");
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			log_error("vCPU %u: unexpected KVM exit reason %u", v->id,
				  v->run->exit_reason);
			vm_request_exit(vm, KITE_EXIT_SHUTDOWN, "unexpected-exit");
			break;
		}
	}
	/* A guest stopped by --timeout: say where each vCPU was (a hung guest's only trace). */
	pthread_mutex_lock(&vm->exit_lock);
	timed_out = vm->exit_code == KITE_EXIT_TIMEOUT;
	pthread_mutex_unlock(&vm->exit_lock);
	if (timed_out)
		arch_vcpu_dump(v, LOG_WARN, "still running at the timeout");
	return NULL;
}

int vm_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	pthread_attr_t attr;

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the kick must interrupt KVM_RUN. */
	sigaction(KVM_KICK_SIGNAL, &sa, NULL);
	pthread_attr_init(&attr);
	/* vCPU threads run little userspace code; a small stack keeps RSS down. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret;

		pthread_mutex_lock(&vm->exit_lock);
		ret = pthread_create(&v->thread, &attr, vcpu_thread, v);
		v->thread_started = ret == 0;
		pthread_mutex_unlock(&vm->exit_lock);
		if (ret) {
			log_error("cannot start vCPU %u thread: %s", i, strerror(ret));
			pthread_attr_destroy(&attr);
			vm_request_exit(vm, KITE_EXIT_INTERNAL, "thread");
			return KITE_EXIT_INTERNAL;
		}
	}
	pthread_attr_destroy(&attr);
	if (event_loop_start(vm->devloop)) {
		vm_request_exit(vm, KITE_EXIT_INTERNAL, "thread");
		return KITE_EXIT_INTERNAL;
	}
	return 0;
}

void vm_join(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started)
			continue;
		/* Re-kick until it leaves: a vCPU may have re-entered KVM_RUN once. */
		while (pthread_tryjoin_np(v->thread, NULL) == EBUSY) {
			pthread_kill(v->thread, KVM_KICK_SIGNAL);
			usleep(1000);
		}
		v->thread_started = false;
	}
}

int vm_own(struct vm *vm, void (*fn)(void *), void *arg)
{
	if (vm->ncleanups == VM_MAX_CLEANUPS)
		return -ENOSPC;
	vm->cleanups[vm->ncleanups++] = (struct vm_cleanup){ .fn = fn, .arg = arg };
	return 0;
}

int vm_add_acpi_table(struct vm *vm, const uint8_t *data, size_t len)
{
	uint8_t *copy;

	if (vm->nacpi_extra == sizeof(vm->acpi_extra) / sizeof(vm->acpi_extra[0]))
		return -ENOSPC;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	vm->acpi_extra[vm->nacpi_extra++] = (struct acpi_extra_table){ .data = copy, .len = len };
	return 0;
}

void vm_destroy(struct vm *vm)
{
	vm_join(vm);
	/* Devices go after the thread that calls into them. */
	event_loop_destroy(vm->devloop);
	vm->devloop = NULL;
	while (vm->ncleanups) {
		struct vm_cleanup *c = &vm->cleanups[--vm->ncleanups];

		c->fn(c->arg);
	}
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, (size_t)vm->vcpu_mmap_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	free(vm->arch_cpuid);
	vm->arch_cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	guest_mem_destroy(&vm->mem);
	aml_buf_free(&vm->sb_aml);
	while (vm->nacpi_extra)
		free((void *)vm->acpi_extra[--vm->nacpi_extra].data);
	vm_irq_routes_free(vm);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_mutex_destroy(&vm->memslot_lock);
	pthread_cond_destroy(&vm->pause_cond);
	vm->vm_fd = vm->kvm_fd = vm->exit_efd = -1;
}
