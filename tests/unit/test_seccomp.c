// SPDX-License-Identifier: GPL-2.0-only
/*
 * seccomp: every name in configs/seccomp/ resolves; a thread under its filter that makes
 * a forbidden call dies with status 250 after one line naming the thread and the call;
 * allowed calls pass; log and off let everything through. Each case runs in a child
 * process, since a filter cannot be taken off again.
 */
#include <criterion/criterion.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/config.h"
#include "vmm/exitcode.h"
#include "vmm/seccomp.h"

Test(seccomp, every_listed_name_resolves)
{
	for (int k = 0; k < KITE_THREAD_KINDS; k++) {
		const char *const *l = kite_seccomp_list((enum kite_thread)k, true);
		size_t n = 0;

		cr_assert_not_null(l);
		for (; *l; l++, n++)
			cr_assert_neq(seccomp_syscall_resolve_name(*l), __NR_SCMP_ERROR,
				      "%s list: unknown system call '%s'",
				      kite_thread_name((enum kite_thread)k), *l);
		cr_assert_gt(n, 20, "%s list looks empty", kite_thread_name((enum kite_thread)k));
	}
	/* Lists differ: the vCPU thread has no business accepting connections. */
	for (const char *const *l = kite_seccomp_list(KITE_THREAD_VCPU, true); *l; l++)
		cr_assert(strcmp(*l, "accept4") && strcmp(*l, "execve") && strcmp(*l, "socket"),
			  "vcpu list allows %s", *l);
}

/* Runs @fn in a child under @mode; returns its wait status, its stderr in @err. */
static int in_child(enum kite_seccomp_mode mode, void (*fn)(void), char *err, size_t cap)
{
	int p[2], st;
	pid_t pid;
	size_t len = 0;
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		prctl(PR_SET_NAME, "kite-vcpu7");
		kite_seccomp_set_mode(mode);
		if (kite_seccomp_enter(KITE_THREAD_VCPU))
			_exit(99);
		fn();
		_exit(0);
	}
	close(p[1]);
	/* The log line may come in several writes: read to EOF, not once. */
	while (len < cap - 1 && (n = read(p[0], err + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void forbidden(void)
{
	syscall(SYS_acct, NULL);
}

static void allowed(void)
{
	struct timespec ts;

	if (syscall(SYS_getpid) <= 0 || clock_gettime(CLOCK_MONOTONIC, &ts))
		_exit(98);
}

Test(seccomp, forbidden_call_kills_with_250_and_names_it)
{
	char err[512];
	int st = in_child(KITE_SECCOMP_ON, forbidden, err, sizeof(err));

	cr_assert(WIFEXITED(st), "child did not exit (signal %d)", WTERMSIG(st));
	cr_assert_eq(WEXITSTATUS(st), KITE_EXIT_SECCOMP, "status %d: %s", WEXITSTATUS(st), err);
	cr_assert(strstr(err, "kite-vcpu7 (vcpu)"), "thread not named: %s", err);
	cr_assert(strstr(err, "forbidden system call: acct ("), "call not named: %s", err);
	cr_assert(strstr(err, "kite: exit: seccomp status=250"), "%s", err);
}

Test(seccomp, allowed_calls_pass)
{
	char err[512];
	int st = in_child(KITE_SECCOMP_ON, allowed, err, sizeof(err));

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: %s", st, err);
}

Test(seccomp, log_and_off_let_it_through)
{
	char err[512];

	cr_assert_eq(in_child(KITE_SECCOMP_OFF, forbidden, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(in_child(KITE_SECCOMP_LOG, forbidden, err, sizeof(err)), 0, "%s", err);
}

Test(seccomp, cli_values)
{
	cr_assert_eq(kite_seccomp_parse("on"), KITE_SECCOMP_ON);
	cr_assert_eq(kite_seccomp_parse("off"), KITE_SECCOMP_OFF);
	cr_assert_eq(kite_seccomp_parse("log"), KITE_SECCOMP_LOG);
	cr_assert_eq(kite_seccomp_parse("yes"), -1);
	cr_assert_eq(kite_seccomp_parse(""), -1);
}

Test(seccomp, cli_flag_and_default)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--seccomp", "log" };
	char *bad[] = { "kite", "run", "--kernel", "/k", "--seccomp", "maybe" };
	struct vm_config c;
	enum cli_command cmd;

	config_init(&c);
	cr_assert_eq(c.seccomp, KITE_SECCOMP_ON, "on by default");
	cr_assert_eq(cli_parse(6, argv, &c, &cmd), 0);
	cr_assert_eq(c.seccomp, KITE_SECCOMP_LOG);
	config_free(&c);
	config_init(&c);
	cr_assert_eq(cli_parse(6, bad, &c, &cmd), KITE_EXIT_USAGE);
	config_free(&c);
}
