/* SPDX-License-Identifier: MIT */
/*
 * The vhost-net back end of virtio-net: the host kernel (drivers/vhost/
 * net.c) moves the packets between the guest's rings and the tap device,
 * and minivmm only sets it up. With it, a packet costs no minivmm thread:
 * the guest's notification is a KVM ioeventfd that vhost polls (the
 * queue's kick eventfd, devices/virtio/virtio_pci.h), and vhost's "used
 * buffers" signal is the eventfd of the queue's MSI-X vector, a KVM irqfd
 * (devices/msi_vector.h, MSI_VECTOR_EXTERNAL: the kernel writes it, a
 * masked vector detaches the irqfd and the eventfd's count is the Pending
 * bit). A queue with no vector (INTx, or VIRTIO_MSI_NO_VECTOR) gets an
 * eventfd of ours instead, which a small forwarder thread turns into the
 * ISR bit and INTx (cfg.notify).
 *
 * One /dev/vhost-net fd per queue pair: virtio-net's receiveqN is virtqueue
 * 2(N-1) and transmitqN 2(N-1)+1 (virtio 1.2 §5.1.2); vhost-net's vring
 * 0 is RX and 1 is TX. The control queue stays with the device model.
 *
 * Every open happens at vhost_net_open(), when the machine is built, before
 * seccomp confines the VMM; start, stop and re-binding a call fd are
 * ioctls on fds already open (the guest's DRIVER_OK, device reset, an
 * MSI-X vector change; docs/networking.md lists them).
 *
 * Threads: every call but the forwarder's is made by the device's owner
 * under its configuration lock (virtio_pci.lock): nothing here locks.
 */
#ifndef MINIVMM_VHOST_NET_H
#define MINIVMM_VHOST_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/vhost_ops.h"
#include "lib/memory.h"

#define VHOST_NET_MAX_PAIRS	64	/* VNET_MAX_PAIRS */

/* The virtio-net header with VIRTIO_F_VERSION_1 (§5.1.6: num_buffers is
 * always there): what the tap must be set to (TUNSETVNETHDRSZ). */
#define VHOST_NET_HDR_LEN	12

struct vhost_net_vring {
	int call_fd;		/* what SET_VRING_CALL has now (-1: none) */
	int slow_fd;		/* eventfd the forwarder reads */
	uint16_t last_avail;	/* GET_VRING_BASE at the last stop */
};

struct vhost_net {
	const struct vhost_ops *ops;
	const char *name;
	unsigned int nr_pairs;
	int fds[VHOST_NET_MAX_PAIRS];
	uint64_t features;	/* what vhost offers (VHOST_GET_FEATURES) */
	uint64_t acked[VHOST_NET_MAX_PAIRS];	/* given at the pair's last start */
	bool pair_started[VHOST_NET_MAX_PAIRS];
	unsigned int pairs_started;
	struct vhost_net_vring vrings[2 * VHOST_NET_MAX_PAIRS];
	/* the forwarder of queues with no MSI-X vector: runs while a pair
	 * does, and calls notify(opaque, virtqueue) */
	void (*notify)(void *opaque, unsigned int q);
	void *opaque;
	int stop_fd;
	pthread_t forwarder;
	bool forwarding;
};

/* One virtqueue as the driver configured it (virtio_pci_queue). */
struct vhost_net_queue {
	uint16_t size;
	uint64_t desc, avail, used;	/* guest physical */
	int kick_fd;			/* the queue's ioeventfd */
	int call_fd;			/* its MSI-X vector's eventfd, -1: none */
};

/* What a queue pair is started with. */
struct vhost_net_pair {
	const struct guest_mem *mem;
	uint64_t features;		/* negotiated with the driver */
	unsigned int vnet_hdr_len;	/* the tap's (IFF_VNET_HDR), 0: none */
	int tap_fd;			/* the pair's tap queue */
	struct vhost_net_queue rx, tx;
};

/*
 * Open /dev/vhost-net once per queue pair, VHOST_SET_OWNER, read the
 * features. notify(opaque, q) interrupts the driver for virtqueue q (INTx
 * or no vector); it is called on the forwarder thread. -errno (-ENOENT:
 * no such device, the vhost_net module is not loaded; -EACCES/-EPERM: not
 * permitted); vhost_net_error() words it.
 */
int vhost_net_open(struct vhost_net *vn, const struct vhost_ops *ops, const char *name,
		   unsigned int nr_pairs, void (*notify)(void *opaque, unsigned int q),
		   void *opaque);
/* Stop every pair, close everything. Harmless on a zeroed or closed vn. */
void vhost_net_close(struct vhost_net *vn);
/* Why vhost_net_open() failed and what to do, for the one-line error. */
const char *vhost_net_error(int err);

/* The device's feature offer minus what vhost cannot serve (ring features
 * it lacks, ACCESS_PLATFORM: no IOTLB here, the hash/RSS header formats). */
uint64_t vhost_net_offer(const struct vhost_net *vn, uint64_t device_features);

/*
 * DRIVER_OK (or the driver asking for more pairs): hand pair p to vhost. A
 * ring that does not lie in guest RAM, or is misaligned, is refused
 * (-EFAULT/-EINVAL) and the pair is left stopped. The kick and call fds
 * and the tap must stay open until the pair stops. -EBUSY if started.
 */
int vhost_net_start_pair(struct vhost_net *vn, unsigned int p, const struct vhost_net_pair *cfg);
/*
 * Device reset, reboot, exit, fewer pairs: VHOST_NET_SET_BACKEND -1 on
 * both rings (vhost finishes what it had in flight and touches no guest
 * memory for them afterwards), VHOST_GET_VRING_BASE saves where each
 * stopped; the last pair to stop ends the forwarder. Must come before
 * guest RAM is unmapped. Nothing if p is not started.
 */
void vhost_net_stop_pair(struct vhost_net *vn, unsigned int p);
/* Every pair. */
void vhost_net_stop(struct vhost_net *vn);
/* Virtqueue q's MSI-X vector changed, or MSI-X was switched on or off: its
 * call fd is now call_fd (-1: the forwarder). 0 or -errno. */
int vhost_net_set_call(struct vhost_net *vn, unsigned int q, int call_fd);

#endif
