// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2 §5.1): the device model. Features, the
 * configuration space (MAC, link status, queue pairs), the control queue
 * and the queue pairs' life cycle; the data path itself is the back end's
 * (net.h, struct net_backend_ops).
 *
 * Threads and locks: the transport's hooks run on a vCPU with vp->lock
 * held. The control queue has a thread of its own (started at DRIVER_OK,
 * joined on reset) that takes only n->lock, below vp->lock: a reset joins
 * it before taking n->lock, so the two never wait for each other. Queue
 * pairs start and stop under n->lock, from either.
 *
 * Multiqueue and the tap: the tap steers received frames to any of its
 * attached queues, so a pair the driver does not use (§5.1.6.5.5: only
 * the first until VQ_PAIRS_SET) has its tap queue detached
 * (TUNSETQUEUE IFF_DETACH_QUEUE) and attached again when it is used.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "devices/virtio/virtio_pci.h"
#include "lib/log.h"
#include "lib/thread.h"

#define PCI_CLASS_NETWORK_ETHERNET	0x020000
#define CTRL_IOV			8

struct vnet {
	struct virtio_pci vp;		/* first: the PCI function */
	struct device dev;
	const struct guest_mem *mem;
	char name[32];
	pthread_mutex_t lock;		/* below vp->lock: pairs, rx mode, mac */
	struct virtio_net_config cfg;
	unsigned int nr_pairs;		/* the maximum, one tap fd each */
	int *tap_fds;
	const struct net_backend_ops *be_ops;
	void *be;
	uint64_t features;		/* negotiated, from activate on */
	unsigned int pairs_on;		/* pairs started (0..pairs_on) */
	unsigned int pairs_attached;	/* tap queues attached (0..) */
	struct vnet_rx_mode rx_mode;
	/* control queue */
	pthread_t ctrl_thread;
	bool ctrl_running;
	int ctrl_stop_fd;
	struct vq ctrl_vq;
	unsigned int ctrl_index;
	int broken_logged;		/* atomic: one line per activation */
	bool sync, ctrl_sync;		/* vnet_params.sync; its control queue is up */
};

/* ---- callbacks for the back end ----------------------------------------- */

static void be_notify(void *dev, unsigned int vq)
{
	struct vnet *n = dev;

	virtio_pci_notify_queue(&n->vp, vq);
}

static void be_needs_reset(void *dev, unsigned int vq, const char *why)
{
	struct vnet *n = dev;

	if (!__atomic_exchange_n(&n->broken_logged, 1, __ATOMIC_RELAXED))
		pr_warn("%s: queue %u: %s; the device needs a reset (DEVICE_NEEDS_RESET)", n->name,
			vq, why ? why : "malformed ring");
	virtio_pci_needs_reset(&n->vp);
}

/* ---- queue pairs (n->lock held) ----------------------------------------- */

/* Attach tap queues 0..want-1, detach the rest (TUNSETQUEUE). */
static void tap_queues(struct vnet *n, unsigned int want)
{
	for (unsigned int i = 1; i < n->nr_pairs; i++) {
		bool on = i < want, was = i < n->pairs_attached;
		struct ifreq ifr;

		if (on == was)
			continue;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(n->tap_fds[i], TUNSETQUEUE, &ifr) < 0 && errno != ENOTTY)
			pr_warn("%s: %s tap queue %u: %s", n->name, on ? "attaching" : "detaching", i,
				strerror(errno));
	}
	n->pairs_attached = want ? want : 1;
}

static struct net_vring vring_of(struct vnet *n, unsigned int index)
{
	const struct virtio_pci_queue *q = virtio_pci_queue(&n->vp, index);

	return (struct net_vring){
		.index = index, .size = q->size, .desc = q->desc, .avail = q->driver,
		.used = q->device, .kick_fd = q->kick_fd,
		.call_fd = n->be_ops->kernel_signals ? virtio_pci_queue_irqfd(&n->vp, index) : -1,
	};
}

/* Run pairs 0..want-1: start the missing ones, stop those beyond. */
static int pairs_set(struct vnet *n, unsigned int want)
{
	int ret = 0;

	while (n->pairs_on > want)
		n->be_ops->stop_pair(n->be, --n->pairs_on);
	tap_queues(n, want);
	while (n->pairs_on < want) {
		unsigned int p = n->pairs_on;
		const struct virtio_pci_queue *rxq = virtio_pci_queue(&n->vp, 2 * p);
		const struct virtio_pci_queue *txq = virtio_pci_queue(&n->vp, 2 * p + 1);
		struct net_vring rx, tx;

		if (!rxq->enabled || !txq->enabled) {
			pr_warn("%s: queue pair %u is in use but the driver did not enable its queues",
				n->name, p);
			return -EINVAL;
		}
		if (rxq->size > rxq->max_size || txq->size > txq->max_size)
			return -EINVAL;
		rx = vring_of(n, 2 * p);
		tx = vring_of(n, 2 * p + 1);
		ret = n->be_ops->start_pair(n->be, p, &rx, &tx, n->features);
		if (ret)
			return ret;
		n->pairs_on++;
	}
	n->rx_mode.pairs = want;
	return 0;
}

/* ---- the control queue (§5.1.6.5) --------------------------------------- */

static int ctrl_mac_table(struct vnet *n, const uint8_t *d, size_t len)
{
	uint32_t uni, multi;

	/* Two tables, each a le32 count and that many MACs, nothing more. */
	if (len < 4)
		return VIRTIO_NET_ERR;
	memcpy(&uni, d, 4);
	uni = le32toh(uni);
	if (uni > (len - 4) / 6)
		return VIRTIO_NET_ERR;
	d += 4 + 6 * (size_t)uni;
	len -= 4 + 6 * (size_t)uni;
	if (len < 4)
		return VIRTIO_NET_ERR;
	memcpy(&multi, d, 4);
	multi = le32toh(multi);
	if (multi > (len - 4) / 6 || len - 4 != 6 * (size_t)multi)
		return VIRTIO_NET_ERR;
	/* The tap sees every frame the host sends it: the filter is the
	 * host's (bridge, macvtap), so the table is recorded, not applied. */
	n->rx_mode.uni_entries = uni;
	n->rx_mode.multi_entries = multi;
	return VIRTIO_NET_OK;
}

/* n->lock held. */
static int ctrl_exec(struct vnet *n, uint8_t cls, uint8_t cmd, const uint8_t *d, size_t len)
{
	uint64_t f = n->features;

	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		/* §5.1.6.5.1: one byte, on or off. */
		if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX)) || len != 1)
			return VIRTIO_NET_ERR;
		if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
			n->rx_mode.promisc = d[0] != 0;
		else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
			n->rx_mode.allmulti = d[0] != 0;
		else
			return VIRTIO_NET_ERR;	/* the others need CTRL_RX_EXTRA */
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
			return f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) ? ctrl_mac_table(n, d, len)
								   : VIRTIO_NET_ERR;
		if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			/* §5.1.6.5.2: the new address shows in config space. */
			if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6)
				return VIRTIO_NET_ERR;
			memcpy(n->cfg.mac, d, 6);
			return VIRTIO_NET_OK;
		}
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_MQ: {
		uint16_t pairs;

		/* §5.1.6.5.5: 1..max_virtqueue_pairs, else an error and no change. */
		if (!(f & VIRTIO_BIT(VIRTIO_NET_F_MQ)) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
		    len != 2)
			return VIRTIO_NET_ERR;
		memcpy(&pairs, d, 2);
		pairs = le16toh(pairs);
		if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > n->nr_pairs)
			return VIRTIO_NET_ERR;
		if (pairs_set(n, pairs)) {
			be_needs_reset(n, n->ctrl_index, "a queue pair could not start");
			return VIRTIO_NET_ERR;
		}
		return VIRTIO_NET_OK;
	}
	default:
		return VIRTIO_NET_ERR;	/* VLAN, ANNOUNCE, GUEST_OFFLOADS: not offered */
	}
}

int vnet_ctrl_command(struct vnet *n, struct vq_elem *e)
{
	uint8_t buf[2 + 8 + 6 * 2 * VNET_MAC_TABLE_MAX];
	size_t len;
	int ack;

	/* §5.1.6.5: class and command readable, then data, then the ack
	 * the device writes, in whatever descriptors the driver chose. */
	if (e->out_len < 2 || !e->in_len || !e->last_in)
		return -EPROTO;
	if (e->truncated || e->out_len > sizeof(buf))
		return VIRTIO_NET_ERR;	/* longer than any command we take */
	len = iov_to_buf(e->iov, e->nr_out, 0, buf, sizeof(buf));
	if (len != e->out_len)
		return VIRTIO_NET_ERR;
	pthread_mutex_lock(&n->lock);
	ack = ctrl_exec(n, buf[0], buf[1], buf + 2, len - 2);
	pthread_mutex_unlock(&n->lock);
	return ack;
}

static void ctrl_drain(struct vnet *n)
{
	struct iovec iov[CTRL_IOV];
	struct vq_elem e = { .iov = iov, .cap = CTRL_IOV };
	bool pushed = false;

	do {
		int ret;

		while ((ret = vq_pop(&n->ctrl_vq, &e)) > 0) {
			ret = vnet_ctrl_command(n, &e);
			if (ret < 0) {
				n->ctrl_vq.why = "a control command without room for its header or ack";
				break;
			}
			*e.last_in = (uint8_t)ret;
			vq_push(&n->ctrl_vq, e.head, 1);
			pushed = true;
		}
		if (ret < 0) {
			n->ctrl_vq.broken = true;
			be_needs_reset(n, n->ctrl_index, n->ctrl_vq.why);
			break;
		}
	} while (vq_enable_notify(&n->ctrl_vq));
	if (pushed && vq_should_notify(&n->ctrl_vq))
		virtio_pci_notify_queue(&n->vp, n->ctrl_index);
}

static void *ctrl_thread(void *arg)
{
	struct vnet *n = arg;
	const struct virtio_pci_queue *q = virtio_pci_queue(&n->vp, n->ctrl_index);
	struct pollfd fds[2] = {
		{ .fd = n->ctrl_stop_fd, .events = POLLIN },
		{ .fd = q->kick_fd, .events = POLLIN },
	};
	uint64_t cnt;

	vmm_thread_enter(VMM_THREAD_NET);
	/* Commands queued before DRIVER_OK are served now. */
	ctrl_drain(n);
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN) {
			if (read(q->kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				break;
			if (!n->ctrl_vq.broken)
				ctrl_drain(n);
		}
	}
	return NULL;
}

static int ctrl_start(struct vnet *n)
{
	const struct virtio_pci_queue *q;
	int ret;

	n->ctrl_index = n->features & VIRTIO_BIT(VIRTIO_NET_F_MQ) ? 2 * n->nr_pairs : 2;
	q = virtio_pci_queue(&n->vp, n->ctrl_index);
	if (!q || !q->enabled)
		return 0;		/* §5.1.6.5: the driver may leave it unused */
	if (q->size > q->max_size)
		return -EINVAL;
	ret = vq_init(&n->ctrl_vq, n->mem, q->size, q->desc, q->driver, q->device,
		      n->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
		      n->features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (ret)
		return ret;
	if (n->sync) {
		n->ctrl_sync = true;
		return 0;
	}
	ret = vmm_thread_start_worker(&n->ctrl_thread, ctrl_thread, n);
	if (!ret)
		n->ctrl_running = true;
	return ret;
}

static void ctrl_stop(struct vnet *n)
{
	uint64_t one = 1, cnt;

	n->ctrl_sync = false;
	if (!n->ctrl_running)
		return;
	if (write(n->ctrl_stop_fd, &one, sizeof(one)) < 0)
		pr_warn("%s: stopping the control queue: %s", n->name, strerror(errno));
	pthread_join(n->ctrl_thread, NULL);
	n->ctrl_running = false;
	while (read(n->ctrl_stop_fd, &cnt, sizeof(cnt)) > 0)
		;
}

/* ---- virtio device hooks (vCPU thread, vp->lock held) ------------------- */

unsigned int vnet_tap_offloads(uint64_t f)
{
	unsigned int off = 0;

	/* What the tap may hand the guest (§5.1.6.4): partial checksums
	 * with GUEST_CSUM, TSO super-frames with GUEST_TSO4/6 (+ECN). */
	if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)))
			off |= TUN_F_TSO_ECN;
	}
	return off;
}

static void set_tap_offloads(struct vnet *n, unsigned int off)
{
	/* Queue 0 is always attached: the setting is the whole tap's. */
	if (ioctl(n->tap_fds[0], TUNSETOFFLOAD, (unsigned long)off) < 0 && errno != ENOTTY &&
	    errno != EINVAL)
		pr_warn("%s: TUNSETOFFLOAD %#x: %s", n->name, off, strerror(errno));
}

static void vnet_reset(void *opaque)
{
	struct vnet *n = opaque;

	ctrl_stop(n);
	pthread_mutex_lock(&n->lock);
	pairs_set(n, 0);
	n->features = 0;
	memset(&n->rx_mode, 0, sizeof(n->rx_mode));
	pthread_mutex_unlock(&n->lock);
	set_tap_offloads(n, 0);
	__atomic_store_n(&n->broken_logged, 0, __ATOMIC_RELAXED);
}

static int vnet_activate(void *opaque)
{
	struct vnet *n = opaque;
	int ret;

	pthread_mutex_lock(&n->lock);
	n->features = virtio_pci_features(&n->vp);
	set_tap_offloads(n, vnet_tap_offloads(n->features));
	/* §5.1.6.5.5: one pair until the driver asks for more. */
	ret = pairs_set(n, 1);
	pthread_mutex_unlock(&n->lock);
	if (!ret && (n->features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
		ret = ctrl_start(n);
	if (ret)
		vnet_reset(n);
	return ret;
}

static int vnet_set_features(void *opaque, uint64_t f)
{
	/* §5.1.3.1: the dependencies a driver must respect. */
	static const struct { unsigned int bit, needs; } deps[] = {
		{ VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM },
		{ VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM },
		{ VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM },
		{ VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM },
		{ VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ },
		{ VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ },
		{ VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ },
	};

	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		if ((f & VIRTIO_BIT(deps[i].bit)) && !(f & VIRTIO_BIT(deps[i].needs)))
			return -EINVAL;
	return 0;
}

static void vnet_config_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct vnet *n = opaque;

	pthread_mutex_lock(&n->lock);
	if (off < sizeof(n->cfg) && len <= sizeof(n->cfg) - off)
		memcpy(data, (uint8_t *)&n->cfg + off, len);
	pthread_mutex_unlock(&n->lock);
}

static void vnet_config_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	/* §5.1.4: the MAC is read-only to a VERSION_1 driver (it uses
	 * CTRL_MAC_ADDR_SET); nothing else is writable. */
}

/* A queue's MSI-X vector, or MSI-X, changed while active: a back end the
 * kernel signals for follows it (vp->lock held, then n->lock). */
static void vnet_queue_vector(void *opaque, unsigned int vq)
{
	struct vnet *n = opaque;
	int ret;

	if (!n->be_ops->set_call)
		return;
	pthread_mutex_lock(&n->lock);
	if (vq < 2 * n->pairs_on) {
		ret = n->be_ops->set_call(n->be, vq, virtio_pci_queue_irqfd(&n->vp, vq));
		if (ret)
			pr_warn("%s: queue %u: cannot follow its new MSI-X vector: %s", n->name, vq,
				strerror(-ret));
	}
	pthread_mutex_unlock(&n->lock);
}

static const struct virtio_dev_ops vnet_dev_ops = {
	.config_read = vnet_config_read,
	.config_write = vnet_config_write,
	.set_features = vnet_set_features,
	.activate = vnet_activate,
	.reset = vnet_reset,
	.queue_vector = vnet_queue_vector,
};

/* ---- creation ------------------------------------------------------------ */

void vnet_rx_mode(struct vnet *n, struct vnet_rx_mode *m)
{
	pthread_mutex_lock(&n->lock);
	*m = n->rx_mode;
	pthread_mutex_unlock(&n->lock);
}

struct virtio_pci *vnet_transport(struct vnet *n)
{
	return &n->vp;
}

void vnet_poll(struct vnet *n)
{
	if (n->ctrl_sync && !n->ctrl_vq.broken)
		ctrl_drain(n);
	for (unsigned int p = 0; p < n->pairs_on; p++)
		if (n->be_ops->poll)
			n->be_ops->poll(n->be, p);
}

void vnet_mac(struct vnet *n, uint8_t mac[6])
{
	pthread_mutex_lock(&n->lock);
	memcpy(mac, n->cfg.mac, 6);
	pthread_mutex_unlock(&n->lock);
}

static void vnet_dev_destroy(struct device *dev)
{
	vnet_destroy(container_of(dev, struct vnet, dev));
}

/* Reset through the root (PCI RST# resets the transport, which stops
 * the queues): only its destroy is here. */
static const struct device_ops vnet_device_ops = {
	.destroy = vnet_dev_destroy,
};

struct vnet *vnet_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 const struct vnet_params *p)
{
	uint64_t features =
		VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) |
		VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) |
		VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
		VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	struct net_backend_env env;
	struct virtio_pci_params vpp;
	struct vnet *n;
	int ret;

	if (!p->queues || p->queues > VNET_MAX_PAIRS || !p->tap_fds || !p->mac) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->mem = mem;
	snprintf(n->name, sizeof(n->name), "%s", p->name ? p->name : "virtio-net");
	n->nr_pairs = p->queues;
	n->sync = p->sync;
	n->ctrl_stop_fd = -1;
	n->be_ops = p->backend ? p->backend : &net_user_backend;
	if (n->nr_pairs > 1)
		features |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	memcpy(n->cfg.mac, p->mac, 6);
	n->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->cfg.max_virtqueue_pairs = htole16((uint16_t)n->nr_pairs);
	n->tap_fds = malloc(n->nr_pairs * sizeof(int));
	if (!n->tap_fds) {
		ret = -ENOMEM;
		goto free_n;
	}
	memcpy(n->tap_fds, p->tap_fds, n->nr_pairs * sizeof(int));
	pthread_mutex_init(&n->lock, NULL);
	n->ctrl_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->ctrl_stop_fd < 0) {
		ret = -errno;
		goto free_fds;
	}
	/* Power-on: only the first tap queue takes frames. */
	n->pairs_attached = n->nr_pairs;
	tap_queues(n, 1);
	vpp = (struct virtio_pci_params){
		.name = n->name,
		.device_id = VIRTIO_ID_NET,
		.class_code = PCI_CLASS_NETWORK_ETHERNET,
		.features = features,
		.nr_queues = 2 * n->nr_pairs + 1,
		.queue_size = VNET_QUEUE_SIZE,
		.config_size = sizeof(n->cfg),
		.dev_ops = &vnet_dev_ops,
		.opaque = n,
	};
	/* The back end first: what it can serve decides the offer. */
	env = (struct net_backend_env){
		.name = n->name, .mem = mem, .tap_fds = n->tap_fds, .nr_pairs = n->nr_pairs,
		.dev = n, .notify = be_notify, .needs_reset = be_needs_reset, .sync = n->sync,
	};
	ret = n->be_ops->create(&env, &n->be);
	if (ret)
		goto close_stop;
	if (n->be_ops->offer)
		vpp.features = n->be_ops->offer(n->be, vpp.features);
	vpp.msix_external = n->be_ops->kernel_signals;
	ret = virtio_pci_init(&n->vp, ops, &vpp);
	if (ret)
		goto destroy_be;
	device_register(ops, &n->dev, n->name, &vnet_device_ops);
	return n;

destroy_be:
	n->be_ops->destroy(n->be);
close_stop:
	close(n->ctrl_stop_fd);
free_fds:
	pthread_mutex_destroy(&n->lock);
	free(n->tap_fds);
free_n:
	free(n);
	errno = -ret;
	return NULL;
}

struct pci_dev *vnet_pci(struct vnet *n)
{
	return &n->vp.pci;
}

void vnet_destroy(struct vnet *n)
{
	if (!n)
		return;
	device_unregister(&n->dev);
	/* Resets the device: the control thread and every pair stop first. */
	virtio_pci_exit(&n->vp);
	for (unsigned int p = 0; p < n->nr_pairs; p++) {
		struct net_queue_stats rx = { 0 }, tx = { 0 };

		if (n->be_ops->stats)
			n->be_ops->stats(n->be, p, &rx, &tx);
		pr_debug("%s: pair %u: rx %llu frames %llu bytes %llu dropped, tx %llu frames %llu bytes %llu dropped",
			 n->name, p, (unsigned long long)rx.packets, (unsigned long long)rx.bytes,
			 (unsigned long long)rx.dropped, (unsigned long long)tx.packets,
			 (unsigned long long)tx.bytes, (unsigned long long)tx.dropped);
	}
	n->be_ops->destroy(n->be);
	for (unsigned int p = 0; p < n->nr_pairs; p++)
		close(n->tap_fds[p]);
	close(n->ctrl_stop_fd);
	pthread_mutex_destroy(&n->lock);
	free(n->tap_fds);
	free(n);
}
