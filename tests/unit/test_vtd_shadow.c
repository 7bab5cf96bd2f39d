// SPDX-License-Identifier: GPL-2.0-only
/*
 * mode=shadow against a fake iommufd: the IOAS_MAP / IOAS_UNMAP calls kite makes for a guest
 * table (exact iova, length, host address, flags), after context-cache and page-selective
 * IOTLB invalidations, TE off/on, pass-through, tables and leaves outside RAM, looping tables,
 * host failures (IQE at the descriptor), and waits completing only after the host calls.
 * The drain runs synchronously (viommu_queue_drain).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/vtd/vtd_priv.h"
#include "tests/unit/test_fake_iommufd.h"
#include "tests/unit/test_vtd_util.h"
#include "vmm/guest_mem.h"
#include "vmm/util.h"

#define HOLE 0xc0000000ull
#define RAM (64ull << 20)
#define ROOT 0x1000ull
#define CTX 0x2000ull
#define QBASE 0x8000ull
#define STATUS 0x9000ull
#define TABLES 0x100000ull
#define SID 0x08 /* 00:01.0 */
#define DID 5
#define IOAS 7
#define FAKE_FD 93
#define RW (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define RO (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE)

struct op {
	char kind; /* 'm' map, 'u' unmap */
	uint64_t iova, len, va;
	uint32_t flags, ioas;
	uint32_t status; /* the wait status word when the call was made */
};

static struct guest_mem mem;
static struct vtd *v;
static struct host_iommu host;
static struct op ops[64];
static unsigned int nops, total_calls;
static int fail_map; /* -errno for every IOAS_MAP */
static uint64_t next_table, pml4, tail;

static int msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)addr;
	(void)data;
	return 0;
}

static uint32_t r32(uint64_t gpa)
{
	uint32_t x = 0;

	guest_mem_read(&mem, gpa, &x, 4);
	return x;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct op o = { 0 };

	(void)ctx;
	cr_assert_eq(fd, FAKE_FD);
	total_calls++;
	if (req == IOMMU_IOAS_IOVA_RANGES)
		return test_fake_iova_ranges(arg);
	if (req == IOMMU_IOAS_MAP) {
		struct iommu_ioas_map *m = arg;

		if (fail_map)
			return fail_map;
		o = (struct op){ 'm', m->iova, m->length, m->user_va, m->flags, m->ioas_id, 0 };
	} else if (req == IOMMU_IOAS_UNMAP) {
		struct iommu_ioas_unmap *u = arg;

		o = (struct op){ 'u', u->iova, u->length, 0, 0, u->ioas_id, 0 };
	} else {
		return -ENOTTY;
	}
	o.status = r32(STATUS);
	if (nops < 64)
		ops[nops++] = o;
	return 0;
}

static void w64(uint64_t gpa, uint64_t val)
{
	cr_assert_eq(guest_mem_write(&mem, gpa, &val, 8), 0);
}

static uint64_t r64(uint64_t gpa)
{
	uint64_t x = 0;

	guest_mem_read(&mem, gpa, &x, 8);
	return x;
}

static uint64_t hva(uint64_t gpa)
{
	return (uint64_t)(uintptr_t)guest_mem_ptr(&mem, gpa, 1);
}

/* The entry for @iova at @level (4..1) of the 4-level table, tables created on the way. */
static uint64_t pte_addr(uint64_t iova, unsigned int level)
{
	uint64_t table = pml4;

	for (unsigned int l = 4; l > level; l--) {
		uint64_t a = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8, e = r64(a);

		if (!(e & 3)) {
			e = next_table | 3;
			next_table += 0x1000;
			w64(a, e);
		}
		table = e & ~0xfffull;
	}
	return table + ((iova >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
}

static void map4k(uint64_t iova, uint64_t gpa, unsigned int perm)
{
	w64(pte_addr(iova, 1), gpa | perm);
}

static void map2m(uint64_t iova, uint64_t gpa, unsigned int perm)
{
	w64(pte_addr(iova, 2), gpa | (1u << 7) | perm);
}

/* Legacy context for SID: second stage, 4 levels (AW 2), DID. */
static void context(bool present, unsigned int tt)
{
	w64(ROOT + (SID >> 8) * 16, CTX | 1);
	w64(CTX + (SID & 0xff) * 16, present ? (pml4 | (tt << 2) | 1) : 0);
	w64(CTX + (SID & 0xff) * 16 + 8, 2 | (DID << 8));
}

static void gcmd(uint32_t bits)
{
	vtd_test_wr(v, VTD_GCMD, bits, 4);
}

static void submit(uint64_t qw0, uint64_t qw1)
{
	w64(QBASE + tail, qw0);
	w64(QBASE + tail + 8, qw1);
	tail += 16;
	vtd_test_wr(v, VTD_IQT, tail, 8);
}

static void cc_global(void)
{
	submit(1 | (1u << 4), 0);
}

static void psi(uint64_t addr, unsigned int am)
{
	submit(2 | (3u << 4) | ((uint64_t)DID << 16), addr | am);
}

static void wait_desc(uint32_t status)
{
	submit(5 | (1u << 5) | ((uint64_t)status << 32), STATUS);
}

static void drain(void)
{
	viommu_queue_drain(&v->q);
}

static void clear_ops(void)
{
	nops = 0;
}

static void expect(unsigned int i, char kind, uint64_t iova, uint64_t len, uint64_t va,
		   uint32_t flags)
{
	cr_assert_lt(i, nops, "op %u missing (%u ops)", i, nops);
	cr_assert_eq(ops[i].kind, kind, "op %u: kind %c", i, ops[i].kind);
	cr_assert_eq(ops[i].ioas, IOAS);
	cr_assert_eq(ops[i].iova, iova, "op %u: iova 0x%llx", i, (unsigned long long)ops[i].iova);
	cr_assert_eq(ops[i].len, len, "op %u: len 0x%llx", i, (unsigned long long)ops[i].len);
	if (kind == 'm') {
		cr_assert_eq(ops[i].va, va, "op %u: va", i);
		cr_assert_eq(ops[i].flags, flags, "op %u: flags 0x%x", i, ops[i].flags);
	}
}

static void expect_identity(unsigned int first)
{
	expect(first, 'u', 0, UINT64_MAX, 0, 0);
	for (unsigned int r = 0; r < mem.nregions; r++)
		expect(first + 1 + r, 'm', mem.regions[r].gpa, mem.regions[r].size,
		       (uint64_t)(uintptr_t)mem.regions[r].hva, RW);
	cr_assert_eq(nops, first + 1 + mem.nregions);
}

/* A unit in shadow mode with the device attached, QI on, TE off. */
static void setup(void)
{
	cr_assert_eq(guest_mem_init(&mem, RAM, HOLE), 0);
	v = vtd_test_new(&mem, false, 48, VTD_MODE_SHADOW, msi);
	host_iommu_init_fd(&host, FAKE_FD, false);
	host_iommu_set_ioctl(&host, fake_ioctl, NULL);
	nops = total_calls = 0;
	fail_map = 0;
	tail = 0;
	next_table = TABLES;
	pml4 = next_table;
	next_table += 0x1000;
	cr_assert_eq(vtd_shadow_add(v, SID, &host, IOAS), 0);
	/* Attached with TE off: all RAM at IOVA == GPA. */
	expect_identity(0);
	vtd_test_wr(v, VTD_RTADDR, ROOT, 8);
	gcmd(VTD_GCMD_SRTP);
	vtd_test_wr(v, VTD_IQA, QBASE, 8);
	gcmd(VTD_GCMD_QIE);
	clear_ops();
}

static void teardown(void)
{
	vtd_test_free(v);
	v = NULL;
	guest_mem_destroy(&mem);
}

/* The guest's table: an 8 KiB run of 4 KiB pages, a read-only page, one 2 MiB page. */
static void guest_tables(void)
{
	map4k(0x10000, 0x800000, 3);
	map4k(0x11000, 0x801000, 3);
	map4k(0x20000, 0x900000, 1);
	map2m(0x40000000, 0x1000000, 3);
}

/* TE on over a not-present context (nothing mapped), then the context and a global CC. */
static void translate_on(void)
{
	context(false, 0);
	gcmd(VTD_GCMD_QIE | VTD_GCMD_TE);
	drain();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_EMPTY);
	cr_assert_eq(nops, 1);
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
	clear_ops();
	guest_tables();
	context(true, 0);
	cc_global();
	drain();
}

TestSuite(vtd_shadow, .init = setup, .fini = teardown);

Test(vtd_shadow, context_invalidation_maps_exactly)
{
	translate_on();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_XLATE);
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
	expect(1, 'm', 0x10000, 0x2000, hva(0x800000), RW);
	expect(2, 'm', 0x20000, 0x1000, hva(0x900000), RO);
	expect(3, 'm', 0x40000000, 0x200000, hva(0x1000000), RW);
	cr_assert_eq(nops, 4);
	/* The same context again (Linux's CC on attach, repeated): nothing changes. */
	clear_ops();
	cc_global();
	drain();
	cr_assert_eq(nops, 0);
}

Test(vtd_shadow, psi_remaps_exactly_the_changed_range_then_wait)
{
	translate_on();
	clear_ops();
	map4k(0x20000, 0xa00000, 3);
	psi(0x20000, 0);
	wait_desc(1);
	drain();
	expect(0, 'u', 0x20000, 0x1000, 0, 0);
	expect(1, 'm', 0x20000, 0x1000, hva(0xa00000), RW);
	cr_assert_eq(nops, 2);
	/* The wait was written only after both host calls. */
	cr_assert_eq(ops[0].status, 0);
	cr_assert_eq(ops[1].status, 0);
	cr_assert_eq(r32(STATUS), 1);

	/* Unchanged range: no host call at all. */
	clear_ops();
	psi(0x40000000, 9);
	drain();
	cr_assert_eq(nops, 0);

	/* Unmapped by the guest (not present): unmap only. */
	clear_ops();
	map4k(0x20000, 0, 0);
	psi(0x20000, 0);
	drain();
	cr_assert_eq(nops, 1);
	expect(0, 'u', 0x20000, 0x1000, 0, 0);

	/* New mapping next to nothing (CM: the guest announces not-present -> present). */
	clear_ops();
	map4k(0x30000, 0x700000, 2);
	psi(0x30000, 0);
	drain();
	cr_assert_eq(nops, 1);
	expect(0, 'm', 0x30000, 0x1000, hva(0x700000),
	       IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE);
}

Test(vtd_shadow, change_inside_a_coalesced_run_splits_it)
{
	translate_on();
	clear_ops();
	map4k(0x11000, 0x805000, 3);
	psi(0x11000, 0);
	drain();
	/* The 8 KiB area goes; its unchanged first page comes back, then the new page. */
	expect(0, 'u', 0x10000, 0x2000, 0, 0);
	expect(1, 'm', 0x10000, 0x1000, hva(0x800000), RW);
	expect(2, 'm', 0x11000, 0x1000, hva(0x805000), RW);
	cr_assert_eq(nops, 3);
	/* A later global invalidation finds everything as mapped. */
	clear_ops();
	submit(2 | (1u << 4), 0);
	drain();
	cr_assert_eq(nops, 0);
}

Test(vtd_shadow, translation_off_is_identity_and_back)
{
	translate_on();
	clear_ops();
	gcmd(VTD_GCMD_QIE);
	drain();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_IDENTITY);
	expect_identity(0);
	clear_ops();
	gcmd(VTD_GCMD_QIE | VTD_GCMD_TE);
	drain();
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
	expect(1, 'm', 0x10000, 0x2000, hva(0x800000), RW);
	cr_assert_eq(nops, 4);
}

Test(vtd_shadow, pass_through_context_is_identity)
{
	translate_on();
	clear_ops();
	context(true, 2);
	cc_global();
	drain();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_IDENTITY);
	expect_identity(0);
	/* IOTLB invalidations do not touch an identity shadow. */
	clear_ops();
	psi(0x10000, 0);
	drain();
	cr_assert_eq(nops, 0);
}

Test(vtd_shadow, other_domain_is_not_walked)
{
	translate_on();
	clear_ops();
	map4k(0x20000, 0xa00000, 3);
	submit(2 | (3u << 4) | ((uint64_t)(DID + 1) << 16), 0x20000);
	drain();
	cr_assert_eq(nops, 0);
}

Test(vtd_shadow, outside_ram_maps_nothing)
{
	translate_on();
	clear_ops();
	/* A leaf pointing into the hole and one beyond RAM; a table pointer beyond RAM. */
	map4k(0x50000, HOLE, 3);
	map4k(0x51000, 0x100000000000ull, 3);
	map2m(0x60000000, RAM, 3); /* a 2 MiB leaf just past the end of RAM */
	w64(pte_addr(0x7000000000ull, 3), 0x200000000000ull | 3);
	psi(0, 18);		  /* AM 18: [0, 1 GiB) */
	submit(2 | (1u << 4), 0); /* and a global one */
	drain();
	cr_assert_eq(nops, 0);
	cr_assert_eq(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE, 0);

	/* A root table outside RAM: the context cannot be resolved, nothing stays mapped. */
	vtd_test_wr(v, VTD_RTADDR, 0x300000000000ull, 8);
	gcmd(VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_SRTP);
	drain();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_EMPTY);
	cr_assert_eq(nops, 1);
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
}

Test(vtd_shadow, looping_tables_are_bounded)
{
	/* Every entry of every level points at the same table: 2^36 leaves in theory. */
	context(false, 0);
	gcmd(VTD_GCMD_QIE | VTD_GCMD_TE);
	drain();
	for (unsigned int i = 0; i < 512; i++)
		w64(pml4 + i * 8, pml4 | 3);
	context(true, 0);
	clear_ops();
	total_calls = 0;
	cc_global();
	drain();
	/* Each 4 KiB leaf is the table page itself: bounded runs, each one map. */
	cr_assert_leq(total_calls, VTD_SHADOW_MAX_RUNS + 2);
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_XLATE);
}

Test(vtd_shadow, host_failure_is_iqe_at_the_descriptor)
{
	translate_on();
	clear_ops();
	fail_map = -ENOMEM;
	map4k(0x20000, 0xa00000, 3);
	psi(0x20000, 0);
	wait_desc(1);
	drain();
	cr_assert(vtd_test_rd(v, VTD_FSTS, 4) & VTD_FSTS_IQE);
	cr_assert_eq(vtd_test_rd(v, VTD_IQER, 8) & 0xf, 0);
	cr_assert_eq(vtd_test_rd(v, VTD_IQH, 8), tail - 32, "IQH at the PSI");
	cr_assert_eq(r32(STATUS), 0, "the wait behind it is not completed");
	/* The host recovers; the guest replaces the slot and clears IQE: the map is retried. */
	fail_map = 0;
	clear_ops();
	w64(QBASE + tail - 32, 5 | (1u << 5) | (2ull << 32));
	w64(QBASE + tail - 24, STATUS);
	vtd_test_wr(v, VTD_FSTS, VTD_FSTS_IQE, 4);
	drain();
	cr_assert_eq(r32(STATUS), 1);
	psi(0x20000, 0);
	drain();
	expect(0, 'm', 0x20000, 0x1000, hva(0xa00000), RW);
	cr_assert_eq(nops, 1);
}

Test(vtd_shadow, counters_and_detach)
{
	struct viommu_counters c;

	translate_on();
	vtd_get_counters(v, &c);
	cr_assert_geq(c.host_calls, 4);
	cr_assert_geq(c.forwarded, 1);
	clear_ops();
	vtd_shadow_del(v, SID);
	cr_assert_eq(nops, 1);
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
	clear_ops();
	cc_global();
	drain();
	cr_assert_eq(nops, 0);
}

Test(vtd_shadow, refused_outside_shadow_mode)
{
	struct vtd *e = vtd_test_new(&mem, false, 48, VTD_MODE_EMULATED, msi);

	cr_assert_eq(vtd_shadow_add(e, SID, &host, IOAS), -EOPNOTSUPP);
	vtd_test_free(e);
	cr_assert_eq(vtd_shadow_add(v, SID, &host, IOAS), -EEXIST);
}

/* Scalable mode: RID_PASID entry with PGTT 010 (second stage), PASID-cache and PASID-IOTLB. */
Test(vtd_shadow, scalable_second_stage)
{
	const uint64_t pdir = 0x3000, ptab = 0x4000;

	vtd_test_free(v);
	v = vtd_test_new(&mem, true, 48, VTD_MODE_SHADOW, msi);
	cr_assert_eq(v->ecap & (1ULL << 47), 0, "no first stage offered in shadow mode");
	cr_assert(v->cap & (1ULL << 7), "CM");
	cr_assert_eq(vtd_shadow_add(v, SID, &host, IOAS), 0);
	w64(ROOT + (SID >> 8) * 16, CTX | 1);
	w64(CTX + (SID & 0x7f) * 32, pdir | 1);
	w64(CTX + (SID & 0x7f) * 32 + 8, 0);
	w64(pdir, ptab | 1);
	w64(ptab, pml4 | (2u << 6) | (2u << 2) | 1);
	w64(ptab + 8, DID);
	guest_tables();
	vtd_test_wr(v, VTD_RTADDR, ROOT | (1u << 10), 8);
	gcmd(VTD_GCMD_SRTP);
	vtd_test_wr(v, VTD_IQA, QBASE, 8);
	gcmd(VTD_GCMD_QIE);
	clear_ops();
	gcmd(VTD_GCMD_QIE | VTD_GCMD_TE);
	submit(7 | (3u << 4), 0); /* PASID-cache global */
	drain();
	cr_assert_eq(v->shadows[0].state, VTD_SHADOW_XLATE);
	expect(0, 'u', 0, UINT64_MAX, 0, 0);
	expect(1, 'm', 0x10000, 0x2000, hva(0x800000), RW);
	expect(2, 'm', 0x20000, 0x1000, hva(0x900000), RO);
	expect(3, 'm', 0x40000000, 0x200000, hva(0x1000000), RW);
	cr_assert_eq(nops, 4);
	/* PASID-IOTLB page-selective for (DID, PASID 0) after one change. */
	clear_ops();
	map4k(0x20000, 0xa00000, 3);
	submit(6 | (3u << 4) | ((uint64_t)DID << 16), 0x20000);
	drain();
	expect(0, 'u', 0x20000, 0x1000, 0, 0);
	expect(1, 'm', 0x20000, 0x1000, hva(0xa00000), RW);
	cr_assert_eq(nops, 2);
	/* Another PASID: not this device's RID_PASID walk. */
	clear_ops();
	map4k(0x20000, 0xb00000, 3);
	submit(6 | (3u << 4) | ((uint64_t)DID << 16) | (5ull << 32), 0x20000);
	drain();
	cr_assert_eq(nops, 0);
}
