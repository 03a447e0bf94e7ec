// SPDX-License-Identifier: MIT
/*
 * The ACPI tables, rebuilt when the firmware reads them (acpi_tables.h).
 *
 * The rebuild runs in fw_cfg's select hook, with the fw_cfg lock held, and
 * takes the PCI root lock to read config space: the one place a device lock
 * is held above the root lock (docs/architecture.md, "Locks"). No path
 * takes them the other way round: nothing under the root lock reaches
 * fw_cfg.
 *
 * The file keeps its size: the fw_cfg directory the firmware read before
 * selecting it gave that size. Only PCI0's 64-bit QWordMemory descriptor
 * changes, whose encoding is fixed-length (ACPI 6.4 §6.4.3.5.1), so every
 * rebuild has the length of the first; one that did not would be dropped
 * (and the start-up tables served) rather than resize the file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/acpi_tables.h"
#include "lib/log.h"

struct acpi_tables {
	struct device dev;
	struct acpi_config cfg;
	struct pci_root *root;
	struct acpi_blobs blobs;	/* as built at start */
	/* Under the fw_cfg lock (the select hook), read by stats. */
	pthread_mutex_t lock;
	uint64_t rebuilds, last_base, last_size;
};

/* The select hook: rebuild with the window widened to what is programmed
 * now, and replace the file's bytes in place. */
static void acpi_tables_select(void *opaque, void *data, uint32_t len)
{
	struct acpi_tables *t = opaque;
	struct acpi_config cfg = t->cfg;
	struct acpi_blobs blobs;
	uint64_t lo, hi;
	int ret;

	if (t->root && pci_root_mem64_extent(t->root, MEM_4G + cfg.ram_high_size, &lo, &hi))
		acpi_pci64_window_cover(&cfg.pci64_base, &cfg.pci64_size, lo, hi);
	ret = acpi_build(&cfg, &blobs);
	if (ret || blobs.tables.len != len) {
		pr_warn_once("ACPI: rebuilding the tables for the firmware failed (%d, %zu bytes for %u); serving the start-up tables",
			     ret, ret ? 0 : blobs.tables.len, len);
		if (!ret)
			acpi_blobs_free(&blobs);
		return;
	}
	memcpy(data, blobs.tables.data, len);
	acpi_blobs_free(&blobs);
	pthread_mutex_lock(&t->lock);
	t->rebuilds++;
	t->last_base = cfg.pci64_base;
	t->last_size = cfg.pci64_size;
	pthread_mutex_unlock(&t->lock);
	pr_debug("ACPI: tables rebuilt for the firmware; PCI0 64-bit window %#llx-%#llx",
		 (unsigned long long)cfg.pci64_base,
		 (unsigned long long)(cfg.pci64_base + cfg.pci64_size - 1));
}

static const struct fw_cfg_item_ops acpi_tables_item_ops = {
	.select = acpi_tables_select,
};

static void acpi_tables_dev_destroy(struct device *dev)
{
	acpi_tables_destroy(container_of(dev, struct acpi_tables, dev));
}

static const struct device_ops acpi_tables_device_ops = {
	.destroy = acpi_tables_dev_destroy,
};

struct acpi_tables *acpi_tables_create(const struct vm_ops *ops, const struct acpi_config *cfg,
				       struct pci_root *root)
{
	struct acpi_tables *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return NULL;
	/* The select hook rebuilds with a non-empty window, which the first
	 * build must have too, or the DSDT would grow by a descriptor. */
	if (!cfg->pci64_size) {
		ret = EINVAL;
		goto free_t;
	}
	ret = pthread_mutex_init(&t->lock, NULL);
	if (ret)
		goto free_t;
	t->cfg = *cfg;
	t->root = root;
	t->last_base = cfg->pci64_base;
	t->last_size = cfg->pci64_size;
	ret = -acpi_build(cfg, &t->blobs);
	if (ret)
		goto destroy_lock;
	device_register(ops, &t->dev, "acpi-tables", &acpi_tables_device_ops);
	return t;

destroy_lock:
	pthread_mutex_destroy(&t->lock);
free_t:
	free(t);
	errno = ret;
	return NULL;
}

void acpi_tables_destroy(struct acpi_tables *t)
{
	if (!t)
		return;
	device_unregister(&t->dev);
	acpi_blobs_free(&t->blobs);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

const struct acpi_blobs *acpi_tables_blobs(const struct acpi_tables *t)
{
	return &t->blobs;
}

int acpi_tables_add_fw_cfg(struct acpi_tables *t, struct fw_cfg *fw)
{
	int ret;

	ret = fw_cfg_add_file_ops(fw, ACPI_FILE_TABLES, t->blobs.tables.data,
				  t->blobs.tables.len, false, &acpi_tables_item_ops, t);
	if (!ret)
		ret = fw_cfg_add_file(fw, ACPI_FILE_RSDP, t->blobs.rsdp.data, t->blobs.rsdp.len);
	if (!ret)
		ret = fw_cfg_add_file(fw, ACPI_FILE_LOADER, t->blobs.loader.data,
				      t->blobs.loader.len);
	return ret;
}

void acpi_tables_stats(struct acpi_tables *t, uint64_t *rebuilds, uint64_t *pci64_base,
		       uint64_t *pci64_size)
{
	pthread_mutex_lock(&t->lock);
	*rebuilds = t->rebuilds;
	*pci64_base = t->last_base;
	*pci64_size = t->last_size;
	pthread_mutex_unlock(&t->lock);
}
