/*
 * boot64.S - reset vector / SIPI entry -> 32-bit protected mode -> 64-bit
 * long mode, for longmode.bin and its variants (longmode.c has the rest).
 *
 * BSP: reset vector (0xFFFFFFF0) -> F000:reset16 -> pm32 -> builds the
 *      identity map (4 GiB, 2 MiB pages) at PT_BASE -> lm64 -> zeroes .bss ->
 *      bsp_main().
 * AP:  SIPI vector 0xF0 -> F000:0000 (ap_entry) -> same path, reusing the
 *      BSP's page tables -> takes an AP index with lock xadd -> own stack ->
 *      ap_main(index).
 * EBP carries "is AP" through the mode switches (no stack before 64-bit).
 */
#include "guest.h"

#define R(x)            ((x) - IMAGE_LOW)

#define PTE_P           0x001
#define PTE_RW          0x002
#define PTE_PWT         0x008
#define PTE_PCD         0x010
#define PTE_PS          0x080
#define CR0_PE          0x00000001
#define CR0_NW          0x20000000
#define CR0_CD          0x40000000
#define CR0_PG          0x80000000
#define CR4_PAE         0x00000020

/* ----------------------------------------------------------------------- */
    .section .text.ap, "ax"
    .code16
    .globl ap_entry
ap_entry:                               /* F000:0000 */
    cli
    cld
    movl    $1, %ebp
    jmp     common16

/* ----------------------------------------------------------------------- */
    .section .text16, "ax"
    .code16
reset16:
    cli
    cld
    xorl    %ebp, %ebp
common16:
    lgdtl   %cs:R(gdt_desc)
    movl    %cr0, %eax
    andl    $~(CR0_CD | CR0_NW), %eax
    orl     $CR0_PE, %eax
    movl    %eax, %cr0
    ljmpl   $SEL_CODE32, $pm32

/* ----------------------------------------------------------------------- */
    .section .text32, "ax"
    .code32
pm32:
    movw    $SEL_DATA, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
    testl   %ebp, %ebp
    jnz     1f

    /* BSP: PML4 @PT_BASE, PDPT @+0x1000, PD0..PD3 @+0x2000..+0x5FFF */
    movl    $PT_BASE, %edi
    movl    $(0x6000 / 4), %ecx
    xorl    %eax, %eax
    rep stosl
    movl    $(PT_BASE + 0x1000 + PTE_P + PTE_RW), PT_BASE
    xorl    %ecx, %ecx                  /* PDPT entries 0..3 */
2:  movl    %ecx, %eax
    shll    $12, %eax
    addl    $(PT_BASE + 0x2000 + PTE_P + PTE_RW), %eax
    movl    %eax, PT_BASE + 0x1000(,%ecx,8)
    incl    %ecx
    cmpl    $4, %ecx
    jb      2b
    xorl    %ecx, %ecx                  /* 2048 PDEs, 2 MiB each */
3:  movl    %ecx, %eax
    shll    $21, %eax
    orl     $(PTE_P + PTE_RW + PTE_PS), %eax
    cmpl    $(3 * 512), %ecx            /* 3-4 GiB: MMIO, LAPIC, ROM: UC */
    jb      4f
    orl     $(PTE_PCD + PTE_PWT), %eax
4:  movl    %eax, PT_BASE + 0x2000(,%ecx,8)
    incl    %ecx
    cmpl    $2048, %ecx
    jb      3b

1:  movl    %cr4, %eax
    orl     $CR4_PAE, %eax
    movl    %eax, %cr4
    movl    $PT_BASE, %eax
    movl    %eax, %cr3
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $EFER_LME, %eax
    wrmsr
    movl    %cr0, %eax
    orl     $CR0_PG, %eax
    movl    %eax, %cr0
    ljmp    $SEL_CODE64, $lm64

/* ----------------------------------------------------------------------- */
    .text
    .code64
lm64:
    testl   %ebp, %ebp
    jnz     ap64
    movq    $BSP_STACK_TOP, %rsp
    movq    $__bss_start, %rdi
    movq    $__bss_end, %rcx
    subq    %rdi, %rcx
    xorl    %eax, %eax
    rep stosb
    call    bsp_main
    jmp     halt_forever

ap64:
    movl    $1, %eax
    lock xaddl %eax, ap_next_index
    cmpl    $AP_MAX_STACKS, %eax
    jae     1f
    movl    %eax, %edi                  /* ap_main(index) */
    incl    %eax
    shll    $12, %eax                   /* AP_STACK_SIZE == 0x1000 */
    addl    $AP_STACK_BASE, %eax
    movq    %rax, %rsp
    call    ap_main
    jmp     halt_forever
1:  lock incl ap_no_stack               /* too many CPUs: no stack for it */

    .globl halt_forever
halt_forever:
    cli
    hlt
    jmp     halt_forever

/* ----------------------------------------------------------------------- */
/* exception stubs: 32 of them, 16 bytes apart; exc_common builds
 * [vector, error code, rip, cs, rflags, rsp, ss] and calls exception(frame) */

    .balign 16
    .globl exc_stubs
exc_stubs:
    .set vec, 0
    .rept 32
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    pushq   $vec                        /* CPU pushed an error code */
    .else
    pushq   $0                          /* fake error code */
    pushq   $vec
    .endif
    jmp     exc_common
    .set vec, vec + 1
    .endr

exc_common:
    movq    %rsp, %rdi
    andq    $-16, %rsp
    call    exception
    jmp     halt_forever

/* ----------------------------------------------------------------------- */
    .section .reset, "ax"
    .code16
    .globl reset_vector
reset_vector:
    ljmp    $IMAGE_SEG, $R(reset16)
    .fill   16 - (. - reset_vector), 1, 0xF4

    .section .note.GNU-stack, "", @progbits
