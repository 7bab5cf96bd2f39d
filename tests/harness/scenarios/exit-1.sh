# kite-guestctl exit 1 (debug-exit port 0x501) makes kite exit with status 1.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
# Should the port not stop the VM, the guest exits 99 instead.
run_l2 'kite-guestctl exit 1; exit 99'
expect_status "guest-exit-1" "1 guest-exit" "$KITE_STATUS $KITE_REASON"
finish
