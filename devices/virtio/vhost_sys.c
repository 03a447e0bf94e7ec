// SPDX-License-Identifier: MIT
/*
 * struct vhost_ops on the real /dev/vhost-net (devices/virtio/vhost_ops.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio/vhost_ops.h"

#define VHOST_NET_DEV	"/dev/vhost-net"

static int sys_ret(int ret)
{
	return ret < 0 ? -errno : 0;
}

static int sys_open(void *ctx)
{
	int fd = open(VHOST_NET_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void sys_close(void *ctx, int fd)
{
	close(fd);
}

static int sys_set_owner(void *ctx, int fd)
{
	return sys_ret(ioctl(fd, VHOST_SET_OWNER, NULL));
}

static int sys_get_features(void *ctx, int fd, uint64_t *features)
{
	return sys_ret(ioctl(fd, VHOST_GET_FEATURES, features));
}

static int sys_set_features(void *ctx, int fd, uint64_t features)
{
	return sys_ret(ioctl(fd, VHOST_SET_FEATURES, &features));
}

static int sys_set_mem_table(void *ctx, int fd, const struct vhost_memory *mem)
{
	return sys_ret(ioctl(fd, VHOST_SET_MEM_TABLE, mem));
}

static int sys_set_vring_num(void *ctx, int fd, const struct vhost_vring_state *s)
{
	return sys_ret(ioctl(fd, VHOST_SET_VRING_NUM, s));
}

static int sys_set_vring_base(void *ctx, int fd, const struct vhost_vring_state *s)
{
	return sys_ret(ioctl(fd, VHOST_SET_VRING_BASE, s));
}

static int sys_get_vring_base(void *ctx, int fd, struct vhost_vring_state *s)
{
	return sys_ret(ioctl(fd, VHOST_GET_VRING_BASE, s));
}

static int sys_set_vring_addr(void *ctx, int fd, const struct vhost_vring_addr *a)
{
	return sys_ret(ioctl(fd, VHOST_SET_VRING_ADDR, a));
}

static int sys_set_vring_kick(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return sys_ret(ioctl(fd, VHOST_SET_VRING_KICK, f));
}

static int sys_set_vring_call(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return sys_ret(ioctl(fd, VHOST_SET_VRING_CALL, f));
}

static int sys_set_backend(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return sys_ret(ioctl(fd, VHOST_NET_SET_BACKEND, f));
}

static const struct vhost_ops sys_ops = {
	.open = sys_open,
	.close = sys_close,
	.set_owner = sys_set_owner,
	.get_features = sys_get_features,
	.set_features = sys_set_features,
	.set_mem_table = sys_set_mem_table,
	.set_vring_num = sys_set_vring_num,
	.set_vring_base = sys_set_vring_base,
	.get_vring_base = sys_get_vring_base,
	.set_vring_addr = sys_set_vring_addr,
	.set_vring_kick = sys_set_vring_kick,
	.set_vring_call = sys_set_vring_call,
	.set_backend = sys_set_backend,
};

const struct vhost_ops *vhost_sys_ops(void)
{
	return &sys_ops;
}
