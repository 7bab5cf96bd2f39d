// SPDX-License-Identifier: GPL-2.0-only
/*
 * Just enough of an i8042 keyboard controller for the guest to reset the
 * machine: command 0xfe (pulse reset line) on the command port, or command
 * 0xd1 followed by an output-port value with the reset bit (bit 0) clear.
 */
#include <errno.h>
#include <stdlib.h>

#include "devices/legacy/legacy.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define I8042_CMD_OFFSET 4 /* 0x64 relative to the 0x60 data port */
#define I8042_CMD_WRITE_OUTPUT 0xd1
#define I8042_CMD_RESET 0xfe

struct i8042 {
	struct vm *vm;
	uint8_t pending_cmd;
};

static void i8042_reset(struct i8042 *k)
{
	log_info("guest reset through the i8042 controller");
	vm_request_exit(k->vm, KITE_EXIT_RESET, "reset");
}

static void i8042_write_data(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct i8042 *k = opaque;

	if (k->pending_cmd == I8042_CMD_WRITE_OUTPUT && !(data[0] & 1))
		i8042_reset(k);
	k->pending_cmd = 0;
}

static void i8042_write_cmd(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct i8042 *k = opaque;

	log_debug("i8042: command 0x%02x", data[0]);
	if (data[0] == I8042_CMD_RESET)
		i8042_reset(k);
	k->pending_cmd = data[0];
}

static const struct bus_ops i8042_data_ops = { .read = bus_read_zeros, .write = i8042_write_data };
static const struct bus_ops i8042_cmd_ops = { .read = bus_read_zeros, .write = i8042_write_cmd };

int i8042_init(struct vm *vm, uint16_t port_data)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->vm = vm;
	if (vm_own(vm, free, k)) {
		free(k);
		return -ENOSPC;
	}
	ret = bus_register(&vm->pio, port_data, 1, &i8042_data_ops, k, "i8042-data");
	if (!ret)
		ret = bus_register(&vm->pio, port_data + I8042_CMD_OFFSET, 1, &i8042_cmd_ops, k,
				   "i8042-cmd");
	if (ret)
		log_error("i8042: cannot register ports 0x%x/0x%x: %d", port_data,
			  port_data + I8042_CMD_OFFSET, ret);
	return ret;
}
