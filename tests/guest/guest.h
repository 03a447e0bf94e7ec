/*
 * guest.h - shared constants for the minivmm test payloads (tests/guest).
 *
 * Included from both assembler (.S, via the C preprocessor) and C.  Only
 * #defines above the __ASSEMBLER__ guard.  The platform contract these
 * numbers come from is described in tests/guest/README.md.
 */
#ifndef GUEST_H
#define GUEST_H

/* ---- image ---------------------------------------------------------- */
#define IMAGE_SIZE      0x10000         /* 64 KiB                          */
#define IMAGE_LOW       0xF0000         /* alias below 1 MiB (F000:0000)   */
#define IMAGE_SEG       0xF000
#define SIPI_VECTOR     0xF0            /* AP starts at F000:0000 = image+0 */

/* ---- platform ------------------------------------------------------- */
#define COM1            0x3F8
#define COM1_LSR        (COM1 + 5)
#define LSR_THRE        0x20
#define PORT_EXIT       0xF4            /* 32-bit write ends the VM        */
#define PORT_SCRATCH    0xE0            /* 32-bit scratch register         */
#define PORT_CMOS_IDX   0x70
#define PORT_CMOS_DATA  0x71
#define CMOS_NCPUS_M1   0x5F            /* number of vCPUs - 1             */
#define PORT_RESET      0xCF9
#define RESET_VALUE     0x06
#define PORT_92         0x92            /* System Control Port A: bit 0 resets */
#define CMOS_BOOTS      0x4F            /* longmode-reset's boot count (free) */
#define MMIO_SCRATCH    0xFF000000      /* 64 KiB MMIO scratch memory      */
#define MMIO_SCRATCH_SZ 0x10000
#define LAPIC_BASE      0xFEE00000
#define LAPIC_ID        0x020
#define LAPIC_SVR       0x0F0
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define ICR_INIT_ALL_EX 0x000C4500      /* INIT, assert, all-excl-self      */
#define ICR_SIPI_ALL_EX (0x000C4600 | SIPI_VECTOR)
#define ICR_BUSY        (1 << 12)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define EFER_LMA        (1 << 10)

/* ---- exit codes (port 0xf4 value; QEMU exits with (v << 1) | 1) ------ */
#define EXIT_PASS       0x00
#define EXIT_FAIL       0x10            /* generic                         */
#define EXIT_PIO        0x11            /* PIO scratch register mismatch   */
#define EXIT_PIO_STR    0x12            /* rep ins/outs mismatch           */
#define EXIT_MMIO       0x13            /* MMIO scratch mismatch           */
#define EXIT_MMIO_STR   0x14            /* rep movs/stos on MMIO mismatch  */
#define EXIT_CPUS       0x15            /* not all CPUs came up in time    */
#define EXIT_APIC_IDS   0x16            /* APIC-ID bitmap / count mismatch */
#define EXIT_CMOS       0x17            /* CMOS[0x5F] implausible          */
#define EXIT_MODE       0x18            /* a CPU is not in the right mode  */
#define EXIT_EXCEPTION  0x20            /* unexpected CPU exception        */
#define EXIT_DELIBERATE 0x21            /* longmode-fail: deliberate fail  */
#define EXIT_NO_RESET   0x22            /* longmode-reset: a reset ignored */

/* ---- guest RAM layout (all below 0x80000) ---------------------------- */
#define RM_DATA         0x00600         /* realmode.bin variables           */
#define BSS_START       0x01000         /* C .bss (linker script)           */
#define BSS_LIMIT       0x08000
#define BSP_STACK_TOP   0x0FFF0         /* BSP stack: 0x8000-0xFFFF         */
#define PT_BASE         0x10000         /* PML4, PDPT, 4 PDs: 0x10000-0x15FFF */
#define AP_STACK_BASE   0x20000         /* AP stacks: 0x20000-0x7FFFF       */
#define AP_STACK_SIZE   0x1000
#define AP_MAX_STACKS   ((0x80000 - AP_STACK_BASE) / AP_STACK_SIZE)

/* ---- GDT selectors (same GDT in every payload) ------------------------ */
#define SEL_CODE32      0x08
#define SEL_DATA        0x10
#define SEL_CODE64      0x18
#define SEL_CODE16      0x20            /* base 0xF0000, limit 0xFFFF       */

#endif
