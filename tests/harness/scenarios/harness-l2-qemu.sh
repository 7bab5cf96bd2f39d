# Harness self-test, L2 side: boot the test kernel with an initramfs from
# mkinitramfs under QEMU/KVM (instead of kite) and check that kite-guestctl's
# debug-exit write reaches the VMM. QEMU's isa-debug-exit at 0x501 exits with
# (N << 1) | 1, so `kite-guestctl exit 21` gives 43. Proves nested KVM, the L2
# initramfs and kite-guestctl independently of kite.
# harness: timeout=180
. "$REPO/tests/harness/lib.sh"

mk_l2_initramfs "$WORK/initrd.gz" 'echo "L2 up: $(uname -r), $(nproc) cpus"; kite-guestctl exit 21'
t0=$(now_ms)
{
	timeout -k 5 120 qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256M -smp 1 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0x501,iosize=1 \
		-kernel "$KERNEL" -initrd "$WORK/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
		</dev/null 2>&1
	echo $? >"$WORK/status"
} | sed -u 's/\r$//' | tee "$WORK/serial" | sed -u 's/^/  l2| /'
echo "qemu ran for $(($(now_ms) - t0)) ms"

expect_output "l2-init-ran" "$WORK/serial" '^L2 up: '
expect_status "guestctl-exit-reaches-vmm" 43 "$(cat "$WORK/status")"
finish
