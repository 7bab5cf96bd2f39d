/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-thread seccomp allow-lists (libseccomp). Each kind of kite thread installs its own
 * filter once its set-up is done and before it serves the guest; the lists are
 * configs/seccomp/<kind>.txt plus common.txt, compiled into kite at build time. A syscall
 * outside the list: --seccomp on (default) traps, and the SIGSYS handler writes one line
 * naming the thread and the syscall, then kite exits with KITE_EXIT_SECCOMP; --seccomp log
 * lets it through and the kernel logs it (audit / dmesg, with the thread's name); off
 * installs nothing.
 *
 * The mode is process-wide, like the logger: a filter belongs to a thread of this process,
 * whatever VM the thread serves, and main() sets the mode once before any thread starts.
 */
#ifndef KITE_VMM_SECCOMP_H
#define KITE_VMM_SECCOMP_H

#include <stdbool.h>

enum kite_seccomp_mode { KITE_SECCOMP_ON = 0, KITE_SECCOMP_OFF, KITE_SECCOMP_LOG };

enum kite_thread {
	KITE_THREAD_MAIN,
	KITE_THREAD_VCPU,
	KITE_THREAD_DEVLOOP,
	KITE_THREAD_VIOMMU,
	KITE_THREAD_API,
	KITE_THREAD_KINDS
};

/* "on", "off", "log" -> mode; -1 on anything else. */
int kite_seccomp_parse(const char *s);
void kite_seccomp_set_mode(enum kite_seccomp_mode mode);
enum kite_seccomp_mode kite_seccomp_mode(void);
/* Called (async-signal-safely) by the SIGSYS handler before kite exits: restore a tty. */
void kite_seccomp_set_fatal_hook(void (*fn)(void));

/*
 * Installs the calling thread's filter for @kind (nothing when the mode is off). 0, or
 * -errno after logging why; the caller then stops (a thread without its filter must not
 * serve the guest).
 */
int kite_seccomp_enter(enum kite_thread kind);

/* The allow-list of @kind, NULL-terminated (common names included); for tests. */
const char *const *kite_seccomp_list(enum kite_thread kind, bool common);
const char *kite_thread_name(enum kite_thread kind);

#endif
