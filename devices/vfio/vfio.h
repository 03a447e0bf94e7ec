/* SPDX-License-Identifier: MIT */
/*
 * VFIO PCI passthrough: host PCI functions handed to the guest, each
 * behind its own PCIe root port (QEMU's `-device pcie-root-port` +
 * `-device vfio-pci,host=...,bus=...`).
 *
 * Use, in this order (vmm/vm.c):
 *   c = vfio_container_create(vfio_sys_ops(), &vm->ops, "/sys")
 *   vfio_slot_create(c, root, &slot_cfg) for every --vfio / --gpu
 *       (after the chipset: the INTx router must be installed)
 *   vfio_container_map_ram(c, &vm->mem)   (all guest RAM, for DMA)
 *   ... run ...
 *   vfio_slot_destroy() each (reset + release), vfio_container_destroy(c)
 *
 * Interfaces: the kernel's Documentation/driver-api/vfio.rst and
 * include/uapi/linux/vfio.h (type1 container, groups, device fds).
 */
#ifndef MINIVMM_VFIO_H
#define MINIVMM_VFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "lib/memory.h"

struct vfio_ops;
struct vfio_container;
struct vfio_slot;

/* One --vfio/--gpu option. */
struct vfio_slot_config {
	const char *bdf;	/* as typed: "65:00.0", "0000:65:00", "65:00" */
	const char *romfile;	/* NULL: the device's own ROM BAR */
	bool all_functions;	/* --gpu, or a BDF without function: the slot */
	bool vga;		/* vga=on: legacy VGA ranges to this device */
	bool no_mmap;		/* mmap=off: no BAR memslots, every access trapped */
};

/*
 * Open the container (/dev/vfio/vfio) and check it offers a type1 IOMMU.
 * sysfs_root is where /sys is (unit tests: a fake tree). NULL (errno set,
 * one line logged) on failure.
 */
struct vfio_container *vfio_container_create(const struct vfio_ops *ops,
					     const struct vm_ops *vm,
					     const char *sysfs_root);
/*
 * Map every RAM region of mem for device DMA at IOVA = guest physical
 * address. Checks RLIMIT_MEMLOCK first (unless the process has
 * CAP_IPC_LOCK) and names how much is needed. Once, after every slot.
 */
int vfio_container_map_ram(struct vfio_container *c, const struct guest_mem *mem);
/* Nanoseconds the last vfio_container_map_ram took (for benchmarks). */
uint64_t vfio_container_map_ns(const struct vfio_container *c);
/* Unmaps DMA, releases the groups. Slots must be destroyed first. */
void vfio_container_destroy(struct vfio_container *c);

/*
 * Check the host device(s) (IOMMU group members all on vfio-pci or no
 * driver), open them, reset them, and plug a root port on root's bus 0
 * (first free slot from 0x10) with the function(s) behind it. NULL (errno
 * set, one line logged naming the device and the fix) on failure.
 */
struct vfio_slot *vfio_slot_create(struct vfio_container *c, struct pci_root *root,
				   const struct vfio_slot_config *cfg);
/* Interrupts off, device reset, BARs unmapped, fds closed, port unplugged. */
void vfio_slot_destroy(struct vfio_slot *s);
/* The root port, for tests. */
struct pci_dev *vfio_slot_port(struct vfio_slot *s);
/* Function f (0-7) behind the port, NULL if none. */
struct pci_dev *vfio_slot_function(struct vfio_slot *s, unsigned int f);

#endif
