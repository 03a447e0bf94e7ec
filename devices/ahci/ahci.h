/* SPDX-License-Identifier: MIT */
/*
 * The ICH9 AHCI controller at 00:1f.2 (8086:2922 rev 02, class 010601),
 * as QEMU's q35 has it: six SATA ports, each empty or holding a SATA disk
 * (ATA) or a CD/DVD-ROM drive (ATAPI, MMC). docs/ahci.md describes what is
 * emulated, how data moves and how a hostile guest is answered.
 *
 * References: Serial ATA AHCI 1.3.1 ("AHCI"), Serial ATA 3.x ("SATA"),
 * ATA Command Set 3 ("ACS-3"), SCSI Multi-Media Commands 6 ("MMC-6"),
 * SCSI Primary Commands 4 ("SPC-4"), Intel ICH9 datasheet 316972 §14
 * (the SATA function's configuration space).
 */
#ifndef MINIVMM_AHCI_H
#define MINIVMM_AHCI_H

#include <stdbool.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "lib/memory.h"

#define AHCI_NR_PORTS		6		/* ICH9: ports 0-5 (CAP.NP = 5) */
#define AHCI_DEVFN		PCI_DEVFN(0x1f, 2)
#define AHCI_VENDOR_ID		0x8086
#define AHCI_DEVICE_ID		0x2922		/* ICH9 (82801IR) 6-port SATA, AHCI */
#define AHCI_REVISION		0x02
#define AHCI_CLASS		0x010601	/* mass storage, SATA, AHCI 1.0 */

enum ahci_drive_kind {
	AHCI_DRIVE_NONE,
	AHCI_DRIVE_DISK,	/* ATA: IDENTIFY DEVICE, READ/WRITE (FP)DMA, ... */
	AHCI_DRIVE_CDROM,	/* ATAPI: PACKET with MMC commands, read-only */
};

struct ahci_drive_params {
	enum ahci_drive_kind kind;
	const char *path;
	bool readonly, direct;	/* a CD-ROM is always read-only */
	const char *serial;	/* up to 20 characters; NULL: MV-<port> style default */
};

struct ahci_params {
	struct ahci_drive_params port[AHCI_NR_PORTS];	/* by port number */
	/*
	 * Tests and the fuzz target only: no I/O threads. Setting PxCMD.ST
	 * turns the port's engine on, and ahci_port_poll() runs on the
	 * caller's thread exactly what a port's I/O thread would, so a run
	 * is repeatable.
	 */
	bool manual;
	/*
	 * A CD-ROM reports the UNIT ATTENTION a real drive reports after
	 * power-on or a reset (SPC-4 unit attention: POWER ON, RESET, OR BUS DEVICE
	 * RESET OCCURRED, ASC 29h); false leaves it out.
	 */
	bool no_reset_unit_attention;
};

struct ahci;

/*
 * Create the controller, open every drive's image (one line on failure
 * naming the option and the fix: a missing file, a CD-ROM image whose size
 * is not a multiple of 2048) and plug it into root's bus 0 at 00:1f.2.
 * The LPC bridge (00:1f.0, the multi-function header and the INTx router)
 * must exist. It registers itself (devices/device.h); its PCI reset hook
 * returns it to power-on state. NULL with errno set on failure.
 */
struct ahci *ahci_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 struct pci_root *root, const struct ahci_params *p);
/* Stop every port (its I/O finishes first), flush the images, unplug, free. */
void ahci_destroy(struct ahci *a);
struct pci_dev *ahci_pci(struct ahci *a);

/* ---- for tests and the fuzz target --------------------------------------- */

/* Ports whose I/O thread exists now. */
unsigned int ahci_threads_running(struct ahci *a);
/*
 * manual mode: do what port's I/O thread would until it has nothing left
 * to do (every command it could start has completed). Returns the number
 * of commands completed, or -errno (-EINVAL: not manual, bad port).
 */
int ahci_port_poll(struct ahci *a, unsigned int port);

#endif
