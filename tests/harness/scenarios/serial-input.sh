# Host stdin reaches the guest through the 8250 UART: the guest reads a line kite forwarded.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
mk_l2_initramfs "$WORK/in.cpio.gz" 'echo GUEST-READY; read -r line; echo "GOT=$line"; kite-guestctl exit 0' ||
	{ not_ok "initramfs"; finish; }
mkfifo "$WORK/stdin"
serial=$WORK/serial-input.out
: >"$serial"
# The writer waits until the guest is reading (the 8250 driver flushes its FIFO when the tty opens).
(
	exec 3>"$WORK/stdin"
	i=0
	while ! grep -q GUEST-READY "$serial" && [ $i -lt 600 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	printf 'hello-from-host\n' >&3
	sleep 120
) &
writer=$!
"$KITE" run --kernel "$KERNEL" --initrd "$WORK/in.cpio.gz" --cmdline "console=ttyS0 quiet panic=-1" \
	--memory 256M --timeout 120 <"$WORK/stdin" >"$serial" 2>"$WORK/serial-input.err"
status=$?
kill "$writer" 2>/dev/null
sed 's/^/  l2| /' "$serial"
sed 's/^/  kite| /' "$WORK/serial-input.err"
expect_status "guest exits 0" 0 "$status"
expect_output "guest read the host's line" "$serial" '^GOT=hello-from-host'
finish
