/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets in tests/fuzz (docs/fuzzing.md): an
 * input is read as a stream of operation records, and whatever is read
 * past its end is zero, so every byte string is a valid program. Checks
 * of an invariant abort with a message, which libFuzzer reports as a
 * crash and saves the input that caused it.
 */
#ifndef MINIVMM_FUZZ_H
#define MINIVMM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "devices/bus.h"

struct fz {
	const uint8_t *p;
	size_t n, i;
};

static inline void fz_init(struct fz *f, const uint8_t *p, size_t n)
{
	f->p = p;
	f->n = n;
	f->i = 0;
}

static inline bool fz_more(const struct fz *f)
{
	return f->i < f->n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	return f->i < f->n ? f->p[f->i++] : 0;
}

/* Little-endian, like the device registers most records feed. */
static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return (uint16_t)(lo | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Up to max bytes into buf (the rest of the input if shorter). */
static inline size_t fz_bytes(struct fz *f, void *buf, size_t max)
{
	size_t n = f->n - f->i < max ? f->n - f->i : max;

	for (size_t k = 0; k < n; k++)
		((uint8_t *)buf)[k] = f->p[f->i + k];
	f->i += n;
	return n;
}

/* An access width from 2 bits: 1, 2, 4 or 8. */
static inline unsigned int fz_width(uint8_t sel)
{
	return 1u << (sel & 3);
}

#define FZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/*
 * A bus must keep its ranges sorted, non-overlapping, non-wrapping and
 * below limit (0x10000 for ports; 0 for no limit); aborts otherwise.
 */
void fz_check_bus(const struct bus *bus, uint64_t limit);

/* One bus access of len bytes, through a buffer of exactly len bytes
 * (a VLA, so ASan's redzones catch a device writing or reading past
 * the access). A read returns the little-endian value. */
uint64_t fz_bus_read(struct bus *bus, uint64_t addr, unsigned int len);
void fz_bus_write(struct bus *bus, uint64_t addr, uint64_t val, unsigned int len);

#endif
