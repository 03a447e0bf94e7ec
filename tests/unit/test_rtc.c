// SPDX-License-Identifier: MIT
/*
 * Unit tests for the MC146818A RTC / CMOS. A fake wall clock puts time
 * exactly where each test wants it, so nothing here depends on how fast
 * the machine runs; only test_interrupt_thread uses the real clock, and
 * it waits for events with a generous limit instead of timing them.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/rtc.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define NS	1000000000ll
#define MS	1000000ll
#define US	1000ll

enum { SEC = 0, SEC_ALARM, MIN, MIN_ALARM, HOUR, HOUR_ALARM, WDAY, MDAY,
       MONTH, YEAR, REG_A, REG_B, REG_C, REG_D, CENTURY = 0x32 };

static int64_t fake_ns;

static int64_t fake_clock(void *opaque)
{
	return __atomic_load_n(&fake_ns, __ATOMIC_SEQ_CST);
}

static void set_now(int64_t ns)
{
	__atomic_store_n(&fake_ns, ns, __ATOMIC_SEQ_CST);
}

static void advance(int64_t ns)
{
	__atomic_add_fetch(&fake_ns, ns, __ATOMIC_SEQ_CST);
}

/* Seconds since the epoch of a UTC date. */
static int64_t utc(int y, int mon, int d, int h, int min, int s)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = min, .tm_sec = s,
	};

	return (int64_t)timegm(&tm);
}

struct fixture {
	struct fake_vm fvm;
	struct bus pio;
	struct rtc *rtc;
};

static struct fixture *fixture_new(const struct rtc_config *cfg)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	f->rtc = rtc_create(&f->fvm.ops, cfg);
	assert_non_null(f->rtc);
	assert_int_equal(rtc_attach(f->rtc, &f->pio), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	rtc_destroy(f->rtc);
	assert_int_equal(f->pio.nr_ranges, 0);
	bus_exit(&f->pio);
	free(f);
}

static int setup(void **state)
{
	const struct rtc_config cfg = {
		.ram_below_4g = 64 << 20, .nr_cpus = 1,
	};
	struct fixture *f = fixture_new(&cfg);

	/* Thursday 2024-02-29 13:45:30.25 UTC */
	set_now(utc(2024, 2, 29, 13, 45, 30) * NS + 250 * MS);
	rtc_set_clock(f->rtc, fake_clock, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static uint8_t cmos(struct fixture *f, uint8_t idx)
{
	uint8_t v = 0;

	assert_int_equal(bus_write(&f->pio, 0x70, &idx, 1), 0);
	assert_int_equal(bus_read(&f->pio, 0x71, &v, 1), 0);
	return v;
}

static void cmos_set(struct fixture *f, uint8_t idx, uint8_t v)
{
	assert_int_equal(bus_write(&f->pio, 0x70, &idx, 1), 0);
	assert_int_equal(bus_write(&f->pio, 0x71, &v, 1), 0);
}

static int irq8(struct fixture *f)
{
	return f->fvm.irq_level[LAYOUT_RTC_GSI];
}

static void test_bcd_24h(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cmos(f, REG_B), 0x02);
	assert_int_equal(cmos(f, SEC), 0x30);
	assert_int_equal(cmos(f, MIN), 0x45);
	assert_int_equal(cmos(f, HOUR), 0x13);
	assert_int_equal(cmos(f, WDAY), 5);	/* Thursday; 1 = Sunday */
	assert_int_equal(cmos(f, MDAY), 0x29);
	assert_int_equal(cmos(f, MONTH), 0x02);
	assert_int_equal(cmos(f, YEAR), 0x24);
	assert_int_equal(cmos(f, CENTURY), 0x20);
	assert_int_equal(cmos(f, REG_A), 0x26);
	assert_int_equal(cmos(f, REG_D), 0x80);
}

static void test_binary_mode(void **state)
{
	struct fixture *f = *state;

	cmos_set(f, REG_B, 0x06);
	assert_int_equal(cmos(f, SEC), 30);
	assert_int_equal(cmos(f, MIN), 45);
	assert_int_equal(cmos(f, HOUR), 13);
	assert_int_equal(cmos(f, MDAY), 29);
	assert_int_equal(cmos(f, MONTH), 2);
	assert_int_equal(cmos(f, YEAR), 24);
	assert_int_equal(cmos(f, CENTURY), 20);
}

static void test_12h_mode(void **state)
{
	struct fixture *f = *state;
	static const struct { int hour; uint8_t bcd, bin; } h[] = {
		{ 0, 0x12, 12 }, { 1, 0x01, 1 }, { 11, 0x11, 11 },
		{ 12, 0x92, 0x8c }, { 13, 0x81, 0x81 }, { 23, 0x91, 0x8b },
	};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		set_now(utc(2024, 2, 29, h[i].hour, 0, 0) * NS);
		cmos_set(f, REG_B, 0x00);	/* BCD, 12-hour */
		assert_int_equal(cmos(f, HOUR), h[i].bcd);
		cmos_set(f, REG_B, 0x04);	/* binary, 12-hour */
		assert_int_equal(cmos(f, HOUR), h[i].bin);
	}
}

static void test_time_advances(void **state)
{
	struct fixture *f = *state;

	advance(750 * MS);
	assert_int_equal(cmos(f, SEC), 0x31);
	advance(29 * NS);
	assert_int_equal(cmos(f, SEC), 0x00);
	assert_int_equal(cmos(f, MIN), 0x46);

	/* Leap day to March, year and century boundaries. */
	set_now(utc(2024, 2, 29, 23, 59, 59) * NS + 999 * MS);
	assert_int_equal(cmos(f, MDAY), 0x29);
	advance(1 * MS);
	assert_int_equal(cmos(f, MDAY), 0x01);
	assert_int_equal(cmos(f, MONTH), 0x03);
	assert_int_equal(cmos(f, WDAY), 6);
	set_now(utc(2099, 12, 31, 23, 59, 59) * NS);
	assert_int_equal(cmos(f, CENTURY), 0x20);
	assert_int_equal(cmos(f, YEAR), 0x99);
	advance(NS);
	assert_int_equal(cmos(f, CENTURY), 0x21);
	assert_int_equal(cmos(f, YEAR), 0x00);
	assert_int_equal(cmos(f, MONTH), 0x01);
	assert_int_equal(cmos(f, WDAY), 6);	/* 2100-01-01: Friday */
}

static void test_set_time_with_set_bit(void **state)
{
	struct fixture *f = *state;

	cmos_set(f, REG_B, 0x82 | 0x10);	/* SET + UIE */
	/* Setting SET clears UIE (MC146818A register B). */
	assert_int_equal(cmos(f, REG_B), 0x82);
	cmos_set(f, SEC, 0x00);
	cmos_set(f, MIN, 0x00);
	cmos_set(f, HOUR, 0x08);
	cmos_set(f, MDAY, 0x01);
	cmos_set(f, MONTH, 0x01);
	cmos_set(f, YEAR, 0x30);
	cmos_set(f, CENTURY, 0x20);
	/* Frozen: the host clock moves, the registers do not. */
	advance(5 * NS);
	assert_int_equal(cmos(f, SEC), 0x00);
	assert_int_equal(cmos(f, HOUR), 0x08);
	assert_int_equal(cmos(f, REG_A) & 0x80, 0);	/* no UIP while SET */

	cmos_set(f, REG_B, 0x02);
	assert_int_equal(cmos(f, YEAR), 0x30);
	assert_int_equal(cmos(f, MONTH), 0x01);
	assert_int_equal(cmos(f, MDAY), 0x01);
	assert_int_equal(cmos(f, WDAY), 3);	/* 2030-01-01: Tuesday */
	/* The new second starts when SET is cleared. */
	advance(999 * MS);
	assert_int_equal(cmos(f, SEC), 0x00);
	advance(1 * MS);
	assert_int_equal(cmos(f, SEC), 0x01);
	advance(3600 * NS);
	assert_int_equal(cmos(f, HOUR), 0x09);

	/* Registers are not converted when the data mode changes under SET
	 * (nor on the chip): the guest rewrites them in the new mode. */
	cmos_set(f, REG_B, 0x86);
	cmos_set(f, HOUR, 22);
	cmos_set(f, YEAR, 31);
	cmos_set(f, CENTURY, 20);
	cmos_set(f, REG_B, 0x06);
	assert_int_equal(cmos(f, HOUR), 22);
	assert_int_equal(cmos(f, YEAR), 31);
	assert_int_equal(cmos(f, CENTURY), 20);
}

static void test_set_time_while_running(void **state)
{
	struct fixture *f = *state;

	/* Write only the minutes, without SET: the clock keeps counting and
	 * keeps its sub-second phase (we are .25 s into second 30). */
	cmos_set(f, MIN, 0x10);
	assert_int_equal(cmos(f, MIN), 0x10);
	assert_int_equal(cmos(f, SEC), 0x30);
	assert_int_equal(cmos(f, HOUR), 0x13);
	advance(749 * MS);
	assert_int_equal(cmos(f, SEC), 0x30);
	advance(1 * MS);
	assert_int_equal(cmos(f, SEC), 0x31);
	assert_int_equal(cmos(f, MIN), 0x10);
	/* The year, in binary mode. */
	cmos_set(f, REG_B, 0x06);
	cmos_set(f, YEAR, 99);
	assert_int_equal(cmos(f, YEAR), 99);
	assert_int_equal(cmos(f, CENTURY), 20);
	/* 2099 has no 29 February: the date rolls over into March. */
	assert_int_equal(cmos(f, MDAY), 1);
	assert_int_equal(cmos(f, MONTH), 3);
}

static void test_uip_window(void **state)
{
	struct fixture *f = *state;
	int64_t second = utc(2024, 2, 29, 13, 45, 30) * NS;

	/* UIP covers exactly the last 244 us (8 / 32768 s) of a second. */
	set_now(second + NS - 244140 - 1);
	assert_int_equal(cmos(f, REG_A), 0x26);
	set_now(second + NS - 244140);
	assert_int_equal(cmos(f, REG_A), 0xa6);
	set_now(second + NS - 1);
	assert_int_equal(cmos(f, REG_A), 0xa6);
	assert_int_equal(cmos(f, SEC), 0x30);
	set_now(second + NS);
	assert_int_equal(cmos(f, REG_A), 0x26);
	assert_int_equal(cmos(f, SEC), 0x31);
	/* Neither while SET freezes the clock nor in divider reset. */
	set_now(second + 2 * NS - 1);
	cmos_set(f, REG_B, 0x82);
	assert_int_equal(cmos(f, REG_A), 0x26);
	cmos_set(f, REG_B, 0x02);
	set_now(second + 2 * NS - 1);
	cmos_set(f, REG_A, 0x66);
	assert_int_equal(cmos(f, REG_A), 0x66);
	/* UIP is read-only. */
	cmos_set(f, REG_A, 0xa6);
	set_now(second);
	assert_int_equal(cmos(f, REG_A), 0x26);
}

static void test_update_flag_and_irq(void **state)
{
	struct fixture *f = *state;

	/* No periodic flags in the way (RS = 0). */
	cmos_set(f, REG_A, 0x20);
	/* Flags are set whether or not their interrupt is enabled. */
	assert_int_equal(cmos(f, REG_C), 0);
	advance(NS);
	assert_int_equal(cmos(f, REG_C), 0x10);		/* UF */
	assert_int_equal(cmos(f, REG_C), 0);		/* read clears */
	assert_int_equal(irq8(f), 0);

	cmos_set(f, REG_B, 0x12);			/* UIE */
	assert_int_equal(irq8(f), 0);
	advance(NS);
	cmos(f, REG_A);		/* any access credits the update */
	assert_int_equal(irq8(f), 1);
	assert_int_equal(cmos(f, REG_C), 0x90);		/* IRQF | UF */
	assert_int_equal(irq8(f), 0);
	assert_int_equal(cmos(f, REG_C), 0);

	/* A pending flag raises IRQF the moment its enable is set. */
	cmos_set(f, REG_B, 0x02);
	advance(NS);
	cmos(f, REG_A);
	assert_int_equal(irq8(f), 0);
	cmos_set(f, REG_B, 0x12);
	assert_int_equal(irq8(f), 1);
	/* and clearing the enable drops it again (IRQF is combinational) */
	cmos_set(f, REG_B, 0x02);
	assert_int_equal(irq8(f), 0);
	assert_int_equal(cmos(f, REG_C), 0x10);
	assert_int_equal(f->fvm.irq_raises[LAYOUT_RTC_GSI], 2);

	/* No updates while SET holds the clock. */
	cmos_set(f, REG_B, 0x82);
	advance(3 * NS);
	assert_int_equal(cmos(f, REG_C), 0);
}

static void test_periodic_flag(void **state)
{
	struct fixture *f = *state;
	int64_t second = utc(2024, 2, 29, 13, 45, 31) * NS;

	/* RS = 6: 1024 Hz, a period of 976.5625 us. */
	set_now(second);
	cmos(f, REG_C);
	advance(976 * US);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0);
	advance(1 * US);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0x40);

	/* RS = 3: 8192 Hz, 122.07 us. */
	cmos_set(f, REG_A, 0x23);
	cmos(f, REG_C);
	set_now(second + 122 * US);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0);
	set_now(second + 123 * US);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0x40);

	/* RS = 15: 2 Hz. */
	cmos_set(f, REG_A, 0x2f);
	set_now(second + 600 * MS);
	cmos(f, REG_C);
	set_now(second + 999 * MS);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0);
	set_now(second + 1000 * MS);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0x40);

	/* RS = 0: none. */
	cmos_set(f, REG_A, 0x20);
	cmos(f, REG_C);
	advance(10 * NS);
	assert_int_equal(cmos(f, REG_C) & 0x40, 0);

	/* PIE raises IRQ 8 at the next period. */
	cmos_set(f, REG_A, 0x26);
	cmos_set(f, REG_B, 0x42);
	cmos(f, REG_C);
	assert_int_equal(irq8(f), 0);
	advance(977 * US);
	cmos(f, REG_A);
	assert_int_equal(irq8(f), 1);
	assert_int_equal(cmos(f, REG_C), 0xc0);
	assert_int_equal(irq8(f), 0);
	cmos_set(f, REG_B, 0x02);
}

static void test_alarm(void **state)
{
	struct fixture *f = *state;
	int64_t t0 = utc(2024, 2, 29, 13, 45, 30) * NS;

	cmos_set(f, REG_A, 0x20);	/* no periodic flags in the way */
	cmos_set(f, SEC_ALARM, 0x35);
	cmos_set(f, MIN_ALARM, 0x45);
	cmos_set(f, HOUR_ALARM, 0x13);
	cmos(f, REG_C);
	set_now(t0 + 4 * NS + 999 * MS);
	assert_int_equal(cmos(f, REG_C), 0x10);		/* UF only */
	set_now(t0 + 5 * NS);
	assert_int_equal(cmos(f, REG_C), 0x30);		/* AF | UF */
	/* Passed over without a look in between: still noticed. */
	set_now(t0 - 10 * NS);
	cmos(f, REG_C);
	set_now(t0 + 20 * NS);
	assert_int_equal(cmos(f, REG_C) & 0x20, 0x20);

	/* "Don't care" bytes (11xxxxxx): every minute at second 0. */
	cmos_set(f, HOUR_ALARM, 0xc0);
	cmos_set(f, MIN_ALARM, 0xff);
	cmos_set(f, SEC_ALARM, 0x00);
	cmos_set(f, REG_B, 0x22);			/* AIE */
	set_now(t0 + 29 * NS);
	cmos(f, REG_C);
	assert_int_equal(irq8(f), 0);
	set_now(t0 + 30 * NS);				/* 13:46:00 */
	cmos(f, REG_A);
	assert_int_equal(irq8(f), 1);
	assert_int_equal(cmos(f, REG_C), 0xb0);
	assert_int_equal(irq8(f), 0);

	/* A long gap with an alarm that matches once a day. */
	cmos_set(f, HOUR_ALARM, 0x03);
	cmos_set(f, MIN_ALARM, 0x00);
	set_now(t0 + 3 * 86400 * NS);
	assert_int_equal(cmos(f, REG_C) & 0x20, 0x20);
	/* An alarm that can never match (invalid BCD) never fires. */
	cmos_set(f, HOUR_ALARM, 0x3f);
	cmos(f, REG_C);
	set_now(t0 + 10 * 86400 * NS);
	assert_int_equal(cmos(f, REG_C) & 0x20, 0);
	cmos_set(f, REG_B, 0x02);
}

static void test_divider_reset(void **state)
{
	struct fixture *f = *state;

	cmos_set(f, REG_A, 0x76);	/* DV = 111: divider held in reset */
	cmos(f, REG_C);
	advance(5 * NS);
	assert_int_equal(cmos(f, SEC), 0x30);	/* stopped */
	assert_int_equal(cmos(f, REG_C), 0);	/* no periodic, no update */
	cmos_set(f, REG_A, 0x26);
	/* The first update comes half a second after the reset ends. */
	advance(499 * MS);
	assert_int_equal(cmos(f, SEC), 0x30);
	advance(1 * MS);
	assert_int_equal(cmos(f, SEC), 0x31);
}

static void check_memory_bytes(const struct rtc_config *cfg,
			       const uint8_t expect[][2], size_t n)
{
	struct fixture *f = fixture_new(cfg);

	for (size_t i = 0; i < n; i++) {
		uint8_t v = cmos(f, expect[i][0]);

		if (v != expect[i][1])
			fail_msg("CMOS %#x: %#x, expected %#x", expect[i][0], v,
				 expect[i][1]);
	}
	fixture_free(f);
}

#define CHECK_MEM(cfg, ...) do {						\
	static const uint8_t e_[][2] = { __VA_ARGS__ };			\
	check_memory_bytes(cfg, e_, sizeof(e_) / sizeof(e_[0]));	\
} while (0)

static void test_cmos_memory_sizes(void **state)
{
	const uint64_t MiB = 1 << 20, GiB = 1ull << 30;
	struct rtc_config c64m = { .ram_below_4g = 64 * MiB, .nr_cpus = 1 };
	struct rtc_config c2g = { .ram_below_4g = 2 * GiB, .nr_cpus = 4 };
	struct rtc_config c6g = {
		.ram_below_4g = 3 * GiB, .ram_above_4g = 3 * GiB, .nr_cpus = 8,
	};
	struct rtc_config tiny = { .ram_below_4g = 512 * 1024, .nr_cpus = 2 };
	struct rtc_config c20m = { .ram_below_4g = 20 * MiB, .nr_cpus = 1 };
	struct rtc_config huge = {
		.ram_below_4g = 2 * GiB, .ram_above_4g = 255 * GiB, .nr_cpus = 255,
	};

	/* 640 KiB base; (64 - 1) MiB = 0xfc00 KiB; (64 - 16) MiB = 0x300 x 64 KiB */
	CHECK_MEM(&c64m, { 0x15, 0x80 }, { 0x16, 0x02 }, { 0x17, 0x00 },
		  { 0x18, 0xfc }, { 0x30, 0x00 }, { 0x31, 0xfc }, { 0x34, 0x00 },
		  { 0x35, 0x03 }, { 0x5b, 0 }, { 0x5c, 0 }, { 0x5d, 0 },
		  { 0x5f, 0 });
	/* Extended memory saturates at 0xffff KiB; 2 GiB - 16 MiB = 0x7f00 */
	CHECK_MEM(&c2g, { 0x15, 0x80 }, { 0x16, 0x02 }, { 0x17, 0xff },
		  { 0x18, 0xff }, { 0x30, 0xff }, { 0x31, 0xff }, { 0x34, 0x00 },
		  { 0x35, 0x7f }, { 0x5b, 0 }, { 0x5c, 0 }, { 0x5d, 0 },
		  { 0x5f, 3 });
	/* 6 GiB split 3 + 3: 3 GiB - 16 MiB = 0xbf00, 3 GiB above = 0xc000 */
	CHECK_MEM(&c6g, { 0x17, 0xff }, { 0x18, 0xff }, { 0x34, 0x00 },
		  { 0x35, 0xbf }, { 0x5b, 0x00 }, { 0x5c, 0xc0 }, { 0x5d, 0x00 },
		  { 0x5f, 7 });
	/* Under 640 KiB the base memory is what there is. */
	CHECK_MEM(&tiny, { 0x15, 0x00 }, { 0x16, 0x02 }, { 0x17, 0 },
		  { 0x18, 0 }, { 0x34, 0 }, { 0x35, 0 }, { 0x5f, 1 });
	/* 19 MiB = 0x4c00 KiB extended, 4 MiB = 0x40 x 64 KiB above 16 */
	CHECK_MEM(&c20m, { 0x17, 0x00 }, { 0x18, 0x4c }, { 0x34, 0x40 },
		  { 0x35, 0x00 });
	/* Three bytes above 4 GiB: 255 GiB = 0x3fc000 x 64 KiB */
	CHECK_MEM(&huge, { 0x5b, 0x00 }, { 0x5c, 0xc0 }, { 0x5d, 0x3f },
		  { 0x5f, 254 });
}

static void test_cmos_ram_and_ports(void **state)
{
	struct fixture *f = *state;
	uint8_t v, idx;
	uint32_t d;

	/* Bit 7 of the index is the NMI mask and does not select a byte. */
	idx = 0xc0;
	assert_int_equal(bus_write(&f->pio, 0x70, &idx, 1), 0);
	v = 0x5a;
	assert_int_equal(bus_write(&f->pio, 0x71, &v, 1), 0);
	assert_int_equal(cmos(f, 0x40), 0x5a);
	/* Index ports read as floating. */
	assert_int_equal(bus_read(&f->pio, 0x70, &v, 1), 0);
	assert_int_equal(v, 0xff);
	/* The upper bank is separate from the lower one. */
	idx = 0x40;
	v = 0xa5;
	assert_int_equal(bus_write(&f->pio, 0x72, &idx, 1), 0);
	assert_int_equal(bus_write(&f->pio, 0x73, &v, 1), 0);
	assert_int_equal(bus_read(&f->pio, 0x73, &v, 1), 0);
	assert_int_equal(v, 0xa5);
	assert_int_equal(cmos(f, 0x40), 0x5a);
	/* C and D are read-only. */
	cmos_set(f, REG_D, 0x00);
	assert_int_equal(cmos(f, REG_D), 0x80);
	cmos_set(f, REG_C, 0xf0);
	assert_int_equal(cmos(f, REG_C), 0);
	/* A word write to 0x70 is index then data. */
	d = 0x7741;
	assert_int_equal(bus_write(&f->pio, 0x70, &d, 2), 0);
	assert_int_equal(cmos(f, 0x41), 0x77);
	/* A dword read covers all four ports. */
	idx = 0x41;
	assert_int_equal(bus_write(&f->pio, 0x70, &idx, 1), 0);
	assert_int_equal(bus_read(&f->pio, 0x70, &d, 4), 0);
	assert_int_equal(d, 0xa5ff77ff);
	assert_int_equal(bus_read(&f->pio, 0x74, &v, 1), -ENOENT);
	assert_int_equal(rtc_attach(f->rtc, &f->pio), -EBUSY);
}

static void test_hostile_values(void **state)
{
	struct fixture *f = *state;
	uint64_t q = 0;

	/* Garbage everywhere (indices wrap at 128: 0x8a is register A and
	 * puts the divider in reset), then let the clock run from it. */
	cmos_set(f, REG_B, 0x82);
	for (unsigned int i = 0; i < 256; i++)
		if ((i & 0x7f) != REG_B)
			cmos_set(f, (uint8_t)i, 0xff);
	assert_int_equal(cmos(f, REG_A), 0x7f);
	cmos_set(f, REG_B, 0x02);
	cmos_set(f, REG_A, 0x26);
	advance(NS);
	/* Out-of-range fields were clamped: 2199-12-31 23:59:59 + 1 s is
	 * 2200-01-01, still a valid time. */
	assert_int_equal(cmos(f, CENTURY), 0x22);
	assert_int_equal(cmos(f, YEAR), 0x00);
	cmos_set(f, REG_B, 0x06);
	cmos_set(f, REG_A, 0x7f);
	cmos_set(f, REG_A, 0x2f);
	assert_int_equal(bus_read(&f->pio, 0x70, &q, 4), 0);
	assert_int_equal(bus_write(&f->pio, 0x70, &q, 4), 0);
	/* Very old dates clamp to 1900. */
	cmos_set(f, REG_B, 0x86);
	cmos_set(f, CENTURY, 0);
	cmos_set(f, YEAR, 0);
	cmos_set(f, REG_B, 0x06);
	assert_int_equal(cmos(f, CENTURY), 19);
	assert_int_equal(cmos(f, YEAR), 0);
}

static void test_localtime(void **state)
{
	const struct rtc_config cfg = {
		.localtime = true, .ram_below_4g = 64 << 20, .nr_cpus = 1,
	};
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	struct fixture *f;

	/* POSIX TZ: "XXX-3" is three hours ahead of UTC, no DST. */
	setenv("TZ", "XXX-3", 1);
	tzset();
	f = fixture_new(&cfg);
	set_now(utc(2024, 2, 29, 22, 30, 0) * NS);
	rtc_set_clock(f->rtc, fake_clock, NULL);
	assert_int_equal(cmos(f, HOUR), 0x01);
	assert_int_equal(cmos(f, MDAY), 0x01);
	assert_int_equal(cmos(f, MONTH), 0x03);
	fixture_free(f);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}

/*
 * IRQ 8 raises seen from the RTC's own thread. fake_vm is not meant to be
 * read while another thread writes it, so count them atomically here.
 */
static unsigned int thread_raises;
static int (*fake_set_irq_line)(void *vm, unsigned int gsi, int level);

static int counting_set_irq_line(void *vm, unsigned int gsi, int level)
{
	if (gsi == LAYOUT_RTC_GSI && level)
		__atomic_add_fetch(&thread_raises, 1, __ATOMIC_SEQ_CST);
	return fake_set_irq_line(vm, gsi, level);
}

static unsigned int raises(void)
{
	return __atomic_load_n(&thread_raises, __ATOMIC_SEQ_CST);
}

/* Wait (up to 10 s, far more than any event here needs) for IRQ 8. */
static bool wait_raises(unsigned int n)
{
	for (int i = 0; i < 10000 && raises() < n; i++)
		usleep(1000);
	return raises() >= n;
}

/* The thread raises IRQ 8 with nobody touching the ports. */
static void test_interrupt_thread(void **state)
{
	struct fixture *f = *state;

	/* No thread runs yet (no interrupt was ever enabled): safe to
	 * interpose on the fake's callback. */
	fake_set_irq_line = f->fvm.ops.set_irq_line;
	f->fvm.ops.set_irq_line = counting_set_irq_line;
	thread_raises = 0;
	rtc_set_clock(f->rtc, NULL, NULL);	/* the real host clock */
	cmos(f, REG_C);
	cmos_set(f, REG_B, 0x42);		/* PIE at 1024 Hz */
	assert_true(wait_raises(1));
	/* It stays high until C is read, then comes again. */
	assert_int_equal(cmos(f, REG_C) & 0xc0, 0xc0);
	assert_true(wait_raises(2));
	/* Update-ended interrupts, once a second. */
	cmos_set(f, REG_B, 0x12);
	cmos(f, REG_C);
	assert_true(wait_raises(3));
	assert_int_equal(cmos(f, REG_C) & 0x90, 0x90);
	/* All off: the thread idles and rtc_destroy stops it. */
	cmos_set(f, REG_B, 0x02);
	cmos(f, REG_C);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_bcd_24h),
		T(test_binary_mode),
		T(test_12h_mode),
		T(test_time_advances),
		T(test_set_time_with_set_bit),
		T(test_set_time_while_running),
		T(test_uip_window),
		T(test_update_flag_and_irq),
		T(test_periodic_flag),
		T(test_alarm),
		T(test_divider_reset),
		cmocka_unit_test(test_cmos_memory_sizes),
		T(test_cmos_ram_and_ports),
		T(test_hostile_values),
		cmocka_unit_test(test_localtime),
		T(test_interrupt_thread),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
