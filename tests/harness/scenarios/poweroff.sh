# ACPI power-off from the guest (busybox poweroff -f) gives status 0.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
# If poweroff returns, the guest exits 99 instead, so a 0 means power-off.
run_l2 'poweroff -f; sleep 5; exit 99'
expect_status "poweroff" 0 "$KITE_STATUS"
# 0 is also what `kite-guestctl exit 0` gives: the reason tells an ACPI S5 power-off apart.
expect_status "kite's reason is poweroff" poweroff "$KITE_REASON"
finish
