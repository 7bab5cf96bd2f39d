#!/bin/sh
# iommufd-conformance: kite's iommufd backend (iommu/iommufd*.c) against the real kernel's
# iommufd, with the CONFIG_IOMMUFD_TEST mock IOMMU standing in for a device, on the 6.12 L1
# kernel: no vIOMMU objects there, so the probes must say "absent" and every vIOMMU ioctl
# ENOTTY. iommufd-conformance-7.2 runs the same program where they are present. See
# docs/iommufd.md.
# harness: intel-iommu=off
# harness: mode=nested
# harness: timeout=300
#
# No emulated VT-d in L1: on 6.12 the mock device binds to the first registered IOMMU without
# a fwnode, which would be VT-d, and MOCK_DOMAIN then fails.
# Exit: the program's status (0 pass, 1 a check failed, 2 no /dev/iommu or no mock).

prog=$BUILD/progs/iommufd-conformance
if ! [ -x "$prog" ]; then
	echo "not ok: $prog is missing (make progs)"
	exit 1
fi
if [ "${HARNESS_MODE:-}" = direct ]; then
	echo "note: direct mode runs on this host's kernel; the mock needs the 6.12 test kernel" \
		"(tests/harness/run iommufd-conformance --mode nested)"
fi
echo "kernel: $(uname -r)"
"$prog" --expect-viommu absent
exit $?
