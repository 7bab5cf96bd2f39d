#!/bin/bash
# Control-API benchmark: `info` round trip (median of 1000 on one connection) against QEMU's
# QMP `query-status` (same client code, QEMU started -S so no guest runs), and the time from
# the `boot` request to the guest's boot-timer write (API path) against kite exec to that write
# (CLI path), on the same kernel and initramfs. BENCH_RUNS=N boots per path (default 3).
# harness: timeout=900
. "$REPO/tests/harness/lib.sh"
RUNS=${BENCH_RUNS:-3}
initrd=$WORK/bench-api.cpio.gz
mk_l2_initramfs "$initrd" 'kite-guestctl boot-done; kite-guestctl exit 0' || exit 1

rtt() { # rtt kite|qmp SOCKET -> median/p10/p90 microseconds of 1000 requests
	python3 - "$@" <<'PY'
import json, socket, sys, time
kind, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rb")
if kind == "qmp":
    f.readline(); s.sendall(b'{"execute":"qmp_capabilities"}\n'); f.readline()
    req = b'{"execute":"query-status"}\n'
else:
    req = b'{"id":1,"method":"info"}\n'
ts = []
for i in range(1000):
    t = time.perf_counter(); s.sendall(req)
    while True:
        r = json.loads(f.readline())
        if "event" not in r: break
    ts.append((time.perf_counter() - t) * 1e6)
ts.sort(); print("%.0f %.0f %.0f" % (ts[500], ts[100], ts[900]))
PY
}

# info vs query-status, alternating
S=$WORK/bench.sock
"$KITE" run --api-socket "$S" 2>/dev/null &
kp=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
qemu-system-x86_64 -M microvm -accel kvm -m 256M -S -display none -nodefaults \
	-qmp "unix:$WORK/qmp.sock,server=on,wait=off" -kernel "$KERNEL" 2>/dev/null &
qp=$!
for _ in $(seq 100); do [ -S "$WORK/qmp.sock" ] && break; sleep 0.1; done
k_all= q_all=
for r in 1 2 3; do
	k_all="$k_all $(rtt kite "$S" | cut -d' ' -f1)"
	q_all="$q_all $(rtt qmp "$WORK/qmp.sock" | cut -d' ' -f1)"
done
"$KITE" ctl "$S" kill >/dev/null
kill $qp 2>/dev/null
wait $kp $qp 2>/dev/null
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
km=$(med $k_all) qm=$(med $q_all)

# boot request -> boot-timer write (API) vs exec -> boot-timer write (CLI), alternating
api_ms= cli_ms=
for r in $(seq "$RUNS"); do
	rm -f "$S"
	"$KITE" run --api-socket "$S" --serial none 2>/dev/null &
	kp=$!
	for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
	"$KITE" ctl "$S" configure "{\"kernel\":\"$KERNEL\",\"initrd\":\"$initrd\",\"cmdline\":\"console=ttyS0 quiet panic=-1\"}" >/dev/null
	ev=$("$KITE" ctl "$S" boot --wait boot --timeout 120 | tail -n 1)
	api_ms="$api_ms $(echo "$ev" | python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["data"]["since_boot_request_ms"])')"
	wait $kp
	"$KITE" run --kernel "$KERNEL" --initrd "$initrd" --cmdline "console=ttyS0 quiet panic=-1" \
		--serial none --log-level info 2>"$WORK/cli.err"
	cli_ms="$cli_ms $(sed -n 's/.*boot-timer: \([0-9.]*\) ms.*/\1/p' "$WORK/cli.err")"
done
echo "api boot: $api_ms / cli boot: $cli_ms / info: $k_all / qmp: $q_all"
echo "| api metric | kite | peer | ratio |"
echo "|---|---|---|---|"
echo "| info round trip, median of 1000 (us) | $km | $qm (QEMU QMP query-status) | $(awk -v a="$km" -v b="$qm" 'BEGIN{printf "%.2f", a/b}') |"
echo "| boot request -> boot-timer write (ms, median of $RUNS) | $(med $api_ms) | $(med $cli_ms) (kite CLI, exec -> write) | $(awk -v a="$(med $api_ms)" -v b="$(med $cli_ms)" 'BEGIN{printf "%.2f", a/b}') |"
