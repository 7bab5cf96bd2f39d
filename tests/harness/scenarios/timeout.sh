# A guest that never exits is stopped by --timeout 5 with status 244, within
# timeout + 2 s of kite's start.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'sleep 100000' --timeout 5
expect_status "timeout-status" 244 "$KITE_STATUS"
expect_le "timeout-duration" 7000 "$KITE_MS" ms
finish
