// SPDX-License-Identifier: MIT
/*
 * The ICH9 AHCI controller (devices/ahci/) as a driver sees it, on a fake
 * VM with the real PCI root and LPC: its PCI function, the HBA and port
 * registers, the signature FIS, command list / FIS / PRDT handling with
 * hostile addresses (outside RAM, wrapping, huge counts, bad FISes), the
 * three resets (GHC.HR, COMRESET, PCI) and software reset, INTx and MSI,
 * and the real I/O threads. ATA and ATAPI commands are test_ahci_cmd.c's.
 * The ahci_driver.h driver runs each port's engine itself (manual mode)
 * unless a test says threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/ahci_driver.h"

#define DISK_SIZE	(4 * MiB)
#define CD_SIZE		(2 * MiB)

static int setup_with(void **state, bool manual)
{
	struct ad *d = calloc(1, sizeof(*d));
	struct ahci_params p = { .manual = manual };

	assert_non_null(d);
	ad_image(d, 0, DISK_SIZE, 1);
	ad_image(d, 1, CD_SIZE, 2);
	p.port[0] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_DISK, .path = d->path[0] };
	p.port[1] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_CDROM, .path = d->path[1] };
	ad_create(d, &p);
	assert_non_null(d->ahci);
	ad_map(d);
	*state = d;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, true);
}

static int setup_threads(void **state)
{
	return setup_with(state, false);
}

static int teardown(void **state)
{
	struct ad *d = *state;

	ad_destroy(d);
	/* Every range left the buses, every irqfd and route is gone. */
	assert_int_equal(d->pio.nr_ranges, 0);
	assert_int_equal(d->mmio.nr_ranges, 0);
	assert_int_equal(d->fvm.nr_irqfds, 0);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		assert_false(d->fvm.routes[i].used);
	free(d);
	return 0;
}

/* ---- the PCI function ------------------------------------------------------- */

static void test_pci_config(void **state)
{
	struct ad *d = *state;
	unsigned int cap;

	assert_int_equal(ad_cfg_read(d, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(ad_cfg_read(d, PCI_DEVICE_ID, 2), 0x2922);
	assert_int_equal(ad_cfg_read(d, PCI_REVISION_ID, 1), 0x02);
	assert_int_equal(ad_cfg_read(d, PCI_CLASS_PROG, 1), 0x01);
	assert_int_equal(ad_cfg_read(d, PCI_CLASS_DEVICE, 2), 0x0106);
	assert_int_equal(ad_cfg_read(d, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(ad_cfg_read(d, 0x90, 1), 0x40);
	/* Function 2 of the LPC's multi-function device 00:1f. */
	{
		uint32_t v = 0;

		pci_cfg_read(d->root, 0, PCI_DEVFN(0x1f, 0), PCI_HEADER_TYPE, &v, 1);
		assert_true(v & PCI_HEADER_TYPE_MULTI);
	}
	/* BAR sizes: ABAR 4 KiB memory, the index/data pair 32 bytes of I/O. */
	ad_cfg_write(d, PCI_COMMAND, 0, 2);
	ad_cfg_write(d, PCI_BASE_ADDRESS_0 + 20, 0xffffffff, 4);
	assert_int_equal(ad_cfg_read(d, PCI_BASE_ADDRESS_0 + 20, 4), 0xfffff000);
	ad_cfg_write(d, PCI_BASE_ADDRESS_0 + 16, 0xffffffff, 4);
	assert_int_equal(ad_cfg_read(d, PCI_BASE_ADDRESS_0 + 16, 4) & 0xffff, 0xffe1);
	/* MSI at 80h heads the list, then the SATA capability at A8h. */
	cap = ad_cfg_read(d, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(cap, 0x80);
	assert_int_equal(ad_cfg_read(d, cap, 1), PCI_CAP_ID_MSI);
	assert_int_equal(ad_cfg_read(d, cap + 2, 2), PCI_MSI_FLAGS_64BIT);
	cap = ad_cfg_read(d, cap + 1, 1);
	assert_int_equal(cap, 0xa8);
	assert_int_equal(ad_cfg_read(d, cap, 1), PCI_CAP_ID_SATA);
	assert_int_equal(ad_cfg_read(d, cap + 4, 4), 0x48);	/* BAR 4, offset 10h */
	assert_int_equal(ad_cfg_read(d, cap + 1, 1), 0);
}

static void test_hba_registers(void **state)
{
	struct ad *d = *state;
	uint16_t w;
	uint8_t b;

	assert_int_equal(ad_rd(d, HBA_CAP), 0xc0341f05);
	assert_int_equal(ad_rd(d, HBA_GHC), GHC_AE);
	assert_int_equal(ad_rd(d, HBA_PI), 0x3f);
	assert_int_equal(ad_rd(d, HBA_VS), 0x00010300);
	/* AE stays set (CAP.SAM); IE is software's. */
	ad_wr(d, HBA_GHC, GHC_IE);
	assert_int_equal(ad_rd(d, HBA_GHC), GHC_AE | GHC_IE);
	ad_wr(d, HBA_GHC, 0);
	assert_int_equal(ad_rd(d, HBA_GHC), GHC_AE);
	/* Narrow reads. */
	bus_read(&d->mmio, AD_ABAR + HBA_CAP + 2, &w, 2);
	assert_int_equal(w, 0xc034);
	bus_read(&d->mmio, AD_ABAR + HBA_PI, &b, 1);
	assert_int_equal(b, 0x3f);
	/* Attached ports: link up at 6 Gbps; empty ports: nothing. */
	assert_int_equal(ad_prd(d, 0, PX_SSTS), 0x133);
	assert_int_equal(ad_prd(d, 1, PX_SSTS), 0x133);
	for (unsigned int i = 2; i < AHCI_NR_PORTS; i++) {
		assert_int_equal(ad_prd(d, i, PX_SSTS), 0);
		assert_int_equal(ad_prd(d, i, PX_SIG), 0xffffffff);
	}
	assert_int_equal(ad_prd(d, 0, PX_CMD), PXCMD_SUD | PXCMD_POD);
	/* Nothing decodes past the ports; the index/data pair reaches ABAR. */
	assert_int_equal(ad_rd(d, HBA_PORTS + AHCI_NR_PORTS * HBA_PORT_LEN), 0);
	{
		uint32_t v = HBA_VS;

		bus_write(&d->pio, AD_IDP + AHCI_IDP_INDEX, &v, 4);
		bus_read(&d->pio, AD_IDP + AHCI_IDP_DATA, &v, 4);
		assert_int_equal(v, 0x00010300);
		v = (uint32_t)ad_px(0, PX_CLB);
		bus_write(&d->pio, AD_IDP + AHCI_IDP_INDEX, &v, 4);
		v = 0x12345400;
		bus_write(&d->pio, AD_IDP + AHCI_IDP_DATA, &v, 4);
		assert_int_equal(ad_prd(d, 0, PX_CLB), 0x12345400);
	}
}

/* The signature D2H FIS waits for FRE (§10.4.2); then PxSIG and PxTFD. */
static void test_signature(void **state)
{
	struct ad *d = *state;
	const uint8_t *f;

	assert_int_equal(ad_prd(d, 0, PX_TFD), 0x7f);
	assert_int_equal(ad_prd(d, 0, PX_SIG), 0xffffffff);
	ad_pwr(d, 0, PX_FB, (uint32_t)AD_FB(0));
	ad_pwr(d, 0, PX_CMD, PXCMD_FRE);
	assert_true(ad_prd(d, 0, PX_CMD) & PXCMD_FR);
	assert_int_equal(ad_prd(d, 0, PX_SIG), SIG_ATA);
	assert_int_equal(ad_prd(d, 0, PX_TFD), 0x0150);
	f = ad_rfis(d, 0, RFIS_RFIS);
	assert_int_equal(f[0], FIS_REG_D2H);
	assert_int_equal(f[12], 1);
	assert_true(ad_prd(d, 0, PX_IS) & PXIS_DHRS);
	ad_pwr(d, 1, PX_FB, (uint32_t)AD_FB(1));
	ad_pwr(d, 1, PX_CMD, PXCMD_FRE);
	assert_int_equal(ad_prd(d, 1, PX_SIG), SIG_ATAPI);
	assert_int_equal(ad_prd(d, 1, PX_TFD), 0x0100);
	/* FRE cleared: FR follows. */
	ad_pwr(d, 1, PX_CMD, 0);
	assert_false(ad_prd(d, 1, PX_CMD) & PXCMD_FR);
	/* Byte writes change only their byte: PxCMD byte 0 sets FRE. */
	{
		uint8_t b = PXCMD_FRE;

		bus_write(&d->mmio, AD_ABAR + ad_px(1, PX_CMD), &b, 1);
		assert_int_equal(ad_prd(d, 1, PX_CMD) & 0xff, PXCMD_FRE | PXCMD_SUD | PXCMD_POD);
	}
	/* Read-only registers ignore writes. */
	ad_pwr(d, 0, PX_SIG, 0);
	ad_pwr(d, 0, PX_TFD, 0);
	assert_int_equal(ad_prd(d, 0, PX_SIG), SIG_ATA);
	assert_int_equal(ad_prd(d, 0, PX_TFD), 0x0150);
}

/* ---- commands and their FISes ------------------------------------------------ */

static void test_identify_pio(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512, .irq = true };
	struct ad_cmd c = { .command = 0xec, .prd = &prd, .nprd = 1 };
	const uint8_t *f, *id = gpa(&d->mem, AD_DATA);
	uint32_t is;

	ad_port_start(d, 0);
	assert_true(ad_prd(d, 0, PX_CMD) & PXCMD_CR);
	is = ad_exec(d, 0, 3, &c);
	/* A PIO data-in success ends with the PIO Setup FIS (SATA §11.7). */
	assert_true(is & PXIS_PSS);
	assert_true(is & PXIS_DPS);		/* the PRD's I bit */
	assert_false(is & AD_ERRORS);
	assert_int_equal(ad_prdbc(d, 0, 3), 512);
	f = ad_rfis(d, 0, RFIS_PSFIS);
	assert_int_equal(f[0], FIS_PIO_SETUP);
	assert_int_equal(f[1], FIS_PIO_D | FIS_I);
	assert_int_equal(f[15], ATA_STATUS_OK);	/* E_Status */
	assert_int_equal(ad_prd(d, 0, PX_TFD), ATA_STATUS_OK);
	assert_int_equal(ad_prd(d, 0, PX_CI), 0);
	assert_int_equal((ad_prd(d, 0, PX_CMD) & PXCMD_CCS_MASK) >> PXCMD_CCS_SHIFT, 3);
	/* Model "MINIVMM HARDDISK", byte-swapped per word; capacity. */
	assert_memory_equal(id + 54, "IMINMV M", 8);
	assert_int_equal(id[0] | id[1] << 8, 0x0040);
	assert_int_equal(get32(id + 200), DISK_SIZE / 512);
	assert_int_equal(id[150], 31);			/* word 75: queue depth 32 */
	assert_int_equal(id[152] | id[153] << 8, 0x010e);	/* word 76: NCQ */
	{
		uint8_t sum = 0;

		for (unsigned int i = 0; i < 512; i++)
			sum = (uint8_t)(sum + id[i]);
		assert_int_equal(sum, 0);
		assert_int_equal(id[510], 0xa5);
	}
}

static void test_identify_packet(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd c = { .command = 0xa1, .prd = &prd, .nprd = 1 };
	const uint8_t *id = gpa(&d->mem, AD_DATA), *f;
	uint32_t is;

	ad_port_start(d, 1);
	is = ad_exec(d, 1, 0, &c);
	assert_true(is & PXIS_PSS);
	assert_int_equal(id[0] | id[1] << 8, 0x85c0);
	assert_memory_equal(id + 54, "IMINMV M", 8);
	/* IDENTIFY DEVICE on a PACKET device: aborted, with the signature. */
	c.command = 0xec;
	is = ad_exec(d, 1, 0, &c);
	assert_true(is & PXIS_TFES);
	f = ad_rfis(d, 1, RFIS_RFIS);
	assert_int_equal(f[5], 0x14);
	assert_int_equal(f[6], 0xeb);
	assert_int_equal(ad_prd(d, 1, PX_TFD), (ATA_ABRT << 8) | 0x51);
	/* The port halted: PxCI keeps the bit until software recovers. */
	assert_int_equal(ad_prd(d, 1, PX_CI), 1);
	ad_recover(d, 1);
	assert_int_equal(ad_prd(d, 1, PX_CI), 0);
	c.command = 0xa1;
	assert_false(ad_exec(d, 1, 0, &c) & AD_ERRORS);
}

/* An error halts the port (§6.2.2.1): nothing else runs until ST cycles. */
static void test_error_halts(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd bad = { .command = 0x25, .lba = DISK_SIZE / 512, .count = 1,
			      .prd = &prd, .nprd = 1 };
	struct ad_cmd good = { .command = 0xe7 };
	uint32_t is;

	ad_port_start(d, 0);
	is = ad_exec(d, 0, 0, &bad);
	assert_true(is & PXIS_TFES);
	assert_int_equal(ad_prd(d, 0, PX_TFD), ATA_IDNF << 8 | 0x51);
	assert_int_equal(ad_prdbc(d, 0, 0), 0);
	ad_build(d, 0, 1, &good);
	ad_pwr(d, 0, PX_CI, 2);
	ahci_port_poll(d->ahci, 0);
	assert_int_equal(ad_prd(d, 0, PX_CI), 3);	/* both still there */
	ad_recover(d, 0);
	assert_int_equal(ad_prd(d, 0, PX_CI), 0);
	assert_false(ad_exec(d, 0, 1, &good) & AD_ERRORS);
	assert_int_equal(ad_prd(d, 0, PX_TFD), ATA_STATUS_OK);
}

/* ---- hostile command lists, tables, PRDTs --------------------------------------- */

/* Fill RAM with a canary; after a command, nothing but where is changed. */
static void canary(struct ad *d)
{
	memset(gpa(&d->mem, AD_DATA), 0xcc, AD_RAM - AD_DATA);
}

static void check_canary(struct ad *d, uint64_t from, uint64_t to)
{
	const uint8_t *m = gpa(&d->mem, 0);

	for (uint64_t a = AD_DATA; a < AD_RAM; a++)
		if (a < from || a >= to)
			assert_int_equal(m[a], 0xcc);
}

static void test_prd_outside_ram(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd[2] = { { .addr = AD_DATA, .len = 4096 }, { .addr = AD_RAM - 512, .len = 4096 } };
	struct ad_cmd c = { .command = 0x25, .lba = 0, .count = 16, .prd = prd, .nprd = 2 };
	uint32_t is;

	canary(d);
	ad_port_start(d, 0);
	is = ad_exec(d, 0, 0, &c);
	/* A bad software pointer: HBFS, fatal; nothing was read into RAM. */
	assert_true(is & PXIS_HBFS);
	check_canary(d, 0, 0);
	assert_int_equal(ad_prd(d, 0, PX_CI), 1);
	/* A DBC of 4 MiB running off the end of RAM, at the end of RAM. */
	ad_recover(d, 0);
	prd[0] = (struct ad_prd){ .addr = AD_RAM - 4096, .len = 4 * MiB };
	c.nprd = 1;
	c.count = DISK_SIZE / 512;	/* the whole disk: 4 MiB */
	is = ad_exec(d, 0, 0, &c);
	assert_true(is & PXIS_HBFS);
	check_canary(d, 0, 0);
	/* A write from outside RAM changes nothing on the image either. */
	ad_recover(d, 0);
	prd[0] = (struct ad_prd){ .addr = 0xfffffffffffff000ull, .len = 512 };
	c.command = 0x35;
	c.count = 1;
	c.write = true;
	is = ad_exec(d, 0, 0, &c);
	assert_true(is & PXIS_HBFS);
	{
		uint8_t b[512];
		int fd = open(d->path[0], O_RDONLY);

		assert_int_equal(pread(fd, b, 512, 0), 512);
		for (unsigned int i = 0; i < 512; i++)
			assert_int_equal(b[i], ad_pattern(i, 1));
		close(fd);
	}
}

static void test_prdt_short_and_fragmented(void **state)
{
	struct ad *d = *state;
	static struct ad_prd many[2100];
	struct ad_prd prd = { .addr = AD_DATA, .len = 1024 };
	struct ad_cmd c = { .command = 0x25, .count = 4, .prd = &prd, .nprd = 1 };
	uint32_t is;

	ad_port_start(d, 0);
	/* 2 KiB to read, 1 KiB of PRDT: OFS, aborted. */
	is = ad_exec(d, 0, 0, &c);
	assert_true(is & PXIS_TFES);
	assert_true(is & PXIS_OFS);
	assert_int_equal(ad_prd(d, 0, PX_TFD) >> 8, ATA_ABRT);
	/* No PRDT at all for data. */
	ad_recover(d, 0);
	c.nprd = 0;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	/* 2048 scattered 1-byte PRDs (an odd DBC + 1 is taken as it is):
	 * more segments than the engine takes, aborted. */
	ad_recover(d, 0);
	for (unsigned int i = 0; i < 2100; i++)
		many[i] = (struct ad_prd){ .addr = AD_DATA + 2 * i, .len = 1 };
	c.prd = many;
	c.nprd = 2100;
	c.count = 4;
	c.ctba = AD_DATA + 0x100000;	/* room for a long PRDT */
	is = ad_exec(d, 0, 0, &c);
	assert_true(is & PXIS_TFES);
	assert_false(is & PXIS_HBFS);
	/* Contiguous 2-byte entries (DBA bit 0 is reserved: addresses are
	 * even): one segment, fine. */
	ad_recover(d, 0);
	for (unsigned int i = 0; i < 2100; i++)
		many[i] = (struct ad_prd){ .addr = AD_DATA + 2 * i, .len = 2 };
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
	assert_int_equal(ad_prdbc(d, 0, 0), 2048);
	for (unsigned int i = 0; i < 2048; i++)
		assert_int_equal(*(uint8_t *)gpa(&d->mem, AD_DATA + i), ad_pattern(i, 1));
}

/* PRDTL 65535 with the table running past RAM: only the entries the
 * transfer needs are read (and must be RAM). */
static void test_prdt_huge_count(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd c = { .command = 0x25, .count = 1, .prd = &prd, .nprd = 1 };
	uint8_t *h;

	ad_port_start(d, 0);
	ad_build(d, 0, 0, &c);
	h = gpa(&d->mem, AD_CLB(0));
	put32(h, get32(h) | 0xffffu << CMDH_PRDTL_SHIFT);
	ad_pwr(d, 0, PX_CI, 1);
	assert_false(ad_wait(d, 0, 1) & AD_ERRORS);
	assert_int_equal(ad_prdbc(d, 0, 0), 512);
	/* A table at the very end of RAM: its PRDT is outside it. */
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	c.ctba = AD_RAM - 0x80;
	ad_build(d, 0, 0, &c);
	memset(gpa(&d->mem, AD_RAM - 0x80), 0, 0x80);
	*(uint8_t *)gpa(&d->mem, AD_RAM - 0x80) = FIS_REG_H2D;
	*(uint8_t *)gpa(&d->mem, AD_RAM - 0x7f) = FIS_H2D_C;
	*(uint8_t *)gpa(&d->mem, AD_RAM - 0x7e) = 0x25;
	*(uint8_t *)gpa(&d->mem, AD_RAM - 0x79) = 0x40;
	*(uint8_t *)gpa(&d->mem, AD_RAM - 0x74) = 1;
	ad_pwr(d, 0, PX_CI, 1);
	assert_true(ad_wait(d, 0, 1) & PXIS_HBFS);
}

static void test_bad_tables(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .command = 0xe7 };
	uint32_t is;

	ad_port_start(d, 0);
	/* A command table outside RAM, and one whose PRDT would wrap. */
	c.ctba = 0x40000000;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_HBFS);
	ad_recover(d, 0);
	c.ctba = 0xffffffffffffff80ull;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_HBFS);
	/* Not a Register H2D FIS, or a FIS length that is none: IFS. */
	ad_recover(d, 0);
	c.ctba = 0;
	c.fis_type = 0x34;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_IFS);
	ad_recover(d, 0);
	c.fis_type = 0;
	c.cfl = 1;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_IFS);
	/* A command list outside RAM. */
	ad_recover(d, 0);
	c.cfl = 0;
	ad_pwr(d, 0, PX_CMD, ad_prd(d, 0, PX_CMD) & ~PXCMD_ST);
	ad_pwr(d, 0, PX_CLBU, 0x1);
	ad_pwr(d, 0, PX_CMD, ad_prd(d, 0, PX_CMD) | PXCMD_ST);
	ad_pwr(d, 0, PX_CI, 1);
	assert_true(ad_wait(d, 0, 1) & PXIS_HBFS);
	/* A FIS area outside RAM: the completion cannot be delivered. */
	ad_port_stop(d, 0);
	ad_pwr(d, 0, PX_CLBU, 0);
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	ad_pwr(d, 0, PX_CMD, 0);
	ad_pwr(d, 0, PX_FB, 0xfffff000);
	ad_pwr(d, 0, PX_CMD, PXCMD_FRE | PXCMD_ST);
	is = ad_exec(d, 0, 0, &c);
	assert_true(is & PXIS_HBFS);
	/* Reserved low bits of CLB/FB/CTBA are ignored, not trusted. */
	ad_pwr(d, 0, PX_CLB, (uint32_t)AD_CLB(0) | 0x3ff);
	assert_int_equal(ad_prd(d, 0, PX_CLB), AD_CLB(0));
	ad_pwr(d, 0, PX_FB, (uint32_t)AD_FB(0) | 0xff);
	assert_int_equal(ad_prd(d, 0, PX_FB), AD_FB(0));
}

/* ---- resets ----------------------------------------------------------------- */

static void test_comreset(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .command = 0xe7 };

	ad_port_start(d, 0);
	ad_build(d, 0, 0, &c);
	ad_port_stop(d, 0);
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	/* DET = 1: COMRESET asserted, the link is down. */
	ad_pwr(d, 0, PX_SCTL, SCTL_DET_COMRESET);
	assert_int_equal(ad_prd(d, 0, PX_SSTS) & 0xf, 1);
	ad_pwr(d, 0, PX_SCTL, 0);
	/* DET = 0: the device resets and sends its signature at once (FRE). */
	assert_int_equal(ad_prd(d, 0, PX_SSTS), 0x133);
	assert_int_equal(ad_prd(d, 0, PX_SIG), SIG_ATA);
	assert_int_equal(ad_prd(d, 0, PX_TFD), 0x0150);
	assert_true(ad_prd(d, 0, PX_IS) & PXIS_DHRS);
	/* And the port works after it. */
	ad_pwr(d, 0, PX_CMD, ad_prd(d, 0, PX_CMD) | PXCMD_ST);
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
	/* COMRESET with ST still set: the engine stops and restarts. */
	ad_pwr(d, 0, PX_SCTL, SCTL_DET_COMRESET);
	ad_pwr(d, 0, PX_SCTL, 0);
	assert_true(ad_prd(d, 0, PX_CMD) & PXCMD_CR);
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
	/* DET = 4: offline. */
	ad_pwr(d, 0, PX_SCTL, SCTL_DET_OFFLINE);
	assert_int_equal(ad_prd(d, 0, PX_SSTS), SSTS_DET_OFFLINE);
}

static void test_hba_reset(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .command = 0xe7 };

	ad_wr(d, HBA_GHC, GHC_IE);
	for (unsigned int i = 0; i < 2; i++) {
		ad_port_start(d, i);
		ad_pwr(d, i, PX_IE, 0xffffffff);
	}
	ad_build(d, 0, 5, &c);
	ad_pwr(d, 0, PX_SACT, 0x80);
	ad_wr(d, HBA_GHC, GHC_HR | GHC_IE);
	/* Done when the write returns (§3.1.2). */
	assert_int_equal(ad_rd(d, HBA_GHC), GHC_AE);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(ad_prd(d, i, PX_CMD), PXCMD_SUD | PXCMD_POD);
		assert_int_equal(ad_prd(d, i, PX_IE), 0);
		assert_int_equal(ad_prd(d, i, PX_IS), 0);
		assert_int_equal(ad_prd(d, i, PX_CI), 0);
		assert_int_equal(ad_prd(d, i, PX_SACT), 0);
		assert_int_equal(ad_prd(d, i, PX_TFD), 0x7f);	/* signature pending */
		assert_int_equal(ad_prd(d, i, PX_SIG), 0xffffffff);
		assert_int_equal(ad_prd(d, i, PX_CLB), AD_CLB(i));	/* kept */
	}
	assert_int_equal(ahci_threads_running(d->ahci), 0);
	assert_false(pci_dev_irq_level(ahci_pci(d->ahci)));
	/* Software starts over and it works. */
	ad_port_start(d, 0);
	assert_int_equal(ad_prd(d, 0, PX_SIG), SIG_ATA);
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
}

static void test_pci_reset(void **state)
{
	struct ad *d = *state;
	unsigned int cap = 0x80;

	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO + 8, 0x41, 2);
	ad_cfg_write(d, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(d->fvm.nr_irqfds, 1);
	ad_wr(d, HBA_GHC, GHC_IE);
	ad_port_start(d, 0);
	ad_port_start(d, 1);
	pci_root_reset(d->root);
	assert_int_equal(d->fvm.nr_irqfds, 0);
	assert_int_equal(ad_cfg_read(d, cap + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);
	ad_map(d);
	assert_int_equal(ad_rd(d, HBA_GHC), GHC_AE);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++) {
		assert_int_equal(ad_prd(d, i, PX_CLB), 0);
		assert_int_equal(ad_prd(d, i, PX_FB), 0);
		assert_int_equal(ad_prd(d, i, PX_CMD), PXCMD_SUD | PXCMD_POD);
		assert_int_equal(ad_prd(d, i, PX_TFD), 0x7f);
	}
	assert_int_equal(ahci_threads_running(d->ahci), 0);
}

/* Software reset (§10.4.1): SRST set (C bit: no FIS), then cleared. */
static void test_software_reset(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .c_bit_clear = true, .control = FIS_CTL_SRST,
			    .hdr_flags = CMDH_R | CMDH_C };

	ad_port_start(d, 1);
	ad_pwr(d, 1, PX_IS, 0xffffffff);
	ad_build(d, 1, 0, &c);
	ad_pwr(d, 1, PX_CI, 1);
	ahci_port_poll(d->ahci, 1);
	assert_int_equal(ad_prd(d, 1, PX_CI), 0);
	assert_false(ad_prd(d, 1, PX_IS) & PXIS_DHRS);
	c.control = 0;
	c.hdr_flags = 0;
	ad_build(d, 1, 1, &c);
	ad_pwr(d, 1, PX_CI, 2);
	ahci_port_poll(d->ahci, 1);
	assert_int_equal(ad_prd(d, 1, PX_CI), 0);
	assert_true(ad_prd(d, 1, PX_IS) & PXIS_DHRS);
	assert_int_equal(ad_prd(d, 1, PX_SIG), SIG_ATAPI);
	/* A control FIS that asks nothing, without C: it stays issued (no
	 * device answers it), is not sent again and again (the engine spun
	 * on it once: fuzz_ahci's crash-control-fis-loop), and ST clears it. */
	ad_build(d, 1, 2, &c);
	ad_pwr(d, 1, PX_CI, 4);
	assert_int_equal(ahci_port_poll(d->ahci, 1), 0);
	assert_int_equal(ad_prd(d, 1, PX_CI), 4);
	ad_recover(d, 1);
	assert_int_equal(ad_prd(d, 1, PX_CI), 0);
}

/* ---- interrupts ------------------------------------------------------------ */

static void test_intx(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .command = 0xe7 };

	ad_port_start(d, 0);
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	ad_pwr(d, 0, PX_IE, PXIS_DHRS);
	/* GHC.IE clear: PxIS sets, nothing is raised. */
	ad_build(d, 0, 0, &c);
	ad_pwr(d, 0, PX_CI, 1);
	ad_wait(d, 0, 1);
	assert_true(ad_prd(d, 0, PX_IS) & PXIS_DHRS);
	assert_int_equal(ad_rd(d, HBA_IS), 1);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 0);
	/* IE set: the level follows IS; clearing PxIS lowers it. */
	ad_wr(d, HBA_GHC, GHC_IE);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 1);
	ad_pwr(d, 0, PX_IS, PXIS_DHRS);
	assert_int_equal(ad_rd(d, HBA_IS), 0);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 0);
	ad_build(d, 0, 0, &c);
	ad_pwr(d, 0, PX_CI, 1);
	ad_wait(d, 0, 1);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 1);
	/* PxIE masking the bit lowers it too; INTx Disable as well. */
	ad_pwr(d, 0, PX_IE, 0);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 0);
	ad_pwr(d, 0, PX_IE, PXIS_DHRS);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 1);
	ad_cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER |
		     PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 0);
}

static int irqfd_fd(struct ad *d)
{
	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++)
		if (d->fvm.irqfds[i].used)
			return d->fvm.irqfds[i].fd;
	return -1;
}

static bool signalled(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	return fd >= 0 && poll(&p, 1, 0) == 1 && read(fd, &v, sizeof(v)) == sizeof(v);
}

static void test_msi(void **state)
{
	struct ad *d = *state;
	struct ad_cmd c = { .command = 0xe7 };
	unsigned int cap = 0x80;
	int fd;

	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO + 4, 0, 4);
	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO + 8, 0x4041, 2);
	ad_cfg_write(d, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	fd = irqfd_fd(d);
	assert_true(fd >= 0);
	assert_int_equal(d->fvm.routes[0].addr, 0xfee00000);
	assert_int_equal(d->fvm.routes[0].data, 0x4041);
	ad_wr(d, HBA_GHC, GHC_IE);
	ad_port_start(d, 0);
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	ad_pwr(d, 0, PX_IE, PXIS_DHRS | AD_ERRORS);
	assert_false(signalled(fd));
	ad_build(d, 0, 0, &c);
	ad_pwr(d, 0, PX_CI, 1);
	ad_wait(d, 0, 1);
	/* One message per event, even with an earlier one still pending. */
	assert_true(signalled(fd));
	ad_build(d, 0, 1, &c);
	ad_pwr(d, 0, PX_CI, 2);
	ad_wait(d, 0, 2);
	assert_true(signalled(fd));
	assert_int_equal(d->fvm.irq_level[AD_GSI], 0);
	/* The address moves: the route is updated in place. */
	ad_cfg_write(d, cap + PCI_MSI_ADDRESS_LO, 0xfee01000, 4);
	assert_int_equal(d->fvm.routes[0].addr, 0xfee01000);
	/* MSI off with an interrupt pending: back to INTx, which rises. */
	ad_cfg_write(d, cap + PCI_MSI_FLAGS, 0, 2);
	assert_int_equal(d->fvm.nr_irqfds, 0);
	assert_int_equal(d->fvm.irq_level[AD_GSI], 1);
}

/* ---- the real I/O threads ---------------------------------------------------- */

static void test_threads(void **state)
{
	struct ad *d = *state;
	struct ad_prd prd = { .addr = AD_DATA, .len = 64 * 1024 };
	struct ad_cmd w = { .command = 0x35, .lba = 64, .count = 128, .write = true,
			    .prd = &prd, .nprd = 1 };
	struct ad_cmd r = { .command = 0x25, .lba = 64, .count = 128, .prd = &prd, .nprd = 1 };

	assert_int_equal(ahci_threads_running(d->ahci), 0);
	ad_port_start(d, 0);
	ad_port_start(d, 1);
	/* ST on an empty port runs no thread. */
	ad_pwr(d, 4, PX_CMD, PXCMD_ST);
	assert_int_equal(ahci_threads_running(d->ahci), 2);
	for (unsigned int i = 0; i < 64 * 1024; i++)
		*(uint8_t *)gpa(&d->mem, AD_DATA + i) = (uint8_t)(i * 13);
	for (unsigned int round = 0; round < 20; round++) {
		assert_false(ad_exec(d, 0, round % 32, &w) & AD_ERRORS);
		memset(gpa(&d->mem, AD_DATA), 0, 64 * 1024);
		assert_false(ad_exec(d, 0, (round + 1) % 32, &r) & AD_ERRORS);
		for (unsigned int i = 0; i < 64 * 1024; i += 997)
			assert_int_equal(*(uint8_t *)gpa(&d->mem, AD_DATA + i), (uint8_t)(i * 13));
		/* Stop and start: the thread is joined and made again. */
		ad_port_stop(d, 0);
		assert_false(ad_prd(d, 0, PX_CMD) & PXCMD_CR);
		ad_pwr(d, 0, PX_CMD, ad_prd(d, 0, PX_CMD) | PXCMD_ST);
	}
	/* A reset while commands are in flight waits for them. */
	ad_build(d, 0, 0, &w);
	ad_build(d, 0, 1, &r);
	ad_pwr(d, 0, PX_CI, 3);
	ad_wr(d, HBA_GHC, GHC_HR);
	assert_int_equal(ahci_threads_running(d->ahci), 0);
	assert_int_equal(ad_prd(d, 0, PX_CI), 0);
	/* And destroy (the teardown) with a write in flight waits for it. */
	ad_port_start(d, 0);
	ad_build(d, 0, 0, &w);
	ad_pwr(d, 0, PX_CI, 1);
}

static unsigned int open_fds(void)
{
	unsigned int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* A missing image, a CD-ROM image not made of 2 KiB blocks: no controller,
 * one line said why, nothing left open. */
static void test_create_errors(void **state)
{
	struct ad d = { 0 };
	struct ahci_params p = { .manual = true };
	unsigned int fds = open_fds();
	struct ahci *a;
	int fd;

	fake_vm_init(&d.fvm);
	assert_int_equal(fake_mem_init(&d.mem, AD_RAM), 0);
	assert_int_equal(bus_init(&d.pio, "pio"), 0);
	assert_int_equal(bus_init(&d.mmio, "mmio"), 0);
	d.root = pci_root_create(&d.fvm.ops, &d.pio, &d.mmio);
	assert_non_null(lpc_create(d.root, &d.fvm.ops, &d.pio, &d.mmio, NULL));
	p.port[0] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_CDROM,
						.path = "/tmp/minivmm-ahci-missing.iso" };
	a = ahci_create(&d.fvm.ops, &d.mem, d.root, &p);
	assert_null(a);
	assert_int_equal(errno, ENOENT);
	ad_image(&d, 1, 3000, 0);
	ad_image(&d, 2, 4096, 0);
	p.port[0].path = d.path[1];
	p.port[3] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_DISK, .path = d.path[2] };
	assert_null(ahci_create(&d.fvm.ops, &d.mem, d.root, &p));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(open_fds(), fds);
	/* 00:1f.2 free again: a good one plugs. */
	fd = open(d.path[1], O_WRONLY);
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	assert_non_null(ahci_create(&d.fvm.ops, &d.mem, d.root, &p));
	ad_destroy(&d);
	assert_int_equal(open_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hba_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_pio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_halts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prd_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prdt_short_and_fragmented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prdt_huge_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comreset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hba_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_software_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup_threads, teardown),
		cmocka_unit_test_setup_teardown(test_hba_reset, setup_threads, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup_threads, teardown),
		cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
