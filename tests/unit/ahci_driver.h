/* SPDX-License-Identifier: MIT */
/*
 * A small AHCI *driver* for the device tests, doing what Linux's libahci
 * and OVMF's AtaAtapiPassThru do: it sets up the controller at 00:1f.2
 * through config space and ABAR on a fake VM with the real PCI root and
 * ICH9 LPC (the INTx router), lays out each port's command list, FIS area
 * and command tables in fake guest RAM, builds Register H2D FISes, ATAPI
 * packets and PRDTs, issues commands through PxCI/PxSACT and waits for
 * them: polling the port's engine itself (manual mode, repeatable) or
 * watching PxCI/PxSACT while the real I/O threads work.
 *
 * Guest RAM (16 MiB at 0):
 *   0x010000 + 0x1000 * port        command list (32 x 32 bytes)
 *   0x018000 + 0x1000 * port        received-FIS area (256 bytes)
 *   0x100000 + 0x10000 * port
 *            + 0x800 * slot         command table (0x80 + up to 120 PRDs)
 *   0x800000 ..                     data buffers the tests choose
 */
#ifndef MINIVMM_TEST_AHCI_DRIVER_H
#define MINIVMM_TEST_AHCI_DRIVER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/ahci/ahci.h"
#include "devices/ahci/ahci_internal.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/pcie_regs.h"
#include "devices/q35/lpc.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"

#define AD_RAM		(16 * MiB)
#define AD_ABAR		0xe0000000ULL
#define AD_IDP		0xc000
#define AD_CLB(port)	(0x10000ULL + 0x1000ULL * (port))
#define AD_FB(port)	(0x18000ULL + 0x1000ULL * (port))
#define AD_CTBA(port, slot) (0x100000ULL + 0x10000ULL * (port) + 0x800ULL * (slot))
#define AD_DATA		0x800000ULL
#define AD_GSI		16		/* 00:1f INTA -> PIRQA */
#define AD_TIMEOUT_MS	5000

struct ad {
	struct fake_vm fvm;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_root *root;
	struct lpc *lpc;
	struct ahci *ahci;
	bool manual;
	char path[AHCI_NR_PORTS][64];	/* temporary images, unlinked at the end */
};

/* A temporary image of size bytes, filled with a byte pattern of seed. */
static inline void ad_image(struct ad *d, unsigned int port, uint64_t size, unsigned int seed)
{
	uint8_t buf[4096];
	int fd;

	snprintf(d->path[port], sizeof(d->path[port]), "/tmp/minivmm-ahci-%u.XXXXXX", port);
	fd = mkstemp(d->path[port]);
	if (fd < 0)
		abort();
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((off + i) * 7 + (off + i) / 4096 + seed);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			abort();
	}
	close(fd);
}

/* The byte the pattern has at off. */
static inline uint8_t ad_pattern(uint64_t off, unsigned int seed)
{
	return (uint8_t)(off * 7 + off / 4096 + seed);
}

static inline uint32_t ad_cfg_read(struct ad *d, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	pci_cfg_read(d->root, 0, AHCI_DEVFN, off, &v, len);
	return v;
}

static inline void ad_cfg_write(struct ad *d, unsigned int off, uint32_t v, unsigned int len)
{
	pci_cfg_write(d->root, 0, AHCI_DEVFN, off, v, len);
}

static inline uint32_t ad_rd(struct ad *d, uint64_t off)
{
	uint32_t v = 0;

	bus_read(&d->mmio, AD_ABAR + off, &v, 4);
	return v;
}

static inline void ad_wr(struct ad *d, uint64_t off, uint32_t v)
{
	bus_write(&d->mmio, AD_ABAR + off, &v, 4);
}

static inline uint64_t ad_px(unsigned int port, unsigned int reg)
{
	return HBA_PORTS + HBA_PORT_LEN * port + reg;
}

static inline uint32_t ad_prd(struct ad *d, unsigned int port, unsigned int reg)
{
	return ad_rd(d, ad_px(port, reg));
}

static inline void ad_pwr(struct ad *d, unsigned int port, unsigned int reg, uint32_t v)
{
	ad_wr(d, ad_px(port, reg), v);
}

/* Create the machine slice and the controller with the given drives. */
static inline void ad_create(struct ad *d, const struct ahci_params *p)
{
	fake_vm_init(&d->fvm);
	if (fake_mem_init(&d->mem, AD_RAM))
		abort();
	if (bus_init(&d->pio, "pio") || bus_init(&d->mmio, "mmio"))
		abort();
	d->root = pci_root_create(&d->fvm.ops, &d->pio, &d->mmio);
	d->lpc = d->root ? lpc_create(d->root, &d->fvm.ops, &d->pio, &d->mmio, NULL) : NULL;
	d->ahci = d->lpc ? ahci_create(&d->fvm.ops, &d->mem, d->root, p) : NULL;
	d->manual = p->manual;
}

/* Destroy everything; every bus range and irqfd is gone after. */
static inline void ad_destroy(struct ad *d)
{
	device_list_destroy(&d->fvm.devices);
	bus_exit(&d->pio);
	bus_exit(&d->mmio);
	fake_mem_free(&d->mem);
	for (unsigned int i = 0; i < AHCI_NR_PORTS; i++)
		if (d->path[i][0])
			unlink(d->path[i]);
}

/* Place the BARs and turn on decoding and bus mastering (what firmware does). */
static inline void ad_map(struct ad *d)
{
	ad_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * 5, (uint32_t)AD_ABAR, 4);
	ad_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * 4, AD_IDP, 4);
	ad_cfg_write(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* libahci's port start: CLB, FB, FRE, clear SERR/IS, then ST. */
static inline void ad_port_start(struct ad *d, unsigned int port)
{
	ad_pwr(d, port, PX_CLB, (uint32_t)AD_CLB(port));
	ad_pwr(d, port, PX_CLBU, 0);
	ad_pwr(d, port, PX_FB, (uint32_t)AD_FB(port));
	ad_pwr(d, port, PX_FBU, 0);
	ad_pwr(d, port, PX_CMD, ad_prd(d, port, PX_CMD) | PXCMD_FRE);
	ad_pwr(d, port, PX_SERR, 0xffffffff);
	ad_pwr(d, port, PX_IS, 0xffffffff);
	ad_pwr(d, port, PX_CMD, ad_prd(d, port, PX_CMD) | PXCMD_ST);
}

static inline void ad_port_stop(struct ad *d, unsigned int port)
{
	ad_pwr(d, port, PX_CMD, ad_prd(d, port, PX_CMD) & ~PXCMD_ST);
}

/* ---- building commands ------------------------------------------------------ */

struct ad_prd {
	uint64_t addr;
	uint32_t len;		/* bytes (DBC + 1) */
	bool irq;
};

struct ad_cmd {
	uint8_t command, features, device;
	uint16_t features_ext;	/* features 15:8 in bits 15:8 */
	uint64_t lba;
	uint16_t count;
	uint8_t control;	/* byte 15, with c_bit false */
	bool c_bit_clear;	/* a Device Control FIS (C = 0) */
	bool write, atapi;
	uint32_t hdr_flags;	/* extra header bits (R, C) */
	uint8_t acmd[16];
	const struct ad_prd *prd;
	unsigned int nprd;
	uint64_t ctba;		/* 0: AD_CTBA(port, slot) */
	uint8_t fis_type;	/* 0: Register H2D */
	uint8_t cfl;		/* 0: 5 */
};

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Write slot's header and table (no PxCI yet). */
static inline void ad_build(struct ad *d, unsigned int port, unsigned int slot,
			    const struct ad_cmd *c)
{
	uint64_t ctba = c->ctba ? c->ctba : AD_CTBA(port, slot);
	uint8_t *h = gpa(&d->mem, AD_CLB(port) + 32ULL * slot);
	uint32_t dw0 = (c->cfl ? c->cfl : 5) | (c->atapi ? CMDH_A : 0) | (c->write ? CMDH_W : 0) |
		       c->hdr_flags | (uint32_t)c->nprd << CMDH_PRDTL_SHIFT;

	memset(h, 0, 32);
	put32(h, dw0);
	put32(h + 4, 0xdeadbeef);	/* PRDBC: the device must overwrite it */
	put32(h + 8, (uint32_t)ctba);
	put32(h + 12, (uint32_t)(ctba >> 32));
	if (ctba > AD_RAM - 0x80)
		return;			/* a hostile table: only the header */
	{
		uint8_t *t = gpa(&d->mem, ctba);

		memset(t, 0, 0x80);
		t[0] = c->fis_type ? c->fis_type : FIS_REG_H2D;
		t[1] = c->c_bit_clear ? 0 : FIS_H2D_C;
		t[2] = c->command;
		t[3] = c->features;
		t[4] = (uint8_t)c->lba;
		t[5] = (uint8_t)(c->lba >> 8);
		t[6] = (uint8_t)(c->lba >> 16);
		t[7] = c->device ? c->device : 0x40;
		t[8] = (uint8_t)(c->lba >> 24);
		t[9] = (uint8_t)(c->lba >> 32);
		t[10] = (uint8_t)(c->lba >> 40);
		t[11] = (uint8_t)(c->features_ext >> 8);
		t[12] = (uint8_t)c->count;
		t[13] = (uint8_t)(c->count >> 8);
		t[15] = c->control;
		memcpy(t + 0x40, c->acmd, 16);
		for (unsigned int i = 0; i < c->nprd; i++) {
			uint8_t *e;

			if (ctba + 0x80 + 16ULL * (i + 1) > AD_RAM)
				break;
			e = t + 0x80 + 16 * i;
			put32(e, (uint32_t)c->prd[i].addr);
			put32(e + 4, (uint32_t)(c->prd[i].addr >> 32));
			put32(e + 8, 0);
			put32(e + 12, ((c->prd[i].len - 1) & PRD_DBC_MASK) | (c->prd[i].irq ? PRD_I : 0));
		}
	}
}

static inline uint32_t ad_prdbc(struct ad *d, unsigned int port, unsigned int slot)
{
	return get32(gpa(&d->mem, AD_CLB(port) + 32ULL * slot + 4));
}

static inline const uint8_t *ad_rfis(struct ad *d, unsigned int port, unsigned int off)
{
	return gpa(&d->mem, AD_FB(port) + off);
}

static inline void ad_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

#define AD_ERRORS	(PXIS_TFES | PXIS_HBFS | PXIS_IFS | PXIS_HBDS | PXIS_OFS)

/*
 * Wait until the bits of slots are clear in PxCI and PxSACT, or the port
 * reports an error; manual mode runs the engine here. Returns PxIS.
 */
static inline uint32_t ad_wait(struct ad *d, unsigned int port, uint32_t slots)
{
	for (unsigned int t = 0; t < AD_TIMEOUT_MS; t++) {
		uint32_t busy, is;

		if (d->manual)
			ahci_port_poll(d->ahci, port);
		/* PxCI/PxSACT first: the device sets PxIS with the same lock
		 * held as it clears them, so PxIS read after is complete. */
		busy = (ad_prd(d, port, PX_CI) | ad_prd(d, port, PX_SACT)) & slots;
		is = ad_prd(d, port, PX_IS);
		if (!busy || (is & AD_ERRORS))
			return is;
		if (!d->manual)
			ad_sleep_ms(1);
	}
	fprintf(stderr, "ad_wait: port %u slots %#x still busy: CI %#x SACT %#x IS %#x\n", port,
		slots, ad_prd(d, port, PX_CI), ad_prd(d, port, PX_SACT), ad_prd(d, port, PX_IS));
	return 0xffffffff;
}

/* Build, issue in slot and wait; returns PxIS (cleared afterwards). */
static inline uint32_t ad_exec(struct ad *d, unsigned int port, unsigned int slot,
			       const struct ad_cmd *c)
{
	uint32_t is;

	ad_build(d, port, slot, c);
	ad_pwr(d, port, PX_CI, 1u << slot);
	is = ad_wait(d, port, 1u << slot);
	ad_pwr(d, port, PX_IS, is);
	return is;
}

/* Error recovery as libahci does it: ST off (CR clears), ST on. */
static inline void ad_recover(struct ad *d, unsigned int port)
{
	ad_port_stop(d, port);
	ad_pwr(d, port, PX_SERR, 0xffffffff);
	ad_pwr(d, port, PX_IS, 0xffffffff);
	ad_pwr(d, port, PX_CMD, ad_prd(d, port, PX_CMD) | PXCMD_ST);
}

/* An ATAPI PACKET command: cdb, data-in through one PRD at buf. */
static inline uint32_t ad_packet(struct ad *d, unsigned int port, const uint8_t *cdb,
				 uint64_t buf, uint32_t len, bool dma)
{
	struct ad_prd prd = { .addr = buf, .len = len ? len : 2 };
	struct ad_cmd c = {
		.command = 0xa0, .features = dma ? 1 : 0, .atapi = true,
		.prd = &prd, .nprd = len ? 1 : 0,
	};

	memcpy(c.acmd, cdb, 12);
	return ad_exec(d, port, 0, &c);
}

/* The sense key of the last ATAPI command that failed (PxTFD error bits 15:12). */
static inline unsigned int ad_sense_key(struct ad *d, unsigned int port)
{
	return (ad_prd(d, port, PX_TFD) >> 12) & 0xf;
}

#endif
