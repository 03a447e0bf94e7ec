// SPDX-License-Identifier: MIT
/*
 * Split virtqueues, device side (virtio 1.2 §2.7). See virtqueue.h for the
 * rules a hostile ring is held to.
 *
 * Memory ordering (§2.7.13 and §2.7.7.2): the driver writes a ring entry,
 * then avail->idx; we read idx with acquire semantics before the entry.
 * We write a used element, then used->idx with release semantics. Before
 * deciding whether to interrupt (or to sleep) a full fence orders our
 * used->idx (or avail_event) store before the load of the driver's
 * used_event (or avail->idx), the classic lost-wakeup race otherwise.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"

/* Everything the guest can change under us is read through these: once,
 * into a local, so a check and the use that follows see the same value. */
static inline uint16_t ring_load16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline uint16_t ring_acquire16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

/* §2.7.10: the event index trailing each ring (used_event after the avail
 * ring, avail_event after the used ring). */
static inline uint16_t *used_event_slot(const struct vq *vq)
{
	return &vq->avail[2 + vq->size];
}

static inline uint16_t *avail_event_slot(const struct vq *vq)
{
	return (uint16_t *)(vq->used + 4 + 8 * (size_t)vq->size);
}

static void desc_load(struct virtq_desc *d, const struct virtq_desc *table, unsigned int i)
{
	/* memcpy: indirect tables need not be aligned. The barrier stops
	 * the compiler from re-reading guest memory instead of d. */
	memcpy(d, &table[i], sizeof(*d));
	__asm__ volatile("" : : "r"(d) : "memory");
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

int vq_init(struct vq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	    uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	void *d, *a, *u;

	memset(vq, 0, sizeof(*vq));
	/* §2.7: a split queue's size is a power of two, at most 32768;
	 * §2.7 table "Virtqueue Part Alignment": 16, 2, 4. */
	if (!size || size & (size - 1) || size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	/* Sizes per §2.7: 16 * size, 6 + 2 * size, 6 + 8 * size (the
	 * trailing event fields are there whether EVENT_IDX is used or not). */
	if (guest_mem_ptr(mem, desc, 16ULL * size, &d) ||
	    guest_mem_ptr(mem, avail, 6 + 2ULL * size, &a) ||
	    guest_mem_ptr(mem, used, 6 + 8ULL * size, &u))
		return -EFAULT;
	vq->mem = mem;
	vq->size = size;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	/* A freshly enabled queue starts at index 0 on both sides (§2.7.6,
	 * §2.7.8): the driver zeroes the rings before enabling them. */
	vq->last_avail = 0;
	vq->used_idx = 0;
	return 0;
}

static int vq_fail(struct vq *vq, const char *why)
{
	vq->broken = true;
	vq->why = why;
	return -EPROTO;
}

static int elem_add(struct vq *vq, struct vq_elem *e, const struct virtq_desc *d)
{
	void *hva = NULL;

	if (d->flags & VIRTQ_DESC_F_WRITE) {
		if (d->len) {
			if (guest_mem_ptr(vq->mem, d->addr, d->len, &hva))
				return vq_fail(vq, "a descriptor points outside guest RAM");
			e->last_in = (uint8_t *)hva + d->len - 1;
		}
		e->in_len += d->len;
	} else {
		/* §2.7.4.2: device-readable parts come first. */
		if (e->nr_in || e->in_len)
			return vq_fail(vq, "a device-readable descriptor follows a device-writable one");
		if (d->len && guest_mem_ptr(vq->mem, d->addr, d->len, &hva))
			return vq_fail(vq, "a descriptor points outside guest RAM");
		e->out_len += d->len;
	}
	if (!d->len)
		return 0;
	if (e->nr_out + e->nr_in == e->cap) {
		e->truncated = true;
		return 0;
	}
	e->iov[e->nr_out + e->nr_in] = (struct iovec){ .iov_base = hva, .iov_len = d->len };
	if (d->flags & VIRTQ_DESC_F_WRITE)
		e->nr_in++;
	else
		e->nr_out++;
	return 0;
}

int vq_pop(struct vq *vq, struct vq_elem *e)
{
	const struct virtq_desc *table = vq->desc;
	unsigned int n = vq->size, i, walked = 0, total = 0;
	bool in_indirect = false;
	uint16_t avail_idx, head;

	if (vq->broken)
		return -EPROTO;
	avail_idx = ring_acquire16(&vq->avail[1]);
	if (avail_idx == vq->last_avail)
		return 0;
	/* §2.7.6: the driver can be at most a whole ring ahead of us. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return vq_fail(vq, "avail->idx ran more than the queue size ahead");
	head = ring_load16(&vq->avail[2 + vq->last_avail % vq->size]);
	if (head >= vq->size)
		return vq_fail(vq, "an avail ring entry names a descriptor past the queue size");

	e->head = head;
	e->nr_out = e->nr_in = 0;
	e->out_len = e->in_len = 0;
	e->truncated = false;
	e->last_in = NULL;
	for (i = head;;) {
		struct virtq_desc d;
		int ret;

		/* A chain visits each entry of its table at most once: one
		 * more step is a loop (§2.7.5.3.1: no longer than the table). */
		if (++walked > n)
			return vq_fail(vq, "a descriptor chain loops or is longer than its table");
		desc_load(&d, table, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			void *t;

			/* §2.7.5.3.1: only with the feature, never nested,
			 * never together with NEXT, a whole number of entries. */
			if (!vq->indirect)
				return vq_fail(vq, "an indirect descriptor without VIRTIO_F_INDIRECT_DESC");
			if (in_indirect)
				return vq_fail(vq, "an indirect descriptor inside an indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return vq_fail(vq, "an indirect descriptor with NEXT set");
			if (!d.len || d.len % sizeof(struct virtq_desc) ||
			    d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_CHAIN)
				return vq_fail(vq, "an indirect table of a bad length");
			if (guest_mem_ptr(vq->mem, d.addr, d.len, &t))
				return vq_fail(vq, "an indirect table outside guest RAM");
			table = t;
			n = d.len / sizeof(struct virtq_desc);
			in_indirect = true;
			walked = 0;
			i = 0;
			continue;
		}
		if (++total > VIRTQ_MAX_CHAIN)
			return vq_fail(vq, "a descriptor chain is longer than 1024 buffers");
		ret = elem_add(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= n)
			return vq_fail(vq, "a descriptor's next is past the end of its table");
		i = d.next;
	}
	vq->last_avail++;
	return 1;
}

void vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
	uint8_t *slot = vq->used + 4 + 8 * (size_t)(vq->used_idx % vq->size);
	uint32_t id = htole32(head), l = htole32(len);

	memcpy(slot, &id, 4);
	memcpy(slot + 4, &l, 4);
	vq->used_idx++;
	__atomic_store_n((uint16_t *)(vq->used + 2), htole16(vq->used_idx), __ATOMIC_RELEASE);
}

bool vq_should_notify(struct vq *vq)
{
	uint16_t old, event;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(ring_load16(&vq->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	/* §2.7.10: interrupt if used_event lies in (old, new], with wrap. */
	event = ring_load16(used_event_slot(vq));
	old = vq->signalled_used;
	vq->signalled_used = vq->used_idx;
	if (!vq->signalled_valid) {
		vq->signalled_valid = true;
		return true;
	}
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

bool vq_enable_notify(struct vq *vq)
{
	if (vq->broken)
		return false;
	if (vq->event_idx)
		__atomic_store_n(avail_event_slot(vq), htole16(vq->last_avail), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ring_load16(&vq->avail[1]) != vq->last_avail;
}

void vq_describe(const struct vq *vq, char *buf, size_t len)
{
	if (!vq->desc) {
		snprintf(buf, len, "not set up");
		return;
	}
	snprintf(buf, len, "avail %u, served %u; used %u, used_event %u, avail_event %u, "
		 "last interrupt at %u%s",
		 ring_load16(&vq->avail[1]), vq->last_avail, vq->used_idx,
		 ring_load16(used_event_slot(vq)), ring_load16(avail_event_slot(vq)),
		 vq->signalled_used, vq->broken ? " (broken)" : "");
}

size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *buf,
		    size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_trim(struct iovec *iov, unsigned int *cnt, size_t front, size_t back)
{
	unsigned int n = *cnt, skip = 0;
	size_t left = 0;

	while (skip < n && front) {
		size_t k = front < iov[skip].iov_len ? front : iov[skip].iov_len;

		iov[skip].iov_base = (uint8_t *)iov[skip].iov_base + k;
		iov[skip].iov_len -= k;
		front -= k;
		if (!iov[skip].iov_len)
			skip++;
		else
			break;
	}
	if (skip)
		memmove(iov, iov + skip, (n - skip) * sizeof(*iov));
	n -= skip;
	while (n && back) {
		size_t k = back < iov[n - 1].iov_len ? back : iov[n - 1].iov_len;

		iov[n - 1].iov_len -= k;
		back -= k;
		if (!iov[n - 1].iov_len)
			n--;
	}
	for (unsigned int i = 0; i < n; i++)
		left += iov[i].iov_len;
	*cnt = n;
	return left;
}
