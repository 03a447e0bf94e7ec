// SPDX-License-Identifier: MIT
/* Unit tests for the ICH9 ACPI PM I/O block, through a real port bus. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/acpi_pm.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define BASE		LAYOUT_PM_BASE
#define SCI		LAYOUT_SCI_GSI
#define PM1_STS		0x00
#define PM1_EN		0x02
#define PM1_CNT		0x04
#define PM1_TMR		0x08
#define GPE0_STS	0x20
#define GPE0_EN		0x28

#define PWRBTN		(1u << 8)
#define SCI_EN		1u
#define SLP_EN		(1u << 13)
#define SLP_TYP(t)	((uint32_t)(t) << 10)

#define NS		1000000000ll

static int64_t fake_ns;

static int64_t fake_clock(void *opaque)
{
	return fake_ns;
}

struct fixture {
	struct fake_vm fvm;
	struct bus pio;
	struct acpi_pm *pm;
	uint16_t base;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_vm_init(&f->fvm);
	if (bus_init(&f->pio, "pio"))
		return -1;
	f->pm = acpi_pm_create(&f->fvm.ops, SCI);
	if (!f->pm || acpi_pm_attach(f->pm, &f->pio, BASE))
		return -1;
	f->base = BASE;
	fake_ns = 1000 * NS;
	acpi_pm_set_clock(f->pm, fake_clock, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acpi_pm_destroy(f->pm);
	bus_exit(&f->pio);
	free(f);
	return 0;
}

static uint32_t in(struct fixture *f, unsigned int off, unsigned int len)
{
	uint64_t v = 0;

	assert_int_equal(bus_read(&f->pio, f->base + off, &v, len), 0);
	return (uint32_t)v;
}

static void out(struct fixture *f, unsigned int off, unsigned int len,
		uint64_t v)
{
	assert_int_equal(bus_write(&f->pio, f->base + off, &v, len), 0);
}

static int sci(struct fixture *f)
{
	return f->fvm.irq_level[SCI];
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, PM1_STS, 2), 0);
	assert_int_equal(in(f, PM1_EN, 2), 0);
	assert_int_equal(in(f, PM1_CNT, 4), 0);
	assert_int_equal(in(f, PM1_TMR, 4), 0);
	assert_int_equal(in(f, GPE0_STS, 4), 0);
	assert_int_equal(in(f, GPE0_EN, 4), 0);
	assert_int_equal(sci(f), 0);
	assert_null(acpi_pm_create(NULL, SCI));
	assert_int_equal(acpi_pm_attach(f->pm, &f->pio, 0x700), -EBUSY);
}

static void test_pm_timer(void **state)
{
	struct fixture *f = *state;
	uint32_t prev = 0, t;

	/* 3.579545 MHz: one second is 3579545 ticks. */
	fake_ns += NS;
	assert_int_equal(in(f, PM1_TMR, 4), 3579545);
	/* 1 us is 3.58 ticks: the count never goes backwards. */
	for (int i = 0; i < 1000; i++) {
		fake_ns += 1000;
		t = in(f, PM1_TMR, 4);
		assert_true(t >= prev);
		prev = t;
	}
	/* Read-only. */
	out(f, PM1_TMR, 4, 0);
	assert_int_equal(in(f, PM1_TMR, 4), prev);
	/* Byte reads see the same counter. */
	assert_int_equal(in(f, PM1_TMR, 1), prev & 0xff);
	assert_int_equal(in(f, PM1_TMR + 3, 1), 0);
}

static void test_pm_timer_wraps_at_24_bits(void **state)
{
	struct fixture *f = *state;
	/* 2^24 ticks = 4.687 s; land just before and after the wrap. */
	int64_t wrap_ns = (int64_t)((1ull << 24) * NS / ACPI_PM_TIMER_HZ);
	uint32_t t;

	fake_ns = 1000 * NS + wrap_ns - 10000;
	t = in(f, PM1_TMR, 4);
	assert_true(t > 0xff0000 && t <= 0xffffff);
	fake_ns += 20000;
	t = in(f, PM1_TMR, 4);
	assert_true(t < 0x100);
	/* Many wraps later, still only 24 bits. */
	for (int i = 0; i < 100; i++) {
		fake_ns += 7 * NS + 12345;
		assert_int_equal(in(f, PM1_TMR, 4) & 0xff000000, 0);
	}
	/* Bit 23 toggled along the way: TMROF_STS (write 1 to clear). */
	assert_int_equal(in(f, PM1_STS, 2) & 1, 1);
	out(f, PM1_STS, 2, 1);
	assert_int_equal(in(f, PM1_STS, 2) & 1, 0);
}

static void test_pm1_write_one_to_clear(void **state)
{
	struct fixture *f = *state;

	acpi_pm_power_button(f->pm);
	assert_int_equal(in(f, PM1_STS, 2), PWRBTN);
	/* Writing 0s, or 1s elsewhere, leaves it. */
	out(f, PM1_STS, 2, 0);
	out(f, PM1_STS, 2, 0xfeff);
	assert_int_equal(in(f, PM1_STS, 2), PWRBTN);
	/* Writing it as a byte of the high half clears it. */
	out(f, PM1_STS + 1, 1, 0x01);
	assert_int_equal(in(f, PM1_STS, 2), 0);

	/* A dword write covers STS and EN: clear one, program the other. */
	acpi_pm_power_button(f->pm);
	out(f, PM1_STS, 4, ((uint64_t)PWRBTN << 16) | PWRBTN);
	assert_int_equal(in(f, PM1_STS, 2), 0);
	assert_int_equal(in(f, PM1_EN, 2), PWRBTN);
	/* Only the defined enable bits stick. */
	out(f, PM1_EN, 2, 0xffff);
	assert_int_equal(in(f, PM1_EN, 2), 0x4521);
}

static void test_power_button_sci(void **state)
{
	struct fixture *f = *state;

	/* Not in ACPI mode yet: the event waits in PM1_STS. */
	out(f, PM1_EN, 2, PWRBTN);
	acpi_pm_power_button(f->pm);
	assert_int_equal(sci(f), 0);
	out(f, PM1_CNT, 4, SCI_EN);
	assert_int_equal(sci(f), 1);
	assert_int_equal(in(f, PM1_CNT, 4), SCI_EN);
	/* The OS handles it and clears the status: SCI drops. */
	out(f, PM1_STS, 2, PWRBTN);
	assert_int_equal(sci(f), 0);
	/* Disabled events do not signal. */
	out(f, PM1_EN, 2, 0);
	acpi_pm_power_button(f->pm);
	assert_int_equal(sci(f), 0);
	out(f, PM1_EN, 2, PWRBTN);
	assert_int_equal(sci(f), 1);
	/* Leaving ACPI mode (through the APM port's handler) masks it. */
	acpi_pm_set_acpi_mode(f->pm, false);
	assert_int_equal(sci(f), 0);
	acpi_pm_set_acpi_mode(f->pm, true);
	assert_int_equal(sci(f), 1);
	assert_int_equal(f->fvm.irq_raises[SCI], 3);
	assert_int_equal(f->fvm.nr_stops, 0);
}

static void test_sleep_requests(void **state)
{
	struct fixture *f = *state;

	/* SLP_TYP without SLP_EN: nothing happens, the type is kept. */
	out(f, PM1_CNT, 2, SCI_EN | SLP_TYP(5));
	assert_int_equal(in(f, PM1_CNT, 2), SCI_EN | SLP_TYP(5));
	assert_int_equal(f->fvm.nr_stops, 0);
	/* S1 (ICH9 encoding 1) and S3 (5): warned once, ignored. */
	out(f, PM1_CNT, 2, SCI_EN | SLP_TYP(1) | SLP_EN);
	out(f, PM1_CNT, 2, SCI_EN | SLP_TYP(5) | SLP_EN);
	assert_int_equal(f->fvm.nr_stops, 0);
	/* SLP_EN is write-only. */
	assert_int_equal(in(f, PM1_CNT, 2) & SLP_EN, 0);
	/* QEMU's S5 (SLP_TYP 0): power off. */
	out(f, PM1_CNT, 2, SCI_EN | SLP_TYP(0) | SLP_EN);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_POWEROFF);
	assert_int_equal(f->fvm.stop_code, 0);
}

static void test_sleep_ich9_s5_byte_write(void **state)
{
	struct fixture *f = *state;

	/* ICH9's S5 (7), written as the high byte only, as ACPICA may. */
	out(f, PM1_CNT + 1, 1, (SLP_TYP(7) | SLP_EN) >> 8);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_POWEROFF);
	/* A dword write of the same. */
	out(f, PM1_CNT, 4, SLP_TYP(7) | SLP_EN);
	assert_int_equal(f->fvm.nr_stops, 2);
}

static void test_gpe_sci(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_CNT, 2, SCI_EN);
	assert_int_equal(acpi_pm_gpe_raise(f->pm, 64), -EINVAL);
	assert_int_equal(acpi_pm_gpe_raise(f->pm, 1), 0);
	assert_int_equal(in(f, GPE0_STS, 4), 0x2);
	assert_int_equal(sci(f), 0);		/* not enabled */
	out(f, GPE0_EN, 1, 0x2);
	assert_int_equal(sci(f), 1);
	assert_int_equal(in(f, GPE0_EN, 4), 0x2);

	/* A high GPE: bit 63, enabled through a byte at the top. */
	assert_int_equal(acpi_pm_gpe_raise(f->pm, 63), 0);
	assert_int_equal(in(f, GPE0_STS + 7, 1), 0x80);
	out(f, GPE0_EN + 7, 1, 0x80);
	/* Clearing one leaves the SCI up for the other. */
	out(f, GPE0_STS, 4, 0x2);
	assert_int_equal(in(f, GPE0_STS, 4), 0);
	assert_int_equal(sci(f), 1);
	out(f, GPE0_STS + 4, 4, 0x80000000u);
	assert_int_equal(sci(f), 0);
	/* Writes of 0 do not clear. */
	acpi_pm_gpe_raise(f->pm, 2);
	out(f, GPE0_STS, 4, 0);
	assert_int_equal(in(f, GPE0_STS, 4), 0x4);
	/* Disabling the enable drops the SCI while the status stays. */
	out(f, GPE0_EN, 4, 0x4);
	assert_int_equal(sci(f), 1);
	out(f, GPE0_EN, 4, 0);
	assert_int_equal(sci(f), 0);
	assert_int_equal(in(f, GPE0_STS, 4), 0x4);
}

static void test_other_registers_store(void **state)
{
	struct fixture *f = *state;

	/* SMI_EN and friends read back what firmware wrote. */
	out(f, 0x30, 4, 0x00002063);
	assert_int_equal(in(f, 0x30, 4), 0x00002063);
	out(f, 0x7c, 4, 0xdeadbeef);
	assert_int_equal(in(f, 0x7c, 4), 0xdeadbeef);
	/* Past the block nothing answers. */
	assert_int_equal(bus_read(&f->pio, BASE + 0x7e, &(uint32_t){ 0 }, 4), -ENOENT);
	assert_int_equal(bus_read(&f->pio, BASE + 0x80, &(uint8_t){ 0 }, 1), -ENOENT);
}

static void test_relocate(void **state)
{
	struct fixture *f = *state;
	uint32_t v;

	out(f, 0x40, 4, 0x12345678);
	/* Move: the old place is gone, the registers came along. */
	assert_int_equal(acpi_pm_set_base(f->pm, 0xb000, true), 0);
	assert_int_equal(bus_read(&f->pio, BASE, &v, 4), -ENOENT);
	f->base = 0xb000;
	assert_int_equal(in(f, 0x40, 4), 0x12345678);
	/* PMBASE bits 6:0 are not address bits (bit 0 marks I/O space). */
	assert_int_equal(acpi_pm_set_base(f->pm, 0xb081, true), 0);
	f->base = 0xb080;
	assert_int_equal(in(f, 0x40, 4), 0x12345678);
	/* Same place again is a no-op. */
	assert_int_equal(acpi_pm_set_base(f->pm, 0xb080, true), 0);
	assert_int_equal(f->pio.nr_ranges, 1);
	/* Disabled: gone until enabled again. */
	assert_int_equal(acpi_pm_set_base(f->pm, 0xb080, false), 0);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_int_equal(acpi_pm_set_base(f->pm, 0x600, true), 0);
	f->base = 0x600;
	assert_int_equal(in(f, 0x40, 4), 0x12345678);
	/* Right next to another device is fine; on top of it is refused,
	 * and the block stays unmapped rather than half-mapped. */
	assert_int_equal(bus_register(&f->pio, 0x700, 8,
				      &(struct bus_dev_ops){ 0 }, NULL, "other"), 0);
	assert_int_equal(acpi_pm_set_base(f->pm, 0x780, true), 0);
	assert_int_equal(acpi_pm_set_base(f->pm, 0x700, true), -EEXIST);
	assert_int_equal(bus_read(&f->pio, 0x780, &v, 4), -ENOENT);
	assert_int_equal(f->pio.nr_ranges, 1);
	assert_int_equal(acpi_pm_set_base(f->pm, 0xff80, true), 0);
	f->base = 0xff80;
	assert_int_equal(in(f, 0x40, 4), 0x12345678);
	assert_int_equal(bus_unregister(&f->pio, 0x700), 0);
}

static void test_set_base_unattached(void **state)
{
	struct fake_vm fvm;
	struct acpi_pm *pm;

	fake_vm_init(&fvm);
	pm = acpi_pm_create(&fvm.ops, SCI);
	assert_non_null(pm);
	assert_int_equal(acpi_pm_set_base(pm, 0x600, true), -ENODEV);
	acpi_pm_destroy(pm);
}

static void test_real_clock_monotonic(void **state)
{
	struct fixture *f = *state;
	uint32_t prev, t;
	unsigned int advanced = 0;

	acpi_pm_set_clock(f->pm, NULL, NULL);
	prev = in(f, PM1_TMR, 4);
	/* The 24-bit counter only goes forward (modulo 2^24; a wrap takes
	 * 4.7 s, far longer than this loop). */
	for (int i = 0; i < 100000; i++) {
		t = in(f, PM1_TMR, 4);
		assert_int_equal(t & 0xff000000, 0);
		assert_true(((t - prev) & 0xffffff) < 0x800000);
		advanced += t != prev;
		prev = t;
	}
	assert_true(advanced > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_reset_state),
		T(test_pm_timer),
		T(test_pm_timer_wraps_at_24_bits),
		T(test_pm1_write_one_to_clear),
		T(test_power_button_sci),
		T(test_sleep_requests),
		T(test_sleep_ich9_s5_byte_write),
		T(test_gpe_sci),
		T(test_other_registers_store),
		T(test_relocate),
		cmocka_unit_test(test_set_base_unattached),
		T(test_real_clock_monotonic),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("acpi_pm", tests, NULL, NULL);
}
