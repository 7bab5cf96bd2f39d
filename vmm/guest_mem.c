// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FOUR_GIB (1ULL << 32)

static int guest_mem_add(struct guest_mem *mem, uint64_t gpa, uint8_t *hva, uint64_t size)
{
	if (mem->nregions >= GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	mem->regions[mem->nregions++] = (struct guest_mem_region){ .gpa = gpa,
								   .size = size,
								   .hva = hva };
	return 0;
}

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size, uint64_t hole_start)
{
	return guest_mem_init_opts(mem, ram_size, hole_start, false);
}

int guest_mem_init_opts(struct guest_mem *mem, uint64_t ram_size, uint64_t hole_start, bool hugetlb)
{
	uint64_t low = ram_size < hole_start ? ram_size : hole_start;
	uint8_t *base;
	int fd;

	memset(mem, 0, sizeof(*mem));
	if (!ram_size || ram_size & (hugetlb ? 0x1fffff : 0xfff) || hole_start > FOUR_GIB)
		return -EINVAL;

	/*
	 * A named memfd rather than anonymous memory: it shows up in
	 * /proc/PID/smaps as "/memfd:kite-guest-ram", which lets benchmarks
	 * separate guest RAM from kite's own footprint, and it is the shape
	 * later needed for file-backed IOAS mappings.
	 */
	fd = memfd_create("kite-guest-ram", MFD_CLOEXEC | (hugetlb ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)ram_size) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	/*
	 * Without MAP_NORESERVE a shared hugetlbfs mapping reserves its pages
	 * now, so a shortage fails here rather than as a fault in the guest.
	 */
	base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | (hugetlb ? 0 : MAP_NORESERVE), fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return -errno; /* the caller logs, with the VM's context */
	if (!hugetlb)
		madvise(base, ram_size, MADV_HUGEPAGE); /* honoured where shmem THP is enabled */

	guest_mem_add(mem, 0, base, low);
	if (ram_size > low)
		guest_mem_add(mem, FOUR_GIB, base + low, ram_size - low);
	mem->ram_size = ram_size;
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->nregions && mem->ram_size)
		munmap(mem->regions[0].hva, mem->ram_size);
	memset(mem, 0, sizeof(*mem));
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		/* Written so that no sum can overflow, whatever the guest passes. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

bool guest_mem_range_ok(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(mem, gpa, len) != NULL;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
