/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 §5.1) on the modern PCI transport, backed by a
 * tap (or macvtap) device with one file descriptor per queue pair
 * (IFF_MULTI_QUEUE) and the 12-byte virtio_net_hdr_v1 in front of every
 * frame (IFF_VNET_HDR, TUNSETVNETHDRSZ), so the guest's offload metadata
 * passes through the tap unchanged.
 *
 * The device model (net.c) owns the PCI function, feature negotiation, the
 * configuration space and the control queue; the data path (the RX and TX
 * queues) belongs to a back end behind struct net_backend_ops: the
 * userspace one in net_user.c (a thread per queue pair, readv/writev on
 * the tap), or a kernel one (vhost-net) with the same interface.
 */
#ifndef MINIVMM_VIRTIO_NET_H
#define MINIVMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtqueue.h"
#include "lib/memory.h"

#define VIRTIO_ID_NET			1

/* §5.1.3 feature bits */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_CTRL_RX_EXTRA	20
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23

/* §5.1.4 status */
#define VIRTIO_NET_S_LINK_UP		1

/* §5.1.6 virtio_net_hdr flags and gso types */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* §5.1.6.5 control queue */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define  VIRTIO_NET_CTRL_RX_PROMISC	0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_MQ		4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN	1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX	0x8000

#define VNET_QUEUE_SIZE		256
#define VNET_MAX_PAIRS		64	/* 2 * 64 + 1 queues, within the transport's 256 */
#define VNET_MAC_TABLE_MAX	64	/* entries kept of a MAC_TABLE_SET */
/* Longest frame the tap hands over: a 64 KiB GSO super-frame plus the
 * Ethernet and VLAN headers, behind the vnet header. */
#define VNET_MAX_FRAME		(65535 + 14 + 4)

/* §5.1.4 Device configuration layout */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* §5.1.6 the header in front of every packet (VERSION_1: num_buffers is
 * always there, 12 bytes) */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

/* ---- the back-end interface ------------------------------------------------
 *
 * Queue pair p is receiveq p (virtqueue 2p) and transmitq p (virtqueue
 * 2p+1), §5.1.2. The device starts a pair when the driver sets DRIVER_OK
 * (every pair whose two queues are enabled), stops them all on a device
 * reset, and stops/starts pairs when the driver changes the number of
 * pairs in use (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); it never starts a pair
 * twice. All hooks run on a vCPU thread or the device's control thread,
 * with the device's own lock held, never concurrently.
 */

/* One virtqueue as the driver set it up (§4.1.4.3). */
struct net_vring {
	unsigned int index;		/* virtqueue index: 2p (RX) or 2p+1 (TX) */
	uint16_t size;			/* power of two, <= VNET_QUEUE_SIZE */
	uint64_t desc, avail, used;	/* guest physical addresses */
	int kick_fd;			/* eventfd KVM signals on a driver notification */
	/* eventfd whose signal interrupts the driver (the queue's MSI-X
	 * irqfd), or -1 when there is none to give (INTx, no vector, or a
	 * masked one): then the back end calls env->notify(). */
	int call_fd;
};

/* What the device gives its back end; valid from create to destroy. */
struct net_backend_env {
	const char *name;		/* "virtio-net0", for messages */
	const struct guest_mem *mem;
	const int *tap_fds;		/* one per queue pair, IFF_VNET_HDR, O_NONBLOCK */
	unsigned int nr_pairs;		/* the device's maximum */
	void *dev;			/* first argument of the callbacks */
	/* Used buffers on virtqueue vq: interrupt the driver. Any thread. */
	void (*notify)(void *dev, unsigned int vq);
	/* The driver broke a rule on virtqueue vq (why: one phrase): the
	 * device goes into DEVICE_NEEDS_RESET (§2.1.2). Any thread. */
	void (*needs_reset)(void *dev, unsigned int vq, const char *why);
	/* Tests and fuzzing only: start no thread; the caller serves the
	 * pairs with the poll hook (vnet_poll). */
	bool sync;
};

struct net_queue_stats {
	uint64_t packets, bytes, dropped, kicks, interrupts;
};

struct net_backend_ops {
	const char *name;		/* "userspace", "vhost" */
	/* The host kernel signals the queues' call fds (vhost): the device
	 * makes its MSI-X vectors MSI_VECTOR_EXTERNAL (devices/msi_vector.h),
	 * fills net_vring.call_fd with the vector's eventfd and calls
	 * set_call when a vector moves. */
	bool kernel_signals;
	/* Set up (no thread runs yet); *be is passed to every other hook. */
	int (*create)(const struct net_backend_env *env, void **be);
	/* The device's feature offer, less what the back end cannot serve
	 * (NULL: all of it). Called once, after create. */
	uint64_t (*offer)(void *be, uint64_t features);
	/* Serve pair p with the negotiated features (VIRTIO_BIT(...)). -errno
	 * puts the device into DEVICE_NEEDS_RESET. */
	int (*start_pair)(void *be, unsigned int p, const struct net_vring *rx,
			  const struct net_vring *tx, uint64_t features);
	/* Stop pair p (a no-op if not started): when it returns no thread of
	 * the back end touches the pair's rings or guest memory any more. */
	void (*stop_pair)(void *be, unsigned int p);
	/* kernel_signals: virtqueue vq of a started pair is now signalled
	 * through call_fd (-1: none; env->notify then). NULL: never. */
	int (*set_call)(void *be, unsigned int vq, int call_fd);
	/* Counters of pair p since creation (rx: frames into the guest). */
	void (*stats)(void *be, unsigned int p, struct net_queue_stats *rx,
		      struct net_queue_stats *tx);
	/* Every pair already stopped. */
	void (*destroy)(void *be);
	/* Optional, with env->sync: one pass of pair p's work (TX, then RX),
	 * on the caller's thread. */
	void (*poll)(void *be, unsigned int p);
};

extern const struct net_backend_ops net_user_backend;	/* net_user.c */
extern const struct net_backend_ops net_vhost_backend;	/* net_vhost.c */
/* Whether /dev/vhost-net opens here (before seccomp): 0 or -errno, which
 * vhost_net_error() (devices/virtio/vhost_net.h) words. */
int net_vhost_probe(void);
/* For the unit tests: the vhost interface net_vhost_backend and the probe
 * use (devices/virtio/vhost_ops.h; NULL: the real /dev/vhost-net). */
struct vhost_ops;
void net_vhost_use_ops(const struct vhost_ops *ops);

/* ---- the device -------------------------------------------------------- */

enum net_kind {
	NET_TAP,		/* an existing tap, by name */
	NET_BRIDGE,		/* a tap of ours, added to a bridge */
	NET_MACVTAP,		/* a macvtap of ours on a host interface */
};

enum net_vhost {
	NET_VHOST_AUTO,
	NET_VHOST_ON,
	NET_VHOST_OFF,
};

struct vnet_params {
	const char *name;		/* "virtio-net0" */
	const uint8_t *mac;		/* 6 bytes, unicast */
	unsigned int queues;		/* pairs, 1..VNET_MAX_PAIRS */
	const int *tap_fds;		/* queues of them, set up by net_tap.c */
	const struct net_backend_ops *backend;	/* NULL: net_user_backend */
	bool sync;			/* tests, fuzzing: no threads, see vnet_poll */
};

struct vnet;

/* Build the PCI function over the taps (which it then owns and closes);
 * plug it with pci_bus_plug(vnet_pci(n), bus, devfn). NULL and errno. */
struct vnet *vnet_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 const struct vnet_params *p);
struct pci_dev *vnet_pci(struct vnet *n);
/* Stop the queues, close the taps, unplug and free. */
void vnet_destroy(struct vnet *n);

/* ---- exposed for the unit tests and the fuzz target --------------------- */

/* What the control queue set (§5.1.6.5); read under the device lock. */
struct vnet_rx_mode {
	bool promisc, allmulti;
	unsigned int uni_entries, multi_entries;	/* of the last MAC_TABLE_SET */
	unsigned int pairs;				/* pairs in use */
};
void vnet_rx_mode(struct vnet *n, struct vnet_rx_mode *m);
/* The transport, for register access (virtio_pci_bar_read/write). */
struct virtio_pci *vnet_transport(struct vnet *n);
/* With vnet_params.sync: serve the control queue and every running pair
 * once, on this thread (what their threads would do on a kick). */
void vnet_poll(struct vnet *n);
void vnet_mac(struct vnet *n, uint8_t mac[6]);

/*
 * One control command, taken apart and executed: returns the ack byte
 * (VIRTIO_NET_OK or _ERR) to write, or -EPROTO for a chain without room
 * for the class/command header or the ack (a broken ring).
 */
int vnet_ctrl_command(struct vnet *n, struct vq_elem *e);

/* Which features the tap is told the guest takes (TUNSETOFFLOAD bits). */
unsigned int vnet_tap_offloads(uint64_t features);

/*
 * RX: copy one frame (vnet header first, len bytes in all) into the
 * device-writable parts of the chains elems[0..n); with mergeable buffers
 * num_buffers in the first chain's header becomes the count used. Returns
 * the number of chains used (their lengths in used_len[]), 0 if they are
 * too small to hold the frame (without MRG_RXBUF: the first must hold it
 * all), or -EPROTO when a chain is smaller than the header (§5.1.6.3.1).
 */
int vnet_rx_fill(struct vq_elem *elems, unsigned int n, bool mergeable, const uint8_t *frame,
		 size_t len, uint32_t *used_len);

#endif
