// SPDX-License-Identifier: MIT
/*
 * The test device (QEMU pc-testdev + isa-debug-exit) through the port and
 * MMIO buses, with guest RAM for its flush-page port: every port at every
 * width, its IRQ-line ports, the MMIO scratch window, resets, and the
 * exit encoding switched between minivmm's and QEMU's.
 *
 * Invariants: each GSI 0-23 is at the level last written to its IRQ port
 * (non-zero: high), with one 0 -> 1 transition per raise, and all are low
 * after a reset; flushing a page of guest RAM keeps its contents and
 * leaves it readable and writable; an exit write stops the VM with v & 0xff,
 * or ((v << 1) | 1) & 0xff in QEMU mode; the MMIO scratch reads back what
 * was written there.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/legacy/testdev.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"

#define RAM_SIZE	(16 * 4096)

struct state {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct guest_mem mem;
	struct testdev *td;
	bool line[TESTDEV_NR_IRQ];	/* the model: what was last written */
	unsigned int raises[TESTDEV_NR_IRQ];
	bool qemu_exit;
};

enum {
	OP_PIO_READ,		/* u16 port offset, width */
	OP_PIO_WRITE,		/* u16 port offset, width, u64 */
	OP_IRQ,			/* line (mod 24), level byte */
	OP_FLUSH,		/* u32 guest address */
	OP_MMIO,		/* u16 offset, width, u64: write, read back */
	OP_EXIT,		/* width, u32 */
	OP_RESET,
	OP_MODE,		/* toggles the exit encoding */
	NR_OPS,
};

/* The ports the device has, and their neighbours. */
static uint64_t pick_port(uint16_t sel)
{
	static const uint16_t base[] = { 0xE0, 0xE4, 0xE8, 0xF4, 0x2000, 0x2010 };

	return base[(sel >> 8) % 6] + (sel & 0x1f);
}

static void check_lines(struct state *s)
{
	for (unsigned int n = 0; n < TESTDEV_NR_IRQ; n++) {
		FZ_CHECK(s->fvm.irq_level[n] == s->line[n], "GSI %u at %d, last written %d", n,
			 s->fvm.irq_level[n], s->line[n]);
		FZ_CHECK(s->fvm.irq_raises[n] == s->raises[n], "GSI %u raised %u times, expected %u",
			 n, s->fvm.irq_raises[n], s->raises[n]);
	}
}

static void model_irq_write(struct state *s, uint64_t port, uint64_t v, unsigned int len)
{
	uint64_t n = port - LAYOUT_TESTDEV_IRQ_PORT;
	bool level;

	/* Only an access that starts inside 0x2000-0x2017 reaches the device. */
	if (port < LAYOUT_TESTDEV_IRQ_PORT || n >= TESTDEV_NR_IRQ || n + len > TESTDEV_NR_IRQ)
		return;
	level = (len >= 8 ? v : v & ((1ULL << (8 * len)) - 1)) != 0;
	if (level && !s->line[n])
		s->raises[n]++;
	s->line[n] = level;
}

static void run_op(struct state *s, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS;
	unsigned int len;
	uint64_t port, v;

	switch (op) {
	case OP_PIO_READ:
		port = pick_port(fz_u16(f));
		len = fz_width(fz_u8(f));
		fz_bus_read(&s->pio, port, len > 4 ? 4 : len);
		break;
	case OP_PIO_WRITE:
		port = pick_port(fz_u16(f));
		len = fz_width(fz_u8(f));
		len = len > 4 ? 4 : len;
		v = fz_u64(f);
		if (port >= LAYOUT_TESTDEV_EXIT_PORT && port < LAYOUT_TESTDEV_EXIT_PORT + 4)
			break;	/* OP_EXIT checks the exit port */
		model_irq_write(s, port, v, len);
		fz_bus_write(&s->pio, port, v, len);
		break;
	case OP_IRQ: {
		unsigned int n = fz_u8(f) % TESTDEV_NR_IRQ;

		v = fz_u8(f) & 3;	/* mostly 0 and small values */
		model_irq_write(s, LAYOUT_TESTDEV_IRQ_PORT + n, v, 1);
		fz_bus_write(&s->pio, LAYOUT_TESTDEV_IRQ_PORT + n, v, 1);
		break;
	}
	case OP_FLUSH: {
		uint32_t a = fz_u32(f) % (RAM_SIZE * 2);	/* half of them past RAM */
		uint8_t *p = s->mem.base + (a < RAM_SIZE ? (a & ~4095u) : 0);
		uint8_t before = p[17];

		fz_bus_write(&s->pio, LAYOUT_TESTDEV_FLUSH_PORT, a, 4);
		FZ_CHECK(p[17] == before, "flush page changed RAM at %#x", a);
		p[17] = (uint8_t)(before + 1);	/* still writable */
		break;
	}
	case OP_MMIO: {
		uint64_t off = fz_u16(f), back;

		len = fz_width(fz_u8(f));
		v = fz_u64(f);
		off = off > LAYOUT_TESTDEV_MMIO_SIZE - len ? LAYOUT_TESTDEV_MMIO_SIZE - len : off;
		fz_bus_write(&s->mmio, LAYOUT_TESTDEV_MMIO_BASE + off, v, len);
		back = fz_bus_read(&s->mmio, LAYOUT_TESTDEV_MMIO_BASE + off, len);
		if (len < 8)
			v &= (1ULL << (8 * len)) - 1;
		FZ_CHECK(back == v, "MMIO scratch at %#lx read %#lx, wrote %#lx", (unsigned long)off,
			 (unsigned long)back, (unsigned long)v);
		break;
	}
	case OP_EXIT: {
		int want;

		len = fz_width(fz_u8(f));
		len = len > 4 ? 4 : len;
		v = fz_u32(f);
		if (len < 4)
			v &= (1ULL << (8 * len)) - 1;
		want = s->qemu_exit ? (int)(((v << 1) | 1) & 0xff) : (int)(v & 0xff);
		s->fvm.nr_stops = 0;
		fz_bus_write(&s->pio, LAYOUT_TESTDEV_EXIT_PORT, v, len);
		FZ_CHECK(s->fvm.nr_stops == 1 && s->fvm.stop_code == want,
			 "exit write %#lx: stop code %d, expected %d", (unsigned long)v,
			 s->fvm.stop_code, want);
		break;
	}
	case OP_RESET:
		device_list_reset(&s->fvm.devices);
		memset(s->line, 0, sizeof(s->line));
		break;
	case OP_MODE:
		s->qemu_exit = !s->qemu_exit;
		testdev_configure(s->td, &s->mem, s->qemu_exit);
		break;
	}
	check_lines(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = calloc(1, sizeof(*s));
	struct fz f;

	FZ_CHECK(s, "out of memory");
	fz_init(&f, data, size);
	fake_vm_init(&s->fvm);
	FZ_CHECK(fake_mem_init(&s->mem, RAM_SIZE) == 0, "out of memory");
	bus_init(&s->pio, "pio");
	bus_init(&s->mmio, "mmio");
	s->td = testdev_create(&s->fvm.ops);
	FZ_CHECK(s->td && testdev_attach(s->td, &s->pio, &s->mmio) == 0, "cannot create the device");
	testdev_configure(s->td, &s->mem, false);
	while (fz_more(&f))
		run_op(s, &f);
	testdev_destroy(s->td);
	FZ_CHECK(s->pio.nr_ranges == 0 && s->mmio.nr_ranges == 0, "ranges left registered");
	bus_exit(&s->pio);
	bus_exit(&s->mmio);
	fake_mem_free(&s->mem);
	free(s);
	return 0;
}
