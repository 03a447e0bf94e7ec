// SPDX-License-Identifier: MIT
/*
 * Unit tests for split virtqueues (devices/virtio/virtqueue.c): walking
 * chains, direct and indirect, returning them, notification suppression,
 * index wrap, and hostile rings: loops, descriptors and tables outside
 * guest RAM, oversize chains, bad ordering, runaway indices. A malformed
 * ring must give -EPROTO (and stay broken), never touch memory outside
 * the fake guest RAM (ASan watches) and never hang.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio/virtqueue.h"
#include "tests/unit/fake_mem.h"

#define RAM	(1024 * 1024)
#define QSZ	16
#define DESC	0x1000
#define AVAIL	0x2000
#define USED	0x3000
#define BUF	0x10000
#define TABLE	0x8000

struct fixture {
	struct guest_mem mem;
	struct vq vq;
	struct iovec iov[8];
	struct vq_elem e;
};

static struct virtq_desc *desc(struct fixture *f, unsigned int i)
{
	return (struct virtq_desc *)gpa(&f->mem, DESC) + i;
}

static uint16_t *avail(struct fixture *f)
{
	return gpa(&f->mem, AVAIL);
}

static uint16_t *used16(struct fixture *f)
{
	return gpa(&f->mem, USED);
}

static void set_desc(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*d = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Publish head at the next avail slot. */
static void publish(struct fixture *f, uint16_t head)
{
	uint16_t *a = avail(f);

	a[2 + a[1] % QSZ] = head;
	a[1]++;
}

static int setup_common(void **state, bool event_idx, bool indirect)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fake_mem_init(&f->mem, RAM), 0);
	assert_int_equal(vq_init(&f->vq, &f->mem, QSZ, DESC, AVAIL, USED, event_idx, indirect), 0);
	f->e.iov = f->iov;
	f->e.cap = 8;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false, true);
}

static int setup_event_idx(void **state)
{
	return setup_common(state, true, true);
}

static int setup_no_indirect(void **state)
{
	return setup_common(state, false, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_mem_free(&f->mem);
	free(f);
	return 0;
}

/* A virtio-blk shaped chain: 16-byte header, 512 data, 1 status. */
static void blk_chain(struct fixture *f, unsigned int first)
{
	set_desc(desc(f, first), BUF, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(first + 1));
	set_desc(desc(f, first + 1), BUF + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
		 (uint16_t)(first + 2));
	set_desc(desc(f, first + 2), BUF + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
}

static void test_init_checks(void **state)
{
	struct fixture *f = *state;
	struct vq vq;

	assert_int_equal(vq_init(&vq, &f->mem, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(vq_init(&vq, &f->mem, 12, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC, AVAIL, USED + 2, false, false), -EINVAL);
	/* Rings that run off the end of RAM, or lie nowhere near it. */
	assert_int_equal(vq_init(&vq, &f->mem, QSZ, RAM - 16, AVAIL, USED, false, false), -EFAULT);
	assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC, AVAIL, 0xfffffffffffffff0ULL, false,
				 false), -EFAULT);
	assert_int_equal(vq_init(&vq, &f->mem, 32768, DESC, AVAIL, RAM - 0x1000, false, false), -EFAULT);
	assert_int_equal(vq_init(&vq, &f->mem, 32768, DESC, AVAIL, USED, false, false), 0);
}

static void test_pop_push(void **state)
{
	struct fixture *f = *state;
	struct virtq_used_elem *ue = (void *)((uint8_t *)gpa(&f->mem, USED) + 4);

	assert_int_equal(vq_pop(&f->vq, &f->e), 0);
	blk_chain(f, 3);
	publish(f, 3);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 3);
	assert_int_equal(f->e.nr_out, 1);
	assert_int_equal(f->e.nr_in, 2);
	assert_int_equal(f->e.out_len, 16);
	assert_int_equal(f->e.in_len, 513);
	assert_false(f->e.truncated);
	assert_ptr_equal(f->e.iov[0].iov_base, gpa(&f->mem, BUF));
	assert_ptr_equal(f->e.iov[1].iov_base, gpa(&f->mem, BUF + 0x100));
	assert_ptr_equal(f->e.last_in, gpa(&f->mem, BUF + 0x400));
	assert_int_equal(vq_pop(&f->vq, &f->e), 0);

	vq_push(&f->vq, 3, 513);
	assert_int_equal(used16(f)[1], 1);
	assert_int_equal(ue[0].id, 3);
	assert_int_equal(ue[0].len, 513);
	/* No EVENT_IDX: NO_INTERRUPT in avail->flags decides. */
	assert_true(vq_should_notify(&f->vq));
	avail(f)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(vq_should_notify(&f->vq));
}

static void test_index_wrap(void **state)
{
	struct fixture *f = *state;

	/* Both sides near 65535: indices are free-running and wrap. */
	f->vq.last_avail = 0xfffe;
	f->vq.used_idx = 0xfffe;
	avail(f)[1] = 0xfffe;
	for (unsigned int i = 0; i < 3; i++) {
		set_desc(desc(f, i), BUF + i * 64, 8, VIRTQ_DESC_F_WRITE, 0);
		publish(f, (uint16_t)i);
	}
	assert_int_equal(avail(f)[1], 1);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->e), 1);
		assert_int_equal(f->e.head, i);
		vq_push(&f->vq, f->e.head, 8);
	}
	assert_int_equal(vq_pop(&f->vq, &f->e), 0);
	assert_int_equal(used16(f)[1], 1);
	assert_false(f->vq.broken);
}

static void test_avail_runaway(void **state)
{
	struct fixture *f = *state;

	/* The driver cannot be more than a ring ahead of the device. */
	avail(f)[1] = QSZ + 1;
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
	assert_true(f->vq.broken);
	assert_non_null(f->vq.why);
	/* Broken stays broken, even once the ring looks sane again. */
	avail(f)[1] = 0;
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
	assert_false(vq_enable_notify(&f->vq));
}

static void test_bad_head(void **state)
{
	struct fixture *f = *state;

	publish(f, QSZ);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

static void test_loop(void **state)
{
	struct fixture *f = *state;

	set_desc(desc(f, 0), BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(desc(f, 2), BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

static void test_self_loop(void **state)
{
	struct fixture *f = *state;

	set_desc(desc(f, 5), BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	publish(f, 5);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

static void test_full_length_chain(void **state)
{
	struct fixture *f = *state;

	/* A chain using every descriptor once is legal; the array holds 8,
	 * so it comes back truncated with every byte counted. */
	for (unsigned int i = 0; i < QSZ; i++)
		set_desc(desc(f, i), BUF + i * 16, 16,
			 VIRTQ_DESC_F_WRITE | (i + 1 < QSZ ? VIRTQ_DESC_F_NEXT : 0),
			 (uint16_t)(i + 1));
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_true(f->e.truncated);
	assert_int_equal(f->e.nr_in, 8);
	assert_int_equal(f->e.in_len, QSZ * 16);
	assert_ptr_equal(f->e.last_in, gpa(&f->mem, BUF + (QSZ - 1) * 16 + 15));
}

static void test_next_out_of_range(void **state)
{
	struct fixture *f = *state;

	set_desc(desc(f, 0), BUF, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

static void test_outside_ram(void **state)
{
	struct fixture *f = *state;
	static const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ RAM, 1 },				/* just past the end */
		{ RAM - 4, 8 },				/* straddles the end */
		{ 0xfffffffffffffff0ULL, 0x20 },	/* gpa + len wraps */
		{ 0x8000000000ULL, 512 },		/* nowhere */
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vq vq;

		assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC, AVAIL, USED, false, true), 0);
		vq.last_avail = avail(f)[1];
		set_desc(desc(f, 0), bad[i].addr, bad[i].len, VIRTQ_DESC_F_WRITE, 0);
		publish(f, 0);
		assert_int_equal(vq_pop(&vq, &f->e), -EPROTO);
	}
}

static void test_zero_length_ignored(void **state)
{
	struct fixture *f = *state;

	/* Zero-length buffers carry nothing, wherever they "point". */
	set_desc(desc(f, 0), 0xdead00000000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.nr_out + f->e.nr_in, 1);
	assert_int_equal(f->e.in_len, 4);
}

static void test_write_then_read(void **state)
{
	struct fixture *f = *state;

	/* §2.7.4.2: device-writable descriptors come last. */
	set_desc(desc(f, 0), BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), BUF, 4, 0, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

static struct virtq_desc *table(struct fixture *f, unsigned int i)
{
	return (struct virtq_desc *)gpa(&f->mem, TABLE) + i;
}

static void test_indirect(void **state)
{
	struct fixture *f = *state;

	set_desc(table(f, 0), BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table(f, 1), BUF + 0x100, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(table(f, 2), BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(desc(f, 7), TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(f, 7);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 7);
	assert_int_equal(f->e.nr_out, 1);
	assert_int_equal(f->e.nr_in, 2);
	assert_int_equal(f->e.in_len, 4097);
	assert_ptr_equal(f->e.last_in, gpa(&f->mem, BUF + 0x2000));
}

static void test_indirect_unaligned_table(void **state)
{
	struct fixture *f = *state;
	struct virtq_desc d = { .addr = BUF, .len = 9, .flags = VIRTQ_DESC_F_WRITE };

	/* Tables need no alignment: read it from an odd address. */
	memcpy((uint8_t *)gpa(&f->mem, TABLE) + 3, &d, sizeof(d));
	set_desc(desc(f, 0), TABLE + 3, 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.in_len, 9);
}

static void test_indirect_without_feature(void **state)
{
	struct fixture *f = *state;

	set_desc(table(f, 0), BUF, 16, 0, 0);
	set_desc(desc(f, 0), TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), -EPROTO);
}

/* Each hostile indirect shape on a fresh queue. */
static void indirect_bad(struct fixture *f, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vq vq;

	assert_int_equal(vq_init(&vq, &f->mem, QSZ, DESC, AVAIL, USED, false, true), 0);
	vq.last_avail = avail(f)[1];
	set_desc(desc(f, 0), addr, len, flags, 1);
	set_desc(desc(f, 1), BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&vq, &f->e), -EPROTO);
	assert_true(vq.broken);
}

static void test_indirect_hostile(void **state)
{
	struct fixture *f = *state;

	set_desc(table(f, 0), BUF, 16, 0, 0);
	indirect_bad(f, TABLE, 0, VIRTQ_DESC_F_INDIRECT);		/* empty */
	indirect_bad(f, TABLE, 20, VIRTQ_DESC_F_INDIRECT);		/* not n * 16 */
	indirect_bad(f, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT);
	indirect_bad(f, RAM - 8, 16, VIRTQ_DESC_F_INDIRECT);		/* off the end */
	indirect_bad(f, 0xfffffffffffffff0ULL, 32, VIRTQ_DESC_F_INDIRECT);
	indirect_bad(f, TABLE, 16 * (VIRTQ_MAX_CHAIN + 1), VIRTQ_DESC_F_INDIRECT);

	/* An indirect descriptor inside a table. */
	set_desc(table(f, 0), TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	indirect_bad(f, TABLE, 16, VIRTQ_DESC_F_INDIRECT);

	/* A loop inside the table, and next past its end. */
	set_desc(table(f, 0), BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table(f, 1), BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	indirect_bad(f, TABLE, 32, VIRTQ_DESC_F_INDIRECT);
	set_desc(table(f, 1), BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	indirect_bad(f, TABLE, 32, VIRTQ_DESC_F_INDIRECT);
	/* A table entry outside RAM. */
	set_desc(table(f, 0), RAM + 0x1000, 16, 0, 0);
	indirect_bad(f, TABLE, 16, VIRTQ_DESC_F_INDIRECT);
}

static void test_indirect_max_chain(void **state)
{
	struct fixture *f = *state;
	struct virtq_desc *t = gpa(&f->mem, 0x40000);

	/* 1024 entries is the most a chain may have: fine, truncated. */
	for (unsigned int i = 0; i < VIRTQ_MAX_CHAIN; i++)
		set_desc(&t[i], BUF, 1, VIRTQ_DESC_F_WRITE |
			 (i + 1 < VIRTQ_MAX_CHAIN ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1));
	set_desc(desc(f, 0), 0x40000, 16 * VIRTQ_MAX_CHAIN, VIRTQ_DESC_F_INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_true(f->e.truncated);
	assert_int_equal(f->e.in_len, VIRTQ_MAX_CHAIN);
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	uint16_t *used_event = &avail(f)[2 + QSZ];
	uint16_t *avail_event = (uint16_t *)((uint8_t *)gpa(&f->mem, USED) + 4 + 8 * QSZ);

	/* The first completion always interrupts. */
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));
	/* §2.7.10: interrupt only when used_event lies in (old, new]. */
	*used_event = 5;
	vq_push(&f->vq, 0, 0);			/* used idx 2 */
	assert_false(vq_should_notify(&f->vq));
	for (unsigned int i = 0; i < 4; i++)
		vq_push(&f->vq, 0, 0);		/* used idx 6 crosses 5 */
	assert_true(vq_should_notify(&f->vq));
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_notify(&f->vq));

	/* Re-arming publishes where we are and sees late arrivals. */
	assert_false(vq_enable_notify(&f->vq));
	assert_int_equal(*avail_event, 0);
	set_desc(desc(f, 0), BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_true(vq_enable_notify(&f->vq));
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	assert_false(vq_enable_notify(&f->vq));
	assert_int_equal(*avail_event, 1);
}

/* The stop line's view of a ring: which side a stalled queue waits on. */
static void test_describe(void **state)
{
	struct fixture *f = *state;
	struct vq unset = { 0 };
	char buf[160];

	avail(f)[2 + QSZ] = 3;				/* used_event */
	set_desc(desc(f, 0), BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(f, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->e), 1);
	vq_push(&f->vq, 0, 4);
	assert_true(vq_should_notify(&f->vq));
	vq_describe(&f->vq, buf, sizeof(buf));
	assert_string_equal(buf, "avail 2, served 1; used 1, used_event 3, avail_event 0, "
				 "last interrupt at 1");
	vq_describe(&unset, buf, sizeof(buf));
	assert_string_equal(buf, "not set up");
}

static void test_iov_helpers(void **state)
{
	uint8_t a[4] = { 1, 2, 3, 4 }, b[3] = { 5, 6, 7 }, c[2] = { 8, 9 }, out[9];
	struct iovec v[3] = { { a, 4 }, { b, 3 }, { c, 2 } };
	unsigned int cnt = 3;

	assert_int_equal(iov_to_buf(v, 3, 2, out, 5), 5);
	assert_memory_equal(out, ((uint8_t[]){ 3, 4, 5, 6, 7 }), 5);
	assert_int_equal(iov_to_buf(v, 3, 8, out, 5), 1);
	assert_int_equal(iov_to_buf(v, 3, 9, out, 5), 0);
	assert_int_equal(iov_from_buf(v, 3, 3, ((uint8_t[]){ 0xaa, 0xbb }), 2), 2);
	assert_int_equal(a[3], 0xaa);
	assert_int_equal(b[0], 0xbb);
	/* Trim 5 from the front (a and one of b), 1 from the back. */
	assert_int_equal(iov_trim(v, &cnt, 5, 1), 3);
	assert_int_equal(cnt, 2);
	assert_ptr_equal(v[0].iov_base, b + 1);
	assert_int_equal(v[0].iov_len, 2);
	assert_int_equal(v[1].iov_len, 1);
	assert_int_equal(iov_trim(v, &cnt, 0, 3), 0);
	assert_int_equal(cnt, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pop_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_runaway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_length_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_unaligned_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_without_feature, setup_no_indirect, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_max_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup_event_idx, teardown),
		cmocka_unit_test(test_iov_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
