/* SPDX-License-Identifier: MIT */
/*
 * Virtio 1.2 constants shared by the transport, the virtqueue code and the
 * devices. Section numbers refer to "Virtual I/O Device (VIRTIO) Version
 * 1.2" (OASIS, 2022). minivmm implements modern (1.x) devices only: every
 * structure is little-endian and VIRTIO_F_VERSION_1 is mandatory.
 */
#ifndef MINIVMM_VIRTIO_H
#define MINIVMM_VIRTIO_H

#include <stdint.h>

/* §2.1 Device Status Field */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* §6 Reserved Feature Bits (bit numbers) */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34

#define VIRTIO_BIT(b)			(UINT64_C(1) << (b))

/* §5 Device Types (the virtio device ID; PCI device ID = 0x1040 + this) */
#define VIRTIO_ID_BLOCK			2

/* §4.1.4.3 / §4.1.5.1.2: "no MSI-X vector" */
#define VIRTIO_MSI_NO_VECTOR		0xffff

/* §4.1.4.5 ISR status bits */
#define VIRTIO_ISR_QUEUE		0x1
#define VIRTIO_ISR_CONFIG		0x2

/*
 * What a device model gives the PCI transport (virtio_pci.h). Every hook
 * runs on a vCPU thread with the transport's lock held, never on a
 * device's own I/O thread.
 */
struct virtio_dev_ops {
	/* Device-specific configuration space (§4.1.4.6): offset relative
	 * to its start, len 1, 2, 4 or 8, never past config_size. */
	void (*config_read)(void *opaque, uint64_t offset, void *data, unsigned int len);
	void (*config_write)(void *opaque, uint64_t offset, const void *data,
			     unsigned int len);
	/* The driver accepted these features (a subset of the offer) and
	 * set FEATURES_OK: 0, or -errno to refuse (FEATURES_OK then reads
	 * back clear, §3.1.1 step 6). */
	int (*set_features)(void *opaque, uint64_t features);
	/* DRIVER_OK: start serving the enabled queues. -errno puts the
	 * device into DEVICE_NEEDS_RESET. */
	int (*activate)(void *opaque);
	/* Device reset (§2.4): stop serving queues, let in-flight requests
	 * finish, forget all queue state. Must not return before no
	 * thread of the device touches guest memory any more. */
	void (*reset)(void *opaque);
	/* While active: queue q's MSI-X vector, or MSI-X itself, changed
	 * (virtio_pci_queue_irqfd() tells what signals it now). May be NULL:
	 * devices that signal through virtio_pci_notify_queue() need not
	 * care. */
	void (*queue_vector)(void *opaque, unsigned int q);
};

#endif
