/* SPDX-License-Identifier: MIT */
/*
 * Capability IDs and register layouts shared by the PCIe root port and
 * VFIO passthrough: PCI Local Bus 3.0 ("PCI 3.0") §6.7-6.8 (capability
 * list, MSI, MSI-X), PCI Power Management 1.2 §3.2, PCIe Base 4.0 §7.5.3
 * (the PCI Express Capability structure) and §7.6 (extended capabilities).
 */
#ifndef MINIVMM_PCIE_REGS_H
#define MINIVMM_PCIE_REGS_H

/* Capability IDs (PCI Code and ID Assignment spec §2). */
#define PCI_CAP_ID_PM		0x01
#define PCI_CAP_ID_VPD		0x03
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_PCIX		0x07
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_SSVID	0x0d
#define PCI_CAP_ID_EXP		0x10
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_ID_SATA		0x12
#define PCI_CAP_ID_AF		0x13

/* Extended capability IDs. */
#define PCI_EXT_CAP_ID_DSN	0x0003
#define PCI_EXT_CAP_ID_VNDR	0x000b

/* Power management (PM 1.2 §3.2.3-4), offsets from the capability. */
#define PCI_PM_PMC		2
#define PCI_PM_CTRL		4
#define PCI_PM_CTRL_STATE_MASK	0x0003
#define PCI_PM_CTRL_NO_SOFT_RESET 0x0008
#define PCI_PM_CTRL_PME_ENABLE	0x0100
#define PCI_PM_CTRL_PME_STATUS	0x8000
#define PCI_PM_SIZEOF		8

/* MSI (PCI 3.0 §6.8.1). */
#define PCI_MSI_FLAGS		2
#define PCI_MSI_FLAGS_ENABLE	0x0001
#define PCI_MSI_FLAGS_QMASK	0x000e	/* multiple message capable */
#define PCI_MSI_FLAGS_QSIZE	0x0070	/* multiple message enable */
#define PCI_MSI_FLAGS_64BIT	0x0080
#define PCI_MSI_FLAGS_MASKBIT	0x0100	/* per-vector masking */
#define PCI_MSI_ADDRESS_LO	4

/* MSI-X (PCI 3.0 §6.8.2). */
#define PCI_MSIX_FLAGS		2
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_PBA		8
#define PCI_MSIX_BIR		0x7
#define PCI_MSIX_SIZEOF		12
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

/* PCI Express Capability (PCIe 4.0 §7.5.3), offsets from the capability. */
#define PCI_EXP_FLAGS		0x02
#define PCI_EXP_FLAGS_VERS	0x000f
#define PCI_EXP_FLAGS_TYPE	0x00f0
#define PCI_EXP_FLAGS_SLOT	0x0100
#define PCI_EXP_TYPE_ENDPOINT	0x0
#define PCI_EXP_TYPE_LEG_END	0x1
#define PCI_EXP_TYPE_ROOT_PORT	0x4
#define PCI_EXP_TYPE_RC_END	0x9
#define PCI_EXP_DEVCAP		0x04
#define PCI_EXP_DEVCAP_RBER	0x00008000
#define PCI_EXP_DEVCAP_FLR	0x10000000
#define PCI_EXP_DEVCTL		0x08
#define PCI_EXP_DEVCTL_BCR_FLR	0x8000
#define PCI_EXP_DEVSTA		0x0a
#define PCI_EXP_LNKCAP		0x0c
#define PCI_EXP_LNKCAP_DLLLARC	0x00100000
#define PCI_EXP_LNKCTL		0x10
#define PCI_EXP_LNKSTA		0x12
#define PCI_EXP_LNKSTA_DLLLA	0x2000
#define PCI_EXP_SLTCAP		0x14
#define PCI_EXP_SLTCTL		0x18
#define PCI_EXP_SLTSTA		0x1a
#define PCI_EXP_SLTSTA_PDS	0x0040
#define PCI_EXP_RTCTL		0x1c
#define PCI_EXP_RTCAP		0x1e
#define PCI_EXP_RTSTA		0x20
#define PCI_EXP_DEVCAP2		0x24
#define PCI_EXP_DEVCTL2		0x28
#define PCI_EXP_LNKCAP2		0x2c
#define PCI_EXP_LNKCTL2		0x30
#define PCI_EXP_LNKSTA2		0x32
#define PCI_EXP_SIZEOF_V1	0x14	/* an endpoint's version-1 structure */
#define PCI_EXP_SIZEOF_V2	0x3c

/* Extended capability header (PCIe 4.0 §7.6.3). */
#define PCI_EXT_CAP_ID(h)	((h) & 0xffff)
#define PCI_EXT_CAP_VER(h)	(((h) >> 16) & 0xf)
#define PCI_EXT_CAP_NEXT(h)	(((h) >> 20) & 0xffc)

#endif
