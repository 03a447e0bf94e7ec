/*
 * longmode.c - 64-bit part of longmode.bin and its variants.
 *
 * Built several times from this one source (see the Makefile guest rules):
 *   (none)                      longmode.bin
 *   -DGUEST_FAIL                longmode-fail.bin  (deliberate failure, 0x21)
 *   -DGUEST_RESET               longmode-reset.bin (resets three ways, passes
 *                               on the fourth boot)
 *   -DGUEST_BENCH -DBENCH_N=n   bench.bin (n=100000) / bench-empty.bin (n=0)
 *
 * boot64.S brings every CPU to long mode and calls bsp_main() on the BSP and
 * ap_main() on each AP, each with its own stack.
 */
#include "lib.h"

#if defined(GUEST_BENCH)
# ifndef BENCH_N
#  define BENCH_N 100000
# endif
# if BENCH_N == 0
#  define GUEST_NAME "bench-empty"
# else
#  define GUEST_NAME "bench"
# endif
#elif defined(GUEST_FAIL)
# define GUEST_NAME "longmode-fail"
#elif defined(GUEST_RESET)
# define GUEST_NAME "longmode-reset"
#else
# define GUEST_NAME "longmode"
#endif

#define M               MMIO_SCRATCH
#define AP_WAIT_TSC     (1ull << 34)    /* seconds even at several GHz    */
#define AP_WAIT_SPINS   (1ull << 30)    /* backstop should the TSC not tick */

void bsp_main(void);

void ap_main(uint32_t index);
void exception(const uint64_t *frame);

/* used by boot64.S */
volatile uint32_t ap_next_index;
volatile uint32_t ap_no_stack;

static volatile uint32_t ap_count;
static volatile uint32_t ap_not_long;
static volatile uint64_t apic_bitmap[4];

struct idt_entry {
    uint16_t off0;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off1;
    uint32_t off2;
    uint32_t rsvd;
} __attribute__((packed));

static struct idt_entry idt[32] __attribute__((aligned(16)));
extern const char exc_stubs[];


/* ---- exceptions -------------------------------------------------------- */

static void idt_init(void)
{
    for (int i = 0; i < 32; i++) {
        uint64_t a = (uint64_t)(exc_stubs + 16 * i);
        idt[i] = (struct idt_entry){
            .off0 = (uint16_t)a, .sel = SEL_CODE64, .type = 0x8E,
            .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32),
        };
    }
}

static void idt_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)idt };

    __asm__ volatile("lidt %0" : : "m"(d));
}

/* frame: vector, error code, rip, cs, rflags, rsp, ss */
void exception(const uint64_t *f)
{
    uint64_t cr2;

    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    fail(EXIT_EXCEPTION, "exception vector %lu error 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx on cpu %u",
         f[0], f[1], f[2], f[5], cr2, lapic_id());
}

/* ---- helpers ----------------------------------------------------------- */

static void mark_cpu(uint32_t id)
{
    __atomic_fetch_or(&apic_bitmap[(id / 64) & 3], 1ull << (id % 64), __ATOMIC_SEQ_CST);
}

static void check_mode(const char *who)
{
    uint64_t cr0, cr4, efer = rdmsr(MSR_EFER);
    uint16_t cs;

    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1; mov %%cs, %2"
                     : "=r"(cr0), "=r"(cr4), "=r"(cs));
    if (!(efer & EFER_LMA) || !(cr0 & 0x80000000u) || !(cr4 & 0x20) || cs != SEL_CODE64)
        fail(EXIT_MODE, "%s: not in long mode: efer=0x%lx cr0=0x%lx cr4=0x%lx cs=0x%x",
             who, efer, cr0, cr4, cs);
}

#ifndef GUEST_BENCH     /* the functional checks; bench.bin only times exits */

static uint8_t pat[64] __attribute__((aligned(8)));   /* pat[i] = i * 37 + 11 */
static uint8_t buf[256] __attribute__((aligned(8)));


static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static unsigned popcount64(uint64_t v)
{
    unsigned n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

/* ---- PIO scratch register ---------------------------------------------- */

static void test_pio(void)
{
    static const uint32_t pats[] = {
        0x00000000, 0xFFFFFFFF, 0xA5A5A5A5, 0x5A5A5A5A,
        0x80000001, 0x01234567, 0xFEDCBA98, 0x00FF00FF,
    };

    outl(PORT_SCRATCH, 0x12345678);
    CHECK(EXIT_PIO, inl(PORT_SCRATCH), 0x12345678, "pio: in32 after out32");
    CHECK(EXIT_PIO, inw(PORT_SCRATCH), 0x5678, "pio: in16 after out32");
    CHECK(EXIT_PIO, inb(PORT_SCRATCH), 0x78, "pio: in8 after out32");

    for (unsigned i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        uint32_t p = pats[i];
        outl(PORT_SCRATCH, p);
        CHECK(EXIT_PIO, inl(PORT_SCRATCH), p, "pio: out32/in32");
        outw(PORT_SCRATCH, (uint16_t)p);
        CHECK(EXIT_PIO, inw(PORT_SCRATCH), (uint16_t)p, "pio: out16/in16");
        outb(PORT_SCRATCH, (uint8_t)p);
        CHECK(EXIT_PIO, inb(PORT_SCRATCH), (uint8_t)p, "pio: out8/in8");
    }
    for (uint32_t bit = 1; bit; bit <<= 1) {
        outl(PORT_SCRATCH, bit);
        CHECK(EXIT_PIO, inl(PORT_SCRATCH), bit, "pio: walking one");
    }
}

/* ---- string PIO (KVM exits with count > 1) ----------------------------- */

#define REP_OUTS(insn, src, count)                                          \
    do {                                                                    \
        const void *s_ = (src);                                             \
        uint64_t c_ = (count);                                              \
        __asm__ volatile("rep " insn                                        \
                         : "+S"(s_), "+c"(c_) : "d"(PORT_SCRATCH) : "memory"); \
    } while (0)

#define REP_INS(insn, dst, count)                                           \
    do {                                                                    \
        void *d_ = (dst);                                                   \
        uint64_t c_ = (count);                                              \
        __asm__ volatile("rep " insn                                        \
                         : "+D"(d_), "+c"(c_) : "d"(PORT_SCRATCH) : "memory"); \
    } while (0)

static void test_pio_string(void)
{
    REP_OUTS("outsb", pat, 16);
    CHECK(EXIT_PIO_STR, inb(PORT_SCRATCH), pat[15], "pio-string: rep outsb");
    REP_OUTS("outsw", pat, 8);
    CHECK(EXIT_PIO_STR, inw(PORT_SCRATCH), le16(pat + 14), "pio-string: rep outsw");
    REP_OUTS("outsl", pat, 8);
    CHECK(EXIT_PIO_STR, inl(PORT_SCRATCH), le32(pat + 28), "pio-string: rep outsl");

    outl(PORT_SCRATCH, 0xCAFEBABE);

    memset(buf, 0xEE, sizeof(buf));
    REP_INS("insb", buf, 16);
    for (int i = 0; i < 16; i++)
        CHECK(EXIT_PIO_STR, buf[i], 0xBE, "pio-string: rep insb element");
    CHECK(EXIT_PIO_STR, buf[16], 0xEE, "pio-string: rep insb overran");

    memset(buf, 0xEE, sizeof(buf));
    REP_INS("insw", buf, 8);
    for (int i = 0; i < 8; i++)
        CHECK(EXIT_PIO_STR, le16(buf + 2 * i), 0xBABE, "pio-string: rep insw element");
    CHECK(EXIT_PIO_STR, le16(buf + 16), 0xEEEE, "pio-string: rep insw overran");

    memset(buf, 0xEE, sizeof(buf));
    REP_INS("insl", buf, 8);
    for (int i = 0; i < 8; i++)
        CHECK(EXIT_PIO_STR, le32(buf + 4 * i), 0xCAFEBABE, "pio-string: rep insl element");
    CHECK(EXIT_PIO_STR, le32(buf + 32), 0xEEEEEEEE, "pio-string: rep insl overran");
}

/* ---- MMIO scratch ------------------------------------------------------ */

static void test_mmio(void)
{
    mmio_write32(M + 0x0, 0xDEADBEEF);
    CHECK(EXIT_MMIO, mmio_read32(M + 0x0), 0xDEADBEEF, "mmio: read32 after write32 @0");
    CHECK(EXIT_MMIO, mmio_read8(M + 0x0), 0xEF, "mmio: read8 @0");
    CHECK(EXIT_MMIO, mmio_read8(M + 0x1), 0xBE, "mmio: read8 @1");
    CHECK(EXIT_MMIO, mmio_read8(M + 0x2), 0xAD, "mmio: read8 @2");
    CHECK(EXIT_MMIO, mmio_read8(M + 0x3), 0xDE, "mmio: read8 @3");
    CHECK(EXIT_MMIO, mmio_read16(M + 0x0), 0xBEEF, "mmio: read16 @0");
    CHECK(EXIT_MMIO, mmio_read16(M + 0x2), 0xDEAD, "mmio: read16 @2");

    mmio_write8(M + 0x10, 0x11);
    mmio_write8(M + 0x11, 0x22);
    mmio_write8(M + 0x12, 0x33);
    mmio_write8(M + 0x13, 0x44);
    CHECK(EXIT_MMIO, mmio_read32(M + 0x10), 0x44332211, "mmio: read32 after 4x write8 @0x10");

    mmio_write32(M + 0x20, 0);
    mmio_write16(M + 0x22, 0xABCD);
    CHECK(EXIT_MMIO, mmio_read32(M + 0x20), 0xABCD0000, "mmio: read32 after write16 @0x22");
    mmio_write16(M + 0x20, 0x1234);
    CHECK(EXIT_MMIO, mmio_read32(M + 0x20), 0xABCD1234, "mmio: read32 after write16 @0x20");

    /* 64-bit accesses */
    mmio_write64(M + 0x30, 0x0123456789ABCDEFull);
    CHECK(EXIT_MMIO, mmio_read64(M + 0x30), 0x0123456789ABCDEFull, "mmio: read64 after write64 @0x30");
    CHECK(EXIT_MMIO, mmio_read32(M + 0x30), 0x89ABCDEF, "mmio: read32 @0x30 after write64");
    CHECK(EXIT_MMIO, mmio_read32(M + 0x34), 0x01234567, "mmio: read32 @0x34 after write64");
    CHECK(EXIT_MMIO, mmio_read8(M + 0x37), 0x01, "mmio: read8 @0x37 after write64");
    mmio_write32(M + 0x38, 0x11112222);
    mmio_write32(M + 0x3C, 0x33334444);
    CHECK(EXIT_MMIO, mmio_read64(M + 0x38), 0x3333444411112222ull, "mmio: read64 after 2x write32 @0x38");

    /* distant offsets, up to the last byte of the window: no aliasing */
    mmio_write16(M + 0x1000, 0x1000);
    mmio_write32(M + 0x8000, 0x80008000);
    mmio_write64(M + 0xFFF8, 0xFFF8FFF8FFF8FFF8ull);
    mmio_write8(M + 0xFFFF, 0x7F);
    CHECK(EXIT_MMIO, mmio_read16(M + 0x1000), 0x1000, "mmio: read16 @0x1000");
    CHECK(EXIT_MMIO, mmio_read32(M + 0x8000), 0x80008000, "mmio: read32 @0x8000");
    CHECK(EXIT_MMIO, mmio_read64(M + 0xFFF8), 0x7FF8FFF8FFF8FFF8ull,
          "mmio: read64 @0xfff8 after write8 @0xffff");
    CHECK(EXIT_MMIO, mmio_read8(M + 0xFFFF), 0x7F, "mmio: read8 @0xffff");
    CHECK(EXIT_MMIO, mmio_read32(M + 0x0), 0xDEADBEEF, "mmio: @0 changed by other writes");

    /* a block of 256 dwords: all written first, then all read back */
    for (uint32_t i = 0; i < 256; i++)
        mmio_write32(M + 0x4000 + 4 * i, (i * 0x01010101u) ^ 0x5A5AA5A5u);
    for (uint32_t i = 0; i < 256; i++)
        CHECK(EXIT_MMIO, mmio_read32(M + 0x4000 + 4 * i), (i * 0x01010101u) ^ 0x5A5AA5A5u,
              "mmio: 256-dword block @0x4000");
}

/* ---- rep movs / rep stos with an MMIO side ----------------------------- */

#define REP_MOVS(insn, dst, src, count)                                     \
    do {                                                                    \
        void *d_ = (void *)(dst);                                           \
        const void *s_ = (const void *)(src);                               \
        uint64_t c_ = (count);                                              \
        __asm__ volatile("rep " insn                                        \
                         : "+D"(d_), "+S"(s_), "+c"(c_) : : "memory");      \
    } while (0)

#define REP_STOS(insn, dst, val, count)                                     \
    do {                                                                    \
        void *d_ = (void *)(dst);                                           \
        uint64_t c_ = (count);                                              \
        __asm__ volatile("rep " insn                                        \
                         : "+D"(d_), "+c"(c_) : "a"(val) : "memory");       \
    } while (0)

static void test_mmio_string(void)
{
    REP_MOVS("movsb", M + 0x200, pat, 64);
    for (int i = 0; i < 64; i++)
        CHECK(EXIT_MMIO_STR, mmio_read8(M + 0x200 + i), pat[i], "mmio-string: rep movsb to mmio");

    memset(buf, 0xEE, sizeof(buf));
    REP_MOVS("movsb", buf, M + 0x200, 64);
    for (int i = 0; i < 64; i++)
        CHECK(EXIT_MMIO_STR, buf[i], pat[i], "mmio-string: rep movsb from mmio");
    CHECK(EXIT_MMIO_STR, buf[64], 0xEE, "mmio-string: rep movsb from mmio overran");

    REP_STOS("stosl", M + 0x300, 0x600DF00Du, 16);
    for (int i = 0; i < 16; i++)
        CHECK(EXIT_MMIO_STR, mmio_read32(M + 0x300 + 4 * i), 0x600DF00D,
              "mmio-string: rep stosl to mmio");
    CHECK(EXIT_MMIO_STR, mmio_read32(M + 0x340), 0,
          "mmio-string: rep stosl overran (or scratch not zero at start)");

    memset(buf, 0xEE, sizeof(buf));
    REP_MOVS("movsl", buf, M + 0x300, 16);
    for (int i = 0; i < 16; i++)
        CHECK(EXIT_MMIO_STR, le32(buf + 4 * i), 0x600DF00D, "mmio-string: rep movsl from mmio");

    REP_STOS("stosq", M + 0x400, 0x0123456789ABCDEFull, 4);
    for (int i = 0; i < 4; i++) {
        CHECK(EXIT_MMIO_STR, mmio_read64(M + 0x400 + 8 * i), 0x0123456789ABCDEFull,
              "mmio-string: rep stosq to mmio");
        CHECK(EXIT_MMIO_STR, mmio_read32(M + 0x404 + 8 * i), 0x01234567,
              "mmio-string: rep stosq to mmio (high half)");
    }
    memset(buf, 0xEE, sizeof(buf));
    REP_MOVS("movsq", buf, M + 0x400, 4);
    for (int i = 0; i < 4; i++)
        CHECK(EXIT_MMIO_STR, le64(buf + 8 * i), 0x0123456789ABCDEFull,
              "mmio-string: rep movsq from mmio");
    CHECK(EXIT_MMIO_STR, buf[32], 0xEE, "mmio-string: rep movsq from mmio overran");
}

/* ---- SMP --------------------------------------------------------------- */

static void wait_icr_idle(void)
{
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LO) & ICR_BUSY); i++)
        cpu_relax();
}

static void test_smp(void)
{
    outb(PORT_CMOS_IDX, CMOS_NCPUS_M1);
    uint32_t n = inb(PORT_CMOS_DATA) + 1u;
    if (n > 255)
        fail(EXIT_CMOS, "cmos: CMOS[0x5f] reads 0xff");
    printf("cmos: %u cpus expected\n", n);

    lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1FF);
    uint32_t me = lapic_id();
    mark_cpu(me);
    printf("cpu %u up\n", me);

    if (n > 1) {
        lapic_write(LAPIC_ICR_HI, 0);
        lapic_write(LAPIC_ICR_LO, ICR_INIT_ALL_EX);
        wait_icr_idle();
        delay_tsc(10000000);
        lapic_write(LAPIC_ICR_LO, ICR_SIPI_ALL_EX);
        wait_icr_idle();
        delay_tsc(1000000);
        lapic_write(LAPIC_ICR_LO, ICR_SIPI_ALL_EX);
        wait_icr_idle();

        uint64_t start = rdtsc();
        for (uint64_t spins = 0; spins < AP_WAIT_SPINS; spins++) {
            if (ap_count + 1 >= n || rdtsc() - start >= AP_WAIT_TSC)
                break;
            cpu_relax();
        }
    }

    uint32_t up = ap_count + 1;
    printf("cpus: %u up\n", up);
    if (up != n)
        fail(EXIT_CPUS, "cpus: %u up, expected %u", up, n);
    if (ap_no_stack)
        fail(EXIT_CPUS, "cpus: %u APs found no stack (more than %u APs)", ap_no_stack,
             (unsigned)AP_MAX_STACKS);
    if (ap_not_long)
        fail(EXIT_MODE, "cpus: %u APs not in long mode", ap_not_long);
    uint32_t ids = 0;
    for (int i = 0; i < 4; i++)
        ids += popcount64(apic_bitmap[i]);
    if (ids != n)
        fail(EXIT_APIC_IDS, "apic ids: %u distinct IDs for %u CPUs", ids, n);
}

#endif /* !GUEST_BENCH */

void ap_main(uint32_t index)
{
    (void)index;
    idt_load();
    uint32_t id = lapic_id();
    if (!(rdmsr(MSR_EFER) & EFER_LMA))
        __atomic_fetch_add(&ap_not_long, 1, __ATOMIC_SEQ_CST);
    printf("cpu %u up\n", id);                 /* the line first ...        */
    mark_cpu(id);
    __atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST); /* ... then the count */
}

/* ---- bench ------------------------------------------------------------- */

#ifdef GUEST_BENCH
static void bench_loops(uint64_t n, uint64_t t[3])
{
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        outl(PORT_SCRATCH, (uint32_t)i);
    uint64_t t1 = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        mmio_write32(M, (uint32_t)i);
    uint64_t t2 = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        (void)mmio_read32(M);
    uint64_t t3 = rdtsc();
    t[0] = t1 - t0;
    t[1] = t2 - t1;
    t[2] = t3 - t2;
}

static uint64_t per_op(uint64_t total, uint64_t n)
{
    return n ? total / n : 0;
}

static void bench(void)
{
    const uint64_t n = BENCH_N;
    uint64_t t[3];

    bench_loops(n / 100, t);                     /* warm-up, not reported */
    bench_loops(n, t);
    if (n) {
        CHECK(EXIT_PIO, inl(PORT_SCRATCH), (uint32_t)(n - 1), "bench: pio scratch after loop");
        CHECK(EXIT_MMIO, mmio_read32(M), (uint32_t)(n - 1), "bench: mmio scratch after loop");
    }
    printf("bench: pio %lu mmio-write %lu mmio-read %lu tsc-cycles iters %lu\n",
           per_op(t[0], n), per_op(t[1], n), per_op(t[2], n), n);
    printf("bench: total pio %lu mmio-write %lu mmio-read %lu tsc-cycles\n", t[0], t[1], t[2]);
}
#endif

/* ---- BSP --------------------------------------------------------------- */

void bsp_main(void)
{
    idt_init();
    idt_load();

    printf("minivmm-guest " GUEST_NAME ": hello from 64-bit long mode\n");
    check_mode("bsp");
    printf("mode: long\n");

#ifdef GUEST_BENCH
    bench();
#else
    for (int i = 0; i < 64; i++)
        pat[i] = (uint8_t)(i * 37 + 11);
    test_pio();
    printf("pio: ok\n");
    test_pio_string();
    printf("pio-string: ok\n");
    test_mmio();
    printf("mmio: ok\n");
    test_mmio_string();
    printf("mmio-string: ok\n");
    test_smp();
#endif

#ifdef GUEST_FAIL
    printf("deliberate: expecting a wrong value from the PIO scratch register\n");
    outl(PORT_SCRATCH, 0x12345678);
    CHECK(EXIT_DELIBERATE, inl(PORT_SCRATCH), 0x12345679,
          "deliberate (longmode-fail): pio scratch");
#endif

#ifdef GUEST_RESET
    /*
     * Each boot resets the machine a different way, counting the boots in
     * a CMOS byte (battery-backed: a reset keeps it): through 0xCF9, the
     * port 0x92 fast reset, a triple fault; the fourth boot passes. A VMM
     * that ends at a reset (minivmm --no-reboot, QEMU -no-reboot) stops
     * after the first.
     */
    outb(PORT_CMOS_IDX, CMOS_BOOTS);
    uint8_t boots = inb(PORT_CMOS_DATA);
    printf("reset: boot %u\n", boots + 1u);
    outb(PORT_CMOS_IDX, CMOS_BOOTS);
    outb(PORT_CMOS_DATA, (uint8_t)(boots + 1));
    if (boots == 0) {
        printf("reset: writing 0x06 to port 0xcf9\n");
        outb(PORT_RESET, RESET_VALUE);
    } else if (boots == 1) {
        printf("reset: fast reset through port 0x92\n");
        outb(PORT_92, (uint8_t)(inb(PORT_92) | 1));
    } else if (boots == 2) {
        struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };

        printf("reset: triple fault\n");
        __asm__ volatile("lidt %0; int3" : : "m"(none));
    }
    if (boots < 3) {
        delay_tsc(1ull << 33);
        fail(EXIT_NO_RESET, "reset: still running ~2^33 cycles after reset %u", boots + 1u);
    }
    printf("reset: booted %u times\n", boots + 1u);
#endif

    printf("RESULT: PASS\n");
    exit_vm(EXIT_PASS);
}
