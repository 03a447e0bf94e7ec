/* SPDX-License-Identifier: MIT */
/*
 * PCI core: configuration space of every function, BARs and their
 * activation on the PIO/MMIO buses, capability lists, Type-1 (bridge)
 * headers and config-space routing by bus number, and the host side of
 * config access: mechanism #1 at 0xCF8/0xCFC and the ECAM (MMCONFIG)
 * window that the Q35 MCH turns on through PCIEXBAR.
 *
 * References: PCI Local Bus 3.0 ("PCI 3.0") §6 (configuration space) and
 * §3.2.2.3.2 (mechanism #1), PCI-to-PCI Bridge Architecture 1.2 ("P2P
 * 1.2") §3.2 (Type-1 header), PCIe Base 4.0 §7.2.2 (ECAM) and §7.6
 * (extended capabilities).
 *
 * Model. A device embeds a struct pci_dev, fills in its header with
 * pci_dev_init(), registers BARs and capabilities, then plugs into a bus.
 * The core keeps config[] and two masks: wmask (bits the guest may write)
 * and w1cmask (write-1-to-clear bits). Guest writes go through the
 * device's cfg_write hook if it has one (which normally calls
 * pci_dev_default_cfg_write() and then reacts), else straight to the
 * default. After any write that can change decoding (COMMAND, a BAR, the
 * ROM BAR, a bridge's windows or bridge control) the core re-evaluates
 * every BAR under the root and (un)registers ranges accordingly.
 *
 * Locking. One recursive mutex per root serialises all config accesses,
 * BAR activation and reset; device hooks (cfg_read/cfg_write/reset/
 * bar_map/bar_unmap) run with it held and may call any pci_* function.
 * BAR callbacks (the bus_dev_ops of a BAR) run WITHOUT it, from any vCPU
 * thread: they must not call pci_cfg_* (lock order is root, then device).
 * INTx needs no root lock: pci_dev_set_irq() takes only the function's
 * intx_lock, a leaf below the root lock, and the router's own locks
 * below that, so an I/O thread may raise INTx while a vCPU holding the
 * root lock waits for that thread (docs/architecture.md, "Locks").
 */
#ifndef MINIVMM_PCI_H
#define MINIVMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"

/* Configuration header offsets (PCI 3.0 §6.1, P2P 1.2 §3.2). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BIST		0x0f
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
/* Type 1 */
#define PCI_PRIMARY_BUS		0x18
#define PCI_SECONDARY_BUS	0x19
#define PCI_SUBORDINATE_BUS	0x1a
#define PCI_SEC_LATENCY_TIMER	0x1b
#define PCI_IO_BASE		0x1c
#define PCI_IO_LIMIT		0x1d
#define PCI_SEC_STATUS		0x1e
#define PCI_MEMORY_BASE		0x20
#define PCI_MEMORY_LIMIT	0x22
#define PCI_PREF_MEMORY_BASE	0x24
#define PCI_PREF_MEMORY_LIMIT	0x26
#define PCI_PREF_BASE_UPPER32	0x28
#define PCI_PREF_LIMIT_UPPER32	0x2c
#define PCI_IO_BASE_UPPER16	0x30
#define PCI_IO_LIMIT_UPPER16	0x32
#define PCI_ROM_ADDRESS1	0x38
#define PCI_BRIDGE_CONTROL	0x3e

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_PARITY	0x0040
#define PCI_COMMAND_SERR	0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT	0x0008
#define PCI_STATUS_CAP_LIST	0x0010
/* Error bits, all RW1C (PCI 3.0 §6.2.3): parity, target/master aborts, SERR. */
#define PCI_STATUS_W1C		0xf900

#define PCI_HEADER_TYPE_NORMAL	0x00
#define PCI_HEADER_TYPE_BRIDGE	0x01
#define PCI_HEADER_TYPE_MULTI	0x80

#define PCI_BRIDGE_CTL_BUS_RESET 0x40

#define PCI_CFG_SPACE_SIZE	256
#define PCI_CFG_SPACE_EXP_SIZE	4096

#define PCI_DEVFN(slot, fn)	((uint8_t)((((slot) & 0x1f) << 3) | ((fn) & 0x07)))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)

/* BAR indices: 0-5 are the Base Address Registers, 6 the expansion ROM. */
#define PCI_NUM_BARS		6
#define PCI_ROM_BAR		6
#define PCI_NUM_REGIONS		7

/* pci_dev_register_bar() flags. */
#define PCI_BAR_IO		(1u << 0)	/* I/O space, else memory */
#define PCI_BAR_MEM64		(1u << 1)	/* 64-bit memory BAR: uses bar and bar+1 */
#define PCI_BAR_PREFETCH	(1u << 2)	/* prefetchable memory */
/* Backed by host memory (VFIO, ivshmem): the core does not touch the bus
 * but calls ops->bar_map/bar_unmap, which move a KVM memslot. */
#define PCI_BAR_HOSTMEM		(1u << 3)

struct pci_dev;
struct pci_bus;
struct pci_root;

struct pci_dev_ops {
	/* Config read override (the whole access); NULL: the default. */
	uint32_t (*cfg_read)(struct pci_dev *dev, unsigned int off, unsigned int len);
	/* Config write override; usually calls pci_dev_default_cfg_write()
	 * and then reacts to the registers that changed. */
	void (*cfg_write)(struct pci_dev *dev, unsigned int off, uint32_t val,
			  unsigned int len);
	/* After the core restored the power-on config (system or secondary
	 * bus reset): reset device state and side effects. */
	void (*reset)(struct pci_dev *dev);
	/* PCI_BAR_HOSTMEM BARs: map at addr (0 or -errno: the BAR then stays
	 * unmapped and is retried on the next decode change), and unmap. */
	int (*bar_map)(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size);
	void (*bar_unmap)(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size);
};

/*
 * Where a device's INTx goes: the ICH9 LPC installs itself here and maps
 * (root-bus slot, pin) to a PIRQ. Devices behind bridges are swizzled
 * first (P2P 1.2 §9.1). delta is +1 when the pin asserts, -1 when it
 * deasserts; several devices share a line (wired-OR), so the router counts.
 * intx_change is called from any thread, without the root lock, with the
 * function's intx_lock held: it must take only locks below that (the
 * LPC's irq_lines, devices/irq.h).
 */
struct pci_intx_router {
	void (*intx_change)(void *opaque, uint8_t slot, unsigned int pin, int delta);
	/* The GSI (root-bus slot, pin) drives in APIC mode, or -1: for
	 * devices whose INTx reaches KVM through an irqfd (VFIO), which
	 * bypasses intx_change. NULL: unknown. */
	int (*intx_gsi)(void *opaque, uint8_t slot, unsigned int pin);
	void *opaque;
};

/* A function's pin at the root, with the router it reaches. */
struct pci_intx_route {
	bool valid;
	uint8_t slot;
	unsigned int pin;
	struct pci_intx_router router;
};

struct pci_bar {
	uint64_t size;			/* 0: not implemented */
	unsigned int flags;		/* PCI_BAR_* */
	const struct bus_dev_ops *ops;	/* offset-relative to the BAR */
	void *opaque;
	const char *name;
	bool mapped;
	uint64_t addr;			/* where it is registered, if mapped */
};

struct pci_dev {
	uint8_t config[PCI_CFG_SPACE_EXP_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_EXP_SIZE];
	uint8_t w1cmask[PCI_CFG_SPACE_EXP_SIZE];
	uint8_t reset_config[PCI_CFG_SPACE_EXP_SIZE];	/* snapshot taken at plug */
	unsigned int cfg_size;		/* 256, or 4096 for PCIe functions */
	const struct pci_dev_ops *ops;
	const char *name;
	struct pci_bus *bus;		/* NULL until plugged */
	uint8_t devfn;
	struct pci_bar bars[PCI_NUM_REGIONS];
	struct pci_bus *secondary;	/* Type-1 bridges: the bus behind it */
	/* INTx, under intx_lock (any thread; see "Locking" above) */
	pthread_mutex_t intx_lock;
	bool intx_level;		/* the device's INTx input; atomic reads */
	bool intx_disabled;		/* COMMAND.INTX_DISABLE, as last synced */
	bool intx_routed;		/* what the router was told */
	struct pci_intx_route intx_route;	/* where the pin arrives now */
	uint8_t cap_used[PCI_CFG_SPACE_SIZE / 8];	/* 0x40..0xff allocation map */
	uint16_t ext_cap_tail;		/* last extended capability, 0: none */
	uint16_t ext_cap_free;		/* first byte after it */
};

struct pci_bus {
	struct pci_root *root;
	struct pci_dev *bridge;		/* NULL for the root bus (bus 0) */
	struct pci_dev *devs[256];	/* by devfn */
};

struct pci_root {
	struct device dev;		/* its reset resets the whole hierarchy */
	pthread_mutex_t lock;		/* recursive; see the header comment */
	const struct vm_ops *ops;
	struct bus *pio, *mmio;
	struct pci_bus bus0;
	uint32_t cf8;			/* CONFIG_ADDRESS */
	bool cf8_attached;
	struct bus cf8_passthrough;	/* non-dword accesses to 0xCF8-0xCFB */
	uint64_t ecam_base, ecam_size;
	bool ecam_mapped;
	struct pci_intx_router router;
};

/* ---- root (pci_host.c) ------------------------------------------------ */

/*
 * Create the root complex and claim 0xCF8-0xCFB (CONFIG_ADDRESS) and
 * 0xCFC-0xCFF (CONFIG_DATA) on pio. Only a dword access at 0xCF8 is the
 * address register (PCI 3.0 §3.2.2.3.2); any other access to
 * 0xCF8-0xCFB "is passed through as a normal I/O transaction": the root
 * forwards it, byte by byte, to pci_root_cf8_bus(), where the reset
 * device attaches its 0xCF9 (the bus cannot hold overlapping ranges).
 * NULL with errno set on failure (EEXIST: something owns one of those
 * ports already, e.g. reset_ctl attached to pio instead of the
 * passthrough bus). ops, pio and mmio must outlive the root.
 */
struct pci_root *pci_root_create(const struct vm_ops *ops, struct bus *pio,
				 struct bus *mmio);
/* Devices must be unplugged (destroyed) first. */
void pci_root_destroy(struct pci_root *root);
struct pci_bus *pci_root_bus(struct pci_root *root);
struct bus *pci_root_cf8_bus(struct pci_root *root);
/*
 * Map (enable) or unmap the ECAM window: 1 MiB per bus from base, size a
 * multiple of 1 MiB up to 256 MiB. Moving it unmaps the old one first.
 * -EINVAL for a bad size or a range that wraps, bus_register() errors if
 * the place is taken (the window then stays unmapped).
 */
int pci_root_set_ecam(struct pci_root *root, uint64_t base, uint64_t size, bool enable);
/* System reset: every function's power-on config, then its reset hook. */
void pci_root_reset(struct pci_root *root);
void pci_root_set_intx_router(struct pci_root *root, const struct pci_intx_router *r);

/*
 * Config access by (bus number, devfn, register): what CF8/CFC and ECAM
 * use, and the API for tests and host-side code. len is 1, 2 or 4 and
 * the access must not cross a dword (else: all-ones / dropped, as a root
 * complex does not generate such requests). No function there: all-ones
 * on read (PCI 3.0 §6.1, master abort), write dropped. Returns 0, or
 * -ENODEV when no function answered, -EINVAL for a bad access.
 */
int pci_cfg_read(struct pci_root *root, uint8_t bus, uint8_t devfn,
		 unsigned int off, uint32_t *val, unsigned int len);
int pci_cfg_write(struct pci_root *root, uint8_t bus, uint8_t devfn,
		  unsigned int off, uint32_t val, unsigned int len);
/*
 * A config access to dev itself, as a config cycle to it would be (the
 * root lock taken, the device's hooks run): for config space a device
 * also mirrors in a BAR (NVIDIA GPUs at BAR0 + 0x88000), reached from a
 * BAR callback. The caller must hold no device lock (the root lock is the
 * outermost). An unplugged dev reads all-ones, drops writes.
 */
uint32_t pci_dev_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len);
void pci_dev_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int len);
/* The bus with that number now (a bridge's secondary bus follows the
 * numbers the guest programmed), or NULL. Takes the (recursive) root lock. */
struct pci_bus *pci_find_bus(struct pci_root *root, uint8_t nr);

/* ---- functions (pci.c) ------------------------------------------------ */

/*
 * Fill a Type-0 (header_type 0) or Type-1 (1) header: IDs, 24-bit class
 * code (base << 16 | sub << 8 | prog-if), revision, QEMU's default
 * subsystem IDs (1af4:1100), the standard write masks. express gives a
 * 4 KiB config space (PCIe), else 256 bytes. A Type-1 header also gets a
 * secondary bus (freed by pci_dev_exit). Or PCI_HEADER_TYPE_MULTI into
 * config[PCI_HEADER_TYPE] for a multifunction device's function 0.
 */
int pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops, const char *name,
		 uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		 uint8_t header_type, bool express);
/* Unplug (if plugged) and free what pci_dev_init allocated. */
void pci_dev_exit(struct pci_dev *dev);

/* Take devfn on bus: -EBUSY if taken, -EALREADY if dev is plugged
 * already, -EINVAL for a bridge's secondary bus while the bridge itself is
 * not plugged yet. Snapshots config as the reset value. */
int pci_bus_plug(struct pci_bus *bus, struct pci_dev *dev, uint8_t devfn);
/* Unmap every BAR, drop INTx, leave the bus. */
void pci_bus_unplug(struct pci_dev *dev);

/*
 * Declare BAR bar (0-5, Type-1: 0-1; PCI_ROM_BAR for the expansion ROM)
 * of size bytes, a power of two: I/O 4 B - 64 KiB, 32-bit memory 16 B -
 * 2 GiB, 64-bit memory from 16 B, ROM 2 KiB - 1 GiB. Accesses reach ops
 * with offsets relative to the BAR; PCI_BAR_HOSTMEM BARs call the
 * device's bar_map/bar_unmap instead (ops may then be NULL). Before plug.
 */
int pci_dev_register_bar(struct pci_dev *dev, unsigned int bar, unsigned int flags,
			 uint64_t size, const struct bus_dev_ops *ops, void *opaque,
			 const char *name);
/* Guest-programmed address of a BAR (type bits stripped). */
uint64_t pci_dev_bar_addr(const struct pci_dev *dev, unsigned int bar);

/*
 * Add a capability with ID id of size bytes (>= 2) at offset (dword
 * aligned, 0x40-0xfc), or anywhere free if offset is 0. Links it at the
 * head of the list, sets STATUS.CAP_LIST, makes its bytes read-only (set
 * wmask afterwards for writable fields). Returns the offset, or -ENOSPC/
 * -EINVAL/-EEXIST. pci_dev_reserve() keeps device registers out of the
 * automatic placement.
 */
int pci_dev_add_cap(struct pci_dev *dev, uint8_t id, unsigned int offset, unsigned int size);
int pci_dev_reserve(struct pci_dev *dev, unsigned int offset, unsigned int size);
/* Find a capability; 0 if absent. */
unsigned int pci_dev_find_cap(const struct pci_dev *dev, uint8_t id);
/*
 * PCIe extended capability (PCIe 4.0 §7.6.3): the first goes at 0x100,
 * later ones after the previous (offset 0) or at offset; appended to the
 * list. Needs a 4 KiB config space (-EINVAL otherwise).
 */
int pci_dev_add_ext_cap(struct pci_dev *dev, uint16_t id, uint8_t version,
			unsigned int offset, unsigned int size);

/* The default config access, for hooks that extend it. */
uint32_t pci_dev_default_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len);
void pci_dev_default_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val,
			       unsigned int len);

/*
 * Raise or lower the device's INTx pin (from config[PCI_INTERRUPT_PIN]).
 * Honours COMMAND.INTX_DISABLE and shows in STATUS.INTERRUPT (PCI 3.0
 * §6.2.2-3). Any thread, any lock held: it takes only the function's
 * intx_lock and the router's leaf locks, never the root lock.
 */
void pci_dev_set_irq(struct pci_dev *dev, bool level);
/* The device's INTx request as last set. */
bool pci_dev_irq_level(struct pci_dev *dev);

/*
 * The GSI dev's INTx pin (config[PCI_INTERRUPT_PIN]) reaches after the
 * bridge swizzle, as the router reports it (the _PRT's APIC-mode
 * answer); -ENOENT without a pin, a bus or a router that knows.
 */
int pci_dev_intx_gsi(struct pci_dev *dev);

/* Re-evaluate every BAR's decode under root (root lock taken). */
void pci_root_update_mappings(struct pci_root *root);

/*
 * The span [*lo, *hi] of every 64-bit memory range the guest programmed
 * under root at or above floor: 64-bit memory BARs and bridges' 64-bit
 * prefetchable windows, decoded or not (the firmware programs addresses
 * first and turns decode on later; an OS claims what the registers say).
 * What PCI0._CRS must cover so that the OS accepts the firmware's
 * placement. false when there is none. Takes the root lock.
 */
bool pci_root_mem64_extent(struct pci_root *root, uint64_t floor, uint64_t *lo, uint64_t *hi);

/* Little-endian accessors on a device's config/masks (no locking, no
 * bounds beyond the 4 KiB arrays: for device code setting up headers). */
static inline void pci_set8(uint8_t *a, unsigned int off, uint8_t v)
{
	if (off < PCI_CFG_SPACE_EXP_SIZE)
		a[off] = v;
}

static inline void pci_set16(uint8_t *a, unsigned int off, uint16_t v)
{
	pci_set8(a, off, (uint8_t)v);
	pci_set8(a, off + 1, (uint8_t)(v >> 8));
}

static inline void pci_set32(uint8_t *a, unsigned int off, uint32_t v)
{
	pci_set16(a, off, (uint16_t)v);
	pci_set16(a, off + 2, (uint16_t)(v >> 16));
}

static inline uint8_t pci_get8(const uint8_t *a, unsigned int off)
{
	return off < PCI_CFG_SPACE_EXP_SIZE ? a[off] : 0xff;
}

static inline uint16_t pci_get16(const uint8_t *a, unsigned int off)
{
	return (uint16_t)(pci_get8(a, off) | pci_get8(a, off + 1) << 8);
}

static inline uint32_t pci_get32(const uint8_t *a, unsigned int off)
{
	return (uint32_t)pci_get16(a, off) | (uint32_t)pci_get16(a, off + 2) << 16;
}

/* Does a config write [off, off+len) touch [reg, reg+size)? */
static inline bool pci_range_overlaps(unsigned int off, unsigned int len,
				      unsigned int reg, unsigned int size)
{
	return off < reg + size && reg < off + len;
}

#endif
