# A guest reset (reboot -f) gives status 241.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'reboot -f; sleep 5; exit 97'
expect_status "reset" 241 "$KITE_STATUS"
finish
