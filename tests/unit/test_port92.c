// SPDX-License-Identifier: MIT
/* Unit tests for System Control Port A (0x92): fast reset and A20. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/port92.h"
#include "tests/unit/fake_vm.h"

struct fixture {
	struct fake_vm fvm;
	struct bus pio;
	struct port92 *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	f->p = port92_create(&f->fvm.ops);
	assert_non_null(f->p);
	assert_int_equal(port92_attach(f->p, &f->pio), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	port92_destroy(f->p);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_null(f->fvm.devices.first);	/* destroy unregistered it */
	bus_exit(&f->pio);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f)
{
	uint8_t v = 0x55;

	assert_int_equal(bus_read(&f->pio, LAYOUT_PORT92, &v, 1), 0);
	return v;
}

static void wr(struct fixture *f, uint8_t v)
{
	assert_int_equal(bus_write(&f->pio, LAYOUT_PORT92, &v, 1), 0);
}

static void test_power_on(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f), 0);
	assert_string_equal(f->fvm.devices.first->name, "port92");
}

/* Only a 0 -> 1 edge of ALT_RST resets; A20 alone never does. */
static void test_fast_reset_on_edge(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x02);
	assert_int_equal(f->fvm.nr_stops, 0);
	assert_int_equal(rd(f), 0x02);
	wr(f, 0x03);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_RESET);
	wr(f, 0x03);			/* still 1: no new edge */
	assert_int_equal(f->fvm.nr_stops, 1);
	wr(f, 0x02);
	wr(f, 0x01);
	assert_int_equal(f->fvm.nr_stops, 2);
	wr(f, 0xfc);			/* reserved bits do not stick */
	assert_int_equal(rd(f), 0);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x03);
	device_list_reset(&f->fvm.devices);
	assert_int_equal(rd(f), 0);
	wr(f, 0x01);			/* a fresh edge after the reset */
	assert_int_equal(f->fvm.nr_stops, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_reset_on_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
