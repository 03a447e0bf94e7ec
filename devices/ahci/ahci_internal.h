/* SPDX-License-Identifier: MIT */
/*
 * Inside the AHCI controller (devices/ahci/): the registers, the memory
 * structures a guest hands the HBA, and what ahci.c (PCI function, HBA and
 * port registers, resets, threads), port.c (the I/O thread: command list,
 * FIS, PRDT), ata.c (ATA commands) and atapi.c (MMC commands) share.
 *
 * Threads and locks (docs/ahci.md, docs/architecture.md "Locks"):
 *   ahci.ctl   serialises register writes and resets: vCPUs and the main
 *              thread only, never an I/O thread; held while an I/O thread
 *              is joined. Below the PCI root lock (the PCI reset hook takes
 *              it), above ahci.lock.
 *   ahci.lock  the guest-visible state every thread shares: HBA and port
 *              registers, the received-FIS writes, the interrupt state.
 *              Taken briefly; below it only pci_dev.intx_lock (INTx) and
 *              the kernel (an MSI is an eventfd write).
 * A port's I/O thread owns its ring, its command slots and its drive's
 * state (sense data, write cache, NCQ error log); between two threads of a
 * port (ST cleared and set again) and in resets, the join orders them.
 */
#ifndef MINIVMM_AHCI_INTERNAL_H
#define MINIVMM_AHCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/ahci/ahci.h"
#include "devices/block/blk_io.h"
#include "devices/msi_vector.h"

/* ---- HBA registers (AHCI §3.1) ---------------------------------------------- */
#define AHCI_ABAR_SIZE		0x1000	/* BAR 5; QEMU's size (ICH9 decodes 2 KiB) */
#define AHCI_IDP_SIZE		0x20	/* BAR 4: index/data pair, as QEMU */
#define AHCI_IDP_INDEX		0x10
#define AHCI_IDP_DATA		0x14

#define HBA_CAP			0x00
#define HBA_GHC			0x04
#define HBA_IS			0x08
#define HBA_PI			0x0c
#define HBA_VS			0x10
#define HBA_CAP2		0x24
#define HBA_PORTS		0x100	/* port x at 0x100 + 0x80 * x (§3.3) */
#define HBA_PORT_LEN		0x80

#define CAP_NP_SHIFT		0		/* number of ports - 1 */
#define CAP_NCS_SHIFT		8		/* command slots - 1 */
#define CAP_ISS_SHIFT		20		/* interface speed: 3 = 6 Gbps */
#define CAP_SAM			(1u << 18)	/* AHCI mode only: GHC.AE is RO 1 */
#define CAP_SNCQ		(1u << 30)
#define CAP_S64A		(1u << 31)
#define GHC_HR			(1u << 0)
#define GHC_IE			(1u << 1)
#define GHC_AE			(1u << 31)
#define AHCI_VERSION		0x00010300	/* 1.3 */
#define AHCI_SLOTS		32

/* ---- port registers (AHCI §3.3) ------------------------------------------- */
#define PX_CLB			0x00
#define PX_CLBU			0x04
#define PX_FB			0x08
#define PX_FBU			0x0c
#define PX_IS			0x10
#define PX_IE			0x14
#define PX_CMD			0x18
#define PX_TFD			0x20
#define PX_SIG			0x24
#define PX_SSTS			0x28
#define PX_SCTL			0x2c
#define PX_SERR			0x30
#define PX_SACT			0x34
#define PX_CI			0x38

/* PxIS / PxIE (§3.3.5, §3.3.6) */
#define PXIS_DHRS		(1u << 0)	/* D2H Register FIS with I */
#define PXIS_PSS		(1u << 1)	/* PIO Setup FIS with I */
#define PXIS_DSS		(1u << 2)
#define PXIS_SDBS		(1u << 3)	/* Set Device Bits FIS with I */
#define PXIS_UFS		(1u << 4)
#define PXIS_DPS		(1u << 5)	/* a PRD with I was transferred */
#define PXIS_PCS		(1u << 6)
#define PXIS_DMPS		(1u << 7)
#define PXIS_PRCS		(1u << 22)
#define PXIS_IPMS		(1u << 23)
#define PXIS_OFS		(1u << 24)	/* more data than the PRDT holds */
#define PXIS_INFS		(1u << 26)
#define PXIS_IFS		(1u << 27)	/* interface fatal: an unusable FIS */
#define PXIS_HBDS		(1u << 28)
#define PXIS_HBFS		(1u << 29)	/* host bus fatal: a bad pointer */
#define PXIS_TFES		(1u << 30)	/* task file error: status ERR */
#define PXIS_CPDS		(1u << 31)
#define PXIS_MASK		0xfdc000ffu	/* the implemented bits */

/* PxCMD (§3.3.7) */
#define PXCMD_ST		(1u << 0)
#define PXCMD_SUD		(1u << 1)	/* RO 1: no staggered spin-up */
#define PXCMD_POD		(1u << 2)	/* RO 1: no cold presence detect */
#define PXCMD_FRE		(1u << 4)
#define PXCMD_CCS_SHIFT		8
#define PXCMD_CCS_MASK		(0x1fu << PXCMD_CCS_SHIFT)
#define PXCMD_FR		(1u << 14)
#define PXCMD_CR		(1u << 15)
#define PXCMD_ATAPI		(1u << 24)
#define PXCMD_DLAE		(1u << 25)
#define PXCMD_RW		(PXCMD_ST | PXCMD_FRE | PXCMD_ATAPI | PXCMD_DLAE)

/* PxSSTS / PxSCTL (§3.3.10, §3.3.11) */
#define SSTS_DET_PRESENT	0x3		/* device present, Phy up */
#define SSTS_DET_OFFLINE	0x4
#define SSTS_SPD_GEN3		(0x3u << 4)
#define SSTS_IPM_ACTIVE		(0x1u << 8)
#define SCTL_DET_MASK		0xfu
#define SCTL_DET_COMRESET	0x1
#define SCTL_DET_OFFLINE	0x4
#define SCTL_MASK		0xfffu		/* DET, SPD, IPM */

/* ---- memory structures (AHCI §4) ------------------------------------------ */
#define RFIS_DSFIS		0x00	/* received-FIS area, §4.2.1 */
#define RFIS_PSFIS		0x20
#define RFIS_RFIS		0x40
#define RFIS_SDBFIS		0x58
#define RFIS_SIZE		0x100
#define CMDH_SIZE		0x20	/* command header, §4.2.2 */
#define CMDH_CFL_MASK		0x1fu	/* DW0: command FIS length, DWs */
#define CMDH_A			(1u << 5)	/* ATAPI */
#define CMDH_W			(1u << 6)	/* write (host to device) */
#define CMDH_R			(1u << 8)	/* part of a software reset */
#define CMDH_C			(1u << 10)	/* clear busy upon R_OK */
#define CMDH_PRDTL_SHIFT	16
#define CMDT_CFIS		0x00	/* command table, §4.2.3 */
#define CMDT_ACMD		0x40
#define CMDT_PRDT		0x80
#define PRD_SIZE		16
#define PRD_DBC_MASK		0x3fffffu	/* byte count - 1, up to 4 MiB */
#define PRD_I			(1u << 31)

/* ---- FIS types (SATA §10.5) and the ATA status/error bits (ACS-3) ------------ */
#define FIS_REG_H2D		0x27
#define FIS_REG_D2H		0x34
#define FIS_PIO_SETUP		0x5f
#define FIS_SDB			0xa1
#define FIS_H2D_C		0x80	/* byte 1: a command, not a control update */
#define FIS_CTL_SRST		0x04	/* byte 15 (Control): software reset */
#define FIS_I			0x40	/* byte 1 of a D2H/PIO/SDB FIS: interrupt */
#define FIS_PIO_D		0x20	/* PIO Setup: device to host */

#define ATA_ERR			0x01	/* status */
#define ATA_DRQ			0x08
#define ATA_DSC			0x10
#define ATA_DF			0x20
#define ATA_DRDY		0x40
#define ATA_BSY			0x80
#define ATA_ABRT		0x04	/* error */
#define ATA_IDNF		0x10
#define ATA_UNC			0x40

#define ATA_STATUS_OK		(ATA_DRDY | ATA_DSC)

/* Signatures in PxSIG after reset (AHCI §3.3.9; SATA §11.x, ACS-3 table "signatures"). */
#define SIG_ATA			0x00000101u
#define SIG_ATAPI		0xeb140101u

/* ---- a command ----------------------------------------------------------- */

/* What the device sends and how: it picks the FISes at completion (SATA §11). */
enum ahci_proto {
	PROTO_NONDATA,		/* Register D2H FIS */
	PROTO_PIO_IN,		/* PIO Setup FIS (I, E_Status); no D2H when it succeeds */
	PROTO_PIO_OUT,		/* PIO Setup FIS, then D2H */
	PROTO_DMA,		/* Register D2H FIS after the data */
	PROTO_ATAPI_PIO,	/* PACKET, PIO: PIO Setup for the data, then D2H */
	PROTO_NCQ,		/* D2H (BSY off, no I) now, Set Device Bits at the end */
};

/* Upper bound of segments per command, after merging contiguous PRDs: what
 * preadv takes (IOV_MAX); Linux uses at most 168 PRDs, OVMF a few. */
#define AHCI_MAX_IOV		1024
#define AHCI_MAX_DSM_RANGES	64	/* one 512-byte block of TRIM ranges */
#define AHCI_SCRATCH		4096	/* emulated replies: IDENTIFY, INQUIRY, ... */
#define AHCI_RING_ENTRIES	(2 * AHCI_MAX_DSM_RANGES)

struct ahci_port;

struct ahci_cmd {
	struct ahci_port *port;
	unsigned int slot;
	bool busy;		/* taken by the engine, not finished */
	/* copied once from the command header and table */
	uint32_t opts;		/* header DW0 */
	uint64_t hdr;		/* the header's guest address (PRDBC) */
	uint64_t ctba;		/* the table's guest address */
	uint8_t fis[20];	/* Register H2D FIS */
	uint8_t acmd[16];	/* ATAPI command */
	/* the data, as the PRDT describes it (mapped on demand) */
	struct iovec *iov;
	unsigned int iovcnt;
	bool prd_irq;		/* a transferred PRD had its I bit */
	/* what it did */
	enum ahci_proto proto;
	uint32_t xfer;		/* bytes moved: PRDBC */
	uint8_t status, error;
	uint8_t out[10];	/* D2H FIS bytes 4-13: LBA 7:0-23:16, device, LBA 31:24-47:40, -, count */
	uint32_t err_is;	/* PxIS error bits beyond TFES (OFS, HBFS, IFS) */
	/* its I/O */
	struct blk_io_op op;
	unsigned int pending;	/* operations in flight */
	bool io_failed;
	int io_res;
	uint64_t lba;		/* NCQ: for the error log */
	uint32_t count;
};

/* Drive state a reset returns to power-on values (owned by the engine). */
struct ahci_drive_state {
	bool wcache;		/* volatile write cache enabled (SET FEATURES 02h/82h) */
	uint8_t multiple;	/* SET MULTIPLE MODE sectors per DRQ block */
	bool srst;		/* a software reset sequence has begun (SRST set) */
	/* NCQ command error log (ACS-3 log 10h), read by READ LOG EXT */
	bool ncq_err;
	uint8_t ncq_tag, ncq_status, ncq_error;
	uint64_t ncq_lba;
	uint16_t ncq_count;
	/* ATAPI */
	uint8_t sense_key, asc, ascq;
	bool unit_attention;	/* pending 6/29/00 (power on, reset) */
	bool prevent;		/* PREVENT ALLOW MEDIUM REMOVAL */
};

struct ahci;

struct ahci_port {
	struct ahci *hba;
	unsigned int index;
	char name[24];			/* "ahci port 0", for messages */

	/* the drive: fixed from creation */
	enum ahci_drive_kind kind;
	struct blk_file file;
	bool readonly;
	uint64_t blocks;		/* 512-byte sectors (disk) or 2048-byte blocks (CD) */
	char serial[21];
	bool dvd;			/* CD-ROM: DVD-ROM profile current (a big image) */

	/* registers, under hba->lock */
	uint64_t clb, fb;
	uint32_t is, ie, cmd, tfd, sig, sctl, serr, sact, ci;
	bool sig_pending;		/* the reset's signature D2H FIS waits for FRE */
	bool halted;			/* an error stopped command processing (§6.2.2) */
	uint32_t started;		/* slots the engine has taken */
	uint32_t ncq_active;		/* of those: queued, awaiting Set Device Bits */

	/* the engine: ctl lock for start/stop, the thread for the rest */
	bool engine_on;			/* ST took effect: a thread, or manual polling */
	bool thread_up;			/* a thread to join */
	pthread_t thread;
	int kick_fd, stop_fd;
	bool io_up;
	struct blk_io io;
	bool stopping;			/* the thread saw the stop request */
	unsigned int next_slot;		/* round robin over PxCI */
	bool nonq_busy;			/* a non-queued command is in flight */
	uint32_t sdb_done;		/* NCQ completions for the next SDB FIS */
	unsigned int completed;		/* commands finished (ahci_port_poll) */
	uint64_t commands, kicks;	/* statistics */

	/* owned by the engine */
	struct ahci_cmd cmds[AHCI_SLOTS];
	struct iovec *iov;		/* AHCI_SLOTS * AHCI_MAX_IOV */
	struct blk_io_op dsm_ops[AHCI_MAX_DSM_RANGES];
	struct ahci_drive_state st;
	uint8_t scratch[AHCI_SCRATCH] __attribute__((aligned(16)));
};

struct ahci {
	struct pci_dev pci;		/* first: the PCI function */
	struct device dev;
	const struct vm_ops *ops;
	const struct guest_mem *mem;
	bool manual, reset_ua;
	pthread_mutex_t ctl;		/* see the header comment */
	pthread_mutex_t lock;
	uint32_t ghc;			/* under lock */
	uint32_t idp_index;		/* BAR 4 index register, under ctl */
	bool irq_pending;		/* GHC.IE and some PxIS & PxIE, as last evaluated */
	bool intx_level;		/* what pci_dev_set_irq was told */
	bool msi_on;			/* MSI Enable, as last synced (under lock) */
	unsigned int msi_cap;
	struct msi_vector msi;
	struct ahci_port port[AHCI_NR_PORTS];
};

/* ---- ahci.c ---------------------------------------------------------------- */

/*
 * The interrupt line or message after port state changed; lock held. An
 * event (a PxIS bit the device just set) sends an MSI even when another
 * one is still pending: the driver reads IS and every PxIS anyway.
 */
void ahci_update_irq(struct ahci *a, bool event);
/* Set PxIS bits (lock held) and raise what they enable. */
void ahci_port_raise(struct ahci_port *p, uint32_t bits);

/* ---- port.c: the engine -------------------------------------------------- */

int ahci_port_io_setup(struct ahci_port *p);
void ahci_port_io_teardown(struct ahci_port *p);
/* ST 0 -> 1 (ctl held, lock not): the thread, or manual polling, starts. */
int ahci_engine_start(struct ahci_port *p);
/* ST cleared, a reset, destroy (ctl held, lock not): the in-flight I/O
 * finishes, the thread is joined; the caller resets what it wants. */
void ahci_engine_stop(struct ahci_port *p);
/* PxCI or PxSACT written (lock not held): wake the thread. */
void ahci_engine_kick(struct ahci_port *p);
/* COMRESET, HBA reset, power-on (lock held, engine stopped): the device
 * resets and queues its signature D2H FIS (delivered once FRE is set). */
void ahci_port_device_reset(struct ahci_port *p);
/* FRE 0 -> 1 (lock held): deliver a pending signature FIS. */
void ahci_port_fre_on(struct ahci_port *p);
int ahci_engine_poll(struct ahci_port *p);

/* The data of a command (used by ata.c and atapi.c, engine thread). */
/* Map the first len bytes the PRDT describes into c->iov: 0 (the PRDT may
 * hold less: c->iovcnt/mapped say how much), -EFAULT (outside guest RAM:
 * HBFS), -E2BIG (more than AHCI_MAX_IOV segments). */
int ahci_cmd_map(struct ahci_cmd *c, uint64_t len, uint64_t *mapped);
/* Copy an emulated reply (at most len bytes) to the PRDT: c->xfer. */
void ahci_cmd_reply(struct ahci_cmd *c, const void *buf, uint64_t len);
/* Gather up to len bytes the host sends through the PRDT into buf;
 * returns the count, or -errno as ahci_cmd_map. */
int64_t ahci_cmd_gather(struct ahci_cmd *c, void *buf, uint64_t len);
/* Queue c->op (or ops) on the port's ring; the engine completes c when
 * the last one is done. */
int ahci_cmd_queue(struct ahci_cmd *c, struct blk_io_op *op);

/* Outcomes: the command set sets c->status/error (and c->err_is). */
void ahci_cmd_ok(struct ahci_cmd *c);
void ahci_cmd_abort(struct ahci_cmd *c, uint8_t error);
/* A PRDT problem from ahci_cmd_map/gather: HBFS for a bad pointer, ABRT
 * (+OFS) for too short or too fragmented. */
void ahci_cmd_prdt_error(struct ahci_cmd *c, int err);

/* ---- ata.c / atapi.c ------------------------------------------------------- */

enum { CMD_DONE, CMD_QUEUED };

/* Start a non-NCQ or NCQ command (c->fis, c->acmd set); CMD_DONE when it
 * finished at once, CMD_QUEUED when I/O is in flight. */
int ata_start(struct ahci_port *p, struct ahci_cmd *c);
/* The last operation of c completed (c->io_failed/io_res set). */
void ata_io_done(struct ahci_port *p, struct ahci_cmd *c);
bool ata_is_ncq(uint8_t command);
void ata_drive_reset(struct ahci_port *p);
void ata_signature(const struct ahci_port *p, uint8_t *status, uint8_t *error,
		   uint8_t out[10]);

int atapi_packet(struct ahci_port *p, struct ahci_cmd *c);
void atapi_io_done(struct ahci_port *p, struct ahci_cmd *c);
/* ATAPI IDENTIFY PACKET DEVICE data (ACS-3), 256 words. */
void atapi_identify(const struct ahci_port *p, uint16_t *id);
void atapi_drive_reset(struct ahci_port *p);

/* Little helpers. */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
