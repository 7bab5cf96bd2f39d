/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Asynchronous disk I/O for virtio-blk: the device thread submits, the disk
 * works elsewhere, completions come back through an eventfd the device
 * event loop watches. Two back ends behind one interface, picked at run
 * time: io_uring (liburing), or, where the kernel refuses io_uring
 * (ENOSYS, EPERM: io_uring_disabled, seccomp), a small pool of worker
 * threads doing preadv/pwritev/fdatasync.
 *
 * Ordering: a request submitted with barrier set (a flush) starts only once
 * every request submitted before it completed, and requests submitted after
 * it start only once it completed. Everything else runs in any order and
 * may complete in any order.
 *
 * Threading: submit/kick/reap/drain from one thread at a time (the device,
 * under its lock); the back end's own threads never call back into it.
 */
#ifndef KITE_DEVICES_VIRTIO_BLK_AIO_H
#define KITE_DEVICES_VIRTIO_BLK_AIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_AIO_STREAM UINT64_MAX

enum blk_aio_op { BLK_AIO_READ, BLK_AIO_WRITE, BLK_AIO_FLUSH };
enum blk_aio_backend { BLK_AIO_AUTO, BLK_AIO_IO_URING, BLK_AIO_THREADS };

struct blk_aio_req {
	enum blk_aio_op op;
	bool barrier;
	int fd;
	struct iovec *iov; /* READ/WRITE: stays the caller's until completion */
	int niov;
	uint64_t off; /* BLK_AIO_STREAM: no offset (pipes, in the tests) */
	size_t len;   /* bytes the iovecs hold */
	int result;   /* on completion: 0 or -errno (-EIO for a short transfer) */
	void *opaque;
	struct blk_aio_req *next; /* internal */
};

struct blk_aio;

/*
 * @depth: the most requests in flight at once. @want: AUTO tries io_uring,
 * then threads; the others insist. 0 or -errno (logged).
 */
int blk_aio_create(unsigned int depth, enum blk_aio_backend want, struct blk_aio **out);
void blk_aio_destroy(struct blk_aio *a); /* after blk_aio_drain */
enum blk_aio_backend blk_aio_backend(const struct blk_aio *a);
const char *blk_aio_backend_name(const struct blk_aio *a);
/* Readable when completions may be waiting (EPOLLIN); reap then. */
int blk_aio_fd(const struct blk_aio *a);
/* Queues @r (not yet started: see blk_aio_kick). */
void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r);
/* Starts what was queued, in one go. */
void blk_aio_kick(struct blk_aio *a);
/* Completed requests, up to @max, into @done. Never blocks. */
unsigned int blk_aio_reap(struct blk_aio *a, struct blk_aio_req **done, unsigned int max);
/* Requests submitted and not reaped yet. */
unsigned int blk_aio_pending(const struct blk_aio *a);
/*
 * Waits for every started request and reaps it through @fn; requests never
 * started (behind a barrier) are handed to @fn too, with result -ECANCELED.
 */
void blk_aio_drain(struct blk_aio *a, void (*fn)(void *ctx, struct blk_aio_req *r), void *ctx);

#endif
