# Harness self-test: L1 (or the host, in direct mode) has a usable /dev/kvm,
# the scenario environment is complete, and an L2 initramfs can be built.
# Needs nothing from kite, so it proves the harness before kite boots guests.
# harness: timeout=120
. "$REPO/tests/harness/lib.sh"

uname -a
ls -l /dev/kvm /dev/iommu 2>&1

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	ok "kvm-device" "/dev/kvm is a usable character device"
else
	not_ok "kvm-device" "/dev/kvm missing or not accessible"
fi
if [ "${HARNESS_MODE:-}" = nested ]; then
	# Built into the test kernel (CONFIG_IOMMUFD); the iommufd scenarios need it.
	if [ -c /dev/iommu ]; then ok "iommufd-device"; else not_ok "iommufd-device" "/dev/iommu missing"; fi
	if grep -qw svm /proc/cpuinfo; then ok "l1-svm" "SVM exposed to L1"; else not_ok "l1-svm" "no svm flag in L1"; fi
fi

env_ok=1
for v in REPO BUILD KITE KERNEL WORK; do
	eval "val=\${$v:-}"
	case "$val" in
	/*) ;;
	*)
		echo "$v='$val' is not an absolute path"
		env_ok=0
		;;
	esac
done
[ "$(pwd)" = "$REPO" ] || { echo "cwd $(pwd) is not REPO $REPO"; env_ok=0; }
[ -f "$KERNEL" ] || { echo "KERNEL $KERNEL missing"; env_ok=0; }
if [ "$env_ok" = 1 ]; then ok "environment" "REPO=$REPO KERNEL=$KERNEL"; else not_ok "environment"; fi

if echo test >"$WORK/probe" && [ "$(cat "$WORK/probe")" = test ]; then
	ok "work-writable" "$WORK"
else
	not_ok "work-writable" "$WORK"
fi

if mk_l2_initramfs "$WORK/initrd.gz" 'echo hello' &&
	gzip -dc "$WORK/initrd.gz" | cpio -t 2>/dev/null | grep -qx 'bin/kite-guestctl'; then
	ok "mkinitramfs" "$(wc -c <"$WORK/initrd.gz") bytes"
else
	not_ok "mkinitramfs"
fi

finish
