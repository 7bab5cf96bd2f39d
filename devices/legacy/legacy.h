/* SPDX-License-Identifier: GPL-2.0-only */
/* kite's fixed legacy devices: 8250 UART, i8042 reset, debug-exit, pvpanic, boot timer, ACPI PM. */
#ifndef KITE_DEVICES_LEGACY_H
#define KITE_DEVICES_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct uart8250;

/*
 * 8250/16550A UART on @port with ISA @irq. Output bytes go to @out_fd (-1:
 * dropped). Registers its I/O range and its ACPI node (PNP0501).
 */
struct uart8250 *uart8250_create(struct vm *vm, uint16_t port, uint8_t irq, int out_fd);
void uart8250_destroy(struct uart8250 *u);
/* Queues guest input; returns how many bytes were accepted (the FIFO may be full). */
size_t uart8250_push_input(struct uart8250 *u, const uint8_t *buf, size_t len);
size_t uart8250_input_space(struct uart8250 *u);

/*
 * Writes buffered output to the fd as far as it takes it without blocking (the event
 * loop's handler; unit tests call it by hand). True when nothing is left buffered.
 */
bool uart8250_tx_drain(struct uart8250 *u);
/* Guest output buffered and not yet written (a stalled or absent reader aside). */
bool uart8250_tx_pending(struct uart8250 *u);

/* Register-level access, exposed for unit tests (the bus calls these). */
uint8_t uart8250_read_reg(struct uart8250 *u, unsigned int reg);
void uart8250_write_reg(struct uart8250 *u, unsigned int reg, uint8_t val);
/* The level kite currently drives on the UART's IRQ line. */
int uart8250_irq_level(struct uart8250 *u);

/* Each returns 0 or -errno (bus conflict, ACPI encoding failure). */
int i8042_init(struct vm *vm, uint16_t port_data);
int debug_exit_init(struct vm *vm, uint16_t port);
int pvpanic_init(struct vm *vm, uint16_t port);
int boot_timer_init(struct vm *vm, uint16_t port);
int acpi_pm_init(struct vm *vm, uint16_t sleep_ctl_port, uint16_t sleep_sts_port);
/* ACPI GED power button on edge-triggered @gsi; sets vm->power_button. */
int ged_init(struct vm *vm, uint32_t gsi);

#endif
