# kite-guestctl exit 0 (debug-exit port 0x501) makes kite exit with status 0.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
# Should the port not stop the VM, the guest exits 99 instead.
run_l2 'kite-guestctl exit 0; exit 99'
expect_status "guest-exit-0" "0 guest-exit" "$KITE_STATUS $KITE_REASON"
finish
