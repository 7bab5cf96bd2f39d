// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening a real tap: a persistent tap left with offloads on by an earlier user must come
 * back with them off (kite offers the guest no offloads, so a GSO packet from the host
 * would reach a guest that cannot take it). Needs /dev/net/tun and CAP_NET_ADMIN; skipped
 * without them.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/virtio_dev.h"

/* One legacy ethtool query (ETHTOOL_GTSO, ETHTOOL_GTXCSUM): 0/1, or -1 on error. */
static int ethtool_get(const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	ret = ioctl(s, SIOCETHTOOL, &ifr) < 0 ? -1 : !!ev.data;
	close(s);
	return ret;
}

/* A persistent tap with checksum and TSO offloads on, as another program could leave it. */
static int make_dirty_tap(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		close(fd);
		return -1;
	}
	cr_assert_eq(ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), 0);
	close(fd);
	return 0;
}

Test(virtio_net_tap, open_resets_offloads)
{
	char name[IFNAMSIZ];
	int fd;

	snprintf(name, sizeof(name), "kut%d", (int)getpid() % 100000);
	if (make_dirty_tap(name))
		cr_skip_test("no /dev/net/tun or no CAP_NET_ADMIN");
	/* the precondition, so the test can fail: the offloads really are on */
	cr_assert_eq(ethtool_get(name, ETHTOOL_GTSO), 1, "TSO not on after TUNSETOFFLOAD");
	cr_assert_eq(ethtool_get(name, ETHTOOL_GTXCSUM), 1);

	fd = virtio_net_tap_open(name);
	cr_assert(fd >= 0, "virtio_net_tap_open: %d", fd);
	cr_expect_eq(ethtool_get(name, ETHTOOL_GTSO), 0, "TSO left on");
	cr_expect_eq(ethtool_get(name, ETHTOOL_GTXCSUM), 0, "tx checksum offload left on");
	cr_expect(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ioctl(fd, TUNSETPERSIST, 0);
	close(fd);
}
