// SPDX-License-Identifier: MIT
/*
 * Unit tests for virtio-net (devices/virtio/net.c, net_user.c): feature
 * negotiation and configuration space, the offloads told to the tap, a
 * frame spread over mergeable receive buffers, and the whole device on a
 * fake VM with a socketpair as its "tap" (SOCK_SEQPACKET: one read, one
 * frame, as a tap queue): a test driver sets it up through PCI config
 * space and BAR 4, transmits and receives through the real queue-pair
 * threads, sends control commands (RX mode, MAC, MQ pairs), and feeds
 * hostile rings (addresses outside RAM, loops, buffers shorter than the
 * header, a command without an ack) that must end in DEVICE_NEEDS_RESET.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/net.h"
#include "lib/log.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/virtio_driver.h"

#define HDR	sizeof(struct virtio_net_hdr_v1)

/* ---- pure parts ----------------------------------------------------------- */

static void test_tap_offloads(void **state)
{
	assert_int_equal(vnet_tap_offloads(0), 0);
	/* TSO only together with checksums (§5.1.3.1). */
	assert_int_equal(vnet_tap_offloads(VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(vnet_tap_offloads(VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(vnet_tap_offloads(VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
					   VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
					   VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |
					   VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	/* Host-side (TX) offloads are the tap's to accept: not in here. */
	assert_int_equal(vnet_tap_offloads(VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
					   VIRTIO_BIT(VIRTIO_NET_F_CSUM)), 0);
}

struct rxbufs {
	uint8_t mem[4][200];
	struct iovec iov[4];
	struct vq_elem e[4];
};

static void rxbufs(struct rxbufs *b, unsigned int n, const size_t *len)
{
	memset(b, 0xaa, sizeof(b->mem));
	for (unsigned int i = 0; i < n; i++) {
		b->iov[i] = (struct iovec){ b->mem[i], len[i] };
		b->e[i] = (struct vq_elem){ .head = (uint16_t)i, .nr_in = 1, .in_len = len[i],
					    .iov = &b->iov[i], .cap = 1, .last_in = b->mem[i] + len[i] - 1 };
	}
}

static void test_rx_fill_mergeable(void **state)
{
	uint8_t frame[250];
	uint32_t used[4];
	struct rxbufs b;
	uint16_t nb;

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	/* 250 bytes over buffers of 100, 100, 100: three used, 100/100/50. */
	rxbufs(&b, 3, (size_t[]){ 100, 100, 100 });
	assert_int_equal(vnet_rx_fill(b.e, 3, true, frame, sizeof(frame), used), 3);
	assert_int_equal(used[0], 100);
	assert_int_equal(used[1], 100);
	assert_int_equal(used[2], 50);
	memcpy(&nb, b.mem[0] + offsetof(struct virtio_net_hdr_v1, num_buffers), 2);
	assert_int_equal(le16toh(nb), 3);
	assert_memory_equal(b.mem[0], frame, offsetof(struct virtio_net_hdr_v1, num_buffers));
	assert_memory_equal(b.mem[0] + HDR, frame + HDR, 100 - HDR);
	assert_memory_equal(b.mem[1], frame + 100, 100);
	assert_memory_equal(b.mem[2], frame + 200, 50);
	assert_int_equal(b.mem[2][50], 0xaa);
	/* Exactly one buffer's worth: one used, num_buffers 1. */
	rxbufs(&b, 2, (size_t[]){ 100, 100 });
	assert_int_equal(vnet_rx_fill(b.e, 2, true, frame, 100, used), 1);
	memcpy(&nb, b.mem[0] + offsetof(struct virtio_net_hdr_v1, num_buffers), 2);
	assert_int_equal(le16toh(nb), 1);
	/* Not enough room in all of them: nothing written. */
	rxbufs(&b, 2, (size_t[]){ 100, 100 });
	assert_int_equal(vnet_rx_fill(b.e, 2, true, frame, sizeof(frame), used), 0);
	/* Without MRG_RXBUF the first buffer must hold the frame. */
	rxbufs(&b, 1, (size_t[]){ 200 });
	assert_int_equal(vnet_rx_fill(b.e, 1, false, frame, 150, used), 1);
	assert_int_equal(used[0], 150);
	memcpy(&nb, b.mem[0] + offsetof(struct virtio_net_hdr_v1, num_buffers), 2);
	assert_int_equal(le16toh(nb), 1);
	rxbufs(&b, 1, (size_t[]){ 100 });
	assert_int_equal(vnet_rx_fill(b.e, 1, false, frame, 150, used), 0);
	/* A buffer shorter than the header is the driver's error. */
	rxbufs(&b, 2, (size_t[]){ 100, 8 });
	assert_int_equal(vnet_rx_fill(b.e, 2, true, frame, 150, used), -EPROTO);
	/* So is a device-readable one. */
	rxbufs(&b, 1, (size_t[]){ 100 });
	b.e[0].out_len = 4;
	assert_int_equal(vnet_rx_fill(b.e, 1, true, frame, 50, used), -EPROTO);
}

/* ---- the device on a fake VM ---------------------------------------------- */

#define RAM		(4 << 20)
#define QSIZE		64
#define PAIRS		2
#define NQ		(2 * PAIRS + 1)
#define CTRLQ		(2 * PAIRS)
#define QBASE(q)	(0x10000 + (uint64_t)(q) * 0x4000)
#define DESC(q)		QBASE(q)
#define AVAIL(q)	(QBASE(q) + 0x1000)
#define USED(q)		(QBASE(q) + 0x2000)
#define DATA		0x100000
#define DEVFN		PCI_DEVFN(5, 0)

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct e2e {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct guest_mem mem;
	struct vnet *net;
	struct vd d;
	int peer[PAIRS];		/* the far ends of the "tap" queues */
	uint16_t next_desc[NQ], last_used[NQ];
};

static int e2e_setup(void **state)
{
	struct e2e *t = calloc(1, sizeof(*t));
	int fds[PAIRS];
	struct vnet_params p = { .mac = test_mac, .queues = PAIRS, .tap_fds = fds,
				 .name = "virtio-net0" };

	assert_non_null(t);
	fake_vm_init(&t->fvm);
	vd_hook(&t->fvm);
	assert_int_equal(fake_mem_init(&t->mem, RAM), 0);
	assert_int_equal(bus_init(&t->pio, "pio"), 0);
	assert_int_equal(bus_init(&t->mmio, "mmio"), 0);
	t->root = pci_root_create(&t->fvm.ops, &t->pio, &t->mmio);
	assert_non_null(t->root);
	for (unsigned int i = 0; i < PAIRS; i++) {
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
		fds[i] = sv[0];
		t->peer[i] = sv[1];
	}
	t->net = vnet_create(&t->fvm.ops, &t->mem, &p);
	assert_non_null(t->net);
	assert_int_equal(pci_bus_plug(pci_root_bus(t->root), vnet_pci(t->net), DEVFN), 0);
	t->d = (struct vd){ .root = t->root, .mmio = &t->mmio, .devfn = DEVFN };
	*state = t;
	return 0;
}

static int e2e_teardown(void **state)
{
	struct e2e *t = *state;

	vnet_destroy(t->net);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(t->fvm.nr_irqfds, 0);
	for (unsigned int i = 0; i < PAIRS; i++)
		close(t->peer[i]);
	pci_root_destroy(t->root);
	bus_exit(&t->pio);
	bus_exit(&t->mmio);
	fake_mem_free(&t->mem);
	free(t);
	return 0;
}

#define LINUX_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
			VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_NET_F_MAC) | \
			VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
			VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
			VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | \
			VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | \
			VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VIRTIO_BIT(VIRTIO_NET_F_MQ))

/* Up like Linux: MSI-X, vector 0 config, queue q -> q+1, every queue. */
static void e2e_start_with(struct e2e *t, uint64_t features)
{
	struct vd *d = &t->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	for (unsigned int v = 0; v <= NQ; v++)
		vd_msix_entry(d, v, 0xfee00000, 0x40 + v, false);
	assert_true(vd_negotiate(d, features & vd_device_features(d)));
	vd_wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	memset(t->mem.base, 0, RAM);
	for (unsigned int q = 0; q < NQ; q++) {
		vd_queue(d, (uint16_t)q, QSIZE, DESC(q), AVAIL(q), USED(q), (uint16_t)(q + 1));
		t->next_desc[q] = 0;
		t->last_used[q] = 0;
	}
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void e2e_start(struct e2e *t)
{
	e2e_start_with(t, LINUX_FEATURES);
}

static int vector_fd(unsigned int vec)
{
	return vd_irqfd(FAKE_VM_FIRST_MSI_GSI + vec);
}

/* Queue q's ring as the driver sees it (tests/unit/virtio_driver.h). */
static struct vd_ring ring_of(struct e2e *t, unsigned int q)
{
	return (struct vd_ring){ &t->mem, DESC(q), AVAIL(q), USED(q), QSIZE,
				 &t->next_desc[q], &t->last_used[q] };
}

/* Post one chain of (gpa, len, writable) on queue q; returns its head. */
static uint16_t post(struct e2e *t, unsigned int q, unsigned int n, const uint64_t *addr,
		     const uint32_t *len, const bool *wr)
{
	struct vd_ring r = ring_of(t, q);

	return vd_post(&r, n, addr, len, wr);
}

static void kick(struct e2e *t, unsigned int q)
{
	assert_int_equal(vd_kick(q), 0);
}

/* Wait for queue q's interrupt and its next used element. */
static struct virtq_used_elem wait_used(struct e2e *t, unsigned int q)
{
	struct vd_ring r = ring_of(t, q);
	struct virtq_used_elem e;

	assert_true(vd_wait_used(&r, vector_fd(q + 1), &e));
	return e;
}

static void wait_needs_reset(struct e2e *t)
{
	for (int i = 0; i < 100 && !(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET); i++)
		vd_signalled(vector_fd(0), 50);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);
}

/* A control command; returns the ack the device wrote. */
static uint8_t ctrl(struct e2e *t, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	uint8_t *b = gpa(&t->mem, DATA + 0x30000);
	struct virtq_used_elem e;

	b[0] = cls;
	b[1] = cmd;
	memcpy(b + 2, data, len);
	b[0x800] = 0xee;
	post(t, CTRLQ, 3, (uint64_t[]){ DATA + 0x30000, DATA + 0x30002, DATA + 0x30800 },
	     (uint32_t[]){ 2, len, 1 }, (bool[]){ false, false, true });
	kick(t, CTRLQ);
	e = wait_used(t, CTRLQ);
	assert_int_equal(e.len, 1);
	return b[0x800];
}

/* Transmit one frame on pair p; the peer reads exactly it. */
static void tx_frame(struct e2e *t, unsigned int p, size_t payload)
{
	uint64_t base = DATA + (uint64_t)p * 0x10000;
	uint8_t *h = gpa(&t->mem, base), *d = gpa(&t->mem, base + 0x100), got[4096];
	struct virtq_used_elem e;
	ssize_t n;

	memset(h, 0, HDR);
	for (size_t i = 0; i < payload; i++)
		d[i] = (uint8_t)(i * 7 + p);
	/* Header and payload in separate descriptors (any layout, §5.1.6.2). */
	post(t, 2 * p + 1, 2, (uint64_t[]){ base, base + 0x100 }, (uint32_t[]){ HDR, (uint32_t)payload },
	     (bool[]){ false, false });
	kick(t, 2 * p + 1);
	e = wait_used(t, 2 * p + 1);
	assert_int_equal(e.len, 0);
	n = recv(t->peer[p], got, sizeof(got), 0);
	assert_int_equal(n, (ssize_t)(HDR + payload));
	assert_memory_equal(got, h, HDR);
	assert_memory_equal(got + HDR, d, payload);
}

static void test_e2e_config_features(void **state)
{
	struct e2e *t = *state;
	struct vd *d = &t->d;
	uint64_t f;
	uint8_t mac[6];

	vd_map(d);
	f = vd_device_features(d);
	for (unsigned int b = 0; b < 64; b++)
		if (LINUX_FEATURES & VIRTIO_BIT(b))
			assert_true(f & VIRTIO_BIT(b));
	/* Not offered: UFO (not done right through a tap), VLAN filtering. */
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO));
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO));
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VLAN));
	for (unsigned int i = 0; i < 6; i++)
		mac[i] = (uint8_t)vd_rd(d, VIRTIO_PCI_DEVICE_OFF + i, 1);
	assert_memory_equal(mac, test_mac, 6);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 8, 2), PAIRS);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	/* §5.1.3.1 dependencies: TSO without checksums, MQ without the
	 * control queue are refused. */
	assert_false(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
				     VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)));
	assert_false(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MQ)));
	assert_true(vd_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC)));
}

static void test_e2e_tx(void **state)
{
	struct e2e *t = *state;

	e2e_start(t);
	tx_frame(t, 0, 60);
	tx_frame(t, 0, 1514);
	/* Pair 1 is not in use until VQ_PAIRS_SET (§5.1.6.5.5). */
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			      (uint16_t[]){ htole16(2) }, 2), VIRTIO_NET_OK);
	tx_frame(t, 1, 100);
}

static void test_e2e_rx_mergeable(void **state)
{
	struct e2e *t = *state;
	uint8_t frame[150];
	struct virtq_used_elem e[3];
	uint16_t nb;

	e2e_start(t);
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i + 1);
	memset(frame, 0, HDR);
	/* Three 64-byte buffers, one frame of 150 bytes: 64 + 64 + 22. */
	for (unsigned int i = 0; i < 3; i++)
		post(t, 0, 1, (uint64_t[]){ DATA + 0x1000ULL * i }, (uint32_t[]){ 64 }, (bool[]){ true });
	kick(t, 0);
	assert_int_equal(send(t->peer[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (unsigned int i = 0; i < 3; i++)
		e[i] = wait_used(t, 0);
	assert_int_equal(e[0].len, 64);
	assert_int_equal(e[1].len, 64);
	assert_int_equal(e[2].len, 22);
	memcpy(&nb, (uint8_t *)gpa(&t->mem, DATA) + offsetof(struct virtio_net_hdr_v1, num_buffers), 2);
	assert_int_equal(le16toh(nb), 3);
	assert_memory_equal((uint8_t *)gpa(&t->mem, DATA) + HDR, frame + HDR, 64 - HDR);
	assert_memory_equal(gpa(&t->mem, DATA + 0x1000), frame + 64, 64);
	assert_memory_equal(gpa(&t->mem, DATA + 0x2000), frame + 128, 22);
	/* A frame that arrives before any buffer waits for one. */
	assert_int_equal(send(t->peer[0], frame, 40, 0), 40);
	usleep(20000);
	post(t, 0, 1, (uint64_t[]){ DATA + 0x3000 }, (uint32_t[]){ 1526 }, (bool[]){ true });
	kick(t, 0);
	e[0] = wait_used(t, 0);
	assert_int_equal(e[0].len, 40);
	assert_memory_equal((uint8_t *)gpa(&t->mem, DATA + 0x3000) + HDR, frame + HDR, 40 - HDR);
}

static void test_e2e_ctrl(void **state)
{
	struct e2e *t = *state;
	struct vnet_rx_mode m;
	uint8_t table[4 + 6 + 4 + 12], mac[6];
	static const uint8_t new_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
	uint32_t one = htole32(1), two = htole32(2);

	e2e_start(t);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, (uint8_t[]){ 1 }, 1),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, (uint8_t[]){ 1 }, 1),
			 VIRTIO_NET_OK);
	vnet_rx_mode(t->net, &m);
	assert_true(m.promisc && m.allmulti);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, (uint8_t[]){ 0 }, 1),
			 VIRTIO_NET_OK);
	vnet_rx_mode(t->net, &m);
	assert_false(m.promisc);
	/* NOMULTI etc. need CTRL_RX_EXTRA, not offered. */
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, 3, (uint8_t[]){ 1 }, 1), VIRTIO_NET_ERR);
	/* A MAC table: one unicast, two multicast entries. */
	memcpy(table, &one, 4);
	memcpy(table + 4, new_mac, 6);
	memcpy(table + 10, &two, 4);
	memset(table + 14, 0x01, 12);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table)), VIRTIO_NET_OK);
	vnet_rx_mode(t->net, &m);
	assert_int_equal(m.uni_entries, 1);
	assert_int_equal(m.multi_entries, 2);
	/* A table whose counts do not match its length. */
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table) - 1), VIRTIO_NET_ERR);
	/* The address: shows in config space. */
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, new_mac, 6),
			 VIRTIO_NET_OK);
	vnet_mac(t->net, mac);
	assert_memory_equal(mac, new_mac, 6);
	assert_int_equal(vd_rd(&t->d, VIRTIO_PCI_DEVICE_OFF + 3, 1), 0xaa);
	/* MQ: 1..max pairs, anything else an error and no change. */
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			      (uint16_t[]){ htole16(2) }, 2), VIRTIO_NET_OK);
	vnet_rx_mode(t->net, &m);
	assert_int_equal(m.pairs, 2);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			      (uint16_t[]){ htole16(3) }, 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			      (uint16_t[]){ 0 }, 2), VIRTIO_NET_ERR);
	vnet_rx_mode(t->net, &m);
	assert_int_equal(m.pairs, 2);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			      (uint16_t[]){ htole16(1) }, 2), VIRTIO_NET_OK);
	vnet_rx_mode(t->net, &m);
	assert_int_equal(m.pairs, 1);
	/* Classes not offered (VLAN, announce, guest offloads). */
	assert_int_equal(ctrl(t, 2, 0, (uint8_t[]){ 0, 0 }, 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, 5, 0, (uint8_t[]){ 0 }, 1), VIRTIO_NET_ERR);
	/* A reset takes the device back to power-on: one pair, no promisc. */
	vd_set_status(&t->d, 0);
	vnet_rx_mode(t->net, &m);
	assert_int_equal(m.pairs, 0);
	assert_false(m.allmulti);
}

static void test_e2e_no_ctrl_no_mrg(void **state)
{
	struct e2e *t = *state;
	uint8_t frame[100];
	struct virtq_used_elem e;

	/* As OVMF's VirtioNetDxe: no control queue, no mergeable buffers:
	 * the control queue is then virtqueue 2 and left unused. */
	e2e_start_with(t, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			  VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	tx_frame(t, 0, 42);
	memset(frame, 0x5a, sizeof(frame));
	memset(frame, 0, HDR);
	post(t, 0, 2, (uint64_t[]){ DATA, DATA + 0x100 }, (uint32_t[]){ HDR, 1514 },
	     (bool[]){ true, true });
	kick(t, 0);
	assert_int_equal(send(t->peer[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	e = wait_used(t, 0);
	assert_int_equal(e.len, sizeof(frame));
	assert_memory_equal(gpa(&t->mem, DATA + 0x100), frame + HDR, sizeof(frame) - HDR);
}

static void test_e2e_hostile(void **state)
{
	struct e2e *t = *state;
	struct virtq_desc *dt;
	uint16_t *avail;
	uint8_t frame[64] = { 0 };

	/* A TX descriptor far outside guest RAM. */
	e2e_start(t);
	post(t, 1, 2, (uint64_t[]){ DATA, 0x7fff00000000ULL }, (uint32_t[]){ HDR, 100 },
	     (bool[]){ false, false });
	kick(t, 1);
	wait_needs_reset(t);
	/* Nothing reached the tap. */
	assert_int_equal(recv(t->peer[0], frame, sizeof(frame), MSG_DONTWAIT), -1);

	/* A TX chain shorter than the header. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	post(t, 1, 1, (uint64_t[]){ DATA }, (uint32_t[]){ 4 }, (bool[]){ false });
	kick(t, 1);
	wait_needs_reset(t);

	/* A looping TX chain. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	dt = gpa(&t->mem, DESC(1));
	avail = gpa(&t->mem, AVAIL(1));
	dt[5] = (struct virtq_desc){ .addr = DATA, .len = 16, .flags = VIRTQ_DESC_F_NEXT, .next = 6 };
	dt[6] = (struct virtq_desc){ .addr = DATA, .len = 16, .flags = VIRTQ_DESC_F_NEXT, .next = 5 };
	avail[2] = 5;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	kick(t, 1);
	wait_needs_reset(t);

	/* An RX buffer too short for the header, found when a frame comes. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	post(t, 0, 1, (uint64_t[]){ DATA }, (uint32_t[]){ 4 }, (bool[]){ true });
	kick(t, 0);
	assert_int_equal(send(t->peer[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	wait_needs_reset(t);

	/* A zero-length RX buffer: the same. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	post(t, 0, 1, (uint64_t[]){ DATA }, (uint32_t[]){ 0 }, (bool[]){ true });
	kick(t, 0);
	assert_int_equal(send(t->peer[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	wait_needs_reset(t);

	/* A control command without room for its ack. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	post(t, CTRLQ, 1, (uint64_t[]){ DATA }, (uint32_t[]){ 3 }, (bool[]){ false });
	kick(t, CTRLQ);
	wait_needs_reset(t);

	/* An avail index running more than the queue size ahead. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	avail = gpa(&t->mem, AVAIL(CTRLQ));
	__atomic_store_n(&avail[1], QSIZE + 5, __ATOMIC_RELEASE);
	kick(t, CTRLQ);
	wait_needs_reset(t);

	/* Rings outside RAM at DRIVER_OK: refused. */
	vd_set_status(&t->d, 0);
	assert_true(vd_negotiate(&t->d, LINUX_FEATURES));
	for (unsigned int q = 0; q < NQ; q++)
		vd_queue(&t->d, (uint16_t)q, QSIZE, q ? DESC(q) : RAM - 0x100, AVAIL(q), USED(q),
			 (uint16_t)(q + 1));
	vd_set_status(&t->d, vd_status(&t->d) | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);

	/* After all that, a reset and a fresh start work. */
	vd_set_status(&t->d, 0);
	e2e_start(t);
	while (recv(t->peer[0], frame, sizeof(frame), MSG_DONTWAIT) > 0)
		;
	tx_frame(t, 0, 60);
}

static void test_e2e_reset_cycles(void **state)
{
	struct e2e *t = *state;

	for (unsigned int cycle = 0; cycle < 4; cycle++) {
		e2e_start(t);
		assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
				      (uint16_t[]){ htole16(2) }, 2), VIRTIO_NET_OK);
		tx_frame(t, cycle % 2, 64 + cycle);
		vd_set_status(&t->d, 0);
		assert_int_equal(vd_status(&t->d), 0);
	}
}

static void test_create_errors(void **state)
{
	struct fake_vm fvm;
	struct guest_mem mem = { 0 };
	int fd = -1;
	struct vnet_params p = { .mac = test_mac, .queues = 0, .tap_fds = &fd };

	fake_vm_init(&fvm);
	assert_null(vnet_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, EINVAL);
	p.queues = VNET_MAX_PAIRS + 1;
	assert_null(vnet_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_offloads),
		cmocka_unit_test(test_rx_fill_mergeable),
		cmocka_unit_test_setup_teardown(test_e2e_config_features, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_tx, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_rx_mergeable, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_ctrl, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_no_ctrl_no_mrg, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_hostile, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_reset_cycles, e2e_setup, e2e_teardown),
		cmocka_unit_test(test_create_errors),
	};

	log_threshold = getenv("VERBOSE") ? LOG_DEBUG : LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
