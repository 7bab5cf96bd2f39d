# On a terminal, kite puts stdin in raw mode while the guest runs and restores it on every
# exit path: SIGTERM, --timeout, and a guest exit. Runs kite under script(1) for a pty.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
mk_l2_initramfs "$WORK/t.cpio.gz" 'sleep 1000' || { not_ok "initramfs"; finish; }
mk_l2_initramfs "$WORK/q.cpio.gz" 'kite-guestctl exit 5' || { not_ok "initramfs"; finish; }
args="--kernel $KERNEL --cmdline console=ttyS0\\ quiet --memory 256M"
cat >"$WORK/term.sh" <<EOS
stty -g >"$WORK/before"
# Asynchronous lists get /dev/null as stdin unless redirected: give kite the pty.
$KITE run $args --initrd $WORK/t.cpio.gz --timeout 120 </dev/tty >"$WORK/out1" 2>&1 &
pid=\$!
i=0
while [ "\$(stty -g)" = "\$(cat $WORK/before)" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
stty -g >"$WORK/during"
kill -TERM \$pid
wait \$pid
echo \$? >"$WORK/rc-term"
stty -g >"$WORK/after-term"
$KITE run $args --initrd $WORK/t.cpio.gz --timeout 4 >"$WORK/out2" 2>&1
echo \$? >"$WORK/rc-timeout"
stty -g >"$WORK/after-timeout"
$KITE run $args --initrd $WORK/q.cpio.gz --timeout 120 >"$WORK/out3" 2>&1
echo \$? >"$WORK/rc-guest"
stty -g >"$WORK/after-guest"
EOS
script -qec "sh $WORK/term.sh" /dev/null >/dev/null 2>&1
before=$(cat "$WORK/before" 2>/dev/null)
[ -n "$before" ] || { not_ok "script(1) ran the test" "no terminal state recorded"; finish; }
if [ "$(cat "$WORK/during")" != "$before" ]; then ok "raw mode while the guest runs"; else not_ok "raw mode while the guest runs"; fi
expect_status "SIGTERM exit status" 240 "$(cat "$WORK/rc-term")"
expect_status "timeout exit status" 244 "$(cat "$WORK/rc-timeout")"
expect_status "guest exit status" 5 "$(cat "$WORK/rc-guest")"
for how in term timeout guest; do
	if [ "$(cat "$WORK/after-$how")" = "$before" ]; then
		ok "terminal restored after $how"
	else
		not_ok "terminal restored after $how" "$(cat "$WORK/after-$how") != $before"
	fi
done
finish
