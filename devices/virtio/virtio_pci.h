/* SPDX-License-Identifier: MIT */
/*
 * Virtio over PCI, modern (1.x) only (virtio 1.2 §4.1): vendor 1af4,
 * device 0x1040 + the virtio device ID, revision 1 (§4.1.2.1).
 *
 * Layout, the same as QEMU's so that guests and their drivers meet what
 * they know:
 *   BAR 1  (32-bit memory, 4 KiB)      MSI-X table at 0, PBA at 0x800
 *   BAR 4  (64-bit prefetchable, 16 KiB)
 *          0x0000 common configuration  (§4.1.4.3)
 *          0x1000 ISR status            (§4.1.4.5)
 *          0x2000 device configuration  (§4.1.4.6)
 *          0x3000 notifications         (§4.1.4.4), 4 bytes per queue
 * and the vendor capabilities pointing there, plus the PCI configuration
 * access capability (§4.1.4.9).
 *
 * Notifications: while a queue is enabled and BAR 4 decodes, a guest write
 * to the queue's notify address signals the queue's kick eventfd inside
 * KVM (an ioeventfd); a write that reaches us as an MMIO exit anyway
 * signals the same eventfd. Interrupts: MSI-X vectors are irqfds
 * (devices/msix.h); without MSI-X, INTx A with the ISR register.
 *
 * Threads: register accesses come from vCPUs and take vp->lock; the
 * device's I/O threads call only virtio_pci_notify_queue() and
 * virtio_pci_needs_reset(), which take no configuration lock: an MSI-X
 * vector is one eventfd write, INTx only the function's intx_lock and
 * the router's line locks (devices/irq.h), leaves of the lock order.
 */
#ifndef MINIVMM_VIRTIO_PCI_H
#define MINIVMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/virtio/virtio.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040
#define VIRTIO_PCI_MAX_QUEUES	256

/* BAR 4 regions */
#define VIRTIO_PCI_BAR		4
#define VIRTIO_PCI_MSIX_BAR	1
#define VIRTIO_PCI_COMMON_OFF	0x0000
#define VIRTIO_PCI_ISR_OFF	0x1000
#define VIRTIO_PCI_DEVICE_OFF	0x2000
#define VIRTIO_PCI_NOTIFY_OFF	0x3000
#define VIRTIO_PCI_REGION_SIZE	0x1000
#define VIRTIO_PCI_BAR_SIZE	0x4000
#define VIRTIO_PCI_NOTIFY_MULT	4	/* notify_off_multiplier */
#define VIRTIO_PCI_MSIX_PBA_OFF	0x800
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000

/* §4.1.4.3 common configuration offsets */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGEN	0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO	0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI	0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO	0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI	0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO	0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI	0x34
#define VIRTIO_PCI_COMMON_Q_NDATA	0x38
#define VIRTIO_PCI_COMMON_Q_RESET	0x3a
#define VIRTIO_PCI_COMMON_SIZE		0x3c

/* §4.1.4 capability cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

struct virtio_pci_queue {
	uint16_t size, max_size;
	uint16_t vector;		/* atomic: read by I/O threads */
	bool enabled;
	uint64_t desc, driver, device;	/* guest physical addresses */
	int kick_fd;			/* eventfd: the driver notified */
	bool ioeventfd;			/* registered at ioeventfd_addr */
	uint64_t ioeventfd_addr;
};

struct virtio_pci_params {
	const char *name;		/* for messages: "virtio-blk0" */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t class_code;		/* PCI class (base << 16 | sub << 8 | prog-if) */
	uint64_t features;		/* offered; VERSION_1 is added */
	unsigned int nr_queues;
	uint16_t queue_size;		/* maximum per queue, a power of two */
	unsigned int config_size;	/* device configuration bytes */
	const struct virtio_dev_ops *dev_ops;
	void *opaque;
	/* The host kernel, not minivmm, writes the vectors' eventfds
	 * (vhost): the MSI-X table is MSI_VECTOR_EXTERNAL (msi_vector.h). */
	bool msix_external;
};

struct virtio_pci {
	struct pci_dev pci;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	const struct virtio_dev_ops *dev_ops;
	void *opaque;
	const char *name;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status;			/* atomic: NEEDS_RESET comes from I/O threads */
	uint8_t config_generation;
	bool active;			/* DRIVER_OK reached and activate() succeeded */
	uint16_t config_vector;		/* atomic */
	uint16_t queue_select;
	unsigned int nr_queues;
	struct virtio_pci_queue *queues;
	unsigned int config_size;
	uint8_t isr;			/* atomic */
	uint64_t notify_base;		/* where the notify region decodes, 0: nowhere */
	unsigned int msix_cap, cfg_cap;
	struct msix msix;
	uint64_t slow_notifies;		/* atomic: notifications that exited to us */
};

/*
 * Build the function (header, capabilities, BARs, MSI-X with a vector per
 * queue plus one for configuration changes, kick eventfds); ops and the
 * device must outlive it. Then plug it with pci_bus_plug(&vp->pci, ...).
 */
int virtio_pci_init(struct virtio_pci *vp, const struct vm_ops *ops,
		    const struct virtio_pci_params *p);
/* Reset the device (its threads stop), unplug, free everything. */
void virtio_pci_exit(struct virtio_pci *vp);

/* Negotiated features (valid from FEATURES_OK on). */
static inline uint64_t virtio_pci_features(const struct virtio_pci *vp)
{
	return vp->guest_features;
}

/* For activate(): the queue's configuration as the driver left it. */
static inline const struct virtio_pci_queue *virtio_pci_queue(const struct virtio_pci *vp,
							      unsigned int q)
{
	return q < vp->nr_queues ? &vp->queues[q] : NULL;
}

/*
 * For activate() and queue_vector() (vp->lock held): the eventfd whose
 * write interrupts the driver for queue q through KVM alone (MSI-X enabled,
 * a vector assigned), or -1: only virtio_pci_notify_queue() can (INTx).
 */
int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned int q);

/* Used buffers on queue q: interrupt the driver (any thread). */
void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned int q);
/*
 * The driver broke a rule (a malformed ring): set DEVICE_NEEDS_RESET and
 * send a configuration change notification (§2.1.2). Any thread.
 */
void virtio_pci_needs_reset(struct virtio_pci *vp);

/* Register-level access, for tests and the configuration capability. */
void virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, void *data, unsigned int len);
void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off, const void *data,
			  unsigned int len);

#endif
