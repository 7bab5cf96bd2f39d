#!/bin/bash
# VT-d benchmark: virtio-blk 4 KiB random reads (O_DIRECT, queue depth 1, one thread) in an L2
# booted with intel_iommu=on iommu.strict=1 (an IOTLB invalidation + wait per unmap), under
#   kite             no --iommu (the baseline: no IOMMU at all)
#   kite-vtd         --iommu vtd (legacy mode, emulated: kite's own page walk + IOTLB)
#   qemu-vtd         -M q35,kernel-irqchip=split -device intel-iommu,caching-mode=on ...
#                    -device virtio-blk-pci,disable-legacy=on,iommu_platform=on (so the disk's
#                    DMA really goes through QEMU's VT-d, as kite's does)
# in the same L1, same kernel, command line, initramfs, memory (512M) and vCPU (1), booted
# alternately kite, kite-vtd, qemu-vtd, kite, ... RUNS times each. Reports IOPS (median, min,
# max), the ratios kite-vtd/kite and kite-vtd/qemu-vtd, and from kite's exit line
# (`kite: vtd: doorbells= descriptors= ... host_calls=`) descriptors per doorbell and host calls
# per doorbell. Those counters cover the whole boot, not only the 10 s of reads (boot is a few
# hundred doorbells; the reads tens of thousands). The guest checks that the disk is in an
# IOMMU group (translated) under kite-vtd and qemu-vtd and not under plain kite, and every
# block read carries its offset tag (kite-ioload): wrong data fails the bench.
# harness: timeout=1500 mem=4G
. "$REPO/tests/harness/lib.sh"

RUNS=${BENCH_RUNS:-3}
DISK_MIB=${BENCH_DISK_MIB:-64}
RAND_SECS=${BENCH_RAND_SECS:-10}
MEM=512M
IOLOAD=$BUILD/guest/kite-ioload
CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on,sm_off iommu.strict=1"
L2_TIMEOUT=$((120 + RAND_SECS))

[ -x "$IOLOAD" ] || {
	echo "bench: $IOLOAD missing (make guest)"
	exit 1
}
img=$WORK/vtd-bench.img
"$IOLOAD" mkimage "$img" "$DISK_MIB" || {
	echo "bench: cannot write $img"
	exit 1
}
initrd=$WORK/vtd-bench.cpio.gz
mk_l2_initramfs "$initrd" "echo KITE-IOLOAD init
for d in /sys/bus/pci/devices/*; do
	[ \"\$(cat \$d/vendor)\" = 0x1af4 ] && [ \"\$(cat \$d/device)\" = 0x1042 ] || continue
	if [ -e \$d/iommu_group ]; then echo BLK-TRANSLATED=yes; else echo BLK-TRANSLATED=no; fi
done
kite-ioload randread /dev/vda $RAND_SECS 1 || exit 12
echo KITE-IOLOAD done
poweroff -f; sleep 5; exit 97" "$IOLOAD:/bin/kite-ioload" || {
	echo "bench: mkinitramfs failed"
	exit 1
}

STATS_DIGITS=2 # stats (lib.sh) with two decimals: IOPS ratios, descriptors per doorbell
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
iops_of() { grep -a 'KITE-IOLOAD randread' "$1" | tail -n 1 | sed -n 's/.* iops=\([0-9.]*\).*/\1/p'; }

declare -a plain vtd qemu dpd hpd
failed=0
check_run() { # NAME SERIAL STATUS WANT_TRANSLATED
	local iops
	iops=$(iops_of "$2")
	if [ "$3" != 0 ] || [ -z "$iops" ] || ! grep -aq "^BLK-TRANSLATED=$4" "$2" ||
		grep -aq 'KITE-IOLOAD randread.* errors=[1-9]' "$2"; then
		echo "bench: $1 run failed (status $3, iops '${iops}', want translated=$4)" >&2
		return 1
	fi
	echo "$iops"
}

for r in $(seq "$RUNS"); do
	L2_CMDLINE=$CMDLINE
	run_kite --initrd "$initrd" --memory "$MEM" --disk "path=$img" --log-level info
	if v=$(check_run kite "$KITE_SERIAL" "$KITE_STATUS" no); then plain+=("$v"); else
		failed=$((failed + 1)); fi

	run_kite --initrd "$initrd" --memory "$MEM" --disk "path=$img" --iommu vtd --log-level info
	if v=$(check_run kite-vtd "$KITE_SERIAL" "$KITE_STATUS" yes); then
		vtd+=("$v")
		line=$(grep '^kite: vtd: doorbells=' "$KITE_STDERR")
		db=$(echo "$line" | sed -n 's/.*doorbells=\([0-9]*\).*/\1/p')
		de=$(echo "$line" | sed -n 's/.*descriptors=\([0-9]*\).*/\1/p')
		hc=$(echo "$line" | sed -n 's/.*host_calls=\([0-9]*\).*/\1/p')
		echo "bench: kite-vtd run $r: $line"
		if [ -n "$db" ] && [ "$db" -gt 0 ]; then
			dpd+=("$(ratio "$de" "$db")")
			hpd+=("$(ratio "$hc" "$db")")
		fi
	else
		failed=$((failed + 1))
	fi

	L2_MEMORY=$MEM QEMU_PEER_VTD=1 QEMU_CMDLINE=$CMDLINE run_qemu_l2 -initrd "$initrd" \
		-drive "file=$img,if=none,id=d0,format=raw,cache=writeback" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on,iommu_platform=on
	if v=$(check_run qemu-vtd "$QEMU_SERIAL" "$QEMU_STATUS" yes); then qemu+=("$v"); else
		failed=$((failed + 1)); fi
done

read -r pm pmin pmax <<<"$(stats "${plain[@]}")"
read -r vm vmin vmax <<<"$(stats "${vtd[@]}")"
read -r qm qmin qmax <<<"$(stats "${qemu[@]}")"
read -r dm dmin dmax <<<"$(stats "${dpd[@]}")"
read -r hm hmin hmax <<<"$(stats "${hpd[@]}")"
printf '| %-58s | %-26s |\n' "vtd.sh: $RUNS runs each, L2 512M, 1 vCPU, iommu.strict=1" "median (min-max)"
echo "| ---------------------------------------------------------- | -------------------------- |"
printf '| %-58s | %-26s |\n' "4K randread IOPS, kite without IOMMU (n=${#plain[@]})" "$pm ($pmin-$pmax)"
printf '| %-58s | %-26s |\n' "4K randread IOPS, kite --iommu vtd (n=${#vtd[@]})" "$vm ($vmin-$vmax)"
printf '| %-58s | %-26s |\n' "4K randread IOPS, QEMU intel-iommu caching-mode=on (n=${#qemu[@]})" \
	"$qm ($qmin-$qmax)"
printf '| %-58s | %-26s |\n' "kite-vtd / kite (cost of the IOMMU)" "$(ratio "$vm" "$pm")"
printf '| %-58s | %-26s |\n' "kite-vtd / QEMU-vtd" "$(ratio "$vm" "$qm")"
printf '| %-58s | %-26s |\n' "kite-vtd descriptors per doorbell (whole boot)" "$dm ($dmin-$dmax)"
printf '| %-58s | %-26s |\n' "kite-vtd host calls per doorbell (emulated: none)" "$hm ($hmin-$hmax)"
printf '| %-58s | %-26s |\n' "failed runs" "$failed"
[ "$failed" = 0 ]
