// SPDX-License-Identifier: MIT
/* See fake_vfio.h. Test code: impossible requests abort. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/fake_vfio.h"

#define FV_CONTAINER_FD	(FV_FD_BASE)
#define FV_GROUP_FD(g)	(FV_FD_BASE + 100 + (g))
#define FV_DEV_FD(i)	(FV_FD_BASE + 900 + (int)(i))

static struct fv_dev *dev_by_fd(struct fake_vfio *fv, int fd)
{
	for (unsigned int i = 0; i < fv->nr_devs; i++)
		if (fv->devs[i].fd == fd && fd >= 0)
			return &fv->devs[i];
	return NULL;
}

static int fv_open_container(void *ctx)
{
	struct fake_vfio *fv = ctx;

	fv->container_open = true;
	return FV_CONTAINER_FD;
}

static int fv_open_group(void *ctx, int group)
{
	struct fake_vfio *fv = ctx;

	if (fv->open_group_err)
		return fv->open_group_err;
	for (unsigned int i = 0; i < fv->nr_devs; i++) {
		if (fv->devs[i].group == group) {
			fv->groups_open++;
			return FV_GROUP_FD(group);
		}
	}
	return -ENOENT;
}

static void fv_close(void *ctx, int fd)
{
	struct fake_vfio *fv = ctx;
	struct fv_dev *d = dev_by_fd(fv, fd);

	if (d)
		d->fd = -1;
	else if (fd == FV_CONTAINER_FD)
		fv->container_open = false;
	else if (fd > FV_FD_BASE + 100 && fd < FV_FD_BASE + 900)
		fv->groups_open--;
}

static int fv_api_version(void *ctx, int container)
{
	return VFIO_API_VERSION;
}

static int fv_check_extension(void *ctx, int container, unsigned long ext)
{
	struct fake_vfio *fv = ctx;

	if (ext == VFIO_TYPE1v2_IOMMU)
		return !fv->no_type1v2;
	return ext == VFIO_TYPE1_IOMMU;
}

static int fv_set_iommu(void *ctx, int container, unsigned long type)
{
	struct fake_vfio *fv = ctx;

	if (fv->iommu_type)
		return -EBUSY;
	fv->iommu_type = type;
	return 0;
}

static int fv_dma_map(void *ctx, int container, uint64_t iova, uint64_t size, void *vaddr)
{
	struct fake_vfio *fv = ctx;

	if (fv->dma_map_err)
		return fv->dma_map_err;
	if (!fv->iommu_type || fv->nr_maps == FV_MAX_MAPS)
		return -EINVAL;
	fv->maps[fv->nr_maps].iova = iova;
	fv->maps[fv->nr_maps].size = size;
	fv->maps[fv->nr_maps].vaddr = vaddr;
	fv->nr_maps++;
	return 0;
}

static int fv_dma_unmap(void *ctx, int container, uint64_t iova, uint64_t size)
{
	struct fake_vfio *fv = ctx;

	for (unsigned int i = 0; i < fv->nr_maps; i++) {
		if (fv->maps[i].iova == iova && fv->maps[i].size == size) {
			fv->maps[i] = fv->maps[--fv->nr_maps];
			return 0;
		}
	}
	return -ENOENT;
}

static int fv_group_status(void *ctx, int group, uint32_t *flags)
{
	*flags = ((struct fake_vfio *)ctx)->group_flags;
	return 0;
}

static int fv_group_set_container(void *ctx, int group, int container)
{
	((struct fake_vfio *)ctx)->set_container_calls++;
	return container == FV_CONTAINER_FD ? 0 : -EBADF;
}

static int fv_group_unset_container(void *ctx, int group)
{
	struct fake_vfio *fv = ctx;

	fv->unset_container_calls++;
	/* The last group out: the kernel drops the IOMMU and its maps. */
	if (fv->unset_container_calls == fv->set_container_calls) {
		fv->iommu_type = 0;
		fv->nr_maps = 0;
	}
	return 0;
}

static int fv_group_device_fd(void *ctx, int group, const char *bdf)
{
	struct fake_vfio *fv = ctx;

	for (unsigned int i = 0; i < fv->nr_devs; i++) {
		struct fv_dev *d = &fv->devs[i];

		if (strcmp(d->bdf, bdf) || FV_GROUP_FD(d->group) != group)
			continue;
		if (d->fd >= 0)
			return -EBUSY;
		d->fd = FV_DEV_FD(i);
		return d->fd;
	}
	return -ENODEV;
}

static int fv_device_info(void *ctx, int fd, struct vfio_device_info *info)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);

	if (!d)
		return -EBADF;
	info->flags = VFIO_DEVICE_FLAGS_PCI | (d->has_reset ? VFIO_DEVICE_FLAGS_RESET : 0);
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

static int fv_region_info(void *ctx, int fd, struct vfio_region_info *info)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);
	struct fv_region *r;
	size_t need;

	if (!d || info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	r = &d->regions[info->index];
	info->size = r->size;
	info->offset = FV_REGION_OFFSET(info->index);
	info->flags = r->flags;
	info->cap_offset = 0;
	if (!r->nr_sparse)
		return 0;
	need = sizeof(*info) + sizeof(struct vfio_region_info_cap_sparse_mmap) +
	       r->nr_sparse * sizeof(struct vfio_region_sparse_mmap_area);
	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (info->argsz < need) {
		info->argsz = (uint32_t)need;	/* ask again, bigger */
		return 0;
	} else {
		struct vfio_region_info_cap_sparse_mmap *sp = (void *)(info + 1);

		info->cap_offset = sizeof(*info);
		sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sp->header.version = 1;
		sp->header.next = 0;
		sp->nr_areas = r->nr_sparse;
		memcpy(sp->areas, r->sparse, r->nr_sparse * sizeof(r->sparse[0]));
	}
	return 0;
}

static int fv_irq_info(void *ctx, int fd, struct vfio_irq_info *info)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);

	if (!d || info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info->count = d->irq_count[info->index];
	info->flags = d->irq_flags[info->index] | VFIO_IRQ_INFO_EVENTFD;
	return 0;
}

static int fv_set_irqs(void *ctx, int fd, struct vfio_irq_set *set)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);
	unsigned int idx;

	if (!d || set->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	idx = set->index;
	d->set_irqs_calls++;
	if (set->flags & VFIO_IRQ_SET_ACTION_UNMASK) {
		if (idx != VFIO_PCI_INTX_IRQ_INDEX || !(set->flags & VFIO_IRQ_SET_DATA_EVENTFD))
			return -EINVAL;
		memcpy(&d->intx_unmask_fd, set->data, sizeof(int32_t));
		return 0;
	}
	if (!(set->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;
	if ((set->flags & VFIO_IRQ_SET_DATA_NONE) && set->count == 0) {
		d->trig_count[idx] = 0;
		if (idx == VFIO_PCI_INTX_IRQ_INDEX)
			d->intx_unmask_fd = -1;
		return 0;
	}
	if (!(set->flags & VFIO_IRQ_SET_DATA_EVENTFD) || !set->count ||
	    set->start + set->count > d->irq_count[idx] || set->start + set->count > FV_MAX_VECS)
		return -EINVAL;
	/* Like vfio-pci: one index at a time; growing a NORESIZE index
	 * without disabling it first is refused. */
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (i != idx && d->trig_count[i] && i <= VFIO_PCI_MSIX_IRQ_INDEX &&
		    idx <= VFIO_PCI_MSIX_IRQ_INDEX)
			return -EINVAL;
	if (d->trig_count[idx] && set->start + set->count > d->trig_count[idx] &&
	    (d->irq_flags[idx] & VFIO_IRQ_INFO_NORESIZE))
		return -EINVAL;
	for (unsigned int i = 0; i < set->count; i++)
		memcpy(&d->trig[idx][set->start + i], set->data + i * sizeof(int32_t), sizeof(int32_t));
	if (set->start + set->count > d->trig_count[idx])
		d->trig_count[idx] = set->start + set->count;
	return 0;
}

static int fv_reset(void *ctx, int fd)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);

	if (!d || !d->has_reset)
		return -EINVAL;
	d->resets++;
	return 0;
}

static int fv_hot_reset_info(void *ctx, int fd, struct vfio_pci_hot_reset_info *info)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);

	if (!d)
		return -EINVAL;
	if (info->argsz < sizeof(*info) + sizeof(info->devices[0])) {
		info->count = 1;
		return -ENOSPC;
	}
	info->count = 1;
	info->devices[0].group_id = (uint32_t)d->group;
	info->devices[0].bus = 1;
	info->devices[0].devfn = 0;
	return 0;
}

static int fv_hot_reset(void *ctx, int fd, struct vfio_pci_hot_reset *reset)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);

	if (!d || reset->count != 1 || reset->group_fds[0] != FV_GROUP_FD(d->group))
		return -EINVAL;
	d->hot_resets++;
	return 0;
}

static struct fv_region *region_at(struct fv_dev *d, uint64_t off, size_t len, uint64_t *roff)
{
	unsigned int idx = (unsigned int)(off >> 40);
	struct fv_region *r;

	if (idx >= VFIO_PCI_NUM_REGIONS)
		return NULL;
	r = &d->regions[idx];
	*roff = off & ((1ULL << 40) - 1);
	if (!r->mem || *roff >= r->size || len > r->size - *roff)
		return NULL;
	return r;
}

static void fv_hook(struct fake_vfio *fv, struct fv_dev *d, unsigned int region, uint64_t off,
		    const void *buf, size_t len, bool write)
{
	if (fv->access_hook)
		fv->access_hook(fv->hook_opaque, d, region, off, buf, len, write);
}

static ssize_t fv_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);
	struct fv_region *r;
	uint64_t roff;

	if (!d)
		return -EBADF;
	if (off >> 40 == VFIO_PCI_CONFIG_REGION_INDEX) {
		roff = off & ((1ULL << 40) - 1);
		if (roff >= d->cfg_size || len > d->cfg_size - roff)
			return -EINVAL;
		memcpy(buf, d->config + roff, len);
		fv_hook(ctx, d, VFIO_PCI_CONFIG_REGION_INDEX, roff, buf, len, false);
		return (ssize_t)len;
	}
	r = region_at(d, off, len, &roff);
	if (!r)
		return -EINVAL;
	r->reads++;
	memcpy(buf, r->mem + roff, len);
	fv_hook(ctx, d, (unsigned int)(off >> 40), roff, buf, len, false);
	return (ssize_t)len;
}

static ssize_t fv_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);
	struct fv_region *r;
	uint64_t roff;

	if (!d)
		return -EBADF;
	if (off >> 40 == VFIO_PCI_CONFIG_REGION_INDEX) {
		roff = off & ((1ULL << 40) - 1);
		if (roff >= d->cfg_size || len > d->cfg_size - roff)
			return -EINVAL;
		fv_hook(ctx, d, VFIO_PCI_CONFIG_REGION_INDEX, roff, buf, len, true);
		if (d->nr_cfg_log < FV_CFG_LOG) {
			struct fv_cfg_write *w = &d->cfg_log[d->nr_cfg_log++];
			uint32_t val = 0;

			memcpy(&val, buf, len < 4 ? len : 4);
			*w = (struct fv_cfg_write){ (uint32_t)roff, (uint32_t)len, val };
		}
		memcpy(d->config + roff, buf, len);
		d->cfg_writes++;
		return (ssize_t)len;
	}
	r = region_at(d, off, len, &roff);
	if (!r)
		return -EINVAL;
	fv_hook(ctx, d, (unsigned int)(off >> 40), roff, buf, len, true);
	r->writes++;
	memcpy(r->mem + roff, buf, len);
	return (ssize_t)len;
}

static void *fv_mmap(void *ctx, int fd, uint64_t off, size_t len, int prot)
{
	struct fv_dev *d = dev_by_fd(ctx, fd);
	struct fv_region *r;
	uint64_t roff;

	if (!d || (off & 4095) || (len & 4095))
		return MAP_FAILED;
	r = region_at(d, off, len, &roff);
	if (!r || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return MAP_FAILED;
	return r->mem + roff;
}

static int fv_munmap(void *ctx, void *addr, size_t len)
{
	return 0;
}

void fake_vfio_init(struct fake_vfio *fv)
{
	memset(fv, 0, sizeof(*fv));
	fv->group_flags = VFIO_GROUP_FLAGS_VIABLE;
	fv->ops = (struct vfio_ops){
		.ctx = fv,
		.open_container = fv_open_container,
		.open_group = fv_open_group,
		.close = fv_close,
		.api_version = fv_api_version,
		.check_extension = fv_check_extension,
		.set_iommu = fv_set_iommu,
		.dma_map = fv_dma_map,
		.dma_unmap = fv_dma_unmap,
		.group_status = fv_group_status,
		.group_set_container = fv_group_set_container,
		.group_unset_container = fv_group_unset_container,
		.group_device_fd = fv_group_device_fd,
		.device_info = fv_device_info,
		.region_info = fv_region_info,
		.irq_info = fv_irq_info,
		.set_irqs = fv_set_irqs,
		.reset = fv_reset,
		.hot_reset_info = fv_hot_reset_info,
		.hot_reset = fv_hot_reset,
		.pread = fv_pread,
		.pwrite = fv_pwrite,
		.mmap = fv_mmap,
		.munmap = fv_munmap,
	};
}

void fake_vfio_exit(struct fake_vfio *fv)
{
	for (unsigned int i = 0; i < fv->nr_devs; i++)
		for (unsigned int r = 0; r < VFIO_PCI_NUM_REGIONS; r++)
			free(fv->devs[i].regions[r].mem);
}

struct fv_dev *fake_vfio_add_dev(struct fake_vfio *fv, const char *bdf, int group,
				 uint32_t cfg_size)
{
	struct fv_dev *d;

	if (fv->nr_devs == FV_MAX_DEVS)
		abort();
	d = &fv->devs[fv->nr_devs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->group = group;
	d->fd = -1;
	d->intx_unmask_fd = -1;
	d->cfg_size = cfg_size;
	d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = cfg_size;
	d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags =
		VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	return d;
}

void fv_region_add(struct fv_dev *d, unsigned int index, uint64_t size, uint32_t flags)
{
	struct fv_region *r = &d->regions[index];
	size_t alloc = (size + 4095) & ~(size_t)4095;

	r->size = size;
	r->flags = flags;
	r->mem = aligned_alloc(4096, alloc ? alloc : 4096);
	if (!r->mem)
		abort();
	memset(r->mem, 0, alloc ? alloc : 4096);
}

bool fake_vfio_fire(struct fv_dev *d, unsigned int index, unsigned int v)
{
	uint64_t one = 1;

	if (index >= VFIO_PCI_NUM_IRQS || v >= d->trig_count[index] || d->trig[index][v] < 0)
		return false;
	return write(d->trig[index][v], &one, sizeof(one)) == sizeof(one);
}

void fv_capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t len)
{
	char tmpl[] = "/tmp/minivmm-fv-XXXXXX";
	int fd = mkstemp(tmpl), saved;
	ssize_t n;

	if (fd < 0)
		abort();
	unlink(tmpl);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}
