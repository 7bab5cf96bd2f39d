// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite_main end to end on the paths that fail before (or while) building a
 * VM, each with its documented exit status (docs/exit-codes.md), plus the
 * vCPU limit check and vm_create on a missing KVM device. Only the
 * initrd-does-not-fit test needs a working /dev/kvm and the real test kernel.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test_helpers.h"
#include "vmm/exitcode.h"
#include "vmm/run.h"
#include "vmm/vm.h"

#define ARGC(a) ((int)ARRAY_SIZE(a))
#define TEST_KERNEL "../shared/testkernel/bzImage"

struct result {
	int status;
	const char *reason;
	char *out, *err;
};

static struct result run(int argc, char **argv)
{
	struct test_capture co, ce;
	struct result r;

	r.reason = "unset";
	test_capture_begin(&co, STDOUT_FILENO);
	test_capture_begin(&ce, STDERR_FILENO);
	r.status = kite_main(argc, argv, &r.reason);
	r.err = test_capture_end(&ce);
	r.out = test_capture_end(&co);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* Runs kite and expects @status, @reason, and @needle in the error output. */
static void expect(int argc, char **argv, int status, const char *reason, const char *needle)
{
	struct result r = run(argc, argv);

	cr_assert_eq(r.status, status, "exit %d, want %d (stderr: %s)", r.status, status, r.err);
	cr_assert_str_eq(r.reason, reason);
	if (needle)
		cr_assert(strstr(r.err, needle), "stderr '%s' does not name '%s'", r.err, needle);
	result_free(&r);
}

/* ---- 245: usage ---- */

Test(kite_main, no_command)
{
	char *argv[] = { "kite" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "no command");
}

Test(kite_main, unknown_flag)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--turbo" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "--turbo");
}

Test(kite_main, size_12Q)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--memory", "12Q" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "12Q");
}

Test(kite_main, cpus_0)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--cpus", "0" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "--cpus");
}

Test(kite_main, cpus_300_exceeds_kites_limit)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--cpus", "300" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "255");
}

Test(kite_main, missing_kernel_flag)
{
	char *argv[] = { "kite", "run", "--memory", "64M" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "--kernel");
}

Test(kite_main, serial_file_empty_path)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--serial", "file:" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "file:");
}

Test(kite_main, timeout_minus_1)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--timeout", "-1" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "-1");
}

Test(kite_main, log_level_loud)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--log-level", "loud" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "loud");
}

static void expect_config(const char *json, const char *needle)
{
	char *path = test_write_str("vm.json", json);
	char *argv[] = { "kite", "run", "--config", path };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", needle);
	test_remove_file(path);
}

Test(kite_main, config_malformed_json)
{
	expect_config("{\"kernel\": \"/k\",,}", "vm.json");
}

Test(kite_main, config_unknown_key)
{
	expect_config("{\"kernel\": \"/k\", \"cores\": 2}", "cores");
}

Test(kite_main, config_wrong_type)
{
	expect_config("{\"kernel\": \"/k\", \"cpus\": \"2\", \"memory\": true}", "memory");
}

Test(kite_main, config_missing_file)
{
	char *argv[] = { "kite", "run", "--config", "/nonexistent/vm.json" };

	expect(ARGC(argv), argv, KITE_EXIT_USAGE, "usage", "/nonexistent/vm.json");
}

/* ---- 0: help and version ---- */

Test(kite_main, help_and_version_exit_0)
{
	char *help[] = { "kite", "--help" };
	char *version[] = { "kite", "--version" };
	char *run_help[] = { "kite", "run", "--help" };
	struct result r;

	r = run(ARGC(help), help);
	cr_assert_eq(r.status, 0);
	cr_assert_null(r.reason, "no exit line for --help");
	cr_assert(strstr(r.out, "usage: kite"), "%s", r.out);
	cr_assert_str_empty(r.err);
	result_free(&r);

	r = run(ARGC(version), version);
	cr_assert_eq(r.status, 0);
	cr_assert_null(r.reason);
	cr_assert(!strncmp(r.out, "kite ", 5), "%s", r.out);
	result_free(&r);

	r = run(ARGC(run_help), run_help);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: kite"));
	result_free(&r);
}

/* ---- 247: the kernel or initrd cannot be loaded ---- */

Test(kite_main, kernel_file_missing)
{
	char *argv[] = { "kite", "run", "--kernel", "/nonexistent/bzImage" };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "/nonexistent/bzImage");
}

Test(kite_main, kernel_is_a_text_file)
{
	char *path = test_write_str("notes.txt", "this is not a kernel\n");
	char *argv[] = { "kite", "run", "--kernel", path };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "too small");
	test_remove_file(path);
}

Test(kite_main, kernel_is_random_bytes)
{
	uint8_t junk[64 * 1024];
	char *path, *argv[4];

	srand(42);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	path = test_write_file("junk.bin", junk, sizeof(junk));
	argv[0] = "kite";
	argv[1] = "run";
	argv[2] = "--kernel";
	argv[3] = path;
	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "not a bzImage");
	test_remove_file(path);
}

Test(kite_main, kernel_is_a_directory)
{
	char *argv[] = { "kite", "run", "--kernel", "/tmp" };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "/tmp");
}

Test(kite_main, kernel_truncated_after_setup)
{
	char *path = test_write_bzimage(0);
	char *argv[] = { "kite", "run", "--kernel", path };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "truncated");
	test_remove_file(path);
}

Test(kite_main, initrd_missing)
{
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { "kite", "run", "--kernel", kernel, "--initrd", "/nonexistent/initrd" };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "/nonexistent/initrd");
	test_remove_file(kernel);
}

Test(kite_main, initrd_is_a_directory)
{
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { "kite", "run", "--kernel", kernel, "--initrd", "/tmp" };

	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "/tmp");
	test_remove_file(kernel);
}

/* ---- 248: a device cannot be set up ---- */

Test(kite_main, serial_file_cannot_be_created)
{
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { "kite", "run", "--kernel", kernel, "--serial", "file:/nonexistent/out" };

	expect(ARGC(argv), argv, KITE_EXIT_DEVICE, "device", "/nonexistent/out");
	test_remove_file(kernel);
}

/* ---- 246: KVM unavailable ---- */

Test(kite_main, kvm_device_missing)
{
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { "kite", "run", "--kernel", kernel, "--serial", "none" };

	setenv("KITE_KVM_DEVICE", "/nonexistent", 1);
	expect(ARGC(argv), argv, KITE_EXIT_KVM, "kvm", "/nonexistent");
	test_remove_file(kernel);
}

Test(kite_main, kvm_device_is_not_kvm)
{
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { "kite", "run", "--kernel", kernel, "--serial", "none" };

	setenv("KITE_KVM_DEVICE", "/dev/null", 1);
	expect(ARGC(argv), argv, KITE_EXIT_KVM, "kvm", "API version");
	test_remove_file(kernel);
}

/* ---- the full path: KVM works, the initrd does not fit ---- */

/* Skips the test unless the real kernel and a usable /dev/kvm are here. */
static void need_kvm_and_kernel(void)
{
	int fd;

	if (access(TEST_KERNEL, R_OK))
		cr_skip("%s not found (run from the repository root)", TEST_KERNEL);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		cr_skip("/dev/kvm cannot be opened: %s", strerror(errno));
	close(fd);
	unsetenv("KITE_KVM_DEVICE");
}

static char *sparse_file(uint64_t size)
{
	char *path = test_write_file("initrd.img", "", 0);

	cr_assert_eq(truncate(path, (off_t)size), 0);
	return path;
}

Test(kite_main, initrd_does_not_fit)
{
	char *initrd, *argv[] = { "kite", "run",      "--kernel", TEST_KERNEL, "--memory",
				  "64M",  "--serial", "none",	  "--initrd",  NULL };

	need_kvm_and_kernel();
	/*
	 * 64 MiB: the test kernel (init_size ~34 MiB) fits at its preferred
	 * 16 MiB, so it is the 64 MiB initrd that cannot.
	 */
	initrd = sparse_file(64ull << 20);
	argv[ARGC(argv) - 1] = initrd;
	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "does not fit");
	test_remove_file(initrd);
}

Test(kite_main, kernel_does_not_fit_in_16M)
{
	char *initrd, *argv[] = { "kite", "run",      "--kernel", TEST_KERNEL, "--memory",
				  "16M",  "--serial", "none",	  "--initrd",  NULL };

	need_kvm_and_kernel();
	initrd = sparse_file(64ull << 20);
	argv[ARGC(argv) - 1] = initrd;
	/* The kernel's own init_size is checked first: it is what names the problem. */
	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "--memory");
	test_remove_file(initrd);
}

/* ---- vCPU limits and vm_create ---- */

Test(vm, check_cpus)
{
	struct test_capture cap;
	char *err;

	cr_assert_eq(vm_check_cpus(1, 1), 0);
	cr_assert_eq(vm_check_cpus(4, 4), 0);
	cr_assert_eq(vm_check_cpus(255, 1024), 0);
	test_stderr_begin(&cap);
	cr_assert_eq(vm_check_cpus(5, 4), KITE_EXIT_USAGE);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "5") && strstr(err, "4"), "%s", err);
	cr_assert(strstr(err, "KVM"), "%s", err);
	free(err);
	test_stderr_begin(&cap);
	cr_assert_eq(vm_check_cpus(255, 254), KITE_EXIT_USAGE);
	free(test_capture_end(&cap));
}

static void expect_vm_create(const char *kvm_path, int want, const char *needle)
{
	struct vm_config cfg;
	struct test_capture cap;
	struct vm vm;
	char *err;
	int ret;

	config_init(&cfg);
	cfg.memory = 16ull << 20;
	test_stderr_begin(&cap);
	ret = vm_create(&vm, &cfg, kvm_path);
	err = test_stderr_end(&cap);
	cr_assert_eq(ret, want, "vm_create(%s): %d, want %d (%s)", kvm_path, ret, want, err);
	cr_assert(strstr(err, needle), "'%s' does not name '%s'", err, needle);
	vm_destroy(&vm); /* must be safe after a failed create */
	free(err);
	config_free(&cfg);
}

Test(vm, create_missing_device)
{
	expect_vm_create("/nonexistent/kvm", KITE_EXIT_KVM, "/nonexistent/kvm");
}

Test(vm, create_not_a_kvm_device)
{
	char *path = test_write_str("kvm", "");

	expect_vm_create("/dev/null", KITE_EXIT_KVM, "/dev/null");
	expect_vm_create(path, KITE_EXIT_KVM, "API version");
	test_remove_file(path);
}

Test(vm, create_more_cpus_than_kvm_allows)
{
	struct vm_config cfg;
	struct test_capture cap;
	struct vm vm;
	char *err;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		cr_skip("/dev/kvm cannot be opened: %s", strerror(errno));
	close(fd);
	config_init(&cfg);
	cfg.memory = 16ull << 20;
	cfg.cpus = 100000; /* beyond any KVM's KVM_CAP_MAX_VCPUS */
	test_stderr_begin(&cap);
	ret = vm_create(&vm, &cfg, "/dev/kvm");
	err = test_stderr_end(&cap);
	cr_assert_eq(ret, KITE_EXIT_USAGE, "%d (%s)", ret, err);
	cr_assert(strstr(err, "100000"), "%s", err);
	vm_destroy(&vm);
	free(err);
	config_free(&cfg);
}

/* ---- the binary: status and the final "kite: exit:" line ---- */

static const char *kite_binary(void)
{
	const char *k = getenv("KITE");

	if (k && !access(k, X_OK))
		return k;
	if (!access("build/kite", X_OK))
		return "build/kite";
	cr_skip("no kite binary (set KITE or build build/kite)");
	return NULL;
}

/* Runs the binary; returns its exit status and the last line of stderr (all of it in *@all). */
static int exec_kite_all(char *const argv[], char *last, size_t cap, char **all)
{
	struct test_capture ce;
	char *err, *line;
	pid_t pid;
	int st;
	size_t n;

	test_capture_begin(&ce, STDERR_FILENO);
	pid = fork();
	cr_assert(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	err = test_capture_end(&ce);
	n = strlen(err);
	if (n && err[n - 1] == '\n')
		err[--n] = '\0';
	line = strrchr(err, '\n');
	snprintf(last, cap, "%s", line ? line + 1 : err);
	if (all)
		*all = err;
	else
		free(err);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int exec_kite(char *const argv[], char *last, size_t cap)
{
	return exec_kite_all(argv, last, cap, NULL);
}

Test(binary, exit_status_and_reason_line)
{
	const char *kite = kite_binary();
	char *usage[] = { (char *)kite, "run", "--kernel", "/k", "--memory", "12Q", NULL };
	char *load[] = { (char *)kite, "run", "--kernel", "/nonexistent/bzImage", NULL };
	char *help[] = { (char *)kite, "--help", NULL };
	char last[512];

	cr_assert_eq(exec_kite(usage, last, sizeof(last)), KITE_EXIT_USAGE);
	cr_assert_str_eq(last, "kite: exit: usage status=245");
	cr_assert_eq(exec_kite(load, last, sizeof(last)), KITE_EXIT_LOAD);
	cr_assert_str_eq(last, "kite: exit: load status=247");
	cr_assert_eq(exec_kite(help, last, sizeof(last)), 0);
	cr_assert_str_empty(last);
}

Test(binary, kvm_unavailable)
{
	const char *kite = kite_binary();
	char *kernel = test_write_bzimage(4096);
	char *argv[] = { (char *)kite, "run", "--kernel", kernel, "--serial", "none", NULL };
	char last[512];

	setenv("KITE_KVM_DEVICE", "/nonexistent", 1);
	cr_assert_eq(exec_kite(argv, last, sizeof(last)), KITE_EXIT_KVM);
	cr_assert_str_eq(last, "kite: exit: kvm status=246");
	test_remove_file(kernel);
}

Test(kite_main, kernel_that_fits_only_below_its_preferred_address)
{
	/*
	 * 48 MiB holds the test kernel's init_size (~34 MiB) from 1 MiB but
	 * not from its preferred 16 MiB, where its decompressor moves itself
	 * anyway: this must be a load error, not a guest triple fault.
	 */
	char *argv[] = { "kite", "run",	     "--kernel", TEST_KERNEL, "--memory",
			 "48M",	 "--serial", "none",	 "--timeout", "20" };

	need_kvm_and_kernel();
	expect(ARGC(argv), argv, KITE_EXIT_LOAD, "load", "--memory");
}

/* A synthetic bzImage whose protected-mode code is @insn (2 bytes) repeated; needs /dev/kvm. */
static char *insn_kernel(const uint8_t insn[2])
{
	char *kernel;
	int fd;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		cr_skip("/dev/kvm cannot be opened: %s", strerror(errno));
	close(fd);
	unsetenv("KITE_KVM_DEVICE");
	kernel = test_write_bzimage(4096);
	fd = open(kernel, O_WRONLY);
	cr_assert(fd >= 0);
	for (off_t off = 0; off < 4096; off += 2)
		cr_assert_eq(pwrite(fd, insn, 2, TEST_BZ_SETUP_SIZE + off), 2);
	close(fd);
	return kernel;
}

Test(binary, triple_fault_names_the_vcpu_state)
{
	/* The 64-bit entry is ud2 with no IDT: #UD, #GP, #DF, shutdown. */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	const char *kite = kite_binary();
	char *kernel = insn_kernel(ud2), *all = NULL;
	char *argv[] = { (char *)kite, "run", "--kernel",  kernel, "--serial", "none",
			 "--memory",   "64M", "--timeout", "60",   NULL };
	char last[512];

	cr_assert_eq(exec_kite_all(argv, last, sizeof(last), &all), KITE_EXIT_SHUTDOWN, "%s", all);
	cr_assert_str_eq(last, "kite: exit: shutdown status=242");
	cr_assert(strstr(all, "vCPU 0: triple fault (KVM_EXIT_SHUTDOWN): rip 0x"), "%s", all);
	cr_assert(strstr(all, " cr3 0x") && strstr(all, " idt 0x"), "%s", all);
	free(all);
	test_remove_file(kernel);
}

Test(binary, timeout_names_where_each_vcpu_was)
{
	/* jmp . at the 64-bit entry: the guest spins there until the timeout. */
	static const uint8_t spin[] = { 0xeb, 0xfe };
	const char *kite = kite_binary();
	char *kernel = insn_kernel(spin), *all = NULL;
	char *argv[] = { (char *)kite, "run",	   "--kernel", kernel,	 "--serial",
			 "none",       "--memory", "64M",      "--cpus", "2",
			 "--timeout",  "1",	   NULL };
	char last[512];

	cr_assert_eq(exec_kite_all(argv, last, sizeof(last), &all), KITE_EXIT_TIMEOUT, "%s", all);
	cr_assert_str_eq(last, "kite: exit: timeout status=244");
	/* vCPU 0 spins at the entry; vCPU 1 still waits for its start-up IPI. */
	cr_assert(strstr(all, "vCPU 0: still running at the timeout: rip 0x"), "%s", all);
	cr_assert(strstr(all, "vCPU 1: still running at the timeout: rip 0x"), "%s", all);
	free(all);
	test_remove_file(kernel);
}
