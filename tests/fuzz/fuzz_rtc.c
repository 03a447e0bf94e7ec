// SPDX-License-Identifier: MIT
/*
 * The MC146818A RTC and CMOS at 0x70-0x73 through the port bus, on a
 * clock the fuzzer moves: forwards by up to days, sometimes backwards (a
 * host clock step), from a start anywhere in 1970-2100.
 *
 * Invariants: IRQ 8 follows register C's IRQF (read without clearing it:
 * the check goes through a second index write); the calendar registers
 * read while the clock runs in BCD mode are valid BCD digits within their
 * ranges, unless the guest wrote a time field since (then anything it
 * wrote may be echoed until the next second rolls over, so those reads
 * are not checked); a time set with SET in BCD 24-hour mode reads back,
 * after the clock ran N seconds and a fraction, as that time plus N
 * seconds by the C library's calendar (day of week included).
 */
#include <string.h>
#include <time.h>

#include "devices/bus.h"
#include "devices/legacy/rtc.h"
#include "lib/layout.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define NS	1000000000LL

struct state {
	struct fake_vm fvm;
	struct bus pio;
	struct rtc *rtc;
	int64_t now;		/* the host clock, read by the interrupt thread too */
	bool time_written;	/* the guest set a calendar field */
};

static int64_t fake_now(void *opaque)
{
	return __atomic_load_n(&((struct state *)opaque)->now, __ATOMIC_RELAXED);
}

static uint8_t cmos_read(struct state *s, uint8_t idx)
{
	fz_bus_write(&s->pio, 0x70, idx, 1);
	return (uint8_t)fz_bus_read(&s->pio, 0x71, 1);
}

static bool bcd_ok(uint8_t v, unsigned int lo, unsigned int hi)
{
	unsigned int d = (v >> 4) * 10 + (v & 0xf);

	return (v & 0xf) <= 9 && (v >> 4) <= 9 && d >= lo && d <= hi;
}

static void check_calendar(struct state *s)
{
	uint8_t a = cmos_read(s, 0x0a), b = cmos_read(s, 0x0b);
	uint8_t sec, min, mday, mon, wday;

	/* Running (divider on, SET clear), BCD, 24-hour: what firmware uses. */
	if (s->time_written || ((a >> 4) & 7) > 2 || (b & 0x80) || (b & 0x04) || !(b & 0x02))
		return;
	sec = cmos_read(s, 0x00);
	min = cmos_read(s, 0x02);
	wday = cmos_read(s, 0x06);
	mday = cmos_read(s, 0x07);
	mon = cmos_read(s, 0x08);
	FZ_CHECK(bcd_ok(sec, 0, 59) && bcd_ok(min, 0, 59) && bcd_ok(wday, 1, 7) &&
		 bcd_ok(mday, 1, 31) && bcd_ok(mon, 1, 12),
		 "calendar %02x:%02x wday %02x %02x/%02x", min, sec, wday, mday, mon);
	FZ_CHECK(bcd_ok(cmos_read(s, 0x04), 0, 23), "hour %02x", cmos_read(s, 0x04));
}

enum {
	OP_READ,		/* width|port */
	OP_WRITE,		/* width|port, u32 */
	OP_CMOS_WRITE,		/* index, value: index then data */
	OP_CMOS_READ,		/* index */
	OP_TICK,		/* u32 ns */
	OP_TICK_BIG,		/* u16 seconds */
	OP_STEP_BACK,		/* u32 ns */
	OP_CHECK,		/* the calendar and IRQ 8 */
	OP_SET_CHECK,		/* a date and time, seconds + ns to run: set, run, read back */
	NR_OPS,
};

static uint8_t bcd(unsigned int v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

/*
 * Set the clock the way firmware and Linux do (SET, the fields in BCD
 * 24-hour mode, SET cleared), let the host clock run, read it back: it
 * must show the time set plus the whole seconds that passed, by the C
 * library's calendar (timegm/gmtime_r), which shares no code with rtc.c.
 */
static void set_and_check(struct state *s, struct fz *f)
{
	struct tm tm = { 0 }, out;
	unsigned int year = 1900 + fz_u16(f) % 300;
	uint16_t adv;
	uint32_t frac;
	time_t t;

	tm.tm_year = (int)year - 1900;
	tm.tm_mon = fz_u8(f) % 12;
	tm.tm_mday = 1 + fz_u8(f) % 28;
	tm.tm_hour = fz_u8(f) % 24;
	tm.tm_min = fz_u8(f) % 60;
	tm.tm_sec = fz_u8(f) % 60;
	adv = fz_u16(f);
	frac = fz_u32(f) % 1000000000u;

	fz_bus_write(&s->pio, 0x70, 0x0a, 1);
	fz_bus_write(&s->pio, 0x71, 0x26, 1);
	fz_bus_write(&s->pio, 0x70, 0x0b, 1);
	fz_bus_write(&s->pio, 0x71, 0x82, 1);
	{
		const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
		const uint8_t vals[7] = {
			bcd((unsigned int)tm.tm_sec), bcd((unsigned int)tm.tm_min),
			bcd((unsigned int)tm.tm_hour), bcd((unsigned int)tm.tm_mday),
			bcd((unsigned int)tm.tm_mon + 1), bcd(year % 100), bcd(year / 100),
		};

		for (unsigned int i = 0; i < 7; i++) {
			fz_bus_write(&s->pio, 0x70, regs[i], 1);
			fz_bus_write(&s->pio, 0x71, vals[i], 1);
		}
	}
	fz_bus_write(&s->pio, 0x70, 0x0b, 1);
	fz_bus_write(&s->pio, 0x71, 0x02, 1);
	s->time_written = false;
	__atomic_store_n(&s->now, s->now + adv * NS + frac, __ATOMIC_RELAXED);

	t = timegm(&tm) + adv;
	FZ_CHECK(gmtime_r(&t, &out), "gmtime");
	year = (unsigned int)out.tm_year + 1900;
	{
		uint8_t sec = cmos_read(s, 0x00), min = cmos_read(s, 0x02), hour = cmos_read(s, 0x04);
		uint8_t wday = cmos_read(s, 0x06), mday = cmos_read(s, 0x07), mon = cmos_read(s, 0x08);
		uint8_t yr = cmos_read(s, 0x09), cent = cmos_read(s, 0x32);

		FZ_CHECK(sec == bcd((unsigned int)out.tm_sec) && min == bcd((unsigned int)out.tm_min) &&
			 hour == bcd((unsigned int)out.tm_hour) &&
			 mday == bcd((unsigned int)out.tm_mday) &&
			 mon == bcd((unsigned int)out.tm_mon + 1) && yr == bcd(year % 100) &&
			 cent == bcd(year / 100) && wday == bcd((unsigned int)out.tm_wday + 1),
			 "after %u s the RTC reads %02x%02x-%02x-%02x %02x:%02x:%02x wday %x, expected %04u-%02d-%02d %02d:%02d:%02d wday %d",
			 adv, cent, yr, mon, mday, hour, min, sec, wday, year, out.tm_mon + 1,
			 out.tm_mday, out.tm_hour, out.tm_min, out.tm_sec, out.tm_wday + 1);
	}
}

static bool is_time_index(uint8_t idx)
{
	idx &= 0x7f;
	return idx <= 0x09 || idx == 0x32;
}

static void run_op(struct state *s, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a, idx;
	unsigned int len;

	switch (op) {
	case OP_READ:
		a = fz_u8(f);
		len = fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2);
		fz_bus_read(&s->pio, LAYOUT_RTC_PORT + (a & 3), len);
		break;
	case OP_WRITE: {
		uint32_t v;

		a = fz_u8(f);
		len = fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2);
		v = fz_u32(f);
		/* Any data write may set a time field (the index is whatever
		 * the guest left in 0x70): stop checking the calendar. */
		if ((a & 3) + len > 1)
			s->time_written = true;
		fz_bus_write(&s->pio, LAYOUT_RTC_PORT + (a & 3), v, len);
		break;
	}
	case OP_CMOS_WRITE:
		idx = fz_u8(f);
		a = fz_u8(f);
		if (is_time_index(idx))
			s->time_written = true;
		fz_bus_write(&s->pio, 0x70, idx, 1);
		fz_bus_write(&s->pio, 0x71, a, 1);
		break;
	case OP_CMOS_READ:
		cmos_read(s, fz_u8(f));
		break;
	case OP_TICK:
		__atomic_store_n(&s->now, s->now + fz_u32(f), __ATOMIC_RELAXED);
		break;
	case OP_TICK_BIG:
		__atomic_store_n(&s->now, s->now + fz_u16(f) * NS * 7, __ATOMIC_RELAXED);
		break;
	case OP_STEP_BACK:
		__atomic_store_n(&s->now, s->now - fz_u32(f) * 64LL, __ATOMIC_RELAXED);
		break;
	case OP_CHECK: {
		/* Register C without reading it: index 0x0c, then peek
		 * through the bank the fuzzer cannot clear by accident. The
		 * line must follow IRQF; read C (clearing it) and it drops. */
		uint8_t c = cmos_read(s, 0x0c);

		FZ_CHECK(!(c & 0x80) || (c & 0x70 & cmos_read(s, 0x0b)),
			 "IRQF set in C=%#x without an enabled flag (B=%#x)", c, cmos_read(s, 0x0b));
		FZ_CHECK(s->fvm.irq_level[LAYOUT_RTC_GSI] == 0,
			 "IRQ 8 still high after reading C (C was %#x)", c);
		check_calendar(s);
		break;
	}
	case OP_SET_CHECK:
		set_and_check(s, f);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_config cfg = {
		.ram_below_4g = 512ULL << 20, .ram_above_4g = 1ULL << 32, .nr_cpus = 4,
	};
	struct state *s = calloc(1, sizeof(*s));
	struct fz f;

	FZ_CHECK(s, "out of memory");
	fz_init(&f, data, size);
	/* Somewhere between 1970 and 2100, to the nanosecond. */
	s->now = (int64_t)(fz_u64(&f) % (4102444800ULL * NS));
	fake_vm_init(&s->fvm);
	bus_init(&s->pio, "pio");
	s->rtc = rtc_create(&s->fvm.ops, &cfg);
	FZ_CHECK(s->rtc && rtc_attach(s->rtc, &s->pio) == 0, "cannot create the RTC");
	rtc_set_clock(s->rtc, fake_now, s);
	while (fz_more(&f))
		run_op(s, &f);
	rtc_destroy(s->rtc);
	FZ_CHECK(s->pio.nr_ranges == 0, "ports left registered");
	bus_exit(&s->pio);
	free(s);
	return 0;
}
