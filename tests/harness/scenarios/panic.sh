# A guest kernel panic (sysrq c) reported through pvpanic gives status 243.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'echo c >/proc/sysrq-trigger; sleep 5; exit 98'
expect_status "panic" 243 "$KITE_STATUS"
finish
