/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 §2.7), device side. One struct vq belongs
 * to exactly one thread while the queue runs; nothing here locks.
 *
 * Everything in a ring is written by an untrusted guest, concurrently with
 * us: every field is read once into a local and checked before use, every
 * buffer address goes through guest_mem_ptr(), chains are bounded (a loop
 * ends the walk), and an index may wrap but never run ahead by more than
 * the queue size. A ring that breaks a rule makes vq_pop() return
 * -EPROTO: the device then goes into DEVICE_NEEDS_RESET (§2.1.2) instead
 * of guessing, and the queue stays "broken" until reset.
 */
#ifndef MINIVMM_VIRTQUEUE_H
#define MINIVMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/memory.h"

/* §2.7.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
/* §2.7.6 / §2.7.8 flags */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

#define VIRTQ_MAX_SIZE		32768	/* §2.7: Queue Size is at most 32768 */
/*
 * Longest chain we walk, indirect tables included. QEMU and Linux use the
 * same bound (VIRTQUEUE_MAX_SIZE); a legitimate driver never comes close
 * (virtio-blk advertises seg_max far below it).
 */
#define VIRTQ_MAX_CHAIN		1024

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq {
	const struct guest_mem *mem;
	uint16_t size;			/* power of two, <= VIRTQ_MAX_SIZE */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;			/* a rule was broken: serve nothing more */
	/* Host views of the three parts, resolved once by vq_init. */
	struct virtq_desc *desc;
	uint16_t *avail;		/* flags, idx, ring[size], used_event */
	uint8_t *used;			/* flags, idx, ring[size], avail_event */
	uint16_t last_avail;		/* next avail entry we consume */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx when we last interrupted */
	bool signalled_valid;
	const char *why;		/* what broke, for the one log line */
};

/* One popped chain. iov[0..nr_out) are device-readable, then nr_in
 * device-writable ones. out_len/in_len count all bytes, even those of
 * segments beyond the array (truncated). */
struct vq_elem {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;
	bool truncated;			/* more segments than cap */
	uint8_t *last_in;		/* last device-writable byte, or NULL */
	unsigned int cap;		/* entries in iov[] */
	struct iovec *iov;
};

/*
 * Resolve the rings at desc/avail/used (guest physical, §2.7 alignment:
 * 16, 2 and 4) for a queue of size entries. -EINVAL for a size that is
 * not a power of two (or 0, or > 32768) or a misaligned address, -EFAULT
 * for a part outside guest RAM.
 */
int vq_init(struct vq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	    uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/*
 * Take the next available chain: 1 and *e filled, 0 if none is available,
 * -EPROTO if the ring is malformed (vq->why says how; vq->broken is set).
 */
int vq_pop(struct vq *vq, struct vq_elem *e);

/* Return a chain to the driver: len bytes were written into it (§2.7.8). */
void vq_push(struct vq *vq, uint16_t head, uint32_t len);

/*
 * After a batch of vq_push(): must the driver be interrupted (§2.7.7.2,
 * used_event with EVENT_IDX, else the NO_INTERRUPT flag)?
 */
bool vq_should_notify(struct vq *vq);

/*
 * Before going to sleep: ask for a notification when more buffers come
 * (avail_event with EVENT_IDX, §2.7.10). Returns true if buffers arrived
 * meanwhile (the caller must pop again instead of sleeping).
 */
bool vq_enable_notify(struct vq *vq);

/*
 * The ring's indices as they stand, for a log line: what the driver made
 * available against what was served, what was used against what the driver
 * asked to be interrupted at. A queue that stalls shows here which side
 * waits: avail ahead of served is a lost notification to the device, used
 * past used_event with no interrupt since is a lost interrupt to the driver.
 */
void vq_describe(const struct vq *vq, char *buf, size_t len);

/* Bytes of iov[0..cnt) from offset off into buf (at most len): count copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off, const void *buf,
		    size_t len);
/*
 * Drop the first `front` and last `back` bytes of iov[0..*cnt) in place
 * (empty segments disappear). Returns the bytes left; the caller makes
 * sure front + back do not exceed the total.
 */
size_t iov_trim(struct iovec *iov, unsigned int *cnt, size_t front, size_t back);

#endif
