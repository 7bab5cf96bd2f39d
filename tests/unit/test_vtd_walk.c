// SPDX-License-Identifier: GPL-2.0-only
/*
 * VT-d translation: legacy and scalable-mode root/context/PASID walks, second- and first-stage
 * page walks for every page size, tables outside RAM or looping, the translating dma_space with
 * its IOTLB (exactly invalidated by descriptors), fault recording, the register file and DMAR.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "iommu/vtd/vtd_priv.h"
#include "tests/unit/test_vtd_util.h"
#include "vmm/guest_mem.h"
#include "vmm/util.h"

char *test_acpi_iasl(const uint8_t *table, size_t len); /* test_acpi.c */

#define HOLE 0xc0000000ull
#define ROOT 0x1000ull
#define CTX 0x2000ull
#define PDIR 0x3000ull
#define PTAB 0x4000ull
#define QBASE 0x8000ull
#define TABLES 0x100000ull /* page-table pages allocated upwards from here */
#define SID 0x08	   /* 00:01.0 */

static struct guest_mem mem;
static struct vtd *v;
static uint64_t next_table;
static unsigned int msis;

static int msi(void *ctx, uint64_t addr, uint32_t data)
{
	msis++;
	return 0;
}

static void w64(uint64_t gpa, uint64_t val)
{
	cr_assert_eq(guest_mem_write(&mem, gpa, &val, 8), 0);
}

static uint64_t r64(uint64_t gpa)
{
	uint64_t val = 0;

	guest_mem_read(&mem, gpa, &val, 8);
	return val;
}

static void unit(bool scalable, unsigned int aw, enum vtd_mode mode)
{
	vtd_test_free(v);
	v = vtd_test_new(&mem, scalable, aw, mode, msi);
}

static void setup(void)
{
	cr_assert_eq(guest_mem_init(&mem, MiB(64), HOLE), 0);
	next_table = TABLES;
	msis = 0;
	v = NULL;
	unit(false, 48, VTD_MODE_EMULATED);
}

static void teardown(void)
{
	vtd_test_free(v);
	guest_mem_destroy(&mem);
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;

	next_table += 4096;
	return t;
}

/*
 * Maps @iova -> @gpa with a leaf at @leaf_level (1: 4K, 2: 2M, 3: 1G) in a @levels-level
 * table at @root. @fs: first-stage format (P|RW|US), else second-stage (R|W).
 */
static void map(uint64_t root, unsigned int levels, uint64_t iova, uint64_t gpa,
		unsigned int leaf_level, bool writable, bool fs)
{
	uint64_t table = root, nonleaf = fs ? 0x7 : 0x3;
	uint64_t leafbits = fs ? (0x5 | (writable ? 2 : 0)) : (0x1 | (writable ? 2 : 0));

	for (unsigned int l = levels; l > leaf_level; l--) {
		uint64_t slot = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8, e = r64(slot);

		if (!(e & 1)) {
			e = new_table() | nonleaf;
			w64(slot, e);
		}
		table = e & ~0xfffULL;
	}
	w64(table + ((iova >> (12 + 9 * (leaf_level - 1))) & 0x1ff) * 8,
	    gpa | leafbits | (leaf_level > 1 ? 0x80 : 0));
}

static uint64_t legacy_ctx(unsigned int aw, unsigned int tt, uint16_t did)
{
	uint64_t pt = new_table();

	w64(ROOT, CTX | 1);
	w64(CTX + SID * 16, pt | (tt << 2) | 1);
	w64(CTX + SID * 16 + 8, aw | ((uint64_t)did << 8));
	return pt;
}

static int walk(uint64_t iova, uint64_t *gpa, unsigned int *perm, struct vtd_fault *f)
{
	struct vtd_ctx ctx;
	int ret = vtd_resolve_ctx(&mem, &v->caps, ROOT, SID, &ctx, f);

	return ret ? ret : vtd_walk(&mem, &v->caps, &ctx, iova, gpa, perm, f);
}

TestSuite(vtd_walk, .init = setup, .fini = teardown);

Test(vtd_walk, legacy_3_and_4_level_every_page_size)
{
	for (unsigned int aw = 1; aw <= 2; aw++) {
		uint64_t pt, gpa = 0;
		unsigned int perm = 0;
		struct vtd_fault f;

		next_table = TABLES;
		memset(guest_mem_ptr(&mem, TABLES, MiB(1)), 0, MiB(1));
		pt = legacy_ctx(aw, 0, 7);
		map(pt, aw + 2, 0x5000, 0x300000, 1, true, false);
		map(pt, aw + 2, 0x40000000, 0x1000000, 2, false, false);
		map(pt, aw + 2, 0x80000000, 0x0, 3, true, false);
		cr_assert_eq(walk(0x5123, &gpa, &perm, &f), 0);
		cr_assert_eq(gpa, 0x300000);
		cr_assert_eq(perm, 3);
		cr_assert_eq(walk(0x40123000, &gpa, &perm, &f), 0);
		cr_assert_eq(gpa, 0x1123000);
		cr_assert_eq(perm, 1, "read-only 2M page");
		cr_assert_eq(walk(0x80000000 + 0x2345000, &gpa, &perm, &f), 0);
		cr_assert_eq(gpa, 0x2345000);
		/* Unmapped: present bits clear, no permission. */
		cr_assert_eq(walk(0x6000, &gpa, &perm, &f), 0);
		cr_assert_eq(perm, 0);
		/* Beyond the context's address width. */
		cr_assert_eq(walk(1ULL << (30 + 9 * aw), &gpa, &perm, &f), -EFAULT);
		cr_assert_eq(f.reason, VTD_FR_ADDR_BEYOND);
	}
}

Test(vtd_walk, legacy_context_faults)
{
	uint64_t gpa;
	unsigned int perm;
	struct vtd_fault f;

	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_ROOT_NP);
	w64(ROOT, CTX | 1);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_NP);
	legacy_ctx(2, 3, 7); /* TT 11 */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_INVALID);
	legacy_ctx(3, 0, 7); /* 5-level: not in SAGAW */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_INVALID);
	unit(false, 39, VTD_MODE_EMULATED);
	legacy_ctx(2, 0, 7); /* 4-level on a 39-bit unit */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_INVALID);
	w64(CTX + SID * 16 + 8, 1 | (7 << 8) | (1ULL << 40)); /* reserved hi bit */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_RSVD);
	w64(ROOT + 8, 1); /* root hi reserved */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_ROOT_RSVD);
}

Test(vtd_walk, legacy_pass_through)
{
	uint64_t gpa;
	unsigned int perm;
	struct vtd_fault f;

	legacy_ctx(2, 2, 1);
	cr_assert_eq(walk(0x1234567000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x1234567000);
	cr_assert_eq(perm, 3);
}

Test(vtd_walk, tables_outside_ram_or_looping)
{
	uint64_t pt, gpa;
	unsigned int perm;
	struct vtd_fault f;

	/* Root table outside RAM. */
	cr_assert_eq(vtd_resolve_ctx(&mem, &v->caps, 0x7ffff000ULL, SID, &(struct vtd_ctx){ 0 },
				     &f),
		     -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_ROOT_ADDR);
	/* Context table outside RAM. */
	w64(ROOT, 0x7fff0000ULL | 1);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_CTX_ADDR);
	/* A page table outside RAM. */
	pt = legacy_ctx(2, 0, 7);
	w64(pt, 0x7fffe000ULL | 3);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_PTE_ADDR);
	/* A table pointing to itself: the walk ends after its four levels. */
	w64(pt, pt | 3);
	cr_assert_eq(walk(0, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, pt);
	/* Superpage bit at level 4 is reserved. */
	w64(pt, 0x80 | 3);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_PTE_RSVD);
	/* Address bits above the unit's width are reserved. */
	w64(pt, (1ULL << 50) | 3);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_PTE_RSVD);
}

/* Scalable-mode context for SID with RID_PASID 0 -> PASID entry with @pgtt and @root. */
static void sm_ctx(unsigned int pgtt, uint64_t root, unsigned int aw, uint16_t did)
{
	v->caps.scalable = true;
	w64(ROOT, CTX | 1);
	w64(CTX + (SID & 0x7f) * 32, PDIR | (2u << 9) | 1);
	w64(CTX + (SID & 0x7f) * 32 + 8, 0);
	w64(PDIR, PTAB | 1);
	w64(PTAB, (pgtt == 2 ? root : 0) | (pgtt << 6) | (aw << 2) | 1);
	w64(PTAB + 8, did);
	w64(PTAB + 16, pgtt == 1 ? root : 0);
}

Test(vtd_walk, scalable_first_stage)
{
	uint64_t pml4 = new_table(), gpa;
	unsigned int perm;
	struct vtd_fault f;

	unit(true, 48, VTD_MODE_EMULATED);
	sm_ctx(1, pml4, 2, 9);
	map(pml4, 4, 0x7000, 0x500000, 1, true, true);
	map(pml4, 4, 0x200000, 0x1000000, 2, false, true);
	map(pml4, 4, 0x40000000, 0x0, 3, true, true);
	cr_assert_eq(walk(0x7000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x500000);
	cr_assert_eq(perm, 3);
	cr_assert_eq(walk(0x3ff000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x11ff000);
	cr_assert_eq(perm, 1);
	cr_assert_eq(walk(0x40000000 + 0x3000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x3000);
	cr_assert_eq(walk(0x9000, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_FS_NP);
	cr_assert_eq(walk(0x0000800000000000ULL, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_NONCANON);
	/* A supervisor-only leaf refuses requests without PASID (user requests). */
	map(pml4, 4, 0xa000, 0x600000, 1, true, true);
	{
		uint64_t pt = r64(r64(r64(pml4) & ~0xfffULL) & ~0xfffULL) & ~0xfffULL;

		w64(pt + 0xa * 8, 0x600000 | 3);
	}
	cr_assert_eq(walk(0xa000, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_FS_US);
	/* 1 GiB first-stage pages need FL1GP. */
	v->caps.fl1gp = false;
	cr_assert_eq(walk(0x40000000, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_FS_RSVD);
}

Test(vtd_walk, scalable_second_stage_pt_and_bad_entries)
{
	uint64_t root = new_table(), gpa;
	unsigned int perm;
	struct vtd_fault f;

	unit(true, 48, VTD_MODE_EMULATED);
	sm_ctx(2, root, 2, 9);
	map(root, 4, 0x3000, 0x700000, 1, true, false);
	cr_assert_eq(walk(0x3000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x700000);
	sm_ctx(4, 0, 2, 1);
	cr_assert_eq(walk(0x123000, &gpa, &perm, &f), 0);
	cr_assert_eq(gpa, 0x123000);
	sm_ctx(3, 0, 2, 1); /* nested: host-backed devices only */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_SM_PE_INVALID);
	w64(PTAB, 0);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_SM_PE_NP);
	w64(PDIR, 0);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_SM_PDE_NP);
	w64(CTX + (SID & 0x7f) * 32 + 16, 1); /* reserved qw2 */
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_SM_CTX_RSVD);
	w64(ROOT, 0);
	cr_assert_eq(walk(0, &gpa, &perm, &f), -EFAULT);
	cr_assert_eq(f.reason, VTD_FR_SM_ROOT_NP);
}

/* ---- dma_space, IOTLB, faults ---- */

static struct dma_space dma;

static void enable_translation(bool scalable)
{
	int i = vtd_add_sid(v, SID);

	cr_assert_geq(i, 0);
	vtd_dma_init(v, &v->devs[i], &dma);
	vtd_test_wr(v, VTD_RTADDR, ROOT | (scalable ? 1u << 10 : 0), 8);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_SRTP, 4);
	cr_assert(vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_SRTP);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_TE, 4);
	cr_assert(vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_TE);
}

static void submit(uint64_t qw0, uint64_t qw1)
{
	uint8_t d[32] = { 0 };
	uint64_t tail = vtd_test_rd(v, VTD_IQT, 8), size = 16;

	if (!(vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_QIE)) {
		vtd_test_wr(v, VTD_IQA, QBASE, 8);
		vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE | (vtd_test_rd(v, VTD_GSTS, 4) & VTD_GCMD_TE),
			    4);
		tail = 0;
	}
	put_le64(d, qw0);
	put_le64(d + 8, qw1);
	cr_assert_eq(guest_mem_write(&mem, QBASE + tail, d, size), 0);
	vtd_test_wr(v, VTD_IQT, (tail + size) % 4096, 4);
	viommu_queue_drain(&v->q);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE, 0);
}

TestSuite(vtd_dma, .init = setup, .fini = teardown);

Test(vtd_dma, identity_until_te_then_translated)
{
	uint64_t pt = legacy_ctx(2, 0, 7);
	uint32_t val = 0x12345678, got = 0;
	int i = vtd_add_sid(v, SID);

	vtd_dma_init(v, &v->devs[i], &dma);
	cr_assert_eq(dma_write(&dma, 0x400000, &val, 4), 0);
	cr_assert_eq(*(uint32_t *)guest_mem_ptr(&mem, 0x400000, 4), val);
	map(pt, 4, 0x10000, 0x400000, 1, true, false);
	enable_translation(false);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, val);
	/* Crossing into an unmapped page fails the whole request. */
	cr_assert_eq(dma_read(&dma, 0x10ffe, &got, 4), -EFAULT);
}

Test(vtd_dma, segments_coalesce_and_split)
{
	uint64_t pt = legacy_ctx(2, 0, 7);
	struct iovec iov[4];

	map(pt, 4, 0x10000, 0x400000, 1, true, false);
	map(pt, 4, 0x11000, 0x401000, 1, true, false);
	map(pt, 4, 0x12000, 0x800000, 1, true, false);
	enable_translation(false);
	cr_assert_eq(dma_map(&dma, 0x10800, 0x2000, false, iov, 4), 2);
	cr_assert_eq(iov[0].iov_len, 0x1800);
	cr_assert_eq(iov[0].iov_base, guest_mem_ptr(&mem, 0x400800, 1));
	cr_assert_eq(iov[1].iov_len, 0x800);
	cr_assert_eq(dma_map(&dma, 0x10800, 0x2000, false, iov, 1), -E2BIG);
}

Test(vtd_dma, write_to_read_only_faults_and_is_recorded)
{
	uint64_t pt = legacy_ctx(2, 0, 7);
	uint32_t val = 1;

	map(pt, 4, 0x10000, 0x400000, 1, false, false);
	enable_translation(false);
	vtd_test_wr(v, VTD_FECTL, 0, 4);
	cr_assert_eq(dma_read(&dma, 0x10000, &val, 4), 0);
	cr_assert_eq(dma_write(&dma, 0x10000, &val, 4), -EPERM);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_PPF);
	cr_assert_eq(msis, 1);
	cr_assert_eq(vtd_test_rd(v, VTD_FRCD, 8), 0x10000);
	{
		uint64_t hi = vtd_test_rd(v, VTD_FRCD + 8, 8);

		cr_assert_eq(hi & 0xffff, SID);
		cr_assert_eq((hi >> 32) & 0xff, VTD_FR_WRITE);
		cr_assert_eq((hi >> 62) & 1, 0, "T = 0: write");
		cr_assert(hi >> 63);
	}
	/* A second fault while the record is full: overflow, no new interrupt. */
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_PFO);
	cr_assert_eq(msis, 1);
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 32) & 0xff, VTD_FR_WRITE);
	/* Linux: clear F, then PFO|PPF in FSTS. */
	vtd_test_wr(v, VTD_FRCD + 12, 1u << 31, 4);
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_PFO | VTD_FSTS_PPF, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), 0);
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert_eq(msis, 2);
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 32) & 0xff, VTD_FR_READ);
	cr_assert_eq(v->faults, 3);
}

Test(vtd_dma, masked_fault_event_is_delivered_on_unmask)
{
	uint32_t val;

	legacy_ctx(2, 0, 7);
	enable_translation(false);
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert_eq(msis, 0);
	cr_assert(vtd_test_rd(v, VTD_FECTL, 4) & VTD_FECTL_IP);
	vtd_test_wr(v, VTD_FECTL, 0, 4);
	cr_assert_eq(msis, 1);
	cr_assert_eq(vtd_test_rd(v, VTD_FECTL, 4) & VTD_FECTL_IP, 0);
}

Test(vtd_dma, fpd_suppresses_qualified_faults)
{
	uint32_t val;

	legacy_ctx(2, 0, 7);
	w64(CTX + SID * 16, r64(CTX + SID * 16) | 2);
	enable_translation(false);
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), 0);
	cr_assert_eq(v->faults, 1);
}

/*
 * A root-entry fault happens before any context entry (and its FPD) is read: it is always
 * recorded. The FPD of an earlier walk, or whatever the stack held, must not suppress it.
 */
Test(vtd_dma, root_fault_after_fpd_context_is_recorded)
{
	uint32_t val;

	legacy_ctx(2, 0, 7);
	w64(CTX + SID * 16, r64(CTX + SID * 16) | 2); /* FPD */
	enable_translation(false);
	vtd_test_wr(v, VTD_FECTL, 0, 4);
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), 0, "qualified fault suppressed by FPD");
	w64(ROOT, 0);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_SRTP | VTD_GCMD_TE,
		    4); /* re-latch: context cache dropped */
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_PPF);
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 32) & 0xff, VTD_FR_ROOT_NP);
	cr_assert_eq(msis, 1);
	cr_assert_eq(v->faults, 2);
}

Test(vtd_dma, iotlb_cached_until_exact_invalidation)
{
	uint64_t pt = legacy_ctx(2, 0, 7);
	uint32_t a = 0xaaaa, b = 0xbbbb, got;

	guest_mem_write(&mem, 0x400000, &a, 4);
	guest_mem_write(&mem, 0x500000, &b, 4);
	map(pt, 4, 0x10000, 0x400000, 1, true, false);
	enable_translation(false);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, a);
	/* The guest remaps without telling the unit: the cached translation stays. */
	map(pt, 4, 0x10000, 0x500000, 1, true, false);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, a);
	/* Another domain's page invalidation, and another page of ours, do not drop it. */
	submit(VTD_DESC_IOTLB | (3u << 4) | (8ULL << 16), 0x10000);
	submit(VTD_DESC_IOTLB | (3u << 4) | (7ULL << 16), 0x11000);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, a);
	/* Our page: dropped, re-walked. */
	submit(VTD_DESC_IOTLB | (3u << 4) | (7ULL << 16), 0x10000);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, b);
	/* Domain-selective and a 2-page mask. */
	map(pt, 4, 0x10000, 0x400000, 1, true, false);
	submit(VTD_DESC_IOTLB | (2u << 4) | (7ULL << 16), 0);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, a);
	map(pt, 4, 0x10000, 0x500000, 1, true, false);
	submit(VTD_DESC_IOTLB | (3u << 4) | (7ULL << 16), 0x10000 | 1); /* AM 1: 0x10000-0x11fff */
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, b);
}

Test(vtd_dma, scalable_first_stage_dma)
{
	uint64_t pml4 = new_table();
	uint32_t a = 0xfeed, got;

	unit(true, 48, VTD_MODE_EMULATED);
	sm_ctx(1, pml4, 2, 9);
	v->caps.scalable = false; /* latched by SRTP below */
	guest_mem_write(&mem, 0x400000, &a, 4);
	map(pml4, 4, 0x10000, 0x400000, 1, false, true);
	enable_translation(true);
	cr_assert(v->caps.scalable);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, a);
	cr_assert_eq(dma_write(&dma, 0x10000, &got, 4), -EPERM);
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 32) & 0xff, VTD_FR_FS_WRITE);
	/* PASID-based page invalidation drops the translation. */
	map(pml4, 4, 0x10000, 0x500000, 1, false, true);
	submit(VTD_DESC_PIOTLB | (3u << 4) | (9ULL << 16), 0x10000);
	a = 0;
	guest_mem_write(&mem, 0x500000, &a, 4);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), 0);
	cr_assert_eq(got, 0);
}

/*
 * Emulated devices never send PASID-tagged requests: a fault of a request translated through
 * RID_PASID is recorded without PASID (PP = 0), whatever RID_PASID the context names.
 */
Test(vtd_dma, scalable_fault_of_request_without_pasid_has_pp_clear)
{
	uint64_t pml4 = new_table();
	uint32_t got;

	unit(true, 48, VTD_MODE_EMULATED);
	sm_ctx(1, pml4, 2, 9);
	/* RID_PASID 5: PASID-table entry 5 (directory entry 0 still) gets the first stage. */
	w64(CTX + (SID & 0x7f) * 32 + 8, 5);
	for (unsigned int q = 0; q < 3; q++)
		w64(PTAB + 5 * 64 + q * 8, r64(PTAB + q * 8));
	v->caps.scalable = false;
	enable_translation(true);
	vtd_test_wr(v, VTD_FECTL, 0, 4);
	cr_assert_eq(dma_read(&dma, 0x10000, &got, 4), -EFAULT);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_PPF);
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 31) & 1, 0, "PP");
	cr_assert_eq((vtd_test_rd(v, VTD_FRCD + 8, 8) >> 40) & 0xfffff, 0, "PASID");
	cr_assert_eq(msis, 1);
}

/* ---- vtd-error reports (the API's `vtd-error` event) ---- */

static struct viommu_error errs[64];
static unsigned int nerrs;
static uint64_t fake_now;

static void on_error(void *opaque, const struct viommu_error *e)
{
	cr_assert_eq(opaque, &errs);
	if (nerrs < 64)
		errs[nerrs] = *e;
	nerrs++;
}

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void watch_errors(void)
{
	nerrs = 0;
	fake_now = 5000000000ULL;
	v->on_error = on_error;
	v->on_error_opaque = &errs;
	v->now_ns = fake_clock;
}

Test(vtd_dma, faults_are_reported_rate_limited)
{
	uint64_t pt = legacy_ctx(2, 0, 7);
	uint32_t val = 0;

	map(pt, 4, 0x10000, 0x400000, 1, false, false);
	enable_translation(false);
	watch_errors();
	cr_assert_eq(dma_write(&dma, 0x10010, &val, 4), -EPERM);
	cr_assert_eq(nerrs, 1);
	cr_assert_eq(errs[0].kind, VIOMMU_ERROR_DMA_FAULT);
	cr_assert_eq(errs[0].addr, 0x10000);
	cr_assert_eq(errs[0].sid, SID);
	cr_assert(errs[0].write);
	cr_assert_eq(errs[0].code, VTD_FR_WRITE);
	cr_assert_eq(errs[0].suppressed, 0);
	/* A burst in the same second: VIOMMU_ERROR_EVENTS_PER_SEC reported, the rest counted. */
	for (unsigned int i = 0; i < 30; i++)
		cr_assert_eq(dma_read(&dma, 0x200000 + i * 4096ULL, &val, 4), -EFAULT);
	cr_assert_eq(nerrs, VIOMMU_ERROR_EVENTS_PER_SEC);
	cr_assert_eq(errs[1].addr, 0x200000);
	cr_assert_not(errs[1].write);
	cr_assert_eq(v->faults, 31, "every fault is still counted");
	/* Next second: reported again, with the number dropped. */
	fake_now += 1000000000ULL;
	cr_assert_eq(dma_read(&dma, 0x300000, &val, 4), -EFAULT);
	cr_assert_eq(nerrs, VIOMMU_ERROR_EVENTS_PER_SEC + 1);
	cr_assert_eq(errs[VIOMMU_ERROR_EVENTS_PER_SEC].addr, 0x300000);
	cr_assert_eq(errs[VIOMMU_ERROR_EVENTS_PER_SEC].suppressed,
		     31 - VIOMMU_ERROR_EVENTS_PER_SEC);
}

Test(vtd_dma, fpd_suppressed_faults_are_not_reported)
{
	uint32_t val;

	legacy_ctx(2, 0, 7);
	w64(CTX + SID * 16, r64(CTX + SID * 16) | 2);
	enable_translation(false);
	watch_errors();
	cr_assert_eq(dma_read(&dma, 0x20000, &val, 4), -EFAULT);
	cr_assert_eq(nerrs, 0);
}

Test(vtd_dma, iqe_is_reported_with_its_index)
{
	uint8_t d[16] = { 0 };

	watch_errors();
	submit(VTD_DESC_IOTLB | (1u << 4), 0); /* global IOTLB: fine, slot 0 */
	cr_assert_eq(nerrs, 0);
	put_le64(d, 0x0f); /* unknown type 15, slot 1 */
	cr_assert_eq(guest_mem_write(&mem, QBASE + 16, d, 16), 0);
	vtd_test_wr(v, VTD_IQT, 32, 4);
	viommu_queue_drain(&v->q);
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE);
	cr_assert_eq(nerrs, 1);
	cr_assert_eq(errs[0].kind, VIOMMU_ERROR_IQE);
	cr_assert_eq(errs[0].index, 1);
	cr_assert_eq(errs[0].code, VTD_IQEI_TYPE);
	/* A bad tail (beyond the queue) is an IQE at IQH too. */
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	vtd_test_wr(v, VTD_IQT, 0x7fff0, 4);
	viommu_queue_drain(&v->q);
	cr_assert_eq(nerrs, 2);
	cr_assert_eq(errs[1].code, VTD_IQEI_TAIL);
}

/* ---- registers ---- */

TestSuite(vtd_regs, .init = setup, .fini = teardown);

Test(vtd_regs, identification_and_caps)
{
	cr_assert_eq(vtd_test_rd(v, VTD_VER, 4), 0x10);
	cr_assert_eq(vtd_test_rd(v, VTD_CAP, 8), 0x0012008c222f0606ULL);
	cr_assert_eq(vtd_test_rd(v, VTD_CAP, 8) & 0x80, 0, "CM=0 emulated");
	cr_assert_eq(vtd_test_rd(v, VTD_CAP + 4, 4), 0x0012008cu);
	cr_assert_eq(vtd_test_rd(v, VTD_ECAP, 8), 0xf42);
	unit(false, 39, VTD_MODE_SHADOW);
	cr_assert(vtd_test_rd(v, VTD_CAP, 8) & 0x80, "CM=1 shadow");
	cr_assert_eq((vtd_test_rd(v, VTD_CAP, 8) >> 8) & 0x1f, 0x2);
	cr_assert_eq((vtd_test_rd(v, VTD_CAP, 8) >> 16) & 0x3f, 38);
	unit(true, 48, VTD_MODE_NESTED);
	cr_assert(vtd_test_rd(v, VTD_CAP, 8) & 0x80);
	cr_assert_eq(vtd_test_rd(v, VTD_ECAP, 8), 0x0000c80000000f42ULL);
	/* Fault recording and IOTLB registers where CAP.FRO / ECAP.IRO say. */
	cr_assert_eq(((vtd_test_rd(v, VTD_CAP, 8) >> 24) & 0x3ff) * 16, VTD_FRCD);
	cr_assert_eq(((vtd_test_rd(v, VTD_ECAP, 8) >> 8) & 0x3ff) * 16 + 8, VTD_IOTLB);
}

Test(vtd_regs, gcmd_one_shot_and_persistent)
{
	vtd_test_wr(v, VTD_RTADDR, 0x5000, 4);
	vtd_test_wr(v, VTD_RTADDR + 4, 0x1, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_RTADDR, 8), 0x100005000ULL);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_SRTP, 4);
	cr_assert_eq(v->rtaddr_latched, 0x100005000ULL);
	cr_assert_eq(vtd_test_rd(v, VTD_GSTS, 4), VTD_GCMD_SRTP);
	cr_assert_eq(vtd_test_rd(v, VTD_GCMD, 4), 0, "GCMD reads 0");
	/* SRTP again (GSTS | SRTP, as kvm-unit-tests writes) re-latches. */
	vtd_test_wr(v, VTD_RTADDR, 0x6000, 8);
	vtd_test_wr(v, VTD_GCMD, vtd_test_rd(v, VTD_GSTS, 4) | VTD_GCMD_SRTP, 4);
	cr_assert_eq(v->rtaddr_latched, 0x6000);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_GSTS, 4), VTD_GCMD_SRTP | VTD_GCMD_QIE);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_QIE | VTD_GCMD_TE, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_GSTS, 4), VTD_GCMD_SRTP | VTD_GCMD_QIE | VTD_GCMD_TE);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_TE, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_GSTS, 4), VTD_GCMD_SRTP | VTD_GCMD_TE);
	/* Scalable TTM is latched only where SMTS is offered. */
	vtd_test_wr(v, VTD_RTADDR, 0x6000 | (1u << 10), 8);
	vtd_test_wr(v, VTD_GCMD, VTD_GCMD_SRTP, 4);
	cr_assert(!v->caps.scalable);
}

Test(vtd_regs, w1c_ro_and_odd_accesses)
{
	uint8_t b[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	v->fsts = VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_PFO;
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_PPF, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_PFO,
		     "PPF is read-only");
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4), VTD_FSTS_PPF | VTD_FSTS_PFO);
	/* Read-only registers ignore writes. */
	vtd_test_wr(v, VTD_CAP, 0, 8);
	vtd_test_wr(v, VTD_IQH, 0x100, 8);
	cr_assert_eq(vtd_test_rd(v, VTD_CAP, 8), 0x0012008c222f0606ULL);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), 0);
	/* 1- and 2-byte or unaligned accesses: dropped / all-ones. */
	vtd_mmio_write(v, VTD_RTADDR, b, 2);
	vtd_mmio_write(v, VTD_RTADDR + 2, b, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_RTADDR, 8), 0);
	memset(b, 0, sizeof(b));
	vtd_mmio_read(v, VTD_CAP + 2, b, 4);
	cr_assert_eq(get_le32(b), 0xffffffffu);
	/* Unimplemented offsets read 0. */
	cr_assert_eq(vtd_test_rd(v, 0x800, 8), 0);
	/* IQA keeps DW, QS and the base; IQT only bits 18:4. */
	vtd_test_wr(v, VTD_IQA, 0xffffffffffffffffULL, 8);
	cr_assert_eq(vtd_test_rd(v, VTD_IQA, 8), 0xfffffffffffff807ULL);
	vtd_test_wr(v, VTD_IQT, 0xffffffff, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_IQT, 8), 0x7fff0);
	/* FECTL: only IM is writable; FEADDR low bits are zero. */
	vtd_test_wr(v, VTD_FECTL, 0x7fffffff, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_FECTL, 4), 0);
	vtd_test_wr(v, VTD_FEADDR, 0xfee00003, 4);
	cr_assert_eq(vtd_test_rd(v, VTD_FEADDR, 4), 0xfee00000);
}

Test(vtd_regs, register_invalidation_without_qi)
{
	vtd_test_wr(v, VTD_CCMD, (1ULL << 63) | (1ULL << 61), 8);
	cr_assert_eq(vtd_test_rd(v, VTD_CCMD, 8) >> 63, 0);
	cr_assert_eq((vtd_test_rd(v, VTD_CCMD, 8) >> 59) & 3, 1, "CAIG = global");
	vtd_test_wr(v, VTD_IOTLB, (1ULL << 63) | (1ULL << 60), 8);
	cr_assert_eq(vtd_test_rd(v, VTD_IOTLB, 8) >> 63, 0);
	cr_assert_eq((vtd_test_rd(v, VTD_IOTLB, 8) >> 57) & 3, 1, "IAIG = global");
}

/* ---- DMAR ---- */

Test(vtd_regs, dmar_table)
{
	uint16_t sids[] = { 0x08, 0x10, 0x0119 };
	struct acpi_dmar_cfg c = { .base = 0xfed90000, .haw = 48, .sids = sids, .nsids = 3 };
	uint8_t buf[256];
	uint8_t sum = 0;
	int len = acpi_build_dmar(&c, buf, sizeof(buf));

	cr_assert_eq(len, 48 + 16 + 3 * 8);
	cr_assert_eq(memcmp(buf, "DMAR", 4), 0);
	cr_assert_eq(get_le32(buf + 4), (uint32_t)len);
	for (int i = 0; i < len; i++)
		sum += buf[i];
	cr_assert_eq(sum, 0);
	cr_assert_eq(buf[36], 47);
	cr_assert_eq(buf[37], 0);
	cr_assert_eq(get_le16(buf + 48), 0);
	cr_assert_eq(get_le16(buf + 50), 16 + 24);
	cr_assert_eq(buf[52], 0, "no INCLUDE_PCI_ALL");
	cr_assert_eq(get_le64(buf + 56), 0xfed90000);
	cr_assert_eq(buf[64], 1);
	cr_assert_eq(buf[65], 8);
	cr_assert_eq(buf[70], 1);
	cr_assert_eq(buf[71], 0);
	cr_assert_eq(buf[80 + 5], 1, "bus 1");
	cr_assert_eq(buf[80 + 6], 3);
	cr_assert_eq(buf[80 + 7], 1);
	cr_assert_eq(acpi_build_dmar(&c, buf, 60), -ENOSPC);
	c.base = 0xfed90001;
	cr_assert_eq(acpi_build_dmar(&c, buf, sizeof(buf)), -EINVAL);
}

/* The DMAR as ACPICA reads it: no errors or warnings, and the fields the guest relies on. */
Test(vtd_regs, dmar_table_iasl_clean)
{
	uint16_t sids[] = { 0x08, 0x10, 0x0119 };
	struct acpi_dmar_cfg c = { .base = 0xfed90000, .haw = 48, .sids = sids, .nsids = 3 };
	static const char *const want[] = {
		"Signature : \"DMAR\"",
		"Host Address Width : 2F",
		"Subtable Type : 0000 [Hardware Unit Definition]",
		"Flags : 00",
		"Register Base Address : 00000000FED90000",
		"Device Scope Type : 01 [PCI Endpoint Device]",
		"PCI Bus Number : 00",
		"PCI Path : 01,00",
		"PCI Path : 02,00",
		"PCI Bus Number : 01",
		"PCI Path : 03,01",
	};
	uint8_t buf[256];
	int len = acpi_build_dmar(&c, buf, sizeof(buf));
	char *dsl;

	cr_assert_gt(len, 0);
	dsl = test_acpi_iasl(buf, (size_t)len);
	/* iasl aligns the colons with runs of spaces: squeeze them before matching. */
	for (char *r = dsl, *w = dsl;; r++) {
		if (*r == ' ' && w > dsl && w[-1] == ' ')
			continue;
		if (!(*w++ = *r))
			break;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(dsl, want[i]), "no \"%s\" in\n%s", want[i], dsl);
	free(dsl);
}
