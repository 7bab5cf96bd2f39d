#!/bin/sh
# iommufd-conformance-7.2: the iommufd conformance program on the Linux 7.2 L1 kernel, whose
# iommufd has the vIOMMU objects 6.12 lacks. Besides everything iommufd-conformance checks on
# 6.12, the CONFIG_IOMMUFD_TEST mock's vIOMMU is driven through iommu/iommufd_viommu.c: probes
# report vIOMMU, vEVENTQ and HW queue present; vIOMMU alloc on a nest parent; vDEVICEs mapping
# virtual IDs to mock devices; a nested HWPT allocated through the vIOMMU; vIOMMU-targeted
# invalidation arrays of 1, 64 and 512 entries in one call each, with every device's cache
# slots read back; a bad entry at k giving entry_num == k and the errno; an unknown virtual ID
# refused; a vEVENTQ event triggered by the mock, read and parsed by kite, including overflow
# (LOST_EVENTS) and the sequence after it; HW queue alloc, ordering and destroy. See
# docs/iommufd.md.
# harness: kernel=7.2
# harness: intel-iommu=off
# harness: mode=nested
# harness: timeout=300
#
# No emulated VT-d in L1: the mock device binds to the first registered IOMMU without a fwnode,
# which would be L1's VT-d, and MOCK_DOMAIN then fails.
# Exit: the program's status (0 pass, 1 a check failed, 2 no /dev/iommu or no mock).

prog=$BUILD/progs/iommufd-conformance
if ! [ -x "$prog" ]; then
	echo "not ok: $prog is missing (make progs)"
	exit 1
fi
echo "kernel: $(uname -r)"
case "$(uname -r)" in
7.2.*) ;;
*)
	echo "not ok: L1 runs $(uname -r), not 7.2 (the header asks for kernel=7.2)"
	exit 1
	;;
esac
"$prog" --expect-viommu present
exit $?
