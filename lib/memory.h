/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: a q35-style physical memory map and its host backing.
 *
 *   0x0000_0000 .. 0x0009_FFFF   RAM (conventional memory)
 *   0x000A_0000 .. 0x000B_FFFF   legacy VGA window (MMIO, no RAM)
 *   0x000C_0000 .. 1M - rom      RAM (option-ROM / PAM area)
 *   1M - rom    .. 0x000F_FFFF   read-only alias of the firmware's last
 *                                128 KiB (the "isa-bios" a PC has)
 *   0x0010_0000 .. lowmem_end    RAM
 *   0xB000_0000 .. 0xBFFF_FFFF   PCIe ECAM (MMCONFIG), 256 buses
 *   lowmem_end  .. 0xFEBF_FFFF   32-bit PCI MMIO window (minus ECAM)
 *   0xFEC0_0000                  IOAPIC;  0xFEE0_0000  LAPIC
 *   4G - fw     .. 4G            firmware (ROM or pflash)
 *   4G          .. 4G + high     RAM above 4 GiB
 *
 * docs/memory-map.md explains each choice.
 */
#ifndef MINIVMM_MEMORY_H
#define MINIVMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define KiB	(UINT64_C(1) << 10)
#define MiB	(UINT64_C(1) << 20)
#define GiB	(UINT64_C(1) << 30)

#define MEM_VGA_BASE		0xA0000ULL
#define MEM_VGA_END		0xC0000ULL
#define MEM_ISA_BIOS_END	0x100000ULL
#define MEM_ISA_BIOS_MAX	(128 * KiB)
#define MEM_ECAM_BASE		0xB0000000ULL
#define MEM_ECAM_SIZE		0x10000000ULL
#define MEM_IOAPIC_BASE		0xFEC00000ULL
#define MEM_LAPIC_BASE		0xFEE00000ULL
#define MEM_4G			0x100000000ULL
#define MEM_MIN_SIZE		(64 * MiB)

enum mem_backing {
	MEM_BACKING_ANON,	/* anonymous memory, transparent huge pages */
	MEM_BACKING_HUGE_2M,	/* hugetlbfs, 2 MiB pages, preallocated + locked */
	MEM_BACKING_HUGE_1G,	/* hugetlbfs, 1 GiB pages, preallocated + locked */
};

/* One guest-physical RAM range and where it lives in the backing. */
struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t offset;	/* into guest_mem.base */
	const char *name;
};

#define MEM_MAX_REGIONS 4

struct guest_mem {
	uint8_t *base;		/* host mapping of all guest RAM */
	uint64_t ram_size;
	uint64_t low_end;	/* RAM below 4 GiB ends here */
	uint64_t high_size;	/* RAM above 4 GiB */
	uint64_t page_size;
	enum mem_backing backing;
	int fd;			/* memfd for hugetlb backing, else -1 */
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int nr_regions;
};

/*
 * Compute the map for ram_size bytes with an isa-bios alias of
 * isa_rom_size bytes below 1 MiB (0 for none). Pure: no allocation.
 * Returns -EINVAL for a size below MEM_MIN_SIZE or one that does not fit.
 */
int mem_layout(struct guest_mem *mem, uint64_t ram_size, uint64_t isa_rom_size);

/* Allocate (and for hugetlb: preallocate and lock) the backing. */
int mem_alloc(struct guest_mem *mem, enum mem_backing backing,
	      const char *sysfs_root);
void mem_free(struct guest_mem *mem);

/*
 * THE way to touch guest memory: *hva points at [gpa, gpa+len) if that
 * range lies wholly inside one RAM region, else -EFAULT. A guest controls
 * gpa and len, so everything that follows a guest pointer goes through here.
 */
int guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		  void **hva);

/* Copy helpers built on guest_mem_ptr. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len);

uint64_t mem_backing_page_size(enum mem_backing backing);
const char *mem_backing_name(enum mem_backing backing);

#endif
