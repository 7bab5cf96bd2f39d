// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-hostile SEED SECONDS: a hostile L2 program. For SECONDS it writes random values of
 * random widths to random offsets of every PCI device's sysfs config file, into every
 * memory BAR (mmap of resourceN), and to random I/O ports kite emulates, except the ports
 * whose write legitimately ends the VM; then it asks for power-off with reboot(2). The
 * random stream is a fixed function of SEED, so a failure reproduces.
 *
 * Prints "HOSTILE seed=S ops=N cfg=C bar=B pio=P" before powering off. Exit status 3 if
 * reboot returns, 2 on bad usage.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS 32
#define MAX_BARS (MAX_DEVS * 6)

struct bar {
	volatile uint8_t *p;
	size_t len;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: tiny, and the same stream on every machine */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Ports not to write: those whose write ends the VM (debug-exit 0x501, pvpanic 0x505,
 * ACPI sleep control 0x600/0x601, i8042 0x60/0x64 reset), the ones KVM's in-kernel PIC,
 * PIT and RTC handle (not kite's code, and a wedged timer would only hang the guest), and
 * COM1, so the console stays readable.
 */
static int port_allowed(unsigned int port)
{
	static const unsigned int deny[][2] = {
		{ 0x20, 0x21 },	  { 0x40, 0x43 },   { 0x60, 0x64 },   { 0x70, 0x71 },
		{ 0x80, 0x80 },	  { 0xa0, 0xa1 },   { 0x3f8, 0x3ff }, { 0x4d0, 0x4d1 },
		{ 0x501, 0x501 }, { 0x505, 0x505 }, { 0x600, 0x601 }, { 0xcf9, 0xcf9 },
	};

	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if (port >= deny[i][0] && port <= deny[i][1])
			return 0;
	return 1;
}

/* Ports kite emulates, most of the time; any port now and then. */
static unsigned int pick_port(void)
{
	static const unsigned int kite_ports[] = { 0x502, 0x503, 0x504, 0x506, 0x509,
						   0x50a, 0x602, 0x603, 0x604, 0x610 };
	unsigned int port;

	do {
		if (rnd() % 4)
			port = kite_ports[rnd() % (sizeof(kite_ports) / sizeof(kite_ports[0]))];
		else
			port = (unsigned int)(rnd() % 0x10000);
	} while (!port_allowed(port));
	return port;
}

int main(int argc, char **argv)
{
	int cfg_fd[MAX_DEVS], ncfg = 0, nbars = 0, have_io;
	unsigned long ops = 0, ncfgw = 0, nbarw = 0, npio = 0;
	struct bar bars[MAX_BARS];
	struct timespec start, now;
	struct dirent *de;
	unsigned long seed;
	double secs;
	DIR *d;

	if (argc != 3 || (seed = strtoul(argv[1], NULL, 0), secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: kite-hostile SEED SECONDS\n");
		return 2;
	}
	rng_state = seed;
	d = opendir("/sys/bus/pci/devices");
	while (d && (de = readdir(d)) && ncfg < MAX_DEVS) {
		char path[512];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", de->d_name);
		cfg_fd[ncfg] = open(path, O_RDWR);
		if (cfg_fd[ncfg] >= 0)
			ncfg++;
		for (int i = 0; i < 6 && nbars < MAX_BARS; i++) {
			struct stat st;
			void *p;
			int fd;

			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d",
				 de->d_name, i);
			fd = open(path, O_RDWR | O_SYNC);
			if (fd < 0)
				continue;
			if (fstat(fd, &st) == 0 && st.st_size > 0) {
				p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
				if (p != MAP_FAILED) {
					bars[nbars].p = p;
					bars[nbars++].len = (size_t)st.st_size;
				}
			}
			close(fd);
		}
	}
	if (d)
		closedir(d);
	have_io = iopl(3) == 0;
	printf("HOSTILE seed=%lu devices=%d bars=%d io=%d\n", seed, ncfg, nbars, have_io);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		unsigned int kind = (unsigned int)(rnd() % 3), width = 1u << (rnd() % 3);
		uint32_t val = (uint32_t)rnd();

		if ((ops & 255) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - start.tv_sec) +
				    (double)(now.tv_nsec - start.tv_nsec) / 1e9 >=
			    secs)
				break;
		}
		ops++;
		if (kind == 0 && ncfg) {
			int fd = cfg_fd[rnd() % (unsigned int)ncfg];
			off_t off = (off_t)(rnd() % 256) & ~(off_t)(width - 1);

			/* Mostly the header, where BARs and the command register live. */
			if (rnd() % 2)
				off &= 0x3f;
			if (pwrite(fd, &val, width, off) == (ssize_t)width)
				ncfgw++;
		} else if (kind == 1 && nbars) {
			struct bar *b = &bars[rnd() % (unsigned int)nbars];
			size_t off = (size_t)(rnd() % b->len) & ~(size_t)(width - 1);

			if (rnd() % 4 == 0) {
				volatile uint32_t sink = width == 4 ? *(volatile uint32_t *)(b->p +
											     off)
								    : b->p[off];
				(void)sink;
			} else if (width == 4) {
				*(volatile uint32_t *)(b->p + off) = val;
			} else if (width == 2) {
				*(volatile uint16_t *)(b->p + off) = (uint16_t)val;
			} else {
				b->p[off] = (uint8_t)val;
			}
			nbarw++;
		} else if (kind == 2 && have_io) {
			unsigned int port = pick_port();

			if (width == 4 && port <= 0xfffc)
				outl(val, (uint16_t)port);
			else if (width == 2 && port <= 0xfffe)
				outw((uint16_t)val, (uint16_t)port);
			else
				outb((uint8_t)val, (uint16_t)port);
			npio++;
		}
	}
	printf("HOSTILE seed=%lu ops=%lu cfg=%lu bar=%lu pio=%lu done, powering off\n", seed, ops,
	       ncfgw, nbarw, npio);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 3;
}
