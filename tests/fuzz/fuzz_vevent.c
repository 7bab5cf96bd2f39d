// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the vEVENTQ record parser (host_iommu_vevent_parse) on arbitrary read() results.
 * The bytes come from the kernel, whose event payloads carry guest-influenced values; a broken
 * record must never make the parser read past the buffer or move the stream backwards.
 * Input: byte 0 picks the payload size (4, 32 or 0..255), byte 1 whether the stream starts
 * with a baseline, the rest is split into "reads" at every 0xa5 0x5a pair.
 *
 * fuzz-sources: iommu/iommufd_viommu.c iommu/iommufd.c vmm/guest_mem.c vmm/log.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "vmm/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_read(struct host_iommu_vevent_stream *st, const uint8_t *buf, size_t len,
		       uint32_t payload)
{
	size_t off = 0;

	while (off < len) {
		struct host_iommu_vevent ev;
		uint64_t lost = st->lost;
		int n = host_iommu_vevent_parse(st, buf + off, len - off, payload, &ev);

		if (n < 0)
			return;
		if (n == 0 || (size_t)n > len - off)
			abort();
		if (ev.data && ((const uint8_t *)ev.data < buf + off ||
				(const uint8_t *)ev.data + payload > buf + off + (size_t)n))
			abort();
		if (st->next_seq > IOMMU_VEVENT_SEQUENCE_MAX || !st->seq_known || st->lost < lost ||
		    st->lost - lost != ev.gap || ev.sequence > IOMMU_VEVENT_SEQUENCE_MAX)
			abort();
		off += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_iommu_vevent_stream st = { 0 };
	uint32_t payload;
	size_t start = 2;

	log_set_level(LOG_ERROR);
	if (size < 2)
		return 0;
	payload = data[0] < 85 ? 4 : data[0] < 170 ? 32 : data[0];
	if (data[1] & 1)
		host_iommu_vevent_stream_init(&st);
	for (size_t i = 2; i <= size; i++) {
		if (i == size || (i + 1 < size && data[i] == 0xa5 && data[i + 1] == 0x5a)) {
			/* Each read gets its own heap copy so ASan sees any overrun. */
			size_t len = i - start;
			uint8_t *buf = malloc(len ? len : 1);

			if (!buf)
				return 0;
			memcpy(buf, data + start, len);
			parse_read(&st, buf, len, payload);
			free(buf);
			start = i + 2;
			i++;
		}
	}
	return 0;
}
