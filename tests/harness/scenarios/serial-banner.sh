# The guest console reaches kite's --serial stdio: the kernel banner shows.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
# Not quiet: the banner is a KERN_NOTICE line.
run_l2 'kite-guestctl exit 0' --cmdline "console=ttyS0 panic=-1" --serial stdio
expect_output "serial-banner" "$KITE_SERIAL" 'Linux version [0-9]'
# A guest that printed the banner and then hung must not pass: the guest's own exit 0 ends it.
expect_status "guest exits 0" 0 "$KITE_STATUS"
expect_status "through the debug-exit port" guest-exit "$KITE_REASON"
finish
