// SPDX-License-Identifier: MIT
/*
 * struct vfio_ops on the real kernel interface: one system call per entry
 * (include/uapi/linux/vfio.h, Documentation/driver-api/vfio.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/vfio/vfio_ops.h"

static int ret_errno(int ret)
{
	return ret < 0 ? -errno : ret;
}

static int sys_open_container(void *ctx)
{
	return ret_errno(open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC));
}

static int sys_open_group(void *ctx, int group)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return ret_errno(open(path, O_RDWR | O_CLOEXEC));
}

static void sys_close(void *ctx, int fd)
{
	if (fd >= 0)
		close(fd);
}

static int sys_api_version(void *ctx, int container)
{
	return ret_errno(ioctl(container, VFIO_GET_API_VERSION));
}

static int sys_check_extension(void *ctx, int container, unsigned long ext)
{
	return ret_errno(ioctl(container, VFIO_CHECK_EXTENSION, ext));
}

static int sys_set_iommu(void *ctx, int container, unsigned long type)
{
	return ret_errno(ioctl(container, VFIO_SET_IOMMU, type));
}

static int sys_dma_map(void *ctx, int container, uint64_t iova, uint64_t size, void *vaddr)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ret_errno(ioctl(container, VFIO_IOMMU_MAP_DMA, &map));
}

static int sys_dma_unmap(void *ctx, int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ret_errno(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap));
}

static int sys_group_status(void *ctx, int group, uint32_t *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret = ret_errno(ioctl(group, VFIO_GROUP_GET_STATUS, &st));

	*flags = st.flags;
	return ret;
}

static int sys_group_set_container(void *ctx, int group, int container)
{
	return ret_errno(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
}

static int sys_group_unset_container(void *ctx, int group)
{
	return ret_errno(ioctl(group, VFIO_GROUP_UNSET_CONTAINER));
}

static int sys_group_device_fd(void *ctx, int group, const char *bdf)
{
	return ret_errno(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf));
}

static int sys_device_info(void *ctx, int dev, struct vfio_device_info *info)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_GET_INFO, info));
}

static int sys_region_info(void *ctx, int dev, struct vfio_region_info *info)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, info));
}

static int sys_irq_info(void *ctx, int dev, struct vfio_irq_info *info)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, info));
}

static int sys_set_irqs(void *ctx, int dev, struct vfio_irq_set *set)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_SET_IRQS, set));
}

static int sys_reset(void *ctx, int dev)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_RESET));
}

static int sys_hot_reset_info(void *ctx, int dev, struct vfio_pci_hot_reset_info *info)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info));
}

static int sys_hot_reset(void *ctx, int dev, struct vfio_pci_hot_reset *reset)
{
	return ret_errno(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, reset));
}

static ssize_t sys_pread(void *ctx, int dev, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(dev, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static ssize_t sys_pwrite(void *ctx, int dev, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(dev, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static void *sys_mmap(void *ctx, int dev, uint64_t off, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, dev, (off_t)off);
}

static int sys_munmap(void *ctx, void *addr, size_t len)
{
	return ret_errno(munmap(addr, len));
}

static const struct vfio_ops sys_ops = {
	.open_container = sys_open_container,
	.open_group = sys_open_group,
	.close = sys_close,
	.api_version = sys_api_version,
	.check_extension = sys_check_extension,
	.set_iommu = sys_set_iommu,
	.dma_map = sys_dma_map,
	.dma_unmap = sys_dma_unmap,
	.group_status = sys_group_status,
	.group_set_container = sys_group_set_container,
	.group_unset_container = sys_group_unset_container,
	.group_device_fd = sys_group_device_fd,
	.device_info = sys_device_info,
	.region_info = sys_region_info,
	.irq_info = sys_irq_info,
	.set_irqs = sys_set_irqs,
	.reset = sys_reset,
	.hot_reset_info = sys_hot_reset_info,
	.hot_reset = sys_hot_reset,
	.pread = sys_pread,
	.pwrite = sys_pwrite,
	.mmap = sys_mmap,
	.munmap = sys_munmap,
};

const struct vfio_ops *vfio_sys_ops(void)
{
	return &sys_ops;
}
