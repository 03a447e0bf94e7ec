// SPDX-License-Identifier: MIT
/*
 * Base Address Registers (PCI 3.0 §6.2.5) and the expansion ROM BAR
 * (§6.2.5.2), and their activation: whenever decode may have changed, the
 * core works out where every BAR under the root should be decoded and
 * (un)registers its range on the PIO/MMIO bus, or asks the device to
 * move its memslot (PCI_BAR_HOSTMEM).
 *
 * A BAR is decoded when its kind's COMMAND enable is set (and, for the
 * ROM, its enable bit), its address is non-zero, the range neither wraps
 * nor leaves its address space, and every bridge above forwards it
 * (P2P 1.2 §4.1-4.3: inside the I/O, memory or prefetchable window, with
 * the bridge's own COMMAND enable). Two guest choices are refused the way
 * QEMU refuses them, so the usual firmware sequences behave the same:
 * address 0, and a 32-bit BAR reaching 0xffffffff (where a BAR sits while
 * being sized with decode left on: mapping it would cover the reset
 * vector). A BAR that cannot be registered because the place is taken
 * (overlap) stays unmapped and is retried on every later decode change.
 */
#include <errno.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_internal.h"
#include "lib/log.h"

/* Marks the upper dword of a 64-bit BAR pair in bars[].flags. */
#define PCI_BAR_UPPER		(1u << 31)

/* x86-64's architectural MAXPHYADDR limit: nothing above is addressable. */
#define PCI_PHYS_LIMIT		(1ULL << 52)
#define PCI_IO_LIMIT_ADDR	0x10000ULL	/* x86 port space */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static unsigned int bar_reg(const struct pci_dev *dev, unsigned int bar)
{
	if (bar == PCI_ROM_BAR)
		return pci_is_bridge(dev) ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
	return PCI_BASE_ADDRESS_0 + 4 * bar;
}

int pci_dev_register_bar(struct pci_dev *dev, unsigned int bar, unsigned int flags,
			 uint64_t size, const struct bus_dev_ops *ops, void *opaque,
			 const char *name)
{
	unsigned int nr_bars = pci_is_bridge(dev) ? 2 : PCI_NUM_BARS;
	unsigned int reg;
	uint64_t mask;

	if (dev->bus)
		return -EBUSY;
	if (bar >= PCI_NUM_REGIONS || (bar != PCI_ROM_BAR && bar >= nr_bars))
		return -EINVAL;
	if (flags & ~(PCI_BAR_IO | PCI_BAR_MEM64 | PCI_BAR_PREFETCH | PCI_BAR_HOSTMEM))
		return -EINVAL;
	if ((flags & PCI_BAR_IO) && (flags & (PCI_BAR_MEM64 | PCI_BAR_PREFETCH)))
		return -EINVAL;
	if (bar == PCI_ROM_BAR && (flags & (PCI_BAR_IO | PCI_BAR_MEM64)))
		return -EINVAL;
	if (!is_pow2(size))
		return -EINVAL;
	if (flags & PCI_BAR_HOSTMEM) {
		if (!dev->ops->bar_map || !dev->ops->bar_unmap)
			return -EINVAL;
	} else if (!ops) {
		return -EINVAL;
	}
	/* Sizes each register can express: PCI 3.0 §6.2.5.1 (memory at least
	 * 16 bytes, I/O at least 4), §6.2.5.2 (ROM at least 2 KiB). */
	if (bar == PCI_ROM_BAR) {
		if (size < 2048 || size > (1ULL << 30))
			return -EINVAL;
	} else if (flags & PCI_BAR_IO) {
		if (size < 4 || size > PCI_IO_LIMIT_ADDR)
			return -EINVAL;
	} else if (flags & PCI_BAR_MEM64) {
		if (size < 16 || size > (1ULL << 62) || bar + 1 >= nr_bars)
			return -EINVAL;
	} else if (size < 16 || size > (1ULL << 31)) {
		return -EINVAL;
	}
	if (dev->bars[bar].size || (dev->bars[bar].flags & PCI_BAR_UPPER))
		return -EBUSY;
	if ((flags & PCI_BAR_MEM64) &&
	    (dev->bars[bar + 1].size || (dev->bars[bar + 1].flags & PCI_BAR_UPPER)))
		return -EBUSY;

	dev->bars[bar] = (struct pci_bar){
		.size = size, .flags = flags, .ops = ops, .opaque = opaque,
		.name = name ? name : dev->name,
	};
	reg = bar_reg(dev, bar);
	mask = ~(size - 1);
	if (bar == PCI_ROM_BAR) {
		pci_set32(dev->config, reg, 0);
		pci_set32(dev->wmask, reg, ((uint32_t)mask & 0xfffff800u) | 1);
	} else if (flags & PCI_BAR_IO) {
		pci_set32(dev->config, reg, 0x1);
		pci_set32(dev->wmask, reg, (uint32_t)mask & ~0x3u);
	} else {
		uint32_t type = (flags & PCI_BAR_MEM64 ? 0x4 : 0) |
				(flags & PCI_BAR_PREFETCH ? 0x8 : 0);

		pci_set32(dev->config, reg, type);
		pci_set32(dev->wmask, reg, (uint32_t)mask & ~0xfu);
		if (flags & PCI_BAR_MEM64) {
			dev->bars[bar + 1] = (struct pci_bar){ .flags = PCI_BAR_UPPER };
			pci_set32(dev->config, reg + 4, 0);
			pci_set32(dev->wmask, reg + 4, (uint32_t)(mask >> 32));
		}
	}
	memset(dev->w1cmask + reg, 0, (flags & PCI_BAR_MEM64) ? 8 : 4);
	return 0;
}

uint64_t pci_dev_bar_addr(const struct pci_dev *dev, unsigned int bar)
{
	const struct pci_bar *b;
	unsigned int reg;
	uint32_t lo;

	if (bar >= PCI_NUM_REGIONS)
		return 0;
	b = &dev->bars[bar];
	reg = bar_reg(dev, bar);
	lo = pci_get32(dev->config, reg);
	if (bar == PCI_ROM_BAR)
		return lo & 0xfffff800u;
	if (b->flags & PCI_BAR_IO)
		return lo & ~0x3u;
	if (b->flags & PCI_BAR_MEM64)
		return (uint64_t)pci_get32(dev->config, reg + 4) << 32 | (lo & ~0xfu);
	return lo & ~0xfu;
}

/* Does the bridge forward [addr, end] of this kind to its secondary bus? */
static bool bridge_forwards(const struct pci_dev *br, bool io, uint64_t addr, uint64_t end)
{
	const uint8_t *c = br->config;
	uint16_t cmd = pci_get16(c, PCI_COMMAND);
	uint64_t base, limit;

	if (io) {
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		base = (uint64_t)(c[PCI_IO_BASE] & 0xf0) << 8;
		limit = (uint64_t)(c[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff;
		if ((c[PCI_IO_BASE] & 0x0f) == 0x01) {
			base |= (uint64_t)pci_get16(c, PCI_IO_BASE_UPPER16) << 16;
			limit |= (uint64_t)pci_get16(c, PCI_IO_LIMIT_UPPER16) << 16;
		}
		return base <= limit && base <= addr && end <= limit;
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		return false;
	base = (uint64_t)(pci_get16(c, PCI_MEMORY_BASE) & 0xfff0) << 16;
	limit = (uint64_t)(pci_get16(c, PCI_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
	if (base <= limit && base <= addr && end <= limit)
		return true;
	base = (uint64_t)(pci_get16(c, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16;
	limit = (uint64_t)(pci_get16(c, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff;
	if ((pci_get16(c, PCI_PREF_MEMORY_BASE) & 0xf) == 0x1) {
		base |= (uint64_t)pci_get32(c, PCI_PREF_BASE_UPPER32) << 32;
		limit |= (uint64_t)pci_get32(c, PCI_PREF_LIMIT_UPPER32) << 32;
	}
	return base <= limit && base <= addr && end <= limit;
}

/* Where BAR bar should be decoded now: true and *addr, or false. */
static bool bar_wanted(const struct pci_dev *dev, unsigned int bar, uint64_t *addr)
{
	const struct pci_bar *b = &dev->bars[bar];
	uint16_t cmd = pci_get16(dev->config, PCI_COMMAND);
	bool io = b->flags & PCI_BAR_IO;
	uint64_t a, end;

	if (!b->size || !dev->bus)
		return false;
	if (io ? !(cmd & PCI_COMMAND_IO) : !(cmd & PCI_COMMAND_MEMORY))
		return false;
	if (bar == PCI_ROM_BAR && !(pci_get32(dev->config, bar_reg(dev, bar)) & 1))
		return false;
	a = pci_dev_bar_addr(dev, bar) & ~(b->size - 1);
	end = a + (b->size - 1);
	if (a == 0 || end < a)
		return false;
	if (io && end >= PCI_IO_LIMIT_ADDR)
		return false;
	if (!io && !(b->flags & PCI_BAR_MEM64) && end >= 0xffffffffULL)
		return false;
	if (end >= PCI_PHYS_LIMIT)
		return false;
	for (const struct pci_bus *bus = dev->bus; bus->bridge; bus = bus->bridge->bus) {
		if (!bus->bridge->bus || !bridge_forwards(bus->bridge, io, a, end))
			return false;
	}
	*addr = a;
	return true;
}

static void bar_unmap(struct pci_dev *dev, unsigned int bar)
{
	struct pci_bar *b = &dev->bars[bar];
	struct pci_root *root;

	if (!b->mapped)
		return;
	if (b->flags & PCI_BAR_HOSTMEM) {
		dev->ops->bar_unmap(dev, bar, b->addr, b->size);
	} else {
		root = dev->bus->root;
		bus_unregister(b->flags & PCI_BAR_IO ? root->pio : root->mmio, b->addr);
	}
	b->mapped = false;
}

static void bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr)
{
	struct pci_bar *b = &dev->bars[bar];
	struct pci_root *root = dev->bus->root;
	int ret;

	if (b->flags & PCI_BAR_HOSTMEM)
		ret = dev->ops->bar_map(dev, bar, addr, b->size);
	else
		ret = bus_register(b->flags & PCI_BAR_IO ? root->pio : root->mmio,
				   addr, b->size, b->ops, b->opaque, b->name);
	if (ret) {
		/* The guest put it over something else (or the memslot failed):
		 * it stays off until the next decode change. */
		pr_warn_once("pci: %s BAR %u at %#llx (+%#llx) overlaps another range or cannot be mapped (%d); it stays unmapped until the guest moves something",
			     dev->name, bar, (unsigned long long)addr,
			     (unsigned long long)b->size, ret);
		return;
	}
	b->mapped = true;
	b->addr = addr;
}

void pci_dev_unmap_bars(struct pci_dev *dev)
{
	for (unsigned int i = 0; i < PCI_NUM_REGIONS; i++)
		bar_unmap(dev, i);
}

static void update_bus(struct pci_bus *bus, bool map_pass)
{
	for (unsigned int i = 0; i < 256; i++) {
		struct pci_dev *dev = bus->devs[i];

		if (!dev)
			continue;
		for (unsigned int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
			struct pci_bar *b = &dev->bars[bar];
			uint64_t addr = 0;
			bool want = bar_wanted(dev, bar, &addr);

			if (!map_pass && b->mapped && (!want || addr != b->addr))
				bar_unmap(dev, bar);
			else if (map_pass && want && !b->mapped)
				bar_map(dev, bar, addr);
		}
		if (dev->secondary)
			update_bus(dev->secondary, map_pass);
	}
}

void pci_root_update_mappings(struct pci_root *root)
{
	pthread_mutex_lock(&root->lock);
	/* Unmap everything that moved or went away first, so a BAR moving
	 * into room that another one just left never sees a false overlap. */
	update_bus(&root->bus0, false);
	update_bus(&root->bus0, true);
	pthread_mutex_unlock(&root->lock);
}

/* Widen [*lo, *hi] (empty while *lo > *hi) by [a, end] if it lies at or
 * above floor and below the architectural address limit. */
static void extent_add(uint64_t floor, uint64_t a, uint64_t end, uint64_t *lo, uint64_t *hi)
{
	if (a < floor || end < a || end >= PCI_PHYS_LIMIT)
		return;
	if (a < *lo)
		*lo = a;
	if (end > *hi)
		*hi = end;
}

static void extent_bus(const struct pci_bus *bus, uint64_t floor, uint64_t *lo, uint64_t *hi)
{
	for (unsigned int i = 0; i < 256; i++) {
		const struct pci_dev *dev = bus->devs[i];

		if (!dev)
			continue;
		for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
			const struct pci_bar *b = &dev->bars[bar];
			uint64_t a;

			if (!b->size || !(b->flags & PCI_BAR_MEM64))
				continue;
			a = pci_dev_bar_addr(dev, bar) & ~(b->size - 1);
			extent_add(floor, a, a + (b->size - 1), lo, hi);
		}
		if (pci_is_bridge(dev)) {
			/* The prefetchable window is the only one a bridge can
			 * put above 4 GiB (P2P 1.2 §3.2.5.9-10). */
			const uint8_t *c = dev->config;
			uint64_t base, limit;

			if ((pci_get16(c, PCI_PREF_MEMORY_BASE) & 0xf) == 0x1) {
				base = (uint64_t)(pci_get16(c, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16 |
				       (uint64_t)pci_get32(c, PCI_PREF_BASE_UPPER32) << 32;
				limit = (uint64_t)(pci_get16(c, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 |
					0xfffff |
					(uint64_t)pci_get32(c, PCI_PREF_LIMIT_UPPER32) << 32;
				extent_add(floor, base, limit, lo, hi);
			}
		}
		if (dev->secondary)
			extent_bus(dev->secondary, floor, lo, hi);
	}
}

bool pci_root_mem64_extent(struct pci_root *root, uint64_t floor, uint64_t *lo, uint64_t *hi)
{
	uint64_t l = UINT64_MAX, h = 0;

	pthread_mutex_lock(&root->lock);
	extent_bus(&root->bus0, floor, &l, &h);
	pthread_mutex_unlock(&root->lock);
	if (l > h)
		return false;
	*lo = l;
	*hi = h;
	return true;
}
