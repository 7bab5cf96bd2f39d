# hostile: a hostile guest against an ASan+UBSan kite with every device (disk, net, virtio
# console, rng, VT-d). For each of 3 fixed seeds, tests/guest/kite-hostile writes random
# values for 20 s to every PCI device's config space, into every memory BAR and to random
# I/O ports (not those that end the VM), then asks for power-off. kite must power off
# (a guest-caused status at worst), never end with an internal error, a signal or a
# sanitizer report, and must not flood its log.
# harness: timeout=1500
. "$REPO/tests/harness/lib.sh"
SECS=${HOSTILE_SECONDS:-20}
KITE=$BUILD/kite-san
if ! [ -x "$KITE" ]; then
	not_ok "kite-san built" "$KITE missing (make kite-san)"
	finish
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tap=khost0
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip link set "$tap" up
img=$WORK/disk.img
truncate -s 16M "$img"
L2_CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on"
for seed in 1 2 3; do
	mk_l2_initramfs "$WORK/hostile-$seed.cpio.gz" "kite-hostile $seed $SECS; exit 97" \
		"$BUILD/guest/kite-hostile:/bin/kite-hostile" || { not_ok "initramfs"; finish; }
	run_kite --initrd "$WORK/hostile-$seed.cpio.gz" --disk "path=$img" --net "tap=$tap" \
		--console virtio --rng --iommu vtd --memory 256M --timeout $((SECS + 240))
	expect_output "seed $seed: the guest ran" "$KITE_SERIAL" "^HOSTILE seed=$seed ops=[0-9]+ .*done"
	expect_status "seed $seed: power-off after the random writes" 0 "$KITE_STATUS"
	expect_status "seed $seed: kite's reason" poweroff "$KITE_REASON"
	expect_no_output "seed $seed: no sanitizer report" "$KITE_STDERR" \
		'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'
	expect_le "seed $seed: stderr lines (no flood)" 300 "$(wc -l <"$KITE_STDERR")"
done
finish
