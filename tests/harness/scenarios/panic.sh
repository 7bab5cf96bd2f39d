# A guest kernel panic (sysrq c) reported through pvpanic gives status 243.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
run_l2 'echo c >/proc/sysrq-trigger; sleep 5; exit 98'
expect_status "panic" 243 "$KITE_STATUS"
# pvpanic fires from the first panic notifier, before the guest has printed all it has to
# say: kite must let the console drain, so the whole report is in the log. x86's
# "Kernel Offset:" line comes from a later panic notifier, so it shows only after a drain.
expect_output "the panic message reached the console" "$KITE_SERIAL" 'Kernel panic - not syncing'
expect_output "output after the pvpanic write reached the console" "$KITE_SERIAL" 'Kernel Offset:'
expect_status "kite's reason is panic" panic "$KITE_REASON"
finish
