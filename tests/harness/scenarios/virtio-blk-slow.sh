# A slow disk must not stall the network: virtio-blk I/O runs off the device thread.
# The disk is a FUSE file in L1 (kite-slowfs) that answers each request after 300 ms; while the
# guest reads and writes it with O_DIRECT, its pings to L1 over virtio-net keep a normal RTT.
# (Before issue 14, kite did disk I/O on its one device thread: every ping waited for the disk.)
# Twice: with io_uring, then with io_uring disabled in L1 (kernel.io_uring_disabled=2), where
# kite falls back to worker threads.
# harness: timeout=1200
. "$REPO/tests/harness/lib.sh"
SLOWFS=$BUILD/progs/kite-slowfs
tap=kslow0
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip addr add 169.254.96.1/24 dev "$tap"
ip link set "$tap" up
mkdir -p "$WORK/slow"
"$SLOWFS" "$WORK/slow" 16 300 >"$WORK/slowfs.log" 2>&1 &
slowfs=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/slowfs.log" && break; sleep 0.2; done
if grep -q ready "$WORK/slowfs.log"; then ok "slow FUSE disk mounted"; else
	not_ok "slow FUSE disk mounted" "$(cat "$WORK/slowfs.log")"
	finish
fi

# ping summary "round-trip min/avg/max = a/b/c ms" -> c
guest='ip link set eth0 up && ip addr add 169.254.96.2/24 dev eth0 || exit 10
maxrtt() { sed -n "s|.*= [0-9.]*/[0-9.]*/\([0-9.]*\) ms.*|\1|p" "$1"; }
ping -c 3 -W 5 169.254.96.1 >/dev/null || exit 11
ping -i 0.2 -c 25 169.254.96.1 >/tmp/idle || exit 12
echo "IDLE_MAX=$(maxrtt /tmp/idle)"
(
	t0=$(cut -d. -f1 /proc/uptime)
	dd if=/dev/vda of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null &&
	dd if=/dev/zero of=/dev/vda bs=64k count=8 oflag=direct 2>/dev/null &&
	echo "DISK-DONE secs=$(( $(cut -d. -f1 /proc/uptime) - t0 ))"
) &
sleep 1
ping -i 0.2 -c 25 169.254.96.1 >/tmp/busy || exit 13
echo "BUSY_MAX=$(maxrtt /tmp/busy)"
wait
poweroff -f; sleep 5; exit 97'

# check LABEL: the RTTs of the last boot
check() {
	idle=$(sed -n 's/^IDLE_MAX=//p' "$KITE_SERIAL")
	busy=$(sed -n 's/^BUSY_MAX=//p' "$KITE_SERIAL")
	expect_status "$1: guest powers off" 0 "$KITE_STATUS"
	expect_output "$1: disk I/O done (at 300 ms per request, >= 7 s)" "$KITE_SERIAL" \
		'^DISK-DONE secs=([7-9]|[1-9][0-9]+)$'
	# A ping that waited for one 300 ms disk request would show it.
	if [ -n "$busy" ] && awk -v b="$busy" 'BEGIN { exit !(b < 150) }'; then
		ok "$1: ping RTT normal during slow disk I/O" "max ${busy} ms (idle max ${idle} ms)"
	else
		not_ok "$1: ping RTT normal during slow disk I/O" "max ${busy:-?} ms (idle max ${idle:-?} ms)"
	fi
}

run_l2 "$guest" --disk "path=$WORK/slow/disk" --net "tap=$tap" --log-level info --timeout 600
expect_output "io_uring in use" "$KITE_STDERR" 'disk .*: io_uring I/O'
check io_uring

if sysctl -qw kernel.io_uring_disabled=2 2>/dev/null; then
	run_l2 "$guest" --disk "path=$WORK/slow/disk,cache=none" --net "tap=$tap" --log-level info \
		--timeout 600
	sysctl -qw kernel.io_uring_disabled=0
	expect_output "worker threads when io_uring is refused" "$KITE_STDERR" \
		'io_uring unavailable .*; using worker threads'
	expect_output "cache=none" "$KITE_STDERR" 'threads I/O, cache=none'
	check threads
else
	not_ok "kernel.io_uring_disabled not settable in L1"
fi
kill "$slowfs" 2>/dev/null
wait "$slowfs" 2>/dev/null
sed 's/^/  slowfs| /' "$WORK/slowfs.log"
finish
