// SPDX-License-Identifier: GPL-2.0-only
/* --iommu and the JSON "iommu" key: one validator, one-line usage errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_helpers.h"
#include "vmm/config.h"
#include "vmm/exitcode.h"

Test(iommu_cfg, parse_defaults_and_fields)
{
	struct iommu_config c = { 0 };
	const char *bad;

	cr_assert_eq(parse_iommu("vtd", &c, &bad), 0);
	cr_assert_eq(c.kind, IOMMU_VTD);
	cr_assert_eq(c.aw, 48);
	cr_assert(!c.scalable);
	cr_assert_eq(c.mode, IOMMU_MODE_AUTO);
	cr_assert_eq(parse_iommu("vtd,scalable=on,aw=39,mode=shadow", &c, &bad), 0);
	cr_assert(c.scalable);
	cr_assert_eq(c.aw, 39);
	cr_assert_eq(c.mode, IOMMU_MODE_SHADOW);
	cr_assert_eq(parse_iommu("vtd,mode=nested", &c, &bad), 0);
	cr_assert_eq(c.mode, IOMMU_MODE_NESTED);
	cr_assert_eq(parse_iommu("vtd,mode=emulated", &c, &bad), 0);
	cr_assert_eq(c.mode, IOMMU_MODE_EMULATED);
}

Test(iommu_cfg, parse_rejects)
{
	static const char *const badv[][2] = {
		{ "vtd,aw=40", "aw=40" },
		{ "vtd,aw=", "aw=" },
		{ "vtd,colour=blue", "colour=blue" },
		{ "vtd,scalable=maybe", "scalable=maybe" },
		{ "vtd,mode=fast", "mode=fast" },
		{ "smmuv3", "smmuv3" },
		{ "vtdx", "vtdx" },
		{ "", "" },
	};

	for (unsigned int i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		struct iommu_config c = { 0 };
		const char *bad = NULL;

		cr_assert_eq(parse_iommu(badv[i][0], &c, &bad), -EINVAL, "'%s' accepted",
			     badv[i][0]);
		cr_assert_str_eq(bad, badv[i][1], "'%s': names '%s'", badv[i][0], bad);
		cr_assert_eq(c.kind, IOMMU_NONE, "'%s' changed the config", badv[i][0]);
	}
}

static int run_cli(const char *iommu, struct vm_config *c, char **err)
{
	char *argv[] = { "kite", "run", "--kernel", "/k", "--iommu", (char *)iommu, NULL };
	struct test_capture cap;
	enum cli_command cmd;
	int ret;

	config_init(c);
	test_stderr_begin(&cap);
	ret = cli_parse(6, argv, c, &cmd);
	*err = test_stderr_end(&cap);
	return ret;
}

Test(iommu_cfg, cli_one_line_usage_error)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(run_cli("vtd,aw=40", &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "'aw=40'"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(run_cli("vtd,scalable=on", &c, &err), 0, "%s", err);
	cr_assert(c.iommu.scalable);
	free(err);
	config_free(&c);
}

Test(iommu_cfg, json_string_and_object)
{
	struct vm_config c;
	char *err;

	cr_assert_eq(test_config_load_json("{\"iommu\": \"vtd,aw=39\"}", &c, &err), 0, "%s", err);
	cr_assert_eq(c.iommu.aw, 39);
	free(err);
	config_free(&c);
	cr_assert_eq(
		test_config_load_json(
			"{\"iommu\": {\"mode\": \"shadow\", \"type\": \"vtd\", \"scalable\": true,"
			" \"aw\": 48}}",
			&c, &err),
		0, "%s", err);
	cr_assert_eq(c.iommu.kind, IOMMU_VTD);
	cr_assert(c.iommu.scalable);
	cr_assert_eq(c.iommu.mode, IOMMU_MODE_SHADOW);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"iommu\": {\"type\": \"vtd\", \"aw\": 40}}", &c,
					   &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "aw=40"), "%s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"iommu\": {\"type\": \"vtd\", \"speed\": 1}}", &c,
					   &err),
		     KITE_EXIT_USAGE);
	cr_assert(strstr(err, "iommu.speed"), "%s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"iommu\": {\"aw\": 39}}", &c, &err), KITE_EXIT_USAGE);
	cr_assert(strstr(err, "type"), "%s", err);
	free(err);
	config_free(&c);
	cr_assert_eq(test_config_load_json("{\"iommu\": 3}", &c, &err), KITE_EXIT_USAGE);
	free(err);
	config_free(&c);
}
