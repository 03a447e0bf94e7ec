// SPDX-License-Identifier: MIT
/*
 * PCI configuration space as a guest reaches it: mechanism #1 at
 * 0xCF8/0xCFC (with the 0xCF9 reset register in the passthrough), ECAM
 * wherever the MCH's PCIEXBAR puts it, and whatever BARs, the RCRB, the
 * PM block and the APM ports end up decoding. The machine is a q35 core:
 * MCH, ICH9 LPC with its PM block, a PCIe root port with a device behind
 * it and a second bridge behind that with another device (two levels of
 * bus-number routing, windows, swizzling and secondary bus reset), and a
 * device on the root bus; the three devices have every BAR kind and INTx.
 *
 * Input: a sequence of records, each an op byte and its operands (see
 * docs/fuzzing.md). After every record: both buses are sane, every BAR
 * the core calls mapped is registered where it says with its size, the
 * host-memory BAR's map/unmap calls pair up, and the PCI interrupt lines
 * (GSI 16-23, and the PIC inputs PIRQs are routed to) carry exactly the
 * OR of the INTx pins routed to them. At the end everything unregisters.
 */
#include <errno.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/reset.h"
#include "devices/pci.h"
#include "devices/pcie_port.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "firmware/acpi.h"
#include "firmware/aml.h"
#include "lib/layout.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define ECAM_DEFAULT	0xb0000000ULL
#define PORT_SLOT	1
#define DEV_SLOT	2

/* A function with a BAR of every kind; records its host-memory BAR. */
struct tdev {
	struct pci_dev dev;
	uint8_t regs[0x100];
	bool host_mapped;
	uint64_t host_addr, host_size;
};

static void tdev_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct tdev *t = opaque;

	for (unsigned int i = 0; i < len; i++)
		((uint8_t *)data)[i] = t->regs[(off + i) % sizeof(t->regs)];
}

static void tdev_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct tdev *t = opaque;

	for (unsigned int i = 0; i < len; i++)
		t->regs[(off + i) % sizeof(t->regs)] = ((const uint8_t *)data)[i];
}

static const struct bus_dev_ops tdev_bar_ops = { .read = tdev_read, .write = tdev_write };

static struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, dev));
}

/* OP_MAP_FAIL: the host-memory BARs' memslots fail (KVM out of slots);
 * such a BAR must stay unmapped and be retried on the next change. */
static bool map_fail;

static int tdev_bar_map(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = to_tdev(d);

	if (map_fail)
		return -ENOSPC;
	FZ_CHECK(!t->host_mapped, "host BAR mapped twice (%#llx, then %#llx)",
		 (unsigned long long)t->host_addr, (unsigned long long)addr);
	FZ_CHECK(addr % size == 0, "host BAR at %#llx not aligned to %#llx",
		 (unsigned long long)addr, (unsigned long long)size);
	t->host_mapped = true;
	t->host_addr = addr;
	t->host_size = size;
	return 0;
}

static void tdev_bar_unmap(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = to_tdev(d);

	FZ_CHECK(t->host_mapped && addr == t->host_addr && size == t->host_size,
		 "host BAR unmapped at %#llx without a matching map", (unsigned long long)addr);
	t->host_mapped = false;
}

static const struct pci_dev_ops tdev_ops = {
	.bar_map = tdev_bar_map, .bar_unmap = tdev_bar_unmap,
};

struct machine {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct reset_ctl *rst;
	struct acpi_pm *pm;
	struct mch *mch;
	struct lpc *lpc;
	struct pcie_port *port, *port2;	/* 00:01.0; behind it at slot 1 */
	struct tdev *dev, *leaf, *leaf2;	/* root bus; behind port; behind port2 */
	int64_t clock_ns;
};

static int64_t fake_clock(void *opaque)
{
	return ((struct machine *)opaque)->clock_ns;
}

static int tdev_setup(struct tdev *t, bool express, uint8_t pin)
{
	const struct bus_dev_ops *o = &tdev_bar_ops;

	if (pci_dev_init(&t->dev, &tdev_ops, "fuzz-dev", 0x1234, 0x5678, 0x020000, 1,
			 PCI_HEADER_TYPE_NORMAL, express))
		return -1;
	t->dev.config[PCI_INTERRUPT_PIN] = pin;
	if (pci_dev_register_bar(&t->dev, 0, PCI_BAR_IO, 0x20, o, t, "fuzz-io") ||
	    pci_dev_register_bar(&t->dev, 1, 0, 0x1000, o, t, "fuzz-m32") ||
	    pci_dev_register_bar(&t->dev, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, 0x4000, o, t,
				 "fuzz-m64") ||
	    pci_dev_register_bar(&t->dev, 4, PCI_BAR_MEM64 | PCI_BAR_HOSTMEM, 0x200000, NULL,
				 NULL, "fuzz-host") ||
	    pci_dev_register_bar(&t->dev, PCI_ROM_BAR, 0, 0x800, o, t, "fuzz-rom"))
		return -1;
	return 0;
}

static int machine_create(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	fake_vm_init(&m->fvm);
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	m->root = pci_root_create(&m->fvm.ops, &m->pio, &m->mmio);
	m->rst = reset_ctl_create(&m->fvm.ops);
	m->pm = acpi_pm_create(&m->fvm.ops, LAYOUT_SCI_GSI);
	if (!m->root || !m->rst || !m->pm ||
	    reset_ctl_attach(m->rst, pci_root_cf8_bus(m->root)) ||
	    acpi_pm_attach(m->pm, &m->pio, LAYOUT_PM_BASE))
		return -1;
	acpi_pm_set_clock(m->pm, fake_clock, m);
	m->mch = mch_create(m->root);
	m->lpc = lpc_create(m->root, &m->fvm.ops, &m->pio, &m->mmio, m->pm);
	m->port = pcie_root_port_create(pci_root_bus(m->root), PCI_DEVFN(PORT_SLOT, 0), 1);
	m->dev = calloc(1, sizeof(*m->dev));
	m->leaf = calloc(1, sizeof(*m->leaf));
	m->leaf2 = calloc(1, sizeof(*m->leaf2));
	if (!m->mch || !m->lpc || !m->port || !m->dev || !m->leaf || !m->leaf2 ||
	    tdev_setup(m->dev, false, 1) || tdev_setup(m->leaf, true, 2) ||
	    tdev_setup(m->leaf2, false, 4) ||
	    pci_bus_plug(pci_root_bus(m->root), &m->dev->dev, PCI_DEVFN(DEV_SLOT, 0)) ||
	    pci_bus_plug(pcie_port_bus(m->port), &m->leaf->dev, PCI_DEVFN(0, 0)))
		return -1;
	m->port2 = pcie_root_port_create(pcie_port_bus(m->port), PCI_DEVFN(1, 0), 2);
	if (!m->port2 || pci_bus_plug(pcie_port_bus(m->port2), &m->leaf2->dev, PCI_DEVFN(3, 0)))
		return -1;
	return 0;
}

static void machine_destroy(struct machine *m)
{
	if (m->leaf2) {
		pci_dev_exit(&m->leaf2->dev);
		FZ_CHECK(!m->leaf2->host_mapped, "leaf2 host BAR still mapped after unplug");
	}
	pcie_root_port_destroy(m->port2);
	if (m->leaf) {
		pci_dev_exit(&m->leaf->dev);
		FZ_CHECK(!m->leaf->host_mapped, "leaf host BAR still mapped after unplug");
	}
	if (m->dev) {
		pci_dev_exit(&m->dev->dev);
		FZ_CHECK(!m->dev->host_mapped, "host BAR still mapped after unplug");
	}
	free(m->leaf2);
	free(m->leaf);
	free(m->dev);
	pcie_root_port_destroy(m->port);
	lpc_destroy(m->lpc);
	mch_destroy(m->mch);
	acpi_pm_destroy(m->pm);
	reset_ctl_destroy(m->rst);
	pci_root_destroy(m->root);
	FZ_CHECK(m->pio.nr_ranges == 0, "%zu port ranges left after teardown", m->pio.nr_ranges);
	FZ_CHECK(m->mmio.nr_ranges == 0, "%zu MMIO ranges left after teardown",
		 m->mmio.nr_ranges);
	for (unsigned int i = 0; i < FAKE_VM_MAX_GSI; i++)
		FZ_CHECK(!m->fvm.irq_level[i] || i == LAYOUT_SCI_GSI,
			 "GSI %u left high after teardown", i);
	bus_exit(&m->pio);
	bus_exit(&m->mmio);
}

/* ---- invariants ---------------------------------------------------------- */

static const struct bus_range *find_range(const struct bus *b, uint64_t base)
{
	for (size_t i = 0; i < b->nr_ranges; i++)
		if (b->ranges[i].base == base)
			return &b->ranges[i];
	return NULL;
}

static void check_bars(struct machine *m, struct tdev *t)
{
	for (unsigned int i = 0; i < PCI_NUM_REGIONS; i++) {
		const struct pci_bar *b = &t->dev.bars[i];
		const struct bus_range *r;

		if (!b->size || !b->mapped)
			continue;
		if (b->flags & PCI_BAR_HOSTMEM) {
			FZ_CHECK(t->host_mapped && t->host_addr == b->addr,
				 "BAR %u says mapped at %#llx, device saw otherwise", i,
				 (unsigned long long)b->addr);
			continue;
		}
		r = find_range(b->flags & PCI_BAR_IO ? &m->pio : &m->mmio, b->addr);
		FZ_CHECK(r && r->len == b->size && r->opaque == t,
			 "BAR %u mapped at %#llx but not registered there", i,
			 (unsigned long long)b->addr);
	}
	if (!t->dev.bars[4].mapped)
		FZ_CHECK(!t->host_mapped, "host BAR unmapped but the device still maps it");
}

/* The PIRQ a test device's INTx reaches: P2P 1.2 table 9-1, pin + slot
 * at each bridge on the way up, then the LPC's rule for the root slot. */
static unsigned int tdev_pirq(struct machine *m, struct tdev *t)
{
	unsigned int pin = t->dev.config[PCI_INTERRUPT_PIN] - 1;

	if (t == m->dev)
		return lpc_slot_pirq(DEV_SLOT, pin);
	pin = (pin + PCI_SLOT(t->dev.devfn)) % 4;	/* at its own bridge */
	if (t == m->leaf2)
		pin = (pin + 1) % 4;	/* then at port, where port2 is slot 1 */
	return lpc_slot_pirq(PORT_SLOT, pin);
}

static bool tdev_asserts(struct tdev *t)
{
	return t->dev.intx_level &&
	       !(pci_get16(t->dev.config, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

static void check_irqs(struct machine *m)
{
	bool pirq[LPC_NR_PIRQ] = { false };
	bool pic[16] = { false };
	struct tdev *devs[3] = { m->dev, m->leaf, m->leaf2 };

	for (unsigned int i = 0; i < 3; i++) {
		int gsi = pci_dev_intx_gsi(&devs[i]->dev);

		FZ_CHECK(gsi == (int)(LAYOUT_PIRQ_GSI_BASE + tdev_pirq(m, devs[i])),
			 "device %u's INTx reaches GSI %d, expected %u", i, gsi,
			 LAYOUT_PIRQ_GSI_BASE + tdev_pirq(m, devs[i]));
		if (tdev_asserts(devs[i]))
			pirq[tdev_pirq(m, devs[i])] = true;
	}
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++) {
		uint32_t rout = 0;
		unsigned int irq;

		FZ_CHECK(m->fvm.irq_level[LAYOUT_PIRQ_GSI_BASE + p] == pirq[p],
			 "GSI %u is %d, the INTx routed to PIRQ %c say %d",
			 LAYOUT_PIRQ_GSI_BASE + p, m->fvm.irq_level[LAYOUT_PIRQ_GSI_BASE + p],
			 'A' + p, pirq[p]);
		pci_cfg_read(m->root, 0, LPC_DEVFN,
			     p < 4 ? LPC_PIRQA_ROUT + p : LPC_PIRQE_ROUT + p - 4, &rout, 1);
		irq = rout & 0x0f;
		if (!(rout & LPC_PIRQ_ROUT_IRQEN) && irq >= 3 && irq != 8 && irq != 13 && pirq[p])
			pic[irq] = true;
	}
	/* IRQ 9 is shared with the SCI, which the PM block drives itself. */
	for (unsigned int irq = 0; irq < 16; irq++)
		FZ_CHECK(irq == LAYOUT_SCI_GSI || m->fvm.irq_level[irq] == pic[irq],
			 "PIC input %u is %d, the PIRQs routed to it say %d", irq,
			 m->fvm.irq_level[irq], pic[irq]);
}

/* What PCI0._CRS is widened over (pci_root_mem64_extent): inside the
 * address space, above the floor, ordered. */
static void check_extent(struct machine *m, uint64_t floor)
{
	uint64_t lo = 0, hi = 0;

	if (!pci_root_mem64_extent(m->root, floor, &lo, &hi))
		return;
	FZ_CHECK(lo >= floor && lo <= hi && hi < (1ULL << 52),
		 "64-bit extent %#llx-%#llx (floor %#llx)", (unsigned long long)lo,
		 (unsigned long long)hi, (unsigned long long)floor);
}

/* The DSDT as the firmware gets it when it selects the tables
 * (firmware/acpi_tables.c): whatever the guest programmed, it builds,
 * keeps its length (the fw_cfg directory's) and covers the extent. Only
 * the DSDT: the other tables do not depend on the BARs. */
static void check_acpi(struct machine *m, uint64_t ram_high)
{
	static size_t want;
	static uint64_t built_base, built_size;	/* the last window built */
	struct acpi_config cfg;
	struct aml *dsdt;
	uint64_t lo, hi;

	acpi_config_init(&cfg);
	cfg.ram_low_end = 2ULL << 30;
	cfg.ram_high_size = ram_high;
	cfg.pci32_start = cfg.ram_low_end;
	cfg.pci32_end = 0xfec00000ULL;
	acpi_ovmf_pci64_window(ram_high, &cfg.pci64_base, &cfg.pci64_size);
	if (!want) {
		dsdt = acpi_dsdt_aml(&cfg);
		FZ_CHECK(dsdt && !aml_error(dsdt), "the start-up DSDT does not build");
		want = aml_len(dsdt);
		aml_free(dsdt);
	}
	if (pci_root_mem64_extent(m->root, 0x100000000ULL + ram_high, &lo, &hi)) {
		acpi_pci64_window_cover(&cfg.pci64_base, &cfg.pci64_size, lo, hi);
		FZ_CHECK(cfg.pci64_base <= lo && cfg.pci64_base + cfg.pci64_size - 1 >= hi,
			 "the window does not cover %#llx-%#llx", (unsigned long long)lo,
			 (unsigned long long)hi);
	}
	/* Building AML is slow under ASan: once per new window. */
	if (cfg.pci64_base == built_base && cfg.pci64_size == built_size)
		return;
	built_base = cfg.pci64_base;
	built_size = cfg.pci64_size;
	dsdt = acpi_dsdt_aml(&cfg);
	FZ_CHECK(dsdt && !aml_error(dsdt), "the rebuilt DSDT does not build: %d",
		 dsdt ? aml_error(dsdt) : -12);
	FZ_CHECK(aml_len(dsdt) == want, "the DSDT went from %zu to %zu bytes", want,
		 aml_len(dsdt));
	aml_free(dsdt);
}

static void check_all(struct machine *m)
{
	check_extent(m, 0x100000000ULL);
	fz_check_bus(&m->pio, 0x10000);
	fz_check_bus(&m->mmio, 0);
	check_bars(m, m->dev);
	check_bars(m, m->leaf);
	check_bars(m, m->leaf2);
	check_irqs(m);
}

/* ---- operations ---------------------------------------------------------- */

enum {
	OP_CF8,			/* u32: CONFIG_ADDRESS, raw */
	OP_CF8_ADDR,		/* bus sel, devfn, reg: CONFIG_ADDRESS, enabled */
	OP_CFC_READ,		/* width|offset */
	OP_CFC_WRITE,		/* width|offset, u32 */
	OP_ECAM_READ,		/* bus sel, devfn, u16 reg, width */
	OP_ECAM_WRITE,		/* bus sel, devfn, u16 reg, width, u64 */
	OP_RANGE_READ,		/* bus|width, index, u32 offset: inside a registered range */
	OP_RANGE_WRITE,		/* bus|width, index, u32 offset, u64 */
	OP_PIO,			/* dir|width, u16 port, u32 */
	OP_IRQ,			/* level << 7 | which (mod 3) */
	OP_RESET,		/* system reset */
	OP_API,			/* dir|len, bus sel, devfn, u16 off, u32: pci_cfg_* */
	OP_PCIEXBAR,		/* u64 */
	OP_BAR,			/* bus sel, devfn, reg index, u32 value, u16 command */
	OP_CLOCK,		/* u32: advance the PM timer clock (ns) */
	OP_MMIO,		/* dir|width, u64 addr, u64 */
	OP_PM_EVENT,		/* bit: a GPE (or the power button) for the SCI */
	OP_PLACE,		/* what, range index, offset: decode over another range */
	OP_MAP_FAIL,		/* on: host-memory BAR mapping fails from now on */
	OP_DEV_CFG,		/* dir|len, which, u16 off, u32: pci_dev_cfg_* (a BAR mirror) */
	OP_ACPI,		/* u8 floor (GiB): the ACPI tables rebuilt over the BARs */
	NR_OPS,
};

static uint8_t bus_sel(struct fz *f)
{
	uint8_t s = fz_u8(f);

	/* Mostly the buses that exist (0, or what the bridges' secondary
	 * numbers may be programmed to), sometimes anything. */
	return s < 0xc0 ? s % 4 : s;
}

static uint64_t ecam_base(struct machine *m)
{
	return m->root->ecam_mapped ? m->root->ecam_base : ECAM_DEFAULT;
}

/* The bus number a test device answers on now (0: not reachable). */
static uint8_t tdev_busnr(struct machine *m, struct tdev *t)
{
	if (t == m->dev)
		return 0;
	if (t == m->leaf)
		return pcie_port_dev(m->port)->config[PCI_SECONDARY_BUS];
	return pcie_port_dev(m->port2)->config[PCI_SECONDARY_BUS];
}

/*
 * Put something that decodes (a BAR, the ECAM window, the RCRB, the PM
 * block) right on top of a range that is registered already: the
 * overlaps a hostile guest makes on purpose, which the bus must refuse
 * and the core must retry later, and which random addresses never hit.
 */
static void place(struct machine *m, struct fz *f)
{
	uint8_t what = fz_u8(f), idx = fz_u8(f), off = fz_u8(f);
	bool io = what & 0x80;
	struct bus *bus = io ? &m->pio : &m->mmio;
	struct tdev *devs[3] = { m->dev, m->leaf, m->leaf2 };
	uint64_t base;

	if (!bus->nr_ranges)
		return;
	base = bus->ranges[idx % bus->nr_ranges].base + (off & 0x0f) * 0x10ULL;
	switch ((what & 0x7f) % 6) {
	case 0:
	case 1:
	case 2: {
		struct tdev *t = devs[(what & 0x7f) % 3];
		uint8_t busnr = tdev_busnr(m, t);
		unsigned int bar = off >> 4;

		if (t != m->dev && !busnr)
			return;
		bar = io ? 0 : bar % 3 == 0 ? 1 : bar % 3 == 1 ? 2 : PCI_ROM_BAR;
		pci_cfg_write(m->root, busnr, t->dev.devfn,
			      bar == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar,
			      (uint32_t)base | (bar == PCI_ROM_BAR), 4);
		if (bar == 2)
			pci_cfg_write(m->root, busnr, t->dev.devfn, PCI_BASE_ADDRESS_0 + 12,
				      (uint32_t)(base >> 32), 4);
		pci_cfg_write(m->root, busnr, t->dev.devfn, PCI_COMMAND,
			      PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
		break;
	}
	case 3:
		pci_cfg_write(m->root, 0, 0, 0x64, (uint32_t)(base >> 32), 4);
		pci_cfg_write(m->root, 0, 0, 0x60,
			      ((uint32_t)base & 0xfc000000u) | (off & 6) | 1, 4);
		break;
	case 4:
		pci_cfg_write(m->root, 0, LPC_DEVFN, LPC_RCBA, ((uint32_t)base & 0xffffc000u) | 1, 4);
		break;
	default:
		pci_cfg_write(m->root, 0, LPC_DEVFN, LPC_PMBASE, ((uint32_t)base & 0xff80u) | 1, 4);
		pci_cfg_write(m->root, 0, LPC_DEVFN, LPC_ACPI_CNTL, LPC_ACPI_CNTL_ACPI_EN, 1);
		break;
	}
}

static void cf8(struct machine *m, uint32_t v)
{
	fz_bus_write(&m->pio, 0xcf8, v, 4);
}

static void run_op(struct machine *m, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a, b;
	unsigned int len;
	uint32_t off;

	switch (op) {
	case OP_CF8:
		cf8(m, fz_u32(f));
		break;
	case OP_CF8_ADDR:
		a = bus_sel(f);
		b = fz_u8(f);
		cf8(m, 0x80000000u | (uint32_t)a << 16 | (uint32_t)b << 8 | (fz_u8(f) & 0xfc));
		break;
	case OP_CFC_READ:
		a = fz_u8(f);
		fz_bus_read(&m->pio, 0xcfc + (a & 3), fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2));
		break;
	case OP_CFC_WRITE:
		a = fz_u8(f);
		fz_bus_write(&m->pio, 0xcfc + (a & 3), fz_u32(f),
			     fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2));
		break;
	case OP_ECAM_READ:
	case OP_ECAM_WRITE: {
		uint64_t addr;

		a = bus_sel(f);
		b = fz_u8(f);
		addr = ecam_base(m) + ((uint64_t)a << 20 | (uint64_t)b << 12 | (fz_u16(f) & 0xfff));
		len = fz_width(fz_u8(f));
		if (op == OP_ECAM_READ)
			fz_bus_read(&m->mmio, addr, len);
		else
			fz_bus_write(&m->mmio, addr, fz_u64(f), len);
		break;
	}
	case OP_RANGE_READ:
	case OP_RANGE_WRITE: {
		struct bus *bus;
		const struct bus_range *r;
		uint64_t base;

		a = fz_u8(f);
		bus = a & 1 ? &m->mmio : &m->pio;
		len = fz_width(a >> 1);
		b = fz_u8(f);
		off = fz_u32(f);
		if (!bus->nr_ranges)
			break;
		r = &bus->ranges[b % bus->nr_ranges];
		base = r->base + off % r->len;
		if (op == OP_RANGE_READ)
			fz_bus_read(bus, base, len);
		else
			fz_bus_write(bus, base, fz_u64(f), len);
		break;
	}
	case OP_PIO: {
		uint16_t port;

		a = fz_u8(f);
		port = fz_u16(f);
		len = fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1);
		if (a & 1)
			fz_bus_write(&m->pio, port, fz_u32(f), len);
		else
			fz_bus_read(&m->pio, port, len);
		break;
	}
	case OP_IRQ:
		a = fz_u8(f);
		pci_dev_set_irq(a % 3 == 1 ? &m->leaf->dev : a % 3 == 2 ? &m->leaf2->dev :
				&m->dev->dev, a & 0x80);
		break;
	case OP_RESET:
		pci_root_reset(m->root);
		break;
	case OP_API: {
		uint32_t v = 0;
		uint16_t reg;

		a = fz_u8(f);
		b = bus_sel(f);
		off = fz_u8(f);
		reg = fz_u16(f);
		/* len 0-7: the API must refuse the bad ones itself. */
		len = (a >> 1) & 7;
		if (a & 1)
			pci_cfg_write(m->root, b, (uint8_t)off, reg, fz_u32(f), len);
		else
			pci_cfg_read(m->root, b, (uint8_t)off, reg, &v, len);
		break;
	}
	case OP_PCIEXBAR: {
		uint64_t v = fz_u64(f);

		pci_cfg_write(m->root, 0, 0, 0x60, 0, 4);
		pci_cfg_write(m->root, 0, 0, 0x64, (uint32_t)(v >> 32), 4);
		pci_cfg_write(m->root, 0, 0, 0x60, (uint32_t)v, 4);
		break;
	}
	case OP_BAR: {
		/* What firmware does per BAR: size it, place it, decode. */
		uint32_t v;
		uint16_t cmd;

		a = bus_sel(f);
		b = fz_u8(f);
		off = PCI_BASE_ADDRESS_0 + 4 * (fz_u8(f) % 7);
		if (off == PCI_BASE_ADDRESS_0 + 4 * 6)
			off = PCI_ROM_ADDRESS;
		v = fz_u32(f);
		cmd = fz_u16(f);
		cf8(m, 0x80000000u | (uint32_t)a << 16 | (uint32_t)b << 8 | off);
		fz_bus_write(&m->pio, 0xcfc, 0xffffffff, 4);
		fz_bus_read(&m->pio, 0xcfc, 4);
		fz_bus_write(&m->pio, 0xcfc, v, 4);
		cf8(m, 0x80000000u | (uint32_t)a << 16 | (uint32_t)b << 8 | PCI_COMMAND);
		fz_bus_write(&m->pio, 0xcfc, cmd, 2);
		break;
	}
	case OP_CLOCK:
		m->clock_ns += fz_u32(f);
		break;
	case OP_MMIO: {
		uint64_t addr;

		a = fz_u8(f);
		addr = fz_u64(f);
		len = fz_width(a >> 1);
		if (a & 1)
			fz_bus_write(&m->mmio, addr, fz_u64(f), len);
		else
			fz_bus_read(&m->mmio, addr, len);
		break;
	}
	case OP_PLACE:
		place(m, f);
		break;
	case OP_MAP_FAIL:
		map_fail = fz_u8(f) & 1;
		break;
	case OP_DEV_CFG: {
		struct tdev *devs[3] = { m->dev, m->leaf, m->leaf2 };
		struct pci_dev *d;
		uint16_t reg;

		a = fz_u8(f);
		b = fz_u8(f);
		reg = fz_u16(f);
		d = b % 4 == 3 ? pcie_port_dev(m->port) : &devs[b % 4]->dev;
		len = (a >> 1) & 7;	/* 0-7: bad ones refused */
		if (a & 1)
			pci_dev_cfg_write(d, reg, fz_u32(f), len);
		else
			pci_dev_cfg_read(d, reg, len);
		break;
	}
	case OP_ACPI:
		check_acpi(m, (uint64_t)fz_u8(f) << 30);
		break;
	case OP_PM_EVENT:
		a = fz_u8(f);
		if (a >= 0xc0)
			acpi_pm_power_button(m->pm);
		else
			FZ_CHECK((acpi_pm_gpe_raise(m->pm, a) == 0) == (a < ACPI_PM_NR_GPE),
				 "GPE %u", a);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct fz f;

	map_fail = false;
	FZ_CHECK(m && machine_create(m) == 0, "cannot build the machine");
	fz_init(&f, data, size);
	while (fz_more(&f)) {
		run_op(m, &f);
		check_all(m);
	}
	/* Put the interrupt sources down so teardown can check every line. */
	pci_dev_set_irq(&m->dev->dev, false);
	pci_dev_set_irq(&m->leaf->dev, false);
	pci_dev_set_irq(&m->leaf2->dev, false);
	check_all(m);
	machine_destroy(m);
	free(m);
	return 0;
}
