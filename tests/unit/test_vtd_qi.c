// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d invalidation queue against a fake host kernel: one host call per doorbell whatever
 * the batch size, a failed host entry or a bad descriptor stops the queue at the right
 * descriptor with waits before it written and after it not, recovery, wrap-around, and a guest
 * that rewrites the queue while the drain runs. The drain is called synchronously.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/iommufd.h"
#include "iommu/vtd/vtd_priv.h"
#include "tests/unit/test_vtd_util.h"
#include "vmm/guest_mem.h"
#include "vmm/util.h"

#define HOLE 0xc0000000ull
#define QBASE 0x100000ull
#define STATUS 0x200000ull
#define FAKE_FD 91

struct fake {
	unsigned int calls;
	uint32_t last_n, last_hwpt, last_type, last_len;
	uint64_t addrs[4096];
	int fail_at; /* -1: never */
	void (*during)(void);
	unsigned int msis;
	uint64_t msi_addr;
	uint32_t msi_data;
};

static struct guest_mem mem;
static struct vtd *v;
static struct host_iommu host;
static struct fake fk;

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct iommu_hwpt_invalidate *c = arg;
	const uint64_t *e;

	if (request != IOMMU_HWPT_INVALIDATE)
		return -ENOTTY;
	fk.calls++;
	fk.last_n = c->entry_num;
	fk.last_hwpt = c->hwpt_id;
	fk.last_type = c->data_type;
	fk.last_len = c->entry_len;
	e = (const uint64_t *)(uintptr_t)c->data_uptr;
	for (uint32_t i = 0; i < c->entry_num && i < 4096; i++)
		fk.addrs[i] = e[i];
	if (fk.during)
		fk.during();
	if (fk.fail_at >= 0 && (uint32_t)fk.fail_at < c->entry_num) {
		c->entry_num = (uint32_t)fk.fail_at;
		return -EINVAL;
	}
	return 0;
}

static int encode_addr(void *opaque, const struct viommu_inval *inv, void *entry)
{
	uint64_t a = inv->scope == VIOMMU_INVAL_RANGE ? inv->addr : UINT64_MAX;

	memcpy(entry, &a, 8);
	return 0;
}

static int msi(void *ctx, uint64_t addr, uint32_t data)
{
	fk.msis++;
	fk.msi_addr = addr;
	fk.msi_data = data;
	return 0;
}

static void setup_unit(bool scalable, enum vtd_mode mode)
{
	struct viommu_host_dev hd = {
		.sid = 0x10,
		.host = &host,
		.dev_id = 1,
		.all_domains = true,
		.target = { .id = 42, .data_type = 7, .entry_len = 8, .encode = encode_addr },
	};

	memset(&fk, 0, sizeof(fk));
	fk.fail_at = -1;
	cr_assert_eq(guest_mem_init(&mem, MiB(64), HOLE), 0);
	v = vtd_test_new(&mem, scalable, 48, mode, msi);
	host_iommu_init_fd(&host, FAKE_FD, false);
	host_iommu_set_ioctl(&host, fake_ioctl, NULL);
	cr_assert_eq(vtd_add_host_dev(v, &hd), 0);
}

static void setup(void)
{
	setup_unit(false, VTD_MODE_EMULATED);
}

static void teardown(void)
{
	vtd_test_free(v);
	guest_mem_destroy(&mem);
}

/* Queue of 2^(qs+8) 128-bit slots at QBASE, enabled; FECTL unmasked, MSI 0xfee00000/0x41. */
static void enable_queue(unsigned int qs)
{
	vtd_test_wr(v, VTD_IQT, 0, 4);
	vtd_test_wr(v, VTD_IQA, QBASE | qs, 8);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE, 4);
	cr_assert(vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_QIE);
	vtd_test_wr(v, VTD_FEDATA, 0x41, 4);
	vtd_test_wr(v, VTD_FEADDR, 0xfee00000, 4);
	vtd_test_wr(v, VTD_FECTL, 0, 4);
}

static void put_desc(uint32_t slot, uint64_t qw0, uint64_t qw1)
{
	uint8_t d[16];

	put_le64(d, qw0);
	put_le64(d + 8, qw1);
	cr_assert_eq(guest_mem_write(&mem, QBASE + slot * 16ull, d, 16), 0);
}

static void put_psi(uint32_t slot, uint16_t did, uint64_t addr)
{
	put_desc(slot, VTD_DESC_IOTLB | (3u << 4) | ((uint64_t)did << 16), addr);
}

static void put_wait(uint32_t slot, unsigned int k)
{
	put_desc(slot, VTD_DESC_WAIT | (1u << 5) | (2ULL << 32), STATUS + k * 4);
}

static uint32_t status(unsigned int k)
{
	uint32_t s = 0;

	guest_mem_read(&mem, STATUS + k * 4, &s, 4);
	return s;
}

static void ring(uint32_t tail_slot)
{
	vtd_test_wr(v, VTD_IQT, (uint64_t)tail_slot << 4, 4);
	viommu_queue_drain(&v->q);
}

TestSuite(vtd_qi, .init = setup, .fini = teardown);

static void batch(unsigned int n)
{
	enable_queue(2); /* 1024 slots */
	for (unsigned int i = 0; i < n; i++)
		put_psi(i, 5, (uint64_t)i << 12);
	put_wait(n, 0);
	ring(n + 1);
	cr_assert_eq(fk.calls, 1, "n=%u: %u host calls", n, fk.calls);
	cr_assert_eq(fk.last_n, n);
	cr_assert_eq(fk.last_hwpt, 42);
	cr_assert_eq(fk.last_type, 7);
	cr_assert_eq(fk.last_len, 8);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(fk.addrs[i], (uint64_t)i << 12);
	cr_assert_eq(status(0), 2);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), (n + 1) * 16ull);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE, 0);
	cr_assert_eq(v->q.ctr.host_calls, 1);
	cr_assert_eq(v->q.ctr.forwarded, n);
	cr_assert_eq(v->q.ctr.descriptors, n + 1);
}

Test(vtd_qi, batch_1)
{
	batch(1);
}
Test(vtd_qi, batch_2)
{
	batch(2);
}
Test(vtd_qi, batch_64)
{
	batch(64);
}
Test(vtd_qi, batch_512)
{
	batch(512);
}

/* Groups of 8 invalidations each followed by a wait: descriptor of entry j = j/8*9 + j%8. */
static void fail_at(unsigned int j)
{
	unsigned int slot = 0, groups = 8, bad = j / 8 * 9 + j % 8;

	enable_queue(2);
	for (unsigned int g = 0; g < groups; g++) {
		for (unsigned int i = 0; i < 8; i++)
			put_psi(slot++, 5, (uint64_t)(g * 8 + i) << 12);
		put_wait(slot++, g);
	}
	fk.fail_at = (int)j;
	ring(slot);
	cr_assert_eq(fk.calls, 1);
	cr_assert_eq(fk.last_n, 64);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), bad * 16ull, "j=%u: IQH 0x%llx", j,
		     (unsigned long long)vtd_test_rd(v, VTD_IQH, 8));
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE);
	cr_assert_eq(fk.msis, 1);
	cr_assert_eq(fk.msi_addr, 0xfee00000);
	cr_assert_eq(fk.msi_data, 0x41);
	for (unsigned int g = 0; g < groups; g++)
		cr_assert_eq(status(g), g < j / 8 ? 2u : 0u, "j=%u wait %u", j, g);
	cr_assert_eq(v->iqes, 1);

	/* Stopped: another doorbell does nothing until IQE is cleared. */
	ring(slot);
	cr_assert_eq(fk.calls, 1);

	/* Linux's recovery: clear IQE; the unit resumes at IQH and finishes the queue. */
	fk.fail_at = -1;
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	viommu_queue_drain(&v->q);
	cr_assert_eq(fk.calls, 2);
	cr_assert_eq(fk.last_n, 64 - j);
	cr_assert_eq(fk.addrs[0], (uint64_t)j << 12);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), slot * 16ull);
	for (unsigned int g = 0; g < groups; g++)
		cr_assert_eq(status(g), 2u);
}

Test(vtd_qi, host_fails_at_0)
{
	fail_at(0);
}
Test(vtd_qi, host_fails_at_7)
{
	fail_at(7);
}
Test(vtd_qi, host_fails_at_8)
{
	fail_at(8);
}
Test(vtd_qi, host_fails_at_20)
{
	fail_at(20);
}
Test(vtd_qi, host_fails_at_63)
{
	fail_at(63);
}

Test(vtd_qi, bad_descriptor_stops_before_it)
{
	enable_queue(0);
	put_psi(0, 5, 0x1000);
	put_wait(1, 0);
	put_psi(2, 5, 0x2000);
	put_desc(3, 0xf, 0); /* unknown type 15 */
	put_psi(4, 5, 0x3000);
	put_wait(5, 1);
	ring(6);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 3 * 16);
	cr_assert_eq(vtd_test_rd(v, VTD_IQER, 8) & 0xf, VTD_IQEI_TYPE);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE);
	cr_assert_eq(status(0), 2);
	cr_assert_eq(status(1), 0);
	/* Only what precedes the bad descriptor was forwarded, in one call. */
	cr_assert_eq(fk.calls, 1);
	cr_assert_eq(fk.last_n, 2);
	cr_assert_eq(fk.addrs[1], 0x2000);
	/* Linux overwrites the bad slot with a wait and clears IQE. */
	put_wait(3, 2);
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	viommu_queue_drain(&v->q);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 6 * 16);
	cr_assert_eq(status(2), 2);
	cr_assert_eq(status(1), 2);
}

static void expect_rejected(uint64_t qw0, uint64_t qw1, unsigned int iqei)
{
	enable_queue(0);
	put_desc(0, qw0, qw1);
	ring(1);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE, "qw0 0x%llx qw1 0x%llx accepted",
		  (unsigned long long)qw0, (unsigned long long)qw1);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 0);
	cr_assert_eq(vtd_test_rd(v, VTD_IQER, 8) & 0xf, iqei);
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	put_wait(0, 9); /* let the queue move on */
	viommu_queue_drain(&v->q);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 16);
	vtd_test_wr(v, VTD_GCMD, 0, 4); /* QIE off: head back to 0 for the next case */
}

Test(vtd_qi, reserved_fields_and_granularities)
{
	expect_rejected(VTD_DESC_CC, 0, VTD_IQEI_RSVD); /* G = 0 */
	expect_rejected(VTD_DESC_CC | (1u << 4) | (1u << 6), 0, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_CC | (1u << 4), 1, VTD_IQEI_RSVD); /* qw1 */
	expect_rejected(VTD_DESC_IOTLB, 0, VTD_IQEI_RSVD);	    /* G = 0 */
	expect_rejected(VTD_DESC_IOTLB | (1u << 4) | (1ULL << 40), 0, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_IOTLB | (3u << 4), 19, VTD_IQEI_RSVD); /* AM > MAMV */
	expect_rejected(VTD_DESC_IOTLB | (3u << 4), 1u << 8, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_PIOTLB | (1u << 4), 0, VTD_IQEI_RSVD); /* G = 01 */
	expect_rejected(VTD_DESC_PIOTLB | (3u << 4) | (1ULL << 60), 0, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_PC | (2u << 4), 0, VTD_IQEI_RSVD); /* G = 10 */
	expect_rejected(VTD_DESC_PC | (3u << 4), 5, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_WAIT | (1u << 5) | (1u << 8), STATUS, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_WAIT | (1u << 5), STATUS | 1, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_IEC | (1ULL << 50), 0, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_DEVTLB | (1u << 4), 0, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_PDEVTLB, 2, VTD_IQEI_RSVD);
	expect_rejected(0, 0, VTD_IQEI_TYPE);
	expect_rejected(9, 0, VTD_IQEI_TYPE);
	expect_rejected(VTD_DESC_WAIT | (1u << 9), 0, VTD_IQEI_TYPE); /* type 0x25 */
}

Test(vtd_qi, every_linux_descriptor_accepted)
{
	enable_queue(0);
	put_desc(0, VTD_DESC_CC | (1u << 4), 0);				  /* cc global */
	put_desc(1, VTD_DESC_CC | (3u << 4) | (7ULL << 16) | (0x08ULL << 32), 0); /* device */
	put_desc(2, VTD_DESC_IOTLB | (1u << 4), 0);				  /* global */
	put_desc(3, VTD_DESC_IOTLB | (2u << 4) | (7ULL << 16) | (3u << 6), 0);	  /* DSI, DR|DW */
	put_desc(4, VTD_DESC_IOTLB | (3u << 4) | (7ULL << 16), 0x40000 | (1u << 6) | 2);
	put_desc(5, VTD_DESC_PIOTLB | (2u << 4) | (7ULL << 16), 0);
	put_desc(6, VTD_DESC_PIOTLB | (3u << 4) | (7ULL << 16), 0x80000000ULL | 31);
	put_desc(7, VTD_DESC_PC | (3u << 4), 0);
	put_desc(8, VTD_DESC_PC | (1u << 4) | (7ULL << 16), 0);
	put_desc(9, VTD_DESC_DEVTLB | (8ULL << 32) | (3ULL << 16), 0x7ffffffffffff000ULL);
	put_desc(10, VTD_DESC_PDEVTLB | (8ULL << 16), 0x800);
	put_desc(11, VTD_DESC_IEC, 0);
	put_desc(12, VTD_DESC_WAIT | (1u << 4), 0); /* IF only */
	put_wait(13, 0);
	vtd_test_wr(v, VTD_IECTL, 0, 4);
	vtd_test_wr(v, VTD_IEDATA, 0x55, 4);
	vtd_test_wr(v, VTD_IEADDR, 0xfee01000, 4);
	ring(14);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), 0);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 14 * 16);
	cr_assert_eq(status(0), 2);
	cr_assert(vtd_test_rd(v, VTD_ICS, 4) & VTD_ICS_IWC);
	cr_assert_eq(fk.msi_data, 0x55);
	/* 5 IOTLB-type descriptors forwarded (global, DSI, PSI, PASID-DSI, PASID-PSI), 1 call. */
	cr_assert_eq(fk.calls, 1);
	cr_assert_eq(fk.last_n, 5);
	cr_assert_eq(fk.addrs[2], 0x40000);
	cr_assert_eq(fk.addrs[4], 0);
}

/* PASID-IOTLB AM is only limited by its 6-bit field: AM = 52 is the whole 64-bit space
 * (found by fuzz_vtd_qi: the address mask shifted a 64-bit value by 64). */
Test(vtd_qi, pasid_iotlb_largest_am)
{
	enable_queue(0);
	put_desc(0, VTD_DESC_PIOTLB | (3u << 4) | (7ULL << 16), 0xfffffffffffff000ULL | 52);
	put_desc(1, VTD_DESC_PIOTLB | (3u << 4) | (7ULL << 16), 0xfffffffffffff000ULL | 51);
	put_wait(2, 0);
	ring(3);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), 0);
	cr_assert_eq(fk.last_n, 2);
	cr_assert_eq(fk.addrs[0], 0);
	cr_assert_eq(fk.addrs[1], 0x8000000000000000ULL);
	vtd_test_wr(v, VTD_GCMD, 0, 4);
	expect_rejected(VTD_DESC_PIOTLB | (3u << 4), 53, VTD_IQEI_RSVD);
	expect_rejected(VTD_DESC_PIOTLB | (3u << 4), 63, VTD_IQEI_RSVD);
}

Test(vtd_qi, wrap_around)
{
	enable_queue(0); /* 256 slots */
	/* Move head to 250 with waits. */
	for (unsigned int i = 0; i < 250; i++)
		put_wait(i, 100);
	ring(250);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 250 * 16);
	fk.calls = 0;
	for (unsigned int i = 0; i < 11; i++)
		put_psi((250 + i) % 256, 3, (uint64_t)(i + 1) << 12);
	put_wait(5, 1);
	ring(6);
	cr_assert_eq(fk.calls, 1);
	cr_assert_eq(fk.last_n, 11);
	for (unsigned int i = 0; i < 11; i++)
		cr_assert_eq(fk.addrs[i], (uint64_t)(i + 1) << 12);
	cr_assert_eq(status(1), 2);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 6 * 16);
}

static void rewrite_queue(void)
{
	/* The guest turns slot 1 into a wait at another address and slot 2 into garbage. */
	put_desc(1, VTD_DESC_WAIT | (1u << 5) | (7ULL << 32), STATUS + 4 * 7);
	put_desc(2, 0xf, 0);
}

Test(vtd_qi, guest_rewrites_queue_during_drain)
{
	enable_queue(0);
	put_psi(0, 5, 0x1000);
	put_wait(1, 0);
	put_psi(2, 5, 0x5000);
	put_wait(3, 1);
	fk.during = rewrite_queue;
	ring(4);
	/* The drain works from its copy: both waits as first written, no error. */
	cr_assert_eq(fk.last_n, 2);
	cr_assert_eq(status(0), 2);
	cr_assert_eq(status(1), 2);
	cr_assert_eq(status(7), 0);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE, 0);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 4 * 16);
}

Test(vtd_qi, bad_tail_and_fetch_errors)
{
	enable_queue(0);
	/* A queue outside RAM: fetch error at the head. */
	vtd_test_wr(v, VTD_GCMD, 0, 4);
	vtd_test_wr(v, VTD_IQA, 0x7ffff000ULL, 8);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE, 4);
	ring(3);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE);
	cr_assert_eq(vtd_test_rd(v, VTD_IQER, 8) & 0xf, VTD_IQEI_FETCH);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 0);
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	/* 256-bit descriptors on a unit without scalable mode: invalid width. */
	vtd_test_wr(v, VTD_GCMD, 0, 4);
	vtd_test_wr(v, VTD_IQA, QBASE | (1u << 11), 8);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE, 4);
	vtd_test_wr(v, VTD_IQT, 0x40, 4);
	viommu_queue_drain(&v->q);
	cr_assert_eq(vtd_test_rd(v, VTD_IQER, 8) & 0xf, VTD_IQEI_WIDTH);
	cr_assert_eq(fk.calls, 0);
}

Test(vtd_qi, qie_disable_resets_head_and_stops)
{
	enable_queue(0);
	put_wait(0, 0);
	ring(1);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 16);
	vtd_test_wr(v, VTD_GCMD, 0, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_QIE, 0);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 0);
	put_wait(0, 1);
	ring(1); /* queue disabled: nothing happens */
	cr_assert_eq(status(1), 0);
}

Test(vtd_qi, thread_drains_on_doorbell)
{
	cr_assert_eq(viommu_queue_start(&v->q, "test-qi"), 0);
	enable_queue(0);
	put_psi(0, 5, 0x1000);
	put_wait(1, 0);
	vtd_test_wr(v, VTD_IQT, 2 << 4, 4);
	for (int i = 0;
	     i < 2000 && __atomic_load_n((volatile uint32_t *)&fk.calls, __ATOMIC_ACQUIRE) == 0;
	     i++)
		usleep(1000);
	for (int i = 0; i < 2000 && status(0) != 2; i++)
		usleep(1000);
	cr_assert_eq(status(0), 2);
	cr_assert_eq(fk.calls, 1);
}

/* Two devices sharing one target: one entry per descriptor, not two. */
Test(vtd_qi, shared_target_one_entry_per_descriptor)
{
	struct viommu_host_dev hd = {
		.sid = 0x18,
		.host = &host,
		.dev_id = 2,
		.all_domains = true,
		.target = { .id = 42, .data_type = 7, .entry_len = 8, .encode = encode_addr },
	};

	cr_assert_eq(vtd_add_host_dev(v, &hd), 0);
	cr_assert_eq(vtd_add_host_dev(v, &hd), -EEXIST);
	enable_queue(0);
	put_psi(0, 5, 0x1000);
	put_psi(1, 5, 0x2000);
	put_wait(2, 0);
	ring(3);
	cr_assert_eq(fk.calls, 1);
	cr_assert_eq(fk.last_n, 2);
}
