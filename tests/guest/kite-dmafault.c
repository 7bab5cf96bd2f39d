// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite-dmafault: makes a virtio-blk device behind an IOMMU DMA to an IOVA that was never mapped,
 * from user space in a guest booted with intel_iommu=on.
 *
 *   kite-dmafault BDF      (e.g. 0000:00:01.0, a virtio-blk already bound to vfio-pci)
 *
 * It opens the device's VFIO cdev, binds it to a fresh iommufd IOAS, and maps exactly one 64 KiB
 * buffer at IOVA 0x10000000 (virtqueue, request header, status byte, one data page). Nothing
 * else is mapped, so any other IOVA the device touches faults in the guest's IOMMU. It then
 * drives the device's modern virtio-pci transport itself (capabilities parsed from config space,
 * BAR accesses through the VFIO region), one request at a time, polling the used ring:
 *
 *   1. read sector 0 into the mapped data page     (must succeed: the raw path works)
 *   2. write sector 0 from IOVA 0x40000000         (unmapped: a DMA Read fault, request fails)
 *   3. read sector 0 into IOVA 0x40001000          (unmapped: a DMA Write fault, request fails)
 *   4. read sector 0 into the mapped data page     (the device still works, sector 0 unchanged)
 *
 * Output: one line per request, "DMAFAULT req=N kind=good-read|bad-write|bad-read
 * done=0|1 len=L status=S data=same|differs|-" (status: the status byte the device wrote, 255
 * when it was left untouched; done=0: no used entry within 3 s), then "DMAFAULT sector0=HEX16"
 * with the first 8 bytes read in step 1. Exit: 0 the steps ran (whatever the device answered),
 * 1 a set-up failure, 2 bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/vfio.h>

#include "iommu/uapi.h"

#define IOVA_BASE 0x10000000ull
#define IOVA_UNMAPPED 0x40000000ull
#define BUF_LEN 0x10000u
#define QSIZE 16u
/* Offsets inside the mapped buffer. */
#define OFF_DESC 0x0000u
#define OFF_AVAIL 0x0400u
#define OFF_USED 0x0800u
#define OFF_HDR 0x1000u
#define OFF_STATUS 0x1100u
#define OFF_DATA 0x2000u

/* virtio 1.x common configuration (4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30

#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

struct region {
	uint64_t off; /* of the BAR in the device fd (BAR0 is at 0) */
	uint32_t cap_off;
	int found;
};

static int dev_fd = -1;
static uint8_t *buf;
static struct region common, notify;
static uint32_t notify_mult;
static uint16_t avail_idx, used_seen;

static int fail(const char *what)
{
	fprintf(stderr, "kite-dmafault: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t region_offset(unsigned int index)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
		return UINT64_MAX;
	return ri.offset;
}

static int dev_rw(int write, uint64_t off, void *p, size_t n)
{
	ssize_t r = write ? pwrite(dev_fd, p, n, (off_t)off) : pread(dev_fd, p, n, (off_t)off);

	return r == (ssize_t)n ? 0 : -1;
}

static uint32_t common_rd(uint32_t field, size_t n)
{
	uint32_t v = 0;

	dev_rw(0, common.off + common.cap_off + field, &v, n);
	return v;
}

static void common_wr(uint32_t field, uint32_t v, size_t n)
{
	dev_rw(1, common.off + common.cap_off + field, &v, n);
}

static void common_wr64(uint32_t field, uint64_t v)
{
	common_wr(field, (uint32_t)v, 4);
	common_wr(field + 4, (uint32_t)(v >> 32), 4);
}

/* Finds the common and notify capabilities of the virtio-pci transport. */
static int parse_caps(uint64_t cfg)
{
	uint8_t cs[256];
	unsigned int guard = 0;
	uint8_t pos;

	if (dev_rw(0, cfg, cs, sizeof(cs)))
		return -1;
	for (pos = cs[0x34] & 0xfc; pos && guard++ < 48; pos = cs[pos + 1] & 0xfc) {
		uint8_t type = cs[pos + 3], bar = cs[pos + 4];
		uint32_t off;

		if (cs[pos] != 0x09 || pos > 256 - 20 || bar > 5)
			continue;
		memcpy(&off, cs + pos + 8, 4);
		if (type == 1) {
			common.off = region_offset(VFIO_PCI_BAR0_REGION_INDEX + bar);
			common.cap_off = off;
			common.found = common.off != UINT64_MAX;
		} else if (type == 2) {
			notify.off = region_offset(VFIO_PCI_BAR0_REGION_INDEX + bar);
			notify.cap_off = off;
			memcpy(&notify_mult, cs + pos + 16, 4);
			notify.found = notify.off != UINT64_MAX;
		}
	}
	return common.found && notify.found ? 0 : -1;
}

static void put_desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = buf + OFF_DESC + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One request: 1 = completed (used entry), 0 = no completion in 3 s. */
static int request(uint32_t type, uint64_t data_iova, int data_write, uint32_t *len,
		   uint8_t *status)
{
	volatile uint16_t *avail_ring = (uint16_t *)(buf + OFF_AVAIL + 4);
	volatile uint16_t *avail_id = (uint16_t *)(buf + OFF_AVAIL + 2);
	volatile uint16_t *used_id = (uint16_t *)(buf + OFF_USED + 2);
	uint64_t sector = 0, t0;
	uint16_t qidx = 0;

	memset(buf + OFF_HDR, 0, 16);
	memcpy(buf + OFF_HDR, &type, 4);
	memcpy(buf + OFF_HDR + 8, &sector, 8);
	buf[OFF_STATUS] = 0xff;
	put_desc(0, IOVA_BASE + OFF_HDR, 16, 1 /* NEXT */, 1);
	put_desc(1, data_iova, 512, (uint16_t)(1 | (data_write ? 2 : 0)), 2);
	put_desc(2, IOVA_BASE + OFF_STATUS, 1, 2 /* WRITE */, 0);
	avail_ring[avail_idx % QSIZE] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*avail_id = ++avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t noff = (uint16_t)common_rd(C_Q_NOFF, 2);

	dev_rw(1, notify.off + notify.cap_off + (uint64_t)noff * notify_mult, &qidx, 2);
	t0 = now_ms();
	while (*used_id == used_seen) {
		if (now_ms() - t0 > 3000)
			return 0;
		usleep(1000);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(len, buf + OFF_USED + 4 + 8 * (used_seen % QSIZE) + 4, 4);
	used_seen++;
	*status = buf[OFF_STATUS];
	return 1;
}

static int open_cdev(const char *bdf)
{
	char path[300];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.32s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			break;
	if (!de) {
		closedir(d);
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
	closedir(d);
	return open(path, O_RDWR | O_CLOEXEC);
}

static int setup_iommufd(void)
{
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	int ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (ifd < 0)
		return fail("open /dev/iommu");
	if (ioctl(ifd, IOMMU_IOAS_ALLOC, &ia) < 0)
		return fail("IOMMU_IOAS_ALLOC");
	bind.iommufd = ifd;
	if (ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0)
		return fail("VFIO_DEVICE_BIND_IOMMUFD");
	at.pt_id = ia.out_ioas_id;
	if (ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0)
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	map.ioas_id = ia.out_ioas_id;
	map.user_va = (uintptr_t)buf;
	map.length = BUF_LEN;
	map.iova = IOVA_BASE;
	if (ioctl(ifd, IOMMU_IOAS_MAP, &map) < 0)
		return fail("IOMMU_IOAS_MAP");
	return 0;
}

static int setup_virtio(void)
{
	uint64_t cfg = region_offset(VFIO_PCI_CONFIG_REGION_INDEX);
	uint32_t f_hi, qmax;
	uint16_t cmd;

	if (cfg == UINT64_MAX || parse_caps(cfg)) {
		fprintf(stderr, "kite-dmafault: no virtio-pci common/notify capability\n");
		return 1;
	}
	if (dev_rw(0, cfg + 4, &cmd, 2))
		return fail("read PCI command");
	cmd |= 0x6; /* memory space, bus master */
	if (dev_rw(1, cfg + 4, &cmd, 2))
		return fail("write PCI command");
	common_wr(C_STATUS, 0, 1);
	for (int i = 0; i < 1000 && common_rd(C_STATUS, 1); i++)
		usleep(1000);
	common_wr(C_STATUS, S_ACK | S_DRIVER, 1);
	common_wr(C_DFSELECT, 1, 4);
	f_hi = common_rd(C_DF, 4);
	/* VERSION_1, and ACCESS_PLATFORM when offered (a device behind an IOMMU needs it). */
	common_wr(C_GFSELECT, 0, 4);
	common_wr(C_GF, 0, 4);
	common_wr(C_GFSELECT, 1, 4);
	common_wr(C_GF, f_hi & 3u, 4);
	common_wr(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK, 1);
	if (!(common_rd(C_STATUS, 1) & S_FEATURES_OK)) {
		fprintf(stderr, "kite-dmafault: device refused features (hi 0x%x)\n", f_hi);
		return 1;
	}
	printf("DMAFAULT access_platform=%u\n", (f_hi >> 1) & 1);
	common_wr(C_Q_SELECT, 0, 2);
	qmax = common_rd(C_Q_SIZE, 2);
	if (qmax < QSIZE) {
		fprintf(stderr, "kite-dmafault: queue 0 too small (%u)\n", qmax);
		return 1;
	}
	common_wr(C_Q_SIZE, QSIZE, 2);
	common_wr(C_Q_MSIX, 0xffff, 2);
	common_wr64(C_Q_DESC, IOVA_BASE + OFF_DESC);
	common_wr64(C_Q_AVAIL, IOVA_BASE + OFF_AVAIL);
	common_wr64(C_Q_USED, IOVA_BASE + OFF_USED);
	common_wr(C_Q_ENABLE, 1, 2);
	common_wr(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, 1);
	if (!(common_rd(C_STATUS, 1) & S_DRIVER_OK)) {
		fprintf(stderr, "kite-dmafault: device did not accept DRIVER_OK\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t type; /* VIRTIO_BLK_T_IN 0, OUT 1 */
		uint64_t iova;
	} steps[] = {
		{ "good-read", 0, IOVA_BASE + OFF_DATA },
		{ "bad-write", 1, IOVA_UNMAPPED },
		{ "bad-read", 0, IOVA_UNMAPPED + 0x1000 },
		{ "good-read", 0, IOVA_BASE + OFF_DATA },
	};
	uint8_t first[512];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: kite-dmafault BDF\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	memset(buf, 0, BUF_LEN);
	dev_fd = open_cdev(argv[1]);
	if (dev_fd < 0)
		return fail("open the VFIO cdev (bound to vfio-pci?)");
	ret = setup_iommufd();
	if (!ret)
		ret = setup_virtio();
	if (ret)
		return ret;
	for (unsigned int i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int read_req = steps[i].type == 0, good = steps[i].iova == IOVA_BASE + OFF_DATA;
		uint32_t len = 0;
		uint8_t status = 0xff;
		const char *data = "-";
		int done;

		if (good)
			memset(buf + OFF_DATA, 0x5a, 512);
		done = request(steps[i].type, steps[i].iova, read_req, &len, &status);
		if (good && i == 0) {
			memcpy(first, buf + OFF_DATA, 512);
		} else if (good) {
			data = memcmp(first, buf + OFF_DATA, 512) ? "differs" : "same";
		}
		printf("DMAFAULT req=%u kind=%s done=%d len=%u status=%u data=%s\n", i + 1,
		       steps[i].name, done, len, status, data);
		if (i == 0) {
			printf("DMAFAULT sector0=");
			for (int b = 0; b < 8; b++)
				printf("%02x", first[b]);
			printf("\n");
		}
		/* Let the guest's fault handler clear the one fault record before the next fault. */
		usleep(300000);
	}
	common_wr(C_STATUS, 0, 1);
	return 0;
}
