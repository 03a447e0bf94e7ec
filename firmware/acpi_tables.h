/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables as the firmware reads them: built once at start (so the
 * fw_cfg directory has their sizes), and built again each time the
 * firmware selects "etc/acpi/tables" — which OVMF's AcpiPlatformDxe does
 * after PCI enumeration (it waits for the root bridges to be connected) —
 * so that PCI0._CRS describes what the firmware actually programmed, as
 * QEMU's acpi_build_update() does. What changes between builds is the
 * 64-bit window: OVMF's aperture depends on its version, the guest's
 * physical address width and fw_cfg knobs (edk2 2022.11 puts it at the top
 * of the address space: 0xE0_0000_0000 with 40 bits), so the window is
 * widened to cover every 64-bit BAR and bridge window in config space.
 * A guest OS that does not find a BAR inside a host bridge window moves it
 * (Linux: "can't claim; no compatible bridge window") or, as Windows does,
 * fails the device (Code 12).
 */
#ifndef MINIVMM_ACPI_TABLES_H
#define MINIVMM_ACPI_TABLES_H

#include "devices/device.h"
#include "devices/pci.h"
#include "firmware/acpi.h"
#include "firmware/fw_cfg.h"

struct acpi_tables;

/*
 * Build the tables for cfg (copied; its hooks must outlive the object)
 * and register in the device registry; root (may be NULL: no widening)
 * must outlive it, and so must the fw_cfg it is added to: create it
 * before the fw_cfg so that it is destroyed after. NULL with errno set.
 */
struct acpi_tables *acpi_tables_create(const struct vm_ops *ops, const struct acpi_config *cfg,
				       struct pci_root *root);
void acpi_tables_destroy(struct acpi_tables *t);
/* The tables as built at start (for --dump-acpi). */
const struct acpi_blobs *acpi_tables_blobs(const struct acpi_tables *t);
/* Add "etc/acpi/tables" (rebuilt on select), "etc/acpi/rsdp" and
 * "etc/table-loader" to fw. */
int acpi_tables_add_fw_cfg(struct acpi_tables *t, struct fw_cfg *fw);
/* Rebuilds so far, and the 64-bit window the last one declared. */
void acpi_tables_stats(struct acpi_tables *t, uint64_t *rebuilds, uint64_t *pci64_base,
		       uint64_t *pci64_size);

#endif
