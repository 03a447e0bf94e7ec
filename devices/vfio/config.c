// SPDX-License-Identifier: MIT
/*
 * Config space of a passed function: a virtual view over the real one.
 *
 * The header is emulated: IDs, class and subsystem come from the device,
 * the BARs and the ROM BAR are the core's (the guest places them; the
 * device keeps its host addresses), and only the COMMAND bits that must
 * act on the device (I/O and memory decode, bus master, INTx disable)
 * reach it. The capability list is rebuilt at the device's own offsets
 * with what a guest can safely drive (PCI 3.0 §6.7):
 *
 *   PM      emulated: the power state is recorded, the device stays in D0
 *   MSI     emulated: VFIO_DEVICE_SET_IRQS + KVM MSI routes (msi.c)
 *   MSI-X   emulated: Enable and Function Mask go to devices/msix.c,
 *           which emulates the table and PBA too (VFIO's part: msi.c)
 *   PCIe    emulated from the device's values; Initiate FLR resets it
 *           through VFIO if it has the FLR capability; an integrated
 *           endpoint becomes an endpoint,
 *           since here it sits behind a root port (PCIe 4.0 §7.5.3.2)
 *   vendor  read-only copy (drivers read their own data here)
 *
 * Everything else in the list (VPD, PCI-X, AF, SATA, ...) is cut out and
 * its bytes read 0. Extended capabilities (PCIe 4.0 §7.6) keep only the
 * device serial number and vendor-specific ones, read-only; AER, ACS,
 * SR-IOV, resizable BAR and friends are not the guest's to touch.
 *
 * Bytes of 0x40-0xFF outside any capability go to the device, as vfio-pci
 * itself allows ("unassigned" regions in drivers/vfio/pci/
 * vfio_pci_config.c: some devices keep registers there); the kernel
 * filters every access again, so a guest reaches hardware only as far as
 * vfio-pci lets a user.
 */
#include <errno.h>
#include <string.h>

#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"
#include "lib/trace.h"

#define PCI_CAP_FIRST		0x40
#define CMD_PASSTHROUGH		(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_INTX_DISABLE)
/* 66 MHz, fast back-to-back, DEVSEL timing: read-only facts (§6.2.3). */
#define STATUS_FROM_DEVICE	0x06a0

int vfio_hw_cfg_read(struct vfio_pci *v, unsigned int off, void *buf, unsigned int len)
{
	ssize_t n;

	if (off >= v->cfg.size || len > v->cfg.size - off)
		return -EINVAL;
	n = v->ops->pread(v->ops->ctx, v->fd, buf, len, v->cfg.offset + off);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

int vfio_hw_cfg_write(struct vfio_pci *v, unsigned int off, const void *buf, unsigned int len)
{
	ssize_t n;

	if (off >= v->cfg.size || len > v->cfg.size - off)
		return -EINVAL;
	n = v->ops->pwrite(v->ops->ctx, v->fd, buf, len, v->cfg.offset + off);
	if (trace_on(TRACE_VFIO))
		vfio_trace_hw_cfg_write(v, off, buf, len,
					n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

void vfio_hw_cmd_sync_mask(struct vfio_pci *v, uint16_t cmd, uint16_t mask)
{
	uint8_t b[2];
	uint16_t hw, want;

	mask &= CMD_PASSTHROUGH;
	if (vfio_hw_cfg_read(v, PCI_COMMAND, b, 2))
		return;
	hw = (uint16_t)(b[0] | b[1] << 8);
	want = (uint16_t)((hw & ~mask) | (cmd & mask));
	if (want == hw)
		return;
	b[0] = (uint8_t)want;
	b[1] = (uint8_t)(want >> 8);
	if (vfio_hw_cfg_write(v, PCI_COMMAND, b, 2))
		pr_warn_once("vfio: %s: cannot write the COMMAND register", v->bdf);
}

void vfio_hw_cmd_sync(struct vfio_pci *v, uint16_t cmd)
{
	vfio_hw_cmd_sync_mask(v, cmd, CMD_PASSTHROUGH);
}

/* ---- capability list ------------------------------------------------------ */

static unsigned int msi_cap_size(uint16_t flags)
{
	/* PCI 3.0 figure 6-9: 32/64-bit address, with/without mask+pending. */
	unsigned int size = flags & PCI_MSI_FLAGS_64BIT ? 14 : 10;

	if (flags & PCI_MSI_FLAGS_MASKBIT)
		size += 10;
	return size;
}

/* How many bytes a standard capability spans, as far as we care: the
 * bytes to emulate (kept) or blank out (hidden). */
static unsigned int std_cap_size(const uint8_t *hw, uint8_t id, unsigned int off)
{
	unsigned int size;

	switch (id) {
	case PCI_CAP_ID_PM:	size = PCI_PM_SIZEOF; break;
	case PCI_CAP_ID_VPD:	size = 8; break;
	case PCI_CAP_ID_MSI:	size = msi_cap_size(pci_get16(hw, off + PCI_MSI_FLAGS)); break;
	case PCI_CAP_ID_PCIX:	size = 8; break;
	case PCI_CAP_ID_VNDR:	size = hw[off + 2] < 3 ? 3 : hw[off + 2]; break;
	case PCI_CAP_ID_SSVID:	size = 8; break;
	case PCI_CAP_ID_EXP:
		size = (pci_get16(hw, off + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS) >= 2 ?
		       PCI_EXP_SIZEOF_V2 : PCI_EXP_SIZEOF_V1;
		break;
	case PCI_CAP_ID_MSIX:	size = PCI_MSIX_SIZEOF; break;
	case PCI_CAP_ID_SATA:	size = 8; break;
	case PCI_CAP_ID_AF:	size = 6; break;
	default:		size = 4; break;	/* at least the header */
	}
	return size > PCI_CFG_SPACE_SIZE - off ? PCI_CFG_SPACE_SIZE - off : size;
}

static void cap_setup_pm(struct vfio_pci *v, unsigned int c)
{
	struct pci_dev *d = &v->dev;
	uint16_t pmc = pci_get16(d->config, c + PCI_PM_PMC);

	/* No PME: nothing here can wake the guest (PM 1.2 §3.2.3 bits 15:11). */
	pci_set16(d->config, c + PCI_PM_PMC, pmc & 0x07ff);
	/* D0, PME disabled and clear; No_Soft_Reset stays what it is. */
	pci_set16(d->config, c + PCI_PM_CTRL,
		  pci_get16(d->config, c + PCI_PM_CTRL) & PCI_PM_CTRL_NO_SOFT_RESET);
	pci_set16(d->wmask, c + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
	pci_set16(d->w1cmask, c + PCI_PM_CTRL, PCI_PM_CTRL_PME_STATUS);
	v->pm_cap = c;
}

static bool cap_setup_msi(struct vfio_pci *v, unsigned int c)
{
	struct pci_dev *d = &v->dev;
	uint16_t flags = pci_get16(d->config, c + PCI_MSI_FLAGS);
	unsigned int mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1, count = v->irq_count[VFIO_PCI_MSI_IRQ_INDEX];
	struct vfio_msi *m = &v->msi;
	unsigned int data;

	if (!count)
		return false;
	if (mmc > 5)
		mmc = 5;
	while (mmc && (1u << mmc) > count)
		mmc--;
	m->cap = c;
	m->size = msi_cap_size(flags);
	m->is64 = flags & PCI_MSI_FLAGS_64BIT;
	m->pvm = flags & PCI_MSI_FLAGS_MASKBIT;
	m->max_vec = 1u << mmc;
	data = m->is64 ? 12 : 8;
	m->data_off = c + data;
	m->mask_off = m->pvm ? c + data + 4 : 0;
	m->pending_off = m->pvm ? c + data + 8 : 0;
	/* Disabled, one message enabled, the capability as the device has it
	 * except what VFIO cannot give (more vectors than its count). */
	flags &= PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT;
	pci_set16(d->config, c + PCI_MSI_FLAGS, (uint16_t)(flags | mmc << 1));
	memset(d->config + c + PCI_MSI_ADDRESS_LO, 0, m->size - PCI_MSI_ADDRESS_LO);
	pci_set16(d->wmask, c + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	pci_set32(d->wmask, c + PCI_MSI_ADDRESS_LO, 0xfffffffc);
	if (m->is64)
		pci_set32(d->wmask, c + PCI_MSI_ADDRESS_LO + 4, 0xffffffff);
	pci_set16(d->wmask, m->data_off, 0xffff);
	if (m->pvm)
		pci_set32(d->wmask, m->mask_off,
			  m->max_vec == 32 ? 0xffffffffu : (1u << m->max_vec) - 1);
	return true;
}

static bool cap_setup_msix(struct vfio_pci *v, unsigned int c)
{
	struct pci_dev *d = &v->dev;
	uint16_t flags = pci_get16(d->config, c + PCI_MSIX_FLAGS);
	uint32_t table = pci_get32(d->config, c + PCI_MSIX_TABLE);
	uint32_t pba = pci_get32(d->config, c + PCI_MSIX_PBA);
	unsigned int nr = (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
	unsigned int count = v->irq_count[VFIO_PCI_MSIX_IRQ_INDEX];
	struct vfio_msix *x = &v->msix;
	struct vfio_region tr, pr;

	if (!count)
		return false;
	if (count < nr)
		nr = count;
	x->table_bar = table & PCI_MSIX_BIR;
	x->table_off = table & ~(uint32_t)PCI_MSIX_BIR;
	x->pba_bar = pba & PCI_MSIX_BIR;
	x->pba_off = pba & ~(uint32_t)PCI_MSIX_BIR;
	/* The table and PBA must lie inside real BARs (PCI 3.0 §6.8.2.4-5),
	 * or the emulation would trap nothing: hide a broken capability. */
	if (x->table_bar >= PCI_NUM_BARS || x->pba_bar >= PCI_NUM_BARS ||
	    vfio_region_get(v, x->table_bar, &tr, NULL) ||
	    vfio_region_get(v, x->pba_bar, &pr, NULL) ||
	    x->table_off + msix_table_size(nr) > tr.size ||
	    x->pba_off + msix_pba_size(nr) > pr.size) {
		pr_warn("vfio: %s: MSI-X table or PBA outside its BAR: MSI-X hidden", v->bdf);
		return false;
	}
	x->cap = c;
	x->nr = nr;
	x->noresize = v->irq_flags[VFIO_PCI_MSIX_IRQ_INDEX] & VFIO_IRQ_INFO_NORESIZE;
	pci_set16(d->config, c + PCI_MSIX_FLAGS, (uint16_t)(nr - 1));
	pci_set16(d->wmask, c + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	return true;
}

static void cap_setup_exp(struct vfio_pci *v, unsigned int c, unsigned int size)
{
	struct pci_dev *d = &v->dev;
	uint16_t flags = pci_get16(d->config, c + PCI_EXP_FLAGS);
	unsigned int type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;

	if (type == PCI_EXP_TYPE_RC_END) {
		/* An integrated endpoint moved behind a root port is an
		 * endpoint with a link (PCIe 4.0 §7.5.3.2); give it a x1
		 * 2.5 GT/s one that is up, as QEMU does. */
		type = PCI_EXP_TYPE_ENDPOINT;
		if (!pci_get32(d->config, c + PCI_EXP_LNKCAP)) {
			pci_set32(d->config, c + PCI_EXP_LNKCAP, 0x11);
			pci_set16(d->config, c + PCI_EXP_LNKSTA, 0x11);
		}
	}
	flags = (uint16_t)((flags & ~(PCI_EXP_FLAGS_TYPE | PCI_EXP_FLAGS_SLOT)) | type << 4);
	pci_set16(d->config, c + PCI_EXP_FLAGS, flags);
	/* Slot and root registers belong to ports (§7.5.3.9-14). */
	if (size > PCI_EXP_SLTCAP)
		memset(d->config + c + PCI_EXP_SLTCAP, 0,
		       (size < PCI_EXP_DEVCAP2 ? size : PCI_EXP_DEVCAP2) - PCI_EXP_SLTCAP);
	/*
	 * Device Control is the guest's view only: payload and read request
	 * sizes must match what the host set up along the real path, so
	 * the device keeps the host's values. Initiate FLR (bit 15) reads 0
	 * and resets the function (vfio_cfg_write).
	 */
	pci_set16(d->wmask, c + PCI_EXP_DEVCTL, 0x7fff);
	pci_set16(d->config, c + PCI_EXP_DEVSTA, 0);
	pci_set16(d->w1cmask, c + PCI_EXP_DEVSTA, 0x000f);
	/* ASPM, RCB, common clock, extended synch, clock PM, HW autonomous
	 * width disable, bandwidth interrupts: storage (§7.5.3.7). */
	pci_set16(d->wmask, c + PCI_EXP_LNKCTL, 0x0fcb);
	if (size >= PCI_EXP_SIZEOF_V2) {
		pci_set16(d->wmask, c + PCI_EXP_DEVCTL2, 0xffdf);
		pci_set16(d->wmask, c + PCI_EXP_LNKCTL2, 0xffff);
	}
	v->exp_cap = c;
}

/* Keep (set up) or hide the capability at c; returns whether it stays. */
static bool cap_setup(struct vfio_pci *v, uint8_t id, unsigned int c, unsigned int size)
{
	memcpy(v->dev.config + c, v->hw_config + c, size);
	switch (id) {
	case PCI_CAP_ID_PM:
		cap_setup_pm(v, c);
		return true;
	case PCI_CAP_ID_MSI:
		return cap_setup_msi(v, c);
	case PCI_CAP_ID_MSIX:
		return cap_setup_msix(v, c);
	case PCI_CAP_ID_EXP:
		cap_setup_exp(v, c, size);
		return true;
	case PCI_CAP_ID_VNDR:
		return true;
	default:
		return false;
	}
}

static void config_std_caps(struct vfio_pci *v)
{
	const uint8_t *hw = v->hw_config;
	uint8_t *cfg = v->dev.config;
	uint8_t seen[PCI_CFG_SPACE_SIZE / 8] = { 0 };
	unsigned int link = PCI_CAPABILITY_LIST;
	unsigned int off = hw[PCI_CAPABILITY_LIST] & 0xfc;
	uint16_t status = pci_get16(hw, PCI_STATUS) & STATUS_FROM_DEVICE;

	cfg[PCI_CAPABILITY_LIST] = 0;
	if (!(pci_get16(hw, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		off = 0;
	/* At most 48 capabilities fit; a loop or a pointer into the header
	 * ends the walk (a broken list must not hang us). */
	for (unsigned int n = 0; off >= PCI_CAP_FIRST && n < 48; n++) {
		uint8_t id = hw[off], next = hw[off + 1] & 0xfc;
		unsigned int size;

		if (seen[off / 8] & (1u << (off % 8)))
			break;
		seen[off / 8] |= (uint8_t)(1u << (off % 8));
		size = std_cap_size(hw, id, off);
		memset(v->cfg_src + off, CFG_EMU, size);
		memset(v->dev.wmask + off, 0, size);
		memset(v->dev.w1cmask + off, 0, size);
		if (cap_setup(v, id, off, size)) {
			cfg[link] = (uint8_t)off;
			link = off + 1;
			cfg[off + 1] = 0;
		} else {
			pr_debug("vfio: %s: capability %#x at %#x hidden", v->bdf, id, off);
			memset(cfg + off, 0, size);
		}
		off = next;
	}
	if (cfg[PCI_CAPABILITY_LIST])
		status |= PCI_STATUS_CAP_LIST;
	pci_set16(cfg, PCI_STATUS, status);
}

static void config_ext_caps(struct vfio_pci *v)
{
	const uint8_t *hw = v->hw_config;
	uint8_t *cfg = v->dev.config;
	unsigned int kept[64], nr = 0, off = PCI_CFG_SPACE_SIZE;
	uint8_t seen[PCI_CFG_SPACE_EXP_SIZE / 32] = { 0 };

	for (unsigned int n = 0; off >= PCI_CFG_SPACE_SIZE && n < 960 && nr < 64; n++) {
		uint32_t hdr = pci_get32(hw, off);
		unsigned int id = PCI_EXT_CAP_ID(hdr), size = 0;

		if (!hdr || hdr == 0xffffffffu || (seen[off / 32] & (1u << (off / 4 % 8))))
			break;
		seen[off / 32] |= (uint8_t)(1u << (off / 4 % 8));
		if (id == PCI_EXT_CAP_ID_DSN)
			size = 12;
		else if (id == PCI_EXT_CAP_ID_VNDR)
			size = pci_get32(hw, off + 4) >> 20;
		if (size >= 8 && off + size <= PCI_CFG_SPACE_EXP_SIZE) {
			memcpy(cfg + off, hw + off, size);
			kept[nr++] = off;
		} else {
			pr_debug("vfio: %s: extended capability %#x at %#x hidden", v->bdf, id, off);
		}
		off = PCI_EXT_CAP_NEXT(hdr);
	}
	/* Relink what is left in address order; the list must start at
	 * 0x100 (§7.6.2), with a null capability there if need be. */
	for (unsigned int i = 0; i < nr; i++) {
		uint32_t hdr = pci_get32(cfg, kept[i]) & 0x000fffff;

		pci_set32(cfg, kept[i], hdr | (i + 1 < nr ? kept[i + 1] << 20 : 0));
	}
	if (nr && kept[0] != PCI_CFG_SPACE_SIZE)
		pci_set32(cfg, PCI_CFG_SPACE_SIZE, kept[0] << 20);
}

int vfio_config_init(struct vfio_pci *v)
{
	uint8_t *hw = v->hw_config, *cfg;
	unsigned int size = v->cfg.size < PCI_CFG_SPACE_EXP_SIZE ?
			    (unsigned int)v->cfg.size : PCI_CFG_SPACE_EXP_SIZE;
	bool express;
	int ret;

	memset(hw, 0, sizeof(v->hw_config));
	if (size < PCI_CFG_SPACE_SIZE)
		return -EIO;
	ret = vfio_hw_cfg_read(v, 0, hw, size);
	if (ret) {
		pr_err("vfio: %s: cannot read its config space: %s", v->bdf, strerror(-ret));
		return ret;
	}
	if (pci_get16(hw, PCI_VENDOR_ID) == 0xffff) {
		pr_err("vfio: %s does not answer config reads (all-ones): the device is gone or stuck in reset",
		       v->bdf);
		return -EIO;
	}
	if ((hw[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
		pr_err("vfio: %s has header type %u: only endpoints (type 0) can be passed",
		       v->bdf, hw[PCI_HEADER_TYPE] & 0x7f);
		return -ENOTSUP;
	}
	express = size == PCI_CFG_SPACE_EXP_SIZE;
	ret = pci_dev_init(&v->dev, &vfio_pci_dev_ops, v->name, pci_get16(hw, PCI_VENDOR_ID),
			   pci_get16(hw, PCI_DEVICE_ID),
			   (uint32_t)hw[PCI_CLASS_PROG] | (uint32_t)pci_get16(hw, PCI_CLASS_DEVICE) << 8,
			   hw[PCI_REVISION_ID], PCI_HEADER_TYPE_NORMAL, express);
	if (ret)
		return ret;
	cfg = v->dev.config;
	pci_set16(cfg, PCI_SUBSYSTEM_VENDOR_ID, pci_get16(hw, PCI_SUBSYSTEM_VENDOR_ID));
	pci_set16(cfg, PCI_SUBSYSTEM_ID, pci_get16(hw, PCI_SUBSYSTEM_ID));
	cfg[PCI_INTERRUPT_PIN] = v->intx.present ? hw[PCI_INTERRUPT_PIN] : 0;
	cfg[0x3e] = hw[0x3e];	/* Min_Gnt, Max_Lat: read-only facts */
	cfg[0x3f] = hw[0x3f];

	/* Header and extended space: ours. 0x40-0xFF: the device's, except
	 * the capabilities, which config_std_caps takes back. */
	memset(v->cfg_src, CFG_EMU, sizeof(v->cfg_src));
	memset(v->cfg_src + PCI_CAP_FIRST, CFG_HW, PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST);
	memset(v->dev.wmask + PCI_CAP_FIRST, 0, PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST);
	config_std_caps(v);
	if (express)
		config_ext_caps(v);
	return 0;
}

/* ---- guest accesses ------------------------------------------------------- */

static bool bad_access(const struct pci_dev *dev, unsigned int off, unsigned int len)
{
	return len == 0 || len > 4 || off >= dev->cfg_size || len > dev->cfg_size - off;
}

uint32_t vfio_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct vfio_pci *v = to_vfio(dev);
	uint32_t val, hwmask = 0, hw = 0;
	uint8_t buf[4];

	if (bad_access(dev, off, len))
		return 0xffffffffu;
	if (v->msi.pending_off && pci_range_overlaps(off, len, v->msi.pending_off, 4))
		pci_set32(dev->config, v->msi.pending_off, vfio_msi_pending(v));
	val = pci_dev_default_cfg_read(dev, off, len);
	for (unsigned int i = 0; i < len; i++)
		if (v->cfg_src[off + i] == CFG_HW)
			hwmask |= 0xffu << (8 * i);
	if (!hwmask)
		return val;
	memset(buf, 0xff, sizeof(buf));
	if (hwmask == (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1)) {
		/* One access of the guest's width: some registers care. */
		vfio_hw_cfg_read(v, off, buf, len);
	} else {
		for (unsigned int i = 0; i < len; i++)
			if (v->cfg_src[off + i] == CFG_HW)
				vfio_hw_cfg_read(v, off + i, &buf[i], 1);
	}
	for (unsigned int i = 0; i < len; i++)
		hw |= (uint32_t)buf[i] << (8 * i);
	return (val & ~hwmask) | (hw & hwmask);
}

/* COMMAND as it will be after this write (the core applies wmask). */
static uint16_t cmd_after(const struct pci_dev *dev, unsigned int off, uint32_t val,
			  unsigned int len)
{
	uint8_t b[2] = { dev->config[PCI_COMMAND], dev->config[PCI_COMMAND + 1] };

	for (unsigned int i = 0; i < len; i++) {
		unsigned int o = off + i;

		if (o == PCI_COMMAND || o == PCI_COMMAND + 1) {
			uint8_t m = dev->wmask[o], nb = (uint8_t)(val >> (8 * i));

			b[o - PCI_COMMAND] = (uint8_t)((b[o - PCI_COMMAND] & ~m) | (nb & m));
		}
	}
	return (uint16_t)(b[0] | b[1] << 8);
}

void vfio_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int len)
{
	struct vfio_pci *v = to_vfio(dev);
	bool cmd = pci_range_overlaps(off, len, PCI_COMMAND, 2);
	bool flr = false;
	uint8_t buf[4];

	if (bad_access(dev, off, len))
		return;
	if (trace_on(TRACE_VFIO))
		vfio_trace_cfg_begin(v);
	if (cmd) {
		uint16_t old = pci_get16(dev->config, PCI_COMMAND);
		uint16_t new = cmd_after(dev, off, val, len);
		uint16_t on = (uint16_t)(new & ~old & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY));

		/* Decode goes on in the device before the core maps the BARs
		 * (a memslot over a BAR vfio-pci has blocked would fault the
		 * vCPU); it goes off after the core unmapped them, below. */
		if (on)
			vfio_hw_cmd_sync(v, old | on);
	}
	/* Initiate FLR acts only on a function whose Device Capabilities
	 * offer FLR; for any other it is RsvdP (PCIe 4.0 §7.5.3.4), and
	 * must not become a VFIO reset (a bus reset, for many devices). */
	if (v->exp_cap &&
	    (pci_get32(dev->config, v->exp_cap + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR) &&
	    pci_range_overlaps(off, len, v->exp_cap + PCI_EXP_DEVCTL + 1, 1)) {
		unsigned int i = v->exp_cap + PCI_EXP_DEVCTL + 1 - off;

		flr = (val >> (8 * i)) & (PCI_EXP_DEVCTL_BCR_FLR >> 8);
	}

	pci_dev_default_cfg_write(dev, off, val, len);

	/* The device's own bytes, in runs of consecutive ones. */
	for (unsigned int i = 0; i < len;) {
		unsigned int j = i;

		if (v->cfg_src[off + i] != CFG_HW) {
			i++;
			continue;
		}
		while (j < len && v->cfg_src[off + j] == CFG_HW) {
			buf[j - i] = (uint8_t)(val >> (8 * j));
			j++;
		}
		vfio_hw_cfg_write(v, off + i, buf, j - i);
		i = j;
	}

	if (cmd)
		vfio_hw_cmd_sync(v, pci_get16(dev->config, PCI_COMMAND));
	/* Logged before what follows from it (routes, a reset). */
	if (trace_on(TRACE_VFIO))
		vfio_trace_cfg_end(v, off, val, len);
	if (v->msi.cap && pci_range_overlaps(off, len, v->msi.cap, v->msi.size))
		vfio_msi_update(v);
	if (v->msix.cap && pci_range_overlaps(off, len, v->msix.cap + PCI_MSIX_FLAGS, 2))
		vfio_msix_update(v);
	if (flr)
		vfio_pci_flr(v);
}
