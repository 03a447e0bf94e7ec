/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device (fw_cfg), x86 port-I/O flavour with
 * the DMA interface, as qemu/docs/specs/fw_cfg.rst describes it:
 *
 *   0x510        selector, 16-bit write (an 8-bit read here also reads data,
 *                since the data port overlaps the selector's upper byte)
 *   0x511        data, 8-bit reads advance the offset of the selected item
 *   0x514-0x51B  DMA address, big-endian; a write to the low half (0x518)
 *                or an 8-byte write at 0x514 starts a transfer; reads give
 *                the signature "QEMU CFG"
 *
 * OVMF (OvmfPkg/Library/QemuFwCfgLib) finds the device by the "QEMU"
 * signature at key 0, uses DMA when FW_CFG_ID bit 1 is set, and names
 * everything else through the file directory at key 0x19.
 */
#ifndef MINIVMM_FW_CFG_H
#define MINIVMM_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"
#include "lib/memory.h"

#define FW_CFG_PORT_SEL		LAYOUT_FW_CFG_PORT
#define FW_CFG_PORT_DATA	(LAYOUT_FW_CFG_PORT + 1)
#define FW_CFG_PORT_DMA		(LAYOUT_FW_CFG_PORT + 4)
#define FW_CFG_CTL_SIZE		2	/* selector + overlapping data port */
#define FW_CFG_DMA_SIZE		8

/* Well-known keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MACHINE_ID	0x06
#define FW_CFG_KERNEL_ADDR	0x07
#define FW_CFG_KERNEL_SIZE	0x08
#define FW_CFG_KERNEL_CMDLINE	0x09
#define FW_CFG_INITRD_ADDR	0x0a
#define FW_CFG_INITRD_SIZE	0x0b
#define FW_CFG_BOOT_DEVICE	0x0c
#define FW_CFG_NUMA		0x0d
#define FW_CFG_BOOT_MENU	0x0e
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_KERNEL_ENTRY	0x10
#define FW_CFG_KERNEL_DATA	0x11
#define FW_CFG_INITRD_DATA	0x12
#define FW_CFG_CMDLINE_ADDR	0x13
#define FW_CFG_CMDLINE_SIZE	0x14
#define FW_CFG_CMDLINE_DATA	0x15
#define FW_CFG_SETUP_ADDR	0x16
#define FW_CFG_SETUP_SIZE	0x17
#define FW_CFG_SETUP_DATA	0x18
#define FW_CFG_FILE_DIR		0x19
#define FW_CFG_FILE_FIRST	0x20

#define FW_CFG_WRITE_CHANNEL	0x4000	/* ignored since QEMU 2.4 (spec) */
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_ENTRY_MASK	0x3fff

/* x86 arch-local keys (QEMU hw/i386/fw_cfg.h). */
#define FW_CFG_ACPI_TABLES	(FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES	(FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE	(FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_HPET		(FW_CFG_ARCH_LOCAL + 4)

/* FW_CFG_ID feature bits. */
#define FW_CFG_VERSION		0x01
#define FW_CFG_VERSION_DMA	0x02

/* DMA control word bits (fw_cfg.rst "Guest-side DMA Interface"). */
#define FW_CFG_DMA_CTL_ERROR	0x01
#define FW_CFG_DMA_CTL_READ	0x02
#define FW_CFG_DMA_CTL_SKIP	0x04
#define FW_CFG_DMA_CTL_SELECT	0x08
#define FW_CFG_DMA_CTL_WRITE	0x10

#define FW_CFG_DMA_SIGNATURE	"QEMU CFG"
#define FW_CFG_MAX_FILE_PATH	56	/* name[] in a directory entry, with NUL */
#define FW_CFG_MAX_FILES	0x1000	/* far above QEMU's 0x20 default slots */

struct fw_cfg;

/*
 * Hooks for one item. Both run with the device lock held, on the vCPU
 * thread that made the access: they may change data[0..len) in place but
 * must not call any fw_cfg_*() function.
 */
struct fw_cfg_item_ops {
	/* The guest selected the item (port or DMA), before it reads any
	 * byte: the place to refresh contents lazily, as QEMU regenerates
	 * its ACPI tables when the firmware first selects them. */
	void (*select)(void *opaque, void *data, uint32_t len);
	/* A DMA write replaced data[offset, offset + len). */
	void (*write)(void *opaque, const void *data, uint32_t offset, uint32_t len);
};

/*
 * An fw_cfg with the signature ("QEMU"), the ID (traditional + DMA) and an
 * empty file directory. DMA goes to mem, which must outlive the device.
 * NULL (errno set) on failure.
 */
struct fw_cfg *fw_cfg_create(const struct vm_ops *ops, const struct guest_mem *mem);
/* Claims ports 0x510-0x511 and 0x514-0x51B: -EBUSY if already attached. */
int fw_cfg_attach(struct fw_cfg *fw, struct bus *pio);
/* Unregisters the ports (call it before bus_exit()) and frees everything. */
void fw_cfg_destroy(struct fw_cfg *fw);

/*
 * A numbered item (key < 0x20 or arch-local 0x8000..0xbfff; not the
 * signature, ID or directory, which the device owns). data is copied.
 * -EINVAL for a bad key, -EEXIST if the key is taken, -E2BIG for 4 GiB+.
 */
int fw_cfg_add_item(struct fw_cfg *fw, uint16_t key, const void *data, size_t len);
/* Little-endian integer items, as QEMU's fw_cfg_add_i16/i32/i64 store them. */
int fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value);
int fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value);
int fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value);

/*
 * A named file, read-only to the guest; data (may be empty) is copied.
 * Files get keys from 0x20 up in name order, like QEMU's non-legacy
 * machines, so adding one renumbers those after it: add every file before
 * the guest runs. -ENAMETOOLONG for a name of 56 bytes or more, -EEXIST
 * for a duplicate, -ENOSPC past FW_CFG_MAX_FILES.
 */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len);
/*
 * Same, with hooks; writable lets the guest overwrite the contents through
 * DMA (never resize them: fw_cfg.rst), e.g. for a table-loader
 * WRITE_POINTER target. ops may be NULL.
 */
int fw_cfg_add_file_ops(struct fw_cfg *fw, const char *name, const void *data,
			size_t len, bool writable,
			const struct fw_cfg_item_ops *ops, void *opaque);
/*
 * Replace a file's contents (its key stays; the directory shows the new
 * size), e.g. "bootorder" at reset. -ENOENT if there is no such file.
 */
int fw_cfg_update_file(struct fw_cfg *fw, const char *name, const void *data, size_t len);
/* Key of a file, or -ENOENT. */
int fw_cfg_file_key(struct fw_cfg *fw, const char *name);

/* Platform reset: select the signature, offset 0, DMA address 0 (as
 * QEMU's fw_cfg_reset does). */
void fw_cfg_reset(struct fw_cfg *fw);

/* Statistics: DMA transfers done and refused with the error bit. */
void fw_cfg_dma_stats(struct fw_cfg *fw, uint64_t *transfers, uint64_t *errors);

/* ---- the user's files (fw_cfg_opt.c) -------------------------------- */

#define FW_CFG_OPT_MAX		(64u << 20)	/* largest --fw-cfg file= */

/*
 * --fw-cfg: add "opt/..." name with value, the text itself (is_string; no
 * NUL) or the whole contents of the file it names (at most
 * FW_CFG_OPT_MAX bytes). 0, or -errno after one line naming the problem.
 */
int fw_cfg_add_opt(struct fw_cfg *fw, const char *name, const char *value, bool is_string);

/* ---- q35 platform items (fw_cfg_q35.c) ------------------------------ */

/* IA32_FEATURE_CONTROL (MSR 3Ah) bits, Intel SDM vol. 4 table 2-2. */
#define FEATURE_CONTROL_LOCKED			(1ULL << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX	(1ULL << 2)
#define FEATURE_CONTROL_SGX_LC			(1ULL << 17)
#define FEATURE_CONTROL_SGX			(1ULL << 18)
#define FEATURE_CONTROL_LMCE			(1ULL << 20)

struct fw_cfg_q35_config {
	const struct guest_mem *mem;	/* RAM size and the e820 map */
	unsigned int nr_cpus;		/* CPUs at boot */
	unsigned int apic_id_limit;	/* highest APIC ID + 1; 0: nr_cpus */
	const uint8_t *uuid;		/* 16 bytes, RFC 4122 order; NULL: zeros */
	bool nographic;			/* FW_CFG_NOGRAPHIC */
	/*
	 * "etc/msr_feature_control": the value OVMF writes to MSR 3Ah on
	 * every CPU (PlatformPei/FeatureControl.c). QEMU offers it when the
	 * guest CPUID has VMX (then VMXON_OUTSIDE_SMX), LMCE or SGX, always
	 * with LOCKED; 0 leaves the file out, and the MSR to the guest OS.
	 * Set only bits KVM accepts for the CPUID given to KVM_SET_CPUID2
	 * (and LMCE only with MCG_CAP.LMCE_P): OVMF's WRMSR of any other bit
	 * faults and the boot hangs.
	 */
	uint64_t msr_feature_control;
	/*
	 * "etc/system-states": which sleep states the ACPI PM block supports.
	 * OVMF enables its S3 resume machinery only if byte 3 bit 7 says S3
	 * is; keep these false until PM1_CNT implements suspend/resume and
	 * the DSDT has \_S3 / \_S4.
	 */
	bool s3, s4;
	/* "bootorder" (firmware/bootorder.h), NUL-terminated; NULL: an empty
	 * file, and OVMF keeps its default order. */
	const char *bootorder;
	/* The guest CPU is AMD's with >= 40 physical address bits: reserve
	 * the HyperTransport window in "etc/e820" as QEMU does (e820.h). */
	bool amd_ht_hole;
};

/*
 * Everything QEMU's q35 machine puts in fw_cfg apart from ACPI and SMBIOS
 * (fw_cfg_common_realize, fw_cfg_arch_create, pc_memory_init, ICH9 PM):
 * keys 0x02-0x05, 0x0d-0x0f, 0x8002 and the files "etc/e820",
 * "etc/boot-fail-wait", "etc/system-states", "bootorder", "bios-geometry"
 * and, if asked, "etc/msr_feature_control".
 */
int fw_cfg_add_q35_defaults(struct fw_cfg *fw, const struct fw_cfg_q35_config *cfg);

#endif
