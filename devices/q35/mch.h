/* SPDX-License-Identifier: MIT */
/*
 * Q35 host bridge, PCI 00:00.0: the "DRAM controller" function of the
 * Intel 3 Series (Q35) MCH, 8086:29C0, class 0600, as QEMU's q35 exposes
 * it and OVMF expects it (OvmfPkg/Include/IndustryStandard/Q35MchIch9.h).
 *
 * What the registers do in minivmm:
 *   PCIEXBAR 0x60  enable + length (256/128/64 MiB) + base: moves the
 *                  ECAM window (pci_root_set_ecam). Reset value QEMU's:
 *                  base 0xB0000000, disabled; OVMF enables it there.
 *   PAM0-6 0x90    stored only (see mch.c for why).
 *   SMRAM 0x9D, ESMRAMC 0x9E  stored, with the D_LCK lock semantics;
 *                  there is no SMM, so nothing is mapped or hidden.
 *   EXT_TSEG_MB 0x50, F_SMBASE 0x9C  QEMU's paravirtual "query"
 *                  registers, answered as "absent" (see mch.c); the
 *                  EXT_TSEG_MB query (0xFFFF) marks an OVMF built for SMM,
 *                  which cannot boot here: the VM stops with an error.
 *   the rest of 0x40-0xFF  plain storage (TOLUD, TSEGMB, GGC, ...).
 */
#ifndef MINIVMM_Q35_MCH_H
#define MINIVMM_Q35_MCH_H

#include <stdint.h>

#include "devices/pci.h"

#define MCH_VENDOR_ID		0x8086
#define MCH_DEVICE_ID		0x29c0	/* OVMF's INTEL_Q35_MCH_DEVICE_ID */
#define MCH_DEVFN		PCI_DEVFN(0, 0)

#define MCH_EXT_TSEG_MB		0x50
#define MCH_EXT_TSEG_MB_QUERY	0xffff	/* what an SMM build of OVMF writes */
#define MCH_GGC			0x52
#define MCH_PCIEXBAR		0x60
#define MCH_PAM0		0x90
#define MCH_F_SMBASE		0x9c
#define MCH_SMRAM		0x9d
#define MCH_ESMRAMC		0x9e
#define MCH_TSEGMB		0xac
#define MCH_TOLUD		0xb0

#define MCH_PCIEXBAR_DEFAULT	0xb0000000ULL	/* QEMU's and OVMF's base */

struct mch;

/* Plug the host bridge into 00:00.0 of root's bus 0. NULL (errno set) on
 * failure; root must outlive it. */
struct mch *mch_create(struct pci_root *root);
/* Turns the ECAM window off, unplugs, frees. Before pci_root_destroy(). */
void mch_destroy(struct mch *mch);

#endif
