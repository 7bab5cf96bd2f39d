# vtd-virtio: virtio-blk persistence and a 100 MB virtio-net transfer with both devices behind
# kite's VT-d, first with iommu.strict=1 (an invalidation per unmap), then lazy (flush queue).
# Boot 1 (strict) writes a file and fetches the blob; boot 2 (lazy, a new kite) reads the file
# back and fetches the blob again. Then the bad --iommu inputs. Link-local addresses on a tap
# inside L1: nothing leaves L1.
# harness: timeout=1800
. "$REPO/tests/harness/lib.sh"
tap=ktap0
ip tuntap add dev "$tap" mode tap || { not_ok "create tap"; finish; }
ip addr add 169.254.77.1/24 dev "$tap"
ip link set "$tap" up
mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/blob" bs=1M count=100 2>/dev/null
sum=$(sha256sum "$WORK/www/blob" | cut -d' ' -f1)
busybox httpd -p 169.254.77.1:8080 -h "$WORK/www"
img=$WORK/persist.img
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img"

net='ip link set eth0 up && ip addr add 169.254.77.2/24 dev eth0 || exit 10
echo "SUM=$(wget -q -O - http://169.254.77.1:8080/blob | sha256sum | cut -d" " -f1)"'

L2_CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on iommu.strict=1"
run_l2 "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || exit 11
dd if=/dev/urandom of=/mnt/data bs=64k count=64 2>/dev/null || exit 12
echo \"SUM1=\$(sha256sum /mnt/data | cut -d' ' -f1)\"
sync; umount /mnt || exit 13
$net
dmesg | grep -E 'DMAR.*(fault|Fault|ERROR)' | sed 's/^/BAD: /'
poweroff -f" --iommu vtd --disk "path=$img" --net "tap=$tap" --memory 512M --timeout 900 \
	--log-level info
expect_status "strict-powers-off" 0 "$KITE_STATUS"
expect_output "strict-net-100MB" "$KITE_SERIAL" "^SUM=$sum"
expect_no_output "strict-no-dmar-faults" "$KITE_SERIAL" '^BAD: '
expect_output "strict-exit-line" "$KITE_STDERR" '^kite: vtd: doorbells=[1-9][0-9]* .*iqe=0 faults=0$'
sum1=$(sed -n 's/^SUM1=\([0-9a-f]*\).*/\1/p' "$KITE_SERIAL" | tail -n 1)
strict_doorbells=$(sed -n 's/^kite: vtd: doorbells=\([0-9]*\) .*/\1/p' "$KITE_STDERR")

L2_CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on iommu.strict=0"
run_l2 "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || exit 21
echo \"SUM2=\$(sha256sum /mnt/data | cut -d' ' -f1)\"
umount /mnt
$net
dmesg | grep -E 'DMAR.*(fault|Fault|ERROR)' | sed 's/^/BAD: /'
poweroff -f" --iommu vtd --disk "path=$img" --net "tap=$tap" --memory 512M --timeout 400 \
	--log-level info
expect_status "lazy-powers-off" 0 "$KITE_STATUS"
expect_output "lazy-net-100MB" "$KITE_SERIAL" "^SUM=$sum"
expect_no_output "lazy-no-dmar-faults" "$KITE_SERIAL" '^BAD: '
sum2=$(sed -n 's/^SUM2=\([0-9a-f]*\).*/\1/p' "$KITE_SERIAL" | tail -n 1)
lazy_doorbells=$(sed -n 's/^kite: vtd: doorbells=\([0-9]*\) .*/\1/p' "$KITE_STDERR")
if [ -n "$sum1" ] && [ "$sum1" = "$sum2" ]; then
	ok "blk-persists-behind-vtd" "$sum1"
else
	not_ok "blk-persists-behind-vtd" "first '$sum1', second '$sum2'"
fi
# Lazy mode batches unmaps into flush-queue invalidations: fewer doorbells than strict.
if [ -n "$lazy_doorbells" ] && [ -n "$strict_doorbells" ] &&
	[ "$lazy_doorbells" -lt "$strict_doorbells" ]; then
	ok "lazy-fewer-doorbells" "strict $strict_doorbells, lazy $lazy_doorbells"
else
	not_ok "lazy-fewer-doorbells" "strict '$strict_doorbells', lazy '$lazy_doorbells'"
fi

# Bad input: one line, documented exit codes.
run_kite --iommu vtd,aw=40 --timeout 30
expect_status "aw40-usage" 245 "$KITE_STATUS"
expect_output "aw40-names-field" "$KITE_STDERR" "at 'aw=40'"
run_kite --iommu vtd,colour=blue --timeout 30
expect_status "unknown-field-usage" 245 "$KITE_STATUS"
run_kite --iommu vtd,mode=nested --timeout 30
expect_status "nested-without-host-248" 248 "$KITE_STATUS"
expect_output "nested-names-capability" "$KITE_STDERR" 'ECAP.NEST'
finish
