// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-nettool: small network helpers for harness scenarios in L1.
 *
 *   kite-nettool tap-offload TAP FLAGS
 *       Attach to the existing tap TAP (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
 *       set TUNSETOFFLOAD to FLAGS (TUN_F_* bits, decimal or 0x hex) and
 *       detach. A persistent tap keeps those offloads for its next user, as a
 *       VMM that died without cleaning up leaves them.
 *   kite-nettool sink ADDR PORT
 *       Accept one TCP connection on ADDR:PORT and read it to its end, then
 *       keep it open (never close, never send) until killed. Prints
 *       "sink: eof bytes=N" at end of stream and "sink: killed bytes=N" on
 *       SIGTERM/SIGINT.
 *
 * Exit status: 0 ok, 1 a system call failed (one line on stderr), 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static unsigned long long total;

static int usage(void)
{
	fprintf(stderr, "usage: kite-nettool tap-offload TAP FLAGS\n"
			"       kite-nettool sink ADDR PORT\n");
	return 2;
}

static int tap_offload(const char *name, const char *flags_s)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned long flags;
	char *end;
	int fd;

	errno = 0;
	flags = strtoul(flags_s, &end, 0);
	if (errno || *end || !*flags_s || strlen(name) >= IFNAMSIZ)
		return usage();
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("kite-nettool: /dev/net/tun");
		return 1;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "kite-nettool: TUNSETIFF %s: %s\n", name, strerror(errno));
		return 1;
	}
	if (ioctl(fd, TUNSETOFFLOAD, flags) < 0) {
		fprintf(stderr, "kite-nettool: TUNSETOFFLOAD 0x%lx on %s: %s\n", flags, name,
			strerror(errno));
		return 1;
	}
	close(fd);
	printf("tap-offload: %s flags=0x%lx\n", name, flags);
	return 0;
}

static void on_signal(int sig)
{
	stop = 1;
}

static int sink(const char *addr, const char *port_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sigaction act = { .sa_handler = on_signal };
	static char buf[1 << 16];
	int one = 1, s, c;
	char *end;
	long port = strtol(port_s, &end, 10);

	if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return usage();
	sa.sin_port = htons((uint16_t)port);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		fprintf(stderr, "kite-nettool: listen %s:%ld: %s\n", addr, port, strerror(errno));
		return 1;
	}
	printf("sink: listening %s:%ld\n", addr, port);
	fflush(stdout);
	c = accept(s, NULL, NULL);
	if (c < 0) {
		if (stop) {
			printf("sink: killed bytes=0\n");
			return 0;
		}
		fprintf(stderr, "kite-nettool: accept: %s\n", strerror(errno));
		return 1;
	}
	while (!stop) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "kite-nettool: read: %s (after %llu bytes)\n",
				strerror(errno), total);
			return 1;
		}
		if (r == 0) {
			printf("sink: eof bytes=%llu\n", total);
			fflush(stdout);
			/* Hold the connection: the peer's half stays open until we are killed. */
			while (!stop)
				pause();
			break;
		}
		total += (unsigned long long)r;
	}
	printf("sink: killed bytes=%llu\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "tap-offload"))
		return tap_offload(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(argv[2], argv[3]);
	return usage();
}
