/*
 * realmode.S - minivmm test payload that never leaves 16-bit real mode
 * (except for the few instructions it takes to load 4 GiB-limit data
 * segments: "unreal" / big-real mode).
 *
 * BSP: greeting, PIO scratch register, rep outs/ins string PIO, MMIO scratch
 * (8/16/32-bit, several offsets), rep movs/stos on MMIO, CMOS[0x5F] CPU
 * count, INIT-SIPI-SIPI, wait (TSC-bounded) for every AP, RESULT line, exit.
 * AP:  starts at F000:0000 (SIPI vector 0xF0), goes unreal, reads its LAPIC
 * ID, sets its bit in the APIC-ID bitmap, lock-increments the AP counter and
 * halts.
 *
 * After ENTER_UNREAL, DS, ES, FS and GS have base 0 and a 4 GiB limit, so
 * every data address below is a 32-bit linear address.  CS is F000 and
 * 16-bit code offsets are R(sym) = sym - 0xF0000.
 */
#include "guest.h"

#define R(x)            ((x) - IMAGE_LOW)

/* realmode.bin variables in RAM (below 64 KiB: 16-bit displacements) */
#define RM_COUNT        (RM_DATA + 0x00)   /* APs that checked in          */
#define RM_EXPECT       (RM_DATA + 0x04)   /* CPUs expected (CMOS + 1)     */
#define RM_BITMAP       (RM_DATA + 0x10)   /* 256 bits, one per APIC ID    */
#define RM_BUF          0x2000             /* string-I/O scratch buffer    */

#define WAIT_TSC_HI     4                  /* AP wait: 4 * 2^32 TSC cycles */
#define WAIT_SPIN_MAX   0x40000000         /* backstop if the TSC is stuck */

/* ----------------------------------------------------------------------- */
/* macros                                                                  */

/* Real mode -> 16-bit protected mode -> real mode, leaving DS/ES/FS/GS with
 * base 0 and a 4 GiB limit.  Uses no stack (the APs have none).  Clobbers
 * EAX, BX. */
.macro ENTER_UNREAL
    lgdtl   %cs:R(gdt_desc)
    movl    %cr0, %eax
    orb     $1, %al
    movl    %eax, %cr0
    ljmp    $SEL_CODE16, $R(.Lpm\@)
.Lpm\@:
    movw    $SEL_DATA, %bx
    movw    %bx, %ds
    movw    %bx, %es
    movw    %bx, %fs
    movw    %bx, %gs
    andb    $0xFE, %al
    movl    %eax, %cr0
    ljmp    $IMAGE_SEG, $R(.Lrm\@)
.Lrm\@:
    xorw    %bx, %bx
    movw    %bx, %ds
    movw    %bx, %es
    movw    %bx, %fs
    movw    %bx, %gs
.endm

/* PRINT "text" - print a string literal on COM1 (no newline added). */
.macro PRINT str:req
    .pushsection .rodata
.Lstr\@: .asciz "\str"
    .popsection
    pushl   %esi
    movl    $.Lstr\@, %esi
    call    puts
    popl    %esi
.endm

/* CHECK got, want, code, "what" - compare two 32-bit operands; on mismatch
 * print "RESULT: FAIL what got=... want=..." and exit with code. */
.macro CHECK got:req, want:req, code:req, what:req
    .pushsection .rodata
.Lwhat\@: .asciz "\what"
    .popsection
    pushl   %eax                        /* preserves every register on success */
    pushl   %edx
    pushl   \want
    pushl   \got
    popl    %eax
    popl    %edx
    cmpl    %edx, %eax
    jne     .Lbad\@
    popl    %edx
    popl    %eax
    jmp     .Lok\@
.Lbad\@:
    movl    $.Lwhat\@, %esi
    movl    $\code, %ecx
    jmp     fail_got_want
.Lok\@:
.endm

/* FAIL code, "reason" */
.macro FAIL code:req, why:req
    .pushsection .rodata
.Lwhy\@: .asciz "\why"
    .popsection
    movl    $.Lwhy\@, %esi
    movl    $\code, %ecx
    jmp     fail_msg
.endm

/* ----------------------------------------------------------------------- */
/* AP entry: F000:0000, real mode, reached by SIPI vector 0xF0.            */

    .section .text.ap, "ax"
    .code16
    .globl ap_entry
ap_entry:
    cli
    cld
    ENTER_UNREAL
    movl    $LAPIC_BASE, %ebx
    movl    %fs:LAPIC_ID(%ebx), %eax
    shrl    $24, %eax
    lock btsl %eax, RM_BITMAP           /* first the bit ...               */
    lock incl RM_COUNT                  /* ... then the count the BSP polls */
1:  cli
    hlt
    jmp     1b

/* ----------------------------------------------------------------------- */
/* BSP                                                                     */

    .section .text16, "ax"
    .code16
reset16:
    cli
    cld
    xorw    %ax, %ax
    movw    %ax, %ss
    movl    $BSP_STACK_TOP, %esp
    ENTER_UNREAL
    call    install_ivt

    PRINT   "minivmm-guest realmode: hello from 16-bit real mode\n"
    PRINT   "mode: real (unreal data segments)\n"

    call    test_pio
    PRINT   "pio: ok\n"
    call    test_pio_string
    PRINT   "pio-string: ok\n"
    call    test_mmio
    PRINT   "mmio: ok\n"
    call    test_mmio_string
    PRINT   "mmio-string: ok\n"
    call    test_smp

    PRINT   "RESULT: PASS\n"
    movl    $EXIT_PASS, %ecx
    jmp     exit_vm

/* ----------------------------------------------------------------------- */
/* PIO scratch register at 0xe0                                            */

test_pio:
    movw    $PORT_SCRATCH, %dx
    movl    $0x12345678, %eax
    outl    %eax, %dx
    xorl    %eax, %eax
    inl     %dx, %eax
    CHECK   %eax, $0x12345678, EXIT_PIO, "pio: in32 after out32"
    xorl    %eax, %eax
    inw     %dx, %ax
    CHECK   %eax, $0x5678, EXIT_PIO, "pio: in16 after out32"
    xorl    %eax, %eax
    inb     %dx, %al
    CHECK   %eax, $0x78, EXIT_PIO, "pio: in8 after out32"

    /* every pattern at every width, read back at the same width */
    movl    $pio_patterns, %esi
1:  movl    (%esi), %ecx
    cmpl    $0x0BADC0DE, %ecx           /* end marker */
    je      2f
    movl    %ecx, %eax
    outl    %eax, %dx
    xorl    %eax, %eax
    inl     %dx, %eax
    CHECK   %eax, %ecx, EXIT_PIO, "pio: out32/in32"
    movl    %ecx, %eax
    outw    %ax, %dx
    xorl    %eax, %eax
    inw     %dx, %ax
    movzwl  %cx, %ebx
    CHECK   %eax, %ebx, EXIT_PIO, "pio: out16/in16"
    movl    %ecx, %eax
    outb    %al, %dx
    xorl    %eax, %eax
    inb     %dx, %al
    movzbl  %cl, %ebx
    CHECK   %eax, %ebx, EXIT_PIO, "pio: out8/in8"
    addl    $4, %esi
    jmp     1b

    /* walking ones, 32-bit */
2:  movl    $1, %ecx
3:  movl    %ecx, %eax
    outl    %eax, %dx
    xorl    %eax, %eax
    inl     %dx, %eax
    CHECK   %eax, %ecx, EXIT_PIO, "pio: walking one"
    shll    $1, %ecx
    jnz     3b
    ret

/* ----------------------------------------------------------------------- */
/* String PIO: KVM exits with count > 1 for these                          */

test_pio_string:
    movw    $PORT_SCRATCH, %dx
    /* rep outsb: 16 bytes, the register holds the last one */
    movl    $pat64, %esi
    movl    $16, %ecx
    rep outsb %ds:(%esi), (%dx)
    xorl    %eax, %eax
    inb     %dx, %al
    addr32 movzbl pat64 + 15, %ebx
    CHECK   %eax, %ebx, EXIT_PIO_STR, "pio-string: rep outsb"
    /* rep outsw: 8 words */
    movl    $pat64, %esi
    movl    $8, %ecx
    rep outsw %ds:(%esi), (%dx)
    xorl    %eax, %eax
    inw     %dx, %ax
    addr32 movzwl pat64 + 14, %ebx
    CHECK   %eax, %ebx, EXIT_PIO_STR, "pio-string: rep outsw"
    /* rep outsl: 8 dwords */
    movl    $pat64, %esi
    movl    $8, %ecx
    rep outsl %ds:(%esi), (%dx)
    xorl    %eax, %eax
    inl     %dx, %eax
    addr32 movl pat64 + 28, %ebx
    CHECK   %eax, %ebx, EXIT_PIO_STR, "pio-string: rep outsl"

    /* rep ins*: every element must be the register value, no overrun */
    movl    $0xCAFEBABE, %eax
    outl    %eax, %dx

    call    fill_buf
    movl    $RM_BUF, %edi
    movl    $16, %ecx
    rep insb (%dx), %es:(%edi)
    movl    $RM_BUF, %esi
    movl    $16, %ecx
1:  movzbl  (%esi), %eax
    CHECK   %eax, $0xBE, EXIT_PIO_STR, "pio-string: rep insb element"
    incl    %esi
    decl    %ecx
    jnz     1b
    movzbl  (%esi), %eax
    CHECK   %eax, $0xEE, EXIT_PIO_STR, "pio-string: rep insb overran"

    call    fill_buf
    movl    $RM_BUF, %edi
    movl    $8, %ecx
    rep insw (%dx), %es:(%edi)
    movl    $RM_BUF, %esi
    movl    $8, %ecx
1:  movzwl  (%esi), %eax
    CHECK   %eax, $0xBABE, EXIT_PIO_STR, "pio-string: rep insw element"
    addl    $2, %esi
    decl    %ecx
    jnz     1b
    movzwl  (%esi), %eax
    CHECK   %eax, $0xEEEE, EXIT_PIO_STR, "pio-string: rep insw overran"

    call    fill_buf
    movl    $RM_BUF, %edi
    movl    $8, %ecx
    rep insl (%dx), %es:(%edi)
    movl    $RM_BUF, %esi
    movl    $8, %ecx
1:  movl    (%esi), %eax
    CHECK   %eax, $0xCAFEBABE, EXIT_PIO_STR, "pio-string: rep insl element"
    addl    $4, %esi
    decl    %ecx
    jnz     1b
    movl    (%esi), %eax
    CHECK   %eax, $0xEEEEEEEE, EXIT_PIO_STR, "pio-string: rep insl overran"
    ret

/* fill RM_BUF with 0xEE (256 bytes) */
fill_buf:
    pushl   %ecx
    pushl   %edi
    pushl   %eax
    movl    $RM_BUF, %edi
    movl    $256, %ecx
    movb    $0xEE, %al
    rep stosb %al, %es:(%edi)
    popl    %eax
    popl    %edi
    popl    %ecx
    ret

/* ----------------------------------------------------------------------- */
/* MMIO scratch at 0xFF000000 via FS (base 0, 4 GiB limit)                 */

test_mmio:
    movl    $MMIO_SCRATCH, %ebx
    movl    $0xDEADBEEF, %fs:0x0(%ebx)
    movl    %fs:0x0(%ebx), %eax
    CHECK   %eax, $0xDEADBEEF, EXIT_MMIO, "mmio: read32 after write32 @0"
    movzbl  %fs:0x0(%ebx), %eax
    CHECK   %eax, $0xEF, EXIT_MMIO, "mmio: read8 @0"
    movzbl  %fs:0x1(%ebx), %eax
    CHECK   %eax, $0xBE, EXIT_MMIO, "mmio: read8 @1"
    movzbl  %fs:0x2(%ebx), %eax
    CHECK   %eax, $0xAD, EXIT_MMIO, "mmio: read8 @2"
    movzbl  %fs:0x3(%ebx), %eax
    CHECK   %eax, $0xDE, EXIT_MMIO, "mmio: read8 @3"
    movzwl  %fs:0x0(%ebx), %eax
    CHECK   %eax, $0xBEEF, EXIT_MMIO, "mmio: read16 @0"
    movzwl  %fs:0x2(%ebx), %eax
    CHECK   %eax, $0xDEAD, EXIT_MMIO, "mmio: read16 @2"

    /* byte writes assemble into a dword */
    movb    $0x11, %fs:0x10(%ebx)
    movb    $0x22, %fs:0x11(%ebx)
    movb    $0x33, %fs:0x12(%ebx)
    movb    $0x44, %fs:0x13(%ebx)
    movl    %fs:0x10(%ebx), %eax
    CHECK   %eax, $0x44332211, EXIT_MMIO, "mmio: read32 after 4x write8 @0x10"

    /* word writes merge into a dword */
    movl    $0, %fs:0x20(%ebx)
    movw    $0xABCD, %fs:0x22(%ebx)
    movl    %fs:0x20(%ebx), %eax
    CHECK   %eax, $0xABCD0000, EXIT_MMIO, "mmio: read32 after write16 @0x22"
    movw    $0x1234, %fs:0x20(%ebx)
    movl    %fs:0x20(%ebx), %eax
    CHECK   %eax, $0xABCD1234, EXIT_MMIO, "mmio: read32 after write16 @0x20"

    /* distinct values at distant offsets: no aliasing, whole 64 KiB */
    movw    $0x1000, %fs:0x1000(%ebx)
    movl    $0x80008000, %fs:0x8000(%ebx)
    movl    $0xFFFCFFFC, %fs:0xFFFC(%ebx)
    movb    $0x7F, %fs:0xFFFF(%ebx)
    movzwl  %fs:0x1000(%ebx), %eax
    CHECK   %eax, $0x1000, EXIT_MMIO, "mmio: read16 @0x1000"
    movl    %fs:0x8000(%ebx), %eax
    CHECK   %eax, $0x80008000, EXIT_MMIO, "mmio: read32 @0x8000"
    movl    %fs:0xFFFC(%ebx), %eax
    CHECK   %eax, $0x7FFCFFFC, EXIT_MMIO, "mmio: read32 @0xfffc after write8 @0xffff"
    movzbl  %fs:0xFFFF(%ebx), %eax
    CHECK   %eax, $0x7F, EXIT_MMIO, "mmio: read8 @0xffff"
    movl    %fs:0x0(%ebx), %eax
    CHECK   %eax, $0xDEADBEEF, EXIT_MMIO, "mmio: @0 changed by other writes"
    ret

/* ----------------------------------------------------------------------- */
/* rep movs / rep stos with an MMIO side                                   */

test_mmio_string:
    movl    $MMIO_SCRATCH, %ebx
    /* ROM -> MMIO, 64 bytes, rep movsb */
    movl    $pat64, %esi
    movl    $(MMIO_SCRATCH + 0x200), %edi
    movl    $64, %ecx
    rep movsb %ds:(%esi), %es:(%edi)
    /* verify with single byte reads */
    xorl    %esi, %esi
1:  movzbl  %fs:0x200(%ebx,%esi), %eax
    movzbl  pat64(%esi), %edx
    CHECK   %eax, %edx, EXIT_MMIO_STR, "mmio-string: rep movsb to mmio"
    incl    %esi
    cmpl    $64, %esi
    jb      1b

    /* MMIO -> RAM, rep movsb */
    call    fill_buf
    movl    $(MMIO_SCRATCH + 0x200), %esi
    movl    $RM_BUF, %edi
    movl    $64, %ecx
    rep movsb %ds:(%esi), %es:(%edi)
    xorl    %esi, %esi
1:  movzbl  RM_BUF(%esi), %eax
    movzbl  pat64(%esi), %edx
    CHECK   %eax, %edx, EXIT_MMIO_STR, "mmio-string: rep movsb from mmio"
    incl    %esi
    cmpl    $64, %esi
    jb      1b
    movzbl  RM_BUF + 64, %eax
    CHECK   %eax, $0xEE, EXIT_MMIO_STR, "mmio-string: rep movsb from mmio overran"

    /* rep stosl to MMIO, 16 dwords */
    movl    $(MMIO_SCRATCH + 0x300), %edi
    movl    $16, %ecx
    movl    $0x600DF00D, %eax
    rep stosl %eax, %es:(%edi)
    xorl    %esi, %esi
1:  movl    %fs:0x300(%ebx,%esi,4), %eax
    CHECK   %eax, $0x600DF00D, EXIT_MMIO_STR, "mmio-string: rep stosl to mmio"
    incl    %esi
    cmpl    $16, %esi
    jb      1b
    movl    %fs:0x340(%ebx), %eax       /* just past it: untouched (0 or old) */
    CHECK   %eax, $0, EXIT_MMIO_STR, "mmio-string: rep stosl overran (or scratch not zero at start)"

    /* MMIO -> RAM, rep movsl */
    call    fill_buf
    movl    $(MMIO_SCRATCH + 0x300), %esi
    movl    $RM_BUF, %edi
    movl    $16, %ecx
    rep movsl %ds:(%esi), %es:(%edi)
    xorl    %esi, %esi
1:  movl    RM_BUF(,%esi,4), %eax
    CHECK   %eax, $0x600DF00D, EXIT_MMIO_STR, "mmio-string: rep movsl from mmio"
    incl    %esi
    cmpl    $16, %esi
    jb      1b
    ret

/* ----------------------------------------------------------------------- */
/* SMP: CMOS CPU count, INIT-SIPI-SIPI, wait for the APs                   */

test_smp:
    movl    $0, RM_COUNT
    xorl    %eax, %eax
    movl    $RM_BITMAP, %edi
    movl    $8, %ecx
    rep stosl %eax, %es:(%edi)

    movb    $CMOS_NCPUS_M1, %al
    outb    %al, $PORT_CMOS_IDX
    inb     $PORT_CMOS_DATA, %al
    movzbl  %al, %eax
    cmpl    $0xFF, %eax
    jne     1f
    FAIL    EXIT_CMOS, "cmos: CMOS[0x5f] reads 0xff"
1:  incl    %eax
    movl    %eax, RM_EXPECT
    PRINT   "cmos: "
    call    print_dec
    PRINT   " cpus expected\n"

    /* enable the local APIC, mark the BSP */
    movl    $LAPIC_BASE, %ebx
    movl    %fs:LAPIC_SVR(%ebx), %eax
    orl     $0x1FF, %eax
    movl    %eax, %fs:LAPIC_SVR(%ebx)
    movl    %fs:LAPIC_ID(%ebx), %eax
    shrl    $24, %eax
    lock btsl %eax, RM_BITMAP

    cmpl    $1, RM_EXPECT
    je      .Lcount                     /* uniprocessor: nothing to start */

    movl    $0, %fs:LAPIC_ICR_HI(%ebx)
    movl    $ICR_INIT_ALL_EX, %fs:LAPIC_ICR_LO(%ebx)
    call    wait_icr_idle
    movl    $10000000, %ecx             /* ~ a few ms */
    call    delay_tsc
    movl    $ICR_SIPI_ALL_EX, %fs:LAPIC_ICR_LO(%ebx)
    call    wait_icr_idle
    movl    $1000000, %ecx
    call    delay_tsc
    movl    $ICR_SIPI_ALL_EX, %fs:LAPIC_ICR_LO(%ebx)
    call    wait_icr_idle

    /* wait until CMOS+1 CPUs are up: bounded by the TSC (~2^34 cycles,
     * i.e. seconds) and, in case the TSC does not tick, by a spin count */
    rdtsc
    movl    %edx, %edi
    movl    $WAIT_SPIN_MAX, %ebp
1:  movl    RM_COUNT, %eax
    incl    %eax
    cmpl    RM_EXPECT, %eax
    jae     .Lcount
    pause
    rdtsc
    subl    %edi, %edx
    cmpl    $WAIT_TSC_HI, %edx
    jae     .Lcount
    decl    %ebp
    jnz     1b

.Lcount:
    movl    RM_COUNT, %eax
    incl    %eax
    PRINT   "cpus: "
    call    print_dec
    PRINT   " up\n"
    cmpl    RM_EXPECT, %eax
    je      1f
    PRINT   "RESULT: FAIL cpus: "
    call    print_dec
    PRINT   " up, expected "
    movl    RM_EXPECT, %eax
    call    print_dec
    PRINT   "\n"
    movl    $EXIT_CPUS, %ecx
    jmp     exit_vm

    /* list the APIC IDs, count the bits */
1:  PRINT   "apic ids:"
    xorl    %ecx, %ecx                  /* bit index */
    xorl    %edx, %edx                  /* bits set */
2:  btl     %ecx, RM_BITMAP
    jnc     3f
    incl    %edx
    PRINT   " "
    movl    %ecx, %eax
    call    print_dec
3:  incl    %ecx
    cmpl    $256, %ecx
    jb      2b
    PRINT   "\n"
    CHECK   %edx, RM_EXPECT, EXIT_APIC_IDS, "apic ids: distinct IDs != CPUs up"
    ret

/* wait (bounded) until the ICR delivery-status bit is clear; EBX = LAPIC */
wait_icr_idle:
    pushl   %ecx
    movl    $1000000, %ecx
1:  testl   $ICR_BUSY, %fs:LAPIC_ICR_LO(%ebx)
    jz      2f
    pause
    decl    %ecx
    jnz     1b
2:  popl    %ecx
    ret

/* spin for ECX TSC cycles (also bounded by a spin count) */
delay_tsc:
    pushal
    movl    %ecx, %ebp
    rdtsc
    movl    %eax, %esi
    movl    %edx, %edi
    movl    $WAIT_SPIN_MAX, %ebx
1:  pause
    rdtsc
    subl    %esi, %eax
    sbbl    %edi, %edx
    jnz     2f
    cmpl    %ebp, %eax
    jae     2f
    decl    %ebx
    jnz     1b
2:  popal
    ret

/* ----------------------------------------------------------------------- */
/* serial output                                                           */

/* putc: AL */
putc:
    pushl   %eax
    pushl   %ecx
    pushl   %edx
    movl    $100000, %ecx               /* don't hang on a broken UART */
    movw    $COM1_LSR, %dx
1:  inb     %dx, %al
    testb   $LSR_THRE, %al
    jnz     2f
    decl    %ecx
    jnz     1b
2:  popl    %edx
    popl    %ecx
    popl    %eax
    pushl   %edx
    movw    $COM1, %dx
    outb    %al, %dx
    popl    %edx
    ret

/* puts: ESI = linear address of a NUL-terminated string */
puts:
    pushl   %eax
    pushl   %esi
1:  movb    (%esi), %al
    testb   %al, %al
    jz      2f
    call    putc
    incl    %esi
    jmp     1b
2:  popl    %esi
    popl    %eax
    ret

/* print_dec: EAX unsigned */
print_dec:
    pushal
    movl    $10, %ebx
    xorl    %ecx, %ecx
1:  xorl    %edx, %edx
    divl    %ebx
    pushw   %dx
    incl    %ecx
    testl   %eax, %eax
    jnz     1b
2:  popw    %ax
    addb    $'0', %al
    call    putc
    decl    %ecx
    jnz     2b
    popal
    ret

/* print_hex: EAX as 0x%08x */
print_hex:
    pushal
    movl    %eax, %edx
    movb    $'0', %al
    call    putc
    movb    $'x', %al
    call    putc
    movl    $8, %ecx
1:  roll    $4, %edx
    movl    %edx, %eax
    andl    $0xF, %eax
    movb    hexdigits(%eax), %al
    call    putc
    decl    %ecx
    jnz     1b
    popal
    ret

/* ----------------------------------------------------------------------- */
/* failure / exit                                                          */

/* ESI = what, EAX = got, EDX = want, ECX = exit code */
fail_got_want:
    pushl   %esi
    PRINT   "RESULT: FAIL "
    popl    %esi
    call    puts
    PRINT   ": got="
    call    print_hex
    PRINT   " want="
    movl    %edx, %eax
    call    print_hex
    PRINT   "\n"
    jmp     exit_vm

/* ESI = reason, ECX = exit code */
fail_msg:
    pushl   %esi
    PRINT   "RESULT: FAIL "
    popl    %esi
    call    puts
    PRINT   "\n"
    /* fall through */

/* ECX = exit code */
exit_vm:
    movl    %ecx, %eax
    movw    $PORT_EXIT, %dx
    outl    %eax, %dx
1:  cli
    hlt
    jmp     1b

/* ----------------------------------------------------------------------- */
/* real-mode exceptions: IVT 0..31 -> exc_stub_N -> "RESULT: FAIL exception" */

install_ivt:
    xorl    %ecx, %ecx
1:  movl    %ecx, %eax
    shll    $3, %eax                    /* stubs are 8 bytes apart */
    addl    $R(exc_stub_0), %eax
    movw    %ax, (,%ecx,4)
    movw    $IMAGE_SEG, 2(,%ecx,4)
    incl    %ecx
    cmpl    $32, %ecx
    jb      1b
    ret

    .balign 8
exc_stub_0:
    .set vec, 0
    .rept 32
    .balign 8
    pushw   $vec
    jmp     exc_common
    .set vec, vec + 1
    .endr

exc_common:
    /* stack: vector, IP, CS, FLAGS */
    movw    %sp, %bp
    PRINT   "RESULT: FAIL exception vector "
    movzwl  (%bp), %eax
    call    print_dec
    PRINT   " at cs:ip "
    movzwl  4(%bp), %eax
    call    print_hex
    PRINT   ":"
    movzwl  2(%bp), %eax
    call    print_hex
    PRINT   "\n"
    movl    $EXIT_EXCEPTION, %ecx
    jmp     exit_vm

/* ----------------------------------------------------------------------- */
/* data (ROM)                                                              */

    .section .rodata
    .balign 4
pio_patterns:
    .long 0x00000000, 0xFFFFFFFF, 0xA5A5A5A5, 0x5A5A5A5A
    .long 0x80000001, 0x01234567, 0xFEDCBA98, 0x00FF00FF
    .long 0x0BADC0DE                    /* end marker */
pat64:
    .set i, 0
    .rept 64
    .byte (i * 37 + 11) & 0xFF
    .set i, i + 1
    .endr
hexdigits:
    .ascii "0123456789abcdef"

/* ----------------------------------------------------------------------- */
/* reset vector: 0xFFFFFFF0 (CS.base 0xFFFF0000, IP 0xFFF0)                 */

    .section .reset, "ax"
    .code16
    .globl reset_vector
reset_vector:
    ljmp    $IMAGE_SEG, $R(reset16)
    .fill   16 - (. - reset_vector), 1, 0xF4

    .section .note.GNU-stack, "", @progbits
