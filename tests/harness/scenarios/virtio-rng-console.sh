# virtio-rng yields bytes through /dev/hwrng; virtio-console (hvc0) carries the guest console.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'cat /sys/class/misc/hw_random/rng_current
echo "HWRNG=$(head -c 4096 /dev/hwrng | wc -c)"
# Bytes, not zeros: 4096 random bytes take nearly all 256 values (all zeros take 1,
# a repeating pattern few), and two reads differ.
echo "DISTINCT=$(head -c 4096 /dev/hwrng | od -An -v -tx1 | tr -s " " "\n" | grep . | sort -u | wc -l)"
a=$(head -c 64 /dev/hwrng | md5sum); b=$(head -c 64 /dev/hwrng | md5sum)
[ "$a" != "$b" ] && echo "READS-DIFFER"
echo "HVC=$(cat /sys/class/tty/hvc0/dev 2>/dev/null)"
kite-guestctl exit 0' --rng
expect_status "guest exits 0" 0 "$KITE_STATUS"
expect_output "virtio_rng is the current hwrng" "$KITE_SERIAL" '^virtio_rng'
expect_output "4096 bytes from /dev/hwrng" "$KITE_SERIAL" '^HWRNG=4096'
distinct=$(sed -n 's/^DISTINCT=\([0-9]*\).*/\1/p' "$KITE_SERIAL" | tail -n 1)
# P(fewer than 230 of 256 values in 4096 uniform bytes) is far below 1e-9.
if [ "${distinct:-0}" -ge 230 ]; then
	ok "hwrng bytes look random" "$distinct distinct byte values in 4096"
else
	not_ok "hwrng bytes look random" "${distinct:-no} distinct byte values in 4096 (want >= 230)"
fi
expect_output "two hwrng reads differ" "$KITE_SERIAL" '^READS-DIFFER'

# The same kind of guest with its console on hvc0 instead of ttyS0.
L2_CMDLINE="console=hvc0 panic=-1"
run_l2 'echo "CONSOLES=$(cut -d" " -f1 /proc/consoles | tr "\n" " ")"; kite-guestctl exit 0' \
	--console virtio
expect_status "hvc0 guest exits 0" 0 "$KITE_STATUS"
expect_output "init output arrives through hvc0" "$KITE_SERIAL" '^CONSOLES=hvc0'
finish
