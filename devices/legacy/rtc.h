/* SPDX-License-Identifier: MIT */
/*
 * MC146818A real-time clock and CMOS RAM (ports 0x70/0x71, IRQ 8), with the
 * ICH9's upper 128-byte bank at 0x72/0x73.
 */
#ifndef MINIVMM_LEGACY_RTC_H
#define MINIVMM_LEGACY_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"


struct rtc_config {
	bool localtime;			/* the guest clock shows local time, not UTC */
	uint64_t ram_below_4g;		/* bytes of guest RAM below 4 GiB */
	uint64_t ram_above_4g;		/* bytes of guest RAM above 4 GiB */
	unsigned int nr_cpus;
};

struct rtc;

/*
 * The clock starts at the host's time (UTC or local) and CMOS holds the
 * memory-size and CPU-count bytes firmware reads (as QEMU's pc_cmos_init
 * writes them). NULL (errno set) on failure. ops must outlive the device.
 */
struct rtc *rtc_create(const struct vm_ops *ops, const struct rtc_config *cfg);
/* Claims ports 0x70-0x73: -EBUSY if already attached. */
int rtc_attach(struct rtc *rtc, struct bus *pio);
/* Unregisters the ports (so call it before bus_exit()), stops the
 * interrupt thread if one was started, and frees. */
void rtc_destroy(struct rtc *rtc);

/*
 * Replace the host wall clock (CLOCK_REALTIME, in ns since the epoch) the
 * RTC counts from; for unit tests, which need to put the clock exactly
 * where they want it. The guest-visible time is re-based so that it shows
 * now_ns() (plus the UTC offset for a localtime RTC); guest time writes
 * made before are forgotten.
 */
void rtc_set_clock(struct rtc *rtc, int64_t (*now_ns)(void *opaque),
		   void *opaque);

#endif
