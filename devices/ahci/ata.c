// SPDX-License-Identifier: MIT
/*
 * ATA commands (ACS-3) of a SATA disk on an AHCI port, and the ATA
 * commands a PACKET (ATAPI) device answers itself; PACKET goes on to
 * atapi.c. Runs on the port's I/O thread. Reads and writes move the guest
 * RAM the PRDT names to or from the image through the io_uring engine
 * (blk_io); nothing is copied for them. Emulated data (IDENTIFY, logs)
 * is built in the port's scratch buffer and copied through the PRDT.
 *
 * The disk: 512-byte logical sectors, LBA48, NCQ with 32 tags, a volatile
 * write cache (on; FLUSH CACHE is an fdatasync through the engine, and
 * with the cache off every write is RWF_DSYNC), TRIM through DATA SET
 * MANAGEMENT (a discard: the file system may punch a hole, or ignore it),
 * non-rotating (word 217), no SMART, no security, no HPA.
 */
#include <errno.h>
#include <string.h>

#include "devices/ahci/ahci_internal.h"
#include "lib/log.h"

/* ACS-3 command codes. */
#define ATA_NOP			0x00
#define ATA_DSM			0x06
#define ATA_DEVICE_RESET	0x08
#define ATA_READ_SECTORS	0x20
#define ATA_READ_SECTORS_NR	0x21	/* obsolete "without retry" */
#define ATA_READ_SECTORS_EXT	0x24
#define ATA_READ_DMA_EXT	0x25
#define ATA_READ_NATIVE_MAX_EXT	0x27
#define ATA_READ_MULTIPLE_EXT	0x29
#define ATA_READ_LOG_EXT	0x2f
#define ATA_WRITE_SECTORS	0x30
#define ATA_WRITE_SECTORS_NR	0x31
#define ATA_WRITE_SECTORS_EXT	0x34
#define ATA_WRITE_DMA_EXT	0x35
#define ATA_WRITE_MULTIPLE_EXT	0x39
#define ATA_WRITE_DMA_FUA_EXT	0x3d
#define ATA_READ_VERIFY		0x40
#define ATA_READ_VERIFY_NR	0x41
#define ATA_READ_VERIFY_EXT	0x42
#define ATA_READ_LOG_DMA_EXT	0x47
#define ATA_READ_FPDMA		0x60
#define ATA_WRITE_FPDMA		0x61
#define ATA_EXEC_DIAG		0x90
#define ATA_INIT_DEV_PARAMS	0x91
#define ATA_PACKET		0xa0
#define ATA_IDENTIFY_PACKET	0xa1
#define ATA_READ_MULTIPLE	0xc4
#define ATA_WRITE_MULTIPLE	0xc5
#define ATA_SET_MULTIPLE	0xc6
#define ATA_READ_DMA		0xc8
#define ATA_READ_DMA_NR		0xc9
#define ATA_WRITE_DMA		0xca
#define ATA_WRITE_DMA_NR	0xcb
#define ATA_WRITE_MULTIPLE_FUA_EXT 0xce
#define ATA_STANDBY_IMMEDIATE	0xe0
#define ATA_IDLE_IMMEDIATE	0xe1
#define ATA_STANDBY		0xe2
#define ATA_IDLE		0xe3
#define ATA_CHECK_POWER_MODE	0xe5
#define ATA_SLEEP		0xe6
#define ATA_FLUSH_CACHE		0xe7
#define ATA_FLUSH_CACHE_EXT	0xea
#define ATA_IDENTIFY		0xec
#define ATA_SET_FEATURES	0xef
#define ATA_READ_NATIVE_MAX	0xf8

#define ATA_MAX_MULTIPLE	16
#define ATA_DEV_LBA		0x40	/* Device field: LBA addressing */
#define LOG_DIRECTORY		0x00
#define LOG_NCQ_ERROR		0x10

static const char disk_model[] = "MINIVMM HARDDISK";
static const char firmware_rev[] = "0.1.0";

bool ata_is_ncq(uint8_t command)
{
	/* SATA §13.6: READ/WRITE FPDMA QUEUED. NCQ NON-DATA and SEND/RECEIVE
	 * FPDMA are not advertised (IDENTIFY word 77) and get aborted. */
	return command == ATA_READ_FPDMA || command == ATA_WRITE_FPDMA;
}

void ata_drive_reset(struct ahci_port *p)
{
	/* ACS-3: after a reset the features revert to their power-on
	 * defaults (no SET FEATURES 66h is honoured across it). */
	p->st.wcache = true;
	p->st.multiple = ATA_MAX_MULTIPLE;
	p->st.srst = false;
	p->st.ncq_err = false;
}

/* The signature after a reset or EXECUTE DEVICE DIAGNOSTIC (ACS-3
 * "Signature and persistence"): LBA 15:8/23:16 = 14h/EBh for a PACKET
 * device, 00h/00h for ATA; Count and LBA 7:0 = 01h; Error 01h (passed). */
void ata_signature(const struct ahci_port *p, uint8_t *status, uint8_t *error, uint8_t out[10])
{
	bool atapi = p->kind == AHCI_DRIVE_CDROM;

	memset(out, 0, 10);
	out[0] = 0x01;
	out[1] = atapi ? 0x14 : 0x00;
	out[2] = atapi ? 0xeb : 0x00;
	out[8] = 0x01;
	*error = 0x01;
	/* A PACKET device clears DRDY until IDENTIFY PACKET DEVICE. */
	*status = atapi ? 0x00 : ATA_STATUS_OK;
}

/* ---- IDENTIFY DEVICE, IDENTIFY PACKET DEVICE (ACS-3 7.12, 7.13) -------------------- */

/* ATA strings: two characters per word, the first in the high byte. */
static void id_string(uint16_t *w, const char *s, unsigned int bytes)
{
	size_t n = strlen(s);

	for (unsigned int i = 0; i < bytes; i += 2) {
		uint8_t hi = i < n ? (uint8_t)s[i] : ' ', lo = i + 1 < n ? (uint8_t)s[i + 1] : ' ';

		w[i / 2] = (uint16_t)(hi << 8 | lo);
	}
}

/* Word 255: signature A5h and a checksum making the 512 bytes sum to 0. */
static void id_checksum(uint16_t *id)
{
	uint8_t sum = 0xa5;

	for (unsigned int i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	id[255] = (uint16_t)((uint8_t)-sum << 8 | 0xa5);
}

/* Little-endian words in memory, whatever the host. */
static void id_store(uint8_t *buf, const uint16_t *id)
{
	for (unsigned int i = 0; i < 256; i++) {
		buf[2 * i] = (uint8_t)id[i];
		buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
}

static void ata_identify(const struct ahci_port *p, uint16_t *id)
{
	uint64_t n = p->blocks, lba28 = n < 0x0fffffff ? n : 0x0fffffff;
	uint64_t cyls = n / (16 * 63);

	memset(id, 0, 512);
	if (cyls > 16383)
		cyls = 16383;
	if (!cyls)
		cyls = 1;
	id[0] = 0x0040;			/* fixed, not removable, ATA */
	id[1] = id[54] = (uint16_t)cyls;	/* legacy CHS: 16 heads, 63 sectors */
	id[3] = id[55] = 16;
	id[6] = id[56] = 63;
	id[57] = (uint16_t)(cyls * 16 * 63);
	id[58] = (uint16_t)((cyls * 16 * 63) >> 16);
	id_string(id + 10, p->serial, 20);
	id_string(id + 23, firmware_rev, 8);
	id_string(id + 27, disk_model, 40);
	id[47] = 0x8000 | ATA_MAX_MULTIPLE;
	id[48] = 0x4000;		/* bit 14 shall be one; no trusted computing */
	id[49] = 0x0f00;		/* IORDY, IORDY disable, LBA, DMA */
	id[50] = 0x4000;
	id[53] = 0x0006;		/* words 64-70 and 88 valid */
	id[59] = (uint16_t)(p->st.multiple ? 0x0100 | p->st.multiple : 0);
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	id[63] = 0x0007;		/* MWDMA 0-2 */
	id[64] = 0x0003;		/* PIO 3-4 */
	id[65] = id[66] = id[67] = id[68] = 120;
	id[69] = p->readonly ? 0 : 0x4000;	/* deterministic data after TRIM */
	id[75] = AHCI_SLOTS - 1;	/* queue depth - 1 */
	id[76] = 0x010e;		/* NCQ; SATA 1.5, 3 and 6 Gbps */
	id[77] = 0x0006;		/* negotiated: 6 Gbps */
	id[80] = 0x07f0;		/* ATA/ATAPI-4 .. ACS-3 */
	id[82] = 0x4060;		/* NOP, look-ahead, volatile write cache */
	id[83] = 0x7400;		/* FLUSH CACHE (EXT), 48-bit */
	id[84] = 0x4060;		/* WRITE DMA FUA EXT, GPL (READ LOG EXT) */
	id[85] = (uint16_t)(0x4040 | (p->st.wcache ? 0x0020 : 0));
	id[86] = 0xb400;		/* words 119-120 valid, FLUSH (EXT), 48-bit */
	id[87] = 0x4060;
	id[88] = 0x407f;		/* UDMA 0-6, mode 6 selected */
	id[100] = (uint16_t)n;
	id[101] = (uint16_t)(n >> 16);
	id[102] = (uint16_t)(n >> 32);
	id[103] = (uint16_t)(n >> 48);
	id[105] = p->readonly ? 0 : 1;	/* DSM: one 512-byte block of ranges */
	id[106] = 0x4000;		/* one 512-byte logical sector per physical */
	id[119] = id[120] = 0x4000;
	id[169] = p->readonly ? 0 : 1;	/* DSM TRIM */
	id[217] = 0x0001;		/* non-rotating medium */
	id[222] = 0x103f;		/* SATA, up to 3.0 */
	id_checksum(id);
}

void atapi_identify(const struct ahci_port *p, uint16_t *id)
{
	memset(id, 0, 512);
	/* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets. */
	id[0] = 0x85c0;
	id_string(id + 10, p->serial, 20);
	id_string(id + 23, firmware_rev, 8);
	id_string(id + 27, "MINIVMM DVD-ROM", 40);
	id[49] = 0x0b00;		/* IORDY, LBA, DMA */
	id[50] = 0x4000;
	id[53] = 0x0006;
	id[63] = 0x0007;
	id[64] = 0x0003;
	id[65] = id[66] = 0x00b4;
	id[67] = 0x012c;
	id[68] = 0x00b4;
	id[76] = 0x000e;		/* SATA speeds, no NCQ */
	id[77] = 0x0006;
	id[80] = 0x07f0;
	id[82] = 0x0210;		/* DEVICE RESET, PACKET feature set */
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = 0x0210;
	id[87] = 0x4000;
	id[88] = 0x407f;
	id[222] = 0x103f;
	id_checksum(id);
}

/* ---- reads, writes ------------------------------------------------------------ */

/* LBA48 from the Register H2D FIS (SATA §10.5.5: LBA in bytes 4-6, 8-10). */
static uint64_t fis_lba48(const uint8_t *f)
{
	return (uint64_t)f[4] | (uint64_t)f[5] << 8 | (uint64_t)f[6] << 16 |
	       (uint64_t)f[8] << 24 | (uint64_t)f[9] << 32 | (uint64_t)f[10] << 40;
}

static uint64_t fis_lba28(const uint8_t *f)
{
	return (uint64_t)f[4] | (uint64_t)f[5] << 8 | (uint64_t)f[6] << 16 |
	       (uint64_t)(f[7] & 0x0f) << 24;
}

static void out_lba(struct ahci_cmd *c, uint64_t lba, bool lba48)
{
	c->out[0] = (uint8_t)lba;
	c->out[1] = (uint8_t)(lba >> 8);
	c->out[2] = (uint8_t)(lba >> 16);
	c->out[3] = (uint8_t)(ATA_DEV_LBA | (lba48 ? 0 : (lba >> 24) & 0x0f));
	if (lba48) {
		c->out[4] = (uint8_t)(lba >> 24);
		c->out[5] = (uint8_t)(lba >> 32);
		c->out[6] = (uint8_t)(lba >> 40);
	}
}

static bool in_range(const struct ahci_port *p, uint64_t lba, uint64_t n)
{
	return lba <= p->blocks && n <= p->blocks - lba;
}

/* Read or write n sectors at lba straight between guest RAM and the image. */
static int ata_rw(struct ahci_port *p, struct ahci_cmd *c, uint64_t lba, uint32_t n, bool write,
		  bool fua)
{
	uint64_t len = (uint64_t)n * 512, mapped;
	int ret;

	c->lba = lba;
	c->count = n;
	if (write && p->readonly) {
		ahci_cmd_abort(c, ATA_ABRT);	/* readonly=on: the write is refused */
		return CMD_DONE;
	}
	if (!in_range(p, lba, n)) {
		/* ACS-3: an LBA outside the user-addressable range is IDNF. */
		ahci_cmd_abort(c, ATA_IDNF);
		out_lba(c, lba, true);
		return CMD_DONE;
	}
	ret = ahci_cmd_map(c, len, &mapped);
	if (ret || mapped < len) {
		ahci_cmd_prdt_error(c, ret ? ret : -ENOSPC);
		return CMD_DONE;
	}
	c->op = (struct blk_io_op){
		.kind = write ? BLK_IO_WRITE : BLK_IO_READ,
		.offset = lba * 512,
		.len = len,
		.iov = c->iov,
		.iovcnt = c->iovcnt,
		/* FUA, or no volatile write cache: durable on completion. */
		.dsync = write && (fua || !p->st.wcache),
	};
	if (ahci_cmd_queue(c, &c->op)) {
		ahci_cmd_abort(c, ATA_ABRT);	/* cannot happen: the ring has room */
		return CMD_DONE;
	}
	c->xfer = (uint32_t)len;
	return CMD_QUEUED;
}

static int ata_flush(struct ahci_port *p, struct ahci_cmd *c)
{
	ahci_cmd_ok(c);
	if (p->readonly)
		return CMD_DONE;	/* nothing can be dirty */
	/* Complete only once the data is on the image: fdatasync. */
	c->op = (struct blk_io_op){ .kind = BLK_IO_FLUSH };
	if (ahci_cmd_queue(c, &c->op)) {
		ahci_cmd_abort(c, ATA_ABRT);
		return CMD_DONE;
	}
	return CMD_QUEUED;
}

/* DATA SET MANAGEMENT, TRIM (ACS-3): 64 ranges of (LBA48, count16) per block. */
static int ata_dsm(struct ahci_port *p, struct ahci_cmd *c)
{
	uint32_t blocks = c->fis[12] | (uint32_t)c->fis[13] << 8;
	unsigned int nr = 0;
	int64_t got;

	c->proto = PROTO_DMA;
	if (!(c->fis[3] & 0x01) || p->readonly || blocks != 1) {
		ahci_cmd_abort(c, ATA_ABRT);	/* not TRIM, or more than word 105 */
		return CMD_DONE;
	}
	got = ahci_cmd_gather(c, p->scratch, 512);
	if (got < 512) {
		ahci_cmd_prdt_error(c, got < 0 ? (int)got : -ENOSPC);
		return CMD_DONE;
	}
	/* Every range checked before any is discarded. */
	for (unsigned int i = 0; i < AHCI_MAX_DSM_RANGES; i++) {
		const uint8_t *e = p->scratch + 8 * i;
		uint64_t v = get_le32(e) | (uint64_t)get_le32(e + 4) << 32;
		uint64_t lba = v & 0xffffffffffffull, n = v >> 48;

		if (n && !in_range(p, lba, n)) {
			ahci_cmd_abort(c, ATA_ABRT);
			return CMD_DONE;
		}
	}
	ahci_cmd_ok(c);
	for (unsigned int i = 0; i < AHCI_MAX_DSM_RANGES; i++) {
		const uint8_t *e = p->scratch + 8 * i;
		uint64_t v = get_le32(e) | (uint64_t)get_le32(e + 4) << 32;
		uint64_t lba = v & 0xffffffffffffull, n = v >> 48;

		if (!n)
			continue;
		p->dsm_ops[nr] = (struct blk_io_op){
			.kind = BLK_IO_DISCARD, .offset = lba * 512, .len = n * 512,
		};
		if (ahci_cmd_queue(c, &p->dsm_ops[nr]))
			break;		/* cannot happen; the others still complete */
		nr++;
	}
	return nr ? CMD_QUEUED : CMD_DONE;
}

void ata_io_done(struct ahci_port *p, struct ahci_cmd *c)
{
	uint8_t cmd = c->fis[2];
	bool read = cmd == ATA_READ_FPDMA || cmd == ATA_READ_DMA || cmd == ATA_READ_DMA_EXT ||
		    cmd == ATA_READ_DMA_NR || cmd == ATA_READ_SECTORS || cmd == ATA_READ_SECTORS_NR ||
		    cmd == ATA_READ_SECTORS_EXT || cmd == ATA_READ_MULTIPLE ||
		    cmd == ATA_READ_MULTIPLE_EXT;

	if (!c->io_failed) {
		ahci_cmd_ok(c);
		return;
	}
	/* Every host error reaches the guest: a failed read is an
	 * uncorrectable error at the command's LBA, anything else aborted. */
	ahci_cmd_abort(c, read ? ATA_UNC : ATA_ABRT);
	if (read)
		out_lba(c, c->lba, true);
}

/* ---- logs (ACS-3 chapter 9: the General Purpose Log directory, 10h) ------------ */

static int ata_read_log(struct ahci_port *p, struct ahci_cmd *c)
{
	uint8_t log = c->fis[4], *b = p->scratch, sum = 0;
	uint32_t page = c->fis[5] | (uint32_t)c->fis[9] << 8;
	uint32_t count = c->fis[12] | (uint32_t)c->fis[13] << 8;

	if (count != 1 || page || (log != LOG_DIRECTORY && log != LOG_NCQ_ERROR)) {
		ahci_cmd_abort(c, ATA_ABRT);	/* a log or page we do not have */
		return CMD_DONE;
	}
	memset(b, 0, 512);
	if (log == LOG_DIRECTORY) {
		b[0] = 0x01;			/* GPL version 1 */
		b[2 * LOG_NCQ_ERROR] = 1;	/* log 10h: one page */
	} else {
		if (p->st.ncq_err) {
			/* NQ clear: the failed command was queued, this tag. */
			b[0] = p->st.ncq_tag & 0x1f;
			b[2] = p->st.ncq_status;
			b[3] = p->st.ncq_error;
			b[4] = (uint8_t)p->st.ncq_lba;
			b[5] = (uint8_t)(p->st.ncq_lba >> 8);
			b[6] = (uint8_t)(p->st.ncq_lba >> 16);
			b[7] = ATA_DEV_LBA;
			b[8] = (uint8_t)(p->st.ncq_lba >> 24);
			b[9] = (uint8_t)(p->st.ncq_lba >> 32);
			b[10] = (uint8_t)(p->st.ncq_lba >> 40);
			b[12] = (uint8_t)p->st.ncq_count;
			b[13] = (uint8_t)(p->st.ncq_count >> 8);
		}
		/* Reading it ends the error condition (SATA §13.6, NCQ error handling). */
		p->st.ncq_err = false;
		for (unsigned int i = 0; i < 511; i++)
			sum = (uint8_t)(sum + b[i]);
		b[511] = (uint8_t)-sum;
	}
	ahci_cmd_ok(c);
	ahci_cmd_reply(c, b, 512);
	return CMD_DONE;
}

/* ---- SET FEATURES (ACS-3) -------------------------------------------------------- */

static int ata_set_features(struct ahci_port *p, struct ahci_cmd *c)
{
	switch (c->fis[3]) {
	case 0x02:			/* enable volatile write cache */
		p->st.wcache = true;
		break;
	case 0x82:			/* disable it: what it holds goes to the image */
		if (p->kind != AHCI_DRIVE_DISK)
			break;
		p->st.wcache = false;
		return ata_flush(p, c);
	case 0x03:			/* set transfer mode: any, the link is SATA */
	case 0x10: case 0x90:		/* enable/disable a SATA feature: accepted */
	case 0x55: case 0xaa:		/* read look-ahead off/on */
	case 0x66: case 0xcc:		/* (no) revert to power-on defaults */
		break;
	default:			/* APM, AAM, PUIS, ...: not supported */
		ahci_cmd_abort(c, ATA_ABRT);
		return CMD_DONE;
	}
	ahci_cmd_ok(c);
	return CMD_DONE;
}

/* ---- the commands ------------------------------------------------------------ */

/* The ATA commands of a PACKET device (ACS-3 "PACKET feature set"). */
static int packet_device(struct ahci_port *p, struct ahci_cmd *c)
{
	uint16_t id[256];

	switch (c->fis[2]) {
	case ATA_PACKET:
		return atapi_packet(p, c);
	case ATA_IDENTIFY_PACKET:
		c->proto = PROTO_PIO_IN;
		atapi_identify(p, id);
		id_store(p->scratch, id);
		ahci_cmd_ok(c);
		ahci_cmd_reply(c, p->scratch, 512);
		return CMD_DONE;
	case ATA_IDENTIFY:
		/* Aborted, with the signature that says "PACKET device". */
		ata_signature(p, &c->status, &c->error, c->out);
		ahci_cmd_abort(c, ATA_ABRT);
		return CMD_DONE;
	case ATA_DEVICE_RESET:
		ata_drive_reset(p);
		atapi_drive_reset(p);
		/* fall through */
	case ATA_EXEC_DIAG:
		ata_signature(p, &c->status, &c->error, c->out);
		return CMD_DONE;
	case ATA_CHECK_POWER_MODE:
		c->out[8] = 0xff;	/* active or idle */
		/* fall through */
	case ATA_IDLE_IMMEDIATE:
	case ATA_STANDBY_IMMEDIATE:
	case ATA_SLEEP:
		ahci_cmd_ok(c);
		return CMD_DONE;
	case ATA_SET_FEATURES:
		return ata_set_features(p, c);
	default:
		ahci_cmd_abort(c, ATA_ABRT);
		return CMD_DONE;
	}
}

int ata_start(struct ahci_port *p, struct ahci_cmd *c)
{
	const uint8_t *f = c->fis;
	uint32_t count28 = f[12] ? f[12] : 256, count48 = (f[12] | (uint32_t)f[13] << 8);
	uint16_t id[256];
	uint64_t max;

	if (!count48)
		count48 = 65536;
	if (p->kind == AHCI_DRIVE_CDROM)
		return packet_device(p, c);
	if (c->proto == PROTO_NCQ) {
		/* Count in Features, FUA in Device bit 7 (SATA §13.6: the FPDMA QUEUED commands). */
		uint32_t n = f[3] | (uint32_t)f[11] << 8;

		return ata_rw(p, c, fis_lba48(f), n ? n : 65536, f[2] == ATA_WRITE_FPDMA,
			      f[7] & 0x80);
	}
	switch (f[2]) {
	case ATA_READ_DMA:
	case ATA_READ_DMA_NR:
	case ATA_WRITE_DMA:
	case ATA_WRITE_DMA_NR:
	case ATA_READ_SECTORS:
	case ATA_READ_SECTORS_NR:
	case ATA_WRITE_SECTORS:
	case ATA_WRITE_SECTORS_NR:
	case ATA_READ_MULTIPLE:
	case ATA_WRITE_MULTIPLE: {
		bool write = f[2] == ATA_WRITE_DMA || f[2] == ATA_WRITE_DMA_NR ||
			     f[2] == ATA_WRITE_SECTORS || f[2] == ATA_WRITE_SECTORS_NR ||
			     f[2] == ATA_WRITE_MULTIPLE;

		c->proto = f[2] == ATA_READ_DMA || f[2] == ATA_READ_DMA_NR || f[2] == ATA_WRITE_DMA ||
			   f[2] == ATA_WRITE_DMA_NR ? PROTO_DMA : write ? PROTO_PIO_OUT : PROTO_PIO_IN;
		/* 28-bit commands address by LBA only: CHS was retired in
		 * ATA8-ACS, and IDENTIFY says LBA. */
		if (!(f[7] & ATA_DEV_LBA) ||
		    ((f[2] == ATA_READ_MULTIPLE || f[2] == ATA_WRITE_MULTIPLE) && !p->st.multiple)) {
			ahci_cmd_abort(c, ATA_ABRT);
			return CMD_DONE;
		}
		return ata_rw(p, c, fis_lba28(f), count28, write, false);
	}
	case ATA_READ_DMA_EXT:
	case ATA_WRITE_DMA_EXT:
	case ATA_WRITE_DMA_FUA_EXT:
	case ATA_READ_SECTORS_EXT:
	case ATA_WRITE_SECTORS_EXT:
	case ATA_READ_MULTIPLE_EXT:
	case ATA_WRITE_MULTIPLE_EXT:
	case ATA_WRITE_MULTIPLE_FUA_EXT: {
		bool write = f[2] == ATA_WRITE_DMA_EXT || f[2] == ATA_WRITE_DMA_FUA_EXT ||
			     f[2] == ATA_WRITE_SECTORS_EXT || f[2] == ATA_WRITE_MULTIPLE_EXT ||
			     f[2] == ATA_WRITE_MULTIPLE_FUA_EXT;
		bool fua = f[2] == ATA_WRITE_DMA_FUA_EXT || f[2] == ATA_WRITE_MULTIPLE_FUA_EXT;
		bool multi = f[2] == ATA_READ_MULTIPLE_EXT || f[2] == ATA_WRITE_MULTIPLE_EXT ||
			     f[2] == ATA_WRITE_MULTIPLE_FUA_EXT;

		c->proto = f[2] == ATA_READ_DMA_EXT || f[2] == ATA_WRITE_DMA_EXT ||
			   f[2] == ATA_WRITE_DMA_FUA_EXT ? PROTO_DMA : write ? PROTO_PIO_OUT : PROTO_PIO_IN;
		if (multi && !p->st.multiple) {
			ahci_cmd_abort(c, ATA_ABRT);
			return CMD_DONE;
		}
		return ata_rw(p, c, fis_lba48(f), count48, write, fua);
	}
	case ATA_READ_VERIFY:
	case ATA_READ_VERIFY_NR:
	case ATA_READ_VERIFY_EXT: {
		bool ext = f[2] == ATA_READ_VERIFY_EXT;
		uint64_t lba = ext ? fis_lba48(f) : fis_lba28(f);

		/* The image has no unreadable sector: only the range matters. */
		if (in_range(p, lba, ext ? count48 : count28)) {
			ahci_cmd_ok(c);
		} else {
			ahci_cmd_abort(c, ATA_IDNF);
			out_lba(c, lba, ext);
		}
		return CMD_DONE;
	}
	case ATA_FLUSH_CACHE:
	case ATA_FLUSH_CACHE_EXT:
		return ata_flush(p, c);
	case ATA_DSM:
		return ata_dsm(p, c);
	case ATA_IDENTIFY:
		c->proto = PROTO_PIO_IN;
		ata_identify(p, id);
		id_store(p->scratch, id);
		ahci_cmd_ok(c);
		ahci_cmd_reply(c, p->scratch, 512);
		return CMD_DONE;
	case ATA_READ_LOG_EXT:
	case ATA_READ_LOG_DMA_EXT:
		c->proto = f[2] == ATA_READ_LOG_EXT ? PROTO_PIO_IN : PROTO_DMA;
		return ata_read_log(p, c);
	case ATA_SET_FEATURES:
		return ata_set_features(p, c);
	case ATA_SET_MULTIPLE:
		/* ACS-3: a power of two up to word 47's maximum, 0 disables. */
		if (f[12] > ATA_MAX_MULTIPLE || (f[12] & (f[12] - 1))) {
			ahci_cmd_abort(c, ATA_ABRT);
			return CMD_DONE;
		}
		p->st.multiple = f[12];
		ahci_cmd_ok(c);
		return CMD_DONE;
	case ATA_READ_NATIVE_MAX:
	case ATA_READ_NATIVE_MAX_EXT:
		max = p->blocks - 1;
		if (f[2] == ATA_READ_NATIVE_MAX && max > 0x0fffffff)
			max = 0x0fffffff;
		ahci_cmd_ok(c);
		out_lba(c, max, f[2] == ATA_READ_NATIVE_MAX_EXT);
		return CMD_DONE;
	case ATA_EXEC_DIAG:
		ata_signature(p, &c->status, &c->error, c->out);
		return CMD_DONE;
	case ATA_CHECK_POWER_MODE:
		c->out[8] = 0xff;	/* active or idle */
		ahci_cmd_ok(c);
		return CMD_DONE;
	case ATA_IDLE:
	case ATA_IDLE_IMMEDIATE:
	case ATA_STANDBY:
	case ATA_STANDBY_IMMEDIATE:
	case ATA_SLEEP:
	case ATA_INIT_DEV_PARAMS:
		ahci_cmd_ok(c);
		return CMD_DONE;
	case ATA_NOP:			/* ACS-3: NOP always ends in ABRT */
	default:
		/* Not a command of ours (SMART, SECURITY, DOWNLOAD MICROCODE,
		 * PACKET on a disk, queued commands sent non-queued, ...). */
		ahci_cmd_abort(c, ATA_ABRT);
		return CMD_DONE;
	}
}
