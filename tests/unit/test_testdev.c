// SPDX-License-Identifier: MIT
/* Unit tests for the pc-testdev / isa-debug-exit compatible test device. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/testdev.h"
#include "lib/log.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"

#define MEM	LAYOUT_TESTDEV_MMIO_BASE
#define MEMSZ	LAYOUT_TESTDEV_MMIO_SIZE

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct testdev *td;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_vm_init(&f->fvm);
	if (bus_init(&f->pio, "pio") || bus_init(&f->mmio, "mmio"))
		return -1;
	f->td = testdev_create(&f->fvm.ops);
	if (!f->td || testdev_attach(f->td, &f->pio, &f->mmio))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testdev_destroy(f->td);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

static uint64_t pin(struct fixture *f, uint16_t port, unsigned int len)
{
	uint64_t v = 0;

	assert_int_equal(bus_read(&f->pio, port, &v, len), 0);
	return v;
}

static void pout(struct fixture *f, uint16_t port, unsigned int len, uint64_t v)
{
	assert_int_equal(bus_write(&f->pio, port, &v, len), 0);
}

static void test_scratch_lanes(void **state)
{
	struct fixture *f = *state;

	pout(f, 0xe0, 4, 0x11223344);
	assert_int_equal(pin(f, 0xe0, 4), 0x11223344);
	assert_int_equal(pin(f, 0xe0, 1), 0x44);
	assert_int_equal(pin(f, 0xe1, 1), 0x33);
	assert_int_equal(pin(f, 0xe2, 1), 0x22);
	assert_int_equal(pin(f, 0xe3, 1), 0x11);
	assert_int_equal(pin(f, 0xe2, 2), 0x1122);
	assert_int_equal(pin(f, 0xe1, 2), 0x2233);
	/* A partial write replaces only its lanes. */
	pout(f, 0xe2, 1, 0xaa);
	assert_int_equal(pin(f, 0xe0, 4), 0x11aa3344);
	pout(f, 0xe1, 2, 0xbbcc);
	assert_int_equal(pin(f, 0xe0, 4), 0x11bbcc44);
	pout(f, 0xe0, 2, 0x0102);
	assert_int_equal(pin(f, 0xe0, 4), 0x11bb0102);
	/* Accesses running past 0xe3 belong to no device. */
	assert_int_equal(bus_read(&f->pio, 0xe2, &(uint32_t){ 0 }, 4), -ENOENT);
	assert_int_equal(bus_write(&f->pio, 0xe3, &(uint16_t){ 0 }, 2), -ENOENT);
	assert_int_equal(pin(f, 0xe0, 4), 0x11bb0102);
}

static void test_byte_view(void **state)
{
	struct fixture *f = *state;

	/* 0xe8 is a byte-granular window on the same register. */
	pout(f, 0xe0, 4, 0xcafef00d);
	assert_int_equal(pin(f, 0xe8, 4), 0xcafef00d);
	assert_int_equal(pin(f, 0xeb, 1), 0xca);
	pout(f, 0xe9, 1, 0x00);
	assert_int_equal(pin(f, 0xe0, 4), 0xcafe000d);
	pout(f, 0xe8, 4, 0x01020304);
	assert_int_equal(pin(f, 0xe0, 4), 0x01020304);
	assert_int_equal(pin(f, 0xea, 2), 0x0102);
}

/* Without guest RAM (testdev_configure not called): accepted, ignored. */
static void test_flush_page(void **state)
{
	struct fixture *f = *state;

	pout(f, 0xe4, 4, 0x12345000);
	pout(f, 0xe4, 1, 0);
	assert_int_equal(pin(f, 0xe4, 4), 0);
	assert_int_equal(f->fvm.nr_stops, 0);
}

/*
 * With guest RAM: the page is mprotect()ed to nothing and back (what
 * makes KVM drop its mapping), so it stays readable and writable with
 * its contents; an address past RAM, a byte write and the page's other
 * offsets are harmless.
 */
static void test_flush_page_ram(void **state)
{
	struct fixture *f = *state;
	struct guest_mem mem;
	uint32_t *p;

	assert_int_equal(fake_mem_init(&mem, 4 * 4096), 0);
	testdev_configure(f->td, &mem, false);
	p = gpa(&mem, 0x1000);
	p[0] = 0xdeadbeef;
	pout(f, 0xe4, 4, 0x1234);		/* inside page 0x1000 */
	assert_int_equal(p[0], 0xdeadbeef);
	p[1] = 0x5a5a5a5a;			/* writable again */
	pout(f, 0xe4, 4, 0x3fff);		/* the last page */
	pout(f, 0xe4, 4, 0x4000);		/* past RAM: ignored */
	pout(f, 0xe4, 4, 0xfffff000);
	pout(f, 0xe5, 1, 0x10);			/* not at the port's start */
	pout(f, 0xe4, 1, 0x10);			/* page 0, a byte's worth */
	assert_int_equal(p[1], 0x5a5a5a5a);
	*(volatile uint32_t *)gpa(&mem, 0x3ffc) = 1;
	assert_int_equal(f->fvm.nr_stops, 0);
	testdev_configure(f->td, NULL, false);
	fake_mem_free(&mem);
}

/* pc-testdev's IRQ ports: one GSI per port, level as written, only
 * transitions passed on; reset lowers what is still raised. */
static void test_irq_ports(void **state)
{
	struct fixture *f = *state;

	pout(f, 0x2000 + 10, 1, 1);
	assert_int_equal(f->fvm.irq_level[10], 1);
	assert_int_equal(f->fvm.irq_raises[10], 1);
	pout(f, 0x2000 + 10, 1, 0xff);		/* still high: nothing new */
	assert_int_equal(f->fvm.irq_raises[10], 1);
	pout(f, 0x2000 + 10, 1, 0);
	assert_int_equal(f->fvm.irq_level[10], 0);
	pout(f, 0x2000 + 10, 1, 0);		/* already low */
	pout(f, 0x2000 + 23, 1, 1);		/* the last IOAPIC pin */
	assert_int_equal(f->fvm.irq_level[23], 1);
	pout(f, 0x2000 + 0, 2, 0x100);		/* wider: line 0 alone, non-zero */
	assert_int_equal(f->fvm.irq_level[0], 1);
	assert_int_equal(f->fvm.irq_level[1], 0);
	assert_int_equal(pin(f, 0x2000 + 23, 1), 0);	/* reads 0 */
	assert_int_equal(bus_write(&f->pio, 0x2000 + 24, &(uint8_t){ 1 }, 1), -ENOENT);
	device_list_reset(&f->fvm.devices);
	assert_int_equal(f->fvm.irq_level[0], 0);
	assert_int_equal(f->fvm.irq_level[23], 0);
	assert_int_equal(f->fvm.irq_raises[23], 1);
	pout(f, 0x2000 + 23, 1, 1);		/* usable again after reset */
	assert_int_equal(f->fvm.irq_raises[23], 2);
}

/* --testdev exit=qemu: isa-debug-exit's (v << 1) | 1. */
static void test_exit_qemu(void **state)
{
	struct fixture *f = *state;

	static const uint64_t v[][2] = {
		{ 0, 1 }, { 0x10, 0x21 },
		{ 0x80, 0x01 },			/* 0x101: exit() keeps 8 bits */
	};

	testdev_configure(f->td, NULL, true);
	for (unsigned int i = 0; i < 3; i++) {
		f->fvm.nr_stops = 0;		/* the first request wins: start over */
		pout(f, 0xf4, 4, v[i][0]);
		assert_int_equal(f->fvm.stop_code, v[i][1]);
	}
}

static void test_exit(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pin(f, 0xf4, 4), 0);
	assert_int_equal(f->fvm.nr_stops, 0);
	pout(f, 0xf4, 4, 0x1234);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_TESTDEV);
	assert_int_equal(f->fvm.stop_code, 0x34);
}

static void test_exit_widths(void **state)
{
	struct fixture *f = *state;

	/* Byte write of 0 (a passing test) at another offset of the port. */
	pout(f, 0xf5, 1, 0);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_TESTDEV);
	assert_int_equal(f->fvm.stop_code, 0);
	pout(f, 0xf4, 2, 0xff);
	assert_int_equal(f->fvm.nr_stops, 2);
	/* The fake keeps the first verdict, as the real VM does. */
	assert_int_equal(f->fvm.stop_code, 0);
}

static void test_mmio_scratch(void **state)
{
	struct fixture *f = *state;
	uint64_t q = 0x0807060504030201ull, r = 0;
	uint32_t d = 0;
	uint8_t b = 0;

	/* Untouched memory reads zero. */
	assert_int_equal(bus_read(&f->mmio, MEM + 0x100, &r, 8), 0);
	assert_true(r == 0);
	for (unsigned int len = 1; len <= 8; len *= 2) {
		uint64_t at = MEM + 0x200 + 16 * len + 1;	/* unaligned */

		r = 0;
		assert_int_equal(bus_write(&f->mmio, at, &q, len), 0);
		assert_int_equal(bus_read(&f->mmio, at, &r, len), 0);
		assert_memory_equal(&r, &q, len);
	}
	/* Bytes of a wide write are where little-endian puts them. */
	assert_int_equal(bus_write(&f->mmio, MEM + 0x400, &q, 8), 0);
	assert_int_equal(bus_read(&f->mmio, MEM + 0x403, &b, 1), 0);
	assert_int_equal(b, 0x04);
	assert_int_equal(bus_read(&f->mmio, MEM + 0x402, &d, 4), 0);
	assert_int_equal(d, 0x06050403);
}

static void test_mmio_bounds(void **state)
{
	struct fixture *f = *state;
	uint64_t q = 0xdeadbeefcafebabeull, r = 0;
	uint8_t b = 0x5a;

	/* The last 8 bytes and the last byte. */
	assert_int_equal(bus_write(&f->mmio, MEM + 0xfff8, &q, 8), 0);
	assert_int_equal(bus_read(&f->mmio, MEM + 0xfff8, &r, 8), 0);
	assert_true(r == q);
	assert_int_equal(bus_write(&f->mmio, MEM + 0xffff, &b, 1), 0);
	assert_int_equal(bus_read(&f->mmio, MEM + 0xffff, &b, 1), 0);
	assert_int_equal(b, 0x5a);
	/* Straddling the end, or past it: unhandled, all ones, no damage. */
	assert_int_equal(bus_read(&f->mmio, MEM + 0xfffc, &r, 8), -ENOENT);
	assert_true(r == UINT64_MAX);
	assert_int_equal(bus_write(&f->mmio, MEM + 0xfff9, &q, 8), -ENOENT);
	assert_int_equal(bus_write(&f->mmio, MEM + 0xffff, &q, 2), -ENOENT);
	assert_int_equal(bus_read(&f->mmio, MEM + MEMSZ, &b, 1), -ENOENT);
	assert_int_equal(bus_read(&f->mmio, MEM - 1, &b, 1), -ENOENT);
	assert_int_equal(bus_read(&f->mmio, MEM - 4, &r, 8), -ENOENT);
	assert_int_equal(bus_read(&f->mmio, MEM + 0xfff8, &r, 8), 0);
	/* The last byte is the 0x5a written over the top of q. */
	assert_true(r == ((q & 0x00ffffffffffffffull) | 0x5a00000000000000ull));
	assert_int_equal(f->mmio.unhandled, 6);
}

struct worker {
	struct fixture *f;
	unsigned int id;
	int ok;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t at = MEM + 8 * w->id, v, r;

	w->ok = 1;
	for (uint64_t i = 0; i < 20000; i++) {
		v = (i << 8) | w->id;
		bus_write(&w->f->mmio, at, &v, 8);
		bus_read(&w->f->mmio, at, &r, 8);
		if (r != v)
			w->ok = 0;
		bus_write(&w->f->pio, 0xe0 + (w->id & 3), &w->id, 1);
		bus_read(&w->f->pio, 0xe0, &r, 4);
	}
	return NULL;
}

/* vCPU threads at once: each sees its own memory, nobody crashes. */
static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];

	for (unsigned int i = 0; i < 4; i++) {
		w[i] = (struct worker){ f, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].ok);
	}
	/* Each lane ends with the id of the one thread that wrote it. */
	assert_int_equal(pin(f, 0xe0, 4), 0x03020100);
}

static void test_attach_conflict(void **state)
{
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct testdev *td;

	fake_vm_init(&fvm);
	assert_int_equal(bus_init(&pio, "pio"), 0);
	assert_int_equal(bus_init(&mmio, "mmio"), 0);
	assert_null(testdev_create(NULL));
	td = testdev_create(&fvm.ops);
	assert_non_null(td);
	/* Something already sits in the MMIO window: attach fails and
	 * leaves no port behind. */
	assert_int_equal(bus_register(&mmio, MEM + 0x1000, 1,
				      &(struct bus_dev_ops){ 0 }, NULL, "x"), 0);
	assert_int_equal(testdev_attach(td, &pio, &mmio), -EEXIST);
	assert_int_equal(pio.nr_ranges, 0);
	assert_int_equal(bus_unregister(&mmio, MEM + 0x1000), 0);
	assert_int_equal(testdev_attach(td, &pio, &mmio), 0);
	assert_int_equal(pio.nr_ranges, 5);
	assert_int_equal(testdev_attach(td, &pio, &mmio), -EBUSY);
	testdev_destroy(td);
	assert_int_equal(pio.nr_ranges + mmio.nr_ranges, 0);
	bus_exit(&pio);
	bus_exit(&mmio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_scratch_lanes),
		T(test_byte_view),
		T(test_flush_page),
		T(test_flush_page_ram),
		T(test_irq_ports),
		T(test_exit_qemu),
		T(test_exit),
		T(test_exit_widths),
		T(test_mmio_scratch),
		T(test_mmio_bounds),
		T(test_concurrent),
		cmocka_unit_test(test_attach_conflict),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("testdev", tests, NULL, NULL);
}
