// SPDX-License-Identifier: MIT
/*
 * The io_uring block engine (see blk_io.h). io_uring does the work; this
 * file picks the opcode, keeps an operation going until all of it is done
 * (short transfers, the fallbacks) and reports each one exactly once.
 *
 * Rings are used by one thread at a time: one io_uring_enter submits
 * everything a round produced and waits for the next completion or
 * wake-up.
 *
 * A ring is the one way past seccomp (its SQEs are system calls seccomp
 * never sees), so each is locked down before it runs anything
 * (io_uring_register(2), IORING_REGISTER_RESTRICTIONS): created disabled
 * (IORING_SETUP_R_DISABLED), its files registered (the image's two fds,
 * then the watched eventfds), every SQE required to name a registered
 * file (IOSQE_FIXED_FILE) and to be one of the opcodes prep() and
 * arm_watch() use, no register operation allowed afterwards; then
 * enabled (blk_io_enable). An openat, connect or read of another fd
 * forged on the ring completes with -EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices/block/blk_io.h"
#include "lib/log.h"
#include "lib/thread.h"

#define ZERO_BUF_SIZE	(1u << 20)
#define EVENT_BIT	1ULL		/* user_data: ops are pointers, events odd */
#define TEST_UD		(~0ULL)		/* user_data of the test mode's forged SQE */

/* The registered file table: the image, its buffered twin, the watches. */
#define FILE_DIRECT	0
#define FILE_BUFFERED	1
#define FILE_WATCH0	2
#define NR_FILES	(FILE_WATCH0 + BLK_IO_MAX_WATCH)

/* Every opcode prep() and arm_watch() use, and nothing else. */
static const uint8_t ring_opcodes[] = {
	IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
	IORING_OP_FSYNC, IORING_OP_FALLOCATE, IORING_OP_POLL_ADD,
};

static const uint8_t zero_buf[ZERO_BUF_SIZE] __attribute__((aligned(4096)));

/* ---- the image ----------------------------------------------------------- */

static int open_error(const char *opt, const char *path, bool readonly, bool direct, int err)
{
	switch (err) {
	case ENOENT:
		/* An image to install from cannot be made with truncate. */
		if (!strcmp(opt, "--disk"))
			pr_err("%s %s: no such file (check the path, or create an image: truncate -s 10G %s)",
			       opt, path, path);
		else
			pr_err("%s %s: no such file (check the path)", opt, path);
		break;
	case EACCES:
	case EPERM:
		if (!readonly && !access(path, R_OK))
			pr_err("%s %s: not writable (fix its permissions, or add readonly=on)", opt, path);
		else
			pr_err("%s %s: permission denied (make it readable by this user)", opt, path);
		break;
	case EROFS:
		pr_err("%s %s: on a read-only file system (add readonly=on)", opt, path);
		break;
	case EISDIR:
		pr_err("%s %s: is a directory (give a disk image file)", opt, path);
		break;
	case EINVAL:
		if (direct) {
			pr_err("%s %s: the file system does not support O_DIRECT (drop direct=on)", opt, path);
			break;
		}
		/* fall through */
	default:
		pr_err("%s %s: cannot open: %s", opt, path, strerror(err));
		break;
	}
	return -err;
}

int blk_file_open(struct blk_file *f, const char *path, bool readonly, bool direct)
{
	return blk_file_open_as(f, "--disk", path, readonly, direct);
}

int blk_file_open_as(struct blk_file *f, const char *opt, const char *path, bool readonly,
		     bool direct)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	uint8_t probe[512] __attribute__((aligned(4096)));
	struct stat st;
	ssize_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	f->fd = f->fd_buffered = -1;
	f->fd = open(path, flags | (direct ? O_DIRECT : 0));
	if (f->fd < 0)
		return open_error(opt, path, readonly, direct, errno);
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		pr_err("%s %s: %s", opt, path, strerror(errno));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		pr_err("%s %s: not a regular file or block device (give a disk image)", opt, path);
		ret = -EINVAL;
		goto close_fd;
	}
	/* Two VMs writing one image corrupt it: one writer, or readers. */
	if (flock(f->fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		ret = -errno;
		pr_err("%s %s: in use by another process (stop it, or add readonly=on on both)",
		       opt, path);
		goto close_fd;
	}
	f->blockdev = S_ISBLK(st.st_mode);
	f->readonly = readonly;
	f->direct = direct;
	f->logical_block = 512;
	if (f->blockdev) {
		int lbs = 0;

		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0) {
			ret = -errno;
			pr_err("%s %s: cannot get the device size: %s", opt, path, strerror(errno));
			goto close_fd;
		}
		if (!ioctl(f->fd, BLKSSZGET, &lbs) && lbs >= 512 && lbs <= 65536)
			f->logical_block = (unsigned int)lbs;
	} else {
		f->size = (uint64_t)st.st_size;
	}
	if (f->size < 512) {
		pr_err("%s %s: smaller than one 512-byte sector (give a disk image)", opt, path);
		ret = -EINVAL;
		goto close_fd;
	}
	if (direct) {
		f->fd_buffered = open(path, flags);
		if (f->fd_buffered < 0) {
			ret = open_error(opt, path, readonly, false, errno);
			goto close_fd;
		}
	} else {
		f->fd_buffered = f->fd;
	}
	/* An image we can open but not read (a failing disk, a FUSE file
	 * that errors) is bad input too: say so now, not in the guest. */
	n = pread(f->fd_buffered, probe, sizeof(probe), 0);
	if (n < 0) {
		ret = -errno;
		pr_err("%s %s: cannot read it: %s", opt, path, strerror(errno));
		goto close_buffered;
	}
	return 0;

close_buffered:
	if (f->fd_buffered != f->fd)
		close(f->fd_buffered);
close_fd:
	close(f->fd);
	f->fd = f->fd_buffered = -1;
	return ret;
}

void blk_file_close(struct blk_file *f)
{
	if (f->fd_buffered >= 0 && f->fd_buffered != f->fd)
		close(f->fd_buffered);
	if (f->fd >= 0) {
		/* Unlocked now, not at the last close of the file: a ring
		 * that registered it lets go in a kernel worker, after this
		 * process may have exited, and the next VM would find the
		 * image in use. */
		flock(f->fd, LOCK_UN);
		close(f->fd);
	}
	f->fd = f->fd_buffered = -1;
}

int blk_file_flush(const struct blk_file *f)
{
	if (f->readonly || f->fd < 0)
		return 0;
	return fdatasync(f->fd) < 0 ? -errno : 0;
}

/* ---- rings --------------------------------------------------------------- */

int blk_io_init(struct blk_io *io, const struct blk_file *f, unsigned int entries,
		const struct iovec *bufs, unsigned int nr_bufs)
{
	/* COOP_TASKRUN (5.19+): completions need no IPI to interrupt the
	 * thread, which reaps them in io_uring_enter anyway. Not
	 * DEFER_TASKRUN: new in 6.1, and a lost wake-up here would hang a
	 * guest's disk for good; the gain is small for one waiting thread. */
	static const unsigned int try_flags[] = {
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		0,
	};
	int fds[NR_FILES];
	int ret = -EINVAL;

	memset(io, 0, sizeof(*io));
	io->file = f;
	for (unsigned int i = 0; i < sizeof(try_flags) / sizeof(try_flags[0]); i++) {
		struct io_uring_params p = {
			.flags = try_flags[i] | IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED,
			.cq_entries = 2 * entries,
		};

		ret = io_uring_queue_init_params(entries, &io->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret) {
		pr_err("io_uring: cannot create a ring of %u entries: %s%s", entries, strerror(-ret),
		       ret == -EPERM ? " (io_uring is disabled: sysctl kernel.io_uring_disabled=0)" :
		       ret == -ENOMEM ? " (raise RLIMIT_MEMLOCK: ulimit -l)" : "");
		return ret;
	}
	/* Registered files: no fd table lookup and refcount per request, and
	 * the only files the ring's SQEs may name (the restrictions). */
	for (unsigned int i = 0; i < NR_FILES; i++)
		fds[i] = -1;	/* sparse: the watches come later */
	fds[FILE_DIRECT] = f->fd;
	fds[FILE_BUFFERED] = f->fd_buffered;
	ret = io_uring_register_files(&io->ring, fds, NR_FILES);
	if (ret) {
		pr_err("io_uring: cannot register the image's files: %s", strerror(-ret));
		io_uring_queue_exit(&io->ring);
		return ret;
	}
	io->fixed_files = true;
	/* No malloc here: this runs in a fresh I/O thread under seccomp, and
	 * a thread's first malloc may make glibc open files. */
	if (nr_bufs) {
		ret = io_uring_register_buffers(&io->ring, bufs, nr_bufs);
		if (!ret) {
			io->bufs = bufs;
			io->nr_bufs = nr_bufs;
		} else {
			/* Only an optimisation: pinning can fail on memlock limits. */
			pr_debug("io_uring: guest RAM not registered as fixed buffers: %s",
				 strerror(-ret));
		}
	}
	return 0;
}

static int register_op(struct blk_io *io, unsigned int op, const void *arg, unsigned int nr)
{
	return syscall(__NR_io_uring_register, io->ring.ring_fd, op, arg, nr) < 0 ? -errno : 0;
}

int blk_io_enable(struct blk_io *io)
{
	struct io_uring_restriction r[sizeof(ring_opcodes) + 2];
	unsigned int n = 0;
	int ret;

	memset(r, 0, sizeof(r));
	for (unsigned int i = 0; i < sizeof(ring_opcodes); i++) {
		r[n].opcode = IORING_RESTRICTION_SQE_OP;
		r[n++].sqe_op = ring_opcodes[i];
	}
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	r[n++].sqe_flags = IOSQE_FIXED_FILE;
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	r[n++].sqe_flags = 0;
	/* No IORING_RESTRICTION_REGISTER_OP: no register operation is
	 * allowed once the ring runs (files, buffers are all in). */
	/* The system call itself: Debian 12's liburing 2.3 declares
	 * io_uring_register_restrictions and io_uring_enable_rings but its
	 * shared library does not export them. */
	ret = register_op(io, IORING_REGISTER_RESTRICTIONS, r, n);
	if (!ret)
		ret = register_op(io, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret)
		pr_err("io_uring: cannot restrict the ring to its operations: %s (Linux 5.10 or later needed)",
		       strerror(-ret));
	else
		io->enabled = true;
	return ret;
}

void blk_io_exit(struct blk_io *io)
{
	io_uring_queue_exit(&io->ring);
	io->bufs = NULL;
}

static struct io_uring_sqe *get_sqe(struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (!sqe) {
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	return sqe;
}

static int fixed_buf(const struct blk_io *io, const struct iovec *v)
{
	uintptr_t p = (uintptr_t)v->iov_base;

	for (unsigned int i = 0; i < io->nr_bufs; i++) {
		uintptr_t b = (uintptr_t)io->bufs[i].iov_base;

		if (p >= b && p - b <= io->bufs[i].iov_len &&
		    v->iov_len <= io->bufs[i].iov_len - (p - b))
			return (int)i;
	}
	return -1;
}

static void prep(struct blk_io *io, struct blk_io_op *op, struct io_uring_sqe *sqe)
{
	const struct blk_file *f = io->file;
	int fd = io->fixed_files ? (op->buffered ? FILE_BUFFERED : FILE_DIRECT) :
				   (op->buffered ? f->fd_buffered : f->fd);
	uint64_t off = op->offset + op->done;
	int buf;

	switch (op->kind) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		buf = op->iovcnt == 1 ? fixed_buf(io, op->iov) : -1;
		if (buf >= 0)
			io->fixed++;
		if (buf >= 0 && op->kind == BLK_IO_READ)
			io_uring_prep_read_fixed(sqe, fd, op->iov->iov_base,
						 (unsigned int)op->iov->iov_len, off, buf);
		else if (buf >= 0)
			io_uring_prep_write_fixed(sqe, fd, op->iov->iov_base,
						  (unsigned int)op->iov->iov_len, off, buf);
		else if (op->kind == BLK_IO_READ)
			io_uring_prep_readv(sqe, fd, op->iov, op->iovcnt, off);
		else
			io_uring_prep_writev(sqe, fd, op->iov, op->iovcnt, off);
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_DISCARD:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					op->offset, op->len);
		break;
	case BLK_IO_WRITE_ZEROES:
	case BLK_IO_WRITE_ZEROES_UNMAP:
		/* stage 0: punch (unmap allowed), 1: zero range, 2: write. */
		if (op->stage == 0) {
			io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						op->offset, op->len);
		} else if (op->stage == 1) {
			io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						op->offset, op->len);
		} else {
			uint64_t n = op->len - op->done;

			op->one.iov_base = (void *)zero_buf;
			op->one.iov_len = n < ZERO_BUF_SIZE ? n : ZERO_BUF_SIZE;
			io_uring_prep_writev(sqe, fd, &op->one, 1, off);
		}
		break;
	}
	/* rw_flags shares its place with fsync_flags: writes only. */
	if (op->dsync && (sqe->opcode == IORING_OP_WRITEV || sqe->opcode == IORING_OP_WRITE_FIXED))
		sqe->rw_flags = RWF_DSYNC;
	if (io->fixed_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, op);
}

int blk_io_queue(struct blk_io *io, struct blk_io_op *op)
{
	struct io_uring_sqe *sqe = get_sqe(io);

	if (!sqe)
		return -EBUSY;
	op->res = 0;
	op->done = 0;
	op->buffered = !io->file->direct;
	op->stage = op->kind == BLK_IO_WRITE_ZEROES ? 1 : 0;
	prep(io, op, sqe);
	io->inflight++;
	io->submitted++;
	return 0;
}

static int arm_watch(struct blk_io *io, unsigned int i)
{
	struct io_uring_sqe *sqe = get_sqe(io);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, FILE_WATCH0 + (int)i, POLLIN);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)i << 1 | EVENT_BIT);
	return 0;
}

int blk_io_watch(struct blk_io *io, int fd, uint64_t tag)
{
	int ret;

	if (io->nr_watch == BLK_IO_MAX_WATCH)
		return -ENOSPC;
	if (io->enabled)
		return -EBUSY;	/* the file table is closed */
	ret = io_uring_register_files_update(&io->ring, FILE_WATCH0 + io->nr_watch, &fd, 1);
	if (ret < 0)
		return ret;
	io->watch[io->nr_watch].fd = fd;
	io->watch[io->nr_watch].tag = tag;
	return arm_watch(io, io->nr_watch++);
}

/* Skip n transferred bytes of op->iov (a short read or write). */
static void iov_advance(struct blk_io_op *op, uint64_t n)
{
	while (op->iovcnt && n >= op->iov->iov_len) {
		n -= op->iov->iov_len;
		op->iov++;
		op->iovcnt--;
	}
	if (op->iovcnt && n) {
		op->iov->iov_base = (uint8_t *)op->iov->iov_base + n;
		op->iov->iov_len -= n;
	}
}

/* One completion of op: true when op is finished (op->res final). */
static bool complete(struct blk_io *io, struct blk_io_op *op, int res)
{
	bool rw = op->kind == BLK_IO_READ || op->kind == BLK_IO_WRITE;
	bool zero = op->kind == BLK_IO_WRITE_ZEROES || op->kind == BLK_IO_WRITE_ZEROES_UNMAP;

	if (res == -EAGAIN || res == -EINTR)
		return false;			/* just try again */
	if (res == -EINVAL && rw && !op->buffered && !op->done) {
		/* O_DIRECT wants alignment the guest did not give: the
		 * buffered descriptor of the same image takes it. */
		io->unaligned++;
		op->buffered = true;
		return false;
	}
	if (res == -EOPNOTSUPP && zero && op->stage < 2) {
		op->stage++;
		op->buffered = true;
		return false;
	}
	if (res == -EOPNOTSUPP && op->kind == BLK_IO_DISCARD)
		res = 0;			/* a hint the image cannot take */
	if (res < 0) {
		op->res = res;
		return true;
	}
	if (rw || (zero && op->stage == 2)) {
		if (res == 0 && op->done < op->len) {
			op->res = -EIO;		/* end of file: the image shrank */
			return true;
		}
		op->done += (uint64_t)res;
		if (op->done < op->len) {
			if (rw)
				iov_advance(op, (uint64_t)res);
			return false;
		}
	}
	op->res = 0;
	return true;
}

/*
 * Test mode (--test-forbidden io:uring-openat): what an attacker holding
 * the ring would try, an openat SQE on a plain path. The restrictions
 * refuse it with -EACCES; blk_io_run hands the result over.
 */
static void forge_openat(struct blk_io *io)
{
	struct io_uring_sqe *sqe = get_sqe(io);

	if (!sqe)
		return;
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	io_uring_sqe_set_data64(sqe, TEST_UD);
}

int blk_io_run(struct blk_io *io, unsigned int min, blk_io_done_fn done,
	       blk_io_event_fn ev, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int reported = 0, ret;

	if (vmm_thread_uring_test_pending())
		forge_openat(io);
	ret = min ? io_uring_submit_and_wait(&io->ring, min) : io_uring_submit_and_get_events(&io->ring);
	if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME)
		return ret;
	io_uring_for_each_cqe(&io->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);

		seen++;
		if (ud == TEST_UD) {
			vmm_thread_uring_test_done(cqe->res);
			continue;
		}
		if (ud & EVENT_BIT) {
			unsigned int i = (unsigned int)(ud >> 1);

			if (i >= io->nr_watch)
				continue;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				arm_watch(io, i);	/* the kernel dropped the multishot */
			if (cqe->res >= 0 && ev)
				ev(arg, io->watch[i].tag);
			reported++;
			continue;
		}
		struct blk_io_op *op = (struct blk_io_op *)(uintptr_t)ud;

		if (!complete(io, op, cqe->res)) {
			struct io_uring_sqe *sqe = get_sqe(io);

			io->resubmitted++;
			if (sqe) {
				prep(io, op, sqe);
				continue;
			}
			op->res = -EIO;		/* cannot happen: the SQ has room */
		}
		io->inflight--;
		io->completed++;
		done(arg, op);
		reported++;
	}
	io_uring_cq_advance(&io->ring, seen);
	return reported;
}
