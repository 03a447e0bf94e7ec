// SPDX-License-Identifier: MIT
/*
 * A passed PCI function's life (open, reset, plug, reset again, release)
 * and the guest slot it lives in: a PCIe root port with the function, or
 * every function of a multi-function device (a GPU's video and HDMI audio)
 * at the same function numbers behind it.
 *
 * Resets (vfio.rst; drivers/vfio/pci/vfio_pci_core.c): VFIO_DEVICE_RESET
 * when the kernel knows a function-level way (FLR, PM D3hot->D0, slot
 * reset), else a hot (secondary bus) reset of the bus above, allowed when
 * every function it would hit belongs to groups we hold. Done when the
 * device is opened (the guest gets it fresh), when the guest resets it
 * (FLR bit, the root port's Secondary Bus Reset, machine reset) and when
 * minivmm lets it go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pcie_port.h"
#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"
#include "lib/trace.h"

#define VFIO_FIRST_SLOT		0x10	/* root ports from 00:10.0 on */
#define PCI_CLASS_DISPLAY_VGA	0x0300

const struct pci_dev_ops vfio_pci_dev_ops = {
	.cfg_read = vfio_cfg_read,
	.cfg_write = vfio_cfg_write,
	.reset = vfio_pci_reset_hook,
	.bar_map = vfio_bar_map,
	.bar_unmap = vfio_bar_unmap,
};

struct vfio_slot {
	struct device dev;
	struct vfio_container *c;
	struct pcie_port *port;
	struct vfio_pci *fn[8];
	unsigned int nr_fn;
};

/* ---- resets --------------------------------------------------------------------- */

static int vfio_hot_reset(struct vfio_pci *v)
{
	const struct vfio_ops *ops = v->ops;
	struct vfio_pci_hot_reset_info *info;
	struct vfio_pci_hot_reset *reset = NULL;
	uint32_t cap = 16;
	unsigned int nr_fds = 0;
	int ret;

	for (;;) {
		info = calloc(1, sizeof(*info) + cap * sizeof(info->devices[0]));
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)(sizeof(*info) + cap * sizeof(info->devices[0]));
		ret = ops->hot_reset_info(ops->ctx, v->fd, info);
		if (ret != -ENOSPC || info->count <= cap || info->count > 256)
			break;
		cap = info->count;
		free(info);
	}
	if (ret)
		goto free_info;
	if (info->count > cap) {
		ret = -ENOSPC;
		goto free_info;
	}
	reset = calloc(1, sizeof(*reset) + info->count * sizeof(int32_t));
	if (!reset) {
		ret = -ENOMEM;
		goto free_info;
	}
	for (uint32_t i = 0; i < info->count; i++) {
		const struct vfio_pci_dependent_device *d = &info->devices[i];
		struct vfio_group *g = vfio_container_find_group(v->c, (int)d->group_id);
		bool dup = false;

		if (!g) {
			pr_debug("vfio: %s: a bus reset would also reset %04x:%02x:%02x.%x (group %u), which minivmm does not hold",
				 v->bdf, d->segment, d->bus, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn),
				 d->group_id);
			ret = -EBUSY;
			goto free_reset;
		}
		for (unsigned int k = 0; k < nr_fds; k++)
			dup |= reset->group_fds[k] == g->fd;
		if (!dup)
			reset->group_fds[nr_fds++] = g->fd;
	}
	reset->argsz = (uint32_t)(sizeof(*reset) + nr_fds * sizeof(int32_t));
	reset->count = nr_fds;
	ret = ops->hot_reset(ops->ctx, v->fd, reset);
free_reset:
	free(reset);
free_info:
	free(info);
	return ret;
}

int vfio_pci_hw_reset(struct vfio_pci *v, const char *why)
{
	int ret = -ENOTTY;

	if (v->dev_flags & VFIO_DEVICE_FLAGS_RESET) {
		ret = v->ops->reset(v->ops->ctx, v->fd);
		if (trace_on(TRACE_VFIO))
			vfio_trace_reset(v, why, "VFIO_DEVICE_RESET", ret);
		if (!ret) {
			pr_debug("vfio: %s: reset (VFIO_DEVICE_RESET)", v->bdf);
			return 0;
		}
	}
	ret = vfio_hot_reset(v);
	if (trace_on(TRACE_VFIO))
		vfio_trace_reset(v, why, "bus", ret);
	if (ret)
		pr_debug("vfio: %s: no reset method worked (%s): it keeps its state",
			 v->bdf, strerror(-ret));
	else
		pr_debug("vfio: %s: reset (bus reset)", v->bdf);
	return ret;
}

/*
 * The core restored the power-on config (machine reset, Secondary Bus
 * Reset on the root port): the device follows. Root lock held. The BAR
 * memslots go only after this hook (the core re-evaluates decode then),
 * so the device's decode stays as it is until the guest writes COMMAND:
 * turning it off here would leave other vCPUs a window onto BARs that
 * vfio-pci blocks. DMA and INTx follow at once.
 */
static void vfio_pci_reset(struct vfio_pci *v, const char *why)
{
	vfio_intr_reset(v);
	vfio_pci_hw_reset(v, why);
	vfio_hw_cmd_sync_mask(v, pci_get16(v->dev.config, PCI_COMMAND),
			      PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
}

void vfio_pci_reset_hook(struct pci_dev *dev)
{
	vfio_pci_reset(to_vfio(dev), "pci-reset");
}

void vfio_pci_flr(struct vfio_pci *v)
{
	struct pci_dev *dev = &v->dev;

	/* PCIe 4.0 §6.6.2: the function returns to its reset state, its
	 * config included (sticky bits aside, which we do not emulate). */
	memcpy(dev->config, dev->reset_config, dev->cfg_size);
	vfio_pci_reset(v, "flr");
	if (dev->bus)
		pci_root_update_mappings(dev->bus->root);
}

/* ---- one function ----------------------------------------------------------------- */

static void vfio_pci_close(struct vfio_pci *v)
{
	if (!v)
		return;
	if (v->dev.bus || v->dev.ops)
		pci_dev_exit(&v->dev);
	vfio_bars_exit(v);
	if (v->fd >= 0)
		v->ops->close(v->ops->ctx, v->fd);
	vfio_container_put_group(v->c, v->group);
	free(v);
}

/* Open the device fd and learn its regions and interrupts. */
static struct vfio_pci *vfio_pci_open(struct vfio_container *c, const char *bdf)
{
	const struct vfio_ops *ops = c->ops;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_pci *v = calloc(1, sizeof(*v));
	int group, ret;

	if (!v)
		return NULL;
	v->c = c;
	v->ops = ops;
	v->vm = c->vm;
	v->fd = -1;
	v->rom_slot = -1;
	snprintf(v->bdf, sizeof(v->bdf), "%s", bdf);
	snprintf(v->name, sizeof(v->name), "vfio %s", bdf);
	if (vfio_container_check_device(c, bdf, &group) ||
	    vfio_container_get_group(c, group, &v->group))
		goto close_v;
	v->fd = ops->group_device_fd(ops->ctx, v->group->fd, bdf);
	if (v->fd < 0) {
		pr_err("vfio: %s: cannot get the device from its group: %s%s", bdf,
		       strerror(-v->fd), v->fd == -EBUSY ? " (another program has it open)" : "");
		goto close_v;
	}
	ret = ops->device_info(ops->ctx, v->fd, &info);
	if (ret || !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		pr_err("vfio: %s: not a VFIO PCI device (%s)", bdf, ret ? strerror(-ret) : "flags");
		goto close_v;
	}
	v->dev_flags = info.flags;
	v->num_regions = info.num_regions;
	v->num_irqs = info.num_irqs;
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS && i < info.num_irqs; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		if (!ops->irq_info(ops->ctx, v->fd, &irq) && (irq.flags & VFIO_IRQ_INFO_EVENTFD)) {
			v->irq_count[i] = irq.count;
			v->irq_flags[i] = irq.flags;
		}
	}
	if (vfio_region_get(v, VFIO_PCI_CONFIG_REGION_INDEX, &v->cfg, NULL) || !v->cfg.size) {
		pr_err("vfio: %s: VFIO shows no config space for it", bdf);
		goto close_v;
	}
	return v;

close_v:
	vfio_pci_close(v);
	return NULL;
}

/* After every function of the slot is open (a bus reset needs all their
 * groups): reset, then build the guest's view. */
static int vfio_pci_setup(struct vfio_pci *v, const char *romfile)
{
	uint8_t pin = 0;
	int ret;

	if (trace_on(TRACE_VFIO))
		vfio_trace_probe_reset_method(v);
	vfio_pci_hw_reset(v, "open");
	if (v->irq_count[VFIO_PCI_INTX_IRQ_INDEX] &&
	    !vfio_hw_cfg_read(v, PCI_INTERRUPT_PIN, &pin, 1))
		v->intx.present = pin >= 1 && pin <= 4;
	ret = vfio_config_init(v);
	if (ret)
		return ret;
	ret = vfio_bars_init(v);
	if (ret)
		return ret;
	ret = vfio_rom_init(v, romfile);
	if (ret)
		return ret;
	ret = vfio_intr_init(v);
	if (ret)
		return ret;
	/* The device starts quiet: no decode, no DMA, until the guest
	 * enables them in its COMMAND register. */
	vfio_hw_cmd_sync(v, 0);
	return 0;
}

/* ---- the slot ------------------------------------------------------------------------ */

static int fn_of(const char *bdf)
{
	size_t n = strlen(bdf);

	return n >= 2 && bdf[n - 2] == '.' ? bdf[n - 1] - '0' : 0;
}

/*
 * The root port's link is the device's (PCIe 4.0 §7.5.3.6-8, §7.5.3.18):
 * the speeds and width of the first function with a PCI Express
 * capability, as the guest sees them in that function (its own values,
 * read from the device at open), so that a driver comparing the two (or
 * checking the port's maximum before raising the link speed) sees one
 * trained link rather than a x1 2.5 GT/s port in front of a x16 card.
 */
static void vfio_slot_link(struct vfio_slot *s)
{
	for (unsigned int i = 0; i < s->nr_fn; i++) {
		const uint8_t *cfg = s->fn[i]->dev.config;
		unsigned int c = s->fn[i]->exp_cap;

		if (!c)
			continue;
		pcie_root_port_set_link(s->port, pci_get32(cfg, c + PCI_EXP_LNKCAP),
					pci_get16(cfg, c + PCI_EXP_LNKSTA),
					(pci_get16(cfg, c + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS) >= 2
						? pci_get32(cfg, c + PCI_EXP_LNKCAP2) : 0);
		pr_debug("vfio: %s: its root port has its link: Max Link Speed %u, x%u",
			 s->fn[i]->bdf, pci_get32(cfg, c + PCI_EXP_LNKCAP) & 0xf,
			 (pci_get32(cfg, c + PCI_EXP_LNKCAP) >> 4) & 0x3f);
		return;
	}
}

/* Reset through the root: the port's and each function's PCI reset
 * hook (vfio_pci_reset_hook resets the device itself). */
static void vfio_slot_dev_destroy(struct device *dev)
{
	vfio_slot_destroy(container_of(dev, struct vfio_slot, dev));
}

static const struct device_ops vfio_slot_device_ops = {
	.destroy = vfio_slot_dev_destroy,
};

struct vfio_slot *vfio_slot_create(struct vfio_container *c, struct pci_root *root,
				   const struct vfio_slot_config *cfg)
{
	char norm[HOST_BDF_LEN], (*bdfs)[HOST_BDF_LEN] = NULL;
	struct pci_bus *bus0 = pci_root_bus(root);
	struct vfio_slot *s;
	bool is_slot = false, keep_fn = false, vga_done = false;
	size_t n = 0;
	int slot, ret;

	if (host_bdf_parse(cfg->bdf, norm, sizeof(norm), &is_slot)) {
		pr_err("vfio: '%s' is not a PCI address (like 65:00.0, 0000:65:00.0, or 65:00 for every function)",
		       cfg->bdf);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->all_functions && !is_slot)
		norm[strlen(norm) - 2] = '\0';	/* "0000:65:00.0" -> "0000:65:00" */
	ret = host_bdf_expand(&c->env, norm, &bdfs, &n);
	if (ret || !n) {
		pr_err("vfio: %s: no such PCI device on this host (lspci -D lists them)", norm);
		errno = ENODEV;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		goto free_bdfs;
	}
	s->c = c;
	if (n > 8)
		n = 8;
	for (size_t i = 0; i < n; i++) {
		s->fn[i] = vfio_pci_open(c, bdfs[i]);
		if (!s->fn[i]) {
			ret = -ENODEV;
			goto destroy_slot;
		}
		s->nr_fn++;
		keep_fn |= fn_of(bdfs[i]) == 0;
	}
	/* Functions keep their numbers when function 0 is among them (so
	 * the guest's drivers see the layout they know), else 0, 1, ...:
	 * a guest looks for more functions only where function 0 is. */
	keep_fn &= n > 1;
	for (unsigned int i = 0; i < s->nr_fn; i++) {
		s->fn[i]->legacy_vga = cfg->vga;
		s->fn[i]->no_mmap = cfg->no_mmap;
		ret = vfio_pci_setup(s->fn[i], i == 0 ? cfg->romfile : NULL);
		if (ret)
			goto destroy_slot;
	}

	slot = pci_bus_free_slot(bus0, VFIO_FIRST_SLOT);
	if (slot < 0) {
		pr_err("vfio: %s: no free slot on the root bus for its root port", norm);
		ret = slot;
		goto destroy_slot;
	}
	s->port = pcie_root_port_create(bus0, PCI_DEVFN(slot, 0), ++c->next_port);
	if (!s->port) {
		ret = -errno;
		goto destroy_slot;
	}
	for (unsigned int i = 0; i < s->nr_fn; i++) {
		struct vfio_pci *v = s->fn[i];
		unsigned int f = keep_fn ? (unsigned int)fn_of(v->bdf) : i;

		if (f == 0 && s->nr_fn > 1)
			v->dev.config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
		ret = pci_bus_plug(pcie_port_bus(s->port), &v->dev, PCI_DEVFN(0, f));
		if (ret) {
			pr_err("vfio: %s: cannot plug it behind its root port: %s", v->bdf,
			       strerror(-ret));
			goto destroy_slot;
		}
		vfio_intx_start(v);
		if (cfg->vga && !vga_done &&
		    pci_get16(v->dev.config, PCI_CLASS_DEVICE) == PCI_CLASS_DISPLAY_VGA) {
			ret = vfio_vga_init(v, root);
			if (ret)
				goto destroy_slot;
			vga_done = true;
		}
	}
	vfio_slot_link(s);
	if (cfg->vga && !vga_done) {
		pr_err("vfio: %s: vga=on, but no function there is a VGA controller (class 0300)", norm);
		ret = -EINVAL;
		goto destroy_slot;
	}
	pr_debug("vfio: %s: %u function(s) behind the root port at 00:%02x.0", norm,
		 s->nr_fn, slot);
	free(bdfs);
	device_register(c->vm, &s->dev, "vfio-slot", &vfio_slot_device_ops);
	return s;

destroy_slot:
	vfio_slot_destroy(s);
free_bdfs:
	free(bdfs);
	errno = -ret;
	return NULL;
}

void vfio_slot_destroy(struct vfio_slot *s)
{
	if (!s)
		return;
	device_unregister(&s->dev);
	/* Quiesce and reset every function while all groups are held (a bus
	 * reset needs them), then let go. */
	for (unsigned int i = 0; i < s->nr_fn; i++) {
		struct vfio_pci *v = s->fn[i];

		if (!v->dev.ops)
			continue;	/* never set up */
		vfio_vga_exit(v);
		vfio_intr_exit(v);
		vfio_pci_hw_reset(v, "exit");
		vfio_hw_cmd_sync(v, 0);
	}
	for (unsigned int i = s->nr_fn; i--;)
		vfio_pci_close(s->fn[i]);
	pcie_root_port_destroy(s->port);
	free(s);
}

struct pci_dev *vfio_slot_port(struct vfio_slot *s)
{
	return s->port ? pcie_port_dev(s->port) : NULL;
}

struct pci_dev *vfio_slot_function(struct vfio_slot *s, unsigned int f)
{
	for (unsigned int i = 0; i < s->nr_fn; i++)
		if (s->fn[i]->dev.bus && PCI_FUNC(s->fn[i]->dev.devfn) == f)
			return &s->fn[i]->dev;
	return NULL;
}
