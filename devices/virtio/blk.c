// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2 §5.2): queues and the I/O threads that serve them.
 *
 * A disk has one I/O thread by default (iothreads=N: up to one per queue;
 * queue i is served by thread i mod N). A thread owns its queues'
 * virtqueues and one io_uring. It sleeps in one io_uring_enter() that
 * waits for its queues' kick eventfds (the ioeventfds KVM signals on a
 * guest notification), its stop eventfd and I/O completions alike; on a
 * kick it takes every available chain of the queue, turns each into
 * io_uring operations (devices/virtio/blk_req.c) and submits them all with
 * the next wait. On completion it writes the status byte, returns the
 * chain and, once per wake-up and queue and only if the driver wants it
 * (§2.7.10), signals the queue's MSI-X vector. Reads (or writes) of one
 * kick that continue each other on the disk go to io_uring as one
 * operation (a sequential writer's 128 KiB requests as one 1 MiB write).
 *
 * Why one thread by default: like QEMU's one event loop per disk, it
 * serves every queue's kicks and completions of one wake-up together, with
 * one thread fewer per queue next to the vCPUs. More threads pay off when
 * one is saturated. A thread runs SCHED_BATCH: its wake-ups never preempt
 * a vCPU (docs/virtio-blk.md, "I/O threads do not preempt vCPUs").
 *
 * Untrusted input: chains come from vq_pop() with every address already
 * checked against guest RAM; lengths and sectors are checked by
 * vblk_plan() before any I/O. A chain without room for the header or the
 * status breaks the ring: the device goes into DEVICE_NEEDS_RESET, says so
 * once, and the queue serves nothing more until the driver resets it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/virtio_pci.h"
#include "lib/log.h"
#include "lib/thread.h"

#define TAG_STOP	0
#define TAG_KICK0	1		/* + queue index */
#define PCI_CLASS_STORAGE_SCSI	0x010000	/* what QEMU's virtio-blk-pci reports */
#define MERGE_REQS	32		/* requests per merged read or write */
#define MERGE_IOV	1024		/* IOV_MAX: segments of one merged operation */
#define MERGE_BYTES	(4u << 20)	/* bytes of one merged operation */
#define MERGE_SLOTS	8		/* merged operations in flight per queue */
#define RING_MAX	4096		/* SQ entries of one thread's ring */

/* What an operation's opaque points at: one request, or a merged run. */
struct vblk_owner {
	struct vblk_queue *q;
	bool merge;
};

struct vblk_req {
	struct vblk_owner own;		/* first: the operations' opaque */
	struct vblk_req *next_free;
	struct vq_elem elem;
	uint8_t *status;
	uint8_t result;
	uint32_t used;
	unsigned int pending;		/* operations still in flight */
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	struct iovec iov[VBLK_MAX_IOV];
};

/* One read or write made of several requests' (contiguous on the disk). */
struct vblk_merge {
	struct vblk_owner own;		/* first: the operation's opaque */
	struct blk_io_op op;
	struct vblk_merge *next_free;
	unsigned int nr;
	struct vblk_req *reqs[MERGE_REQS];
	struct iovec iov[MERGE_IOV];
};

/* The queues I/O thread t of disk b serves: index, index + N, ... */
#define for_each_queue_of(b, t, i) \
	for (unsigned int i = (t)->index; i < (b)->nr_queues; i += (b)->nr_iothreads)

/* A thread and its ring. */
struct vblk_iothread {
	struct vblk *blk;
	unsigned int index;
	pthread_t thread;
	bool running;
	bool io_up;			/* the ring exists (device lifetime) */
	bool stopping;
	int stop_fd;
	struct blk_io io;
	uint64_t wakeups;		/* since creation */
	unsigned int inflight_at_stop;	/* I/O in flight when the stop came */
};

struct vblk_queue {
	struct vblk *blk;
	struct vblk_iothread *t;
	unsigned int index;
	bool active;			/* served in this activation */
	int kick_fd;
	struct vq vq;
	struct vblk_req *reqs, *free;
	struct vblk_merge *merges, *merge_free;
	/* Requests taken in this drain whose read/write is not queued yet:
	 * each continues the one before it on the disk. */
	struct vblk_req *run[MERGE_REQS];
	unsigned int run_len, run_iov;
	uint64_t run_bytes;
	bool kicked, starved, need_notify;
	uint64_t requests, kicks, interrupts;	/* since creation */
	uint64_t merged, merged_ops;	/* requests merged, operations they became */
};

struct vblk {
	struct virtio_pci vp;		/* first: the PCI function */
	struct device dev;
	const struct guest_mem *mem;
	char name[32];
	struct blk_file file;
	uint8_t serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config cfg;
	struct vblk_disk disk;
	unsigned int nr_queues, nr_iothreads;
	struct vblk_queue *queues;
	struct vblk_iothread *iothreads;
	struct iovec *bufs;
	unsigned int nr_bufs;
	int broken_logged;		/* atomic: one line per device */
};

/* ---- the I/O thread ------------------------------------------------------ */

static void queue_broken(struct vblk_queue *q)
{
	struct vblk *b = q->blk;

	if (!__atomic_exchange_n(&b->broken_logged, 1, __ATOMIC_RELAXED))
		pr_warn("%s: queue %u: %s; the device needs a reset (DEVICE_NEEDS_RESET)",
			b->name, q->index, q->vq.why ? q->vq.why : "malformed request");
	q->vq.broken = true;
	virtio_pci_needs_reset(&b->vp);
}

static void req_finish(struct vblk_queue *q, struct vblk_req *req)
{
	/* A broken ring (or one being torn down) gets nothing more. */
	if (!q->vq.broken && !q->t->stopping) {
		*req->status = req->result;
		vq_push(&q->vq, req->elem.head, req->used);
		q->need_notify = true;
	}
	req->next_free = q->free;
	q->free = req;
}

static void req_queue(struct vblk_queue *q, struct vblk_req *req, unsigned int n)
{
	req->pending = 0;
	for (unsigned int i = 0; i < n; i++) {
		req->ops[i].opaque = req;
		if (blk_io_queue(&q->t->io, &req->ops[i])) {
			/* Cannot happen: a full ring is submitted to make
			 * room. Fail the request rather than lose it. */
			req->result = VIRTIO_BLK_S_IOERR;
			break;
		}
		req->pending++;
	}
	if (!req->pending)
		req_finish(q, req);
}

/* Queue the run of contiguous reads or writes: as one operation if it has
 * more than one request and a merge slot is free, else one by one. */
static void run_flush(struct vblk_queue *q)
{
	struct vblk_merge *m = q->merge_free;
	const struct blk_io_op *first = &q->run[0]->ops[0];
	unsigned int iov = 0;

	if (q->run_len > 1 && m) {
		m->op = (struct blk_io_op){
			.kind = first->kind,
			.offset = first->offset,
			.len = q->run_bytes,
			.iov = m->iov,
			.iovcnt = q->run_iov,
			.dsync = first->dsync,
			.opaque = m,
		};
		for (unsigned int i = 0; i < q->run_len; i++) {
			const struct blk_io_op *op = &q->run[i]->ops[0];

			memcpy(&m->iov[iov], op->iov, op->iovcnt * sizeof(*op->iov));
			iov += op->iovcnt;
			m->reqs[i] = q->run[i];
			q->run[i]->pending = 1;
		}
		m->nr = q->run_len;
		if (!blk_io_queue(&q->t->io, &m->op)) {
			q->merge_free = m->next_free;
			q->merged += q->run_len;
			q->merged_ops++;
			q->run_len = 0;
			return;
		}
	}
	for (unsigned int i = 0; i < q->run_len; i++)
		req_queue(q, q->run[i], 1);
	q->run_len = 0;
}

/* A request with one read or write: joins the run if it continues it. */
static void run_add(struct vblk_queue *q, struct vblk_req *req)
{
	const struct blk_io_op *op = &req->ops[0];

	if (q->run_len) {
		const struct blk_io_op *last = &q->run[q->run_len - 1]->ops[0];

		if (last->kind != op->kind || last->dsync != op->dsync ||
		    last->offset + last->len != op->offset || q->run_len == MERGE_REQS ||
		    q->run_iov + op->iovcnt > MERGE_IOV || q->run_bytes + op->len > MERGE_BYTES)
			run_flush(q);
	}
	if (!q->run_len)
		q->run_iov = 0, q->run_bytes = 0;
	q->run[q->run_len++] = req;
	q->run_iov += op->iovcnt;
	q->run_bytes += op->len;
}

static void req_start(struct vblk_queue *q, struct vblk_req *req)
{
	struct vblk_req_info info;
	unsigned int n;

	if (vblk_parse(&req->elem, &info)) {
		q->vq.why = "a request without room for its header or status";
		req->next_free = q->free;
		q->free = req;
		queue_broken(q);
		return;
	}
	if (req->elem.truncated)
		info.type = UINT32_MAX;		/* more segments than seg_max + 2 */
	req->status = info.status;
	n = vblk_plan(&q->blk->disk, &info, req->ops, &req->result, &req->used);
	if (n == 1 && (req->ops[0].kind == BLK_IO_READ || req->ops[0].kind == BLK_IO_WRITE) &&
	    req->ops[0].iovcnt <= MERGE_IOV) {
		run_add(q, req);
		return;
	}
	/* Anything else goes in the order it came. */
	if (q->run_len)
		run_flush(q);
	req_queue(q, req, n);
}

static void queue_drain(struct vblk_queue *q)
{
	do {
		for (;;) {
			struct vblk_req *req = q->free;
			int ret;

			if (!req) {
				/* More requests than slots (a driver reusing
				 * heads): take the rest as slots free up. */
				q->starved = true;
				goto flush;
			}
			ret = vq_pop(&q->vq, &req->elem);
			if (ret <= 0) {
				if (ret < 0)
					queue_broken(q);
				break;
			}
			q->free = req->next_free;
			q->requests++;
			req_start(q, req);
		}
		q->starved = false;
	} while (!q->vq.broken && vq_enable_notify(&q->vq));
flush:
	if (q->run_len)
		run_flush(q);
}

/* One wake-up's work for one queue: new requests, then one interrupt for
 * everything completed since the last. */
static void queue_serve(struct vblk_queue *q)
{
	if (q->kicked && !q->t->stopping) {
		/* The eventfd is never read: the multishot poll reports every
		 * signal (a wake-up each), whatever the counter says, so a
		 * kick after this drain wakes the thread again. */
		q->kicked = false;
		q->kicks++;
		queue_drain(q);
	} else if (q->starved && q->free && !q->t->stopping) {
		queue_drain(q);
	}
	if (q->need_notify) {
		q->need_notify = false;
		if (vq_should_notify(&q->vq)) {
			q->interrupts++;
			virtio_pci_notify_queue(&q->blk->vp, q->index);
		}
	}
}

static void on_done(void *arg, struct blk_io_op *op)
{
	const struct vblk_owner *own = op->opaque;
	struct vblk_queue *q = own->q;
	struct vblk_req *req;

	if (own->merge) {
		struct vblk_merge *m = op->opaque;

		/* Every request of a merged operation shares its result, as
		 * one by one they would have (QEMU's multireq does the same). */
		for (unsigned int i = 0; i < m->nr; i++) {
			req = m->reqs[i];
			if (op->res)
				req->result = VIRTIO_BLK_S_IOERR;
			if (--req->pending == 0)
				req_finish(q, req);
		}
		if (op->res)
			pr_warn_once("%s: I/O error at offset %llu: %s (reported to the guest as IOERR)",
				     q->blk->name, (unsigned long long)op->offset, strerror(-op->res));
		m->next_free = q->merge_free;
		q->merge_free = m;
		return;
	}
	req = op->opaque;
	if (op->res) {
		/* Every failed read, write, flush or discard reaches the
		 * guest as IOERR; none is dropped or retried in secret. */
		pr_warn_once("%s: I/O error at offset %llu: %s (reported to the guest as IOERR)",
			     q->blk->name, (unsigned long long)op->offset, strerror(-op->res));
		req->result = VIRTIO_BLK_S_IOERR;
	}
	if (--req->pending == 0)
		req_finish(q, req);
}

static void on_event(void *arg, uint64_t tag)
{
	struct vblk_iothread *t = arg;
	struct vblk *b = t->blk;
	uint64_t cnt;

	if (tag >= TAG_KICK0 && tag - TAG_KICK0 < b->nr_queues)
		b->queues[tag - TAG_KICK0].kicked = true;
	/* Only a stop this activation asked for: the count says so (the
	 * ring outlives threads, a stale report may still be queued). */
	else if (tag == TAG_STOP && read(t->stop_fd, &cnt, sizeof(cnt)) == sizeof(cnt)) {
		t->stopping = true;
		t->inflight_at_stop = t->io.inflight;
	}
}

static void *iothread_main(void *arg)
{
	struct vblk_iothread *t = arg;
	struct vblk *b = t->blk;
	int ret;

	/* Before its filter, under its creator's (which allows just this). */
	if (vmm_thread_no_wakeup_preemption())
		pr_debug("%s: I/O thread %u: SCHED_BATCH refused; its wake-ups may preempt vCPUs",
			 b->name, t->index);
	vmm_thread_enter(VMM_THREAD_IO);
	for (;;) {
		t->wakeups++;
		for_each_queue_of(b, t, i)
			if (b->queues[i].active)
				queue_serve(&b->queues[i]);
		if (t->stopping && !t->io.inflight)
			break;
		ret = blk_io_run(&t->io, 1, on_done, on_event, t);
		if (ret < 0) {
			pr_err("%s: I/O thread %u: io_uring: %s; its queues stop", b->name, t->index,
			       strerror(-ret));
			for_each_queue_of(b, t, i) {
				b->queues[i].vq.why = "the host's io_uring failed";
				queue_broken(&b->queues[i]);
			}
			break;
		}
	}
	return NULL;
}

/* ---- virtio device hooks (vCPU thread, transport lock held) ------------- */

static void iothread_stop(struct vblk_iothread *t)
{
	uint64_t one = 1, cnt;

	if (!t->running)
		return;
	if (write(t->stop_fd, &one, sizeof(one)) < 0)
		pr_warn("%s: stopping I/O thread %u: %s", t->blk->name, t->index, strerror(errno));
	pthread_join(t->thread, NULL);
	t->running = false;
	/* The thread ends only once its I/O completed: none may be left. */
	pr_debug("%s: I/O thread %u: stop with %u I/O(s) in flight; waited for them: %u left",
		 t->blk->name, t->index, t->inflight_at_stop, t->io.inflight);
	t->inflight_at_stop = 0;
	/* A thread that had already ended (its ring failed) never took the
	 * request: it must not stop the next activation's thread. */
	while (read(t->stop_fd, &cnt, sizeof(cnt)) > 0)
		;
}

static void vblk_reset(void *opaque)
{
	struct vblk *b = opaque;

	for (unsigned int i = 0; i < b->nr_iothreads; i++)
		iothread_stop(&b->iothreads[i]);
	if (log_threshold >= LOG_DEBUG) {
		for (unsigned int i = 0; i < b->nr_queues; i++) {
			char ring[160];

			if (!b->queues[i].active)
				continue;
			vq_describe(&b->queues[i].vq, ring, sizeof(ring));
			pr_debug("%s: queue %u at reset: %s", b->name, i, ring);
		}
	}
	for (unsigned int i = 0; i < b->nr_queues; i++)
		b->queues[i].active = false;
	__atomic_store_n(&b->broken_logged, 0, __ATOMIC_RELAXED);
}

/* The queue's rings and request slots, before its thread starts. */
static int queue_prepare(struct vblk *b, struct vblk_queue *q, const struct virtio_pci_queue *pq)
{
	uint64_t f = virtio_pci_features(&b->vp);
	int ret;

	if (pq->size > pq->max_size)
		return -EINVAL;
	ret = vq_init(&q->vq, b->mem, pq->size, pq->desc, pq->driver, pq->device,
		      f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX), f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (ret) {
		pr_warn("%s: queue %u: the driver's rings are unusable (size %u, %s); the device needs a reset",
			b->name, q->index, pq->size,
			ret == -EFAULT ? "outside guest RAM" : "bad size or alignment");
		return ret;
	}
	q->free = NULL;
	for (unsigned int i = VBLK_QUEUE_SIZE; i--;) {
		q->reqs[i].own.q = q;
		q->reqs[i].elem.iov = q->reqs[i].iov;
		q->reqs[i].elem.cap = VBLK_MAX_IOV;
		q->reqs[i].next_free = q->free;
		q->free = &q->reqs[i];
	}
	q->merge_free = NULL;
	for (unsigned int i = MERGE_SLOTS; i--;) {
		q->merges[i].own = (struct vblk_owner){ .q = q, .merge = true };
		q->merges[i].next_free = q->merge_free;
		q->merge_free = &q->merges[i];
	}
	q->run_len = 0;
	/* Buffers made available before DRIVER_OK (§3.1.1) are served at
	 * the thread's first wake-up. */
	q->kicked = true;
	q->starved = q->need_notify = false;
	q->active = true;
	return 0;
}

static int vblk_activate(void *opaque)
{
	struct vblk *b = opaque;
	int ret = 0;

	b->disk.features = virtio_pci_features(&b->vp);
	for (unsigned int i = 0; i < b->nr_queues && !ret; i++) {
		const struct virtio_pci_queue *pq = virtio_pci_queue(&b->vp, i);

		if (pq->enabled)
			ret = queue_prepare(b, &b->queues[i], pq);
	}
	for (unsigned int i = 0; i < b->nr_iothreads && !ret; i++) {
		struct vblk_iothread *t = &b->iothreads[i];
		bool serves = false;

		for_each_queue_of(b, t, j)
			serves |= b->queues[j].active;
		if (!serves)
			continue;
		t->stopping = false;
		ret = vmm_thread_start_worker(&t->thread, iothread_main, t);
		/* No pthread_setname_np: the thread starts under seccomp,
		 * which allows neither prctl nor opening /proc. */
		t->running = !ret;
	}
	if (ret)
		vblk_reset(b);
	return ret;
}

static int vblk_set_features(void *opaque, uint64_t features)
{
	return 0;	/* every subset of what we offer works */
}

static void vblk_config_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct vblk *b = opaque;

	if (off < sizeof(b->cfg) && len <= sizeof(b->cfg) - off)
		memcpy(data, (uint8_t *)&b->cfg + off, len);
}

static const struct virtio_dev_ops vblk_dev_ops = {
	.config_read = vblk_config_read,
	.set_features = vblk_set_features,
	.activate = vblk_activate,
	.reset = vblk_reset,
};

/* ---- creation ------------------------------------------------------------ */

static void fill_config(struct vblk *b)
{
	struct virtio_blk_config *c = &b->cfg;
	uint32_t sectors_per_block = b->file.logical_block / VIRTIO_BLK_SECTOR;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->disk.capacity);
	c->seg_max = htole32(VBLK_SEG_MAX);
	c->blk_size = htole32(b->file.logical_block);
	c->num_queues = htole16((uint16_t)b->nr_queues);
	c->max_discard_sectors = htole32(VBLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(VBLK_MAX_DWZ_SEG);
	c->discard_sector_alignment = htole32(sectors_per_block);
	c->max_write_zeroes_sectors = htole32(VBLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(VBLK_MAX_DWZ_SEG);
	c->write_zeroes_may_unmap = 1;
}

/* Guest RAM in chunks of at most 1 GiB, io_uring's limit per buffer. */
static int ram_buffers(struct vblk *b)
{
	uint64_t size = b->mem->ram_size, chunk = 1ULL << 30;

	b->nr_bufs = (unsigned int)((size + chunk - 1) / chunk);
	b->bufs = calloc(b->nr_bufs, sizeof(*b->bufs));
	if (!b->bufs)
		return -ENOMEM;
	for (unsigned int i = 0; i < b->nr_bufs; i++) {
		uint64_t off = (uint64_t)i * chunk;

		b->bufs[i].iov_base = b->mem->base + off;
		b->bufs[i].iov_len = size - off < chunk ? size - off : chunk;
	}
	return 0;
}

/*
 * A thread's io_uring lives as long as the device, threads come and go
 * with activations: created here, during set-up, it can pin guest RAM as
 * fixed buffers while minivmm still holds CAP_IPC_LOCK (later, under the
 * memlock limit, it could not), and no thread ever mallocs or sets up a
 * ring under seccomp. Its polls (each queue's kick, the stop) are armed by
 * the first thread's first io_uring_enter; when a thread exits the kernel
 * cancels them, and the next thread re-arms them (blk_io_run sees no
 * F_MORE).
 */
static int iothread_io_setup(struct vblk *b, struct vblk_iothread *t)
{
	unsigned int nq = 0, entries;
	int ret;

	for_each_queue_of(b, t, i)
		nq++;
	entries = 2 * VBLK_QUEUE_SIZE * nq < RING_MAX ? 2 * VBLK_QUEUE_SIZE * nq : RING_MAX;
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stop_fd < 0)
		return -errno;
	ret = blk_io_init(&t->io, &b->file, entries, b->bufs, b->nr_bufs);
	if (ret)
		goto close_stop;
	ret = blk_io_watch(&t->io, t->stop_fd, TAG_STOP);
	for_each_queue_of(b, t, i)
		if (!ret)
			ret = blk_io_watch(&t->io, b->queues[i].kick_fd, TAG_KICK0 + i);
	if (!ret)
		ret = blk_io_enable(&t->io);
	if (ret)
		goto exit_io;
	t->io_up = true;
	return 0;

exit_io:
	blk_io_exit(&t->io);
close_stop:
	close(t->stop_fd);
	t->stop_fd = -1;
	return ret;
}

static void iothread_io_teardown(struct vblk_iothread *t)
{
	if (t->io_up)
		blk_io_exit(&t->io);
	t->io_up = false;
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	t->stop_fd = -1;
}

/* Reset through the root (PCI RST# resets the transport, which stops
 * the queues): only its destroy is here. */
static void vblk_dev_destroy(struct device *dev)
{
	vblk_destroy(container_of(dev, struct vblk, dev));
}

static const struct device_ops vblk_device_ops = {
	.destroy = vblk_dev_destroy,
};

static void free_queues(struct vblk *b)
{
	for (unsigned int i = 0; b->queues && i < b->nr_queues; i++) {
		free(b->queues[i].reqs);
		free(b->queues[i].merges);
	}
	free(b->queues);
	free(b->iothreads);
}

struct vblk *vblk_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 const struct vblk_params *p)
{
	uint64_t features = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
			    VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	struct virtio_pci_params vpp;
	struct vblk *b;
	int ret;

	if (!p->queues || p->queues > VBLK_MAX_QUEUES || p->iothreads > p->queues) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->mem = mem;
	snprintf(b->name, sizeof(b->name), "%s", p->name ? p->name : "virtio-blk");
	if (p->serial)
		memcpy(b->serial, p->serial, strnlen(p->serial, VIRTIO_BLK_ID_BYTES));
	b->nr_queues = p->queues;
	b->nr_iothreads = p->iothreads ? p->iothreads : 1;
	ret = blk_file_open(&b->file, p->path, p->readonly, p->direct);
	if (ret)
		goto free_b;
	b->disk = (struct vblk_disk){
		.capacity = b->file.size / VIRTIO_BLK_SECTOR,
		.readonly = p->readonly,
		.serial = b->serial,
	};
	if (p->readonly)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	fill_config(b);
	if (p->register_ram && mem->base && ram_buffers(b))
		b->nr_bufs = 0;
	b->queues = calloc(b->nr_queues, sizeof(*b->queues));
	b->iothreads = calloc(b->nr_iothreads, sizeof(*b->iothreads));
	if (!b->queues || !b->iothreads) {
		ret = -ENOMEM;
		goto free_queues;
	}
	for (unsigned int i = 0; i < b->nr_iothreads; i++) {
		b->iothreads[i].blk = b;
		b->iothreads[i].index = i;
		b->iothreads[i].stop_fd = -1;
	}
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		struct vblk_queue *q = &b->queues[i];

		q->blk = b;
		q->index = i;
		q->t = &b->iothreads[i % b->nr_iothreads];
		q->reqs = calloc(VBLK_QUEUE_SIZE, sizeof(*q->reqs));
		q->merges = calloc(MERGE_SLOTS, sizeof(*q->merges));
		if (!q->reqs || !q->merges) {
			ret = -ENOMEM;
			goto free_queues;
		}
	}
	vpp = (struct virtio_pci_params){
		.name = b->name,
		.device_id = VIRTIO_ID_BLOCK,
		.class_code = PCI_CLASS_STORAGE_SCSI,
		.features = features,
		.nr_queues = b->nr_queues,
		.queue_size = VBLK_QUEUE_SIZE,
		.config_size = sizeof(b->cfg),
		.dev_ops = &vblk_dev_ops,
		.opaque = b,
	};
	ret = virtio_pci_init(&b->vp, ops, &vpp);
	if (ret)
		goto free_queues;
	for (unsigned int i = 0; i < b->nr_queues; i++)
		b->queues[i].kick_fd = virtio_pci_queue(&b->vp, i)->kick_fd;
	for (unsigned int i = 0; i < b->nr_iothreads; i++) {
		ret = iothread_io_setup(b, &b->iothreads[i]);
		if (ret)
			goto teardown_io;
	}
	device_register(ops, &b->dev, b->name, &vblk_device_ops);
	return b;

teardown_io:
	virtio_pci_exit(&b->vp);
	for (unsigned int i = 0; i < b->nr_iothreads; i++)
		iothread_io_teardown(&b->iothreads[i]);
free_queues:
	free_queues(b);
	free(b->bufs);
	blk_file_close(&b->file);
free_b:
	free(b);
	errno = -ret;
	return NULL;
}

struct pci_dev *vblk_pci(struct vblk *b)
{
	return &b->vp.pci;
}

void vblk_destroy(struct vblk *b)
{
	uint64_t requests = 0, kicks = 0, irqs = 0, wakeups = 0, fixed = 0, unaligned = 0;
	uint64_t merged = 0, mops = 0;
	int ret;

	if (!b)
		return;
	device_unregister(&b->dev);
	/* Resets the device: every I/O thread finishes its in-flight
	 * requests and exits before this returns. */
	virtio_pci_exit(&b->vp);
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		requests += b->queues[i].requests;
		kicks += b->queues[i].kicks;
		irqs += b->queues[i].interrupts;
		merged += b->queues[i].merged;
		mops += b->queues[i].merged_ops;
	}
	for (unsigned int i = 0; i < b->nr_iothreads; i++) {
		wakeups += b->iothreads[i].wakeups;
		fixed += b->iothreads[i].io.fixed;
		unaligned += b->iothreads[i].io.unaligned;
	}
	/* The slow-path count says whether notifications stayed in KVM. */
	pr_debug("%s: %llu requests, %llu kicks served, %llu I/O-thread wake-ups (%u thread(s)), "
		 "%llu interrupts, %llu notifications through MMIO exits",
		 b->name, (unsigned long long)requests, (unsigned long long)kicks,
		 (unsigned long long)wakeups, b->nr_iothreads, (unsigned long long)irqs,
		 (unsigned long long)b->vp.slow_notifies);
	pr_debug("%s: %llu reads/writes on fixed buffers, %llu unaligned for O_DIRECT (done buffered); "
		 "%llu requests merged into %llu reads/writes",
		 b->name, (unsigned long long)fixed, (unsigned long long)unaligned,
		 (unsigned long long)merged, (unsigned long long)mops);
	ret = blk_file_flush(&b->file);
	if (ret)
		pr_err("%s: flushing the image at exit: %s", b->name, strerror(-ret));
	for (unsigned int i = 0; i < b->nr_iothreads; i++)
		iothread_io_teardown(&b->iothreads[i]);
	free_queues(b);
	free(b->bufs);
	blk_file_close(&b->file);
	free(b);
}
