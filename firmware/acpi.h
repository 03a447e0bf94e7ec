/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for the q35-like machine, delivered the way QEMU does it so
 * that the stock OVMF's AcpiPlatformDxe (OvmfPkg/AcpiPlatformDxe/
 * QemuFwCfgAcpi.c) installs them: three fw_cfg files,
 *
 *   "etc/acpi/tables"   every table, concatenated, pointers as offsets
 *   "etc/acpi/rsdp"     the RSDP, pointers as offsets
 *   "etc/table-loader"  a script of 128-byte commands telling the firmware
 *                       to allocate both blobs, turn the offsets into
 *                       addresses (ADD_POINTER) and fill in checksums
 *                       (ADD_CHECKSUM).
 *
 * OVMF then installs, through EFI_ACPI_TABLE_PROTOCOL, every table that an
 * ADD_POINTER points at, except the RSDT and XSDT: it builds its own RSDP,
 * RSDT and XSDT, and links the FACS and DSDT into the FADT itself. Our
 * RSDP/RSDT/XSDT therefore matter only to firmware that passes them
 * through (SeaBIOS) and to the unit tests; they are still complete.
 *
 * Tables: FACS, DSDT, FADT (revision 6, full fixed hardware: ICH9 PM
 * block), MADT, MCFG, WAET, with a TPM the TPM2 table, RSDT, XSDT and
 * the RSDP (revision 2).
 */
#ifndef MINIVMM_ACPI_H
#define MINIVMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/aml.h"
#include "lib/layout.h"

#define ACPI_FILE_TABLES	"etc/acpi/tables"
#define ACPI_FILE_RSDP		"etc/acpi/rsdp"
#define ACPI_FILE_LOADER	"etc/table-loader"

#define ACPI_MAX_CPUS		4096	/* processor names C000-CFFF */
#define ACPI_S5_SLP_TYP		0	/* \_S5: what QEMU's q35 DSDT says */

/*
 * Contributes AML under \_SB.PCI0 (a Device node): e.g. a PCIe root port
 * per passed-through GPU appends Device (RP00) { Name (_ADR, 0x00010000)
 * ... }. Return 0 or -errno; errors inside the AML are found anyway.
 */
struct acpi_dsdt_hook {
	int (*build)(struct aml *pci0, void *opaque);
	void *opaque;
};

struct acpi_config {
	unsigned int nr_cpus;		/* APIC IDs 0..nr_cpus-1 */
	uint64_t ram_low_end;		/* RAM below 4 GiB ends here */
	uint64_t ram_high_size;		/* RAM from 4 GiB up */
	/* 32-bit PCI MMIO window [start, end), below the IOAPIC; the ECAM,
	 * if inside, is carved out of what _CRS declares. */
	uint64_t pci32_start, pci32_end;
	/* 64-bit PCI MMIO window, above RAM; size 0: none. */
	uint64_t pci64_base, pci64_size;
	/* ECAM (MCFG): ecam_base is bus 0's config space; buses
	 * bus_start..bus_end are decoded, 1 MiB each. */
	uint64_t ecam_base;
	uint8_t bus_start, bus_end;
	uint16_t pm_base;		/* ICH9 PMBASE, 128-byte aligned */
	unsigned int sci_gsi;		/* an ISA IRQ, 1-15 but not 2 */
	/*
	 * FADT SMI_CMD / ACPI_ENABLE / ACPI_DISABLE. 0 (the default): no
	 * SMM, so no legacy mode, and the OS expects PM1_CNT.SCI_EN already
	 * set (OVMF's BdsPlatform sets it; a direct kernel boot needs the
	 * VMM to). Or 0xB2 / 0x02 / 0x03 to have the OS switch through the
	 * ICH9 APM port, as QEMU's q35 does when it has SMM.
	 */
	uint16_t smi_cmd;
	uint8_t acpi_enable, acpi_disable;
	bool serial;			/* COM1 at 0x3F8, IRQ 4 */
	/* A TPM 2.0 CRB at LAYOUT_TPM_CRB_BASE: the TPM2 table and an
	 * MSFT0101 device (devices/tpm/crb.c). */
	bool tpm_crb;
	/* FADT revision: 6 (ACPI 6.0, the default) or 3 (the ACPI 2.0
	 * layout QEMU's q35 uses), in case a guest objects to 6. */
	uint8_t fadt_revision;
	const char *oem_id;		/* up to 6 characters */
	const char *oem_table_id;	/* up to 8 characters */
	const struct acpi_dsdt_hook *pci0_hooks;
	unsigned int nr_pci0_hooks;
};

/* A growable byte array; the built files. */
struct acpi_blob {
	uint8_t *data;
	size_t len, cap;
};

struct acpi_blobs {
	struct acpi_blob tables;	/* ACPI_FILE_TABLES */
	struct acpi_blob rsdp;		/* ACPI_FILE_RSDP */
	struct acpi_blob loader;	/* ACPI_FILE_LOADER */
};

/*
 * q35 defaults: 1 vCPU, no RAM, windows empty, ECAM 0xB0000000 for buses
 * 0-255, PM block 0x600, SCI 9, COM1 on, FADT revision 6, OEM "MINVMM" /
 * "MINIVMM". The caller fills in the CPUs, RAM and windows.
 */
void acpi_config_init(struct acpi_config *cfg);

/*
 * Build the three files. 0, -EINVAL for an inconsistent config (e.g. a
 * window overlapping RAM), -ENOMEM, or a hook's/the AML's error. On
 * failure *out is left empty.
 */
int acpi_build(const struct acpi_config *cfg, struct acpi_blobs *out);
void acpi_blobs_free(struct acpi_blobs *blobs);

/* The DSDT's AML body (after the table header), for tests and tools. The
 * caller frees it; check aml_error() (NULL: out of memory). */
struct aml *acpi_dsdt_aml(const struct acpi_config *cfg);

/*
 * The GSI a PCI device on bus 0 raises for INTx, QEMU q35's default
 * routing (ICH9 D<slot>IR registers as QEMU resets them, and its _PRT):
 * slots 0-24 and 30 use PIRQE-H, slots 25-29 and 31 PIRQA-D; PIRQ n is
 * GSI 16 + n. slot 0-31, pin 0-3 (INTA-INTD); -EINVAL otherwise.
 */
int acpi_pci_intx_gsi(unsigned int slot, unsigned int pin);

/*
 * Where the stock OVMF (edk2-stable202211, PlatformInitLib MemDetect.c)
 * puts its 64-bit PCI aperture when fw_cfg has no "opt/ovmf/X-PciMmio64Mb"
 * and no "etc/reserved-memory-end": 32 GiB, based at the end of RAM
 * rounded up to 1 GiB, then to the aperture size. Declare that window
 * (pci64_base/size) so the OS finds OVMF's 64-bit BARs inside PCI0._CRS.
 */
void acpi_ovmf_pci64_window(uint64_t ram_high_size, uint64_t *base, uint64_t *size);

/*
 * Widen the 64-bit window [*base, *base + *size) to cover [lo, hi] too
 * (inclusive): what the firmware programmed, which the OS must find
 * inside PCI0._CRS wherever the firmware's aperture was (QEMU's
 * q35_host_get_pci_hole64_start/end do the same with the BARs' span).
 */
void acpi_pci64_window_cover(uint64_t *base, uint64_t *size, uint64_t lo, uint64_t hi);

/* --- the table-loader script (QEMU hw/acpi/bios-linker-loader.c) ----- */

#define ACPI_LOADER_CMD_SIZE	128
#define ACPI_LOADER_FNAME_SIZE	56	/* NUL-padded, NUL-terminated */

enum acpi_loader_cmd {
	ACPI_LOADER_ALLOCATE = 1,
	ACPI_LOADER_ADD_POINTER = 2,
	ACPI_LOADER_ADD_CHECKSUM = 3,
	ACPI_LOADER_WRITE_POINTER = 4,
};

enum acpi_loader_zone {
	ACPI_ZONE_HIGH = 1,	/* anywhere (OVMF: below 4 GiB if a 32-bit
				 * pointer points at it) */
	ACPI_ZONE_FSEG = 2,	/* the 0xE0000-0xFFFFF segment (SeaBIOS;
				 * OVMF ignores the zone) */
};

/*
 * Append one command to script. -ENAMETOOLONG for a file name that does
 * not fit 55 characters, -EINVAL for an alignment that is not a power of
 * two up to 4096 (OVMF refuses more) or a pointer size not 1/2/4/8,
 * -ENOMEM.
 */
int acpi_loader_allocate(struct acpi_blob *script, const char *file,
			 uint32_t align, enum acpi_loader_zone zone);
/* The pointer_size bytes at pointer_offset in pointer_file hold an offset
 * into pointee_file; the firmware adds pointee_file's address. */
int acpi_loader_add_pointer(struct acpi_blob *script, const char *pointer_file,
			    uint32_t pointer_offset, uint8_t pointer_size,
			    const char *pointee_file);
/* file[result] = -(sum of file[start, start + length)), computed with the
 * result byte included: it must be 0 in the blob. */
int acpi_loader_add_checksum(struct acpi_blob *script, const char *file,
			     uint32_t result, uint32_t start, uint32_t length);
/* Write pointee_file's address + pointee_offset into the writable fw_cfg
 * file pointer_file (not guest memory), e.g. for VM Generation ID. */
int acpi_loader_write_pointer(struct acpi_blob *script, const char *pointer_file,
			      uint32_t pointer_offset, uint8_t pointer_size,
			      const char *pointee_file, uint32_t pointee_offset);

#endif
