// SPDX-License-Identifier: MIT
/* Unit tests for the ICH9 reset control register (0xCF9). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/reset.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

struct fixture {
	struct fake_vm fvm;
	struct bus pio;
	struct reset_ctl *rc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_vm_init(&f->fvm);
	if (bus_init(&f->pio, "pio"))
		return -1;
	f->rc = reset_ctl_create(&f->fvm.ops);
	if (!f->rc || reset_ctl_attach(f->rc, &f->pio))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	reset_ctl_destroy(f->rc);
	assert_int_equal(f->pio.nr_ranges, 0);
	bus_exit(&f->pio);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f)
{
	uint8_t v = 0x55;

	assert_int_equal(bus_read(&f->pio, 0xcf9, &v, 1), 0);
	return v;
}

static void wr(struct fixture *f, uint8_t v)
{
	assert_int_equal(bus_write(&f->pio, 0xcf9, &v, 1), 0);
}

static void test_readback(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f), 0);
	/* SYS_RST and FULL_RST are kept; the rest reads 0. */
	wr(f, 0x02);
	assert_int_equal(rd(f), 0x02);
	wr(f, 0xfb);
	assert_int_equal(rd(f), 0x0a);
	wr(f, 0x00);
	assert_int_equal(rd(f), 0x00);
	assert_int_equal(f->fvm.nr_stops, 0);
}

static void test_rst_cpu_resets(void **state)
{
	struct fixture *f = *state;

	/* Linux's reboot=pci: write 0x02, then 0x06. */
	wr(f, 0x02);
	assert_int_equal(f->fvm.nr_stops, 0);
	wr(f, 0x06);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_RESET);
	assert_int_equal(f->fvm.stop_code, 0);
	/* The FADT RESET_REG value on q35 (0x0f, a full reset) as well. */
	wr(f, 0x0f);
	assert_int_equal(f->fvm.nr_stops, 2);
	assert_int_equal(rd(f), 0x0a);
	/* A soft reset (RST_CPU alone) too. */
	wr(f, 0x04);
	assert_int_equal(f->fvm.nr_stops, 3);
}

static uint32_t cf8_latch;

static void cf8_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	bus_data_put(data, len, cf8_latch >> (8 * off));
}

static void cf8_write(void *opaque, uint64_t off, const void *data,
		      unsigned int len)
{
	cf8_latch = (uint32_t)bus_data_get(data, len);
}

static const struct bus_dev_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

static void test_only_cf9(void **state)
{
	struct fixture *f = *state;
	uint32_t d = 0x80000000;
	uint16_t w = 0;

	/* The PCI host bridge can still take 0xCF8 as a dword... */
	assert_int_equal(bus_register(&f->pio, 0xcf8, 1, &cf8_ops, NULL, "cf8"), 0);
	assert_int_equal(bus_register(&f->pio, 0xcfa, 2, &cf8_ops, NULL, "cfa"), 0);
	/* ...and wide accesses never reach the reset register. */
	assert_int_equal(bus_write(&f->pio, 0xcf9, &w, 2), -ENOENT);
	assert_int_equal(bus_read(&f->pio, 0xcf9, &d, 4), -ENOENT);
	assert_int_equal(f->fvm.nr_stops, 0);
	assert_int_equal(reset_ctl_attach(f->rc, &f->pio), -EBUSY);
	assert_int_equal(bus_unregister(&f->pio, 0xcf8), 0);
	assert_int_equal(bus_unregister(&f->pio, 0xcfa), 0);
	assert_null(reset_ctl_create(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_cpu_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_cf9, setup, teardown),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("reset", tests, NULL, NULL);
}
