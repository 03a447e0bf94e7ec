/* SPDX-License-Identifier: MIT */
/*
 * Event traces (--trace vfio[,file=PATH]; docs/latency.md): one JSON
 * object per line, each with a CLOCK_MONOTONIC timestamp in ns ("ts"),
 * what it is about ("bdf", null for the VM as a whole) and the event's
 * name ("event"), then the event's own members.
 *
 * Cheap when off: a call site tests trace_on(TRACE_VFIO), one load of a
 * global that never changes while the VM runs and a branch predicted not
 * taken, before building anything. The file is opened before seccomp
 * confinement and only written afterwards, through the held fd.
 *
 * Thread-safe without a lock: an event is built in a buffer on the
 * caller's stack and reaches the fd in one write() (O_APPEND for files;
 * a line of at most PIPE_BUF bytes is not interleaved on a pipe either),
 * so lines from vCPU threads and the main thread never mix.
 */
#ifndef MINIVMM_TRACE_H
#define MINIVMM_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/json.h"

enum trace_category {
	TRACE_VFIO = 1u << 0,	/* devices/vfio: config, BARs, interrupts, resets, DMA */
};

#define TRACE_LINE_MAX	1024

/* Set by trace_open before any thread runs, cleared by trace_close. */
extern unsigned int trace_mask;

static inline bool trace_on(unsigned int category)
{
	return __builtin_expect((trace_mask & category) != 0, 0);
}

/*
 * Trace the categories of mask to path (created or truncated, mode 0600),
 * or to stderr when path is NULL. 0 or -errno (one line said why).
 */
int trace_open(unsigned int mask, const char *path);
/* The same onto an fd the caller owns (unit tests); -1 turns tracing off. */
void trace_open_fd(unsigned int mask, int fd);
/* Tracing off; the file closed (stderr left open). */
void trace_close(void);

/* "vfio" -> TRACE_VFIO: a category's bit, or 0 for an unknown name. */
unsigned int trace_category(const char *name);

/* One line under construction (on the caller's stack). */
struct trace_event {
	struct json_out o;
	char buf[TRACE_LINE_MAX];
};

/* {"ts":NS,"bdf":BDF (null if NULL),"event":NAME */
void trace_begin(struct trace_event *e, const char *bdf, const char *event);
void trace_u64(struct trace_event *e, const char *key, uint64_t v);
/* A register value or an address, as a "0x..." string. */
void trace_hex(struct trace_event *e, const char *key, uint64_t v);
void trace_str(struct trace_event *e, const char *key, const char *s);
void trace_bool(struct trace_event *e, const char *key, bool v);
/* Closes the object and writes the line (one write()). */
void trace_end(struct trace_event *e);

#endif
