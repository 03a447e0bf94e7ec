// SPDX-License-Identifier: MIT
/*
 * The event trace writer (trace.h): JSON lines through lib/json.c's
 * bounded writer, one write() each.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/trace.h"

unsigned int trace_mask;
static int trace_fd = -1;
static bool trace_owns_fd;

unsigned int trace_category(const char *name)
{
	if (!strcmp(name, "vfio"))
		return TRACE_VFIO;
	return 0;
}

int trace_open(unsigned int mask, const char *path)
{
	int fd = STDERR_FILENO;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0) {
			int err = errno;

			pr_err("--trace file=%s: %s (give a writable path)", path, strerror(err));
			return -err;
		}
	}
	trace_open_fd(mask, fd);
	trace_owns_fd = path != NULL;
	return 0;
}

void trace_open_fd(unsigned int mask, int fd)
{
	trace_fd = fd;
	trace_owns_fd = false;
	trace_mask = fd >= 0 ? mask : 0;
}

void trace_close(void)
{
	trace_mask = 0;
	if (trace_owns_fd && trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
	trace_owns_fd = false;
}

void trace_begin(struct trace_event *e, const char *bdf, const char *event)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	json_out_init(&e->o, e->buf, sizeof(e->buf));
	json_out_open(&e->o, '{');
	json_out_key(&e->o, "ts");
	json_out_u64(&e->o, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
	json_out_key(&e->o, "bdf");
	if (bdf)
		json_out_string(&e->o, bdf);
	else
		json_out_raw(&e->o, "null", 4);
	json_out_key(&e->o, "event");
	json_out_string(&e->o, event);
}

void trace_u64(struct trace_event *e, const char *key, uint64_t v)
{
	json_out_key(&e->o, key);
	json_out_u64(&e->o, v);
}

void trace_hex(struct trace_event *e, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%#" PRIx64, v);
	json_out_key(&e->o, key);
	json_out_string(&e->o, s);
}

void trace_str(struct trace_event *e, const char *key, const char *s)
{
	json_out_key(&e->o, key);
	json_out_string(&e->o, s);
}

void trace_bool(struct trace_event *e, const char *key, bool v)
{
	json_out_key(&e->o, key);
	json_out_bool(&e->o, v);
}

void trace_end(struct trace_event *e)
{
	size_t len;
	ssize_t n;

	json_out_close(&e->o, '}');
	/* A line that did not fit is no JSON: say so instead (the events
	 * are far smaller than the buffer; this is a guard, not a mode). */
	if (e->o.overflow || e->o.len + 1 >= sizeof(e->buf)) {
		char ts[24];
		const char *p = strstr(e->buf, "\"ts\":");

		snprintf(ts, sizeof(ts), "%.*s", p ? (int)strcspn(p + 5, ",}") : 1, p ? p + 5 : "0");
		len = (size_t)snprintf(e->buf, sizeof(e->buf),
				       "{\"ts\":%s,\"bdf\":null,\"event\":\"trace-line-too-long\"}", ts);
	} else {
		len = e->o.len;
	}
	e->buf[len++] = '\n';
	if (trace_fd < 0)
		return;
	n = write(trace_fd, e->buf, len);
	if (n != (ssize_t)len)
		pr_warn_once("--trace: writing the trace failed: %s",
			     n < 0 ? strerror(errno) : "short write");
}
