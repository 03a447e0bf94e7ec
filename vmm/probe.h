/* SPDX-License-Identifier: MIT */
/* minivmm probe: passthrough latency through tests/guest/probe.bin (vmm/probe.c). */
#ifndef MINIVMM_PROBE_H
#define MINIVMM_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* One measure as the payload reports it (TSC cycles). */
struct probe_result {
	char name[32];		/* "bar-read-mapped", "ecam-read", "irq-msi", ... */
	char mode[16];		/* the run's BAR mode: "mapped" or "trapped" */
	uint32_t n, min, median, p99, max;
};

int probe_main(int argc, char **argv);

/* A console line: 1 and *r for a "probe-result:" line, 0 (*tsc_hz set)
 * for "probe-tsc-hz:", -EINVAL for anything else. */
int probe_parse_line(const char *line, struct probe_result *r, uint64_t *tsc_hz);
/* The measure as one JSON object (no newline): 0 or -E2BIG. */
int probe_json_line(const struct probe_result *r, const char *bdf, uint64_t tsc_hz,
		    char *buf, size_t len);
/* The measure as a line of the human table. */
void probe_human_line(const struct probe_result *r, uint64_t tsc_hz, char *buf, size_t len);

#endif
