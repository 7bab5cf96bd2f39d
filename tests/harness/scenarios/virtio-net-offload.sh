# virtio-net offloads on a tap that another program left with TUNSETOFFLOAD CSUM|TSO4:
# kite clears them at open and sets exactly what the guest negotiated, and 100 MB go each
# way over TCP with matching sha256 (L1 -> L2 by wget from L1, L2 -> L1 by wget from L2).
# Link-local addresses on a tap inside L1: nothing leaves L1.
# harness: timeout=1200
. "$REPO/tests/harness/lib.sh"
tap=koff0
NETTOOL=$BUILD/progs/kite-nettool
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip addr add 169.254.97.1/24 dev "$tap"
ip link set "$tap" up
# TUN_F_CSUM | TUN_F_TSO4, as a VMM killed mid-run leaves them.
if "$NETTOOL" tap-offload "$tap" 0x3; then ok "tap pre-set with CSUM|TSO4"; else not_ok "pre-set tap"; fi

mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/blob" bs=1M count=100 2>/dev/null
sum=$(sha256sum "$WORK/www/blob" | cut -d' ' -f1)
busybox httpd -p 169.254.97.1:8080 -h "$WORK/www"

# L2 -> L1: once the guest serves its own 100 MB, fetch it and say so with /fetched.
(
	for _ in $(seq 1 300); do
		if wget -q -T 60 -O "$WORK/up" http://169.254.97.2:8080/up 2>/dev/null; then
			sha256sum "$WORK/up" | cut -d' ' -f1 >"$WORK/upsum"
			rm -f "$WORK/up"
			touch "$WORK/www/fetched"
			exit 0
		fi
		sleep 2
	done
) &
fetcher=$!

run_l2 'ip link set eth0 up && ip addr add 169.254.97.2/24 dev eth0 || exit 10
echo "FEATURES=$(cat /sys/class/net/eth0/device/features)"
echo "SUM=$(wget -q -O - http://169.254.97.1:8080/blob | sha256sum | cut -d" " -f1)"
mkdir -p /tmp/www
dd if=/dev/urandom of=/tmp/www/up bs=1M count=100 2>/dev/null
echo "UPSUM=$(sha256sum /tmp/www/up | cut -d" " -f1)"
httpd -p 169.254.97.2:8080 -h /tmp/www || exit 11
i=0
while ! wget -q -O /dev/null http://169.254.97.1:8080/fetched 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 300 ] && exit 12
	sleep 2
done
echo FETCHED
poweroff -f; sleep 5; exit 97' --net "tap=$tap,mac=52:54:00:00:97:02" --memory 512M \
	--timeout 900 --log-level info
kill "$fetcher" 2>/dev/null
wait "$fetcher" 2>/dev/null
expect_status "guest powers off" 0 "$KITE_STATUS"
expect_output "tap offloads cleared at open" "$KITE_STDERR" 'tap offloads cleared \(available: 0x1f\)'
# The driver takes every offload offered: TUN_F_CSUM|TSO4|TSO6|TSO_ECN|UFO.
expect_output "TUNSETOFFLOAD = the negotiated set" "$KITE_STDERR" "tap $tap: offloads now 0x1f"
# features bits 0 (CSUM), 1 (GUEST_CSUM), 7 (GUEST_TSO4), 11 (HOST_TSO4) negotiated.
expect_output "guest negotiated CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4" "$KITE_SERIAL" \
	'^FEATURES=11.....1...1'
expect_output "100 MB L1 -> L2 checksum" "$KITE_SERIAL" "^SUM=$sum"
upsum=$(cat "$WORK/upsum" 2>/dev/null)
if [ -n "$upsum" ] && grep -q "^UPSUM=$upsum" "$KITE_SERIAL"; then
	ok "100 MB L2 -> L1 checksum" "$upsum"
else
	not_ok "100 MB L2 -> L1 checksum" "L1 got '${upsum:-nothing}'"
fi
expect_output "L1 fetch seen by the guest" "$KITE_SERIAL" '^FETCHED'
finish
