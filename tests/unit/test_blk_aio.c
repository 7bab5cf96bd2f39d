// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's asynchronous I/O engine, both back ends: pipes stand in for
 * a disk that takes its time (a read on an empty pipe stays in flight until
 * the test writes to it), so "never blocks" and the barrier ordering can be
 * checked exactly.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/blk_aio.h"
#include "test_helpers.h"

static struct blk_aio *aio;

static void open_aio(enum blk_aio_backend b)
{
	cr_assert_eq(blk_aio_create(8, b, &aio), 0);
	cr_assert_eq(blk_aio_backend(aio), b);
}

/* Reaps for up to @ms, appending to @got; returns how many came. */
static unsigned int reap_for(int ms, struct blk_aio_req **got, unsigned int max)
{
	unsigned int n = 0;

	for (int waited = 0; n < max && waited <= ms; waited += 10) {
		struct pollfd p = { .fd = blk_aio_fd(aio), .events = POLLIN };

		n += blk_aio_reap(aio, got + n, max - n);
		if (n < max)
			poll(&p, 1, 10);
	}
	return n;
}

static void rw_req(struct blk_aio_req *r, enum blk_aio_op op, int fd, struct iovec *iov, size_t len)
{
	*r = (struct blk_aio_req){
		.op = op, .fd = fd, .iov = iov, .niov = 1, .len = len, .off = BLK_AIO_STREAM
	};
}

ParameterizedTestParameters(blk_aio, never_blocks_and_barrier_orders)
{
	static enum blk_aio_backend b[] = { BLK_AIO_IO_URING, BLK_AIO_THREADS };

	return cr_make_param_array(enum blk_aio_backend, b, 2);
}

ParameterizedTest(enum blk_aio_backend *b, blk_aio, never_blocks_and_barrier_orders)
{
	int slow[2], out[2];
	char in_buf[4] = { 0 }, out_buf[4] = "abc", got[4];
	struct iovec iv = { in_buf, 3 }, ov = { out_buf, 3 };
	struct blk_aio_req rd, fl, wr, *done[4];
	char *file = test_write_file("img", "x", 1);
	int ffd = open(file, O_RDWR);

	open_aio(*b);
	cr_assert_eq(pipe2(slow, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	rw_req(&rd, BLK_AIO_READ, slow[0], &iv, 3);
	fl = (struct blk_aio_req){ .op = BLK_AIO_FLUSH, .barrier = true, .fd = ffd };
	rw_req(&wr, BLK_AIO_WRITE, out[1], &ov, 3);
	blk_aio_submit(aio, &rd);
	blk_aio_submit(aio, &fl);
	blk_aio_submit(aio, &wr);
	blk_aio_kick(aio); /* returns although the read cannot complete */
	cr_assert_eq(blk_aio_pending(aio), 3);
	cr_assert_eq(reap_for(200, done, 4), 0,
		     "%s: the flush waits for the read before it (got %d)",
		     blk_aio_backend_name(aio), done[0]->result);
	cr_assert_eq(read(out[0], got, 3), -1, "the write after the flush has not started");
	cr_assert_eq(write(slow[1], "xyz", 3), 3);
	cr_assert_eq(reap_for(2000, done, 1), 1);
	cr_assert_eq(done[0], &rd);
	cr_assert_eq(rd.result, 0);
	cr_assert_arr_eq(in_buf, "xyz", 3);
	cr_assert_eq(reap_for(2000, done + 1, 2), 2);
	cr_assert_eq(done[1], &fl, "the barrier completes before what follows it starts");
	cr_assert_eq(done[2], &wr);
	cr_assert_eq(read(out[0], got, 3), 3);
	cr_assert_eq(blk_aio_pending(aio), 0);
	blk_aio_destroy(aio);
	close(ffd);
	test_remove_file(file);
	for (int i = 0; i < 2; i++) {
		close(slow[i]);
		close(out[i]);
	}
}

struct later {
	int fd;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	usleep(100 * 1000);
	cr_assert_eq(write(l->fd, "abcd", 4), 4);
	return NULL;
}

static unsigned int drained, cancelled;

static void on_drain(void *ctx, struct blk_aio_req *r)
{
	drained++;
	if (r->result == -ECANCELED)
		cancelled++;
}

ParameterizedTestParameters(blk_aio, drain_waits_and_cancels_the_unstarted)
{
	static enum blk_aio_backend b[] = { BLK_AIO_IO_URING, BLK_AIO_THREADS };

	return cr_make_param_array(enum blk_aio_backend, b, 2);
}

ParameterizedTest(enum blk_aio_backend *b, blk_aio, drain_waits_and_cancels_the_unstarted)
{
	int p[2];
	char buf[4];
	struct iovec iv = { buf, 4 };
	struct blk_aio_req rd, fl;
	struct later l;
	pthread_t t;

	open_aio(*b);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	rw_req(&rd, BLK_AIO_READ, p[0], &iv, 4);
	fl = (struct blk_aio_req){ .op = BLK_AIO_FLUSH, .barrier = true, .fd = p[1] };
	blk_aio_submit(aio, &rd);
	blk_aio_submit(aio, &fl);
	blk_aio_kick(aio);
	l.fd = p[1];
	drained = cancelled = 0;
	cr_assert_eq(pthread_create(&t, NULL, write_later, &l), 0);
	blk_aio_drain(aio, on_drain, NULL);
	pthread_join(t, NULL);
	cr_assert_eq(drained, 2);
	cr_assert_eq(cancelled, 1, "the flush never started");
	cr_assert_eq(rd.result, 0, "%s: the read finished before drain returned (%d)",
		     blk_aio_backend_name(aio), rd.result);
	cr_assert_arr_eq(buf, "abcd", 4);
	cr_assert_eq(blk_aio_pending(aio), 0);
	blk_aio_destroy(aio);
	close(p[0]);
	close(p[1]);
}

Test(blk_aio, errors_and_short_transfers)
{
	enum blk_aio_backend b[] = { BLK_AIO_IO_URING, BLK_AIO_THREADS };

	for (int i = 0; i < 2; i++) {
		char buf[8];
		struct iovec iv = { buf, sizeof(buf) };
		struct blk_aio_req r, bad, *done[2];
		char *file = test_write_file("img", "1234", 4);
		int fd = open(file, O_RDONLY);

		open_aio(b[i]);
		rw_req(&r, BLK_AIO_READ, fd, &iv, sizeof(buf)); /* 8 bytes from a 4-byte file */
		r.off = 0;
		rw_req(&bad, BLK_AIO_WRITE, fd, &iv, sizeof(buf)); /* read-only fd */
		bad.off = 0;
		blk_aio_submit(aio, &r);
		blk_aio_submit(aio, &bad);
		blk_aio_kick(aio);
		cr_assert_eq(reap_for(2000, done, 2), 2);
		cr_assert_eq(r.result, -EIO, "%s: short read", blk_aio_backend_name(aio));
		cr_assert_eq(bad.result, -EBADF, "%s", blk_aio_backend_name(aio));
		blk_aio_destroy(aio);
		close(fd);
		test_remove_file(file);
	}
}
