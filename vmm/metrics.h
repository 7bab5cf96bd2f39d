/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-device counters the control API reports (`metrics`). Devices bump
 * them on their own threads with relaxed atomics; the API thread reads them.
 */
#ifndef KITE_VMM_METRICS_H
#define KITE_VMM_METRICS_H

#include <stdint.h>

struct dev_metrics {
	uint64_t requests;	   /* completed requests (virtio: chains returned to the guest) */
	uint64_t bytes_to_guest;   /* data the device wrote for the guest (blk reads, net rx) */
	uint64_t bytes_from_guest; /* data the guest gave the device (blk writes, net tx) */
	uint64_t interrupts;	   /* interrupts raised (MSI-X messages) */
};

static inline void metric_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t metric_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif
