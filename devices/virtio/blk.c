// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2 §5.2): requests, queues and their I/O threads.
 *
 * A queue's thread owns its virtqueue and its io_uring. It sleeps in one
 * io_uring_enter() that waits for the queue's kick eventfd (the ioeventfd
 * KVM signals on a guest notification), its stop eventfd and I/O
 * completions alike; on a kick it takes every available chain, turns each
 * into io_uring operations and submits them all with the next wait. On
 * completion it writes the status byte, returns the chain and, once per
 * batch and only if the driver wants it (§2.7.10), signals the queue's
 * MSI-X vector. Reads (or writes) of one kick that continue each other on
 * the disk go to io_uring as one operation (a sequential writer's 128 KiB
 * requests as one 1 MiB write): one request on the image's device where
 * there were several.
 *
 * Untrusted input: chains come from vq_pop() with every address already
 * checked against guest RAM; lengths and sectors are checked here before
 * any I/O. A chain without room for the header or the status breaks the
 * ring: the device goes into DEVICE_NEEDS_RESET, says so once, and the
 * queue serves nothing more until the driver resets it.
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

#define TAG_KICK	1
#define TAG_STOP	2
#define PCI_CLASS_STORAGE_SCSI	0x010000	/* what QEMU's virtio-blk-pci reports */
#define MERGE_REQS	32		/* requests per merged read or write */
#define MERGE_IOV	1024		/* IOV_MAX: segments of one merged operation */
#define MERGE_BYTES	(4u << 20)	/* bytes of one merged operation */
#define MERGE_SLOTS	8		/* merged operations in flight per queue */

struct vblk_req {
	struct vblk_queue *q;
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
	struct blk_io_op op;
	struct vblk_merge *next_free;
	unsigned int nr;
	struct vblk_req *reqs[MERGE_REQS];
	struct iovec iov[MERGE_IOV];
};

struct vblk_queue {
	struct vblk *blk;
	unsigned int index;
	pthread_t thread;
	bool running;
	int kick_fd, stop_fd;
	struct vq vq;
	struct blk_io io;
	struct vblk_req *reqs, *free;
	struct vblk_merge *merges, *merge_free;
	/* Requests taken in this drain whose read/write is not queued yet:
	 * each continues the one before it on the disk. */
	struct vblk_req *run[MERGE_REQS];
	unsigned int run_len, run_iov;
	uint64_t run_bytes;
	bool io_up;			/* the ring exists (device lifetime) */
	bool kicked, stopping, starved, need_notify;
	uint64_t requests, kicks, interrupts;	/* since creation */
	uint64_t merged, merged_ops;	/* requests merged, operations they became */
	unsigned int inflight_at_stop;	/* I/O in flight when the stop came */
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
	unsigned int nr_queues;
	struct vblk_queue *queues;
	struct iovec *bufs;
	unsigned int nr_bufs;
	int broken_logged;		/* atomic: one line per device */
};

/* ---- requests (pure, unit-tested) --------------------------------------- */

int vblk_parse(struct vq_elem *e, struct vblk_req_info *r)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} __attribute__((packed)) hdr;
	struct iovec *in = e->iov + e->nr_out;
	unsigned int in_cnt = e->nr_in, out_cnt = e->nr_out;

	/* §5.2.6: a 16-byte device-readable header first, a device-writable
	 * status byte last; §2.6.4: in whatever descriptors the driver chose. */
	if (e->out_len < sizeof(hdr) || !e->in_len || !e->last_in)
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	r->status = e->last_in;
	if (iov_to_buf(e->iov, e->nr_out, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		/* Header bytes past the iov array (a truncated chain): the
		 * request fails, but it has a status byte to say so. */
		r->type = UINT32_MAX;
		return 0;
	}
	r->type = le32toh(hdr.type);
	r->sector = le64toh(hdr.sector);
	if (e->in_len > 1) {
		/* Data the device writes: everything before the status. */
		r->data_in = true;
		r->data_len = iov_trim(in, &in_cnt, 0, 1);
		r->data = in;
		r->data_cnt = in_cnt;
		/* The status byte must stay reachable: it is r->status. */
	} else {
		r->data_len = iov_trim(e->iov, &out_cnt, sizeof(hdr), 0);
		r->data = e->iov;
		r->data_cnt = out_cnt;
	}
	if (e->in_len > 1 && e->out_len > sizeof(hdr)) {
		/* Both directions carry data: no request type does that. */
		r->type = UINT32_MAX - 1;
	}
	return 0;
}

static bool range_ok(const struct vblk_disk *d, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes / VIRTIO_BLK_SECTOR;

	return bytes % VIRTIO_BLK_SECTOR == 0 && sector <= d->capacity &&
	       n <= d->capacity - sector;
}

static unsigned int plan_dwz(const struct vblk_disk *d, const struct vblk_req_info *r,
			     struct blk_io_op *ops, uint8_t *status)
{
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	uint64_t feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	unsigned int n = (unsigned int)(r->data_len / 16);

	if (!(d->features & VIRTIO_BIT(feature)) || r->data_in || !r->data_len ||
	    r->data_len % 16 || r->data_len / 16 > VBLK_MAX_DWZ_SEG) {
		*status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (d->readonly) {
		*status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct {
			uint64_t sector;
			uint32_t num_sectors, flags;
		} __attribute__((packed)) seg;
		uint32_t flags;

		iov_to_buf(r->data, r->data_cnt, 16 * (size_t)i, &seg, sizeof(seg));
		flags = le32toh(seg.flags);
		/* §5.2.6.2: unmap on a discard, or any reserved flag, is
		 * unsupported; a range past the limits or the disk is an error. */
		if ((discard && flags) || (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
			*status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (le32toh(seg.num_sectors) > VBLK_MAX_DWZ_SECTORS ||
		    !range_ok(d, le64toh(seg.sector),
			      (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR)) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		ops[i] = (struct blk_io_op){
			.kind = discard ? BLK_IO_DISCARD :
				flags ? BLK_IO_WRITE_ZEROES_UNMAP : BLK_IO_WRITE_ZEROES,
			.offset = le64toh(seg.sector) * VIRTIO_BLK_SECTOR,
			.len = (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR,
			.dsync = !(d->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)),
		};
	}
	return n;
}

unsigned int vblk_plan(const struct vblk_disk *d, const struct vblk_req_info *r,
		       struct blk_io_op *ops, uint8_t *status, uint32_t *used)
{
	/* Without VIRTIO_BLK_F_FLUSH the driver expects write-through. */
	bool dsync = !(d->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	size_t n;

	*status = VIRTIO_BLK_S_OK;
	*used = 1;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->data_in != (r->type == VIRTIO_BLK_T_IN) && r->data_len) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		if (r->type == VIRTIO_BLK_T_OUT && d->readonly) {
			*status = VIRTIO_BLK_S_IOERR;	/* §5.2.6.2 with VIRTIO_BLK_F_RO */
			return 0;
		}
		if (!range_ok(d, r->sector, r->data_len) || r->sector > UINT64_MAX / VIRTIO_BLK_SECTOR) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		if (!r->data_len)
			return 0;		/* nothing to move: done, OK */
		if (r->type == VIRTIO_BLK_T_IN)
			*used = (uint32_t)(r->data_len + 1);
		ops[0] = (struct blk_io_op){
			.kind = r->type == VIRTIO_BLK_T_IN ? BLK_IO_READ : BLK_IO_WRITE,
			.offset = r->sector * VIRTIO_BLK_SECTOR,
			.len = r->data_len,
			.iov = r->data,
			.iovcnt = r->data_cnt,
			.dsync = dsync,
		};
		return 1;
	case VIRTIO_BLK_T_FLUSH:
		if (d->readonly)
			return 0;		/* nothing can be dirty */
		ops[0] = (struct blk_io_op){ .kind = BLK_IO_FLUSH };
		return 1;
	case VIRTIO_BLK_T_GET_ID:
		/* §5.2.6: up to 20 bytes, not NUL-terminated if all used. */
		if (!r->data_in) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		n = iov_from_buf(r->data, r->data_cnt, 0, d->serial,
				 r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES);
		*used = (uint32_t)n + 1;
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return plan_dwz(d, r, ops, status);
	case UINT32_MAX:			/* a chain too long to take apart */
		*status = VIRTIO_BLK_S_IOERR;
		return 0;
	default:
		*status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
}

/* ---- the queue thread ---------------------------------------------------- */

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
	if (!q->vq.broken && !q->stopping) {
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
		if (blk_io_queue(&q->io, &req->ops[i])) {
			/* Cannot happen: the ring holds two operations per
			 * request slot. Fail the request rather than lose it. */
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
		if (!blk_io_queue(&q->io, &m->op)) {
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

static void on_done(void *arg, struct blk_io_op *op)
{
	struct vblk_queue *q = arg;
	struct vblk_req *req = op->opaque;

	if (op->opaque >= (void *)q->merges && op->opaque < (void *)(q->merges + MERGE_SLOTS)) {
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
	struct vblk_queue *q = arg;
	uint64_t cnt;

	if (tag == TAG_KICK)
		q->kicked = true;
	/* Only a stop this activation asked for: the count says so (the
	 * ring outlives threads, a stale report may still be queued). */
	else if (tag == TAG_STOP && read(q->stop_fd, &cnt, sizeof(cnt)) == sizeof(cnt)) {
		q->stopping = true;
		q->inflight_at_stop = q->io.inflight;
	}
}

static void *queue_thread(void *arg)
{
	struct vblk_queue *q = arg;
	struct vblk *b = q->blk;
	int ret;

	vmm_thread_enter(VMM_THREAD_IO);
	/* Buffers made available before DRIVER_OK (§3.1.1) are served now. */
	q->kicked = true;
	for (;;) {
		if (q->kicked && !q->stopping) {
			/* The eventfd is never read: the multishot poll reports
			 * every signal (a wake-up each), whatever the counter
			 * says, so a kick after this drain wakes us again. */
			q->kicked = false;
			q->kicks++;
			queue_drain(q);
		} else if (q->starved && q->free && !q->stopping) {
			queue_drain(q);
		}
		if (q->need_notify) {
			q->need_notify = false;
			if (vq_should_notify(&q->vq)) {
				q->interrupts++;
				virtio_pci_notify_queue(&b->vp, q->index);
			}
		}
		if (q->stopping && !q->io.inflight)
			break;
		ret = blk_io_run(&q->io, 1, on_done, on_event, q);
		if (ret < 0) {
			pr_err("%s: queue %u: io_uring: %s; the queue stops", b->name, q->index,
			       strerror(-ret));
			q->vq.why = "the host's io_uring failed";
			queue_broken(q);
			break;
		}
	}
	return NULL;
}

/* ---- virtio device hooks (vCPU thread, transport lock held) ------------- */

static void queue_stop(struct vblk_queue *q)
{
	uint64_t one = 1, cnt;

	if (!q->running)
		return;
	if (write(q->stop_fd, &one, sizeof(one)) < 0)
		pr_warn("%s: stopping queue %u: %s", q->blk->name, q->index, strerror(errno));
	pthread_join(q->thread, NULL);
	q->running = false;
	/* The thread ends only once its I/O completed: none may be left. */
	if (log_threshold >= LOG_DEBUG) {
		char ring[160];

		vq_describe(&q->vq, ring, sizeof(ring));
		pr_debug("%s: queue %u: stop with %u I/O(s) in flight; waited for them: %u left; "
			 "ring: %s", q->blk->name, q->index, q->inflight_at_stop, q->io.inflight, ring);
	}
	q->inflight_at_stop = 0;
	/* A thread that had already ended (its ring failed) never took the
	 * request: it must not stop the next activation's thread. */
	while (read(q->stop_fd, &cnt, sizeof(cnt)) > 0)
		;
}

static void vblk_reset(void *opaque)
{
	struct vblk *b = opaque;

	for (unsigned int i = 0; i < b->nr_queues; i++)
		queue_stop(&b->queues[i]);
	__atomic_store_n(&b->broken_logged, 0, __ATOMIC_RELAXED);
}

static int queue_start(struct vblk *b, struct vblk_queue *q, const struct virtio_pci_queue *pq)
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
		q->reqs[i].q = q;
		q->reqs[i].elem.iov = q->reqs[i].iov;
		q->reqs[i].elem.cap = VBLK_MAX_IOV;
		q->reqs[i].next_free = q->free;
		q->free = &q->reqs[i];
	}
	q->merge_free = NULL;
	for (unsigned int i = MERGE_SLOTS; i--;) {
		q->merges[i].next_free = q->merge_free;
		q->merge_free = &q->merges[i];
	}
	q->run_len = 0;
	q->kicked = q->stopping = q->starved = q->need_notify = false;
	ret = vmm_thread_start_worker(&q->thread, queue_thread, q);
	if (ret)
		return ret;
	/* No pthread_setname_np: the thread starts under seccomp, which
	 * allows neither prctl nor opening /proc. */
	q->running = true;
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
			ret = queue_start(b, &b->queues[i], pq);
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
 * A queue's io_uring lives as long as the device, threads come and go with
 * activations: created here, during set-up, it can pin guest RAM as fixed
 * buffers while minivmm still holds CAP_IPC_LOCK (later, under the
 * memlock limit, it could not), and no thread ever mallocs or sets up a
 * ring under seccomp. Its two polls (kick, stop) are armed by the first
 * thread's first io_uring_enter; when a thread exits the kernel cancels
 * them, and the next thread re-arms them (blk_io_run sees no F_MORE).
 */
static int queue_io_setup(struct vblk *b, struct vblk_queue *q)
{
	int ret;

	q->kick_fd = virtio_pci_queue(&b->vp, q->index)->kick_fd;
	q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->stop_fd < 0)
		return -errno;
	ret = blk_io_init(&q->io, &b->file, 2 * VBLK_QUEUE_SIZE, b->bufs, b->nr_bufs);
	if (ret)
		goto close_stop;
	ret = blk_io_watch(&q->io, q->kick_fd, TAG_KICK);
	if (!ret)
		ret = blk_io_watch(&q->io, q->stop_fd, TAG_STOP);
	if (!ret)
		ret = blk_io_enable(&q->io);
	if (ret)
		goto exit_io;
	q->io_up = true;
	return 0;

exit_io:
	blk_io_exit(&q->io);
close_stop:
	close(q->stop_fd);
	q->stop_fd = -1;
	return ret;
}

static void queue_io_teardown(struct vblk_queue *q)
{
	if (q->io_up)
		blk_io_exit(&q->io);
	q->io_up = false;
	if (q->stop_fd >= 0)
		close(q->stop_fd);
	q->stop_fd = -1;
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

struct vblk *vblk_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 const struct vblk_params *p)
{
	uint64_t features = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
			    VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	struct virtio_pci_params vpp;
	struct vblk *b;
	int ret;

	if (!p->queues || p->queues > VBLK_MAX_QUEUES) {
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
	if (!b->queues) {
		ret = -ENOMEM;
		goto close_file;
	}
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		struct vblk_queue *q = &b->queues[i];

		q->blk = b;
		q->index = i;
		q->stop_fd = -1;
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
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		ret = queue_io_setup(b, &b->queues[i]);
		if (ret)
			goto teardown_io;
	}
	device_register(ops, &b->dev, b->name, &vblk_device_ops);
	return b;

teardown_io:
	virtio_pci_exit(&b->vp);
	for (unsigned int i = 0; i < b->nr_queues; i++)
		queue_io_teardown(&b->queues[i]);
free_queues:
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		free(b->queues[i].reqs);
		free(b->queues[i].merges);
	}
	free(b->queues);
close_file:
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
	uint64_t requests = 0, kicks = 0, irqs = 0, fixed = 0, unaligned = 0, merged = 0, mops = 0;
	int ret;

	if (!b)
		return;
	device_unregister(&b->dev);
	/* Resets the device: every queue thread finishes its in-flight
	 * requests and exits before this returns. */
	virtio_pci_exit(&b->vp);
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		requests += b->queues[i].requests;
		kicks += b->queues[i].kicks;
		irqs += b->queues[i].interrupts;
		fixed += b->queues[i].io.fixed;
		unaligned += b->queues[i].io.unaligned;
		merged += b->queues[i].merged;
		mops += b->queues[i].merged_ops;
	}
	/* The slow-path count says whether notifications stayed in KVM. */
	pr_debug("%s: %llu requests, %llu wake-ups, %llu interrupts, %llu notifications through MMIO exits",
		 b->name, (unsigned long long)requests, (unsigned long long)kicks,
		 (unsigned long long)irqs, (unsigned long long)b->vp.slow_notifies);
	pr_debug("%s: %llu reads/writes on fixed buffers, %llu unaligned for O_DIRECT (done buffered); "
		 "%llu requests merged into %llu reads/writes",
		 b->name, (unsigned long long)fixed, (unsigned long long)unaligned,
		 (unsigned long long)merged, (unsigned long long)mops);
	ret = blk_file_flush(&b->file);
	if (ret)
		pr_err("%s: flushing the image at exit: %s", b->name, strerror(-ret));
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		queue_io_teardown(&b->queues[i]);
		free(b->queues[i].reqs);
		free(b->queues[i].merges);
	}
	free(b->queues);
	free(b->bufs);
	blk_file_close(&b->file);
	free(b);
}
