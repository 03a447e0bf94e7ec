/* SPDX-License-Identifier: MIT */
/*
 * Port-I/O and MMIO buses: a vCPU exit looks its address up here and calls
 * the device with an offset relative to the range it registered. Callbacks
 * take no vCPU argument: a device sees only (opaque, offset, data, len).
 */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_dev_ops {
	/* Fill data[0..len) for a read at offset; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned int len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned int len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_dev_ops *ops;
	void *opaque;
	const char *name;
	uint64_t accesses;	/* exits that reached this device (statistics) */
};

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;		/* lookups share it; (un)registering takes it */
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	size_t nr_ranges;
	size_t cap;
	uint64_t unhandled;		/* accesses that hit no device */
	bool warned;			/* the first unhandled access was logged */
};

int bus_init(struct bus *bus, const char *name);
void bus_exit(struct bus *bus);

/* -EINVAL for len 0 or wrap-around, -EEXIST for an overlap. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_dev_ops *ops, void *opaque, const char *name);
/* -ENOENT if no range starts at base. */
int bus_unregister(struct bus *bus, uint64_t base);

/*
 * Dispatch one access. Returns 0 if a device took it, -ENOENT if none did:
 * then reads return all-ones (what an unclaimed PCI/ISA cycle returns) and
 * writes are dropped. Accesses straddling the end of a range are unhandled.
 */
int bus_read(struct bus *bus, uint64_t addr, void *data, unsigned int len);
int bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned int len);

/* Little-endian helpers for callbacks that deal in values. */
static inline uint64_t bus_data_get(const void *data, unsigned int len)
{
	const uint8_t *p = data;
	uint64_t v = 0;

	for (unsigned int i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void bus_data_put(void *data, unsigned int len, uint64_t v)
{
	uint8_t *p = data;

	for (unsigned int i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
