# make demo's guest: the default microVM (test kernel, busybox initramfs) says
# hello, shows uname and nproc, and powers off. Run by tests/harness/demo.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"

mk_l2_initramfs "$WORK/demo.cpio.gz" '
echo
echo "Hello from a kite microVM!"
uname -a
echo "cpus: $(nproc)"
poweroff -f' || exit 125
echo "demo: $KITE run --kernel $KERNEL --initrd demo.cpio.gz --memory 256M --cpus 2"
"$KITE" run --kernel "$KERNEL" --initrd "$WORK/demo.cpio.gz" --cmdline "console=ttyS0 quiet panic=-1" \
	--memory 256M --cpus 2 --serial stdio --timeout 120 </dev/null
status=$?
echo "demo: kite exited with status $status"
exit "$status"
