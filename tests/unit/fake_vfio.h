/* SPDX-License-Identifier: MIT */
/*
 * A fake VFIO kernel behind struct vfio_ops (devices/vfio/vfio_ops.h):
 * a container, groups and PCI devices with a config space, regions
 * backed by memory (mmap returns a pointer into them), sparse-mmap
 * capabilities, interrupt indexes and resets. It records what the code
 * asked for (SET_IRQS eventfds, DMA maps, resets, config writes with
 * their offset, size and value), shows every region access to an
 * optional hook (tests/fuzz/fuzz_vfio.c checks them there) and can play
 * the device raising an interrupt (fake_vfio_fire).
 *
 * The unit-test rule links one test source with fake_vm.o and
 * libminivmm.a, so a test_vfio_*.c includes fake_vfio.c directly.
 */
#ifndef MINIVMM_TEST_FAKE_VFIO_H
#define MINIVMM_TEST_FAKE_VFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/vfio_ops.h"

#define FV_MAX_DEVS	4
#define FV_MAX_MAPS	16
#define FV_MAX_VECS	64
#define FV_MAX_SPARSE	4
#define FV_FD_BASE	1000	/* fake fds: never real ones */
#define FV_CFG_LOG	64	/* config writes remembered (fv_dev.cfg_log) */

struct fv_region {
	uint64_t size;
	uint32_t flags;			/* VFIO_REGION_INFO_FLAG_* */
	uint8_t *mem;			/* backing, page aligned */
	struct vfio_region_sparse_mmap_area sparse[FV_MAX_SPARSE];
	unsigned int nr_sparse;		/* > 0: report CAP_SPARSE_MMAP */
	unsigned int reads, writes;	/* pread/pwrite calls */
};

struct fv_dev {
	char bdf[16];
	int group;
	int fd;				/* -1 while not open */
	uint8_t config[4096];
	uint32_t cfg_size;
	struct fv_region regions[VFIO_PCI_NUM_REGIONS];
	uint32_t irq_count[VFIO_PCI_NUM_IRQS];
	uint32_t irq_flags[VFIO_PCI_NUM_IRQS];
	bool has_reset;			/* VFIO_DEVICE_FLAGS_RESET */
	unsigned int resets, hot_resets;
	/* SET_IRQS state: the trigger eventfds per index, INTx's unmask fd */
	int trig[VFIO_PCI_NUM_IRQS][FV_MAX_VECS];
	unsigned int trig_count[VFIO_PCI_NUM_IRQS];
	int intx_unmask_fd;
	unsigned int set_irqs_calls;
	unsigned int cfg_writes;	/* pwrite calls on the config region */
	/* The first FV_CFG_LOG of them since the test last set nr_cfg_log
	 * to 0: what reached the device's real config space. */
	struct fv_cfg_write {
		uint32_t off, len;
		uint32_t val;		/* little-endian, len <= 4 */
	} cfg_log[FV_CFG_LOG];
	unsigned int nr_cfg_log;
};

struct fake_vfio {
	struct vfio_ops ops;
	struct fv_dev devs[FV_MAX_DEVS];
	unsigned int nr_devs;
	bool container_open;
	unsigned long iommu_type;
	bool no_type1v2;
	struct { uint64_t iova, size; void *vaddr; } maps[FV_MAX_MAPS];
	unsigned int nr_maps;
	unsigned int groups_open;
	uint32_t group_flags;		/* what GET_STATUS says (VIABLE) */
	int open_group_err;		/* open_group fails with it when set */
	int dma_map_err;
	unsigned int set_container_calls, unset_container_calls;
	/* Called on every pread/pwrite of a device region (config space
	 * included) that the fake serves, after a read and before a write
	 * lands: region index, offset in it, the bytes. NULL: none. */
	void (*access_hook)(void *opaque, struct fv_dev *d, unsigned int region,
			    uint64_t off, const void *buf, size_t len, bool write);
	void *hook_opaque;
};

void fake_vfio_init(struct fake_vfio *fv);
void fake_vfio_exit(struct fake_vfio *fv);
/* A device with a 256-byte (or 4 KiB) config space; regions are added
 * with fv_region_add, config filled by the test. */
struct fv_dev *fake_vfio_add_dev(struct fake_vfio *fv, const char *bdf, int group,
				 uint32_t cfg_size);
void fv_region_add(struct fv_dev *d, unsigned int index, uint64_t size, uint32_t flags);
/* The device signals vector v of IRQ index: writes its trigger eventfd.
 * false when no eventfd is set there. */
bool fake_vfio_fire(struct fv_dev *d, unsigned int index, unsigned int v);

/* Region offsets in the device fd, as vfio-pci lays them out. */
#define FV_REGION_OFFSET(i)	((uint64_t)(i) << 40)

/* Run fn(arg) with stderr captured into buf (for error-message checks). */
void fv_capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t len);

#endif
