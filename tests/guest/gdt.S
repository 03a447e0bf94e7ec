/*
 * gdt.S - the one GDT every payload uses, in ROM.
 *
 * All descriptors have the "accessed" bit preset so the CPU never writes to
 * the (read-only) GDT when a selector is loaded.
 */
#include "guest.h"

    .section .rodata
    .balign 16
    .globl gdt, gdt_desc
gdt:
    .quad 0                         /* 0x00 null                          */
    .quad 0x00CF9B000000FFFF        /* 0x08 code32: base 0, 4 GiB, D=1    */
    .quad 0x00CF93000000FFFF        /* 0x10 data: base 0, 4 GiB, RW       */
    .quad 0x00AF9B000000FFFF        /* 0x18 code64: L=1                   */
    .quad 0x00009B0F0000FFFF        /* 0x20 code16: base 0xF0000, 64 KiB  */
gdt_end:

    .balign 8
    .word 0                         /* pad so the base is 4-byte aligned  */
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt                       /* linear address in the 0xF0000 alias */

    .section .note.GNU-stack, "", @progbits
