# A guest that sends 300 MB over virtio-net and then only holds its TCP connection open
# must keep running (issue 14: kite exited 242, a triple fault, 74-78 s after start).
# The L1 end (kite-nettool sink) reads everything and never closes.
# harness: timeout=1800
# known-bug: issue 14, exit 242 (triple fault, last exception #PF) mid-transfer, 3 of 3 runs on a loaded host; cause not found
. "$REPO/tests/harness/lib.sh"
tap=khold0
NETTOOL=$BUILD/progs/kite-nettool
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip addr add 169.254.98.1/24 dev "$tap"
ip link set "$tap" up

HOLD_SECS=${HOLD_SECS:-100} # how long the guest holds the idle connection after the transfer
RUNS=${HOLD_RUNS:-2}
for i in $(seq 1 "$RUNS"); do
	"$NETTOOL" sink 169.254.98.1 5002 >"$WORK/sink.$i" 2>&1 &
	sink=$!
	run_l2 'ip link set eth0 up && ip addr add 169.254.98.2/24 dev eth0 || exit 10
( dd if=/dev/zero bs=64k count=4800 2>/tmp/dd.err | nc 169.254.98.1 5002; echo "NC-EXIT=$?" ) &
while ! grep -q "records out" /tmp/dd.err 2>/dev/null; do sleep 1; done
echo "DD-DONE uptime=$(cut -d" " -f1 /proc/uptime)"
end=$(( $(cut -d. -f1 /proc/uptime) + '"$HOLD_SECS"' ))
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do sleep 5; done
echo "HOLD=ok uptime=$(cut -d" " -f1 /proc/uptime)"
exit 0' --net "tap=$tap" --memory 512M --cpus 1 --timeout $((HOLD_SECS + 600))
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	sed 's/^/  sink| /' "$WORK/sink.$i"
	echo "run $i: kite status $KITE_STATUS ($KITE_REASON) after ${KITE_MS} ms"
	expect_status "run $i: guest holds the connection and exits 0" 0 "$KITE_STATUS"
	expect_output "run $i: transfer done" "$KITE_SERIAL" '^DD-DONE'
	expect_output "run $i: held until the end" "$KITE_SERIAL" '^HOLD=ok'
	expect_output "run $i: L1 got all 314572800 bytes" "$WORK/sink.$i" 'bytes=314572800'
done
finish
