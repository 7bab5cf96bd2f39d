// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit requests: the first wins; a drained request (pvpanic) keeps the VM running until
 * the main loop stops it, and its code survives the requests that come meanwhile.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/legacy/legacy.h"
#include "vmm/exitcode.h"
#include "vmm/vm.h"

static struct vm vm;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = -1;
	pthread_mutex_init(&vm.exit_lock, NULL);
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	bus_init(&vm.pio, "pio");
	aml_buf_init(&vm.sb_aml);
	vm.exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert(vm.exit_efd >= 0);
}

static void teardown(void)
{
	close(vm.exit_efd);
	aml_buf_free(&vm.sb_aml);
}

TestSuite(vm_exit, .init = setup, .fini = teardown);

static uint64_t efd_count(void)
{
	uint64_t v = 0;

	return read(vm.exit_efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

Test(vm_exit, first_request_wins)
{
	vm_request_exit(&vm, KITE_EXIT_SHUTDOWN, "shutdown");
	vm_request_exit(&vm, KITE_EXIT_TIMEOUT, "timeout");
	cr_assert(vm.exiting);
	cr_assert_eq(vm.exit_code, KITE_EXIT_SHUTDOWN);
	cr_assert_str_eq(vm.exit_reason, "shutdown");
	cr_assert_eq(efd_count(), 1);
}

Test(vm_exit, drained_request_waits_and_its_code_wins)
{
	vm_request_exit_drained(&vm, KITE_EXIT_PANIC, "panic");
	cr_assert_not(vm.exiting, "the VM keeps running while the console drains");
	cr_assert(vm_exit_is_draining(&vm));
	cr_assert_eq(efd_count(), 1, "the main loop is woken to watch the drain");
	vm_request_exit_drained(&vm, KITE_EXIT_PANIC, "panic");
	cr_assert_eq(efd_count(), 0, "a second panic write changes nothing");
	/* The guest reboots after its panic (panic=-1) before the drain ends. */
	vm_request_exit(&vm, KITE_EXIT_RESET, "reset");
	cr_assert(vm.exiting);
	cr_assert_not(vm_exit_is_draining(&vm));
	cr_assert_eq(vm.exit_code, KITE_EXIT_PANIC);
	cr_assert_str_eq(vm.exit_reason, "panic");
}

Test(vm_exit, drained_request_after_a_stop_is_ignored)
{
	vm_request_exit(&vm, KITE_EXIT_TIMEOUT, "timeout");
	vm_request_exit_drained(&vm, KITE_EXIT_PANIC, "panic");
	cr_assert_not(vm_exit_is_draining(&vm));
	cr_assert_eq(vm.exit_code, KITE_EXIT_TIMEOUT);
}

/* The pvpanic port asks for a drained exit, not an immediate one. */
Test(vm_exit, pvpanic_write_drains_first)
{
	uint8_t b = 1;

	cr_assert_eq(pvpanic_init(&vm, 0x505), 0);
	cr_assert_eq(bus_write(&vm.pio, 0x505, &b, 1), 0);
	cr_assert_not(vm.exiting, "stopped before the guest's console drained");
	cr_assert(vm_exit_is_draining(&vm));
	cr_assert_eq(vm.exit_code, KITE_EXIT_PANIC);
}
