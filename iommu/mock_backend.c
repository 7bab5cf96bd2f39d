// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only host backend on the IOMMUFD_TEST mock: see iommu/mock_backend.h. Compiled only into
 * build/kite-test (KITE_TEST_HOOKS); in every other build this file is empty.
 */
#ifdef KITE_TEST_HOOKS

#include "iommu/mock_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/pci/pci.h"
#include "iommu/iommufd.h"
#include "iommu/vtd/vtd.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_RNG_DEVICE 0x1044 /* modern virtio-rng: 0x1040 + device type 4 */
#define MAX_RANGES 8

struct mock_backend {
	struct host_iommu h;
	uint32_t ioas, stdev, dev, parent, nested;
	uint64_t calls; /* IOMMU_HWPT_INVALIDATE calls seen (drain thread only) */
};

static int test_cmd(struct mock_backend *m, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(m->h.fd, IOMMU_TEST_CMD, cmd) < 0 ? -errno : 0;
}

/* Slot @slot of the nested HWPT as text: MD_CHECK_IOTLB only answers "equal or not". */
static const char *iotlb_slot(struct mock_backend *m, uint32_t hwpt, uint32_t slot)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt,
		.check_iotlb = { .id = slot, .iotlb = 0 },
	};

	if (!test_cmd(m, &cmd))
		return "0";
	cmd.check_iotlb.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
	return test_cmd(m, &cmd) ? "?" : "badbeef";
}

/* Every ioctl of the backend's host_iommu; invalidations are logged with the slots after. */
static int mock_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct mock_backend *m = ctx;
	struct iommu_hwpt_invalidate *inv = arg;
	uint32_t entries = 0;
	int ret;

	if (request == IOMMU_HWPT_INVALIDATE)
		entries = inv->entry_num;
	ret = ioctl(fd, request, arg) < 0 ? -errno : 0;
	if (request != IOMMU_HWPT_INVALIDATE)
		return ret;
	m->calls++;
	log_info("vtd-mock: call=%llu hwpt=%u entries=%u handled=%u ret=%d iotlb=%s,%s,%s,%s",
		 (unsigned long long)m->calls, inv->hwpt_id, entries, inv->entry_num, ret,
		 iotlb_slot(m, inv->hwpt_id, 0), iotlb_slot(m, inv->hwpt_id, 1),
		 iotlb_slot(m, inv->hwpt_id, 2), iotlb_slot(m, inv->hwpt_id, 3));
	return ret;
}

static void mock_backend_free(void *arg)
{
	struct mock_backend *m = arg;

	host_iommu_close(&m->h);
	free(m);
}

static int mock_map_ram(struct mock_backend *m, const struct guest_mem *ram)
{
	struct iommu_iova_range r[MAX_RANGES];
	struct guest_mem clipped;
	uint64_t align = 0;
	uint32_t nr = 0;
	int ret;

	ret = host_iommu_ioas_iova_ranges(&m->h, m->ioas, r, MAX_RANGES, &nr, &align);
	if (ret < 0)
		return ret;
	ret = mock_backend_clip_ram(ram, r, nr, align, &clipped);
	if (ret <= 0) {
		log_error("vtd-mock: no guest RAM inside the mock's IOVA ranges (%d)", ret);
		return ret ? ret : -ERANGE;
	}
	ret = host_iommu_map_guest_mem(&m->h, m->ioas, &clipped);
	if (ret < 0)
		return ret;
	log_info("vtd-mock: %llu MiB of guest RAM mapped at IOVA = GPA, from %#llx",
		 (unsigned long long)(clipped.ram_size >> 20),
		 (unsigned long long)clipped.regions[0].gpa);
	return 0;
}

/* IOAS with guest RAM, mock device, nest parent, nested selftest HWPT with the device on it. */
static int mock_build(struct mock_backend *m, const struct guest_mem *ram)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	int ret;

	ret = host_iommu_ioas_alloc(&m->h, &m->ioas);
	if (ret < 0)
		return ret;
	cmd.id = m->ioas;
	ret = test_cmd(m, &cmd);
	if (ret < 0) {
		log_error(
			"vtd-mock: IOMMU_TEST_OP_MOCK_DOMAIN: %s%s", strerror(-ret),
			ret == -ENOTTY ? " (kernel without CONFIG_IOMMUFD_TEST)"
			: ret == -EINVAL
				? " (on 6.12 the mock cannot bind while a VT-d/AMD-Vi unit is registered)"
				: "");
		return ret;
	}
	m->stdev = cmd.mock_domain.out_stdev_id;
	m->dev = cmd.mock_domain.out_idev_id;
	ret = mock_map_ram(m, ram);
	if (ret < 0)
		return ret;
	ret = host_iommu_hwpt_alloc_paging(&m->h, m->dev, m->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
					   &m->parent);
	if (ret < 0)
		return ret;
	ret = host_iommu_hwpt_alloc_selftest(&m->h, m->dev, m->parent, IOMMU_TEST_IOTLB_DEFAULT,
					     &m->nested);
	if (ret < 0)
		return ret;
	/* Like a nested VFIO device: the device's DMA goes through the nested HWPT. */
	cmd = (struct iommu_test_cmd){
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = m->stdev,
		.mock_domain_replace = { .pt_id = m->nested },
	};
	ret = test_cmd(m, &cmd);
	if (ret < 0)
		log_error("vtd-mock: attach mock device to nested HWPT %u: %s", m->nested,
			  strerror(-ret));
	return ret;
}

static int find_device(struct pci_bus *bus, uint16_t vendor, uint16_t device, uint16_t *sid)
{
	for (unsigned int slot = 1; slot < 32; slot++) {
		struct pci_device *d = pci_bus_device(bus, slot);

		if (d && pci_config_read(d, 0, 2) == vendor && pci_config_read(d, 2, 2) == device) {
			*sid = (uint16_t)(slot << 3); /* bus 0, function 0 */
			return 0;
		}
	}
	return -ENODEV;
}

int mock_backend_setup(struct vm *vm, struct pci_bus *bus)
{
	const char *want = getenv(MOCK_BACKEND_ENV);
	struct viommu_host_dev hd = { 0 };
	struct vtd *vtd = vtd_of_vm(vm);
	struct mock_backend *m;
	uint16_t sid;
	int ret;

	if (!want || !*want)
		return 0;
	if (strcmp(want, "virtio-rng")) {
		log_error("%s=%s: only virtio-rng can be mock backed", MOCK_BACKEND_ENV, want);
		return KITE_EXIT_DEVICE;
	}
	if (!vtd || find_device(bus, VIRTIO_VENDOR, VIRTIO_RNG_DEVICE, &sid)) {
		log_error("%s=virtio-rng needs --iommu vtd and --rng", MOCK_BACKEND_ENV);
		return KITE_EXIT_DEVICE;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return KITE_EXIT_DEVICE;
	if (host_iommu_open(&m->h, NULL) < 0) {
		free(m);
		return KITE_EXIT_DEVICE;
	}
	host_iommu_set_ioctl(&m->h, mock_ioctl, m);
	if (vm_own(vm, mock_backend_free, m)) {
		mock_backend_free(m);
		return KITE_EXIT_DEVICE;
	}
	if (mock_build(m, &vm->mem) < 0)
		return KITE_EXIT_DEVICE;
	hd.sid = sid;
	hd.host = &m->h;
	hd.dev_id = m->dev;
	hd.target = (struct viommu_host_target){
		.id = m->nested,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(struct iommu_hwpt_invalidate_selftest),
		.encode = mock_backend_encode,
		.opaque = m,
	};
	hd.all_domains = true; /* the test guest programs no context entries */
	hd.mode = VIOMMU_HOST_FORWARD;
	ret = vtd_add_host_dev(vtd, &hd);
	if (ret < 0) {
		log_error("vtd-mock: vtd_add_host_dev(%02x:%02x.%x): %s", sid >> 8,
			  (sid >> 3) & 0x1f, sid & 7, strerror(-ret));
		return KITE_EXIT_DEVICE;
	}
	log_info("vtd-mock: virtio-rng %02x:%02x.%x backed by mock device %u: ioas %u, nest "
		 "parent %u, nested hwpt %u (iotlb %#x)",
		 sid >> 8, (sid >> 3) & 0x1f, sid & 7, m->dev, m->ioas, m->parent, m->nested,
		 IOMMU_TEST_IOTLB_DEFAULT);
	return 0;
}

#endif
