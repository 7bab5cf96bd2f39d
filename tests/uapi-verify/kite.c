// SPDX-License-Identifier: GPL-2.0-only
/* The ABI as kite's iommu/uapi.h states it. */
#include "iommu/uapi.h"

#include "abi.h"
#include "entries.h"

const struct abi_entry kite_abi[] = {
#include "abi.def"
};
const size_t kite_abi_n = sizeof(kite_abi) / sizeof(kite_abi[0]);
