// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-slowfs: a slow disk for harness scenarios, without device-mapper's
 * delay target or NBD (the test kernel has neither, and changing its
 * config fragment forces a rebuild): a FUSE file system, spoken over
 * /dev/fuse directly (no libfuse), whose only file `disk` lives in memory
 * and answers every read and write after DELAY_MS.
 *
 *   kite-slowfs MOUNTPOINT SIZE_MIB DELAY_MS
 *       Mounts, prints "slowfs: ready MOUNTPOINT/disk", then serves until
 *       unmounted or killed. One request at a time, so requests queue up
 *       behind each other like on a slow spindle. The file is opened with
 *       FOPEN_DIRECT_IO, so every read(2) reaches us (no page cache).
 *       Prints "slowfs: reads=N writes=M" when it ends.
 *
 * Exit status: 0 after an unmount or SIGTERM, 1 a system call failed, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DISK_INO 2
#define MAX_IO (128 * 1024)
#define BUF_SIZE (MAX_IO + 4096)

static uint8_t *disk;
static uint64_t disk_size;
static unsigned int delay_ms;
static unsigned long reads, writes;
static volatile sig_atomic_t stop;
static int fuse_fd;

static void on_signal(int sig)
{
	stop = 1;
}

static int reply(uint64_t unique, int error, const void *data, size_t len)
{
	struct fuse_out_header h = { .len = (uint32_t)(sizeof(h) + len),
				     .error = error,
				     .unique = unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };

	if (writev(fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT) {
		perror("slowfs: reply");
		return -1;
	}
	return 0;
}

static void fill_attr(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->size = ino == FUSE_ROOT_ID ? 0 : disk_size;
	a->blocks = a->size / 512;
	a->blksize = 4096;
}

static void slow(void)
{
	struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
		;
}

/* One request; 1 when the file system is done (DESTROY). */
static int handle(const uint8_t *buf, size_t n)
{
	const struct fuse_in_header *in = (const void *)buf;
	const void *arg = buf + sizeof(*in);
	uint64_t u = in->unique;

	switch (in->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *ii = arg;
		struct fuse_init_out o = { .major = FUSE_KERNEL_VERSION,
					   .minor = FUSE_KERNEL_MINOR_VERSION,
					   .max_readahead = ii->max_readahead,
					   .flags = FUSE_MAX_PAGES,
					   .max_background = 16,
					   .congestion_threshold = 12,
					   .max_write = MAX_IO,
					   .time_gran = 1,
					   .max_pages = MAX_IO / 4096 };

		if (ii->major != FUSE_KERNEL_VERSION)
			return reply(u, -EPROTO, NULL, 0) ? -1 : 1;
		if (ii->minor < o.minor)
			o.minor = ii->minor;
		return reply(u, 0, &o, sizeof(o));
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out e = { 0 };

		if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, "disk"))
			return reply(u, -ENOENT, NULL, 0);
		e.nodeid = DISK_INO;
		e.entry_valid = e.attr_valid = 3600;
		fill_attr(DISK_INO, &e.attr);
		return reply(u, 0, &e, sizeof(e));
	}
	case FUSE_GETATTR:
	case FUSE_SETATTR: {
		struct fuse_attr_out a = { .attr_valid = 3600 };

		fill_attr(in->nodeid, &a.attr);
		return reply(u, 0, &a, sizeof(a));
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out o = { .fh = 1 };

		if (in->opcode == FUSE_OPEN)
			o.open_flags = FOPEN_DIRECT_IO;
		return reply(u, 0, &o, sizeof(o));
	}
	case FUSE_READ: {
		const struct fuse_read_in *r = arg;
		uint64_t len = r->size;

		if (in->nodeid != DISK_INO)
			return reply(u, -EISDIR, NULL, 0);
		if (r->offset >= disk_size)
			len = 0;
		else if (len > disk_size - r->offset)
			len = disk_size - r->offset;
		slow();
		reads++;
		return reply(u, 0, disk + (len ? r->offset : 0), (size_t)len);
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *w = arg;
		struct fuse_write_out o = { .size = w->size };
		const uint8_t *data = (const uint8_t *)(w + 1);

		if (w->offset > disk_size || w->size > disk_size - w->offset ||
		    sizeof(*in) + sizeof(*w) + w->size > n)
			return reply(u, -ENOSPC, NULL, 0);
		slow();
		memcpy(disk + w->offset, data, w->size);
		writes++;
		return reply(u, 0, &o, sizeof(o));
	}
	case FUSE_READDIR:
		return reply(u, 0, NULL, 0);
	case FUSE_FLUSH:
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FSYNC:
	case FUSE_ACCESS:
		return reply(u, 0, NULL, 0);
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return 0; /* no reply */
	case FUSE_DESTROY:
		reply(u, 0, NULL, 0);
		return 1;
	}
	return reply(u, -ENOSYS, NULL, 0);
}

int main(int argc, char **argv)
{
	struct sigaction act = { .sa_handler = on_signal };
	static uint8_t buf[BUF_SIZE];
	char opts[128], *end;
	unsigned long mib;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4)
		goto usage;
	mib = strtoul(argv[2], &end, 10);
	if (*end || !mib || mib > 4096)
		goto usage;
	delay_ms = (unsigned int)strtoul(argv[3], &end, 10);
	if (*end || delay_ms > 60000)
		goto usage;
	disk_size = (uint64_t)mib << 20;
	disk = calloc(1, disk_size);
	if (!disk) {
		fprintf(stderr, "slowfs: out of memory\n");
		return 1;
	}
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0) {
		perror("slowfs: /dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 fuse_fd);
	if (mount("kite-slowfs", argv[1], "fuse.kite-slowfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		perror("slowfs: mount");
		return 1;
	}
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	printf("slowfs: ready %s/disk (%lu MiB, %u ms per read or write)\n", argv[1], mib,
	       delay_ms);
	while (!stop) {
		ssize_t n = read(fuse_fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
				continue;
			if (errno == ENODEV)
				break; /* unmounted */
			perror("slowfs: read");
			return 1;
		}
		if ((size_t)n < sizeof(struct fuse_in_header))
			continue;
		if (handle(buf, (size_t)n))
			break;
	}
	printf("slowfs: reads=%lu writes=%lu\n", reads, writes);
	if (stop)
		umount2(argv[1], MNT_DETACH);
	return 0;
usage:
	fprintf(stderr, "usage: kite-slowfs MOUNTPOINT SIZE_MIB DELAY_MS\n");
	return 2;
}
