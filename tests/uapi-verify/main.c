// SPDX-License-Identifier: GPL-2.0-only
/*
 * uapi-verify: compares every struct size, field offset and constant iommu/uapi.h pins with the
 * kernel's headers. Prints one line per difference and a summary; exit 0 when there is none.
 */
#include <stdio.h>
#include <string.h>

#include "abi.h"

int main(void)
{
	unsigned int diff = 0;

	if (kite_abi_n != linux_abi_n) {
		printf("uapi-verify: tables differ in length (%zu vs %zu)\n", kite_abi_n,
		       linux_abi_n);
		return 1;
	}
	for (size_t i = 0; i < kite_abi_n; i++) {
		const struct abi_entry *k = &kite_abi[i], *l = &linux_abi[i];
		int bad = k->kind == ABI_SIZE_LE ? k->v > l->v : k->v != l->v;

		if (bad) {
			printf("DIFF %s: kite %#llx, linux %#llx\n", k->what, k->v, l->v);
			diff++;
		}
	}
	printf("uapi-verify: %zu items compared, %u differences\n", kite_abi_n, diff);
	return diff ? 1 : 0;
}
