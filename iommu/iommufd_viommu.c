// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd vIOMMU objects: vIOMMU, vDEVICE (v6.13), vEVENTQ (v6.15), HW queue (v6.17), each behind
 * a run-time probe, and the vEVENTQ record reader. See iommu/iommufd.h and docs/iommufd.md.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "iommu/iommufd.h"
#include "iommu/iommufd_internal.h"
#include "vmm/log.h"

const char *host_iommu_feature_name(enum host_iommu_feature f)
{
	switch (f) {
	case HOST_IOMMU_FEATURE_PRESENT:
		return "present";
	case HOST_IOMMU_FEATURE_ABSENT:
		return "absent";
	default:
		return "unknown";
	}
}

static void viommu_absent(struct host_iommu *h, const char *what)
{
	if (h->viommu != HOST_IOMMU_FEATURE_ABSENT)
		log_info("iommufd: kernel has no %s (before 6.13); using HWPT-based nesting", what);
	h->viommu = HOST_IOMMU_FEATURE_ABSENT;
	/* The later objects all hang off a vIOMMU. */
	h->veventq = HOST_IOMMU_FEATURE_ABSENT;
	h->hw_queue = HOST_IOMMU_FEATURE_ABSENT;
}

static void veventq_absent(struct host_iommu *h)
{
	if (h->veventq != HOST_IOMMU_FEATURE_ABSENT)
		log_info("iommufd: kernel has no IOMMU_VEVENTQ_ALLOC (before 6.15); no vIOMMU "
			 "event forwarding");
	h->veventq = HOST_IOMMU_FEATURE_ABSENT;
}

static void hw_queue_absent(struct host_iommu *h)
{
	if (h->hw_queue != HOST_IOMMU_FEATURE_ABSENT)
		log_info("iommufd: kernel has no IOMMU_HW_QUEUE_ALLOC (before 6.17); guest queues "
			 "stay trapped and forwarded");
	h->hw_queue = HOST_IOMMU_FEATURE_ABSENT;
}

/*
 * Runs a DEFAULT-type alloc the kernel must refuse. Any answer but ENOTTY means the ioctl
 * exists; should something accept it, the object is destroyed again.
 */
static int probe(struct host_iommu *h, unsigned long request, void *cmd, const uint32_t *out_id,
		 const char *what)
{
	int ret = host_iommu_ioctl(h, request, cmd);

	if (ret == -ENOTTY)
		return HOST_IOMMU_FEATURE_ABSENT;
	if (ret >= 0) {
		log_warn("iommufd: %s probe unexpectedly created object %u", what, *out_id);
		if (*out_id)
			host_iommu_destroy(h, *out_id);
	}
	return HOST_IOMMU_FEATURE_PRESENT;
}

int host_iommu_probe_viommu(struct host_iommu *h)
{
	struct iommu_viommu_alloc cmd = { .size = sizeof(cmd), .type = IOMMU_VIOMMU_TYPE_DEFAULT };
	int f = probe(h, IOMMU_VIOMMU_ALLOC, &cmd, &cmd.out_viommu_id, "vIOMMU");

	if (f == HOST_IOMMU_FEATURE_ABSENT)
		viommu_absent(h, "IOMMU_VIOMMU_ALLOC");
	else
		h->viommu = HOST_IOMMU_FEATURE_PRESENT;
	return f;
}

int host_iommu_probe_veventq(struct host_iommu *h)
{
	struct iommu_veventq_alloc cmd = { .size = sizeof(cmd),
					   .type = IOMMU_VEVENTQ_TYPE_DEFAULT };
	int f;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT) {
		veventq_absent(h);
		return HOST_IOMMU_FEATURE_ABSENT;
	}
	f = probe(h, IOMMU_VEVENTQ_ALLOC, &cmd, &cmd.out_veventq_id, "vEVENTQ");
	if (f == HOST_IOMMU_FEATURE_ABSENT) {
		veventq_absent(h);
	} else {
		/* The fd of an object made by mistake must not leak either. */
		if (cmd.out_veventq_id)
			close((int)cmd.out_veventq_fd);
		h->veventq = HOST_IOMMU_FEATURE_PRESENT;
	}
	return f;
}

int host_iommu_probe_hw_queue(struct host_iommu *h)
{
	/* length 1: a kernel that skipped the type check would still fail on viommu_id 0. */
	struct iommu_hw_queue_alloc cmd = { .size = sizeof(cmd),
					    .type = IOMMU_HW_QUEUE_TYPE_DEFAULT,
					    .length = 1 };
	int f;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT) {
		hw_queue_absent(h);
		return HOST_IOMMU_FEATURE_ABSENT;
	}
	f = probe(h, IOMMU_HW_QUEUE_ALLOC, &cmd, &cmd.out_hw_queue_id, "HW queue");
	if (f == HOST_IOMMU_FEATURE_ABSENT)
		hw_queue_absent(h);
	else
		h->hw_queue = HOST_IOMMU_FEATURE_PRESENT;
	return f;
}

int host_iommu_viommu_alloc_data(struct host_iommu *h, uint32_t dev_id, uint32_t nest_parent_id,
				 uint32_t type, void *data, uint32_t data_len, uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = nest_parent_id,
		.data_len = data ? data_len : 0,
		.data_uptr = (uintptr_t)data,
	};
	int ret;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT)
		return -ENOTTY;
	ret = host_iommu_ioctl(h, IOMMU_VIOMMU_ALLOC, &cmd);
	if (ret == -ENOTTY) {
		viommu_absent(h, "IOMMU_VIOMMU_ALLOC");
		return ret;
	}
	if (ret < 0) {
		log_error("iommufd: vIOMMU alloc (type %#x, dev %u, parent %u, data %u bytes): %s",
			  type, dev_id, nest_parent_id, cmd.data_len, strerror(-ret));
		return ret;
	}
	h->viommu = HOST_IOMMU_FEATURE_PRESENT;
	*viommu_id = cmd.out_viommu_id;
	return 0;
}

int host_iommu_viommu_alloc(struct host_iommu *h, uint32_t dev_id, uint32_t nest_parent_id,
			    uint32_t type, uint32_t *viommu_id)
{
	return host_iommu_viommu_alloc_data(h, dev_id, nest_parent_id, type, NULL, 0, viommu_id);
}

int host_iommu_vdevice_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t dev_id,
			     uint64_t virt_id, uint32_t *vdevice_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int ret;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT)
		return -ENOTTY;
	ret = host_iommu_ioctl(h, IOMMU_VDEVICE_ALLOC, &cmd);
	if (ret == -ENOTTY) {
		viommu_absent(h, "IOMMU_VDEVICE_ALLOC");
		return ret;
	}
	if (ret < 0) {
		log_error("iommufd: vDEVICE alloc (vIOMMU %u, dev %u, virt id %#llx): %s",
			  viommu_id, dev_id, (unsigned long long)virt_id, strerror(-ret));
		return ret;
	}
	*vdevice_id = cmd.out_vdevice_id;
	return 0;
}

int host_iommu_veventq_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t type,
			     uint32_t depth, uint32_t *veventq_id, int *veventq_fd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int ret;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT || h->veventq == HOST_IOMMU_FEATURE_ABSENT)
		return -ENOTTY;
	ret = host_iommu_ioctl(h, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (ret == -ENOTTY) {
		veventq_absent(h);
		return ret;
	}
	if (ret < 0) {
		log_error("iommufd: vEVENTQ alloc (vIOMMU %u, type %#x, depth %u): %s", viommu_id,
			  type, depth, strerror(-ret));
		return ret;
	}
	h->veventq = HOST_IOMMU_FEATURE_PRESENT;
	*veventq_id = cmd.out_veventq_id;
	*veventq_fd = (int)cmd.out_veventq_fd;
	return 0;
}

int host_iommu_hw_queue_alloc(struct host_iommu *h, uint32_t viommu_id, uint32_t type,
			      uint32_t index, uint64_t iova, uint64_t len, uint32_t *hw_queue_id)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = iova,
		.length = len,
	};
	int ret;

	if (h->viommu == HOST_IOMMU_FEATURE_ABSENT || h->hw_queue == HOST_IOMMU_FEATURE_ABSENT)
		return -ENOTTY;
	ret = host_iommu_ioctl(h, IOMMU_HW_QUEUE_ALLOC, &cmd);
	if (ret == -ENOTTY) {
		hw_queue_absent(h);
		return ret;
	}
	if (ret < 0) {
		log_error("iommufd: HW queue alloc (vIOMMU %u, type %#x, index %u, iova %#llx len "
			  "%#llx): %s",
			  viommu_id, type, index, (unsigned long long)iova, (unsigned long long)len,
			  strerror(-ret));
		return ret;
	}
	h->hw_queue = HOST_IOMMU_FEATURE_PRESENT;
	*hw_queue_id = cmd.out_hw_queue_id;
	return 0;
}

void host_iommu_vevent_stream_init(struct host_iommu_vevent_stream *st)
{
	memset(st, 0, sizeof(*st));
	st->seq_known = true;
}

int host_iommu_vevent_parse(struct host_iommu_vevent_stream *st, const void *buf, size_t len,
			    uint32_t payload_len, struct host_iommu_vevent *ev)
{
	struct iommufd_vevent_header hdr;
	size_t need = sizeof(hdr);
	uint32_t seq;

	memset(ev, 0, sizeof(*ev));
	if (!len)
		return 0;
	if (len < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, buf, sizeof(hdr));
	seq = hdr.sequence & IOMMU_VEVENT_SEQUENCE_MAX;
	ev->flags = hdr.flags;
	ev->sequence = seq;
	if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
		/*
		 * Header only. The kernel gives the dropped event's sequence to this record (the
		 * latest one when several were dropped), so everything from the expected sequence
		 * up to this one is gone, and the next event carries seq + 1.
		 */
		ev->gap = st->seq_known ? ((seq - st->next_seq) & IOMMU_VEVENT_SEQUENCE_MAX) + 1
					: 1;
		st->lost += ev->gap;
		st->overflows++;
		st->next_seq = (seq + 1) & IOMMU_VEVENT_SEQUENCE_MAX;
		st->seq_known = true;
		return (int)need;
	}
	need += payload_len;
	if (len < need)
		return -EINVAL;
	if (st->seq_known && seq != st->next_seq) {
		/* Counted modulo the kernel's wrap after INT_MAX. */
		ev->gap = (seq - st->next_seq) & IOMMU_VEVENT_SEQUENCE_MAX;
		st->lost += ev->gap;
	}
	st->next_seq = (seq + 1) & IOMMU_VEVENT_SEQUENCE_MAX;
	st->seq_known = true;
	st->events++;
	ev->data = (const uint8_t *)buf + sizeof(hdr);
	return (int)need;
}

int host_iommu_vevent_drain(struct host_iommu_vevent_stream *st, int fd, uint32_t payload_len,
			    host_iommu_vevent_fn *fn, void *ctx)
{
	/* Aligned for the payload structs (__aligned_u64 fields) the callback may copy out. */
	_Alignas(8) uint8_t buf[4096];
	int records = 0;
	int reads;

	if (payload_len > sizeof(buf) - sizeof(struct iommufd_vevent_header)) {
		log_error("iommufd: vEVENT payload of %u bytes does not fit the read buffer",
			  payload_len);
		return -EINVAL;
	}
	for (reads = 0; reads < HOST_IOMMU_VEVENT_DRAIN_READS; reads++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return records;
		if (n < 0) {
			int err = -errno;

			log_error("iommufd: read of vEVENTQ fd %d: %s", fd, strerror(-err));
			return err;
		}
		if (n == 0)
			return records;
		while (off < (size_t)n) {
			struct host_iommu_vevent ev;
			int used = host_iommu_vevent_parse(st, buf + off, (size_t)n - off,
							   payload_len, &ev);

			if (used <= 0) {
				log_error("iommufd: vEVENTQ fd %d returned a truncated record (%zu "
					  "bytes left of %zd)",
					  fd, (size_t)n - off, n);
				return -EIO;
			}
			off += (size_t)used;
			records++;
			if (fn)
				fn(ctx, &ev);
		}
	}
	return records;
}
