/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of devices/vfio only; vmm/ uses devices/vfio/vfio.h.
 *
 * One struct vfio_pci per passed host function. It embeds the guest-side
 * struct pci_dev whose config[] is the virtual view; cfg_src[] says, per
 * byte, whether an access is answered from that view (CFG_EMU) or goes to
 * the device's real config space through VFIO (CFG_HW).
 *
 * Locking: config hooks, BAR (un)mapping and reset run under the PCI root
 * lock. The MSI-X table is devices/msix.c's, with its own lock, taken by
 * config writes (root lock held) and by table/PBA accesses (any vCPU, no
 * root lock); under it, its hooks in msi.c own hw_count. irq_lock
 * protects the MSI and INTx state. The order is root lock, MSI-X table
 * lock, irq_lock (devices/msix.h).
 */
#ifndef MINIVMM_VFIO_INTERNAL_H
#define MINIVMM_VFIO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/msi_vector.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/vfio/vfio.h"
#include "devices/vfio/vfio_ops.h"
#include "lib/host_env.h"
#include "lib/host_pci.h"
#include "lib/memory.h"

#define VFIO_PAGE_SIZE		4096ULL
#define VFIO_MAX_PIECES		24	/* per BAR: mmap'ed and trapped parts */
#define VFIO_MAX_AREAS		8	/* sparse mmap areas used per BAR */
#define VFIO_MAX_MIRRORS	2	/* config space mirrors in BARs (quirks.c) */
#define VFIO_NV_MIRROR_OFF	0x88000ULL	/* NVIDIA BAR0: all config space */
#define VFIO_NV_LEGACY_MIRROR_OFF 0x1800ULL	/* NVIDIA BAR0: the first 256 bytes */
#define VFIO_MSI_MAX_VECTORS	32	/* PCI 3.0 §6.8.1.3: MMC at most 5 */
#define VFIO_ROM_MAX		(16 * MiB)

struct vfio_group {
	int id;
	int fd;
	unsigned int refs;		/* devices opened from it */
	bool kvm_added;			/* registered with KVM's VFIO device */
	struct vfio_group *next;
};

struct vfio_container {
	struct device dev;
	const struct vfio_ops *ops;
	const struct vm_ops *vm;
	struct host_env env;
	int fd;
	unsigned long iommu_type;	/* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	bool iommu_set;
	struct vfio_group *groups;
	struct { uint64_t iova, size; } maps[MEM_MAX_REGIONS];
	unsigned int nr_maps;
	uint64_t map_ns;		/* how long vfio_container_map_ram took */
	unsigned int next_port;		/* root port numbers handed out */
};

/* Per-byte source of a config access. */
enum { CFG_EMU = 0, CFG_HW = 1 };

struct vfio_region {
	uint64_t size;
	uint64_t offset;		/* of the region in the device fd */
	uint32_t flags;			/* VFIO_REGION_INFO_FLAG_* */
};

struct vfio_pci;

/* A part of a memory BAR: host-mapped (a KVM memslot while the BAR is
 * decoded) or trapped (an MMIO bus range: MSI-X emulation or pread/pwrite). */
struct vfio_piece {
	struct vfio_pci *v;
	unsigned int bar;
	uint64_t off, len;		/* within the BAR */
	void *hva;			/* mmap'ed: host address of off; else NULL */
	int slot;			/* memslot while mapped, else -1 */
	bool registered;		/* trap range on the MMIO bus */
	uint64_t gpa;
};

struct vfio_bar {
	struct vfio_region r;
	unsigned int flags;		/* PCI_BAR_*, 0: not implemented */
	struct { void *addr; size_t len; } maps[VFIO_MAX_AREAS];
	unsigned int nr_maps;
	struct vfio_piece pieces[VFIO_MAX_PIECES];
	unsigned int nr_pieces;
	/* Used instead of pieces when the guest puts the BAR at an address
	 * that is not page aligned: no memslot can map it, all is trapped. */
	struct vfio_piece whole;
	char name[40];
};

/* A window of a BAR that mirrors the function's config space (quirks.c). */
struct vfio_mirror {
	unsigned int bar;
	uint64_t off, len;
};

struct vfio_msi {
	unsigned int cap;		/* config offset, 0: absent/hidden */
	unsigned int size;		/* of the capability */
	unsigned int data_off, mask_off, pending_off;	/* from cap; 0: none */
	bool is64, pvm;
	unsigned int max_vec;		/* what the guest may enable */
	unsigned int nvec;		/* enabled in VFIO, 0: MSI off */
	/* MSI_VECTOR_EXTERNAL: VFIO signals them (devices/msi_vector.h) */
	struct msi_vector vec[VFIO_MSI_MAX_VECTORS];
};

struct vfio_msix {
	unsigned int cap;		/* config offset, 0: absent/hidden */
	unsigned int nr;		/* table size */
	unsigned int table_bar, pba_bar;
	uint64_t table_off, pba_off;
	struct msix emu;		/* the guest's table, PBA and Enable */
	unsigned int hw_count;		/* vectors enabled in VFIO (table lock) */
	bool noresize;			/* VFIO_IRQ_INFO_NORESIZE */
};

struct vfio_intx {
	bool present;			/* pin and a VFIO INTx index */
	int efd, resample_fd;
	int gsi;			/* -1: unknown (no router): INTx unused */
	bool enabled;
};

/* --trace vfio: what one guest config write sent to the device (trace.c) */
#define VFIO_CFG_TRACE_MAX	8
struct vfio_cfg_hw_write {
	unsigned int off, len;
	uint32_t val;
	int ret;
};
struct vfio_cfg_trace {
	bool active;			/* inside vfio_cfg_write (root lock) */
	unsigned int n, lost;
	struct vfio_cfg_hw_write w[VFIO_CFG_TRACE_MAX];
};

struct vfio_pci {
	struct pci_dev dev;		/* first: the core hands us &dev */
	struct vfio_container *c;
	struct vfio_group *group;
	const struct vfio_ops *ops;
	const struct vm_ops *vm;
	char bdf[HOST_BDF_LEN];
	char name[32];
	int fd;
	uint32_t dev_flags;		/* VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions, num_irqs;
	uint32_t irq_count[VFIO_PCI_NUM_IRQS];	/* VFIO_DEVICE_GET_IRQ_INFO */
	uint32_t irq_flags[VFIO_PCI_NUM_IRQS];
	struct vfio_region cfg;
	uint8_t hw_config[PCI_CFG_SPACE_EXP_SIZE];	/* read at open */
	uint8_t cfg_src[PCI_CFG_SPACE_EXP_SIZE];
	struct vfio_bar bars[PCI_NUM_BARS];
	unsigned int pm_cap, exp_cap;
	/* expansion ROM: a copy in anonymous memory, mapped read-only */
	void *rom;
	uint64_t rom_size;
	int rom_slot;
	/* legacy VGA ranges (vga=on): 0xA0000-0xBFFFF, 0x3B0-0x3BB, 0x3C0-0x3DF */
	struct vfio_region vga;
	struct vfio_vga_range {
		struct vfio_pci *v;
		struct bus *bus;	/* NULL: not registered */
		uint64_t base;
	} vga_ranges[3];

	/* config space mirrors in BARs: trapped, never mapped (quirks.c) */
	struct vfio_mirror mirrors[VFIO_MAX_MIRRORS];
	unsigned int nr_mirrors;
	bool legacy_vga;		/* vga=on asked for this slot */
	bool no_mmap;			/* mmap=off: every BAR part trapped */
	char reset_method[64];		/* sysfs reset_method, for --trace */
	struct vfio_cfg_trace cfg_trace;

	pthread_mutex_t irq_lock;
	bool intr_ready;		/* vfio_intr_init done, irq_lock live */
	struct vfio_msi msi;
	struct vfio_msix msix;
	struct vfio_intx intx;
};

static inline struct vfio_pci *to_vfio(struct pci_dev *dev)
{
	return (struct vfio_pci *)dev;
}

/* container.c */
int vfio_container_check_device(struct vfio_container *c, const char *bdf, int *group);
int vfio_container_get_group(struct vfio_container *c, int id, struct vfio_group **out);
void vfio_container_put_group(struct vfio_container *c, struct vfio_group *g);
struct vfio_group *vfio_container_find_group(struct vfio_container *c, int id);

/* config.c */
int vfio_config_init(struct vfio_pci *v);
uint32_t vfio_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len);
void vfio_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int len);
int vfio_hw_cfg_read(struct vfio_pci *v, unsigned int off, void *buf, unsigned int len);
int vfio_hw_cfg_write(struct vfio_pci *v, unsigned int off, const void *buf, unsigned int len);
/* Bring the device's real COMMAND register in line with the virtual one. */
void vfio_hw_cmd_sync(struct vfio_pci *v, uint16_t cmd);
/* The same for the COMMAND bits in mask only. */
void vfio_hw_cmd_sync_mask(struct vfio_pci *v, uint16_t cmd, uint16_t mask);

/* bar.c */
int vfio_bars_init(struct vfio_pci *v);
void vfio_bars_exit(struct vfio_pci *v);
int vfio_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size);
void vfio_bar_unmap(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size);
int vfio_rom_init(struct vfio_pci *v, const char *romfile);
int vfio_vga_init(struct vfio_pci *v, struct pci_root *root);
void vfio_vga_exit(struct vfio_pci *v);
int vfio_region_get(struct vfio_pci *v, unsigned int index, struct vfio_region *r,
		    struct vfio_region_info **full);

/* quirks.c */
/* Find the config space mirrors of this device's BARs (after the regions
 * are known, before bar.c splits the BARs into pieces). */
void vfio_quirks_probe(struct vfio_pci *v, bool legacy_vga);
/* An access to BAR bar at off that a quirk serves: true if it did. */
bool vfio_quirk_access(struct vfio_pci *v, unsigned int bar, uint64_t off, void *data,
		       unsigned int len, bool write);

/* msi.c */
int vfio_intr_init(struct vfio_pci *v);
void vfio_intr_exit(struct vfio_pci *v);
/* After a config write touched the MSI or MSI-X capability. */
void vfio_msi_update(struct vfio_pci *v);
void vfio_msix_update(struct vfio_pci *v);
/* MSI Pending Bits, computed for a read of the capability. */
uint32_t vfio_msi_pending(struct vfio_pci *v);
/* Everything off, INTx back on: the state after a device reset. */
void vfio_intr_reset(struct vfio_pci *v);
/* INTx on once the function is plugged (its GSI is known). */
void vfio_intx_start(struct vfio_pci *v);

/* pci.c */
extern const struct pci_dev_ops vfio_pci_dev_ops;
/* why: "open", "pci-reset", "flr", "exit" (for --trace). */
int vfio_pci_hw_reset(struct vfio_pci *v, const char *why);
void vfio_pci_reset_hook(struct pci_dev *dev);
/* Function Level Reset requested through the PCIe Device Control register. */
void vfio_pci_flr(struct vfio_pci *v);

/* trace.c: --trace vfio (lib/trace.h); callers test trace_on(TRACE_VFIO) */
void vfio_trace_probe_reset_method(struct vfio_pci *v);
void vfio_trace_cfg_begin(struct vfio_pci *v);
void vfio_trace_cfg_end(struct vfio_pci *v, unsigned int off, uint32_t val, unsigned int len);
void vfio_trace_hw_cfg_write(struct vfio_pci *v, unsigned int off, const void *buf,
			     unsigned int len, int ret);
void vfio_trace_bar(struct vfio_pci *v, const char *event, unsigned int bar, uint64_t gpa,
		    uint64_t size, int ret);
void vfio_trace_piece(struct vfio_pci *v, const struct vfio_piece *p, bool add, int ret);
void vfio_trace_rom_slot(struct vfio_pci *v, bool add, uint64_t gpa, int slot, int ret);
void vfio_trace_vector(struct vfio_pci *v, const char *type, unsigned int i,
		       const struct msi_vector *before, const struct msi_vector *after);
void vfio_trace_set_irqs(struct vfio_pci *v, unsigned int index, uint32_t action,
			 unsigned int start, unsigned int count, int ret);
void vfio_trace_intx(struct vfio_pci *v, bool on, int ret);
void vfio_trace_reset(struct vfio_pci *v, const char *why, const char *method, int ret);
void vfio_trace_dma(const char *event, uint64_t iova, uint64_t size, int ret);

#endif
