// SPDX-License-Identifier: MIT
/*
 * Shared fuzz-harness code: a quiet logger in place of lib/log.c (the
 * messages are still formatted, so a bad format argument is still caught,
 * but not printed unless FUZZ_LOG is set: a guest can trigger many), and
 * the bus helpers and checks of fuzz.h.
 */
#include <stdarg.h>
#include <string.h>

#include "lib/log.h"
#include "tests/fuzz/fuzz.h"

enum log_level log_threshold = LOG_DEBUG;

void log_msg(enum log_level level, const char *fmt, ...)
{
	static int print = -1;
	char line[1024];
	va_list ap;

	if (print < 0)
		print = getenv("FUZZ_LOG") != NULL;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (print)
		fprintf(stderr, "minivmm: %s\n", line);
}

void fz_check_bus(const struct bus *bus, uint64_t limit)
{
	for (size_t i = 0; i < bus->nr_ranges; i++) {
		const struct bus_range *r = &bus->ranges[i];
		uint64_t last = r->base + (r->len - 1);

		FZ_CHECK(r->len && last >= r->base, "%s: range %zu (%s) wraps", bus->name, i,
			 r->name);
		FZ_CHECK(!limit || last < limit, "%s: range %s at %#llx+%#llx beyond %#llx",
			 bus->name, r->name, (unsigned long long)r->base,
			 (unsigned long long)r->len, (unsigned long long)limit);
		if (i)
			FZ_CHECK(bus->ranges[i - 1].base + (bus->ranges[i - 1].len - 1) < r->base,
				 "%s: ranges %s and %s overlap or are out of order", bus->name,
				 bus->ranges[i - 1].name, r->name);
	}
}

uint64_t fz_bus_read(struct bus *bus, uint64_t addr, unsigned int len)
{
	uint8_t buf[len];

	memset(buf, 0xa5, len);
	bus_read(bus, addr, buf, len);
	return bus_data_get(buf, len);
}

void fz_bus_write(struct bus *bus, uint64_t addr, uint64_t val, unsigned int len)
{
	uint8_t buf[len];

	bus_data_put(buf, len, val);
	bus_write(bus, addr, buf, len);
}
