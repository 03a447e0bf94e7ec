/* SPDX-License-Identifier: MIT */
/*
 * The vhost-net kernel interface (include/uapi/linux/vhost.h; the kernel's
 * drivers/vhost/net.c and vhost.c) as a table of calls, so the back end in
 * devices/virtio/vhost_net.c is unit-tested against a fake
 * (tests/unit/fake_vhost.c) with no /dev/vhost-net. vhost's ioctls are
 * not KVM ioctls: they go to a character device of their own, one fd per
 * virtio-net queue pair. devices/virtio/vhost_sys.c is the one real
 * implementation: each entry is one open or ioctl.
 *
 * Every call returns 0 (or an fd) on success and -errno on failure.
 */
#ifndef MINIVMM_VHOST_OPS_H
#define MINIVMM_VHOST_OPS_H

#include <stdint.h>

#include <linux/vhost.h>

struct vhost_ops {
	void *ctx;
	/* open("/dev/vhost-net", O_RDWR | O_CLOEXEC): an fd. */
	int (*open)(void *ctx);
	void (*close)(void *ctx, int fd);
	/* VHOST_SET_OWNER: the calling process's memory is what the
	 * addresses below point into; vhost starts its worker thread. */
	int (*set_owner)(void *ctx, int fd);
	/* VHOST_GET_FEATURES / VHOST_SET_FEATURES */
	int (*get_features)(void *ctx, int fd, uint64_t *features);
	int (*set_features)(void *ctx, int fd, uint64_t features);
	/* VHOST_SET_MEM_TABLE: guest physical -> minivmm's virtual. */
	int (*set_mem_table)(void *ctx, int fd, const struct vhost_memory *mem);
	/* VHOST_SET_VRING_NUM, _BASE, GET_VRING_BASE, SET_VRING_ADDR */
	int (*set_vring_num)(void *ctx, int fd, const struct vhost_vring_state *s);
	int (*set_vring_base)(void *ctx, int fd, const struct vhost_vring_state *s);
	int (*get_vring_base)(void *ctx, int fd, struct vhost_vring_state *s);
	int (*set_vring_addr)(void *ctx, int fd, const struct vhost_vring_addr *a);
	/* VHOST_SET_VRING_KICK / _CALL: eventfds (-1 unbinds). */
	int (*set_vring_kick)(void *ctx, int fd, const struct vhost_vring_file *f);
	int (*set_vring_call)(void *ctx, int fd, const struct vhost_vring_file *f);
	/* VHOST_NET_SET_BACKEND: the tap queue's fd (-1: stop the ring). */
	int (*set_backend)(void *ctx, int fd, const struct vhost_vring_file *f);
};

/* The real thing: system calls on /dev/vhost-net. */
const struct vhost_ops *vhost_sys_ops(void);

#endif
