// SPDX-License-Identifier: MIT
/*
 * virtio-net with its vhost-net back end (devices/virtio/net_vhost.c), as
 * a driver sees it, on a fake VM and a fake /dev/vhost-net
 * (tests/unit/fake_vhost.c): DRIVER_OK hands the rings to vhost with the
 * queue's ioeventfd as kick and its MSI-X vector's irqfd as call; a vector
 * moved, MSI-X switched off and on re-bind the call fd; a masked vector is
 * held by detaching its irqfd; reset stops vhost (SET_BACKEND -1,
 * GET_VRING_BASE) and a second DRIVER_OK starts it again; rings outside
 * RAM put the device into DEVICE_NEEDS_RESET with vhost untouched; the
 * offer loses what vhost lacks; destroy closes every vhost fd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/virtio/net.h"
#include "devices/virtio/vhost_net.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vhost.h"
#include "tests/unit/fake_vm.h"
#include "tests/unit/virtio_driver.h"

#define RAM		(1 * MiB)
#define DEVFN		PCI_DEVFN(3, 0)
#define QSIZE		256
#define DESC(q)		(0x10000 + 0x4000 * (uint64_t)(q))
#define AVAIL(q)	(DESC(q) + 0x1000)
#define USED(q)		(DESC(q) + 0x2000)
#define VHOST_FD	FVH_FD_BASE	/* the one pair's */
#define FEATURES	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
			 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_MAC))

struct t {
	struct fake_vm fvm;
	struct fake_vhost fv;
	struct bus pio, mmio;
	struct pci_root *root;
	struct guest_mem mem;
	struct vnet *n;
	struct vd d;
	int tap_fd;
};

static int setup_with(void **state, uint64_t vhost_features)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct t *t = calloc(1, sizeof(*t));
	struct vnet_params p = { .name = "virtio-net0", .mac = mac, .queues = 1,
				 .backend = &net_vhost_backend };

	assert_non_null(t);
	fake_vm_init(&t->fvm);
	vd_hook(&t->fvm);
	fake_vhost_init(&t->fv);
	t->fv.features = vhost_features;
	net_vhost_use_ops(&t->fv.ops);
	assert_int_equal(fake_mem_init(&t->mem, RAM), 0);
	assert_int_equal(bus_init(&t->pio, "pio"), 0);
	assert_int_equal(bus_init(&t->mmio, "mmio"), 0);
	t->root = pci_root_create(&t->fvm.ops, &t->pio, &t->mmio);
	assert_non_null(t->root);
	/* a stand-in for the tap queue: vhost is fake, only the number counts */
	t->tap_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(t->tap_fd >= 0);
	p.tap_fds = &t->tap_fd;
	t->n = vnet_create(&t->fvm.ops, &t->mem, &p);
	assert_non_null(t->n);
	assert_int_equal(pci_bus_plug(pci_root_bus(t->root), vnet_pci(t->n), DEVFN), 0);
	t->d = (struct vd){ .root = t->root, .mmio = &t->mmio, .devfn = DEVFN };
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
				 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
				 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
				 VIRTIO_BIT(VHOST_NET_F_VIRTIO_NET_HDR));
}

static int teardown(void **state)
{
	struct t *t = *state;

	vnet_destroy(t->n);	/* closes the tap fd too */
	assert_int_equal(t->fv.nr_open, 0);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(t->fvm.nr_irqfds, 0);
	net_vhost_use_ops(NULL);
	pci_root_destroy(t->root);
	bus_exit(&t->pio);
	bus_exit(&t->mmio);
	fake_mem_free(&t->mem);
	free(t);
	return 0;
}

/* The eventfd of MSI-X vector vec (routes are handed out in unmask order). */
static int vector_fd(unsigned int vec)
{
	return vd_irqfd(FAKE_VM_FIRST_MSI_GSI + vec);
}

/* Like Linux: MSI-X on, vector 0 config, queue q -> vector q + 1. */
static void bring_up(struct t *t)
{
	struct vd *d = &t->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	for (unsigned int v = 0; v < 4; v++)
		vd_msix_entry(d, v, 0xfee00000, 0x40 + v, false);
	assert_true(vd_negotiate(d, FEATURES & vd_device_features(d)));
	vd_wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	for (unsigned int q = 0; q < 2; q++)
		vd_queue(d, (uint16_t)q, QSIZE, DESC(q), AVAIL(q), USED(q), (uint16_t)(q + 1));
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

static uint64_t last(struct t *t, enum fvh_op op, unsigned int idx)
{
	const struct fvh_call *c = fake_vhost_last(&t->fv, op, VHOST_FD, idx);

	assert_non_null(c);
	return c->value;
}

static void test_driver_ok_hands_rings_to_vhost(void **state)
{
	struct t *t = *state;
	const struct fvh_call *a;

	bring_up(t);
	assert_int_equal(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_int_equal(last(t, FVH_SET_FEATURES, 0), FEATURES & ~VIRTIO_BIT(VIRTIO_NET_F_MAC));
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(last(t, FVH_SET_VRING_NUM, q), QSIZE);
		assert_int_equal(last(t, FVH_SET_VRING_KICK, q),
				 vd_ioeventfd_at(VD_BAR4 + VIRTIO_PCI_NOTIFY_OFF + 4 * q));
		assert_true((int)last(t, FVH_SET_VRING_CALL, q) >= 0);
		assert_int_equal(last(t, FVH_SET_VRING_CALL, q), vector_fd(q + 1));
		assert_int_equal(last(t, FVH_SET_BACKEND, q), t->tap_fd);
		a = fake_vhost_last(&t->fv, FVH_SET_VRING_ADDR, VHOST_FD, q);
		assert_true(a->addr.desc_user_addr == (uintptr_t)gpa(&t->mem, DESC(q)));
		assert_true(a->addr.used_user_addr == (uintptr_t)gpa(&t->mem, USED(q)));
	}
	/* the guest's RAM, one region */
	assert_int_equal(t->fv.nr_mem, 1);
	assert_true(t->fv.mem[0].userspace_addr == (uintptr_t)t->mem.base);
}

static void test_vector_changes_rebind(void **state)
{
	struct t *t = *state;
	struct vd *d = &t->d;
	int slow;

	bring_up(t);
	/* TX moves to vector 3 */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, 3, 2);
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 1), vector_fd(3));
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 0), vector_fd(1));
	/* no vector: the forwarder's eventfd (INTx path) */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	slow = (int)last(t, FVH_SET_VRING_CALL, 1);
	assert_true(slow >= 0);
	assert_true(slow != vector_fd(1) && slow != vector_fd(2) && slow != vector_fd(3));
	vd_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 1), vector_fd(2));
	/* MSI-X off: both rings to the forwarder; on again: back */
	vd_msix_control(d, false, false);
	assert_true((int)last(t, FVH_SET_VRING_CALL, 0) != vector_fd(1));
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 1), slow);
	vd_msix_control(d, true, false);
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 0), vector_fd(1));
	assert_int_equal(last(t, FVH_SET_VRING_CALL, 1), vector_fd(2));
}

static void test_masked_vector_detaches(void **state)
{
	struct t *t = *state;
	unsigned int calls;
	int fd;

	bring_up(t);
	fd = vector_fd(1);
	calls = fake_vhost_count(&t->fv, FVH_SET_VRING_CALL, -1);
	/* masking holds the message: the irqfd comes off, vhost keeps its
	 * eventfd, whose count is the Pending bit (msi_vector.h) */
	vd_msix_entry(&t->d, 1, 0xfee00000, 0x41, true);
	assert_int_equal(vector_fd(1), -1);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_SET_VRING_CALL, -1), calls);
	vd_msix_entry(&t->d, 1, 0xfee00000, 0x41, false);
	assert_int_equal(vector_fd(1), fd);
}

static void test_reset_stops_vhost(void **state)
{
	struct t *t = *state;
	unsigned int starts;

	bring_up(t);
	t->fv.vring_base[0][0] = 5;
	t->fv.vring_base[0][1] = 9;
	vd_set_status(&t->d, 0);
	assert_true(last(t, FVH_SET_BACKEND, 0) == (uint64_t)-1);
	assert_true(last(t, FVH_SET_BACKEND, 1) == (uint64_t)-1);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_GET_VRING_BASE, VHOST_FD), 2);
	/* the driver starts again: vhost from ring index 0 */
	starts = fake_vhost_count(&t->fv, FVH_SET_VRING_BASE, VHOST_FD);
	bring_up(t);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_SET_VRING_BASE, VHOST_FD), starts + 2);
	assert_int_equal(last(t, FVH_SET_VRING_BASE, 1), 0);
	assert_int_equal(last(t, FVH_SET_BACKEND, 1), t->tap_fd);
	/* and a platform reset (reboot) stops it too */
	pci_root_reset(t->root);
	assert_true(last(t, FVH_SET_BACKEND, 0) == (uint64_t)-1);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_GET_VRING_BASE, VHOST_FD), 4);
}

static void test_bad_rings_need_reset(void **state)
{
	struct t *t = *state;
	struct vd *d = &t->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	assert_true(vd_negotiate(d, FEATURES & vd_device_features(d)));
	vd_queue(d, 0, QSIZE, RAM - 0x100, AVAIL(0), USED(0), 1);	/* runs off RAM */
	vd_queue(d, 1, QSIZE, DESC(1), AVAIL(1), USED(1), 2);
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_SET_BACKEND, -1), 0);
	assert_int_equal(fake_vhost_count(&t->fv, FVH_SET_VRING_ADDR, -1), 0);
}

static int setup_old_vhost(void **state)
{
	/* a vhost without the event index */
	return setup_with(state, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
				 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
}

static void test_offer_follows_vhost(void **state)
{
	struct t *t = *state;
	uint64_t f;

	vd_map(&t->d);
	f = vd_device_features(&t->d);
	assert_false(f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_false(f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_true(f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & VIRTIO_BIT(VIRTIO_NET_F_MAC));
}

static void test_no_vhost_device(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	struct fake_vhost fv;
	struct fake_vm fvm;
	struct guest_mem mem;
	int tap = eventfd(0, EFD_CLOEXEC);
	struct vnet_params p = { .name = "virtio-net0", .mac = mac, .queues = 1, .tap_fds = &tap,
				 .backend = &net_vhost_backend };

	(void)state;
	fake_vm_init(&fvm);
	fake_vhost_init(&fv);
	fv.open_errno = ENOENT;
	net_vhost_use_ops(&fv.ops);
	assert_int_equal(net_vhost_probe(), -ENOENT);
	assert_int_equal(fake_mem_init(&mem, RAM), 0);
	assert_null(vnet_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, ENOENT);
	net_vhost_use_ops(NULL);
	fake_mem_free(&mem);
	close(tap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_driver_ok_hands_rings_to_vhost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vector_changes_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked_vector_detaches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_stops_vhost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rings_need_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_follows_vhost, setup_old_vhost, teardown),
		cmocka_unit_test(test_no_vhost_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
