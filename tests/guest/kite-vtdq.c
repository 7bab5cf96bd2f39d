// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-vtdq: drives an emulated VT-d unit's invalidation queue from user space in a guest booted
 * with intel_iommu=off (so Linux leaves the unit alone).
 *
 *   kite-vtdq [--bdf BB:DD.F] [--dw 128|256] [--timeout-ms N] STEP...
 *
 * It finds the unit's register base in the ACPI DMAR table (the DRHD whose device scope names
 * --bdf, else the first DRHD), maps the registers through /dev/mem (CONFIG_STRICT_DEVMEM allows
 * non-RAM pages; the queue itself is never touched through /dev/mem), allocates the queue and a
 * page of wait-status words in its own locked memory, finds their physical addresses in
 * /proc/self/pagemap, programs IQA/IQT and enables QIE. Then, per STEP:
 *
 *   db:ITEM[,ITEM...]  write the items as descriptors after the current tail, ring the doorbell
 *                      (one IQT write) and poll until every wait of the doorbell has its status
 *                      word, FSTS.IQE is set, or the timeout passes
 *   fix                recover from IQE as Linux does: overwrite the descriptor at IQH with a
 *                      fresh wait, clear FSTS.IQE, write IQT again (same tail), poll until every
 *                      wait of the stopped doorbell is signalled
 *   regs               print FSTS, IQH, IQT, IQER
 *
 * ITEM is [N*]KIND[:DID]: piotlb (PASID-based IOTLB, page-selective, PASID 0, one 4 KiB page at
 * a fresh address per item), piotlb-pasid (PASID-selective), iotlb (IOTLB page-selective),
 * iotlb-dom (domain-selective), iotlb-glob, cc (global context-cache), pc (global PASID-cache),
 * iec (global interrupt-entry-cache), wait (status write of a unique value), rsvd (an IOTLB
 * descriptor with a reserved bit set, for the model's own validation).
 *
 * Output: lines starting "VTDQ ", one per event, with key=value fields for the harness:
 *   VTDQ doorbell=K descs=N result=done|iqe|timeout iqh=I at=KIND:DID waits=A/B signalled=1,1,0
 * where iqh= is the index (0-based) of the descriptor at IQH within the doorbell that stopped.
 * Exit: 0 the steps ran (whatever the unit answered), 1 a set-up failure, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REG_VER 0x00
#define REG_CAP 0x08
#define REG_ECAP 0x10
#define REG_GCMD 0x18
#define REG_GSTS 0x1c
#define REG_FSTS 0x34
#define REG_IQH 0x80
#define REG_IQT 0x88
#define REG_IQA 0x90
#define REG_IQER 0xb0

#define GSTS_PERSISTENT 0x86800000u /* TES, QIES, IRES, CFIS: what GCMD must carry along */
#define G_QIE (1u << 26)
#define FSTS_IQE (1u << 4)
#define IQA_DW (1ull << 11)

#define PAGE 4096u
#define MAX_SLOTS 256u	/* 4 KiB of 128-bit descriptors (QS = 0) */
#define MAX_WAITS 1024u /* status words in the status page */

enum kind {
	K_PIOTLB,
	K_PIOTLB_PASID,
	K_IOTLB,
	K_IOTLB_DOM,
	K_IOTLB_GLOB,
	K_CC,
	K_PC,
	K_IEC,
	K_WAIT,
	K_RSVD,
};

static const char *const kind_names[] = {
	[K_PIOTLB] = "piotlb",
	[K_PIOTLB_PASID] = "piotlb-pasid",
	[K_IOTLB] = "iotlb",
	[K_IOTLB_DOM] = "iotlb-dom",
	[K_IOTLB_GLOB] = "iotlb-glob",
	[K_CC] = "cc",
	[K_PC] = "pc",
	[K_IEC] = "iec",
	[K_WAIT] = "wait",
	[K_RSVD] = "rsvd",
};

/* What this program put in each queue slot, so IQH can be named after the fact. */
struct slot {
	enum kind kind;
	uint16_t did;
	int wait; /* status word index, -1 if not a wait */
};

struct vtdq {
	volatile uint8_t *regs;
	uint8_t *queue;		   /* one locked page */
	volatile uint32_t *status; /* one locked page of wait-status words */
	uint64_t queue_pa, status_pa;
	unsigned int dw;     /* descriptor bytes: 16 or 32 */
	unsigned int nslots; /* PAGE / dw */
	unsigned int tail;   /* next free slot */
	struct slot slots[MAX_SLOTS];
	unsigned int nwaits;	 /* status words handed out */
	unsigned int pending_lo; /* first wait not yet seen signalled by a fix */
	uint64_t next_addr;	 /* fresh IOVA for each page invalidation */
	unsigned int timeout_ms;
	unsigned int doorbell;
	/* The last doorbell that stopped with IQE (for fix). */
	unsigned int db_first, db_count;
};

static uint32_t rd32(struct vtdq *q, unsigned int off)
{
	return *(volatile uint32_t *)(q->regs + off);
}

static uint64_t rd64(struct vtdq *q, unsigned int off)
{
	return *(volatile uint64_t *)(q->regs + off);
}

static void wr32(struct vtdq *q, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(q->regs + off) = v;
}

static void wr64(struct vtdq *q, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(q->regs + off) = v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- ACPI DMAR: the register base of the DRHD that scopes @bdf (or the first DRHD) ---- */

static int dmar_find(int bdf, uint64_t *base)
{
	static uint8_t t[65536];
	FILE *f = fopen("/sys/firmware/acpi/tables/DMAR", "rb");
	size_t len, off;
	bool any = false;

	if (!f) {
		fprintf(stderr, "kite-vtdq: no DMAR table: %s\n", strerror(errno));
		return -1;
	}
	len = fread(t, 1, sizeof(t), f);
	fclose(f);
	if (len < 48 || memcmp(t, "DMAR", 4)) {
		fprintf(stderr, "kite-vtdq: DMAR table too short or bad signature\n");
		return -1;
	}
	for (off = 48; off + 4 <= len;) {
		unsigned int type = t[off] | t[off + 1] << 8, slen = t[off + 2] | t[off + 3] << 8;

		if (slen < 4 || off + slen > len)
			break;
		if (type == 0 && slen >= 16) {
			uint64_t b;

			memcpy(&b, t + off + 8, 8);
			if (!any) {
				*base = b;
				any = true;
			}
			for (size_t s = off + 16; s + 6 <= off + slen;) {
				unsigned int stype = t[s], sl = t[s + 1], bus = t[s + 5];

				if (sl < 6 || s + sl > off + slen)
					break;
				/* An endpoint directly on its start bus: one (device, function) pair. */
				if (stype == 1 && sl == 8) {
					int sid = bus << 8 | t[s + 6] << 3 | t[s + 7];

					printf("VTDQ scope drhd=0x%llx sid=%02x:%02x.%x\n",
					       (unsigned long long)b, sid >> 8, (sid >> 3) & 0x1f,
					       sid & 7);
					if (sid == bdf) {
						*base = b;
						return 1;
					}
				}
				s += sl;
			}
		}
		off += slen;
	}
	if (!any) {
		fprintf(stderr, "kite-vtdq: DMAR has no DRHD\n");
		return -1;
	}
	return 0;
}

/* ---- memory the unit reaches by physical address ---- */

static int phys_of(void *va, uint64_t *pa)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (off_t)((uintptr_t)va / PAGE) * 8;

	if (fd < 0 || pread(fd, &e, 8, off) != 8) {
		fprintf(stderr, "kite-vtdq: pagemap: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!(e >> 63) || !(e & ((1ull << 55) - 1))) {
		fprintf(stderr, "kite-vtdq: page not present or PFN hidden (need root)\n");
		return -1;
	}
	*pa = (e & ((1ull << 55) - 1)) * PAGE + ((uintptr_t)va & (PAGE - 1));
	return 0;
}

static void *locked_page(uint64_t *pa)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		       -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "kite-vtdq: mmap: %s\n", strerror(errno));
		return NULL;
	}
	memset(p, 0, PAGE); /* fault it in before asking for its frame */
	if (mlock(p, PAGE) || phys_of(p, pa))
		return NULL;
	return p;
}

/* ---- queue ---- */

static int wait_gcmd(struct vtdq *q, uint32_t bit, bool set)
{
	uint64_t end = now_ms() + 1000;

	while (!!(rd32(q, REG_GSTS) & bit) != set)
		if (now_ms() > end)
			return -1;
	return 0;
}

static int queue_enable(struct vtdq *q)
{
	uint32_t gsts = rd32(q, REG_GSTS) & GSTS_PERSISTENT;

	if (gsts & G_QIE) {
		wr32(q, REG_GCMD, gsts & ~G_QIE);
		if (wait_gcmd(q, G_QIE, false)) {
			fprintf(stderr, "kite-vtdq: QIES stays set after QIE=0\n");
			return -1;
		}
		gsts &= ~G_QIE;
	}
	wr32(q, REG_IQT, 0);
	wr64(q, REG_IQA, q->queue_pa | (q->dw == 32 ? IQA_DW : 0));
	wr32(q, REG_GCMD, gsts | G_QIE);
	if (wait_gcmd(q, G_QIE, true)) {
		fprintf(stderr, "kite-vtdq: QIES not set after QIE=1\n");
		return -1;
	}
	q->tail = rd32(q, REG_IQH) / q->dw;
	return 0;
}

static void put_desc(struct vtdq *q, unsigned int slot, uint64_t qw0, uint64_t qw1)
{
	uint64_t *d = (uint64_t *)(q->queue + slot * q->dw);

	d[0] = qw0;
	d[1] = qw1;
	if (q->dw == 32)
		d[2] = d[3] = 0;
}

static int new_wait(struct vtdq *q, uint64_t *qw0, uint64_t *qw1)
{
	unsigned int w = q->nwaits;

	if (w >= MAX_WAITS)
		return -1;
	q->nwaits++;
	q->status[w] = 0;
	/* SW=1, status data = a value unique to this wait. */
	*qw0 = 5 | 1u << 5 | (uint64_t)(0x5a000000u | w) << 32;
	*qw1 = q->status_pa + w * 4;
	return (int)w;
}

static int encode(struct vtdq *q, enum kind k, uint16_t did, struct slot *s, uint64_t *qw0,
		  uint64_t *qw1)
{
	uint64_t d = (uint64_t)did << 16;

	s->kind = k;
	s->did = did;
	s->wait = -1;
	*qw1 = 0;
	switch (k) {
	case K_PIOTLB: /* G=11 page within PASID 0, AM 0 */
		*qw0 = 6 | 3u << 4 | d;
		*qw1 = q->next_addr;
		q->next_addr += PAGE;
		break;
	case K_PIOTLB_PASID: /* G=10 all of PASID 0 in DID */
		*qw0 = 6 | 2u << 4 | d;
		break;
	case K_IOTLB:
		*qw0 = 2 | 3u << 4 | d;
		*qw1 = q->next_addr;
		q->next_addr += PAGE;
		break;
	case K_IOTLB_DOM:
		*qw0 = 2 | 2u << 4 | d;
		break;
	case K_IOTLB_GLOB:
		*qw0 = 2 | 1u << 4;
		break;
	case K_CC:
		*qw0 = 1 | 1u << 4;
		break;
	case K_PC:
		*qw0 = 7 | 3u << 4;
		break;
	case K_IEC:
		*qw0 = 4;
		break;
	case K_WAIT:
		s->wait = new_wait(q, qw0, qw1);
		if (s->wait < 0)
			return -1;
		break;
	case K_RSVD: /* IOTLB domain-selective with reserved qw0 bit 8 set */
		*qw0 = 2 | 2u << 4 | 1u << 8 | d;
		break;
	}
	return 0;
}

static int parse_item(const char *it, unsigned int *n, enum kind *k, uint16_t *did)
{
	char name[32];
	const char *star = strchr(it, '*'), *colon;
	char *end;
	size_t len;

	*n = 1;
	*did = 1;
	if (star) {
		unsigned long v = strtoul(it, &end, 10);

		if (end != star || v == 0 || v > MAX_SLOTS)
			return -1;
		*n = (unsigned int)v;
		it = star + 1;
	}
	colon = strchr(it, ':');
	len = colon ? (size_t)(colon - it) : strlen(it);
	if (len == 0 || len >= sizeof(name))
		return -1;
	memcpy(name, it, len);
	name[len] = 0;
	if (colon) {
		unsigned long v = strtoul(colon + 1, &end, 0);

		if (*end || end == colon + 1 || v > 0xffff)
			return -1;
		*did = (uint16_t)v;
	}
	for (unsigned int i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(name, kind_names[i])) {
			*k = (enum kind)i;
			return 0;
		}
	return -1;
}

static bool waits_done(struct vtdq *q, unsigned int first, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		struct slot *s = &q->slots[(first + i) % q->nslots];

		if (s->wait >= 0 && q->status[s->wait] != (0x5a000000u | (unsigned int)s->wait))
			return false;
	}
	return true;
}

/* Prints one result line for the descriptors [first, first + count) after polling them. */
static void report(struct vtdq *q, const char *what, unsigned int first, unsigned int count)
{
	uint64_t end = now_ms() + q->timeout_ms;
	unsigned int nw = 0, done = 0, tailoff = (first + count) % q->nslots * q->dw;
	char sig[MAX_SLOTS * 2 + 1] = "";
	const char *result = "timeout";
	uint32_t fsts;

	for (;;) {
		fsts = rd32(q, REG_FSTS);
		if (fsts & FSTS_IQE) {
			result = "iqe";
			break;
		}
		if (waits_done(q, first, count) && rd32(q, REG_IQH) == tailoff) {
			result = "done";
			break;
		}
		if (now_ms() > end)
			break;
		usleep(100);
	}
	for (unsigned int i = 0; i < count; i++) {
		struct slot *s = &q->slots[(first + i) % q->nslots];

		if (s->wait < 0)
			continue;
		bool ok = q->status[s->wait] == (0x5a000000u | (unsigned int)s->wait);

		nw++;
		done += ok;
		strcat(sig, nw > 1 ? (ok ? ",1" : ",0") : (ok ? "1" : "0"));
	}
	unsigned int iqh_slot = (unsigned int)(rd32(q, REG_IQH) / q->dw) % q->nslots;
	unsigned int rel = (iqh_slot + q->nslots - first) % q->nslots;
	struct slot *at = &q->slots[iqh_slot];

	char at_text[32] = "-";

	/* Only a stopped queue's head names a descriptor; otherwise it is the free tail. */
	if (rel < count)
		snprintf(at_text, sizeof(at_text), "%s:%u", kind_names[at->kind], at->did);
	printf("VTDQ %s=%u descs=%u result=%s iqh=%u at=%s waits=%u/%u signalled=%s "
	       "fsts=0x%x iqer=0x%llx\n",
	       what, q->doorbell, count, result, rel, at_text, done, nw, nw ? sig : "-", fsts,
	       (unsigned long long)rd64(q, REG_IQER));
	fflush(stdout);
	if (!strcmp(result, "iqe")) {
		q->db_first = first;
		q->db_count = count;
	}
}

static int step_doorbell(struct vtdq *q, char *list)
{
	unsigned int first = q->tail, count = 0;
	char *save = NULL;

	for (char *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		unsigned int n;
		enum kind k;
		uint16_t did;

		if (parse_item(it, &n, &k, &did)) {
			fprintf(stderr, "kite-vtdq: bad item '%s'\n", it);
			return 2;
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int slot = (first + count) % q->nslots;
			uint64_t qw0, qw1;

			/* Keep one slot free: a full queue would make tail == head. */
			if (count + 1 >= q->nslots ||
			    encode(q, k, did, &q->slots[slot], &qw0, &qw1)) {
				fprintf(stderr, "kite-vtdq: doorbell too large\n");
				return 2;
			}
			put_desc(q, slot, qw0, qw1);
			count++;
		}
	}
	q->doorbell++;
	q->tail = (first + count) % q->nslots;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(q, REG_IQT, q->tail * q->dw);
	report(q, "doorbell", first, count);
	return 0;
}

/* Linux's recovery (qi_check_fault): the bad descriptor becomes a wait, then IQE is cleared. */
static int step_fix(struct vtdq *q)
{
	unsigned int slot, rel;
	uint64_t qw0, qw1;
	int w;

	if (!(rd32(q, REG_FSTS) & FSTS_IQE)) {
		printf("VTDQ fix result=no-iqe\n");
		return 0;
	}
	slot = (unsigned int)(rd32(q, REG_IQH) / q->dw) % q->nslots;
	rel = (slot + q->nslots - q->db_first) % q->nslots;
	if (rel >= q->db_count) {
		printf("VTDQ fix result=iqh-outside-doorbell iqh=%u\n", rel);
		return 0;
	}
	w = new_wait(q, &qw0, &qw1);
	if (w < 0)
		return 1;
	q->slots[slot] = (struct slot){ .kind = K_WAIT, .did = 0, .wait = w };
	put_desc(q, slot, qw0, qw1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(q, REG_FSTS, FSTS_IQE);
	/*
	 * Ring again with the unchanged tail, as Linux's resubmission does: a unit that resumes
	 * on the IQE clear has nothing new to fetch, one that waits for a doorbell (QEMU) gets it.
	 */
	wr32(q, REG_IQT, q->tail * q->dw);
	report(q, "fix", q->db_first, q->db_count);
	return 0;
}

static void step_regs(struct vtdq *q)
{
	printf("VTDQ regs fsts=0x%x iqh=0x%llx iqt=0x%llx iqer=0x%llx gsts=0x%x\n",
	       rd32(q, REG_FSTS), (unsigned long long)rd64(q, REG_IQH),
	       (unsigned long long)rd64(q, REG_IQT), (unsigned long long)rd64(q, REG_IQER),
	       rd32(q, REG_GSTS));
}

static int usage(void)
{
	fputs("usage: kite-vtdq [--bdf BB:DD.F] [--dw 128|256] [--timeout-ms N] "
	      "db:ITEM[,ITEM...]|fix|regs...\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static struct vtdq q = { .dw = 16, .timeout_ms = 5000, .next_addr = 0x100000 };
	unsigned int b, d, f;
	int bdf = -1, i, fd, found;
	uint64_t base;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--bdf")) {
			if (sscanf(argv[i + 1], "%x:%x.%x", &b, &d, &f) != 3 || b > 255 || d > 31 ||
			    f > 7)
				return usage();
			bdf = (int)(b << 8 | d << 3 | f);
		} else if (!strcmp(argv[i], "--dw")) {
			if (strcmp(argv[i + 1], "128") && strcmp(argv[i + 1], "256"))
				return usage();
			q.dw = argv[i + 1][0] == '1' ? 16 : 32;
		} else if (!strcmp(argv[i], "--timeout-ms")) {
			q.timeout_ms = (unsigned int)strtoul(argv[i + 1], NULL, 10);
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
	q.nslots = PAGE / q.dw;

	found = dmar_find(bdf, &base);
	if (found < 0)
		return 1;
	if (bdf >= 0 && !found) {
		fprintf(stderr, "kite-vtdq: no DRHD scopes %02x:%02x.%x\n", bdf >> 8,
			(bdf >> 3) & 0x1f, bdf & 7);
		return 1;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "kite-vtdq: /dev/mem: %s\n", strerror(errno));
		return 1;
	}
	q.regs = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	close(fd);
	if (q.regs == MAP_FAILED) {
		fprintf(stderr, "kite-vtdq: mmap /dev/mem at 0x%llx: %s\n",
			(unsigned long long)base, strerror(errno));
		return 1;
	}
	q.queue = locked_page(&q.queue_pa);
	q.status = locked_page(&q.status_pa);
	if (!q.queue || !q.status)
		return 1;
	printf("VTDQ unit base=0x%llx ver=0x%x cap=0x%llx ecap=0x%llx queue=0x%llx dw=%u\n",
	       (unsigned long long)base, rd32(&q, REG_VER), (unsigned long long)rd64(&q, REG_CAP),
	       (unsigned long long)rd64(&q, REG_ECAP), (unsigned long long)q.queue_pa, q.dw * 8);
	if (queue_enable(&q))
		return 1;
	for (; i < argc; i++) {
		int ret = 0;

		if (!strncmp(argv[i], "db:", 3))
			ret = step_doorbell(&q, argv[i] + 3);
		else if (!strcmp(argv[i], "fix"))
			ret = step_fix(&q);
		else if (!strcmp(argv[i], "regs"))
			step_regs(&q);
		else
			return usage();
		if (ret)
			return ret;
	}
	return 0;
}
