// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (5.2) over a raw image file or block device. The device event
 * loop parses requests and submits them asynchronously (blk_aio: io_uring,
 * or worker threads) straight from and into the guest's buffers; it never
 * waits for the disk. Completions come back on an eventfd the same loop
 * watches, and go to the used ring in the order they finish.
 *
 * A flush is a barrier: it starts once every request before it completed
 * and holds back every request after it, so a write the driver saw
 * complete before it flushed is on stable storage when the flush completes
 * (the block layer builds FUA and preflush out of exactly that).
 *
 * cache=none opens the image O_DIRECT; a request whose guest buffers are
 * not 512-byte aligned goes through an aligned bounce buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/blk_aio.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
#include "vmm/event_loop.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define BLK_SECTOR 512
#define BLK_HDR_LEN 16
#define BLK_ID_LEN 20
#define BLK_QUEUE_SIZE 256
/*
 * A request's data segments, each at most SIZE_MAX bytes, must fit
 * VQ_MAX_IOV host segments even when every 4 KiB page maps separately
 * (behind a vIOMMU): 60 * (64 KiB / 4 KiB + 1) + header + status <= 1024.
 */
#define BLK_SEG_MAX 60
#define BLK_SIZE_MAX (64 * 1024)

/* struct virtio_blk_config (5.2.4), the part we fill. */
#define BLK_CFG_CAPACITY 0
#define BLK_CFG_SIZE_MAX 8
#define BLK_CFG_SEG_MAX 12
#define BLK_CFG_LEN 64

struct virtio_blk;

/* One request in flight. */
struct blk_req {
	struct blk_aio_req aio;
	struct virtio_blk *b;
	uint16_t head;
	uint8_t *status;   /* host address of the status byte */
	uint32_t used_len; /* on success */
	uint64_t sector;
	struct iovec *iov; /* the data segments (or the bounce buffer) */
	unsigned int iov_cap;
	struct iovec *guest; /* with a bounce buffer: the guest's segments */
	unsigned int guest_cap, nguest;
	void *bounce;
	struct blk_req *next_free;
};

struct virtio_blk {
	struct virtio_dev vdev;
	int fd;
	bool readonly, direct;
	uint64_t sectors;
	char *path;
	char id[BLK_ID_LEN];
	uint8_t config[BLK_CFG_LEN];
	struct vq_elem elem;
	struct blk_aio *aio;
	struct blk_req reqs[BLK_QUEUE_SIZE];
	struct blk_req *free_reqs;
	bool stalled; /* the queue stopped for want of a free request */
	unsigned int io_warnings;
};

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_blk, vdev);
}

static struct blk_req *req_get(struct virtio_blk *b)
{
	struct blk_req *r = b->free_reqs;

	if (r)
		b->free_reqs = r->next_free;
	return r;
}

static void req_put(struct virtio_blk *b, struct blk_req *r)
{
	free(r->bounce);
	r->bounce = NULL;
	r->next_free = b->free_reqs;
	b->free_reqs = r;
}

/* Makes room for @n segments in *@v. */
static int iov_reserve(struct iovec **v, unsigned int *cap, unsigned int n)
{
	struct iovec *nv;

	if (n <= *cap)
		return 0;
	nv = realloc(*v, n * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = n;
	return 0;
}

static bool iov_aligned(const struct iovec *v, int n)
{
	for (int i = 0; i < n; i++)
		if (((uintptr_t)v[i].iov_base | v[i].iov_len) % BLK_SECTOR)
			return false;
	return true;
}

/*
 * Sets up an IN or OUT of @len data bytes at @skip in the readable (OUT)
 * or writable (IN) part. VIRTIO_BLK_S_OK when @r is ready to submit.
 */
static uint8_t blk_prepare_rw(struct virtio_blk *b, struct blk_req *r, struct vq_elem *e,
			      size_t skip, size_t len, bool write)
{
	const struct iovec *part = write ? e->iov : e->iov + e->nout;
	unsigned int nseg = write ? e->nout : e->nin;
	int n;

	if (len % BLK_SECTOR || r->sector > b->sectors || len / BLK_SECTOR > b->sectors - r->sector)
		return VIRTIO_BLK_S_IOERR;
	if (iov_reserve(&r->iov, &r->iov_cap, nseg ? nseg : 1))
		return VIRTIO_BLK_S_IOERR;
	n = iov_slice(part, nseg, skip, len, r->iov, r->iov_cap);
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	if (b->direct && !iov_aligned(r->iov, n)) {
		/* O_DIRECT wants aligned memory: bounce through a buffer that is. */
		if (iov_reserve(&r->guest, &r->guest_cap, (unsigned int)n) ||
		    posix_memalign(&r->bounce, 4096, len ? len : BLK_SECTOR)) {
			r->bounce = NULL;
			return VIRTIO_BLK_S_IOERR;
		}
		memcpy(r->guest, r->iov, (size_t)n * sizeof(*r->iov));
		r->nguest = (unsigned int)n;
		if (write)
			iov_to_buf(r->guest, r->nguest, 0, r->bounce, len);
		r->iov[0] = (struct iovec){ .iov_base = r->bounce, .iov_len = len };
		n = 1;
	}
	r->aio = (struct blk_aio_req){ .op = write ? BLK_AIO_WRITE : BLK_AIO_READ,
				       .fd = b->fd,
				       .iov = r->iov,
				       .niov = n,
				       .off = r->sector * BLK_SECTOR,
				       .len = len,
				       .opaque = r };
	return VIRTIO_BLK_S_OK;
}

/* Finishes @r: status byte, used ring. Its result is in r->aio. */
static int blk_complete(struct virtio_blk *b, struct blk_req *r)
{
	struct virtqueue *vq = &b->vdev.vqs[0];
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t used = 1;
	int ret;

	if (r->aio.result) {
		log_msg(virtio_guest_log_level(&b->io_warnings), "disk %s: %s at sector %llu: %s",
			b->path,
			r->aio.op == BLK_AIO_FLUSH   ? "flush"
			: r->aio.op == BLK_AIO_WRITE ? "write"
						     : "read",
			(unsigned long long)r->sector, strerror(-r->aio.result));
		status = VIRTIO_BLK_S_IOERR;
	} else if (r->aio.op != BLK_AIO_FLUSH) {
		if (r->aio.op == BLK_AIO_READ) {
			if (r->bounce)
				iov_from_buf(r->guest, r->nguest, 0, r->bounce, r->aio.len);
			used = r->used_len;
		}
		metric_add(r->aio.op == BLK_AIO_WRITE ? &b->vdev.metrics.bytes_from_guest
						      : &b->vdev.metrics.bytes_to_guest,
			   r->aio.len);
	}
	*r->status = status;
	metric_add(&b->vdev.metrics.requests, 1);
	ret = vq_push(vq, r->head, used);
	req_put(b, r);
	return ret;
}

/*
 * Starts the request in @e: submitted to the disk, or completed at once
 * (errors, GET_ID). 0, or -EIO when the ring broke.
 */
static int blk_start(struct virtio_blk *b, struct vq_elem *e)
{
	struct virtqueue *vq = &b->vdev.vqs[0];
	struct blk_req *r;
	uint8_t hdr[BLK_HDR_LEN], status;
	struct iovec st;
	size_t data_in = 0;
	uint32_t type;

	/* The status byte is the last writable byte; without one nothing can be reported. */
	if (e->in_len < 1 || iov_slice(e->iov + e->nout, e->nin, e->in_len - 1, 1, &st, 1) != 1)
		return vq_push(vq, e->head, 0);
	r = req_get(b); /* the caller made sure there is one */
	r->head = e->head;
	r->status = st.iov_base;
	if (iov_to_buf(e->iov, e->nout, 0, hdr, sizeof(hdr)) < sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto now;
	}
	type = get_le32(hdr);
	r->sector = get_le64(hdr + 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		status = blk_prepare_rw(b, r, e, 0, e->in_len - 1, false);
		r->used_len = (uint32_t)e->in_len;
		break;
	case VIRTIO_BLK_T_OUT:
		/* 5.2.6.2: a read-only device fails writes and writes nothing. */
		status = b->readonly ? VIRTIO_BLK_S_IOERR
				     : blk_prepare_rw(b, r, e, BLK_HDR_LEN,
						      e->out_len - BLK_HDR_LEN, true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->aio = (struct blk_aio_req){
			.op = BLK_AIO_FLUSH, .barrier = true, .fd = b->fd, .opaque = r
		};
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		data_in = e->in_len - 1 < BLK_ID_LEN ? e->in_len - 1 : BLK_ID_LEN;
		iov_from_buf(e->iov + e->nout, e->nin, 0, b->id, data_in);
		status = VIRTIO_BLK_S_OK;
		goto now;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		goto now;
	}
	if (status == VIRTIO_BLK_S_OK) {
		blk_aio_submit(b->aio, &r->aio);
		return 0;
	}
now:
	*r->status = status;
	metric_add(&b->vdev.metrics.requests, 1);
	req_put(b, r);
	return vq_push(vq, e->head, (uint32_t)(data_in + 1));
}

static void blk_queue_notify(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_blk *b = to_blk(vdev);
	struct virtqueue *vq = &vdev->vqs[q];
	/* One ring's worth per turn, so a busy queue cannot starve the rest of the loop. */
	unsigned int budget = vq->size;
	int r;

	b->stalled = false;
	for (;;) {
		while (budget && b->free_reqs && (r = vq_next(vq, &b->elem)) > 0) {
			budget--;
			if (blk_start(b, &b->elem)) {
				vq->broken = true;
				break;
			}
		}
		if (vq->broken)
			break;
		if (!b->free_reqs) {
			/* Every request slot is in flight: a completion brings us back. */
			b->stalled = true;
			break;
		}
		if (!budget) {
			if (vdev->kick)
				vdev->kick(vdev, q);
			break;
		}
		if (!vq_enable_notify(vq))
			break;
	}
	blk_aio_kick(b->aio);
	virtio_queue_notify_driver(vdev, vq);
}

/* Completes what the disk finished. Lock held. */
static void blk_reap(struct virtio_blk *b)
{
	struct virtqueue *vq = &b->vdev.vqs[0];
	struct blk_aio_req *done[64];
	unsigned int n;
	bool any = false;

	while ((n = blk_aio_reap(b->aio, done, 64))) {
		for (unsigned int i = 0; i < n; i++)
			if (blk_complete(b, done[i]->opaque))
				vq->broken = true;
		any = true;
	}
	if (!any)
		return;
	virtio_queue_notify_driver(&b->vdev, vq);
	if (b->stalled && !vq->broken && virtio_dev_running(&b->vdev) && vq->ready)
		blk_queue_notify(&b->vdev, 0);
}

static void blk_io_event(void *opaque, uint32_t events)
{
	struct virtio_dev *vdev = opaque;

	pthread_mutex_lock(&vdev->lock);
	blk_reap(to_blk(vdev));
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_blk_io_wait(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	pthread_mutex_lock(&vdev->lock);
	while (blk_aio_pending(b->aio)) {
		struct pollfd p = { .fd = blk_aio_fd(b->aio), .events = POLLIN };

		poll(&p, 1, 1000);
		blk_reap(b);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* Drained at reset and destroy: the chains belong to rings that are gone. */
static void blk_forget(void *ctx, struct blk_aio_req *a)
{
	req_put(ctx, a->opaque);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	/* The driver may reuse the buffers once reset completes: wait for the disk first. */
	blk_aio_drain(b->aio, blk_forget, b);
	b->stalled = false;
}

static void blk_destroy(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	if (b->aio) {
		blk_aio_drain(b->aio, blk_forget, b);
		blk_aio_destroy(b->aio);
	}
	for (unsigned int i = 0; i < BLK_QUEUE_SIZE; i++) {
		free(b->reqs[i].iov);
		free(b->reqs[i].guest);
	}
	virtio_dev_uninit(vdev);
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.destroy = blk_destroy,
};

/* Opens @path, or takes @fd (handed in with fd=NAME) when it is >= 0. */
static int blk_open(const char *path, int fd, bool readonly, bool direct, uint64_t *size)
{
	struct stat st;
	int err, fl;

	if (fd < 0)
		fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (!readonly && (err == EACCES || err == EROFS || err == EPERM))
			log_error("disk %s: not writable (%s); use readonly=on", path,
				  strerror(err));
		else
			log_error("disk %s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			err = errno;
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		close(fd);
		log_error("disk %s: not a regular file or block device", path);
		return -EINVAL;
	}
	/* cache=none: set on the open file, so fd=NAME images get it too. */
	fl = fcntl(fd, F_GETFL);
	if (direct && (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0)) {
		err = errno;
		close(fd);
		log_error("disk %s: cache=none: cannot use O_DIRECT here: %s", path, strerror(err));
		return -err;
	}
	return fd;
fail:
	close(fd);
	log_error("disk %s: %s", path, strerror(err));
	return -err;
}

int virtio_blk_new_opts(const struct guest_mem *mem, const char *path, int given_fd,
			const struct virtio_blk_opts *o, enum blk_aio_backend aio,
			struct virtio_dev **out)
{
	uint64_t features = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
			    (1ULL << VIRTIO_BLK_F_FLUSH);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct virtio_blk *b;
	char name[32];
	uint64_t size;
	int fd, ret;

	fd = blk_open(path, given_fd, o->readonly, o->direct, &size);
	if (fd < 0)
		return fd;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(path))) {
		log_error("disk %s: out of memory", path);
		free(b);
		close(fd);
		return -ENOMEM;
	}
	b->fd = fd;
	b->readonly = o->readonly;
	b->direct = o->direct;
	b->sectors = size / BLK_SECTOR;
	if (size % BLK_SECTOR)
		log_warn("disk %s: size is not a multiple of %d bytes; the last %llu bytes are "
			 "not visible",
			 path, BLK_SECTOR, (unsigned long long)(size % BLK_SECTOR));
	/* GET_ID: the image's file name, NUL-padded, truncated to 20 bytes. */
	memcpy(b->id, base, strlen(base) < sizeof(b->id) ? strlen(base) : sizeof(b->id));
	if (o->readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	put_le64(b->config + BLK_CFG_CAPACITY, b->sectors);
	put_le32(b->config + BLK_CFG_SIZE_MAX, BLK_SIZE_MAX);
	put_le32(b->config + BLK_CFG_SEG_MAX, BLK_SEG_MAX);
	for (unsigned int i = 0; i < BLK_QUEUE_SIZE; i++) {
		b->reqs[i].b = b;
		req_put(b, &b->reqs[i]);
	}
	snprintf(name, sizeof(name), "virtio-blk %s", base);
	ret = blk_aio_create(BLK_QUEUE_SIZE, aio, &b->aio);
	if (ret) {
		log_error("disk %s: cannot set up asynchronous I/O", path);
		close(fd);
		free(b->path);
		free(b);
		return ret;
	}
	log_info("disk %s: %s I/O%s", path, blk_aio_backend_name(b->aio),
		 o->direct ? ", cache=none (O_DIRECT)" : "");
	ret = virtio_dev_init(&b->vdev, name, VIRTIO_ID_BLOCK, 0x010000 /* mass storage, SCSI */,
			      &blk_ops, mem, features, 1, BLK_QUEUE_SIZE, b->config,
			      sizeof(b->config));
	if (ret) {
		blk_aio_destroy(b->aio);
		close(fd);
		free(b->path);
		free(b);
		return ret;
	}
	*out = &b->vdev;
	return 0;
}

int virtio_blk_new(const struct guest_mem *mem, const char *path, bool readonly,
		   struct virtio_dev **out)
{
	const struct virtio_blk_opts o = { .readonly = readonly };

	return virtio_blk_new_opts(mem, path, -1, &o, BLK_AIO_AUTO, out);
}

int virtio_blk_io_fd(struct virtio_dev *vdev)
{
	return blk_aio_fd(to_blk(vdev)->aio);
}

/* Takes ownership of @vdev; watches its completions on the device loop. */
static int blk_attach(struct vm *vm, struct pci_bus *bus, struct virtio_dev *vdev)
{
	int fd = virtio_blk_io_fd(vdev), ret = virtio_pci_attach(vm, bus, vdev);

	if (ret)
		return ret;
	ret = event_loop_add(vm->devloop, fd, EPOLLIN, blk_io_event, vdev);
	if (ret)
		log_error("%s: cannot watch its I/O completions: %s", vdev->name, strerror(-ret));
	return ret;
}

int virtio_blk_create_fd(struct vm *vm, struct pci_bus *bus, int fd, const char *label,
			 const struct virtio_blk_opts *o)
{
	struct virtio_dev *vdev;
	int fl = fcntl(fd, F_GETFL), ret;

	if (fl >= 0 && !o->readonly && (fl & O_ACCMODE) == O_RDONLY) {
		log_error("disk %s: opened read-only; use readonly=on", label);
		close(fd);
		return -EBADF;
	}
	ret = virtio_blk_new_opts(&vm->mem, label, fd, o, BLK_AIO_AUTO, &vdev);
	return ret ? ret : blk_attach(vm, bus, vdev);
}

int virtio_blk_create(struct vm *vm, struct pci_bus *bus, const char *path,
		      const struct virtio_blk_opts *o)
{
	struct virtio_dev *vdev;
	int ret = virtio_blk_new_opts(&vm->mem, path, -1, o, BLK_AIO_AUTO, &vdev);

	return ret ? ret : blk_attach(vm, bus, vdev);
}
