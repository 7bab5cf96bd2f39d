// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-guestctl: talk to kite's legacy test ports from inside a guest.
 *
 *   kite-guestctl exit N     write byte N (0..255) to the debug-exit port 0x501;
 *                            kite exits with status N
 *   kite-guestctl boot-done  write one byte to the boot-timer port 0x509
 *
 * Static, no dependencies beyond libc, so mkinitramfs can drop it into any
 * initramfs. Usage errors print one line and exit 2; a failure to reach the
 * port exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0x501
#define BOOT_TIMER_PORT 0x509

static const char usage_line[] = "usage: kite-guestctl exit N (0..255) | boot-done\n";

static int usage(void)
{
	fputs(usage_line, stderr);
	return 2;
}

/* Strict decimal 0..255: no sign, no spaces, no trailing junk. */
static int parse_status(const char *s, unsigned char *out)
{
	unsigned int v = 0;

	if (!*s || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	if (v > 255)
		return -1;
	*out = (unsigned char)v;
	return 0;
}

static int port_write(unsigned short port, unsigned char val)
{
	if (ioperm(port, 1, 1) < 0) {
		fprintf(stderr, "kite-guestctl: ioperm(0x%x): %s\n", port, strerror(errno));
		return -1;
	}
	outb(val, port);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char status;

	if (argc == 3 && !strcmp(argv[1], "exit")) {
		if (parse_status(argv[2], &status) < 0)
			return usage();
		if (port_write(DEBUG_EXIT_PORT, status) < 0)
			return 1;
		/* kite stops the VM on the write; getting here means nobody listened. */
		fprintf(stderr, "kite-guestctl: debug-exit port 0x%x did not stop the VM\n",
			DEBUG_EXIT_PORT);
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "boot-done")) {
		if (port_write(BOOT_TIMER_PORT, 1) < 0)
			return 1;
		return 0;
	}
	return usage();
}
