# VFIO passthrough of an e1000e NIC to L2 over iommufd (L1 has QEMU's VT-d and two e1000e on
# one QEMU-internal hub): NIC A is bound to vfio-pci and given to kite with --vfio bdf=; L2's
# e1000e driver comes up on MSI-X, pings L1's address on NIC B and sends 100 MB to L1 with a
# matching sha256. Twice in a row, once more after SIGKILLing kite mid-run, then the fd-passing
# form (--iommufd fd= + --vfio fd=, opened by this shell). Addresses are link-local.
# harness: intel-iommu=on nics=2 timeout=2400
. "$REPO/tests/harness/lib.sh"

l1_nic_pair 169.254.88.1/24 || finish

l2_script='ip link set eth0 up && ip addr add 169.254.88.2/24 dev eth0 || exit 10
i=0; while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 60 ]; do
	sleep 0.5; i=$((i + 1)); done
echo "LINK=$(cat /sys/class/net/eth0/carrier) after $i"
grep -E "eth0" /proc/interrupts
grep -Eq "PCI-MSIX.*eth0" /proc/interrupts && echo MSIX=ok
[ -n "$KEEP" ] && { echo UP; sleep 600; }
ping -c 3 -W 5 169.254.88.1 && echo PING=ok
mkdir -p /www && dd if=/dev/urandom of=/www/blob bs=1M count=100 2>/dev/null
echo "SUM=$(sha256sum /www/blob | cut -d" " -f1)"
httpd -p 169.254.88.2:8080 -h /www
timeout 300 nc -l -p 9001 >/dev/null
echo FETCHED
poweroff -f'

nic_run() { # NAME [KITE ARGS...]
	_name=$1
	shift
	l1_fetch_blob http://169.254.88.2:8080/blob 169.254.88.2 9001 600
	t0=$(now_ms)
	run_l2 "$l2_script" --memory 512M --timeout 900 "$@"
	wait "$FETCH_PID" 2>/dev/null
	expect_status "$_name: guest powers off" 0 "$KITE_STATUS"
	expect_output "$_name: link up" "$KITE_SERIAL" '^LINK=1'
	expect_output "$_name: e1000e on MSI-X" "$KITE_SERIAL" '^MSIX=ok'
	expect_output "$_name: ping L1 on NIC B" "$KITE_SERIAL" '^PING=ok'
	l2sum=$(sed -n 's/^SUM=//p' "$KITE_SERIAL")
	l1sum=$(cat "$WORK/l1sum" 2>/dev/null)
	if [ -n "$l2sum" ] && [ "$l2sum" = "$l1sum" ]; then
		ok "$_name: 100 MB L2 -> L1, sha256 matches" "$l1sum, $(($(now_ms) - t0)) ms run"
	else
		not_ok "$_name: 100 MB L2 -> L1, sha256 matches" "L2 '$l2sum' L1 '$l1sum'; wget: $(cat "$WORK/wget.err" 2>/dev/null)"
	fi
	[ "$(pci_driver "$nic_a")" = vfio-pci ] && ok "$_name: $nic_a still on vfio-pci" ||
		not_ok "$_name: $nic_a still on vfio-pci"
}

nic_run "run 1" --vfio "bdf=$nic_a" --log-level info
# Everything after builds on a working first run.
[ "$HARNESS_FAILED" -eq 0 ] || finish
nic_run "run 2" --vfio "bdf=$nic_a"

# SIGKILL mid-run: L2 brings the NIC up and waits; kite dies without cleaning up.
mk_l2_initramfs "$WORK/keep.cpio.gz" "KEEP=1
$l2_script"
"$KITE" run --kernel "$KERNEL" --initrd "$WORK/keep.cpio.gz" --cmdline "$L2_CMDLINE" \
	--memory 512M --serial "file:$WORK/keep.serial" --timeout 600 --vfio "bdf=$nic_a" \
	2>"$WORK/keep.stderr" &
kpid=$!
i=0
while ! grep -q '^UP' "$WORK/keep.serial" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 1
	i=$((i + 1))
done
grep -q '^UP' "$WORK/keep.serial" && ok "SIGKILL run: NIC up in L2" || not_ok "SIGKILL run: NIC up in L2"
kill -KILL "$kpid"
wait "$kpid"
expect_status "SIGKILL run: kite killed" 137 "$?"
nic_run "after SIGKILL" --vfio "bdf=$nic_a"

# fd passing: this shell opens /dev/iommu and the cdev; kite inherits them.
exec 7<>/dev/iommu 8<>"$cdev"
nic_run "fd passing" --iommufd fd=7 --vfio fd=8
exec 7>&- 8>&-
finish
