// SPDX-License-Identifier: MIT
/*
 * virtio-net as a guest driver reaches it: the modern PCI transport (BAR 4
 * registers, feature negotiation with virtio-net's dependencies), split
 * rings in guest RAM for two queue pairs and the control queue, and the
 * userspace data path (devices/virtio/net_user.c) over two socketpair
 * "tap" queues: transmit chains of any shape (headers split or short,
 * descriptors outside RAM, loops, indirect tables), receive buffers of any
 * size with frames of any length arriving from the tap (mergeable or not),
 * and control commands of every class with any payload (RX mode, MAC
 * table and address, MQ pairs).
 *
 * The device runs with vnet_params.sync: no thread, the harness calls
 * vnet_poll() after every operation, so a run is repeatable.
 *
 * Invariants: no crash or sanitizer report; every frame on a tap is at
 * least a virtio-net header long and at most header + 64 KiB + Ethernet
 * and VLAN headers; the pairs in use stay within 0..max; and at the end every
 * ioeventfd, irqfd, MSI route and bus range is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio_pci.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"

#define RAM_SIZE	(1u << 20)
#define PAIRS		2
#define NQ		(2 * PAIRS + 1)
#define QSIZE		64
#define RING(q)		(0x10000ULL + (uint64_t)(q) * 0x2000)
#define DATA_BASE	0x80000ULL
#define DATA_SIZE	0x70000ULL
#define DEVFN		PCI_DEVFN(3, 0)
#define BAR4_ADDR	0xe0000000ULL
#define BAR1_ADDR	0xe0100000ULL
#define HDR		sizeof(struct virtio_net_hdr_v1)

static struct guest_mem mem;
static const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0x01, 0x02, 0x03 };

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fake_mem_init(&mem, RAM_SIZE))
		abort();
	return 0;
}

struct dev {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct vnet *net;
	struct virtio_pci *vp;
	int peer[PAIRS];
	uint16_t next_desc[NQ];
	bool up;
	uint8_t last_mac[6];
};

static void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	pci_cfg_write(d->root, 0, DEVFN, off, v, len);
}

static void bar4_write(struct dev *d, uint64_t off, uint64_t v, unsigned int len)
{
	virtio_pci_bar_write(d->vp, off, &v, len);
}

static uint64_t bar4_read(struct dev *d, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	virtio_pci_bar_read(d->vp, off, &v, len);
	return v;
}

static int dev_create(struct dev *d)
{
	int fds[PAIRS];
	struct vnet_params p = { .name = "virtio-net0", .mac = mac0, .queues = PAIRS,
				 .tap_fds = fds, .sync = true };

	fake_vm_init(&d->fvm);
	if (bus_init(&d->pio, "pio") || bus_init(&d->mmio, "mmio"))
		return -1;
	d->root = pci_root_create(&d->fvm.ops, &d->pio, &d->mmio);
	if (!d->root)
		return -1;
	for (unsigned int i = 0; i < PAIRS; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
			return -1;
		fds[i] = sv[0];
		d->peer[i] = sv[1];
	}
	d->net = vnet_create(&d->fvm.ops, &mem, &p);
	if (!d->net || pci_bus_plug(pci_root_bus(d->root), vnet_pci(d->net), DEVFN))
		return -1;
	d->vp = vnet_transport(d->net);
	/* BARs where a firmware would put them, decoding. */
	cfg_wr(d, 0x10 + 4 * VIRTIO_PCI_MSIX_BAR, (uint32_t)BAR1_ADDR, 4);
	cfg_wr(d, 0x10 + 4 * VIRTIO_PCI_BAR, (uint32_t)BAR4_ADDR, 4);
	cfg_wr(d, 0x14 + 4 * VIRTIO_PCI_BAR, 0, 4);
	cfg_wr(d, 0x04, 0x6, 2);
	memcpy(d->last_mac, mac0, 6);
	return 0;
}

static void dev_destroy(struct dev *d)
{
	vnet_destroy(d->net);
	FZ_CHECK(d->fvm.nr_irqfds == 0, "%u irqfds left", d->fvm.nr_irqfds);
	pci_root_destroy(d->root);
	fz_check_bus(&d->mmio, 0);
	bus_exit(&d->pio);
	bus_exit(&d->mmio);
	for (unsigned int i = 0; i < PAIRS; i++)
		close(d->peer[i]);
}

static uint64_t fz_gpa(struct fz *f)
{
	static const uint64_t anchor[] = { 0, DATA_BASE, DATA_BASE + DATA_SIZE - 64, RAM_SIZE - 16,
					   RAM_SIZE, RING(0), 0x7fff00000000ULL, UINT64_MAX - 8 };
	uint8_t sel = fz_u8(f);

	if (sel < 0xc0)
		return DATA_BASE + (sel % 0x70) * 0x1000;
	return anchor[sel % 8] + (uint64_t)(int64_t)(int16_t)fz_u16(f);
}

/* §3.1.1 with what the input asks of what is offered; rings at their
 * places (or anywhere, now and then). */
static void driver_setup(struct dev *d, struct fz *f)
{
	uint64_t want = fz_u64(f), offered;
	uint8_t shape = fz_u8(f);

	bar4_write(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	bar4_write(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	bar4_write(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered = bar4_read(d, VIRTIO_PCI_COMMON_DF, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered |= bar4_read(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
	if (!(shape & 0x80))
		want = (want & offered) | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	bar4_write(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GF, want >> 32, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK, 1);
	memset(mem.base + RING(0), 0, RING(NQ) - RING(0));
	for (unsigned int q = 0; q < NQ; q++) {
		uint64_t desc = RING(q), avail = RING(q) + 0x400, used = RING(q) + 0x800;
		uint16_t size = QSIZE;

		if ((shape & 0x40) && q == (shape & 7) % NQ) {
			desc = fz_gpa(f);
			size = fz_u16(f);
		}
		if ((shape & 0x20) && q == (shape >> 3 & 3))
			continue;	/* left disabled */
		bar4_write(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_DESCHI, desc >> 32, 4);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail, 4);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used, 4);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		d->next_desc[q] = 0;
	}
	bar4_write(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
	d->up = true;
}

/* A chain of 1-4 descriptors on queue q, data from the input. */
static void post(struct dev *d, struct fz *f)
{
	unsigned int q = fz_u8(f) % NQ, n = 1 + fz_u8(f) % 4;
	struct virtq_desc *dt = (struct virtq_desc *)(mem.base + RING(q));
	uint16_t *avail = (uint16_t *)(mem.base + RING(q) + 0x400);
	uint16_t head = d->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint8_t lsel = fz_u8(f), fsel = fz_u8(f);
		uint32_t len = lsel < 0xf0 ? lsel * 8u : fz_u32(f);
		uint64_t a = fz_gpa(f);
		uint16_t flags = fsel < 0xf0 ? (uint16_t)(fsel & VIRTQ_DESC_F_WRITE) : fz_u16(f);
		uint8_t buf[256];
		void *hva;

		if (i + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		dt[idx] = (struct virtq_desc){ .addr = a, .len = len, .flags = flags,
					       .next = fsel < 0xf8 ? (uint16_t)((idx + 1) % QSIZE) :
							     fz_u16(f) };
		/* Contents: a control command, a header, a MAC table... */
		if (!(flags & VIRTQ_DESC_F_WRITE) && len && len <= sizeof(buf) &&
		    !guest_mem_ptr(&mem, a, len, &hva)) {
			size_t k = fz_bytes(f, buf, fz_u8(f) % (len + 1));

			memcpy(hva, buf, k);
		}
	}
	d->next_desc[q] = (uint16_t)((head + n) % QSIZE);
	avail[2 + avail[1] % QSIZE] = head;
	__atomic_store_n(&avail[1], (uint16_t)(avail[1] + 1), __ATOMIC_RELEASE);
}

static void frame_in(struct dev *d, struct fz *f)
{
	unsigned int p = fz_u8(f) % PAIRS;
	uint16_t len = fz_u16(f) % 2048;
	uint8_t buf[2048] = { 0 };

	fz_bytes(f, buf, len);
	if (send(d->peer[p], buf, len, MSG_DONTWAIT) < 0)
		return;		/* the "tap" is full: the kernel would drop it */
}

static void check_dev(struct dev *d)
{
	uint8_t buf[HDR + VNET_MAX_FRAME + 16];
	struct vnet_rx_mode m;
	uint8_t mac[6];

	for (unsigned int p = 0; p < PAIRS; p++) {
		ssize_t n;

		while ((n = recv(d->peer[p], buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
			FZ_CHECK(n >= (ssize_t)HDR && n <= (ssize_t)(HDR + VNET_MAX_FRAME),
				 "a frame of %zd bytes reached the tap", n);
	}
	vnet_rx_mode(d->net, &m);
	FZ_CHECK(m.pairs <= PAIRS, "%u pairs in use", m.pairs);
	vnet_mac(d->net, mac);
}

enum { OP_SETUP, OP_POST, OP_FRAME, OP_BAR_WRITE, OP_BAR_READ, OP_AVAIL, OP_RESET, NR_OPS };

static void run_op(struct dev *d, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a;

	switch (op) {
	case OP_SETUP:
		driver_setup(d, f);
		break;
	case OP_POST:
		post(d, f);
		break;
	case OP_FRAME:
		frame_in(d, f);
		break;
	case OP_BAR_WRITE:
		a = fz_u8(f);
		bar4_write(d, fz_u16(f) % VIRTIO_PCI_BAR_SIZE, fz_u64(f), fz_width(a));
		break;
	case OP_BAR_READ:
		a = fz_u8(f);
		bar4_read(d, fz_u16(f) % VIRTIO_PCI_BAR_SIZE, fz_width(a));
		break;
	case OP_AVAIL: {
		unsigned int q = fz_u8(f) % NQ;

		*(uint16_t *)(mem.base + RING(q) + 0x402) = fz_u16(f);
		break;
	}
	case OP_RESET:
		bar4_write(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
		d->up = false;
		break;
	}
	vnet_poll(d->net);
	check_dev(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev *d = calloc(1, sizeof(*d));
	struct fz f;

	FZ_CHECK(d, "out of memory");
	fz_init(&f, data, size);
	FZ_CHECK(dev_create(d) == 0, "cannot build the device");
	while (fz_more(&f))
		run_op(d, &f);
	dev_destroy(d);
	free(d);
	memset(mem.base, 0, RAM_SIZE);
	return 0;
}
