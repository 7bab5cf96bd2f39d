// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/exitcode.h"

const char *kite_exit_name(int code)
{
	switch (code) {
	/* clang-format off */
	case KITE_EXIT_SIGNAL: return "signal";
	case KITE_EXIT_RESET: return "reset";
	case KITE_EXIT_SHUTDOWN: return "shutdown";
	case KITE_EXIT_PANIC: return "panic";
	case KITE_EXIT_TIMEOUT: return "timeout";
	case KITE_EXIT_USAGE: return "usage";
	case KITE_EXIT_KVM: return "kvm";
	case KITE_EXIT_LOAD: return "load";
	case KITE_EXIT_DEVICE: return "device";
	case KITE_EXIT_INTERNAL: return "internal";
	case KITE_EXIT_SECCOMP: return "seccomp";
	default: return "status";
		/* clang-format on */
	}
}
