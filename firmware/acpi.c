// SPDX-License-Identifier: MIT
/*
 * ACPI table generation (ACPI 6.4 §5.2 "ACPI System Description Tables")
 * and the table-loader script that makes OVMF install them; see acpi.h
 * for the delivery and dsdt.c for the namespace.
 *
 * "etc/acpi/tables" holds, in this order: FACS (at offset 0, so the
 * 64-byte allocation alignment is the FACS's), DSDT, FADT, MADT, MCFG,
 * WAET, TPM2 (with a TPM), RSDT, XSDT. Every pointer field holds an offset into its target
 * blob and every checksum is 0; the script, per table, first relocates
 * the pointers (ADD_POINTER) and then sums the table (ADD_CHECKSUM),
 * because OVMF computes a checksum over the bytes as they are then,
 * result byte included.
 */
#include <errno.h>
#include <string.h>

#include "firmware/acpi.h"
#include "firmware/acpi_internal.h"
#include "firmware/aml.h"
#include "lib/layout.h"
#include "lib/memory.h"

#define HEADER_SIZE		36	/* §5.2.6 System Description Table Header */
#define CREATOR_ID		"MVMM"
#define CREATOR_REVISION	1
#define OEM_REVISION		1

#define FACS_SIZE		64
#define FACS_VERSION		2	/* ACPI 6.x §5.2.10 */
#define DSDT_REVISION		2	/* 2+: AML integers are 64 bits */
#define MADT_REVISION		3	/* ACPI 5.0-6.1 layout */
#define FADT_DEFAULT_REVISION	6

/* FADT field offsets (§5.2.9, Table 5.9). */
#define FADT_FIRMWARE_CTRL	36
#define FADT_DSDT		40
#define FADT_X_DSDT		140
#define FADT_SIZE_REV3		244	/* through X_GPE1_BLK */
#define FADT_SIZE_REV6		276	/* + SLEEP_CONTROL/STATUS_REG (rev 5),
					 * Hypervisor Vendor Identity */

/* FADT Fixed Feature Flags (Table 5.10). */
#define FADT_WBINVD			(1u << 0)
#define FADT_PROC_C1			(1u << 2)
#define FADT_SLP_BUTTON			(1u << 5)
#define FADT_RESET_REG_SUP		(1u << 10)
#define FADT_USE_PLATFORM_CLOCK		(1u << 15)
#define FADT_FORCE_APIC_CLUSTER_MODEL	(1u << 18)

/* The ICH9 PM block's registers, relative to PMBASE (devices/legacy/
 * acpi_pm.c), and the reset control register. */
#define PM1_EVT_OFF		0x00
#define PM1_EVT_LEN		4
#define PM1_CNT_OFF		0x04
#define PM1_CNT_LEN		2
#define PM_TMR_OFF		0x08
#define PM_TMR_LEN		4	/* 24-bit counter: TMR_VAL_EXT = 0 */
#define GPE0_OFF		0x20
#define GPE0_LEN		16	/* GPE0_STS + GPE0_EN, 64 bits each */
#define RESET_VALUE		0x06	/* SYS_RST | RST_CPU: hard reset */
#define RTC_CENTURY		0x32
#define GAS_SYSTEM_IO		1

#define MADT_LOCAL_APIC		0
#define MADT_IO_APIC		1
#define MADT_INT_OVERRIDE	2
#define MADT_LOCAL_APIC_NMI	4
#define MADT_LOCAL_X2APIC	9
#define MADT_LOCAL_X2APIC_NMI	10
#define MADT_PCAT_COMPAT	1
#define MADT_ENABLED		1
#define MADT_LEVEL_ACTIVE_HIGH	0x000d	/* polarity 01, trigger mode 11 */
#define IOAPIC_ID		0
#define XAPIC_MAX_ID		254	/* 0xFF means "all" in MADT NMI entries */

#define WAET_PM_TIMER_GOOD	(1u << 1)

#define MAX_SDT_ENTRIES		5	/* FADT, MADT, MCFG, WAET, TPM2 */

/* TCG ACPI Specification 1.3 §8.3 "TPM2 ACPI Table": revision 4, with the
 * log area fields (76 bytes). */
#define TPM2_REVISION		4
#define TPM2_SIZE		76
#define TPM2_START_CRB		7	/* Start Method: Command Response Buffer */

void acpi_config_init(struct acpi_config *cfg)
{
	*cfg = (struct acpi_config){
		.nr_cpus = 1,
		.ecam_base = MEM_ECAM_BASE,
		.bus_start = 0,
		.bus_end = 255,
		.pm_base = LAYOUT_PM_BASE,
		.sci_gsi = LAYOUT_SCI_GSI,
		.serial = true,
		.fadt_revision = FADT_DEFAULT_REVISION,
	};
}

void acpi_ecam_range(const struct acpi_config *cfg, uint64_t *lo, uint64_t *hi)
{
	*lo = cfg->ecam_base + ((uint64_t)cfg->bus_start << 20);
	*hi = cfg->ecam_base + (((uint64_t)cfg->bus_end + 1) << 20);
}

static bool id_ok(const char *s, size_t max)
{
	return !s || strlen(s) <= max;
}

int acpi_config_check(const struct acpi_config *cfg)
{
	uint64_t lo, hi;

	if (!cfg->nr_cpus || cfg->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	/* The 32-bit window: above low RAM, below the IOAPIC/LAPIC/flash. */
	if (cfg->pci32_start > cfg->pci32_end || cfg->pci32_end > MEM_IOAPIC_BASE ||
	    (cfg->pci32_start < cfg->pci32_end && cfg->pci32_start < cfg->ram_low_end))
		return -EINVAL;
	if (cfg->ram_low_end > MEM_4G || cfg->ram_high_size > UINT64_MAX - MEM_4G)
		return -EINVAL;
	/* The 64-bit window: above all RAM, not wrapping. */
	if (cfg->pci64_size &&
	    (cfg->pci64_base < MEM_4G + cfg->ram_high_size ||
	     cfg->pci64_base > UINT64_MAX - cfg->pci64_size))
		return -EINVAL;
	/* §5.2.6 MCFG: 1 MiB-aligned, decoding below 4 GiB (the _CRS carve-
	 * out and the DRAC reservation are 32-bit) and above low RAM. */
	acpi_ecam_range(cfg, &lo, &hi);
	if (cfg->bus_start > cfg->bus_end || (cfg->ecam_base & ((1 << 20) - 1)) ||
	    cfg->ecam_base > MEM_4G || hi > MEM_4G || lo < cfg->ram_low_end)
		return -EINVAL;
	/* PMBASE bits 6:0 are reserved: the block is 128-byte aligned. */
	if (!cfg->pm_base || (cfg->pm_base & 0x7f))
		return -EINVAL;
	/* The SCI is an ISA IRQ with an override to level/high; IRQ 0 is the
	 * timer and 2 is the cascade. */
	if (cfg->sci_gsi < 1 || cfg->sci_gsi > 15 || cfg->sci_gsi == 2)
		return -EINVAL;
	/* §5.2.9: with an SMI_CMD port, both commands, and distinct. */
	if (cfg->smi_cmd && (!cfg->acpi_enable || !cfg->acpi_disable ||
			     cfg->acpi_enable == cfg->acpi_disable))
		return -EINVAL;
	if (!cfg->smi_cmd && (cfg->acpi_enable || cfg->acpi_disable))
		return -EINVAL;
	if (cfg->fadt_revision != 3 && cfg->fadt_revision != 6)
		return -EINVAL;
	if (!id_ok(cfg->oem_id, 6) || !id_ok(cfg->oem_table_id, 8))
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_pci0_hooks; i++)
		if (!cfg->pci0_hooks || !cfg->pci0_hooks[i].build)
			return -EINVAL;
	return 0;
}

/*
 * The blobs being built and the first error (sticky). 32-bit pointer
 * fields (RSDT entries, FIRMWARE_CTRL, DSDT) are fine wherever RAM ends:
 * OVMF allocates any blob that a pointer narrower than 8 bytes points
 * into below 4 GiB (CollectAllocationsRestrictedTo32Bit()).
 */
struct builder {
	const struct acpi_config *cfg;
	struct acpi_blobs *out;
	int err;
};

static void put(struct builder *b, struct acpi_blob *blob, const void *data,
		size_t len)
{
	if (!b->err)
		b->err = acpi_blob_put(blob, data, len);
}

static void script(struct builder *b, int ret)
{
	if (!b->err)
		b->err = ret;
}

/* Space-padded fixed-width ID fields (§5.2.6 OEMID, OEM Table ID). */
static void put_id(uint8_t *dst, const char *s, size_t width)
{
	size_t len = strlen(s);

	memset(dst, ' ', width);
	memcpy(dst, s, len < width ? len : width);
}

static void header(struct builder *b, uint8_t *h, const char *sig,
		   uint32_t len, uint8_t rev)
{
	memcpy(h, sig, 4);
	acpi_le_store(h + 4, len, 4);
	h[8] = rev;
	h[9] = 0;		/* Checksum: ADD_CHECKSUM fills it in */
	put_id(h + 10, b->cfg->oem_id ? b->cfg->oem_id : "MINVMM", 6);
	put_id(h + 16, b->cfg->oem_table_id ? b->cfg->oem_table_id : "MINIVMM", 8);
	acpi_le_store(h + 24, OEM_REVISION, 4);
	memcpy(h + 28, CREATOR_ID, 4);
	acpi_le_store(h + 32, CREATOR_REVISION, 4);
}

/* Append a finished table (header included) to etc/acpi/tables and have
 * the loader checksum it: returns its offset. */
static uint32_t add_table(struct builder *b, uint8_t *t, uint32_t len)
{
	uint32_t off = (uint32_t)b->out->tables.len;

	put(b, &b->out->tables, t, len);
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_TABLES,
					   off + 9, off, len));
	return off;
}

/* A pointer field at table offset field_off (already holding the target's
 * offset in etc/acpi/tables): relocate it. */
static void add_pointer(struct builder *b, const char *file, uint32_t field_off,
			uint8_t size)
{
	script(b, acpi_loader_add_pointer(&b->out->loader, file, field_off, size,
					  ACPI_FILE_TABLES));
}

/* §5.2.10: FACS. No checksum; the OS and firmware own its fields. */
static uint32_t build_facs(struct builder *b)
{
	uint8_t f[FACS_SIZE] = { 0 };
	uint32_t off = (uint32_t)b->out->tables.len;

	memcpy(f, "FACS", 4);
	acpi_le_store(f + 4, FACS_SIZE, 4);
	f[32] = FACS_VERSION;
	put(b, &b->out->tables, f, sizeof(f));
	return off;
}

static uint32_t build_dsdt(struct builder *b)
{
	struct aml *body = acpi_dsdt_aml(b->cfg);
	uint8_t *t = NULL;
	uint32_t off = 0;
	size_t len;
	int ret;

	ret = aml_error(body);
	if (ret)
		goto out;
	len = HEADER_SIZE + aml_len(body);
	if (len > UINT32_MAX) {
		ret = -E2BIG;
		goto out;
	}
	/* Build in place at the end of the tables blob. */
	put(b, &b->out->tables, NULL, len);
	if (b->err)
		goto out;
	off = (uint32_t)(b->out->tables.len - len);
	t = b->out->tables.data + off;
	header(b, t, "DSDT", (uint32_t)len, DSDT_REVISION);
	memcpy(t + HEADER_SIZE, aml_data(body), aml_len(body));
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_TABLES,
					   off + 9, off, (uint32_t)len));
out:
	if (ret && !b->err)
		b->err = ret;
	aml_free(body);
	return off;
}

/* §5.2.3.2 Generic Address Structure: System I/O, byte-granular. */
static void gas_io(uint8_t *g, uint16_t port, unsigned int bytes)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = (uint8_t)(8 * bytes);	/* Register Bit Width */
	g[2] = 0;			/* Register Bit Offset */
	g[3] = 0;			/* Access Size: undefined, as QEMU */
	acpi_le_store(g + 4, port, 8);
}

/*
 * §5.2.9 FADT, revision 6 (ACPI 6.0) by default. Not hardware-reduced:
 * the fixed registers are the ICH9 PM block's. SMI_CMD, ACPI_ENABLE and
 * ACPI_DISABLE are 0 by default: "reserved and must be zero on system
 * that does not support System Management mode", so the OS takes the
 * machine as already in ACPI mode and PM1_CNT.SCI_EN must be set before
 * it runs (QEMU, too, emits 0 when it has no SMM). Both DSDT and X_DSDT
 * point at the DSDT, as
 * QEMU's do and ACPI 6.0 allows; FIRMWARE_CTRL (32-bit) alone points at
 * the FACS. OVMF rewrites those three fields anyway when it installs the
 * FACS and DSDT.
 */
static void build_fadt(struct builder *b, uint32_t facs, uint32_t dsdt)
{
	const struct acpi_config *cfg = b->cfg;
	uint8_t f[FADT_SIZE_REV6] = { 0 };
	uint32_t len, flags, off;
	uint16_t pm = cfg->pm_base;

	len = cfg->fadt_revision == 3 ? FADT_SIZE_REV3 : FADT_SIZE_REV6;
	header(b, f, "FACP", len, cfg->fadt_revision);
	acpi_le_store(f + FADT_FIRMWARE_CTRL, facs, 4);
	acpi_le_store(f + FADT_DSDT, dsdt, 4);
	/* 44: reserved (ACPI 1.0's INT_MODEL), 45: PM profile unspecified */
	acpi_le_store(f + 46, cfg->sci_gsi, 2);		/* SCI_INT */
	acpi_le_store(f + 48, cfg->smi_cmd, 4);		/* SMI_CMD */
	f[52] = cfg->acpi_enable;
	f[53] = cfg->acpi_disable;
	acpi_le_store(f + 56, pm + PM1_EVT_OFF, 4);	/* PM1a_EVT_BLK */
	acpi_le_store(f + 64, pm + PM1_CNT_OFF, 4);	/* PM1a_CNT_BLK */
	acpi_le_store(f + 76, pm + PM_TMR_OFF, 4);	/* PM_TMR_BLK */
	acpi_le_store(f + 80, pm + GPE0_OFF, 4);	/* GPE0_BLK */
	f[88] = PM1_EVT_LEN;
	f[89] = PM1_CNT_LEN;
	f[91] = PM_TMR_LEN;
	f[92] = GPE0_LEN;
	/* P_LVL2_LAT > 100 and P_LVL3_LAT > 1000: no C2, no C3. */
	acpi_le_store(f + 96, 0x0fff, 2);
	acpi_le_store(f + 98, 0x0fff, 2);
	f[108] = RTC_CENTURY;
	/*
	 * IAPC_BOOT_ARCH (§5.2.9.3) 0: no 8042 (so Linux does not probe
	 * ports 0x60/0x64), a VGA may be present (passed-through GPUs), MSI
	 * works, the CMOS RTC exists. QEMU sets no more than the 8042 bit.
	 */
	acpi_le_store(f + 109, 0, 2);
	/*
	 * Flags (Table 5.10), QEMU q35's minus RTC_S4 (no S4): WBINVD works,
	 * C1 on all CPUs, the power button is the fixed PM1 one (PWR_BUTTON
	 * 0) and there is no sleep button, 24-bit PM timer (TMR_VAL_EXT 0),
	 * reset register, and the PM timer rather than the TSC for
	 * timestamps. Past 8 CPUs flat logical APIC mode cannot address
	 * them all.
	 */
	flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP |
		FADT_USE_PLATFORM_CLOCK;
	if (cfg->nr_cpus > 8)
		flags |= FADT_FORCE_APIC_CLUSTER_MODEL;
	acpi_le_store(f + 112, flags, 4);
	gas_io(f + 116, LAYOUT_RESET_PORT, 1);		/* RESET_REG */
	f[128] = RESET_VALUE;
	/* 129 ARM_BOOT_ARCH 0, 131 FADT minor version 0 (ACPI x.0),
	 * 132 X_FIRMWARE_CTRL 0: FIRMWARE_CTRL is used. */
	acpi_le_store(f + FADT_X_DSDT, dsdt, 8);
	gas_io(f + 148, pm + PM1_EVT_OFF, PM1_EVT_LEN);	/* X_PM1a_EVT_BLK */
	gas_io(f + 172, pm + PM1_CNT_OFF, PM1_CNT_LEN);	/* X_PM1a_CNT_BLK */
	gas_io(f + 208, pm + PM_TMR_OFF, PM_TMR_LEN);	/* X_PM_TMR_BLK */
	gas_io(f + 220, pm + GPE0_OFF, GPE0_LEN);	/* X_GPE0_BLK */
	/* 244/256 SLEEP_CONTROL/STATUS_REG: only for hardware-reduced;
	 * 268 Hypervisor Vendor Identity: 0. */

	off = (uint32_t)b->out->tables.len;
	put(b, &b->out->tables, f, len);
	add_pointer(b, ACPI_FILE_TABLES, off + FADT_FIRMWARE_CTRL, 4);
	add_pointer(b, ACPI_FILE_TABLES, off + FADT_DSDT, 4);
	add_pointer(b, ACPI_FILE_TABLES, off + FADT_X_DSDT, 8);
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_TABLES,
					   off + 9, off, len));
}

static void madt_put(struct acpi_blob *m, int *err, const uint8_t *e, size_t len)
{
	if (!*err)
		*err = acpi_blob_put(m, e, len);
}

/*
 * §5.2.12 MADT: a Local APIC per vCPU (processor UID = APIC ID = index,
 * matching the DSDT's Cnnn._UID; x2APIC structures from APIC ID 255 on),
 * the in-kernel IOAPIC with GSIs 0-23, ISA IRQ 0 on GSI 2 (QEMU's
 * routing: the PIT drives IOAPIC pin 2, pin 0 being ExtINT on a PC), the
 * SCI level/active-high (it is not an edge ISA interrupt), and NMI on
 * every LAPIC's LINT1.
 *
 * IOAPIC ID 0: the in-kernel IOAPIC's ID register resets to 0 and no
 * firmware reprograms it; xAPIC and later keep IOAPIC and LAPIC IDs in
 * separate name spaces, so 0 clashes with nothing (QEMU does the same).
 */
static uint32_t build_madt(struct builder *b)
{
	unsigned int n = b->cfg->nr_cpus;
	struct acpi_blob m = { 0 };
	uint32_t off = 0;
	uint8_t e[44];
	int err = 0;

	madt_put(&m, &err, NULL, HEADER_SIZE + 8);
	if (!err) {
		acpi_le_store(m.data + HEADER_SIZE, MEM_LAPIC_BASE, 4);
		acpi_le_store(m.data + HEADER_SIZE + 4, MADT_PCAT_COMPAT, 4);
	}
	for (unsigned int i = 0; i < n; i++) {
		memset(e, 0, sizeof(e));
		if (i <= XAPIC_MAX_ID) {
			e[0] = MADT_LOCAL_APIC;
			e[1] = 8;
			e[2] = (uint8_t)i;		/* ACPI Processor UID */
			e[3] = (uint8_t)i;		/* APIC ID */
			acpi_le_store(e + 4, MADT_ENABLED, 4);
		} else {
			e[0] = MADT_LOCAL_X2APIC;
			e[1] = 16;
			acpi_le_store(e + 4, i, 4);	/* x2APIC ID */
			acpi_le_store(e + 8, MADT_ENABLED, 4);
			acpi_le_store(e + 12, i, 4);	/* ACPI Processor UID */
		}
		madt_put(&m, &err, e, e[1]);
	}
	memset(e, 0, sizeof(e));
	e[0] = MADT_IO_APIC;
	e[1] = 12;
	e[2] = IOAPIC_ID;
	acpi_le_store(e + 4, MEM_IOAPIC_BASE, 4);
	acpi_le_store(e + 8, 0, 4);			/* GSI base */
	/* Interrupt Source Overrides: bus 0 (ISA), source, GSI, flags. */
	e[12] = MADT_INT_OVERRIDE;
	e[13] = 10;
	acpi_le_store(e + 16, 2, 4);
	acpi_le_store(e + 20, 0, 2);			/* conforms to ISA */
	e[22] = MADT_INT_OVERRIDE;
	e[23] = 10;
	e[25] = (uint8_t)b->cfg->sci_gsi;
	acpi_le_store(e + 26, b->cfg->sci_gsi, 4);
	acpi_le_store(e + 30, MADT_LEVEL_ACTIVE_HIGH, 2);
	/* Local APIC NMI: all processors (0xFF), flags conform, LINT1. */
	e[32] = MADT_LOCAL_APIC_NMI;
	e[33] = 6;
	e[34] = 0xff;
	e[37] = 1;
	madt_put(&m, &err, e, 38);
	if (n > XAPIC_MAX_ID + 1) {
		memset(e, 0, sizeof(e));
		e[0] = MADT_LOCAL_X2APIC_NMI;
		e[1] = 12;
		acpi_le_store(e + 4, 0xffffffff, 4);	/* all processors */
		e[8] = 1;				/* LINT1 */
		madt_put(&m, &err, e, 12);
	}
	if (!err && m.len > UINT32_MAX)
		err = -E2BIG;
	if (!err) {
		header(b, m.data, "APIC", (uint32_t)m.len, MADT_REVISION);
		off = add_table(b, m.data, (uint32_t)m.len);
	} else if (!b->err) {
		b->err = err;
	}
	acpi_blob_free(&m);
	return off;
}

/* PCI Firmware Spec 3.2 §4.1.2 MCFG: one allocation for segment 0. */
static uint32_t build_mcfg(struct builder *b)
{
	uint8_t t[HEADER_SIZE + 8 + 16] = { 0 };

	header(b, t, "MCFG", sizeof(t), 1);
	acpi_le_store(t + 44, b->cfg->ecam_base, 8);	/* bus 0's address */
	acpi_le_store(t + 52, 0, 2);			/* PCI segment */
	t[54] = b->cfg->bus_start;
	t[55] = b->cfg->bus_end;
	return add_table(b, t, sizeof(t));
}

/*
 * Windows ACPI Emulated Devices Table: tells Windows it may read the PM
 * timer once (no need to re-read for a glitch-free value), which saves
 * it VM exits. RTC_GOOD stays clear: our RTC, like a real one, keeps its
 * IRQ asserted until register C is read.
 */
static uint32_t build_waet(struct builder *b)
{
	uint8_t t[HEADER_SIZE + 4] = { 0 };

	header(b, t, "WAET", sizeof(t), 1);
	acpi_le_store(t + HEADER_SIZE, WAET_PM_TIMER_GOOD, 4);
	return add_table(b, t, sizeof(t));
}

/*
 * TCG ACPI Specification 1.3 §8.3: the TPM2 table of a CRB TPM (Start
 * Method 7), client platform class. Address of the CRB control area:
 * the CTRL_REQ register in locality 0's page. No start-method parameters
 * (CRB needs none) and no log area: UEFI firmware hands the OS its event
 * log through EFI_TCG2_PROTOCOL, and Linux falls back to that when LAML
 * and LASA are 0.
 */
static uint32_t build_tpm2(struct builder *b)
{
	uint8_t t[TPM2_SIZE] = { 0 };

	header(b, t, "TPM2", sizeof(t), TPM2_REVISION);
	acpi_le_store(t + 36, 0, 2);				/* Platform Class: client */
	acpi_le_store(t + 40, LAYOUT_TPM_CRB_BASE + 0x40, 8);	/* CRB control area */
	acpi_le_store(t + 48, TPM2_START_CRB, 4);		/* Start Method */
	/* 52: 12 bytes of start-method parameters, 64: LAML, 68: LASA */
	return add_table(b, t, sizeof(t));
}

/* §5.2.7 RSDT (size 4) / §5.2.8 XSDT (size 8). */
static uint32_t build_sdt(struct builder *b, const char *sig, unsigned int size,
			  const uint32_t *entries, unsigned int n)
{
	uint8_t t[HEADER_SIZE + 8 * MAX_SDT_ENTRIES] = { 0 };
	uint32_t len = HEADER_SIZE + size * n;
	uint32_t off = (uint32_t)b->out->tables.len;

	header(b, t, sig, len, 1);
	for (unsigned int i = 0; i < n; i++)
		acpi_le_store(t + HEADER_SIZE + size * i, entries[i], size);
	put(b, &b->out->tables, t, len);
	for (unsigned int i = 0; i < n; i++)
		add_pointer(b, ACPI_FILE_TABLES, off + HEADER_SIZE + size * i,
			    (uint8_t)size);
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_TABLES,
					   off + 9, off, len));
	return off;
}

/*
 * §5.2.5.3 RSDP, revision 2: the checksum covers the first 20 bytes (the
 * ACPI 1.0 structure), the extended checksum all 36, so it comes second.
 */
static void build_rsdp(struct builder *b, uint32_t rsdt, uint32_t xsdt)
{
	uint8_t r[36] = { 0 };

	memcpy(r, "RSD PTR ", 8);
	put_id(r + 9, b->cfg->oem_id ? b->cfg->oem_id : "MINVMM", 6);
	r[15] = 2;
	acpi_le_store(r + 16, rsdt, 4);
	acpi_le_store(r + 20, sizeof(r), 4);
	acpi_le_store(r + 24, xsdt, 8);
	put(b, &b->out->rsdp, r, sizeof(r));
	/* The RSDP lives in the F segment for BIOSes that scan for it;
	 * 16-byte aligned (§5.2.5.1). */
	script(b, acpi_loader_allocate(&b->out->loader, ACPI_FILE_RSDP, 16,
				       ACPI_ZONE_FSEG));
	add_pointer(b, ACPI_FILE_RSDP, 16, 4);
	add_pointer(b, ACPI_FILE_RSDP, 24, 8);
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_RSDP, 8, 0, 20));
	script(b, acpi_loader_add_checksum(&b->out->loader, ACPI_FILE_RSDP, 32, 0, 36));
}

int acpi_build(const struct acpi_config *cfg, struct acpi_blobs *out)
{
	struct builder b = { .cfg = cfg, .out = out };
	uint32_t facs, dsdt, sdt[MAX_SDT_ENTRIES], rsdt, xsdt;
	unsigned int n = 4;

	*out = (struct acpi_blobs){ 0 };
	b.err = acpi_config_check(cfg);
	if (b.err)
		return b.err;
	/* FACS first: the blob's 64-byte alignment is the FACS's (§5.2.10). */
	script(&b, acpi_loader_allocate(&out->loader, ACPI_FILE_TABLES, 64,
					ACPI_ZONE_HIGH));
	facs = build_facs(&b);
	dsdt = build_dsdt(&b);
	sdt[0] = (uint32_t)out->tables.len;
	build_fadt(&b, facs, dsdt);
	sdt[1] = build_madt(&b);
	sdt[2] = build_mcfg(&b);
	sdt[3] = build_waet(&b);
	if (cfg->tpm_crb)
		sdt[n++] = build_tpm2(&b);
	rsdt = build_sdt(&b, "RSDT", 4, sdt, n);
	xsdt = build_sdt(&b, "XSDT", 8, sdt, n);
	build_rsdp(&b, rsdt, xsdt);
	if (!b.err && out->tables.len > UINT32_MAX)
		b.err = -E2BIG;
	if (b.err)
		acpi_blobs_free(out);
	return b.err;
}

void acpi_blobs_free(struct acpi_blobs *blobs)
{
	acpi_blob_free(&blobs->tables);
	acpi_blob_free(&blobs->rsdp);
	acpi_blob_free(&blobs->loader);
}

void acpi_ovmf_pci64_window(uint64_t ram_high_size, uint64_t *base, uint64_t *size)
{
	const uint64_t aperture = 32 * GiB;	/* OvmfPkgX64.dsc PcdPciMmio64Size */
	uint64_t end = MEM_4G + ram_high_size;

	/* MemDetect.c: align the end of RAM to 1 GiB, then naturally to the
	 * aperture's size (rounded down to a power of two, 32 GiB here). */
	end = (end + GiB - 1) & ~(GiB - 1);
	*base = (end + aperture - 1) & ~(aperture - 1);
	*size = aperture;
}

void acpi_pci64_window_cover(uint64_t *base, uint64_t *size, uint64_t lo, uint64_t hi)
{
	uint64_t start = *base, end = *base + *size - 1;

	if (lo > hi)
		return;
	if (!*size) {
		start = lo;
		end = hi;
	}
	if (lo < start)
		start = lo;
	if (hi > end)
		end = hi;
	*base = start;
	*size = end - start + 1;
}
