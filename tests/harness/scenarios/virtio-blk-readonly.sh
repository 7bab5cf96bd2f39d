# virtio-blk with readonly=on: writes fail inside the guest and the image is unchanged.
# harness: timeout=300
. "$REPO/tests/harness/lib.sh"
img=$WORK/ro.img
dd if=/dev/urandom of="$img" bs=64k count=64 2>/dev/null
before=$(sha256sum "$img" | cut -d' ' -f1)

run_l2 'cat /sys/block/vda/ro
if dd if=/dev/zero of=/dev/vda bs=4k count=1 conv=fsync 2>/dev/null; then echo WRITE=ok; else echo WRITE=failed; fi
echo "READ=$(dd if=/dev/vda bs=64k count=64 2>/dev/null | sha256sum | cut -d" " -f1)"
poweroff -f' --disk "path=$img,readonly=on"
expect_status "guest powers off" 0 "$KITE_STATUS"
expect_output "write refused in the guest" "$KITE_SERIAL" '^WRITE=failed'
expect_output "guest reads the image" "$KITE_SERIAL" "^READ=$before"
after=$(sha256sum "$img" | cut -d' ' -f1)
if [ "$before" = "$after" ]; then
	ok "image unchanged" "$after"
else
	not_ok "image unchanged" "before $before, after $after"
fi

# A missing image is refused before the guest starts, with the device exit code.
run_kite --disk "path=$WORK/missing.img" --timeout 30
expect_status "missing image refused" 248 "$KITE_STATUS"
expect_output "error names the image" "$KITE_STDERR" 'missing\.img'
finish
