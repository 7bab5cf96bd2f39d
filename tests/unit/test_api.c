// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's parser, dispatcher and state machine against a mock back
 * end, every error code, and the fd-name registry of the config layer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/core.h"
#include "vmm/config.h"
#include "vmm/config_fd.h"
#include "vmm/exitcode.h"

struct mock {
	int boots, pauses, resumes, shutdowns, kills;
	int pause_ret, shutdown_ret;
};

static int mk_boot(void *o)
{
	((struct mock *)o)->boots++;
	return 0;
}
static int mk_pause(void *o)
{
	((struct mock *)o)->pauses++;
	return ((struct mock *)o)->pause_ret;
}
static int mk_resume(void *o)
{
	((struct mock *)o)->resumes++;
	return 0;
}
static int mk_shutdown(void *o)
{
	((struct mock *)o)->shutdowns++;
	return ((struct mock *)o)->shutdown_ret;
}
static void mk_kill(void *o)
{
	((struct mock *)o)->kills++;
}
static int mk_info(void *o, json_t *out)
{
	return json_object_set_new(out, "vcpus", json_integer(2));
}
static int mk_metrics(void *o, json_t *out)
{
	return 0;
}

static const struct api_backend mock_be = {
	.boot = mk_boot,
	.pause = mk_pause,
	.resume = mk_resume,
	.shutdown = mk_shutdown,
	.kill = mk_kill,
	.info = mk_info,
	.metrics = mk_metrics,
};

static struct api_core core;
static struct mock mock;

static void setup(void)
{
	struct vm_config base;

	config_init(&base);
	memset(&mock, 0, sizeof(mock));
	cr_assert_eq(api_core_init(&core, &base, &mock_be, &mock), 0);
	config_free(&base);
}

static void teardown(void)
{
	api_core_destroy(&core);
}

/* Sends @line; returns the reply's error code, or "ok"; *out keeps the reply if asked. */
static const char *req(const char *line, struct api_fdq *q, json_t **out)
{
	static char code[64];
	json_t *def = NULL, *r = api_core_handle(&core, line, strlen(line), q, &def);
	json_t *e;

	if (!r) {
		cr_assert_not_null(def, "no reply and not deferred: %s", line);
		json_decref(def);
		return "deferred";
	}
	e = json_object_get(r, "error");
	snprintf(code, sizeof(code), "%s",
		 e ? json_string_value(json_object_get(e, "code")) : "ok");
	if (out)
		*out = r;
	else
		json_decref(r);
	return code;
}

TestSuite(api, .init = setup, .fini = teardown);

Test(api, every_request_error_code)
{
	static const struct {
		const char *line, *code;
	} cases[] = {
		{ "garbage", API_E_PARSE },
		{ "{\"method\":", API_E_PARSE },
		{ "[1]", API_E_REQUEST },
		{ "{\"method\":1}", API_E_REQUEST },
		{ "{\"id\":[],\"method\":\"info\"}", API_E_REQUEST },
		{ "{\"id\":1.5,\"method\":\"info\"}", API_E_REQUEST },
		{ "{\"method\":\"info\",\"params\":3}", API_E_REQUEST },
		{ "{\"method\":\"info\",\"x\":3}", API_E_REQUEST },
		{ "{\"method\":\"info\",\"method\":\"info\"}", API_E_PARSE }, /* duplicate key */
		{ "{\"method\":\"frobnicate\"}", API_E_METHOD },
		{ "{\"method\":\"info\",\"params\":{\"a\":1}}", API_E_PARAMS },
		{ "{\"method\":\"add-fd\",\"params\":{\"name\":5}}", API_E_PARAMS },
		{ "{\"method\":\"add-fd\",\"params\":{\"name\":\"d0\"}}", API_E_NOFD },
		{ "{\"method\":\"pause\"}", API_E_STATE },
		{ "{\"method\":\"configure\",\"params\":{\"cpus\":\"x\"}}", API_E_PARAMS },
		{ "{\"method\":\"boot\"}", API_E_PARAMS }, /* no kernel configured */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(req(cases[i].line, NULL, NULL), cases[i].code, "%s",
				 cases[i].line);
	cr_expect_eq(mock.boots + mock.pauses + mock.kills, 0, "an error must change nothing");
}

Test(api, id_echoed)
{
	json_t *r;

	cr_assert_str_eq(req("{\"id\":\"abc\",\"method\":\"info\"}", NULL, &r), "ok");
	cr_expect_str_eq(json_string_value(json_object_get(r, "id")), "abc");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "version")),
		     1);
	json_decref(r);
}

Test(api, configure_uses_the_config_parser_and_its_messages)
{
	json_t *r;
	const char *msg;

	cr_assert_str_eq(req("{\"method\":\"configure\",\"params\":{\"memory\":\"12Q\"}}", NULL,
			     &r),
			 API_E_PARAMS);
	msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
	cr_expect_str_eq(msg, "invalid memory size '12Q' (use e.g. 512M or 2G)");
	json_decref(r);
	cr_assert_str_eq(req("{\"method\":\"configure\",\"params\":{\"bogus\":1}}", NULL, &r),
			 API_E_PARAMS);
	msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
	cr_expect_str_eq(msg, "config params: unknown key 'bogus'");
	json_decref(r);
	cr_expect_eq(core.cfg.memory, KITE_DEFAULT_MEMORY, "a refused configure changes nothing");
	cr_assert_str_eq(
		req("{\"method\":\"configure\",\"params\":{\"kernel\":\"/k\",\"memory\":\"1G\","
		    "\"disk\":[\"path=/a\",{\"path\":\"/b\",\"readonly\":true}]}}",
		    NULL, NULL),
		"ok");
	cr_expect_eq(core.cfg.memory, 1ULL << 30);
	cr_expect_eq(core.cfg.ndisks, 2);
	/* A later disk array replaces the list. */
	cr_assert_str_eq(req("{\"method\":\"configure\",\"params\":{\"disk\":[\"path=/c\"]}}", NULL,
			     NULL),
			 "ok");
	cr_expect_eq(core.cfg.ndisks, 1);
	cr_expect_str_eq(core.cfg.disks[0].path, "/c");
	cr_expect_str_eq(core.cfg.kernel, "/k");
}

Test(api, state_machine)
{
	cr_assert_str_eq(req("{\"method\":\"configure\",\"params\":{\"kernel\":\"/k\"}}", NULL,
			     NULL),
			 "ok");
	cr_expect_str_eq(req("{\"method\":\"resume\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"shutdown\"}", NULL, NULL), API_E_STATE);
	cr_assert_str_eq(req("{\"id\":9,\"method\":\"boot\"}", NULL, NULL), "deferred");
	cr_expect_eq(mock.boots, 1);
	cr_expect_eq(core.state, API_BOOTING);
	cr_expect_str_eq(req("{\"method\":\"boot\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"configure\",\"params\":{}}", NULL, NULL), API_E_STATE);
	json_decref(api_core_boot_done(&core, json_null(), 0, NULL));
	cr_expect_eq(core.state, API_RUNNING);
	cr_expect_str_eq(req("{\"method\":\"configure\",\"params\":{}}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"resume\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"shutdown\"}", NULL, NULL), "ok");
	cr_expect_eq(mock.shutdowns, 1);
	cr_expect_str_eq(req("{\"method\":\"pause\"}", NULL, NULL), "ok");
	cr_expect_eq(core.state, API_PAUSED);
	cr_expect_str_eq(req("{\"method\":\"pause\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"shutdown\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"info\"}", NULL, NULL), "ok");
	cr_expect_str_eq(req("{\"method\":\"resume\"}", NULL, NULL), "ok");
	cr_expect_eq(core.state, API_RUNNING);
	mock.pause_ret = -ESHUTDOWN;
	cr_expect_str_eq(req("{\"method\":\"pause\"}", NULL, NULL), API_E_FAILED);
	cr_expect_eq(core.state, API_RUNNING);
	mock.shutdown_ret = -ENODEV;
	cr_expect_str_eq(req("{\"method\":\"shutdown\"}", NULL, NULL), API_E_FAILED);
	cr_expect_str_eq(req("{\"method\":\"kill\"}", NULL, NULL), "ok");
	cr_expect_eq(core.state, API_STOPPING);
	cr_expect_str_eq(req("{\"method\":\"kill\"}", NULL, NULL), API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"add-fd\",\"params\":{\"name\":\"a\"}}", NULL, NULL),
			 API_E_STATE);
	cr_expect_str_eq(req("{\"method\":\"metrics\"}", NULL, NULL), "ok");
}

Test(api, boot_failure_reply)
{
	json_t *id = json_integer(3);
	json_t *r = api_core_boot_done(&core, id, KITE_EXIT_DEVICE, "disk x: gone");
	json_t *e = json_object_get(r, "error");

	json_decref(id); /* the reply holds its own reference */

	cr_assert_not_null(e);
	cr_expect_str_eq(json_string_value(json_object_get(e, "code")), API_E_BOOT);
	cr_expect(strstr(json_string_value(json_object_get(e, "message")), "248"));
	cr_expect_eq(core.state, API_STOPPING);
	json_decref(r);
}

Test(api, add_fd_names_and_configure_by_name)
{
	struct api_fdq q = { .n = 2 };

	q.fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	q.fd[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_expect_str_eq(req("{\"method\":\"configure\",\"params\":{\"disk\":[\"fd=d0\"]}}", NULL,
			     NULL),
			 API_E_PARAMS, "unknown fd name");
	cr_expect_str_eq(req("{\"method\":\"add-fd\",\"params\":{\"name\":\"0bad\"}}", &q, NULL),
			 API_E_PARAMS);
	cr_expect_str_eq(req("{\"method\":\"add-fd\",\"params\":{\"name\":\"d0\"}}", &q, NULL),
			 "ok");
	cr_expect_eq(q.n, 1);
	cr_expect_str_eq(req("{\"method\":\"add-fd\",\"params\":{\"name\":\"d0\"}}", &q, NULL),
			 API_E_PARAMS, "duplicate");
	cr_expect_eq(q.n, 1, "a refused add-fd keeps the fd queued");
	cr_expect_str_eq(req("{\"method\":\"configure\",\"params\":{\"disk\":[{\"fd\":\"d0\"}],"
			     "\"net\":[\"fd=d0,mac=52:54:00:00:00:01\"]}}",
			     NULL, NULL),
			 "ok");
	cr_expect_str_eq(core.cfg.disks[0].fd_name, "d0");
	cr_expect_str_eq(core.cfg.nets[0].fd_name, "d0");
	close(q.fd[0]);
}

Test(fd_names, syntax_and_registry)
{
	struct fd_registry *r = fd_registry_create();
	struct vm_config cfg;
	char name[FD_NAME_MAX];
	int fd;

	cr_expect(config_fd_name_valid("disk0"));
	cr_expect(config_fd_name_valid("a.b-c_d"));
	cr_expect(config_fd_name_valid("3"));
	cr_expect_not(config_fd_name_valid(""));
	cr_expect_not(config_fd_name_valid("-x"));
	cr_expect_not(config_fd_name_valid("a b"));
	cr_expect_not(config_fd_name_valid("a23456789012345678901234567890123"));
	cr_expect_eq(fd_registry_add(r, "3", 0), -EINVAL, "numbers are inherited fds");
	cr_assert_eq(fd_registry_add(r, "x", open("/dev/null", O_RDONLY)), 0);
	cr_expect_eq(fd_registry_count(r), 1);
	cr_expect_eq(fd_registry_name(r, 0, name), 0);
	cr_expect_str_eq(name, "x");
	config_init(&cfg);
	cfg.fds = r;
	fd = config_fd_open(&cfg, "x", "test");
	cr_expect(fd > 2);
	close(fd);
	cr_expect_eq(config_fd_open(&cfg, "y", "test"), -ENOENT);
	fd = config_fd_open(&cfg, "1", "test"); /* stdout, inherited */
	cr_expect(fd > 2);
	close(fd);
	cr_expect_eq(fd_registry_remove(r, "x"), 0);
	cr_expect_eq(fd_registry_remove(r, "x"), -ENOENT);
	cr_expect_eq(parse_disk("fd=x,path=/a", &cfg.disks[0]), -EINVAL, "path and fd exclude");
	cr_expect_eq(parse_net("fd=x,tap=t0", &cfg.nets[0]), -EINVAL);
	cr_expect_eq(parse_disk("fd=x,readonly=on", &cfg.disks[0]), 0);
	free(cfg.disks[0].fd_name);
	cfg.fds = NULL;
	config_free(&cfg);
	fd_registry_destroy(r);
}

Test(config_json, round_trip)
{
	struct vm_config a, b;
	json_t *j;

	config_init(&a);
	config_init(&b);
	cr_assert_eq(parse_disk("path=/img,readonly=on", &a.disks[a.ndisks++]), 0);
	cr_assert_eq(parse_disk("path=/img2,cache=none", &a.disks[a.ndisks++]), 0);
	cr_assert_eq(parse_net("tap=t0,mac=52:54:00:00:00:09", &a.nets[a.nnets++]), 0);
	a.memory = 3ULL << 30;
	a.cpus = 3;
	j = config_to_json(&a);
	cr_assert_not_null(j);
	cr_assert_eq(config_apply_json(j, "test", &b), 0);
	cr_expect_eq(b.memory, a.memory);
	cr_expect_eq(b.cpus, 3);
	cr_expect_str_eq(b.disks[0].path, "/img");
	cr_expect(b.disks[0].readonly);
	cr_expect_not(b.disks[0].cache_none);
	cr_expect(b.disks[1].cache_none);
	cr_expect_eq(memcmp(b.nets[0].mac, a.nets[0].mac, 6), 0);
	json_decref(j);
	config_free(&a);
	config_free(&b);
}

/* `info` shows the config as a --config file holds it: --iommu included, and it round-trips. */
Test(config_json, iommu_round_trip)
{
	struct vm_config a, b;
	const char *bad;
	json_t *j, *io;

	config_init(&a);
	config_init(&b);
	j = config_to_json(&a);
	cr_assert_null(json_object_get(j, "iommu"), "no --iommu, no member");
	json_decref(j);
	cr_assert_eq(parse_iommu("vtd,scalable=on,aw=39,mode=emulated", &a.iommu, &bad), 0);
	j = config_to_json(&a);
	io = json_object_get(j, "iommu");
	cr_assert_not_null(io);
	cr_assert_str_eq(json_string_value(json_object_get(io, "type")), "vtd");
	cr_assert(json_is_true(json_object_get(io, "scalable")));
	cr_assert_eq(json_integer_value(json_object_get(io, "aw")), 39);
	cr_assert_str_eq(json_string_value(json_object_get(io, "mode")), "emulated");
	cr_assert_eq(config_apply_json(j, "test", &b), 0);
	cr_expect_eq(b.iommu.kind, IOMMU_VTD);
	cr_expect(b.iommu.scalable);
	cr_expect_eq(b.iommu.aw, 39);
	cr_expect_eq(b.iommu.mode, IOMMU_MODE_EMULATED);
	json_decref(j);
	config_free(&a);
	config_free(&b);
}
