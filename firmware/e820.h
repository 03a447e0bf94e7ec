/* SPDX-License-Identifier: MIT */
/*
 * The "etc/e820" fw_cfg file: the RAM map QEMU hands firmware, as packed
 * little-endian {u64 address, u64 length, u32 type} entries. OVMF's
 * PlatformInitLib (MemDetect.c, PlatformScanOrAdd64BitE820Ram) takes the
 * end of RAM below 4 GiB and every RAM range at or above 4 GiB from it,
 * in preference to the CMOS bytes.
 */
#ifndef MINIVMM_E820_H
#define MINIVMM_E820_H

#include <stddef.h>
#include <stdint.h>

#include "lib/layout.h"
#include "lib/memory.h"

/* Address range types: ACPI 6.5 §15.1 "INT 15H, E820H - Query System
 * Address Map", table "Address Range Types". */
#define E820_RAM	1	/* AddressRangeMemory */
#define E820_RESERVED	2	/* AddressRangeReserved */
#define E820_ACPI	3	/* AddressRangeACPI */
#define E820_NVS	4	/* AddressRangeNVS */
#define E820_UNUSABLE	5	/* AddressRangeUnusable */

/*
 * KVM's real-mode helpers: the EPT identity-map page and, one page above
 * it, the three-page TSS (KVM_SET_IDENTITY_MAP_ADDR, KVM_SET_TSS_ADDR).
 * docs/memory-map.md puts them here, where QEMU puts them
 * (target/i386/kvm/kvm.c), and QEMU reserves the range in the e820 map.
 */

/*
 * AMD's HyperTransport window just below 1 TiB, which AMD IOMMUs reserve:
 * QEMU 7.1+ reports it (pc_memory_init) for a guest CPU of AMD's whose
 * CPUID 0x80000008 gives at least 40 physical address bits.
 */
#define E820_AMD_HT_BASE	0xFD00000000ULL
#define E820_AMD_HT_SIZE	0x0300000000ULL

/* e820_build() flags. */
#define E820_F_AMD_HT		(1u << 0)	/* reserve the HyperTransport window */

struct e820_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX_ENTRIES	8

/*
 * The map QEMU's pc_memory_init() builds for a q35 machine, in address
 * order: one RAM entry from 0 to the end of low memory (QEMU does not cut
 * out the VGA window or the BIOS area: firmware knows those), the KVM
 * range reserved, RAM above 4 GiB if any, and with E820_F_AMD_HT the
 * HyperTransport window (left out if RAM reaches it: QEMU would have moved
 * that RAM above 1 TiB, lib/memory.c does not). Entries are host-endian
 * here; e820_serialize() makes the little-endian file.
 * Returns the number of entries, or -ENOSPC if max is too small.
 */
int e820_build(const struct guest_mem *mem, unsigned int flags,
	       struct e820_entry *out, size_t max);

/* The "etc/e820" bytes for n entries: 20 * n bytes into buf. */
void e820_serialize(const struct e820_entry *e, size_t n, uint8_t *buf);

struct fw_cfg;
/* e820_build() + e820_serialize() + fw_cfg_add_file("etc/e820"). */
int e820_install(struct fw_cfg *fw, const struct guest_mem *mem, unsigned int flags);

#endif
