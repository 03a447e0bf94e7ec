/* SPDX-License-Identifier: MIT */
/*
 * A fake /dev/vhost-net behind struct vhost_ops (devices/virtio/vhost_ops.h):
 * every call is logged in order with its fd and arguments (the memory
 * table copied), so a test asserts the exact ioctl sequence; any call can
 * be made to fail; GET_VRING_BASE answers what the test set.
 */
#ifndef MINIVMM_TEST_FAKE_VHOST_H
#define MINIVMM_TEST_FAKE_VHOST_H

#include <stdint.h>

#include "devices/virtio/vhost_ops.h"
#include "lib/memory.h"

#define FVH_FD_BASE	2000	/* fake fds: never real ones */
#define FVH_MAX_FDS	16
#define FVH_MAX_LOG	512

enum fvh_op {
	FVH_OPEN, FVH_CLOSE, FVH_SET_OWNER, FVH_GET_FEATURES, FVH_SET_FEATURES,
	FVH_SET_MEM_TABLE, FVH_SET_VRING_NUM, FVH_SET_VRING_BASE, FVH_GET_VRING_BASE,
	FVH_SET_VRING_ADDR, FVH_SET_VRING_KICK, FVH_SET_VRING_CALL, FVH_SET_BACKEND,
	FVH_NR_OPS
};

struct fvh_call {
	enum fvh_op op;
	int fd;
	unsigned int index;
	uint64_t value;			/* num, base, features, or the file's fd */
	struct vhost_vring_addr addr;
};

struct fake_vhost {
	struct vhost_ops ops;
	uint64_t features;		/* what GET_FEATURES answers */
	int open_errno;			/* > 0: open fails with it */
	enum fvh_op fail_op;		/* fail this op once ... */
	unsigned int fail_after;	/* ... after this many successes */
	int fail_errno;			/* (0: nothing fails) */
	unsigned int vring_base[FVH_MAX_FDS][2];	/* GET_VRING_BASE's answer */
	unsigned int nr_open;		/* fds open now */
	unsigned int opened;		/* ever */
	struct fvh_call log[FVH_MAX_LOG];
	unsigned int nr_log;
	struct vhost_memory_region mem[MEM_MAX_REGIONS];
	unsigned int nr_mem;
};

void fake_vhost_init(struct fake_vhost *fv);
/* How many logged calls are op (on fd; -1: any fd). */
unsigned int fake_vhost_count(const struct fake_vhost *fv, enum fvh_op op, int fd);
/* The last logged call of op on fd and ring index, or NULL. */
const struct fvh_call *fake_vhost_last(const struct fake_vhost *fv, enum fvh_op op, int fd,
				       unsigned int index);

#endif
