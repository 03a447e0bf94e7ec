// SPDX-License-Identifier: MIT
/*
 * ACPI tables and the table-loader script, checked the way OVMF's
 * AcpiPlatformDxe (OvmfPkg/AcpiPlatformDxe/QemuFwCfgAcpi.c) consumes
 * them (tests/unit/acpi_ovmf.h): run the script (allocate, relocate
 * pointers, checksum), then "install" every table an ADD_POINTER points
 * at and look at the result. test_acpi_iasl.c has iasl check them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "firmware/acpi.h"
#include "firmware/aml.h"
#include "lib/memory.h"
#include "tests/unit/acpi_ovmf.h"

/* --- the loader script's format ----------------------------------------------- */

static void test_loader_commands(void **state)
{
	struct acpi_blob s = { 0 };
	char long_name[ACPI_LOADER_FNAME_SIZE + 1];
	const uint8_t *c;

	assert_int_equal(acpi_loader_allocate(&s, "etc/acpi/tables", 64, ACPI_ZONE_HIGH), 0);
	assert_int_equal(acpi_loader_add_pointer(&s, "a", 0x12345678, 4, "bb"), 0);
	assert_int_equal(acpi_loader_add_checksum(&s, "etc/acpi/rsdp", 8, 0, 20), 0);
	assert_int_equal(acpi_loader_write_pointer(&s, "etc/vmgenid_addr", 0, 8,
						   "etc/vmgenid_guid", 40), 0);
	assert_int_equal(s.len, 4 * ACPI_LOADER_CMD_SIZE);

	c = s.data;
	assert_int_equal(le(c, 4), ACPI_LOADER_ALLOCATE);
	assert_string_equal(cmd_name(c + 4), "etc/acpi/tables");
	assert_int_equal(le(c + 60, 4), 64);
	assert_int_equal(c[64], ACPI_ZONE_HIGH);
	check_padding(c, 65);

	c += ACPI_LOADER_CMD_SIZE;
	assert_int_equal(le(c, 4), ACPI_LOADER_ADD_POINTER);
	assert_string_equal(cmd_name(c + 4), "a");		/* pointer file */
	assert_string_equal(cmd_name(c + 60), "bb");		/* pointee file */
	assert_int_equal(le(c + 116, 4), 0x12345678);
	assert_int_equal(c[120], 4);
	check_padding(c, 121);

	c += ACPI_LOADER_CMD_SIZE;
	assert_int_equal(le(c, 4), ACPI_LOADER_ADD_CHECKSUM);
	assert_string_equal(cmd_name(c + 4), "etc/acpi/rsdp");
	assert_int_equal(le(c + 60, 4), 8);
	assert_int_equal(le(c + 64, 4), 0);
	assert_int_equal(le(c + 68, 4), 20);
	check_padding(c, 72);

	c += ACPI_LOADER_CMD_SIZE;
	assert_int_equal(le(c, 4), ACPI_LOADER_WRITE_POINTER);
	assert_string_equal(cmd_name(c + 4), "etc/vmgenid_addr");
	assert_string_equal(cmd_name(c + 60), "etc/vmgenid_guid");
	assert_int_equal(le(c + 116, 4), 0);
	assert_int_equal(le(c + 120, 4), 40);
	assert_int_equal(c[124], 8);
	check_padding(c, 125);

	/* 55 characters fit (the 56th byte is the NUL), 56 do not. */
	memset(long_name, 'x', sizeof(long_name));
	long_name[ACPI_LOADER_FNAME_SIZE - 1] = '\0';
	assert_int_equal(acpi_loader_allocate(&s, long_name, 1, ACPI_ZONE_FSEG), 0);
	long_name[ACPI_LOADER_FNAME_SIZE - 1] = 'x';
	long_name[ACPI_LOADER_FNAME_SIZE] = '\0';
	assert_int_equal(acpi_loader_allocate(&s, long_name, 1, ACPI_ZONE_FSEG), -ENAMETOOLONG);
	assert_int_equal(acpi_loader_add_pointer(&s, "a", 0, 8, long_name), -ENAMETOOLONG);
	assert_int_equal(acpi_loader_allocate(&s, "", 1, ACPI_ZONE_FSEG), -EINVAL);
	assert_int_equal(acpi_loader_allocate(&s, "f", 0, ACPI_ZONE_HIGH), -EINVAL);
	assert_int_equal(acpi_loader_allocate(&s, "f", 48, ACPI_ZONE_HIGH), -EINVAL);
	assert_int_equal(acpi_loader_allocate(&s, "f", 8192, ACPI_ZONE_HIGH), -EINVAL);
	assert_int_equal(acpi_loader_allocate(&s, "f", 16, 3), -EINVAL);
	assert_int_equal(acpi_loader_add_pointer(&s, "a", 0, 3, "b"), -EINVAL);
	assert_int_equal(acpi_loader_write_pointer(&s, "a", 0, 16, "b", 0), -EINVAL);
	assert_int_equal(acpi_loader_add_checksum(&s, "f", 20, 0, 20), -EINVAL);
	assert_int_equal(acpi_loader_add_checksum(&s, "f", 3, 4, 20), -EINVAL);
	assert_int_equal(s.len, 5 * ACPI_LOADER_CMD_SIZE);
	free(s.data);
}

/* --- what OVMF installs ------------------------------------------------------- */

static void test_install(void **state)
{
	static const char *const expect[] = {
		"FACS", "DSDT", "FACP", "APIC", "MCFG", "WAET",
	};
	static const char *const sdt_order[] = { "FACP", "APIC", "MCFG", "WAET" };
	const struct table *facs, *dsdt, *fadt, *t;
	struct blob *tables, *rsdp;
	struct acpi_config cfg;
	struct acpi_blobs b;
	size_t off, rsdt_off, xsdt_off;
	struct ovmf o;

	q35_config(&cfg, 4);
	b = build_ok(&cfg);
	ovmf_load(&o, &b);

	/* The script allocates exactly the two blobs; the tables go below
	 * 4 GiB (32-bit pointers point into them), the RSDP to the F
	 * segment. */
	assert_int_equal(o.nr_blobs, 2);
	tables = find_blob(&o, ACPI_FILE_TABLES);
	rsdp = find_blob(&o, ACPI_FILE_RSDP);
	assert_non_null(tables);
	assert_non_null(rsdp);
	assert_int_equal(tables->gpa, TABLES_GPA);
	assert_int_equal(rsdp->gpa, FSEG_GPA);

	/* Everything but the RSDT and XSDT is installed, each once. */
	assert_int_equal(o.nr_tables, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		assert_non_null(installed(&o, expect[i]));

	/* Every table in the blob now sums to 0, and the blob is nothing
	 * but tables (FACS first, 64-byte aligned: §5.2.10). */
	facs = installed(&o, "FACS");
	assert_int_equal(facs->off, 0);
	assert_int_equal(facs->len, 64);
	assert_int_equal(tdata(facs)[32], 2);			/* Version */
	rsdt_off = xsdt_off = 0;
	for (off = 64; off < tables->size; off += le(tables->data + off + 4, 4)) {
		const uint8_t *h = tables->data + off;

		assert_true(le(h + 4, 4) >= 36 && off + le(h + 4, 4) <= tables->size);
		assert_int_equal(sum8(h, le(h + 4, 4)), 0);
		assert_memory_equal(h + 10, "MINVMM", 6);
		assert_memory_equal(h + 16, "MINIVMM ", 8);
		if (!memcmp(h, "RSDT", 4))
			rsdt_off = off;
		if (!memcmp(h, "XSDT", 4))
			xsdt_off = off;
	}
	assert_int_equal(off, tables->size);
	assert_true(rsdt_off && xsdt_off);

	/* RSDP: both checksums, revision 2, and the two pointers. */
	assert_memory_equal(rsdp->data, "RSD PTR ", 8);
	assert_int_equal(sum8(rsdp->data, 20), 0);
	assert_int_equal(sum8(rsdp->data, 36), 0);
	assert_int_equal(rsdp->data[15], 2);
	assert_int_equal(le(rsdp->data + 20, 4), 36);
	assert_int_equal(le(rsdp->data + 16, 4), tables->gpa + rsdt_off);
	assert_int_equal(le(rsdp->data + 24, 8), tables->gpa + xsdt_off);

	/* RSDT and XSDT list FADT, MADT, MCFG, WAET, in that order. */
	for (unsigned int i = 0; i < 4; i++) {
		t = installed(&o, sdt_order[i]);
		assert_int_equal(le(tables->data + rsdt_off + 36 + 4 * i, 4), tgpa(t));
		assert_int_equal(le(tables->data + xsdt_off + 36 + 8 * i, 8), tgpa(t));
	}
	assert_int_equal(le(tables->data + rsdt_off + 4, 4), 36 + 4 * 4);
	assert_int_equal(le(tables->data + xsdt_off + 4, 4), 36 + 8 * 4);

	/* FADT → FACS (32-bit only) and DSDT (both fields). */
	fadt = installed(&o, "FACP");
	dsdt = installed(&o, "DSDT");
	assert_int_equal(le(tdata(fadt) + 36, 4), tgpa(facs));
	assert_int_equal(tgpa(facs) % 64, 0);
	assert_int_equal(le(tdata(fadt) + 132, 8), 0);		/* X_FIRMWARE_CTRL */
	assert_int_equal(le(tdata(fadt) + 40, 4), tgpa(dsdt));
	assert_int_equal(le(tdata(fadt) + 140, 8), tgpa(dsdt));
	assert_int_equal(tdata(dsdt)[8], 2);			/* 64-bit integers */

	ovmf_free(&o);
	acpi_blobs_free(&b);
	acpi_blobs_free(&b);					/* idempotent */
}

static uint64_t gas_addr(const uint8_t *g, uint8_t bits)
{
	assert_int_equal(g[0], 1);		/* SystemIO */
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	return le(g + 4, 8);
}

static void check_fadt(unsigned int cpus, uint8_t rev, uint32_t len)
{
	struct acpi_config cfg;
	struct acpi_blobs b;
	const uint8_t *f;
	struct ovmf o;
	uint32_t flags;

	q35_config(&cfg, cpus);
	cfg.fadt_revision = rev;
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	f = tdata(installed(&o, "FACP"));
	assert_int_equal(le(f + 4, 4), len);
	assert_int_equal(f[8], rev);
	assert_int_equal(le(f + 46, 2), 9);			/* SCI_INT */
	assert_int_equal(le(f + 48, 4), 0);			/* SMI_CMD: no SMM */
	assert_int_equal(f[52], 0);				/* ACPI_ENABLE */
	assert_int_equal(f[53], 0);				/* ACPI_DISABLE */
	assert_int_equal(le(f + 56, 4), 0x600);			/* PM1a_EVT_BLK */
	assert_int_equal(le(f + 60, 4), 0);			/* PM1b_EVT_BLK */
	assert_int_equal(le(f + 64, 4), 0x604);			/* PM1a_CNT_BLK */
	assert_int_equal(le(f + 72, 4), 0);			/* PM2_CNT_BLK */
	assert_int_equal(le(f + 76, 4), 0x608);			/* PM_TMR_BLK */
	assert_int_equal(le(f + 80, 4), 0x620);			/* GPE0_BLK */
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[90], 0);
	assert_int_equal(f[91], 4);
	assert_int_equal(f[92], 16);
	assert_int_equal(f[93], 0);
	assert_true(le(f + 96, 2) > 100 && le(f + 98, 2) > 1000);	/* no C2/C3 */
	assert_int_equal(f[108], 0x32);				/* CENTURY */
	assert_int_equal(le(f + 109, 2), 0);			/* no 8042 */
	flags = (uint32_t)le(f + 112, 4);
	assert_true(flags & (1u << 0));				/* WBINVD */
	assert_true(flags & (1u << 2));				/* PROC_C1 */
	assert_false(flags & (1u << 4));			/* fixed power button */
	assert_true(flags & (1u << 5));				/* no sleep button */
	assert_false(flags & (1u << 8));			/* 24-bit timer */
	assert_true(flags & (1u << 10));			/* RESET_REG_SUP */
	assert_false(flags & (1u << 20));			/* not HW-reduced */
	assert_int_equal(!!(flags & (1u << 18)), cpus > 8);	/* cluster model */
	assert_int_equal(gas_addr(f + 116, 8), 0xcf9);		/* RESET_REG */
	assert_int_equal(f[128], 0x06);
	assert_int_equal(gas_addr(f + 148, 32), 0x600);		/* X_PM1a_EVT_BLK */
	assert_int_equal(gas_addr(f + 172, 16), 0x604);		/* X_PM1a_CNT_BLK */
	assert_int_equal(gas_addr(f + 208, 32), 0x608);		/* X_PM_TMR_BLK */
	assert_int_equal(gas_addr(f + 220, 128), 0x620);	/* X_GPE0_BLK */
	for (unsigned int i = 0; i < 12; i++)			/* X_PM1b_EVT_BLK */
		assert_int_equal(f[160 + i], 0);
	ovmf_free(&o);
	acpi_blobs_free(&b);
}

static void test_fadt(void **state)
{
	check_fadt(1, 6, 276);
	check_fadt(9, 6, 276);
	check_fadt(4, 3, 244);
}

/* The APM alternative: the OS enables ACPI mode through port 0xB2. */
static void test_fadt_smi_cmd(void **state)
{
	struct acpi_config cfg;
	struct acpi_blobs b;
	const uint8_t *f;
	struct ovmf o;

	q35_config(&cfg, 1);
	cfg.smi_cmd = 0xb2;
	cfg.acpi_enable = 0x02;
	cfg.acpi_disable = 0x03;
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	f = tdata(installed(&o, "FACP"));
	assert_int_equal(le(f + 48, 4), 0xb2);
	assert_int_equal(f[52], 0x02);
	assert_int_equal(f[53], 0x03);
	ovmf_free(&o);
	acpi_blobs_free(&b);
}

/* Walk the MADT's structures; count them by type. */
static void madt_count(const uint8_t *m, unsigned int count[16])
{
	size_t len = le(m + 4, 4), off = 44;

	memset(count, 0, 16 * sizeof(count[0]));
	assert_int_equal(le(m + 36, 4), 0xfee00000);		/* LAPIC address */
	assert_int_equal(le(m + 40, 4), 1);			/* PCAT_COMPAT */
	while (off < len) {
		assert_true(m[off + 1] >= 2 && off + m[off + 1] <= len);
		if (m[off] < 16)
			count[m[off]]++;
		off += m[off + 1];
	}
	assert_int_equal(off, len);
}

static void check_madt(unsigned int cpus)
{
	unsigned int count[16], lapic = 0, x2apic = 0;
	struct acpi_config cfg;
	struct acpi_blobs b;
	const uint8_t *m;
	struct ovmf o;
	size_t off;

	q35_config(&cfg, cpus);
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	m = tdata(installed(&o, "APIC"));
	assert_int_equal(m[8], 3);
	madt_count(m, count);
	assert_int_equal(count[0] + count[9], cpus);		/* one per vCPU */
	assert_int_equal(count[0], cpus < 255 ? cpus : 255);
	assert_int_equal(count[1], 1);				/* IOAPIC */
	assert_int_equal(count[2], 2);				/* IRQ0, SCI */
	assert_int_equal(count[4], 1);				/* LAPIC NMI */
	assert_int_equal(count[10], cpus > 255);		/* x2APIC NMI */
	for (off = 44; off < le(m + 4, 4); off += m[off + 1]) {
		const uint8_t *e = m + off;

		switch (e[0]) {
		case 0:		/* UID = APIC ID = index, in order, enabled */
			assert_int_equal(e[2], lapic);
			assert_int_equal(e[3], lapic);
			assert_int_equal(le(e + 4, 4), 1);
			lapic++;
			break;
		case 9:
			assert_int_equal(le(e + 4, 4), 255 + x2apic);
			assert_int_equal(le(e + 8, 4), 1);
			assert_int_equal(le(e + 12, 4), 255 + x2apic);
			x2apic++;
			break;
		case 1:
			assert_int_equal(e[2], 0);		/* IOAPIC ID */
			assert_int_equal(le(e + 4, 4), 0xfec00000);
			assert_int_equal(le(e + 8, 4), 0);	/* GSI base */
			break;
		case 2:
			assert_int_equal(e[2], 0);		/* ISA */
			if (e[3] == 0) {
				assert_int_equal(le(e + 4, 4), 2);
				assert_int_equal(le(e + 8, 2), 0);
			} else {
				assert_int_equal(e[3], 9);
				assert_int_equal(le(e + 4, 4), 9);
				assert_int_equal(le(e + 8, 2), 0x0d);	/* level, high */
			}
			break;
		case 4:
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);		/* LINT1 */
			break;
		}
	}
	ovmf_free(&o);
	acpi_blobs_free(&b);
}

static void test_madt(void **state)
{
	check_madt(1);
	check_madt(4);
	check_madt(64);
	check_madt(255);
	check_madt(300);
	check_madt(ACPI_MAX_CPUS);
}

static void test_mcfg_waet(void **state)
{
	struct acpi_config cfg;
	struct acpi_blobs b;
	const uint8_t *t;
	struct ovmf o;

	q35_config(&cfg, 2);
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	t = tdata(installed(&o, "MCFG"));
	assert_int_equal(le(t + 4, 4), 60);
	assert_int_equal(le(t + 44, 8), 0xb0000000);
	assert_int_equal(le(t + 52, 2), 0);
	assert_int_equal(t[54], 0);
	assert_int_equal(t[55], 255);
	t = tdata(installed(&o, "WAET"));
	assert_int_equal(le(t + 4, 4), 40);
	assert_int_equal(le(t + 36, 4), 2);		/* PM timer good, RTC not */
	ovmf_free(&o);
	acpi_blobs_free(&b);
}

/* --- the DSDT --------------------------------------------------------------- */

/* Decode a PkgLength / an integer term at *p, advancing it. */
static size_t pkglength(const uint8_t **p)
{
	unsigned int follow = (*p)[0] >> 6;
	size_t v = follow ? (*p)[0] & 0x0f : (*p)[0] & 0x3f;

	for (unsigned int i = 0; i < follow; i++)
		v |= (size_t)(*p)[1 + i] << (4 + 8 * i);
	*p += 1 + follow;
	return v;
}

static uint64_t integer(const uint8_t **p)
{
	static const unsigned int size[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	uint8_t op = *(*p)++;
	uint64_t v;

	if (op == 0x00 || op == 0x01)
		return op;
	assert_true(op == 0x0a || op == 0x0b || op == 0x0c || op == 0x0e);
	v = le(*p, size[op]);
	*p += size[op];
	return v;
}

static const uint8_t *find(const struct aml *dsdt, const void *needle, size_t len)
{
	return memmem(aml_data(dsdt), aml_len(dsdt), needle, len);
}

static size_t count(const struct aml *dsdt, const void *needle, size_t len)
{
	const uint8_t *p = aml_data(dsdt), *end = p + aml_len(dsdt);
	size_t n = 0;

	while ((p = memmem(p, (size_t)(end - p), needle, len))) {
		n++;
		p += len;
	}
	return n;
}

/* QEMU q35's routing (hw/i386/acpi-build.c build_q35_routing_table(),
 * hw/isa/lpc_ich9.c): spot checks of the table its _PRT encodes. */
static void test_intx_gsi(void **state)
{
	assert_int_equal(acpi_pci_intx_gsi(0, 0), 20);		/* PIRQE */
	assert_int_equal(acpi_pci_intx_gsi(0, 3), 23);
	assert_int_equal(acpi_pci_intx_gsi(1, 0), 21);		/* swizzled */
	assert_int_equal(acpi_pci_intx_gsi(1, 3), 20);
	assert_int_equal(acpi_pci_intx_gsi(3, 1), 20);
	assert_int_equal(acpi_pci_intx_gsi(23, 2), 21);
	assert_int_equal(acpi_pci_intx_gsi(24, 1), 21);		/* PIRQE + pin */
	assert_int_equal(acpi_pci_intx_gsi(25, 0), 16);		/* PIRQA + pin */
	assert_int_equal(acpi_pci_intx_gsi(29, 3), 19);
	assert_int_equal(acpi_pci_intx_gsi(30, 0), 20);		/* DMI-PCI: E + pin */
	assert_int_equal(acpi_pci_intx_gsi(30, 2), 22);
	assert_int_equal(acpi_pci_intx_gsi(31, 1), 17);		/* LPC/SATA/SMBus */
	assert_int_equal(acpi_pci_intx_gsi(32, 0), -EINVAL);
	assert_int_equal(acpi_pci_intx_gsi(0, 4), -EINVAL);
}

/* The _PRT is 128 GSI-form entries agreeing with acpi_pci_intx_gsi(). */
static void test_dsdt_prt(void **state)
{
	static const uint8_t prt[] = { 0x08, '_', 'P', 'R', 'T', 0x12 };
	struct acpi_config cfg;
	const uint8_t *p, *end;
	struct aml *dsdt;

	q35_config(&cfg, 2);
	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), 0);
	p = find(dsdt, prt, sizeof(prt));
	assert_non_null(p);
	p += sizeof(prt);
	end = p;
	end += pkglength(&p);
	assert_int_equal(*p++, 128);				/* NumElements */
	for (unsigned int i = 0; i < 128; i++) {
		const uint8_t *e;

		assert_int_equal(*p++, 0x12);
		e = p;
		e += pkglength(&p);
		assert_int_equal(*p++, 4);
		assert_int_equal(integer(&p), (i / 4) << 16 | 0xffff);
		assert_int_equal(integer(&p), i % 4);
		assert_int_equal(integer(&p), 0);		/* GSI, no link */
		assert_int_equal(integer(&p), acpi_pci_intx_gsi(i / 4, i % 4));
		assert_ptr_equal(p, e);
	}
	assert_ptr_equal(p, end);
	aml_free(dsdt);
}

struct hook_state {
	int calls;
	int ret;
};

/* What a PCIe root port for a passed-through GPU would contribute. */
static int root_port_hook(struct aml *pci0, void *opaque)
{
	struct hook_state *hs = opaque;
	struct aml *dev = aml_device("RP00");

	hs->calls++;
	aml_append(dev, aml_name_decl("_ADR", aml_int(0x00010000)));
	aml_append(pci0, dev);
	return hs->ret;
}

/*
 * With a TPM (devices/tpm/crb.c says so through build_acpi): the TPM2
 * table (TCG ACPI Specification 1.3 §8.3: revision 4, 76 bytes, client,
 * the CRB control area at 0xFED40040, start method 7), in the RSDT and
 * XSDT; \_SB.TPM with _HID "MSFT0101" and the five locality pages in
 * its _CRS. Without one: neither.
 */
static void test_tpm2(void **state)
{
	/* Memory32Fixed (ReadWrite, 0xFED40000, 0x5000), §6.4.3.4 */
	static const uint8_t crs[] = {
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd4, 0xfe, 0x00, 0x50, 0x00, 0x00,
	};
	struct acpi_config cfg;
	struct acpi_blobs b;
	const struct table *rsdt;
	const uint8_t *t;
	struct aml *dsdt;
	struct ovmf o;

	q35_config(&cfg, 2);
	cfg.tpm_crb = true;
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	t = tdata(installed(&o, "TPM2"));
	assert_int_equal(le(t + 4, 4), 76);
	assert_int_equal(t[8], 4);				/* revision */
	assert_int_equal(le(t + 36, 2), 0);			/* client */
	assert_int_equal(le(t + 40, 8), 0xfed40040);		/* control area */
	assert_int_equal(le(t + 48, 4), 7);			/* CRB */
	for (unsigned int i = 52; i < 76; i++)
		assert_int_equal(t[i], 0);		/* parameters, LAML, LASA */
	rsdt = installed(&o, "RSDT");
	assert_null(rsdt);			/* OVMF builds its own RSDT */
	ovmf_free(&o);
	acpi_blobs_free(&b);

	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), 0);
	assert_non_null(find(dsdt, "\x08_HID\x0dMSFT0101", 14));
	assert_non_null(find(dsdt, crs, sizeof(crs)));
	aml_free(dsdt);

	cfg.tpm_crb = false;
	b = build_ok(&cfg);
	ovmf_load(&o, &b);
	assert_null(installed(&o, "TPM2"));
	ovmf_free(&o);
	acpi_blobs_free(&b);
	dsdt = acpi_dsdt_aml(&cfg);
	assert_null(find(dsdt, "MSFT0101", 8));
	aml_free(dsdt);
}

static void test_dsdt_content(void **state)
{
	static const uint8_t s5[] = {
		0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0
	};
	static const uint8_t rp00[] = {
		'R', 'P', '0', '0', 0x08, '_', 'A', 'D', 'R', 0x0c, 0, 0, 1, 0
	};
	struct hook_state hs = { 0 };
	struct acpi_dsdt_hook hook = { root_port_hook, &hs };
	struct acpi_config cfg;
	struct acpi_blobs b;
	struct aml *dsdt;

	q35_config(&cfg, 5);
	cfg.pci0_hooks = &hook;
	cfg.nr_pci0_hooks = 1;
	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), 0);
	assert_int_equal(hs.calls, 1);
	assert_non_null(find(dsdt, s5, sizeof(s5)));
	assert_non_null(find(dsdt, rp00, sizeof(rp00)));
	assert_int_equal(count(dsdt, "ACPI0007", 8), 5);
	assert_non_null(find(dsdt, "C004", 4));
	assert_non_null(find(dsdt, "COM1", 4));
	assert_non_null(find(dsdt, "\x08_HID\x0c\x41\xd0\x0a\x08", 10));	/* PNP0A08 */
	assert_null(find(dsdt, "_S3_", 4));
	aml_free(dsdt);

	cfg.serial = false;
	cfg.nr_pci0_hooks = 0;
	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), 0);
	assert_null(find(dsdt, "COM1", 4));
	assert_null(find(dsdt, "RP00", 4));
	aml_free(dsdt);

	/* A failing hook fails the build and leaves nothing behind. */
	cfg.nr_pci0_hooks = 1;
	hs.ret = -EIO;
	assert_int_equal(acpi_build(&cfg, &b), -EIO);
	assert_null(b.tables.data);
	assert_null(b.rsdp.data);
	assert_null(b.loader.data);
}

/* _CRS: the ECAM is carved out of the 32-bit window wherever it falls. */
static void test_dsdt_windows(void **state)
{
	/* DWordMemory NonCacheable ReadWrite: 87 17 00 00 0c 01, then
	 * granularity, min, max. */
	static const uint8_t below[] = {
		0x87, 0x17, 0, 0, 0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xaf
	};
	static const uint8_t above[] = {
		0x87, 0x17, 0, 0, 0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff, 0xbf, 0xfe
	};
	static const uint8_t qword[] = { 0x8a, 0x2b, 0, 0, 0x0c, 0x03 };
	struct acpi_config cfg;
	struct aml *dsdt;

	q35_config(&cfg, 1);
	dsdt = acpi_dsdt_aml(&cfg);
	assert_non_null(find(dsdt, below, sizeof(below)));
	assert_non_null(find(dsdt, above, sizeof(above)));
	assert_non_null(find(dsdt, qword, sizeof(qword)));
	aml_free(dsdt);

	/* RAM above 2.75 GiB: the window starts at the ECAM's end. */
	cfg.ram_low_end = 0xb0000000;
	cfg.pci32_start = 0xc0000000;
	cfg.pci64_size = 0;
	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), 0);
	assert_null(find(dsdt, below, sizeof(below)));
	assert_non_null(find(dsdt, above, sizeof(above)));
	assert_null(find(dsdt, qword, sizeof(qword)));
	aml_free(dsdt);
}

static void expect_einval(void (*change)(struct acpi_config *cfg))
{
	struct acpi_config cfg;
	struct acpi_blobs b;
	struct aml *dsdt;

	q35_config(&cfg, 4);
	change(&cfg);
	assert_int_equal(acpi_build(&cfg, &b), -EINVAL);
	assert_null(b.tables.data);
	dsdt = acpi_dsdt_aml(&cfg);
	assert_int_equal(aml_error(dsdt), -EINVAL);
	aml_free(dsdt);
}

static void no_cpus(struct acpi_config *c) { c->nr_cpus = 0; }
static void too_many_cpus(struct acpi_config *c) { c->nr_cpus = ACPI_MAX_CPUS + 1; }
static void pci32_over_ram(struct acpi_config *c) { c->pci32_start = c->ram_low_end - 4096; }
static void pci32_over_ioapic(struct acpi_config *c) { c->pci32_end = 0xfee00000; }
static void pci32_reversed(struct acpi_config *c) { c->pci32_end = c->pci32_start - 1; }
static void pci64_over_ram(struct acpi_config *c) { c->pci64_base = MEM_4G; }
static void pci64_wraps(struct acpi_config *c) { c->pci64_size = UINT64_MAX; }
static void ecam_unaligned(struct acpi_config *c) { c->ecam_base += 4096; }
static void ecam_over_ram(struct acpi_config *c) { c->ram_low_end = 0xc0000000; c->pci32_start = 0xc0000000; }
static void ecam_above_4g(struct acpi_config *c) { c->ecam_base = 0xfff00000; }
static void buses_reversed(struct acpi_config *c) { c->bus_start = 2; c->bus_end = 1; }
static void pm_unaligned(struct acpi_config *c) { c->pm_base = 0x640; }
static void pm_zero(struct acpi_config *c) { c->pm_base = 0; }
static void sci_cascade(struct acpi_config *c) { c->sci_gsi = 2; }
static void sci_pci(struct acpi_config *c) { c->sci_gsi = 20; }
static void smi_no_cmds(struct acpi_config *c) { c->smi_cmd = 0xb2; }
static void smi_same_cmds(struct acpi_config *c)
{
	c->smi_cmd = 0xb2;
	c->acpi_enable = c->acpi_disable = 2;
}
static void cmds_no_smi(struct acpi_config *c) { c->acpi_enable = 2; }
static void fadt_rev4(struct acpi_config *c) { c->fadt_revision = 4; }
static void fadt_rev5(struct acpi_config *c) { c->fadt_revision = 5; }
static void oem_long(struct acpi_config *c) { c->oem_id = "1234567"; }
static void table_id_long(struct acpi_config *c) { c->oem_table_id = "123456789"; }
static void hook_null(struct acpi_config *c) { c->nr_pci0_hooks = 1; }

static void test_config_errors(void **state)
{
	struct acpi_config cfg;
	struct acpi_blobs b;

	expect_einval(no_cpus);
	expect_einval(too_many_cpus);
	expect_einval(pci32_over_ram);
	expect_einval(pci32_over_ioapic);
	expect_einval(pci32_reversed);
	expect_einval(pci64_over_ram);
	expect_einval(pci64_wraps);
	expect_einval(ecam_unaligned);
	expect_einval(ecam_over_ram);
	expect_einval(ecam_above_4g);
	expect_einval(buses_reversed);
	expect_einval(pm_unaligned);
	expect_einval(pm_zero);
	expect_einval(sci_cascade);
	expect_einval(sci_pci);
	expect_einval(smi_no_cmds);
	expect_einval(smi_same_cmds);
	expect_einval(cmds_no_smi);
	expect_einval(fadt_rev4);
	expect_einval(fadt_rev5);
	expect_einval(oem_long);
	expect_einval(table_id_long);
	expect_einval(hook_null);

	/* The defaults alone (no windows at all) are a valid machine, and
	 * custom IDs land in every header. */
	acpi_config_init(&cfg);
	cfg.oem_id = "ABC";
	cfg.oem_table_id = "TABLE";
	b = build_ok(&cfg);
	assert_memory_equal(b.rsdp.data + 9, "ABC   ", 6);
	assert_memory_equal(b.tables.data + 64 + 10, "ABC   TABLE   ", 14);
	acpi_blobs_free(&b);
}

/* edk2-stable202211 MemDetect.c PlatformGetFirstNonAddress(). */
static void test_ovmf_pci64_window(void **state)
{
	uint64_t base, size;

	acpi_ovmf_pci64_window(0, &base, &size);
	assert_int_equal(base, 32 * GiB);
	assert_int_equal(size, 32 * GiB);
	acpi_ovmf_pci64_window(6 * GiB, &base, &size);
	assert_int_equal(base, 32 * GiB);
	acpi_ovmf_pci64_window(28 * GiB, &base, &size);
	assert_int_equal(base, 32 * GiB);
	acpi_ovmf_pci64_window(28 * GiB + 1, &base, &size);
	assert_int_equal(base, 64 * GiB);
	acpi_ovmf_pci64_window(100 * GiB, &base, &size);
	assert_int_equal(base, 128 * GiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader_commands),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_fadt_smi_cmd),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_mcfg_waet),
		cmocka_unit_test(test_tpm2),
		cmocka_unit_test(test_intx_gsi),
		cmocka_unit_test(test_dsdt_prt),
		cmocka_unit_test(test_dsdt_content),
		cmocka_unit_test(test_dsdt_windows),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_ovmf_pci64_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
