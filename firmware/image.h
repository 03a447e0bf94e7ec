/* SPDX-License-Identifier: MIT */
/*
 * A firmware image mapped read-only just below 4 GiB, where the CPU's reset
 * vector (0xFFFFFFF0) lands in it, plus the PC's "isa-bios" alias of its
 * last 128 KiB below 1 MiB. Used for --firmware and for OVMF's code.
 */
#ifndef MINIVMM_FW_IMAGE_H
#define MINIVMM_FW_IMAGE_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"

#define FW_IMAGE_MAX_SIZE	(8ULL << 20)	/* the top-of-4G flash window */

struct fw_image {
	const char *path;
	uint8_t *data;		/* read-only private mapping of the file */
	uint64_t size;
	uint64_t gpa;		/* 4 GiB - size */
	uint64_t isa_size;	/* bytes aliased below 1 MiB */
	int slot, isa_slot;
};

/* Open and check the file (size a non-zero multiple of 4 KiB, at most
 * FW_IMAGE_MAX_SIZE). One-line error naming the file and the fix. */
int fw_image_open(struct fw_image *fw, const char *path);
/* Map it into the guest (read-only memslots; writes exit and are dropped). */
int fw_image_map(struct fw_image *fw, const struct vm_ops *ops, struct bus *mmio);
void fw_image_close(struct fw_image *fw);

#endif
