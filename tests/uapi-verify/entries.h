/* SPDX-License-Identifier: GPL-2.0-only */
/* Expands abi.def into struct abi_entry initialisers; included after the ABI headers. */
#define SIZE(s) { "sizeof(struct " #s ")", sizeof(struct s), ABI_SIZE },
#define SIZE_LE(s) { "sizeof(struct " #s ") (kite's is a prefix)", sizeof(struct s), ABI_SIZE_LE },
#define OFF(s, f) { "offsetof(struct " #s ", " #f ")", offsetof(struct s, f), ABI_OFF },
#define VAL(n) { #n, (unsigned long long)(n), ABI_VAL },
#define ABI_ENTRIES
