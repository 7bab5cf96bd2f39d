// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk driven like a driver would: feature negotiation and queue set-up
 * through the common configuration, requests in guest memory, a kick, and the
 * used ring and status byte read back. Also the device core's register and
 * status rules (virtio_core suite), with the block device as the subject.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/virtio_dev.h"
#include "test_helpers.h"
#include "test_virtio_util.h"

#define QSZ 16
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define HDR 0x20000
#define STATUS 0x20100
#define DATA 0x100000
#define TABLE 0x30000

#define IMG_SECTORS 2048 /* 1 MiB */
#define F_SIZE_MAX (1ull << 1)
#define F_SEG_MAX (1ull << 2)
#define F_RO (1ull << 5)
#define F_FLUSH (1ull << 9)

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

static struct guest_mem mem;
static struct virtio_dev *vdev;
static struct t_transport tt;
static struct tring tr;
static char *img;
static uint8_t *pattern;

/* A kick, then what the event loop does once the disk completes the requests. */
static void kick0(void)
{
	virtio_dev_kick(vdev, 0);
	virtio_blk_io_wait(vdev);
}

static uint8_t pattern_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

static void open_dev(bool readonly)
{
	cr_assert_eq(virtio_blk_new(&mem, img, readonly, &vdev), 0);
	t_attach(vdev, &tt);
}

static void start(uint64_t extra)
{
	cr_assert(t_negotiate(vdev, T_FEATURES_BASE | extra) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&tr, &mem, QSZ, DESC, AVAIL, USED);
	t_cw(vdev, VIRTIO_COMMON_MSIX, 2, 0);
	t_queue(vdev, 0, &tr, 1);
	t_driver_ok(vdev);
}

static void setup(void)
{
	size_t len = IMG_SECTORS * 512;

	cr_assert_eq(guest_mem_init(&mem, T_RAM, T_HOLE), 0);
	pattern = malloc(len);
	cr_assert_not_null(pattern);
	for (size_t i = 0; i < len; i++)
		pattern[i] = pattern_byte(i);
	img = test_write_file("disk.img", pattern, len);
	open_dev(false);
	start(F_FLUSH);
}

static void teardown(void)
{
	virtio_dev_destroy(vdev);
	test_remove_file(img);
	free(pattern);
	guest_mem_destroy(&mem);
}

/*
 * Posts header / data / status as three descriptors (data device-writable
 * for IN and GET_ID) and kicks. Returns the used length; *status gets the
 * status byte (0xff if untouched).
 */
static uint32_t request(uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
			uint8_t *status)
{
	bool dev_writes = type == T_IN || type == T_GET_ID;
	uint16_t before = tr_used_idx(&tr);
	uint8_t *h = t_ptr(&mem, HDR, 16);
	uint32_t id, used_len;

	put_le32(h, type);
	put_le32(h + 4, 0);
	put_le64(h + 8, sector);
	*t_ptr(&mem, STATUS, 1) = 0xff;
	tr_desc(&tr, 0, HDR, 16, VRING_DESC_F_NEXT, len ? 1 : 2);
	tr_desc(&tr, 1, data, len, VRING_DESC_F_NEXT | (dev_writes ? VRING_DESC_F_WRITE : 0), 2);
	tr_desc(&tr, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), (uint16_t)(before + 1), "request completed");
	tr_used(&tr, before, &id, &used_len);
	cr_assert_eq(id, 0);
	*status = *t_ptr(&mem, STATUS, 1);
	return used_len;
}

static void read_image(void *buf, size_t len, off_t off)
{
	int fd = open(img, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

TestSuite(virtio_blk, .init = setup, .fini = teardown);

Test(virtio_blk, features_and_config)
{
	uint64_t f = t_device_features(vdev);
	uint8_t cfg[16];

	cr_assert_eq(f & T_FEATURES_BASE, T_FEATURES_BASE);
	cr_assert(f & F_FLUSH);
	cr_assert(f & F_SEG_MAX);
	cr_assert(f & F_SIZE_MAX);
	cr_assert_not(f & F_RO);
	cr_assert_eq(vdev->device_id, VIRTIO_ID_BLOCK);
	virtio_config_read(vdev, 0, cfg, 16);
	cr_assert_eq(get_le64(cfg), IMG_SECTORS);
	cr_assert_eq(get_le32(cfg + 8), 64 * 1024, "size_max");
	cr_assert_eq(get_le32(cfg + 12), 60, "seg_max");
	/* A 64-bit field read as two halves, as Linux does. */
	virtio_config_read(vdev, 4, cfg, 4);
	cr_assert_eq(get_le32(cfg), 0);
	/* Past the end of the device configuration: zeroes, no crash. */
	memset(cfg, 0xee, sizeof(cfg));
	virtio_config_read(vdev, 62, cfg, 4);
	cr_assert_eq(cfg[2], 0);
	virtio_config_read(vdev, 0xffffff00, cfg, 8);
	cr_assert_eq(cfg[0], 0);
}

Test(virtio_blk, read_across_page_boundary)
{
	uint64_t gpa = DATA + 4096 - 700;
	uint8_t st;

	memset(t_ptr(&mem, gpa, 2048), 0, 2048);
	cr_assert_eq(request(T_IN, 5, gpa, 2048, &st), 2049);
	cr_assert_eq(st, S_OK);
	cr_assert_arr_eq(t_ptr(&mem, gpa, 2048), pattern + 5 * 512, 2048);
	cr_assert_eq(tt.signals[1], 1, "queue vector fired");
}

Test(virtio_blk, read_split_over_descriptors)
{
	uint16_t before = tr_used_idx(&tr);
	uint8_t *h = t_ptr(&mem, HDR, 16);
	uint32_t id, len;

	put_le32(h, T_IN);
	put_le64(h + 8, 100);
	tr_desc(&tr, 3, HDR, 16, VRING_DESC_F_NEXT, 7);
	tr_desc(&tr, 7, DATA + 0x5000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4);
	tr_desc(&tr, 4, DATA + 0x9ff0, 1024 + 1, VRING_DESC_F_WRITE, 0); /* data + status */
	tr_post(&tr, 3);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), before + 1);
	tr_used(&tr, before, &id, &len);
	cr_assert_eq(id, 3);
	cr_assert_eq(len, 1537);
	cr_assert_arr_eq(t_ptr(&mem, DATA + 0x5000, 512), pattern + 100 * 512, 512);
	cr_assert_arr_eq(t_ptr(&mem, DATA + 0x9ff0, 1024), pattern + 101 * 512, 1024);
	cr_assert_eq(*t_ptr(&mem, DATA + 0x9ff0 + 1024, 1), S_OK);
}

Test(virtio_blk, read_through_discontiguous_iova)
{
	struct tring iova;
	uint8_t *h;

	/* Behind a vIOMMU the device sees IOVAs: page n here is guest page n ^ 1. */
	vdev->dma.ops = &t_scrambled_ops;
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert(t_negotiate(vdev, T_FEATURES_BASE) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&tr, &mem, QSZ, t_scramble(0x400000), t_scramble(0x401000), t_scramble(0x402000));
	iova = tr;
	iova.desc = 0x400000;
	iova.avail = 0x401000;
	iova.used = 0x402000;
	t_queue(vdev, 0, &iova, 1);
	t_driver_ok(vdev);
	h = t_ptr(&mem, t_scramble(0x403000), 16);
	put_le32(h, T_IN);
	put_le64(h + 8, 9);
	tr_desc(&tr, 0, 0x403000, 16, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, 0x500800, 0x1000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	tr_desc(&tr, 2, 0x403010, 1, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 1);
	cr_assert_eq(*t_ptr(&mem, t_scramble(0x403010), 1), S_OK);
	cr_assert_arr_eq(t_ptr(&mem, t_scramble(0x500800), 0x800), pattern + 9 * 512, 0x800);
	cr_assert_arr_eq(t_ptr(&mem, t_scramble(0x501000), 0x800), pattern + 9 * 512 + 0x800,
			 0x800);
}

Test(virtio_blk, write_then_read_back)
{
	uint8_t buf[1536], st;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)~i;
	memcpy(t_ptr(&mem, DATA, sizeof(buf)), buf, sizeof(buf));
	cr_assert_eq(request(T_OUT, 10, DATA, sizeof(buf), &st), 1);
	cr_assert_eq(st, S_OK);
	memset(buf, 0, sizeof(buf));
	read_image(buf, sizeof(buf), 10 * 512);
	cr_assert_arr_eq(buf, t_ptr(&mem, DATA, sizeof(buf)), sizeof(buf));
	/* The neighbours are untouched. */
	read_image(buf, 512, 9 * 512);
	cr_assert_arr_eq(buf, pattern + 9 * 512, 512);
}

Test(virtio_blk, read_past_end_fails)
{
	uint8_t st;

	memset(t_ptr(&mem, DATA, 1024), 0x5a, 1024);
	cr_assert_eq(request(T_IN, IMG_SECTORS - 1, DATA, 1024, &st), 1);
	cr_assert_eq(st, S_IOERR);
	cr_assert_eq(*t_ptr(&mem, DATA, 1), 0x5a, "nothing transferred");
	cr_assert_eq(request(T_IN, IMG_SECTORS, DATA, 512, &st), 1);
	cr_assert_eq(st, S_IOERR);
	/* The last sector itself is fine. */
	cr_assert_eq(request(T_IN, IMG_SECTORS - 1, DATA, 512, &st), 513);
	cr_assert_eq(st, S_OK);
}

Test(virtio_blk, write_past_end_and_overflowing_sector_fail)
{
	uint8_t st;

	cr_assert_eq(request(T_OUT, IMG_SECTORS - 1, DATA, 1024, &st), 1);
	cr_assert_eq(st, S_IOERR);
	cr_assert_eq(request(T_OUT, UINT64_MAX / 512 + 2, DATA, 512, &st), 1);
	cr_assert_eq(st, S_IOERR);
	cr_assert_eq(request(T_IN, UINT64_MAX, DATA, 512, &st), 1);
	cr_assert_eq(st, S_IOERR);
}

Test(virtio_blk, unaligned_length_fails)
{
	uint8_t st;

	cr_assert_eq(request(T_IN, 0, DATA, 100, &st), 1);
	cr_assert_eq(st, S_IOERR);
}

Test(virtio_blk, flush_get_id_unsupported)
{
	uint8_t st;

	cr_assert_eq(request(T_FLUSH, 0, DATA, 0, &st), 1);
	cr_assert_eq(st, S_OK);
	memset(t_ptr(&mem, DATA, 20), 0xff, 20);
	cr_assert_eq(request(T_GET_ID, 0, DATA, 20, &st), 21);
	cr_assert_eq(st, S_OK);
	cr_assert_arr_eq(t_ptr(&mem, DATA, 20), "disk.img\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	cr_assert_eq(request(42, 0, DATA, 0, &st), 1);
	cr_assert_eq(st, S_UNSUPP);
}

Test(virtio_blk, short_header_and_no_status)
{
	uint16_t before = tr_used_idx(&tr);
	uint32_t id, len;

	/* 8-byte header: IOERR in the status byte. */
	tr_desc(&tr, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	*t_ptr(&mem, STATUS, 1) = 0xff;
	tr_post(&tr, 0);
	/* Nothing writable: no status can be written, the chain comes back empty. */
	tr_desc(&tr, 5, HDR, 16, 0, 0);
	tr_post(&tr, 5);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), before + 2);
	cr_assert_eq(*t_ptr(&mem, STATUS, 1), S_IOERR);
	tr_used(&tr, before + 1, &id, &len);
	cr_assert_eq(id, 5);
	cr_assert_eq(len, 0);
}

Test(virtio_blk, indirect_request)
{
	uint8_t *h = t_ptr(&mem, HDR, 16);

	put_le32(h, T_IN);
	put_le64(h + 8, 3);
	t_write_desc(&mem, TABLE, HDR, 16, VRING_DESC_F_NEXT, 1);
	t_write_desc(&mem, TABLE + 16, DATA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	t_write_desc(&mem, TABLE + 32, STATUS, 1, VRING_DESC_F_WRITE, 0);
	tr_desc(&tr, 9, TABLE, 48, VRING_DESC_F_INDIRECT, 0);
	tr_post(&tr, 9);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 1);
	cr_assert_eq(*t_ptr(&mem, STATUS, 1), S_OK);
	cr_assert_arr_eq(t_ptr(&mem, DATA, 512), pattern + 3 * 512, 512);
}

Test(virtio_blk, malformed_chain_dropped_device_keeps_going)
{
	uint8_t st;

	tr_desc(&tr, 6, HDR, 16, VRING_DESC_F_NEXT, 6); /* loop */
	tr_post(&tr, 6);
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 1);
	cr_assert_not(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(request(T_IN, 0, DATA, 512, &st), 513);
	cr_assert_eq(st, S_OK);
}

Test(virtio_blk, broken_ring_needs_reset)
{
	uint8_t st;

	tr_set_avail_idx(&tr, QSZ + 3); /* more than a ring ahead */
	kick0();
	cr_assert(t_cr(vdev, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(tt.signals[0], 1, "config change on the config vector");
	cr_assert_eq(virtio_isr_read(vdev) & VIRTIO_ISR_CONFIG, VIRTIO_ISR_CONFIG);
	cr_assert_eq(virtio_isr_read(vdev), 0, "read to clear");
	/* Stopped: kicks do nothing. */
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 0);
	/* A reset brings it back. */
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_STATUS, 1), 0);
	start(F_FLUSH);
	cr_assert_eq(request(T_IN, 1, DATA, 512, &st), 513);
	cr_assert_eq(st, S_OK);
}

Test(virtio_blk, event_idx_suppresses_interrupt)
{
	uint8_t st;

	tr_set_used_event(&tr, 5);
	cr_assert_eq(request(T_FLUSH, 0, DATA, 0, &st), 1);
	cr_assert_eq(tt.signals[1], 0, "driver asked to hear only after entry 5");
	tr_set_used_event(&tr, 1);
	cr_assert_eq(request(T_FLUSH, 0, DATA, 0, &st), 1);
	cr_assert_eq(tt.signals[1], 1);
	/* The device asked to be kicked for what comes next. */
	cr_assert_eq(tr_avail_event(&tr), 2);
}

Test(virtio_blk, many_requests_one_kick_one_interrupt)
{
	for (uint16_t i = 0; i < 6; i++) {
		uint8_t *h = t_ptr(&mem, HDR + 32 * i, 16);

		put_le32(h, T_IN);
		put_le64(h + 8, i);
		tr_desc(&tr, (uint16_t)(2 * i), HDR + 32 * i, 16, VRING_DESC_F_NEXT,
			(uint16_t)(2 * i + 1));
		tr_desc(&tr, (uint16_t)(2 * i + 1), DATA + 1024 * i, 513, VRING_DESC_F_WRITE, 0);
		tr_post(&tr, (uint16_t)(2 * i));
	}
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 6);
	cr_assert_eq(tt.signals[1], 1);
	for (uint16_t i = 0; i < 6; i++) {
		cr_assert_arr_eq(t_ptr(&mem, DATA + 1024 * i, 512), pattern + 512 * i, 512);
		cr_assert_eq(*t_ptr(&mem, DATA + 1024 * i + 512, 1), S_OK);
	}
}

Test(virtio_blk, readonly_rejects_writes)
{
	uint8_t buf[512], st;

	virtio_dev_destroy(vdev);
	open_dev(true);
	cr_assert(t_device_features(vdev) & F_RO);
	start(F_RO);
	memset(t_ptr(&mem, DATA, 512), 0x11, 512);
	cr_assert_eq(request(T_OUT, 0, DATA, 512, &st), 1);
	cr_assert_eq(st, S_IOERR);
	read_image(buf, 512, 0);
	cr_assert_arr_eq(buf, pattern, 512, "image unchanged");
	cr_assert_eq(request(T_IN, 0, DATA, 512, &st), 513);
	cr_assert_eq(st, S_OK);
}

Test(virtio_blk, open_errors)
{
	struct virtio_dev *d = NULL;
	struct test_capture cap;
	char *missing, *err;

	cr_assert(asprintf(&missing, "%s.nope", img) > 0);
	test_stderr_begin(&cap);
	cr_assert_eq(virtio_blk_new(&mem, missing, false, &d), -ENOENT);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "disk ") && strstr(err, ".nope: No such file or directory"), "%s",
		  err);
	cr_assert_eq(strchr(err, '\n') + 1, err + strlen(err), "one line: %s", err);
	free(err);
	free(missing);

	*strrchr(img, '/') = '\0';
	cr_assert_eq(virtio_blk_new(&mem, img, true, &d), -EINVAL, "a directory");
	*strchr(img, '\0') = '/';
}

Test(virtio_blk, unwritable_image_needs_readonly)
{
	struct virtio_dev *d = NULL;
	struct test_capture cap;
	bool root = geteuid() == 0;
	char *err;

	cr_assert_eq(chmod(img, 0444), 0);
	/* Root ignores file modes: act as nobody, keeping the saved uid to come back. */
	if (root) {
		*strrchr(img, '/') = '\0';
		cr_assert_eq(chmod(img, 0755), 0);
		*strchr(img, '\0') = '/';
		cr_assert_eq(setresuid(-1, 65534, 0), 0);
	}
	test_stderr_begin(&cap);
	cr_assert_eq(virtio_blk_new(&mem, img, false, &d), -EACCES);
	err = test_stderr_end(&cap);
	cr_assert(strstr(err, "not writable (Permission denied); use readonly=on"), "%s", err);
	free(err);
	cr_assert_eq(virtio_blk_new(&mem, img, true, &d), 0);
	virtio_dev_destroy(d);
	if (root)
		cr_assert_eq(setresuid(-1, 0, -1), 0);
}

/* Asynchronous I/O: the worker-thread back end and cache=none, through the device. */
static void reopen(bool direct, enum blk_aio_backend aio)
{
	const struct virtio_blk_opts o = { .direct = direct };

	virtio_dev_destroy(vdev);
	cr_assert_eq(virtio_blk_new_opts(&mem, img, -1, &o, aio, &vdev), 0);
	t_attach(vdev, &tt);
	start(F_FLUSH);
}

/* Writes 1536 bytes from @gpa at sector 10, flushes, reads them back to @gpa + 0x10000. */
static void write_flush_read(uint64_t gpa)
{
	uint8_t buf[1536], st;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(~i ^ gpa);
	memcpy(t_ptr(&mem, gpa, sizeof(buf)), buf, sizeof(buf));
	cr_assert_eq(request(T_OUT, 10, gpa, sizeof(buf), &st), 1);
	cr_assert_eq(st, S_OK);
	cr_assert_eq(request(T_FLUSH, 0, DATA, 0, &st), 1);
	cr_assert_eq(st, S_OK);
	read_image(buf, sizeof(buf), 10 * 512);
	cr_assert_arr_eq(buf, t_ptr(&mem, gpa, sizeof(buf)), sizeof(buf));
	cr_assert_eq(request(T_IN, 10, gpa + 0x10000, sizeof(buf), &st), sizeof(buf) + 1);
	cr_assert_eq(st, S_OK);
	cr_assert_arr_eq(t_ptr(&mem, gpa + 0x10000, sizeof(buf)), buf, sizeof(buf));
	/* And a neighbour, read through the same path. */
	cr_assert_eq(request(T_IN, 9, gpa + 0x10000, 512, &st), 513);
	cr_assert_arr_eq(t_ptr(&mem, gpa + 0x10000, 512), pattern + 9 * 512, 512);
}

Test(virtio_blk, worker_threads_backend)
{
	reopen(false, BLK_AIO_THREADS);
	write_flush_read(DATA);
}

Test(virtio_blk, cache_none_aligned_and_bounced)
{
	reopen(true, BLK_AIO_AUTO);
	write_flush_read(DATA);		 /* page-aligned guest buffers: straight O_DIRECT */
	write_flush_read(DATA + 0x2001); /* odd addresses: through the bounce buffer */
	reopen(true, BLK_AIO_THREADS);
	write_flush_read(DATA + 0x4003);
}

Test(virtio_blk, reset_waits_for_requests_in_flight)
{
	uint8_t *h = t_ptr(&mem, HDR, 16);

	put_le32(h, T_IN);
	put_le64(h + 8, 0);
	*t_ptr(&mem, STATUS, 1) = 0xff;
	tr_desc(&tr, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, DATA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	tr_desc(&tr, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	memset(t_ptr(&mem, 0, 64), 0xaa, 64); /* where a reset ring's used ring points */
	virtio_dev_kick(vdev, 0);	      /* submitted; not waited for */
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	/* The disk finished before the reset returned; nothing went to the old ring. */
	cr_assert_arr_eq(t_ptr(&mem, DATA, 512), pattern, 512);
	cr_assert_eq(tr_used_idx(&tr), 0);
	virtio_blk_io_wait(vdev);
	cr_assert_eq(tr_used_idx(&tr), 0, "no late completion after the reset");
	for (int i = 0; i < 64; i++)
		cr_assert_eq(*t_ptr(&mem, (uint64_t)i, 1), 0xaa, "gpa %d written after the reset",
			     i);
	start(F_FLUSH);
	write_flush_read(DATA);
}

/* The device core's rules, through the block device. */
TestSuite(virtio_core, .init = setup, .fini = teardown);

Test(virtio_core, features_need_version_1)
{
	cr_assert_not(t_negotiate(vdev, 1ull << VIRTIO_F_EVENT_IDX) & VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(t_negotiate(vdev, T_FEATURES_BASE | (1ull << 40)) & VIRTIO_STATUS_FEATURES_OK,
		      "a feature that was not offered");
	cr_assert(t_negotiate(vdev, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
}

Test(virtio_core, features_frozen_after_features_ok)
{
	t_cw(vdev, VIRTIO_COMMON_GFSELECT, 4, 0);
	t_cw(vdev, VIRTIO_COMMON_GF, 4, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_GF, 4), (uint32_t)(T_FEATURES_BASE | F_FLUSH));
}

Test(virtio_core, driver_ok_needs_features_ok)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_STATUS, 1),
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cr_assert_not(virtio_dev_running(vdev));
}

Test(virtio_core, driver_cannot_set_needs_reset)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0xff & ~VIRTIO_STATUS_FAILED);
	cr_assert_not(t_cr(vdev, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_core, nothing_runs_before_driver_ok)
{
	uint8_t *h = t_ptr(&mem, HDR, 16);

	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert(t_negotiate(vdev, T_FEATURES_BASE) & VIRTIO_STATUS_FEATURES_OK);
	tr_init(&tr, &mem, QSZ, DESC, AVAIL, USED);
	t_queue(vdev, 0, &tr, 1);
	put_le32(h, T_FLUSH);
	tr_desc(&tr, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	tr_desc(&tr, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	tr_post(&tr, 0);
	memset(tt.kicks, 0, sizeof(tt.kicks));
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 0);
	t_driver_ok(vdev);
	cr_assert_eq(tt.kicks[0], 1, "DRIVER_OK looks at every ready queue again");
	kick0();
	cr_assert_eq(tr_used_idx(&tr), 1);
	virtio_dev_kick(vdev, 7); /* no such queue */
}

Test(virtio_core, vectors_and_queue_registers)
{
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_NUMQ, 2), 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_MSIX, 2), 1);
	t_cw(vdev, VIRTIO_COMMON_Q_MSIX, 2, 2); /* nvec is 2: vectors 0 and 1 */
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_MSIX, 2), VIRTIO_NO_VECTOR);
	t_cw(vdev, VIRTIO_COMMON_MSIX, 2, 0x7ff);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_MSIX, 2), VIRTIO_NO_VECTOR);
	t_cw(vdev, VIRTIO_COMMON_MSIX, 2, 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_MSIX, 2), 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_ENABLE, 2), 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_NOFF, 2), 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC, 8), DESC);
	/* The layout is fixed while enabled. */
	t_cw(vdev, VIRTIO_COMMON_Q_DESC, 8, 0x5000);
	t_cw(vdev, VIRTIO_COMMON_Q_SIZE, 2, 4);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC, 8), DESC);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_SIZE, 2), QSZ);
	/* A queue that does not exist reads 0 and ignores writes. */
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, 3);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_SIZE, 2), 0);
	t_cw(vdev, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	/* Device features beyond the two words read 0. */
	t_cw(vdev, VIRTIO_COMMON_DFSELECT, 4, 2);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_DF, 4), 0);
}

Test(virtio_core, address_as_two_halves_and_odd_accesses)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, 0);
	t_cw(vdev, VIRTIO_COMMON_Q_DESC, 4, 0x89abcdef);
	t_cw(vdev, VIRTIO_COMMON_Q_DESC + 4, 4, 0x01234567);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC, 8), 0x0123456789abcdefull);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC + 4, 4), 0x01234567);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC + 2, 2), 0x89ab);
	/* Straddling two fields or past the end: ignored, reads 0. */
	t_cw(vdev, VIRTIO_COMMON_STATUS, 4, 0xffffffff);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_STATUS, 1), 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_NUMQ, 4), 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_SIZE, 4), 0);
	t_cw(vdev, 0xfffffffc, 4, 1);
	cr_assert_eq(t_cr(vdev, 0xfffffffc, 4), 0);
}

Test(virtio_core, bad_queue_size_needs_reset)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert(t_negotiate(vdev, T_FEATURES_BASE) & VIRTIO_STATUS_FEATURES_OK);
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, 0);
	t_cw(vdev, VIRTIO_COMMON_Q_SIZE, 2, 12);
	t_cw(vdev, VIRTIO_COMMON_MSIX, 2, 0);
	t_cw(vdev, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	cr_assert(t_cr(vdev, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(tt.signals[0], 0, "nobody listens before DRIVER_OK");
	t_driver_ok(vdev);
	cr_assert_eq(tt.signals[0], 1, "told once DRIVER_OK is set");
	cr_assert_not(virtio_dev_running(vdev));
}

Test(virtio_core, reset_clears_everything)
{
	t_cw(vdev, VIRTIO_COMMON_STATUS, 1, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_STATUS, 1), 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_MSIX, 2), VIRTIO_NO_VECTOR);
	t_cw(vdev, VIRTIO_COMMON_GFSELECT, 4, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_GF, 4), 0);
	t_cw(vdev, VIRTIO_COMMON_Q_SELECT, 2, 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_SIZE, 2), 256, "back to the maximum");
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_MSIX, 2), VIRTIO_NO_VECTOR);
	cr_assert_eq(t_cr(vdev, VIRTIO_COMMON_Q_DESC, 8), 0);
}
