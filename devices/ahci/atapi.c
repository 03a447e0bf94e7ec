// SPDX-License-Identifier: MIT
/*
 * The CD/DVD-ROM drive behind an AHCI port: the MMC-6 / SPC-4 commands of
 * a PACKET command (ATA8-ACS "PACKET feature set") that OVMF, Windows
 * Setup and Linux's sr_mod/cdrom issue, on a read-only image of 2048-byte
 * blocks. Runs on the port's I/O thread. READ(10)/(12)/READ CD go through
 * the io_uring engine straight into the PRDT's guest RAM; every other
 * reply is built in the port's scratch buffer.
 *
 * A command that fails ends in CHECK CONDITION: status ERR, the sense key
 * in Error bits 7:4, and the sense data kept for REQUEST SENSE (SPC-4
 * §4.5: fixed format). After power-on or a reset the drive holds a UNIT
 * ATTENTION (29h/00h) that the first command other than INQUIRY, REQUEST
 * SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION reports, as
 * drives do (MMC-6 §4.1.6.1). The medium is fixed: it is always present
 * and cannot be ejected.
 */
#include <string.h>

#include "devices/ahci/ahci_internal.h"

/* Sense keys and additional sense codes (SPC-4 §4.5.6 and annex D). */
#define SK_NO_SENSE		0x0
#define SK_MEDIUM_ERROR		0x3
#define SK_ILLEGAL_REQUEST	0x5
#define SK_UNIT_ATTENTION	0x6
#define SK_ABORTED_COMMAND	0xb
#define ASC_UNRECOVERED_READ	0x11
#define ASC_INVALID_OPCODE	0x20
#define ASC_LBA_OUT_OF_RANGE	0x21
#define ASC_INVALID_FIELD	0x24
#define ASC_RESET		0x29
#define ASC_INCOMPATIBLE_MEDIUM	0x30
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_REMOVAL_PREVENTED	0x53

#define ALLOW_UA		0x01	/* runs under a pending unit attention */

#define PROFILE_CD_ROM		0x0008
#define PROFILE_DVD_ROM		0x0010

static const char vendor[] = "MINIVMM ";
static const char product[] = "MINIVMM DVD-ROM ";
static const char revision[] = "0.1 ";

void atapi_drive_reset(struct ahci_port *p)
{
	p->st.sense_key = SK_NO_SENSE;
	p->st.asc = p->st.ascq = 0;
	p->st.unit_attention = p->hba->reset_ua;
	p->st.prevent = false;
}

/* ---- outcomes ------------------------------------------------------------------ */

/* ATAPI completion: Interrupt Reason I/O and C/D set (ATA8-ACS PACKET). */
static void atapi_good(struct ahci_port *p, struct ahci_cmd *c)
{
	ahci_cmd_ok(c);
	c->out[8] = 0x03;
	p->st.sense_key = SK_NO_SENSE;
	p->st.asc = p->st.ascq = 0;
}

static void atapi_check(struct ahci_port *p, struct ahci_cmd *c, uint8_t key, uint8_t asc,
			uint8_t ascq)
{
	p->st.sense_key = key;
	p->st.asc = asc;
	p->st.ascq = ascq;
	/* CHECK CONDITION: ERR, Error = sense key << 4 (ABRT for an invalid
	 * command or parameter). */
	ahci_cmd_abort(c, (uint8_t)(key << 4 | (key == SK_ILLEGAL_REQUEST ? ATA_ABRT : 0)));
	c->out[8] = 0x03;
}

/* A reply of len bytes, cut to the allocation length and to the PRDT. */
static int atapi_reply(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *buf, uint32_t len,
		       uint32_t alloc)
{
	atapi_good(p, c);
	ahci_cmd_reply(c, buf, len < alloc ? len : alloc);
	if (c->status & ATA_ERR)
		c->out[8] = 0x03;	/* the PRDT was unusable (HBFS or ABRT) */
	return CMD_DONE;
}

static int invalid_field(struct ahci_port *p, struct ahci_cmd *c)
{
	atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
	return CMD_DONE;
}

static void pad(uint8_t *dst, const char *s, size_t len)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < len; i++)
		dst[i] = i < n ? (uint8_t)s[i] : ' ';
}

/* MSF of an LBA (MMC-6, "MSF addressing"): 150 blocks of lead-in;
 * the minutes saturate where a DVD runs past 255. */
static void put_msf(uint8_t *b, uint64_t lba)
{
	uint64_t f = lba + 150;

	if (f / 75 / 60 > 255) {
		b[0] = 0;
		b[1] = 255;
		b[2] = 59;
		b[3] = 74;
		return;
	}
	b[0] = 0;
	b[1] = (uint8_t)(f / 75 / 60);
	b[2] = (uint8_t)(f / 75 % 60);
	b[3] = (uint8_t)(f % 75);
}

static void put_addr(uint8_t *b, uint64_t lba, bool msf)
{
	if (msf)
		put_msf(b, lba);
	else
		put_be32(b, (uint32_t)lba);
}

/* ---- SPC commands ---------------------------------------------------------------- */

/* REQUEST SENSE (SPC-4): fixed-format sense data (SPC-4 §4.5.3), then cleared. */
static int cmd_request_sense(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint8_t *b = p->scratch, key = p->st.sense_key, asc = p->st.asc, ascq = p->st.ascq;

	if (p->st.unit_attention) {
		p->st.unit_attention = false;
		key = SK_UNIT_ATTENTION;
		asc = ASC_RESET;
		ascq = 0;
	}
	memset(b, 0, 18);
	b[0] = 0x70;			/* current error, fixed format */
	b[2] = key;
	b[7] = 10;			/* additional sense length */
	b[12] = asc;
	b[13] = ascq;
	atapi_reply(p, c, b, 18, cdb[4]);
	return CMD_DONE;
}

/* INQUIRY (SPC-4): standard data, VPD pages 00h, 80h (serial), 83h. */
static int cmd_inquiry(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint32_t alloc = get_be16(cdb + 3);
	uint8_t *b = p->scratch;
	uint32_t len;

	memset(b, 0, 128);
	b[0] = 0x05;			/* peripheral: CD/DVD device */
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return invalid_field(p, c);
		b[1] = 0x80;		/* removable medium */
		b[2] = 0x05;		/* SPC-3 */
		b[3] = 0x02;		/* response data format 2 */
		b[4] = 36 - 5;
		pad(b + 8, vendor, 8);
		pad(b + 16, product, 16);
		pad(b + 32, revision, 4);
		return atapi_reply(p, c, b, 36, alloc);
	}
	b[1] = cdb[2];
	switch (cdb[2]) {
	case 0x00:			/* supported VPD pages */
		b[3] = 3;
		b[4] = 0x00;
		b[5] = 0x80;
		b[6] = 0x83;
		len = 7;
		break;
	case 0x80:			/* unit serial number */
		b[3] = 20;
		pad(b + 4, p->serial, 20);
		len = 24;
		break;
	case 0x83:			/* device identification: T10 vendor ID, as libata */
		b[3] = 72;
		b[4] = 0x02;		/* ASCII */
		b[5] = 0x01;		/* logical unit, T10 vendor ID based */
		b[7] = 68;
		pad(b + 8, "ATA", 8);
		pad(b + 16, "MINIVMM DVD-ROM", 40);
		pad(b + 56, p->serial, 20);
		len = 76;
		break;
	default:
		return invalid_field(p, c);
	}
	return atapi_reply(p, c, b, len, alloc);
}

/* ---- MMC: capacity, reads ---------------------------------------------------- */

static int cmd_read_capacity(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint8_t *b = p->scratch;

	put_be32(b, (uint32_t)(p->blocks - 1));	/* the last block */
	put_be32(b + 4, 2048);
	return atapi_reply(p, c, b, 8, 8);
}

/* READ(10), READ(12), READ CD with user data (MMC-6): straight into the
 * PRDT's guest RAM through the engine. */
static int atapi_read(struct ahci_port *p, struct ahci_cmd *c, uint64_t lba, uint64_t n)
{
	uint64_t len = n * 2048, mapped;
	int ret;

	if (!n) {
		atapi_good(p, c);
		return CMD_DONE;
	}
	if (lba >= p->blocks || n > p->blocks - lba) {
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return CMD_DONE;
	}
	if (len > UINT32_MAX) {		/* more than PRDBC can count */
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
		return CMD_DONE;
	}
	ret = ahci_cmd_map(c, len, &mapped);
	if (ret == -EFAULT) {
		ahci_cmd_prdt_error(c, ret);
		return CMD_DONE;
	}
	if (ret || mapped < len) {
		/* The data cannot all move: aborted (and OFS when short). */
		c->err_is |= ret ? 0 : PXIS_OFS;
		atapi_check(p, c, SK_ABORTED_COMMAND, 0, 0);
		return CMD_DONE;
	}
	c->op = (struct blk_io_op){
		.kind = BLK_IO_READ, .offset = lba * 2048, .len = len,
		.iov = c->iov, .iovcnt = c->iovcnt,
	};
	if (ahci_cmd_queue(c, &c->op)) {
		atapi_check(p, c, SK_ABORTED_COMMAND, 0, 0);
		return CMD_DONE;
	}
	c->lba = lba;
	c->xfer = (uint32_t)len;
	return CMD_QUEUED;
}

void atapi_io_done(struct ahci_port *p, struct ahci_cmd *c)
{
	uint32_t xfer = c->xfer;

	if (c->io_failed) {
		atapi_check(p, c, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
		return;
	}
	atapi_good(p, c);
	c->xfer = xfer;
}

static int cmd_read10(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	return atapi_read(p, c, get_be32(cdb + 2), get_be16(cdb + 7));
}

static int cmd_read12(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	return atapi_read(p, c, get_be32(cdb + 2), get_be32(cdb + 6));
}

/* READ CD (MMC-6): user data of mode 1 / "any" sectors only; no raw
 * sectors, headers, subchannels or C2 (the image has none). */
static int cmd_read_cd(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint32_t n = (uint32_t)cdb[6] << 16 | (uint32_t)cdb[7] << 8 | cdb[8];
	unsigned int type = (cdb[1] >> 2) & 7;

	if ((type != 0 && type != 2) || cdb[10] & 0x07)
		return invalid_field(p, c);
	if ((cdb[9] & 0xf8) == 0x00) {	/* nothing asked for */
		atapi_good(p, c);
		return CMD_DONE;
	}
	if ((cdb[9] & 0xf8) != 0x10)
		return invalid_field(p, c);
	return atapi_read(p, c, get_be32(cdb + 2), n);
}

static int cmd_seek(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	if (get_be32(cdb + 2) >= p->blocks)
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
	else
		atapi_good(p, c);
	return CMD_DONE;
}

/* ---- MMC: the disc --------------------------------------------------------------- */

/* READ TOC/PMA/ATIP (MMC-6): one session, one data track, the lead-out. */
static int cmd_read_toc(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	bool msf = cdb[1] & 0x02;
	unsigned int format = cdb[2] & 0x0f, track = cdb[6];
	uint32_t alloc = get_be16(cdb + 7), len;
	uint8_t *b = p->scratch;

	/* Format in bits 7:6 of the Control byte: the SFF-8020 form older
	 * drivers (and Windows) still send. */
	if (!format)
		format = cdb[9] >> 6;
	memset(b, 0, 64);
	b[2] = b[3] = 1;		/* first, last track (session) */
	switch (format) {
	case 0:				/* formatted TOC */
		if (track > 1 && track != 0xaa)
			return invalid_field(p, c);
		len = 4;
		if (track <= 1) {
			b[len + 1] = 0x14;	/* ADR 1, data track */
			b[len + 2] = 1;
			put_addr(b + len + 4, 0, msf);
			len += 8;
		}
		b[len + 1] = 0x14;
		b[len + 2] = 0xaa;	/* lead-out */
		put_addr(b + len + 4, p->blocks, msf);
		len += 8;
		break;
	case 1:				/* multi-session information */
		b[5] = 0x14;
		b[6] = 1;		/* first track of the last session */
		put_addr(b + 8, 0, msf);
		len = 12;
		break;
	case 2: {			/* raw TOC: points A0h, A1h, A2h, track 1 */
		static const uint8_t point[] = { 0xa0, 0xa1, 0xa2, 0x01 };

		len = 4;
		for (unsigned int i = 0; i < 4; i++, len += 11) {
			uint8_t *d = b + len;

			d[0] = 1;		/* session */
			d[1] = 0x14;
			d[3] = point[i];
			if (point[i] == 0xa0)
				d[8] = 1;	/* first track; disc type 0 */
			else if (point[i] == 0xa1)
				d[8] = 1;	/* last track */
			else if (point[i] == 0xa2)
				put_addr(d + 7, p->blocks, msf);
			else
				put_addr(d + 7, 0, msf);
		}
		break;
	}
	default:
		return invalid_field(p, c);
	}
	put_be16(b, (uint16_t)(len - 2));
	return atapi_reply(p, c, b, len, alloc);
}

/* READ DISC INFORMATION (MMC-6): a finalised, single-session disc. */
static int cmd_read_disc_info(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint8_t *b = p->scratch;

	if (cdb[1] & 0x07)
		return invalid_field(p, c);	/* track/POW resources: BD/RW only */
	memset(b, 0, 34);
	b[1] = 32;
	b[2] = 0x0e;			/* last session complete, disc finalised */
	b[3] = b[4] = b[5] = b[6] = 1;	/* first track; sessions; first/last track */
	b[7] = 0x20;			/* unrestricted use */
	return atapi_reply(p, c, b, 34, get_be16(cdb + 7));
}

/* READ TRACK INFORMATION (MMC-6): track 1 spans the disc. */
static int cmd_read_track_info(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint32_t addr = get_be32(cdb + 2);
	uint8_t *b = p->scratch;

	switch (cdb[1] & 0x03) {
	case 0:				/* the track holding LBA addr */
		if (addr >= p->blocks) {
			atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
			return CMD_DONE;
		}
		break;
	case 1:				/* track number */
	case 2:				/* session number */
		if (addr != 1)
			return invalid_field(p, c);
		break;
	default:
		return invalid_field(p, c);
	}
	memset(b, 0, 48);
	put_be16(b, 46);
	b[2] = 1;			/* track */
	b[3] = 1;			/* session */
	b[5] = 0x04;			/* data track, recorded uninterrupted */
	b[6] = 0x01;			/* data mode 1 */
	put_be32(b + 24, (uint32_t)p->blocks);		/* track size */
	put_be32(b + 28, (uint32_t)(p->blocks - 1));	/* last recorded address */
	return atapi_reply(p, c, b, 48, get_be16(cdb + 7));
}

/* READ DVD STRUCTURE (MMC-6): physical format, copyright, manufacturing,
 * and the list of those; a CD has none of them. */
static int cmd_read_dvd_structure(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	unsigned int format = cdb[7];
	uint8_t *b = p->scratch;
	uint32_t len;

	if ((cdb[1] & 0x0f) || cdb[6])
		return invalid_field(p, c);	/* media type DVD, layer 0 only */
	if (format != 0xff && !p->dvd) {
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_INCOMPATIBLE_MEDIUM, 0x02);
		return CMD_DONE;
	}
	memset(b, 0, 2048 + 4);
	switch (format) {
	case 0x00:			/* physical format information */
		b[4] = 0x01;		/* DVD-ROM, version 1 */
		b[5] = 0x0f;		/* 120 mm, no maximum rate */
		b[6] = 0x01;		/* one layer, read-only */
		put_be32(b + 12, (uint32_t)(p->blocks - 1));
		put_be32(b + 16, (uint32_t)(p->blocks - 1));
		len = 2048 + 4;
		break;
	case 0x01:			/* copyright: none, no region restriction */
		len = 8;
		break;
	case 0x04:			/* disc manufacturing information */
		len = 2048 + 4;
		break;
	case 0xff:			/* the structures above */
		b[4] = 0x00, b[5] = 0x40, put_be16(b + 6, 2048 + 4);
		b[8] = 0x01, b[9] = 0x40, put_be16(b + 10, 4 + 4);
		b[12] = 0x04, b[13] = 0x40, put_be16(b + 14, 2048 + 4);
		len = 16;
		break;
	default:
		return invalid_field(p, c);
	}
	put_be16(b, (uint16_t)(len - 2));
	return atapi_reply(p, c, b, len, get_be16(cdb + 8));
}

/* ---- MMC: features, events, modes ------------------------------------------ */

static uint32_t feature(uint8_t *b, uint16_t code, uint8_t version, bool persistent, bool current,
			const uint8_t *data, uint8_t len)
{
	put_be16(b, code);
	b[2] = (uint8_t)(version << 2 | persistent << 1 | current);
	b[3] = len;
	memcpy(b + 4, data, len);
	return 4u + len;
}

/*
 * GET CONFIGURATION (MMC-6, chapter 5 "Features and Profiles"): the DVD-ROM and CD-ROM profiles
 * (the current one by the image's size, as QEMU), Core (ATAPI), Morphing,
 * Removable Medium (tray, lockable, no eject), Random Readable, CD Read,
 * DVD Read, Power Management.
 */
static int cmd_get_configuration(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	unsigned int rt = cdb[1] & 0x03, start = get_be16(cdb + 2);
	uint8_t *b = p->scratch, d[16];
	bool dvd = p->dvd;
	uint32_t len = 8;
	static const struct {
		uint16_t code;
		uint8_t version;
		bool persistent;
	} list[] = {
		{ 0x0000, 0, true }, { 0x0001, 1, true }, { 0x0002, 1, true },
		{ 0x0003, 0, true }, { 0x0010, 0, false }, { 0x001e, 2, false },
		{ 0x001f, 0, false }, { 0x0100, 0, true },
	};

	if (rt == 3)
		return invalid_field(p, c);
	memset(b, 0, 256);
	put_be16(b + 6, dvd ? PROFILE_DVD_ROM : PROFILE_CD_ROM);
	for (unsigned int i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		uint16_t code = list[i].code;
		bool current = code == 0x001e ? !dvd : code == 0x001f ? dvd : true;
		uint8_t n = 0;

		if (code < start || (rt == 1 && !current) || (rt == 2 && code != start))
			continue;
		memset(d, 0, sizeof(d));
		switch (code) {
		case 0x0000:		/* profile list */
			put_be16(d, PROFILE_DVD_ROM);
			d[2] = dvd;
			put_be16(d + 4, PROFILE_CD_ROM);
			d[6] = !dvd;
			n = 8;
			break;
		case 0x0001:		/* core: physical interface ATAPI */
			put_be32(d, 0x00000002);
			n = 8;
			break;
		case 0x0002:		/* morphing: polled GESN */
		case 0x001e:		/* CD read: no CD-Text, no C2 */
			n = 4;
			break;
		case 0x0003:		/* removable medium: tray, no eject, lockable */
			d[0] = 0x20 | 0x04 | 0x01;
			n = 4;
			break;
		case 0x0010:		/* random readable */
			put_be32(d, 2048);
			put_be16(d + 4, dvd ? 16 : 1);
			n = 8;
			break;
		default:		/* DVD read (v0), power management: no data */
			break;
		}
		len += feature(b + len, code, list[i].version, list[i].persistent, current, d, n);
	}
	put_be32(b, len - 4);
	return atapi_reply(p, c, b, len, get_be16(cdb + 7));
}

/* GET EVENT STATUS NOTIFICATION (MMC-6), polled, media class: the medium
 * is always present and never changes. */
static int cmd_gesn(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint8_t *b = p->scratch;
	uint32_t len;

	if (!(cdb[1] & 0x01))
		return invalid_field(p, c);	/* asynchronous mode: not supported */
	memset(b, 0, 8);
	b[3] = 1 << 4;			/* supported: media class */
	if (cdb[4] & (1 << 4)) {
		b[2] = 4;		/* media class */
		b[4] = 0;		/* no change */
		b[5] = 0x02;		/* media present, tray closed */
		len = 8;
	} else {
		b[2] = 0x80;		/* no event available */
		len = 4;
	}
	put_be16(b, (uint16_t)(len - 2));
	return atapi_reply(p, c, b, len, get_be16(cdb + 7));
}

/* One mode page at b (current values, or all zero for "changeable"). */
static uint32_t mode_page(const struct ahci_port *p, uint8_t *b, unsigned int page, bool changeable)
{
	uint32_t len;

	switch (page) {
	case 0x01:			/* read/write error recovery */
		len = 12;
		memset(b, 0, len);
		if (!changeable)
			b[3] = 5;	/* read retry count */
		break;
	case 0x0e:			/* CD audio control: ports 0/1 -> channels 0/1 */
		len = 16;
		memset(b, 0, len);
		if (!changeable) {
			b[8] = 0x01, b[9] = 0xff;
			b[10] = 0x02, b[11] = 0xff;
		}
		break;
	case 0x2a:			/* CD/DVD capabilities and mechanical status */
		len = 22;
		memset(b, 0, len);
		if (!changeable) {
			b[2] = 0x3b;	/* reads CD-R/RW, DVD-ROM/R/RAM */
			b[4] = 0x71;	/* audio play (Linux's cdrom checks it), ... */
			b[5] = 0x60;
			b[6] = (uint8_t)(0x20 | 0x01 | (p->st.prevent ? 0x02 : 0));	/* tray, lock */
			put_be16(b + 8, 704);	/* 4x, in kB/s */
			put_be16(b + 10, 2);
			put_be16(b + 12, 512);
			put_be16(b + 14, 704);
		}
		break;
	default:
		return 0;
	}
	b[0] = (uint8_t)page;
	b[1] = (uint8_t)(len - 2);
	return len;
}

/* MODE SENSE(6)/(10) (SPC-4; MMC-6 mode pages): 01h, 0Eh, 2Ah, 3Fh (all). */
static int cmd_mode_sense(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	bool ten = cdb[0] == 0x5a, changeable = (cdb[2] >> 6) == 1;
	unsigned int page = cdb[2] & 0x3f, hdr = ten ? 8 : 4;
	uint32_t alloc = ten ? get_be16(cdb + 7) : cdb[4], len = hdr;
	uint8_t *b = p->scratch;

	if ((cdb[2] >> 6) == 3) {
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
		return CMD_DONE;
	}
	if (cdb[3] && cdb[3] != 0xff)
		return invalid_field(p, c);	/* subpages: none */
	memset(b, 0, hdr);
	if (page == 0x3f) {
		len += mode_page(p, b + len, 0x01, changeable);
		len += mode_page(p, b + len, 0x0e, changeable);
		len += mode_page(p, b + len, 0x2a, changeable);
	} else {
		uint32_t n = mode_page(p, b + len, page, changeable);

		if (!n)
			return invalid_field(p, c);
		len += n;
	}
	/* No block descriptors; medium type and device-specific 0. */
	if (ten)
		put_be16(b, (uint16_t)(len - 2));
	else
		b[0] = (uint8_t)(len - 1);
	return atapi_reply(p, c, b, len, alloc);
}

/* START STOP UNIT (MMC-6): the medium stays; an eject is refused. */
static int cmd_start_stop(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	bool loej = cdb[4] & 0x02, start = cdb[4] & 0x01;

	if ((cdb[4] >> 4) == 0 && loej && !start) {
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
		return CMD_DONE;
	}
	atapi_good(p, c);
	return CMD_DONE;
}

static int cmd_prevent_allow(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	p->st.prevent = cdb[4] & 0x01;
	atapi_good(p, c);
	return CMD_DONE;
}

static int cmd_mechanism_status(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	uint8_t *b = p->scratch;

	memset(b, 0, 8);		/* no changer, no fault, no slots */
	return atapi_reply(p, c, b, 8, get_be16(cdb + 8));
}

/* TEST UNIT READY (always ready), MODE SELECT (parameters ignored), SET
 * CD SPEED, SET STREAMING, SYNCHRONIZE CACHE (nothing to write). */
static int cmd_ok(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb)
{
	atapi_good(p, c);
	return CMD_DONE;
}

static const struct {
	int (*fn)(struct ahci_port *p, struct ahci_cmd *c, const uint8_t *cdb);
	unsigned int flags;
} commands[256] = {
	[0x00] = { cmd_ok, 0 },			/* TEST UNIT READY */
	[0x03] = { cmd_request_sense, ALLOW_UA },
	[0x12] = { cmd_inquiry, ALLOW_UA },
	[0x15] = { cmd_ok, 0 },			/* MODE SELECT(6) */
	[0x1a] = { cmd_mode_sense, 0 },
	[0x1b] = { cmd_start_stop, 0 },
	[0x1e] = { cmd_prevent_allow, 0 },
	[0x25] = { cmd_read_capacity, 0 },
	[0x28] = { cmd_read10, 0 },
	[0x2b] = { cmd_seek, 0 },
	[0x35] = { cmd_ok, 0 },			/* SYNCHRONIZE CACHE(10) */
	[0x43] = { cmd_read_toc, 0 },
	[0x46] = { cmd_get_configuration, ALLOW_UA },
	[0x4a] = { cmd_gesn, ALLOW_UA },
	[0x51] = { cmd_read_disc_info, 0 },
	[0x52] = { cmd_read_track_info, 0 },
	[0x55] = { cmd_ok, 0 },			/* MODE SELECT(10) */
	[0x5a] = { cmd_mode_sense, 0 },
	[0xa8] = { cmd_read12, 0 },
	[0xad] = { cmd_read_dvd_structure, 0 },
	[0xb6] = { cmd_ok, 0 },			/* SET STREAMING */
	[0xbb] = { cmd_ok, 0 },			/* SET CD SPEED */
	[0xbd] = { cmd_mechanism_status, 0 },
	[0xbe] = { cmd_read_cd, 0 },
};

int atapi_packet(struct ahci_port *p, struct ahci_cmd *c)
{
	const uint8_t *cdb = c->acmd;

	/* Features bit 0: DMA, else PIO (ATA8-ACS PACKET); AHCI moves the
	 * data through the PRDT either way, only the FISes differ. */
	c->proto = c->fis[3] & 0x01 ? PROTO_DMA : PROTO_ATAPI_PIO;
	if (!commands[cdb[0]].fn) {
		atapi_check(p, c, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		return CMD_DONE;
	}
	if (p->st.unit_attention && !(commands[cdb[0]].flags & ALLOW_UA)) {
		/* Reported once, then gone (SPC-4 "unit attention condition"). */
		p->st.unit_attention = false;
		atapi_check(p, c, SK_UNIT_ATTENTION, ASC_RESET, 0);
		return CMD_DONE;
	}
	return commands[cdb[0]].fn(p, c, cdb);
}
