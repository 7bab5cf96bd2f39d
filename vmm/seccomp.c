// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-thread seccomp filters from the allow-lists in configs/seccomp/ (see vmm/seccomp.h).
 * The lists are plain text, one syscall name a line, '#' comments; the assembler embeds
 * them (.incbin, paths relative to the repository root, where make runs the compiler), so
 * the binary needs no file at run time and a review of the text is a review of the filter.
 */
#include "vmm/seccomp.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vmm/exitcode.h"
#include "vmm/log.h"

#define EMBED(sym, file)                                                                           \
	__asm__(".pushsection .rodata\n.global " #sym "\n" #sym ":\n.incbin \"" file "\"\n"        \
		".byte 0\n.popsection\n")

EMBED(kite_seccomp_common_txt, "configs/seccomp/common.txt");
EMBED(kite_seccomp_main_txt, "configs/seccomp/main.txt");
EMBED(kite_seccomp_vcpu_txt, "configs/seccomp/vcpu.txt");
EMBED(kite_seccomp_devloop_txt, "configs/seccomp/devloop.txt");
EMBED(kite_seccomp_viommu_txt, "configs/seccomp/viommu.txt");
EMBED(kite_seccomp_api_txt, "configs/seccomp/api.txt");
EMBED(kite_seccomp_sanitizer_txt, "configs/seccomp/sanitizer.txt");

extern const char kite_seccomp_common_txt[], kite_seccomp_main_txt[], kite_seccomp_vcpu_txt[],
	kite_seccomp_devloop_txt[], kite_seccomp_viommu_txt[], kite_seccomp_api_txt[],
	kite_seccomp_sanitizer_txt[];

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define KITE_SANITIZER_BUILD 1 /* LeakSanitizer runs from the main thread at exit */
#else
#define KITE_SANITIZER_BUILD 0
#endif

static const char *const thread_names[KITE_THREAD_KINDS] = { "main", "vcpu", "devloop", "viommu",
							     "api" };
static const char *const *const texts[KITE_THREAD_KINDS] = {
	(const char *const[]){ kite_seccomp_main_txt },
	(const char *const[]){ kite_seccomp_vcpu_txt },
	(const char *const[]){ kite_seccomp_devloop_txt },
	(const char *const[]){ kite_seccomp_viommu_txt },
	(const char *const[]){ kite_seccomp_api_txt },
};

/* Process-wide, set by main() before any thread starts (see vmm/seccomp.h). */
static enum kite_seccomp_mode mode = KITE_SECCOMP_ON;
static void (*fatal_hook)(void);

/* For the SIGSYS handler, which may only use what is already at hand. */
static __thread char thread_label[40];
#define NR_NAMES 512
static const char *nr_names[NR_NAMES];

int kite_seccomp_parse(const char *s)
{
	if (!strcmp(s, "on"))
		return KITE_SECCOMP_ON;
	if (!strcmp(s, "off"))
		return KITE_SECCOMP_OFF;
	if (!strcmp(s, "log"))
		return KITE_SECCOMP_LOG;
	return -1;
}

void kite_seccomp_set_mode(enum kite_seccomp_mode m)
{
	mode = m;
}

enum kite_seccomp_mode kite_seccomp_mode(void)
{
	return mode;
}

void kite_seccomp_set_fatal_hook(void (*fn)(void))
{
	fatal_hook = fn;
}

const char *kite_thread_name(enum kite_thread kind)
{
	return kind < KITE_THREAD_KINDS ? thread_names[kind] : "?";
}

/* Splits an embedded list into names; the array and the strings live until exit. */
static const char **split(const char *text, const char **out, size_t *n, size_t cap)
{
	const char *p = text;

	while (*p && *n < cap) {
		const char *e = p + strcspn(p, "\n"), *c = memchr(p, '#', (size_t)(e - p));
		const char *end = c ? c : e;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (end > p)
			out[(*n)++] = strndup(p, (size_t)(end - p));
		p = *e ? e + 1 : e;
	}
	return out;
}

#define LIST_MAX 256

const char *const *kite_seccomp_list(enum kite_thread kind, bool common)
{
	static const char **lists[KITE_THREAD_KINDS][2];
	const char **l;
	size_t n = 0;

	if (kind >= KITE_THREAD_KINDS)
		return NULL;
	if (lists[kind][common])
		return lists[kind][common];
	l = calloc(LIST_MAX + 1, sizeof(*l));
	if (!l)
		return NULL;
	if (common)
		split(kite_seccomp_common_txt, l, &n, LIST_MAX);
	split(texts[kind][0], l, &n, LIST_MAX);
	if (KITE_SANITIZER_BUILD && kind == KITE_THREAD_MAIN)
		split(kite_seccomp_sanitizer_txt, l, &n, LIST_MAX);
	lists[kind][common] = l;
	return l;
}

/* Async-signal-safe: only write(2) on what was prepared before the filter went on. */
static void put(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing left to report it to */
	}
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char num[12], *p = num + sizeof(num) - 1;
	int nr = si->si_syscall;

	*p = '\0';
	do {
		*--p = (char)('0' + (unsigned int)nr % 10);
		nr = (int)((unsigned int)nr / 10);
	} while (nr && p > num);
	put("kite: error: seccomp: thread ");
	put(thread_label[0] ? thread_label : "?");
	put(" made a forbidden system call: ");
	put(si->si_syscall >= 0 && si->si_syscall < NR_NAMES && nr_names[si->si_syscall]
		    ? nr_names[si->si_syscall]
		    : "?");
	put(" (");
	put(p);
	put(")\nkite: exit: seccomp status=250\n");
	if (fatal_hook)
		fatal_hook();
	_exit(KITE_EXIT_SECCOMP);
}

/* Once per process, before the first filter: the handler and its name table. */
static int prepare(void)
{
	static int done, ret;
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };

	if (done)
		return ret;
	done = 1;
	for (int i = 0; i < NR_NAMES; i++)
		nr_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		ret = -errno;
	return ret;
}

int kite_seccomp_enter(enum kite_thread kind)
{
	const char *const *list;
	scmp_filter_ctx ctx;
	sigset_t sys;
	int ret;

	if (mode == KITE_SECCOMP_OFF)
		return 0;
	{
		char comm[17] = "";

		prctl(PR_GET_NAME, comm);
		snprintf(thread_label, sizeof(thread_label), "%s (%s)", comm,
			 kite_thread_name(kind));
	}
	ret = prepare();
	list = kite_seccomp_list(kind, true);
	if (ret || !list) {
		log_error("seccomp: %s thread: cannot prepare the filter", kite_thread_name(kind));
		return ret ? ret : -ENOMEM;
	}
	ctx = seccomp_init(mode == KITE_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		log_error("seccomp: %s thread: seccomp_init failed", kite_thread_name(kind));
		return -ENOMEM;
	}
	for (; *list; list++) {
		int nr = seccomp_syscall_resolve_name(*list);

		if (nr == __NR_SCMP_ERROR) {
			log_error("seccomp: configs/seccomp: unknown system call '%s'", *list);
			ret = -EINVAL;
			goto out;
		}
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret) {
			log_error("seccomp: %s thread: cannot allow %s: %s", kite_thread_name(kind),
				  *list, strerror(-ret));
			goto out;
		}
	}
	/* A thread that blocked SIGSYS would die without the line that says why. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	ret = seccomp_load(ctx);
	if (ret)
		log_error("seccomp: %s thread: cannot load the filter: %s", kite_thread_name(kind),
			  strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}
