// SPDX-License-Identifier: GPL-2.0-only
/* kite's top level: command line to exit status, and the main thread's event loop. */
#include "vmm/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/legacy/legacy.h"
#include "vmm/api/api.h"
#include "vmm/arch.h"
#include "vmm/builder.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

#ifndef KITE_VERSION
#define KITE_VERSION "0.1.0"
#endif

#define ESCAPE_CHAR 0x01 /* Ctrl-A, then 'x' quits, as in QEMU's -nographic */

/*
 * The controlling terminal is process-wide state, and the fatal-signal
 * handler that must restore it can only reach it through a static.
 */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

static void terminal_restore(void)
{
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
		termios_saved = 0;
	}
}

static void fatal_signal_handler(int sig)
{
	terminal_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void terminal_raw(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios))
		return;
	raw = saved_termios;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* kite's own log lines still start at column 0 */
	termios_saved = 1;
	for (unsigned int i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal_handler);
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static int open_serial_out(const struct vm_config *cfg)
{
	int fd;

	switch (cfg->serial) {
	case SERIAL_STDIO:
		return STDOUT_FILENO;
	case SERIAL_NONE:
		return -1;
	case SERIAL_FILE:
		fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			log_error("serial output file %s: %s", cfg->serial_path, strerror(errno));
		return fd < 0 ? -2 : fd;
	}
	return -1;
}

static int check_initrd(const char *path)
{
	struct stat st;

	if (!path)
		return 0;
	if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
		log_error("initrd %s: %s", path, strerror(errno));
		return KITE_EXIT_LOAD;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("initrd %s: not a regular file", path);
		return KITE_EXIT_LOAD;
	}
	return 0;
}

struct main_loop {
	struct vm *vm;
	struct uart8250 *uart;
	int epfd, sigfd, timerfd;
	bool stdin_open;
	bool stdin_escape;
	uint8_t pending[256];
	size_t npending, pending_off;
	/* A drained exit (pvpanic) is waiting for the consoles to go quiet. */
	bool draining;
	uint64_t drain_seen;
	double drain_start_ms, drain_quiet_ms;
};

/*
 * A drained exit stops the VM once the guest's consoles have been quiet for DRAIN_QUIET_MS
 * and the UART's buffer is written out, or after DRAIN_MAX_MS whatever the guest does.
 */
#define DRAIN_QUIET_MS 150.0
#define DRAIN_MAX_MS 2000.0
#define DRAIN_POLL_MS 20

/* Called on every main-loop turn while draining. */
static void loop_drain(struct main_loop *l)
{
	uint64_t seen = __atomic_load_n(&l->vm->console_out, __ATOMIC_RELAXED);
	double now = vm_elapsed_ms(l->vm);

	if (seen != l->drain_seen) {
		l->drain_seen = seen;
		l->drain_quiet_ms = now;
	}
	if ((now - l->drain_quiet_ms >= DRAIN_QUIET_MS &&
	     !(l->uart && uart8250_tx_pending(l->uart))) ||
	    now - l->drain_start_ms >= DRAIN_MAX_MS) {
		l->draining = false;
		/* The deferred request's code and reason stand. */
		vm_request_exit(l->vm, KITE_EXIT_INTERNAL, "drain");
	}
}

static int loop_add(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Forwards buffered stdin to the UART as far as its FIFO allows; handles Ctrl-A x. */
static void loop_flush_input(struct main_loop *l)
{
	while (l->pending_off < l->npending) {
		uint8_t c = l->pending[l->pending_off];

		if (l->stdin_escape) {
			l->stdin_escape = false;
			if (c == 'x') {
				vm_request_exit(l->vm, KITE_EXIT_SIGNAL, "escape");
				l->pending_off = l->npending;
				return;
			}
		} else if (c == ESCAPE_CHAR && termios_saved) {
			l->stdin_escape = true;
			l->pending_off++;
			continue;
		}
		if (!uart8250_push_input(l->uart, &c, 1))
			return; /* FIFO full: retry when the guest has drained it */
		l->pending_off++;
	}
	l->npending = l->pending_off = 0;
}

static int main_loop_run(struct main_loop *l)
{
	struct vm *vm = l->vm;

	for (;;) {
		struct epoll_event evs[4];
		int timeout = l->pending_off < l->npending ? 10 : l->draining ? DRAIN_POLL_MS : -1;
		int n = epoll_wait(l->epfd, evs, 4, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			vm_request_exit(vm, KITE_EXIT_INTERNAL, "event-loop");
			return 0;
		}
		if (l->pending_off < l->npending)
			loop_flush_input(l);
		if (l->draining)
			loop_drain(l);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == vm->exit_efd) {
				uint64_t v;

				/* Consumed, so a drain does not spin; a stop writes it again. */
				if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_debug("exit eventfd: %s", strerror(errno));
				if (!vm_exit_is_draining(vm))
					return 0;
				if (!l->draining) {
					l->draining = true;
					l->drain_start_ms = l->drain_quiet_ms = vm_elapsed_ms(vm);
					l->drain_seen = __atomic_load_n(&vm->console_out,
									__ATOMIC_RELAXED);
				}
			}
			if (fd == l->sigfd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) == sizeof(si)) {
					log_warn("received signal %u, stopping the VM",
						 si.ssi_signo);
					vm_request_exit(vm, KITE_EXIT_SIGNAL, "signal");
				}
			} else if (fd == l->timerfd) {
				uint64_t ticks;

				if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					log_debug("timerfd read: %s", strerror(errno));
				log_warn("timeout of %g s expired, stopping the VM",
					 vm->cfg->timeout);
				vm_request_exit(vm, KITE_EXIT_TIMEOUT, "timeout");
			} else if (fd == STDIN_FILENO && l->npending == 0) {
				ssize_t r = read(STDIN_FILENO, l->pending, sizeof(l->pending));

				if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN))) {
					/* EOF or error: the guest simply gets no more input. */
					epoll_ctl(l->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					l->stdin_open = false;
				} else if (r > 0) {
					l->npending = (size_t)r;
					l->pending_off = 0;
					loop_flush_input(l);
				}
			}
		}
	}
}

static int main_loop_init(struct main_loop *l, struct vm *vm, struct uart8250 *uart,
			  const sigset_t *sigs)
{
	const struct vm_config *cfg = vm->cfg;

	memset(l, 0, sizeof(*l));
	l->vm = vm;
	l->uart = uart;
	l->sigfd = l->timerfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->sigfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd < 0 || loop_add(l->epfd, l->sigfd, EPOLLIN) ||
	    loop_add(l->epfd, vm->exit_efd, EPOLLIN))
		return -errno;
	if (cfg->timeout > 0) {
		/* The deadline counts from kite's start, not from the end of VM set-up. */
		struct itimerspec its = { .it_value = vm->start_mono };
		long ns = (long)((cfg->timeout - (double)(time_t)cfg->timeout) * 1e9);

		its.it_value.tv_sec += (time_t)cfg->timeout +
				       (its.it_value.tv_nsec + ns) / 1000000000;
		its.it_value.tv_nsec = (its.it_value.tv_nsec + ns) % 1000000000;
		l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->timerfd < 0 || timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) ||
		    loop_add(l->epfd, l->timerfd, EPOLLIN))
			return -errno;
	}
	/* stdin may be a file, which epoll refuses: then the guest gets no input. */
	if (cfg->serial == SERIAL_STDIO && cfg->console == CONSOLE_SERIAL &&
	    loop_add(l->epfd, STDIN_FILENO, EPOLLIN) == 0)
		l->stdin_open = true;
	return 0;
}

static void main_loop_destroy(struct main_loop *l)
{
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->epfd >= 0)
		close(l->epfd);
}

/* Stopping signals go to the main thread's signalfd; SIGUSR1 kicks vCPUs. */
static void kite_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGQUIT);
}

/* Runs the VM of @cfg; *@booted tells whether it got as far as running (for the API). */
static int kite_run_vm(const struct vm_config *cfg, struct api *api, bool *booted,
		       const char **reason)
{
	const char *kvm_path = getenv("KITE_KVM_DEVICE");
	struct uart8250 *uart = NULL;
	struct main_loop loop = { .epfd = -1, .sigfd = -1, .timerfd = -1 };
	sigset_t sigs, old;
	struct vm vm;
	int serial_fd, ret;

	*reason = "load";
	ret = arch_probe_kernel(cfg->kernel);
	if (!ret)
		ret = check_initrd(cfg->initrd);
	if (ret)
		return ret;
	serial_fd = open_serial_out(cfg);
	if (serial_fd == -2) {
		*reason = "device";
		return KITE_EXIT_DEVICE;
	}

	/* A console reader that goes away must not kill the VM: writes then fail with EPIPE. */
	signal(SIGPIPE, SIG_IGN);

	/* Blocked before any thread exists, so only the signalfd ever sees them. */
	kite_signals(&sigs);
	sigaddset(&sigs, SIGUSR1); /* vCPU threads unblock it for the KVM_RUN kick */
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	sigdelset(&sigs, SIGUSR1);

	ret = vm_create(&vm, cfg, kvm_path ? kvm_path : "/dev/kvm");
	api_attach_events(api, &vm);
	if (!ret)
		ret = vm_build(&vm, serial_fd, &uart);
	if (!ret && main_loop_init(&loop, &vm, uart, &sigs)) {
		log_error("event loop set-up: %s", strerror(errno));
		ret = KITE_EXIT_INTERNAL;
	}
	if (ret) {
		*reason = kite_exit_name(ret);
		goto out;
	}
	if (cfg->serial == SERIAL_STDIO)
		terminal_raw();
	kite_seccomp_set_fatal_hook(terminal_restore);
	ret = vm_start(&vm);
	/* Every thread is running: the main thread's filter goes on last. */
	if (!ret && kite_seccomp_enter(KITE_THREAD_MAIN)) {
		vm_request_exit(&vm, KITE_EXIT_INTERNAL, "seccomp");
		ret = KITE_EXIT_INTERNAL;
	}
	if (!ret) {
		*booted = true;
		api_boot_done(api, &vm, 0);
		main_loop_run(&loop);
	}
	api_vm_stopping(api);
	vm_join(&vm);
	terminal_restore();
	ret = vm.exit_code;
	*reason = vm.exit_reason ? vm.exit_reason : "status";
out:
	api_vm_stopping(api);
	main_loop_destroy(&loop);
	vm_destroy(&vm);
	if (serial_fd > STDERR_FILENO)
		close(serial_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int kite_run(const struct vm_config *cfg, const char **reason)
{
	struct api *api = NULL;
	bool booted = false;
	sigset_t sigs, old;
	int ret;

	if (config_has_api(cfg)) {
		/* The API thread must not take the stopping signals either. */
		signal(SIGPIPE, SIG_IGN);
		kite_signals(&sigs);
		sigaddset(&sigs, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &sigs, &old);
		sigdelset(&sigs, SIGUSR1);
		ret = api_start(&api, cfg);
		if (!ret && !cfg->kernel)
			ret = api_wait_boot(api, &sigs, &cfg, reason);
		else if (ret)
			*reason = kite_exit_name(ret);
		if (ret) {
			api_stop(api, ret, *reason);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return ret;
		}
	}
	ret = kite_run_vm(cfg, api, &booted, reason);
	if (!booted)
		api_boot_done(api, NULL, ret);
	api_stop(api, ret, *reason);
	if (api)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int kite_main(int argc, char **argv, const char **reason)
{
	enum cli_command cmd = CLI_RUN;
	struct vm_config cfg;
	int ret;

	if (argc >= 2 && !strcmp(argv[1], "ctl")) {
		*reason = NULL; /* a client, not a VM: no exit line */
		return api_ctl_main(argc - 2, argv + 2);
	}
	config_init(&cfg);
	*reason = "usage";
	ret = cli_parse(argc, argv, &cfg, &cmd);
	if (ret && ret != KITE_EXIT_USAGE)
		*reason = kite_exit_name(ret);
	if (!ret) {
		switch (cmd) {
		case CLI_HELP:
			cli_usage(stdout);
			*reason = NULL;
			break;
		case CLI_VERSION:
			printf("kite %s\n", KITE_VERSION);
			*reason = NULL;
			break;
		case CLI_RUN:
			log_set_level((enum log_level)cfg.log_level);
			kite_seccomp_set_mode((enum kite_seccomp_mode)cfg.seccomp);
			ret = kite_run(&cfg, reason);
			break;
		}
	}
	config_free(&cfg);
	return ret;
}
