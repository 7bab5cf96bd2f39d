# --serial file:PATH writes the guest console to PATH.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'echo SERIAL-FILE-MARKER; kite-guestctl exit 0' --serial "file:$WORK/console.txt"
sed 's/^/  l2| /' "$WORK/console.txt" 2>/dev/null
expect_output "serial-file" "$WORK/console.txt" 'SERIAL-FILE-MARKER'
# The marker alone would pass a guest that hangs after printing it.
expect_status "guest exits 0" 0 "$KITE_STATUS"
expect_status "through the debug-exit port" guest-exit "$KITE_REASON"
finish
