// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration model: sizes, serial specs, the command line, the JSON
 * config file and range validation, plus log levels and exit-code names.
 * Criterion forks per test, so getopt's globals start fresh in each one.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_helpers.h"
#include "vmm/config.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"

#define ARGC(a) ((int)ARRAY_SIZE(a))

/* ---- parse_size ---- */

Test(parse_size, suffixes)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "64", 64ull << 20 }, /* a bare number means MiB */
		{ "1", 1ull << 20 },
		{ "0", 0 },
		{ "512M", 512ull << 20 },
		{ "512m", 512ull << 20 },
		{ "2G", 2ull << 30 },
		{ "2g", 2ull << 30 },
		{ "1T", 1ull << 40 },
		{ "1048576K", 1ull << 30 },
		{ "4k", 4096 },
		{ "16MiB", 16ull << 20 },
		{ "16MB", 16ull << 20 },
		{ "3GiB", 3ull << 30 },
		{ "16777215T", 16777215ull << 40 }, /* the largest that fits 64 bits */
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 0xdead;

		cr_assert_eq(parse_size(ok[i].s, &v), 0, "'%s' rejected", ok[i].s);
		cr_assert_eq(v, ok[i].want, "'%s' gave %llu", ok[i].s, (unsigned long long)v);
	}
}

Test(parse_size, rejects_garbage)
{
	static const char *const bad[] = {
		"12Q",
		"",
		"M",
		"-1",
		"+5",
		"-1G",
		"1.5G",
		"1GG",
		"1Gi",
		"1Gb",
		"0x100",
		"64 ",
		"1e3",
		"G1",
		"16777216T",
		"18446744073709551616",
		"99999999999999999999K",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 0xdead;

		cr_assert_eq(parse_size(bad[i], &v), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_eq(v, 0xdead, "'%s' wrote the output", bad[i]);
	}
	cr_assert_eq(parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

/* ---- parse_serial ---- */

Test(parse_serial, modes)
{
	struct vm_config c;

	config_init(&c);
	cr_assert_eq(parse_serial("none", &c), 0);
	cr_assert_eq(c.serial, SERIAL_NONE);
	cr_assert_eq(parse_serial("file:/tmp/x.log", &c), 0);
	cr_assert_eq(c.serial, SERIAL_FILE);
	cr_assert_str_eq(c.serial_path, "/tmp/x.log");
	cr_assert_eq(parse_serial("stdio", &c), 0);
	cr_assert_eq(c.serial, SERIAL_STDIO);
	config_free(&c);
}

Test(parse_serial, rejects)
{
	static const char *const bad[] = { "file:", "file", "", "tty", "STDIO", "none:" };
	struct vm_config c;

	config_init(&c);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(parse_serial(bad[i], &c), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_eq(c.serial, SERIAL_STDIO, "'%s' changed the mode", bad[i]);
	}
	config_free(&c);
}

/* ---- defaults and validation ---- */

Test(config, defaults)
{
	struct vm_config c;

	config_init(&c);
	cr_assert_eq(c.memory, KITE_DEFAULT_MEMORY);
	cr_assert_eq(c.cpus, 1);
	cr_assert_eq(c.serial, SERIAL_STDIO);
	cr_assert_eq(c.log_level, LOG_WARN);
	cr_assert_eq(c.timeout, 0);
	cr_assert_null(c.kernel);
	cr_assert_null(c.initrd);
	cr_assert_null(c.cmdline);
	config_free(&c);
	config_free(&c); /* idempotent: config_free leaves a zeroed struct */
}

static void validate_expect(struct vm_config *c, int want, const char *needle)
{
	struct test_capture cap;
	char *err;
	int ret;

	test_stderr_begin(&cap);
	ret = config_validate(c);
	err = test_stderr_end(&cap);
	cr_assert_eq(ret, want, "config_validate: %d, want %d (%s)", ret, want, err);
	if (needle)
		cr_assert(strstr(err, needle), "message '%s' does not mention '%s'", err, needle);
	else
		cr_assert_str_empty(err);
	free(err);
}

Test(config, validate_ranges)
{
	struct vm_config c;

	config_init(&c);
	validate_expect(&c, KITE_EXIT_USAGE, "kernel");
	c.kernel = strdup("");
	validate_expect(&c, KITE_EXIT_USAGE, "kernel");
	free(c.kernel);
	c.kernel = strdup("bzImage");
	validate_expect(&c, 0, NULL);

	c.cpus = 0;
	validate_expect(&c, KITE_EXIT_USAGE, "--cpus");
	c.cpus = KITE_MAX_CPUS;
	validate_expect(&c, 0, NULL);
	c.cpus = KITE_MAX_CPUS + 1;
	validate_expect(&c, KITE_EXIT_USAGE, "256");
	c.cpus = 1;

	c.memory = KITE_MIN_MEMORY;
	validate_expect(&c, 0, NULL);
	c.memory = KITE_MIN_MEMORY - 4096;
	validate_expect(&c, KITE_EXIT_USAGE, "memory");
	c.memory = KITE_MAX_MEMORY;
	validate_expect(&c, 0, NULL);
	c.memory = KITE_MAX_MEMORY + 4096;
	validate_expect(&c, KITE_EXIT_USAGE, "memory");
	c.memory = KITE_MIN_MEMORY + 1024; /* not a page multiple */
	validate_expect(&c, KITE_EXIT_USAGE, "memory");
	config_free(&c);
}

/* ---- the command line ---- */

/* Runs cli_parse on a fresh config; returns the result and the captured stderr. */
static int parse(int argc, char **argv, struct vm_config *c, enum cli_command *cmd, char **err)
{
	struct test_capture cap;
	int ret;

	config_init(c);
	*cmd = (enum cli_command) - 1;
	test_stderr_begin(&cap);
	ret = cli_parse(argc, argv, c, cmd);
	*err = test_stderr_end(&cap);
	return ret;
}

/* Expects a usage error whose one-line message contains @needle. */
static void expect_usage(int argc, char **argv, const char *needle)
{
	struct vm_config c;
	enum cli_command cmd;
	char *err;
	int ret = parse(argc, argv, &c, &cmd, &err);

	cr_assert_eq(ret, KITE_EXIT_USAGE, "exit %d, want 245 (stderr: %s)", ret, err);
	cr_assert(strstr(err, needle), "message '%s' does not name '%s'", err, needle);
	cr_assert(!strncmp(err, "kite: error: ", 13), "message '%s'", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: '%s'", err);
	config_free(&c);
	free(err);
}

Test(cli, full_run_command)
{
	char *argv[] = { "kite",	"run",
			 "--kernel",	"/k",
			 "--initrd",	"/i",
			 "--cmdline",	"console=ttyS0 quiet",
			 "--memory",	"1G",
			 "--cpus",	"4",
			 "--serial",	"file:/tmp/out",
			 "--timeout",	"2.5",
			 "--log-level", "debug" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(cmd, CLI_RUN);
	cr_assert_str_eq(c.kernel, "/k");
	cr_assert_str_eq(c.initrd, "/i");
	cr_assert_str_eq(c.cmdline, "console=ttyS0 quiet");
	cr_assert_eq(c.memory, 1ull << 30);
	cr_assert_eq(c.cpus, 4);
	cr_assert_eq(c.serial, SERIAL_FILE);
	cr_assert_str_eq(c.serial_path, "/tmp/out");
	cr_assert_float_eq(c.timeout, 2.5, 1e-9);
	cr_assert_eq(c.log_level, LOG_DEBUG);
	cr_assert_str_empty(err);
	config_free(&c);
	free(err);
}

Test(cli, equals_form_and_bare_number_is_mib)
{
	char *argv[] = { "kite", "run", "--kernel=/k", "--memory=64", "--cpus=2" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(c.memory, 64ull << 20);
	cr_assert_eq(c.cpus, 2);
	config_free(&c);
	free(err);
}

Test(cli, later_flag_wins)
{
	char *argv[] = { "kite", "run",	     "--kernel", "/a",	     "--memory",
			 "32M",	 "--kernel", "/b",	 "--memory", "48M" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_str_eq(c.kernel, "/b");
	cr_assert_eq(c.memory, 48ull << 20);
	config_free(&c);
	free(err);
}

Test(cli, unknown_flag)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--frobnicate" };

	expect_usage(ARGC(argv), argv, "--frobnicate");
}

Test(cli, unknown_flag_with_value)
{
	char *argv[] = { "kite", "run", "--bogus=1", "--kernel", "/k" };

	expect_usage(ARGC(argv), argv, "--bogus");
}

Test(cli, unknown_short_flag)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "-x" };

	expect_usage(ARGC(argv), argv, "-x");
}

Test(cli, unknown_short_flag_in_a_cluster)
{
	/* getopt leaves optind on the cluster's word until its last letter. */
	char *argv[] = { "kite", "run", "-xyz", "--kernel", "/k" };

	expect_usage(ARGC(argv), argv, "'-x'");
}

Test(cli, value_given_to_a_switch)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--help=yes" };

	expect_usage(ARGC(argv), argv, "--help=yes");
}

Test(cli, missing_value)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--memory" };

	expect_usage(ARGC(argv), argv, "--memory");
}

Test(cli, size_12Q)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--memory", "12Q" };

	expect_usage(ARGC(argv), argv, "12Q");
}

Test(cli, memory_too_small)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--memory", "8M" };

	expect_usage(ARGC(argv), argv, "memory");
}

Test(cli, cpus_0)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--cpus", "0" };

	expect_usage(ARGC(argv), argv, "--cpus");
}

Test(cli, cpus_300)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--cpus", "300" };

	expect_usage(ARGC(argv), argv, "300");
}

Test(cli, cpus_not_a_number)
{
	static const char *const bad[] = { "-1", "two", "1.5", "", "4x", "99999999999999999999" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *argv[] = { "kite", "run", "--kernel", "/k", "--cpus", (char *)bad[i] };

		expect_usage(ARGC(argv), argv, "vCPU count");
	}
}

Test(cli, serial_file_empty_path)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--serial", "file:" };

	expect_usage(ARGC(argv), argv, "file:");
}

Test(cli, serial_unknown)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--serial", "pty" };

	expect_usage(ARGC(argv), argv, "pty");
}

Test(cli, timeout_negative)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--timeout", "-1" };

	expect_usage(ARGC(argv), argv, "-1");
}

Test(cli, timeout_garbage)
{
	static const char *const bad[] = { "nan", "inf", "1s", "", "1e10", "abc" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *argv[] = { "kite", "run", "--kernel", "/k", "--timeout", (char *)bad[i] };

		expect_usage(ARGC(argv), argv, "timeout");
	}
}

Test(cli, timeout_values)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--timeout", "0" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(c.timeout, 0);
	config_free(&c);
	free(err);
}

Test(cli, log_level_loud)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--log-level", "loud" };

	expect_usage(ARGC(argv), argv, "loud");
}

Test(cli, no_command)
{
	char *argv[] = { "kite" };

	expect_usage(ARGC(argv), argv, "no command");
}

Test(cli, unknown_command)
{
	char *argv[] = { "kite", "start", "--kernel", "/k" };

	expect_usage(ARGC(argv), argv, "start");
}

Test(cli, missing_kernel)
{
	char *argv[] = { "kite", "run", "--memory", "64M" };

	expect_usage(ARGC(argv), argv, "--kernel");
}

Test(cli, stray_argument)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "extra" };

	expect_usage(ARGC(argv), argv, "extra");
}

Test(cli, help_and_version)
{
	static const char *const words[] = { "--help", "-h", "help", "--version", "version" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		char *argv[] = { "kite", (char *)words[i] };
		struct vm_config c;
		enum cli_command cmd;
		char *err;

		cr_assert_eq(parse(2, argv, &c, &cmd, &err), 0, "%s: %s", words[i], err);
		cr_assert_eq(cmd, i < 3 ? CLI_HELP : CLI_VERSION, "%s", words[i]);
		config_free(&c);
		free(err);
	}
}

Test(cli, help_after_run_needs_no_kernel)
{
	char *argv[] = { "kite", "run", "--memory", "64M", "--help" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(cmd, CLI_HELP);
	config_free(&c);
	free(err);
}

Test(cli, usage_text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_usage(f);
	fclose(f);
	cr_assert(strstr(buf, "usage: kite run --kernel PATH"));
	cr_assert(strstr(buf, "--help"));
	cr_assert(strstr(buf, "exit-codes"));
	free(buf);
}

/* ---- the JSON config file ---- */

static void expect_json_error(const char *text, const char *needle)
{
	struct vm_config c;
	char *err;
	int ret = test_config_load_json(text, &c, &err);

	cr_assert_eq(ret, KITE_EXIT_USAGE, "'%s' gave %d, want 245", text, ret);
	cr_assert(strstr(err, needle), "message '%s' does not name '%s'", err, needle);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: '%s'", err);
	config_free(&c);
	free(err);
}

Test(json, all_keys)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(test_config_load_json(
			     "{\"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"quiet\","
			     " \"memory\": \"2G\", \"cpus\": 3, \"serial\": \"none\","
			     " \"timeout\": 1.25, \"log_level\": \"info\"}",
			     &c, &err),
		     0, "%s", err);
	cr_assert_str_eq(c.kernel, "/k");
	cr_assert_str_eq(c.initrd, "/i");
	cr_assert_str_eq(c.cmdline, "quiet");
	cr_assert_eq(c.memory, 2ull << 30);
	cr_assert_eq(c.cpus, 3);
	cr_assert_eq(c.serial, SERIAL_NONE);
	cr_assert_float_eq(c.timeout, 1.25, 1e-9);
	cr_assert_eq(c.log_level, LOG_INFO);
	config_free(&c);
	free(err);
}

Test(json, numbers_as_numbers_or_strings)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(test_config_load_json("{\"memory\": 128, \"cpus\": \"2\", \"timeout\": 7}", &c,
					   &err),
		     0, "%s", err);
	cr_assert_eq(c.memory, 128ull << 20, "a bare number means MiB in JSON too");
	cr_assert_eq(c.cpus, 2);
	cr_assert_float_eq(c.timeout, 7, 1e-9);
	config_free(&c);
	free(err);
}

Test(json, empty_object_keeps_defaults)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(test_config_load_json("{}", &c, &err), 0, "%s", err);
	cr_assert_eq(c.memory, KITE_DEFAULT_MEMORY);
	cr_assert_eq(c.cpus, 1);
	config_free(&c);
	free(err);
}

Test(json, malformed)
{
	expect_json_error("{\"kernel\": \"/k\",", "vm.json");
	expect_json_error("{\"kernel\": \"/k\" \"cpus\": 1}", "line 1");
	expect_json_error("", "vm.json");
	expect_json_error("{\n\"kernel\": \"/k\"\n,,}", "line 3");
}

Test(json, not_an_object)
{
	expect_json_error("[\"kernel\"]", "object");
	expect_json_error("\"kernel\"", "vm.json");
}

Test(json, unknown_key)
{
	expect_json_error("{\"kernel\": \"/k\", \"kernal\": \"/k\"}", "kernal");
	/* The CLI spelling is not a JSON key. */
	expect_json_error("{\"log-level\": \"info\"}", "log-level");
}

Test(json, wrong_type)
{
	expect_json_error("{\"kernel\": 5}", "kernel");
	expect_json_error("{\"cpus\": true}", "cpus");
	expect_json_error("{\"cpus\": 1.5}", "cpus");
	expect_json_error("{\"memory\": [512]}", "memory");
	expect_json_error("{\"memory\": 0.5}", "memory");
	expect_json_error("{\"initrd\": null}", "initrd");
	expect_json_error("{\"serial\": {\"file\": \"x\"}}", "serial");
	expect_json_error("{\"log_level\": 3}", "log_level");
}

Test(json, bad_values)
{
	expect_json_error("{\"memory\": \"12Q\"}", "12Q");
	expect_json_error("{\"memory\": -5}", "-5");
	expect_json_error("{\"cpus\": -1}", "-1");
	expect_json_error("{\"timeout\": -1}", "-1");
	expect_json_error("{\"serial\": \"file:\"}", "file:");
	expect_json_error("{\"log_level\": \"loud\"}", "loud");
}

Test(json, duplicate_key)
{
	expect_json_error("{\"cpus\": 1, \"cpus\": 2}", "cpus");
}

Test(json, missing_file)
{
	struct vm_config c;
	struct test_capture cap;
	char *err;

	config_init(&c);
	test_stderr_begin(&cap);
	cr_assert_eq(config_load_json("/nonexistent/kite.json", &c), KITE_EXIT_USAGE);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "/nonexistent/kite.json"), "%s", err);
	free(err);
	config_free(&c);
}

static int parse_with_config(const char *json, char **extra, int nextra, struct vm_config *c,
			     char **err)
{
	char *path = test_write_str("vm.json", json);
	char *argv[16] = { "kite", "run", "--config", path };
	enum cli_command cmd;
	int ret;

	cr_assert(nextra <= 12);
	for (int i = 0; i < nextra; i++)
		argv[4 + i] = extra[i];
	ret = parse(4 + nextra, argv, c, &cmd, err);
	test_remove_file(path);
	return ret;
}

Test(json, flags_override_config_file)
{
	char *extra[] = { "--memory", "64", "--cpus", "2", "--serial", "none" };
	struct vm_config c;
	char *err;

	cr_assert_eq(parse_with_config("{\"kernel\": \"/from-json\", \"memory\": \"1G\", "
				       "\"cpus\": 4, \"cmdline\": \"json\", \"serial\": "
				       "\"file:/tmp/j\"}",
				       extra, ARGC(extra), &c, &err),
		     0, "%s", err);
	cr_assert_str_eq(c.kernel, "/from-json", "unset flags keep the file's value");
	cr_assert_str_eq(c.cmdline, "json");
	cr_assert_eq(c.memory, 64ull << 20, "flag wins over the file");
	cr_assert_eq(c.cpus, 2);
	cr_assert_eq(c.serial, SERIAL_NONE);
	config_free(&c);
	free(err);
}

Test(json, flags_before_config_flag_still_win)
{
	char *path = test_write_str("vm.json", "{\"kernel\": \"/j\", \"cpus\": 4}");
	char *argv[] = { "kite", "run", "--cpus", "3", "--config", path };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(c.cpus, 3);
	test_remove_file(path);
	config_free(&c);
	free(err);
}

Test(json, config_supplies_the_kernel_and_is_validated)
{
	char *none[1];
	struct vm_config c;
	char *err;

	cr_assert_eq(parse_with_config("{\"memory\": \"1G\"}", none, 0, &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "kernel"), "%s", err);
	config_free(&c);
	free(err);
	cr_assert_eq(parse_with_config("{\"kernel\": \"/k\", \"cpus\": 256}", none, 0, &c, &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "256"), "%s", err);
	config_free(&c);
	free(err);
}

Test(json, bad_config_through_cli)
{
	char *none[1];
	struct vm_config c;
	char *err;

	cr_assert_eq(parse_with_config("{\"kernel\": \"/k\", \"vcpus\": 2}", none, 0, &c, &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "vcpus"), "%s", err);
	config_free(&c);
	free(err);
}

/* ---- log levels and exit-code names ---- */

Test(log, parse_level)
{
	cr_assert_eq(log_parse_level("error"), LOG_ERROR);
	cr_assert_eq(log_parse_level("warn"), LOG_WARN);
	cr_assert_eq(log_parse_level("info"), LOG_INFO);
	cr_assert_eq(log_parse_level("debug"), LOG_DEBUG);
	cr_assert_eq(log_parse_level("loud"), -1);
	cr_assert_eq(log_parse_level(""), -1);
	cr_assert_eq(log_parse_level("WARN"), -1);
	cr_assert_eq(log_parse_level("warning"), -1);
}

Test(log, level_filters_output)
{
	struct test_capture cap;
	char *err;

	log_set_level(LOG_WARN);
	cr_assert_eq(log_get_level(), LOG_WARN);
	test_stderr_begin(&cap);
	log_error("e%d", 1);
	log_warn("w%d", 2);
	log_info("i%d", 3);
	log_debug("d%d", 4);
	err = test_stderr_end(&cap);
	cr_assert_str_eq(err, "kite: error: e1\nkite: warn: w2\n");
	free(err);

	log_set_level(LOG_DEBUG);
	test_stderr_begin(&cap);
	log_debug("d");
	err = test_stderr_end(&cap);
	cr_assert_str_eq(err, "kite: debug: d\n");
	free(err);
}

Test(log, long_line_is_truncated_but_terminated)
{
	struct test_capture cap;
	char big[3000];
	char *err;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	test_stderr_begin(&cap);
	log_error("%s", big);
	err = test_stderr_end(&cap);
	cr_assert(strlen(err) < 1024, "%zu", strlen(err));
	cr_assert_eq(err[strlen(err) - 1], '\n');
	cr_assert(!strncmp(err, "kite: error: aaa", 16));
	free(err);
}

Test(exitcode, documented_values)
{
	/* docs/exit-codes.md */
	cr_assert_eq(KITE_EXIT_POWEROFF, 0);
	cr_assert_eq(KITE_EXIT_SIGNAL, 240);
	cr_assert_eq(KITE_EXIT_RESET, 241);
	cr_assert_eq(KITE_EXIT_SHUTDOWN, 242);
	cr_assert_eq(KITE_EXIT_PANIC, 243);
	cr_assert_eq(KITE_EXIT_TIMEOUT, 244);
	cr_assert_eq(KITE_EXIT_USAGE, 245);
	cr_assert_eq(KITE_EXIT_KVM, 246);
	cr_assert_eq(KITE_EXIT_LOAD, 247);
	cr_assert_eq(KITE_EXIT_DEVICE, 248);
	cr_assert_eq(KITE_EXIT_INTERNAL, 249);
}

Test(exitcode, names)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ 240, "signal" },  { 241, "reset" },	 { 242, "shutdown" }, { 243, "panic" },
		{ 244, "timeout" }, { 245, "usage" },	 { 246, "kvm" },      { 247, "load" },
		{ 248, "device" },  { 249, "internal" }, { 0, "status" },     { 77, "status" },
		{ 250, "seccomp" }, { 251, "status" },	 { -1, "status" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		cr_assert_str_eq(kite_exit_name(names[i].code), names[i].name, "%d", names[i].code);
}

/* ---- device options: --disk, --net, --console, --rng, --hugepages ---- */

Test(devices, parse_disk)
{
	struct disk_config d;

	cr_assert_eq(parse_disk("/img/a.raw", &d), 0);
	cr_assert_str_eq(d.path, "/img/a.raw");
	cr_assert_not(d.readonly);
	free(d.path);
	cr_assert_eq(parse_disk("path=/img/b.raw,readonly=on", &d), 0);
	cr_assert_str_eq(d.path, "/img/b.raw");
	cr_assert(d.readonly);
	free(d.path);
	cr_assert_eq(parse_disk("readonly=true,path=/c", &d), 0);
	cr_assert(d.readonly);
	cr_assert_not(d.cache_none, "cache=writeback by default");
	free(d.path);
	cr_assert_eq(parse_disk("path=/d,cache=none", &d), 0);
	cr_assert(d.cache_none);
	free(d.path);
	cr_assert_eq(parse_disk("cache=none,cache=writeback,path=/e", &d), 0);
	cr_assert_not(d.cache_none);
	free(d.path);
}

Test(devices, parse_disk_rejects)
{
	static const char *const bad[] = { "",
					   "path=",
					   "readonly=on",
					   "path=/a,readonly=maybe",
					   "path=/a,cache=unsafe",
					   "path=/a,cache=",
					   "=x",
					   "path=/a,ro" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct disk_config d;

		cr_assert_eq(parse_disk(bad[i], &d), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_null(d.path, "'%s' leaked a path", bad[i]);
	}
}

Test(devices, parse_net)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct net_config n;

	cr_assert_eq(parse_net("tap=tap0", &n), 0);
	cr_assert_str_eq(n.tap, "tap0");
	cr_assert_not(n.has_mac);
	free(n.tap);
	cr_assert_eq(parse_net("tap=kite-tap-12345,mac=52:54:00:AB:cd:ef", &n), 0);
	cr_assert_str_eq(n.tap, "kite-tap-12345");
	cr_assert(n.has_mac);
	cr_assert_arr_eq(n.mac, mac, 6);
	free(n.tap);
}

Test(devices, parse_net_rejects)
{
	static const char *const bad[] = {
		"",
		"tap0",
		"tap=",
		"mac=52:54:00:12:34:56",
		"tap=0123456789abcdef",	       /* 16 chars */
		"tap=t,mac=01:00:5e:00:00:01", /* multicast */
		"tap=t,mac=52:54:00:12:34",
		"tap=t,mac=52:54:00:12:34:567",
		"tap=t,mac=52:54:00:12:34:5g",
		"tap=t,mac=52-54-00-12-34-56",
		"tap=t,vlan=3",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct net_config n;

		cr_assert_eq(parse_net(bad[i], &n), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_null(n.tap, "'%s' leaked a name", bad[i]);
	}
}

Test(devices, cli_flags)
{
	char *argv[] = { "kite",   "run",	  "--kernel",  "/k",
			 "--disk", "/a",	  "--disk",    "path=/b,readonly=on",
			 "--net",  "tap=tap0",	  "--console", "virtio",
			 "--rng",  "--hugepages", "--memory",  "64M" };
	struct vm_config c;
	enum cli_command cmd;
	char *err;

	cr_assert_eq(parse(ARGC(argv), argv, &c, &cmd, &err), 0, "%s", err);
	cr_assert_eq(c.ndisks, 2);
	cr_assert_str_eq(c.disks[0].path, "/a");
	cr_assert_str_eq(c.disks[1].path, "/b");
	cr_assert(c.disks[1].readonly);
	cr_assert_eq(c.nnets, 1);
	cr_assert_str_eq(c.nets[0].tap, "tap0");
	cr_assert_eq(c.console, CONSOLE_VIRTIO);
	cr_assert(c.rng);
	cr_assert(c.hugepages);
	config_free(&c);
	free(err);
}

Test(devices, cli_bad_values)
{
	char *console[] = { "kite", "run", "--kernel", "/k", "--console", "vga" };
	char *disk[] = { "kite", "run", "--kernel", "/k", "--disk", "readonly=on" };
	char *net[] = { "kite", "run", "--kernel", "/k", "--net", "tap=t,mac=ff:ff:ff:ff:ff:ff" };
	char *huge[] = { "kite", "run", "--kernel", "/k", "--hugepages", "--memory", "17M" };

	expect_usage(ARGC(console), console, "vga");
	expect_usage(ARGC(disk), disk, "readonly=on");
	expect_usage(ARGC(net), net, "ff:ff");
	expect_usage(ARGC(huge), huge, "2M");
}

Test(devices, too_many_disks)
{
	char *argv[4 + 2 * (KITE_MAX_DISKS + 1)] = { "kite", "run", "--kernel", "/k" };

	for (int i = 0; i <= KITE_MAX_DISKS; i++) {
		argv[4 + 2 * i] = "--disk";
		argv[5 + 2 * i] = "/d";
	}
	expect_usage(ARGC(argv), argv, "too many");
}

Test(devices, json_lists_and_switches)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(
		test_config_load_json(
			"{\"disk\": [\"path=/a,cache=none\", {\"path\": \"/b\", \"readonly\": true,"
			" \"cache\": \"writeback\"}],"
			" \"net\": [{\"tap\": \"tap1\", \"mac\": \"52:54:00:00:00:01\"}],"
			" \"rng\": true, \"hugepages\": \"off\", \"console\": \"serial\"}",
			&c, &err),
		0, "%s", err);
	cr_assert_eq(c.ndisks, 2);
	cr_assert(c.disks[0].cache_none);
	cr_assert_str_eq(c.disks[1].path, "/b");
	cr_assert(c.disks[1].readonly);
	cr_assert_not(c.disks[1].cache_none);
	cr_assert_eq(c.nnets, 1);
	cr_assert(c.nets[0].has_mac);
	cr_assert_eq(c.nets[0].mac[5], 1);
	cr_assert(c.rng);
	cr_assert_not(c.hugepages);
	cr_assert_eq(c.console, CONSOLE_SERIAL);
	config_free(&c);
	free(err);
}

Test(devices, json_wrong_shapes)
{
	expect_json_error("{\"disk\": \"/a\"}", "disk");
	expect_json_error("{\"disk\": [5]}", "disk");
	expect_json_error("{\"disk\": [{\"path\": 5}]}", "disk.path");
	expect_json_error("{\"disk\": [{\"path\": \"/a\", \"cache\": \"unsafe\"}]}", "disk.cache");
	expect_json_error("{\"disk\": [{\"path\": \"/a\", \"cache\": true}]}", "disk.cache");
	expect_json_error("{\"net\": [{\"tap\": \"t\", \"mtu\": \"1500\"}]}", "net");
	expect_json_error("{\"rng\": 1}", "rng");
	expect_json_error("{\"console\": \"tty\"}", "tty");
}

/*
 * The object form of "disk"/"net" goes through the same option validator as the flag:
 * every value the CLI rejects is rejected here too, with 245 and the key named.
 */
Test(devices, json_objects_use_the_cli_validator)
{
	static const char *const taps[] = { "a/b", ".", "..", "a b", "0123456789abcdef" };
	char buf[256];

	for (unsigned int i = 0; i < sizeof(taps) / sizeof(taps[0]); i++) {
		struct net_config n;
		char flag[64];

		snprintf(flag, sizeof(flag), "tap=%s", taps[i]);
		cr_assert_eq(parse_net(flag, &n), -EINVAL, "CLI accepts '%s'", flag);
		snprintf(buf, sizeof(buf), "{\"net\": [{\"tap\": \"%s\"}]}", taps[i]);
		expect_json_error(buf, "net.tap");
	}
	expect_json_error("{\"net\": [{\"fd\": \"bad name!\"}]}", "net.fd");
	expect_json_error("{\"disk\": [{\"path\": \"\"}]}", "disk.path");
	expect_json_error("{\"disk\": [{\"path\": \"/a\", \"readonly\": \"maybe\"}]}",
			  "disk.readonly");
}

Test(devices, cli_disks_replace_the_config_files)
{
	char *extra[] = { "--disk", "/cli" };
	struct vm_config c;
	char *err;

	cr_assert_eq(parse_with_config("{\"kernel\": \"/k\", \"disk\": [\"/j1\", \"/j2\"],"
				       " \"net\": [\"tap=tj\"]}",
				       extra, ARGC(extra), &c, &err),
		     0, "%s", err);
	cr_assert_eq(c.ndisks, 1);
	cr_assert_str_eq(c.disks[0].path, "/cli");
	cr_assert_eq(c.nnets, 1, "no --net flag: the file's list stays");
	cr_assert_str_eq(c.nets[0].tap, "tj");
	config_free(&c);
	free(err);
}

Test(devices, mac_needs_exactly_two_hex_digits_per_byte)
{
	/* sscanf's %2x alone takes signs, blanks and a 0x prefix. */
	static const char *const bad[] = {
		"tap=t,mac=52:54:00:12:34:-1", "tap=t,mac=52:54:00:12:34:+1",
		"tap=t,mac=52:54:00: 1:34:56", "tap=t,mac=52:54:00:0x:34:56",
		"tap=t,mac=52:54:00:12:34:5 ",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct net_config n;

		cr_assert_eq(parse_net(bad[i], &n), -EINVAL, "'%s' accepted", bad[i]);
	}
}

/* Regression: object fields used to be joined into "k=v,..." and re-split, so a comma in a path injected options. */
Test(devices, json_disk_path_with_comma_is_literal)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(parse_with_config("{\"kernel\": \"/k\", \"disk\": [{\"path\": "
				       "\"img,readonly=on\"}]}",
				       NULL, 0, &c, &err),
		     0, "%s", err);
	cr_assert_eq(c.ndisks, 1);
	cr_assert_str_eq(c.disks[0].path, "img,readonly=on");
	cr_assert_not(c.disks[0].readonly);
	config_free(&c);
	free(err);
}

Test(devices, parse_net_rejects_invalid_interface_names)
{
	struct net_config n;

	cr_assert_eq(parse_net("tap=a/b", &n), -EINVAL);
	cr_assert_eq(parse_net("tap=a b", &n), -EINVAL);
	cr_assert_eq(parse_net("tap=..", &n), -EINVAL);
	cr_assert_eq(parse_net("tap=0123456789abcdef", &n), -EINVAL);
	cr_assert_eq(parse_net("tap=ktap0", &n), 0);
	free(n.tap);
}

/* A guest can trigger warnings at will: a burst passes, the rest is counted, not printed. */
Test(log, warnings_are_rate_limited)
{
	FILE *f = tmpfile();
	char line[256];
	int warns = 0, errors = 0, saved = dup(STDERR_FILENO);

	cr_assert(f && saved >= 0);
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_set_level(LOG_WARN);
	for (int i = 0; i < 1000; i++)
		log_warn("flood %d", i);
	log_error("an error always passes");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		warns += strstr(line, "flood") != NULL;
		errors += strstr(line, "an error always passes") != NULL;
	}
	fclose(f);
	cr_assert_leq(warns, 40, "%d flood lines got through", warns);
	cr_assert_geq(warns, 1);
	cr_assert_eq(errors, 1);
}
