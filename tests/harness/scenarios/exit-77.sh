# kite-guestctl exit 77 (debug-exit port 0x501) makes kite exit with status 77.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
# Should the port not stop the VM, the guest exits 99 instead.
run_l2 'kite-guestctl exit 77; exit 99'
expect_status "guest-exit-77" "77 guest-exit" "$KITE_STATUS $KITE_REASON"
finish
