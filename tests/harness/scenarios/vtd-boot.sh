# vtd-boot: Linux boots with intel_iommu=on behind kite's emulated VT-d, in legacy and in
# scalable mode; DMA remapping is enabled, no DMAR errors, and a virtio-blk disk behind the
# unit (ACCESS_PLATFORM, translation, IOTLB) reads back what was written. Two L2 kernels: the
# test kernel (6.12) and the 7.2 test kernel (tests/harness/kernel 7.2), each in both modes.
# One L1, four L2 boots. Check names start with the kernel (6.12-legacy-status, ...).
# harness: timeout=1200
. "$REPO/tests/harness/lib.sh"

guest='
echo "KVER=$(uname -r)"
echo "IOMMU-GROUPS=$(ls /sys/kernel/iommu_groups | wc -l)"
[ -e /sys/bus/pci/devices/0000:00:01.0/iommu_group ] && echo "BLK-IN-GROUP"
dd if=/dev/urandom of=/tmp/pat bs=4096 count=256 2>/dev/null
dd if=/tmp/pat of=/dev/vda bs=4096 count=256 conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda of=/tmp/back bs=4096 count=256 iflag=direct 2>/dev/null
[ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/back)" ] && echo "BLK-READBACK-OK"
dmesg | grep -E "DMAR|iommu" | sed "s/^/DMESG: /"
kite-guestctl exit 0; exit 99'

# Resolved inside L1 from ../shared (bounded: it must not start a kernel build under TCG).
k72=$(timeout 120 "$REPO/tests/harness/kernel" 7.2 2>"$WORK/kernel-7.2.err") || k72=
if [ -n "$k72" ] && [ -f "$k72" ]; then
	ok "kernel-7.2-found" "$k72"
else
	not_ok "kernel-7.2-found" "tests/harness/kernel 7.2: $(tail -n 1 "$WORK/kernel-7.2.err")"
fi

for kv in 6.12 7.2; do
	if [ $kv = 6.12 ]; then kernel=$KERNEL; else kernel=$k72; fi
	[ -n "$kernel" ] || continue
	for mode in legacy scalable; do
		name=$kv-$mode
		dd if=/dev/zero of="$WORK/disk.img" bs=1M count=4 2>/dev/null
		if [ $mode = legacy ]; then opt=vtd; sm=sm_off; else opt=vtd,scalable=on; sm=sm_on; fi
		L2_CMDLINE="console=ttyS0 panic=-1 loglevel=4 intel_iommu=on,$sm iommu.strict=1"
		run_l2 "$guest" --kernel "$kernel" --iommu "$opt" --disk "path=$WORK/disk.img" \
			--log-level info
		expect_output "$name-kernel-version" "$KITE_SERIAL" "^KVER=${kv}[.-]"
		expect_status "$name-status" 0 "$KITE_STATUS"
		expect_output "$name-dmar-enabled" "$KITE_SERIAL" \
			'DMAR: Intel\(R\) Virtualization Technology for Directed I/O'
		if [ $mode = scalable ]; then root=scalable-mode; else root=legacy; fi
		expect_output "$name-translation-on" "$KITE_STDERR" \
			"vtd: guest enabled translation \\($root root table\\)"
		expect_no_output "$name-no-dmar-errors" "$KITE_SERIAL" \
			'DMAR.*([Ff]ault|ERROR|[Ee]rror|malfunction|QI HEAD)'
		expect_output "$name-blk-in-group" "$KITE_SERIAL" '^BLK-IN-GROUP'
		expect_output "$name-blk-readback" "$KITE_SERIAL" '^BLK-READBACK-OK'
		expect_output "$name-exit-line" "$KITE_STDERR" \
			'^kite: vtd: doorbells=[1-9][0-9]* descriptors=[0-9]+ forwarded=0 host_calls=0 iqe=0 faults=0$'
	done
done
finish
