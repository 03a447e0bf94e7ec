/* SPDX-License-Identifier: MIT */
/*
 * An emulated MSI-X table and Pending Bit Array (PCI 3.0 §6.8.2) whose
 * vectors are delivered entirely in the kernel: each vector owns an
 * eventfd, attached as an irqfd to a KVM MSI route (vm_ops) that follows
 * the address/data the guest programs. A device thread signals a vector
 * with msix_notify(), lock-free, and never exits to a vCPU.
 *
 * Masking (§6.8.2.9): while a vector is masked (its own mask bit, the
 * function mask, or MSI-X disabled) a notification sets its pending bit
 * instead; unmasking delivers a pending message once.
 */
#ifndef MINIVMM_VIRTIO_MSIX_H
#define MINIVMM_VIRTIO_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define MSIX_ENTRY_SIZE		16
#define MSIX_MAX_VECTORS	2048	/* Table Size is 11 bits (§6.8.2.3) */

/* Message Control (§6.8.2.3) */
#define MSIX_CTRL_SIZE_MASK	0x07ff
#define MSIX_CTRL_FMASK		0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_ENTRY_CTRL_MASKED	0x1

struct msix_vector {
	uint32_t entry[4];	/* address lo/hi, data, vector control */
	int fd;			/* eventfd, the irqfd of gsi once routed */
	unsigned int gsi;
	bool routed;
	uint64_t route_addr;
	uint32_t route_data;
	int blocked;		/* atomic: masked one way or another */
	int pending;		/* atomic: the PBA bit */
};

struct msix {
	pthread_mutex_t lock;	/* table and control changes */
	const struct vm_ops *ops;
	const char *name;
	unsigned int nr;
	bool enabled, fmask;
	struct msix_vector *v;
};

int msix_init(struct msix *m, const struct vm_ops *ops, unsigned int nr, const char *name);
/* Detach every irqfd and route, close the eventfds. */
void msix_exit(struct msix *m);
/* Power-on state: every entry zero and masked, MSI-X off (PCI reset). */
void msix_reset(struct msix *m);

/* Message Control's Enable and Function Mask changed (config write). */
void msix_set_control(struct msix *m, bool enable, bool fmask);
bool msix_enabled(struct msix *m);

/* Table and PBA accesses, offsets relative to each structure. */
void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len);
void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len);

/* Signal vector vec (any thread, no lock). Out-of-range vectors are ignored. */
void msix_notify(struct msix *m, unsigned int vec);

#endif
