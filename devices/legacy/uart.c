// SPDX-License-Identifier: MIT
/*
 * 16550A UART, after the National Semiconductor PC16550D datasheet
 * (section numbers below refer to it), with QEMU's hw/char/serial.c as the
 * reference for the corners guests have come to rely on.
 *
 * There is no baud rate: a byte written to THR is "transmitted" at once to
 * out_fd, and host input appears in the RX FIFO as soon as it has room.
 * Host bytes beyond the 16-byte FIFO wait in a host-side queue so that a
 * pasted command line is not lost while the guest is slow to read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/fdout.h"
#include "devices/legacy/uart.h"
#include "firmware/acpi.h"
#include "lib/log.h"

/* Register offsets (§8, the register summary table). */
#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1	/* DLAB=0 */
#define UART_DLM	1	/* DLAB=1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available (+ timeout) */
#define IER_ETBEI	0x02	/* transmitter holding register empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f

/* §8.6, "Interrupt Control Functions": IIR codes, highest priority first. */
#define IIR_NO_INT	0x01
#define IIR_RLS		0x06	/* 1: overrun/parity/framing error, break */
#define IIR_RDA		0x04	/* 2: data at/above the trigger level */
#define IIR_CTI		0x0c	/* 2: character timeout */
#define IIR_THRE	0x02	/* 3: THR empty */
#define IIR_MSI		0x00	/* 4: modem status change */
#define IIR_ID_MASK	0x0f
#define IIR_FIFO_ON	0xc0	/* bits 7:6 set while FCR0 = 1 */

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define FCR_DMA_MODE	0x08
#define FCR_TRIGGER	0xc0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_RXFE	0x80	/* error in RX FIFO; we never have one */
#define LSR_INT_ANY	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTA	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* The host end is always "connected": carrier, data set ready, clear to
 * send, as QEMU reports for a chardev that is not a real tty. */
#define MSR_HOST_INPUTS	(MSR_DCD | MSR_DSR | MSR_CTS)

#define UART_FIFO_SIZE	16

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	unsigned int gsi;
	int out_fd;
	bool out_stalled;		/* see fdout_write() */
	int irq_level;

	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t rbr;			/* last byte read: what an empty RBR returns */
	bool thr_ipending;		/* THRE interrupt armed (§8.6) */

	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	uint8_t queue[UART_RX_QUEUE_SIZE];
	size_t q_head, q_count;

	struct bus *pio;
	uint16_t base;
	bool attached;
};

static bool uart_fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

/* In 16450 mode (FCR0 = 0) the receiver buffer is a single byte. */
static unsigned int uart_rx_capacity(const struct uart *u)
{
	return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* §8.5: FCR bits 7:6 select 1, 4, 8 or 14 bytes. */
static unsigned int uart_rx_trigger(const struct uart *u)
{
	static const unsigned int level[4] = { 1, 4, 8, 14 };

	return level[(u->fcr & FCR_TRIGGER) >> 6];
}

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t id = IIR_NO_INT;

	if ((u->ier & IER_ELSI) && (u->lsr & LSR_INT_ANY))
		id = IIR_RLS;
	else if ((u->ier & IER_ERBFI) && u->rx_count &&
		 (!uart_fifo_on(u) || u->rx_count >= uart_rx_trigger(u)))
		id = IIR_RDA;
	/*
	 * §8.11: the timeout fires when the FIFO holds data below the trigger
	 * level and no character arrived or was read for four character
	 * times. Our line has no character times: everything the host had
	 * was moved into the FIFO the moment there was room, so once the
	 * FIFO is below the trigger nothing more is coming and the timeout
	 * is due at once. This also means a guest never waits on a timer.
	 */
	else if ((u->ier & IER_ERBFI) && u->rx_count)
		id = IIR_CTI;
	else if ((u->ier & IER_ETBEI) && u->thr_ipending)
		id = IIR_THRE;
	else if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTA))
		id = IIR_MSI;
	return id | (uart_fifo_on(u) ? IIR_FIFO_ON : 0);
}

/*
 * INTR follows IIR: high while any interrupt is identified. On a PC the
 * line is also gated by MCR.OUT2; like QEMU we do not model that gate,
 * because guests tested on QEMU (and some firmware) rely on its absence.
 */
static void uart_update_irq(struct uart *u)
{
	int level = !(uart_iir(u) & IIR_NO_INT);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	u->ops->set_irq_line(u->ops->vm, u->gsi, level);
}

static void uart_sync_dr(struct uart *u)
{
	if (u->rx_count)
		u->lsr |= LSR_DR;
	else
		u->lsr &= ~LSR_DR;
}

/* A character completes in the receiver shift register. */
static void uart_rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_count >= uart_rx_capacity(u)) {
		/*
		 * §8.4 LSR bit 1: in 16450 mode the new character overwrites
		 * the holding register; in FIFO mode the FIFO keeps its
		 * contents and the new character is lost.
		 */
		u->lsr |= LSR_OE;
		if (!uart_fifo_on(u))
			u->rx_fifo[u->rx_head] = c;
		return;
	}
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = c;
	u->rx_count++;
	uart_sync_dr(u);
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
	uart_sync_dr(u);
}

/*
 * Move host bytes into the FIFO while it has room. In loopback mode the
 * serial input is disconnected from the line (§8.8 bit 4), so host input
 * waits in the queue until the guest leaves loopback.
 */
static void uart_rx_refill(struct uart *u)
{
	if (u->mcr & MCR_LOOP)
		return;
	while (u->q_count && u->rx_count < uart_rx_capacity(u)) {
		uart_rx_push(u, u->queue[u->q_head]);
		u->q_head = (u->q_head + 1) % UART_RX_QUEUE_SIZE;
		u->q_count--;
	}
}

static uint8_t uart_rx_pop(struct uart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
		uart_sync_dr(u);
		uart_rx_refill(u);
	}
	return u->rbr;
}

/* What drives MSR bits 7:4: the host, or in loopback MCR's outputs (§8.8). */
static uint8_t uart_msr_inputs(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_HOST_INPUTS;
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

/* §8.9: deltas record changes since the last MSR read; RI only on its
 * trailing edge (TERI). */
static void uart_set_msr_inputs(struct uart *u, uint8_t in)
{
	uint8_t old = u->msr & ~MSR_DELTA;
	uint8_t changed = old ^ in;

	if (changed & MSR_CTS)
		u->msr |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr |= MSR_DDSR;
	if (changed & MSR_DCD)
		u->msr |= MSR_DDCD;
	if ((old & MSR_RI) && !(in & MSR_RI))
		u->msr |= MSR_TERI;
	u->msr = (u->msr & MSR_DELTA) | in;
}

static void uart_transmit(struct uart *u, uint8_t c)
{
	int ret;

	if (u->mcr & MCR_LOOP) {
		/* §8.8 bit 4: the transmitter output is looped back to the
		 * receiver input and the line itself is held idle. */
		uart_rx_push(u, c);
		return;
	}
	ret = fdout_write(u->out_fd, &c, 1, &u->out_stalled);
	if (ret)
		pr_warn_once("uart: output dropped: %d (is the console reader still there?)",
			     ret);
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
	/* §8.5: changing FCR0 resets both FIFOs. */
	if ((v ^ u->fcr) & FCR_ENABLE)
		uart_rx_clear(u);
	/* §8.5: the other bits are only programmed while FCR0 is 1. */
	if (!(v & FCR_ENABLE)) {
		u->fcr = 0;
	} else {
		if (v & FCR_CLEAR_RX)
			uart_rx_clear(u);
		/* FCR_CLEAR_TX: transmission is instant, the TX FIFO is
		 * always empty. Both clear bits are self-clearing. */
		u->fcr = v & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER);
	}
	uart_rx_refill(u);
}

static void uart_write_ier(struct uart *u, uint8_t v)
{
	uint8_t changed = (u->ier ^ v) & IER_MASK;

	u->ier = v & IER_MASK;
	/*
	 * Enabling ETBEI while THR is empty arms the THRE interrupt even if
	 * an IIR read had disarmed it. The datasheet does not say so, but
	 * 16550s behave that way, Linux's 8250 driver probes for it
	 * (UART_BUG_THRE) and Windows' serial driver relies on it; QEMU and
	 * Bochs both re-arm on the rising edge only. Disabling disarms.
	 */
	if (changed & IER_ETBEI)
		u->thr_ipending = (u->ier & IER_ETBEI) && (u->lsr & LSR_THRE);
}

static uint8_t uart_reg_read(struct uart *u, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		return uart_rx_pop(u);
	case UART_IER:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir(u);
		/* §8.6 (Interrupt Control Functions): reading IIR while it
		 * reports THRE is one of the two ways to reset that
		 * interrupt. */
		if ((v & IIR_ID_MASK) == IIR_THRE)
			u->thr_ipending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		/* §8.4: error bits clear when LSR is read. */
		v = u->lsr;
		u->lsr &= ~(LSR_INT_ANY | LSR_RXFE);
		return v;
	case UART_MSR:
		/* §8.9: delta bits clear when MSR is read. */
		v = u->msr;
		u->msr &= ~MSR_DELTA;
		return v;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void uart_reg_write(struct uart *u, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		/* Writing THR is the other way to reset the THRE interrupt. */
		u->thr_ipending = false;
		u->lsr &= ~(LSR_THRE | LSR_TEMT);
		uart_transmit(u, v);
		u->lsr |= LSR_THRE | LSR_TEMT;
		u->thr_ipending = true;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB)
			u->dlm = v;
		else
			uart_write_ier(u, v);
		break;
	case UART_FCR:
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		/* Framing (word length, parity, break) has no meaning here. */
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & MCR_MASK;
		uart_set_msr_inputs(u, uart_msr_inputs(u));
		/* Leaving loopback reconnects the line: queued input flows. */
		uart_rx_refill(u);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Factory-test writes (§8.4); ignored, as QEMU does. */
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
}

/* The 16550 has a byte-wide data bus: a wider access is consecutive
 * registers, one byte each (what QEMU's impl.max_access_size = 1 does). */
static void uart_read(void *opaque, uint64_t offset, void *data,
		      unsigned int len)
{
	struct uart *u = opaque;
	uint8_t *out = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned int i = 0; i < len; i++)
		out[i] = offset + i < UART_NR_PORTS ?
			 uart_reg_read(u, (unsigned int)(offset + i)) : 0xff;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *opaque, uint64_t offset, const void *data,
		       unsigned int len)
{
	struct uart *u = opaque;
	const uint8_t *in = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned int i = 0; i < len && offset + i < UART_NR_PORTS; i++)
		uart_reg_write(u, (unsigned int)(offset + i), in[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_dev_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n, tail;

	pthread_mutex_lock(&u->lock);
	n = UART_RX_QUEUE_SIZE - u->q_count;
	if (n > len)
		n = len;
	tail = (u->q_head + u->q_count) % UART_RX_QUEUE_SIZE;
	for (size_t i = 0; i < n; i++)
		u->queue[(tail + i) % UART_RX_QUEUE_SIZE] = buf[i];
	u->q_count += n;
	uart_rx_refill(u);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* The power-on register values: the datasheet's "UART Reset
 * Configuration" table (MR resets IER, IIR, FCR, LCR, MCR, LSR, MSR). */
static void uart_reset_regs(struct uart *u)
{
	u->ier = u->fcr = u->lcr = u->mcr = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = MSR_HOST_INPUTS;
	u->thr_ipending = false;
	u->rx_head = u->rx_count = 0;
}

/* Host input still queued is the user's typing: it stays for the next
 * boot, as it would on a real line; so do SCR and the divisor latch,
 * which MR does not reset. */
static void uart_dev_reset(struct device *dev)
{
	struct uart *u = container_of(dev, struct uart, dev);

	pthread_mutex_lock(&u->lock);
	uart_reset_regs(u);
	uart_rx_refill(u);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_dev_destroy(struct device *dev)
{
	uart_destroy(container_of(dev, struct uart, dev));
}

/* The ACPI tables declare COM1 (PNP0501) because this UART exists. */
static int uart_build_acpi(struct device *dev, struct acpi_config *cfg)
{
	cfg->serial = true;
	return 0;
}

static const struct device_ops uart_device_ops = {
	.reset = uart_dev_reset,
	.destroy = uart_dev_destroy,
	.build_acpi = uart_build_acpi,
};

struct uart *uart_create(const struct vm_ops *ops, unsigned int gsi, int out_fd)
{
	struct uart *u;
	int ret;

	if (!ops || !ops->set_irq_line) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	ret = pthread_mutex_init(&u->lock, NULL);
	if (ret)
		goto free_uart;
	u->ops = ops;
	u->gsi = gsi;
	u->out_fd = out_fd;
	uart_reset_regs(u);
	/* The divisor is undefined after reset; 12 is 9600 baud. */
	u->dll = 12;
	device_register(ops, &u->dev, "uart", &uart_device_ops);
	return u;

free_uart:
	free(u);
	errno = ret;
	return NULL;
}

int uart_attach(struct uart *u, struct bus *pio, uint16_t base)
{
	int ret;

	if (u->attached)
		return -EBUSY;
	/* The port space ends at 0xFFFF; do not let the range run past it. */
	if ((uint32_t)base + UART_NR_PORTS > 0x10000)
		return -EINVAL;
	ret = bus_register(pio, base, UART_NR_PORTS, &uart_ops, u, "uart");
	if (ret)
		return ret;
	u->pio = pio;
	u->base = base;
	u->attached = true;
	return 0;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	device_unregister(&u->dev);
	if (u->attached)
		bus_unregister(u->pio, u->base);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
