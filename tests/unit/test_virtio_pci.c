// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-pci transport on a VM without KVM: identity and capabilities in
 * config space, a block request end to end through the BAR (common config,
 * a notify write, the device event loop, the used ring, the MSI-X pending
 * bit), the set-up error lines, and a hostile sweep of the BAR while the
 * event loop runs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "test_helpers.h"
#include "test_pci_util.h"
#include "test_virtio_util.h"
#include "vmm/event_loop.h"
#include "vmm/vm.h"

#define SLOT 1
#define COMMON 0x0000
#define ISR 0x0100
#define DEVCFG 0x0200
#define NOTIFY 0x1000
#define PBA 0x3000
#define QSZ 16
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000

static struct vm vm;
static struct pci_bus *bus;
static char *img;
static bool destroyed;

/* Tests that own fds the devices use destroy the VM first, then close them. */
static void destroy_vm(void)
{
	if (!destroyed)
		vm_destroy(&vm);
	destroyed = true;
}

static void setup(void)
{
	struct pci_bus_layout l = test_layout();

	test_vm_init(&vm);
	cr_assert_eq(guest_mem_init(&vm.mem, T_RAM, T_HOLE), 0);
	vm.devloop = event_loop_create();
	cr_assert_not_null(vm.devloop);
	bus = pci_bus_create(&vm, &l);
	cr_assert_not_null(bus);
}

static void teardown(void)
{
	destroy_vm();
	test_remove_file(img);
}

TestSuite(virtio_pci, .init = setup, .fini = teardown);

static uint64_t bar0(void)
{
	return pci_bus_device(bus, SLOT)->bars[0].addr;
}

static uint64_t rd(uint64_t off, uint32_t size)
{
	return test_mmio_read(&vm, bar0() + off, size);
}

static void wr(uint64_t off, uint32_t size, uint64_t v)
{
	test_mmio_write(&vm, bar0() + off, size, v);
}

/* The vendor capabilities in list order: cfg_type, offset, length (and the multiplier). */
static unsigned int virtio_caps(uint8_t types[8], uint32_t offs[8], uint32_t lens[8],
				uint32_t *mult)
{
	unsigned int n = 0, off = test_cfg_read(&vm, SLOT, PCI_CAPABILITY_LIST, 1);

	for (unsigned int hops = 0; off && hops < 48; hops++) {
		if (test_cfg_read(&vm, SLOT, off, 1) == PCI_CAP_ID_VNDR) {
			cr_assert_lt(n, 8);
			cr_assert_eq(test_cfg_read(&vm, SLOT, off + 4, 1), 0, "BAR 0");
			types[n] = (uint8_t)test_cfg_read(&vm, SLOT, off + 3, 1);
			offs[n] = test_cfg_read(&vm, SLOT, off + 8, 4);
			lens[n] = test_cfg_read(&vm, SLOT, off + 12, 4);
			cr_assert_eq(test_cfg_read(&vm, SLOT, off + 2, 1), types[n] == 2 ? 20 : 16);
			if (types[n] == 2)
				*mult = test_cfg_read(&vm, SLOT, off + 16, 4);
			n++;
		}
		off = test_cfg_read(&vm, SLOT, off + 1, 1);
	}
	return n;
}

Test(virtio_pci, identity_and_capabilities)
{
	uint8_t types[8];
	uint32_t offs[8], lens[8], mult = 0;
	unsigned int msix;

	img = test_write_file("disk.img", "", 0);
	cr_assert_eq(truncate(img, 1 << 20), 0);
	cr_assert_eq(virtio_blk_create(&vm, bus, img, &(struct virtio_blk_opts){ 0 }), 0);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_VENDOR_ID, 2), 0x1af4);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_REVISION_ID, 1), 1);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_CLASS_REVISION, 4) >> 8, 0x010000);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	cr_assert_geq(test_cfg_read(&vm, SLOT, PCI_SUBSYSTEM_ID, 2), 0x40, "non-transitional");
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_BASE_ADDRESS_0, 4) & 0x7,
		     PCI_BASE_ADDRESS_MEM_TYPE_64);
	cr_assert_eq(virtio_caps(types, offs, lens, &mult), 4);
	cr_assert_arr_eq(types, "\x01\x03\x04\x02", 4);
	cr_assert_eq(offs[0], COMMON);
	cr_assert_eq(lens[0], 0x38);
	cr_assert_eq(offs[1], ISR);
	cr_assert_eq(offs[2], DEVCFG);
	cr_assert_eq(lens[2], 64);
	cr_assert_eq(offs[3], NOTIFY);
	cr_assert_eq(lens[3], 4, "one queue");
	cr_assert_eq(mult, 4);
	msix = test_find_cap(pci_bus_device(bus, SLOT), PCI_CAP_ID_MSIX);
	cr_assert_neq(msix, 0);
	cr_assert_eq(test_cfg_read(&vm, SLOT, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 1,
		     "two vectors: config and the queue");
}

Test(virtio_pci, rng_has_no_device_config)
{
	uint8_t types[8];
	uint32_t offs[8], lens[8], mult = 0;

	cr_assert_eq(virtio_rng_create(&vm, bus), 0);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_DEVICE_ID, 2), 0x1044);
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_CLASS_REVISION, 4) >> 8, 0xff0000);
	cr_assert_eq(virtio_caps(types, offs, lens, &mult), 3);
	cr_assert_arr_eq(types, "\x01\x03\x02", 3);
}

static bool wait_used(uint64_t used_gpa, uint16_t want)
{
	for (int i = 0; i < 5000; i++) {
		if (get_le16(t_ptr(&vm.mem, used_gpa + 2, 2)) == want)
			return true;
		usleep(1000);
	}
	return false;
}

Test(virtio_pci, block_read_end_to_end)
{
	uint8_t data[512], *h;
	struct tring tr;
	unsigned int msix;
	int fd;

	for (int i = 0; i < 512; i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	img = test_write_file("disk.img", "", 0);
	fd = open(img, O_WRONLY);
	cr_assert_eq(pwrite(fd, data, 512, 512 * 7), 512);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(virtio_blk_create(&vm, bus, img, &(struct virtio_blk_opts){ 0 }), 0);
	cr_assert_eq(event_loop_start(vm.devloop), 0);

	/* Firmware-less: the guest turns decoding and MSI-X on (vectors stay masked). */
	test_cfg_write(&vm, SLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	msix = test_find_cap(pci_bus_device(bus, SLOT), PCI_CAP_ID_MSIX);
	test_cfg_write(&vm, SLOT, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);

	cr_assert_eq(rd(COMMON + VIRTIO_COMMON_NUMQ, 2), 1);
	cr_assert_eq(rd(DEVCFG, 8), 2048, "capacity in sectors");
	wr(COMMON + VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(COMMON + VIRTIO_COMMON_DFSELECT, 4, 1);
	cr_assert_eq(rd(COMMON + VIRTIO_COMMON_DF, 4) & 1, 1, "VERSION_1");
	wr(COMMON + VIRTIO_COMMON_GFSELECT, 4, 0);
	wr(COMMON + VIRTIO_COMMON_GF, 4, (uint32_t)T_FEATURES_BASE);
	wr(COMMON + VIRTIO_COMMON_GFSELECT, 4, 1);
	wr(COMMON + VIRTIO_COMMON_GF, 4, 1);
	wr(COMMON + VIRTIO_COMMON_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(COMMON + VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&tr, &vm.mem, QSZ, DESC, AVAIL, USED);
	wr(COMMON + VIRTIO_COMMON_MSIX, 2, 0);
	cr_assert_eq(rd(COMMON + VIRTIO_COMMON_MSIX, 2), 0);
	wr(COMMON + VIRTIO_COMMON_Q_SELECT, 2, 0);
	wr(COMMON + VIRTIO_COMMON_Q_SIZE, 2, QSZ);
	wr(COMMON + VIRTIO_COMMON_Q_DESC, 4, DESC); /* 64-bit fields as two halves */
	wr(COMMON + VIRTIO_COMMON_Q_DESC + 4, 4, 0);
	wr(COMMON + VIRTIO_COMMON_Q_AVAIL, 8, AVAIL);
	wr(COMMON + VIRTIO_COMMON_Q_USED, 8, USED);
	wr(COMMON + VIRTIO_COMMON_Q_MSIX, 2, 1);
	cr_assert_eq(rd(COMMON + VIRTIO_COMMON_Q_MSIX, 2), 1);
	wr(COMMON + VIRTIO_COMMON_Q_ENABLE, 2, 1);

	h = t_ptr(&vm.mem, 0x20000, 16);
	put_le32(h, 0); /* VIRTIO_BLK_T_IN */
	put_le64(h + 8, 7);
	tr_desc(&tr, 0, 0x20000, 16, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, 0x30000, 513, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	/* Kicked before DRIVER_OK: ignored, then picked up by DRIVER_OK. */
	wr(NOTIFY, 2, 0);
	usleep(20000);
	cr_assert_eq(tr_used_idx(&tr), 0);
	wr(COMMON + VIRTIO_COMMON_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	cr_assert(wait_used(USED, 1), "request completed on the event loop");
	cr_assert_arr_eq(t_ptr(&vm.mem, 0x30000, 512), data, 512);
	cr_assert_eq(*t_ptr(&vm.mem, 0x30000 + 512, 1), 0, "VIRTIO_BLK_S_OK");
	/* Vector 1 is masked, so the interrupt waits in the PBA. */
	cr_assert_eq(rd(PBA, 8) & 2, 2);
	cr_assert_eq(rd(ISR, 1) & VIRTIO_ISR_QUEUE, VIRTIO_ISR_QUEUE);
	cr_assert_eq(rd(ISR, 1), 0, "read to clear");

	/* A second request through the notify address. */
	put_le64(h + 8, 0);
	tr_post(&tr, 0);
	wr(NOTIFY, 2, 0);
	cr_assert(wait_used(USED, 2));
}

Test(virtio_pci, setup_errors_are_one_line)
{
	struct test_capture cap;
	char *err;

	test_stderr_begin(&cap);
	cr_assert_eq(virtio_net_create(&vm, bus, "a-name-that-is-far-too-long", NULL), -EINVAL);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "tap a-name-that-is-far-too-long:"), "%s", err);
	cr_assert_eq(strchr(err, '\n') + 1, err + strlen(err), "one line: %s", err);
	free(err);
	cr_assert_null(pci_bus_device(bus, SLOT), "nothing was added");

	test_stderr_begin(&cap);
	cr_assert_eq(virtio_blk_create(&vm, bus, "/nonexistent/disk.img",
				       &(struct virtio_blk_opts){ .readonly = true }),
		     -ENOENT);
	err = test_stderr_end(&cap);
	cr_assert_str_eq(err,
			 "kite: error: disk /nonexistent/disk.img: No such file or directory\n");
	free(err);
}

Test(virtio_pci, console_with_file_input)
{
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);

	img = test_write_file("input.txt", "typed ahead\n", 12);
	int in = open(img, O_RDONLY | O_CLOEXEC);

	cr_assert(in >= 0 && out >= 0);
	cr_assert_eq(virtio_console_create(&vm, bus, in, out), 0, "a regular file needs no epoll");
	cr_assert_eq(test_cfg_read(&vm, SLOT, PCI_DEVICE_ID, 2), 0x1043);
	cr_assert_eq(virtio_console_create(&vm, bus, -1, out), 0);
	cr_assert_eq(test_cfg_read(&vm, SLOT + 1, PCI_CLASS_REVISION, 4) >> 8, 0x078000);
	destroy_vm(); /* before the fds go */
	close(in);
	close(out);
}

/* A driver that follows the protocol, with rings at random places in scribbled memory. */
static void sweep_init(uint64_t base, unsigned int *seed)
{
	uint64_t f = T_FEATURES_BASE & ~(uint64_t)(rand_r(seed) & 3) << 28;

	for (uint64_t a = 0; a < (1 << 20); a += 4)
		put_le32(t_ptr(&vm.mem, a, 4), (uint32_t)rand_r(seed) & 0x000fffff);
	test_mmio_write(&vm, base + VIRTIO_COMMON_STATUS, 1, 0);
	test_mmio_write(&vm, base + VIRTIO_COMMON_STATUS, 1, 3);
	test_mmio_write(&vm, base + VIRTIO_COMMON_GFSELECT, 4, 0);
	test_mmio_write(&vm, base + VIRTIO_COMMON_GF, 4, (uint32_t)f);
	test_mmio_write(&vm, base + VIRTIO_COMMON_GFSELECT, 4, 1);
	test_mmio_write(&vm, base + VIRTIO_COMMON_GF, 4, 1);
	test_mmio_write(&vm, base + VIRTIO_COMMON_STATUS, 1, 0xb);
	for (uint16_t q = 0; q < 2; q++) {
		uint16_t size = (uint16_t)(2u << (rand_r(seed) % 6));
		uint64_t avail = (uint64_t)rand_r(seed) & 0xffffe;

		/* Sane indices (mostly), so the walker gets to the descriptors. */
		put_le16(t_ptr(&vm.mem, avail + 2, 2), (uint16_t)(rand_r(seed) % (size + 2)));
		for (uint16_t j = 0; j < size; j++)
			put_le16(t_ptr(&vm.mem, avail + 4 + 2 * j, 2),
				 (uint16_t)(rand_r(seed) % size));
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_SELECT, 2, q);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_SIZE, 2, size);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_DESC, 8, rand_r(seed) & 0xffff0);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_AVAIL, 8, avail);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_USED, 8, rand_r(seed) & 0xffffc);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_MSIX, 2, q + 1);
		test_mmio_write(&vm, base + VIRTIO_COMMON_Q_ENABLE, 2, 1);
	}
	test_mmio_write(&vm, base + VIRTIO_COMMON_STATUS, 1, 0xf);
}

Test(virtio_pci, hostile_bar_sweep)
{
	unsigned int seed = 12345, msix, running = 0;
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);

	cr_assert_eq(virtio_rng_create(&vm, bus), 0);
	cr_assert_eq(virtio_console_create(&vm, bus, -1, out), 0);
	cr_assert_eq(event_loop_start(vm.devloop), 0);
	for (unsigned int slot = SLOT; slot <= SLOT + 1; slot++) {
		test_cfg_write(&vm, slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		msix = test_find_cap(pci_bus_device(bus, slot), PCI_CAP_ID_MSIX);
		test_cfg_write(&vm, slot, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	}
	/*
	 * Random registers, values and widths from this "vCPU" while the event
	 * loop runs the queues over random ring contents, with a proper driver
	 * start now and then so the queues do run.
	 */
	for (int i = 0; i < 100000; i++) {
		unsigned int slot = SLOT + (rand_r(&seed) & 1);
		uint64_t base = pci_bus_device(bus, slot)->bars[0].addr;
		uint64_t off = (uint64_t)rand_r(&seed) % 0x4400; /* a little past the end too */
		uint32_t size = 1u << (rand_r(&seed) % 4);
		uint64_t v = (uint64_t)rand_r(&seed) << 32 | (uint64_t)rand_r(&seed);

		if (i % 500 == 0)
			sweep_init(base, &seed);
		if (i % 8 < 5) { /* mostly kicks */
			test_mmio_write(&vm, base + NOTIFY + 4 * (i & 1), 2, 0);
			continue;
		}
		if (i % 8 == 5)
			off %= 0x40;
		if (i % 100 == 99) /* occasionally a reset or a status change */
			test_mmio_write(&vm, base + VIRTIO_COMMON_STATUS, 1, rand_r(&seed) & 0x4f);
		else if (rand_r(&seed) & 1)
			test_mmio_write(&vm, base + off, size, v);
		else
			(void)test_mmio_read(&vm, base + off, size);
		running += (test_mmio_read(&vm, base + VIRTIO_COMMON_STATUS, 1) & 0x44) == 4;
	}
	cr_assert_gt(running, 1000, "the devices did run (%u)", running);
	destroy_vm();
	close(out);
}
