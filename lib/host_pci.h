/* SPDX-License-Identifier: MIT */
/*
 * PCI devices as sysfs shows them: /sys/bus/pci/devices/DDDD:BB:DD.F with
 * vendor, device, class, the driver and iommu_group symlinks, and
 * /sys/kernel/iommu_groups/N/devices/ listing each group's members.
 */
#ifndef MINIVMM_HOST_PCI_H
#define MINIVMM_HOST_PCI_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/host_env.h"

#define HOST_BDF_LEN 16		/* "0000:65:00.0" + NUL, with room */
#define HOST_DRV_LEN 64

struct host_pci_dev {
	char bdf[HOST_BDF_LEN];
	unsigned vendor, device;
	unsigned class;			/* 24 bits: 0x030000 = VGA */
	unsigned revision;
	int group;			/* -1: not in an IOMMU group */
	char driver[HOST_DRV_LEN];	/* "" when no driver is bound */
	char override[HOST_DRV_LEN];	/* driver_override, "" when unset */
	bool bridge;			/* header type 1/2: vfio-pci won't take it */
	bool boot_vga;			/* boot_vga == 1: the firmware's display */
};

/*
 * "65:00.0", "0000:65:00.0" -> "0000:65:00.0"; "65:00" (a slot) ->
 * "0000:65:00" with *slot = true. Hex digits in either case.
 */
int host_bdf_parse(const char *arg, char *out, size_t len, bool *slot);

/* Every existing function named by arg, sorted. -ENODEV when none. */
int host_bdf_expand(const struct host_env *env, const char *arg,
		    char (**bdfs)[HOST_BDF_LEN], size_t *n);

int host_pci_read(const struct host_env *env, const char *bdf,
		  struct host_pci_dev *dev);

/* Group numbers, numerically sorted. An absent or empty directory: n = 0. */
int host_group_ids(const struct host_env *env, int **ids, size_t *n);
/* Members of one group, sorted by BDF. */
int host_group_members(const struct host_env *env, int group,
		       struct host_pci_dev **devs, size_t *n);

/*
 * Whether this member lets vfio use its group: no driver, vfio-pci,
 * pci-stub, or a bridge (the kernel lets bridges keep pcieport).
 */
bool host_pci_vfio_ok(const struct host_pci_dev *dev);

/* Class, vendor and device names from libpci's pci.ids, e.g.
 * "VGA compatible controller [0300]: NVIDIA Corporation GA102 [10de:2204]". */
void host_pci_describe(const struct host_pci_dev *dev, char *buf, size_t len);
/* Just the class name, "VGA compatible controller". */
const char *host_pci_class_name(const struct host_pci_dev *dev, char *buf,
				size_t len);

/* Drops the libpci name database (for leak checkers; reloaded on use). */
void host_names_release(void);

#endif
