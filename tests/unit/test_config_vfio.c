// SPDX-License-Identifier: GPL-2.0-only
/* --vfio / --iommufd and the JSON "vfio" / "iommufd" keys: one validator, one-line errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_helpers.h"
#include "vmm/config.h"
#include "vmm/exitcode.h"

Test(vfio_cfg, parse)
{
	static const char *const good[] = { "bdf=0000:00:04.0", "bdf=0001:af:1f.7",
					    "path=/dev/vfio/devices/vfio0", "fd=7", "fd=nic0" };
	static const char *const bad[] = { "bdf=00:04.0",
					   "bdf=0000:00:04.8",
					   "bdf=0000:00:20.0",
					   "bdf=0000:00:04.0,x=1",
					   "bdf=0000:0G:04.0",
					   "bdf=0000:00:0A.0",
					   "path=vfio0",
					   "fd=",
					   "fd=-1",
					   "nic=0000:00:04.0",
					   "0000:00:04.0",
					   "" };
	struct vfio_config v;

	for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(parse_vfio(good[i], &v), 0, "'%s' refused", good[i]);
		cr_assert_eq(!!v.bdf + !!v.path + !!v.fd_name, 1);
		vfio_config_free(&v);
	}
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_vfio(bad[i], &v), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert(!v.bdf && !v.path && !v.fd_name);
	}
}

static int run_cli(char **argv, int argc, struct vm_config *c, char **err)
{
	struct test_capture cap;
	enum cli_command cmd;
	int ret;

	config_init(c);
	test_stderr_begin(&cap);
	ret = cli_parse(argc, argv, c, &cmd);
	*err = test_stderr_end(&cap);
	return ret;
}

Test(vfio_cfg, cli)
{
	char *ok[] = { "kite",	 "run",	 "--kernel",  "/k",   "--vfio", "bdf=0000:00:02.0",
		       "--vfio", "fd=8", "--iommufd", "fd=7", NULL };
	char *bad[] = { "kite", "run", "--kernel", "/k", "--vfio", "bdf=00:02.0", NULL };
	char *iommu[] = {
		"kite", "run", "--kernel", "/k", "--vfio", "fd=8", "--iommu", "vtd", NULL
	};
	char *emul[] = { "kite", "run",	    "--kernel",		 "/k", "--vfio",
			 "fd=8", "--iommu", "vtd,mode=emulated", NULL };
	char *lone[] = { "kite", "run", "--kernel", "/k", "--iommufd", "fd=7", NULL };
	struct vm_config c;
	char *err;

	cr_assert_eq(run_cli(ok, 10, &c, &err), 0, "%s", err);
	cr_assert_eq(c.nvfio, 2);
	cr_assert_str_eq(c.vfio[0].bdf, "0000:00:02.0");
	cr_assert_str_eq(c.vfio[1].fd_name, "8");
	cr_assert_str_eq(c.iommufd_fd, "7");
	free(err);
	config_free(&c);

	cr_assert_eq(run_cli(bad, 6, &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "invalid --vfio 'bdf=00:02.0'"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(err);
	config_free(&c);
	/* Behind the VT-d: shadowed (mode=auto picks shadow); emulated cannot cover it. */
	cr_assert_eq(run_cli(iommu, 8, &c, &err), 0, "%s", err);
	cr_assert_eq(c.nvfio, 1);
	free(err);
	config_free(&c);
	cr_assert_eq(run_cli(emul, 8, &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "mode=shadow"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(run_cli(lone, 6, &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "without a --vfio"), "%s", err);
	free(err);
	config_free(&c);
}

Test(vfio_cfg, json_and_round_trip)
{
	struct vm_config c, d;
	json_t *j;
	char *err, *text;

	cr_assert_eq(
		test_config_load_json(
			"{\"vfio\": [\"bdf=0000:00:02.0\", {\"path\": \"/dev/vfio/devices/vfio1\"},"
			" {\"fd\": \"nic0\"}], \"iommufd\": {\"fd\": \"iom\"}}",
			&c, &err),
		0, "%s", err);
	free(err);
	cr_assert_eq(c.nvfio, 3);
	cr_assert_str_eq(c.vfio[1].path, "/dev/vfio/devices/vfio1");
	cr_assert_str_eq(c.iommufd_fd, "iom");
	j = config_to_json(&c);
	cr_assert_not_null(j);
	text = json_dumps(j, 0);
	json_decref(j);
	config_free(&c);
	cr_assert_eq(test_config_load_json(text, &d, &err), 0, "%s: %s", text, err);
	free(err);
	free(text);
	cr_assert_eq(d.nvfio, 3);
	cr_assert_str_eq(d.vfio[0].bdf, "0000:00:02.0");
	cr_assert_str_eq(d.vfio[2].fd_name, "nic0");
	cr_assert_str_eq(d.iommufd_fd, "iom");
	cr_assert_eq(config_copy(&c, &d), 0);
	cr_assert_str_eq(c.vfio[1].path, "/dev/vfio/devices/vfio1");
	config_free(&c);
	config_free(&d);

	cr_assert_eq(test_config_load_json(
			     "{\"vfio\": [{\"bdf\": \"0000:00:02.0\", \"fd\": \"x\"}]}", &c, &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "exactly one"), "%s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"vfio\": [{\"host\": \"0000:00:02.0\"}]}", &c, &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "vfio.host"), "%s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"iommufd\": 7}", &c, &err), KITE_EXIT_USAGE);
	free(err);
	config_free(&c);
}
