# vtd-fault: a DMA to an IOVA the guest never mapped, behind kite's emulated VT-d. The L2 guest
# (intel_iommu=on, strict) hands its virtio-blk to vfio-pci and drives it from user space with
# kite-dmafault (tests/guest/kite-dmafault.c): an iommufd IOAS maps only the program's ring and
# request buffer, so a request whose data buffer is at an unmapped IOVA makes kite's device DMA
# outside the guest's page tables. kite must record the fault (FRCD, FSTS.PPF, fault-event MSI:
# the guest prints its DMAR fault line), fail that request (used entry, status byte untouched),
# leave the disk as it was, keep the device and the VM running, and count the faults at exit.
# harness: timeout=600
. "$REPO/tests/harness/lib.sh"

img=$WORK/disk.img
dd if=/dev/zero of="$img" bs=1M count=4 2>/dev/null
printf 'KITEDMAF' | dd of="$img" conv=notrunc 2>/dev/null

guest='bdf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1042 ] && bdf=${d##*/}
done
echo "BLK-BDF=$bdf"
[ -n "$bdf" ] || exit 10
echo vfio-pci > /sys/bus/pci/devices/$bdf/driver_override
echo $bdf > /sys/bus/pci/devices/$bdf/driver/unbind
echo $bdf > /sys/bus/pci/drivers_probe
echo "BLK-DRIVER=$(basename $(readlink /sys/bus/pci/devices/$bdf/driver))"
kite-dmafault $bdf
echo "DMAFAULT-EXIT=$?"
sleep 1
dmesg | grep -E "DMAR" | sed "s/^/DMESG: /"
echo "AFTER-FAULT-MARKER"
poweroff -f; sleep 5; exit 97'

# kite's unit has no interrupt remapping, so iommufd refuses a VFIO bind (MSI not isolated)
# unless told otherwise; the program uses no interrupts at all (it polls the used ring).
L2_CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on,sm_off iommu.strict=1"
L2_CMDLINE="$L2_CMDLINE iommufd.allow_unsafe_interrupts=1"
mk_l2_initramfs "$WORK/initrd.gz" "$guest" "$BUILD/guest/kite-dmafault:/bin/kite-dmafault"
# A control-API client sees the faults as vtd-error events and the counters in info/metrics.
sock=$WORK/api.sock
(
	i=0
	while ! [ -S "$sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	"$KITE" ctl "$sock" info --wait vtd-error --timeout 120 >"$WORK/ctl-event.out" 2>&1
	"$KITE" ctl "$sock" info --timeout 30 >"$WORK/ctl-info.out" 2>&1
	"$KITE" ctl "$sock" metrics --timeout 30 >"$WORK/ctl-metrics.out" 2>&1
) &
ctl_pid=$!
run_kite --initrd "$WORK/initrd.gz" --iommu vtd --disk "path=$img" --log-level info \
	--api-socket "$sock"
wait $ctl_pid
sed 's/^/ctl-event: /' "$WORK/ctl-event.out"
sed 's/^/ctl-info: /' "$WORK/ctl-info.out"
sed 's/^/ctl-metrics: /' "$WORK/ctl-metrics.out"
expect_status "powers-off-after-faults" 0 "$KITE_STATUS"
expect_output "blk-on-vfio-pci" "$KITE_SERIAL" '^BLK-DRIVER=vfio-pci'
expect_output "device-offers-access-platform" "$KITE_SERIAL" '^DMAFAULT access_platform=1'
# Request 1 proves the raw path: the mapped buffer gets sector 0 as the host wrote it.
expect_output "mapped-read-works" "$KITE_SERIAL" \
	'^DMAFAULT req=1 kind=good-read done=1 len=513 status=0 '
expect_output "mapped-read-data" "$KITE_SERIAL" '^DMAFAULT sector0=4b495445444d4146$'
# Unmapped data buffers: the chain comes back with nothing written (status byte still 255).
expect_output "unmapped-write-fails" "$KITE_SERIAL" \
	'^DMAFAULT req=2 kind=bad-write done=1 len=0 status=255 '
expect_output "unmapped-read-fails" "$KITE_SERIAL" \
	'^DMAFAULT req=3 kind=bad-read done=1 len=0 status=255 '
expect_output "device-works-after-faults" "$KITE_SERIAL" \
	'^DMAFAULT req=4 kind=good-read done=1 len=513 status=0 data=same$'
expect_output "program-ran" "$KITE_SERIAL" '^DMAFAULT-EXIT=0'
expect_output "guest-dmar-read-fault" "$KITE_SERIAL" \
	'DMAR: \[DMA Read NO_PASID\] Request device \[00:0[0-9a-f]\.0\] fault addr 0x40000000 '
expect_output "guest-dmar-write-fault" "$KITE_SERIAL" \
	'DMAR: \[DMA Write NO_PASID\] Request device \[00:0[0-9a-f]\.0\] fault addr 0x40001000 '
expect_output "vm-keeps-running" "$KITE_SERIAL" '^AFTER-FAULT-MARKER'
expect_output "disk-unchanged" "$img" 'KITEDMAF'
faults=$(sed -n 's/^kite: vtd: .* faults=\([0-9]*\)$/\1/p' "$KITE_STDERR")
doorbells=$(sed -n 's/^kite: vtd: doorbells=\([0-9]*\) .*/\1/p' "$KITE_STDERR")
host_calls=$(sed -n 's/^kite: vtd: .* host_calls=\([0-9]*\) .*/\1/p' "$KITE_STDERR")
expect_output "exit-line" "$KITE_STDERR" \
	'^kite: vtd: doorbells=[0-9]+ descriptors=[0-9]+ forwarded=[0-9]+ host_calls=[0-9]+ iqe=0 faults=[0-9]+$'
case "$faults" in
'' | *[!0-9]*) not_ok "faults-counted" "no faults= in the exit line" ;;
*) if [ "$faults" -ge 2 ]; then ok "faults-counted" "faults=$faults"; else
	not_ok "faults-counted" "faults=$faults, want >= 2"; fi ;;
esac
# The first fault (the unmapped write's data page, a DMA read): kind, address, source id.
expect_output "api-config-has-iommu" "$WORK/ctl-event.out" \
	'"iommu":\{"type":"vtd","scalable":false,"aw":48,"mode":"auto"\}'
expect_output "api-info-has-viommu" "$WORK/ctl-info.out" \
	'"viommu":\{"type":"vtd","doorbells":[1-9][0-9]*,"descriptors":[1-9][0-9]*,"forwarded":0,"host_calls":0,"iqe":0,"faults":[1-9][0-9]*\}'
expect_output "api-vtd-error-event" "$WORK/ctl-event.out" \
	'^\{"event":"vtd-error","data":\{"kind":"dma-fault","address":1073741824,"source_id":"00:0[0-9a-f]\.0","write":false,"reason":6,"suppressed":0\}\}$'
expect_output "api-metrics-count-faults" "$WORK/ctl-metrics.out" \
	'"viommu":\{"type":"vtd",.*"iqe":0,"faults":[1-9][0-9]*\}'
expect_le "host-calls-le-doorbells" "${doorbells:--1}" "$host_calls"
finish
