// SPDX-License-Identifier: MIT
/* The fake vhost-net; tests/unit/fake_vhost.h. */
#include <errno.h>
#include <string.h>

#include "tests/unit/fake_vhost.h"

static struct fvh_call *record(struct fake_vhost *fv, enum fvh_op op, int fd)
{
	static struct fvh_call overflow;
	struct fvh_call *c = fv->nr_log < FVH_MAX_LOG ? &fv->log[fv->nr_log++] : &overflow;

	*c = (struct fvh_call){ .op = op, .fd = fd };
	return c;
}

/* Whether this call of op fails (counted per op). */
static int failing(struct fake_vhost *fv, enum fvh_op op)
{
	if (!fv->fail_errno || fv->fail_op != op)
		return 0;
	if (fv->fail_after) {
		fv->fail_after--;
		return 0;
	}
	fv->fail_op = FVH_NR_OPS;	/* once */
	return -fv->fail_errno;
}

static int fvh_open(void *ctx)
{
	struct fake_vhost *fv = ctx;
	int ret;

	record(fv, FVH_OPEN, -1);
	if (fv->open_errno)
		return -fv->open_errno;
	ret = failing(fv, FVH_OPEN);
	if (ret)
		return ret;
	fv->nr_open++;
	return FVH_FD_BASE + (int)fv->opened++;
}

static void fvh_close(void *ctx, int fd)
{
	struct fake_vhost *fv = ctx;

	record(fv, FVH_CLOSE, fd);
	fv->nr_open--;
}

static int fvh_set_owner(void *ctx, int fd)
{
	record(ctx, FVH_SET_OWNER, fd);
	return failing(ctx, FVH_SET_OWNER);
}

static int fvh_get_features(void *ctx, int fd, uint64_t *features)
{
	struct fake_vhost *fv = ctx;

	record(fv, FVH_GET_FEATURES, fd);
	*features = fv->features;
	return failing(fv, FVH_GET_FEATURES);
}

static int fvh_set_features(void *ctx, int fd, uint64_t features)
{
	struct fake_vhost *fv = ctx;

	record(fv, FVH_SET_FEATURES, fd)->value = features;
	/* as drivers/vhost/net.c: bits it does not know are refused */
	if (features & ~(fv->features | (UINT64_C(1) << VHOST_NET_F_VIRTIO_NET_HDR)))
		return -EOPNOTSUPP;
	return failing(fv, FVH_SET_FEATURES);
}

static int fvh_set_mem_table(void *ctx, int fd, const struct vhost_memory *mem)
{
	struct fake_vhost *fv = ctx;

	record(fv, FVH_SET_MEM_TABLE, fd)->value = mem->nregions;
	fv->nr_mem = mem->nregions < MEM_MAX_REGIONS ? mem->nregions : MEM_MAX_REGIONS;
	memcpy(fv->mem, mem->regions, fv->nr_mem * sizeof(fv->mem[0]));
	return failing(fv, FVH_SET_MEM_TABLE);
}

static int state_op(struct fake_vhost *fv, enum fvh_op op, int fd,
		    const struct vhost_vring_state *s)
{
	struct fvh_call *c = record(fv, op, fd);

	c->index = s->index;
	c->value = s->num;
	return failing(fv, op);
}

static int fvh_set_vring_num(void *ctx, int fd, const struct vhost_vring_state *s)
{
	return state_op(ctx, FVH_SET_VRING_NUM, fd, s);
}

static int fvh_set_vring_base(void *ctx, int fd, const struct vhost_vring_state *s)
{
	return state_op(ctx, FVH_SET_VRING_BASE, fd, s);
}

static int fvh_get_vring_base(void *ctx, int fd, struct vhost_vring_state *s)
{
	struct fake_vhost *fv = ctx;
	unsigned int i = (unsigned int)(fd - FVH_FD_BASE);

	record(fv, FVH_GET_VRING_BASE, fd)->index = s->index;
	if (i < FVH_MAX_FDS && s->index < 2)
		s->num = fv->vring_base[i][s->index];
	return failing(fv, FVH_GET_VRING_BASE);
}

static int fvh_set_vring_addr(void *ctx, int fd, const struct vhost_vring_addr *a)
{
	struct fvh_call *c = record(ctx, FVH_SET_VRING_ADDR, fd);

	c->index = a->index;
	c->addr = *a;
	return failing(ctx, FVH_SET_VRING_ADDR);
}

static int file_op(struct fake_vhost *fv, enum fvh_op op, int fd, const struct vhost_vring_file *f)
{
	struct fvh_call *c = record(fv, op, fd);

	c->index = f->index;
	c->value = (uint64_t)(int64_t)f->fd;
	return failing(fv, op);
}

static int fvh_set_vring_kick(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return file_op(ctx, FVH_SET_VRING_KICK, fd, f);
}

static int fvh_set_vring_call(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return file_op(ctx, FVH_SET_VRING_CALL, fd, f);
}

static int fvh_set_backend(void *ctx, int fd, const struct vhost_vring_file *f)
{
	return file_op(ctx, FVH_SET_BACKEND, fd, f);
}

void fake_vhost_init(struct fake_vhost *fv)
{
	memset(fv, 0, sizeof(*fv));
	fv->ops = (struct vhost_ops){
		.ctx = fv,
		.open = fvh_open,
		.close = fvh_close,
		.set_owner = fvh_set_owner,
		.get_features = fvh_get_features,
		.set_features = fvh_set_features,
		.set_mem_table = fvh_set_mem_table,
		.set_vring_num = fvh_set_vring_num,
		.set_vring_base = fvh_set_vring_base,
		.get_vring_base = fvh_get_vring_base,
		.set_vring_addr = fvh_set_vring_addr,
		.set_vring_kick = fvh_set_vring_kick,
		.set_vring_call = fvh_set_vring_call,
		.set_backend = fvh_set_backend,
	};
}

unsigned int fake_vhost_count(const struct fake_vhost *fv, enum fvh_op op, int fd)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fv->nr_log; i++)
		if (fv->log[i].op == op && (fd < 0 || fv->log[i].fd == fd))
			n++;
	return n;
}

const struct fvh_call *fake_vhost_last(const struct fake_vhost *fv, enum fvh_op op, int fd,
				       unsigned int index)
{
	for (unsigned int i = fv->nr_log; i-- > 0;)
		if (fv->log[i].op == op && fv->log[i].fd == fd && fv->log[i].index == index)
			return &fv->log[i];
	return NULL;
}
