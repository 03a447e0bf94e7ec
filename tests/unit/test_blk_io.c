// SPDX-License-Identifier: MIT
/*
 * Unit tests for the io_uring block engine (devices/block/blk_io.c)
 * against real temporary files: reads and writes in pieces, flush,
 * discard, write-zeroes (and its fallback to writing zeroes where the
 * file system cannot zero a range), short transfers, O_DIRECT requests
 * the kernel refuses for alignment, fixed buffers, eventfd watches, and
 * the image errors a user can make (missing, a directory, unreadable,
 * in use, read-only written).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/block/blk_io.h"
#include "lib/log.h"

#define SIZE	(1024 * 1024)

struct fixture {
	char dir[64];
	char path[96];
	struct blk_file file;
	struct blk_io io;
	bool io_up;
	struct blk_io_op *done[16];
	unsigned int nr_done;
	uint64_t events;
};

static void make_image(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint8_t *b = malloc(size);

	assert_true(fd >= 0);
	assert_non_null(b);
	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(i * 7 + i / 4096);
	assert_int_equal(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

static int setup_in(void **state, const char *base)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/blkio.XXXXXX", base);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
	make_image(f->path, SIZE);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_in(state, "/var/tmp");
}

/* tmpfs: punch-hole yes, zero-range no (the write-zeroes fallback). */
static int setup_shm(void **state)
{
	return setup_in(state, access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->io_up)
		blk_io_exit(&f->io);
	blk_file_close(&f->file);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void on_done(void *arg, struct blk_io_op *op)
{
	struct fixture *f = arg;

	assert_true(f->nr_done < 16);
	f->done[f->nr_done++] = op;
}

static void on_event(void *arg, uint64_t tag)
{
	((struct fixture *)arg)->events += tag;
}

/* test_watch joins an eventfd to the ring before enabling it. */
static bool start_disabled;

static void start(struct fixture *f, bool readonly, bool direct)
{
	assert_int_equal(blk_file_open(&f->file, f->path, readonly, direct), 0);
	assert_int_equal(f->file.size, SIZE);
	assert_int_equal(blk_io_init(&f->io, &f->file, 32, NULL, 0), 0);
	f->io_up = true;
	if (!start_disabled)
		assert_int_equal(blk_io_enable(&f->io), 0);
}

/* Submit op and run the ring until it completes; returns op->res. */
static int run_one(struct fixture *f, struct blk_io_op *op)
{
	f->nr_done = 0;
	assert_int_equal(blk_io_queue(&f->io, op), 0);
	while (!f->nr_done)
		assert_true(blk_io_run(&f->io, 1, on_done, on_event, f) >= 0);
	assert_ptr_equal(f->done[0], op);
	assert_int_equal(f->io.inflight, 0);
	return op->res;
}

static void file_bytes(struct fixture *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_write_read_flush(void **state)
{
	struct fixture *f = *state;
	uint8_t a[1000], b[3096], c[4096], back[8192];
	struct iovec w[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec r[2] = { { back, 512 }, { back + 512, sizeof(back) - 512 } };
	struct blk_io_op op = { .kind = BLK_IO_WRITE, .offset = 8192, .len = 8192, .iov = w,
				.iovcnt = 3 };

	start(f, false, false);
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(c, 0xc3, sizeof(c));
	assert_int_equal(run_one(f, &op), 0);
	op = (struct blk_io_op){ .kind = BLK_IO_FLUSH };
	assert_int_equal(run_one(f, &op), 0);
	op = (struct blk_io_op){ .kind = BLK_IO_READ, .offset = 8192, .len = 8192, .iov = r,
				 .iovcnt = 2 };
	assert_int_equal(run_one(f, &op), 0);
	assert_memory_equal(back, a, sizeof(a));
	assert_memory_equal(back + 1000, b, sizeof(b));
	assert_memory_equal(back + 4096, c, sizeof(c));
	file_bytes(f, 8192, back, sizeof(back));
	assert_memory_equal(back + 4096, c, sizeof(c));
	/* Write-through writes complete durable, and fine. */
	op = (struct blk_io_op){ .kind = BLK_IO_WRITE, .offset = 0, .len = 1000, .iov = w,
				 .iovcnt = 1, .dsync = true };
	assert_int_equal(run_one(f, &op), 0);
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	static uint8_t bufs[8][4096];
	struct iovec v[8];
	struct blk_io_op ops[8];
	unsigned int seen = 0;

	start(f, false, false);
	for (unsigned int i = 0; i < 8; i++) {
		v[i] = (struct iovec){ bufs[i], 4096 };
		ops[i] = (struct blk_io_op){ .kind = BLK_IO_READ, .offset = 4096ULL * i * 3,
					     .len = 4096, .iov = &v[i], .iovcnt = 1 };
		assert_int_equal(blk_io_queue(&f->io, &ops[i]), 0);
	}
	/* Eight reads go out in one submission; all come back once. */
	while (seen < 8) {
		f->nr_done = 0;
		assert_true(blk_io_run(&f->io, 1, on_done, on_event, f) > 0);
		for (unsigned int i = 0; i < f->nr_done; i++)
			assert_int_equal(f->done[i]->res, 0);
		seen += f->nr_done;
	}
	assert_int_equal(f->io.completed, 8);
	for (unsigned int i = 0; i < 8; i++) {
		uint8_t want[4096];

		file_bytes(f, 4096ULL * i * 3, want, sizeof(want));
		assert_memory_equal(bufs[i], want, sizeof(want));
	}
}

static void test_short_read_at_eof(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[8192];
	struct iovec v = { buf, sizeof(buf) };
	struct blk_io_op op = { .kind = BLK_IO_READ, .offset = SIZE - 4096, .len = 8192,
				.iov = &v, .iovcnt = 1 };

	start(f, false, false);
	/* The first 4 KiB come, the rest is past the end: an error, not a
	 * silent half-read. The engine resubmitted the rest once. */
	assert_int_equal(run_one(f, &op), -EIO);
	assert_true(f->io.resubmitted >= 1);
}

static void test_discard_and_zeroes(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8192], zero[8192] = { 0 };
	struct blk_io_op op = { .kind = BLK_IO_DISCARD, .offset = 65536, .len = 8192 };

	start(f, false, false);
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 65536, buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	op = (struct blk_io_op){ .kind = BLK_IO_WRITE_ZEROES, .offset = 131072, .len = 8192 };
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 131072, buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	op = (struct blk_io_op){ .kind = BLK_IO_WRITE_ZEROES_UNMAP, .offset = 3 * 65536, .len = 4096 };
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 3 * 65536, buf, 4096);
	assert_memory_equal(buf, zero, 4096);
	/* Neighbours untouched. */
	file_bytes(f, 131072 + 8192, buf, 1);
	assert_int_equal(buf[0], (uint8_t)((131072 + 8192) * 7 + (131072 + 8192) / 4096));
}

static void test_zeroes_fallback(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[3 << 20], zero[3 << 20];
	struct blk_io_op op = { .kind = BLK_IO_WRITE_ZEROES, .offset = 4096, .len = SIZE - 8192 };

	start(f, false, false);
	/* On tmpfs FALLOC_FL_ZERO_RANGE is unsupported: the engine writes
	 * zeroes, 1 MiB at a time, and still reports one completion. */
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 4096, buf, SIZE - 8192);
	assert_memory_equal(buf, zero, SIZE - 8192);
	file_bytes(f, SIZE - 4096, buf, 1);
	assert_int_equal(buf[0], (uint8_t)((SIZE - 4096) * 7 + (SIZE - 4096) / 4096));
}

static void test_direct_unaligned(void **state)
{
	struct fixture *f = *state;
	uint8_t *mem = aligned_alloc(4096, 16384), want[4096];
	struct iovec v = { mem + 3, 4096 };	/* O_DIRECT will refuse this */
	struct blk_io_op op = { .kind = BLK_IO_READ, .offset = 4096, .len = 4096, .iov = &v,
				.iovcnt = 1 };
	int fd = open(f->path, O_RDONLY | O_DIRECT);

	if (fd < 0) {
		free(mem);
		skip();		/* this file system has no O_DIRECT */
	}
	close(fd);
	start(f, false, true);
	assert_true(f->file.direct);
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 4096, want, sizeof(want));
	assert_memory_equal(mem + 3, want, sizeof(want));
	/* An aligned one goes straight through. */
	v.iov_base = mem + 4096;
	op = (struct blk_io_op){ .kind = BLK_IO_WRITE, .offset = 8192, .len = 4096, .iov = &v,
				 .iovcnt = 1 };
	assert_int_equal(run_one(f, &op), 0);
	free(mem);
}

static void test_fixed_buffers(void **state)
{
	struct fixture *f = *state;
	uint8_t *ram = aligned_alloc(4096, 65536), want[4096];
	struct iovec reg = { ram, 65536 }, v = { ram + 8192, 4096 };
	struct blk_io_op op = { .kind = BLK_IO_READ, .offset = 12288, .len = 4096, .iov = &v,
				.iovcnt = 1 };

	assert_int_equal(blk_file_open(&f->file, f->path, false, false), 0);
	assert_int_equal(blk_io_init(&f->io, &f->file, 8, &reg, 1), 0);
	f->io_up = true;
	assert_int_equal(blk_io_enable(&f->io), 0);
	assert_int_equal(f->io.nr_bufs, 1);
	assert_int_equal(run_one(f, &op), 0);
	file_bytes(f, 12288, want, sizeof(want));
	assert_memory_equal(ram + 8192, want, sizeof(want));
	/* A buffer outside the registered range still works (readv). */
	v.iov_base = want;
	op = (struct blk_io_op){ .kind = BLK_IO_WRITE, .offset = 0, .len = 4096, .iov = &v,
				 .iovcnt = 1 };
	assert_int_equal(run_one(f, &op), 0);
	free(ram);
}

static void test_readonly_write_fails(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512] = { 1 };
	struct iovec v = { buf, sizeof(buf) };
	struct blk_io_op op = { .kind = BLK_IO_WRITE, .offset = 0, .len = 512, .iov = &v,
				.iovcnt = 1 };

	start(f, true, false);
	/* Never silently dropped: the error comes back. */
	assert_int_equal(run_one(f, &op), -EBADF);
	assert_int_equal(blk_file_flush(&f->file), 0);
}

static void test_watch(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1, v;

	start_disabled = true;
	start(f, false, false);
	start_disabled = false;
	assert_int_equal(blk_io_watch(&f->io, efd, 5), 0);
	assert_int_equal(blk_io_enable(&f->io), 0);
	/* The file table is closed once the ring runs. */
	assert_int_equal(blk_io_watch(&f->io, efd, 6), -EBUSY);
	for (unsigned int round = 1; round <= 3; round++) {
		assert_int_equal(write(efd, &one, sizeof(one)), 8);
		while (f->events < 5 * round)
			assert_true(blk_io_run(&f->io, 1, on_done, on_event, f) >= 0);
		assert_int_equal(read(efd, &v, sizeof(v)), 8);
	}
	assert_int_equal(f->events, 15);
	close(efd);
}

/* One SQE straight on the ring, its completion's result. */
static int forged(struct fixture *f, struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;
	int res;

	io_uring_sqe_set_data64(sqe, 42);
	assert_int_equal(io_uring_submit(&f->io.ring), 1);
	assert_int_equal(io_uring_wait_cqe(&f->io.ring, &cqe), 0);
	assert_int_equal(cqe->user_data, 42);
	res = cqe->res;
	io_uring_cqe_seen(&f->io.ring, cqe);
	return res;
}

/*
 * The restrictions (blk_io_enable): what an attacker holding the ring
 * would submit is refused by the kernel, what the engine submits works.
 */
static void test_restricted(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512];
	struct iovec v = { buf, sizeof(buf) };
	struct io_uring_sqe *sqe;
	int fd = f->file.fd;

	start(f, false, false);
	sqe = io_uring_get_sqe(&f->io.ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	assert_int_equal(forged(f, sqe), -EACCES);
	/* An allowed opcode on an fd outside the registered table. */
	sqe = io_uring_get_sqe(&f->io.ring);
	io_uring_prep_readv(sqe, fd, &v, 1, 0);
	assert_int_equal(forged(f, sqe), -EACCES);
	/* An allowed opcode with a flag the engine never sets. */
	sqe = io_uring_get_sqe(&f->io.ring);
	io_uring_prep_readv(sqe, 0, &v, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_ASYNC;
	assert_int_equal(forged(f, sqe), -EACCES);
	/* The same read as the engine makes it: on fixed file 0. */
	sqe = io_uring_get_sqe(&f->io.ring);
	io_uring_prep_readv(sqe, 0, &v, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(forged(f, sqe), (int)sizeof(buf));
	/* No register operation once enabled: no new files. */
	assert_int_equal(io_uring_register_files_update(&f->io.ring, 3, &fd, 1), -EACCES);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct blk_file other;
	char path[128];

	snprintf(path, sizeof(path), "%s/missing.img", f->dir);
	assert_int_equal(blk_file_open(&other, path, false, false), -ENOENT);
	assert_int_equal(blk_file_open(&other, f->dir, false, false), -EISDIR);
	assert_int_equal(blk_file_open(&other, f->dir, true, false), -EINVAL);
	snprintf(path, sizeof(path), "%s/empty.img", f->dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(blk_file_open(&other, path, false, false), -EINVAL);
	unlink(path);
	/* One writer at a time; readers share. */
	assert_int_equal(blk_file_open(&f->file, f->path, false, false), 0);
	assert_int_equal(blk_file_open(&other, f->path, false, false), -EWOULDBLOCK);
	assert_int_equal(blk_file_open(&other, f->path, true, false), -EWOULDBLOCK);
	blk_file_close(&f->file);
	assert_int_equal(blk_file_open(&f->file, f->path, true, false), 0);
	assert_int_equal(blk_file_open(&other, f->path, true, false), 0);
	blk_file_close(&other);
}

/*
 * A ring with the image registered lets go of it asynchronously (the
 * kernel tears rings down in a worker): the image's lock must not wait
 * for that, or a VM started right after the last one exits finds its
 * image "in use".
 */
static void test_close_unlocks_at_once(void **state)
{
	struct fixture *f = *state;
	struct blk_file other;

	for (unsigned int i = 0; i < 50; i++) {
		start(f, false, false);
		blk_io_exit(&f->io);
		f->io_up = false;
		blk_file_close(&f->file);
		assert_int_equal(blk_file_open(&other, f->path, false, false), 0);
		blk_file_close(&other);
	}
}

static void test_unreadable(void **state)
{
	struct fixture *f = *state;
	struct blk_file other;
	pid_t pid;
	int status;

	assert_int_equal(chmod(f->path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(blk_file_open(&other, f->path, true, false), -EACCES);
		return;
	}
	/* root reads anything: check as nobody, in a child. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(99);
		_exit(blk_file_open(&other, f->path, true, false) == -EACCES &&
		      blk_file_open(&other, f->path, false, false) == -EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_read_at_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_and_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroes_fallback, setup_shm, teardown),
		cmocka_unit_test_setup_teardown(test_direct_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restricted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_unlocks_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
	};

	log_threshold = LOG_ERROR + (getenv("VERBOSE") ? 3 : 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
