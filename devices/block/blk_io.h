/* SPDX-License-Identifier: MIT */
/*
 * The block I/O engine under the disks (virtio-blk; AHCI): a disk image (file or block
 * device) and io_uring rings to drive it. One struct blk_io is one ring,
 * used by exactly one thread (the queue's I/O thread); the image is
 * shared by all of them.
 *
 * Per operation the engine takes care of what a caller should not have
 * to: short transfers are resubmitted for the rest, an O_DIRECT request
 * the kernel refuses for its alignment (EINVAL) is redone through a
 * buffered descriptor of the same image, write-zeroes falls back from
 * FALLOC_FL_PUNCH_HOLE to FALLOC_FL_ZERO_RANGE to writing zeroes, and a
 * discard the file system cannot do succeeds as the hint it is. Errors
 * reach the caller in op->res and are never dropped.
 */
#ifndef MINIVMM_BLK_IO_H
#define MINIVMM_BLK_IO_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct blk_file {
	int fd;			/* the image, O_DIRECT when direct */
	int fd_buffered;	/* a buffered fd of the same image (== fd unless direct) */
	uint64_t size;		/* bytes */
	bool readonly, direct, blockdev;
	unsigned int logical_block;	/* 512, or a block device's sector size */
};

/*
 * Open an image. Errors are logged as one line naming the path and the
 * fix: -ENOENT (missing), -EACCES/-EROFS (not readable, or not writable
 * without readonly=on), -EINVAL (O_DIRECT unsupported there, an empty or
 * unusable file).
 */
int blk_file_open(struct blk_file *f, const char *path, bool readonly, bool direct);
/* The same, the messages naming option opt ("--disk", "--cdrom"); a
 * missing file gets the truncate hint only for --disk. */
int blk_file_open_as(struct blk_file *f, const char *opt, const char *path, bool readonly,
		     bool direct);
void blk_file_close(struct blk_file *f);
/* fdatasync, outside any ring (the exit path). */
int blk_file_flush(const struct blk_file *f);

enum blk_io_kind {
	BLK_IO_READ,
	BLK_IO_WRITE,
	BLK_IO_FLUSH,			/* fdatasync: durable on completion */
	BLK_IO_DISCARD,
	BLK_IO_WRITE_ZEROES,
	BLK_IO_WRITE_ZEROES_UNMAP,	/* zeroes, deallocating if it can */
};

struct blk_io_op {
	/* set by the caller */
	enum blk_io_kind kind;
	uint64_t offset, len;		/* bytes; for read/write len = sum of iov */
	struct iovec *iov;		/* read/write; the engine may advance it */
	unsigned int iovcnt;
	bool dsync;			/* writes: durable on completion (RWF_DSYNC) */
	void *opaque;
	/* result: 0 or -errno, valid in the completion callback */
	int res;
	/* engine state */
	uint64_t done;
	unsigned int stage;
	bool buffered;
	struct iovec one;
};

#define BLK_IO_MAX_WATCH	68	/* a thread serving a disk's 64 queues, its stop */

struct blk_io {
	struct io_uring ring;
	struct { int fd; uint64_t tag; } watch[BLK_IO_MAX_WATCH];
	unsigned int nr_watch;
	const struct blk_file *file;
	unsigned int inflight;		/* operations submitted, not completed */
	bool fixed_files;
	bool enabled;			/* restricted and running (blk_io_enable) */
	const struct iovec *bufs;	/* registered buffers (the caller's array) */
	unsigned int nr_bufs;
	uint64_t submitted, completed, resubmitted;	/* statistics */
	uint64_t fixed, unaligned;	/* READ/WRITE_FIXED sent; O_DIRECT redone buffered */
};

/* An event: a multishot poll on an fd (eventfds that wake the thread). */
typedef void (*blk_io_event_fn)(void *arg, uint64_t tag);
typedef void (*blk_io_done_fn)(void *arg, struct blk_io_op *op);

/*
 * A ring for up to `entries` operations in flight (a power of two). bufs
 * (may be NULL) are host memory ranges to register as fixed buffers, at
 * most 1 GiB each: single-segment reads and writes inside one of them then
 * skip per-request page pinning. The array must outlive the ring.
 */
int blk_io_init(struct blk_io *io, const struct blk_file *f, unsigned int entries,
		const struct iovec *bufs, unsigned int nr_bufs);
void blk_io_exit(struct blk_io *io);

/* Queue an operation (sent on the next blk_io_wait). -EBUSY if the
 * submission ring is full even after submitting what was queued. */
int blk_io_queue(struct blk_io *io, struct blk_io_op *op);
/* Watch fd for POLLIN until blk_io_exit; each readiness reports tag.
 * Before blk_io_enable only (fd joins the ring's registered files). */
int blk_io_watch(struct blk_io *io, int fd, uint64_t tag);
/*
 * Lock the ring down to the opcodes the engine uses on its registered
 * files (IORING_REGISTER_RESTRICTIONS) and start it: after blk_io_watch,
 * before the first blk_io_queue or blk_io_run. 0 or -errno.
 */
int blk_io_enable(struct blk_io *io);

/*
 * Submit what is queued, wait until at least min completions are there
 * (0: do not wait), and report every completion: finished operations to
 * done (with op->res set), events to ev. Returns the number reported or
 * -errno. One system call per round in the common case.
 */
int blk_io_run(struct blk_io *io, unsigned int min, blk_io_done_fn done,
	       blk_io_event_fn ev, void *arg);

#endif
