// SPDX-License-Identifier: MIT
/*
 * The command sets behind the AHCI ports (devices/ahci/ata.c, atapi.c),
 * through the test driver (ahci_driver.h) on real temporary images: ATA
 * reads and writes (DMA, PIO, NCQ with Set Device Bits) checked byte for
 * byte against the file, FLUSH, TRIM, the NCQ error log, host I/O errors,
 * the other ATA commands; and the MMC commands of the CD-ROM with their
 * sense data and the unit attention a reset leaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/falloc.h>

#include "tests/unit/ahci_driver.h"

#define DISK_SIZE	(8 * MiB)
#define CD_SIZE		(2 * MiB)
#define DVD_SIZE	(800 * MiB)	/* sparse: past an 80-minute CD */
#define SEED_DISK	1
#define SEED_CD		2

struct fix {
	struct ad d;
	bool dvd, readonly, no_ua;
};

static int setup_opts(void **state, bool dvd, bool readonly, bool no_ua)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct ahci_params p = { .manual = true, .no_reset_unit_attention = no_ua };
	struct ad *d;

	assert_non_null(f);
	f->dvd = dvd;
	f->readonly = readonly;
	f->no_ua = no_ua;
	d = &f->d;
	ad_image(d, 0, DISK_SIZE, SEED_DISK);
	ad_image(d, 1, CD_SIZE, SEED_CD);
	if (dvd)
		assert_int_equal(truncate(d->path[1], DVD_SIZE), 0);
	p.port[0] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_DISK, .path = d->path[0],
						.readonly = readonly, .serial = "DISK-SERIAL-1" };
	p.port[1] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_CDROM, .path = d->path[1] };
	ad_create(d, &p);
	assert_non_null(d->ahci);
	ad_map(d);
	ad_port_start(d, 0);
	ad_port_start(d, 1);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, false, false, false);
}

static int setup_dvd(void **state)
{
	return setup_opts(state, true, false, true);
}

static int setup_ro(void **state)
{
	return setup_opts(state, false, true, true);
}

static int setup_no_ua(void **state)
{
	return setup_opts(state, false, false, true);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	ad_destroy(&f->d);
	free(f);
	return 0;
}

static int image_fd(struct ad *d, unsigned int port)
{
	int fd = open(d->path[port], O_RDWR);

	assert_true(fd >= 0);
	return fd;
}

static uint8_t *ram(struct ad *d, uint64_t a)
{
	return gpa(&d->mem, a);
}

/* ---- ATA ------------------------------------------------------------------- */

static void test_rw_scatter(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd[3] = {
		{ .addr = AD_DATA + 0x10000, .len = 8192 },
		{ .addr = AD_DATA + 0x40000, .len = 40960 },
		{ .addr = AD_DATA + 0x90002, .len = 16384 },	/* not page aligned */
	};
	struct ad_cmd c = { .command = 0x35, .lba = 100, .count = 128, .write = true,
			    .prd = prd, .nprd = 3 };
	uint8_t *buf = malloc(65536), *file = malloc(65536);
	uint32_t is;
	int fd;

	for (unsigned int i = 0, off = 0; i < 3; off += prd[i].len, i++)
		for (unsigned int k = 0; k < prd[i].len; k++)
			buf[off + k] = ram(d, prd[i].addr)[k] = (uint8_t)(off + k + (off + k) / 251);
	is = ad_exec(d, 0, 7, &c);
	assert_true(is & PXIS_DHRS);
	assert_false(is & AD_ERRORS);
	assert_int_equal(ad_prdbc(d, 0, 7), 65536);
	assert_int_equal(ad_rfis(d, 0, RFIS_RFIS)[0], FIS_REG_D2H);
	fd = image_fd(d, 0);
	assert_int_equal(pread(fd, file, 65536, 100 * 512), 65536);
	assert_memory_equal(file, buf, 65536);
	/* Untouched around it. */
	assert_int_equal(pread(fd, file, 512, 99 * 512), 512);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(file[i], ad_pattern(99 * 512 + i, SEED_DISK));
	/* Read it back into cleared buffers, READ DMA EXT. */
	for (unsigned int i = 0; i < 3; i++)
		memset(ram(d, prd[i].addr), 0, prd[i].len);
	c.command = 0x25;
	c.write = false;
	assert_false(ad_exec(d, 0, 8, &c) & AD_ERRORS);
	for (unsigned int i = 0, off = 0; i < 3; off += prd[i].len, i++)
		assert_memory_equal(ram(d, prd[i].addr), buf + off, prd[i].len);
	/* 28-bit READ SECTORS (PIO): the PIO Setup FIS ends it. */
	c = (struct ad_cmd){ .command = 0x20, .lba = 101, .count = 2, .prd = prd, .nprd = 1 };
	memset(ram(d, prd[0].addr), 0, 1024);
	is = ad_exec(d, 0, 9, &c);
	assert_true(is & PXIS_PSS);
	assert_memory_equal(ram(d, prd[0].addr), buf + 512, 1024);
	/* READ DMA (28-bit), count 0 = 256 sectors, straddling the end: IDNF. */
	c = (struct ad_cmd){ .command = 0xc8, .lba = DISK_SIZE / 512 - 10, .count = 0,
			     .prd = prd, .nprd = 3 };
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	assert_int_equal(ad_prd(d, 0, PX_TFD) >> 8, ATA_IDNF);
	ad_recover(d, 0);
	/* CHS addressing (Device bit 6 clear) is refused. */
	c = (struct ad_cmd){ .command = 0xc8, .device = 0xa0, .count = 1, .prd = prd, .nprd = 1 };
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	ad_recover(d, 0);
	/* FLUSH CACHE EXT reaches the image through the engine. */
	c = (struct ad_cmd){ .command = 0xea };
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
	close(fd);
	free(buf);
	free(file);
}

/* 16 queued writes, then 16 queued reads, all in flight together. */
static void test_ncq(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd[16];
	struct ad_cmd c[16];
	uint8_t file[4096];
	const uint8_t *sdb;
	uint32_t is;
	int fd = image_fd(d, 0);

	for (unsigned int t = 0; t < 16; t++) {
		prd[t] = (struct ad_prd){ .addr = AD_DATA + 0x2000 * t, .len = 4096 };
		memset(ram(d, prd[t].addr), 0x40 + t, 4096);
		/* Count in Features, tag in Count 7:3, FUA on the odd ones. */
		c[t] = (struct ad_cmd){ .command = 0x61, .features = 8, .lba = 1000 + 16 * t,
					.count = (uint16_t)(t << 3), .device = 0x40 | (t & 1 ? 0x80 : 0),
					.write = true, .prd = &prd[t], .nprd = 1 };
		ad_build(d, 0, t, &c[t]);
	}
	ad_pwr(d, 0, PX_SACT, 0xffff);
	ad_pwr(d, 0, PX_CI, 0xffff);
	is = ad_wait(d, 0, 0xffff);
	assert_true(is & PXIS_SDBS);
	assert_false(is & AD_ERRORS);
	assert_int_equal(ad_prd(d, 0, PX_SACT), 0);
	assert_int_equal(ad_prd(d, 0, PX_CI), 0);
	sdb = ad_rfis(d, 0, RFIS_SDBFIS);
	assert_int_equal(sdb[0], FIS_SDB);
	assert_int_equal(sdb[1], FIS_I);
	for (unsigned int t = 0; t < 16; t++) {
		assert_int_equal(pread(fd, file, 4096, (1000 + 16 * t) * 512), 4096);
		for (unsigned int i = 0; i < 4096; i++)
			assert_int_equal(file[i], 0x40 + t);
	}
	ad_pwr(d, 0, PX_IS, 0xffffffff);
	for (unsigned int t = 0; t < 16; t++) {
		memset(ram(d, prd[t].addr), 0, 4096);
		c[t].command = 0x60;
		c[t].write = false;
		c[t].lba = 1000 + 16 * (15 - t);
		ad_build(d, 0, t, &c[t]);
	}
	ad_pwr(d, 0, PX_SACT, 0xffff);
	ad_pwr(d, 0, PX_CI, 0xffff);
	assert_false(ad_wait(d, 0, 0xffff) & AD_ERRORS);
	for (unsigned int t = 0; t < 16; t++)
		for (unsigned int i = 0; i < 4096; i += 64)
			assert_int_equal(ram(d, prd[t].addr)[i], 0x40 + 15 - t);
	close(fd);
}

/* An NCQ error: Set Device Bits with ERR, the queue halts, and READ LOG
 * EXT page 10h names the tag (what Linux's EH reads). */
static void test_ncq_error(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd = { .addr = AD_DATA, .len = 4096 };
	struct ad_cmd c = { .command = 0x60, .features = 8, .lba = DISK_SIZE / 512 - 4,
			    .count = 5 << 3, .prd = &prd, .nprd = 1 };
	struct ad_prd lp = { .addr = AD_DATA + 0x10000, .len = 512 };
	struct ad_cmd log = { .command = 0x2f, .lba = 0x10, .count = 1, .prd = &lp, .nprd = 1 };
	const uint8_t *b = ram(d, lp.addr), *sdb;
	uint8_t sum = 0;
	uint32_t is;

	ad_build(d, 0, 5, &c);
	ad_pwr(d, 0, PX_SACT, 1u << 5);
	ad_pwr(d, 0, PX_CI, 1u << 5);
	is = ad_wait(d, 0, 1u << 5);
	assert_true(is & PXIS_TFES);
	sdb = ad_rfis(d, 0, RFIS_SDBFIS);
	assert_int_equal(sdb[2] & ATA_ERR, ATA_ERR);
	assert_int_equal(sdb[3], ATA_IDNF);
	assert_int_equal(ad_prd(d, 0, PX_SACT), 1u << 5);	/* the failed tag stays */
	ad_recover(d, 0);
	assert_int_equal(ad_prd(d, 0, PX_SACT), 0);
	assert_false(ad_exec(d, 0, 0, &log) & AD_ERRORS);
	assert_int_equal(b[0], 5);		/* NQ clear, tag 5 */
	assert_int_equal(b[3], ATA_IDNF);
	assert_int_equal(b[4], (uint8_t)(DISK_SIZE / 512 - 4));
	for (unsigned int i = 0; i < 512; i++)
		sum = (uint8_t)(sum + b[i]);
	assert_int_equal(sum, 0);
	/* Read once, the condition is gone. */
	assert_false(ad_exec(d, 0, 0, &log) & AD_ERRORS);
	assert_int_equal(b[0], 0);
	/* The log directory (DMA form): log 10h has one page. */
	log.command = 0x47;
	log.lba = 0;
	assert_false(ad_exec(d, 0, 0, &log) & AD_ERRORS);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[0x20], 1);
	/* A log we do not have. */
	log.lba = 0x30;
	assert_true(ad_exec(d, 0, 0, &log) & PXIS_TFES);
}

static bool punch_works(void)
{
	char path[] = "/tmp/minivmm-punch.XXXXXX";
	int fd = mkstemp(path);
	bool ok;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	ok = !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
	close(fd);
	unlink(path);
	return ok;
}

static void test_trim(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd c = { .command = 0x06, .features = 1, .count = 1, .write = true,
			    .prd = &prd, .nprd = 1 };
	uint8_t *r = ram(d, AD_DATA), buf[4096];
	int fd = image_fd(d, 0);

	memset(r, 0, 512);
	/* Two ranges: LBA 2048 + 8 sectors, LBA 4096 + 16; an empty entry. */
	put32(r, 2048);
	put32(r + 4, 8u << 16);
	put32(r + 16, 4096);
	put32(r + 20, 16u << 16);
	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
	assert_int_equal(pread(fd, buf, 4096, 2048 * 512), 4096);
	for (unsigned int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], punch_works() ? 0 : ad_pattern(2048 * 512 + i, SEED_DISK));
	/* Not TRIM, two blocks of ranges, or a range past the end: aborted. */
	c.features = 0;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	ad_recover(d, 0);
	c.features = 1;
	c.count = 2;
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	ad_recover(d, 0);
	c.count = 1;
	put32(r + 8, DISK_SIZE / 512 - 1);
	put32(r + 12, 2u << 16);
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	close(fd);
}

/* A host error reaches the guest: the image shrinks under a read. */
static void test_host_error(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd = { .addr = AD_DATA, .len = 4096 };
	struct ad_cmd c = { .command = 0x25, .lba = DISK_SIZE / 512 - 8, .count = 8,
			    .prd = &prd, .nprd = 1 };

	assert_int_equal(truncate(d->path[0], DISK_SIZE / 2), 0);
	assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
	assert_int_equal(ad_prd(d, 0, PX_TFD) >> 8, ATA_UNC);
	assert_int_equal(ad_prdbc(d, 0, 0), 0);
}

static uint16_t word(struct ad *d, unsigned int w)
{
	return (uint16_t)(ram(d, AD_DATA)[2 * w] | ram(d, AD_DATA)[2 * w + 1] << 8);
}

static void identify(struct ad *d)
{
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd c = { .command = 0xec, .prd = &prd, .nprd = 1 };

	assert_false(ad_exec(d, 0, 0, &c) & AD_ERRORS);
}

static uint32_t nondata(struct ad *d, uint8_t cmd, uint8_t features, uint16_t count,
			uint64_t lba)
{
	struct ad_cmd c = { .command = cmd, .features = features, .count = count, .lba = lba };
	uint32_t is = ad_exec(d, 0, 0, &c);

	if (is & AD_ERRORS)
		ad_recover(d, 0);
	return is;
}

static void test_ata_misc(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	const uint8_t *f = ad_rfis(d, 0, RFIS_RFIS);
	uint64_t max = DISK_SIZE / 512 - 1;

	identify(d);
	assert_int_equal(word(d, 10), ('D' << 8) | 'I');	/* serial= */
	assert_int_equal(word(d, 85) & 0x20, 0x20);		/* write cache on */
	assert_int_equal(word(d, 169), 1);			/* TRIM */
	assert_int_equal(word(d, 217), 1);			/* non-rotating */
	/* Write cache off (a flush on the way), then on again. */
	assert_false(nondata(d, 0xef, 0x82, 0, 0) & AD_ERRORS);
	identify(d);
	assert_int_equal(word(d, 85) & 0x20, 0);
	assert_false(nondata(d, 0xef, 0x02, 0, 0) & AD_ERRORS);
	assert_false(nondata(d, 0xef, 0x03, 0x46, 0) & AD_ERRORS);	/* UDMA 6 */
	assert_true(nondata(d, 0xef, 0x05, 0, 0) & PXIS_TFES);	/* APM: no */
	/* READ VERIFY: in range fine, past the end IDNF. */
	assert_false(nondata(d, 0x42, 0, 8, max - 7) & AD_ERRORS);
	assert_true(nondata(d, 0x42, 0, 8, max - 6) & PXIS_TFES);
	/* READ NATIVE MAX ADDRESS EXT: the last LBA in the D2H FIS. */
	assert_false(nondata(d, 0x27, 0, 0, 0) & AD_ERRORS);
	assert_int_equal(f[4] | f[5] << 8 | f[6] << 16, max);
	assert_false(nondata(d, 0xf8, 0, 0, 0) & AD_ERRORS);
	assert_int_equal(f[4] | f[5] << 8 | f[6] << 16 | (f[7] & 0xf) << 24, max);
	/* CHECK POWER MODE: active (FFh in Count). */
	assert_false(nondata(d, 0xe5, 0, 0, 0) & AD_ERRORS);
	assert_int_equal(f[12], 0xff);
	assert_false(nondata(d, 0xe3, 0, 0, 0) & AD_ERRORS);	/* IDLE */
	assert_false(nondata(d, 0xe0, 0, 0, 0) & AD_ERRORS);	/* STANDBY IMMEDIATE */
	/* SET MULTIPLE MODE: powers of two up to 16; 0 disables READ MULTIPLE. */
	assert_false(nondata(d, 0xc6, 0, 8, 0) & AD_ERRORS);
	identify(d);
	assert_int_equal(word(d, 59), 0x0108);
	assert_true(nondata(d, 0xc6, 0, 3, 0) & PXIS_TFES);
	assert_true(nondata(d, 0xc6, 0, 32, 0) & PXIS_TFES);
	assert_false(nondata(d, 0xc6, 0, 0, 0) & AD_ERRORS);
	{
		struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
		struct ad_cmd c = { .command = 0xc4, .count = 1, .prd = &prd, .nprd = 1 };

		assert_true(ad_exec(d, 0, 0, &c) & PXIS_TFES);
		ad_recover(d, 0);
	}
	/* EXECUTE DEVICE DIAGNOSTIC: the ATA signature, error 01h. */
	assert_false(nondata(d, 0x90, 0, 0, 0) & AD_ERRORS);
	assert_int_equal(f[3], 0x01);
	assert_int_equal(f[5] | f[6] << 8, 0);
	/* NOP, SMART, PACKET, DEVICE RESET, a queued command non-queued... */
	assert_true(nondata(d, 0x00, 0, 0, 0) & PXIS_TFES);
	assert_true(nondata(d, 0xb0, 0xd0, 0, 0) & PXIS_TFES);
	assert_true(nondata(d, 0xa0, 0, 0, 0) & PXIS_TFES);
	assert_true(nondata(d, 0x08, 0, 0, 0) & PXIS_TFES);
	assert_true(nondata(d, 0x63, 0, 0, 0) & PXIS_TFES);
	assert_int_equal(ad_prd(d, 0, PX_TFD) >> 8, ATA_ABRT);
}

static void test_readonly_disk(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_prd prd = { .addr = AD_DATA, .len = 512 };
	struct ad_cmd w = { .command = 0x35, .count = 1, .write = true, .prd = &prd, .nprd = 1 };
	uint8_t b[512];
	int fd;

	memset(ram(d, AD_DATA), 0x77, 512);
	assert_true(ad_exec(d, 0, 0, &w) & PXIS_TFES);
	ad_recover(d, 0);
	w.command = 0x61;
	w.features = 1;
	ad_build(d, 0, 1, &w);
	ad_pwr(d, 0, PX_SACT, 2);
	ad_pwr(d, 0, PX_CI, 2);
	assert_true(ad_wait(d, 0, 2) & PXIS_TFES);
	ad_recover(d, 0);
	assert_true(nondata(d, 0x06, 1, 1, 0) & PXIS_TFES);	/* no TRIM */
	assert_false(nondata(d, 0xe7, 0, 0, 0) & AD_ERRORS);	/* nothing to flush */
	identify(d);
	assert_int_equal(word(d, 169), 0);
	fd = image_fd(d, 0);
	assert_int_equal(pread(fd, b, 512, 0), 512);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(b[i], ad_pattern(i, SEED_DISK));
	close(fd);
}

/* ---- ATAPI ------------------------------------------------------------------ */

#define BUF	(AD_DATA + 0x100000)

/* One packet; 0 or the sense key of its CHECK CONDITION (port recovered). */
static unsigned int pkt(struct ad *d, const uint8_t *cdb, uint32_t len, bool dma)
{
	uint32_t is = ad_packet(d, 1, cdb, BUF, len, dma);

	if (is & PXIS_TFES) {
		unsigned int key = ad_sense_key(d, 1);

		ad_recover(d, 1);
		return key ? key : 0x10;
	}
	assert_false(is & AD_ERRORS);
	return 0;
}

/* REQUEST SENSE: key << 16 | asc << 8 | ascq. */
static unsigned int sense(struct ad *d)
{
	uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };
	const uint8_t *b = ram(d, BUF);

	assert_int_equal(pkt(d, cdb, 18, false), 0);
	assert_int_equal(b[0], 0x70);
	assert_int_equal(b[7], 10);
	return (unsigned int)(b[2] & 0xf) << 16 | (unsigned int)b[12] << 8 | b[13];
}

static void test_atapi_unit_attention(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint8_t tur[12] = { 0 }, inq[12] = { 0x12, 0, 0, 0, 36 };

	/* INQUIRY is answered under the pending unit attention... */
	assert_int_equal(pkt(d, inq, 36, false), 0);
	/* ...TEST UNIT READY reports it, once, and REQUEST SENSE has it. */
	assert_int_equal(pkt(d, tur, 0, false), 6);
	assert_int_equal(sense(d), 0x062900);
	assert_int_equal(pkt(d, tur, 0, false), 0);
	assert_int_equal(sense(d), 0);
	/* A COMRESET brings it back, as on a real drive. */
	ad_port_stop(d, 1);
	ad_pwr(d, 1, PX_SCTL, 1);
	ad_pwr(d, 1, PX_SCTL, 0);
	ad_pwr(d, 1, PX_CMD, ad_prd(d, 1, PX_CMD) | PXCMD_ST);
	assert_int_equal(sense(d), 0x062900);	/* REQUEST SENSE reports and clears it */
	assert_int_equal(pkt(d, tur, 0, false), 0);
}

static void test_atapi_no_unit_attention(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint8_t tur[12] = { 0 };

	assert_int_equal(pkt(d, tur, 0, true), 0);
}

static void test_atapi_inquiry(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint8_t cdb[12] = { 0x12, 0, 0, 0, 96 };
	const uint8_t *b = ram(d, BUF);

	sense(d);			/* the unit attention */
	/* PIO with data: a PIO Setup FIS, then the D2H FIS that ends PACKET,
	 * Interrupt Reason I/O|C/D; DMA: only the D2H FIS. */
	assert_int_equal(ad_packet(d, 1, cdb, BUF, 96, false) & (PXIS_PSS | PXIS_DHRS | AD_ERRORS),
			 PXIS_PSS | PXIS_DHRS);
	assert_int_equal(ad_rfis(d, 1, RFIS_RFIS)[12], 0x03);
	assert_int_equal(ad_rfis(d, 1, RFIS_PSFIS)[15], ATA_STATUS_OK);
	assert_int_equal(ad_packet(d, 1, cdb, BUF, 96, true) & (PXIS_PSS | PXIS_DHRS | AD_ERRORS),
			 PXIS_DHRS);
	assert_int_equal(pkt(d, cdb, 96, false), 0);
	assert_int_equal(b[0], 0x05);
	assert_int_equal(b[1], 0x80);
	assert_memory_equal(b + 8, "MINIVMM MINIVMM DVD-ROM ", 24);
	assert_int_equal(ad_prdbc(d, 1, 0), 36);	/* the standard data only */
	/* The allocation length cuts the reply. */
	cdb[4] = 5;
	assert_int_equal(pkt(d, cdb, 96, true), 0);
	assert_int_equal(ad_prdbc(d, 1, 0), 5);
	/* VPD: the page list, the serial (the default), identification. */
	cdb[1] = 1;
	cdb[4] = 96;
	assert_int_equal(pkt(d, cdb, 96, false), 0);
	assert_int_equal(b[3], 3);
	assert_int_equal(b[5], 0x80);
	cdb[2] = 0x80;
	assert_int_equal(pkt(d, cdb, 96, false), 0);
	assert_memory_equal(b + 4, "MV-CDROM-1", 10);
	cdb[2] = 0x83;
	assert_int_equal(pkt(d, cdb, 96, false), 0);
	assert_memory_equal(b + 8, "ATA     MINIVMM DVD-ROM", 23);
	cdb[2] = 0xb0;
	assert_int_equal(pkt(d, cdb, 96, false), 5);
	assert_int_equal(sense(d), 0x052400);
	/* EVPD clear with a page code: invalid. */
	cdb[1] = 0;
	cdb[2] = 0x80;
	assert_int_equal(pkt(d, cdb, 96, false), 5);
}

static void test_atapi_read(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint64_t blocks = CD_SIZE / 2048;
	uint8_t cap[12] = { 0x25 }, r10[12] = { 0x28 }, r12[12] = { 0xa8 }, rcd[12] = { 0xbe };
	const uint8_t *b = ram(d, BUF);

	sense(d);
	assert_int_equal(pkt(d, cap, 8, true), 0);
	assert_int_equal(get_be32(b), blocks - 1);
	assert_int_equal(get_be32(b + 4), 2048);
	/* READ(10) of 3 blocks at 5, DMA then PIO. */
	put_be32(r10 + 2, 5);
	put_be16(r10 + 7, 3);
	for (int dma = 1; dma >= 0; dma--) {
		memset(ram(d, BUF), 0, 3 * 2048);
		assert_int_equal(pkt(d, r10, 3 * 2048, dma), 0);
		assert_int_equal(ad_prdbc(d, 1, 0), 3 * 2048);
		for (unsigned int i = 0; i < 3 * 2048; i++)
			assert_int_equal(b[i], ad_pattern(5 * 2048 + i, SEED_CD));
	}
	/* READ(12) of the last block; READ CD with user data. */
	put_be32(r12 + 2, (uint32_t)blocks - 1);
	put_be32(r12 + 6, 1);
	assert_int_equal(pkt(d, r12, 2048, true), 0);
	assert_int_equal(b[7], ad_pattern((blocks - 1) * 2048 + 7, SEED_CD));
	put_be32(rcd + 2, 9);
	rcd[8] = 1;
	rcd[9] = 0x10;
	assert_int_equal(pkt(d, rcd, 2048, true), 0);
	assert_int_equal(b[100], ad_pattern(9 * 2048 + 100, SEED_CD));
	rcd[9] = 0xf8;			/* raw sectors: not supported */
	assert_int_equal(pkt(d, rcd, 2352, true), 5);
	assert_int_equal(sense(d), 0x052400);
	/* Past the end: 5/21; nothing moved. */
	put_be32(r10 + 2, (uint32_t)blocks - 1);
	put_be16(r10 + 7, 2);
	memset(ram(d, BUF), 0xee, 4096);
	assert_int_equal(pkt(d, r10, 4096, true), 5);
	assert_int_equal(b[0], 0xee);
	assert_int_equal(sense(d), 0x052100);
	/* A count of 0 moves nothing and succeeds. */
	put_be16(r10 + 7, 0);
	assert_int_equal(pkt(d, r10, 2048, true), 0);
	/* A PRDT too short for the blocks: aborted (OFS). */
	put_be32(r10 + 2, 0);
	put_be16(r10 + 7, 2);
	assert_true(ad_packet(d, 1, r10, BUF, 2048, true) & PXIS_OFS);
	ad_recover(d, 1);
	/* The image never changes (read-only; no write command exists). */
	{
		uint8_t wr[12] = { 0x2a };

		assert_int_equal(pkt(d, wr, 2048, true), 5);
		assert_int_equal(sense(d), 0x052000);	/* invalid opcode */
	}
}

static void test_atapi_toc(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint8_t cdb[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
	const uint8_t *b = ram(d, BUF);
	uint64_t blocks = CD_SIZE / 2048;

	sense(d);
	/* Format 0, LBA: track 1 at 0, lead-out at the end. */
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(get_be16(b), 18);
	assert_int_equal(b[2], 1);
	assert_int_equal(b[6], 1);
	assert_int_equal(b[5], 0x14);
	assert_int_equal(get_be32(b + 8), 0);
	assert_int_equal(b[14], 0xaa);
	assert_int_equal(get_be32(b + 16), blocks);
	/* MSF: 00:02:00 for LBA 0. */
	cdb[1] = 0x02;
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(b[9], 0);
	assert_int_equal(b[10], 2);
	assert_int_equal(b[11], 0);
	/* Starting at the lead-out: only it. */
	cdb[1] = 0;
	cdb[6] = 0xaa;
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(get_be16(b), 10);
	cdb[6] = 2;
	assert_int_equal(pkt(d, cdb, 100, false), 5);
	/* Format 1 (sessions), and in the SFF-8020 place (Control bits 7:6). */
	cdb[6] = 0;
	cdb[2] = 1;
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(get_be16(b), 10);
	assert_int_equal(b[6], 1);
	cdb[2] = 0;
	cdb[9] = 0x40;
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(get_be16(b), 10);
	/* Format 2, raw: four descriptors, A2h holds the lead-out. */
	cdb[9] = 0;
	cdb[2] = 2;
	assert_int_equal(pkt(d, cdb, 100, false), 0);
	assert_int_equal(get_be16(b), 4 * 11 + 2);
	assert_int_equal(b[4 + 22 + 3], 0xa2);
	assert_int_equal(get_be32(b + 4 + 22 + 7), blocks);
	cdb[2] = 5;
	assert_int_equal(pkt(d, cdb, 100, false), 5);
}

/* The feature at code in a GET CONFIGURATION reply, or NULL. */
static const uint8_t *find_feature(const uint8_t *b, uint16_t code)
{
	uint32_t len = get_be32(b) + 4;

	for (uint32_t off = 8; off + 4 <= len; off += 4u + b[off + 3])
		if (get_be16(b + off) == code)
			return b + off;
	return NULL;
}

static void test_atapi_configuration(void **state)
{
	struct fix *f = *state;
	struct ad *d = &f->d;
	uint8_t cdb[12] = { 0x46, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint8_t dvd[12] = { 0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04 };
	uint16_t profile = f->dvd ? 0x0010 : 0x0008;
	const uint8_t *b = ram(d, BUF), *feat;

	if (!f->no_ua)
		sense(d);
	assert_int_equal(pkt(d, cdb, 256, false), 0);
	assert_int_equal(get_be16(b + 6), profile);
	feat = find_feature(b, 0x0000);
	assert_non_null(feat);
	assert_int_equal(feat[3], 8);
	assert_int_equal(get_be16(feat + 4), 0x0010);
	assert_int_equal(feat[6] & 1, f->dvd);
	assert_int_equal(get_be16(feat + 8), 0x0008);
	assert_int_equal(feat[10] & 1, !f->dvd);
	feat = find_feature(b, 0x0001);
	assert_non_null(feat);
	assert_int_equal(get_be32(feat + 4), 2);	/* ATAPI */
	assert_non_null(find_feature(b, 0x0003));
	assert_non_null(find_feature(b, 0x0010));
	/* RT 1: current features only; RT 2: exactly the one asked for. */
	cdb[1] = 1;
	assert_int_equal(pkt(d, cdb, 256, false), 0);
	assert_null(find_feature(b, f->dvd ? 0x001e : 0x001f));
	cdb[1] = 2;
	put_be16(cdb + 2, 0x0010);
	assert_int_equal(pkt(d, cdb, 256, false), 0);
	assert_int_equal(get_be32(b), 4 + 12);
	feat = find_feature(b, 0x0010);
	assert_non_null(feat);
	assert_int_equal(get_be32(feat + 4), 2048);
	assert_int_equal(get_be16(feat + 8), f->dvd ? 16 : 1);
	cdb[1] = 3;
	assert_int_equal(pkt(d, cdb, 256, false), 5);
	/* READ DVD STRUCTURE: a DVD's physical format; a CD has none. */
	if (f->dvd) {
		assert_int_equal(pkt(d, dvd, 2052, true), 0);
		assert_int_equal(get_be16(b), 2050);
		assert_int_equal(b[4], 0x01);
		assert_int_equal(get_be32(b + 12), DVD_SIZE / 2048 - 1);
	} else {
		assert_int_equal(pkt(d, dvd, 2052, true), 5);
		assert_int_equal(sense(d), 0x053002);
	}
}

static void test_atapi_events_modes(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	uint8_t ms10[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64 };
	uint8_t ms6[12] = { 0x1a, 0, 0x3f, 0, 255 };
	uint8_t pa[12] = { 0x1e, 0, 0, 0, 1 }, ssu[12] = { 0x1b, 0, 0, 0, 0x02 };
	uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
	uint8_t ti[12] = { 0x52, 1, 0, 0, 0, 1, 0, 0, 48 };
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	uint8_t speed[12] = { 0xbb }, seek[12] = { 0x2b };
	const uint8_t *b = ram(d, BUF);

	/* GESN under the unit attention too; media class, medium present. */
	assert_int_equal(pkt(d, gesn, 8, false), 0);
	assert_int_equal(get_be16(b), 6);
	assert_int_equal(b[2], 4);
	assert_int_equal(b[3], 0x10);
	assert_int_equal(b[5], 0x02);
	gesn[1] = 0;			/* asynchronous: not supported */
	assert_int_equal(pkt(d, gesn, 8, false), 5);
	/* REQUEST SENSE reports the pending unit attention first. */
	assert_int_equal(sense(d), 0x062900);
	/* MODE SENSE(10) page 2Ah; (6) all pages; saved values refused. */
	assert_int_equal(pkt(d, ms10, 64, false), 0);
	assert_int_equal(get_be16(b), 8 + 22 - 2);
	assert_int_equal(b[8], 0x2a);
	assert_int_equal(b[9], 0x14);
	assert_int_equal(b[14] & 0x02, 0);	/* not locked */
	assert_int_equal(pkt(d, ms6, 255, false), 0);
	assert_int_equal(b[0], 4 + 12 + 16 + 22 - 1);
	assert_int_equal(b[4], 0x01);
	ms10[2] = 0xc0 | 0x2a;
	assert_int_equal(pkt(d, ms10, 64, false), 5);
	assert_int_equal(sense(d), 0x053900);
	ms10[2] = 0x40 | 0x2a;		/* changeable: nothing */
	assert_int_equal(pkt(d, ms10, 64, false), 0);
	assert_int_equal(b[10], 0);
	ms10[2] = 0x05;			/* a page we do not have */
	assert_int_equal(pkt(d, ms10, 64, false), 5);
	/* PREVENT shows in page 2Ah; eject is refused, load is fine. */
	assert_int_equal(pkt(d, pa, 0, false), 0);
	ms10[2] = 0x2a;
	assert_int_equal(pkt(d, ms10, 64, false), 0);
	assert_int_equal(b[14] & 0x02, 0x02);
	assert_int_equal(pkt(d, ssu, 0, false), 5);
	assert_int_equal(sense(d), 0x055302);
	ssu[4] = 0x03;
	assert_int_equal(pkt(d, ssu, 0, false), 0);
	ssu[4] = 0x01;
	assert_int_equal(pkt(d, ssu, 0, false), 0);
	/* Disc and track information. */
	assert_int_equal(pkt(d, di, 34, false), 0);
	assert_int_equal(b[2], 0x0e);
	assert_int_equal(pkt(d, ti, 48, false), 0);
	assert_int_equal(get_be32(b + 24), CD_SIZE / 2048);
	ti[5] = 2;
	assert_int_equal(pkt(d, ti, 48, false), 5);
	ti[1] = 0;			/* by LBA */
	put_be32(ti + 2, CD_SIZE / 2048);
	assert_int_equal(pkt(d, ti, 48, false), 5);
	assert_int_equal(sense(d), 0x052100);
	di[1] = 1;
	assert_int_equal(pkt(d, di, 34, false), 5);
	/* MECHANISM STATUS, SET CD SPEED, SEEK. */
	assert_int_equal(pkt(d, mech, 8, false), 0);
	assert_int_equal(pkt(d, speed, 0, false), 0);
	put_be32(seek + 2, 10);
	assert_int_equal(pkt(d, seek, 0, false), 0);
	put_be32(seek + 2, CD_SIZE / 2048);
	assert_int_equal(pkt(d, seek, 0, false), 5);
	/* A success clears the sense data. */
	assert_int_equal(pkt(d, speed, 0, false), 0);
	assert_int_equal(sense(d), 0);
}

/* The ATA commands a PACKET device answers. */
static void test_atapi_ata_commands(void **state)
{
	struct ad *d = &((struct fix *)*state)->d;
	struct ad_cmd c = { .command = 0xe5 };
	const uint8_t *f = ad_rfis(d, 1, RFIS_RFIS);

	assert_false(ad_exec(d, 1, 0, &c) & AD_ERRORS);
	assert_int_equal(f[12], 0xff);
	c.command = 0x08;		/* DEVICE RESET: the signature */
	assert_false(ad_exec(d, 1, 0, &c) & AD_ERRORS);
	assert_int_equal(f[5], 0x14);
	assert_int_equal(f[6], 0xeb);
	assert_int_equal(sense(d), 0);
	c.command = 0x90;
	assert_false(ad_exec(d, 1, 0, &c) & AD_ERRORS);
	assert_int_equal(f[3], 0x01);
	c.command = 0xef;
	c.features = 0x03;
	assert_false(ad_exec(d, 1, 0, &c) & AD_ERRORS);
	c.command = 0x25;		/* an ATA read on a PACKET device */
	assert_true(ad_exec(d, 1, 0, &c) & PXIS_TFES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rw_scatter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ncq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ncq_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ata_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_disk, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_unit_attention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_no_unit_attention, setup_no_ua, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_inquiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_toc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_configuration, setup_dvd, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_events_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_ata_commands, setup_no_ua, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
