# Helpers for harness scenarios: . "$REPO/tests/harness/lib.sh"   (POSIX sh)
#
# Environment (set by tests/harness/run): REPO BUILD KITE KERNEL WORK.
#
#   mk_l2_initramfs OUT SCRIPT [SRC[:DEST]...]
#       Build an L2 initramfs (tests/harness/mkinitramfs): busybox,
#       kite-guestctl, SCRIPT (a file or a string of shell commands) run by
#       /init, whose status is reported with `kite-guestctl exit $?`.
#
#   run_kite [KITE RUN ARGS...]
#       Run `$KITE run ARGS`, adding each of these defaults the caller did not
#       give: --kernel "$KERNEL", --cmdline "$L2_CMDLINE", --memory
#       "$L2_MEMORY", --serial stdio, --timeout "$L2_TIMEOUT". With --serial
#       stdio the guest console streams into the log ("  l2| " prefix) and is
#       saved (CRs dropped); kite's stderr is printed after it ("  kite| ").
#       A backstop kills kite L2_TIMEOUT+15 s after its own timeout should have
#       fired. Sets:
#         KITE_STATUS  kite's exit status (127: kite missing, 124: backstop)
#         KITE_REASON  the reason from kite's last "kite: exit: REASON status=N"
#         KITE_SERIAL  file with the guest console (stdio serial only)
#         KITE_STDERR  file with kite's stderr
#         KITE_MS      wall time from exec of kite to its exit, in ms
#       Always returns 0, so it is safe under set -e.
#
#   run_l2 SCRIPT [KITE RUN ARGS...]
#       mk_l2_initramfs into $WORK, then run_kite --initrd it with ARGS.
#
#   expect_status NAME EXPECTED ACTUAL
#   expect_output NAME FILE REGEX        (grep -E on FILE)
#   expect_no_output NAME FILE REGEX
#   expect_le NAME MAX ACTUAL [UNIT]     (integers)
#   ok NAME [DETAIL] / not_ok NAME [DETAIL]
#       Each prints one line, "ok: NAME ..." or "not ok: NAME ...", and counts it.
#
#   finish
#       Print "N checks, M failed" and exit 0 if none failed (and at least one
#       ran), else 1. End every scenario with it.
#
#   now_ms   print a monotonic-ish wall clock in ms (date +%s%N)
#
#   l1_nic_pair ADDR/PREFIX
#       The passthrough set-up of an L1 with two e1000e (header nics=2): sets nic_a and
#       nic_b (their BDFs), if_b (NIC B's netdev, given ADDR/PREFIX and brought up) and
#       cdev (NIC A bound to vfio-pci: its VFIO cdev). Each failure is one not_ok and
#       a non-zero return; on success one ok line names them.
#
#   l1_fetch_blob URL NOTIFY_HOST NOTIFY_PORT [WGET_TIMEOUT]
#       In the background: fetch URL from the L2 into $WORK/recv (retrying each second
#       for up to 300 tries while the guest starts serving it; each wget bounded by
#       WGET_TIMEOUT s, default 600), write its sha256 to $WORK/l1sum (errors in
#       $WORK/wget.err), then send "done" to NOTIFY_HOST:NOTIFY_PORT so the guest moves
#       on. Sets FETCH_PID (wait for it after the guest exits).
#
#   run_qemu_l2 [QEMU ARGS...]
#       The peer VMM for baselines: boot $KERNEL as L2 under QEMU/KVM in L1
#       (q35, -cpu host, 1 vCPU, $L2_MEMORY, isa-debug-exit at 0x501, console
#       on stdio, kernel command line $QEMU_CMDLINE, default $L2_CMDLINE) with
#       ARGS appended (an -initrd, -device ...). Presets, set before the call:
#         QEMU_PEER_VTD=1        -device intel-iommu,caching-mode=on,intremap=on,
#                                aw-bits=48 (kernel-irqchip=split, as QEMU needs)
#         QEMU_PEER_VFIO="BDF.." -object iommufd + -device vfio-pci,host=BDF,iommufd=
#                                per BDF (bind them first with pci_bind_vfio)
#       Sets QEMU_STATUS (the guest's debug-exit status N decoded from QEMU's
#       (N << 1) | 1; QEMU's own status if the guest did not write it, e.g. 124
#       on timeout), QEMU_SERIAL (console file), QEMU_MS. Returns 0.
#
#   pci_bind_vfio BDF          bind an L1 PCI device to vfio-pci (driver_override);
#                              prints its VFIO cdev, /dev/vfio/devices/vfioN
#   pci_bind_driver BDF DRV    give it back to DRV (e.g. e1000e); "" = no driver
#   pci_driver BDF             print the bound driver's name (empty if none)
#   l1_pci_find VENDOR DEVICE  print the BDFs of L1 devices with these ids (hex)

: "${REPO:?REPO not set: run scenarios through tests/harness/run}"
: "${BUILD:=$REPO/build}"
: "${KITE:=$BUILD/kite}"
: "${WORK:=${TMPDIR:-/tmp}}"
: "${L2_CMDLINE:=console=ttyS0 quiet panic=-1}"
: "${L2_MEMORY:=256M}"
: "${L2_TIMEOUT:=120}"

HARNESS_CHECKS=0
HARNESS_FAILED=0
_kite_runs=0

now_ms() { echo $(($(date +%s%N) / 1000000)); }

l1_nic_pair() {
	_nics=$(l1_pci_find 8086 10d3)
	nic_a=$(echo "$_nics" | sed -n 1p)
	nic_b=$(echo "$_nics" | sed -n 2p)
	[ -n "$nic_a" ] && [ -n "$nic_b" ] || { not_ok "two e1000e NICs in L1" "found: $_nics"; return 1; }
	if_b=$(ls "/sys/bus/pci/devices/$nic_b/net" 2>/dev/null | head -n1)
	[ -n "$if_b" ] || { not_ok "NIC B has a netdev" "$nic_b"; return 1; }
	ip addr add "$1" dev "$if_b"
	ip link set "$if_b" up
	cdev=$(pci_bind_vfio "$nic_a") || { not_ok "bind $nic_a to vfio-pci"; return 1; }
	ok "NIC A $nic_a on vfio-pci ($cdev), NIC B $nic_b is $if_b"
}

l1_fetch_blob() {
	rm -f "$WORK/recv" "$WORK/l1sum"
	(
		_i=0
		while [ $_i -lt 300 ]; do
			# (busybox 1.35's wget crashes on -T: bound it with timeout instead)
			timeout "${4:-600}" busybox wget -q -O "$WORK/recv" "$1" 2>"$WORK/wget.err" &&
				break
			sleep 1
			_i=$((_i + 1))
		done
		sha256sum "$WORK/recv" 2>/dev/null | cut -d' ' -f1 >"$WORK/l1sum"
		echo done | busybox nc "$2" "$3"
	) &
	FETCH_PID=$!
}

ok() {
	HARNESS_CHECKS=$((HARNESS_CHECKS + 1))
	echo "ok: $1${2:+ ($2)}"
}

not_ok() {
	HARNESS_CHECKS=$((HARNESS_CHECKS + 1))
	HARNESS_FAILED=$((HARNESS_FAILED + 1))
	echo "not ok: $1${2:+ ($2)}"
}

expect_status() {
	if [ "$3" = "$2" ]; then
		ok "$1" "status $3"
	else
		not_ok "$1" "expected status $2, got $3${KITE_REASON:+, kite reason '$KITE_REASON'}"
	fi
}

expect_output() {
	if ! [ -f "$2" ]; then
		not_ok "$1" "no output file $2"
	elif grep -Eq -- "$3" "$2"; then
		ok "$1" "/$3/ in $(basename "$2")"
	else
		not_ok "$1" "/$3/ not found in $2"
	fi
}

expect_no_output() {
	if ! [ -f "$2" ]; then
		not_ok "$1" "no output file $2"
	elif grep -Eq -- "$3" "$2"; then
		not_ok "$1" "/$3/ found in $2: $(grep -E -m1 -- "$3" "$2")"
	else
		ok "$1" "/$3/ absent from $(basename "$2")"
	fi
}

expect_le() {
	case "$3" in '' | *[!0-9]*)
		not_ok "$1" "not a number: '$3'"
		return 0
		;;
	esac
	if [ "$3" -le "$2" ]; then
		ok "$1" "$3${4:-} <= $2${4:-}"
	else
		not_ok "$1" "$3${4:-} > $2${4:-}"
	fi
}

finish() {
	echo "$HARNESS_CHECKS checks, $HARNESS_FAILED failed"
	[ "$HARNESS_FAILED" -eq 0 ] && [ "$HARNESS_CHECKS" -gt 0 ] && exit 0
	exit 1
}

mk_l2_initramfs() {
	_out=$1 _script=$2
	shift 2
	# Turn the trailing SRC[:DEST] list into -a options.
	_n=$#
	while [ "$_n" -gt 0 ]; do
		set -- "$@" -a "$1"
		shift
		_n=$((_n - 1))
	done
	"$REPO/tests/harness/mkinitramfs" "$@" "$_out" "$_script"
}

run_kite() {
	_kite_runs=$((_kite_runs + 1))
	_dir=$WORK/kite-run.$_kite_runs
	mkdir -p "$_dir"
	KITE_STDERR=$_dir/stderr
	KITE_SERIAL=
	KITE_STATUS=
	KITE_REASON=
	KITE_MS=
	: >"$KITE_STDERR"

	_has_kernel= _has_cmdline= _has_memory= _has_serial= _has_timeout= _serial=stdio
	_timeout=$L2_TIMEOUT _prev=
	for _a in "$@"; do
		case "$_prev" in
		--serial) _serial=$_a ;;
		--timeout) _timeout=$_a ;;
		esac
		case "$_a" in
		--kernel | --kernel=*) _has_kernel=1 ;;
		--cmdline | --cmdline=*) _has_cmdline=1 ;;
		--memory | --memory=*) _has_memory=1 ;;
		--serial) _has_serial=1 ;;
		--serial=*) _has_serial=1 _serial=${_a#--serial=} ;;
		--timeout) _has_timeout=1 ;;
		--timeout=*) _has_timeout=1 _timeout=${_a#--timeout=} ;;
		esac
		_prev=$_a
	done
	[ -n "$_has_timeout" ] || set -- --timeout "$L2_TIMEOUT" "$@"
	[ -n "$_has_serial" ] || set -- --serial stdio "$@"
	[ -n "$_has_memory" ] || set -- --memory "$L2_MEMORY" "$@"
	[ -n "$_has_cmdline" ] || set -- --cmdline "$L2_CMDLINE" "$@"
	[ -n "$_has_kernel" ] || set -- --kernel "$KERNEL" "$@"
	case "$_timeout" in '' | *[!0-9]*) _timeout=$L2_TIMEOUT ;; esac

	echo "run_kite: $KITE run $*"
	if ! [ -x "$KITE" ]; then
		echo "run_kite: $KITE is missing or not executable (make?)"
		KITE_STATUS=127
		KITE_REASON=kite-missing
		return 0
	fi

	_t0=$(now_ms)
	if [ "$_serial" = stdio ]; then
		KITE_SERIAL=$_dir/serial
		# The status crosses the pipe through a file; the console streams live.
		{
			timeout -k 5 $((_timeout + 15)) "$KITE" run "$@" </dev/null 2>"$KITE_STDERR"
			echo $? >"$_dir/status"
		} | sed -u 's/\r$//' | tee "$KITE_SERIAL" | sed -u 's/^/  l2| /'
		KITE_STATUS=$(cat "$_dir/status")
	else
		case "$_serial" in file:*) KITE_SERIAL=${_serial#file:} ;; esac
		timeout -k 5 $((_timeout + 15)) "$KITE" run "$@" </dev/null 2>"$KITE_STDERR"
		KITE_STATUS=$?
	fi
	KITE_MS=$(($(now_ms) - _t0))
	sed 's/^/  kite| /' "$KITE_STDERR"
	KITE_REASON=$(sed -n 's/^kite: exit: \([^ ]*\) status=.*/\1/p' "$KITE_STDERR" | tail -n 1)
	case "$KITE_STATUS" in
	124 | 137) [ -n "$KITE_REASON" ] || KITE_REASON=harness-backstop-timeout ;;
	esac
	echo "run_kite: status=$KITE_STATUS reason=${KITE_REASON:-none} time=${KITE_MS}ms"
	return 0
}

run_l2() {
	_l2_script=$1
	shift
	_initrd=$WORK/l2-initrd.$((_kite_runs + 1)).cpio.gz
	if ! mk_l2_initramfs "$_initrd" "$_l2_script"; then
		echo "run_l2: mkinitramfs failed"
		KITE_STATUS=125 KITE_REASON=mkinitramfs-failed KITE_SERIAL= KITE_MS=
		return 0
	fi
	run_kite --initrd "$_initrd" "$@"
}

run_qemu_l2() {
	_kite_runs=$((_kite_runs + 1))
	_dir=$WORK/qemu-run.$_kite_runs
	mkdir -p "$_dir"
	QEMU_SERIAL=$_dir/serial
	QEMU_STATUS=
	QEMU_MS=
	_machine=q35
	set -- "$@"
	if [ "${QEMU_PEER_VTD:-0}" = 1 ]; then
		_machine=q35,kernel-irqchip=split
		# QEMU wants the IOMMU before the other PCI devices.
		set -- -device intel-iommu,caching-mode=on,intremap=on,aw-bits=48 "$@"
	fi
	_n=0
	for _bdf in ${QEMU_PEER_VFIO:-}; do
		[ "$_n" = 0 ] && set -- "$@" -object iommufd,id=kiteifd
		set -- "$@" -device "vfio-pci,host=$_bdf,iommufd=kiteifd"
		_n=$((_n + 1))
	done
	echo "run_qemu_l2: qemu-system-x86_64 -M $_machine ... $*"
	_t0=$(now_ms)
	{
		timeout -k 5 "$L2_TIMEOUT" qemu-system-x86_64 -M "$_machine" -accel kvm -cpu host \
			-m "$L2_MEMORY" -smp 1 -nodefaults -no-user-config -display none -serial stdio \
			-no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 \
			-kernel "$KERNEL" -append "${QEMU_CMDLINE:-$L2_CMDLINE}" "$@" </dev/null 2>&1
		echo $? >"$_dir/status"
	} | sed -u 's/\r$//' | tee "$QEMU_SERIAL" | sed -u 's/^/  l2| /'
	QEMU_MS=$(($(now_ms) - _t0))
	QEMU_STATUS=$(cat "$_dir/status")
	# isa-debug-exit: the guest's N leaves QEMU with (N << 1) | 1.
	if [ "$QEMU_STATUS" != 124 ] && [ "$QEMU_STATUS" != 137 ] && [ $((QEMU_STATUS % 2)) = 1 ]; then
		QEMU_STATUS=$((QEMU_STATUS >> 1))
	fi
	echo "run_qemu_l2: status=$QEMU_STATUS time=${QEMU_MS}ms"
	return 0
}

pci_driver() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
}

pci_bind_driver() {
	_d=/sys/bus/pci/devices/$1
	[ -e "$_d" ] || {
		echo "pci_bind_driver: no PCI device $1" >&2
		return 1
	}
	[ -e "$_d/driver" ] && echo "$1" >"$_d/driver/unbind"
	echo "$2" >"$_d/driver_override"
	[ -n "$2" ] || return 0
	echo "$1" >"/sys/bus/pci/drivers/$2/bind" 2>/dev/null ||
		echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(pci_driver "$1")" = "$2" ] || {
		echo "pci_bind_driver: $1 did not bind to $2" >&2
		return 1
	}
}

pci_bind_vfio() {
	pci_bind_driver "$1" vfio-pci || return 1
	for _c in /sys/bus/pci/devices/"$1"/vfio-dev/vfio*; do
		[ -e "$_c" ] && echo "/dev/vfio/devices/$(basename "$_c")" && return 0
	done
	echo "pci_bind_vfio: $1 has no VFIO cdev (CONFIG_VFIO_DEVICE_CDEV?)" >&2
	return 1
}

l1_pci_find() {
	for _d in /sys/bus/pci/devices/*; do
		[ "$(cat "$_d/vendor")" = "0x$1" ] && [ "$(cat "$_d/device")" = "0x$2" ] && basename "$_d"
	done
	return 0
}

# stats VALUES...: "median min max" for the benchmarks (median of an even count: mean of
# the middle two), with $STATS_DIGITS decimals (default 1); "n/a n/a n/a" for no values.
stats() {
	[ $# -gt 0 ] || {
		echo "n/a n/a n/a"
		return
	}
	printf '%s\n' "$@" | sort -g | awk -v d="${STATS_DIGITS:-1}" '{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			f = "%." d "f %." d "f %." d "f\n"
			printf f, m, v[1], v[NR]
		}'
}
