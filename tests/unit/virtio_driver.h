/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio-pci *driver* for the device tests: it programs a
 * function the way Linux's virtio_pci_modern does (config space for the
 * BARs and MSI-X, BAR 4 for the virtio registers), on a fake VM whose
 * ioeventfd/irqfd registrations it records so tests can see and signal
 * the very eventfds KVM would.
 */
#ifndef MINIVMM_TEST_VIRTIO_DRIVER_H
#define MINIVMM_TEST_VIRTIO_DRIVER_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtqueue.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"

#define VD_BAR4		0xe0000000ULL
#define VD_BAR1		0xe0100000ULL
#define VD_MAX_FDS	64

/* What the fake VM was asked to wire up (one test at a time). */
struct vd_recorder {
	struct { uint64_t addr; int fd; bool live; } ioev[VD_MAX_FDS];
	struct { unsigned int gsi; int fd; bool live; } irqfd[VD_MAX_FDS];
	int (*add_ioev)(void *, uint64_t, unsigned int, uint64_t, unsigned int, int);
	int (*rm_ioev)(void *, uint64_t, unsigned int, uint64_t, unsigned int, int);
	int (*add_irqfd)(void *, unsigned int, int, int);
	int (*rm_irqfd)(void *, unsigned int, int);
	int fail_ioeventfd;
};

static struct vd_recorder vd_rec;

static int vd_add_ioev(void *vm, uint64_t addr, unsigned int len, uint64_t dm,
		       unsigned int flags, int fd)
{
	if (vd_rec.fail_ioeventfd)
		return -ENOSPC;
	for (unsigned int i = 0; i < VD_MAX_FDS; i++) {
		if (vd_rec.ioev[i].live)
			continue;
		vd_rec.ioev[i].addr = addr;
		vd_rec.ioev[i].fd = fd;
		vd_rec.ioev[i].live = true;
		return vd_rec.add_ioev(vm, addr, len, dm, flags, fd);
	}
	return -ENOSPC;
}

static int vd_rm_ioev(void *vm, uint64_t addr, unsigned int len, uint64_t dm,
		      unsigned int flags, int fd)
{
	for (unsigned int i = 0; i < VD_MAX_FDS; i++)
		if (vd_rec.ioev[i].live && vd_rec.ioev[i].addr == addr && vd_rec.ioev[i].fd == fd) {
			vd_rec.ioev[i].live = false;
			return vd_rec.rm_ioev(vm, addr, len, dm, flags, fd);
		}
	return -ENOENT;
}

static int vd_add_irqfd(void *vm, unsigned int gsi, int fd, int resample)
{
	for (unsigned int i = 0; i < VD_MAX_FDS; i++) {
		if (vd_rec.irqfd[i].live)
			continue;
		vd_rec.irqfd[i].gsi = gsi;
		vd_rec.irqfd[i].fd = fd;
		vd_rec.irqfd[i].live = true;
		return vd_rec.add_irqfd(vm, gsi, fd, resample);
	}
	return -ENOSPC;
}

static int vd_rm_irqfd(void *vm, unsigned int gsi, int fd)
{
	for (unsigned int i = 0; i < VD_MAX_FDS; i++)
		if (vd_rec.irqfd[i].live && vd_rec.irqfd[i].gsi == gsi && vd_rec.irqfd[i].fd == fd) {
			vd_rec.irqfd[i].live = false;
			return vd_rec.rm_irqfd(vm, gsi, fd);
		}
	return -ENOENT;
}

static inline void vd_hook(struct fake_vm *fvm)
{
	memset(&vd_rec, 0, sizeof(vd_rec));
	vd_rec.add_ioev = fvm->ops.add_ioeventfd;
	vd_rec.rm_ioev = fvm->ops.remove_ioeventfd;
	vd_rec.add_irqfd = fvm->ops.add_irqfd;
	vd_rec.rm_irqfd = fvm->ops.remove_irqfd;
	fvm->ops.add_ioeventfd = vd_add_ioev;
	fvm->ops.remove_ioeventfd = vd_rm_ioev;
	fvm->ops.add_irqfd = vd_add_irqfd;
	fvm->ops.remove_irqfd = vd_rm_irqfd;
}

/* The ioeventfd at addr, or -1. */
static inline int vd_ioeventfd_at(uint64_t addr)
{
	for (unsigned int i = 0; i < VD_MAX_FDS; i++)
		if (vd_rec.ioev[i].live && vd_rec.ioev[i].addr == addr)
			return vd_rec.ioev[i].fd;
	return -1;
}

static inline unsigned int vd_live_ioeventfds(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < VD_MAX_FDS; i++)
		n += vd_rec.ioev[i].live;
	return n;
}

/* The irqfd attached for gsi, or -1. */
static inline int vd_irqfd(unsigned int gsi)
{
	for (unsigned int i = 0; i < VD_MAX_FDS; i++)
		if (vd_rec.irqfd[i].live && vd_rec.irqfd[i].gsi == gsi)
			return vd_rec.irqfd[i].fd;
	return -1;
}

/* Did fd get signalled (within ms)? Consumes the count. */
static inline bool vd_signalled(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	if (fd < 0 || poll(&p, 1, ms) != 1)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

struct vd {
	struct pci_root *root;
	struct bus *mmio;
	uint8_t devfn;
};

static inline uint32_t vd_cfg_read(struct vd *d, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	pci_cfg_read(d->root, 0, d->devfn, off, &v, len);
	return v;
}

static inline void vd_cfg_write(struct vd *d, unsigned int off, uint32_t v, unsigned int len)
{
	pci_cfg_write(d->root, 0, d->devfn, off, v, len);
}

/* Find the capability of type cfg_type (vendor caps) or id (others). */
static inline unsigned int vd_find_cap(struct vd *d, uint8_t id, int cfg_type)
{
	unsigned int off = vd_cfg_read(d, PCI_CAPABILITY_LIST, 1);

	for (unsigned int n = 0; off && n < 48; n++) {
		if (vd_cfg_read(d, off, 1) == id &&
		    (cfg_type < 0 || vd_cfg_read(d, off + 3, 1) == (uint32_t)cfg_type))
			return off;
		off = vd_cfg_read(d, off + 1, 1);
	}
	return 0;
}

/* Program both BARs and turn on memory decode and bus mastering. */
static inline void vd_map(struct vd *d)
{
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_BAR, (uint32_t)VD_BAR4, 4);
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_BAR + 4, (uint32_t)(VD_BAR4 >> 32), 4);
	vd_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_MSIX_BAR, (uint32_t)VD_BAR1, 4);
	vd_cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static inline uint64_t vd_rd(struct vd *d, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	bus_read(d->mmio, VD_BAR4 + off, &v, len);
	return v;
}

static inline void vd_wr(struct vd *d, uint64_t off, uint64_t v, unsigned int len)
{
	bus_write(d->mmio, VD_BAR4 + off, &v, len);
}

static inline uint8_t vd_status(struct vd *d)
{
	return (uint8_t)vd_rd(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

static inline void vd_set_status(struct vd *d, uint8_t s)
{
	vd_wr(d, VIRTIO_PCI_COMMON_STATUS, s, 1);
}

/* §3.1.1 steps 1-6 with the given features; true if FEATURES_OK stuck. */
static inline bool vd_negotiate(struct vd *d, uint64_t features)
{
	vd_set_status(d, 0);
	vd_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	vd_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vd_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32), 4);
	vd_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK);
	return vd_status(d) & VIRTIO_STATUS_FEATURES_OK;
}

static inline uint64_t vd_device_features(struct vd *d)
{
	uint64_t f;

	vd_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = vd_rd(d, VIRTIO_PCI_COMMON_DF, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | vd_rd(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

/* Queue q at the three guest addresses, with MSI-X vector vec; enabled. */
static inline void vd_queue(struct vd *d, uint16_t q, uint16_t size, uint64_t desc,
			    uint64_t avail, uint64_t used, uint16_t vec)
{
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_DESCHI, desc >> 32, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_AVAILHI, avail >> 32, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_USEDHI, used >> 32, 4);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, vec, 2);
	vd_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* MSI-X entry vec: address/data, then unmask (or mask). */
static inline void vd_msix_entry(struct vd *d, unsigned int vec, uint64_t addr, uint32_t data,
				 bool masked)
{
	uint64_t e = VD_BAR1 + 16ULL * vec;
	uint32_t v;

	v = (uint32_t)addr;
	bus_write(d->mmio, e, &v, 4);
	v = (uint32_t)(addr >> 32);
	bus_write(d->mmio, e + 4, &v, 4);
	bus_write(d->mmio, e + 8, &data, 4);
	v = masked;
	bus_write(d->mmio, e + 12, &v, 4);
}

static inline void vd_msix_control(struct vd *d, bool enable, bool fmask)
{
	unsigned int cap = vd_find_cap(d, 0x11, -1);

	vd_cfg_write(d, cap + 2,
		     (enable ? PCI_MSIX_FLAGS_ENABLE : 0) | (fmask ? PCI_MSIX_FLAGS_MASKALL : 0), 2);
}

/* ---- the driver's side of a split virtqueue (virtio 1.2 §2.7) --------- */

/* One queue as vd_queue placed it in guest RAM, with the driver's own
 * counters (the test's: a device reset zeroes them). */
struct vd_ring {
	struct guest_mem *mem;
	uint64_t desc, avail, used;
	uint16_t size;
	uint16_t *next_desc, *last_used;
};

/* Post one chain of (gpa, len, writable) and make it available, asking
 * for an interrupt at the next completion (used_event); returns its head. */
static inline uint16_t vd_post(const struct vd_ring *r, unsigned int n, const uint64_t *addr,
			       const uint32_t *len, const bool *wr)
{
	struct virtq_desc *dt = gpa(r->mem, r->desc);
	uint16_t *avail = gpa(r->mem, r->avail);
	uint16_t head = *r->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % r->size);

		dt[idx] = (struct virtq_desc){
			.addr = addr[i], .len = len[i],
			.flags = (uint16_t)((wr[i] ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % r->size),
		};
	}
	*r->next_desc = (uint16_t)((head + n) % r->size);
	avail[2 + avail[1] % r->size] = head;
	__atomic_store_n(&avail[2 + r->size], *r->last_used, __ATOMIC_RELAXED);
	__atomic_store_n(&avail[1], (uint16_t)(avail[1] + 1), __ATOMIC_RELEASE);
	return head;
}

/* What KVM does on the guest's write to queue q's notify address (one
 * ioeventfd per queue). 0, or -1 when no ioeventfd is there. */
static inline int vd_kick(unsigned int q)
{
	uint64_t one = 1;
	int fd = vd_ioeventfd_at(VD_BAR4 + VIRTIO_PCI_NOTIFY_OFF + 4 * q);

	return fd >= 0 && write(fd, &one, 8) == 8 ? 0 : -1;
}

/* The ring's next used element into *e, waiting for it on irqfd (the
 * queue's vector) up to 100 times 50 ms; false if none came. */
static inline bool vd_wait_used(const struct vd_ring *r, int irqfd, struct virtq_used_elem *e)
{
	uint16_t *used_idx = (uint16_t *)((uint8_t *)gpa(r->mem, r->used) + 2);
	struct virtq_used_elem *ring = (void *)((uint8_t *)gpa(r->mem, r->used) + 4);

	for (int i = 0; i < 100 && __atomic_load_n(used_idx, __ATOMIC_ACQUIRE) == *r->last_used; i++)
		vd_signalled(irqfd, 50);
	if (__atomic_load_n(used_idx, __ATOMIC_ACQUIRE) == *r->last_used)
		return false;
	*e = ring[*r->last_used % r->size];
	(*r->last_used)++;
	return true;
}

#endif
