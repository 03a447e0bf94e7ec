/* SPDX-License-Identifier: MIT */
/*
 * Cheap always-on statistics: log2 latency histograms fed from the TSC,
 * converted to time only when printed. Recording is two rdtsc and an
 * increment (docs/benchmarks.md measures its cost), so it stays on.
 */
#ifndef MINIVMM_STATS_H
#define MINIVMM_STATS_H

#include <stdint.h>
#include <stdio.h>

#define STATS_HIST_BUCKETS 40	/* bucket i: [2^i, 2^(i+1)) TSC cycles */

struct stats_hist {
	uint64_t count;
	uint64_t sum;		/* cycles */
	uint64_t max;
	uint64_t bucket[STATS_HIST_BUCKETS];
};

static inline uint64_t stats_now(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Add one sample; single writer per histogram (a vCPU thread). */
static inline void stats_hist_add(struct stats_hist *h, uint64_t cycles)
{
	unsigned int b = cycles ? 63 - (unsigned int)__builtin_clzll(cycles) : 0;

	if (b >= STATS_HIST_BUCKETS)
		b = STATS_HIST_BUCKETS - 1;
	h->count++;
	h->sum += cycles;
	if (cycles > h->max)
		h->max = cycles;
	h->bucket[b]++;
}

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);
/* Cycles per microsecond of this host's TSC (measured once, then cached). */
double stats_tsc_per_us(void);
/* Approximate percentile (0-100) in cycles: the top of its bucket. */
uint64_t stats_hist_percentile(const struct stats_hist *h, double pct);
/* "name: n=..., mean=...us, p50<=...us, p99<=...us, max=...us" */
void stats_hist_print(FILE *f, const char *name, const struct stats_hist *h);

#endif
