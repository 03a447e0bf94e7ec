// SPDX-License-Identifier: MIT
/*
 * virtio-net's vhost back end: struct net_backend_ops (devices/virtio/
 * net.h) over devices/virtio/vhost_net.c and the real /dev/vhost-net.
 * The device hands it each queue pair's rings with, as call fd, the
 * eventfd of the queue's MSI-X vector (its table is MSI_VECTOR_EXTERNAL
 * with this back end), and tells it when a vector moves (set_call).
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/virtio/net.h"
#include "devices/virtio/vhost_net.h"
#include "lib/log.h"

/* The vhost interface in use: the real one unless a unit test gave a fake. */
static const struct vhost_ops *vhost_ops_in_use;

void net_vhost_use_ops(const struct vhost_ops *ops)
{
	vhost_ops_in_use = ops;
}

static const struct vhost_ops *ops_in_use(void)
{
	return vhost_ops_in_use ? vhost_ops_in_use : vhost_sys_ops();
}

struct vhost_be {
	struct vhost_net vn;
	struct net_backend_env env;
};

static void vhost_notify(void *opaque, unsigned int vq)
{
	struct vhost_be *nv = opaque;

	nv->env.notify(nv->env.dev, vq);
}

static int vhost_create(const struct net_backend_env *env, void **be)
{
	struct vhost_be *nv = calloc(1, sizeof(*nv));
	int ret;

	if (!nv)
		return -ENOMEM;
	nv->env = *env;
	ret = vhost_net_open(&nv->vn, ops_in_use(), env->name, env->nr_pairs, vhost_notify, nv);
	if (ret) {
		free(nv);
		return ret;
	}
	/* vhost's TX stops at the tap socket's send buffer (tun_sendmsg
	 * fails with EAGAIN, vhost waits for it to drain), and the frames it
	 * sent stay charged to it until the host's stack frees them: the
	 * default (net.core.wmem_default, ~208 KiB) throttles a slow
	 * receiver. QEMU's tap sets no limit by default (TUNSETSNDBUF
	 * INT_MAX, net/tap-linux.c); so does this back end. Best effort. */
	for (unsigned int p = 0; p < env->nr_pairs; p++) {
		int sndbuf = INT_MAX;

		if (ioctl(env->tap_fds[p], TUNSETSNDBUF, &sndbuf) < 0 && errno != ENOTTY &&
		    errno != EINVAL)
			pr_warn("%s: tap queue %u: TUNSETSNDBUF: %s", env->name, p, strerror(errno));
	}
	*be = nv;
	return 0;
}

static uint64_t vhost_offer(void *be, uint64_t features)
{
	struct vhost_be *nv = be;

	return vhost_net_offer(&nv->vn, features);
}

static struct vhost_net_queue queue_of(const struct net_vring *r)
{
	return (struct vhost_net_queue){
		.size = r->size, .desc = r->desc, .avail = r->avail, .used = r->used,
		.kick_fd = r->kick_fd, .call_fd = r->call_fd,
	};
}

static int vhost_start_pair(void *be, unsigned int p, const struct net_vring *rx,
			    const struct net_vring *tx, uint64_t features)
{
	struct vhost_be *nv = be;
	struct vhost_net_pair cfg = {
		.mem = nv->env.mem,
		.features = features,
		/* devices/net/tap.c: IFF_VNET_HDR, TUNSETVNETHDRSZ 12 */
		.vnet_hdr_len = VHOST_NET_HDR_LEN,
		.tap_fd = nv->env.tap_fds[p],
		.rx = queue_of(rx),
		.tx = queue_of(tx),
	};

	return vhost_net_start_pair(&nv->vn, p, &cfg);
}

static void vhost_stop_pair(void *be, unsigned int p)
{
	struct vhost_be *nv = be;

	vhost_net_stop_pair(&nv->vn, p);
}

static int vhost_set_call(void *be, unsigned int vq, int call_fd)
{
	struct vhost_be *nv = be;

	return vhost_net_set_call(&nv->vn, vq, call_fd);
}

static void vhost_destroy(void *be)
{
	struct vhost_be *nv = be;

	vhost_net_close(&nv->vn);
	free(nv);
}

const struct net_backend_ops net_vhost_backend = {
	.name = "vhost-net",
	.kernel_signals = true,
	.create = vhost_create,
	.offer = vhost_offer,
	.start_pair = vhost_start_pair,
	.stop_pair = vhost_stop_pair,
	.set_call = vhost_set_call,
	.destroy = vhost_destroy,
};

int net_vhost_probe(void)
{
	const struct vhost_ops *ops = ops_in_use();
	int fd = ops->open(ops->ctx);

	if (fd < 0)
		return fd;
	ops->close(ops->ctx, fd);
	return 0;
}
