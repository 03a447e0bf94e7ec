/* SPDX-License-Identifier: MIT */
/*
 * An emulated MSI-X table, Pending Bit Array and Message Control bits
 * (PCI 3.0 §6.8.2), shared by virtio-pci (devices/virtio/virtio_pci.c)
 * and VFIO passthrough (devices/vfio/msi.c). Every table entry owns a
 * struct msi_vector (devices/msi_vector.h): while the entry is unmasked
 * its KVM route carries the entry's address/data, so a signal reaches the
 * guest without an exit. MSI-X disabled, the function masked (§6.8.2.3)
 * or the entry masked (§6.8.2.9) all hold messages pending, the PBA shows
 * them (§6.8.2.10), and unmasking sends each pending one once.
 *
 * The owner forwards Message Control writes (msix_set_control) and the
 * accesses to the table and PBA wherever its BARs put them; its vectors
 * are signalled by msix_notify (MSI_VECTOR_GATED tables: minivmm's I/O
 * threads) or by the host kernel writing their eventfds
 * (MSI_VECTOR_EXTERNAL: VFIO). An owner that must act on the way, as VFIO
 * asks the host for vectors, gives struct msix_ops.
 *
 * Table accesses: aligned DWORDs and QWORDs only. §6.8.2 requires them of
 * software ("otherwise, the result is undefined") and QEMU's table
 * refuses the others too: anything else is dropped, and reads all-ones.
 * (virtio's own table used to serve bytes; guests' MSI-X code writes
 * DWORDs, as the spec asks.) The PBA is read-only and reading it changes
 * nothing, so it answers any width.
 *
 * Locking. m->lock, the table lock, covers the entries, Enable, Function
 * Mask and the vectors; msix_notify takes no lock (msi_vector.h). The
 * order, outermost first:
 *
 *   PCI root lock          config writes: msix_set_control, msix_reset
 *     MSI-X table lock     also taken alone by table/PBA accesses (vCPUs)
 *       VFIO irq_lock      taken inside the msix_ops hooks
 *
 * virtio-pci never holds vp->lock across a msix_* call. The hooks run
 * with the table lock held: they may call msix_vector_eventfd() and
 * nothing else of this file. Nothing done under the table lock waits for
 * an I/O thread (vm_ops calls and VFIO ioctls wait only for the kernel),
 * so a device may reset or stop its threads with no MSI-X state locked,
 * and its threads can always reach msix_notify.
 */
#ifndef MINIVMM_MSIX_H
#define MINIVMM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/msi_vector.h"
#include "devices/pcie_regs.h"

#define MSIX_MAX_VECTORS	2048	/* Table Size is 11 bits (§6.8.2.3) */

/* Bytes of the table and of the PBA (QWORD-sized, §6.8.2.10) for nr entries. */
static inline uint64_t msix_table_size(unsigned int nr)
{
	return (uint64_t)nr * PCI_MSIX_ENTRY_SIZE;
}

static inline uint64_t msix_pba_size(unsigned int nr)
{
	return ((uint64_t)nr + 63) / 64 * 8;
}

/* DWORDs of a table entry (§6.8.2.6-9). */
enum { MSIX_ADDR_LO, MSIX_ADDR_HI, MSIX_DATA, MSIX_CTRL };

struct msix_entry {
	uint32_t dw[4];
};

/* What an owner does on the way; any hook may be NULL. */
struct msix_ops {
	/* Enable goes 0 -> 1, before any vector is routed. Entries from
	 * nr_unmasked on have their Mask Bit set. -errno: MSI-X stays
	 * disabled (the next Enable write tries again). */
	int (*enable)(void *opaque, unsigned int nr_unmasked);
	/* Enable goes 1 -> 0, or a reset or exit while enabled: stop
	 * signalling. The vectors are released right after. */
	void (*disable)(void *opaque);
	/* Vector i is about to be unmasked: make sure it can be signalled.
	 * -errno: it stays masked, its messages held pending. */
	int (*vector_use)(void *opaque, unsigned int i);
	/* Vector i changed (route, irqfd), before -> the vector now: for
	 * an owner that traces (VFIO's --trace vfio); NULL when not. */
	void (*vector_changed)(void *opaque, unsigned int i, const struct msi_vector *before,
			       const struct msi_vector *after);
};

struct msix_params {
	const struct vm_ops *vm;
	const char *name;		/* for messages, outlives the table */
	unsigned int nr;		/* Table Size: 1 to MSIX_MAX_VECTORS */
	enum msi_vector_mode mode;
	const struct msix_ops *ops;	/* NULL: no hooks */
	void *opaque;			/* for the hooks */
};

struct msix {
	pthread_mutex_t lock;
	const struct vm_ops *vm;
	const struct msix_ops *ops;
	void *opaque;
	const char *name;
	unsigned int nr;
	bool enabled;			/* atomic: msix_enabled() reads it unlocked */
	bool fmask;
	struct msix_entry *entries;
	struct msi_vector *vec;
};

/* Power-on state. A GATED table opens its eventfds now (msix_notify
 * cannot open them later without a lock); an EXTERNAL one on first use. */
int msix_init(struct msix *m, const struct msix_params *p);
/* Disable (the hook runs), release every vector, close the eventfds.
 * Harmless on a table msix_init failed or never ran on (zeroed). */
void msix_exit(struct msix *m);
/* Power-on state (PCI reset, FLR): every entry zero and masked, MSI-X
 * disabled, the function unmasked, routes and irqfds gone, nothing
 * pending. */
void msix_reset(struct msix *m);

/* Message Control's Enable and Function Mask as the guest wrote them.
 * 0, or the enable hook's -errno (MSI-X then stays disabled). */
int msix_set_control(struct msix *m, bool enable, bool fmask);
bool msix_enabled(struct msix *m);

/* Accesses, at offsets from the start of the table or of the PBA. */
void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len);
void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len);

/* Signal vector vec: any thread, no lock; out-of-range vectors are
 * ignored. An unmasked GATED vector costs one eventfd write. */
void msix_notify(struct msix *m, unsigned int vec);

/* For hooks (the table lock held): vector vec's eventfd, opened on first
 * use, or -errno. */
int msix_vector_eventfd(struct msix *m, unsigned int vec);
/* The same for an owner that hands the eventfd to another signaller (an
 * MSI_VECTOR_EXTERNAL table whose vectors vhost writes): takes the lock. */
int msix_vector_fd(struct msix *m, unsigned int vec);

#endif
