#!/bin/bash
# Control API (docs/api.md), three L2 boots in one L1:
#  1. pre-boot: kite started with only --api-socket; configure (kernel, initrd, memory, a disk
#     and a tap both handed over with add-fd), boot, the boot event, info, then shutdown
#     presses the ACPI power button and the guest powers off: exit 0.
#  2. pause 2 s / resume: the guest's loop counter does not advance while paused.
#  3. 16 clients loop info while the guest boots, with a garbage client, a 10 MiB line, a
#     client that never reads and one of another UID: good clients all answered, clean exit.
# harness: timeout=600
. "$REPO/tests/harness/lib.sh"
TOOL=$REPO/tests/harness/api-tool.py
CTL() { "$KITE" ctl "$@"; }

# Waits up to $2 s for socket $1.
wait_sock() {
	for _ in $(seq $(($2 * 10))); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}

# ---- 1. pre-boot configuration, fds, boot event, info, ACPI shutdown ----
S1=$WORK/api1.sock
img=$WORK/api-disk.img
head -c 1M /dev/urandom >"$img"
dsum=$(head -c 65536 "$img" | sha256sum | cut -d' ' -f1)
ip tuntap add dev kapi0 mode tap vnet_hdr 2>/dev/null || true
mk_l2_initramfs "$WORK/api1.cpio.gz" 'echo "DSUM=$(head -c 65536 /dev/vda | sha256sum | cut -d" " -f1)"
ip link set eth0 up && echo "NET=$(cat /sys/class/net/eth0/address)"
mkdir -p /etc/acpi/PWRF
printf "#!/bin/sh\necho ACPI-POWER-BUTTON\npoweroff -f\n" >/etc/acpi/PWRF/00000080
chmod +x /etc/acpi/PWRF/00000080
acpid -f -d -c /etc/acpi &
sleep 1
kite-guestctl boot-done
echo READY
sleep 300; exit 97'
"$KITE" run --api-socket "$S1" --log-level info >"$WORK/api1.out" 2>"$WORK/api1.err" &
kpid=$!
wait_sock "$S1" 10 || not_ok "api socket appears"
[ "$(stat -c %a "$S1")" = 600 ] && ok "socket mode 0600" || not_ok "socket mode 0600" "$(stat -c %a "$S1")"
CTL "$S1" info >"$WORK/i0" && grep -q '"state":"pre-boot"' "$WORK/i0" && ok "pre-boot state" ||
	not_ok "pre-boot state" "$(cat "$WORK/i0")"
CTL "$S1" pause >"$WORK/e0"
[ $? = 1 ] && grep -q '"wrong-state"' "$WORK/e0" && ok "pause refused before boot" ||
	not_ok "pause refused before boot" "$(cat "$WORK/e0")"
CTL "$S1" add-fd '{"name":"disk0"}' --fd 5 5<"$img" >/dev/null && ok "add-fd disk" || not_ok "add-fd disk"
python3 "$TOOL" tap-fd "$S1" "$KITE" net0 kapi0 >/dev/null && ok "add-fd tap" || not_ok "add-fd tap"
cfg=$(printf '{"kernel":"%s","initrd":"%s","cmdline":"console=ttyS0 quiet panic=-1","memory":"256M","serial":"file:%s","timeout":200,"disk":[{"fd":"disk0","readonly":true}],"net":[{"fd":"net0","mac":"52:54:00:00:0a:01"}]}' \
	"$KERNEL" "$WORK/api1.cpio.gz" "$WORK/api1.serial")
CTL "$S1" configure '{"memory":"12Q"}' >"$WORK/e1"
grep -q "invalid memory size '12Q' (use e.g. 512M or 2G)" "$WORK/e1" && ok "configure quotes the CLI's message" ||
	not_ok "configure quotes the CLI's message" "$(cat "$WORK/e1")"
CTL "$S1" configure "$cfg" >/dev/null && ok "configure" || not_ok "configure"
t0=$(now_ms)
CTL "$S1" boot --wait boot --timeout 120 >"$WORK/boot1"
st=$?
t1=$(now_ms)
[ $st = 0 ] && grep -q '"event":"boot"' "$WORK/boot1" && ok "boot reply and boot event" "$((t1 - t0)) ms" ||
	not_ok "boot reply and boot event" "$(cat "$WORK/boot1")"
CTL "$S1" info >"$WORK/i1"
cat "$WORK/i1"
grep -q '"state":"running"' "$WORK/i1" && ok "info: running" || not_ok "info: running"
grep -q '"name":"virtio-blk fd=disk0","pci":"0000:00:0[0-9a-f].0"' "$WORK/i1" && ok "info: disk with PCI address" ||
	not_ok "info: disk with PCI address"
grep -q '"name":"virtio-net kapi0","pci":"0000:00:0[0-9a-f].0"' "$WORK/i1" && ok "info: tap from fd" ||
	not_ok "info: tap from fd"
grep -q '"fds":\["disk0","net0"\]' "$WORK/i1" && ok "info: fd names" || not_ok "info: fd names"
CTL "$S1" metrics >"$WORK/m1"
cat "$WORK/m1"
blkreq=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["result"]["devices"]; print([x for x in d if "blk" in x["name"]][0]["requests"])' "$WORK/m1")
[ "${blkreq:-0}" -gt 0 ] && ok "metrics: disk requests counted" "$blkreq" || not_ok "metrics: disk requests counted"
CTL "$S1" shutdown --wait shutdown --timeout 60 >"$WORK/sd1"
cat "$WORK/sd1"
grep -q '"event":"shutdown","data":{"exit_code":0,"reason":"poweroff"}' "$WORK/sd1" && ok "shutdown event: exit 0 poweroff" ||
	not_ok "shutdown event: exit 0 poweroff"
wait $kpid
expect_status "ACPI power button powers the guest off" 0 $?
sed 's/^/  l2| /' "$WORK/api1.serial"
sed 's/^/  kite| /' "$WORK/api1.err"
expect_output "disk read through the handed-in fd" "$WORK/api1.serial" "^DSUM=$dsum"
expect_output "tap handed in as fd" "$WORK/api1.serial" '^NET=52:54:00:00:0a:01'
expect_output "guest's acpid saw the power button" "$WORK/api1.serial" '^ACPI-POWER-BUTTON'
[ -e "$S1" ] && not_ok "socket removed at exit" || ok "socket removed at exit"

# ---- 2. pause / resume ----
S2=$WORK/api2.sock
mk_l2_initramfs "$WORK/api2.cpio.gz" 'i=0; while :; do i=$((i+1)); echo "TICK $i"; usleep 20000; done'
"$KITE" run --api-socket "$S2" --kernel "$KERNEL" --initrd "$WORK/api2.cpio.gz" \
	--cmdline "console=ttyS0 quiet panic=-1" --serial "file:$WORK/api2.serial" --timeout 200 \
	2>"$WORK/api2.err" &
kpid=$!
wait_sock "$S2" 10
last_tick() { grep -ao 'TICK [0-9]*' "$WORK/api2.serial" | tail -n 1 | cut -d' ' -f2; }
for _ in $(seq 600); do [ "$(last_tick)" -ge 20 ] 2>/dev/null && break; sleep 0.2; done
CTL "$S2" pause >/dev/null && ok "pause" || not_ok "pause"
sleep 0.2
n1=$(last_tick)
CTL "$S2" info | grep -q '"state":"paused"' && ok "info: paused" || not_ok "info: paused"
sleep 2
n2=$(last_tick)
[ -n "$n1" ] && [ "$n1" = "$n2" ] && ok "no progress while paused" "tick $n1 -> $n2" ||
	not_ok "no progress while paused" "tick $n1 -> $n2"
CTL "$S2" resume >/dev/null && ok "resume" || not_ok "resume"
sleep 2
n3=$(last_tick)
[ "${n3:-0}" -gt "${n2:-0}" ] && ok "progress after resume" "tick $n2 -> $n3" ||
	not_ok "progress after resume" "tick $n2 -> $n3"
CTL "$S2" kill >/dev/null
wait $kpid
expect_status "kill exits 240" 240 $?
sed 's/^/  kite| /' "$WORK/api2.err"
expect_output "kill reason" "$WORK/api2.err" '^kite: exit: api-kill status=240'

# ---- 3. 16 clients, garbage, a 10 MiB line, a client that never reads, another UID ----
S3=$WORK/api3.sock
mk_l2_initramfs "$WORK/api3.cpio.gz" 'kite-guestctl boot-done; echo GUEST-UP; sleep 3; poweroff -f; exit 97'
"$KITE" run --api-socket "$S3" --kernel "$KERNEL" --initrd "$WORK/api3.cpio.gz" \
	--cmdline "console=ttyS0 quiet panic=-1" --serial "file:$WORK/api3.serial" --timeout 200 \
	2>"$WORK/api3.err" &
kpid=$!
wait_sock "$S3" 10
CTL "$S3" info --wait boot --timeout 150 >"$WORK/boot3" &
bw=$!
pids=
for c in $(seq 16); do
	CTL "$S3" info --repeat 100 --timeout 150 >"$WORK/c$c.out" 2>&1 &
	pids="$pids $!"
done
python3 "$TOOL" garbage "$S3" >"$WORK/garbage.out" 2>&1 &
gp=$!
python3 "$TOOL" bigline "$S3" $((10 << 20)) >"$WORK/big.out" 2>&1 &
bp=$!
python3 "$TOOL" noread "$S3" 20000 >"$WORK/noread.out" 2>&1 &
np=$!
python3 "$TOOL" peercred "$S3" 65534 >"$WORK/peer.out" 2>&1
pc=$?
good=0
for p in $pids; do wait "$p" && good=$((good + 1)); done
[ $good = 16 ] && ok "16 clients, 100 info replies each" || not_ok "16 clients, 100 info replies each" "$good good"
for c in 1 16; do cat "$WORK/c$c.out" | head -c 300; echo; done
wait $gp && ok "garbage refused, then served" || not_ok "garbage client" "$(cat "$WORK/garbage.out")"
wait $bp && ok "10 MiB line closes that connection" || not_ok "10 MiB line" "$(cat "$WORK/big.out")"
wait $np && ok "non-reading client dropped" || not_ok "non-reading client" "$(cat "$WORK/noread.out")"
[ $pc = 0 ] && ok "other UID refused" || not_ok "other UID refused" "$(cat "$WORK/peer.out")"
wait $bw && grep -q '"event":"boot"' "$WORK/boot3" && ok "guest booted (boot event)" || not_ok "guest booted"
wait $kpid
expect_status "clean exit after the storm" 0 $?
sed 's/^/  kite| /' "$WORK/api3.err"
expect_output "guest up" "$WORK/api3.serial" '^GUEST-UP'
expect_output "peer refusal logged" "$WORK/api3.err" 'refused a client with uid 65534'
finish
