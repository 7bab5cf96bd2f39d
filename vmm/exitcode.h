/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kite's process exit status is a contract with CI (docs/exit-codes.md).
 * A guest-requested status (debug-exit port) is passed through verbatim, so
 * kite's own reasons sit in a reserved block at the top of the 8-bit range.
 */
#ifndef KITE_VMM_EXITCODE_H
#define KITE_VMM_EXITCODE_H

enum kite_exit {
	KITE_EXIT_POWEROFF = 0,	  /* ACPI S5 power-off requested by the guest */
	KITE_EXIT_SIGNAL = 240,	  /* kite was told to stop (SIGINT, SIGTERM, SIGHUP) */
	KITE_EXIT_RESET = 241,	  /* guest reset (i8042 0xfe, ACPI reset) */
	KITE_EXIT_SHUTDOWN = 242, /* triple fault / KVM_EXIT_SHUTDOWN */
	KITE_EXIT_PANIC = 243,	  /* guest panic reported through pvpanic */
	KITE_EXIT_TIMEOUT = 244,  /* --timeout expired */
	KITE_EXIT_USAGE = 245,	  /* bad command line, config file or API input */
	KITE_EXIT_KVM = 246,	  /* KVM unavailable or lacking a capability */
	KITE_EXIT_LOAD = 247,	  /* kernel or initrd could not be loaded */
	KITE_EXIT_DEVICE = 248,	  /* device set-up failed */
	KITE_EXIT_INTERNAL = 249, /* any other VMM failure */
	KITE_EXIT_SECCOMP = 250,  /* a kite thread made a system call its seccomp filter forbids */
};

/* Human-readable name of an exit reason, for the final log line. */
const char *kite_exit_name(int code);

#endif
