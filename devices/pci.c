// SPDX-License-Identifier: MIT
/*
 * PCI core, the function side: header set-up, the default config-space
 * access with write and write-1-to-clear masks, capability lists, buses
 * and plugging, bus-number routing through Type-1 bridges, reset, INTx.
 * BARs and their activation live in pci_bar.c, the host side (0xCF8/
 * 0xCFC, ECAM) in pci_host.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_internal.h"
#include "lib/log.h"

/* QEMU's default subsystem IDs for every function it emulates (Red Hat,
 * "QEMU"): guests and their drivers have seen these on q35 forever. */
#define PCI_SUBVENDOR_QEMU	0x1af4
#define PCI_SUBDEVICE_QEMU	0x1100

#define PCI_CAP_FIRST		0x40	/* capabilities live in 0x40-0xff */

static void pci_init_masks_type0(struct pci_dev *dev)
{
	pci_set16(dev->config, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBVENDOR_QEMU);
	pci_set16(dev->config, PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_QEMU);
}

/*
 * Type-1 header writable fields, P2P 1.2 §3.2.5: bus numbers, 32-bit I/O
 * addressing (low nibble 1 in base and limit, §3.2.5.6), 64-bit
 * prefetchable addressing (low nibble 1, §3.2.5.9), the upper halves,
 * and bridge control without the read-only/RW1C bits (§3.2.5.17).
 */
static void pci_init_masks_type1(struct pci_dev *dev)
{
	uint8_t *c = dev->config, *w = dev->wmask;

	pci_set8(w, PCI_PRIMARY_BUS, 0xff);
	pci_set8(w, PCI_SECONDARY_BUS, 0xff);
	pci_set8(w, PCI_SUBORDINATE_BUS, 0xff);
	pci_set8(w, PCI_SEC_LATENCY_TIMER, 0xff);
	pci_set8(c, PCI_IO_BASE, 0x01);
	pci_set8(c, PCI_IO_LIMIT, 0x01);
	pci_set8(w, PCI_IO_BASE, 0xf0);
	pci_set8(w, PCI_IO_LIMIT, 0xf0);
	pci_set16(dev->w1cmask, PCI_SEC_STATUS, PCI_STATUS_W1C);
	pci_set16(w, PCI_MEMORY_BASE, 0xfff0);
	pci_set16(w, PCI_MEMORY_LIMIT, 0xfff0);
	pci_set16(c, PCI_PREF_MEMORY_BASE, 0x0001);
	pci_set16(c, PCI_PREF_MEMORY_LIMIT, 0x0001);
	pci_set16(w, PCI_PREF_MEMORY_BASE, 0xfff0);
	pci_set16(w, PCI_PREF_MEMORY_LIMIT, 0xfff0);
	pci_set32(w, PCI_PREF_BASE_UPPER32, 0xffffffff);
	pci_set32(w, PCI_PREF_LIMIT_UPPER32, 0xffffffff);
	pci_set16(w, PCI_IO_BASE_UPPER16, 0xffff);
	pci_set16(w, PCI_IO_LIMIT_UPPER16, 0xffff);
	/* parity, SERR, ISA, VGA, VGA16, master abort, bus reset, fast
	 * back-to-back, the discard timer bits; bit 10 is RW1C. */
	pci_set16(w, PCI_BRIDGE_CONTROL, 0x0bff);
	pci_set16(dev->w1cmask, PCI_BRIDGE_CONTROL, 0x0400);
}

int pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops, const char *name,
		 uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		 uint8_t header_type, bool express)
{
	static const struct pci_dev_ops no_ops;

	if (header_type > PCI_HEADER_TYPE_BRIDGE || class_code > 0xffffff)
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->intx_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	dev->ops = ops ? ops : &no_ops;
	dev->name = name ? name : "pci";
	dev->cfg_size = express ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;

	pci_set16(dev->config, PCI_VENDOR_ID, vendor);
	pci_set16(dev->config, PCI_DEVICE_ID, device);
	pci_set8(dev->config, PCI_REVISION_ID, revision);
	pci_set8(dev->config, PCI_CLASS_PROG, (uint8_t)class_code);
	pci_set16(dev->config, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	pci_set8(dev->config, PCI_HEADER_TYPE, header_type);

	/* PCI 3.0 §6.2.2: the decode enables, bus master, parity/SERR
	 * response and INTx disable are what a function implements. */
	pci_set16(dev->wmask, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		  PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		  PCI_COMMAND_INTX_DISABLE);
	pci_set16(dev->w1cmask, PCI_STATUS, PCI_STATUS_W1C);
	pci_set8(dev->wmask, PCI_CACHE_LINE_SIZE, 0xff);
	/* PCIe 4.0 §7.5.1.1.6: the latency timer is hardwired to 0. */
	if (!express)
		pci_set8(dev->wmask, PCI_LATENCY_TIMER, 0xff);
	pci_set8(dev->wmask, PCI_INTERRUPT_LINE, 0xff);
	/*
	 * The device-specific area 0x40-0xff is plain read/write storage
	 * unless the device says otherwise, as in QEMU (firmware does
	 * read-modify-write on chipset registers we do not model).
	 * Capabilities make their own bytes read-only again.
	 */
	memset(dev->wmask + PCI_CAP_FIRST, 0xff, PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST);
	memset(dev->cap_used, 0xff, PCI_CAP_FIRST / 8);

	if (header_type == PCI_HEADER_TYPE_BRIDGE) {
		pci_init_masks_type1(dev);
		dev->secondary = calloc(1, sizeof(*dev->secondary));
		if (!dev->secondary)
			return -ENOMEM;
		dev->secondary->bridge = dev;
	} else {
		pci_init_masks_type0(dev);
	}
	return 0;
}

void pci_dev_exit(struct pci_dev *dev)
{
	if (dev->secondary) {
		/* Whatever still sits behind the bridge becomes unreachable:
		 * unplug it so it never follows a freed bus pointer. */
		for (unsigned int i = 0; i < 256; i++)
			if (dev->secondary->devs[i])
				pci_bus_unplug(dev->secondary->devs[i]);
	}
	pci_bus_unplug(dev);
	free(dev->secondary);
	dev->secondary = NULL;
}

/* ---- capabilities (PCI 3.0 §6.7, PCIe 4.0 §7.6) ------------------------- */

static bool cap_range_free(const struct pci_dev *dev, unsigned int off, unsigned int size)
{
	for (unsigned int i = off; i < off + size; i++)
		if (dev->cap_used[i / 8] & (1u << (i % 8)))
			return false;
	return true;
}

static void cap_range_mark(struct pci_dev *dev, unsigned int off, unsigned int size)
{
	for (unsigned int i = off; i < off + size; i++)
		dev->cap_used[i / 8] |= (uint8_t)(1u << (i % 8));
}

int pci_dev_reserve(struct pci_dev *dev, unsigned int offset, unsigned int size)
{
	if (offset < PCI_CAP_FIRST || size == 0 || size > PCI_CFG_SPACE_SIZE ||
	    offset > PCI_CFG_SPACE_SIZE - size)
		return -EINVAL;
	cap_range_mark(dev, offset, size);
	return 0;
}

int pci_dev_add_cap(struct pci_dev *dev, uint8_t id, unsigned int offset, unsigned int size)
{
	if (size < 2 || size > PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST)
		return -EINVAL;
	if (offset) {
		if (offset % 4 || offset < PCI_CAP_FIRST ||
		    offset > PCI_CFG_SPACE_SIZE - size)
			return -EINVAL;
		if (!cap_range_free(dev, offset, size))
			return -EEXIST;
	} else {
		for (offset = PCI_CAP_FIRST; offset <= PCI_CFG_SPACE_SIZE - size; offset += 4)
			if (cap_range_free(dev, offset, size))
				break;
		if (offset > PCI_CFG_SPACE_SIZE - size)
			return -ENOSPC;
	}
	cap_range_mark(dev, offset, size);
	memset(dev->wmask + offset, 0, size);
	memset(dev->w1cmask + offset, 0, size);
	dev->config[offset] = id;
	dev->config[offset + 1] = dev->config[PCI_CAPABILITY_LIST];
	dev->config[PCI_CAPABILITY_LIST] = (uint8_t)offset;
	pci_set16(dev->config, PCI_STATUS,
		  pci_get16(dev->config, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	return (int)offset;
}

unsigned int pci_dev_find_cap(const struct pci_dev *dev, uint8_t id)
{
	unsigned int off = dev->config[PCI_CAPABILITY_LIST] & 0xfc;

	/* At most 48 dword-aligned capabilities fit in 0x40-0xff: a longer
	 * walk is a loop. */
	for (unsigned int n = 0; off >= PCI_CAP_FIRST && n < 48; n++) {
		if (dev->config[off] == id)
			return off;
		off = dev->config[off + 1] & 0xfc;
	}
	return 0;
}

int pci_dev_add_ext_cap(struct pci_dev *dev, uint16_t id, uint8_t version,
			unsigned int offset, unsigned int size)
{
	unsigned int first = dev->ext_cap_tail ? dev->ext_cap_free : PCI_CFG_SPACE_SIZE;

	if (dev->cfg_size != PCI_CFG_SPACE_EXP_SIZE || size < 4 || version > 0xf ||
	    size > PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE)
		return -EINVAL;
	if (!offset)
		offset = first;
	/* The list starts at 0x100 (§7.6.2) and we append in address order,
	 * so a capability never overlaps an earlier one. */
	if (offset % 4 || offset < first || (!dev->ext_cap_tail && offset != first) ||
	    offset > PCI_CFG_SPACE_EXP_SIZE - size)
		return -EINVAL;
	memset(dev->wmask + offset, 0, size);
	memset(dev->w1cmask + offset, 0, size);
	pci_set32(dev->config, offset, (uint32_t)id | (uint32_t)version << 16);
	if (dev->ext_cap_tail) {
		uint32_t hdr = pci_get32(dev->config, dev->ext_cap_tail);

		hdr = (hdr & 0x000fffff) | (uint32_t)offset << 20;
		pci_set32(dev->config, dev->ext_cap_tail, hdr);
	}
	dev->ext_cap_tail = (uint16_t)offset;
	dev->ext_cap_free = (uint16_t)((offset + size + 3) & ~3u);
	return (int)offset;
}

/* ---- config access ---------------------------------------------------- */

uint32_t pci_dev_default_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	/* Beyond a conventional function's 256 bytes nothing answers. */
	if (len > 4 || off >= dev->cfg_size || len > dev->cfg_size - off)
		return 0xffffffffu;
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)dev->config[off + i] << (8 * i);
	/* Interrupt Status follows the device's INTx request whatever INTx
	 * Disable says (PCI 3.0 §6.2.3). It is read here rather than kept in
	 * config[], which only root-lock holders touch: the request comes
	 * from any thread (pci_dev_set_irq). */
	if (off <= PCI_STATUS && PCI_STATUS < off + len &&
	    __atomic_load_n(&dev->intx_level, __ATOMIC_ACQUIRE))
		v |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
	return v;
}

/* Which header registers change BAR decode when written. */
static bool pci_write_affects_decode(const struct pci_dev *dev, unsigned int off,
				     unsigned int len)
{
	if (pci_range_overlaps(off, len, PCI_COMMAND, 2))
		return true;
	if (pci_is_bridge(dev))
		return pci_range_overlaps(off, len, PCI_BASE_ADDRESS_0, 8) ||
		       pci_range_overlaps(off, len, PCI_IO_BASE, 2) ||
		       pci_range_overlaps(off, len, PCI_MEMORY_BASE, 0x14) ||
		       pci_range_overlaps(off, len, PCI_ROM_ADDRESS1, 4) ||
		       pci_range_overlaps(off, len, PCI_BRIDGE_CONTROL, 2);
	return pci_range_overlaps(off, len, PCI_BASE_ADDRESS_0, 24) ||
	       pci_range_overlaps(off, len, PCI_ROM_ADDRESS, 4);
}

void pci_dev_default_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val,
			       unsigned int len)
{
	uint16_t old_cmd = pci_get16(dev->config, PCI_COMMAND);
	uint16_t old_bctl = pci_get16(dev->config, PCI_BRIDGE_CONTROL);

	if (len > 4 || off >= dev->cfg_size || len > dev->cfg_size - off)
		return;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		unsigned int o = off + i;

		dev->config[o] = (uint8_t)((dev->config[o] & ~dev->wmask[o]) | (b & dev->wmask[o]));
		dev->config[o] &= (uint8_t)~(b & dev->w1cmask[o]);
	}

	if ((old_cmd ^ pci_get16(dev->config, PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE)
		pci_dev_intx_sync(dev);
	if (pci_is_bridge(dev) && pci_range_overlaps(off, len, PCI_BRIDGE_CONTROL, 2) &&
	    !(old_bctl & PCI_BRIDGE_CTL_BUS_RESET) &&
	    (pci_get16(dev->config, PCI_BRIDGE_CONTROL) & PCI_BRIDGE_CTL_BUS_RESET) &&
	    dev->secondary)
		/* P2P 1.2 §3.2.5.17: RST# on the secondary interface. */
		pci_bus_reset(dev->secondary);
	if (dev->bus && pci_write_affects_decode(dev, off, len))
		pci_root_update_mappings(dev->bus->root);
}

/* ---- buses ------------------------------------------------------------ */

int pci_bus_plug(struct pci_bus *bus, struct pci_dev *dev, uint8_t devfn)
{
	struct pci_root *root = bus->root;
	int ret = 0;

	if (!root)
		return -EINVAL;
	pthread_mutex_lock(&root->lock);
	if (dev->bus) {
		ret = -EALREADY;
		goto out_unlock;
	}
	if (bus->devs[devfn]) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (dev->secondary)
		dev->secondary->root = root;
	memcpy(dev->reset_config, dev->config, sizeof(dev->config));
	dev->bus = bus;
	dev->devfn = devfn;
	bus->devs[devfn] = dev;
	pci_dev_intx_sync(dev);
out_unlock:
	pthread_mutex_unlock(&root->lock);
	return ret;
}

void pci_bus_unplug(struct pci_dev *dev)
{
	struct pci_root *root;

	if (!dev->bus)
		return;
	root = dev->bus->root;
	pthread_mutex_lock(&root->lock);
	pci_dev_unmap_bars(dev);
	dev->bus->devs[dev->devfn] = NULL;
	dev->bus = NULL;
	pci_dev_intx_sync(dev);		/* no route now: INTx deasserted */
	/* Freed room may let another BAR map now. */
	pci_root_update_mappings(root);
	pthread_mutex_unlock(&root->lock);
}

/*
 * Type-1 config routing (P2P 1.2 §3.2.5.3-5): a request for bus nr goes
 * to the bridge whose secondary bus is nr (it becomes a Type-0 request
 * there) or down through the one whose [secondary, subordinate] range
 * holds nr. Unprogrammed bridges (secondary 0) forward nothing. The walk
 * follows the device tree, so hostile bus numbers cannot make it loop.
 */
static struct pci_bus *pci_find_bus_locked(struct pci_root *root, uint8_t nr)
{
	struct pci_bus *b = &root->bus0;

	if (nr == 0)
		return b;
	for (;;) {
		struct pci_bus *next = NULL;

		for (unsigned int i = 0; i < 256 && !next; i++) {
			struct pci_dev *d = b->devs[i];
			uint8_t sec, sub;

			if (!d || !d->secondary)
				continue;
			sec = d->config[PCI_SECONDARY_BUS];
			sub = d->config[PCI_SUBORDINATE_BUS];
			if (sec == 0)
				continue;
			if (sec == nr)
				return d->secondary;
			if (sec < nr && nr <= sub)
				next = d->secondary;
		}
		if (!next)
			return NULL;
		b = next;
	}
}

struct pci_bus *pci_find_bus(struct pci_root *root, uint8_t nr)
{
	struct pci_bus *b;

	pthread_mutex_lock(&root->lock);
	b = pci_find_bus_locked(root, nr);
	pthread_mutex_unlock(&root->lock);
	return b;
}

static void pci_dev_reset(struct pci_dev *dev)
{
	memcpy(dev->config, dev->reset_config, dev->cfg_size);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	pci_dev_intx_sync(dev);
	if (dev->secondary)
		pci_bus_reset(dev->secondary);
}

void pci_bus_reset(struct pci_bus *bus)
{
	for (unsigned int i = 0; i < 256; i++)
		if (bus->devs[i])
			pci_dev_reset(bus->devs[i]);
}

void pci_root_reset(struct pci_root *root)
{
	pthread_mutex_lock(&root->lock);
	pci_bus_reset(&root->bus0);
	pci_root_update_mappings(root);
	pthread_mutex_unlock(&root->lock);
}

/* ---- INTx (PCI 3.0 §2.2.6, §6.2.4; P2P 1.2 §9.1) -------------------- */

/* The root-bus slot and pin (0 = INTA) dev's INTx arrives at, after the
 * swizzle of P2P 1.2 table 9-1 once per bridge on the way up. */
static bool pci_intx_root_pin(const struct pci_dev *dev, uint8_t *slot_out,
			      unsigned int *pin_out)
{
	unsigned int pin = dev->config[PCI_INTERRUPT_PIN];
	const struct pci_bus *b = dev->bus;
	uint8_t slot = PCI_SLOT(dev->devfn);

	if (!b || pin < 1 || pin > 4)
		return false;
	pin -= 1;
	while (b->bridge) {
		pin = (pin + slot) % 4;
		slot = PCI_SLOT(b->bridge->devfn);
		b = b->bridge->bus;
		if (!b)
			return false;
	}
	*slot_out = slot;
	*pin_out = pin;
	return true;
}

/*
 * Tell the router about a change of what the device drives, intx_lock
 * held. The router is a copy taken under the root lock by
 * pci_dev_intx_sync(), so this path needs no root lock.
 */
static void pci_dev_intx_apply(struct pci_dev *dev)
{
	bool drive = dev->intx_level && !dev->intx_disabled && dev->intx_route.valid;
	const struct pci_intx_route *r = &dev->intx_route;

	if (drive == dev->intx_routed)
		return;
	dev->intx_routed = drive;
	r->router.intx_change(r->router.opaque, r->slot, r->pin, drive ? 1 : -1);
}

void pci_dev_intx_sync(struct pci_dev *dev)
{
	struct pci_root *root = dev->bus ? dev->bus->root : NULL;
	struct pci_intx_route route = { .valid = false };

	if (root && root->router.intx_change &&
	    pci_intx_root_pin(dev, &route.slot, &route.pin)) {
		route.router = root->router;
		route.valid = true;
	}
	pthread_mutex_lock(&dev->intx_lock);
	dev->intx_disabled = pci_get16(dev->config, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	if (dev->intx_routed && memcmp(&route, &dev->intx_route, sizeof(route))) {
		/* Moved (or gone): deassert where it was asserted. */
		dev->intx_route.router.intx_change(dev->intx_route.router.opaque,
						   dev->intx_route.slot, dev->intx_route.pin, -1);
		dev->intx_routed = false;
	}
	dev->intx_route = route;
	pci_dev_intx_apply(dev);
	pthread_mutex_unlock(&dev->intx_lock);
}

void pci_bus_intx_sync(struct pci_bus *bus)
{
	for (unsigned int i = 0; i < 256; i++) {
		struct pci_dev *dev = bus->devs[i];

		if (!dev)
			continue;
		pci_dev_intx_sync(dev);
		if (dev->secondary)
			pci_bus_intx_sync(dev->secondary);
	}
}

int pci_dev_intx_gsi(struct pci_dev *dev)
{
	struct pci_root *root = dev->bus ? dev->bus->root : NULL;
	int gsi = -ENOENT;
	unsigned int pin;
	uint8_t slot;

	if (!root)
		return -ENOENT;
	pthread_mutex_lock(&root->lock);
	if (pci_intx_root_pin(dev, &slot, &pin) && root->router.intx_gsi) {
		gsi = root->router.intx_gsi(root->router.opaque, slot, pin);
		if (gsi < 0)
			gsi = -ENOENT;
	}
	pthread_mutex_unlock(&root->lock);
	return gsi;
}

void pci_dev_set_irq(struct pci_dev *dev, bool level)
{
	pthread_mutex_lock(&dev->intx_lock);
	__atomic_store_n(&dev->intx_level, level, __ATOMIC_RELEASE);
	pci_dev_intx_apply(dev);
	pthread_mutex_unlock(&dev->intx_lock);
}

bool pci_dev_irq_level(struct pci_dev *dev)
{
	return __atomic_load_n(&dev->intx_level, __ATOMIC_ACQUIRE);
}
