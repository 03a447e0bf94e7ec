/* SPDX-License-Identifier: MIT */
/*
 * SMBIOS tables for the guest, handed to the firmware as two fw_cfg files
 * the way QEMU does for q35:
 *
 *   etc/smbios/smbios-tables   the structure table (types 1, 3, 4 per
 *                              socket, 16, 17 per DIMM, 19 per RAM range,
 *                              32, 127; type 0 only on request)
 *   etc/smbios/smbios-anchor   an SMBIOS 3.0 64-bit entry point (DSP0134
 *                              §5.2.2) with the table address left 0
 *
 * OVMF (OvmfPkg/Library/SmbiosVersionLib) accepts them only if the anchor
 * is exactly 24 bytes, says "_SM3_" and major version 3, and its
 * TableMaximumSize equals the size of the tables file; it takes the version
 * and DocRev from it, then SmbiosPlatformDxe installs each structure up to
 * type 127 under the handle it carries, and builds its own entry point.
 */
#ifndef MINIVMM_SMBIOS_H
#define MINIVMM_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memory.h"

#define SMBIOS3_ANCHOR_SIZE	24
#define SMBIOS_MAX_STRING	64	/* edk2's SMBIOS_STRING_MAX_LENGTH */
#define SMBIOS_MAX_MEM_RANGES	16
#define SMBIOS_MAX_SOCKETS	0xC00	/* keeps type-4 handles below 0x1000 */

/* Handles, QEMU's scheme (hw/smbios/smbios.c), so that dmidecode output
 * lines up with a QEMU guest's. */
#define SMBIOS_HANDLE_T0	0x0000
#define SMBIOS_HANDLE_T1	0x0100
#define SMBIOS_HANDLE_T3	0x0300
#define SMBIOS_HANDLE_T4	0x0400	/* + socket */
#define SMBIOS_HANDLE_T16	0x1000
#define SMBIOS_HANDLE_T17	0x1100	/* + DIMM */
#define SMBIOS_HANDLE_T19	0x1300	/* + RAM range */
#define SMBIOS_HANDLE_T32	0x2000
#define SMBIOS_HANDLE_T127	0x7F00

struct smbios_mem_range {
	uint64_t addr;
	uint64_t len;
};

struct smbios_config {
	/* Types 1 (system) and 3 (chassis); NULL or "" means no string,
	 * except manufacturer and product, which default as noted. Strings
	 * longer than SMBIOS_MAX_STRING are cut. */
	const char *manufacturer;	/* also types 4 and 17; "minivmm" */
	const char *product;		/* "minivmm q35" */
	const char *version;		/* also type 4's processor version */
	const char *serial;		/* types 1 and 3 */
	const char *sku;
	const char *family;
	uint8_t uuid[16];		/* RFC 4122 byte order (as a string
					 * reads); type 1 stores it in the
					 * SMBIOS 2.6+ wire order */

	/* Type 0 is built only if bios_vendor is set. QEMU leaves it out by
	 * default and OVMF then installs its own ("EFI Development Kit II /
	 * OVMF"), which describes the real firmware. */
	const char *bios_vendor;
	const char *bios_version;
	const char *bios_date;		/* "mm/dd/yyyy" */

	/* Type 4, one per socket. */
	unsigned int nr_cpus;
	unsigned int cores_per_socket;	/* 0: all CPUs in one socket */
	unsigned int threads_per_core;	/* 0: 1 */
	uint32_t cpuid_signature;	/* CPUID.1:EAX (processor ID, §7.5.3) */
	uint32_t cpuid_features;	/* CPUID.1:EDX */

	/* Types 16, 17, 19. With nr_mem_ranges 0, the RAM ranges of the
	 * e820 map of mem (as QEMU derives type 19 from its e820 table), and
	 * a ram_size of 0 means mem->ram_size. */
	const struct guest_mem *mem;
	uint64_t ram_size;
	const struct smbios_mem_range *mem_ranges;
	unsigned int nr_mem_ranges;
};

struct smbios_blobs {
	uint8_t *tables;
	size_t tables_len;
	uint8_t anchor[SMBIOS3_ANCHOR_SIZE];
};

/* Build both blobs. -EINVAL for a config that cannot be described. */
int smbios_build(const struct smbios_config *cfg, struct smbios_blobs *out);
void smbios_blobs_free(struct smbios_blobs *b);

struct fw_cfg;
/* smbios_build() + the two fw_cfg files. */
int smbios_install(struct fw_cfg *fw, const struct smbios_config *cfg);

/* A random (version 4, RFC 4122 §4.4) UUID. -errno if getrandom() fails. */
int smbios_uuid_generate(uint8_t uuid[16]);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (any case) -> bytes; -EINVAL. */
int smbios_uuid_parse(const char *s, uint8_t uuid[16]);

#endif
