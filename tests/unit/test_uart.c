// SPDX-License-Identifier: MIT
/* Unit tests for the 16550A UART, driven through a real port bus. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/uart.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define BASE	LAYOUT_COM1_PORT
#define GSI	LAYOUT_COM1_GSI

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct fixture {
	struct fake_vm fvm;
	struct bus pio;
	struct uart *uart;
	int pipe[2];		/* the UART writes to [1], tests read [0] */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_vm_init(&f->fvm);
	if (bus_init(&f->pio, "pio") || pipe2(f->pipe, O_NONBLOCK))
		return -1;
	f->uart = uart_create(&f->fvm.ops, GSI, f->pipe[1]);
	if (!f->uart || uart_attach(f->uart, &f->pio, BASE))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_destroy(f->uart);
	bus_exit(&f->pio);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned int reg)
{
	uint8_t v = 0;

	assert_int_equal(bus_read(&f->pio, BASE + reg, &v, 1), 0);
	return v;
}

static void wr(struct fixture *f, unsigned int reg, uint8_t v)
{
	assert_int_equal(bus_write(&f->pio, BASE + reg, &v, 1), 0);
}

static int irq(struct fixture *f)
{
	return f->fvm.irq_level[GSI];
}

static size_t drain_pipe(struct fixture *f, char *buf, size_t cap)
{
	ssize_t n = read(f->pipe[0], buf, cap);

	return n < 0 ? 0 : (size_t)n;
}

static void test_reset_values(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, IER), 0);
	assert_int_equal(rd(f, IIR), 0x01);
	assert_int_equal(rd(f, LCR), 0);
	assert_int_equal(rd(f, MCR), 0);
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(rd(f, MSR), 0xb0);
	assert_int_equal(irq(f), 0);
	/* Reading an empty RBR is harmless. */
	rd(f, RBR);
	assert_int_equal(rd(f, LSR), 0x60);
	/* Create checks its arguments. */
	assert_null(uart_create(NULL, GSI, -1));
	assert_int_equal(uart_attach(f->uart, &f->pio, BASE + 8), -EBUSY);
}

static void test_dlab_and_scratch(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	wr(f, IER, 0x05);
	wr(f, LCR, 0x83);		/* DLAB + 8N1 */
	wr(f, DLL, 0x01);		/* 115200 baud */
	wr(f, DLM, 0x02);
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x02);
	assert_int_equal(rd(f, LCR), 0x83);
	/* With DLAB set, offset 0 is not THR: nothing is transmitted. */
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);
	wr(f, LCR, 0x03);
	assert_int_equal(rd(f, IER), 0x05);	/* IER, not DLM */
	wr(f, IER, 0xff);			/* only bits 3:0 exist */
	assert_int_equal(rd(f, IER), 0x0f);
	wr(f, LCR, 0x83);
	assert_int_equal(rd(f, DLM), 0x02);	/* the divisor survived */
	wr(f, LCR, 0x03);

	wr(f, SCR, 0xa5);
	assert_int_equal(rd(f, SCR), 0xa5);
	/* LSR and MSR writes are factory-test only and ignored. */
	wr(f, LSR, 0x00);
	assert_int_equal(rd(f, LSR), 0x60);
	wr(f, MCR, 0xff);
	assert_int_equal(rd(f, MCR) & 0x1f, 0x1f);
	assert_int_equal(rd(f, MCR) & 0xe0, 0);
}

static void test_output_reaches_fd(void **state)
{
	struct fixture *f = *state;
	const char *msg = "hello, world\r\n";
	char buf[64] = { 0 };

	for (const char *p = msg; *p; p++)
		wr(f, THR, (uint8_t)*p);
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), strlen(msg));
	assert_string_equal(buf, msg);
	/* The transmitter is always idle again at once. */
	assert_int_equal(rd(f, LSR) & 0x60, 0x60);
}

static void test_output_dropped_without_fd(void **state)
{
	struct fake_vm fvm;
	struct bus pio;
	struct uart *u;
	uint8_t v = 'x';

	fake_vm_init(&fvm);
	assert_int_equal(bus_init(&pio, "pio"), 0);
	u = uart_create(&fvm.ops, GSI, -1);
	assert_non_null(u);
	assert_int_equal(uart_attach(u, &pio, 0x2f8), 0);
	assert_int_equal(bus_write(&pio, 0x2f8, &v, 1), 0);
	assert_int_equal(bus_read(&pio, 0x2f8 + LSR, &v, 1), 0);
	assert_int_equal(v, 0x60);
	uart_destroy(u);
	/* destroy unregistered the ports. */
	assert_int_equal(pio.nr_ranges, 0);
	bus_exit(&pio);
}

/* Nobody reads the (non-blocking) output: bytes are dropped after a
 * bounded wait instead of wedging the vCPU, and output resumes once the
 * reader catches up. */
static void test_output_stalled_reader(void **state)
{
	struct fixture *f = *state;
	static char junk[4096];
	char buf[16];
	ssize_t n;

	memset(junk, '.', sizeof(junk));
	while (write(f->pipe[1], junk, sizeof(junk)) > 0)
		;
	while (write(f->pipe[1], junk, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	for (int i = 0; i < 100; i++)
		wr(f, THR, 'x');	/* one bounded wait, then no waits */
	assert_int_equal(rd(f, LSR) & 0x60, 0x60);
	while ((n = read(f->pipe[0], junk, sizeof(junk))) > 0)
		assert_null(memchr(junk, 'x', (size_t)n));
	wr(f, THR, 'y');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'y');
}

static void test_thre_interrupt(void **state)
{
	struct fixture *f = *state;

	/* Enabling ETBEI with THR empty raises THRE at once. */
	wr(f, IER, 0x02);
	assert_int_equal(irq(f), 1);
	assert_int_equal(rd(f, IIR), 0x02);
	/* That IIR read reset it (16550D Table 4). */
	assert_int_equal(irq(f), 0);
	assert_int_equal(rd(f, IIR), 0x01);

	/* Transmitting makes THR empty again: pending once more. */
	wr(f, THR, 'a');
	assert_int_equal(irq(f), 1);
	assert_int_equal(f->fvm.irq_raises[GSI], 2);
	/* A THR write resets it and the completed byte re-arms it, so a
	 * driver that keeps writing keeps getting THRE. */
	wr(f, THR, 'b');
	assert_int_equal(irq(f), 1);
	assert_int_equal(rd(f, IIR), 0x02);
	assert_int_equal(irq(f), 0);

	/* Disabling ETBEI drops it; re-enabling re-arms it (what Linux's
	 * UART_BUG_THRE probe and Windows expect). */
	wr(f, IER, 0x00);
	wr(f, IER, 0x02);
	assert_int_equal(irq(f), 1);
	wr(f, IER, 0x00);
	assert_int_equal(irq(f), 0);
	assert_int_equal(rd(f, IIR), 0x01);
	/* Writing the same IER again is not a rising edge. */
	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR), 0x02);
	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR), 0x01);
	assert_int_equal(irq(f), 0);
}

static void test_rx_non_fifo(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[] = "ab";

	assert_int_equal(uart_receive(f->uart, in, 2), 2);
	assert_int_equal(rd(f, LSR) & 0x01, 0x01);
	/* No interrupt until ERBFI. */
	assert_int_equal(irq(f), 0);
	wr(f, IER, 0x01);
	assert_int_equal(irq(f), 1);
	assert_int_equal(rd(f, IIR), 0x04);
	assert_int_equal(rd(f, RBR), 'a');
	/* The queued 'b' moved into the (one-byte) holding register. */
	assert_int_equal(rd(f, LSR) & 0x01, 0x01);
	assert_int_equal(irq(f), 1);
	assert_int_equal(rd(f, RBR), 'b');
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	assert_int_equal(irq(f), 0);
	assert_int_equal(rd(f, IIR), 0x01);
	/* An empty RBR reads the last byte again, without side effects. */
	assert_int_equal(rd(f, RBR), 'b');
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_rx_fifo_trigger_and_timeout(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[16] = "0123456789abcdef";

	wr(f, FCR, 0x81);		/* FIFO on, trigger level 8 */
	assert_int_equal(rd(f, IIR), 0xc1);
	wr(f, IER, 0x01);
	assert_int_equal(irq(f), 0);

	assert_int_equal(uart_receive(f->uart, in, 3), 3);
	/* Below the trigger and nothing else coming: character timeout. */
	assert_int_equal(irq(f), 1);
	assert_int_equal(rd(f, IIR), 0xcc);
	assert_int_equal(uart_receive(f->uart, in + 3, 5), 5);
	assert_int_equal(rd(f, IIR), 0xc4);	/* 8 bytes: at the trigger */
	assert_int_equal(rd(f, RBR), '0');
	assert_int_equal(rd(f, IIR), 0xcc);	/* 7: below it again */
	for (int i = 1; i < 8; i++)
		assert_int_equal(rd(f, RBR), in[i]);
	assert_int_equal(rd(f, IIR), 0xc1);
	assert_int_equal(irq(f), 0);

	/* The other trigger levels: 1, 4, 14. */
	wr(f, FCR, 0x01);
	assert_int_equal(uart_receive(f->uart, in, 1), 1);
	assert_int_equal(rd(f, IIR), 0xc4);
	wr(f, FCR, 0x43);		/* level 4, clear RX */
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	assert_int_equal(uart_receive(f->uart, in, 4), 4);
	assert_int_equal(rd(f, IIR), 0xc4);
	wr(f, FCR, 0xc3);		/* level 14, clear RX */
	assert_int_equal(uart_receive(f->uart, in, 13), 13);
	assert_int_equal(rd(f, IIR), 0xcc);
	assert_int_equal(uart_receive(f->uart, in, 1), 1);
	assert_int_equal(rd(f, IIR), 0xc4);
}

static void test_fcr_clears(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[4] = "wxyz";

	wr(f, FCR, 0x01);
	assert_int_equal(uart_receive(f->uart, in, 4), 4);
	assert_int_equal(rd(f, LSR) & 0x01, 1);
	/* Clear bits are ignored unless FCR0 is set in the same write... */
	wr(f, FCR, 0x01 | 0x02);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	assert_int_equal(uart_receive(f->uart, in, 4), 4);
	/* ...and turning the FIFO off empties it (16550D §8.5). */
	wr(f, FCR, 0x00);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	assert_int_equal(rd(f, IIR) & 0xc0, 0);
	/* Back in 16450 mode a second byte waits in the host queue. */
	assert_int_equal(uart_receive(f->uart, in, 2), 2);
	assert_int_equal(rd(f, RBR), 'w');
	assert_int_equal(rd(f, RBR), 'x');
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	/* Turning it on also empties the holding register. */
	assert_int_equal(uart_receive(f->uart, in, 1), 1);
	wr(f, FCR, 0x01);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
}

static void test_rx_host_queue(void **state)
{
	struct fixture *f = *state;
	enum { N = 5000 };
	static uint8_t in[N];
	size_t taken, got = 0;

	for (size_t i = 0; i < N; i++)
		in[i] = (uint8_t)(i * 7 + i / 256);
	wr(f, FCR, 0xc1);
	taken = uart_receive(f->uart, in, N);
	/* The queue holds 4 KiB; 16 of them already went on to the FIFO. */
	assert_int_equal(taken, UART_RX_QUEUE_SIZE);
	assert_int_equal(uart_receive(f->uart, in + taken, N - taken), 16);
	taken += 16;
	assert_int_equal(uart_receive(f->uart, in + taken, N - taken), 0);

	/* The guest reads everything, in order, without loss. */
	while (rd(f, LSR) & 0x01) {
		assert_true(got < taken);
		assert_int_equal(rd(f, RBR), in[got]);
		got++;
		/* Every byte read makes room for one more host byte. */
		if (taken < N)
			assert_int_equal(uart_receive(f->uart, in + taken,
						      N - taken), 1);
		taken += taken < N;
	}
	assert_int_equal(got, N);
	assert_int_equal(rd(f, LSR) & 0x9f, 0);	/* no overrun either */
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	const uint8_t host[] = "H";
	char buf[8];

	assert_int_equal(rd(f, MSR), 0xb0);
	wr(f, MCR, 0x10);
	/* The host's CTS/DSR/DCD disappear: three deltas, no RI edge. */
	assert_int_equal(rd(f, MSR), 0x0b);
	assert_int_equal(rd(f, MSR), 0x00);	/* deltas clear on read */

	wr(f, MCR, 0x1f);	/* DTR, RTS, OUT1, OUT2 loop to the inputs */
	assert_int_equal(rd(f, MSR), 0xfb);
	wr(f, MCR, 0x1b);	/* OUT1 off: RI trailing edge */
	assert_int_equal(rd(f, MSR), 0xb4);
	wr(f, MCR, 0x1f);	/* RI rising edge: no delta */
	assert_int_equal(rd(f, MSR), 0xf0);

	/* Transmitted bytes come back and the line stays quiet. */
	wr(f, THR, 'L');
	assert_int_equal(rd(f, LSR) & 0x01, 1);
	assert_int_equal(rd(f, RBR), 'L');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);

	/* Host input waits until loopback ends. */
	assert_int_equal(uart_receive(f->uart, host, 1), 1);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	wr(f, MCR, 0x0b);
	assert_int_equal(rd(f, LSR) & 0x01, 1);
	assert_int_equal(rd(f, RBR), 'H');
	assert_int_equal(rd(f, MSR) & 0xf0, 0xb0);

	wr(f, THR, 'o');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'o');
}

static void test_overrun(void **state)
{
	struct fixture *f = *state;

	/* 16450 mode: the new character replaces the unread one. */
	wr(f, MCR, 0x10);
	wr(f, THR, '1');
	wr(f, THR, '2');
	assert_int_equal(rd(f, LSR) & 0x03, 0x03);
	assert_int_equal(rd(f, LSR) & 0x03, 0x01);	/* OE cleared by the read */
	assert_int_equal(rd(f, RBR), '2');

	/* FIFO mode: the FIFO keeps its 16 bytes, the 17th is lost. */
	wr(f, FCR, 0x07);
	for (int i = 0; i < 17; i++)
		wr(f, THR, (uint8_t)('a' + i));
	assert_int_equal(rd(f, LSR) & 0x03, 0x03);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(f, RBR), 'a' + i);
	assert_int_equal(rd(f, LSR) & 0x03, 0);
}

static void test_iir_priorities(void **state)
{
	struct fixture *f = *state;

	/* Make all four interrupt sources pending at once (in loopback). */
	wr(f, FCR, 0x01);
	wr(f, MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(f, THR, 'p');	/* RDA/timeout and an overrun */
	wr(f, IER, 0x0f);		/* THRE armed by the enable */
	assert_int_equal(irq(f), 1);

	assert_int_equal(rd(f, IIR), 0xc6);	/* 1: line status */
	rd(f, LSR);
	assert_int_equal(rd(f, IIR), 0xc4);	/* 2: received data */
	for (int i = 0; i < 16; i++)
		rd(f, RBR);
	/* The IIR read that reports THRE is the one that resets it. */
	assert_int_equal(rd(f, IIR), 0xc2);	/* 3: THR empty */
	assert_int_equal(rd(f, IIR), 0xc0);	/* 4: modem status */
	assert_int_equal(irq(f), 1);
	rd(f, MSR);
	assert_int_equal(rd(f, IIR), 0xc1);
	assert_int_equal(irq(f), 0);

	/* Masked sources are not identified. */
	wr(f, IER, 0x00);
	wr(f, THR, 'q');
	wr(f, MCR, 0x11);
	assert_int_equal(rd(f, IIR), 0xc1);
	assert_int_equal(irq(f), 0);
	wr(f, IER, 0x08);
	assert_int_equal(rd(f, IIR), 0xc0);
}

static void test_wide_accesses(void **state)
{
	struct fixture *f = *state;
	uint16_t w = 0x0383;	/* LCR = 0x83, MCR = 0x03 */
	uint64_t q;
	uint32_t d;

	/* A word write is two consecutive byte registers. */
	assert_int_equal(bus_write(&f->pio, BASE + LCR, &w, 2), 0);
	assert_int_equal(rd(f, LCR), 0x83);
	assert_int_equal(rd(f, MCR), 0x03);
	wr(f, LCR, 0x03);
	/* Reads of every width are fine; none runs past the 8 ports. */
	assert_int_equal(bus_read(&f->pio, BASE, &q, 8), 0);
	assert_int_equal(bus_read(&f->pio, BASE + 4, &d, 4), 0);
	assert_int_equal((d >> 8) & 0xff, 0x60);	/* LSR */
	assert_int_equal(bus_read(&f->pio, BASE + 6, &d, 4), -ENOENT);
	assert_int_equal(bus_write(&f->pio, BASE + 7, &w, 2), -ENOENT);
}

struct hammer {
	struct fixture *f;
	int n;
};

static void *hammer_thr(void *arg)
{
	struct hammer *h = arg;
	uint8_t v = 'z';

	for (int i = 0; i < h->n; i++) {
		bus_write(&h->f->pio, BASE + THR, &v, 1);
		bus_read(&h->f->pio, BASE + IIR, &v, 1);
		v = 'z';
	}
	return NULL;
}

/* Several vCPU threads and the input thread at once: nothing is lost. */
static void test_concurrent_access(void **state)
{
	struct fixture *f = *state;
	enum { THREADS = 4, PER = 2000 };
	struct hammer h = { f, PER };
	pthread_t t[THREADS];
	static char buf[THREADS * PER + 1];
	size_t total = 0, n;
	const uint8_t in[1] = "i";
	size_t received = 0;

	wr(f, FCR, 0x01);
	wr(f, IER, 0x0f);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thr, &h), 0);
	for (int i = 0; i < PER; i++) {
		received += uart_receive(f->uart, in, 1);
		rd(f, RBR);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	while ((n = drain_pipe(f, buf + total, sizeof(buf) - total)) > 0)
		total += n;
	assert_int_equal(total, THREADS * PER);
	for (size_t i = 0; i < total; i++)
		assert_int_equal(buf[i], 'z');
	assert_int_equal(received, PER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_reset_values),
		T(test_dlab_and_scratch),
		T(test_output_reaches_fd),
		cmocka_unit_test(test_output_dropped_without_fd),
		T(test_output_stalled_reader),
		T(test_thre_interrupt),
		T(test_rx_non_fifo),
		T(test_rx_fifo_trigger_and_timeout),
		T(test_fcr_clears),
		T(test_rx_host_queue),
		T(test_loopback),
		T(test_overrun),
		T(test_iir_priorities),
		T(test_wide_accesses),
		T(test_concurrent_access),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
