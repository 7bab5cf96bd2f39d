/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reusable invalidation-queue pipeline (docs/architecture.md section 4), shared by the
 * VT-d model and (later) SMMUv3:
 *
 *   vCPU: tail register write -> model records the tail -> viommu_queue_doorbell() (eventfd)
 *   drain thread: snapshot (model lock) -> ONE bounded copy of [head, tail) out of guest memory,
 *   wrap linearised -> parse/validate only the copy, descriptor by descriptor, stopping at the
 *   first bad one -> host entries gathered per host target -> one host_iommu_invalidate() per
 *   target -> waits completed in queue order, up to the stop point -> finish (model lock): new
 *   head and the error, if any.
 *
 * A failed host entry j of a target is mapped back to the descriptor that produced it; the
 * queue stops at the earliest such descriptor (or the bad one, whichever comes first): waits
 * before it are completed, nothing after it is. Everything the model does in parse() must be
 * harmless if repeated (invalidations are), because descriptors after the stop point may have
 * been parsed and are parsed again once the guest recovers.
 */
#ifndef KITE_IOMMU_VIOMMU_QUEUE_H
#define KITE_IOMMU_VIOMMU_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu/viommu.h"

struct guest_mem;
struct host_iommu;

struct viommu_queue_snap {
	uint64_t base;	   /* guest-physical address of slot 0 */
	uint32_t nslots;   /* queue size in descriptors (>= 1) */
	uint32_t desc_len; /* bytes per descriptor */
	uint32_t head;	   /* first slot to process */
	uint32_t tail;	   /* first slot not to process (< nslots) */
	uint64_t gen;	   /* the model's queue generation; handed back to finish() */
};

/* parse() results. */
#define VIOMMU_DESC_OK 0
#define VIOMMU_DESC_WAIT 1 /* completed by ops->wait once everything before it took effect */
/* finish() error codes from the core; models use other negative values for bad descriptors. */
#define VIOMMU_ERR_FETCH (-1000) /* the copy out of guest memory failed */
#define VIOMMU_ERR_HOST (-1001)	 /* a host entry produced by the descriptor at head failed */

struct viommu_gather;

struct viommu_queue_ops {
	/* Model lock held inside: 1 and *s filled when there is work, else 0. */
	int (*snapshot)(void *model, struct viommu_queue_snap *s);
	/*
	 * Validates one descriptor of the copy and applies the model's own effects (its caches);
	 * forwardable work goes through viommu_gather_add(). VIOMMU_DESC_OK, VIOMMU_DESC_WAIT, or
	 * a negative model error code (the queue stops at this descriptor).
	 */
	int (*parse)(void *model, const uint8_t *desc, struct viommu_gather *g);
	/* Completes a wait descriptor returned as VIOMMU_DESC_WAIT (status write, interrupt). */
	void (*wait)(void *model, const uint8_t *desc);
	/*
	 * Model lock held inside: the queue now stands at @head (a slot index); @err is 0, a
	 * model error code from parse(), VIOMMU_ERR_FETCH or VIOMMU_ERR_HOST: then @head is the
	 * descriptor that caused it.
	 */
	void (*finish)(void *model, const struct viommu_queue_snap *s, uint32_t head, int err);
};

#define VIOMMU_MAX_TARGETS 8

struct viommu_gather_target {
	struct host_iommu *host;
	struct viommu_host_target t;
	uint8_t *entries;
	uint32_t *desc_of; /* entry index -> descriptor index in the copy */
	uint32_t n, cap;
};

struct viommu_gather {
	struct viommu_gather_target tg[VIOMMU_MAX_TARGETS];
	unsigned int ntg;
	uint32_t cur; /* index in the copy of the descriptor being parsed */
};

/*
 * Adds @inv for host-backed device @hd: encode() into @hd's target array (one entry per
 * descriptor per target, even if several devices share the target). 0, 1 (encode skipped it)
 * or a negative errno (encode refused it, or no memory).
 */
int viommu_gather_add(struct viommu_gather *g, const struct viommu_host_dev *hd,
		      const struct viommu_inval *inv);

struct viommu_queue {
	const struct viommu_queue_ops *ops;
	void *model;
	const struct guest_mem *mem;
	uint8_t *copy;
	uint32_t copy_cap; /* bytes */
	uint32_t *waits;   /* indices in the copy of wait descriptors */
	struct viommu_gather g;
	int efd;
	pthread_t thread;
	bool started;
	bool stopping;
	struct viommu_counters ctr; /* forwarded/host_calls/descriptors, written by the drainer */
};

/* @max_bytes: the largest queue the model allows (the copy buffer). 0 or -errno. */
int viommu_queue_init(struct viommu_queue *q, const struct guest_mem *mem,
		      const struct viommu_queue_ops *ops, void *model, uint32_t max_bytes);
/* Starts the drain thread. 0 or -errno (logged). */
int viommu_queue_start(struct viommu_queue *q, const char *name);
/* Stops the thread (if started) and frees everything. */
void viommu_queue_destroy(struct viommu_queue *q);
/* Wakes the drain thread; any thread, never blocks. */
void viommu_queue_doorbell(struct viommu_queue *q);
/* One drain pass on the calling thread (the drain thread's body; unit tests call it). */
void viommu_queue_drain(struct viommu_queue *q);

#endif
