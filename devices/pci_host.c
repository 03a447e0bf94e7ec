// SPDX-License-Identifier: MIT
/*
 * The host side of PCI configuration access: the root complex object,
 * configuration mechanism #1 (PCI 3.0 §3.2.2.3.2: CONFIG_ADDRESS at
 * 0xCF8, CONFIG_DATA at 0xCFC) and the PCIe ECAM window (PCIe 4.0
 * §7.2.2: bus << 20 | device << 15 | function << 12 | register).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_internal.h"
#include "lib/log.h"

#define CF8_PORT		0xcf8
#define CFC_PORT		0xcfc
#define CF8_ENABLE		0x80000000u
/* Enable, bus, device, function, register; 30:24 reserved, 1:0 zero. */
#define CF8_MASK		0x80fffffcu

#define ECAM_BUS_SIZE		(1ULL << 20)
#define ECAM_MAX_SIZE		(256 * ECAM_BUS_SIZE)

static bool cfg_access_ok(unsigned int off, unsigned int len)
{
	/* Dword-internal accesses only: neither mechanism #1 nor a root
	 * complex's ECAM produces a request that crosses a dword. */
	return (len == 1 || len == 2 || len == 4) && off < PCI_CFG_SPACE_EXP_SIZE &&
	       (off & 3) + len <= 4;
}

static uint32_t len_mask(unsigned int len)
{
	return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

static struct pci_dev *cfg_target(struct pci_root *root, uint8_t busnr, uint8_t devfn)
{
	struct pci_bus *b = pci_find_bus(root, busnr);

	return b ? b->devs[devfn] : NULL;
}

int pci_cfg_read(struct pci_root *root, uint8_t busnr, uint8_t devfn,
		 unsigned int off, uint32_t *val, unsigned int len)
{
	struct pci_dev *dev;
	int ret = 0;

	*val = 0xffffffffu & len_mask(len);
	if (!cfg_access_ok(off, len))
		return -EINVAL;
	pthread_mutex_lock(&root->lock);
	dev = cfg_target(root, busnr, devfn);
	if (!dev)
		ret = -ENODEV;
	else if (dev->ops->cfg_read)
		*val = dev->ops->cfg_read(dev, off, len) & len_mask(len);
	else
		*val = pci_dev_default_cfg_read(dev, off, len) & len_mask(len);
	pthread_mutex_unlock(&root->lock);
	return ret;
}

int pci_cfg_write(struct pci_root *root, uint8_t busnr, uint8_t devfn,
		  unsigned int off, uint32_t val, unsigned int len)
{
	struct pci_dev *dev;
	int ret = 0;

	if (!cfg_access_ok(off, len))
		return -EINVAL;
	val &= len_mask(len);
	pthread_mutex_lock(&root->lock);
	dev = cfg_target(root, busnr, devfn);
	if (!dev)
		ret = -ENODEV;
	else if (dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, val, len);
	else
		pci_dev_default_cfg_write(dev, off, val, len);
	pthread_mutex_unlock(&root->lock);
	return ret;
}

/* ---- mechanism #1 ------------------------------------------------------ */

/*
 * Anything but a dword at 0xCF8 is "passed through as a normal I/O
 * transaction" (§3.2.2.3.2); the ISA side decodes it byte by byte, which
 * is how 0xCF9 (ICH9 RST_CNT) lives inside CONFIG_ADDRESS's dword.
 */
static void cf8_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	uint8_t *p = data;

	if (offset == 0 && len == 4) {
		pthread_mutex_lock(&root->lock);
		bus_data_put(data, 4, root->cf8);
		pthread_mutex_unlock(&root->lock);
		return;
	}
	for (unsigned int i = 0; i < len; i++)
		bus_read(&root->cf8_passthrough, CF8_PORT + offset + i, &p[i], 1);
}

static void cf8_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	const uint8_t *p = data;

	if (offset == 0 && len == 4) {
		pthread_mutex_lock(&root->lock);
		root->cf8 = (uint32_t)bus_data_get(data, 4) & CF8_MASK;
		pthread_mutex_unlock(&root->lock);
		return;
	}
	for (unsigned int i = 0; i < len; i++)
		bus_write(&root->cf8_passthrough, CF8_PORT + offset + i, &p[i], 1);
}

static const struct bus_dev_ops cf8_ops = {
	.read = cf8_read,
	.write = cf8_write,
};

/* CONFIG_DATA: any width at any of 0xCFC-0xCFF; the byte offset selects
 * the byte lanes of the dword CONFIG_ADDRESS names. */
static void cfc_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	uint32_t v = 0xffffffffu;
	uint32_t a;

	pthread_mutex_lock(&root->lock);
	a = root->cf8;
	if ((a & CF8_ENABLE) && offset + len <= 4)
		pci_cfg_read(root, (uint8_t)(a >> 16), (uint8_t)(a >> 8),
			     (a & 0xfc) + (unsigned int)offset, &v, len);
	pthread_mutex_unlock(&root->lock);
	bus_data_put(data, len, v);
}

static void cfc_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pci_root *root = opaque;
	uint32_t a;

	pthread_mutex_lock(&root->lock);
	a = root->cf8;
	if ((a & CF8_ENABLE) && offset + len <= 4)
		pci_cfg_write(root, (uint8_t)(a >> 16), (uint8_t)(a >> 8),
			      (a & 0xfc) + (unsigned int)offset,
			      (uint32_t)bus_data_get(data, len), len);
	pthread_mutex_unlock(&root->lock);
}

static const struct bus_dev_ops cfc_ops = {
	.read = cfc_read,
	.write = cfc_write,
};

/* ---- ECAM --------------------------------------------------------------- */

static void ecam_access(struct pci_root *root, uint64_t offset, uint32_t *v,
			unsigned int len, bool is_write)
{
	uint8_t busnr = (uint8_t)(offset >> 20);
	uint8_t devfn = (uint8_t)(offset >> 12);
	unsigned int reg = (unsigned int)(offset & 0xfff);

	if (is_write)
		pci_cfg_write(root, busnr, devfn, reg, *v, len);
	else
		pci_cfg_read(root, busnr, devfn, reg, v, len);
}

static void ecam_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	uint32_t lo = 0xffffffffu, hi = 0xffffffffu;

	/* A naturally aligned qword is two dword requests to one function;
	 * anything else wider than a dword is not a config request. */
	if (len == 8) {
		if (!(offset & 7)) {
			ecam_access(opaque, offset, &lo, 4, false);
			ecam_access(opaque, offset + 4, &hi, 4, false);
		}
		bus_data_put(data, 8, (uint64_t)hi << 32 | lo);
		return;
	}
	ecam_access(opaque, offset, &lo, len, false);
	bus_data_put(data, len, lo);
}

static void ecam_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	uint64_t v = bus_data_get(data, len);
	uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);

	if (len == 8) {
		if (!(offset & 7)) {
			ecam_access(opaque, offset, &lo, 4, true);
			ecam_access(opaque, offset + 4, &hi, 4, true);
		}
		return;
	}
	ecam_access(opaque, offset, &lo, len, true);
}

static const struct bus_dev_ops ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

int pci_root_set_ecam(struct pci_root *root, uint64_t base, uint64_t size, bool enable)
{
	int ret = 0;

	if (enable && (size < ECAM_BUS_SIZE || size > ECAM_MAX_SIZE ||
		       size % ECAM_BUS_SIZE || base + (size - 1) < base))
		return -EINVAL;
	pthread_mutex_lock(&root->lock);
	if (root->ecam_mapped && enable && root->ecam_base == base && root->ecam_size == size)
		goto out_unlock;
	if (root->ecam_mapped) {
		bus_unregister(root->mmio, root->ecam_base);
		root->ecam_mapped = false;
	}
	if (!enable)
		goto out_unlock;
	ret = bus_register(root->mmio, base, size, &ecam_ops, root, "pci-ecam");
	if (ret) {
		pr_warn_once("pci: cannot place the ECAM window at %#llx (+%#llx): %d (it stays off until the guest moves it)",
			     (unsigned long long)base, (unsigned long long)size, ret);
		goto out_unlock;
	}
	root->ecam_base = base;
	root->ecam_size = size;
	root->ecam_mapped = true;
out_unlock:
	pthread_mutex_unlock(&root->lock);
	return ret;
}

/* ---- the root ------------------------------------------------------------ */

/* A platform reset is PCI RST# for everything below the root: every
 * function's power-on config and its own reset hook (pci_root_reset),
 * and CONFIG_ADDRESS cleared (PCI 3.0 §3.2.2.3.2). */
static void pci_root_dev_reset(struct device *dev)
{
	struct pci_root *root = container_of(dev, struct pci_root, dev);

	pthread_mutex_lock(&root->lock);
	root->cf8 = 0;
	pci_root_reset(root);
	pthread_mutex_unlock(&root->lock);
}

static void pci_root_dev_destroy(struct device *dev)
{
	pci_root_destroy(container_of(dev, struct pci_root, dev));
}

static const struct device_ops pci_root_device_ops = {
	.reset = pci_root_dev_reset,
	.destroy = pci_root_dev_destroy,
};

struct pci_root *pci_root_create(const struct vm_ops *ops, struct bus *pio, struct bus *mmio)
{
	pthread_mutexattr_t attr;
	struct pci_root *root;
	int ret;

	root = calloc(1, sizeof(*root));
	if (!root) {
		errno = ENOMEM;
		return NULL;
	}
	root->ops = ops;
	root->pio = pio;
	root->mmio = mmio;
	root->bus0.root = root;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	ret = -pthread_mutex_init(&root->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (ret)
		goto free_root;
	ret = bus_init(&root->cf8_passthrough, "pio(0xcf8-0xcfb passthrough)");
	if (ret)
		goto destroy_lock;
	ret = bus_register(pio, CF8_PORT, 4, &cf8_ops, root, "pci-config-address");
	if (ret) {
		pr_err("pci: cannot claim ports 0xcf8-0xcfb: %d (attach the reset device to pci_root_cf8_bus(), not to the port bus)",
		       ret);
		goto exit_passthrough;
	}
	ret = bus_register(pio, CFC_PORT, 4, &cfc_ops, root, "pci-config-data");
	if (ret) {
		pr_err("pci: cannot claim ports 0xcfc-0xcff: %d", ret);
		goto unregister_cf8;
	}
	root->cf8_attached = true;
	device_register(ops, &root->dev, "pci-root", &pci_root_device_ops);
	return root;

unregister_cf8:
	bus_unregister(pio, CF8_PORT);
exit_passthrough:
	bus_exit(&root->cf8_passthrough);
destroy_lock:
	pthread_mutex_destroy(&root->lock);
free_root:
	free(root);
	errno = -ret;
	return NULL;
}

void pci_root_destroy(struct pci_root *root)
{
	if (!root)
		return;
	device_unregister(&root->dev);
	pthread_mutex_lock(&root->lock);
	for (unsigned int i = 0; i < 256; i++)
		if (root->bus0.devs[i])
			pci_bus_unplug(root->bus0.devs[i]);
	if (root->ecam_mapped)
		bus_unregister(root->mmio, root->ecam_base);
	if (root->cf8_attached) {
		bus_unregister(root->pio, CF8_PORT);
		bus_unregister(root->pio, CFC_PORT);
	}
	pthread_mutex_unlock(&root->lock);
	bus_exit(&root->cf8_passthrough);
	pthread_mutex_destroy(&root->lock);
	free(root);
}

struct pci_bus *pci_root_bus(struct pci_root *root)
{
	return &root->bus0;
}

struct bus *pci_root_cf8_bus(struct pci_root *root)
{
	return &root->cf8_passthrough;
}

void pci_root_set_intx_router(struct pci_root *root, const struct pci_intx_router *r)
{
	pthread_mutex_lock(&root->lock);
	if (r)
		root->router = *r;
	else
		memset(&root->router, 0, sizeof(root->router));
	pci_bus_intx_sync(&root->bus0);
	pthread_mutex_unlock(&root->lock);
}

uint32_t pci_dev_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct pci_root *root = dev->bus ? dev->bus->root : NULL;
	uint32_t val = 0xffffffffu & len_mask(len);

	if (!root || !cfg_access_ok(off, len))
		return val;
	pthread_mutex_lock(&root->lock);
	if (dev->bus && off < dev->cfg_size)
		val = (dev->ops->cfg_read ? dev->ops->cfg_read(dev, off, len)
					  : pci_dev_default_cfg_read(dev, off, len)) & len_mask(len);
	pthread_mutex_unlock(&root->lock);
	return val;
}

void pci_dev_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int len)
{
	struct pci_root *root = dev->bus ? dev->bus->root : NULL;

	if (!root || !cfg_access_ok(off, len))
		return;
	val &= len_mask(len);
	pthread_mutex_lock(&root->lock);
	if (dev->bus && off < dev->cfg_size) {
		if (dev->ops->cfg_write)
			dev->ops->cfg_write(dev, off, val, len);
		else
			pci_dev_default_cfg_write(dev, off, val, len);
	}
	pthread_mutex_unlock(&root->lock);
}
