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

#define VHOST_NET_MAX_PAIRS	16

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
	uint64_t acked;		/* what it was given at the last start */
	bool running;
	bool pair_started[VHOST_NET_MAX_PAIRS];
	struct vhost_net_vring vrings[2 * VHOST_NET_MAX_PAIRS];
	/* the forwarder of queues with no MSI-X vector */
	void (*notify)(void *opaque, unsigned int q);
	void *opaque;
	int stop_fd;
	pthread_t forwarder;
	bool forwarding;
};

/* One virtqueue as the driver configured it (virtio_pci_queue). */
struct vhost_net_queue {
	bool enabled;
	uint16_t size;
	uint64_t desc, avail, used;	/* guest physical */
	int kick_fd;			/* the queue's ioeventfd */
	int call_fd;			/* its MSI-X vector's eventfd, -1: none */
};

struct vhost_net_config {
	const struct guest_mem *mem;
	uint64_t features;		/* negotiated with the driver */
	unsigned int vnet_hdr_len;	/* the tap's (IFF_VNET_HDR), 0: none */
	const int *tap_fds;		/* one per queue pair */
	const struct vhost_net_queue *queues;	/* 2 per pair: rx, tx */
	/* Interrupt the driver for queue q (INTx or a missing vector):
	 * called on the forwarder thread. */
	void (*notify)(void *opaque, unsigned int q);
	void *opaque;
};

/*
 * Open /dev/vhost-net once per queue pair, VHOST_SET_OWNER, read the
 * features. -errno (-ENOENT: no such device, the vhost_net module is not
 * loaded; -EACCES/-EPERM: not permitted); vhost_net_error() words it.
 */
int vhost_net_open(struct vhost_net *vn, const struct vhost_ops *ops, const char *name,
		   unsigned int nr_pairs);
/* Stop if running, close everything. Harmless on a zeroed or closed vn. */
void vhost_net_close(struct vhost_net *vn);
/* Why vhost_net_open() failed and what to do, for the one-line error. */
const char *vhost_net_error(int err);

/* The device's feature offer minus what vhost cannot serve (ring features
 * it lacks, ACCESS_PLATFORM: no IOTLB here, the hash/RSS header formats). */
uint64_t vhost_net_offer(const struct vhost_net *vn, uint64_t device_features);

/*
 * DRIVER_OK: hand every enabled queue pair to vhost. A ring that does not
 * lie in guest RAM, or is misaligned, is refused (-EFAULT/-EINVAL) and
 * nothing stays started. The kick and call fds and the taps must stay
 * open until vhost_net_stop().
 */
int vhost_net_start(struct vhost_net *vn, const struct vhost_net_config *cfg);
/*
 * Device reset, reboot or exit: VHOST_NET_SET_BACKEND -1 on every ring
 * (vhost finishes what it had in flight and touches no guest memory
 * afterwards), VHOST_GET_VRING_BASE saves where each stopped, the
 * forwarder ends. Must come before guest RAM is unmapped.
 */
void vhost_net_stop(struct vhost_net *vn);
/* Virtqueue q's MSI-X vector changed (or was masked away): its call fd is
 * now call_fd (-1: the forwarder). 0 or -errno. */
int vhost_net_set_call(struct vhost_net *vn, unsigned int q, int call_fd);

#endif
