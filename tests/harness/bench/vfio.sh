#!/bin/bash
# VFIO passthrough benchmark: an e1000e of L1 (QEMU's VT-d, two e1000e on one QEMU-internal
# hub) passed through to the same L2 guest by kite (--vfio bdf=) and by QEMU 10
# (-object iommufd,id=x -device vfio-pci,host=BDF,iommufd=x), alternating runs:
#   link-up  exec -> the guest's eth0 reports carrier (L1 watches the console)  -> ms
#   rtt      ping L1 on NIC B from L2, 100 pings 0.2 s apart, median            -> ms
#   tcp      kite-ioload tcp-client send (L2 -> L1) for NET_SECS against
#            kite-ioload tcp-server on NIC B in L1                               -> Mbit/s
# Ratios are kite/QEMU (throughput >= 1 and RTT, link-up <= 1 are kite's goals).
# BENCH_RUNS=N runs per VMM (default 3), BENCH_NET_SECS (default 10).
# harness: intel-iommu=on nics=2 timeout=2400
. "$REPO/tests/harness/lib.sh"
RUNS=${BENCH_RUNS:-3}
NET_SECS=${BENCH_NET_SECS:-10}
IOLOAD=$BUILD/guest/kite-ioload
PORT=5201

nics=$(l1_pci_find 8086 10d3)
nic_a=$(echo "$nics" | sed -n 1p)
nic_b=$(echo "$nics" | sed -n 2p)
if_b=$(ls "/sys/bus/pci/devices/$nic_b/net" 2>/dev/null | head -n1)
[ -n "$nic_a" ] && [ -n "$if_b" ] || { echo "bench: need two e1000e in L1 ($nics)"; exit 1; }
ip addr add 169.254.89.1/24 dev "$if_b"
ip link set "$if_b" up
pci_bind_vfio "$nic_a" >/dev/null || exit 1

initrd=$WORK/vfio-bench.cpio.gz
mk_l2_initramfs "$initrd" "ip link set eth0 up && ip addr add 169.254.89.2/24 dev eth0 || exit 10
i=0; while [ \"\$(cat /sys/class/net/eth0/carrier 2>/dev/null)\" != 1 ] && [ \$i -lt 600 ]; do
	sleep 0.05; i=\$((i + 1)); done
echo KITE-BENCH linkup
ping -c 3 -W 5 169.254.89.1 >/dev/null
ping -c 100 -i 0.2 169.254.89.1 | sed -n 's/.*time=\([0-9.]*\) ms/KITE-BENCH rtt \1/p'
kite-ioload tcp-client 169.254.89.1 $PORT send $NET_SECS || exit 13
echo KITE-BENCH done
poweroff -f; sleep 5; exit 97" "$IOLOAD:/bin/kite-ioload" || exit 1

med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) printf "%.2f", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; else print "n/a"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "n/a" }'; }

# one NAME CMD...: a boot with a tcp-server in L1; link-up time from the console.
one() {
	local name=$1 vm srv t0 link=
	shift
	"$IOLOAD" tcp-server 169.254.89.1 "$PORT" "$NET_SECS" 1 >"$WORK/$name.server" 2>&1 &
	srv=$!
	: >"$WORK/$name.raw"
	t0=$(now_ms)
	timeout -k 5 600 "$@" </dev/null >"$WORK/$name.raw" 2>"$WORK/$name.err" &
	vm=$!
	while kill -0 "$vm" 2>/dev/null; do
		if [ -z "$link" ] && grep -aq 'KITE-BENCH linkup' "$WORK/$name.raw"; then
			link=$(($(now_ms) - t0))
		fi
		sleep 0.1
	done
	wait "$vm"
	[ -n "$link" ] || grep -aq 'KITE-BENCH linkup' "$WORK/$name.raw" && link=${link:-n/a}
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	sed 's/\r$//; s/^/  l2| /' "$WORK/$name.raw" | grep -v 'KITE-BENCH rtt'
	sed 's/^/  vmm| /' "$WORK/$name.err"
	sed 's/^/  l1-server| /' "$WORK/$name.server"
	LINK=${link:-n/a}
	RTT=$(med $(sed -n 's/^KITE-BENCH rtt \([0-9.]*\).*/\1/p' "$WORK/$name.raw" | tr -d '\r'))
	TCP=$(sed -n 's/.*side=server dir=from-guest .* mbit=\([0-9.]*\).*/\1/p' "$WORK/$name.server" | tail -n1)
	echo "bench: $name: link-up ${LINK} ms, rtt ${RTT} ms, tcp ${TCP:-n/a} Mbit/s"
}

k_link= k_rtt= k_tcp= q_link= q_rtt= q_tcp=
for r in $(seq "$RUNS"); do
	one "kite-$r" "$KITE" run --kernel "$KERNEL" --initrd "$initrd" --cmdline "$L2_CMDLINE" \
		--memory 512M --serial stdio --vfio "bdf=$nic_a"
	k_link="$k_link $LINK" k_rtt="$k_rtt $RTT" k_tcp="$k_tcp $TCP"
	one "qemu-$r" qemu-system-x86_64 -M q35 -accel kvm -cpu host -m 512M -smp 1 -nodefaults \
		-no-user-config -display none -serial stdio -no-reboot -kernel "$KERNEL" \
		-append "$L2_CMDLINE" -initrd "$initrd" -object iommufd,id=x \
		-device "vfio-pci,host=$nic_a,iommufd=x"
	q_link="$q_link $LINK" q_rtt="$q_rtt $RTT" q_tcp="$q_tcp $TCP"
done
echo "kite: link-up$k_link / rtt$k_rtt / tcp$k_tcp"
echo "qemu: link-up$q_link / rtt$q_rtt / tcp$q_tcp"
kl=$(med $k_link) ql=$(med $q_link) kr=$(med $k_rtt) qr=$(med $q_rtt) kt=$(med $k_tcp) qt=$(med $q_tcp)
echo "| vfio metric (median of $RUNS runs) | kite | QEMU 10 | kite/QEMU |"
echo "|---|---|---|---|"
echo "| exec -> L2 eth0 carrier (ms) | $kl | $ql | $(ratio "$kl" "$ql") |"
echo "| ping RTT L2 -> L1, median of 100 (ms) | $kr | $qr | $(ratio "$kr" "$qr") |"
echo "| TCP L2 -> L1, ${NET_SECS} s (Mbit/s) | $kt | $qt | $(ratio "$kt" "$qt") |"
pci_bind_driver "$nic_a" e1000e
