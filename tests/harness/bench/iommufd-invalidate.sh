#!/bin/sh
# iommufd-invalidate: cost of forwarding N IOTLB invalidations to iommufd as N ioctls versus one
# ioctl of N entries (N = 1, 16, 64, 512), against the 6.12 CONFIG_IOMMUFD_TEST mock in L1.
# Prints ns per entry for both and their ratio, each the median of several repetitions.
# harness: intel-iommu=off
# harness: timeout=300
#
# Run: tests/harness/run tests/harness/bench/iommufd-invalidate.sh -v
# Numbers under TCG measure the syscall and iommufd path of an emulated CPU; compare ratios,
# not absolute values, across machines.

prog=$BUILD/progs/iommufd-conformance
if ! [ -x "$prog" ]; then
	echo "not ok: $prog is missing (make progs)"
	exit 1
fi
echo "kernel: $(uname -r), $(nproc) cpus"
"$prog" --bench
exit $?
