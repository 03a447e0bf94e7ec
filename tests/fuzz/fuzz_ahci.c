// SPDX-License-Identifier: MIT
/*
 * The ICH9 AHCI controller (devices/ahci/) as a hostile guest drives it:
 * config space (MSI, BARs), ABAR and the index/data pair at any width and
 * offset, the three resets, and commands built from the input — a command
 * header (any flags, CFL, PRDTL), a Register H2D FIS (any command, LBA,
 * count, features, C bit, SRST), an ATAPI packet, a PRDT of up to eight
 * entries anywhere (edges of RAM regions, the holes, past RAM, a table at
 * the end of RAM) — issued through PxSACT/PxCI on a SATA disk (port 0,
 * 256 KiB; read-only when the prefix says so), a CD-ROM (port 1, 128 KiB)
 * and the empty ports, in real guest RAM (mem_layout() + mem_alloc(),
 * 64 MiB, with the VGA and isa-bios holes).
 *
 * The engine runs in manual mode (ahci_port_poll() does on this thread what
 * a port's I/O thread does, the same code), so runs repeat. After every
 * poll, differential invariants against a model of the disk kept here:
 *   - every byte of the image that changed was written by a write command
 *     of this batch whose PRDT holds that byte at that place (guest RAM as
 *     the harness gathers it), or zeroed by a TRIM range;
 *   - a read that completed (PxCI/PxSACT bit cleared) of a batch with no
 *     write left the image's bytes in its PRDT's RAM (when it aliases
 *     nothing);
 *   - guest RAM in the harness's area changed only in the FIS areas, the
 *     PRDBC dwords of issued headers and the PRDT ranges of data-in
 *     commands; the holes of guest RAM are never written;
 *   - the CD-ROM image never changes; the image never grows;
 * and at the end of an input every bus range, irqfd, MSI route and file
 * descriptor the device had is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ahci/ahci.h"
#include "devices/ahci/ahci_internal.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/pcie_regs.h"
#include "devices/q35/lpc.h"
#include "lib/memory.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define RAM_SIZE	(64 * MiB)
#define ISA_ROM		(128 * KiB)
#define CANARY		0xcc
#define DISK_SIZE	(256 * KiB)
#define CD_SIZE		(128 * KiB)
#define ABAR		0xe0000000ULL
#define IDP		0xc000
#define AREA		0x100000ULL		/* the harness's structures and data */
#define AREA_END	0x300000ULL
#define CLB(p)		(0x100000ULL + 0x400ULL * (p))
#define FB(p)		(0x102000ULL + 0x100ULL * (p))
#define CTBA(p, s)	(0x110000ULL + 0x10000ULL * (p) + 0x800ULL * (s))
#define DATA		0x200000ULL
#define DATA_SIZE	0x100000ULL
#define MAX_PRD		8
#define MAX_PENDING	64
#define TABLE_PRDS	((0x800 - CMDT_PRDT) / PRD_SIZE)	/* before the next slot's table */

static struct guest_mem mem;
static char disk_path[64], ro_path[64], cd_path[64];
static uint8_t disk_ref[DISK_SIZE], cd_ref[CD_SIZE], shadow[DISK_SIZE], image[DISK_SIZE];
static uint8_t canary_ref[MEM_VGA_END - MEM_VGA_BASE];
static uint8_t *area_before;
static bool punch;

/* RAM outside the area that reads may have written this input. */
#define MAX_DIRTY	256
static struct { uint64_t gpa, len; } dirty[MAX_DIRTY];
static unsigned int nr_dirty;
static bool dirty_all;

static void fill_holes(void)
{
	memset(mem.base + MEM_VGA_BASE, CANARY, MEM_VGA_END - MEM_VGA_BASE);
	memset(mem.base + MEM_ISA_BIOS_END - ISA_ROM, CANARY, ISA_ROM);
}

static void check_holes(void)
{
	FZ_CHECK(!memcmp(mem.base + MEM_VGA_BASE, canary_ref, sizeof(canary_ref)),
		 "the VGA hole of guest RAM was written");
	FZ_CHECK(!memcmp(mem.base + MEM_ISA_BIOS_END - ISA_ROM, canary_ref, ISA_ROM),
		 "the isa-bios hole of guest RAM was written");
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY);

	FZ_CHECK(fd >= 0 && pwrite(fd, buf, len, 0) == (ssize_t)len, "cannot write %s", path);
	close(fd);
}

static void read_file(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	FZ_CHECK(fd >= 0 && !fstat(fd, &st), "cannot open %s", path);
	FZ_CHECK((size_t)st.st_size == len, "%s grew or shrank to %lld bytes", path,
		 (long long)st.st_size);
	FZ_CHECK(pread(fd, buf, len, 0) == (ssize_t)len, "cannot read %s", path);
	close(fd);
}

static void temp_image(char *path, size_t size, const uint8_t *content)
{
	int fd;

	snprintf(path, 64, "/tmp/fuzz-ahci.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (off_t)size))
		abort();
	close(fd);
	write_file(path, content, size);
}

static void cleanup(void)
{
	unlink(disk_path);
	unlink(ro_path);
	unlink(cd_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (mem_layout(&mem, RAM_SIZE, ISA_ROM) || mem_alloc(&mem, MEM_BACKING_ANON, "/sys"))
		abort();
	memset(mem.base, 0, RAM_SIZE);
	memset(canary_ref, CANARY, sizeof(canary_ref));
	fill_holes();
	for (size_t i = 0; i < DISK_SIZE; i++)
		disk_ref[i] = (uint8_t)(i * 7 + i / 512);
	for (size_t i = 0; i < CD_SIZE; i++)
		cd_ref[i] = (uint8_t)(i * 13 + i / 2048 + 1);
	temp_image(disk_path, DISK_SIZE, disk_ref);
	temp_image(ro_path, DISK_SIZE, disk_ref);
	temp_image(cd_path, CD_SIZE, cd_ref);
	atexit(cleanup);
	/* Whether TRIM zeroes here (a punched hole) or is only a hint. */
	{
		int fd = open(disk_path, O_RDWR);

		punch = fd >= 0 && !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 512);
		if (fd >= 0)
			close(fd);
		write_file(disk_path, disk_ref, DISK_SIZE);
	}
	area_before = malloc(AREA_END - AREA);
	if (!area_before)
		abort();
	return 0;
}

/* ---- the device ------------------------------------------------------------ */

struct pending {
	unsigned int port, slot;
	uint64_t ctba;
	bool ncq, write, read, trim, atapi_read;
	bool unsure;			/* a register write may have dropped it */
	uint64_t off, len;		/* bytes on the image */
	unsigned int nprd, prdtl;	/* entries the harness wrote, entries the header says */
	struct { uint64_t addr, len; } prd[MAX_PRD];
	uint8_t *data;			/* a write's bytes, gathered before the poll */
	uint8_t ranges[512];		/* a TRIM's ranges, likewise */
};

struct dev {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct lpc *lpc;
	struct ahci *ahci;
	bool readonly;
	struct pending pend[MAX_PENDING];
	unsigned int nr_pend;
};

static unsigned int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!dir)
		return 0;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static uint32_t abar_rd(struct dev *d, uint64_t off)
{
	return (uint32_t)fz_bus_read(&d->mmio, ABAR + off, 4);
}

static void abar_wr(struct dev *d, uint64_t off, uint32_t v)
{
	fz_bus_write(&d->mmio, ABAR + off, v, 4);
}

static uint64_t px(unsigned int port, unsigned int reg)
{
	return HBA_PORTS + HBA_PORT_LEN * port + reg;
}

static uint64_t fz_gpa(struct fz *f)
{
	static const uint64_t anchor[] = {
		DATA, DATA + 0x80000, MEM_VGA_BASE, MEM_VGA_END,
		MEM_ISA_BIOS_END - ISA_ROM, MEM_ISA_BIOS_END, RAM_SIZE, AREA,
	};
	uint8_t sel = fz_u8(f);

	if (sel >= 0xf8)
		return fz_u64(f);
	return anchor[sel % 8] + (uint64_t)(int64_t)(int16_t)fz_u16(f);
}

/* Gather len bytes from a PRDT as the device reads it: false if any
 * needed entry or buffer is not RAM. */
static bool gather(const struct pending *p, uint8_t *buf, uint64_t len)
{
	uint64_t done = 0;

	for (unsigned int i = 0; i < p->nprd && done < len; i++) {
		uint64_t n = p->prd[i].len < len - done ? p->prd[i].len : len - done;

		if (guest_mem_read(&mem, p->prd[i].addr, buf + done, n))
			return false;
		done += n;
	}
	return done == len;
}

/* ---- building a command ------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
	put_le32(p, v);
}

/* Note outside-area RAM a data-in PRD may write, to clean it after. */
static void mark_dirty(uint64_t gpa, uint64_t len)
{
	void *hva;

	if ((gpa >= AREA && gpa + len <= AREA_END) || guest_mem_ptr(&mem, gpa, len, &hva))
		return;
	if (nr_dirty == MAX_DIRTY) {
		dirty_all = true;
		return;
	}
	dirty[nr_dirty].gpa = gpa;
	dirty[nr_dirty].len = len;
	nr_dirty++;
}

static void command(struct dev *d, struct fz *f)
{
	static const uint8_t ata[] = {
		0x25, 0x35, 0x60, 0x61, 0xc8, 0xca, 0x20, 0x30, 0xec, 0xa1, 0xa0, 0xe7, 0xea,
		0x06, 0x2f, 0x47, 0x42, 0x27, 0xf8, 0xef, 0xc6, 0xc4, 0x29, 0x3d, 0x90, 0x08,
		0xe5, 0x00, 0x24, 0x34,
	};
	static const uint8_t mmc[] = {
		0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x51,
		0x52, 0x5a, 0xa8, 0xad, 0xbb, 0xbd, 0xbe, 0x55, 0x2a,
	};
	uint8_t sel = fz_u8(f), csel = fz_u8(f), flags = fz_u8(f), lsel = fz_u8(f);
	unsigned int port = sel % AHCI_NR_PORTS, slot = (sel >> 3) % AHCI_SLOTS;
	struct pending *p = d->nr_pend < MAX_PENDING ? &d->pend[d->nr_pend] : NULL;
	uint8_t cmd = csel < 0xe0 ? ata[csel % sizeof(ata)] : fz_u8(f);
	uint64_t ctba = flags & 0x80 ? fz_gpa(f) & ~0x7fULL : CTBA(port, slot);
	uint16_t count = lsel < 0xe0 ? lsel % 9 : fz_u16(f);
	uint64_t lba = fz_u8(f) < 0xf0 ? fz_u8(f) : fz_u64(f) & 0xffffffffffffULL;
	unsigned int nprd = fz_u8(f) % (MAX_PRD + 1);
	uint8_t fis[20] = { flags & 0x40 ? 0x34 : FIS_REG_H2D, flags & 0x20 ? 0 : FIS_H2D_C, cmd };
	uint8_t acmd[16] = { 0 }, hdr[16] = { 0 };
	struct pending local;
	uint32_t dw0;
	bool ncq;
	void *hva;

	/* A slot rewritten before the engine ran holds only the new command. */
	for (unsigned int i = 0; i < d->nr_pend; i++) {
		if (d->pend[i].port != port || d->pend[i].slot != slot)
			continue;
		free(d->pend[i].data);
		d->pend[i] = d->pend[--d->nr_pend];
		p = &d->pend[d->nr_pend];
		break;
	}
	if (!p)
		p = &local;
	memset(p, 0, offsetof(struct pending, ranges));
	p->port = port;
	p->slot = slot;
	p->ctba = ctba;
	fis[3] = fz_u8(f);			/* features (NCQ: count) */
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = fz_u8(f) | 0x40;		/* device: LBA mostly */
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[11] = flags & 0x10 ? fz_u8(f) : 0;
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	fis[15] = flags & 0x08 ? FIS_CTL_SRST : 0;
	if (cmd == 0xa0) {
		uint8_t o = fz_u8(f);

		acmd[0] = o < 0xe0 ? mmc[o % sizeof(mmc)] : fz_u8(f);
		fz_bytes(f, acmd + 1, 11);
	}
	dw0 = (flags & 0x04 ? fz_u8(f) & 0x1f : 5) | (cmd == 0xa0 ? CMDH_A : 0) |
	      (flags & 0x02 ? CMDH_C | CMDH_R : 0) |
	      (flags & 0x01 ? (uint32_t)fz_u16(f) : nprd) << CMDH_PRDTL_SHIFT;
	p->prdtl = dw0 >> CMDH_PRDTL_SHIFT;
	put32(hdr, dw0);
	put32(hdr + 4, 0);
	put32(hdr + 8, (uint32_t)ctba);
	put32(hdr + 12, (uint32_t)(ctba >> 32));
	FZ_CHECK(!guest_mem_write(&mem, CLB(port) + 32ULL * slot, hdr, sizeof(hdr)), "CLB");
	if (!guest_mem_ptr(&mem, ctba, CMDT_PRDT, &hva)) {
		memset(hva, 0, CMDT_PRDT);
		memcpy(hva, fis, sizeof(fis));
		memcpy((uint8_t *)hva + CMDT_ACMD, acmd, sizeof(acmd));
		mark_dirty(ctba, CMDT_PRDT);
	}
	p->nprd = nprd;
	for (unsigned int i = 0; i < nprd; i++) {
		uint8_t e[16] = { 0 }, ls = fz_u8(f);
		uint64_t a = ls & 0x80 ? fz_gpa(f) : DATA + (uint64_t)(fz_u16(f) & 0x7ffe) * 32;
		uint32_t len = ls < 0xf0 ? 512u * (1 + (ls & 0x0f)) : fz_u32(f) % (4 << 20) + 1;

		put32(e, (uint32_t)a);
		put32(e + 4, (uint32_t)(a >> 32));
		put32(e + 12, (len - 1) | (ls & 0x40 ? PRD_I : 0));
		if (!guest_mem_write(&mem, ctba + CMDT_PRDT + 16ULL * i, e, 16))
			mark_dirty(ctba + CMDT_PRDT + 16ULL * i, 16);
		p->prd[i].addr = a & ~1ULL;
		p->prd[i].len = len;
	}
	/* More entries in the header than written: zero the rest of the
	 * table (1 byte at 0 each), or past it the model is lost (wild). */
	for (unsigned int i = nprd; i < p->prdtl && i < TABLE_PRDS; i++) {
		static const uint8_t zero[16];

		guest_mem_write(&mem, ctba + CMDT_PRDT + 16ULL * i, zero, 16);
	}

	/* The model: what this command may do to the image, decoded here
	 * independently of the device. */
	ncq = port == 0 && (cmd == 0x60 || cmd == 0x61) && !(flags & 0x20);
	p->ncq = ncq;
	if (port == 0 && !(flags & 0x60)) {
		uint32_t c28 = fis[12] ? fis[12] : 256, c48 = fis[12] | fis[13] << 8;
		uint32_t cq = fis[3] | fis[11] << 8;
		uint64_t l28 = lba & 0xfffffff, l48 = lba;

		c48 = c48 ? c48 : 65536;
		cq = cq ? cq : 65536;
		switch (cmd) {
		case 0x30: case 0xca: case 0x31: case 0xcb: case 0xc5:
			p->write = true, p->off = l28 * 512, p->len = (uint64_t)c28 * 512;
			break;
		case 0x34: case 0x35: case 0x39: case 0x3d: case 0xce:
			p->write = true, p->off = l48 * 512, p->len = (uint64_t)c48 * 512;
			break;
		case 0x61:
			p->write = true, p->off = l48 * 512, p->len = (uint64_t)cq * 512;
			break;
		case 0x20: case 0x21: case 0xc8: case 0xc9: case 0xc4:
			p->read = true, p->off = l28 * 512, p->len = (uint64_t)c28 * 512;
			break;
		case 0x24: case 0x25: case 0x29:
			p->read = true, p->off = l48 * 512, p->len = (uint64_t)c48 * 512;
			break;
		case 0x60:
			p->read = true, p->off = l48 * 512, p->len = (uint64_t)cq * 512;
			break;
		case 0x06:
			p->trim = true;
			break;
		default:
			break;
		}
	}
	if (port == 1 && cmd == 0xa0 && (acmd[0] == 0x28 || acmd[0] == 0xa8) && !(flags & 0x60)) {
		uint64_t n = acmd[0] == 0x28 ? get_be16(acmd + 7) : get_be32(acmd + 6);

		p->atapi_read = true;
		p->off = (uint64_t)get_be32(acmd + 2) * 2048;
		p->len = n * 2048;
	}
	/* Data-in may write RAM outside the area: clean it after the input. */
	for (unsigned int i = 0; i < nprd; i++)
		mark_dirty(p->prd[i].addr, p->prd[i].len);
	if (getenv("FUZZ_TRACE")) {
		fprintf(stderr, "command port %u slot %u cmd %#x acmd %#x flags %#x ctba %#llx prdtl %u off %llu len %llu\n",
			port, slot, cmd, acmd[0], flags, (unsigned long long)ctba, p->prdtl,
			(unsigned long long)p->off, (unsigned long long)p->len);
		for (unsigned int i = 0; i < nprd; i++)
			fprintf(stderr, "  prd %#llx +%#llx\n", (unsigned long long)p->prd[i].addr,
				(unsigned long long)p->prd[i].len);
	}
	if (p != &local)
		d->nr_pend++;
	if (ncq && !(flags & 0x10))
		abar_wr(d, px(port, PX_SACT), 1u << slot);
	abar_wr(d, px(port, PX_CI), 1u << slot);
}

/* ---- checking a batch ------------------------------------------------------ */

/* The first offset in [from, len) where a and b differ, or len: memcmp
 * over blocks (a byte loop would be instrumented compare by compare). */
static uint64_t next_diff(const uint8_t *a, const uint8_t *b, uint64_t from, uint64_t len)
{
	while (from < len) {
		uint64_t n = 4096 - from % 4096 < len - from ? 4096 - from % 4096 : len - from;

		if (memcmp(a + from, b + from, n)) {
			while (a[from] == b[from])
				from++;
			return from;
		}
		from += n;
	}
	return len;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static uint64_t port_reg64(struct dev *d, unsigned int port, unsigned int reg)
{
	return abar_rd(d, px(port, reg)) | (uint64_t)abar_rd(d, px(port, reg + 4)) << 32;
}

/* May the device have written guest RAM at gpa (in the area)? */
static bool ram_write_allowed(struct dev *d, uint64_t gpa)
{
	for (unsigned int port = 0; port < AHCI_NR_PORTS; port++) {
		uint64_t fb = port_reg64(d, port, PX_FB), clb = port_reg64(d, port, PX_CLB);

		if (gpa >= fb && gpa - fb < RFIS_SIZE)
			return true;
		/* The PRDBC of every header: a header with a bad table still
		 * gets its PRDBC (0) written. */
		if (gpa >= clb && gpa - clb < 32 * AHCI_SLOTS && (gpa - clb) % 32 >= 4 &&
		    (gpa - clb) % 32 < 8)
			return true;
	}
	/* Data-in: any command may return data to its PRDT. */
	for (unsigned int i = 0; i < d->nr_pend; i++)
		for (unsigned int k = 0; k < d->pend[i].nprd; k++)
			if (overlaps(gpa, 1, d->pend[i].prd[k].addr, d->pend[i].prd[k].len))
				return true;
	return false;
}

static bool aliased(struct dev *d, const struct pending *p)
{
	for (unsigned int k = 0; k < p->nprd; k++) {
		if (p->prd[k].addr < DATA || p->prd[k].addr + p->prd[k].len > DATA + DATA_SIZE)
			return true;
		for (unsigned int i = 0; i < d->nr_pend; i++)
			for (unsigned int j = 0; j < d->pend[i].nprd; j++)
				if ((&d->pend[i] != p || j != k) &&
				    overlaps(p->prd[k].addr, p->prd[k].len, d->pend[i].prd[j].addr,
					     d->pend[i].prd[j].len))
					return true;
	}
	return false;
}

/* The byte at image offset o: explained by a write or a TRIM of the batch? */
static bool explained(struct dev *d, uint64_t o, uint8_t v)
{
	for (unsigned int i = 0; i < d->nr_pend; i++) {
		const struct pending *p = &d->pend[i];

		if (p->write && p->data && o >= p->off && o - p->off < p->len && p->data[o - p->off] == v)
			return true;
		if (p->trim && v == 0)
			for (unsigned int r = 0; r < 64; r++) {
				uint64_t e = get_le32(p->ranges + 8 * r) |
					     (uint64_t)get_le32(p->ranges + 8 * r + 4) << 32;
				uint64_t lba = e & 0xffffffffffffULL, n = e >> 48;

				if (n && o / 512 >= lba && o / 512 - lba < n)
					return true;
			}
	}
	return false;
}

/*
 * Does anything of the batch overlap what another part of it reads: a PRD
 * over another command's PRD, table or the command lists and FIS areas?
 * Then the device may see other data than the model: the byte-level
 * checks of that batch are skipped (the memory-safety ones stay).
 */
static bool batch_aliased(struct dev *d)
{
	for (unsigned int i = 0; i < d->nr_pend; i++) {
		const struct pending *p = &d->pend[i];

		for (unsigned int k = 0; k < p->nprd; k++) {
			if (overlaps(p->prd[k].addr, p->prd[k].len, AREA, DATA - AREA))
				return true;
			for (unsigned int j = 0; j < d->nr_pend; j++) {
				const struct pending *q = &d->pend[j];

				if (overlaps(p->prd[k].addr, p->prd[k].len, q->ctba,
					     CMDT_PRDT + PRD_SIZE * MAX_PRD))
					return true;
				for (unsigned int m = 0; m < q->nprd && j != i; m++)
					if (overlaps(p->prd[k].addr, p->prd[k].len, q->prd[m].addr,
						     q->prd[m].len))
						return true;
			}
		}
		/* A hostile table or command list, or entries the harness did
		 * not write: the model does not follow. */
		if (p->ctba != CTBA(p->port, p->slot) || port_reg64(d, p->port, PX_CLB) != CLB(p->port) ||
		    p->prdtl != p->nprd)
			return true;
	}
	return false;
}

/* The model's view of the data-out commands, just before the engine runs. */
static void prepare_batch(struct dev *d)
{
	for (unsigned int i = 0; i < d->nr_pend; i++) {
		struct pending *p = &d->pend[i];

		free(p->data);
		p->data = NULL;
		if (p->trim && !gather(p, p->ranges, 512))
			memset(p->ranges, 0, sizeof(p->ranges));
		if (p->write && p->len <= DISK_SIZE) {
			p->data = malloc(p->len);
			if (p->data && !gather(p, p->data, p->len)) {
				free(p->data);
				p->data = NULL;
			}
		}
	}
}

static void check_batch(struct dev *d, unsigned int port, bool area, bool aliased_batch)
{
	bool writes = false;
	uint32_t ci = abar_rd(d, px(port, PX_CI)), sact = abar_rd(d, px(port, PX_SACT));

	check_holes();
	/* The area of guest RAM: only FIS areas, PRDBCs and PRDT ranges. */
	for (uint64_t o = 0; area && (o = next_diff(mem.base + AREA, area_before, o,
						    AREA_END - AREA)) < AREA_END - AREA; o++)
		FZ_CHECK(ram_write_allowed(d, AREA + o), "guest RAM at %#llx written (%#x -> %#x)",
			 (unsigned long long)(AREA + o), area_before[o], mem.base[AREA + o]);
	/* The images. */
	read_file(d->readonly ? ro_path : disk_path, image, DISK_SIZE);
	if (d->readonly)
		FZ_CHECK(!memcmp(image, disk_ref, DISK_SIZE), "the read-only SATA disk was written");
	for (uint64_t o = 0; !aliased_batch && (o = next_diff(image, shadow, o, DISK_SIZE)) < DISK_SIZE;
	     o++)
		FZ_CHECK(explained(d, o, image[o]),
			 "image byte %llu became %#x: no write or TRIM of this batch put it there",
			 (unsigned long long)o, image[o]);
	memcpy(shadow, image, DISK_SIZE);
	if (aliased_batch)
		return;
	for (unsigned int i = 0; i < d->nr_pend; i++)
		writes |= d->pend[i].port == 0 && (d->pend[i].write || d->pend[i].trim);
	/* Reads that completed return the image (or the CD). */
	for (unsigned int i = 0; i < d->nr_pend; i++) {
		const struct pending *p = &d->pend[i];
		const uint8_t *src = p->atapi_read ? cd_ref : shadow;
		uint64_t size = p->atapi_read ? CD_SIZE : DISK_SIZE, done = 0;
		bool ok;

		if (p->port != port || !(p->read || p->atapi_read) || !p->len || writes || p->unsure ||
		    p->off > size || p->len > size - p->off || aliased(d, p))
			continue;
		ok = p->ncq ? !(sact & (1u << p->slot)) : !(ci & (1u << p->slot));
		if (!ok || (abar_rd(d, px(port, PX_IS)) & (PXIS_TFES | PXIS_HBFS | PXIS_IFS)))
			continue;
		for (unsigned int k = 0; k < p->nprd && done < p->len; k++) {
			uint64_t n = p->prd[k].len < p->len - done ? p->prd[k].len : p->len - done;

			FZ_CHECK(!memcmp(mem.base + p->prd[k].addr, src + p->off + done, n),
				 "a read of %llu bytes at %llu put other bytes in RAM",
				 (unsigned long long)p->len, (unsigned long long)p->off);
			done += n;
		}
	}
}

/* Forget the commands of port that are done: no longer in PxCI or PxSACT
 * (a stopped or halted port keeps them there; all of them: port < 0). */
static void end_batch(struct dev *d, int port)
{
	uint32_t busy = port < 0 ? 0 : abar_rd(d, px((unsigned int)port, PX_CI)) |
					abar_rd(d, px((unsigned int)port, PX_SACT));
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->nr_pend; i++) {
		if (port < 0 || (d->pend[i].port == (unsigned int)port &&
				 !(busy & (1u << d->pend[i].slot)))) {
			free(d->pend[i].data);
			continue;
		}
		d->pend[n++] = d->pend[i];
	}
	d->nr_pend = n;
}

/* Can the device follow pointers the harness did not write (a hostile
 * command list or table, PRDT entries past the table)? Then it may write
 * RAM anywhere in the area: only the holes and the images are checked. */
static bool wild(struct dev *d, unsigned int port)
{
	if (port_reg64(d, port, PX_CLB) != CLB(port))
		return true;
	for (unsigned int i = 0; i < d->nr_pend; i++)
		if (d->pend[i].port == port &&
		    (d->pend[i].prdtl > TABLE_PRDS || d->pend[i].ctba != CTBA(port, d->pend[i].slot)))
			return true;
	return false;
}

static void poll_port(struct dev *d, unsigned int port)
{
	bool aliased_batch = batch_aliased(d), area = !wild(d, port);
	int ret;

	prepare_batch(d);
	memcpy(area_before, mem.base + AREA, AREA_END - AREA);
	ret = ahci_port_poll(d->ahci, port);
	FZ_CHECK(ret >= 0, "ahci_port_poll: %d", ret);
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "  port %u: %d done, CI %#x SACT %#x IS %#x TFD %#x\n", port, ret,
			abar_rd(d, px(port, PX_CI)), abar_rd(d, px(port, PX_SACT)),
			abar_rd(d, px(port, PX_IS)), abar_rd(d, px(port, PX_TFD)));
	check_batch(d, port, area, aliased_batch);
	end_batch(d, (int)port);
}

/* ---- the driver's other moves ---------------------------------------------- */

static void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	pci_cfg_write(d->root, 0, AHCI_DEVFN, off, v, len);
}

/* The guest wrote registers directly: PxCI may have been cleared (ST off,
 * a COMRESET), so "PxCI clear" no longer means "completed". */
static void unsure(struct dev *d)
{
	for (unsigned int i = 0; i < d->nr_pend; i++)
		d->pend[i].unsure = true;
}

static void port_setup(struct dev *d, struct fz *f)
{
	uint8_t sel = fz_u8(f);
	unsigned int port = sel % AHCI_NR_PORTS;
	uint64_t clb = sel & 0x40 ? fz_gpa(f) : CLB(port), fb = sel & 0x80 ? fz_gpa(f) : FB(port);

	unsure(d);
	abar_wr(d, px(port, PX_CMD), 0);
	abar_wr(d, px(port, PX_CLB), (uint32_t)clb);
	abar_wr(d, px(port, PX_CLBU), (uint32_t)(clb >> 32));
	abar_wr(d, px(port, PX_FB), (uint32_t)fb);
	abar_wr(d, px(port, PX_FBU), (uint32_t)(fb >> 32));
	abar_wr(d, px(port, PX_IE), sel & 0x20 ? 0xffffffff : 0);
	abar_wr(d, px(port, PX_IS), 0xffffffff);
	abar_wr(d, px(port, PX_SERR), 0xffffffff);
	abar_wr(d, px(port, PX_CMD), PXCMD_FRE | (sel & 0x10 ? 0 : PXCMD_ST));
	/* FIS writes outside the area are cleaned after the input. */
	mark_dirty(fb & ~0xffULL, RFIS_SIZE);
	mark_dirty(clb & ~0x3ffULL, 32 * AHCI_SLOTS);
}

enum {
	OP_PORT,		/* sel [, clb gpa] [, fb gpa]: libahci's port start */
	OP_COMMAND,		/* see command() */
	OP_POLL,		/* port: run its engine, check the batch */
	OP_READ,		/* width, u16 offset: ABAR */
	OP_WRITE,		/* width, u16 offset, u64: ABAR */
	OP_CFG,			/* dir|len, offset [, u32]: config space */
	OP_RESET,		/* which: PCI reset, GHC.HR, COMRESET of a port, ST off */
	OP_IDP,			/* dir|width, offset, u32: the index/data pair */
	OP_MSI,			/* u32 address, u16 data, enable */
	NR_OPS,
};

static void run_op(struct dev *d, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a;

	switch (op) {
	case OP_PORT:
		port_setup(d, f);
		break;
	case OP_COMMAND:
		command(d, f);
		break;
	case OP_POLL:
		a = fz_u8(f);
		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "poll port %u\n", a % AHCI_NR_PORTS);
		poll_port(d, a % AHCI_NR_PORTS);
		break;
	case OP_READ:
		a = fz_u8(f);
		fz_bus_read(&d->mmio, ABAR + fz_u16(f) % 0x1000, fz_width(a));
		break;
	case OP_WRITE: {
		uint64_t off;

		a = fz_u8(f);
		off = fz_u16(f) % 0x1000;
		fz_bus_write(&d->mmio, ABAR + off, fz_u64(f), fz_width(a));
		unsure(d);
		break;
	}
	case OP_CFG: {
		unsigned int off, len;
		uint32_t v = 0;

		a = fz_u8(f);
		off = fz_u8(f);
		len = fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1);
		if (a & 1) {
			cfg_wr(d, off, fz_u32(f), len);
			unsure(d);
		} else {
			pci_cfg_read(d->root, 0, AHCI_DEVFN, off, &v, len);
		}
		break;
	}
	case OP_RESET:
		a = fz_u8(f);
		switch (a % 4) {
		case 0:
			pci_root_reset(d->root);
			cfg_wr(d, PCI_BASE_ADDRESS_0 + 20, (uint32_t)ABAR, 4);
			cfg_wr(d, PCI_BASE_ADDRESS_0 + 16, IDP, 4);
			cfg_wr(d, PCI_COMMAND, 7, 2);
			break;
		case 1:
			abar_wr(d, HBA_GHC, GHC_HR);
			break;
		case 2:
			abar_wr(d, px((a >> 2) % AHCI_NR_PORTS, PX_SCTL), 1);
			abar_wr(d, px((a >> 2) % AHCI_NR_PORTS, PX_SCTL), 0);
			break;
		default:
			abar_wr(d, px((a >> 2) % AHCI_NR_PORTS, PX_CMD), PXCMD_FRE);
			break;
		}
		/* A reset drops what it cleared from PxCI/PxSACT: nothing of
		 * it completes, and the image stays as it was. */
		prepare_batch(d);
		check_batch(d, 0, false, true);
		for (unsigned int port = 0; port < AHCI_NR_PORTS; port++)
			end_batch(d, (int)port);
		break;
	case OP_IDP: {
		unsigned int off;

		a = fz_u8(f);
		off = fz_u8(f) % AHCI_IDP_SIZE;
		if (a & 1) {
			fz_bus_write(&d->pio, IDP + off, fz_u32(f), fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1));
			unsure(d);
		} else
			fz_bus_read(&d->pio, IDP + off, fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1));
		break;
	}
	case OP_MSI: {
		uint32_t addr = fz_u32(f);
		uint16_t data = fz_u16(f);

		cfg_wr(d, 0x80 + PCI_MSI_ADDRESS_LO, addr, 4);
		cfg_wr(d, 0x80 + PCI_MSI_ADDRESS_LO + 8, data, 2);
		cfg_wr(d, 0x80 + PCI_MSI_FLAGS, fz_u8(f) & 1, 2);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dev d;
	struct ahci_params p = { .manual = true };
	unsigned int fds = count_fds();
	struct fz f;
	uint8_t prefix;

	fz_init(&f, data, size);
	prefix = fz_u8(&f);
	memset(&d, 0, sizeof(d));
	d.readonly = prefix & 1;
	p.no_reset_unit_attention = prefix & 2;
	write_file(disk_path, disk_ref, DISK_SIZE);
	memcpy(shadow, disk_ref, DISK_SIZE);
	p.port[0] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_DISK,
						.path = d.readonly ? ro_path : disk_path,
						.readonly = d.readonly };
	p.port[1] = (struct ahci_drive_params){ .kind = AHCI_DRIVE_CDROM, .path = cd_path };
	fake_vm_init(&d.fvm);
	bus_init(&d.pio, "pio");
	bus_init(&d.mmio, "mmio");
	d.root = pci_root_create(&d.fvm.ops, &d.pio, &d.mmio);
	d.lpc = d.root ? lpc_create(d.root, &d.fvm.ops, &d.pio, &d.mmio, NULL) : NULL;
	d.ahci = d.lpc ? ahci_create(&d.fvm.ops, &mem, d.root, &p) : NULL;
	FZ_CHECK(d.ahci, "cannot create the controller");
	/* What firmware leaves: BARs placed, decoding and bus mastering on. */
	cfg_wr(&d, PCI_BASE_ADDRESS_0 + 20, (uint32_t)ABAR, 4);
	cfg_wr(&d, PCI_BASE_ADDRESS_0 + 16, IDP, 4);
	cfg_wr(&d, PCI_COMMAND, 7, 2);
	memset(mem.base + AREA, 0, AREA_END - AREA);

	while (fz_more(&f)) {
		run_op(&d, &f);
		fz_check_bus(&d.pio, 0x10000);
		fz_check_bus(&d.mmio, 0);
	}
	for (unsigned int port = 0; port < AHCI_NR_PORTS; port++)
		poll_port(&d, port);
	end_batch(&d, -1);

	FZ_CHECK(ahci_threads_running(d.ahci) == 0, "an I/O thread in manual mode");
	device_list_destroy(&d.fvm.devices);
	FZ_CHECK(d.pio.nr_ranges == 0 && d.mmio.nr_ranges == 0, "bus ranges left: %zu, %zu",
		 d.pio.nr_ranges, d.mmio.nr_ranges);
	FZ_CHECK(d.fvm.nr_irqfds == 0, "%u irqfds left", d.fvm.nr_irqfds);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		FZ_CHECK(!d.fvm.routes[i].used, "MSI route %u left", i);
	FZ_CHECK(count_fds() == fds, "%u file descriptors before, %u after", fds, count_fds());
	bus_exit(&d.pio);
	bus_exit(&d.mmio);
	read_file(cd_path, image, CD_SIZE);
	FZ_CHECK(!memcmp(image, cd_ref, CD_SIZE), "the CD-ROM image changed");

	/* Clean what this input wrote into RAM. */
	if (dirty_all) {
		memset(mem.base, 0, RAM_SIZE);
	} else {
		for (unsigned int i = 0; i < nr_dirty; i++) {
			void *hva;

			if (!guest_mem_ptr(&mem, dirty[i].gpa, dirty[i].len, &hva))
				memset(hva, 0, dirty[i].len);
		}
	}
	nr_dirty = 0;
	dirty_all = false;
	fill_holes();
	return 0;
}
