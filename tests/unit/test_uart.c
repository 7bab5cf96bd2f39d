// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 16550A register model, driven the way Linux's 8250 driver drives it:
 * scratch and IER probes, DLAB, the loopback MSR check, FIFO detection,
 * THRE/RX interrupt logic and the IRQ level, RX FIFO and LSR.DR.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "devices/legacy/legacy.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

enum {
	RBR = 0,
	THR = 0,
	DLL = 0,
	IER = 1,
	DLM = 1,
	IIR = 2,
	FCR = 2,
	LCR = 3,
	MCR = 4,
	LSR = 5,
	MSR = 6,
	SCR = 7
};

static struct uart8250 *u;
static int out[2]; /* pipe: the UART writes to out[1], tests read out[0] */

static void setup(void)
{
	cr_assert_eq(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	u = uart8250_create(NULL, 0x3f8, 4, out[1]);
	cr_assert_not_null(u);
}

static void teardown(void)
{
	uart8250_destroy(u);
	close(out[0]);
	close(out[1]);
}

TestSuite(uart, .init = setup, .fini = teardown);

static uint8_t rd(unsigned int reg)
{
	return uart8250_read_reg(u, reg);
}

static void wr(unsigned int reg, uint8_t v)
{
	uart8250_write_reg(u, reg, v);
}

/* Everything the UART has transmitted so far. */
static size_t drain(char *buf, size_t cap)
{
	ssize_t n;

	uart8250_tx_drain(u); /* what the event loop does when the buffer fills */
	n = read(out[0], buf, cap);

	return n < 0 ? 0 : (size_t)n;
}

Test(uart, reset_state)
{
	cr_assert_eq(rd(IER), 0);
	cr_assert_eq(rd(IIR), 0x01, "no interrupt, FIFOs off");
	cr_assert_eq(rd(LCR), 0);
	cr_assert_eq(rd(MCR), 0x08, "OUT2 as firmware leaves it");
	cr_assert_eq(rd(LSR), 0x60, "THRE | TEMT, no data");
	cr_assert_eq(rd(MSR) & 0xf0, 0xb0, "DCD, DSR, CTS: a cable is present");
	cr_assert_eq(rd(SCR), 0);
	cr_assert_eq(rd(RBR), 0, "empty receiver");
	cr_assert_eq(uart8250_irq_level(u), 0);
	cr_assert_eq(uart8250_input_space(u), 1024);
}

Test(uart, scratch)
{
	static const uint8_t pats[] = { 0x55, 0xaa, 0x00, 0xff, 0x5a };

	for (size_t i = 0; i < ARRAY_SIZE(pats); i++) {
		wr(SCR, pats[i]);
		cr_assert_eq(rd(SCR), pats[i]);
	}
}

Test(uart, ier_probe)
{
	/* Linux autoconfig: IER must read 0 after 0 and 0x0f after 0x0f. */
	wr(IER, 0);
	cr_assert_eq(rd(IER) & 0x0f, 0);
	wr(IER, 0x0f);
	cr_assert_eq(rd(IER) & 0x0f, 0x0f);
	wr(IER, 0xff);
	cr_assert_eq(rd(IER), 0x0f, "only the four 16550 enable bits exist");
	wr(IER, 0x40); /* XScale's UUE bit must not stick, or Linux takes it for an XScale */
	cr_assert_eq(rd(IER) & 0x40, 0);
}

Test(uart, dlab_divisor_latch)
{
	char buf[8];

	wr(IER, 0x05);
	wr(LCR, 0x83); /* DLAB, 8N1 */
	wr(DLL, 0x0c); /* 9600 baud */
	wr(DLM, 0x01);
	cr_assert_eq(rd(DLL), 0x0c);
	cr_assert_eq(rd(DLM), 0x01);
	cr_assert_eq(rd(LCR), 0x83);
	cr_assert_eq(drain(buf, sizeof(buf)), 0, "a divisor write is not a byte sent");
	wr(LCR, 0x03);
	cr_assert_eq(rd(IER), 0x05, "IER untouched by the DLM write");
	cr_assert_eq(rd(LCR), 0x03);
	wr(LCR, 0x83);
	cr_assert_eq(rd(DLL), 0x0c, "divisor kept across DLAB toggles");
	cr_assert_eq(rd(DLM), 0x01);
}

Test(uart, transmit)
{
	char buf[16];

	wr(THR, 'h');
	wr(THR, 'i');
	wr(THR, '\n');
	cr_assert_eq(drain(buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, "hi\n", 3), 0);
	cr_assert_eq(rd(LSR) & 0x60, 0x60, "transmitter empty again at once");
}

Test(uart, transmit_without_output_fd)
{
	struct uart8250 *v = uart8250_create(NULL, 0x2f8, 3, -1);

	cr_assert_not_null(v);
	uart8250_write_reg(v, THR, 'x'); /* dropped, no crash */
	cr_assert_eq(uart8250_read_reg(v, LSR) & 0x60, 0x60);
	uart8250_destroy(v);
	uart8250_destroy(NULL);
}

Test(uart, thre_interrupt)
{
	/* Enabling THRI while THR is empty raises the interrupt at once. */
	wr(IER, 0x02);
	cr_assert_eq(uart8250_irq_level(u), 1);
	cr_assert_eq(rd(IIR), 0x02, "THRE");
	/* Reading IIR while it reports THRE clears it. */
	cr_assert_eq(uart8250_irq_level(u), 0);
	cr_assert_eq(rd(IIR), 0x01);
	/* Each byte sent makes THR empty again: THRE again, so a driver keeps sending. */
	wr(THR, 'a');
	cr_assert_eq(uart8250_irq_level(u), 1);
	cr_assert_eq(rd(IIR), 0x02);
	cr_assert_eq(rd(IIR), 0x01);
	/* Disabling THRI drops the line even if THRE is pending. */
	wr(THR, 'b');
	cr_assert_eq(uart8250_irq_level(u), 1);
	wr(IER, 0);
	cr_assert_eq(uart8250_irq_level(u), 0);
	cr_assert_eq(rd(IIR), 0x01);
}

Test(uart, thre_reasserted_when_reenabled)
{
	/* Linux's UART_BUG_THRE probe in serial8250_do_startup. */
	uint8_t iir1, iir;

	wr(IER, 0x02);
	iir1 = rd(IIR);
	wr(IER, 0);
	wr(IER, 0x02);
	iir = rd(IIR);
	wr(IER, 0);
	cr_assert_eq(iir1 & 0x01, 0);
	cr_assert_eq(iir & 0x01, 0, "a THRE-capable UART re-raises THRE on re-enable");
}

Test(uart, txen_probe)
{
	/* Linux's UART_BUG_TXEN check: THRI enabled and TEMT set must show an interrupt. */
	uint8_t lsr, iir;

	wr(IER, 0x02);
	lsr = rd(LSR);
	iir = rd(IIR);
	wr(IER, 0);
	cr_assert(lsr & 0x40);
	cr_assert_eq(iir & 0x01, 0);
}

Test(uart, fifo_detection)
{
	wr(FCR, 0x01);
	cr_assert_eq(rd(IIR) & 0xc0, 0xc0, "16550A: both FIFO bits");
	cr_assert_eq(rd(IIR), 0xc1);
	/* Trigger-level bits do not show up as anything else. */
	wr(FCR, 0xc7);
	cr_assert_eq(rd(IIR), 0xc1);
	/* TI16750 probe: a 64-byte FIFO request must not set IIR bit 5. */
	wr(FCR, 0x21);
	cr_assert_eq(rd(IIR) & 0xe0, 0xc0);
	wr(LCR, 0x80);
	wr(FCR, 0x21);
	cr_assert_eq(rd(IIR) & 0xe0, 0xc0);
	wr(LCR, 0);
	wr(FCR, 0);
	cr_assert_eq(rd(IIR) & 0xc0, 0, "FIFOs off");
}

Test(uart, loopback_msr)
{
	char buf[4];

	/* Linux's 8250 probe: MCR = LOOP | 0x0A must read MSR & 0xF0 == 0x90 (DCD | CTS). */
	wr(MCR, 0x1a);
	cr_assert_eq(rd(MSR) & 0xf0, 0x90);
	cr_assert_eq(rd(MCR), 0x1a);
	wr(MCR, 0x1f);
	cr_assert_eq(rd(MSR) & 0xf0, 0xf0);
	wr(MCR, 0x10);
	cr_assert_eq(rd(MSR) & 0xf0, 0x00);
	wr(MCR, 0x11); /* DTR -> DSR */
	cr_assert_eq(rd(MSR) & 0xf0, 0x20);
	wr(MCR, 0x14); /* OUT1 -> RI */
	cr_assert_eq(rd(MSR) & 0xf0, 0x40);
	/* Loopback: sent bytes come back in the receiver and never reach the output. */
	wr(THR, 'Z');
	cr_assert_eq(drain(buf, sizeof(buf)), 0);
	cr_assert_eq(rd(LSR) & 0x01, 0x01);
	cr_assert_eq(rd(RBR), 'Z');
	cr_assert_eq(rd(LSR) & 0x01, 0);
	wr(MCR, 0x08);
	cr_assert_eq(rd(MSR) & 0xf0, 0xb0);
	wr(THR, 'Y');
	cr_assert_eq(drain(buf, sizeof(buf)), 1);
	cr_assert_eq(buf[0], 'Y');
}

Test(uart, mcr_only_five_bits)
{
	wr(MCR, 0xff);
	cr_assert_eq(rd(MCR), 0x1f);
}

Test(uart, receive_fifo_and_lsr_dr)
{
	cr_assert_eq(uart8250_push_input(u, (const uint8_t *)"abc", 3), 3);
	cr_assert_eq(uart8250_input_space(u), 1021);
	cr_assert_eq(rd(LSR), 0x61, "DR set");
	cr_assert_eq(uart8250_irq_level(u), 0, "RX interrupt not enabled");
	cr_assert_eq(rd(IIR), 0x01);
	cr_assert_eq(rd(RBR), 'a');
	cr_assert_eq(rd(RBR), 'b');
	cr_assert_eq(rd(LSR) & 0x01, 0x01);
	cr_assert_eq(rd(RBR), 'c');
	cr_assert_eq(rd(LSR), 0x60, "DR clear once drained");
	cr_assert_eq(rd(RBR), 0);
	cr_assert_eq(uart8250_input_space(u), 1024);
}

Test(uart, receive_interrupt)
{
	wr(FCR, 0x01);
	wr(IER, 0x01);
	cr_assert_eq(uart8250_irq_level(u), 0);
	uart8250_push_input(u, (const uint8_t *)"xy", 2);
	cr_assert_eq(uart8250_irq_level(u), 1);
	cr_assert_eq(rd(IIR), 0xc4, "received data available, FIFOs on");
	cr_assert_eq(rd(IIR), 0xc4, "reading IIR does not clear RDA");
	cr_assert_eq(rd(RBR), 'x');
	cr_assert_eq(uart8250_irq_level(u), 1, "one byte left");
	cr_assert_eq(rd(RBR), 'y');
	cr_assert_eq(uart8250_irq_level(u), 0);
	cr_assert_eq(rd(IIR), 0xc1);
}

Test(uart, rx_has_priority_over_thre)
{
	wr(IER, 0x03);
	uart8250_push_input(u, (const uint8_t *)"q", 1);
	cr_assert_eq(rd(IIR), 0x04);
	cr_assert_eq(rd(RBR), 'q');
	cr_assert_eq(rd(IIR), 0x02, "THRE still pending after RX");
	cr_assert_eq(rd(IIR), 0x01);
	cr_assert_eq(uart8250_irq_level(u), 0);
}

Test(uart, rx_data_while_dlab_set)
{
	uart8250_push_input(u, (const uint8_t *)"k", 1);
	wr(LCR, 0x80);
	wr(DLL, 0x01);
	cr_assert_eq(rd(DLL), 0x01, "DLAB: offset 0 is the divisor, the FIFO is untouched");
	wr(LCR, 0x03);
	cr_assert_eq(rd(RBR), 'k');
}

Test(uart, fcr_clears_receiver)
{
	uart8250_push_input(u, (const uint8_t *)"junk", 4);
	wr(IER, 0x01);
	cr_assert_eq(uart8250_irq_level(u), 1);
	wr(FCR, 0x03); /* enable + clear RX */
	cr_assert_eq(rd(LSR) & 0x01, 0);
	cr_assert_eq(uart8250_irq_level(u), 0);
	cr_assert_eq(uart8250_input_space(u), 1024);
}

Test(uart, rx_fifo_full_and_wraps)
{
	uint8_t big[1500];
	size_t n;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	n = uart8250_push_input(u, big, sizeof(big));
	cr_assert_eq(n, 1024);
	cr_assert_eq(uart8250_input_space(u), 0);
	cr_assert_eq(uart8250_push_input(u, big, 1), 0, "full");
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(rd(RBR), (uint8_t)i, "byte %zu", i);
	/* Refill across the ring's end; order is kept. */
	cr_assert_eq(uart8250_push_input(u, big + 1024, 476), 476);
	cr_assert_eq(uart8250_input_space(u), 1024 - 24 - 476);
	for (size_t i = 1000; i < sizeof(big); i++)
		cr_assert_eq(rd(RBR), (uint8_t)i, "byte %zu", i);
	cr_assert_eq(rd(LSR) & 0x01, 0);
}

Test(uart, loopback_into_a_full_fifo)
{
	uint8_t fill[1024];

	memset(fill, 'f', sizeof(fill));
	cr_assert_eq(uart8250_push_input(u, fill, sizeof(fill)), 1024);
	wr(MCR, 0x10);
	wr(THR, 'L'); /* dropped: the receiver overflows */
	cr_assert_eq(uart8250_input_space(u), 0);
	for (size_t i = 0; i < 1024; i++)
		cr_assert_eq(rd(RBR), 'f');
	cr_assert_eq(rd(LSR) & 0x01, 0);
}

Test(uart, unknown_register_numbers)
{
	/* Only 0..7 exist; anything else reads as floating and ignores writes. */
	wr(8, 0x12);
	cr_assert_eq(rd(8), 0xff);
	cr_assert_eq(rd(SCR), 0);
	wr(LSR, 0);
	cr_assert_eq(rd(LSR), 0x60, "LSR is read-only");
	wr(MSR, 0);
	cr_assert_eq(rd(MSR) & 0xf0, 0xb0, "MSR is read-only");
}

/* Replays the register accesses of Linux's autoconfig() and autoconfig_16550a(). */
Test(uart, linux_autoconfig_finds_a_16550a)
{
	uint8_t scratch, scratch2, scratch3, save_lcr, save_mcr, status1, status2;

	save_lcr = rd(LCR);
	scratch = rd(IER);
	wr(IER, 0);
	scratch2 = rd(IER) & 0x0f;
	wr(IER, 0x0f);
	scratch3 = rd(IER) & 0x0f;
	wr(IER, scratch);
	cr_assert(scratch2 == 0 && scratch3 == 0x0f, "IER test");

	save_mcr = rd(MCR);
	wr(MCR, 0x10 | 0x0a);
	status1 = rd(MSR) & 0xf0;
	wr(MCR, save_mcr);
	cr_assert_eq(status1, 0x90, "loopback test");

	wr(LCR, 0xbf);
	wr(2, 0); /* EFR on chips that have one; FCR here */
	wr(LCR, 0);
	wr(FCR, 0x01);
	scratch = rd(IIR) >> 6;
	cr_assert_eq(scratch, 3, "16550A FIFO bits");

	/* autoconfig_16550a: no EFR under either access mode... */
	wr(LCR, 0x80);
	cr_assert_neq(rd(2), 0, "must not look like an ST16C650V1 EFR");
	wr(LCR, 0xbf);
	cr_assert_neq(rd(2), 0, "must not look like an ST16C650V2 EFR");
	/* ...not a National SuperIO (EXCR1 does not follow MCR's loop bit)... */
	wr(LCR, 0);
	status1 = rd(MCR);
	wr(LCR, 0xe0);
	status2 = rd(2);
	if (!((status2 ^ status1) & 0x10)) {
		wr(LCR, 0);
		wr(MCR, status1 ^ 0x10);
		wr(LCR, 0xe0);
		status2 = rd(2);
		wr(LCR, 0);
		wr(MCR, status1);
		cr_assert_eq((status2 ^ status1) & 0x10, 0, "must not look like an NS16550A");
	}
	/* ...and not a TI16750. */
	wr(LCR, 0);
	wr(FCR, 0x21);
	status1 = rd(IIR) & 0xe0;
	wr(FCR, 0x01);
	wr(LCR, 0x80);
	wr(FCR, 0x21);
	status2 = rd(IIR) & 0xe0;
	wr(FCR, 0x01);
	wr(LCR, 0);
	cr_assert_not(status1 == 0xc0 && status2 == 0xe0, "must not look like a 16750");
	wr(LCR, save_lcr);
	cr_assert_eq(uart8250_irq_level(u), 0, "probing raises no interrupt");
}

/* ---- on a bus, as a VM builds it ---- */

static struct vm vm;

static void vm_setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	aml_buf_init(&vm.sb_aml);
	log_set_level(LOG_ERROR); /* KVM_IRQ_LINE on fd -1 warns */
	cr_assert_eq(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
}

static void vm_teardown(void)
{
	while (vm.ncleanups) {
		struct vm_cleanup *c = &vm.cleanups[--vm.ncleanups];

		c->fn(c->arg);
	}
	aml_buf_free(&vm.sb_aml);
	close(out[0]);
	close(out[1]);
}

TestSuite(uart_bus, .init = vm_setup, .fini = vm_teardown);

Test(uart_bus, registers_eight_ports_and_an_acpi_node)
{
	uint8_t b[4];

	cr_assert_not_null(uart8250_create(&vm, 0x3f8, 4, out[1]));
	cr_assert_eq(vm.pio.nranges, 1);
	cr_assert_eq(vm.pio.ranges[0].base, 0x3f8);
	cr_assert_eq(vm.pio.ranges[0].len, 8);
	cr_assert_eq(vm.ncleanups, 1, "the VM frees it");
	cr_assert_gt(vm.sb_aml.len, 0);
	cr_assert_not_null(memmem(vm.sb_aml.data, vm.sb_aml.len, "COM1", 4));
	cr_assert_eq(bus_read(&vm.pio, 0x3fd, b, 1), 0);
	cr_assert_eq(b[0], 0x60, "LSR");
	cr_assert_eq(bus_read(&vm.pio, 0x400, b, 1), -ENOENT);
}

Test(uart_bus, wide_accesses_touch_consecutive_registers)
{
	char c[4];
	uint8_t b[4];

	cr_assert_not_null(uart8250_create(&vm, 0x3f8, 4, out[1]));
	cr_assert_eq(vm.pio.ranges[0].opaque, vm.cleanups[0].arg);
	/* A 16-bit write at base+6 covers MSR (read-only) and SCR. */
	cr_assert_eq(bus_write(&vm.pio, 0x3fe, (const uint8_t *)"\x00\x77", 2), 0);
	cr_assert_eq(bus_read(&vm.pio, 0x3ff, b, 1), 0);
	cr_assert_eq(b[0], 0x77);
	/* A 32-bit read at base+4: MCR, LSR, MSR, SCR. */
	cr_assert_eq(bus_read(&vm.pio, 0x3fc, b, 4), 0);
	cr_assert_eq(b[0], 0x08);
	cr_assert_eq(b[1], 0x60);
	cr_assert_eq(b[2] & 0xf0, 0xb0);
	cr_assert_eq(b[3], 0x77);
	cr_assert_eq(bus_write(&vm.pio, 0x3f8, (const uint8_t *)"A", 1), 0);
	uart8250_tx_drain(vm.pio.ranges[0].opaque);
	cr_assert_eq(read(out[0], c, sizeof(c)), 1);
	cr_assert_eq(c[0], 'A');
	/* Straddling the end of the 8 ports: nobody answers. */
	cr_assert_eq(bus_read(&vm.pio, 0x3fe, b, 4), -ENOENT);
}

Test(uart_bus, port_conflict_fails_cleanly)
{
	cr_assert_not_null(uart8250_create(&vm, 0x3f8, 4, out[1]));
	cr_assert_null(uart8250_create(&vm, 0x3fc, 4, out[1]), "overlaps COM1");
	cr_assert_eq(vm.pio.nranges, 1);
}

/* ---- output is buffered: the vCPU never waits for kite's console reader ---- */

/* A blocking pipe with no room left, as a console reader that stopped reading leaves it. */
static void full_blocking_pipe(int p[2], size_t *filled)
{
	char junk[4096];
	ssize_t n;

	memset(junk, '.', sizeof(junk));
	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	*filled = 0;
	while ((n = write(p[1], junk, sizeof(junk))) > 0)
		*filled += (size_t)n;
	cr_assert_eq(fcntl(p[1], F_SETFL, 0), 0, "the write end blocks again");
}

/* Reads exactly @len bytes from the (non-blocking) read end, draining the UART meanwhile. */
static void read_all(struct uart8250 *v, int fd, char *buf, size_t len)
{
	size_t got = 0;

	for (int tries = 0; got < len && tries < 100000; tries++) {
		ssize_t n;

		uart8250_tx_drain(v);
		n = read(fd, buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
	}
	cr_assert_eq(got, len, "only %zu of %zu bytes came out", got, len);
}

Test(uart_tx, a_stalled_reader_does_not_block_thr_writes, .timeout = 10)
{
	char junk[8192], msg[300], back[300];
	struct uart8250 *v;
	size_t filled;
	int p[2];

	full_blocking_pipe(p, &filled);
	v = uart8250_create(NULL, 0x3f8, 4, p[1]);
	cr_assert_not_null(v);
	for (size_t i = 0; i < sizeof(msg); i++) {
		msg[i] = (char)('a' + i % 26);
		/* Before: write(2) on the vCPU thread, blocked for good on the full pipe. */
		uart8250_write_reg(v, THR, (uint8_t)msg[i]);
		cr_assert(uart8250_read_reg(v, LSR) & 0x20, "THRE while the buffer has room");
	}
	cr_assert_not(uart8250_tx_drain(v), "the reader is stalled: the bytes wait");
	cr_assert(uart8250_tx_pending(v));
	/* The reader wakes up: first the old contents, then the guest's bytes, in order. */
	for (size_t got = 0; got < filled;) {
		ssize_t n = read(p[0], junk,
				 sizeof(junk) < filled - got ? sizeof(junk) : filled - got);

		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	read_all(v, p[0], back, sizeof(back));
	cr_assert_eq(memcmp(back, msg, sizeof(msg)), 0);
	cr_assert_not(uart8250_tx_pending(v));
	uart8250_destroy(v);
	close(p[0]);
	close(p[1]);
}

Test(uart_tx, a_full_buffer_holds_thre_back_until_there_is_room, .timeout = 10)
{
	static char back[70000];
	struct uart8250 *v;
	size_t filled, n = 0;
	int p[2];

	full_blocking_pipe(p, &filled);
	v = uart8250_create(NULL, 0x3f8, 4, p[1]);
	uart8250_write_reg(v, IER, 0x02); /* THRI */
	while (uart8250_read_reg(v, LSR) & 0x20) {
		uart8250_write_reg(v, THR, (uint8_t)n++);
		cr_assert_lt(n, 1u << 20, "THRE never clears");
	}
	cr_assert_eq(n, 65536, "the buffer holds 64 KiB");
	cr_assert_eq(uart8250_read_reg(v, IIR) & 0x0f, 0x01, "no THRE interrupt while full");
	cr_assert_eq(uart8250_irq_level(v), 0);
	uart8250_write_reg(v, THR, 0xee); /* ignoring THRE: this byte is lost */
	for (size_t got = 0; got < filled;) {
		ssize_t r = read(p[0], back, filled - got);

		cr_assert_gt(r, 0);
		got += (size_t)r;
	}
	read_all(v, p[0], back, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq((uint8_t)back[i], (uint8_t)i, "byte %zu", i);
	cr_assert(uart8250_read_reg(v, LSR) & 0x60, "THRE and TEMT once drained");
	cr_assert_eq(uart8250_irq_level(v), 1, "the held-back THRE interrupt");
	cr_assert_eq(uart8250_read_reg(v, IIR) & 0x0f, 0x02);
	uart8250_destroy(v);
	close(p[0]);
	close(p[1]);
}

Test(uart_tx, destroy_writes_what_is_still_buffered)
{
	char buf[64];
	struct uart8250 *v;
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	v = uart8250_create(NULL, 0x3f8, 4, p[1]);
	for (const char *c = "last words\n"; *c; c++)
		uart8250_write_reg(v, THR, (uint8_t)*c);
	cr_assert_eq(read(p[0], buf, sizeof(buf)), -1, "nothing written on the vCPU's path");
	uart8250_destroy(v);
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "last words\n", 11), 0);
	close(p[0]);
	close(p[1]);
}
