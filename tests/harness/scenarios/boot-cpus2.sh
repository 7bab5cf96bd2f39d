# Boot to init with two vCPUs; the guest brings both online.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'echo "NPROC=$(nproc)"; kite-guestctl exit 0; exit 99' --cpus 2
expect_output "cpus2-nproc" "$KITE_SERIAL" '^NPROC=2$'
expect_status "cpus2-status" 0 "$KITE_STATUS"
finish
