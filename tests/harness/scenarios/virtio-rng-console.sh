# virtio-rng yields bytes through /dev/hwrng; virtio-console (hvc0) carries the guest console.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'cat /sys/class/misc/hw_random/rng_current
echo "HWRNG=$(head -c 4096 /dev/hwrng | wc -c)"
echo "HVC=$(cat /sys/class/tty/hvc0/dev 2>/dev/null)"
kite-guestctl exit 0' --rng
expect_status "guest exits 0" 0 "$KITE_STATUS"
expect_output "virtio_rng is the current hwrng" "$KITE_SERIAL" '^virtio_rng'
expect_output "4096 bytes from /dev/hwrng" "$KITE_SERIAL" '^HWRNG=4096'

# The same kind of guest with its console on hvc0 instead of ttyS0.
L2_CMDLINE="console=hvc0 panic=-1"
run_l2 'echo "CONSOLES=$(cut -d" " -f1 /proc/consoles | tr "\n" " ")"; kite-guestctl exit 0' \
	--console virtio
expect_status "hvc0 guest exits 0" 0 "$KITE_STATUS"
expect_output "init output arrives through hvc0" "$KITE_SERIAL" '^CONSOLES=hvc0'
finish
