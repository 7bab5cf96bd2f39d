#!/bin/bash
# virtio benchmark: kite against QEMU (q35, virtio-pci) on the same L2 guest.
# harness: timeout=1200 mem=4G
#
# One guest initramfs, one L2 kernel command line, the same memory and vCPUs,
# booted alternately under kite (--disk path=IMG --net tap=kbench0) and under
#   qemu-system-x86_64 -M q35 -accel kvm -cpu host -m MEM -smp CPUS ... \
#       -drive file=IMG,if=none,id=d0,format=raw,cache=writeback \
#       -device virtio-blk-pci,drive=d0,disable-legacy=on \
#       -netdev tap,id=n0,ifname=kbench0,script=no,downscript=no \
#       -device virtio-net-pci,netdev=n0,disable-legacy=on
# (cache=writeback is QEMU's default, named explicitly: like kite's plain
# preadv/pwritev on the image fd it goes through L1's page cache.)
# Each boot runs tests/guest/kite-ioload in L2:
#   seqread   the whole disk once, O_DIRECT, 1 MiB reads           -> MB/s (10^6 B/s)
#   seqwrite  the same, 1 MiB O_DIRECT writes                       -> MB/s
#   randread  4 KiB O_DIRECT reads at random offsets, queue depth 1
#             (one thread) and 32 (32 threads), RAND_SECS each      -> IOPS
#   randwrite the same as writes                                    -> IOPS
#   tcp       to-guest (L1 sends, L2 receives), then from-guest (L2 sends),
#             NET_SECS each, against kite-ioload tcp-server in L1 on the tap
#             (link-local addresses: nothing leaves L1), timed in L1 -> Mbit/s
# Every 4 KiB block of the image carries a tag derived from its offset, checked
# on each read (writes write the same tags); each TCP receiver reports its byte
# count back to the sender.
#
# Both VMMs negotiate checksum and TSO/GSO offload with the tap (kite since
# issue 14), and the TCP rows compare them so. The QEMU guest also has a second
# NIC on its own tap (kbench1) with every virtio-net offload off (csum, gso,
# host_* and guest_*: plain MTU-sized frames) and repeats the TCP tests on it for
# two extra rows, which show what the offloads are worth. (A second NIC rather
# than a third VM: every L2 boot risks L1's MTTCG "Oops: int3" death, see
# docs/testing.md.)
#
# Block runs are warm for both VMMs: the image lives on L1's tmpfs (WORK), so
# it is always in L1 RAM (dropping caches could not make it cold); the guest's
# own page cache is bypassed by O_DIRECT.
#
# RUNS boots per VMM, alternating kite, QEMU, kite, QEMU, ...
# The settings below may be overridden with BENCH_RUNS, BENCH_DISK_MIB,
# BENCH_RAND_SECS, BENCH_NET_SECS, BENCH_MEM, BENCH_CPUS in direct mode (the
# nested runner does not forward the environment to L1: edit the defaults).
# Prints a markdown table (lines "| ..."): median (min-max) per VMM and the
# ratio of the medians. Nested numbers: compare the ratios, not the absolutes.
# About 10 minutes nested on 2 cores.
. "$REPO/tests/harness/lib.sh"

RUNS=${BENCH_RUNS:-3}
DISK_MIB=${BENCH_DISK_MIB:-256}
RAND_SECS=${BENCH_RAND_SECS:-10}
NET_SECS=${BENCH_NET_SECS:-10}
MEM=${BENCH_MEM:-512M}
CPUS=${BENCH_CPUS:-1}
CMDLINE="console=ttyS0 quiet panic=-1"
IOLOAD=$BUILD/guest/kite-ioload
PORT=5201
# NIC 0: kite's only NIC and QEMU's default one; NIC 1: QEMU without offloads.
TAP0=kbench0 L1_ADDR0=169.254.78.1 L2_ADDR0=169.254.78.2 MAC0=52:54:00:00:78:02
TAP1=kbench1 L1_ADDR1=169.254.79.1 L2_ADDR1=169.254.79.2 MAC1=52:54:00:00:79:02
BOOT_LIMIT=90 # s from exec to the guest's init marker
MAX_TRIES=3   # boots per run, see vm_run

for v in RUNS DISK_MIB RAND_SECS NET_SECS CPUS; do
	case "${!v}" in '' | *[!0-9]* | 0)
		echo "bench: BENCH_$v must be a positive integer, not '${!v}'"
		exit 2
		;;
	esac
done
case "$MEM" in '' | *[!0-9MG]* | [MG]*)
	echo "bench: BENCH_MEM must look like 512M or 1G, not '$MEM'"
	exit 2
	;;
esac
# Boot, plus the work at a pessimistic 4 MB/s and 5 s of slack per TCP connection.
VM_TIMEOUT=$((60 + DISK_MIB / 2 + 4 * RAND_SECS + 4 * (NET_SECS + 5)))
[ -x "$IOLOAD" ] || {
	echo "bench: $IOLOAD missing (make guest)"
	exit 1
}

# fresh_taps: (re)create both taps. Every boot gets new ones, so no run sees
# offloads a killed predecessor left on its tap (kite clears them since issue
# 14; QEMU sets its own).
fresh_taps() {
	local n tap addr
	for n in 0 1; do
		tap=TAP$n addr=L1_ADDR$n
		ip link del "${!tap}" 2>/dev/null
		if ! { ip tuntap add dev "${!tap}" mode tap &&
			ip addr add "${!addr}/24" dev "${!tap}" && ip link set "${!tap}" up; }; then
			echo "bench: cannot set up tap ${!tap}"
			return 1
		fi
	done
}
fresh_taps || exit 1

img=$WORK/virtio-bench.img
"$IOLOAD" mkimage "$img" "$DISK_MIB" || {
	echo "bench: cannot write $img"
	exit 1
}

# The guest finds its NICs by MAC. A failing step exits with a distinct
# status and never prints the done marker; the VM ends by powering off
# (status 0 under kite and QEMU alike).
initrd=$WORK/virtio-bench.cpio.gz
mk_l2_initramfs "$initrd" "echo KITE-IOLOAD init
nooff=
for d in /sys/class/net/eth*; do
	i=\${d##*/}
	case \$(cat \$d/address) in
	$MAC0) ip link set \$i up && ip addr add $L2_ADDR0/24 dev \$i || exit 10 ;;
	$MAC1) ip link set \$i up && ip addr add $L2_ADDR1/24 dev \$i || exit 10; nooff=1 ;;
	*) continue ;;
	esac
	echo \"virtio-net \$(cat \$d/address) features: \$(cat \$d/device/features)\"
done
q=/sys/block/vda/queue
echo \"virtio-blk queue: max_sectors_kb=\$(cat \$q/max_sectors_kb) max_segments=\$(cat \$q/max_segments) max_segment_size=\$(cat \$q/max_segment_size)\"
kite-ioload seqread /dev/vda 1024 || exit 11
kite-ioload randread /dev/vda $RAND_SECS 1 || exit 12
kite-ioload randread /dev/vda $RAND_SECS 32 || exit 17
kite-ioload seqwrite /dev/vda 1024 || exit 18
kite-ioload randwrite /dev/vda $RAND_SECS 1 || exit 19
kite-ioload randwrite /dev/vda $RAND_SECS 32 || exit 20
kite-ioload tcp-client $L1_ADDR0 $PORT recv $NET_SECS || exit 13
kite-ioload tcp-client $L1_ADDR0 $PORT send $NET_SECS || exit 14
if [ -n \"\$nooff\" ]; then
	kite-ioload tcp-client $L1_ADDR1 $PORT recv $NET_SECS || exit 15
	kite-ioload tcp-client $L1_ADDR1 $PORT send $NET_SECS || exit 16
fi
echo KITE-IOLOAD done
poweroff -f; sleep 5; exit 97" "$IOLOAD:/bin/kite-ioload" || {
	echo "bench: mkinitramfs failed"
	exit 1
}


# field FILE PATTERN KEY: KEY's value on the last line matching PATTERN
field() {
	grep -a -- "$2" "$1" 2>/dev/null | tail -n 1 | sed -n "s/.* $3=\([0-9.]*\).*/\1/p"
}

# vm_once NAME CMD...: one boot, with a TCP server in L1 on each tap. Console
# to $WORK/NAME.console, stderr to NAME.err, server output to NAME.server0
# and NAME.server1, all copied into the log afterwards. A guest that has not
# printed its init marker BOOT_LIMIT s after exec is stopped. Sets VM_STATUS,
# VM_MS, VM_BOOTED (0/1).
vm_once() {
	local name=$1 srv0 srv1 vm t0
	shift
	fresh_taps || {
		VM_STATUS=125 VM_MS=0 VM_BOOTED=0
		: >"$WORK/$name.console"
		return
	}
	"$IOLOAD" tcp-server "$L1_ADDR0" "$PORT" "$NET_SECS" 2 >"$WORK/$name.server0" 2>&1 &
	srv0=$!
	"$IOLOAD" tcp-server "$L1_ADDR1" "$PORT" "$NET_SECS" 2 >"$WORK/$name.server1" 2>&1 &
	srv1=$!
	t0=$(now_ms)
	: >"$WORK/$name.raw"
	timeout -k 5 "$((VM_TIMEOUT + 15))" "$@" </dev/null >"$WORK/$name.raw" 2>"$WORK/$name.err" &
	vm=$!
	VM_BOOTED=0
	while kill -0 "$vm" 2>/dev/null; do
		if grep -aq '^KITE-IOLOAD init' "$WORK/$name.raw"; then
			VM_BOOTED=1
			break
		fi
		if [ $(($(now_ms) - t0)) -gt $((BOOT_LIMIT * 1000)) ]; then
			echo "bench: $name: no init marker ${BOOT_LIMIT}s after exec; stopping the VM"
			kill "$vm" 2>/dev/null
			break
		fi
		sleep 0.5
	done
	wait "$vm"
	VM_STATUS=$?
	VM_MS=$(($(now_ms) - t0))
	grep -aq '^KITE-IOLOAD init' "$WORK/$name.raw" && VM_BOOTED=1
	sed 's/\r$//' "$WORK/$name.raw" >"$WORK/$name.console"
	sed 's/^/  l2| /' "$WORK/$name.console"
	sed 's/^/  vmm| /' "$WORK/$name.err"
	for s in "$srv0" "$srv1"; do
		kill -0 "$s" 2>/dev/null && kill "$s" 2>/dev/null
		wait "$s" 2>/dev/null
	done
	sed 's/^/  l1-server0| /' "$WORK/$name.server0"
	sed 's/^/  l1-server1| /' "$WORK/$name.server1"
}

# Under nested TCG on a loaded host an L2 guest now and then stalls (its clock
# stops advancing, early in boot or later) or dies without a word (a reset,
# which -no-reboot turns into a clean exit, or a panic whose message never
# reached the console). So a run is retried, up to MAX_TRIES boots, and each
# retry counted per VMM in the table; the log keeps every boot. A QEMU run is
# retried on any failure (QEMU is the baseline, not under test); a kite run
# only when it ended without the done marker and without any kite-ioload
# error line (a data or byte-count mismatch, an I/O error, a network
# timeout): kite's errors are never retried, collect reports them and the
# bench fails.
declare -A retried=([kite]=0 [qemu]=0)

# vm_run VMM NAME CMD...
vm_run() {
	local vmm=$1 name=$2 try
	shift 2
	for try in $(seq 1 "$MAX_TRIES"); do
		vm_once "$name" "$@"
		if grep -aq '^KITE-IOLOAD done' "$WORK/$name.console" &&
			! grep -aq 'kite-ioload:' "$WORK/$name.console" "$WORK/$name.server0" \
				"$WORK/$name.server1"; then
			return
		fi
		[ "$vmm" = kite ] && grep -aq 'kite-ioload:' "$WORK/$name.console" \
			"$WORK/$name.server0" "$WORK/$name.server1" && return
		[ "$try" = "$MAX_TRIES" ] && return
		retried[$vmm]=$((retried[$vmm] + 1))
		echo "bench: $name: boot $try failed (status $VM_STATUS, init marker" \
			"$([ "$VM_BOOTED" = 1 ] && echo seen || echo missing)); retrying"
		grep -a 'kite-ioload:' "$WORK/$name.console" "$WORK/$name.server0" \
			"$WORK/$name.server1" | sed 's/^/bench:   /'
	done
}

# Results, filled and read through namerefs (nooff: QEMU's second NIC).
# shellcheck disable=SC2034
kite_seq=() kite_rand=() kite_rx=() kite_tx=() kite_seqw=() kite_rand32=() kite_randw=() kite_randw32=()
# shellcheck disable=SC2034
qemu_seq=() qemu_rand=() qemu_rx=() qemu_tx=() nooff_rx=() nooff_tx=()
# shellcheck disable=SC2034
qemu_seqw=() qemu_rand32=() qemu_randw=() qemu_randw32=()
failures=0

# collect VMM RUN: parse one run's results into VMM's arrays.
collect() {
	local vmm=$1 i=$2 con=$WORK/$1.$2.console srv0=$WORK/$1.$2.server0 srv1=$WORK/$1.$2.server1
	local seq rand rx tx nrx='' ntx='' errs bad='' seqw rand32 randw randw32
	seq=$(field "$con" 'KITE-IOLOAD seqread' mbps)
	rand=$(field "$con" 'KITE-IOLOAD randread .* threads=1 ' iops)
	rand32=$(field "$con" 'KITE-IOLOAD randread .* threads=32 ' iops)
	seqw=$(field "$con" 'KITE-IOLOAD seqwrite' mbps)
	randw=$(field "$con" 'KITE-IOLOAD randwrite .* threads=1 ' iops)
	randw32=$(field "$con" 'KITE-IOLOAD randwrite .* threads=32 ' iops)
	rx=$(field "$srv0" 'side=server dir=to-guest' mbit)
	tx=$(field "$srv0" 'side=server dir=from-guest' mbit)
	errs=$(grep -a 'KITE-IOLOAD \(seq\|rand\)read' "$con" | grep -vc ' errors=0$')
	[ -n "$seq" ] && [ -n "$rand" ] && [ -n "$rx" ] && [ -n "$tx" ] || bad=1
	[ -n "$seqw" ] && [ -n "$rand32" ] && [ -n "$randw" ] && [ -n "$randw32" ] || bad=1
	if [ "$vmm" = qemu ]; then
		nrx=$(field "$srv1" 'side=server dir=to-guest' mbit)
		ntx=$(field "$srv1" 'side=server dir=from-guest' mbit)
		[ -n "$nrx" ] && [ -n "$ntx" ] || bad=1
	fi
	echo "bench: $vmm run $i: status=$VM_STATUS time=${VM_MS}ms seqread=${seq:-?}MB/s" \
		"seqwrite=${seqw:-?}MB/s randread=${rand:-?}/${rand32:-?}IOPS" \
		"randwrite=${randw:-?}/${randw32:-?}IOPS (QD1/QD32) tcp-to-guest=${rx:-?}Mbit/s tcp-from-guest=${tx:-?}Mbit/s" \
		"${nrx:+no-offload: to-guest=${nrx}Mbit/s from-guest=${ntx:-?}Mbit/s}"
	if [ "$VM_STATUS" != 0 ] || [ -n "$bad" ] || [ "$errs" != 0 ] ||
		! grep -aq '^KITE-IOLOAD done' "$con"; then
		echo "bench: $vmm run $i FAILED (status $VM_STATUS; reads with bad data: $errs;" \
			"console $con)"
		grep -a 'kite-ioload:' "$con" "$srv0" "$srv1" | sed 's/^/bench:   /'
		failures=$((failures + 1))
	fi
	local -n s=${vmm}_seq r=${vmm}_rand x=${vmm}_rx t=${vmm}_tx sw=${vmm}_seqw
	local -n r32=${vmm}_rand32 rw=${vmm}_randw rw32=${vmm}_randw32
	[ -n "$seqw" ] && sw+=("$seqw")
	[ -n "$rand32" ] && r32+=("$rand32")
	[ -n "$randw" ] && rw+=("$randw")
	[ -n "$randw32" ] && rw32+=("$randw32")
	[ -n "$seq" ] && s+=("$seq")
	[ -n "$rand" ] && r+=("$rand")
	[ -n "$rx" ] && x+=("$rx")
	[ -n "$tx" ] && t+=("$tx")
	[ -n "$nrx" ] && nooff_rx+=("$nrx")
	[ -n "$ntx" ] && nooff_tx+=("$ntx")
}

nooff=csum=off,gso=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off
nooff=$nooff,guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off
echo "bench: $(qemu-system-x86_64 --version | head -n 1); $(uname -r) in L1"

for i in $(seq 1 "$RUNS"); do
	if [ -x "$KITE" ]; then
		echo "bench: kite run $i"
		vm_run kite "kite.$i" "$KITE" run --kernel "$KERNEL" --initrd "$initrd" \
			--cmdline "$CMDLINE" --memory "$MEM" --cpus "$CPUS" --serial stdio \
			--timeout "$VM_TIMEOUT" --disk "path=$img" --net "tap=$TAP0,mac=$MAC0"
		collect kite "$i"
	else
		echo "bench: $KITE not built"
		failures=$((failures + 1))
	fi

	echo "bench: qemu run $i"
	vm_run qemu "qemu.$i" qemu-system-x86_64 -M q35 -accel kvm -cpu host -m "$MEM" -smp "$CPUS" \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$initrd" -append "$CMDLINE" \
		-drive "file=$img,if=none,id=d0,format=raw,cache=writeback" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on \
		-netdev "tap,id=n0,ifname=$TAP0,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,disable-legacy=on,mac=$MAC0" \
		-netdev "tap,id=n1,ifname=$TAP1,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n1,disable-legacy=on,mac=$MAC1,$nooff"
	collect qemu "$i"
done

ip link del "$TAP0" 2>/dev/null
ip link del "$TAP1" 2>/dev/null

# row LABEL KITE_ARRAY QEMU_ARRAY
row() {
	local label=$1 km kmin kmax qm qmin qmax ratio
	local -n ka=$2 qa=$3
	read -r km kmin kmax <<<"$(stats "${ka[@]}")"
	read -r qm qmin qmax <<<"$(stats "${qa[@]}")"
	ratio=$(awk -v k="$km" -v q="$qm" 'BEGIN { if (k + 0 > 0 && q + 0 > 0) printf "%.2f", k / q; else print "n/a" }')
	printf '| %-50s | %-22s | %-22s | %9s |\n' "$label" "$km ($kmin-$kmax)" "$qm ($qmin-$qmax)" "$ratio"
}

echo
printf '| %-50s | %-22s | %-22s | %9s |\n' \
	"virtio.sh: $RUNS runs each, L2 $MEM, $CPUS vCPU" "kite median (min-max)" "QEMU median (min-max)" kite/QEMU
echo "| -------------------------------------------------- | ---------------------- | ---------------------- | --------- |"
row "blk seq read, $DISK_MIB MiB, 1 MiB O_DIRECT (MB/s)" kite_seq qemu_seq
row "blk seq write, $DISK_MIB MiB, 1 MiB O_DIRECT (MB/s)" kite_seqw qemu_seqw
row "blk 4 KiB random read, QD1, $RAND_SECS s (IOPS)" kite_rand qemu_rand
row "blk 4 KiB random read, QD32, $RAND_SECS s (IOPS)" kite_rand32 qemu_rand32
row "blk 4 KiB random write, QD1, $RAND_SECS s (IOPS)" kite_randw qemu_randw
row "blk 4 KiB random write, QD32, $RAND_SECS s (IOPS)" kite_randw32 qemu_randw32
row "net TCP L1 -> L2, $NET_SECS s (Mbit/s)" kite_rx qemu_rx
row "net TCP L2 -> L1, $NET_SECS s (Mbit/s)" kite_tx qemu_tx
row "net TCP L1 -> L2, kite vs QEMU offloads off (Mbit/s)" kite_rx nooff_rx
row "net TCP L2 -> L1, kite vs QEMU offloads off (Mbit/s)" kite_tx nooff_tx
printf '| %-50s | %-22s | %-22s | %9s |\n' "boots retried (see vm_run)" \
	"${retried[kite]}" "${retried[qemu]}" -
echo

[ "$failures" = 0 ]
