// SPDX-License-Identifier: MIT
/*
 * The VFIO container and its groups (Documentation/driver-api/vfio.rst,
 * "VFIO Usage Example"): one container with a type1 IOMMU for the whole
 * VM, every group of a passed device attached to it, all guest RAM mapped
 * once at IOVA = guest physical address, and every group registered with
 * KVM's VFIO pseudo-device.
 *
 * A group is only usable when every device in it is bound to vfio-pci or
 * to no driver (the kernel calls it "viable"); sysfs tells us which member
 * is not before the kernel refuses, so the error can name it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "devices/vfio/internal.h"
#include "lib/log.h"
#include "lib/trace.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* "512 MiB", "1.5 GiB": for messages about memory sizes. */
static const char *size_str(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= GiB && bytes % (GiB / 2) == 0)
		snprintf(buf, len, "%.*f GiB", bytes % GiB ? 1 : 0, (double)bytes / (double)GiB);
	else if (bytes >= MiB)
		snprintf(buf, len, "%" PRIu64 " MiB", (bytes + MiB - 1) / MiB);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", (bytes + KiB - 1) / KiB);
	return buf;
}

/* Nothing of its own to reset: guest RAM stays mapped for DMA across a
 * reboot; the devices are reset through the PCI root. */
static void vfio_container_dev_destroy(struct device *dev)
{
	vfio_container_destroy(container_of(dev, struct vfio_container, dev));
}

static const struct device_ops vfio_container_device_ops = {
	.destroy = vfio_container_dev_destroy,
};

struct vfio_container *vfio_container_create(const struct vfio_ops *ops,
					     const struct vm_ops *vm,
					     const char *sysfs_root)
{
	struct vfio_container *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->ops = ops;
	c->vm = vm;
	host_env_init(&c->env);
	if (sysfs_root)
		c->env.sysfs = sysfs_root;
	c->fd = ops->open_container(ops->ctx);
	if (c->fd < 0) {
		ret = c->fd;
		if (ret == -ENOENT || ret == -ENODEV)
			pr_err("vfio: /dev/vfio/vfio does not exist: the VFIO modules are not loaded (modprobe vfio-pci; 'minivmm check' tells more)");
		else if (ret == -EACCES || ret == -EPERM)
			pr_err("vfio: /dev/vfio/vfio: permission denied (run as root, or give the user access to /dev/vfio)");
		else
			pr_err("vfio: cannot open /dev/vfio/vfio: %s", strerror(-ret));
		goto free_c;
	}
	ret = ops->api_version(ops->ctx, c->fd);
	if (ret != VFIO_API_VERSION) {
		pr_err("vfio: the kernel speaks VFIO API version %d, minivmm needs %d", ret,
		       VFIO_API_VERSION);
		ret = -ENOTSUP;
		goto close_fd;
	}
	/* Type1v2 unmaps exactly what was mapped (no partial unmaps of huge
	 * mappings) and is what every current kernel offers; plain type1
	 * for old ones. */
	if (ops->check_extension(ops->ctx, c->fd, VFIO_TYPE1v2_IOMMU) > 0) {
		c->iommu_type = VFIO_TYPE1v2_IOMMU;
	} else if (ops->check_extension(ops->ctx, c->fd, VFIO_TYPE1_IOMMU) > 0) {
		c->iommu_type = VFIO_TYPE1_IOMMU;
	} else {
		pr_err("vfio: the kernel offers no type1 IOMMU backend for VFIO (modprobe vfio_iommu_type1; is the IOMMU on? 'minivmm check')");
		ret = -ENOTSUP;
		goto close_fd;
	}
	device_register(vm, &c->dev, "vfio-container", &vfio_container_device_ops);
	return c;

close_fd:
	ops->close(ops->ctx, c->fd);
free_c:
	free(c);
	errno = -ret;
	return NULL;
}

/*
 * Is bdf passable? It must exist, be in an IOMMU group, be bound to
 * vfio-pci itself, and share the group only with functions vfio accepts.
 */
int vfio_container_check_device(struct vfio_container *c, const char *bdf, int *group)
{
	struct host_pci_dev hd, *members = NULL;
	char offenders[512] = "";
	size_t n = 0, used = 0;
	int ret;

	ret = host_pci_read(&c->env, bdf, &hd);
	if (ret) {
		pr_err("vfio: %s: no such PCI device on this host (lspci -D lists them)", bdf);
		return -ENODEV;
	}
	if (hd.bridge) {
		pr_err("vfio: %s is a PCI bridge: pass the devices behind it instead", bdf);
		return -EINVAL;
	}
	if (hd.group < 0) {
		pr_err("vfio: %s is in no IOMMU group: the IOMMU is off (intel_iommu=on or amd_iommu=on on the kernel command line; 'minivmm check')",
		       bdf);
		return -ENODEV;
	}
	if (strcmp(hd.driver, "vfio-pci")) {
		pr_err("vfio: %s is %s%s, not on vfio-pci (minivmm bind %s)", bdf,
		       hd.driver[0] ? "on driver " : "on no driver", hd.driver, bdf);
		return -EBUSY;
	}
	ret = host_group_members(&c->env, hd.group, &members, &n);
	if (ret) {
		pr_err("vfio: cannot list IOMMU group %d of %s: %s", hd.group, bdf, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		int w;

		if (host_pci_vfio_ok(&members[i]) || !strcmp(members[i].bdf, bdf))
			continue;
		w = snprintf(offenders + used, sizeof(offenders) - used, "%s%s (driver %s)",
			     used ? ", " : "", members[i].bdf, members[i].driver);
		if (w > 0 && (size_t)w < sizeof(offenders) - used)
			used += (size_t)w;
	}
	free(members);
	if (used) {
		pr_err("vfio: %s: IOMMU group %d also holds %s; every device of a group must be on vfio-pci or have no driver (minivmm bind %s binds the whole group)",
		       bdf, hd.group, offenders, bdf);
		return -EBUSY;
	}
	*group = hd.group;
	return 0;
}

struct vfio_group *vfio_container_find_group(struct vfio_container *c, int id)
{
	for (struct vfio_group *g = c->groups; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

int vfio_container_get_group(struct vfio_container *c, int id, struct vfio_group **out)
{
	const struct vfio_ops *ops = c->ops;
	struct vfio_group *g = vfio_container_find_group(c, id);
	uint32_t flags = 0;
	int ret;

	if (g) {
		g->refs++;
		*out = g;
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = id;
	g->fd = ops->open_group(ops->ctx, id);
	if (g->fd < 0) {
		ret = g->fd;
		if (ret == -ENOENT)
			pr_err("vfio: /dev/vfio/%d does not exist: no device of IOMMU group %d is bound to vfio-pci (minivmm bind)",
			       id, id);
		else if (ret == -EBUSY)
			pr_err("vfio: IOMMU group %d is in use: another VM or program has /dev/vfio/%d open",
			       id, id);
		else if (ret == -EACCES || ret == -EPERM)
			pr_err("vfio: /dev/vfio/%d: permission denied (run as root or chown the node to this user)",
			       id);
		else
			pr_err("vfio: cannot open /dev/vfio/%d: %s", id, strerror(-ret));
		goto free_g;
	}
	ret = ops->group_status(ops->ctx, g->fd, &flags);
	if (ret) {
		pr_err("vfio: IOMMU group %d: status: %s", id, strerror(-ret));
		goto close_fd;
	}
	if (!(flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("vfio: IOMMU group %d is not viable: one of its devices is on a host driver ('minivmm groups' shows which; minivmm bind)",
		       id);
		ret = -EBUSY;
		goto close_fd;
	}
	ret = ops->group_set_container(ops->ctx, g->fd, c->fd);
	if (ret) {
		pr_err("vfio: IOMMU group %d: cannot attach it to the container: %s", id,
		       strerror(-ret));
		goto close_fd;
	}
	/* The IOMMU model is chosen once a group is in (vfio.rst). */
	if (!c->iommu_set) {
		ret = ops->set_iommu(ops->ctx, c->fd, c->iommu_type);
		if (ret) {
			pr_err("vfio: cannot set up the type1 IOMMU for group %d: %s (interrupt remapping off? 'minivmm check')",
			       id, strerror(-ret));
			goto unset_container;
		}
		c->iommu_set = true;
	}
	/* KVM must know: it then honours guest cache attributes for
	 * non-coherent DMA and enables VFIO's KVM-dependent features. */
	ret = c->vm->vfio_group_add(c->vm->vm, g->fd);
	if (ret) {
		pr_err("vfio: KVM refuses IOMMU group %d: %s", id, strerror(-ret));
		goto unset_container;
	}
	g->kvm_added = true;
	g->refs = 1;
	g->next = c->groups;
	c->groups = g;
	*out = g;
	return 0;

unset_container:
	ops->group_unset_container(ops->ctx, g->fd);
	if (!c->groups)
		c->iommu_set = false;
close_fd:
	ops->close(ops->ctx, g->fd);
free_g:
	free(g);
	return ret;
}

static void vfio_container_unmap_all(struct vfio_container *c)
{
	for (unsigned int i = 0; i < c->nr_maps; i++) {
		int ret = c->ops->dma_unmap(c->ops->ctx, c->fd, c->maps[i].iova, c->maps[i].size);

		if (trace_on(TRACE_VFIO))
			vfio_trace_dma("dma-unmap", c->maps[i].iova, c->maps[i].size, ret);

		if (ret)
			pr_warn("vfio: DMA unmap of %#" PRIx64 " (+%#" PRIx64 "): %s",
				c->maps[i].iova, c->maps[i].size, strerror(-ret));
	}
	c->nr_maps = 0;
}

void vfio_container_put_group(struct vfio_container *c, struct vfio_group *g)
{
	const struct vfio_ops *ops = c->ops;

	if (!g || --g->refs)
		return;
	for (struct vfio_group **p = &c->groups; *p; p = &(*p)->next) {
		if (*p == g) {
			*p = g->next;
			break;
		}
	}
	if (g->kvm_added)
		c->vm->vfio_group_del(c->vm->vm, g->fd);
	/* The last group out takes the IOMMU domain with it: unmap first,
	 * so each unmap is accounted (and unpinned) one by one. */
	if (!c->groups)
		vfio_container_unmap_all(c);
	ops->group_unset_container(ops->ctx, g->fd);
	ops->close(ops->ctx, g->fd);
	if (!c->groups)
		c->iommu_set = false;
	free(g);
}

int vfio_container_map_ram(struct vfio_container *c, const struct guest_mem *mem)
{
	const struct vfio_ops *ops = c->ops;
	uint64_t total = 0, t0;
	char need[32], have[32];
	struct rlimit rl;
	int ret = 0;

	if (!c->groups || c->nr_maps)
		return 0;
	for (unsigned int i = 0; i < mem->nr_regions; i++)
		total += mem->regions[i].size;
	/* type1 pins every mapped page and charges it to RLIMIT_MEMLOCK
	 * (vfio_iommu_type1.c, vfio_lock_acct) unless we have CAP_IPC_LOCK.
	 * Say so before the kernel fails half-way with a bare ENOMEM. */
	if (!host_has_cap_ipc_lock(&c->env) && !host_memlock_limits(&c->env, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < total) {
		pr_err("vfio: RLIMIT_MEMLOCK is %s, but VFIO pins all guest RAM for device DMA: %s needed (ulimit -l %" PRIu64 " in the shell that starts minivmm, LimitMEMLOCK= for a service; 'minivmm check --memory' tells more)",
		       size_str(rl.rlim_cur, have, sizeof(have)),
		       size_str(total, need, sizeof(need)), (total + MiB - 1) / MiB * 1024);
		return -ENOMEM;
	}
	t0 = now_ns();
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		ret = ops->dma_map(ops->ctx, c->fd, r->gpa, r->size, mem->base + r->offset);
		if (trace_on(TRACE_VFIO))
			vfio_trace_dma("dma-map", r->gpa, r->size, ret);
		if (ret) {
			if (ret == -ENOMEM)
				pr_err("vfio: cannot pin guest RAM at %#" PRIx64 " (%s) for DMA: out of memory or over RLIMIT_MEMLOCK (%s of guest RAM must be locked; 'minivmm check --memory')",
				       r->gpa, size_str(r->size, need, sizeof(need)),
				       size_str(total, have, sizeof(have)));
			else
				pr_err("vfio: cannot map guest RAM at %#" PRIx64 " (%s) for DMA: %s",
				       r->gpa, size_str(r->size, need, sizeof(need)), strerror(-ret));
			vfio_container_unmap_all(c);
			return ret;
		}
		c->maps[c->nr_maps].iova = r->gpa;
		c->maps[c->nr_maps].size = r->size;
		c->nr_maps++;
	}
	c->map_ns = now_ns() - t0;
	pr_debug("vfio: DMA-mapped %s of guest RAM (%s pages) in %.1f ms",
		 size_str(total, need, sizeof(need)), mem_backing_name(mem->backing),
		 (double)c->map_ns / 1e6);
	return 0;
}

uint64_t vfio_container_map_ns(const struct vfio_container *c)
{
	return c->map_ns;
}

void vfio_container_destroy(struct vfio_container *c)
{
	if (!c)
		return;
	device_unregister(&c->dev);
	/* Slots put their groups; whatever is left (a failed start) goes
	 * here, DMA first. */
	vfio_container_unmap_all(c);
	while (c->groups) {
		c->groups->refs = 1;
		vfio_container_put_group(c, c->groups);
	}
	c->ops->close(c->ops->ctx, c->fd);
	free(c);
}
