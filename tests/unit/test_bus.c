// SPDX-License-Identifier: MIT
/* Unit tests for devices/bus.c: range registration and access dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "lib/log.h"

/* A device that records its last access. */
struct rec {
	unsigned int reads, writes;
	uint64_t offset;
	unsigned int len;
	uint8_t wdata[8];
	uint64_t rvalue;	/* what reads return, little-endian */
};

static void rec_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct rec *r = opaque;

	r->reads++;
	r->offset = offset;
	r->len = len;
	bus_data_put(data, len, r->rvalue);
}

static void rec_write(void *opaque, uint64_t offset, const void *data,
		      unsigned int len)
{
	struct rec *r = opaque;

	r->writes++;
	r->offset = offset;
	r->len = len;
	memcpy(r->wdata, data, len);
}

static const struct bus_dev_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct bus_dev_ops null_ops = { 0 };

static int setup(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));

	if (!bus || bus_init(bus, "test"))
		return -1;
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	bus_exit(*state);
	free(*state);
	return 0;
}

static int reg(struct bus *bus, uint64_t base, uint64_t len, void *opaque)
{
	return bus_register(bus, base, len, &rec_ops, opaque, "rec");
}

static void test_register_invalid(void **state)
{
	struct bus *bus = *state;

	assert_int_equal(reg(bus, 0x100, 0, NULL), -EINVAL);
	assert_int_equal(reg(bus, UINT64_MAX, 2, NULL), -EINVAL);
	assert_int_equal(reg(bus, UINT64_MAX - 15, 17, NULL), -EINVAL);
	assert_int_equal(reg(bus, 2, UINT64_MAX, NULL), -EINVAL);
	assert_int_equal(bus_register(bus, 0x100, 1, NULL, NULL, "x"), -EINVAL);
	assert_int_equal(bus->nr_ranges, 0);
	/* The very last byte and a range ending exactly at the top are fine. */
	assert_int_equal(reg(bus, UINT64_MAX, 1, NULL), 0);
	assert_int_equal(reg(bus, UINT64_MAX - 16, 16, NULL), 0);
	assert_int_equal(reg(bus, 0, UINT64_MAX - 16, NULL), 0);
	assert_int_equal(bus->nr_ranges, 3);
}

static void test_register_overlap(void **state)
{
	struct bus *bus = *state;
	static const struct { uint64_t base, len; } clash[] = {
		{ 0x100, 0x10 },	/* identical */
		{ 0x0f0, 0x11 },	/* covers the first byte */
		{ 0x10f, 0x10 },	/* starts at the last byte */
		{ 0x104, 0x04 },	/* inside */
		{ 0x0f0, 0x40 },	/* encloses */
		{ 0x100, 0x01 },	/* first byte only */
		{ 0x10f, 0x01 },	/* last byte only */
		{ 0x000, UINT64_MAX },	/* everything */
	};

	assert_int_equal(reg(bus, 0x100, 0x10, NULL), 0);
	for (size_t i = 0; i < sizeof(clash) / sizeof(clash[0]); i++)
		assert_int_equal(reg(bus, clash[i].base, clash[i].len, NULL), -EEXIST);
	assert_int_equal(bus->nr_ranges, 1);

	/* Between two ranges: touching either neighbour is refused. */
	assert_int_equal(reg(bus, 0x200, 0x10, NULL), 0);
	assert_int_equal(reg(bus, 0x110, 0xf1, NULL), -EEXIST);
	assert_int_equal(reg(bus, 0x10f, 0xf1, NULL), -EEXIST);
	assert_int_equal(reg(bus, 0x10f, 0xf2, NULL), -EEXIST);
	/* Spanning several ranges. */
	assert_int_equal(reg(bus, 0x50, 0x1000, NULL), -EEXIST);
	assert_int_equal(bus->nr_ranges, 2);
	/* The exact gap fits. */
	assert_int_equal(reg(bus, 0x110, 0xf0, NULL), 0);
	assert_int_equal(bus->nr_ranges, 3);
}

static void test_register_adjacent(void **state)
{
	struct bus *bus = *state;
	struct rec a = { .rvalue = 0xa }, b = { .rvalue = 0xb }, c = { .rvalue = 0xc };
	uint8_t v;

	assert_int_equal(reg(bus, 0x3f8, 8, &b), 0);
	assert_int_equal(reg(bus, 0x3f0, 8, &a), 0);
	assert_int_equal(reg(bus, 0x400, 1, &c), 0);
	assert_int_equal(bus_read(bus, 0x3f7, &v, 1), 0);
	assert_int_equal(v, 0xa);
	assert_int_equal(bus_read(bus, 0x3f8, &v, 1), 0);
	assert_int_equal(v, 0xb);
	assert_int_equal(bus_read(bus, 0x3ff, &v, 1), 0);
	assert_int_equal(v, 0xb);
	assert_int_equal(bus_read(bus, 0x400, &v, 1), 0);
	assert_int_equal(v, 0xc);
	assert_int_equal(a.offset, 7);
	assert_int_equal(b.offset, 7);
	assert_int_equal(c.offset, 0);
}

static void test_many_ranges_sorted(void **state)
{
	struct bus *bus = *state;
	enum { N = 200 };
	static struct rec recs[N];
	unsigned int order[N];
	uint32_t v;

	/* Register 4-byte ranges at 0x1000 + 16 * k in a scrambled order
	 * (37 is coprime to 200, so k = 37 i mod 200 visits them all). */
	for (unsigned int i = 0; i < N; i++)
		order[i] = (i * 37) % N;
	for (unsigned int i = 0; i < N; i++) {
		unsigned int k = order[i];

		recs[k] = (struct rec){ .rvalue = k };
		assert_int_equal(reg(bus, 0x1000 + 16 * k, 4, &recs[k]), 0);
	}
	assert_int_equal(bus->nr_ranges, N);
	for (size_t i = 1; i < bus->nr_ranges; i++)
		assert_true(bus->ranges[i - 1].base + bus->ranges[i - 1].len <=
			    bus->ranges[i].base);
	for (unsigned int k = 0; k < N; k++) {
		assert_int_equal(bus_read(bus, 0x1000 + 16 * k + 2, &v, 2), 0);
		assert_int_equal(v & 0xffff, k);
		assert_int_equal(recs[k].offset, 2);
		/* The gaps hit nothing. */
		assert_int_equal(bus_read(bus, 0x1000 + 16 * k + 4, &v, 1), -ENOENT);
	}
	/* Remove every other one; the rest still dispatch. */
	for (unsigned int k = 0; k < N; k += 2)
		assert_int_equal(bus_unregister(bus, 0x1000 + 16 * k), 0);
	assert_int_equal(bus->nr_ranges, N / 2);
	for (unsigned int k = 0; k < N; k++)
		assert_int_equal(bus_read(bus, 0x1000 + 16 * k, &v, 4),
				 k % 2 ? 0 : -ENOENT);
}

static void test_unregister(void **state)
{
	struct bus *bus = *state;
	struct rec r = { .rvalue = 0x5a };
	uint8_t v;

	assert_int_equal(bus_unregister(bus, 0x60), -ENOENT);
	assert_int_equal(reg(bus, 0x60, 8, &r), 0);
	/* Only the base identifies a range. */
	assert_int_equal(bus_unregister(bus, 0x61), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x5f), -ENOENT);
	assert_int_equal(bus_read(bus, 0x60, &v, 1), 0);
	assert_int_equal(bus_unregister(bus, 0x60), 0);
	assert_int_equal(bus->nr_ranges, 0);
	assert_int_equal(bus_read(bus, 0x60, &v, 1), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x60), -ENOENT);
	/* The space is free again, even for a different size. */
	assert_int_equal(reg(bus, 0x5c, 16, &r), 0);
}

static void test_dispatch_offsets(void **state)
{
	struct bus *bus = *state;
	struct rec r = { .rvalue = 0x8877665544332211ull };
	uint8_t buf[8];
	uint64_t q = 0;
	const uint8_t w[4] = { 1, 2, 3, 4 };

	assert_int_equal(reg(bus, 0xfed00000, 0x1000, &r), 0);
	assert_int_equal(bus_write(bus, 0xfed00010, w, 4), 0);
	assert_int_equal(r.writes, 1);
	assert_int_equal(r.offset, 0x10);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.wdata, w, 4);

	assert_int_equal(bus_read(bus, 0xfed00ff8, &q, 8), 0);
	assert_int_equal(r.reads, 1);
	assert_int_equal(r.offset, 0xff8);
	assert_int_equal(r.len, 8);
	assert_true(q == 0x8877665544332211ull);

	assert_int_equal(bus_read(bus, 0xfed00fff, buf, 1), 0);
	assert_int_equal(r.offset, 0xfff);
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(bus->ranges[0].accesses, 3);
}

static void test_unhandled(void **state)
{
	struct bus *bus = *state;
	struct rec r = { 0 };
	uint64_t q = 0;
	uint32_t d = 0;
	const uint8_t w[4] = { 0 };

	assert_int_equal(bus->unhandled, 0);
	assert_int_equal(bus_read(bus, 0x80, &q, 8), -ENOENT);
	assert_true(q == UINT64_MAX);
	assert_int_equal(bus_read(bus, 0x80, &d, 2), -ENOENT);
	assert_int_equal(d, 0xffff);
	assert_int_equal(bus_write(bus, 0x80, w, 4), -ENOENT);
	assert_int_equal(bus->unhandled, 3);
	assert_true(bus->warned);

	/* Next to a range, still unhandled, and the device never sees it. */
	assert_int_equal(reg(bus, 0x90, 4, &r), 0);
	assert_int_equal(bus_read(bus, 0x8f, &d, 1), -ENOENT);
	assert_int_equal(bus_read(bus, 0x94, &d, 1), -ENOENT);
	assert_int_equal(bus->unhandled, 5);
	assert_int_equal(r.reads + r.writes, 0);
}

static void test_straddling(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 }, b = { 0 };
	uint32_t d;
	uint64_t q;
	const uint8_t w[8] = { 0 };

	assert_int_equal(reg(bus, 0x70, 2, &a), 0);
	assert_int_equal(reg(bus, 0x72, 2, &b), 0);
	/* Runs off the end of a, even though b continues the space. */
	assert_int_equal(bus_read(bus, 0x71, &d, 2), -ENOENT);
	assert_int_equal(d & 0xffff, 0xffff);
	assert_int_equal(bus_write(bus, 0x70, w, 4), -ENOENT);
	/* Runs off b into nothing. */
	assert_int_equal(bus_read(bus, 0x73, &d, 4), -ENOENT);
	/* Wider than the range. */
	assert_int_equal(bus_read(bus, 0x72, &q, 8), -ENOENT);
	assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);
	assert_int_equal(bus->unhandled, 4);
	/* The same accesses that fit are handled. */
	assert_int_equal(bus_read(bus, 0x70, &d, 2), 0);
	assert_int_equal(bus_read(bus, 0x73, &d, 1), 0);
	/* At the top of the address space, no wrap-around. */
	assert_int_equal(reg(bus, UINT64_MAX - 3, 4, &a), 0);
	assert_int_equal(bus_read(bus, UINT64_MAX - 3, &d, 4), 0);
	assert_int_equal(bus_read(bus, UINT64_MAX - 1, &d, 4), -ENOENT);
	assert_int_equal(bus_read(bus, UINT64_MAX, &q, 8), -ENOENT);
}

static void test_null_callbacks(void **state)
{
	struct bus *bus = *state;
	uint32_t d = 0;
	const uint8_t w[4] = { 0 };

	/* A range without callbacks is claimed: reads float high, writes
	 * vanish, and neither counts as unhandled. */
	assert_int_equal(bus_register(bus, 0x40, 4, &null_ops, NULL, "null"), 0);
	assert_int_equal(bus_read(bus, 0x40, &d, 4), 0);
	assert_int_equal(d, 0xffffffff);
	assert_int_equal(bus_write(bus, 0x40, w, 4), 0);
	assert_int_equal(bus->unhandled, 0);
}

static void test_data_helpers(void **state)
{
	uint8_t b[8];

	bus_data_put(b, 8, 0x0807060504030201ull);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[i], i + 1);
	assert_true(bus_data_get(b, 8) == 0x0807060504030201ull);
	assert_int_equal(bus_data_get(b, 2), 0x0201);
	assert_int_equal(bus_data_get(b, 1), 0x01);
	memset(b, 0, sizeof(b));
	bus_data_put(b, 2, 0xaabbccdd);
	assert_int_equal(b[0], 0xdd);
	assert_int_equal(b[1], 0xcc);
	assert_int_equal(b[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_adjacent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_ranges_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unhandled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_straddling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_callbacks, setup, teardown),
		cmocka_unit_test(test_data_helpers),
	};

	/* The first unhandled access is logged; keep test output clean. */
	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
