// SPDX-License-Identifier: MIT
/*
 * Unit tests for the vhost-net back end (devices/virtio/vhost_net.c) on a
 * fake /dev/vhost-net (tests/unit/fake_vhost.c): the open sequence and its
 * errors, the feature offer and the features handed to vhost (the vnet
 * header either way), the exact ioctl sequence of a start and of a stop,
 * pairs stopped alone, the memory table, rings outside guest RAM or
 * misaligned refused before vhost hears of them, a changed vector re-binding the call fd, and the
 * forwarder turning a call on a queue without a vector into a notify.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/vhost_net.h"
#include "devices/virtio/virtio.h"
#include "tests/unit/fake_vhost.h"

#define PAIRS		2
#define QSIZE		256
#define LOW_SIZE	(1 * MiB)
#define HIGH_SIZE	(1 * MiB)
#define BIT(b)		(UINT64_C(1) << (b))
#define VNET_MRG_RXBUF	15
#define VNET_CSUM	0
/* what a 6.1 kernel's vhost-net offers (VHOST_NET_FEATURES) */
#define VHOST_FEATURES	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) | \
			 BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VNET_MRG_RXBUF) | BIT(24) | \
			 BIT(VHOST_F_LOG_ALL) | BIT(VHOST_NET_F_VIRTIO_NET_HDR) | \
			 BIT(VIRTIO_F_ACCESS_PLATFORM))

struct fx {
	struct fake_vhost fv;
	struct vhost_net vn;
	struct guest_mem mem;
	struct vhost_net_pair pairs[PAIRS];
	unsigned int notified[2 * PAIRS];
};

/* Virtqueue q's set-up: receiveq p is 2p, transmitq p 2p+1 (§5.1.2). */
static struct vhost_net_queue *queue(struct fx *f, unsigned int q)
{
	return q % 2 ? &f->pairs[q / 2].tx : &f->pairs[q / 2].rx;
}

/* DRIVER_OK: every pair; the first error. */
static int start_all(struct fx *f)
{
	for (unsigned int p = 0; p < PAIRS; p++) {
		int ret = vhost_net_start_pair(&f->vn, p, &f->pairs[p]);

		if (ret)
			return ret;
	}
	return 0;
}

static void set_all(struct fx *f, unsigned int vnet_hdr_len, uint64_t features)
{
	for (unsigned int p = 0; p < PAIRS; p++) {
		f->pairs[p].vnet_hdr_len = vnet_hdr_len;
		f->pairs[p].features = features;
	}
}

static void notify(void *opaque, unsigned int q)
{
	struct fx *f = opaque;

	__atomic_fetch_add(&f->notified[q], 1, __ATOMIC_SEQ_CST);
}

/* Guest RAM as a VM has it: a region below 4 GiB and one above. */
static void mem_init(struct guest_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->base = aligned_alloc(4096, LOW_SIZE + HIGH_SIZE);
	assert_non_null(m->base);
	m->ram_size = LOW_SIZE + HIGH_SIZE;
	m->low_end = LOW_SIZE;
	m->high_size = HIGH_SIZE;
	m->fd = -1;
	m->regions[0] = (struct mem_region){ .gpa = 0, .size = LOW_SIZE, .offset = 0, .name = "low" };
	m->regions[1] = (struct mem_region){ .gpa = MEM_4G, .size = HIGH_SIZE, .offset = LOW_SIZE,
					     .name = "high" };
	m->nr_regions = 2;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vhost_init(&f->fv);
	f->fv.features = VHOST_FEATURES;
	mem_init(&f->mem);
	for (unsigned int p = 0; p < PAIRS; p++)
		f->pairs[p] = (struct vhost_net_pair){ .mem = &f->mem, .tap_fd = 300 + (int)p };
	set_all(f, VHOST_NET_HDR_LEN, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
				       BIT(VNET_MRG_RXBUF) | BIT(VNET_CSUM));
	for (unsigned int q = 0; q < 2 * PAIRS; q++) {
		/* rx0 and tx0 low, the second pair's rings above 4 GiB */
		uint64_t base = (q < 2 ? 0x10000 : MEM_4G + 0x10000) + (q % 2) * 0x8000;

		*queue(f, q) = (struct vhost_net_queue){
			.size = QSIZE, .desc = base, .avail = base + 0x1000, .used = base + 0x2000,
			.kick_fd = 100 + (int)q, .call_fd = 200 + (int)q,
		};
	}
	assert_int_equal(vhost_net_open(&f->vn, &f->fv.ops, "net0", PAIRS, notify, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vhost_net_close(&f->vn);
	assert_int_equal(f->fv.nr_open, 0);
	free(f->mem.base);
	free(f);
	return 0;
}

static int fd_of(unsigned int pair)
{
	return FVH_FD_BASE + (int)pair;
}

/* ---- open --------------------------------------------------------------- */

static void test_open_sequence(void **state)
{
	struct fx *f = *state;

	/* per pair: open, SET_OWNER, GET_FEATURES */
	assert_int_equal(f->fv.nr_log, 3 * PAIRS);
	for (unsigned int p = 0; p < PAIRS; p++) {
		assert_int_equal(f->fv.log[3 * p].op, FVH_OPEN);
		assert_int_equal(f->fv.log[3 * p + 1].op, FVH_SET_OWNER);
		assert_int_equal(f->fv.log[3 * p + 1].fd, fd_of(p));
		assert_int_equal(f->fv.log[3 * p + 2].op, FVH_GET_FEATURES);
	}
	assert_int_equal(f->fv.nr_open, PAIRS);
	assert_true(f->vn.features == VHOST_FEATURES);
}

static void test_open_missing_or_refused(void **state)
{
	static const int errs[] = { ENOENT, EACCES, EPERM };
	struct fake_vhost fv;
	struct vhost_net vn;

	(void)state;
	for (unsigned int i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fake_vhost_init(&fv);
		fv.features = VHOST_FEATURES;
		fv.open_errno = errs[i];
		assert_int_equal(vhost_net_open(&vn, &fv.ops, "net0", PAIRS, NULL, NULL), -errs[i]);
		assert_int_equal(fv.nr_open, 0);
		assert_non_null(strstr(vhost_net_error(-errs[i]), "/dev/vhost-net"));
		vhost_net_close(&vn);	/* harmless after a failed open */
	}
	assert_non_null(strstr(vhost_net_error(-ENOENT), "modprobe vhost_net"));
}

static void test_open_second_pair_fails(void **state)
{
	struct fake_vhost fv;
	struct vhost_net vn;

	(void)state;
	fake_vhost_init(&fv);
	fv.features = VHOST_FEATURES;
	fv.fail_op = FVH_SET_OWNER;
	fv.fail_after = 1;
	fv.fail_errno = EBUSY;
	assert_int_equal(vhost_net_open(&vn, &fv.ops, "net0", PAIRS, NULL, NULL), -EBUSY);
	assert_int_equal(fv.nr_open, 0);	/* the first pair's fd closed too */
}

static void test_open_no_version_1(void **state)
{
	struct fake_vhost fv;
	struct vhost_net vn;

	(void)state;
	fake_vhost_init(&fv);
	fv.features = VHOST_FEATURES & ~BIT(VIRTIO_F_VERSION_1);
	assert_int_equal(vhost_net_open(&vn, &fv.ops, "net0", 1, NULL, NULL), -EOPNOTSUPP);
	assert_int_equal(fv.nr_open, 0);
}

/* ---- features ------------------------------------------------------------ */

static void test_offer(void **state)
{
	struct fx *f = *state;
	uint64_t device = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
			  BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VNET_MRG_RXBUF) | BIT(VNET_CSUM) |
			  BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_ACCESS_PLATFORM) | BIT(57);
	uint64_t offer = vhost_net_offer(&f->vn, device);

	/* device features pass, ring features vhost has pass */
	assert_true(offer & BIT(VNET_CSUM));
	assert_true(offer & BIT(VIRTIO_F_EVENT_IDX));
	assert_true(offer & BIT(VNET_MRG_RXBUF));
	/* no packed rings in this vhost, no IOTLB, no hash reports */
	assert_false(offer & BIT(VIRTIO_F_RING_PACKED));
	assert_false(offer & BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_false(offer & BIT(57));

	f->vn.features &= ~BIT(VIRTIO_F_EVENT_IDX);
	assert_false(vhost_net_offer(&f->vn, device) & BIT(VIRTIO_F_EVENT_IDX));
}

static void test_features_vnet_hdr(void **state)
{
	struct fx *f = *state;
	const struct fvh_call *c;

	/* tap with a 12-byte vnet header: vhost passes the header through;
	 * the driver's bit 27 (ANY_LAYOUT) must not reach vhost as
	 * VHOST_NET_F_VIRTIO_NET_HDR; device-only bits stay out */
	set_all(f, VHOST_NET_HDR_LEN, f->pairs[0].features | BIT(27));
	assert_int_equal(start_all(f), 0);
	c = fake_vhost_last(&f->fv, FVH_SET_FEATURES, fd_of(0), 0);
	assert_non_null(c);
	assert_true(c->value == (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
				 BIT(VNET_MRG_RXBUF)));
	vhost_net_stop(&f->vn);

	/* tap without a vnet header: vhost adds and strips it */
	set_all(f, 0, f->pairs[0].features);
	assert_int_equal(start_all(f), 0);
	c = fake_vhost_last(&f->fv, FVH_SET_FEATURES, fd_of(1), 0);
	assert_true(c->value & BIT(VHOST_NET_F_VIRTIO_NET_HDR));
	vhost_net_stop(&f->vn);

	/* a 10-byte header cannot carry virtio 1.x's */
	set_all(f, 10, f->pairs[0].features);
	assert_int_equal(start_all(f), -EINVAL);
	assert_false(f->vn.pair_started[0]);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_BACKEND, -1), 2 * (2 * PAIRS) * 2);
}

/* ---- start and stop -------------------------------------------------------- */

static void test_start_sequence(void **state)
{
	struct fx *f = *state;
	static const enum fvh_op ring_ops[] = {
		FVH_SET_VRING_NUM, FVH_SET_VRING_BASE, FVH_SET_VRING_ADDR,
		FVH_SET_VRING_KICK, FVH_SET_VRING_CALL,
	};
	unsigned int i = f->fv.nr_log;

	assert_int_equal(start_all(f), 0);
	assert_int_equal(f->vn.pairs_started, PAIRS);
	for (unsigned int p = 0; p < PAIRS; p++) {
		const struct fvh_call *c = &f->fv.log[i];

		assert_int_equal(c[0].op, FVH_SET_FEATURES);
		assert_int_equal(c[1].op, FVH_SET_MEM_TABLE);
		for (unsigned int r = 0; r < 2; r++) {
			unsigned int q = 2 * p + r;

			for (unsigned int k = 0; k < 5; k++) {
				const struct fvh_call *o = &c[2 + 5 * r + k];

				assert_int_equal(o->op, ring_ops[k]);
				assert_int_equal(o->fd, fd_of(p));
				assert_int_equal(o->index, r);
			}
			assert_int_equal(c[2 + 5 * r].value, QSIZE);
			assert_int_equal(c[3 + 5 * r].value, 0);	/* base */
			assert_int_equal(c[5 + 5 * r].value, 100 + q);	/* kick */
			assert_int_equal(c[6 + 5 * r].value, 200 + q);	/* call */
		}
		/* the tap last, RX then TX */
		assert_int_equal(c[12].op, FVH_SET_BACKEND);
		assert_int_equal(c[12].index, 0);
		assert_int_equal(c[12].value, 300 + p);
		assert_int_equal(c[13].op, FVH_SET_BACKEND);
		assert_int_equal(c[13].index, 1);
		i += 14;
	}
	assert_int_equal(f->fv.nr_log, i);
	assert_int_equal(vhost_net_start_pair(&f->vn, 1, &f->pairs[1]), -EBUSY);
	assert_int_equal(vhost_net_start_pair(&f->vn, PAIRS, &f->pairs[1]), -EINVAL);
	assert_int_equal(f->fv.nr_log, i);
}

static void test_memory_table_and_addresses(void **state)
{
	struct fx *f = *state;
	uintptr_t base = (uintptr_t)f->mem.base;
	const struct fvh_call *c;

	assert_int_equal(start_all(f), 0);
	assert_int_equal(f->fv.nr_mem, 2);
	assert_true(f->fv.mem[0].guest_phys_addr == 0);
	assert_true(f->fv.mem[0].memory_size == LOW_SIZE);
	assert_true(f->fv.mem[0].userspace_addr == base);
	assert_true(f->fv.mem[1].guest_phys_addr == MEM_4G);
	assert_true(f->fv.mem[1].memory_size == HIGH_SIZE);
	assert_true(f->fv.mem[1].userspace_addr == base + LOW_SIZE);

	/* rings translated through the regions: tx0 low, rx1 high */
	c = fake_vhost_last(&f->fv, FVH_SET_VRING_ADDR, fd_of(0), 1);
	assert_true(c->addr.desc_user_addr == base + 0x18000);
	assert_true(c->addr.avail_user_addr == base + 0x19000);
	assert_true(c->addr.used_user_addr == base + 0x1a000);
	assert_int_equal(c->addr.flags, 0);
	c = fake_vhost_last(&f->fv, FVH_SET_VRING_ADDR, fd_of(1), 0);
	assert_true(c->addr.desc_user_addr == base + LOW_SIZE + 0x10000);
	assert_true(c->addr.used_user_addr == base + LOW_SIZE + 0x12000);
}

static void test_stop_sequence(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	assert_int_equal(start_all(f), 0);
	f->fv.vring_base[0][0] = 17;
	f->fv.vring_base[0][1] = 42;
	f->fv.vring_base[1][1] = 65535;
	i = f->fv.nr_log;
	vhost_net_stop(&f->vn);
	assert_int_equal(f->vn.pairs_started, 0);
	for (unsigned int p = 0; p < PAIRS; p++) {
		const struct fvh_call *c = &f->fv.log[i + 4 * p];

		for (unsigned int r = 0; r < 2; r++) {
			assert_int_equal(c[2 * r].op, FVH_SET_BACKEND);
			assert_int_equal(c[2 * r].fd, fd_of(p));
			assert_int_equal(c[2 * r].index, r);
			assert_true(c[2 * r].value == (uint64_t)-1);
			assert_int_equal(c[2 * r + 1].op, FVH_GET_VRING_BASE);
			assert_int_equal(c[2 * r + 1].index, r);
		}
	}
	assert_int_equal(f->fv.nr_log, i + 4 * PAIRS);
	assert_int_equal(f->vn.vrings[0].last_avail, 17);
	assert_int_equal(f->vn.vrings[1].last_avail, 42);
	assert_int_equal(f->vn.vrings[3].last_avail, 65535);

	/* stopping again (reset after reset, exit after reset) does nothing */
	vhost_net_stop(&f->vn);
	assert_int_equal(f->fv.nr_log, i + 4 * PAIRS);

	/* a reset and a new DRIVER_OK: everything again, rings from 0 */
	assert_int_equal(start_all(f), 0);
	assert_int_equal(fake_vhost_last(&f->fv, FVH_SET_VRING_BASE, fd_of(0), 1)->value, 0);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_BACKEND, -1), 2 * 2 * PAIRS + 2 * PAIRS);
}

static void test_pairs_stop_alone(void **state)
{
	struct fx *f = *state;

	/* the driver goes from two pairs to one (VQ_PAIRS_SET) */
	assert_int_equal(start_all(f), 0);
	vhost_net_stop_pair(&f->vn, 1);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_GET_VRING_BASE, fd_of(1)), 2);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_GET_VRING_BASE, fd_of(0)), 0);
	assert_true(f->vn.pair_started[0]);
	assert_true(f->vn.forwarding);		/* pair 0 may still need it */
	vhost_net_stop_pair(&f->vn, 1);		/* not started: nothing */
	assert_int_equal(fake_vhost_count(&f->fv, FVH_GET_VRING_BASE, fd_of(1)), 2);
	vhost_net_stop_pair(&f->vn, 0);
	assert_false(f->vn.forwarding);
	/* and back to two */
	assert_int_equal(start_all(f), 0);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_BACKEND, fd_of(1)), 2 + 2 + 2);
}

/* ---- hostile rings ---------------------------------------------------------- */

/* Starting pair 1 fails with err before vhost hears of it. */
static void assert_refused(struct fx *f, int err)
{
	unsigned int calls = f->fv.nr_log;

	assert_int_equal(vhost_net_start_pair(&f->vn, 1, &f->pairs[1]), err);
	assert_false(f->vn.pair_started[1]);
	assert_int_equal(f->fv.nr_log, calls);
}

static void test_bad_ring_gpas(void **state)
{
	struct fx *f = *state;
	struct vhost_net_queue good = *queue(f, 3);

	assert_int_equal(vhost_net_start_pair(&f->vn, 0, &f->pairs[0]), 0);
	/* past the end of RAM */
	queue(f, 3)->desc = MEM_4G + HIGH_SIZE;
	assert_refused(f, -EFAULT);
	/* straddling the end of a region */
	*queue(f, 3) = good;
	queue(f, 3)->used = LOW_SIZE - 0x800;	/* 6 + 8 * 256 bytes do not fit */
	assert_refused(f, -EFAULT);
	/* in the hole below 4 GiB */
	*queue(f, 3) = good;
	queue(f, 3)->avail = MEM_4G - 0x1000;
	assert_refused(f, -EFAULT);
	/* wrapping around */
	*queue(f, 3) = good;
	queue(f, 3)->desc = UINT64_MAX - 0xfff;
	assert_refused(f, -EFAULT);
	/* misaligned (§2.7: 16, 2, 4) */
	*queue(f, 3) = good;
	queue(f, 3)->desc += 8;
	assert_refused(f, -EINVAL);
	*queue(f, 3) = good;
	queue(f, 3)->used += 2;
	assert_refused(f, -EINVAL);
	/* not a power of two, or none */
	*queue(f, 3) = good;
	queue(f, 3)->size = 100;
	assert_refused(f, -EINVAL);
	queue(f, 3)->size = 0;
	assert_refused(f, -EINVAL);
	/* the RX ring is checked as well */
	*queue(f, 3) = good;
	queue(f, 2)->used = MEM_4G + HIGH_SIZE - 8;
	assert_refused(f, -EFAULT);
	/* pair 0 was not disturbed, and good rings still start */
	assert_true(f->vn.pair_started[0]);
	queue(f, 2)->used = MEM_4G + 0x12000;
	assert_int_equal(vhost_net_start_pair(&f->vn, 1, &f->pairs[1]), 0);
}

static void test_kernel_refuses_backend(void **state)
{
	struct fx *f = *state;
	const struct fvh_call *c;

	/* pair 0's TX ring refuses the tap: RX gets its backend unset again */
	f->fv.fail_op = FVH_SET_BACKEND;
	f->fv.fail_after = 1;
	f->fv.fail_errno = EBADF;
	assert_int_equal(vhost_net_start_pair(&f->vn, 0, &f->pairs[0]), -EBADF);
	assert_false(f->vn.pair_started[0]);
	c = fake_vhost_last(&f->fv, FVH_SET_BACKEND, fd_of(0), 0);
	assert_true(c->value == (uint64_t)-1);
	assert_false(f->vn.forwarding);
	/* and the next DRIVER_OK works */
	assert_int_equal(vhost_net_start_pair(&f->vn, 0, &f->pairs[0]), 0);
}

/* ---- interrupts --------------------------------------------------------------- */

static void test_vector_change_rebinds_call(void **state)
{
	struct fx *f = *state;
	unsigned int calls;
	const struct fvh_call *c;

	/* not running: nothing to tell vhost */
	assert_int_equal(vhost_net_set_call(&f->vn, 1, 555), 0);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1), 0);

	assert_int_equal(start_all(f), 0);
	calls = fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1);
	/* tx1 moves to another vector */
	assert_int_equal(vhost_net_set_call(&f->vn, 3, 777), 0);
	c = fake_vhost_last(&f->fv, FVH_SET_VRING_CALL, fd_of(1), 1);
	assert_int_equal(c->value, 777);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1), calls + 1);
	/* the same vector again: no ioctl */
	assert_int_equal(vhost_net_set_call(&f->vn, 3, 777), 0);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1), calls + 1);
	/* no vector any more (NO_VECTOR, MSI-X off): the forwarder's eventfd */
	assert_int_equal(vhost_net_set_call(&f->vn, 3, -1), 0);
	c = fake_vhost_last(&f->fv, FVH_SET_VRING_CALL, fd_of(1), 1);
	assert_int_equal(c->value, f->vn.vrings[3].slow_fd);
	assert_int_equal(vhost_net_set_call(&f->vn, 4, 1), -EINVAL);
	vhost_net_stop(&f->vn);
	/* stopped: no ioctl again */
	calls = fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1);
	assert_int_equal(vhost_net_set_call(&f->vn, 3, 888), 0);
	assert_int_equal(fake_vhost_count(&f->fv, FVH_SET_VRING_CALL, -1), calls);
}

static void test_forwarder_without_vector(void **state)
{
	struct fx *f = *state;
	const struct fvh_call *c;
	uint64_t one = 1;
	int slow;

	queue(f, 2)->call_fd = -1;	/* rx1 without MSI-X: INTx */
	assert_int_equal(start_all(f), 0);
	c = fake_vhost_last(&f->fv, FVH_SET_VRING_CALL, fd_of(1), 0);
	slow = (int)c->value;
	assert_int_equal(slow, f->vn.vrings[2].slow_fd);
	/* vhost signals it: the forwarder notifies queue 2 */
	assert_int_equal(write(slow, &one, sizeof(one)), sizeof(one));
	for (int i = 0; i < 2000 && !__atomic_load_n(&f->notified[2], __ATOMIC_SEQ_CST); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	assert_int_equal(__atomic_load_n(&f->notified[2], __ATOMIC_SEQ_CST), 1);
	assert_int_equal(f->notified[0] + f->notified[1] + f->notified[3], 0);
	vhost_net_stop(&f->vn);
	assert_false(f->vn.forwarding);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_sequence, setup, teardown),
		cmocka_unit_test(test_open_missing_or_refused),
		cmocka_unit_test(test_open_second_pair_fails),
		cmocka_unit_test(test_open_no_version_1),
		cmocka_unit_test_setup_teardown(test_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_vnet_hdr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_table_and_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs_stop_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_gpas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_refuses_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vector_change_rebinds_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwarder_without_vector, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
