// SPDX-License-Identifier: MIT
/*
 * ICH9 LPC interface bridge (D31:F0), after the Intel I/O Controller Hub
 * 9 datasheet (316972, "ICH9 datasheet") §13.1 "LPC Interface Bridge
 * Registers (D31:F0)", §10.1 "Chipset Configuration Registers" (RCRB)
 * and §13.7.2 "APM I/O Decode".
 *
 * What OVMF 2022.11 does with 00:1F.0 and how it is answered:
 *  - PlatformPei (PlatformMiscInitialization): if ACPI_CNTL.ACPI_EN is
 *    clear, PMBASE = 0x600, PCICMD |= IOSE, ACPI_CNTL |= ACPI_EN; the
 *    PM block then appears at 0x600 (acpi_pm_set_base). AcpiTimerLib
 *    reads PMBASE/ACPI_CNTL the same way to find the PM timer.
 *  - RCBA = 0xFED1C000 | EN: a 16 KiB RCRB appears there (storage; OVMF
 *    only reserves it in the memory map).
 *  - BdsPlatform (PciAcpiInitialization): PIRQA-H_ROUT = 10,10,11,11,
 *    10,10,11,11; then PCI INTERRUPT_LINE per device from the same
 *    rotation that lpc_slot_pirq() implements; then PM1_CNT.SCI_EN via
 *    PMBASE + 4.
 *  - Enables IO/MEM/bus master (PCI attributes) and binds SioBusDxe to
 *    it by its class 0601: that is how COM1 becomes the UEFI console.
 *  - SMM builds only: GEN_PMCON_1.SMI_LOCK, SMI_EN in the PM block.
 *    Stored; there is no SMI.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "devices/irq.h"
#include "devices/q35/lpc.h"
#include "lib/layout.h"
#include "lib/log.h"

#define PMBASE_RTE		0x00000001u	/* RO 1: I/O space indicator */
#define PMBASE_MASK		0x0000ff80u	/* bits 15:7, 128-byte block */
#define GPIOBASE_MASK		0x0000ffc0u	/* bits 15:6, 64-byte block */
#define PIRQ_ROUT_DEFAULT	0x80
#define PIRQ_ROUT_WMASK		0x8f
#define PIRQ_ROUT_IRQ		0x0f
#define LPC_EN_COMA		0x01	/* COM A decode: COM1 is always there */
#define RCBA_MASK		0xffffc000u	/* bits 31:14 */

struct lpc {
	struct device device;
	struct pci_dev dev;
	struct pci_root *root;
	const struct vm_ops *ops;
	struct bus *pio, *mmio;
	struct acpi_pm *pm;
	bool apm_attached;

	/*
	 * INTx. PIRQ A-H are wired-OR lines (devices/irq.h) that the router
	 * callback raises from any thread without the root lock; each
	 * drives GSI 16-23 and, through PIRQx_ROUT, a PIC input. pic_lock
	 * comes after the PIRQ lines in the lock order and guards the PIC
	 * side: the copy of PIRQx_ROUT (config[] itself is the root lock's)
	 * and the ISA levels as driven.
	 */
	struct lpc_pirq {
		struct irq_line line;
		struct irq_gsi gsi;
		struct lpc *lpc;
	} pirq[LPC_NR_PIRQ];
	pthread_mutex_t pic_lock;
	uint8_t pic_route[LPC_NR_PIRQ];		/* PIRQx_ROUT as last synced */
	bool pic_level[16];			/* ISA IRQs as driven */

	/* PM block decode as last applied: (base, enabled). */
	uint16_t pm_base;
	bool pm_enabled, pm_synced;

	pthread_mutex_t lock;		/* RCRB contents, APM registers */
	uint8_t rcrb[LPC_RCRB_SIZE];
	bool rcrb_mapped;
	uint32_t rcrb_base;
	uint8_t apm_cnt, apm_sts;
};

static struct lpc *to_lpc(struct pci_dev *dev)
{
	return (struct lpc *)((char *)dev - offsetof(struct lpc, dev));
}

unsigned int lpc_slot_pirq(unsigned int slot, unsigned int pin)
{
	pin &= 3;
	/* QEMU's D25IR-D31IR defaults: INTA-D -> PIRQA-D, except D30
	 * (its DMI-to-PCI bridge) -> PIRQE-H. */
	if (slot == 30)
		return 4 + pin;
	if (slot >= 25 && slot <= 31)
		return pin;
	/* Slots 0-24 rotate over PIRQE-H: SeaBIOS's, OVMF's and QEMU's
	 * DSDT's q35 rule, so firmware's INTERRUPT_LINE values match. */
	return 4 + (slot + pin) % 4;
}

static uint8_t pirq_rout_config(const struct lpc *lpc, unsigned int pirq)
{
	return lpc->dev.config[pirq < 4 ? LPC_PIRQA_ROUT + pirq : LPC_PIRQE_ROUT + pirq - 4];
}

/* ICH9 datasheet §13.1.12 PIRQx_ROUT: IRQ 0, 1, 2, 8 and 13 are
 * reserved; such a route reaches no PIC input. */
static int pirq_pic_irq(uint8_t rout)
{
	unsigned int irq = rout & PIRQ_ROUT_IRQ;

	if (rout & LPC_PIRQ_ROUT_IRQEN)
		return -1;
	if (irq < 3 || irq == 8 || irq == 13)
		return -1;
	return (int)irq;
}

/*
 * Drive the PIC inputs: each the OR of the asserted PIRQs routed to it
 * (the ISA side is level-sensitive here, ELCR programmed by firmware).
 * reread_routes (root lock held: a config write or reset) first copies
 * PIRQx_ROUT out of config space. Every PIRQ change ends here after its
 * level is published, so the last pass under pic_lock sees them all.
 */
static void lpc_update_pic(struct lpc *lpc, bool reread_routes)
{
	bool want[16] = { false };

	pthread_mutex_lock(&lpc->pic_lock);
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++) {
		int irq;

		if (reread_routes)
			lpc->pic_route[p] = pirq_rout_config(lpc, p);
		irq = pirq_pic_irq(lpc->pic_route[p]);
		if (irq >= 0 && irq_line_level(&lpc->pirq[p].line))
			want[irq] = true;
	}
	for (unsigned int irq = 0; irq < 16; irq++) {
		if (want[irq] == lpc->pic_level[irq])
			continue;
		lpc->pic_level[irq] = want[irq];
		lpc->ops->set_irq_line(lpc->ops->vm, irq, want[irq]);
	}
	pthread_mutex_unlock(&lpc->pic_lock);
}

/* A PIRQ line changed level (its lock held): GSI 16-23, then the PIC. */
static void lpc_pirq_sink(void *opaque, bool level)
{
	struct lpc_pirq *p = opaque;

	irq_gsi_sink(&p->gsi, level);
	lpc_update_pic(p->lpc, false);
}

/* APIC mode: PIRQ A-H are IOAPIC inputs 16-23 whatever PIRQx_ROUT says. */
static int lpc_intx_gsi(void *opaque, uint8_t slot, unsigned int pin)
{
	return (int)(LAYOUT_PIRQ_GSI_BASE + lpc_slot_pirq(slot, pin));
}

/* The router callback: any thread, no root lock (devices/pci.h). */
static void lpc_intx_change(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
	struct lpc *lpc = opaque;
	struct irq_line *line = &lpc->pirq[lpc_slot_pirq(slot, pin)].line;

	if (delta > 0)
		irq_line_raise(line);
	else if (delta < 0)
		irq_line_lower(line);
}

/* ---- PMBASE / ACPI_CNTL (§13.1.8, §13.1.9) -------------------------- */

static void lpc_update_pm(struct lpc *lpc)
{
	uint16_t base = (uint16_t)(pci_get32(lpc->dev.config, LPC_PMBASE) & PMBASE_MASK);
	/* Base 0 decodes nothing, as in QEMU: firmware clears PMBASE while
	 * it reprograms it, and the block must not land on port 0. */
	bool enabled = (lpc->dev.config[LPC_ACPI_CNTL] & LPC_ACPI_CNTL_ACPI_EN) && base;

	if (!lpc->pm)
		return;
	if (lpc->pm_synced && base == lpc->pm_base && enabled == lpc->pm_enabled)
		return;
	/* A base the guest put over another device leaves the block off
	 * (acpi_pm logs it); a later write may fix it, so retry then. */
	lpc->pm_synced = !acpi_pm_set_base(lpc->pm, base, enabled);
	lpc->pm_base = base;
	lpc->pm_enabled = enabled;
}

/* ---- RCRB (§10.1): 16 KiB of chipset configuration registers --------- */

static void rcrb_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct lpc *lpc = opaque;

	pthread_mutex_lock(&lpc->lock);
	if (offset < LPC_RCRB_SIZE && len <= LPC_RCRB_SIZE - offset)
		memcpy(data, lpc->rcrb + offset, len);
	else
		memset(data, 0xff, len);
	pthread_mutex_unlock(&lpc->lock);
}

static void rcrb_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct lpc *lpc = opaque;

	pthread_mutex_lock(&lpc->lock);
	if (offset < LPC_RCRB_SIZE && len <= LPC_RCRB_SIZE - offset)
		memcpy(lpc->rcrb + offset, data, len);
	pthread_mutex_unlock(&lpc->lock);
}

static const struct bus_dev_ops rcrb_ops = {
	.read = rcrb_read,
	.write = rcrb_write,
};

static void lpc_update_rcrb(struct lpc *lpc)
{
	uint32_t rcba = pci_get32(lpc->dev.config, LPC_RCBA);
	uint32_t base = rcba & RCBA_MASK;
	bool en = rcba & LPC_RCBA_EN;

	if (lpc->rcrb_mapped && (!en || base != lpc->rcrb_base)) {
		bus_unregister(lpc->mmio, lpc->rcrb_base);
		lpc->rcrb_mapped = false;
	}
	if (!en || lpc->rcrb_mapped || !lpc->mmio)
		return;
	if (bus_register(lpc->mmio, base, LPC_RCRB_SIZE, &rcrb_ops, lpc, "ich9-rcrb")) {
		pr_warn_once("lpc: RCBA %#x overlaps another MMIO range; the RCRB stays unmapped",
			     base);
		return;
	}
	lpc->rcrb_mapped = true;
	lpc->rcrb_base = base;
}

/* ---- APM_CNT / APM_STS (§13.7.2) -------------------------------------- */

static void apm_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct lpc *lpc = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&lpc->lock);
	for (unsigned int i = 0; i < len; i++)
		p[i] = offset + i == 0 ? lpc->apm_cnt : lpc->apm_sts;
	pthread_mutex_unlock(&lpc->lock);
}

static void apm_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct lpc *lpc = opaque;
	const uint8_t *p = data;
	int acpi = -1;

	pthread_mutex_lock(&lpc->lock);
	for (unsigned int i = 0; i < len; i++) {
		if (offset + i) {
			lpc->apm_sts = p[i];
			continue;
		}
		/*
		 * On ICH9 a write to APM_CNT raises an SMI and the firmware's
		 * handler switches ACPI mode (ACPI 6.x §4.8.2.1, SMI_CMD).
		 * There is no SMM here: do what QEMU's handler does for the
		 * FADT's ACPI_ENABLE/ACPI_DISABLE values directly.
		 */
		lpc->apm_cnt = p[i];
		if (p[i] == LPC_APM_ACPI_ENABLE)
			acpi = 1;
		else if (p[i] == LPC_APM_ACPI_DISABLE)
			acpi = 0;
	}
	pthread_mutex_unlock(&lpc->lock);
	if (acpi >= 0 && lpc->pm)
		acpi_pm_set_acpi_mode(lpc->pm, acpi);
}

static const struct bus_dev_ops apm_ops = {
	.read = apm_read,
	.write = apm_write,
};

/* ---- config space ------------------------------------------------------ */

static void lpc_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val,
			  unsigned int len)
{
	struct lpc *lpc = to_lpc(dev);

	pci_dev_default_cfg_write(dev, off, val, len);
	if (pci_range_overlaps(off, len, LPC_PMBASE, 4) ||
	    pci_range_overlaps(off, len, LPC_ACPI_CNTL, 1))
		lpc_update_pm(lpc);
	if (pci_range_overlaps(off, len, LPC_PIRQA_ROUT, 4) ||
	    pci_range_overlaps(off, len, LPC_PIRQE_ROUT, 4))
		lpc_update_pic(lpc, true);
	if (pci_range_overlaps(off, len, LPC_RCBA, 4))
		lpc_update_rcrb(lpc);
}

static void lpc_reset(struct pci_dev *dev)
{
	struct lpc *lpc = to_lpc(dev);

	pthread_mutex_lock(&lpc->lock);
	memset(lpc->rcrb, 0, sizeof(lpc->rcrb));
	lpc->apm_cnt = lpc->apm_sts = 0;
	pthread_mutex_unlock(&lpc->lock);
	lpc_update_pm(lpc);
	lpc_update_pic(lpc, true);
	lpc_update_rcrb(lpc);
}

static const struct pci_dev_ops lpc_ops = {
	.cfg_write = lpc_cfg_write,
	.reset = lpc_reset,
};

static void lpc_init_config(struct lpc *lpc)
{
	uint8_t *c = lpc->dev.config, *w = lpc->dev.wmask;

	c[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
	pci_set32(c, LPC_PMBASE, PMBASE_RTE);
	pci_set32(w, LPC_PMBASE, PMBASE_MASK);
	/* ACPI_EN only: SCI_IRQ_SEL stays 000b (IRQ 9), the SCI's wiring. */
	w[LPC_ACPI_CNTL] = LPC_ACPI_CNTL_ACPI_EN;
	pci_set32(c, LPC_GPIOBASE, PMBASE_RTE);
	pci_set32(w, LPC_GPIOBASE, GPIOBASE_MASK);
	for (unsigned int i = 0; i < 4; i++) {
		c[LPC_PIRQA_ROUT + i] = c[LPC_PIRQE_ROUT + i] = PIRQ_ROUT_DEFAULT;
		w[LPC_PIRQA_ROUT + i] = w[LPC_PIRQE_ROUT + i] = PIRQ_ROUT_WMASK;
	}
	c[LPC_LPC_EN] = LPC_EN_COMA;
	pci_set32(w, LPC_RCBA, RCBA_MASK | LPC_RCBA_EN);
	pci_dev_reserve(&lpc->dev, 0x40, PCI_CFG_SPACE_SIZE - 0x40);
}

/* Reset through the root (PCI RST#): only its destroy is here. */
static void lpc_dev_destroy(struct device *dev)
{
	lpc_destroy(container_of(dev, struct lpc, device));
}

static const struct device_ops lpc_device_ops = {
	.destroy = lpc_dev_destroy,
};

struct lpc *lpc_create(struct pci_root *root, const struct vm_ops *ops,
		       struct bus *pio, struct bus *mmio, struct acpi_pm *pm)
{
	struct pci_intx_router router;
	struct lpc *lpc;
	int ret;

	lpc = calloc(1, sizeof(*lpc));
	if (!lpc) {
		errno = ENOMEM;
		return NULL;
	}
	lpc->root = root;
	lpc->ops = ops;
	lpc->pio = pio;
	lpc->mmio = mmio;
	lpc->pm = pm;
	ret = -pthread_mutex_init(&lpc->lock, NULL);
	if (ret)
		goto free_lpc;
	lpc->pic_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++) {
		struct lpc_pirq *pirq = &lpc->pirq[p];

		pirq->lpc = lpc;
		pirq->gsi = (struct irq_gsi){ .ops = ops, .gsi = LAYOUT_PIRQ_GSI_BASE + p };
		irq_line_init(&pirq->line, lpc_pirq_sink, pirq);	/* cannot fail */
	}
	ret = pci_dev_init(&lpc->dev, &lpc_ops, "ich9-lpc", LPC_VENDOR_ID, LPC_DEVICE_ID,
			   0x060100, LPC_REVISION, PCI_HEADER_TYPE_NORMAL, false);
	if (ret)
		goto destroy_lock;
	lpc_init_config(lpc);
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++)
		lpc->pic_route[p] = pirq_rout_config(lpc, p);

	if (pio) {
		ret = bus_register(pio, LPC_APM_CNT, 2, &apm_ops, lpc, "ich9-apm");
		if (ret)
			goto exit_dev;
		lpc->apm_attached = true;
	}
	ret = pci_bus_plug(pci_root_bus(root), &lpc->dev, LPC_DEVFN);
	if (ret)
		goto unregister_apm;
	router = (struct pci_intx_router){
		.intx_change = lpc_intx_change,
		.intx_gsi = lpc_intx_gsi,
		.opaque = lpc,
	};
	pci_root_set_intx_router(root, &router);
	/* Out of reset ACPI_EN is 0: the PM block decodes nowhere. */
	pthread_mutex_lock(&root->lock);
	lpc_update_pm(lpc);
	pthread_mutex_unlock(&root->lock);
	device_register(ops, &lpc->device, "ich9-lpc", &lpc_device_ops);
	return lpc;

unregister_apm:
	if (lpc->apm_attached)
		bus_unregister(pio, LPC_APM_CNT);
exit_dev:
	pci_dev_exit(&lpc->dev);
destroy_lock:
	pthread_mutex_destroy(&lpc->lock);
free_lpc:
	free(lpc);
	errno = -ret;
	return NULL;
}

void lpc_destroy(struct lpc *lpc)
{
	if (!lpc)
		return;
	device_unregister(&lpc->device);
	pthread_mutex_lock(&lpc->root->lock);
	/* Every function deasserts what it drove through the old router. */
	pci_root_set_intx_router(lpc->root, NULL);
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++)
		irq_line_reset(&lpc->pirq[p].line);
	if (lpc->rcrb_mapped)
		bus_unregister(lpc->mmio, lpc->rcrb_base);
	lpc->rcrb_mapped = false;
	pthread_mutex_unlock(&lpc->root->lock);
	if (lpc->apm_attached)
		bus_unregister(lpc->pio, LPC_APM_CNT);
	pci_dev_exit(&lpc->dev);
	for (unsigned int p = 0; p < LPC_NR_PIRQ; p++)
		irq_line_exit(&lpc->pirq[p].line);
	pthread_mutex_destroy(&lpc->lock);
	free(lpc);
}
