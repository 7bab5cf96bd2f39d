// SPDX-License-Identifier: GPL-2.0-only
/*
 * A 16550A-compatible UART. A THR write lands in a transmit buffer at once (THR
 * is empty again while the buffer has room); the device event loop, never the
 * vCPU, writes the buffer to the output fd, so a slow reader of kite's console
 * costs the guest nothing until the buffer fills. Then THRE stays clear until
 * the loop has made room, which is the back-pressure the 8250 driver expects.
 * What must be exact is the interrupt logic, because Linux's 8250 driver
 * transmits from the THRE interrupt and probes the chip through scratch,
 * loopback and FIFO tests.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "acpi/aml.h"
#include "devices/legacy/legacy.h"
#include "vmm/event_loop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

enum {
	REG_RBR_THR = 0,
	REG_IER = 1,
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_FIFO_EN 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_FIFO_SIZE 1024 /* larger than a real 16550's 16 bytes: host input arrives in bursts */
#ifndef TX_BUF_SIZE	  /* the fuzz target makes it small, to reach the full-buffer paths often */
#define TX_BUF_SIZE 65536 /* a boot's worth of console bursts between two event-loop turns */
#endif
#define TX_CHUNK 4096	 /* at most one pipe page per write, so a writable pipe never blocks */
#define TX_FLUSH_MS 2000 /* how long teardown waits for a stalled reader */

struct uart8250 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t irq;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_ipending; /* THRE interrupt armed until IIR reports it or THR is written */
	int irq_level;
	uint8_t rx[RX_FIFO_SIZE];
	size_t rx_head, rx_count;

	/* Transmit buffer, filled by vCPUs under the lock, emptied by the event loop. */
	uint8_t *tx;
	size_t tx_head, tx_count;
	bool tx_stalled; /* the buffer filled: THRE comes back once there is room */
	int tx_efd;	 /* eventfd: the buffer went from empty to non-empty */
	int retry_tfd;	 /* timerfd: the output fd was full, try again */
	/* The chunk being written: only the event loop (or teardown) touches these. */
	uint8_t out_chunk[TX_CHUNK];
	size_t out_len, out_off;
	bool out_broken; /* the reader went away (EPIPE...): output is dropped */
};

static uint8_t uart_iir(const struct uart8250 *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Called with the lock held after every state change. */
static void uart_update_irq(struct uart8250 *u)
{
	int level = !(uart_iir(u) & IIR_NO_INT);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->vm)
		vm_irq_line(u->vm, u->irq, level);
}

static void uart_transmit(struct uart8250 *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		if (u->rx_count < RX_FIFO_SIZE)
			u->rx[(u->rx_head + u->rx_count++) % RX_FIFO_SIZE] = c;
		return;
	}
	if (u->out_fd < 0 || u->tx_count == TX_BUF_SIZE)
		return; /* a guest that ignores THRE loses the byte, as on real hardware */
	u->tx[(u->tx_head + u->tx_count++) % TX_BUF_SIZE] = c;
	vm_console_activity(u->vm, 1);
	if (u->tx_count == 1 && u->tx_efd >= 0) {
		uint64_t one = 1;

		if (write(u->tx_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_debug("serial: tx eventfd: %s", strerror(errno));
	}
}

static bool uart_thr_empty(const struct uart8250 *u)
{
	return u->out_fd < 0 || (u->mcr & MCR_LOOP) || u->tx_count < TX_BUF_SIZE;
}

static uint8_t uart_msr(const struct uart8250 *u)
{
	if (u->mcr & MCR_LOOP) {
		/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
		return (uint8_t)(((u->mcr & 0x01) ? MSR_DSR : 0) | ((u->mcr & 0x02) ? MSR_CTS : 0) |
				 ((u->mcr & 0x04) ? MSR_RI : 0) | ((u->mcr & 0x08) ? MSR_DCD : 0));
	}
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

uint8_t uart8250_read_reg(struct uart8250 *u, unsigned int reg)
{
	uint8_t v = 0xff;

	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
		} else if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
			u->rx_count--;
		} else {
			v = 0;
		}
		break;
	case REG_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		v = uart_iir(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = false;
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		/* TEMT with THRE: the shift register empties into the buffer at once. */
		v = (uart_thr_empty(u) ? LSR_THRE | LSR_TEMT : 0) | (u->rx_count ? LSR_DR : 0);
		break;
	case REG_MSR:
		v = uart_msr(u);
		break;
	case REG_SCR:
		v = u->scr;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

void uart8250_write_reg(struct uart8250 *u, unsigned int reg, uint8_t val)
{
	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
		} else {
			uart_transmit(u, val);
			/* Buffered at once: THR is empty again, unless the buffer is full. */
			u->thr_ipending = uart_thr_empty(u);
			u->tx_stalled = !u->thr_ipending;
		}
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* Enabling THRI while THR is empty raises the interrupt at once. */
			if (!(u->ier & IER_THRI) && (val & IER_THRI))
				u->thr_ipending = true;
			u->ier = val & 0x0f;
		}
		break;
	case REG_IIR_FCR:
		u->fcr = val & (FCR_FIFO_EN | 0xc0);
		if (val & FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & 0x1f;
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

int uart8250_irq_level(struct uart8250 *u)
{
	int l;

	pthread_mutex_lock(&u->lock);
	l = u->irq_level;
	pthread_mutex_unlock(&u->lock);
	return l;
}

size_t uart8250_input_space(struct uart8250 *u)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = RX_FIFO_SIZE - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart8250_push_input(struct uart8250 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_count < RX_FIFO_SIZE) {
		u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = buf[n++];
		u->rx_count++;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/*
 * Moves buffered output to the fd without blocking: writes only while poll says the fd
 * takes more, at most TX_CHUNK at a time. Returns true when everything is out.
 */
static bool uart_tx_push(struct uart8250 *u, int poll_ms)
{
	for (;;) {
		struct pollfd p = { .fd = u->out_fd, .events = POLLOUT };
		ssize_t n;

		if (u->out_len == u->out_off) {
			size_t first;

			pthread_mutex_lock(&u->lock);
			first = TX_BUF_SIZE - u->tx_head;
			u->out_len = u->tx_count < TX_CHUNK ? u->tx_count : TX_CHUNK;
			if (u->out_len > first)
				u->out_len = first;
			memcpy(u->out_chunk, u->tx + u->tx_head, u->out_len);
			u->tx_head = (u->tx_head + u->out_len) % TX_BUF_SIZE;
			u->tx_count -= u->out_len;
			u->out_off = 0;
			/* Room again: the THRE interrupt the full buffer held back. */
			if (u->tx_stalled && u->out_len) {
				u->tx_stalled = false;
				u->thr_ipending = true;
				uart_update_irq(u);
			}
			pthread_mutex_unlock(&u->lock);
			if (!u->out_len)
				return true;
		}
		if (u->out_broken) {
			u->out_off = u->out_len;
			continue;
		}
		if (poll(&p, 1, poll_ms) <= 0 || !(p.revents & POLLOUT)) {
			if (p.revents & (POLLERR | POLLHUP))
				u->out_broken = true;
			else
				return false;
			continue;
		}
		n = write(u->out_fd, u->out_chunk + u->out_off, u->out_len - u->out_off);
		if (n > 0) {
			u->out_off += (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			log_warn("serial: console output lost: %s", strerror(errno));
			u->out_broken = true;
		}
	}
}

bool uart8250_tx_drain(struct uart8250 *u)
{
	uint64_t v;

	if (u->tx_efd >= 0 && read(u->tx_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("serial: tx eventfd: %s", strerror(errno));
	return u->out_fd < 0 || uart_tx_push(u, 0);
}

bool uart8250_tx_pending(struct uart8250 *u)
{
	bool pending;

	pthread_mutex_lock(&u->lock);
	pending = u->tx_count || u->out_off < u->out_len;
	pthread_mutex_unlock(&u->lock);
	return pending && u->out_fd >= 0 && !u->out_broken;
}

/* Event loop: the buffer became non-empty, or the retry timer for a full fd fired. */
static void uart_tx_event(void *opaque, uint32_t events)
{
	struct uart8250 *u = opaque;
	uint64_t v;

	if (read(u->retry_tfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("serial: retry timer: %s", strerror(errno));
	if (!uart8250_tx_drain(u)) {
		/* The fd takes no more for now: look again in 10 ms rather than spin on it. */
		const struct itimerspec its = { .it_value.tv_nsec = 10 * 1000 * 1000 };

		timerfd_settime(u->retry_tfd, 0, &its, NULL);
	}
}

static void uart_bus_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	/* Wider accesses touch consecutive registers, as on the ISA bus. */
	for (uint32_t i = 0; i < size; i++)
		data[i] = off + i < 8 ? uart8250_read_reg(opaque, (unsigned int)(off + i)) : 0xff;
}

static void uart_bus_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		if (off + i < 8)
			uart8250_write_reg(opaque, (unsigned int)(off + i), data[i]);
}

static const struct bus_ops uart_ops = { .read = uart_bus_read, .write = uart_bus_write };

static void uart_release(void *opaque)
{
	uart8250_destroy(opaque);
}

struct uart8250 *uart8250_create(struct vm *vm, uint16_t port, uint8_t irq, int out_fd)
{
	const struct aml_res res[] = {
		{ .type = AML_RES_IO, .base = port, .len = 8 },
		{ .type = AML_RES_IRQ, .base = irq },
	};
	struct uart8250 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->irq = irq;
	u->out_fd = out_fd;
	u->mcr = 0x08; /* OUT2, as firmware leaves it */
	u->tx = malloc(TX_BUF_SIZE);
	u->tx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->retry_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!u->tx || u->tx_efd < 0 || u->retry_tfd < 0) {
		log_error("serial: out of memory or file descriptors");
		uart8250_destroy(u);
		return NULL;
	}
	if (!vm)
		return u; /* unit tests drive the registers directly */
	if (vm_own(vm, uart_release, u)) {
		uart8250_destroy(u);
		return NULL;
	}
	if (bus_register(&vm->pio, port, 8, &uart_ops, u, "uart8250") ||
	    aml_device(&vm->sb_aml, "COM1", "PNP0501", 1, res, 2)) {
		log_error("serial: cannot register COM1 at port 0x%x", port);
		return NULL; /* freed with the VM */
	}
	/* No loop in unit tests that build a bare struct vm: they drain by hand. */
	if (vm->devloop && (event_loop_add(vm->devloop, u->tx_efd, EPOLLIN, uart_tx_event, u) ||
			    event_loop_add(vm->devloop, u->retry_tfd, EPOLLIN, uart_tx_event, u))) {
		log_error("serial: cannot watch the transmit buffer");
		return NULL;
	}
	return u;
}

void uart8250_destroy(struct uart8250 *u)
{
	struct timespec start, now;

	if (!u)
		return;
	/*
	 * Nothing the guest wrote is lost at exit: what is still buffered goes out now,
	 * waiting for a slow reader at most TX_FLUSH_MS in all. The event loop is gone.
	 */
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (u->tx && u->out_fd >= 0 && !u->out_broken && !uart_tx_push(u, 50)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    TX_FLUSH_MS) {
			log_warn(
				"serial: console reader stalled, %zu bytes of guest output dropped",
				u->tx_count + u->out_len - u->out_off);
			break;
		}
	}
	if (u->tx_efd >= 0)
		close(u->tx_efd);
	if (u->retry_tfd >= 0)
		close(u->retry_tfd);
	free(u->tx);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
