/* SPDX-License-Identifier: MIT */
/*
 * One MSI or MSI-X message (PCI 3.0 §6.8.1, §6.8.2) delivered by KVM
 * alone: an eventfd attached as an irqfd to a KVM MSI route that carries
 * the address/data the guest programmed. Whoever writes the eventfd
 * interrupts the guest with no exit and no minivmm thread in between.
 * The MSI-X table emulation (devices/msix.h: virtio-pci and VFIO) and
 * VFIO's plain MSI (devices/vfio/msi.c) are made of these.
 *
 * A masked vector holds its message pending and sends it once when
 * unmasked (PCI 3.0 §6.8.1.7-8 for MSI, §6.8.2.9-10 for MSI-X). How it is
 * held depends on who writes the eventfd, so a vector has one of two
 * modes, fixed at msi_vector_init():
 *
 * MSI_VECTOR_EXTERNAL: the host kernel writes it (VFIO's interrupt
 *   handler); nothing in minivmm sees or can stop that write. Masking
 *   therefore detaches the irqfd: a message sent meanwhile stays in the
 *   eventfd's counter, which is the Pending bit, and attaching the irqfd
 *   again on unmask makes KVM deliver it at once (KVM polls an eventfd
 *   when it assigns an irqfd, virt/kvm/eventfd.c). QEMU masks its virtio
 *   irqfds the same way.
 *
 * MSI_VECTOR_GATED: minivmm writes it, through msi_vector_notify() (the
 *   virtio I/O threads). The irqfd stays attached while masked; the mask
 *   is an atomic flag the notifier checks, and a notification it stops
 *   sets an atomic Pending flag that unmasking hands over to the eventfd.
 *   Why not detach here too: a KVM_IRQFD deassign blocks until the
 *   kernel's irqfd shutdown work has run (kvm_irqfd_deassign flushes
 *   irqfd_cleanup_wq; the work waits for an SRCU grace period), on the
 *   vCPU that wrote the mask bit, each time; the gate costs one atomic
 *   store, and an unmasked notification still costs one atomic load and
 *   one eventfd write, as it would with nothing to check.
 *
 * Threads: msi_vector_notify() runs on any thread with no lock. Every
 * other call is serialised by the owner (the MSI-X table lock, VFIO's
 * irq_lock) and may issue vm_ops calls, none of which waits for an I/O
 * thread.
 */
#ifndef MINIVMM_MSI_VECTOR_H
#define MINIVMM_MSI_VECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

enum msi_vector_mode {
	MSI_VECTOR_EXTERNAL,	/* the host kernel signals: mask = irqfd detached */
	MSI_VECTOR_GATED,	/* msi_vector_notify signals: mask = a flag */
};

struct msi_vector {
	enum msi_vector_mode mode;
	int fd;			/* eventfd, -1 until msi_vector_open */
	unsigned int gsi;	/* the KVM MSI route, while routed */
	bool routed;		/* a route exists (kept while masked) */
	bool attached;		/* fd is an irqfd of gsi */
	uint64_t addr;		/* what the route carries */
	uint32_t data;
	int blocked;		/* GATED, atomic: masked one way or another */
	int pending;		/* GATED, atomic: the Pending bit */
};

/* No eventfd, no route, masked. */
void msi_vector_init(struct msi_vector *v, enum msi_vector_mode mode);
/* The eventfd, opened on first use (a GATED vector needs it before its
 * first notify): the fd, or -errno. */
int msi_vector_open(struct msi_vector *v);
/*
 * Follow the guest's view of the vector. Unmasked: route addr/data (an
 * existing route is updated in place, so KVM delivers to the old or the
 * new target, never nowhere), attach the irqfd, deliver what is pending.
 * Masked: hold messages pending; the route stays for a cheap unmask.
 * -errno if KVM refused a route or irqfd: the vector then stays masked
 * (its messages pending, not lost) until a later call succeeds.
 */
int msi_vector_set(struct msi_vector *v, const struct vm_ops *vm, uint64_t addr,
		   uint32_t data, bool masked);
/* MSI/MSI-X disabled or reset: irqfd and route gone, nothing pending,
 * masked. The eventfd stays open. */
void msi_vector_release(struct msi_vector *v, const struct vm_ops *vm);
/* msi_vector_release, then close the eventfd. */
void msi_vector_close(struct msi_vector *v, const struct vm_ops *vm);
/* The Pending bit. */
bool msi_vector_pending(const struct msi_vector *v);
/* Signal the vector: lock-free, any thread. A GATED vector costs one
 * eventfd write when unmasked; an EXTERNAL one is just written. */
void msi_vector_notify(struct msi_vector *v);

#endif
