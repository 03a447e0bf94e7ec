// SPDX-License-Identifier: MIT
/*
 * The ICH9 AHCI controller: its PCI function (config space, BAR 5 = ABAR,
 * BAR 4 = the index/data pair, MSI), the HBA and port registers (AHCI §3),
 * resets (HBA reset, COMRESET, the PCI reset hook) and its interrupt.
 * Commands run on each port's I/O thread (port.c); ata.c and atapi.c
 * carry them out. ahci_internal.h has the locks; docs/ahci.md the design.
 *
 * A vCPU's register write never touches a command list or a disk: PxCI
 * sets bits and wakes the port's thread through an eventfd; PxCMD.ST
 * starts or (joining it) stops that thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ahci/ahci_internal.h"
#include "devices/pcie_regs.h"
#include "lib/log.h"

#define MSI_CAP_OFF		0x80	/* ICH9: MSI first, at 80h (datasheet §14.1) */
#define MSI_CAP_SIZE		14	/* 64-bit address, no per-vector mask */
#define SATA_CAP_OFF		0xa8
#define SATA_CAP_SIZE		8
#define SATA_CAP_REV		0x0010	/* 1.0 */
#define SATA_CR1_IDP_BAR4	(0x8u | (AHCI_IDP_INDEX / 4) << 4)	/* BARLOC 20h, BAROFST */
#define ICH9_MAP		0x90	/* Address Map: SMS = 01b, AHCI mode */
#define ICH9_MAP_AHCI		0x40
#define AHCI_BAR_IDP		4
#define AHCI_BAR_ABAR		5

static struct ahci *to_ahci(struct pci_dev *dev)
{
	return container_of(dev, struct ahci, pci);
}

/* ---- interrupts (AHCI §10.7) ----------------------------------------------- */

void ahci_update_irq(struct ahci *a, bool event)
{
	bool pending = false;

	if (a->ghc & GHC_IE)
		for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
			pending |= (a->port[i].is & a->port[i].ie) != 0;
	if (a->msi_on) {
		/* §10.7.2.1: one message per event; a driver reads IS and
		 * each PxIS in its handler, so an extra one costs nothing and
		 * a missing one would hang it. */
		if (pending && (event || !a->irq_pending))
			msi_vector_notify(&a->msi);
		if (a->intx_level) {
			a->intx_level = false;
			pci_dev_set_irq(&a->pci, false);
		}
	} else if (pending != a->intx_level) {
		/* §10.7.1: INTx is level-triggered, asserted while IS != 0. */
		a->intx_level = pending;
		pci_dev_set_irq(&a->pci, pending);
	}
	a->irq_pending = pending;
}

void ahci_port_raise(struct ahci_port *p, uint32_t bits)
{
	p->is |= bits;
	ahci_update_irq(p->hba, (bits & p->ie) != 0);
}

/* ---- register reads (AHCI §3) ------------------------------------------------ */

static uint32_t port_ssts(const struct ahci_port *p)
{
	uint32_t det = p->sctl & SCTL_DET_MASK;

	if (det == SCTL_DET_OFFLINE)
		return SSTS_DET_OFFLINE;
	if (p->kind == AHCI_DRIVE_NONE)
		return 0;
	/* While software holds DET at 1 the link is down (COMRESET
	 * asserted): presence detected, no communication (§3.3.10). */
	if (det == SCTL_DET_COMRESET)
		return 0x1;
	return SSTS_DET_PRESENT | SSTS_SPD_GEN3 | SSTS_IPM_ACTIVE;
}

static uint32_t port_read(struct ahci_port *p, unsigned int reg)
{
	switch (reg) {
	case PX_CLB:	return (uint32_t)p->clb;
	case PX_CLBU:	return (uint32_t)(p->clb >> 32);
	case PX_FB:	return (uint32_t)p->fb;
	case PX_FBU:	return (uint32_t)(p->fb >> 32);
	case PX_IS:	return p->is;
	case PX_IE:	return p->ie;
	case PX_CMD:	return p->cmd;
	case PX_TFD:	return p->tfd;
	case PX_SIG:	return p->sig;
	case PX_SSTS:	return port_ssts(p);
	case PX_SCTL:	return p->sctl;
	case PX_SERR:	return p->serr;
	case PX_SACT:	return p->sact;
	case PX_CI:	return p->ci;
	default:	return 0;	/* PxSNTF, PxFBS, PxDEVSLP, vendor: not implemented */
	}
}

static uint32_t hba_read(struct ahci *a, uint32_t off)
{
	uint32_t v = 0;

	pthread_mutex_lock(&a->lock);
	if (off >= HBA_PORTS && off < HBA_PORTS + AHCI_NR_PORTS * HBA_PORT_LEN) {
		v = port_read(&a->port[(off - HBA_PORTS) / HBA_PORT_LEN],
			      (off - HBA_PORTS) % HBA_PORT_LEN);
	} else {
		switch (off) {
		case HBA_CAP:
			/* §3.1.1: 64-bit addressing, NCQ, 6 Gbps, AHCI only,
			 * 32 slots, 6 ports; no staggered spin-up (SSS),
			 * port multiplier, CLO or power management. */
			v = CAP_S64A | CAP_SNCQ | 3u << CAP_ISS_SHIFT | CAP_SAM |
			    (AHCI_SLOTS - 1) << CAP_NCS_SHIFT | (AHCI_NR_PORTS - 1) << CAP_NP_SHIFT;
			break;
		case HBA_GHC:
			v = a->ghc;
			break;
		case HBA_IS:
			/* §3.1.3: a port's bit while it has an enabled
			 * interrupt pending; derived, as QEMU does, so it
			 * clears when software clears that PxIS. */
			for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
				if (a->port[i].is & a->port[i].ie)
					v |= 1u << i;
			break;
		case HBA_PI:
			v = (1u << AHCI_NR_PORTS) - 1;
			break;
		case HBA_VS:
			v = AHCI_VERSION;
			break;
		default:
			break;		/* CCC, EM, CAP2, BOHC: not implemented (0) */
		}
	}
	pthread_mutex_unlock(&a->lock);
	return v;
}

/* ---- resets (AHCI §10.4) ----------------------------------------------------- */

/* Stop port p's engine (ctl held): what it had in flight completes, its
 * thread is joined, and §10.3.2's clearing of ST takes effect: PxCI,
 * PxSACT and PxCMD.CCS cleared, CR off. */
static void port_stop(struct ahci_port *p)
{
	struct ahci *a = p->hba;

	ahci_engine_stop(p);
	pthread_mutex_lock(&a->lock);
	p->ci = p->sact = 0;
	p->started = p->ncq_active = 0;
	p->halted = false;
	p->cmd &= ~(PXCMD_CR | PXCMD_CCS_MASK);
	pthread_mutex_unlock(&a->lock);
}

/* Port registers to their reset values (lock held, engine stopped);
 * power_on also forgets the command list and FIS addresses, which an HBA
 * reset keeps (§10.4.3: software only re-enables the ports). */
static void port_reset_regs(struct ahci_port *p, bool power_on)
{
	if (power_on)
		p->clb = p->fb = 0;
	p->is = p->ie = 0;
	p->cmd = PXCMD_SUD | PXCMD_POD;
	p->sctl = 0;
	p->serr = 0;
	/* §3.1.2 GHC.HR with CAP.SSS clear: every port is re-initialised
	 * through COMRESET, so every device resets and sends its signature. */
	ahci_port_device_reset(p);
}

/* GHC.HR, or the whole controller (power_on: PCI reset, creation). ctl held. */
static void hba_reset(struct ahci *a, bool power_on)
{
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		port_stop(&a->port[i]);
	pthread_mutex_lock(&a->lock);
	a->ghc = GHC_AE;	/* §3.1.2: HR also clears IE; AE is RO 1 (CAP.SAM) */
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		port_reset_regs(&a->port[i], power_on);
	ahci_update_irq(a, false);
	pthread_mutex_unlock(&a->lock);
}

/* PxSCTL.DET 1 -> 0: the COMRESET (§10.4.2). ctl held. */
static void port_comreset(struct ahci_port *p)
{
	struct ahci *a = p->hba;
	bool restart;

	/* Software must clear ST first (§3.3.11); a guest that did not
	 * still gets no command lost half-way: the engine stops properly. */
	restart = p->engine_on;
	if (restart)
		port_stop(p);
	pthread_mutex_lock(&a->lock);
	ahci_port_device_reset(p);
	restart = restart && (p->cmd & PXCMD_ST);
	pthread_mutex_unlock(&a->lock);
	if (restart)
		ahci_engine_start(p);
}

/* ---- register writes ------------------------------------------------------- */

/* PxCMD (§3.3.7), ctl held. */
static void port_write_cmd(struct ahci_port *p, uint32_t val)
{
	struct ahci *a = p->hba;
	bool start, stop;
	uint32_t old;

	pthread_mutex_lock(&a->lock);
	old = p->cmd;
	p->cmd = (old & ~PXCMD_RW) | (val & PXCMD_RW);
	/* FR follows FRE at once: the FIS receive engine has no state. */
	if ((p->cmd & PXCMD_FRE) && !(old & PXCMD_FRE)) {
		p->cmd |= PXCMD_FR;
		ahci_port_fre_on(p);
	} else if (!(p->cmd & PXCMD_FRE)) {
		p->cmd &= ~PXCMD_FR;
	}
	start = (p->cmd & PXCMD_ST) && !p->engine_on;
	stop = !(p->cmd & PXCMD_ST) && p->engine_on;
	pthread_mutex_unlock(&a->lock);
	if (stop)
		port_stop(p);
	if (start)
		ahci_engine_start(p);
}

/* One dword of port registers: the bytes in mask are written. ctl held. */
static void port_write(struct ahci_port *p, unsigned int reg, uint32_t val, uint32_t mask)
{
	struct ahci *a = p->hba;
	uint32_t old, merged;
	bool kick = false;

	if (reg == PX_CMD) {
		pthread_mutex_lock(&a->lock);
		merged = (p->cmd & ~mask) | (val & mask);
		pthread_mutex_unlock(&a->lock);
		port_write_cmd(p, merged);
		return;
	}
	pthread_mutex_lock(&a->lock);
	old = port_read(p, reg);
	merged = (old & ~mask) | (val & mask);
	switch (reg) {
	case PX_CLB:	/* 1 KiB aligned (§3.3.1): bits 9:0 are reserved */
		p->clb = (p->clb & ~0xffffffffull) | (merged & ~0x3ffu);
		break;
	case PX_CLBU:
		p->clb = (p->clb & 0xffffffffull) | (uint64_t)merged << 32;
		break;
	case PX_FB:	/* 256-byte aligned (§3.3.3) */
		p->fb = (p->fb & ~0xffffffffull) | (merged & ~0xffu);
		break;
	case PX_FBU:
		p->fb = (p->fb & 0xffffffffull) | (uint64_t)merged << 32;
		break;
	case PX_IS:	/* RWC */
		p->is &= ~(val & mask);
		ahci_update_irq(a, false);
		break;
	case PX_IE:
		p->ie = merged & PXIS_MASK;
		ahci_update_irq(a, false);
		break;
	case PX_SCTL:
		p->sctl = merged & SCTL_MASK;
		if ((old & SCTL_DET_MASK) == SCTL_DET_COMRESET &&
		    (p->sctl & SCTL_DET_MASK) == 0) {
			pthread_mutex_unlock(&a->lock);
			port_comreset(p);
			return;
		}
		break;
	case PX_SERR:	/* RWC */
		p->serr &= ~(val & mask);
		break;
	case PX_SACT:	/* RW1: software sets a tag before issuing it (§3.3.13) */
		p->sact |= val & mask;
		break;
	case PX_CI:	/* RW1 (§3.3.14); the thread takes it from here */
		p->ci |= val & mask;
		kick = (val & mask) != 0;
		break;
	default:	/* TFD, SIG, SSTS and the rest: read-only */
		break;
	}
	pthread_mutex_unlock(&a->lock);
	if (kick)
		ahci_engine_kick(p);
}

/* One dword of ABAR (offset aligned). ctl held. */
static void hba_write(struct ahci *a, uint32_t off, uint32_t val, uint32_t mask)
{
	if (off >= HBA_PORTS && off < HBA_PORTS + AHCI_NR_PORTS * HBA_PORT_LEN) {
		port_write(&a->port[(off - HBA_PORTS) / HBA_PORT_LEN],
			   (off - HBA_PORTS) % HBA_PORT_LEN, val, mask);
		return;
	}
	if (off != HBA_GHC)
		return;		/* CAP and PI are HwInit here, IS is derived, VS RO */
	if (val & mask & GHC_HR) {
		/* Done when this write returns: HR reads back 0 (§3.1.2). */
		hba_reset(a, false);
		return;
	}
	pthread_mutex_lock(&a->lock);
	a->ghc = GHC_AE | (((a->ghc & ~mask) | (val & mask)) & GHC_IE);
	ahci_update_irq(a, false);
	pthread_mutex_unlock(&a->lock);
}

/*
 * Accesses of any width and alignment inside ABAR, split into the dwords
 * they touch (§3: registers are dwords; a narrower write changes only its
 * bytes, and for the RWC/RW1 registers the bytes it does not cover write
 * zeroes, i.e. nothing).
 */
static void abar_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct ahci *a = opaque;
	uint64_t v = 0;

	for (unsigned int i = 0; i < len;) {
		uint64_t o = off + i;
		unsigned int sh = o & 3, n = 4 - sh < len - i ? 4 - sh : len - i;
		uint64_t d = o < AHCI_ABAR_SIZE ? hba_read(a, (uint32_t)(o & ~3ull)) : 0;

		v |= ((d >> (8 * sh)) & ((1ull << (8 * n)) - 1)) << (8 * i);
		i += n;
	}
	bus_data_put(data, len, v);
}

static void abar_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct ahci *a = opaque;
	uint64_t v = bus_data_get(data, len);

	pthread_mutex_lock(&a->ctl);
	for (unsigned int i = 0; i < len;) {
		uint64_t o = off + i;
		unsigned int sh = o & 3, n = 4 - sh < len - i ? 4 - sh : len - i;
		uint32_t mask = (uint32_t)(((1ull << (8 * n)) - 1) << (8 * sh));
		uint32_t val = (uint32_t)(((v >> (8 * i)) << (8 * sh)) & mask);

		if (o < AHCI_ABAR_SIZE)
			hba_write(a, (uint32_t)(o & ~3ull), val, mask);
		i += n;
	}
	pthread_mutex_unlock(&a->ctl);
}

static const struct bus_dev_ops abar_ops = {
	.read = abar_read,
	.write = abar_write,
};

/*
 * BAR 4: QEMU's ICH9 index/data pair (the SATA capability points at it):
 * the index at 10h selects an ABAR dword, the data register at 14h
 * accesses it. Nothing else decodes.
 */
static void idp_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct ahci *a = opaque;
	uint32_t index;

	if (off == AHCI_IDP_INDEX) {
		pthread_mutex_lock(&a->ctl);
		index = a->idp_index;
		pthread_mutex_unlock(&a->ctl);
		bus_data_put(data, len, index);
	} else if (off == AHCI_IDP_DATA) {
		pthread_mutex_lock(&a->ctl);
		index = a->idp_index;
		pthread_mutex_unlock(&a->ctl);
		abar_read(a, index, data, len < 4 ? len : 4);
		if (len > 4)
			memset((uint8_t *)data + 4, 0, len - 4);
	} else {
		memset(data, 0, len);
	}
}

static void idp_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct ahci *a = opaque;
	uint32_t index;

	if (off == AHCI_IDP_INDEX) {
		pthread_mutex_lock(&a->ctl);
		a->idp_index = (uint32_t)bus_data_get(data, len) & (AHCI_ABAR_SIZE - 4);
		pthread_mutex_unlock(&a->ctl);
	} else if (off == AHCI_IDP_DATA) {
		pthread_mutex_lock(&a->ctl);
		index = a->idp_index;
		pthread_mutex_unlock(&a->ctl);
		abar_write(a, index, data, len < 4 ? len : 4);
	}
}

static const struct bus_dev_ops idp_ops = {
	.read = idp_read,
	.write = idp_write,
};

/* ---- PCI config space and reset --------------------------------------------- */

/* MSI capability written (root lock held): follow Enable, address, data. */
static void msi_update(struct ahci *a)
{
	const uint8_t *c = a->pci.config + a->msi_cap;
	bool enable = pci_get16(c, PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE;
	uint64_t addr = pci_get32(c, PCI_MSI_ADDRESS_LO) |
			(uint64_t)pci_get32(c, PCI_MSI_ADDRESS_LO + 4) << 32;
	uint32_t data = pci_get16(c, PCI_MSI_ADDRESS_LO + 8);
	bool was;
	int ret;

	if (enable) {
		ret = msi_vector_set(&a->msi, a->ops, addr, data, false);
		if (ret)
			pr_warn_once("ich9-ahci: KVM cannot route its MSI: %s (held pending)",
				     strerror(-ret));
	}
	pthread_mutex_lock(&a->lock);
	was = a->msi_on;
	a->msi_on = enable;
	/* Switching INTx -> MSI with an interrupt pending sends it now. */
	ahci_update_irq(a, enable && !was && a->irq_pending);
	pthread_mutex_unlock(&a->lock);
	/* Nobody notifies a vector once msi_on is false (lock order). */
	if (!enable && was)
		msi_vector_release(&a->msi, a->ops);
}

static void ahci_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val,
			   unsigned int len)
{
	struct ahci *a = to_ahci(dev);

	pci_dev_default_cfg_write(dev, off, val, len);
	if (pci_range_overlaps(off, len, a->msi_cap, MSI_CAP_SIZE))
		msi_update(a);
}

/* PCI RST# (the core restored config space): the whole controller back
 * to power-on, every port's engine stopped and its thread joined. */
static void ahci_pci_reset(struct pci_dev *dev)
{
	struct ahci *a = to_ahci(dev);

	pthread_mutex_lock(&a->ctl);
	hba_reset(a, true);
	a->idp_index = 0;
	pthread_mutex_unlock(&a->ctl);
	msi_update(a);		/* config says MSI off: release the vector */
}

static const struct pci_dev_ops ahci_pci_ops = {
	.cfg_write = ahci_cfg_write,
	.reset = ahci_pci_reset,
};

static int init_config(struct ahci *a)
{
	uint8_t *c = a->pci.config, *w = a->pci.wmask;
	int at;

	c[PCI_CACHE_LINE_SIZE] = 0x08;
	c[PCI_INTERRUPT_PIN] = 1;		/* INTA: 00:1f -> PIRQA, GSI 16 */
	c[ICH9_MAP] = ICH9_MAP_AHCI;
	/* SATA capability (ICH9 §14.1.33-35): where the index/data pair is. */
	at = pci_dev_add_cap(&a->pci, PCI_CAP_ID_SATA, SATA_CAP_OFF, SATA_CAP_SIZE);
	if (at < 0)
		return at;
	pci_set16(c, at + 2, SATA_CAP_REV);
	pci_set32(c, at + 4, SATA_CR1_IDP_BAR4);
	/* MSI (PCI 3.0 §6.8.1): one message, 64-bit address; the last one
	 * added heads the list, as on ICH9 (MSI at 80h first). */
	at = pci_dev_add_cap(&a->pci, PCI_CAP_ID_MSI, MSI_CAP_OFF, MSI_CAP_SIZE);
	if (at < 0)
		return at;
	a->msi_cap = (unsigned int)at;
	pci_set16(c, at + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT);
	pci_set16(w, at + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
	pci_set32(w, at + PCI_MSI_ADDRESS_LO, 0xfffffffc);
	pci_set32(w, at + PCI_MSI_ADDRESS_LO + 4, 0xffffffff);
	pci_set16(w, at + PCI_MSI_ADDRESS_LO + 8, 0xffff);
	return 0;
}

/* ---- creation -------------------------------------------------------------- */

static int port_open(struct ahci_port *p, const struct ahci_drive_params *d)
{
	bool cd = d->kind == AHCI_DRIVE_CDROM;
	const char *opt = cd ? "--cdrom" : "--disk";
	int ret;

	p->kind = d->kind;
	p->readonly = cd || d->readonly;
	ret = blk_file_open_as(&p->file, opt, d->path, p->readonly, d->direct);
	if (ret)
		return ret;
	if (cd && p->file.size % 2048) {
		/* MMC block size: an ISO 9660 / UDF image is whole 2 KiB blocks. */
		pr_err("--cdrom %s: its size, %" PRIu64 " bytes, is not a multiple of the 2048-byte CD-ROM block (an ISO image is; pad it: truncate -s %%2048 %s)",
		       d->path, p->file.size, d->path);
		ret = -EINVAL;
		goto close_file;
	}
	p->blocks = cd ? p->file.size / 2048 : p->file.size / 512;
	/* QEMU's rule (atapi.c media_is_dvd): past an 80-minute CD, a DVD. */
	p->dvd = cd && p->blocks > 80ull * 60 * 75;
	if (d->serial)
		snprintf(p->serial, sizeof(p->serial), "%s", d->serial);
	else
		snprintf(p->serial, sizeof(p->serial), "MV-%s-%u", cd ? "CDROM" : "SATA",
			 p->index & 0x7);
	p->iov = calloc(AHCI_SLOTS * AHCI_MAX_IOV, sizeof(*p->iov));
	if (!p->iov) {
		ret = -ENOMEM;
		goto close_file;
	}
	for (unsigned int s = 0; s < AHCI_SLOTS; s++)
		p->cmds[s].iov = p->iov + s * AHCI_MAX_IOV;
	ret = ahci_port_io_setup(p);
	if (ret)
		goto free_iov;
	return 0;

free_iov:
	free(p->iov);
	p->iov = NULL;
close_file:
	blk_file_close(&p->file);
	p->kind = AHCI_DRIVE_NONE;
	return ret;
}

static void port_close(struct ahci_port *p)
{
	int ret;

	if (p->kind == AHCI_DRIVE_NONE)
		return;
	pr_debug("%s: %" PRIu64 " commands, %" PRIu64 " wake-ups", p->name, p->commands,
		 p->kicks);
	ret = blk_file_flush(&p->file);
	if (ret)
		pr_err("%s: flushing the image at exit: %s", p->name, strerror(-ret));
	ahci_port_io_teardown(p);
	free(p->iov);
	p->iov = NULL;
	blk_file_close(&p->file);
	p->kind = AHCI_DRIVE_NONE;
}

/* Reset through the root (PCI RST#): only destroy is here. */
static void ahci_dev_destroy(struct device *dev)
{
	ahci_destroy(container_of(dev, struct ahci, dev));
}

static const struct device_ops ahci_device_ops = {
	.destroy = ahci_dev_destroy,
};

struct ahci *ahci_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 struct pci_root *root, const struct ahci_params *params)
{
	struct ahci *a;
	int ret;

	a = calloc(1, sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->ops = ops;
	a->mem = mem;
	a->manual = params->manual;
	a->reset_ua = !params->no_reset_unit_attention;
	a->ctl = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	a->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	msi_vector_init(&a->msi, MSI_VECTOR_GATED);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++) {
		struct ahci_port *p = &a->port[i];

		p->hba = a;
		p->index = i;
		p->kick_fd = p->stop_fd = -1;
		snprintf(p->name, sizeof(p->name), "ahci port %u", i);
		for (unsigned int s = 0; s < AHCI_SLOTS; s++) {
			p->cmds[s].port = p;
			p->cmds[s].slot = s;
		}
	}
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++) {
		if (params->port[i].kind == AHCI_DRIVE_NONE)
			continue;
		ret = port_open(&a->port[i], &params->port[i]);
		if (ret)
			goto close_ports;
	}
	ret = pci_dev_init(&a->pci, &ahci_pci_ops, "ich9-ahci", AHCI_VENDOR_ID, AHCI_DEVICE_ID,
			   AHCI_CLASS, AHCI_REVISION, PCI_HEADER_TYPE_NORMAL, false);
	if (ret)
		goto close_ports;
	ret = init_config(a);
	if (!ret)
		ret = pci_dev_register_bar(&a->pci, AHCI_BAR_IDP, PCI_BAR_IO, AHCI_IDP_SIZE,
					   &idp_ops, a, "ich9-ahci-idp");
	if (!ret)
		ret = pci_dev_register_bar(&a->pci, AHCI_BAR_ABAR, 0, AHCI_ABAR_SIZE, &abar_ops,
					   a, "ich9-ahci");
	if (ret)
		goto exit_pci;
	pthread_mutex_lock(&a->ctl);
	hba_reset(a, true);
	pthread_mutex_unlock(&a->ctl);
	ret = pci_bus_plug(pci_root_bus(root), &a->pci, AHCI_DEVFN);
	if (ret) {
		pr_err("ich9-ahci: 00:1f.2 is taken (%s)", strerror(-ret));
		goto exit_pci;
	}
	device_register(ops, &a->dev, "ich9-ahci", &ahci_device_ops);
	return a;

exit_pci:
	pci_dev_exit(&a->pci);
close_ports:
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		port_close(&a->port[i]);
	msi_vector_close(&a->msi, ops);
	free(a);
	errno = -ret;
	return NULL;
}

struct pci_dev *ahci_pci(struct ahci *a)
{
	return &a->pci;
}

void ahci_destroy(struct ahci *a)
{
	if (!a)
		return;
	device_unregister(&a->dev);
	/* Every engine finishes what it has in flight and stops. */
	pthread_mutex_lock(&a->ctl);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		port_stop(&a->port[i]);
	pthread_mutex_unlock(&a->ctl);
	pci_dev_exit(&a->pci);
	msi_vector_close(&a->msi, a->ops);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		port_close(&a->port[i]);
	free(a);
}

unsigned int ahci_threads_running(struct ahci *a)
{
	unsigned int n = 0;

	pthread_mutex_lock(&a->ctl);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		n += a->port[i].thread_up;
	pthread_mutex_unlock(&a->ctl);
	return n;
}

int ahci_port_poll(struct ahci *a, unsigned int port)
{
	int ret;

	if (!a->manual || port >= AHCI_NR_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&a->ctl);
	ret = ahci_engine_poll(&a->port[port]);
	pthread_mutex_unlock(&a->ctl);
	return ret;
}
