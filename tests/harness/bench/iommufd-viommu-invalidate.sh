#!/bin/sh
# iommufd-viommu-invalidate: cost of forwarding N invalidations to a vIOMMU (Linux 7.2, entries
# naming the device by its virtual ID, as a guest's queue would) as N ioctls versus one ioctl of
# N entries (N = 1, 16, 64, 512), against the CONFIG_IOMMUFD_TEST mock vIOMMU in L1. Prints ns
# per entry for both and their ratio, each the median of several repetitions.
# harness: kernel=7.2
# harness: intel-iommu=off
# harness: timeout=300
#
# Run: tests/harness/run tests/harness/bench/iommufd-viommu-invalidate.sh -v
# Numbers under TCG measure the syscall and iommufd path of an emulated CPU; compare ratios,
# not absolute values, across machines.

prog=$BUILD/progs/iommufd-conformance
if ! [ -x "$prog" ]; then
	echo "not ok: $prog is missing (make progs)"
	exit 1
fi
echo "kernel: $(uname -r), $(nproc) cpus"
"$prog" --bench --viommu
exit $?
