# virtio-net on a tap in L1: ping, then a 100 MB TCP transfer L1 -> L2 with matching checksums.
# Addresses are link-local (169.254.0.0/16) on a tap inside the L1 VM: nothing leaves L1.
# harness: timeout=600
. "$REPO/tests/harness/lib.sh"
tap=ktap0
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip addr add 169.254.77.1/24 dev "$tap"
ip link set "$tap" up

mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/blob" bs=1M count=100 2>/dev/null
sum=$(sha256sum "$WORK/www/blob" | cut -d' ' -f1)
busybox httpd -p 169.254.77.1:8080 -h "$WORK/www"

run_l2 'ip link set eth0 up && ip addr add 169.254.77.2/24 dev eth0 || exit 10
cat /sys/class/net/eth0/address
ping -c 3 -W 5 169.254.77.1 && echo PING=ok
echo "SUM=$(wget -q -O - http://169.254.77.1:8080/blob | sha256sum | cut -d" " -f1)"
poweroff -f' --net "tap=$tap,mac=52:54:00:00:77:02" --memory 512M --timeout 400
expect_status "guest powers off" 0 "$KITE_STATUS"
expect_output "MAC from the command line" "$KITE_SERIAL" '^52:54:00:00:77:02'
expect_output "ping L1 from L2" "$KITE_SERIAL" '^PING=ok'
expect_output "100 MB transfer checksum" "$KITE_SERIAL" "^SUM=$sum"

# An invalid interface name is bad input; an existing non-tap interface cannot be opened as a tap.
run_kite --net "tap=no/such/tap" --timeout 30
expect_status "invalid tap name refused" 245 "$KITE_STATUS"
run_kite --net "tap=lo" --timeout 30
expect_status "unusable tap refused" 248 "$KITE_STATUS"
expect_output "error names the tap" "$KITE_STDERR" 'lo'
finish
