// SPDX-License-Identifier: MIT
/*
 * The DSDT (ACPI 6.4 §5.2.11.1): the namespace of the q35-like machine,
 * modelled on what QEMU's hw/i386/acpi-build.c emits for -machine q35
 * without hotplug, HPET or link devices:
 *
 *   \_SB.PCI0          PCIe host bridge: _HID/_CID, _OSC, _CRS, _PRT
 *   \_SB.PCI0.ISA      the ICH9 LPC bridge (00:1f.0): RTC, COM1
 *   \_SB.PCI0.PMIO     reserves the ICH9 PM I/O block
 *   \_SB.PCI0.*        whatever the acpi_dsdt_hooks add
 *   \_SB.DRAC          reserves the ECAM (PNP0C01)
 *   \_SB.TPM           the TPM 2.0 CRB (MSFT0101), with a TPM
 *   \_SB.Cnnn          one ACPI0007 processor device per vCPU
 *   \_S5               soft-off
 *
 * There is no \_S3/\_S4: the PM block emulates only S5.
 */
#include <errno.h>
#include <stdio.h>

#include "firmware/acpi.h"
#include "firmware/acpi_internal.h"
#include "firmware/aml.h"
#include "lib/layout.h"

#define PCI_SLOTS		32
#define PCI_PINS		4
#define LPC_ADR			0x001f0000	/* device 31, function 0 */

/* PCI Firmware Specification 3.2 §4.5.1: the _OSC UUID for PCI host
 * bridges, and the Control field bits we grant: native PCIe hotplug
 * (0), SHPC hotplug (1), PME (2), AER (3), PCIe capability structure (4),
 * as QEMU's q35 grants them when it does no ACPI hotplug itself. */
#define PCI_OSC_UUID		"33DB4D5B-1FF7-401C-9657-7441C03DD766"
#define PCI_OSC_CONTROL		0x1f
/* _OSC status bits in Capabilities DWORD 1 (ACPI 6.4 §6.2.11). */
#define OSC_UNRECOGNIZED_UUID	0x04
#define OSC_UNRECOGNIZED_REV	0x08
#define OSC_CAPS_MASKED		0x10

int acpi_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	unsigned int pirq;

	if (slot >= PCI_SLOTS || pin >= PCI_PINS)
		return -EINVAL;
	/*
	 * QEMU's ICH9 model (ich9_lpc.c) routes INTx through its D<slot>IR
	 * registers: slots 25-29 and 31 keep the chip's reset value
	 * (INTA-D → PIRQA-D); slot 30 (the DMI-PCI bridge) gets PIRQE-H;
	 * every other slot the swizzle (slot + pin) % 4 over PIRQE-H, so
	 * that plugged-in devices avoid PIRQA-D, which the chipset's own
	 * functions use. In APIC mode PIRQ A-H drive IOAPIC pins 16-23.
	 */
	if (slot >= 25 && slot != 30)
		pirq = pin;
	else if (slot == 30)
		pirq = 4 + pin;
	else
		pirq = 4 + (slot + pin) % 4;
	return LAYOUT_PIRQ_GSI_BASE + (int)pirq;
}

/*
 * §6.2.13 _PRT: Package { Address (slot << 16 | 0xFFFF), Pin, Source,
 * SourceIndex }; Source 0 makes SourceIndex a GSI, so no PCI link
 * devices (PNP0C0F) are needed. That table only describes APIC mode,
 * the only mode the guests we care about run in (the MADT says so).
 */
static struct aml *build_prt(void)
{
	struct aml *prt = aml_package(), *entry;

	for (unsigned int slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < PCI_PINS; pin++) {
			entry = aml_package();
			aml_append(entry, aml_int(slot << 16 | 0xffff));
			aml_append(entry, aml_int(pin));
			aml_append(entry, aml_int(0));
			aml_append(entry, aml_int((uint64_t)acpi_pci_intx_gsi(slot, pin)));
			aml_append(prt, entry);
		}
	}
	return aml_name_decl("_PRT", prt);
}

/*
 * The host bridge's _OSC (ACPI 6.4 §6.2.11, PCI Firmware Spec §4.5):
 * grant whatever of PCI_OSC_CONTROL the OS asks for and report what was
 * masked: QEMU's q35 method, less its unused CDW2 field (iasl remarks
 * on it). DWORD 2, the OS's support field, needs no answer.
 */
static struct aml *build_osc(void)
{
	struct aml *m = aml_method("_OSC", 4, true), *i, *j, *e;

	aml_append(m, aml_create_dword_field(aml_arg(3), aml_int(0), "CDW1"));
	i = aml_if(aml_equal(aml_arg(0), aml_touuid(PCI_OSC_UUID)));
	aml_append(i, aml_create_dword_field(aml_arg(3), aml_int(8), "CDW3"));
	aml_append(i, aml_store(aml_name("CDW3"), aml_local(0)));
	aml_append(i, aml_and(aml_local(0), aml_int(PCI_OSC_CONTROL), aml_local(0)));
	j = aml_if(aml_lnot(aml_equal(aml_arg(1), aml_int(1))));
	aml_append(j, aml_or(aml_name("CDW1"), aml_int(OSC_UNRECOGNIZED_REV),
			     aml_name("CDW1")));
	aml_append(i, j);
	j = aml_if(aml_lnot(aml_equal(aml_name("CDW3"), aml_local(0))));
	aml_append(j, aml_or(aml_name("CDW1"), aml_int(OSC_CAPS_MASKED),
			     aml_name("CDW1")));
	aml_append(i, j);
	aml_append(i, aml_store(aml_local(0), aml_name("CDW3")));
	aml_append(m, i);
	e = aml_else();
	aml_append(e, aml_or(aml_name("CDW1"), aml_int(OSC_UNRECOGNIZED_UUID),
			     aml_name("CDW1")));
	aml_append(m, e);
	aml_append(m, aml_return(aml_arg(3)));
	return m;
}

/*
 * PCI0._CRS: what the root bridge decodes (§6.2.2, PCI Firmware Spec
 * §4.1.1): its bus range, the config ports it consumes, all I/O ports
 * but those, the legacy VGA window, and the two MMIO windows. The 32-bit
 * window loses the ECAM, which the bridge does not forward.
 */
static struct aml *build_pci0_crs(const struct acpi_config *cfg)
{
	struct aml *crs = aml_resource_template();
	uint64_t lo, hi, s = cfg->pci32_start, e = cfg->pci32_end;

	aml_append(crs, aml_word_bus_number(cfg->bus_start, cfg->bus_end));
	aml_append(crs, aml_io(true, 0x0cf8, 0x0cf8, 1, 8));
	aml_append(crs, aml_word_io(0x0000, 0x0cf7));
	aml_append(crs, aml_word_io(0x0d00, 0xffff));
	aml_append(crs, aml_dword_memory(AML_CACHEABLE, 0xa0000, 0xbffff));

	acpi_ecam_range(cfg, &lo, &hi);
	if (s < e && (hi <= s || lo >= e)) {
		aml_append(crs, aml_dword_memory(AML_NON_CACHEABLE, (uint32_t)s,
						 (uint32_t)(e - 1)));
	} else if (s < e) {
		if (s < lo)
			aml_append(crs, aml_dword_memory(AML_NON_CACHEABLE,
							 (uint32_t)s, (uint32_t)(lo - 1)));
		if (hi < e)
			aml_append(crs, aml_dword_memory(AML_NON_CACHEABLE,
							 (uint32_t)hi, (uint32_t)(e - 1)));
	}
	if (cfg->pci64_size)
		aml_append(crs, aml_qword_memory(AML_CACHEABLE, cfg->pci64_base,
						 cfg->pci64_base + cfg->pci64_size - 1));
	return aml_name_decl("_CRS", crs);
}

/* A device whose _CRS is a fixed I/O range plus an optional ISA IRQ. */
static struct aml *isa_device(const char *name, const char *hid, int uid,
			      uint16_t port, uint8_t len, int irq)
{
	struct aml *dev = aml_device(name), *crs = aml_resource_template();

	aml_append(dev, aml_name_decl("_HID", aml_eisaid(hid)));
	if (uid >= 0)
		aml_append(dev, aml_name_decl("_UID", aml_int((uint64_t)uid)));
	aml_append(crs, aml_io(true, port, port, 1, len));
	if (irq >= 0)
		aml_append(crs, aml_irq_no_flags((unsigned int)irq));
	aml_append(dev, aml_name_decl("_CRS", crs));
	return dev;
}

/* The ICH9 LPC bridge and the ISA devices behind it (§6.1.1 _ADR). */
static struct aml *build_lpc(const struct acpi_config *cfg)
{
	struct aml *isa = aml_device("ISA");

	aml_append(isa, aml_name_decl("_ADR", aml_int(LPC_ADR)));
	/* The RTC decodes only its index/data pair here (0x70-0x71). */
	aml_append(isa, isa_device("RTC", "PNP0B00", -1, LAYOUT_RTC_PORT, 2, LAYOUT_RTC_GSI));
	if (cfg->serial)
		aml_append(isa, isa_device("COM1", "PNP0501", 1, LAYOUT_COM1_PORT, LAYOUT_COM1_LEN,
					   LAYOUT_COM1_GSI));
	return isa;
}

/*
 * Claim the whole PM block (PMBASE decodes 128 bytes) the way QEMU claims
 * its GPE0 block: a PNP0A06 device, present but hidden (_STA 0xB), so no
 * OS hands those ports to a PCI device.
 */
static struct aml *build_pm_reservation(const struct acpi_config *cfg)
{
	struct aml *dev = aml_device("PMIO"), *crs = aml_resource_template();

	aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0A06")));
	aml_append(dev, aml_name_decl("_UID", aml_string("PM resources")));
	aml_append(dev, aml_name_decl("_STA", aml_int(0x0b)));
	aml_append(crs, aml_io(true, cfg->pm_base, cfg->pm_base, 1, LAYOUT_PM_LEN));
	aml_append(dev, aml_name_decl("_CRS", crs));
	return dev;
}

static struct aml *build_pci0(const struct acpi_config *cfg)
{
	struct aml *pci0 = aml_device("PCI0");
	int ret;

	/* No _ADR: §6.1 "a device object must contain either an _HID
	 * object or an _ADR object, but should not contain both" (QEMU's
	 * has both; iasl warns). A host bridge is found by _HID/_BBN. */
	aml_append(pci0, aml_name_decl("_HID", aml_eisaid("PNP0A08")));
	aml_append(pci0, aml_name_decl("_CID", aml_eisaid("PNP0A03")));
	aml_append(pci0, aml_name_decl("_UID", aml_int(0)));
	aml_append(pci0, aml_name_decl("_SEG", aml_int(0)));
	aml_append(pci0, aml_name_decl("_BBN", aml_int(cfg->bus_start)));
	aml_append(pci0, build_osc());
	aml_append(pci0, build_pci0_crs(cfg));
	aml_append(pci0, build_prt());
	aml_append(pci0, build_lpc(cfg));
	aml_append(pci0, build_pm_reservation(cfg));
	for (unsigned int i = 0; pci0 && i < cfg->nr_pci0_hooks; i++) {
		ret = cfg->pci0_hooks[i].build(pci0, cfg->pci0_hooks[i].opaque);
		if (ret)
			aml_append(pci0, aml_error_node(ret));
	}
	return pci0;
}

/*
 * The ECAM is no RAM and no PCI window: a motherboard resource (PNP0C01),
 * which is also where Linux looks to trust the MCFG ("MMCONFIG ...
 * reserved as ACPI motherboard resource").
 */
static struct aml *build_ecam_reservation(const struct acpi_config *cfg)
{
	struct aml *dev = aml_device("DRAC"), *crs = aml_resource_template();
	uint64_t lo, hi;

	acpi_ecam_range(cfg, &lo, &hi);
	aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0C01")));
	aml_append(crs, aml_memory32_fixed((uint32_t)lo, (uint32_t)(hi - lo), true));
	aml_append(dev, aml_name_decl("_CRS", crs));
	return dev;
}

/*
 * The TPM (TCG PC Client PTP §5.4.1; TCG ACPI Specification 1.3 §8.2):
 * _HID MSFT0101, the ID Windows' tpm.sys and Linux's tpm_crb bind to, and
 * the five locality pages. No _STR (it must be a Unicode buffer) and no
 * physical-presence _DSM: minivmm has no PPI (docs/tpm.md).
 */
static struct aml *build_tpm(void)
{
	struct aml *dev = aml_device("TPM"), *crs = aml_resource_template();

	aml_append(dev, aml_name_decl("_HID", aml_string("MSFT0101")));
	aml_append(dev, aml_name_decl("_UID", aml_int(1)));
	aml_append(dev, aml_name_decl("_STA", aml_int(0x0f)));
	aml_append(crs, aml_memory32_fixed((uint32_t)LAYOUT_TPM_CRB_BASE,
					   (uint32_t)LAYOUT_TPM_CRB_SIZE, true));
	aml_append(dev, aml_name_decl("_CRS", crs));
	return dev;
}

/*
 * §8.4 Declaring Processors: Processor () is deprecated since ACPI 6.0;
 * an ACPI0007 device's _UID matches the MADT's ACPI Processor UID.
 */
static struct aml *build_cpu(unsigned int i)
{
	char name[8];
	struct aml *dev;

	snprintf(name, sizeof(name), "C%03X", i & 0xfff);
	dev = aml_device(name);
	aml_append(dev, aml_name_decl("_HID", aml_string("ACPI0007")));
	aml_append(dev, aml_name_decl("_UID", aml_int(i)));
	return dev;
}

/*
 * §7.4.2 \_Sx: Package { PM1a_CNT.SLP_TYP, PM1b_CNT.SLP_TYP, reserved,
 * reserved }. devices/legacy/acpi_pm.c powers off on SLP_TYP 0 and 7;
 * 0 is what QEMU's q35 DSDT says and what OVMF's own ResetShutdown()
 * writes, so guests see one encoding whichever way they shut down.
 */
static struct aml *build_s5(void)
{
	struct aml *pkg = aml_package();

	aml_append(pkg, aml_int(ACPI_S5_SLP_TYP));
	aml_append(pkg, aml_int(ACPI_S5_SLP_TYP));
	aml_append(pkg, aml_int(0));
	aml_append(pkg, aml_int(0));
	return aml_name_decl("\\_S5", pkg);
}

struct aml *acpi_dsdt_aml(const struct acpi_config *cfg)
{
	struct aml *root = aml_new(), *sb;
	int ret;

	if (!root)
		return NULL;
	ret = acpi_config_check(cfg);
	if (ret) {
		aml_append(root, aml_error_node(ret));
		return root;
	}
	sb = aml_scope("\\_SB");
	aml_append(sb, build_pci0(cfg));
	aml_append(sb, build_ecam_reservation(cfg));
	if (cfg->tpm_crb)
		aml_append(sb, build_tpm());
	for (unsigned int i = 0; i < cfg->nr_cpus; i++)
		aml_append(sb, build_cpu(i));
	aml_append(root, sb);
	aml_append(root, build_s5());
	return root;
}
