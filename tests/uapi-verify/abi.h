/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KITE_UAPI_VERIFY_ABI_H
#define KITE_UAPI_VERIFY_ABI_H

#include <stddef.h>

enum abi_kind { ABI_SIZE, ABI_SIZE_LE, ABI_OFF, ABI_VAL };

struct abi_entry {
	const char *what;
	unsigned long long v;
	enum abi_kind kind;
};

extern const struct abi_entry kite_abi[], linux_abi[];
extern const size_t kite_abi_n, linux_abi_n;

#endif
