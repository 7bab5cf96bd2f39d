// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu/iommufd_viommu.c against a fake kernel: the run-time probes (ENOTTY = absent, no ioctl
 * once absent), HW queue and vIOMMU-with-data arguments, and the vEVENTQ drain loop over a
 * SOCK_SEQPACKET pair standing in for the vEVENTQ fd (one message = what one read() returns).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iommu/iommufd.h"

#define NR(req) _IOC_NR(req)

static struct {
	unsigned int calls[256];
	int fail[256];
	int made_fd; /* fd handed out by a vEVENTQ alloc that succeeded */
	uint32_t destroyed;
	struct iommu_veventq_alloc veventq;
	struct iommu_hw_queue_alloc hwq;
	struct iommu_viommu_alloc viommu;
} fk;

static struct host_iommu h;

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	unsigned int nr = _IOC_NR(request);

	fk.calls[nr]++;
	if (fk.fail[nr])
		return fk.fail[nr];
	switch (request) {
	case IOMMU_DESTROY:
		fk.destroyed = ((struct iommu_destroy *)arg)->id;
		return 0;
	case IOMMU_VIOMMU_ALLOC:
		fk.viommu = *(struct iommu_viommu_alloc *)arg;
		((struct iommu_viommu_alloc *)arg)->out_viommu_id = 21;
		return 0;
	case IOMMU_VEVENTQ_ALLOC:
		fk.veventq = *(struct iommu_veventq_alloc *)arg;
		fk.made_fd = dup(0);
		((struct iommu_veventq_alloc *)arg)->out_veventq_id = 22;
		((struct iommu_veventq_alloc *)arg)->out_veventq_fd = (uint32_t)fk.made_fd;
		return 0;
	case IOMMU_HW_QUEUE_ALLOC:
		fk.hwq = *(struct iommu_hw_queue_alloc *)arg;
		((struct iommu_hw_queue_alloc *)arg)->out_hw_queue_id = 23;
		return 0;
	default:
		return 0;
	}
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.made_fd = -1;
	host_iommu_init_fd(&h, 77, false);
	host_iommu_set_ioctl(&h, fake_ioctl, NULL);
}

static void teardown(void)
{
	host_iommu_close(&h);
}

TestSuite(iommufd_probe, .init = setup, .fini = teardown);

Test(iommufd_probe, starts_unknown)
{
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_UNKNOWN);
	cr_assert_eq(h.veventq, HOST_IOMMU_FEATURE_UNKNOWN);
	cr_assert_eq(h.hw_queue, HOST_IOMMU_FEATURE_UNKNOWN);
	cr_assert_str_eq(host_iommu_feature_name(HOST_IOMMU_FEATURE_PRESENT), "present");
	cr_assert_str_eq(host_iommu_feature_name(HOST_IOMMU_FEATURE_ABSENT), "absent");
	cr_assert_str_eq(host_iommu_feature_name(HOST_IOMMU_FEATURE_UNKNOWN), "unknown");
}

/* What 7.2 answers: type DEFAULT is refused with EOPNOTSUPP by every alloc ioctl. */
Test(iommufd_probe, eopnotsupp_is_present_and_asks_with_type_default)
{
	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -EOPNOTSUPP;
	fk.fail[NR(IOMMU_VEVENTQ_ALLOC)] = -EOPNOTSUPP;
	fk.fail[NR(IOMMU_HW_QUEUE_ALLOC)] = -EOPNOTSUPP;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(host_iommu_probe_veventq(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(host_iommu_probe_hw_queue(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(h.veventq, HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(h.hw_queue, HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(fk.calls[NR(IOMMU_VEVENTQ_ALLOC)], 1);
	cr_assert_eq(fk.calls[NR(IOMMU_HW_QUEUE_ALLOC)], 1);
	cr_assert_eq(fk.calls[NR(IOMMU_DESTROY)], 0, "nothing was created");
}

/* The fake records arguments only on success: let the probes "succeed" to see them. */
Test(iommufd_probe, probe_arguments)
{
	host_iommu_probe_veventq(&h);
	host_iommu_probe_hw_queue(&h);
	cr_assert_eq(fk.veventq.size, sizeof(struct iommu_veventq_alloc));
	cr_assert_eq(fk.veventq.type, IOMMU_VEVENTQ_TYPE_DEFAULT);
	cr_assert_eq(fk.veventq.flags, 0);
	cr_assert_eq(fk.hwq.size, sizeof(struct iommu_hw_queue_alloc));
	cr_assert_eq(fk.hwq.type, IOMMU_HW_QUEUE_TYPE_DEFAULT);
	cr_assert_eq(fk.hwq.flags, 0);
	cr_assert_eq(fk.hwq.viommu_id, 0);
}

/* A kernel that accepts the reserved type: the stray objects are destroyed, the fd closed. */
Test(iommufd_probe, unexpected_success_is_undone)
{
	int fd;

	cr_assert_eq(host_iommu_probe_veventq(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(fk.destroyed, 22);
	fd = fk.made_fd;
	cr_assert_geq(fd, 0);
	cr_assert_eq(fcntl(fd, F_GETFD), -1, "the probe's vEVENTQ fd was closed");
	cr_assert_eq(host_iommu_probe_hw_queue(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(fk.destroyed, 23);
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(fk.destroyed, 21);
}

/* What 6.12 answers: ENOTTY, and then nothing is asked again. */
Test(iommufd_probe, viommu_absent_makes_the_rest_absent_without_ioctls)
{
	uint32_t id = 0x5555;
	int fd = -9;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(host_iommu_probe_veventq(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(host_iommu_probe_hw_queue(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(host_iommu_veventq_alloc(&h, 1, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd),
		     -ENOTTY);
	cr_assert_eq(host_iommu_hw_queue_alloc(&h, 1, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, 0x1000,
					       0x1000, &id),
		     -ENOTTY);
	cr_assert_eq(fk.calls[NR(IOMMU_VEVENTQ_ALLOC)], 0);
	cr_assert_eq(fk.calls[NR(IOMMU_HW_QUEUE_ALLOC)], 0);
	cr_assert_eq(id, 0x5555);
	cr_assert_eq(fd, -9);
}

/* 6.15/6.16: vIOMMU and vEVENTQ but no HW queue. */
Test(iommufd_probe, hw_queue_absent_alone)
{
	uint32_t id = 0x5555;

	fk.fail[NR(IOMMU_VIOMMU_ALLOC)] = -EOPNOTSUPP;
	fk.fail[NR(IOMMU_HW_QUEUE_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_probe_viommu(&h), HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(host_iommu_probe_hw_queue(&h), HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_PRESENT);
	cr_assert_eq(host_iommu_hw_queue_alloc(&h, 21, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, 0x1000,
					       0x1000, &id),
		     -ENOTTY);
	cr_assert_eq(fk.calls[NR(IOMMU_HW_QUEUE_ALLOC)], 1, "only the probe asked");
	cr_assert_eq(id, 0x5555);
}

TestSuite(iommufd_hw_queue, .init = setup, .fini = teardown);

Test(iommufd_hw_queue, alloc_arguments_and_output)
{
	uint32_t id = 0;

	cr_assert_eq(host_iommu_hw_queue_alloc(&h, 21, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, 0x2000000,
					       0x1000, &id),
		     0);
	cr_assert_eq(id, 23);
	cr_assert_eq(fk.hwq.size, 40);
	cr_assert_eq(fk.hwq.flags, 0);
	cr_assert_eq(fk.hwq.viommu_id, 21);
	cr_assert_eq(fk.hwq.type, IOMMU_HW_QUEUE_TYPE_SELFTEST);
	cr_assert_eq(fk.hwq.index, 1);
	cr_assert_eq(fk.hwq.nesting_parent_iova, 0x2000000);
	cr_assert_eq(fk.hwq.length, 0x1000);
	cr_assert_eq(h.hw_queue, HOST_IOMMU_FEATURE_PRESENT);
}

Test(iommufd_hw_queue, error_leaves_output_alone)
{
	uint32_t id = 0x5555;

	fk.fail[NR(IOMMU_HW_QUEUE_ALLOC)] = -EEXIST;
	cr_assert_eq(host_iommu_hw_queue_alloc(&h, 21, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, 0x2000000,
					       0x1000, &id),
		     -EEXIST);
	cr_assert_eq(id, 0x5555);
	cr_assert_eq(h.hw_queue, HOST_IOMMU_FEATURE_UNKNOWN, "EEXIST says nothing about presence");
}

Test(iommufd_hw_queue, enotty_without_probe_marks_absent)
{
	uint32_t id;

	fk.fail[NR(IOMMU_HW_QUEUE_ALLOC)] = -ENOTTY;
	cr_assert_eq(host_iommu_hw_queue_alloc(&h, 21, 1, 0, 0x1000, 0x1000, &id), -ENOTTY);
	cr_assert_eq(h.hw_queue, HOST_IOMMU_FEATURE_ABSENT);
	cr_assert_eq(h.viommu, HOST_IOMMU_FEATURE_UNKNOWN);
}

Test(iommufd_hw_queue, viommu_alloc_data_passed_through)
{
	struct iommu_viommu_selftest d = { .in_data = 7 };
	uint32_t id = 0;

	cr_assert_eq(host_iommu_viommu_alloc_data(&h, 5, 9, IOMMU_VIOMMU_TYPE_SELFTEST, &d,
						  sizeof(d), &id),
		     0);
	cr_assert_eq(id, 21);
	cr_assert_eq(fk.viommu.data_len, 24);
	cr_assert_eq(fk.viommu.data_uptr, (uintptr_t)&d);
	cr_assert_eq(fk.viommu.type, IOMMU_VIOMMU_TYPE_SELFTEST);
	cr_assert_eq(fk.viommu.dev_id, 5);
	cr_assert_eq(fk.viommu.hwpt_id, 9);
	cr_assert_eq(host_iommu_viommu_alloc_data(&h, 5, 9, 1, NULL, 24, &id), 0);
	cr_assert_eq(fk.viommu.data_len, 0, "no data, no length");
	cr_assert_eq(fk.viommu.data_uptr, 0);
}

/* ---- vEVENTQ drain ---- */

struct seen {
	unsigned int n;
	uint32_t seq[80], flags[80], gap[80], virt[80];
};

static void collect(void *ctx, const struct host_iommu_vevent *ev)
{
	struct seen *s = ctx;

	if (s->n < 80) {
		s->seq[s->n] = ev->sequence;
		s->flags[s->n] = ev->flags;
		s->gap[s->n] = ev->gap;
		s->virt[s->n] = 0;
		if (ev->data) {
			struct iommu_viommu_event_selftest p;

			memcpy(&p, ev->data, sizeof(p));
			s->virt[s->n] = p.virt_id;
		}
	}
	s->n++;
}

static size_t rec(uint8_t *buf, size_t off, uint32_t flags, uint32_t seq, uint32_t virt)
{
	struct iommufd_vevent_header hdr = { .flags = flags, .sequence = seq };
	struct iommu_viommu_event_selftest p = { .virt_id = virt };

	memcpy(buf + off, &hdr, sizeof(hdr));
	off += sizeof(hdr);
	if (!(flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
		memcpy(buf + off, &p, sizeof(p));
		off += sizeof(p);
	}
	return off;
}

static int sv[2];

static void setup_pair(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
}

static void teardown_pair(void)
{
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

TestSuite(iommufd_vevent_drain, .init = setup_pair, .fini = teardown_pair);

Test(iommufd_vevent_drain, records_of_several_reads_in_order)
{
	struct host_iommu_vevent_stream st;
	struct seen s = { 0 };
	uint8_t buf[64];
	size_t n;

	host_iommu_vevent_stream_init(&st);
	n = rec(buf, 0, 0, 0, 0x100);
	n = rec(buf, n, 0, 1, 0x101);
	cr_assert_eq(write(sv[1], buf, n), (ssize_t)n);
	n = rec(buf, 0, 0, 2, 0x102);
	n = rec(buf, n, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 4, 0);
	cr_assert_eq(write(sv[1], buf, n), (ssize_t)n);
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s), 4);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.virt[0], 0x100);
	cr_assert_eq(s.virt[2], 0x102);
	cr_assert_eq(s.seq[3], 4);
	cr_assert_eq(s.flags[3], IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	cr_assert_eq(s.gap[3], 2, "3 and 4 were dropped");
	cr_assert_eq(st.events, 3);
	cr_assert_eq(st.lost, 2);
	cr_assert_eq(st.overflows, 1);
	cr_assert_eq(st.next_seq, 5);
	/* Nothing left: 0 records, not an error. */
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s), 0);
}

Test(iommufd_vevent_drain, baseline_from_stream_init)
{
	struct host_iommu_vevent_stream st;
	struct seen s = { 0 };
	uint8_t buf[64];
	size_t n;

	host_iommu_vevent_stream_init(&st);
	n = rec(buf, 0, 0, 2, 1);
	cr_assert_eq(write(sv[1], buf, n), (ssize_t)n);
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s), 1);
	cr_assert_eq(s.gap[0], 2, "a fresh queue numbers from 0: events 0 and 1 were dropped");
}

Test(iommufd_vevent_drain, truncated_record_is_eio)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct seen s = { 0 };
	uint8_t buf[64];
	size_t n = rec(buf, 0, 0, 0, 1);

	n = rec(buf, n, 0, 1, 1) - 2; /* second record cut short */
	cr_assert_eq(write(sv[1], buf, n), (ssize_t)n);
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s), -EIO);
	cr_assert_eq(s.n, 1, "the complete record before it was delivered");
}

Test(iommufd_vevent_drain, eof_and_read_errors)
{
	struct host_iommu_vevent_stream st = { 0 };

	close(sv[1]);
	sv[1] = -1;
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, NULL, NULL), 0);
	cr_assert_eq(host_iommu_vevent_drain(&st, -1, 4, NULL, NULL), -EBADF);
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 8192, NULL, NULL), -EINVAL,
		     "a payload larger than the read buffer");
}

Test(iommufd_vevent_drain, flood_is_bounded_per_call)
{
	struct host_iommu_vevent_stream st = { 0 };
	struct seen s = { 0 };
	uint8_t buf[16];

	for (uint32_t i = 0; i < HOST_IOMMU_VEVENT_DRAIN_READS + 6; i++) {
		size_t n = rec(buf, 0, 0, i, i);

		cr_assert_eq(write(sv[1], buf, n), (ssize_t)n);
	}
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s),
		     HOST_IOMMU_VEVENT_DRAIN_READS);
	cr_assert_eq(host_iommu_vevent_drain(&st, sv[0], 4, collect, &s), 6);
	cr_assert_eq(st.lost, 0);
	cr_assert_eq(s.seq[HOST_IOMMU_VEVENT_DRAIN_READS + 5], HOST_IOMMU_VEVENT_DRAIN_READS + 5);
}
