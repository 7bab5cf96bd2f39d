#!/bin/bash
# Boot benchmark: kite against QEMU on the same kernel, initramfs and memory.
#
# Per run, for kite (--log-level info):
#   exec->boot-timer  kite's "boot-timer: ... N ms" log line (guest wrote port 0x509)
#   startup CPU       kite's "startup: N ms" log line (CPU before the first KVM_RUN)
#   RSS - guest RAM   /proc/PID/smaps: all Rss minus the /memfd:kite-guest-ram
#                     mapping, sampled after boot-done while the guest sleeps
#   time-to-init      exec of the VMM to the guest's KITE-BENCH-INIT console
#                     line, timestamped here when read (same for QEMU)
# QEMU runs as -M microvm -accel kvm. Prints a markdown table (lines "| ...").
#
# BENCH_RUNS=N (default 5) runs per VMM.
# harness: timeout=1200
. "$REPO/tests/harness/lib.sh"

RUNS=${BENCH_RUNS:-5}
MEM=256M
CMDLINE="console=ttyS0 quiet panic=-1"
MARKER=KITE-BENCH-INIT
initrd=$WORK/bench.cpio.gz
# boot-done first (kite's boot timer), then the marker; sleep so RSS is
# sampled on an idle, fully booted guest; exit via the debug port (QEMU has
# isa-debug-exit there too), with power-off as the fallback.
mk_l2_initramfs "$initrd" "kite-guestctl boot-done; echo $MARKER; sleep 2; kite-guestctl exit 0; poweroff -f" ||
	{
		echo "bench: mkinitramfs failed"
		exit 1
	}

# ms between two $EPOCHREALTIME values
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# Rss of all mappings minus the guest-RAM memfd, in KiB.
rss_excl_guest() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { guest = index($0, "/memfd:kite-guest-ram") > 0; next }
	     /^Rss:/ { total += $2; if (guest) g += $2 }
	     END { if (NR) print total - g }' "/proc/$1/smaps" 2>/dev/null
}

# First "N ms" (N may have decimals) on the first log line containing $1.
log_ms() {
	grep -m1 -- "$1" "$2" | grep -oE '[0-9]+(\.[0-9]+)? ?ms' | head -n 1 | grep -oE '^[0-9]+(\.[0-9]+)?'
}

# boot_once OUTPREFIX CMD...: run CMD with its stdout (the guest console) read
# line by line here. Sets T_INIT (ms, exec to marker), RSS (KiB, kite only),
# STATUS. CMD's stderr goes to OUTPREFIX.err, its console to OUTPREFIX.console.
boot_once() {
	local out=$1 line start= pid= t
	shift
	T_INIT= RSS= STATUS=
	: >"$out.console"
	while IFS= read -r line; do
		printf '%s\n' "${line%$'\r'}" >>"$out.console"
		if [ -z "$T_INIT" ] && [[ $line == *"$MARKER"* ]]; then
			t=$EPOCHREALTIME
			start=$(cat "$out.start")
			pid=$(cat "$out.pid")
			T_INIT=$(ms_between "$start" "$t")
			[ "$MEASURE_RSS" = 1 ] && RSS=$(rss_excl_guest "$pid")
		fi
	done < <(
		echo "$BASHPID" >"$out.pid"
		echo "$EPOCHREALTIME" >"$out.start"
		exec "$@" </dev/null 2>"$out.err"
	)
	wait $! 2>/dev/null
	STATUS=$?
}


kite_timer=() kite_startup=() kite_rss=() kite_init=() qemu_init=()
failures=0

if [ -x "$KITE" ]; then
	for i in $(seq 1 "$RUNS"); do
		MEASURE_RSS=1
		boot_once "$WORK/kite.$i" "$KITE" run --kernel "$KERNEL" --initrd "$initrd" \
			--cmdline "$CMDLINE" --memory "$MEM" --cpus 1 --serial stdio --timeout 120 \
			--log-level info
		timer=$(log_ms 'boot-timer:' "$WORK/kite.$i.err")
		startup=$(log_ms 'startup:' "$WORK/kite.$i.err")
		echo "bench: kite run $i: status=$STATUS init=${T_INIT:-?}ms boot-timer=${timer:-?}ms startup=${startup:-?}ms rss=${RSS:-?}KiB"
		if [ -z "$T_INIT" ]; then
			failures=$((failures + 1))
			sed 's/^/  kite| /' "$WORK/kite.$i.err" | tail -n 20
			continue
		fi
		kite_init+=("$T_INIT")
		[ -n "$timer" ] && kite_timer+=("$timer")
		[ -n "$startup" ] && kite_startup+=("$startup")
		[ -n "$RSS" ] && kite_rss+=("$RSS")
	done
else
	echo "bench: $KITE not built"
	failures=$((failures + 1))
fi

for i in $(seq 1 "$RUNS"); do
	MEASURE_RSS=0
	boot_once "$WORK/qemu.$i" qemu-system-x86_64 -M microvm -accel kvm -cpu host -m "$MEM" -smp 1 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0x501,iosize=1 \
		-kernel "$KERNEL" -initrd "$initrd" -append "$CMDLINE"
	echo "bench: qemu run $i: status=$STATUS init=${T_INIT:-?}ms"
	if [ -z "$T_INIT" ]; then
		failures=$((failures + 1))
		tail -n 20 "$WORK/qemu.$i.err"
		continue
	fi
	qemu_init+=("$T_INIT")
done

row() {
	local label=$1 unit=$2
	shift 2
	read -r med min max <<<"$(stats "$@")"
	printf '| %-44s | %4d | %9s | %9s | %9s |\n' "$label ($unit)" $# "$med" "$min" "$max"
}

echo
printf '| %-44s | %4s | %9s | %9s | %9s |\n' "boot.sh, $RUNS runs, $MEM, 1 vCPU" runs median min max
echo "| -------------------------------------------- | ---- | --------- | --------- | --------- |"
row "kite exec -> boot-timer" ms "${kite_timer[@]}"
row "kite startup CPU before KVM_RUN" ms "${kite_startup[@]}"
row "kite RSS excl. guest RAM" KiB "${kite_rss[@]}"
row "kite exec -> guest init marker" ms "${kite_init[@]}"
row "qemu microvm exec -> guest init marker" ms "${qemu_init[@]}"
read -r kmed _ <<<"$(stats "${kite_init[@]}")"
read -r qmed _ <<<"$(stats "${qemu_init[@]}")"
ratio=$(awk -v k="$kmed" -v q="$qmed" 'BEGIN { if (k + 0 > 0 && q + 0 > 0) printf "%.2f", k / q; else print "n/a" }')
printf '| %-44s | %4s | %9s | %9s | %9s |\n' "time-to-init ratio kite/qemu (median)" - "$ratio" - -
read -r rmed _ <<<"$(stats "${kite_rss[@]}")"
target=$(awk -v r="$rmed" 'BEGIN { if (r == "n/a") print "n/a"; else if (r + 0 < 3072) print "met"; else print "MISSED" }')
printf '| %-44s | %4s | %9s | %9s | %9s |\n' "RSS target < 3072 KiB" - "$target" - -
echo

[ "$failures" = 0 ]
