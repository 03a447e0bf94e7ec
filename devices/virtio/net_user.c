// SPDX-License-Identifier: MIT
/*
 * virtio-net's userspace data path (struct net_backend_ops, net.h): a
 * thread per queue pair that sleeps in poll() on the pair's two kick
 * eventfds (the ioeventfds KVM signals), its tap queue and a stop eventfd.
 *
 * TX (§5.1.6.2): every available chain is one frame, vnet header first;
 * its device-readable segments go to the tap in one writev(), straight
 * from guest RAM. RX (§5.1.6.3/4): a frame is read from the tap into a
 * buffer of the pair's, then copied into as many guest buffers as it
 * needs (VIRTIO_NET_F_MRG_RXBUF, num_buffers in the first header), so a
 * frame never has to be read before the buffers it will fill are known:
 * QEMU's tap back end does the same. A frame that finds too few buffers
 * waits in that buffer until the driver adds some (its RX kick).
 *
 * Why poll() with readv/writev rather than io_uring (as virtio-blk): a tap
 * completes every read and write at once (it never blocks a write, a read
 * is a copy out of its queue), so io_uring would only add a submission
 * and a completion per frame; poll() with non-blocking I/O costs one
 * system call per frame plus one wake-up per batch, the same as QEMU's
 * and the minimum for a copy through userspace. The kernel path that
 * avoids both copies is vhost-net, the other back end.
 *
 * Untrusted input: chains come from vq_pop() (addresses checked); a TX
 * chain shorter than the header, an RX buffer shorter than the header or
 * one the device cannot write puts the device into DEVICE_NEEDS_RESET
 * (§5.1.6.2.1, §5.1.6.3.1); a frame no buffers can hold is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "lib/log.h"
#include "lib/thread.h"

#define RX_IOV		24		/* segments kept per RX buffer: Linux
					 * without MRG_RXBUF posts 64 KiB chains
					 * of MAX_SKB_FRAGS + 2 pages */
#define TX_IOV		VIRTQ_MAX_CHAIN
#define BATCH		64		/* frames per direction per wake-up */
#define HDR		sizeof(struct virtio_net_hdr_v1)

struct user_pair {
	struct user_be *be;
	unsigned int index;
	int tap_fd, stop_fd;
	struct net_vring rx, tx;
	struct vq rxq, txq;
	bool mergeable;
	pthread_t thread;
	bool running;
	/* RX: the frame read from the tap and the buffers popped for it */
	uint8_t *frame;
	size_t frame_len;		/* 0: none pending */
	struct vq_elem *elems;		/* VNET_QUEUE_SIZE */
	struct iovec *elem_iov;		/* VNET_QUEUE_SIZE * RX_IOV */
	unsigned int nr_popped;
	size_t popped_room;
	bool rx_starved, rx_notify, tx_notify;
	struct iovec tx_iov[TX_IOV];
	struct net_queue_stats rx_stats, tx_stats;	/* written by the thread only */
};

struct user_be {
	struct net_backend_env env;
	struct user_pair *pairs;
};

/* ---- RX: frame into guest buffers (pure, unit-tested) -------------------- */

static size_t elem_room(const struct vq_elem *e)
{
	size_t room = 0;

	for (unsigned int i = 0; i < e->nr_in; i++)
		room += e->iov[e->nr_out + i].iov_len;
	return room;
}

int vnet_rx_fill(struct vq_elem *elems, unsigned int n, bool mergeable, const uint8_t *frame,
		 size_t len, uint32_t *used_len)
{
	size_t off = 0, room = 0;
	unsigned int used = 0;
	uint16_t nb;

	for (unsigned int i = 0; i < n; i++) {
		if (elems[i].out_len || elem_room(&elems[i]) < HDR)
			return -EPROTO;
		room += elem_room(&elems[i]);
	}
	if (!n || len < HDR || (mergeable ? room : elem_room(&elems[0])) < len)
		return 0;
	while (off < len) {
		struct vq_elem *e = &elems[used];
		size_t chunk = elem_room(e);

		if (chunk > len - off)
			chunk = len - off;
		iov_from_buf(e->iov + e->nr_out, e->nr_in, 0, frame + off, chunk);
		used_len[used++] = (uint32_t)chunk;
		off += chunk;
		if (!mergeable)
			break;
	}
	/* §5.1.6.4: num_buffers, at the header's end in the first buffer,
	 * which holds the whole header (it is at least HDR bytes). */
	nb = htole16(mergeable ? (uint16_t)used : 1);
	iov_from_buf(elems[0].iov + elems[0].nr_out, elems[0].nr_in,
		     offsetof(struct virtio_net_hdr_v1, num_buffers), &nb, sizeof(nb));
	return (int)used;
}

/* ---- the pair's thread -------------------------------------------------- */

static void pair_broken(struct user_pair *pq, struct vq *vq, unsigned int index,
			const char *why)
{
	vq->broken = true;
	pq->be->env.needs_reset(pq->be->env.dev, index, vq->why ? vq->why : why);
}

/* Hand back the popped buffers: used ones hold the frame, or, for a frame
 * dropped, every one with length 0 (the driver's length check drops it). */
static void rx_complete(struct user_pair *pq, unsigned int used, const uint32_t *lens)
{
	for (unsigned int i = 0; i < pq->nr_popped; i++)
		vq_push(&pq->rxq, pq->elems[i].head, i < used ? lens[i] : 0);
	pq->nr_popped = 0;
	pq->popped_room = 0;
	pq->frame_len = 0;
	pq->rx_notify = true;
}

/* Move the pending frame into guest buffers. false: wait (no buffers, or
 * the ring broke). */
static bool rx_deliver(struct user_pair *pq)
{
	uint32_t lens[VNET_QUEUE_SIZE];
	int ret;

	for (;;) {
		struct vq_elem *e;

		if (pq->nr_popped && (pq->mergeable ? pq->popped_room >= pq->frame_len : true))
			break;
		if (pq->nr_popped == pq->rxq.size) {
			/* The whole ring cannot hold it: drop it. */
			pq->rx_stats.dropped++;
			rx_complete(pq, 0, lens);
			return true;
		}
		e = &pq->elems[pq->nr_popped];
		ret = vq_pop(&pq->rxq, e);
		if (ret < 0) {
			pair_broken(pq, &pq->rxq, pq->rx.index, "a malformed receive ring");
			return false;
		}
		if (!ret) {
			if (vq_enable_notify(&pq->rxq))
				continue;
			pq->rx_starved = true;
			return false;
		}
		if (e->out_len || elem_room(e) < HDR) {
			pair_broken(pq, &pq->rxq, pq->rx.index,
				    "a receive buffer shorter than the virtio-net header, or device-readable");
			return false;
		}
		pq->popped_room += elem_room(e);
		pq->nr_popped++;
	}
	ret = vnet_rx_fill(pq->elems, pq->nr_popped, pq->mergeable, pq->frame, pq->frame_len, lens);
	if (ret <= 0) {
		pq->rx_stats.dropped++;		/* one buffer too small (no MRG_RXBUF) */
		rx_complete(pq, 0, lens);
		return true;
	}
	pq->rx_stats.packets++;
	pq->rx_stats.bytes += pq->frame_len - HDR;
	rx_complete(pq, (unsigned int)ret, lens);
	return true;
}

static void rx_service(struct user_pair *pq)
{
	for (unsigned int i = 0; i < BATCH && !pq->rxq.broken; i++) {
		if (!pq->frame_len) {
			ssize_t r = read(pq->tap_fd, pq->frame, HDR + VNET_MAX_FRAME);

			if (r < 0) {
				if (errno != EAGAIN && errno != EINTR)
					pq->rx_stats.dropped++;
				return;
			}
			if ((size_t)r <= HDR)
				continue;
			pq->frame_len = (size_t)r;
		}
		if (!rx_deliver(pq))
			return;
	}
}

static void tx_service(struct user_pair *pq)
{
	struct vq_elem e = { .iov = pq->tx_iov, .cap = TX_IOV };

	for (unsigned int i = 0; i < BATCH; i++) {
		int ret = vq_pop(&pq->txq, &e);

		if (ret < 0) {
			pair_broken(pq, &pq->txq, pq->tx.index, "a malformed transmit ring");
			return;
		}
		if (!ret) {
			if (vq_enable_notify(&pq->txq))
				continue;
			return;
		}
		if (e.out_len < HDR) {
			pair_broken(pq, &pq->txq, pq->tx.index,
				    "a transmit buffer shorter than the virtio-net header");
			return;
		}
		/* Device-writable parts of a TX chain carry nothing: ignored. */
		if (e.truncated || e.out_len > HDR + VNET_MAX_FRAME ||
		    writev(pq->tap_fd, e.iov, (int)e.nr_out) < 0) {
			pq->tx_stats.dropped++;
		} else {
			pq->tx_stats.packets++;
			pq->tx_stats.bytes += e.out_len - HDR;
		}
		vq_push(&pq->txq, e.head, 0);
		pq->tx_notify = true;
	}
	/* A full batch: come back at once (the kick may not repeat). */
	eventfd_write(pq->tx.kick_fd, 1);
}

static void notify(struct user_pair *pq, struct vq *vq, unsigned int index, bool *pending,
		   struct net_queue_stats *st)
{
	if (!*pending)
		return;
	*pending = false;
	if (vq_should_notify(vq)) {
		st->interrupts++;
		pq->be->env.notify(pq->be->env.dev, index);
	}
}

static void *pair_thread(void *arg)
{
	struct user_pair *pq = arg;
	uint64_t cnt;

	vmm_thread_enter(VMM_THREAD_NET);
	/* Buffers made available before DRIVER_OK are served now. */
	tx_service(pq);
	rx_service(pq);
	for (;;) {
		struct pollfd fds[4] = {
			{ .fd = pq->stop_fd, .events = POLLIN },
			{ .fd = pq->tx.kick_fd, .events = POLLIN },
			{ .fd = pq->rx.kick_fd, .events = POLLIN },
			{ .fd = pq->tap_fd, .events = POLLIN },
		};
		/* No buffer for a frame: the tap can wait (its queue holds
		 * what comes meanwhile) until the driver adds buffers. */
		nfds_t nfds = pq->rx_starved || pq->rxq.broken ? 3 : 4;

		notify(pq, &pq->rxq, pq->rx.index, &pq->rx_notify, &pq->rx_stats);
		notify(pq, &pq->txq, pq->tx.index, &pq->tx_notify, &pq->tx_stats);
		if (poll(fds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("%s: queue pair %u: poll: %s; the pair stops", pq->be->env.name,
			       pq->index, strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN) {
			if (read(pq->tx.kick_fd, &cnt, sizeof(cnt)) > 0)
				pq->tx_stats.kicks++;
			if (!pq->txq.broken)
				tx_service(pq);
		}
		if (fds[2].revents & POLLIN) {
			if (read(pq->rx.kick_fd, &cnt, sizeof(cnt)) > 0)
				pq->rx_stats.kicks++;
			pq->rx_starved = false;
		}
		if (!pq->rx_starved && !pq->rxq.broken &&
		    ((nfds == 4 && fds[3].revents) || pq->frame_len || (fds[2].revents & POLLIN)))
			rx_service(pq);
	}
	return NULL;
}

/* ---- back-end hooks ------------------------------------------------------ */

static int user_create(const struct net_backend_env *env, void **out)
{
	struct user_be *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->env = *env;
	be->pairs = calloc(env->nr_pairs, sizeof(*be->pairs));
	if (!be->pairs)
		goto free_be;
	for (unsigned int p = 0; p < env->nr_pairs; p++) {
		struct user_pair *pq = &be->pairs[p];

		pq->be = be;
		pq->index = p;
		pq->tap_fd = env->tap_fds[p];
		pq->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		pq->frame = malloc(HDR + VNET_MAX_FRAME);
		pq->elems = calloc(VNET_QUEUE_SIZE, sizeof(*pq->elems));
		pq->elem_iov = calloc((size_t)VNET_QUEUE_SIZE * RX_IOV, sizeof(*pq->elem_iov));
		if (pq->stop_fd < 0 || !pq->frame || !pq->elems || !pq->elem_iov)
			goto free_pairs;
		for (unsigned int i = 0; i < VNET_QUEUE_SIZE; i++) {
			pq->elems[i].iov = pq->elem_iov + (size_t)i * RX_IOV;
			pq->elems[i].cap = RX_IOV;
		}
	}
	*out = be;
	return 0;

free_pairs:
	for (unsigned int p = 0; p < env->nr_pairs; p++) {
		if (be->pairs[p].stop_fd > 0)
			close(be->pairs[p].stop_fd);
		free(be->pairs[p].frame);
		free(be->pairs[p].elems);
		free(be->pairs[p].elem_iov);
	}
	free(be->pairs);
free_be:
	free(be);
	return -ENOMEM;
}

static int user_start_pair(void *opaque, unsigned int p, const struct net_vring *rx,
			   const struct net_vring *tx, uint64_t features)
{
	struct user_be *be = opaque;
	struct user_pair *pq = &be->pairs[p];
	bool event_idx = features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	bool indirect = features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	int ret;

	if (pq->running)
		return 0;
	pq->rx = *rx;
	pq->tx = *tx;
	ret = vq_init(&pq->rxq, be->env.mem, rx->size, rx->desc, rx->avail, rx->used, event_idx,
		      indirect);
	if (!ret)
		ret = vq_init(&pq->txq, be->env.mem, tx->size, tx->desc, tx->avail, tx->used,
			      event_idx, indirect);
	if (ret) {
		pr_warn("%s: queue pair %u: the driver's rings are unusable (%s); the device needs a reset",
			be->env.name, p, ret == -EFAULT ? "outside guest RAM" : "bad size or alignment");
		return ret;
	}
	pq->mergeable = features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	pq->frame_len = 0;
	pq->nr_popped = 0;
	pq->popped_room = 0;
	pq->rx_starved = pq->rx_notify = pq->tx_notify = false;
	if (be->env.sync)
		return 0;		/* user_poll serves it */
	ret = vmm_thread_start_worker(&pq->thread, pair_thread, pq);
	if (!ret)
		pq->running = true;
	return ret;
}

static void user_stop_pair(void *opaque, unsigned int p)
{
	struct user_be *be = opaque;
	struct user_pair *pq = &be->pairs[p];
	uint64_t cnt;

	if (!pq->running)
		return;
	if (eventfd_write(pq->stop_fd, 1) < 0)
		pr_warn("%s: stopping queue pair %u: %s", be->env.name, p, strerror(errno));
	pthread_join(pq->thread, NULL);
	pq->running = false;
	while (read(pq->stop_fd, &cnt, sizeof(cnt)) > 0)
		;
	/* A frame read but not delivered is lost, as on a real NIC's reset. */
	if (pq->frame_len)
		pq->rx_stats.dropped++;
	pq->frame_len = 0;
	pq->nr_popped = 0;
}

static void user_poll(void *opaque, unsigned int p)
{
	struct user_be *be = opaque;
	struct user_pair *pq = &be->pairs[p];

	if (!pq->txq.broken)
		tx_service(pq);
	pq->rx_starved = false;
	if (!pq->rxq.broken)
		rx_service(pq);
	notify(pq, &pq->rxq, pq->rx.index, &pq->rx_notify, &pq->rx_stats);
	notify(pq, &pq->txq, pq->tx.index, &pq->tx_notify, &pq->tx_stats);
}

static void user_stats(void *opaque, unsigned int p, struct net_queue_stats *rx,
		       struct net_queue_stats *tx)
{
	struct user_be *be = opaque;

	*rx = be->pairs[p].rx_stats;
	*tx = be->pairs[p].tx_stats;
}

static void user_destroy(void *opaque)
{
	struct user_be *be = opaque;

	for (unsigned int p = 0; p < be->env.nr_pairs; p++) {
		user_stop_pair(be, p);
		close(be->pairs[p].stop_fd);
		free(be->pairs[p].frame);
		free(be->pairs[p].elems);
		free(be->pairs[p].elem_iov);
	}
	free(be->pairs);
	free(be);
}

const struct net_backend_ops net_user_backend = {
	.name = "userspace",
	.create = user_create,
	.start_pair = user_start_pair,
	.stop_pair = user_stop_pair,
	.stats = user_stats,
	.destroy = user_destroy,
	.poll = user_poll,
};
