/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART (the PC's COM ports: COM1 is 0x3F8, IRQ 4).
 */
#ifndef MINIVMM_LEGACY_UART_H
#define MINIVMM_LEGACY_UART_H

#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"

#define UART_NR_PORTS		8
/* Host bytes waiting behind the guest-visible 16-byte RX FIFO. */
#define UART_RX_QUEUE_SIZE	4096

struct uart;

/*
 * gsi: the interrupt line, driven as a level while an interrupt is
 * identified in IIR. out_fd: where transmitted bytes go (< 0 drops them);
 * the caller keeps it open for the device's lifetime. NULL (errno set) on
 * failure. ops must outlive the device.
 */
struct uart *uart_create(const struct vm_ops *ops, unsigned int gsi, int out_fd);
/* Claims the 8 ports at base: -EBUSY if already attached, -EINVAL if
 * they would run past port 0xFFFF. */
int uart_attach(struct uart *uart, struct bus *pio, uint16_t base);
/* Unregisters the ports (so call it before bus_exit()) and frees. */
void uart_destroy(struct uart *uart);

/*
 * Host input (stdin, a pty), from any thread. Queues up to
 * UART_RX_QUEUE_SIZE bytes the guest has not read yet and returns how many
 * of buf's len bytes it took; keep the rest and offer them again later.
 */
size_t uart_receive(struct uart *uart, const uint8_t *buf, size_t len);

#endif
