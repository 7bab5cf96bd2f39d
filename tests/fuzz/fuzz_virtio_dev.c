// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the virtio device models behind the transport: the
 * input picks a device (blk on a 64 KiB image, net on a socketpair standing
 * in for the tap, console on pipes, rng), fills guest RAM, then plays a
 * sequence of driver operations: common-configuration reads and writes,
 * device-configuration reads, queue kicks, incoming frames and console
 * input. Whatever the sequence, the device must only touch guest RAM and
 * the image, and never hang. Console output goes to /dev/null.
 *
 * fuzz-sources: devices/virtio/virtqueue.c devices/virtio/virtio_core.c
 * fuzz-sources: devices/virtio/blk.c devices/virtio/net.c devices/virtio/console.c
 * fuzz-sources: devices/virtio/rng.c vmm/dma.c vmm/guest_mem.c vmm/log.c
 * fuzz-sources: devices/virtio/blk_aio.c -luring
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/virtio_dev.h"
#include "vmm/event_loop.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define RAM_SIZE (64 * 1024)
#define RAM_HOLE (32 * 1024)
#define IMG_SIZE (64 * 1024)
#define MEM_IN 4096 /* input bytes copied into the start of RAM */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The transport is not linked in: the devices are driven directly. */
int virtio_pci_attach(struct vm *vm, struct pci_bus *bus, struct virtio_dev *vdev)
{
	abort();
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_handler_fn fn, void *opaque)
{
	abort();
}

static struct guest_mem mem;
static struct virtio_dev *devs[4];
static int net_peer, con_in;
static uint8_t junk[70000];

static void fuzz_signal(struct virtio_dev *vdev, uint16_t vector)
{
	if (vector >= vdev->nvec)
		__builtin_trap();
}

static void fuzz_kick(struct virtio_dev *vdev, uint16_t q)
{
	if (q >= vdev->nqueues)
		__builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int img, sv[2], in[2], out = open("/dev/null", O_WRONLY);
	char path[64];

	log_set_level(LOG_ERROR);
	img = memfd_create("fuzz-disk", 0);
	if (guest_mem_init(&mem, RAM_SIZE, RAM_HOLE) || img < 0 || ftruncate(img, IMG_SIZE) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) || pipe2(in, O_NONBLOCK) ||
	    out < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
	net_peer = sv[1];
	con_in = in[1];
	if (virtio_blk_new(&mem, path, false, &devs[0]) ||
	    virtio_net_new(&mem, sv[0], (const uint8_t *)"\x02\0\0\0\0\1", &devs[1]) ||
	    virtio_console_new(&mem, in[0], out, &devs[2]) || virtio_rng_new(&mem, &devs[3]))
		abort();
	for (int i = 0; i < 4; i++) {
		devs[i]->signal = fuzz_signal;
		devs[i]->kick = fuzz_kick;
		devs[i]->nvec = (uint16_t)(devs[i]->nqueues + 1);
	}
	return 0;
}

static void drain(int fd)
{
	while (read(fd, junk, sizeof(junk)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ops;
	struct virtio_dev *vdev;
	size_t nops, n;
	uint8_t zero = 0;

	/* Device, number of operations, the operations, then the start of guest RAM. */
	if (size < 2)
		return 0;
	vdev = devs[data[0] & 3];
	nops = data[1];
	data += 2;
	size -= 2;
	if (nops * 8 > size)
		nops = size / 8;
	ops = data;
	data += nops * 8;
	size -= nops * 8;
	memset(mem.regions[0].hva, 0, RAM_HOLE);
	memset(mem.regions[1].hva, 0, RAM_SIZE - RAM_HOLE);
	n = size < MEM_IN ? size : MEM_IN;
	memcpy(mem.regions[0].hva, data, n);
	drain(net_peer);
	virtio_common_write(vdev, VIRTIO_COMMON_STATUS, &zero, 1);

	/* 8 bytes each: kind, register offset, width, value. */
	for (; nops; ops += 8, nops--) {
		uint8_t kind = ops[0] % 8, buf[8];
		uint32_t off = ops[1];
		uint32_t width = 1u << (ops[2] % 4);
		size_t len;

		memcpy(buf, ops + 3, 5);
		buf[5] = buf[6] = buf[7] = 0;
		switch (kind) {
		case 0:
		case 1: /* common configuration write, mostly within the structure */
			virtio_common_write(vdev, off % 0x40, buf, width);
			break;
		case 2:
			virtio_common_read(vdev, off, buf, width);
			break;
		case 3:
			virtio_config_read(vdev, off, buf, width);
			(void)virtio_isr_read(vdev);
			break;
		case 4:
		case 5:
			virtio_dev_kick(vdev, (uint16_t)(off % (vdev->nqueues + 1)));
			if (vdev == devs[0])
				virtio_blk_io_wait(vdev); /* what the event loop would do */
			break;
		case 6: /* a frame from the tap, or bytes typed on the console */
			len = (size_t)(buf[0] | buf[1] << 8) % sizeof(junk);
			memset(junk, buf[2], len);
			if (vdev == devs[1]) {
				(void)!send(net_peer, junk, len, 0);
				virtio_net_tap_event(vdev);
			} else if (vdev == devs[2]) {
				(void)!write(con_in, junk, len % 512);
				virtio_console_input_event(vdev);
			}
			break;
		case 7: /* a well-formed start, so sequences get to run queues */
			buf[0] = 0xb;
			virtio_common_write(vdev, VIRTIO_COMMON_STATUS, buf, 1);
			buf[0] = 0xf;
			virtio_common_write(vdev, VIRTIO_COMMON_STATUS, buf, 1);
			break;
		}
	}
	return 0;
}
