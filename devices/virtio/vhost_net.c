// SPDX-License-Identifier: MIT
/*
 * The vhost-net back end; devices/virtio/vhost_net.h has the model. The
 * set-up order per queue pair is the one the kernel expects
 * (drivers/vhost/vhost.c, net.c): features, memory table, then per ring
 * size, base, addresses, kick and call, and the tap last, which is what
 * starts vhost serving the ring.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/virtio/vhost_net.h"
#include "devices/virtio/virtio.h"
#include "lib/log.h"
#include "lib/thread.h"

/* virtio-net feature bits (virtio 1.2 §5.1.3) that concern the rings or
 * the header layout, hence vhost. */
#define VNET_F_MRG_RXBUF	15
#define VNET_F_HASH_REPORT	57
#define VNET_F_RSS		60
#define VNET_F_RSC_EXT		61
#define VIRTIO_F_NOTIFY_ON_EMPTY_BIT	24
#define VIRTIO_F_ANY_LAYOUT_BIT		27
#define VIRTIO_F_IN_ORDER_BIT		35
#define VIRTIO_F_NOTIFICATION_DATA_BIT	38
#define VIRTIO_F_RING_RESET_BIT		40

/* Offered only if vhost has them: the rings are vhost's to walk. */
#define RING_FEATURES (VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
		       VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_PACKED) | \
		       VIRTIO_BIT(VNET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_NOTIFY_ON_EMPTY_BIT) | \
		       VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT_BIT) | VIRTIO_BIT(VIRTIO_F_IN_ORDER_BIT) | \
		       VIRTIO_BIT(VIRTIO_F_NOTIFICATION_DATA_BIT) | \
		       VIRTIO_BIT(VIRTIO_F_RING_RESET_BIT))
/* Never with vhost: no IOTLB is set up (guest addresses are physical),
 * and vhost writes none of the hash/RSC header fields. */
#define NEVER_FEATURES (VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | VIRTIO_BIT(VNET_F_HASH_REPORT) | \
			VIRTIO_BIT(VNET_F_RSS) | VIRTIO_BIT(VNET_F_RSC_EXT))

/* §2.7: split ring parts' alignment and sizes (with the event index). */
#define DESC_ALIGN	16
#define AVAIL_ALIGN	2
#define USED_ALIGN	4

static unsigned int nr_vrings(const struct vhost_net *vn)
{
	return 2 * vn->nr_pairs;
}

static void close_fds(struct vhost_net *vn)
{
	for (unsigned int p = 0; p < vn->nr_pairs; p++) {
		if (vn->fds[p] >= 0)
			vn->ops->close(vn->ops->ctx, vn->fds[p]);
		vn->fds[p] = -1;
	}
	for (unsigned int q = 0; q < nr_vrings(vn); q++) {
		if (vn->vrings[q].slow_fd >= 0)
			close(vn->vrings[q].slow_fd);
		vn->vrings[q].slow_fd = -1;
	}
	if (vn->stop_fd >= 0)
		close(vn->stop_fd);
	vn->stop_fd = -1;
}

int vhost_net_open(struct vhost_net *vn, const struct vhost_ops *ops, const char *name,
		   unsigned int nr_pairs, void (*notify)(void *opaque, unsigned int q),
		   void *opaque)
{
	uint64_t features = 0;
	int ret;

	if (!nr_pairs || nr_pairs > VHOST_NET_MAX_PAIRS)
		return -EINVAL;
	memset(vn, 0, sizeof(*vn));
	vn->ops = ops;
	vn->name = name;
	vn->nr_pairs = nr_pairs;
	vn->notify = notify;
	vn->opaque = opaque;
	vn->stop_fd = -1;
	for (unsigned int p = 0; p < VHOST_NET_MAX_PAIRS; p++)
		vn->fds[p] = -1;
	for (unsigned int q = 0; q < 2 * VHOST_NET_MAX_PAIRS; q++)
		vn->vrings[q] = (struct vhost_net_vring){ .call_fd = -1, .slow_fd = -1 };

	for (unsigned int p = 0; p < nr_pairs; p++) {
		ret = ops->open(ops->ctx);
		if (ret < 0)
			goto close_fds;
		vn->fds[p] = ret;
		ret = ops->set_owner(ops->ctx, vn->fds[p]);
		if (ret)
			goto close_fds;
		/* The same kernel answers every fd the same way. */
		ret = ops->get_features(ops->ctx, vn->fds[p], &features);
		if (ret)
			goto close_fds;
	}
	/* minivmm is virtio 1.x only (virtio.h): a vhost without VERSION_1
	 * (before Linux 4.0) cannot serve its rings. */
	if (!(features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		ret = -EOPNOTSUPP;
		goto close_fds;
	}
	vn->features = features;
	for (unsigned int q = 0; q < nr_vrings(vn); q++) {
		vn->vrings[q].slow_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vn->vrings[q].slow_fd < 0) {
			ret = -errno;
			goto close_fds;
		}
	}
	vn->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vn->stop_fd < 0) {
		ret = -errno;
		goto close_fds;
	}
	return 0;

close_fds:
	close_fds(vn);
	vn->nr_pairs = 0;
	return ret;
}

void vhost_net_close(struct vhost_net *vn)
{
	if (!vn->ops)
		return;
	vhost_net_stop(vn);
	close_fds(vn);
	vn->nr_pairs = 0;
}

const char *vhost_net_error(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		return "/dev/vhost-net does not exist (load the module: 'modprobe vhost_net')";
	case -EACCES:
	case -EPERM:
		return "/dev/vhost-net is not permitted to this user (run as root, or give the user access to the device)";
	case -EOPNOTSUPP:
		return "this kernel's vhost-net has no VIRTIO_F_VERSION_1 (Linux 4.0 or later needed)";
	default:
		return strerror(-err);
	}
}

uint64_t vhost_net_offer(const struct vhost_net *vn, uint64_t device_features)
{
	uint64_t lacking = RING_FEATURES & ~vn->features;

	return device_features & ~lacking & ~NEVER_FEATURES;
}

/* ---- the forwarder: queues without an MSI-X vector --------------------- */

static void *forwarder_thread(void *arg)
{
	struct vhost_net *vn = arg;
	struct pollfd pfd[2 * VHOST_NET_MAX_PAIRS + 1];
	unsigned int n = nr_vrings(vn);
	uint64_t count;

	vmm_thread_enter(VMM_THREAD_NET);
	for (unsigned int q = 0; q < n; q++)
		pfd[q] = (struct pollfd){ .fd = vn->vrings[q].slow_fd, .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = vn->stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_warn_once("%s: vhost forwarder: poll: %s", vn->name, strerror(errno));
			break;
		}
		if (pfd[n].revents)
			break;
		for (unsigned int q = 0; q < n; q++)
			if (pfd[q].revents && read(pfd[q].fd, &count, sizeof(count)) > 0)
				vn->notify(vn->opaque, q);
	}
	return NULL;
}

static int start_forwarder(struct vhost_net *vn)
{
	int ret;

	ret = vmm_thread_start_worker(&vn->forwarder, forwarder_thread, vn);
	if (ret)
		return ret;
	vn->forwarding = true;
	return 0;
}

static void stop_forwarder(struct vhost_net *vn)
{
	uint64_t one = 1, count;

	if (!vn->forwarding)
		return;
	if (write(vn->stop_fd, &one, sizeof(one)) < 0)
		pr_warn_once("%s: vhost forwarder: %s", vn->name, strerror(errno));
	pthread_join(vn->forwarder, NULL);
	vn->forwarding = false;
	if (read(vn->stop_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		pr_warn_once("%s: vhost forwarder: %s", vn->name, strerror(errno));
	/* What vhost signalled after its rings stopped belongs to them. */
	for (unsigned int q = 0; q < nr_vrings(vn); q++)
		while (read(vn->vrings[q].slow_fd, &count, sizeof(count)) > 0)
			;
}

/* ---- start / stop -------------------------------------------------------- */

/* The memory table: every RAM region of the guest, as lib/memory.h has it. */
static struct vhost_memory *mem_table(const struct guest_mem *mem)
{
	struct vhost_memory *t;

	t = calloc(1, sizeof(*t) + mem->nr_regions * sizeof(t->regions[0]));
	if (!t)
		return NULL;
	t->nregions = mem->nr_regions;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		t->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)(mem->base + r->offset),
		};
	}
	return t;
}

/* A ring part [gpa, gpa+len) aligned to align and wholly in one RAM region:
 * its host address. The guest chose gpa; vhost would refuse a part outside
 * the table too, but only with -EFAULT and at its own time. Warned once: a
 * guest can repeat this at will. */
static int ring_part(const struct vhost_net *vn, const struct guest_mem *mem, unsigned int q,
		     const char *what, uint64_t gpa, uint64_t len, uint64_t align, uint64_t *hva)
{
	void *p;

	if (gpa & (align - 1)) {
		pr_warn_once("%s: queue %u: the %s ring at %#llx is not %llu-byte aligned (virtio 1.2 §2.7); refusing the queue",
			     vn->name, q, what, (unsigned long long)gpa, (unsigned long long)align);
		return -EINVAL;
	}
	if (guest_mem_ptr(mem, gpa, len, &p)) {
		pr_warn_once("%s: queue %u: the %s ring at %#llx (+%llu) is not in guest RAM; refusing the queue",
			     vn->name, q, what, (unsigned long long)gpa, (unsigned long long)len);
		return -EFAULT;
	}
	*hva = (uint64_t)(uintptr_t)p;
	return 0;
}

/* The ring's addresses, checked before vhost hears of the pair. */
static int ring_addr(const struct vhost_net *vn, const struct guest_mem *mem, unsigned int q,
		     const struct vhost_net_queue *vq, struct vhost_vring_addr *addr)
{
	uint64_t n = vq->size, desc = 0, avail = 0, used = 0;
	int ret;

	if (!n || n & (n - 1)) {
		pr_warn_once("%s: queue %u: size %llu is not a power of two (virtio 1.2 §2.7); refusing the queue",
			     vn->name, q, (unsigned long long)n);
		return -EINVAL;
	}
	ret = ring_part(vn, mem, q, "descriptor", vq->desc, 16 * n, DESC_ALIGN, &desc);
	if (!ret)
		ret = ring_part(vn, mem, q, "available", vq->avail, 6 + 2 * n, AVAIL_ALIGN, &avail);
	if (!ret)
		ret = ring_part(vn, mem, q, "used", vq->used, 6 + 8 * n, USED_ALIGN, &used);
	*addr = (struct vhost_vring_addr){ .index = q % 2, .desc_user_addr = desc,
					   .avail_user_addr = avail, .used_user_addr = used };
	return ret;
}

static int start_vring(struct vhost_net *vn, unsigned int q, const struct vhost_net_queue *vq,
		       const struct vhost_vring_addr *addr)
{
	int fd = vn->fds[q / 2];
	unsigned int idx = q % 2;
	int ret;

	ret = vn->ops->set_vring_num(vn->ops->ctx, fd,
				     &(struct vhost_vring_state){ .index = idx, .num = vq->size });
	if (ret)
		return ret;
	/* After a reset the rings start at 0 (§2.7.13, §2.7.14). */
	ret = vn->ops->set_vring_base(vn->ops->ctx, fd,
				      &(struct vhost_vring_state){ .index = idx, .num = 0 });
	if (ret)
		return ret;
	ret = vn->ops->set_vring_addr(vn->ops->ctx, fd, addr);
	if (ret)
		return ret;
	ret = vn->ops->set_vring_kick(vn->ops->ctx, fd,
				      &(struct vhost_vring_file){ .index = idx, .fd = vq->kick_fd });
	if (ret)
		return ret;
	vn->vrings[q].call_fd = vq->call_fd >= 0 ? vq->call_fd : vn->vrings[q].slow_fd;
	return vn->ops->set_vring_call(vn->ops->ctx, fd,
				       &(struct vhost_vring_file){ .index = idx,
								   .fd = vn->vrings[q].call_fd });
}

/* Both rings without a backend, their indices saved. */
static void unset_backends(struct vhost_net *vn, unsigned int p)
{
	int fd = vn->fds[p];

	for (unsigned int idx = 0; idx < 2; idx++) {
		struct vhost_vring_state s = { .index = idx };
		int ret;

		/* vhost_net_set_backend(): flushes the ring's worker, after
		 * which vhost no longer touches guest memory for it. */
		ret = vn->ops->set_backend(vn->ops->ctx, fd,
					   &(struct vhost_vring_file){ .index = idx, .fd = -1 });
		if (ret)
			pr_warn("%s: vhost: stopping ring %u: %s", vn->name, 2 * p + idx,
				strerror(-ret));
		ret = vn->ops->get_vring_base(vn->ops->ctx, fd, &s);
		if (ret)
			pr_warn("%s: vhost: ring %u's index: %s", vn->name, 2 * p + idx,
				strerror(-ret));
		else
			vn->vrings[2 * p + idx].last_avail = (uint16_t)s.num;
		vn->vrings[2 * p + idx].call_fd = -1;
	}
}

static int set_up_pair(struct vhost_net *vn, unsigned int p, const struct vhost_net_pair *cfg,
		       const struct vhost_vring_addr addr[2])
{
	int fd = vn->fds[p];
	struct vhost_memory *table;
	uint64_t acked;
	int ret;

	/* Bit 27 is VIRTIO_F_ANY_LAYOUT to the driver and
	 * VHOST_NET_F_VIRTIO_NET_HDR to vhost: never pass the driver's. */
	acked = cfg->features & vn->features & ~VIRTIO_BIT(VHOST_NET_F_VIRTIO_NET_HDR);
	if (!cfg->vnet_hdr_len) {
		/* A tap without IFF_VNET_HDR: vhost adds and strips the
		 * header itself. */
		acked |= VIRTIO_BIT(VHOST_NET_F_VIRTIO_NET_HDR);
	} else if (cfg->vnet_hdr_len != VHOST_NET_HDR_LEN) {
		/* vhost passes the guest's 12-byte header through as is. */
		pr_warn("%s: vhost: the tap's vnet header is %u bytes, virtio 1.x needs %u",
			vn->name, cfg->vnet_hdr_len, VHOST_NET_HDR_LEN);
		return -EINVAL;
	}
	ret = vn->ops->set_features(vn->ops->ctx, fd, acked);
	if (ret)
		return ret;
	vn->acked[p] = acked;
	table = mem_table(cfg->mem);
	if (!table)
		return -ENOMEM;
	ret = vn->ops->set_mem_table(vn->ops->ctx, fd, table);
	free(table);
	if (ret)
		return ret;
	ret = start_vring(vn, 2 * p, &cfg->rx, &addr[0]);
	if (!ret)
		ret = start_vring(vn, 2 * p + 1, &cfg->tx, &addr[1]);
	return ret;
}

int vhost_net_start_pair(struct vhost_net *vn, unsigned int p, const struct vhost_net_pair *cfg)
{
	struct vhost_vring_addr addr[2];
	int ret;

	if (p >= vn->nr_pairs)
		return -EINVAL;
	if (vn->pair_started[p])
		return -EBUSY;
	ret = ring_addr(vn, cfg->mem, 2 * p, &cfg->rx, &addr[0]);
	if (!ret)
		ret = ring_addr(vn, cfg->mem, 2 * p + 1, &cfg->tx, &addr[1]);
	if (ret)
		return ret;
	if (!vn->forwarding && vn->notify) {
		ret = start_forwarder(vn);
		if (ret)
			return ret;
	}
	ret = set_up_pair(vn, p, cfg, addr);
	if (ret)
		goto stop_forwarder;
	/* The tap last: this is what starts vhost serving the rings. */
	for (unsigned int idx = 0; idx < 2; idx++) {
		ret = vn->ops->set_backend(vn->ops->ctx, vn->fds[p],
					   &(struct vhost_vring_file){ .index = idx,
								       .fd = cfg->tap_fd });
		if (ret) {
			unset_backends(vn, p);
			goto stop_forwarder;
		}
	}
	vn->pair_started[p] = true;
	vn->pairs_started++;
	return 0;

stop_forwarder:
	for (unsigned int q = 2 * p; q < 2 * p + 2; q++)
		vn->vrings[q].call_fd = -1;
	if (!vn->pairs_started)
		stop_forwarder(vn);
	return ret;
}

void vhost_net_stop_pair(struct vhost_net *vn, unsigned int p)
{
	if (p >= vn->nr_pairs || !vn->pair_started[p])
		return;
	unset_backends(vn, p);
	vn->pair_started[p] = false;
	pr_debug("%s: vhost: queue pair %u stopped at avail %u (rx), %u (tx)", vn->name, p,
		 vn->vrings[2 * p].last_avail, vn->vrings[2 * p + 1].last_avail);
	if (!--vn->pairs_started)
		stop_forwarder(vn);
}

void vhost_net_stop(struct vhost_net *vn)
{
	for (unsigned int p = 0; p < vn->nr_pairs; p++)
		vhost_net_stop_pair(vn, p);
}

int vhost_net_set_call(struct vhost_net *vn, unsigned int q, int call_fd)
{
	int fd;

	if (q >= nr_vrings(vn))
		return -EINVAL;
	fd = call_fd >= 0 ? call_fd : vn->vrings[q].slow_fd;
	if (!vn->pair_started[q / 2] || fd == vn->vrings[q].call_fd)
		return 0;
	vn->vrings[q].call_fd = fd;
	return vn->ops->set_vring_call(vn->ops->ctx, vn->fds[q / 2],
				       &(struct vhost_vring_file){ .index = q % 2, .fd = fd });
}
