/* SPDX-License-Identifier: MIT */
/*
 * The VFIO kernel interface as a table of calls, so that the container,
 * config-space, BAR and interrupt code can be unit-tested against a fake
 * device (tests/unit/fake_vfio.c) with no /dev/vfio. devices/vfio/sys.c
 * is the one real implementation: each entry is one open/ioctl/pread/
 * pwrite/mmap on /dev/vfio/vfio, /dev/vfio/N or a device fd, as described
 * in the kernel's Documentation/driver-api/vfio.rst and
 * include/uapi/linux/vfio.h (the type1 container interface).
 *
 * Every call returns 0 (or a count, an fd) on success and -errno on
 * failure; mmap returns MAP_FAILED and sets errno like mmap(2).
 */
#ifndef MINIVMM_VFIO_OPS_H
#define MINIVMM_VFIO_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

struct vfio_ops {
	void *ctx;
	/* open("/dev/vfio/vfio") and open("/dev/vfio/<group>"): an fd. */
	int (*open_container)(void *ctx);
	int (*open_group)(void *ctx, int group);
	void (*close)(void *ctx, int fd);

	/* Container: VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION (> 0: yes),
	 * VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA / UNMAP_DMA (read + write). */
	int (*api_version)(void *ctx, int container);
	int (*check_extension)(void *ctx, int container, unsigned long ext);
	int (*set_iommu)(void *ctx, int container, unsigned long type);
	int (*dma_map)(void *ctx, int container, uint64_t iova, uint64_t size, void *vaddr);
	int (*dma_unmap)(void *ctx, int container, uint64_t iova, uint64_t size);

	/* Group: VFIO_GROUP_GET_STATUS, SET/UNSET_CONTAINER, GET_DEVICE_FD. */
	int (*group_status)(void *ctx, int group, uint32_t *flags);
	int (*group_set_container)(void *ctx, int group, int container);
	int (*group_unset_container)(void *ctx, int group);
	int (*group_device_fd)(void *ctx, int group, const char *bdf);

	/* Device: VFIO_DEVICE_GET_INFO; GET_REGION_INFO and GET_IRQ_INFO with
	 * the index and argsz (the buffer size, capabilities included) set by
	 * the caller; SET_IRQS; RESET; the PCI hot (bus) reset pair. */
	int (*device_info)(void *ctx, int dev, struct vfio_device_info *info);
	int (*region_info)(void *ctx, int dev, struct vfio_region_info *info);
	int (*irq_info)(void *ctx, int dev, struct vfio_irq_info *info);
	int (*set_irqs)(void *ctx, int dev, struct vfio_irq_set *set);
	int (*reset)(void *ctx, int dev);
	int (*hot_reset_info)(void *ctx, int dev, struct vfio_pci_hot_reset_info *info);
	int (*hot_reset)(void *ctx, int dev, struct vfio_pci_hot_reset *reset);

	/* Region access at (region offset + offset): byte count or -errno. */
	ssize_t (*pread)(void *ctx, int dev, void *buf, size_t len, uint64_t off);
	ssize_t (*pwrite)(void *ctx, int dev, const void *buf, size_t len, uint64_t off);
	void *(*mmap)(void *ctx, int dev, uint64_t off, size_t len, int prot);
	int (*munmap)(void *ctx, void *addr, size_t len);
};

/* The real thing: system calls on /dev/vfio. */
const struct vfio_ops *vfio_sys_ops(void);

#endif
