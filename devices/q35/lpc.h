/* SPDX-License-Identifier: MIT */
/*
 * ICH9 LPC/ISA bridge, PCI 00:1F.0, 8086:2918, class 0601, revision 02,
 * multifunction header (as QEMU's q35): the PM I/O block's PMBASE and
 * ACPI_EN, the PIRQ router, the RCBA (root complex register block), the
 * APM ports 0xB2/0xB3, and the router of every PCI INTx in the machine.
 *
 * Interrupt wiring, for whoever writes the DSDT (it is QEMU's q35):
 *
 *   PIRQ A..H  ->  IOAPIC GSI 16..23, always (APIC mode, _PRT "GSIx")
 *   PIRQ A..H  ->  ISA IRQ PIRQx_ROUT[3:0] when PIRQx_ROUT bit 7 is 0
 *                  (PIC mode, _PRT "LNKx"; OVMF programs 10,10,11,11,
 *                  10,10,11,11 for A..H). Valid: 3-7, 9-12, 14, 15.
 *
 *   INTx of a root-bus device in slot s, pin p (0 = INTA):
 *     s 0-24          PIRQ E + (s + p) % 4      (GSI 20 + (s + p) % 4)
 *     s 25-29 and 31  PIRQ A + p                (GSI 16 + p)
 *     s 30            PIRQ E + p                (GSI 20 + p)
 *   (QEMU's ICH9 defaults: D25IR-D31IR plus its rotation for slots
 *   0-24; devices behind bridges are swizzled to their root slot first.)
 *
 *   SCI: ACPI_CNTL.SCI_IRQ_SEL is read-only 000b = IRQ 9, the GSI the
 *   acpi_pm block raises (FADT SCI_INT = 9).
 *   SMI_CMD = 0xB2 (APM_CNT): 0x02 sets PM1_CNT.SCI_EN, 0x03 clears it
 *   (FADT ACPI_ENABLE = 0x02, ACPI_DISABLE = 0x03, as QEMU).
 */
#ifndef MINIVMM_Q35_LPC_H
#define MINIVMM_Q35_LPC_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/pci.h"
#include "lib/layout.h"

#define LPC_VENDOR_ID		0x8086
#define LPC_DEVICE_ID		0x2918
#define LPC_REVISION		0x02
#define LPC_DEVFN		PCI_DEVFN(0x1f, 0)

/* D31:F0 registers (ICH9 datasheet §13.1). */
#define LPC_PMBASE		0x40
#define LPC_ACPI_CNTL		0x44
#define LPC_ACPI_CNTL_ACPI_EN	0x80
#define LPC_GPIOBASE		0x48
#define LPC_PIRQA_ROUT		0x60	/* A-D: 0x60-0x63 */
#define LPC_PIRQE_ROUT		0x68	/* E-H: 0x68-0x6b */
#define LPC_PIRQ_ROUT_IRQEN	0x80	/* 1: not routed to the PIC */
#define LPC_LPC_EN		0x82
#define LPC_GEN_PMCON_1		0xa0
#define LPC_RCBA		0xf0
#define LPC_RCBA_EN		0x01
#define LPC_RCRB_SIZE		0x4000	/* 16 KiB chipset configuration */

#define LPC_NR_PIRQ		8
#define LPC_APM_CNT		0xb2
#define LPC_APM_STS		0xb3
#define LPC_APM_ACPI_ENABLE	0x02
#define LPC_APM_ACPI_DISABLE	0x03

struct lpc;

/*
 * Plug the bridge into 00:1F.0, claim 0xB2-0xB3 on pio, install it as
 * root's INTx router. pm (may be NULL) must already be attached
 * (acpi_pm_attach, at any base): like ICH9 out of reset (ACPI_EN = 0),
 * its ports are unmapped here until the firmware sets PMBASE and ACPI_EN.
 * The RCRB appears on mmio when the guest enables RCBA. NULL (errno set)
 * on failure. Everything passed must outlive the bridge.
 */
struct lpc *lpc_create(struct pci_root *root, const struct vm_ops *ops,
		       struct bus *pio, struct bus *mmio, struct acpi_pm *pm);
/* Unmaps RCRB and APM ports, lowers its IRQ lines, unplugs, frees.
 * Before pci_root_destroy() and acpi_pm_destroy(). */
void lpc_destroy(struct lpc *lpc);

/* PIRQ (0 = A) a root-bus slot's INTx pin (0 = INTA) is wired to. */
unsigned int lpc_slot_pirq(unsigned int slot, unsigned int pin);

#endif
