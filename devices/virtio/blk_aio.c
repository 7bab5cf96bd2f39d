// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's asynchronous I/O (see blk_aio.h): io_uring, or worker
 * threads where io_uring is refused. Both signal one eventfd per disk.
 */
#include "devices/virtio/blk_aio.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"

#define AIO_THREADS 4

struct blk_aio {
	enum blk_aio_backend backend;
	unsigned int depth;
	int efd;
	unsigned int started; /* started and not reaped */
	unsigned int queued;  /* submitted, not started */
	bool barrier_started; /* a barrier is among the started ones */
	struct blk_aio_req *q_head, *q_tail;
	/* io_uring */
	struct io_uring ring;
	bool ring_ok;
	unsigned int prepared; /* SQEs not handed to the kernel yet */
	/* worker threads */
	pthread_t thr[AIO_THREADS];
	unsigned int nthr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct blk_aio_req *work_head, *work_tail, *done_head, *done_tail;
};

static void list_add(struct blk_aio_req **head, struct blk_aio_req **tail, struct blk_aio_req *r)
{
	r->next = NULL;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

static struct blk_aio_req *list_pop(struct blk_aio_req **head, struct blk_aio_req **tail)
{
	struct blk_aio_req *r = *head;

	if (r) {
		*head = r->next;
		if (!*head)
			*tail = NULL;
	}
	return r;
}

/* Whole-request preadv/pwritev: short transfers are continued, EOF fails. */
static int aio_rw(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r;

		if (off == BLK_AIO_STREAM)
			r = write ? writev(fd, iov, n) : readv(fd, iov, n);
		else
			r = write ? pwritev(fd, iov, n, (off_t)off)
				  : preadv(fd, iov, n, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		if (off != BLK_AIO_STREAM)
			off += (uint64_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static void signal_efd(struct blk_aio *a)
{
	uint64_t one = 1;

	while (write(a->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *aio_worker(void *arg)
{
	struct blk_aio *a = arg;

	pthread_setname_np(pthread_self(), "kite-blk-io");
	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct blk_aio_req *r;

		while (!a->stop && !a->work_head)
			pthread_cond_wait(&a->cv, &a->mu);
		r = list_pop(&a->work_head, &a->work_tail);
		if (!r)
			break; /* stopping, nothing left */
		pthread_mutex_unlock(&a->mu);
		if (r->op == BLK_AIO_FLUSH)
			r->result = fdatasync(r->fd) ? -errno : 0;
		else
			r->result = aio_rw(r->fd, r->iov, r->niov, r->off, r->op == BLK_AIO_WRITE);
		pthread_mutex_lock(&a->mu);
		list_add(&a->done_head, &a->done_tail, r);
		signal_efd(a);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int threads_start(struct blk_aio *a)
{
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	for (a->nthr = 0; a->nthr < AIO_THREADS; a->nthr++) {
		int r = pthread_create(&a->thr[a->nthr], NULL, aio_worker, a);

		if (r) {
			log_error("disk I/O: cannot start a worker thread: %s", strerror(r));
			return -r;
		}
	}
	return 0;
}

static void threads_stop(struct blk_aio *a)
{
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	for (unsigned int i = 0; i < a->nthr; i++)
		pthread_join(a->thr[i], NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
}

static int uring_start(struct blk_aio *a)
{
	int r = io_uring_queue_init(a->depth, &a->ring, 0);

	if (r)
		return r;
	a->ring_ok = true;
	r = io_uring_register_eventfd(&a->ring, a->efd);
	if (r) {
		io_uring_queue_exit(&a->ring);
		a->ring_ok = false;
	}
	return r;
}

int blk_aio_create(unsigned int depth, enum blk_aio_backend want, struct blk_aio **out)
{
	struct blk_aio *a = calloc(1, sizeof(*a));
	int r = -ENOMEM;

	if (!a)
		goto fail;
	a->depth = depth;
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		r = -errno;
		goto fail;
	}
	if (want != BLK_AIO_THREADS) {
		r = uring_start(a);
		if (!r) {
			a->backend = BLK_AIO_IO_URING;
			*out = a;
			return 0;
		}
		if (want == BLK_AIO_IO_URING) {
			log_error("disk I/O: io_uring unavailable: %s", strerror(-r));
			goto fail;
		}
		log_info("disk I/O: io_uring unavailable (%s); using worker threads", strerror(-r));
	}
	a->backend = BLK_AIO_THREADS;
	r = threads_start(a);
	if (r) {
		threads_stop(a);
		goto fail;
	}
	*out = a;
	return 0;
fail:
	if (r == -ENOMEM)
		log_error("disk I/O: out of memory");
	if (a && a->efd >= 0)
		close(a->efd);
	free(a);
	return r;
}

void blk_aio_destroy(struct blk_aio *a)
{
	if (!a)
		return;
	if (a->backend == BLK_AIO_THREADS)
		threads_stop(a);
	if (a->ring_ok)
		io_uring_queue_exit(&a->ring);
	close(a->efd);
	free(a);
}

enum blk_aio_backend blk_aio_backend(const struct blk_aio *a)
{
	return a->backend;
}

const char *blk_aio_backend_name(const struct blk_aio *a)
{
	return a->backend == BLK_AIO_IO_URING ? "io_uring" : "threads";
}

int blk_aio_fd(const struct blk_aio *a)
{
	return a->efd;
}

unsigned int blk_aio_pending(const struct blk_aio *a)
{
	return a->started + a->queued;
}

void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	r->result = 0;
	list_add(&a->q_head, &a->q_tail, r);
	a->queued++;
}

/* Hands @r to the back end. */
static void start_one(struct blk_aio *a, struct blk_aio_req *r)
{
	if (a->backend == BLK_AIO_THREADS) {
		pthread_mutex_lock(&a->mu);
		list_add(&a->work_head, &a->work_tail, r);
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		return;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

	if (!sqe) {
		/* Cannot happen: at most depth requests are started, the ring holds depth. */
		io_uring_submit(&a->ring);
		a->prepared = 0;
		sqe = io_uring_get_sqe(&a->ring);
	}
	if (r->op == BLK_AIO_READ)
		io_uring_prep_readv(sqe, r->fd, r->iov, (unsigned int)r->niov, r->off);
	else if (r->op == BLK_AIO_WRITE)
		io_uring_prep_writev(sqe, r->fd, r->iov, (unsigned int)r->niov, r->off);
	else
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, r);
	/*
	 * Always through io_uring's workers: without IOSQE_ASYNC the kernel first tries the
	 * request inline in io_uring_enter, and a file that is slow to answer (seen with a
	 * FUSE-backed image: 240 ms pings during its 300 ms requests) then blocks the
	 * device loop, and with it the network and the console.
	 */
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	a->prepared++;
}

void blk_aio_kick(struct blk_aio *a)
{
	while (a->q_head && !a->barrier_started && a->started < a->depth) {
		struct blk_aio_req *r = a->q_head;

		/* A barrier waits for everything before it, and holds back everything after. */
		if (r->barrier && a->started)
			break;
		list_pop(&a->q_head, &a->q_tail);
		a->queued--;
		a->started++;
		if (r->barrier)
			a->barrier_started = true;
		start_one(a, r);
	}
	if (a->prepared) {
		int r = io_uring_submit(&a->ring);

		if (r < 0)
			log_warn("disk I/O: io_uring_submit: %s", strerror(-r));
		a->prepared = 0;
	}
}

static void reaped(struct blk_aio *a, struct blk_aio_req *r)
{
	a->started--;
	if (r->barrier)
		a->barrier_started = false;
}

unsigned int blk_aio_reap(struct blk_aio *a, struct blk_aio_req **done, unsigned int max)
{
	unsigned int n = 0;
	uint64_t v;

	/* Clear the eventfd first: a completion after this signals it again. */
	while (read(a->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	if (a->backend == BLK_AIO_THREADS) {
		pthread_mutex_lock(&a->mu);
		while (n < max && a->done_head) {
			done[n] = list_pop(&a->done_head, &a->done_tail);
			reaped(a, done[n++]);
		}
		if (a->done_head)
			signal_efd(a); /* more than @max: come back */
		pthread_mutex_unlock(&a->mu);
	} else {
		struct io_uring_cqe *cqe;

		while (n < max && io_uring_peek_cqe(&a->ring, &cqe) == 0) {
			struct blk_aio_req *r = io_uring_cqe_get_data(cqe);

			if (cqe->res < 0)
				r->result = cqe->res;
			else if (r->op != BLK_AIO_FLUSH && (size_t)cqe->res != r->len)
				r->result = -EIO; /* short: the image shrank, or a device error */
			else
				r->result = 0;
			io_uring_cqe_seen(&a->ring, cqe);
			reaped(a, r);
			done[n++] = r;
		}
		if (n == max && io_uring_cq_ready(&a->ring))
			signal_efd(a);
	}
	if (n)
		blk_aio_kick(a); /* a barrier may have ended, slots came free */
	return n;
}

void blk_aio_drain(struct blk_aio *a, void (*fn)(void *ctx, struct blk_aio_req *r), void *ctx)
{
	struct blk_aio_req *r, *done[64];

	while ((r = list_pop(&a->q_head, &a->q_tail))) {
		a->queued--;
		r->result = -ECANCELED;
		fn(ctx, r);
	}
	while (a->started) {
		struct pollfd p = { .fd = a->efd, .events = POLLIN };
		unsigned int n = blk_aio_reap(a, done, 64);

		for (unsigned int i = 0; i < n; i++)
			fn(ctx, done[i]);
		if (!n && a->started)
			poll(&p, 1, 1000);
	}
}
