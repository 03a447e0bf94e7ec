// SPDX-License-Identifier: MIT
/*
 * The cost of an io_uring ring's restrictions (docs/security.md): the same
 * 4 KiB reads of a cached file, 32 per submission, on a ring set up as
 * devices/block/blk_io.c sets up its own (registered file, IOSQE_FIXED_FILE)
 * with and without IORING_REGISTER_RESTRICTIONS (readv, writev, the fixed
 * read/write, fsync, fallocate, poll; the fixed-file flag required). Rounds
 * alternate between the two; prints the median nanoseconds per read of
 * each and their ratio. Runs on the host: no KVM needed.
 *
 * Usage: uring_restrict FILE [ROUNDS]   (FILE: at least 64 MiB)
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEPTH		32
#define BATCHES		4000
#define BLOCK		4096
#define MAX_ROUNDS	50

static int register_op(struct io_uring *ring, unsigned int op, void *arg, unsigned int nr)
{
	return syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr) < 0 ? -errno : 0;
}

static int ring_up(struct io_uring *ring, int fd, int restricted)
{
	static const unsigned char ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
		IORING_OP_FSYNC, IORING_OP_FALLOCATE, IORING_OP_POLL_ADD,
	};
	struct io_uring_restriction r[sizeof(ops) + 2];
	unsigned int n = 0;
	int ret;

	ret = io_uring_queue_init(DEPTH, ring, restricted ? IORING_SETUP_R_DISABLED : 0);
	if (ret)
		return ret;
	ret = io_uring_register_files(ring, &fd, 1);
	if (ret || !restricted)
		return ret;
	memset(r, 0, sizeof(r));
	for (unsigned int i = 0; i < sizeof(ops); i++) {
		r[n].opcode = IORING_RESTRICTION_SQE_OP;
		r[n++].sqe_op = ops[i];
	}
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	r[n++].sqe_flags = IOSQE_FIXED_FILE;
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	r[n++].sqe_flags = 0;
	ret = register_op(ring, IORING_REGISTER_RESTRICTIONS, r, n);
	return ret ? ret : register_op(ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

/* ns per read over BATCHES submissions of DEPTH reads; < 0: -errno. */
static double round_ns(int fd, int restricted, off_t blocks)
{
	static char buf[DEPTH][BLOCK] __attribute__((aligned(BLOCK)));
	struct iovec iov[DEPTH];
	struct io_uring ring;
	struct timespec t0, t1;
	unsigned int seed = 1;
	int ret;

	ret = ring_up(&ring, fd, restricted);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int b = 0; b < BATCHES && !ret; b++) {
		for (int i = 0; i < DEPTH; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			iov[i] = (struct iovec){ buf[i], BLOCK };
			io_uring_prep_readv(sqe, 0, &iov[i], 1, (off_t)(rand_r(&seed) % blocks) * BLOCK);
			sqe->flags = IOSQE_FIXED_FILE;
		}
		ret = io_uring_submit_and_wait(&ring, DEPTH);
		ret = ret == DEPTH ? 0 : ret < 0 ? ret : -EIO;
		for (int i = 0; i < DEPTH && !ret; i++) {
			struct io_uring_cqe *cqe;

			ret = io_uring_wait_cqe(&ring, &cqe);
			if (!ret && cqe->res != BLOCK)
				ret = cqe->res < 0 ? cqe->res : -EIO;
			if (!ret)
				io_uring_cqe_seen(&ring, cqe);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	io_uring_queue_exit(&ring);
	if (ret)
		return ret;
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (BATCHES * DEPTH);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double t[2][MAX_ROUNDS];
	int rounds = argc > 2 ? atoi(argv[2]) : 9, fd;
	struct stat st;

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: %s FILE [ROUNDS 1-%d]\n", argv[0], MAX_ROUNDS);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size < (64 << 20)) {
		fprintf(stderr, "%s: cannot open it, or it is smaller than 64 MiB\n", argv[1]);
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			int restricted = (r + k) & 1;	/* alternate which goes first */
			double ns = round_ns(fd, restricted, st.st_size / BLOCK);

			if (ns < 0) {
				fprintf(stderr, "io_uring (%s): %s\n", restricted ? "restricted" : "plain",
					strerror((int)-ns));
				return 1;
			}
			t[restricted][r] = ns;
		}
	}
	qsort(t[0], (size_t)rounds, sizeof(double), cmp);
	qsort(t[1], (size_t)rounds, sizeof(double), cmp);
	printf("uring-restrict plain_ns %.1f restricted_ns %.1f ratio %.3f rounds %d\n",
	       t[0][rounds / 2], t[1][rounds / 2], t[1][rounds / 2] / t[0][rounds / 2], rounds);
	close(fd);
	return 0;
}
