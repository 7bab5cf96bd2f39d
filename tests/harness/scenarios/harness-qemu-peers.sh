# Harness self-test: QEMU 10 in L1 as the peer VMM for the passthrough and
# emulated-IOMMU benchmarks. L1 has QEMU's emulated VT-d and two e1000e NICs.
# 1. QEMU with -device intel-iommu,caching-mode=on boots the test kernel with
#    intel_iommu=on: the L2 guest's DMAR driver enables remapping.
# 2. QEMU with -object iommufd -device vfio-pci,iommufd= passes NIC A through
#    (bound to vfio-pci in L1): the L2 e1000e driver probes it and its link
#    comes up. NIC A goes back to e1000e afterwards.
# Each QEMU L2 gets 300 s (a loaded 2-core host took QEMU's VT-d boot past the default 120 s).
# harness: timeout=900 intel-iommu=on nics=2
L2_TIMEOUT=300
. "$REPO/tests/harness/lib.sh"

qemu-system-x86_64 --version | head -n 1
case "$(qemu-system-x86_64 --version | head -n 1)" in
*"version 10."*) ok "qemu-10-in-l1" ;;
*) not_ok "qemu-10-in-l1" "$(qemu-system-x86_64 --version | head -n 1)" ;;
esac

initrd=$WORK/peer.cpio.gz
mk_l2_initramfs "$initrd" '
dmesg | grep -E "DMAR|iommu" | head -n 20
if [ -e /sys/class/iommu/dmar0 ] || dmesg | grep -q "DMAR: Intel(R) Virtualization Technology for Directed I/O"; then echo "PEER-VTD-ON"; fi
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat $d/vendor)" = 0x8086 ] && [ "$(cat $d/device)" = 0x10d3 ]; then
		echo "PEER-E1000E $(basename $d) driver=$(basename "$(readlink $d/driver)")"
	fi
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	for n in /sys/class/net/eth*; do
		[ -e "$n" ] && [ "$(cat $n/carrier 2>/dev/null)" = 1 ] && { echo "PEER-LINK-UP $(basename $n)"; break 2; }
		[ -e "$n" ] && ip link set "$(basename $n)" up 2>/dev/null
	done
	sleep 1
done
exit 0'

QEMU_PEER_VTD=1 QEMU_CMDLINE="console=ttyS0 panic=-1 intel_iommu=on" run_qemu_l2 -initrd "$initrd"
expect_status "qemu-vtd-peer-exit" 0 "$QEMU_STATUS"
expect_output "qemu-vtd-peer-remapping" "$QEMU_SERIAL" '^PEER-VTD-ON'
expect_no_output "qemu-vtd-peer-no-dmar-fault" "$QEMU_SERIAL" 'DMAR: \[DMA (Read|Write)'

nic=$(l1_pci_find 8086 10d3 | head -n 1)
if [ -z "$nic" ]; then
	not_ok "l1-has-e1000e" "no 8086:10d3 device in L1"
	finish
fi
ok "l1-has-e1000e" "$nic (driver $(pci_driver "$nic"))"
cdev=$(pci_bind_vfio "$nic") && ok "bind-vfio" "$nic -> $cdev" || not_ok "bind-vfio" "$nic"
QEMU_PEER_VFIO=$nic run_qemu_l2 -initrd "$initrd"
expect_status "qemu-vfio-peer-exit" 0 "$QEMU_STATUS"
expect_output "qemu-vfio-peer-e1000e-probed" "$QEMU_SERIAL" '^PEER-E1000E .* driver=e1000e'
expect_output "qemu-vfio-peer-link-up" "$QEMU_SERIAL" '^PEER-LINK-UP'
pci_bind_driver "$nic" e1000e && ok "rebind-e1000e" || not_ok "rebind-e1000e" "$(pci_driver "$nic")"
finish
