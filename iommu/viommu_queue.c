// SPDX-License-Identifier: GPL-2.0-only
#include "iommu/viommu_queue.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iommu/iommufd.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"

#define CTR_ADD(q, f, v) __atomic_fetch_add(&(q)->ctr.f, (v), __ATOMIC_RELAXED)

static struct viommu_gather_target *gather_target(struct viommu_gather *g,
						  const struct viommu_host_dev *hd)
{
	struct viommu_gather_target *tg;

	for (unsigned int i = 0; i < g->ntg; i++) {
		tg = &g->tg[i];
		if (tg->host == hd->host && tg->t.id == hd->target.id &&
		    tg->t.data_type == hd->target.data_type &&
		    tg->t.entry_len == hd->target.entry_len)
			return tg;
	}
	if (g->ntg == VIOMMU_MAX_TARGETS)
		return NULL;
	tg = &g->tg[g->ntg++];
	tg->host = hd->host;
	tg->t = hd->target;
	tg->n = 0;
	return tg;
}

int viommu_gather_add(struct viommu_gather *g, const struct viommu_host_dev *hd,
		      const struct viommu_inval *inv)
{
	struct viommu_gather_target *tg = gather_target(g, hd);
	uint8_t entry[VIOMMU_MAX_ENTRY_LEN];
	uint32_t len;
	int ret;

	if (!tg)
		return -ENOSPC;
	len = tg->t.entry_len;
	/* Two devices behind one target: the descriptor needs one entry there, not two. */
	if (tg->n && tg->desc_of[tg->n - 1] == g->cur)
		return 0;
	memset(entry, 0, sizeof(entry));
	ret = hd->target.encode(hd->target.opaque, inv, entry);
	if (ret)
		return ret;
	if (tg->n == tg->cap) {
		uint32_t cap = tg->cap ? tg->cap * 2 : 64;
		uint8_t *e = realloc(tg->entries, (size_t)cap * len);
		uint32_t *d;

		if (!e)
			return -ENOMEM;
		tg->entries = e;
		d = realloc(tg->desc_of, (size_t)cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		tg->desc_of = d;
		tg->cap = cap;
	}
	memcpy(tg->entries + (size_t)tg->n * len, entry, len);
	tg->desc_of[tg->n++] = g->cur;
	return 0;
}

int viommu_queue_init(struct viommu_queue *q, const struct guest_mem *mem,
		      const struct viommu_queue_ops *ops, void *model, uint32_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	q->model = model;
	q->mem = mem;
	q->efd = -1;
	q->copy = malloc(max_bytes);
	/* At most one wait per 16-byte slot. */
	q->waits = malloc((max_bytes / 16 + 1) * sizeof(*q->waits));
	if (!q->copy || !q->waits) {
		free(q->copy);
		free(q->waits);
		return -ENOMEM;
	}
	q->copy_cap = max_bytes;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		int err = -errno;

		free(q->copy);
		free(q->waits);
		return err;
	}
	return 0;
}

/* The copy: [head, tail) of the ring, the part after the wrap appended. */
static int queue_copy(struct viommu_queue *q, const struct viommu_queue_snap *s, uint32_t *n)
{
	uint32_t first, second;
	uint64_t bytes;

	if (s->head >= s->nslots || s->tail >= s->nslots || !s->desc_len)
		return -EINVAL;
	if (s->tail >= s->head) {
		first = s->tail - s->head;
		second = 0;
	} else {
		first = s->nslots - s->head;
		second = s->tail;
	}
	bytes = (uint64_t)(first + second) * s->desc_len;
	if (bytes > q->copy_cap)
		return -E2BIG;
	if (guest_mem_read(q->mem, s->base + (uint64_t)s->head * s->desc_len, q->copy,
			   (size_t)first * s->desc_len))
		return -EFAULT;
	if (second && guest_mem_read(q->mem, s->base, q->copy + (size_t)first * s->desc_len,
				     (size_t)second * s->desc_len))
		return -EFAULT;
	*n = first + second;
	return 0;
}

/* Sends every gathered array; returns the copy index of the first descriptor that failed. */
static uint32_t queue_forward(struct viommu_queue *q, uint32_t stop)
{
	for (unsigned int i = 0; i < q->g.ntg; i++) {
		struct viommu_gather_target *tg = &q->g.tg[i];
		uint32_t handled = 0, n = tg->n;
		int ret;

		/* Entries from descriptors at or after the stop point must not run. */
		while (n && tg->desc_of[n - 1] >= stop)
			n--;
		if (!n)
			continue;
		ret = host_iommu_invalidate(tg->host, tg->t.id, tg->t.data_type, tg->entries, n,
					    tg->t.entry_len, &handled);
		CTR_ADD(q, host_calls, 1);
		CTR_ADD(q, forwarded, n);
		if (ret) {
			if (handled >= n)
				handled = n - 1;
			if (tg->desc_of[handled] < stop)
				stop = tg->desc_of[handled];
		}
	}
	return stop;
}

void viommu_queue_drain(struct viommu_queue *q)
{
	struct viommu_queue_snap s;
	uint32_t n = 0, nwaits = 0, stop, bad;
	int err = 0, ret;

	if (q->ops->snapshot(q->model, &s) <= 0)
		return;
	if (queue_copy(q, &s, &n)) {
		q->ops->finish(q->model, &s, s.head, VIOMMU_ERR_FETCH);
		CTR_ADD(q, descriptors, 1);
		return;
	}
	for (unsigned int i = 0; i < q->g.ntg; i++)
		q->g.tg[i].n = 0;
	stop = n;
	for (uint32_t i = 0; i < n; i++) {
		q->g.cur = i;
		ret = q->ops->parse(q->model, q->copy + (size_t)i * s.desc_len, &q->g);
		if (ret < 0) {
			err = ret;
			stop = i;
			break;
		}
		if (ret == VIOMMU_DESC_WAIT)
			q->waits[nwaits++] = i;
	}
	bad = stop;
	stop = queue_forward(q, stop);
	if (stop < bad)
		err = VIOMMU_ERR_HOST;
	for (uint32_t w = 0; w < nwaits && q->waits[w] < stop; w++)
		q->ops->wait(q->model, q->copy + (size_t)q->waits[w] * s.desc_len);
	CTR_ADD(q, descriptors, stop + (err ? 1 : 0));
	q->ops->finish(q->model, &s, (s.head + stop) % s.nslots, err);
}

static void *queue_thread(void *arg)
{
	struct viommu_queue *q = arg;
	struct pollfd p = { .fd = q->efd, .events = POLLIN };

	for (;;) {
		uint64_t v;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(q->efd, &v, sizeof(v)) != sizeof(v))
			continue;
		if (__atomic_load_n(&q->stopping, __ATOMIC_ACQUIRE))
			break;
		viommu_queue_drain(q);
	}
	return NULL;
}

int viommu_queue_start(struct viommu_queue *q, const char *name)
{
	int ret = pthread_create(&q->thread, NULL, queue_thread, q);

	if (ret) {
		log_error("%s: cannot start the queue drain thread: %s", name, strerror(ret));
		return -ret;
	}
	pthread_setname_np(q->thread, name);
	q->started = true;
	return 0;
}

void viommu_queue_doorbell(struct viommu_queue *q)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is saturated, i.e. a wake-up is pending anyway. */
	if (write(q->efd, &one, sizeof(one)) < 0)
		return;
}

void viommu_queue_destroy(struct viommu_queue *q)
{
	if (q->started) {
		__atomic_store_n(&q->stopping, true, __ATOMIC_RELEASE);
		viommu_queue_doorbell(q);
		pthread_join(q->thread, NULL);
		q->started = false;
	}
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	/* Idempotent: vtd_destroy and vtd_uninit both call this. */
	for (unsigned int i = 0; i < VIOMMU_MAX_TARGETS; i++) {
		free(q->g.tg[i].entries);
		free(q->g.tg[i].desc_of);
		q->g.tg[i].entries = NULL;
		q->g.tg[i].desc_of = NULL;
		q->g.tg[i].n = q->g.tg[i].cap = 0;
	}
	free(q->copy);
	free(q->waits);
	q->copy = NULL;
	q->waits = NULL;
}
