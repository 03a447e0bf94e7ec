// SPDX-License-Identifier: MIT
#include <time.h>

#include "lib/stats.h"

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (int i = 0; i < STATS_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double stats_tsc_per_us(void)
{
	static double cached;
	uint64_t t0, c0, t1, c1;

	if (cached > 0)
		return cached;
	/* 10 ms against the monotonic clock: good to well under 1%, and
	 * only paid when statistics are printed. */
	t0 = mono_ns();
	c0 = stats_now();
	do {
		t1 = mono_ns();
	} while (t1 - t0 < 10000000u);
	c1 = stats_now();
	cached = (double)(c1 - c0) * 1000.0 / (double)(t1 - t0);
	if (cached <= 0)
		cached = 1000.0;
	return cached;
}

uint64_t stats_hist_percentile(const struct stats_hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)((double)h->count * pct / 100.0 + 0.5);
	if (want == 0)
		want = 1;
	for (int i = 0; i < STATS_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t top = (2ull << i) - 1;

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

void stats_hist_print(FILE *f, const char *name, const struct stats_hist *h)
{
	double per_us = stats_tsc_per_us();

	if (!h->count) {
		fprintf(f, "stats: %s: none\n", name);
		return;
	}
	fprintf(f, "stats: %s: n=%llu mean=%.2fus p50<=%.2fus p99<=%.2fus max=%.2fus\n", name,
		(unsigned long long)h->count, (double)h->sum / (double)h->count / per_us,
		(double)stats_hist_percentile(h, 50) / per_us,
		(double)stats_hist_percentile(h, 99) / per_us, (double)h->max / per_us);
}
