/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers shared by the unit tests: scratch files, stderr capture, a JSON config loader and a
 * synthetic bzImage header. Everything is static: each test file gets its own
 * copy, and unused ones cost nothing.
 */
#ifndef KITE_TESTS_UNIT_TEST_HELPERS_H
#define KITE_TESTS_UNIT_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/config.h"
#include "vmm/util.h"

/* Writes @len bytes to a new file in a fresh directory; returns its malloc'd path. */
static inline char *test_write_file(const char *name, const void *data, size_t len)
{
	char dir[] = "/tmp/kite-unit-XXXXXX";
	char *path;
	int fd;

	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s", path);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static inline char *test_write_str(const char *name, const char *s)
{
	return test_write_file(name, s, strlen(s));
}

/* Removes a file from test_write_file and its directory. */
static inline void test_remove_file(char *path)
{
	char *slash;

	if (!path)
		return;
	unlink(path);
	slash = strrchr(path, '/');
	*slash = '\0';
	rmdir(path);
	free(path);
}

/* Captures everything written to an fd (stdio's stream included) until test_capture_end. */
struct test_capture {
	int fd;
	int saved_fd;
	int mem_fd;
};

static inline void test_capture_begin(struct test_capture *c, int fd)
{
	fflush(fd == STDOUT_FILENO ? stdout : stderr);
	c->fd = fd;
	c->mem_fd = memfd_create("kite-test-capture", MFD_CLOEXEC);
	cr_assert(c->mem_fd >= 0);
	c->saved_fd = dup(fd);
	cr_assert(c->saved_fd >= 0);
	cr_assert(dup2(c->mem_fd, fd) >= 0);
}

/* Restores the fd and returns what was written, NUL-terminated (malloc'd). */
static inline char *test_capture_end(struct test_capture *c)
{
	off_t len;
	char *s;

	fflush(c->fd == STDOUT_FILENO ? stdout : stderr);
	dup2(c->saved_fd, c->fd);
	close(c->saved_fd);
	len = lseek(c->mem_fd, 0, SEEK_END);
	cr_assert(len >= 0);
	s = calloc(1, (size_t)len + 1);
	cr_assert_not_null(s);
	cr_assert_eq(pread(c->mem_fd, s, (size_t)len, 0), len);
	close(c->mem_fd);
	return s;
}

static inline void test_stderr_begin(struct test_capture *c)
{
	test_capture_begin(c, STDERR_FILENO);
}

static inline char *test_stderr_end(struct test_capture *c)
{
	return test_capture_end(c);
}

/*
 * The first page of a plausible x86_64 bzImage (boot protocol 2.15): valid
 * unless a test breaks a field. The kernel file is this page followed by
 * protected-mode code, (setup_sects + 1) * 512 = 0xe00 bytes from the start.
 */
#define TEST_BZ_SETUP_SECTS 6
#define TEST_BZ_SETUP_SIZE ((TEST_BZ_SETUP_SECTS + 1) * 512)
#define TEST_BZ_INIT_SIZE 0x2000000u /* 32 MiB */
#define TEST_BZ_PREF_ADDR 0x1000000ull

static inline void test_bzimage_hdr(uint8_t *p, size_t len)
{
	memset(p, 0, len);
	p[0x1f1] = TEST_BZ_SETUP_SECTS;
	put_le16(p + 0x1fe, 0xaa55);
	p[0x200] = 0xeb; /* jmp */
	p[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(p + 0x202, "HdrS", 4);
	put_le16(p + 0x206, 0x020f);
	put_le16(p + 0x1fa, 0xffff);	 /* vid_mode: normal */
	p[0x211] = 0x01;		 /* loadflags: LOADED_HIGH */
	put_le32(p + 0x214, 0x100000);	 /* code32_start */
	put_le32(p + 0x22c, 0x7fffffff); /* initrd_addr_max */
	put_le32(p + 0x230, 0x200000);	 /* kernel_alignment */
	p[0x234] = 1;			 /* relocatable_kernel */
	p[0x235] = 21;			 /* min_alignment */
	put_le16(p + 0x236, 0x7f);	 /* xloadflags: KERNEL_64 and friends */
	put_le32(p + 0x238, 2047);	 /* cmdline_size */
	put_le64(p + 0x258, TEST_BZ_PREF_ADDR);
	put_le32(p + 0x260, TEST_BZ_INIT_SIZE);
}

/* A whole bzImage file: the header page plus @pm_size bytes of "code". */
static inline char *test_write_bzimage(size_t pm_size)
{
	size_t len = TEST_BZ_SETUP_SIZE + pm_size;
	uint8_t *img = calloc(1, len);
	char *path;

	cr_assert_not_null(img);
	test_bzimage_hdr(img, TEST_BZ_SETUP_SIZE);
	memset(img + TEST_BZ_SETUP_SIZE, 0x90, pm_size);
	path = test_write_file("bzImage", img, len);
	free(img);
	return path;
}

/*
 * Loads @text as a JSON config file into @c (initialised here); returns what
 * config_load_json returned, with everything it printed in *@err (malloc'd).
 */
static inline int test_config_load_json(const char *text, struct vm_config *c, char **err)
{
	char *path = test_write_str("vm.json", text);
	struct test_capture cap;
	int ret;

	config_init(c);
	test_stderr_begin(&cap);
	ret = config_load_json(path, c);
	*err = test_stderr_end(&cap);
	test_remove_file(path);
	return ret;
}

#endif
