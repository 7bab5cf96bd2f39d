// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the guest-memory accessors with hostile ranges: guest_mem_ptr,
 * guest_mem_range_ok, guest_mem_read/write and the identity dma_space (dma_map,
 * dma_read, dma_write) that every device without a vIOMMU uses, on a RAM split around
 * an MMIO hole like kite's (0..1 MiB and 4 GiB..4 GiB+1 MiB here). Addresses and lengths
 * are any 64-bit values, biased towards region edges and wrap-around. A 128-bit model
 * says whether [gpa, gpa+len) lies inside one region; every accessor must agree, return
 * the right host pointer, and move exactly the bytes asked for.
 */
// fuzz-sources: vmm/guest_mem.c vmm/dma.c vmm/log.c
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "vmm/dma.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define LOW (1ULL << 20)
#define FOUR_GIB (1ULL << 32)
#define BUF 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;
static struct dma_space dma;
static uint8_t buf[BUF], back[BUF];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, 2 * LOW, LOW) || mem.nregions != 2 ||
	    mem.regions[1].gpa != FOUR_GIB)
		abort();
	dma_space_init_identity(&dma, &mem);
	return 0;
}

/* The model: the host address for [gpa, gpa+len), or NULL. */
static uint8_t *model(uint64_t gpa, uint64_t len)
{
	static const uint64_t base[2] = { 0, FOUR_GIB };

	for (int i = 0; i < 2; i++)
		if ((__uint128_t)gpa >= base[i] &&
		    (__uint128_t)gpa + len <= (__uint128_t)base[i] + LOW)
			return mem.regions[i].hva + (gpa - base[i]);
	return NULL;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Edges: region starts and ends, the hole, the top of the address space, +/- a little. */
static uint64_t pick(uint8_t sel, uint64_t raw)
{
	static const uint64_t edge[] = {
		0,	    LOW,     FOUR_GIB,	   FOUR_GIB + LOW, UINT64_MAX,
		1ULL << 63, LOW - 1, FOUR_GIB - 1, 0xc0000000ULL
	};

	switch (sel & 3) {
	case 0:
		return raw;
	case 1:
		return edge[(sel >> 2) % (sizeof(edge) / sizeof(edge[0]))] + (int8_t)(raw & 0xff);
	case 2:
		return edge[(sel >> 2) % (sizeof(edge) / sizeof(edge[0]))] - (raw & 0xffff);
	default:
		return raw & 0x1ffff;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size >= 19) {
		uint8_t op = data[0], gsel = data[1], lsel = data[2];
		uint64_t gpa = pick(gsel, get64(data + 3)), len = pick(lsel, get64(data + 11));
		uint8_t *want = model(gpa, len);
		size_t n = (size_t)(len < BUF ? len : BUF);
		uint8_t *want_n = model(gpa, n);
		struct iovec iov[4];
		int ret;

		data += 19;
		size -= 19;
		/* Pointer and range check, for any length. */
		if (guest_mem_ptr(&mem, gpa, len) != want ||
		    guest_mem_range_ok(&mem, gpa, len) != !!want)
			__builtin_trap();
		ret = dma_map(&dma, gpa, len, op & 1, iov, 4);
		if (len == 0 ? ret != 0
		    : want   ? ret != 1 || iov[0].iov_base != want || iov[0].iov_len != len
			     : ret != -EFAULT)
			__builtin_trap();
		/* Copies, for lengths a buffer holds. */
		memset(buf, op, n);
		switch ((op >> 1) & 3) {
		case 0:
			ret = guest_mem_write(&mem, gpa, buf, n);
			break;
		case 1:
			ret = dma_write(&dma, gpa, buf, n);
			break;
		case 2:
			ret = guest_mem_read(&mem, gpa, back, n);
			break;
		default:
			ret = dma_read(&dma, gpa, back, n);
			break;
		}
		if (n && (ret == 0) != !!want_n)
			__builtin_trap();
		if (ret == 0 && n && ((op >> 1) & 3) < 2 && memcmp(want_n, buf, n))
			__builtin_trap();
		if (ret == 0 && n && ((op >> 1) & 3) >= 2 && memcmp(want_n, back, n))
			__builtin_trap();
		if (ret && ret != -EFAULT)
			__builtin_trap();
	}
	return 0;
}
