// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ABI as the kernel's own headers state it: include/uapi/linux/iommufd.h and vfio.h, and
 * drivers/iommu/iommufd/iommufd_test.h, found through -I (see tests/uapi-verify/run).
 */
/* What `make headers_install` would strip from the raw tree's headers. */
#define __user
#ifndef __counted_by
#define __counted_by(m)
#endif

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "iommufd_test.h"

#include "abi.h"
#include "entries.h"

const struct abi_entry linux_abi[] = {
#include "abi.def"
};
const size_t linux_abi_n = sizeof(linux_abi) / sizeof(linux_abi[0]);
