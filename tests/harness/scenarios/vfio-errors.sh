# --vfio errors that L1 can produce, each a 248 with one line naming the device and what to
# do, the device left as it was: no such BDF, a NIC bound to e1000e (the message gives the
# rebind commands), a missing cdev path, a device busy in another kite (which then stops on
# SIGTERM with the device still usable). Bad syntax and --vfio behind
# --iommu vtd,mode=emulated (kite cannot walk tables for DMA the host does) are 245.
# harness: intel-iommu=on nics=2 timeout=900
. "$REPO/tests/harness/lib.sh"

nics=$(l1_pci_find 8086 10d3)
nic_a=$(echo "$nics" | sed -n 1p)
nic_b=$(echo "$nics" | sed -n 2p)
[ -n "$nic_a" ] && [ -n "$nic_b" ] || { not_ok "two e1000e NICs in L1" "found: $nics"; finish; }

run_kite --vfio bdf=0000:00:1f.7 --timeout 30
expect_status "no such BDF: 248" 248 "$KITE_STATUS"
expect_output "no such BDF: message" "$KITE_STDERR" 'vfio 0000:00:1f.7: no such PCI device'

run_kite --vfio "bdf=$nic_b" --timeout 30
expect_status "bound to e1000e: 248" 248 "$KITE_STATUS"
expect_output "bound to e1000e: names the driver" "$KITE_STDERR" \
	"vfio $nic_b: bound to driver e1000e, not vfio-pci"
expect_output "bound to e1000e: unbind command" "$KITE_STDERR" "echo $nic_b > .*/$nic_b/driver/unbind"
expect_output "bound to e1000e: bind command" "$KITE_STDERR" \
	"echo vfio-pci > .*/$nic_b/driver_override && echo $nic_b > /sys/bus/pci/drivers_probe"
[ "$(pci_driver "$nic_b")" = e1000e ] && ok "bound to e1000e: left on e1000e" ||
	not_ok "bound to e1000e: left on e1000e" "now '$(pci_driver "$nic_b")'"

run_kite --vfio path=/dev/vfio/devices/vfio99 --timeout 30
expect_status "missing cdev: 248" 248 "$KITE_STATUS"
expect_output "missing cdev: message" "$KITE_STDERR" 'vfio /dev/vfio/devices/vfio99: .* does not exist'

run_kite --vfio bdf=00:02.0 --timeout 30
expect_status "malformed bdf: 245" 245 "$KITE_STATUS"
run_kite --vfio "bdf=$nic_a" --iommu vtd,mode=emulated --timeout 30
expect_status "--vfio with --iommu vtd,mode=emulated: 245" 245 "$KITE_STATUS"

# Busy: a first kite holds NIC A; a second one is refused and leaves the first alone.
cdev=$(pci_bind_vfio "$nic_a") || { not_ok "bind $nic_a to vfio-pci"; finish; }
mk_l2_initramfs "$WORK/hold.cpio.gz" 'echo HOLDING; sleep 600'
"$KITE" run --kernel "$KERNEL" --initrd "$WORK/hold.cpio.gz" --cmdline "$L2_CMDLINE" \
	--memory 256M --serial "file:$WORK/hold.serial" --timeout 600 --vfio "bdf=$nic_a" \
	2>"$WORK/hold.stderr" &
hold=$!
i=0
while ! grep -q '^HOLDING' "$WORK/hold.serial" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
run_kite --vfio "bdf=$nic_a" --timeout 30
expect_status "busy: 248" 248 "$KITE_STATUS"
expect_output "busy: message" "$KITE_STDERR" "vfio $nic_a: busy"
kill -0 "$hold" 2>/dev/null && ok "busy: first kite still runs" || not_ok "busy: first kite still runs"
kill -TERM "$hold"
wait "$hold"
expect_status "first kite stops on SIGTERM" 240 "$?"
[ "$(pci_driver "$nic_a")" = vfio-pci ] && ok "$nic_a still on vfio-pci" || not_ok "$nic_a still on vfio-pci"
# Usable again: a third kite gets the device (its guest exits at once).
run_l2 'exit 7' --vfio "bdf=$nic_a" --timeout 120
expect_status "device usable after SIGTERM" 7 "$KITE_STATUS"
pci_bind_driver "$nic_a" e1000e
finish
