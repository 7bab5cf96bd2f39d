# Boot to init with one vCPU; the guest sees exactly one CPU.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'echo "NPROC=$(nproc)"; kite-guestctl exit 0; exit 99' --cpus 1
expect_output "cpus1-nproc" "$KITE_SERIAL" '^NPROC=1$'
expect_status "cpus1-status" 0 "$KITE_STATUS"
finish
