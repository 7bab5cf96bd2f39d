// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (5.2) over a raw image file or block device. Requests run
 * synchronously on the device event loop with preadv/pwritev straight into
 * the guest's buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_dev.h"
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

struct virtio_blk {
	struct virtio_dev vdev;
	int fd;
	bool readonly;
	uint64_t sectors;
	char *path;
	char id[BLK_ID_LEN];
	uint8_t config[BLK_CFG_LEN];
	struct vq_elem elem;
	struct iovec data[VQ_MAX_IOV];
};

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_blk, vdev);
}

/* Whole-request preadv/pwritev; short transfers (signals, EOF) are continued or failed. */
static int blk_rw(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO; /* the image shrank under us */
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

/* IN or OUT: @len data bytes at @skip in the readable (OUT) or writable (IN) part. */
static uint8_t blk_transfer(struct virtio_blk *b, struct vq_elem *e, uint64_t sector,
			    size_t skip, size_t len, bool write)
{
	const struct iovec *part = write ? e->iov : e->iov + e->nout;
	unsigned int nseg = write ? e->nout : e->nin;
	int n, r;

	if (len % BLK_SECTOR || sector > b->sectors || len / BLK_SECTOR > b->sectors - sector)
		return VIRTIO_BLK_S_IOERR;
	n = iov_slice(part, nseg, skip, len, b->data, VQ_MAX_IOV);
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	r = blk_rw(b->fd, b->data, n, sector * BLK_SECTOR, write);
	if (r) {
		log_warn("disk %s: %s of %zu bytes at sector %llu: %s", b->path,
			 write ? "write" : "read", len, (unsigned long long)sector, strerror(-r));
		return VIRTIO_BLK_S_IOERR;
	}
	metric_add(write ? &b->vdev.metrics.bytes_from_guest : &b->vdev.metrics.bytes_to_guest, len);
	return VIRTIO_BLK_S_OK;
}

static int blk_handle(struct virtio_dev *vdev, struct vq_elem *e)
{
	struct virtio_blk *b = to_blk(vdev);
	struct virtqueue *vq = &vdev->vqs[0];
	uint8_t hdr[BLK_HDR_LEN], status;
	size_t data_in = 0; /* bytes of device-writable data produced, before the status */
	uint32_t type;
	uint64_t sector;

	/* The status byte is the last writable byte; without one nothing can be reported. */
	if (e->in_len < 1)
		return vq_push(vq, e->head, 0);
	if (iov_to_buf(e->iov, e->nout, 0, hdr, sizeof(hdr)) < sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	type = get_le32(hdr);
	sector = get_le64(hdr + 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		status = blk_transfer(b, e, sector, 0, e->in_len - 1, false);
		if (status == VIRTIO_BLK_S_OK)
			data_in = e->in_len - 1;
		break;
	case VIRTIO_BLK_T_OUT:
		/* 5.2.6.2: a read-only device fails writes and writes nothing. */
		if (b->readonly)
			status = VIRTIO_BLK_S_IOERR;
		else
			status = blk_transfer(b, e, sector, BLK_HDR_LEN, e->out_len - BLK_HDR_LEN,
					      true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		data_in = e->in_len - 1 < BLK_ID_LEN ? e->in_len - 1 : BLK_ID_LEN;
		iov_from_buf(e->iov + e->nout, e->nin, 0, b->id, data_in);
		status = VIRTIO_BLK_S_OK;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	iov_from_buf(e->iov + e->nout, e->nin, e->in_len - 1, &status, 1);
	metric_add(&vdev->metrics.requests, 1);
	return vq_push(vq, e->head, (uint32_t)(data_in + 1));
}

static void blk_queue_notify(struct virtio_dev *vdev, uint16_t q)
{
	struct virtio_blk *b = to_blk(vdev);

	virtio_process_queue(vdev, &vdev->vqs[q], &b->elem, blk_handle);
}

static void blk_destroy(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	virtio_dev_uninit(vdev);
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.queue_notify = blk_queue_notify,
	.destroy = blk_destroy,
};

/* Opens @path, or takes @fd (handed in with fd=NAME) when it is >= 0. */
static int blk_open(const char *path, int fd, bool readonly, uint64_t *size)
{
	struct stat st;
	int err;

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
	return fd;
fail:
	close(fd);
	log_error("disk %s: %s", path, strerror(err));
	return -err;
}

static int blk_new(const struct guest_mem *mem, const char *path, int given_fd, bool readonly,
		   struct virtio_dev **out)
{
	uint64_t features = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
			    (1ULL << VIRTIO_BLK_F_FLUSH);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct virtio_blk *b;
	char name[32];
	uint64_t size;
	int fd, ret;

	fd = blk_open(path, given_fd, readonly, &size);
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
	b->readonly = readonly;
	b->sectors = size / BLK_SECTOR;
	if (size % BLK_SECTOR)
		log_warn("disk %s: size is not a multiple of %d bytes; the last %llu bytes are "
			 "not visible", path, BLK_SECTOR, (unsigned long long)(size % BLK_SECTOR));
	/* GET_ID: the image's file name, NUL-padded, truncated to 20 bytes. */
	memcpy(b->id, base, strlen(base) < sizeof(b->id) ? strlen(base) : sizeof(b->id));
	if (readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	put_le64(b->config + BLK_CFG_CAPACITY, b->sectors);
	put_le32(b->config + BLK_CFG_SIZE_MAX, BLK_SIZE_MAX);
	put_le32(b->config + BLK_CFG_SEG_MAX, BLK_SEG_MAX);
	snprintf(name, sizeof(name), "virtio-blk %s", base);
	ret = virtio_dev_init(&b->vdev, name, VIRTIO_ID_BLOCK, 0x010000 /* mass storage, SCSI */,
			      &blk_ops, mem, features, 1, BLK_QUEUE_SIZE, b->config,
			      sizeof(b->config));
	if (ret) {
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
	return blk_new(mem, path, -1, readonly, out);
}

int virtio_blk_create_fd(struct vm *vm, struct pci_bus *bus, int fd, const char *label,
			 bool readonly)
{
	struct virtio_dev *vdev;
	int fl = fcntl(fd, F_GETFL), ret;

	if (fl >= 0 && !readonly && (fl & O_ACCMODE) == O_RDONLY) {
		log_error("disk %s: opened read-only; use readonly=on", label);
		close(fd);
		return -EBADF;
	}
	ret = blk_new(&vm->mem, label, fd, readonly, &vdev);
	return ret ? ret : virtio_pci_attach(vm, bus, vdev);
}

int virtio_blk_create(struct vm *vm, struct pci_bus *bus, const char *path, bool readonly)
{
	struct virtio_dev *vdev;
	int ret = virtio_blk_new(&vm->mem, path, readonly, &vdev);

	return ret ? ret : virtio_pci_attach(vm, bus, vdev);
}
