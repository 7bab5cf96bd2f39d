/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the iommufd-conformance program's files: main.c (IOAS, HWPT, invalidation, the
 * 6.12-era API) and viommu.c (the vIOMMU objects of 6.13+, checked on the 7.2 test kernel).
 */
#ifndef KITE_IOMMUFD_CONFORMANCE_H
#define KITE_IOMMUFD_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/iommufd.h"

#define NSLOTS MOCK_NESTED_DOMAIN_IOTLB_NUM
#define DEF IOMMU_TEST_IOTLB_DEFAULT
#define SEL_TYPE IOMMU_HWPT_INVALIDATE_DATA_SELFTEST

/* What --expect-viommu said the running kernel has. */
enum expect_viommu {
	EXPECT_VIOMMU_ANY = 0, /* report the probe, check nothing about it */
	EXPECT_VIOMMU_PRESENT,
	EXPECT_VIOMMU_ABSENT,
};

struct conf {
	struct host_iommu h;
	unsigned int inval_calls; /* IOMMU_HWPT_INVALIDATE ioctls issued by the backend */
	unsigned int passed, failed;
	uint32_t ioas, stdev, hwpt0, dev, parent;
};

__attribute__((format(printf, 4, 5))) bool check(struct conf *c, const char *name, bool ok,
						 const char *fmt, ...);
const char *err(int ret);
/* IOMMU_TEST_CMD on the iommufd; fills in cmd->size. 0 or -errno. */
int test_cmd(struct conf *c, struct iommu_test_cmd *cmd);
/* A new mock device on the IOAS (IOMMU_TEST_OP_MOCK_DOMAIN): its stdev, auto HWPT and dev id. */
int mock_device(struct conf *c, uint32_t *stdev, uint32_t *hwpt, uint32_t *dev_id);
/* Compares the mock nested domain's iotlb[] with @want; names the first slot that differs. */
bool iotlb_is(struct conf *c, uint32_t hwpt, const uint32_t want[NSLOTS], char *why, size_t len);

/* viommu.c: the vIOMMU section; on an "absent" kernel it checks the refusals only. */
void check_viommu(struct conf *c, enum expect_viommu expect);

#endif
