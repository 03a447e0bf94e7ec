// SPDX-License-Identifier: MIT
/*
 * The 16550A UART at 0x3F8 through the port bus, with host input arriving
 * in between (uart_receive) and transmitted bytes going to a pipe.
 *
 * Invariants: IRQ 4 is a level that the device only ever changes (no
 * raise while high); reading IIR agrees with it (an interrupt is
 * identified exactly while the line is high, checked before the read's
 * own side effects); the host queue never takes more than it has room
 * for; no byte comes out of RBR that the host did not send or the guest
 * did not loop back, and never more bytes than went in; as long as the
 * guest leaves FCR and MCR alone, host bytes come out of RBR in order,
 * none lost.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/legacy/uart.h"
#include "lib/layout.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define BASE	LAYOUT_COM1_PORT
#define GSI	LAYOUT_COM1_GSI

static int out_pipe[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Non-blocking both ends, drained after every input: the device's
	 * fdout_write() path runs for real but never waits. */
	if (pipe2(out_pipe, O_NONBLOCK | O_CLOEXEC))
		abort();
	return 0;
}

static void drain_pipe(void)
{
	char buf[4096];

	while (read(out_pipe[0], buf, sizeof(buf)) > 0)
		;
}

struct state {
	struct fake_vm fvm;
	struct bus pio;
	struct uart *u;
	uint64_t host_in;	/* bytes the device took from the host */
	uint64_t guest_out;	/* THR writes, which loopback may feed back */
	uint64_t rbr_reads;	/* reads of RBR with LSR.DR set */
	unsigned int raises;
	/*
	 * Host bytes not read yet, in order. While the guest has not touched
	 * FCR or MCR (FIFO clears, loopback) nor read RBR outside OP_DRAIN,
	 * RBR must give exactly these, first in first out.
	 */
	uint8_t pending[UART_RX_QUEUE_SIZE + 16];
	size_t p_head, p_count;
	bool ordered;
};

static void pending_add(struct state *s, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && s->p_count < sizeof(s->pending); i++) {
		s->pending[(s->p_head + s->p_count) % sizeof(s->pending)] = buf[i];
		s->p_count++;
	}
}

enum {
	OP_READ,		/* width|reg */
	OP_WRITE,		/* width|reg, u32 */
	OP_RECEIVE,		/* n, n bytes */
	OP_RECEIVE_BIG,		/* u16 n: n copies of a byte */
	OP_IIR,			/* check IIR against the line */
	OP_DRAIN,		/* n: read LSR, then RBR while DR, at most n times */
	NR_OPS,
};

static uint8_t reg_read(struct state *s, unsigned int reg)
{
	return (uint8_t)fz_bus_read(&s->pio, BASE + reg, 1);
}

static void check_line(struct state *s)
{
	int level = s->fvm.irq_level[GSI];

	FZ_CHECK(level == 0 || level == 1, "IRQ level %d", level);
	/* Only a 0 -> 1 transition counts as a raise in the fake VM. */
	FZ_CHECK(s->fvm.irq_raises[GSI] >= s->raises, "raise count went down");
	s->raises = s->fvm.irq_raises[GSI];
}

static void run_op(struct state *s, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a, buf[256];
	unsigned int len, reg;
	size_t n, took;

	switch (op) {
	case OP_READ:
		a = fz_u8(f);
		reg = a & 7;
		len = fz_width(a >> 3) > 4 ? 4 : fz_width(a >> 3);
		if (reg == 0)
			s->ordered = false;	/* may have taken a byte */
		fz_bus_read(&s->pio, BASE + reg, len);
		break;
	case OP_WRITE: {
		uint32_t v;
		uint8_t lcr;

		a = fz_u8(f);
		reg = a & 7;
		len = fz_width(a >> 3) > 4 ? 4 : fz_width(a >> 3);
		v = fz_u32(f);
		/* Count the bytes that reach THR: DLAB clear, register 0. */
		lcr = reg_read(s, 3);
		for (unsigned int i = 0; i < len && reg + i < UART_NR_PORTS; i++) {
			if (reg + i == 0 && !(lcr & 0x80))
				s->guest_out++;
			if (reg + i == 2 || reg + i == 4)
				s->ordered = false;	/* FIFO clear, loopback */
			if (reg + i == 3)
				lcr = (uint8_t)(v >> (8 * i));
		}
		fz_bus_write(&s->pio, BASE + reg, v, len);
		break;
	}
	case OP_RECEIVE:
		n = fz_bytes(f, buf, fz_u8(f));
		took = uart_receive(s->u, buf, n);
		FZ_CHECK(took <= n, "took %zu of %zu bytes", took, n);
		s->host_in += took;
		pending_add(s, buf, took);
		break;
	case OP_RECEIVE_BIG: {
		static uint8_t big[65536];

		n = fz_u16(f);
		memset(big, fz_u8(f), n);
		took = uart_receive(s->u, big, n);
		FZ_CHECK(took <= n && took <= UART_RX_QUEUE_SIZE, "took %zu of %zu bytes", took, n);
		s->host_in += took;
		pending_add(s, big, took);
		break;
	}
	case OP_IIR: {
		int level = s->fvm.irq_level[GSI];
		uint8_t iir = reg_read(s, 2);

		FZ_CHECK((iir & 1) != level, "IIR %#x with the line at %d", iir, level);
		break;
	}
	case OP_DRAIN: {
		uint8_t lcr = reg_read(s, 3);

		n = fz_u8(f);
		/* RBR needs DLAB clear. */
		fz_bus_write(&s->pio, BASE + 3, lcr & 0x7f, 1);
		for (size_t i = 0; i < n && (reg_read(s, 5) & 1); i++) {
			uint8_t c = reg_read(s, 0);

			s->rbr_reads++;
			if (!s->ordered)
				continue;
			FZ_CHECK(s->p_count, "RBR gave %#x, but no host byte is pending", c);
			FZ_CHECK(c == s->pending[s->p_head],
				 "RBR gave %#x, the next host byte is %#x (%zu pending)", c,
				 s->pending[s->p_head], s->p_count);
			s->p_head = (s->p_head + 1) % sizeof(s->pending);
			s->p_count--;
		}
		fz_bus_write(&s->pio, BASE + 3, lcr, 1);
		FZ_CHECK(s->rbr_reads <= s->host_in + s->guest_out,
			 "%llu bytes read from RBR, %llu came in",
			 (unsigned long long)s->rbr_reads,
			 (unsigned long long)(s->host_in + s->guest_out));
		break;
	}
	}
	check_line(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = calloc(1, sizeof(*s));
	struct fz f;

	FZ_CHECK(s, "out of memory");
	s->ordered = true;
	fake_vm_init(&s->fvm);
	bus_init(&s->pio, "pio");
	s->u = uart_create(&s->fvm.ops, GSI, out_pipe[1]);
	FZ_CHECK(s->u && uart_attach(s->u, &s->pio, BASE) == 0, "cannot create the UART");
	fz_init(&f, data, size);
	while (fz_more(&f))
		run_op(s, &f);
	uart_destroy(s->u);
	FZ_CHECK(s->pio.nr_ranges == 0, "ports left registered");
	bus_exit(&s->pio);
	free(s);
	drain_pipe();
	return 0;
}
