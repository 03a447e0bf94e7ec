// SPDX-License-Identifier: MIT
/*
 * Unit tests for the modern virtio-pci transport (devices/virtio/
 * virtio_pci.c, with the shared devices/msix.c) with a dummy device: IDs
 * and capabilities, feature negotiation (VERSION_1 required, nothing
 * unoffered), status and reset, queue registers, ioeventfds that follow
 * BAR 4, the notification slow path, MSI-X routes/irqfds/masking/PBA,
 * INTx with ISR, DEVICE_NEEDS_RESET with its config interrupt, the PCI
 * configuration access capability, and register accesses no driver
 * should make.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/log.h"
#include "tests/unit/virtio_driver.h"

#define NQ		2
#define DEVFN		PCI_DEVFN(3, 0)
#define OFFERED		(VIRTIO_BIT(0) | VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))
#define NOTIFY(q)	(VD_BAR4 + VIRTIO_PCI_NOTIFY_OFF + 4 * (q))

struct dummy {
	struct virtio_pci vp;
	uint8_t config[8];
	int activates, resets, set_features_calls, activate_ret, features_ret;
	uint64_t last_features;
	uint8_t last_config_write;
};

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct dummy dev;
	struct vd d;
	int intx[32][4];
};

static void dummy_config_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct dummy *d = opaque;

	assert_true(off + len <= sizeof(d->config));
	memcpy(data, d->config + off, len);
}

static void dummy_config_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	((struct dummy *)opaque)->last_config_write = *(const uint8_t *)data;
}

static int dummy_set_features(void *opaque, uint64_t f)
{
	struct dummy *d = opaque;

	d->set_features_calls++;
	d->last_features = f;
	return d->features_ret;
}

static int dummy_activate(void *opaque)
{
	struct dummy *d = opaque;

	d->activates++;
	return d->activate_ret;
}

static void dummy_reset(void *opaque)
{
	((struct dummy *)opaque)->resets++;
}

static const struct virtio_dev_ops dummy_ops = {
	.config_read = dummy_config_read,
	.config_write = dummy_config_write,
	.set_features = dummy_set_features,
	.activate = dummy_activate,
	.reset = dummy_reset,
};

static void router(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
	struct fixture *f = opaque;

	f->intx[slot & 31][pin & 3] += delta;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_pci_params p = {
		.name = "virtio-dummy", .device_id = 0x1a, .class_code = 0xff0000,
		.features = OFFERED, .nr_queues = NQ, .queue_size = 64,
		.config_size = 8, .dev_ops = &dummy_ops,
	};
	struct pci_intx_router r = { .intx_change = router };

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	vd_hook(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	f->root = pci_root_create(&f->fvm.ops, &f->pio, &f->mmio);
	assert_non_null(f->root);
	r.opaque = f;
	pci_root_set_intx_router(f->root, &r);
	p.opaque = &f->dev;
	memcpy(f->dev.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(virtio_pci_init(&f->dev.vp, &f->fvm.ops, &p), 0);
	assert_int_equal(pci_bus_plug(pci_root_bus(f->root), &f->dev.vp.pci, DEVFN), 0);
	f->d = (struct vd){ .root = f->root, .mmio = &f->mmio, .devfn = DEVFN };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_pci_exit(&f->dev.vp);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(f->fvm.nr_irqfds, 0);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		assert_false(f->fvm.routes[i].used);
	pci_root_destroy(f->root);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

static void test_ids_and_caps(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	static const struct { int type; uint32_t off, len; } want[] = {
		{ VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE },
		{ VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF, 4 * NQ },
		{ VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1 },
		{ VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF, 8 },
	};
	unsigned int cap;

	/* §4.1.2.1: 1af4, 0x1040 + device type, revision >= 1. */
	assert_int_equal(vd_cfg_read(d, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(vd_cfg_read(d, PCI_DEVICE_ID, 2), 0x1040 + 0x1a);
	assert_int_equal(vd_cfg_read(d, PCI_REVISION_ID, 1), 1);
	assert_int_equal(vd_cfg_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(vd_cfg_read(d, PCI_INTERRUPT_PIN, 1), 1);
	for (unsigned int i = 0; i < 4; i++) {
		cap = vd_find_cap(d, 0x09, want[i].type);
		assert_int_not_equal(cap, 0);
		assert_int_equal(vd_cfg_read(d, cap + 4, 1), VIRTIO_PCI_BAR);
		assert_int_equal(vd_cfg_read(d, cap + 8, 4), want[i].off);
		assert_int_equal(vd_cfg_read(d, cap + 12, 4), want[i].len);
	}
	cap = vd_find_cap(d, 0x09, VIRTIO_PCI_CAP_NOTIFY_CFG);
	assert_int_equal(vd_cfg_read(d, cap + 16, 4), 4);
	assert_int_not_equal(vd_find_cap(d, 0x09, VIRTIO_PCI_CAP_PCI_CFG), 0);
	/* MSI-X: a vector per queue + config; table in BAR 1, PBA at 0x800. */
	cap = vd_find_cap(d, 0x11, -1);
	assert_int_not_equal(cap, 0);
	assert_int_equal(vd_cfg_read(d, cap + 2, 2), NQ);
	assert_int_equal(vd_cfg_read(d, cap + 4, 4), VIRTIO_PCI_MSIX_BAR);
	assert_int_equal(vd_cfg_read(d, cap + 8, 4), 0x800 | VIRTIO_PCI_MSIX_BAR);
	/* BAR 4 sizes as 16 KiB, 64-bit prefetchable. */
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 16, 0xffffffff, 4);
	assert_int_equal(vd_cfg_read(d, PCI_BASE_ADDRESS_0 + 16, 4), 0xffffc00c);
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	assert_int_equal(vd_device_features(d), OFFERED | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	vd_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_DF, 4), 0);
	/* A legacy driver (no VERSION_1) gets no FEATURES_OK. */
	assert_false(vd_negotiate(d, VIRTIO_BIT(0)));
	assert_int_equal(f->dev.set_features_calls, 0);
	/* Nor one accepting what was not offered. */
	assert_false(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(3)));
	/* Nor one the device refuses. */
	f->dev.features_ret = -EINVAL;
	assert_false(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	f->dev.features_ret = 0;
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5)));
	assert_int_equal(f->dev.last_features, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5));
	/* Fixed from FEATURES_OK on. */
	vd_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_GF, 1, 4);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_GF, 4), VIRTIO_BIT(5));
	assert_int_equal(virtio_pci_features(&f->dev.vp), VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5));
	/* Reset forgets them. */
	vd_set_status(d, 0);
	assert_int_equal(vd_status(d), 0);
	assert_int_equal(virtio_pci_features(&f->dev.vp), 0);
}

static void test_queues_activate_reset(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	const struct virtio_pci_queue *q;
	int resets;

	vd_map(d);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	vd_queue(d, 1, 32, 0x123456789000ULL, 0x2000, 0x3000, 2);
	/* A 64-bit access to a 64-bit register works too. */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_AVAILLO, 0x7700000000002000ULL, 8);
	q = virtio_pci_queue(&f->dev.vp, 1);
	assert_true(q->enabled);
	assert_int_equal(q->size, 32);
	assert_int_equal(q->desc, 0x123456789000ULL);
	assert_int_equal(q->driver, 0x2000);	/* enabled: no more changes */
	assert_int_equal(q->vector, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0x1234);
	/* The enabled queue's notify address is an ioeventfd. */
	assert_int_equal(vd_ioeventfd_at(NOTIFY(1)), q->kick_fd);
	assert_int_equal(vd_ioeventfd_at(NOTIFY(0)), -1);
	/* A vector the function lacks reads back NO_VECTOR. */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	vd_wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	/* A queue that does not exist: size 0, writes dropped. */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, NQ, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);

	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->dev.activates, 1);
	vd_set_status(d, vd_status(d));		/* no second activation */
	assert_int_equal(f->dev.activates, 1);

	resets = f->dev.resets;
	vd_set_status(d, 0);
	assert_int_equal(f->dev.resets, resets + 1);
	assert_int_equal(vd_status(d), 0);
	assert_false(q->enabled);
	assert_int_equal(q->size, 64);
	assert_int_equal(q->vector, VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}

static void test_driver_ok_needs_features_ok(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	vd_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->dev.activates, 0);
}

static void test_activate_failure(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	vd_msix_entry(d, 0, 0xfee00000, 0x41, false);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	f->dev.activate_ret = -EINVAL;
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	/* §2.1.2 asks for a config interrupt only with DRIVER_OK; we tell
	 * the driver anyway when it asked to start and could not. */
	assert_true(vd_signalled(vd_irqfd(FAKE_VM_FIRST_MSI_GSI), 0));
	vd_set_status(d, 0);
	assert_int_equal(vd_status(d), 0);
}

static void test_ioeventfd_follows_bar(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	int kick = virtio_pci_queue(&f->dev.vp, 0)->kick_fd;
	uint32_t newlo = 0xd0000000;

	/* Enabled before the BAR decodes: nothing to register yet. */
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 16, (uint32_t)VD_BAR4, 4);
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 20, 0, 4);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)) || true);
	virtio_pci_bar_write(&f->dev.vp, VIRTIO_PCI_COMMON_Q_SELECT, &(uint16_t){ 0 }, 2);
	virtio_pci_bar_write(&f->dev.vp, VIRTIO_PCI_COMMON_Q_ENABLE, &(uint16_t){ 1 }, 2);
	assert_int_equal(vd_live_ioeventfds(), 0);
	/* Decode on: registered at BAR + 0x3000. */
	vd_cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(vd_ioeventfd_at(NOTIFY(0)), kick);
	/* Moved: follows. */
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 16, newlo, 4);
	assert_int_equal(vd_ioeventfd_at(NOTIFY(0)), -1);
	assert_int_equal(vd_ioeventfd_at(newlo + VIRTIO_PCI_NOTIFY_OFF), kick);
	/* Decode off: gone. */
	vd_cfg_write(d, PCI_COMMAND, 0, 2);
	assert_int_equal(vd_live_ioeventfds(), 0);
}

static void test_notify_slow_path(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	int kick = virtio_pci_queue(&f->dev.vp, 1)->kick_fd;

	/* KVM refuses the ioeventfd: the MMIO exit signals the same fd. */
	vd_rec.fail_ioeventfd = 1;
	vd_map(d);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_queue(d, 1, 64, 0x1000, 0x2000, 0x3000, 0);
	assert_int_equal(vd_live_ioeventfds(), 0);
	vd_wr(d, VIRTIO_PCI_NOTIFY_OFF + 4, 1, 2);
	assert_true(vd_signalled(kick, 0));
	/* Past the last queue: nothing, no crash. */
	vd_wr(d, VIRTIO_PCI_NOTIFY_OFF + 4 * NQ, NQ, 2);
	vd_wr(d, VIRTIO_PCI_NOTIFY_OFF + 0xffc, 0, 4);
	assert_false(vd_signalled(kick, 0));
}

static void test_msix(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	uint32_t pba;
	int fd;

	vd_map(d);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_queue(d, 0, 64, 0x1000, 0x2000, 0x3000, 1);
	vd_msix_control(d, true, false);
	/* Entries start masked: a notification only sets the PBA bit. */
	virtio_pci_notify_queue(&f->dev.vp, 0);
	bus_read(d->mmio, VD_BAR1 + 0x800, &pba, 4);
	assert_int_equal(pba, 1u << 1);
	assert_int_equal(f->fvm.nr_irqfds, 0);
	/* Unmasking routes it (one KVM route + irqfd) and delivers the
	 * pending message once. */
	vd_msix_entry(d, 1, 0xfee01000, 0x4051, false);
	assert_int_equal(f->fvm.nr_irqfds, 1);
	assert_true(f->fvm.routes[0].used);
	assert_int_equal(f->fvm.routes[0].addr, 0xfee01000);
	assert_int_equal(f->fvm.routes[0].data, 0x4051);
	fd = vd_irqfd(FAKE_VM_FIRST_MSI_GSI);
	assert_true(vd_signalled(fd, 0));
	bus_read(d->mmio, VD_BAR1 + 0x800, &pba, 4);
	assert_int_equal(pba, 0);
	/* Unmasked: straight to the irqfd. */
	virtio_pci_notify_queue(&f->dev.vp, 0);
	assert_true(vd_signalled(fd, 0));
	/* Reprogramming retargets the same route. */
	vd_msix_entry(d, 1, 0xfee02000, 0x4052, false);
	assert_int_equal(f->fvm.routes[0].addr, 0xfee02000);
	assert_int_equal(f->fvm.routes[0].data, 0x4052);
	assert_true(f->fvm.routes[0].updates >= 1);
	assert_int_equal(f->fvm.nr_irqfds, 1);
	/* Function mask holds it pending; clearing it delivers. */
	vd_msix_control(d, true, true);
	virtio_pci_notify_queue(&f->dev.vp, 0);
	assert_false(vd_signalled(fd, 0));
	vd_msix_control(d, true, false);
	assert_true(vd_signalled(fd, 0));
	/* Table reads back what was written; the mask bit alone in control. */
	uint32_t v = 0xffffffff;

	bus_write(d->mmio, VD_BAR1 + 16 + 12, &v, 4);
	bus_read(d->mmio, VD_BAR1 + 16 + 12, &v, 4);
	assert_int_equal(v, 1);
	bus_read(d->mmio, VD_BAR1 + 16 + 8, &v, 4);
	assert_int_equal(v, 0x4052);
	/* No vector for the queue: nothing at all. */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	virtio_pci_notify_queue(&f->dev.vp, 1);
	virtio_pci_notify_queue(&f->dev.vp, 99);
	bus_read(d->mmio, VD_BAR1 + 0x800, &pba, 4);
	assert_int_equal(pba, 0);
	/* Vector 1 is masked now (written above): pending again. */
	virtio_pci_notify_queue(&f->dev.vp, 0);
	/* Writes past the table, or into the read-only PBA: ignored. */
	bus_write(d->mmio, VD_BAR1 + 16 * (NQ + 1), &v, 4);
	bus_write(d->mmio, VD_BAR1 + 0x800, &(uint32_t){ 0 }, 4);
	bus_read(d->mmio, VD_BAR1 + 0x800, &pba, 4);
	assert_int_equal(pba, 1u << 1);
	assert_false(vd_signalled(fd, 0));
}

static void test_intx(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	/* MSI-X off: ISR bit 0 and INTA#. */
	virtio_pci_notify_queue(&f->dev.vp, 0);
	assert_int_equal(f->intx[3][0], 1);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(f->intx[3][0], 0);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_ISR_OFF, 1), 0);
	/* A reset drops a raised line too. */
	virtio_pci_notify_queue(&f->dev.vp, 1);
	assert_int_equal(f->intx[3][0], 1);
	vd_set_status(d, 0);
	assert_int_equal(f->intx[3][0], 0);
}

static void test_needs_reset(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	/* Before DRIVER_OK: the bit, but no interrupt. */
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	virtio_pci_needs_reset(&f->dev.vp);
	assert_true(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->intx[3][0], 0);
	vd_set_status(d, 0);

	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	virtio_pci_needs_reset(&f->dev.vp);
	virtio_pci_needs_reset(&f->dev.vp);
	assert_true(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	/* A configuration change notification: ISR bit 1 on INTx. */
	assert_int_equal(f->intx[3][0], 1);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_CONFIG);
	/* The driver cannot clear it except by resetting. */
	vd_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	vd_set_status(d, 0);
	assert_int_equal(vd_status(d), 0);
}

static void test_device_config(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF, 4), 0x44332211);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 4, 8), 0x88776655);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 6, 4), 0x8877);	/* clipped */
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 8, 4), 0);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 0xffc, 4), 0);
	vd_wr(d, VIRTIO_PCI_DEVICE_OFF + 1, 0x5a, 1);
	assert_int_equal(f->dev.last_config_write, 0x5a);
	vd_wr(d, VIRTIO_PCI_DEVICE_OFF + 7, 0xffff, 2);		/* straddles the end */
	assert_int_equal(f->dev.last_config_write, 0x5a);
}

static void test_hostile_registers(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	/* Odd widths and offsets: ignored, reads are byte-accurate. */
	vd_wr(d, VIRTIO_PCI_COMMON_STATUS, 0x0f0f, 2);
	assert_int_equal(vd_status(d), 0);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT + 1, 0xff, 1);
	vd_wr(d, VIRTIO_PCI_COMMON_NUMQ, 99, 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	vd_wr(d, VIRTIO_PCI_COMMON_SIZE + 4, 1, 8);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_NUMQ + 1, 1), 0);
	assert_int_equal(vd_rd(d, 0xff8, 8), 0);
	/* The ISR is read-only; reading it anywhere but 0 is harmless. */
	vd_wr(d, VIRTIO_PCI_ISR_OFF, 0xff, 1);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_ISR_OFF + 1, 1), 0);
	/* Accesses straddling a region end, and huge offsets via the API. */
	virtio_pci_bar_write(&f->dev.vp, 0xfff, &(uint32_t){ 1 }, 4);
	virtio_pci_bar_write(&f->dev.vp, 0xffffffffffffULL, &(uint32_t){ 1 }, 4);
	virtio_pci_bar_read(&f->dev.vp, 0xffffffffffffULL, &(uint32_t){ 1 }, 4);
	/* Queue registers of an enabled queue are frozen. */
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_queue(d, 0, 64, 0x1000, 0x2000, 0x3000, 0);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_DESCLO, 0x9000, 4);
	assert_int_equal(virtio_pci_queue(&f->dev.vp, 0)->size, 64);
	assert_int_equal(virtio_pci_queue(&f->dev.vp, 0)->desc, 0x1000);
	/* Writing 0 to queue_enable does not disable (no RING_RESET). */
	vd_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	assert_true(virtio_pci_queue(&f->dev.vp, 0)->enabled);
}

static void test_cfg_window(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	unsigned int cap = vd_find_cap(d, 0x09, VIRTIO_PCI_CAP_PCI_CFG);

	/* §4.1.4.9: BAR access through config space, BARs unmapped. */
	vd_cfg_write(d, cap + 4, VIRTIO_PCI_BAR, 1);
	vd_cfg_write(d, cap + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
	vd_cfg_write(d, cap + 12, 2, 4);
	assert_int_equal(vd_cfg_read(d, cap + 16, 4) & 0xffff, NQ);
	vd_cfg_write(d, cap + 8, VIRTIO_PCI_COMMON_STATUS, 4);
	vd_cfg_write(d, cap + 12, 1, 4);
	vd_cfg_write(d, cap + 16, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	assert_int_equal(vd_cfg_read(d, cap + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* A reset through the window, too. */
	vd_cfg_write(d, cap + 16, 0, 1);
	assert_int_equal(f->dev.resets, 1);
	/* Nonsense windows do nothing. */
	vd_cfg_write(d, cap + 12, 3, 4);
	vd_cfg_write(d, cap + 16, 0xff, 1);
	vd_cfg_write(d, cap + 4, 0, 1);
	vd_cfg_write(d, cap + 12, 4, 4);
	vd_cfg_write(d, cap + 16, 0xffffffff, 4);
	vd_cfg_write(d, cap + 4, VIRTIO_PCI_BAR, 1);
	vd_cfg_write(d, cap + 8, 0x10000, 4);
	vd_cfg_write(d, cap + 16, 0xffffffff, 4);
	assert_int_equal(f->dev.resets, 1);
}

static void test_pci_reset(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	vd_msix_entry(d, 0, 0xfee00000, 0x30, false);
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_queue(d, 0, 64, 0x1000, 0x2000, 0x3000, 0);
	assert_int_equal(vd_live_ioeventfds(), 1);
	assert_int_equal(f->fvm.nr_irqfds, 1);
	f->dev.resets = 0;
	pci_root_reset(f->root);
	assert_int_equal(f->dev.resets, 1);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(f->fvm.nr_irqfds, 0);
	assert_int_equal(vd_cfg_read(d, PCI_COMMAND, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_and_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queues_activate_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_needs_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioeventfd_follows_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_slow_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfg_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_reset, setup, teardown),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
