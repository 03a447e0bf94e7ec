/* SPDX-License-Identifier: MIT */
/*
 * The machine's layout, stated once: every fixed I/O port, GSI and MMIO
 * address of the q35-like platform. The device set-up (vmm/machine.c),
 * the device models' defaults and the firmware tables
 * (firmware/dsdt.c, firmware/acpi.c, firmware/e820.c) all read these, so
 * the ACPI tables describe what the devices really decode. Guest RAM and
 * the PCI windows around it are in lib/memory.h (the memory map);
 * docs/memory-map.md explains each choice.
 *
 * The values are QEMU's q35 ones, where firmware and guests expect them.
 */
#ifndef MINIVMM_LIB_LAYOUT_H
#define MINIVMM_LIB_LAYOUT_H

/* ---- ISA devices behind the LPC bridge ------------------------------- */
#define LAYOUT_COM1_PORT	0x3F8	/* 16550 UART, 8 ports */
#define LAYOUT_COM1_LEN		8
#define LAYOUT_COM1_GSI		4
#define LAYOUT_RTC_PORT		0x70	/* MC146818 index/data + upper bank */
#define LAYOUT_RTC_LEN		4	/* 0x70-0x73; ACPI declares 0x70-0x71 */
#define LAYOUT_RTC_GSI		8
#define LAYOUT_DEBUGCON_PORT	0x402	/* OVMF's debug log (QEMU isa-debugcon) */
#define LAYOUT_FW_CFG_PORT	0x510	/* selector; data 0x511, DMA 0x514 */

/* ---- Test device (--testdev; QEMU's pc-testdev + isa-debug-exit) -------- */
#define LAYOUT_TESTDEV_SCRATCH_PORT	0xE0	/* 32-bit scratch register */
#define LAYOUT_TESTDEV_FLUSH_PORT	0xE4	/* flush page */
#define LAYOUT_TESTDEV_BYTES_PORT	0xE8	/* the scratch register, bytewise */
#define LAYOUT_TESTDEV_EXIT_PORT	0xF4	/* isa-debug-exit */
#define LAYOUT_TESTDEV_IRQ_PORT		0x2000	/* 0x2000 + n: GSI n's level */
#define LAYOUT_TESTDEV_MMIO_BASE	0xFF000000ull	/* 64 KiB scratch memory */
#define LAYOUT_TESTDEV_MMIO_SIZE	0x10000ull

/* ---- ICH9 ------------------------------------------------------------- */
/* Where OVMF programs PMBASE on q35; the LPC bridge decodes 128 bytes. */
#define LAYOUT_PM_BASE		0x600
#define LAYOUT_PM_LEN		0x80
#define LAYOUT_SCI_GSI		9	/* an ISA IRQ, 1-15 but not 2 */
#define LAYOUT_RESET_PORT	0xCF9	/* reset control, inside 0xCF8's dword */
#define LAYOUT_PORT92		0x92	/* System Control Port A: fast reset, A20 */
/* PIRQ A-H drive IOAPIC pins 16-23 in APIC mode (ICH9 §5.9). */
#define LAYOUT_PIRQ_GSI_BASE	16
#define LAYOUT_NR_PIRQS		8

/* ---- TPM ---------------------------------------------------------------- */
/* The TPM's MMIO range, the five locality pages of the TCG PC Client PTP
 * (§5.4.1 Table 9: 0xFED40000-0xFED44FFF), where firmware and OSes look
 * for a CRB TPM (devices/tpm/crb.c). */
#define LAYOUT_TPM_CRB_BASE	0xFED40000ULL
#define LAYOUT_TPM_CRB_SIZE	0x5000ULL

/*
 * KVM's real-mode helpers (KVM_SET_IDENTITY_MAP_ADDR, KVM_SET_TSS_ADDR):
 * the EPT identity-map page, then the three-page TSS one page above it,
 * below the flash and the test window, where QEMU puts them
 * (target/i386/kvm/kvm.c); the e820 map reserves the whole range.
 */
#define LAYOUT_KVM_IDENTITY_MAP	0xFEFFC000ULL
#define LAYOUT_KVM_TSS		(LAYOUT_KVM_IDENTITY_MAP + 0x1000)
#define LAYOUT_KVM_HELPERS_SIZE	0x4000ULL

#endif
