// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-ioload: block and network load for the virtio benchmark
 * (tests/harness/bench/virtio.sh). Static, libc only; the same binary runs
 * in the L2 guest and in L1.
 *
 *   kite-ioload mkimage FILE MIB
 *       Write a MIB MiB image in which every 4 KiB block starts with a tag
 *       derived from its byte offset (checked by seqread and randread).
 *   kite-ioload seqread DEV [BLOCK_KIB]
 *       Read all of DEV once with O_DIRECT in BLOCK_KIB blocks (default 1024).
 *   kite-ioload randread DEV SECONDS [THREADS]
 *       4 KiB O_DIRECT reads at random aligned offsets for SECONDS, each of
 *       THREADS threads (default 1) keeping one read in flight (queue depth 1).
 *   kite-ioload seqwrite DEV [BLOCK_KIB]
 *   kite-ioload randwrite DEV SECONDS [THREADS]
 *       The same as writes, O_DIRECT, of blocks carrying the tags mkimage
 *       wrote, so the image reads back correct afterwards.
 *   kite-ioload tcp-server ADDR PORT SECONDS COUNT
 *       Serve COUNT connections from tcp-client one after another, then exit.
 *   kite-ioload tcp-client ADDR PORT recv|send SECONDS
 *       recv: the server sends for SECONDS, then closes its side; send: this
 *       end sends for SECONDS. Either way the receiver reports its byte count
 *       back so both ends can check nothing was lost.
 *
 * Every result is one line on stdout, "KITE-IOLOAD TEST key=value ...":
 *   seqread   bytes= usecs= mbps= (10^6 bytes/s) errors= (bad block tags)
 *   randread  ios= usecs= iops= threads= errors=
 *   seqwrite, randwrite: the same keys (errors=0)
 *   tcp       side=server|client dir=to-guest|from-guest bytes= usecs= mbit= (10^6 bit/s)
 * The server's numbers use its own clock from the first command byte to the
 * peer's acknowledgement (to-guest) or to end of stream (from-guest).
 * Exit status: 0 ok, 1 an I/O or network failure or a data check failed,
 * 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096u
#define TAG_MAGIC 0x6b697465696f6c64ull /* "kiteiold" */
#define NET_BUF (128u * 1024u)
#define CONNECT_SECS 30 /* retry a refused or unanswered connect this long */
#define IO_TIMEOUT_S 60 /* a stalled peer fails the run instead of hanging it */
#define ACCEPT_TIMEOUT_MS (600 * 1000)
#define MAX_THREADS 64

static const char usage_text[] = "usage: kite-ioload mkimage FILE MIB\n"
				 "       kite-ioload seqread DEV [BLOCK_KIB]\n"
				 "       kite-ioload randread DEV SECONDS [THREADS]\n"
				 "       kite-ioload seqwrite DEV [BLOCK_KIB]\n"
				 "       kite-ioload randwrite DEV SECONDS [THREADS]\n"
				 "       kite-ioload tcp-server ADDR PORT SECONDS COUNT\n"
				 "       kite-ioload tcp-client ADDR PORT recv|send SECONDS\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "kite-ioload: %s\n", why);
	fputs(usage_text, stderr);
	return 2;
}

/* Strict decimal in [min, max]: digits only, no sign, no junk. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t block_tag(uint64_t off)
{
	return off ^ TAG_MAGIC;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* --- block ------------------------------------------------------------- */

static int cmd_mkimage(int argc, char **argv)
{
	uint64_t mib;
	unsigned char *buf;
	int fd, rc = 0;

	if (argc != 4)
		return usage("mkimage takes FILE MIB");
	if (parse_u64(argv[3], 1, 1u << 20, &mib))
		return usage("MIB must be 1..1048576");
	buf = calloc(1, 1u << 20);
	if (!buf) {
		perror("kite-ioload: calloc");
		return 1;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "kite-ioload: %s: %s\n", argv[2], strerror(errno));
		free(buf);
		return 1;
	}
	for (uint64_t m = 0; m < mib && !rc; m++) {
		uint64_t base = m << 20;

		for (uint32_t b = 0; b < (1u << 20); b += BLK)
			put_le64(buf + b, block_tag(base + b));
		for (size_t done = 0; done < (1u << 20);) {
			ssize_t w = pwrite(fd, buf + done, (1u << 20) - done, (off_t)(base + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fprintf(stderr, "kite-ioload: write %s: %s\n", argv[2],
					w < 0 ? strerror(errno) : "short write");
				rc = 1;
				break;
			}
			done += (size_t)w;
		}
	}
	if (close(fd) < 0 && !rc) {
		fprintf(stderr, "kite-ioload: close %s: %s\n", argv[2], strerror(errno));
		rc = 1;
	}
	free(buf);
	if (!rc)
		printf("KITE-IOLOAD mkimage bytes=%llu\n", (unsigned long long)(mib << 20));
	return rc;
}

/* Opens DEV for O_DIRECT reads (or writes); its size, a multiple of 4 KiB, in *size. */
static int open_direct_rw(const char *dev, uint64_t *size, bool write)
{
	struct stat st;
	int fd = open(dev, (write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kite-ioload: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "kite-ioload: fstat %s: %s\n", dev, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			fprintf(stderr, "kite-ioload: BLKGETSIZE64 %s: %s\n", dev, strerror(errno));
			close(fd);
			return -1;
		}
	} else {
		*size = (uint64_t)st.st_size;
	}
	*size &= ~(uint64_t)(BLK - 1);
	if (*size == 0) {
		fprintf(stderr, "kite-ioload: %s is smaller than 4 KiB\n", dev);
		close(fd);
		return -1;
	}
	return fd;
}

static int open_direct(const char *dev, uint64_t *size)
{
	return open_direct_rw(dev, size, false);
}

/* Fills the 4 KiB blocks of buf with the tags of the len bytes at off. */
static void put_tags(unsigned char *buf, size_t len, uint64_t off)
{
	for (size_t b = 0; b + BLK <= len; b += BLK)
		put_le64(buf + b, block_tag(off + b));
}

/* Tag mismatches in the 4 KiB blocks of buf (len bytes read at off); reports the first. */
static uint64_t check_tags(const unsigned char *buf, size_t len, uint64_t off, uint64_t *reported)
{
	uint64_t bad = 0;

	for (size_t b = 0; b + BLK <= len; b += BLK) {
		uint64_t got = get_le64(buf + b), want = block_tag(off + b);

		if (got == want)
			continue;
		bad++;
		if ((*reported)++ == 0)
			fprintf(stderr,
				"kite-ioload: bad data at offset %llu: tag %016llx, expected %016llx\n",
				(unsigned long long)(off + b), (unsigned long long)got,
				(unsigned long long)want);
	}
	return bad;
}

static int cmd_seqread(int argc, char **argv)
{
	bool write = !strcmp(argv[1], "seqwrite");
	uint64_t kib = 1024, size, total = 0, errors = 0, reported = 0, t0, us;
	size_t bs;
	void *buf;
	int fd;

	if (argc != 3 && argc != 4)
		return usage("seqread/seqwrite take DEV [BLOCK_KIB]");
	if (argc == 4 && (parse_u64(argv[3], 4, 65536, &kib) || kib % 4))
		return usage("BLOCK_KIB must be a multiple of 4 in 4..65536");
	bs = (size_t)kib * 1024;
	fd = open_direct_rw(argv[2], &size, write);
	if (fd < 0)
		return 1;
	if (posix_memalign(&buf, BLK, bs)) {
		fputs("kite-ioload: out of memory\n", stderr);
		close(fd);
		return 1;
	}
	t0 = now_us();
	while (total < size) {
		size_t want = size - total < bs ? (size_t)(size - total) : bs;
		ssize_t r;

		if (write)
			put_tags(buf, want, total);
		r = write ? pwrite(fd, buf, want, (off_t)total)
			  : pread(fd, buf, want, (off_t)total);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (size_t)r % BLK) {
			fprintf(stderr, "kite-ioload: %s %s at %llu: %s\n",
				write ? "write" : "read", argv[2], (unsigned long long)total,
				r < 0 ? strerror(errno) : "short transfer");
			free(buf);
			close(fd);
			return 1;
		}
		if (!write)
			errors += check_tags(buf, (size_t)r, total, &reported);
		total += (uint64_t)r;
	}
	us = now_us() - t0;
	if (us == 0)
		us = 1;
	printf("KITE-IOLOAD %s bytes=%llu usecs=%llu mbps=%.1f block_kib=%llu errors=%llu\n",
	       argv[1], (unsigned long long)total, (unsigned long long)us,
	       (double)total / (double)us, (unsigned long long)kib, (unsigned long long)errors);
	free(buf);
	close(fd);
	return errors ? 1 : 0;
}

struct rr_thread {
	pthread_t tid;
	const char *dev;
	uint64_t blocks, deadline_us, seed;
	uint64_t ios, errors;
	int failed;
	bool write;
};

static void *rr_worker(void *arg)
{
	struct rr_thread *t = arg;
	uint64_t x = t->seed, reported = 0, size;
	void *buf;
	int fd = open_direct_rw(t->dev, &size, t->write);

	if (fd < 0) {
		t->failed = 1;
		return NULL;
	}
	if (posix_memalign(&buf, BLK, BLK)) {
		t->failed = 1;
		close(fd);
		return NULL;
	}
	while (now_us() < t->deadline_us) {
		uint64_t off;
		ssize_t r;

		/* xorshift64* */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		off = ((x * 0x2545f4914f6cdd1dull) % t->blocks) * BLK;
		if (t->write)
			put_tags(buf, BLK, off);
		r = t->write ? pwrite(fd, buf, BLK, (off_t)off) : pread(fd, buf, BLK, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)BLK) {
			fprintf(stderr, "kite-ioload: %s %s at %llu: %s\n",
				t->write ? "write" : "read", t->dev, (unsigned long long)off,
				r < 0 ? strerror(errno) : "short transfer");
			t->failed = 1;
			break;
		}
		if (!t->write)
			t->errors += check_tags(buf, BLK, off, &reported);
		t->ios++;
	}
	free(buf);
	close(fd);
	return NULL;
}

static int cmd_randread(int argc, char **argv)
{
	struct rr_thread th[MAX_THREADS];
	uint64_t secs, nthreads = 1, size, ios = 0, errors = 0, t0, us;
	int fd, failed = 0;

	if (argc != 4 && argc != 5)
		return usage("randread/randwrite take DEV SECONDS [THREADS]");
	if (parse_u64(argv[3], 1, 3600, &secs))
		return usage("SECONDS must be 1..3600");
	if (argc == 5 && parse_u64(argv[4], 1, MAX_THREADS, &nthreads))
		return usage("THREADS must be 1..64");
	fd = open_direct(argv[2], &size);
	if (fd < 0)
		return 1;
	close(fd);

	memset(th, 0, sizeof(th));
	t0 = now_us();
	for (uint64_t i = 0; i < nthreads; i++) {
		th[i].dev = argv[2];
		th[i].write = !strcmp(argv[1], "randwrite");
		th[i].blocks = size / BLK;
		th[i].deadline_us = t0 + secs * 1000000u;
		th[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
		if (pthread_create(&th[i].tid, NULL, rr_worker, &th[i])) {
			fputs("kite-ioload: pthread_create failed\n", stderr);
			nthreads = i;
			failed = 1;
			break;
		}
	}
	for (uint64_t i = 0; i < nthreads; i++) {
		pthread_join(th[i].tid, NULL);
		ios += th[i].ios;
		errors += th[i].errors;
		failed |= th[i].failed;
	}
	us = now_us() - t0;
	if (failed)
		return 1;
	printf("KITE-IOLOAD %s ios=%llu usecs=%llu iops=%.1f threads=%llu errors=%llu\n", argv[1],
	       (unsigned long long)ios, (unsigned long long)us,
	       (double)ios * 1e6 / (double)(us ? us : 1), (unsigned long long)nthreads,
	       (unsigned long long)errors);
	return errors ? 1 : 0;
}

/* --- network ----------------------------------------------------------- */

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
	uint64_t p;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return usage("ADDR must be a dotted IPv4 address");
	if (parse_u64(port, 1, 65535, &p))
		return usage("PORT must be 1..65535");
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len) {
		ssize_t w = write(fd, c, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t len)
{
	unsigned char *c = p;

	while (len) {
		ssize_t r = read(fd, c, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Sends for secs seconds, then shuts down the write side. Bytes sent, or -1. */
static int64_t send_for(int fd, unsigned char *buf, uint64_t secs)
{
	uint64_t end = now_us() + secs * 1000000u;
	int64_t sent = 0;

	while (now_us() < end) {
		ssize_t w = write(fd, buf, NET_BUF);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		sent += w;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		return -1;
	return sent;
}

/* Reads to end of stream. Bytes read, or -1. */
static int64_t recv_all(int fd, unsigned char *buf)
{
	int64_t got = 0;

	for (;;) {
		ssize_t r = read(fd, buf, NET_BUF);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got;
		got += r;
	}
}

static void report_tcp(const char *side, const char *dir, int64_t bytes, uint64_t us)
{
	if (us == 0)
		us = 1;
	printf("KITE-IOLOAD tcp side=%s dir=%s bytes=%lld usecs=%llu mbit=%.1f\n", side, dir,
	       (long long)bytes, (unsigned long long)us, (double)bytes * 8.0 / (double)us);
	fflush(stdout);
}

/* One connection: command byte 'r' (the client receives) or 's' (it sends). */
static int serve_one(int c, unsigned char *buf, uint64_t secs)
{
	unsigned char cmd, ack[8];
	uint64_t t0, us;
	int64_t n;

	if (read_all(c, &cmd, 1)) {
		fputs("kite-ioload: tcp-server: no command byte\n", stderr);
		return 1;
	}
	t0 = now_us();
	if (cmd == 'r') {
		n = send_for(c, buf, secs);
		if (n < 0 || read_all(c, ack, 8)) {
			fprintf(stderr, "kite-ioload: tcp-server: to-guest: %s\n", strerror(errno));
			return 1;
		}
		us = now_us() - t0;
		report_tcp("server", "to-guest", n, us);
		if (get_le64(ack) != (uint64_t)n) {
			fprintf(stderr, "kite-ioload: tcp-server: sent %lld bytes, peer got %llu\n",
				(long long)n, (unsigned long long)get_le64(ack));
			return 1;
		}
		return 0;
	}
	if (cmd == 's') {
		n = recv_all(c, buf);
		us = now_us() - t0;
		if (n < 0) {
			fprintf(stderr, "kite-ioload: tcp-server: from-guest: %s\n",
				strerror(errno));
			return 1;
		}
		put_le64(ack, (uint64_t)n);
		if (write_all(c, ack, 8)) {
			fprintf(stderr, "kite-ioload: tcp-server: ack: %s\n", strerror(errno));
			return 1;
		}
		report_tcp("server", "from-guest", n, us);
		return 0;
	}
	fprintf(stderr, "kite-ioload: tcp-server: unknown command byte 0x%02x\n", cmd);
	return 1;
}

static int cmd_tcp_server(int argc, char **argv)
{
	struct sockaddr_in sa;
	uint64_t secs, count;
	unsigned char *buf;
	int s, one = 1, rc = 0;

	if (argc != 6)
		return usage("tcp-server takes ADDR PORT SECONDS COUNT");
	if (parse_addr(argv[2], argv[3], &sa))
		return 2;
	if (parse_u64(argv[4], 1, 3600, &secs))
		return usage("SECONDS must be 1..3600");
	if (parse_u64(argv[5], 1, 1000, &count))
		return usage("COUNT must be 1..1000");
	buf = calloc(1, NET_BUF);
	if (!buf) {
		perror("kite-ioload: calloc");
		return 1;
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		fprintf(stderr, "kite-ioload: tcp-server %s:%s: %s\n", argv[2], argv[3],
			strerror(errno));
		free(buf);
		if (s >= 0)
			close(s);
		return 1;
	}
	printf("KITE-IOLOAD tcp-server listening on %s:%s\n", argv[2], argv[3]);
	fflush(stdout);
	for (uint64_t i = 0; i < count; i++) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int c, pr = poll(&p, 1, ACCEPT_TIMEOUT_MS);

		if (pr < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (pr <= 0) {
			fputs("kite-ioload: tcp-server: no connection\n", stderr);
			rc = 1;
			break;
		}
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			fprintf(stderr, "kite-ioload: accept: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		set_timeouts(c);
		rc |= serve_one(c, buf, secs);
		close(c);
	}
	close(s);
	free(buf);
	return rc;
}

static int cmd_tcp_client(int argc, char **argv)
{
	struct sockaddr_in sa;
	unsigned char *buf, ack[8];
	uint64_t secs, t0, us;
	int64_t n;
	bool recv_mode;
	int c = -1;

	if (argc != 6)
		return usage("tcp-client takes ADDR PORT recv|send SECONDS");
	if (parse_addr(argv[2], argv[3], &sa))
		return 2;
	if (strcmp(argv[4], "recv") == 0)
		recv_mode = true;
	else if (strcmp(argv[4], "send") == 0)
		recv_mode = false;
	else
		return usage("mode must be recv or send");
	if (parse_u64(argv[5], 1, 3600, &secs))
		return usage("SECONDS must be 1..3600");
	buf = calloc(1, NET_BUF);
	if (!buf) {
		perror("kite-ioload: calloc");
		return 1;
	}
	/*
	 * The server may not listen yet, or the link may not be up: retry for
	 * CONNECT_SECS in all. SO_SNDTIMEO bounds each blocking connect (Linux
	 * then fails it with EINPROGRESS), so an unanswered SYN cannot stall us
	 * for the kernel's two-minute default.
	 */
	for (uint64_t deadline = now_us() + CONNECT_SECS * 1000000ull;;) {
		struct timeval tv = { .tv_sec = 2 };
		int e;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0)
			break;
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		e = errno;
		close(c);
		c = -1;
		errno = e;
		if (e != ECONNREFUSED && e != ENETUNREACH && e != EHOSTUNREACH && e != ETIMEDOUT &&
		    e != EINPROGRESS && e != EINTR)
			break;
		if (now_us() >= deadline)
			break;
		usleep(200 * 1000);
	}
	if (c < 0) {
		fprintf(stderr, "kite-ioload: connect %s:%s: %s\n", argv[2], argv[3],
			strerror(errno));
		free(buf);
		return 1;
	}
	set_timeouts(c);
	if (write_all(c, recv_mode ? "r" : "s", 1)) {
		fprintf(stderr, "kite-ioload: tcp-client: %s\n", strerror(errno));
		goto fail;
	}
	t0 = now_us();
	if (recv_mode) {
		n = recv_all(c, buf);
		us = now_us() - t0;
		if (n < 0)
			goto fail;
		put_le64(ack, (uint64_t)n);
		if (write_all(c, ack, 8))
			goto fail;
		report_tcp("client", "to-guest", n, us);
	} else {
		n = send_for(c, buf, secs);
		if (n < 0 || read_all(c, ack, 8))
			goto fail;
		us = now_us() - t0;
		report_tcp("client", "from-guest", n, us);
		if (get_le64(ack) != (uint64_t)n) {
			fprintf(stderr, "kite-ioload: tcp-client: sent %lld bytes, peer got %llu\n",
				(long long)n, (unsigned long long)get_le64(ack));
			close(c);
			free(buf);
			return 1;
		}
	}
	close(c);
	free(buf);
	return 0;
fail:
	fprintf(stderr, "kite-ioload: tcp-client %s: %s\n", argv[4], strerror(errno));
	close(c);
	free(buf);
	return 1;
}

int main(int argc, char **argv)
{
	/* Results are parsed from a console or a log: keep them whole lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return usage(NULL);
	if (strcmp(argv[1], "mkimage") == 0)
		return cmd_mkimage(argc, argv);
	if (strcmp(argv[1], "seqread") == 0 || strcmp(argv[1], "seqwrite") == 0)
		return cmd_seqread(argc, argv);
	if (strcmp(argv[1], "randread") == 0 || strcmp(argv[1], "randwrite") == 0)
		return cmd_randread(argc, argv);
	if (strcmp(argv[1], "tcp-server") == 0)
		return cmd_tcp_server(argc, argv);
	if (strcmp(argv[1], "tcp-client") == 0)
		return cmd_tcp_client(argc, argv);
	return usage("unknown command");
}
