// SPDX-License-Identifier: MIT
/*
 * MC146818A real-time clock with CMOS RAM, after the Motorola MC146818A
 * datasheet ("MC146818A" below) and the ICH9 datasheet §13.6 "Real Time
 * Clock Registers" for the PC specifics (index port bit 7 is NMI_EN, the
 * upper 128-byte bank at 0x72/0x73, the century byte at 0x32).
 *
 * Time is kept as an offset against the host's CLOCK_REALTIME: the
 * "divider chain" time is host + offset nanoseconds on a UTC-like linear
 * scale (local time is a fixed offset taken at creation, like QEMU's
 * base=localtime). Calendar registers are generated from it on demand.
 *
 * Register C's flags are accounted lazily: every access first credits the
 * periodic, alarm and update-ended events that happened since the last
 * one. A guest that polls therefore never needs a timer. Only when it
 * enables an interrupt in register B is a small thread started, which
 * sleeps until the next event is due and raises IRQ 8.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/legacy/rtc.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "lib/thread.h"

#define NS_PER_SEC	1000000000ll
#define RTC_HZ		32768		/* the divider chain's time base */

/* Register indices (MC146818A "Address Map"). */
#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32	/* PC convention; the FADT's CENTURY field */

#define A_UIP		0x80
#define A_DV_MASK	0x70
#define A_DV_SHIFT	4
#define A_RS_MASK	0x0f
#define A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */

#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_SQWE		0x08
#define B_DM_BINARY	0x04
#define B_24H		0x02
#define B_DSE		0x01
#define B_DEFAULT	B_24H

#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10

#define D_VRT		0x80

#define HOUR_PM		0x80
#define ALARM_DONT_CARE	0xc0	/* MC146818A: alarm bytes 11xxxxxx match all */

/*
 * MC146818A "Update Cycle": UIP rises 244 us before the update that ends
 * the second (with a 32.768 kHz time base). QEMU uses the same window.
 */
#define UIP_HOLD_NS	(8 * NS_PER_SEC / RTC_HZ)

#define CMOS_SIZE	256	/* two banks of 128 bytes */

struct rtc {
	struct device dev;
	pthread_mutex_t lock;
	pthread_cond_t kick;		/* wakes the interrupt thread */
	pthread_t thread;
	bool thread_started, stopping;

	const struct vm_ops *ops;
	int irq_level;

	uint8_t cmos[CMOS_SIZE];
	uint8_t index, index_hi;

	int64_t (*now_ns)(void *opaque);	/* host wall clock */
	void *now_opaque;
	int64_t base_offset_ns;		/* UTC offset for a localtime RTC */
	int64_t offset_ns;		/* divider time = host + offset */
	int64_t last_ns;		/* divider time events are credited up to */

	struct bus *pio;
	bool attached;
};

/* Arithmetic that rounds towards minus infinity: times may precede 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (Howard Hinnant's civil calendar algorithms). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned int *m,
			    unsigned int *d)
{
	int64_t era;
	unsigned int doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t rtc_host_now(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t rtc_now(const struct rtc *r)
{
	return r->now_ns(r->now_opaque) + r->offset_ns;
}

/* MC146818A register A, DV2-DV0: 000/001/010 select a time base and run
 * the divider; 11x hold it in reset (and 011-101 are test modes, which
 * QEMU treats as stopped too). */
static bool rtc_divider_running(const struct rtc *r)
{
	return ((r->cmos[REG_A] & A_DV_MASK) >> A_DV_SHIFT) <= 2;
}

/* Time advances while the divider runs and SET does not freeze updates. */
static bool rtc_time_running(const struct rtc *r)
{
	return rtc_divider_running(r) && !(r->cmos[REG_B] & B_SET);
}

static uint8_t rtc_encode(const struct rtc *r, unsigned int v)
{
	if (r->cmos[REG_B] & B_DM_BINARY)
		return (uint8_t)v;
	v %= 100;
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

/* A guest may have written anything; the caller clamps the result. */
static unsigned int rtc_decode(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_DM_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static unsigned int clampu(unsigned int v, unsigned int lo, unsigned int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t rtc_encode_hour(const struct rtc *r, unsigned int hour)
{
	unsigned int h12;

	if (r->cmos[REG_B] & B_24H)
		return rtc_encode(r, hour);
	/* 12-hour mode: 12, 1..11, bit 7 set for PM (MC146818A, "Time,
	 * Calendar and Alarm Data Modes"). */
	h12 = hour % 12 ? hour % 12 : 12;
	return rtc_encode(r, h12) | (hour >= 12 ? HOUR_PM : 0);
}

static unsigned int rtc_decode_hour(const struct rtc *r, uint8_t v)
{
	unsigned int h;

	if (r->cmos[REG_B] & B_24H)
		return clampu(rtc_decode(r, v), 0, 23);
	h = clampu(rtc_decode(r, v & ~HOUR_PM), 1, 12) % 12;
	return h + (v & HOUR_PM ? 12 : 0);
}

/* Regenerate the calendar registers for the second containing ns. */
static void rtc_fill_time(struct rtc *r, int64_t ns)
{
	int64_t secs = floor_div(ns, NS_PER_SEC);
	int64_t days = floor_div(secs, 86400);
	unsigned int sod = (unsigned int)(secs - days * 86400);
	unsigned int mon, mday;
	int64_t year;

	civil_from_days(days, &year, &mon, &mday);
	r->cmos[REG_SEC] = rtc_encode(r, sod % 60);
	r->cmos[REG_MIN] = rtc_encode(r, sod / 60 % 60);
	r->cmos[REG_HOUR] = rtc_encode_hour(r, sod / 3600);
	/* 1 = Sunday; 1970-01-01 was a Thursday. */
	r->cmos[REG_WDAY] = rtc_encode(r, (unsigned int)floor_mod(days + 4, 7) + 1);
	r->cmos[REG_MDAY] = rtc_encode(r, mday);
	r->cmos[REG_MONTH] = rtc_encode(r, mon);
	r->cmos[REG_YEAR] = rtc_encode(r, (unsigned int)(year % 100));
	r->cmos[REG_CENTURY] = rtc_encode(r, (unsigned int)(year / 100));
}

/*
 * The time the calendar registers hold, in seconds. Out-of-range fields
 * are clamped and the year is kept within 1900-2199, so that every time
 * (and its offset against the host clock) fits int64 nanoseconds.
 * Day-of-week is derived from the date, never trusted.
 */
static int64_t rtc_parse_time(const struct rtc *r)
{
	unsigned int sec = clampu(rtc_decode(r, r->cmos[REG_SEC]), 0, 59);
	unsigned int min = clampu(rtc_decode(r, r->cmos[REG_MIN]), 0, 59);
	unsigned int hour = rtc_decode_hour(r, r->cmos[REG_HOUR]);
	unsigned int mday = clampu(rtc_decode(r, r->cmos[REG_MDAY]), 1, 31);
	unsigned int mon = clampu(rtc_decode(r, r->cmos[REG_MONTH]), 1, 12);
	unsigned int year = clampu(rtc_decode(r, r->cmos[REG_CENTURY]) * 100 +
				   clampu(rtc_decode(r, r->cmos[REG_YEAR]), 0, 99),
				   1900, 2199);

	return days_from_civil(year, mon, mday) * 86400 +
	       hour * 3600 + min * 60 + sec;
}

/* Make the divider time at host-now equal secs + phase_ns. */
static void rtc_set_time(struct rtc *r, int64_t secs, int64_t phase_ns)
{
	int64_t host = r->now_ns(r->now_opaque);

	r->offset_ns = secs * NS_PER_SEC + phase_ns - host;
	/* The clock jumped: events are counted from here, not across. */
	r->last_ns = host + r->offset_ns;
}

static bool rtc_alarm_matches(const struct rtc *r, int64_t secs)
{
	unsigned int sod = (unsigned int)floor_mod(secs, 86400);
	uint8_t now[3] = {
		rtc_encode(r, sod % 60),
		rtc_encode(r, sod / 60 % 60),
		rtc_encode_hour(r, sod / 3600),
	};
	static const unsigned int reg[3] = {
		REG_SEC_ALARM, REG_MIN_ALARM, REG_HOUR_ALARM,
	};

	for (int i = 0; i < 3; i++) {
		uint8_t a = r->cmos[reg[i]];

		if ((a & ALARM_DONT_CARE) != ALARM_DONT_CARE && a != now[i])
			return false;
	}
	return true;
}

/* Divider ticks per periodic interrupt for register A's RS bits, 0 if
 * off (MC146818A, "Periodic Interrupt Rate" table, 32.768 kHz column:
 * RS 1 and 2 are 256 and 128 Hz, RS n >= 3 is 65536 >> n Hz). */
static int64_t rtc_period_ticks(const struct rtc *r)
{
	unsigned int rs = r->cmos[REG_A] & A_RS_MASK;

	if (!rs)
		return 0;
	if (rs <= 2)
		return 64ll << rs;
	return 1ll << (rs - 1);
}

static int64_t rtc_ns_to_ticks(int64_t ns)
{
	int64_t s = floor_div(ns, NS_PER_SEC);

	return s * RTC_HZ + (ns - s * NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

/* The first nanosecond at which the tick count reaches ticks. */
static int64_t rtc_ticks_to_ns(int64_t ticks)
{
	int64_t s = floor_div(ticks, RTC_HZ);
	int64_t rem = ticks - s * RTC_HZ;

	return s * NS_PER_SEC + (rem * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

/* MC146818A "Interrupts": IRQF = PF·PIE + AF·AIE + UF·UIE, and the IRQ
 * pin follows IRQF. The flags line up with their enables bit for bit. */
static void rtc_update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[REG_C] & (C_PF | C_AF | C_UF);
	int level;

	if (c & r->cmos[REG_B])
		c |= C_IRQF;
	r->cmos[REG_C] = c;
	level = !!(c & C_IRQF);
	if (level != r->irq_level) {
		r->irq_level = level;
		r->ops->set_irq_line(r->ops->vm, LAYOUT_RTC_GSI, level);
	}
}

/* Credit the events between last_ns and now to register C. Flags are set
 * whether or not their interrupt is enabled (MC146818A, register C). */
static void rtc_account(struct rtc *r, int64_t now)
{
	int64_t last = r->last_ns, period, s, first;

	if (now <= last) {
		/* The host clock stepped back: resynchronise, credit nothing. */
		r->last_ns = now;
		return;
	}
	period = rtc_period_ticks(r);
	if (period && rtc_divider_running(r) &&
	    floor_div(rtc_ns_to_ticks(now), period) !=
	    floor_div(rtc_ns_to_ticks(last), period))
		r->cmos[REG_C] |= C_PF;

	if (rtc_time_running(r)) {
		s = floor_div(now, NS_PER_SEC);
		first = floor_div(last, NS_PER_SEC) + 1;
		if (s >= first) {
			r->cmos[REG_C] |= C_UF;
			/* Any alarm setting repeats within a day. */
			if (s - first >= 86400)
				first = s - 86400 + 1;
			for (; first <= s; first++) {
				if (rtc_alarm_matches(r, first)) {
					r->cmos[REG_C] |= C_AF;
					break;
				}
			}
		}
	}
	r->last_ns = now;
	rtc_update_irq(r);
}

/* Nanoseconds from now until the next event the guest wants as an
 * interrupt, or -1 if there is none to wait for. */
static int64_t rtc_next_event(const struct rtc *r, int64_t now)
{
	uint8_t b = r->cmos[REG_B];
	int64_t next = -1, period, t;

	/* IRQ 8 is already high; nothing to signal until C is read. */
	if (r->cmos[REG_C] & C_IRQF)
		return -1;
	period = rtc_period_ticks(r);
	if ((b & B_PIE) && period && rtc_divider_running(r)) {
		t = (floor_div(rtc_ns_to_ticks(now), period) + 1) * period;
		next = rtc_ticks_to_ns(t) - now;
	}
	if ((b & (B_UIE | B_AIE)) && rtc_time_running(r)) {
		t = (floor_div(now, NS_PER_SEC) + 1) * NS_PER_SEC - now;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}

static void *rtc_thread(void *opaque)
{
	struct rtc *r = opaque;
	struct timespec ts;
	int64_t wait;

	vmm_thread_enter(VMM_THREAD_TIMER);
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		int64_t now = rtc_now(r);

		rtc_account(r, now);
		wait = rtc_next_event(r, now);
		if (wait < 0) {
			pthread_cond_wait(&r->kick, &r->lock);
			continue;
		}
		/* Sleep on CLOCK_MONOTONIC: a wall-clock step must not make
		 * us oversleep; rtc_account copes with the step itself. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		wait += ts.tv_nsec;
		ts.tv_sec += wait / NS_PER_SEC;
		ts.tv_nsec = wait % NS_PER_SEC;
		pthread_cond_timedwait(&r->kick, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Called with the lock held after anything that may move the next event. */
static void rtc_kick(struct rtc *r)
{
	pthread_attr_t attr;
	int ret;

	if (r->thread_started) {
		pthread_cond_signal(&r->kick);
		return;
	}
	if (!(r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE)))
		return;
	ret = -vmm_thread_attr_init(&attr);
	if (!ret) {
		ret = pthread_create(&r->thread, &attr, rtc_thread, r);
		pthread_attr_destroy(&attr);
	}
	if (ret) {
		/* Register C still works for a guest that polls it. */
		pr_warn_once("rtc: cannot start the interrupt thread: %s (RTC interrupts will not be delivered)",
			     strerror(ret));
		return;
	}
	r->thread_started = true;
}

static void rtc_write_a(struct rtc *r, uint8_t v, int64_t now)
{
	bool was_running = rtc_time_running(r);
	bool div_was_running = rtc_divider_running(r);

	/* Should the divider stop, the registers keep this moment's time. */
	if (was_running)
		rtc_fill_time(r, now);
	/* UIP is read-only. */
	r->cmos[REG_A] = v & ~A_UIP;
	if (!was_running && rtc_time_running(r))
		/* MC146818A, "Divider Control": after the divider leaves
		 * reset the first update comes 500 ms later. Only SET kept
		 * it stopped if the divider never stopped. */
		rtc_set_time(r, rtc_parse_time(r),
			     div_was_running ? 0 : NS_PER_SEC / 2);
}

static void rtc_write_b(struct rtc *r, uint8_t v, int64_t now)
{
	bool was_running = rtc_time_running(r);

	/* MC146818A register B: setting SET clears UIE. */
	if (v & B_SET)
		v &= ~B_UIE;
	/* Freeze with the old data mode: it is the one the registers are in. */
	if (was_running && (v & B_SET))
		rtc_fill_time(r, now);
	r->cmos[REG_B] = v;
	/* Clearing SET starts a new second from the written time, in the
	 * data mode now in force (as QEMU does). */
	if (!was_running && rtc_time_running(r))
		rtc_set_time(r, rtc_parse_time(r), 0);
}

static bool rtc_is_time_reg(unsigned int idx)
{
	switch (idx) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
	case REG_MDAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
		return true;
	}
	return false;
}

static uint8_t rtc_data_read(struct rtc *r, unsigned int idx, int64_t now)
{
	uint8_t v;

	switch (idx) {
	case REG_A:
		v = r->cmos[REG_A];
		if (rtc_time_running(r) &&
		    floor_mod(now, NS_PER_SEC) >= NS_PER_SEC - UIP_HOLD_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		/* Reading C clears every flag and lowers IRQ 8. */
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		rtc_update_irq(r);
		return v;
	case REG_D:
		/* Valid RAM and Time: the "battery" never dies. */
		return D_VRT;
	}
	if (rtc_is_time_reg(idx) && rtc_time_running(r))
		rtc_fill_time(r, now);
	return r->cmos[idx];
}

static void rtc_data_write(struct rtc *r, unsigned int idx, uint8_t v,
			   int64_t now)
{
	switch (idx) {
	case REG_A:
		rtc_write_a(r, v, now);
		return;
	case REG_B:
		rtc_write_b(r, v, now);
		rtc_update_irq(r);
		return;
	case REG_C:
	case REG_D:
		return;		/* read-only */
	}
	if (rtc_is_time_reg(idx) && rtc_time_running(r)) {
		/* Setting the clock without SET: change that one field and
		 * keep counting, with the sub-second phase unchanged. */
		rtc_fill_time(r, now);
		r->cmos[idx] = v;
		rtc_set_time(r, rtc_parse_time(r), floor_mod(now, NS_PER_SEC));
		return;
	}
	r->cmos[idx] = v;
}

/*
 * Port 0x70 index (bit 7 is NMI_EN, which a VM has no use for), 0x71 data,
 * 0x72/0x73 index/data of the upper bank (ICH9 §13.6, "RTC Indexed
 * Registers"). Index ports read 0xff like QEMU's; wider accesses are
 * consecutive byte ports.
 */
static uint8_t rtc_port_read(struct rtc *r, unsigned int port, int64_t now)
{
	switch (port) {
	case 1:
		return rtc_data_read(r, r->index, now);
	case 3:
		return r->cmos[128 + r->index_hi];
	}
	return 0xff;
}

static void rtc_port_write(struct rtc *r, unsigned int port, uint8_t v,
			   int64_t now)
{
	switch (port) {
	case 0:
		r->index = v & 0x7f;
		break;
	case 1:
		rtc_data_write(r, r->index, v, now);
		break;
	case 2:
		r->index_hi = v & 0x7f;
		break;
	case 3:
		r->cmos[128 + r->index_hi] = v;
		break;
	}
}

static void rtc_read(void *opaque, uint64_t offset, void *data,
		     unsigned int len)
{
	struct rtc *r = opaque;
	uint8_t *out = data;
	int64_t now;

	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	rtc_account(r, now);
	for (unsigned int i = 0; i < len; i++)
		out[i] = offset + i < LAYOUT_RTC_LEN ?
			 rtc_port_read(r, (unsigned int)(offset + i), now) : 0xff;
	/* Reading C may have lowered IRQ 8: the thread has events to wait
	 * for again. Other reads change nothing it depends on. */
	if (r->index == REG_C)
		rtc_kick(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *opaque, uint64_t offset, const void *data,
		      unsigned int len)
{
	struct rtc *r = opaque;
	const uint8_t *in = data;
	int64_t now;

	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	rtc_account(r, now);
	for (unsigned int i = 0; i < len && offset + i < LAYOUT_RTC_LEN; i++) {
		rtc_port_write(r, (unsigned int)(offset + i), in[i], now);
		/* A write may have moved the clock. */
		now = rtc_now(r);
	}
	rtc_kick(r);
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_dev_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

static void rtc_put16(struct rtc *r, unsigned int idx, uint64_t v)
{
	r->cmos[idx] = (uint8_t)v;
	r->cmos[idx + 1] = (uint8_t)(v >> 8);
}

/* The memory-size bytes of QEMU's pc_cmos_init (hw/i386/pc.c), which
 * SeaBIOS and OVMF's PlatformPei read to size RAM. */
static void rtc_init_cmos_memory(struct rtc *r, const struct rtc_config *cfg)
{
	const uint64_t KiB = 1024, MiB = 1024 * KiB;
	uint64_t below = cfg->ram_below_4g, v;

	/* Base memory in KiB, at most 640. */
	v = below / KiB < 640 ? below / KiB : 640;
	rtc_put16(r, 0x15, v);
	/* Extended memory above 1 MiB in KiB, saturating at 0xFFFF. */
	v = below > MiB ? (below - MiB) / KiB : 0;
	if (v > 0xffff)
		v = 0xffff;
	rtc_put16(r, 0x17, v);
	rtc_put16(r, 0x30, v);
	/* Memory between 16 MiB and 4 GiB in 64 KiB units, saturating. */
	v = below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0;
	if (v > 0xffff)
		v = 0xffff;
	rtc_put16(r, 0x34, v);
	/* Memory above 4 GiB in 64 KiB units, three bytes. */
	v = cfg->ram_above_4g / (64 * KiB);
	r->cmos[0x5b] = (uint8_t)v;
	r->cmos[0x5c] = (uint8_t)(v >> 8);
	r->cmos[0x5d] = (uint8_t)(v >> 16);
	/* Number of CPUs minus one. */
	r->cmos[0x5f] = (uint8_t)(cfg->nr_cpus ? cfg->nr_cpus - 1 : 0);
}

static int64_t rtc_utc_offset_ns(bool localtime)
{
	struct tm tm;
	time_t t = time(NULL);

	if (!localtime || !localtime_r(&t, &tm))
		return 0;
	return (int64_t)tm.tm_gmtoff * NS_PER_SEC;
}

void rtc_set_clock(struct rtc *r, int64_t (*now_ns)(void *opaque),
		   void *opaque)
{
	pthread_mutex_lock(&r->lock);
	r->now_ns = now_ns ? now_ns : rtc_host_now;
	r->now_opaque = opaque;
	r->offset_ns = r->base_offset_ns;
	r->last_ns = rtc_now(r);
	if (!rtc_time_running(r))
		rtc_fill_time(r, r->last_ns);
	rtc_kick(r);
	pthread_mutex_unlock(&r->lock);
}

/*
 * MC146818A "RESET": clears PIE, AIE, UIE and SQWE in register B and
 * IRQF, PF, AF and UF in register C, and releases IRQ; the time, the
 * divider and the CMOS RAM are untouched (they run on the battery), so a
 * reboot keeps the clock and the firmware's CMOS settings. The interrupt
 * thread then has no event to wait for and sleeps until one is enabled.
 */
static void rtc_dev_reset(struct device *dev)
{
	struct rtc *r = container_of(dev, struct rtc, dev);

	pthread_mutex_lock(&r->lock);
	r->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[REG_C] = 0;
	rtc_update_irq(r);
	if (r->thread_started)
		pthread_cond_signal(&r->kick);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_dev_destroy(struct device *dev)
{
	rtc_destroy(container_of(dev, struct rtc, dev));
}

static const struct device_ops rtc_device_ops = {
	.reset = rtc_dev_reset,
	.destroy = rtc_dev_destroy,
};

struct rtc *rtc_create(const struct vm_ops *ops, const struct rtc_config *cfg)
{
	pthread_condattr_t attr;
	struct rtc *r;
	int ret;

	if (!ops || !ops->set_irq_line || !cfg) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret)
		goto free_rtc;
	ret = pthread_condattr_init(&attr);
	if (ret)
		goto destroy_lock;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&r->kick, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		goto destroy_lock;

	r->ops = ops;
	r->now_ns = rtc_host_now;
	r->base_offset_ns = rtc_utc_offset_ns(cfg->localtime);
	r->offset_ns = r->base_offset_ns;
	r->last_ns = rtc_now(r);
	r->cmos[REG_A] = A_DEFAULT;
	r->cmos[REG_B] = B_DEFAULT;
	r->cmos[REG_D] = D_VRT;
	rtc_fill_time(r, r->last_ns);
	rtc_init_cmos_memory(r, cfg);
	device_register(ops, &r->dev, "rtc", &rtc_device_ops);
	return r;

destroy_lock:
	pthread_mutex_destroy(&r->lock);
free_rtc:
	free(r);
	errno = ret;
	return NULL;
}

int rtc_attach(struct rtc *r, struct bus *pio)
{
	int ret;

	if (r->attached)
		return -EBUSY;
	ret = bus_register(pio, LAYOUT_RTC_PORT, LAYOUT_RTC_LEN, &rtc_ops, r, "rtc");
	if (ret)
		return ret;
	r->pio = pio;
	r->attached = true;
	return 0;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	device_unregister(&r->dev);
	if (r->attached)
		bus_unregister(r->pio, LAYOUT_RTC_PORT);
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->kick);
	pthread_mutex_unlock(&r->lock);
	if (r->thread_started)
		pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->kick);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
