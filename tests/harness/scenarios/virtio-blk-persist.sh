# virtio-blk: a file written and synced by one guest is read back, bit for bit, by the next.
# harness: timeout=400
. "$REPO/tests/harness/lib.sh"
img=$WORK/persist.img
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img"

# Boot 1: write 4 MiB of random data, print its checksum, sync, power off.
run_l2 'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || exit 10
dd if=/dev/urandom of=/mnt/data bs=64k count=64 2>/dev/null || exit 11
echo "SUM1=$(sha256sum /mnt/data | cut -d" " -f1)"
sync; umount /mnt || exit 12
poweroff -f' --disk "path=$img"
expect_status "first boot powers off" 0 "$KITE_STATUS"
sum1=$(sed -n 's/^SUM1=\([0-9a-f]*\).*/\1/p' "$KITE_SERIAL" | tail -n 1)

# Boot 2: a new kite process on the same image reads the file back.
run_l2 'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || exit 20
echo "SUM2=$(sha256sum /mnt/data | cut -d" " -f1)"
umount /mnt; poweroff -f' --disk "path=$img"
expect_status "second boot powers off" 0 "$KITE_STATUS"
sum2=$(sed -n 's/^SUM2=\([0-9a-f]*\).*/\1/p' "$KITE_SERIAL" | tail -n 1)

if [ -n "$sum1" ] && [ "$sum1" = "$sum2" ]; then
	ok "checksum survives a restart" "$sum1"
else
	not_ok "checksum survives a restart" "first '$sum1', second '$sum2'"
fi
finish
