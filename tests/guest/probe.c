/*
 * probe.c - probe.bin: the passthrough latency probe that `minivmm probe`
 * runs (docs/latency.md), also usable by hand:
 *
 *   minivmm --firmware tests/guest/probe.bin --testdev --vfio BDF[,mmap=off] \
 *       --fw-cfg name=opt/minivmm/probe,string="count=1000 mode=mapped"
 *
 * No firmware: the payload gives each PCIe root port on bus 0 a bus
 * number and a 16 MiB memory window (as edu.c does), takes the first
 * function behind one as the device, places its memory BARs in the window
 * and enables decode and bus mastering. Then it times, N samples each
 * (rdtsc before and after, lfence-fenced), sorts them and prints
 * min/median/p99/max in TSC cycles:
 *
 *   tsc          two back-to-back rdtsc: the cost the others include
 *   bar-read     a 32-bit read of a BAR0 register with no side effect
 *                (edu: the ID register; NVMe: VS; others: offset 0),
 *                labelled with mode= (mapped: a memslot, no exit;
 *                trapped: --vfio ...,mmap=off, an exit and a pread)
 *   ecam-read    a 32-bit read of the device's vendor/device ID through
 *                ECAM (MMCONFIG at 0xB0000000, enabled here in the MCH's
 *                PCIEXBAR): an MMIO exit served by minivmm's virtual
 *                config space
 *   irq          interrupt round trip, request -> handler entry: edu
 *                (1234:11e8): the raise register (0x60), MSI; NVMe
 *                (class 010802): an admin GET FEATURES (Number of
 *                Queues) whose completion interrupts through MSI-X vector 0
 *
 * mode=trapped runs bar-read only. Parameters come from the fw_cfg file
 * opt/minivmm/probe ("count=N mode=mapped|trapped", words in any order);
 * without it, count=1000 mode=mapped. The guest TSC frequency, printed for
 * the conversion to ns, comes from the Hyper-V frequency MSR
 * (HV_X64_MSR_TSC_FREQUENCY, when CPUID 0x40000003 offers it) or else
 * CPUID 0x15; 0 when neither says.
 *
 * Output lines (`minivmm probe` reads the "probe-" ones):
 *   probe-device: 01:00.0 1234:11e8 class 00ff00 bar0 0x100000
 *   probe-tsc-hz: 2894563000
 *   probe-result: name=bar-read mode=mapped n=1000 min=.. median=.. p99=.. max=..
 *
 * Exit codes: 0x50 no device behind a root port, 0x51 a BAR could not be
 * placed, 0x52 an interrupt never came, 0x53 NVMe did not become ready.
 */
#include "idt.h"
#include "lib.h"

#define EXIT_PROBE_NONE   0x50
#define EXIT_PROBE_BAR    0x51
#define EXIT_PROBE_IRQ    0x52
#define EXIT_PROBE_NVME   0x53

#define PCI_CF8         0xCF8
#define PCI_CFC         0xCFC
#define ECAM_BASE       0xB0000000ull   /* lib/memory.h MEM_ECAM_BASE */
#define MCH_PCIEXBAR    0x60
#define MMIO_WINDOW     0xC0000000ull
#define WINDOW_SIZE     0x1000000ull
#define FW_CFG_SEL      0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_FILE_DIR 0x19
#define PARAM_FILE      "opt/minivmm/probe"

#define VEC_IRQ         0x40
#define VEC_SPURIOUS    0xFF
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0B0
#define WAIT_TSC        (1ull << 35)
#define SAMPLES         ((volatile uint32_t *)0x400000)  /* guest RAM, 4 MiB on */
#define MAX_COUNT       100000
#define NVME_ASQ        0x200000ull
#define NVME_ACQ        0x201000ull
#define NVME_QSIZE      8

void bsp_main(void);
void ap_main(uint32_t index);
void exception(const uint64_t *frame);

volatile uint32_t ap_next_index;
volatile uint32_t ap_no_stack;

struct interrupt_frame;


enum kind { KIND_OTHER, KIND_EDU, KIND_NVME };

static unsigned int count;             /* .bss: no initialised data in ROM */
static bool trapped;
static uint64_t bar0;
static enum kind kind;
static volatile uint32_t irq_count;
static volatile uint64_t irq_tsc;       /* handler entry */
/* NVMe admin queue state */
static uint32_t nvme_db_stride;
static uint32_t sq_tail, cq_head, cq_phase;

/* ---- interrupts ------------------------------------------------------- */

__attribute__((interrupt)) static void irq_handler(struct interrupt_frame *f __attribute__((unused)))
{
    irq_tsc = rdtsc();
    if (kind == KIND_EDU) {
        mmio_write32(bar0 + 0x64, mmio_read32(bar0 + 0x24));   /* ack */
    } else if (kind == KIND_NVME) {
        volatile uint32_t *cqe = (volatile uint32_t *)(NVME_ACQ + 16 * cq_head);

        /* One completion per command; consume what is there. */
        while (((cqe[3] >> 16) & 1) == cq_phase) {
            if (++cq_head == NVME_QSIZE) {
                cq_head = 0;
                cq_phase ^= 1;
            }
            cqe = (volatile uint32_t *)(NVME_ACQ + 16 * cq_head);
        }
        mmio_write32(bar0 + 0x1000 + nvme_db_stride, cq_head);
    }
    irq_count++;
    lapic_write(LAPIC_EOI, 0);
}

__attribute__((interrupt)) static void spurious_handler(struct interrupt_frame *f __attribute__((unused)))
{
}

static void idt_init(void)
{
    idt_set(VEC_IRQ, (const void *)irq_handler);
    idt_set(VEC_SPURIOUS, (const void *)spurious_handler);
    idt_load();
}

void exception(const uint64_t *f)
{
    uint64_t cr2;

    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    fail(EXIT_EXCEPTION, "exception vector %lu error 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx on cpu %u",
         f[0], f[1], f[2], f[5], cr2, lapic_id());
}

void ap_main(uint32_t index)
{
    (void)index;
}

/* ---- PCI configuration mechanism #1 ------------------------------------ */

static uint32_t cfg_addr(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int off)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC);
}

static uint32_t cfg_r32(unsigned int b, unsigned int d, unsigned int f, unsigned int off)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    return inl(PCI_CFC);
}

static uint8_t cfg_r8(unsigned int b, unsigned int d, unsigned int f, unsigned int off)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    return inb((uint16_t)(PCI_CFC + (off & 3)));
}

static void cfg_w32(unsigned int b, unsigned int d, unsigned int f, unsigned int off, uint32_t v)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    outl(PCI_CFC, v);
}

static void cfg_w16(unsigned int b, unsigned int d, unsigned int f, unsigned int off, uint16_t v)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    outw((uint16_t)(PCI_CFC + (off & 2)), v);
}

static void cfg_w8(unsigned int b, unsigned int d, unsigned int f, unsigned int off, uint8_t v)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    outb((uint16_t)(PCI_CFC + (off & 3)), v);
}

static unsigned int find_cap(unsigned int b, unsigned int d, unsigned int f, uint8_t id)
{
    unsigned int off = cfg_r8(b, d, f, 0x34) & 0xFC;

    for (int n = 0; off >= 0x40 && n < 48; n++) {
        if (cfg_r8(b, d, f, off) == id)
            return off;
        off = cfg_r8(b, d, f, off + 1) & 0xFC;
    }
    return 0;
}

/* ---- parameters (fw_cfg) ---------------------------------------------- */

static uint32_t fw_cfg_be32(void)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++)
        v = v << 8 | inb(FW_CFG_DATA);
    return v;
}

static bool word_is(const char *s, const char *w, const char **val)
{
    while (*w)
        if (*s++ != *w++)
            return false;
    *val = s;
    return true;
}

static void read_params(void)
{
    char text[128];
    uint32_t files, size = 0;
    uint16_t select = 0;
    const char *p, *val;

    outw(FW_CFG_SEL, FW_CFG_FILE_DIR);
    files = fw_cfg_be32();
    for (uint32_t i = 0; i < files && i < 256 && !select; i++) {
        char name[56];
        uint32_t s = fw_cfg_be32();
        uint16_t sel = (uint16_t)(inb(FW_CFG_DATA) << 8);

        sel |= inb(FW_CFG_DATA);
        (void)inb(FW_CFG_DATA);
        (void)inb(FW_CFG_DATA);
        for (int k = 0; k < 56; k++)
            name[k] = (char)inb(FW_CFG_DATA);
        if (!memcmp(name, PARAM_FILE, sizeof(PARAM_FILE))) {
            select = sel;
            size = s;
        }
    }
    if (!select)
        return;
    if (size > sizeof(text) - 1)
        size = sizeof(text) - 1;
    outw(FW_CFG_SEL, select);
    for (uint32_t i = 0; i < size; i++)
        text[i] = (char)inb(FW_CFG_DATA);
    text[size] = '\0';
    for (p = text; *p;) {
        if (word_is(p, "count=", &val)) {
            unsigned int n = 0;

            while (*val >= '0' && *val <= '9')
                n = n * 10 + (unsigned int)(*val++ - '0');
            if (n && n <= MAX_COUNT)
                count = n;
        } else if (word_is(p, "mode=trapped", &val)) {
            trapped = true;
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
}

/* ---- the TSC's frequency ---------------------------------------------- */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static uint64_t tsc_hz(void)
{
    uint32_t a, b, c, d;

    /* Hyper-V TLFS: "Microsoft Hv" at 0x40000000, then 0x40000003 EAX
     * bit 11 AccessFrequencyMsrs: HV_X64_MSR_TSC_FREQUENCY (0x40000022). */
    cpuid(0x40000000, &a, &b, &c, &d);
    if (a >= 0x40000003 && b == 0x7263694D && c == 0x666F736F && d == 0x76482074) {
        cpuid(0x40000003, &a, &b, &c, &d);
        if (a & (1u << 11))
            return rdmsr(0x40000022);
    }
    /* Intel SDM CPUID 0x15: TSC = crystal (ECX) * EBX / EAX. */
    cpuid(0, &a, &b, &c, &d);
    if (a >= 0x15) {
        cpuid(0x15, &a, &b, &c, &d);
        if (a && b && c)
            return (uint64_t)c * b / a;
    }
    return 0;
}

/* ---- statistics ------------------------------------------------------- */

static void sift(volatile uint32_t *s, unsigned int root, unsigned int n)
{
    for (;;) {
        unsigned int child = 2 * root + 1;
        uint32_t t;

        if (child >= n)
            return;
        if (child + 1 < n && s[child + 1] > s[child])
            child++;
        if (s[root] >= s[child])
            return;
        t = s[root];
        s[root] = s[child];
        s[child] = t;
        root = child;
    }
}

/* Heap sort the n samples, print the line `minivmm probe` reads. */
static void report(const char *name, unsigned int n)
{
    volatile uint32_t *s = SAMPLES;

    for (unsigned int i = n / 2; i--;)
        sift(s, i, n);
    for (unsigned int end = n; end > 1; end--) {
        uint32_t t = s[0];

        s[0] = s[end - 1];
        s[end - 1] = t;
        sift(s, 0, end - 1);
    }
    /* p99: the smallest sample with 99 % of them at or below it. */
    printf("probe-result: name=%s mode=%s n=%u min=%u median=%u p99=%u max=%u\n", name,
           trapped ? "trapped" : "mapped", n, s[0], s[n / 2], s[(99 * n + 99) / 100 - 1],
           s[n - 1]);
}

static uint32_t clamp32(uint64_t v)
{
    return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
}

/* ---- the device ------------------------------------------------------- */

struct loc {
    unsigned int bus, dev, fn;
};

/* Number the root ports, open their windows; the first function found
 * behind one is the device (`minivmm probe` passes one). */
static bool find_device(struct loc *l, uint64_t *window)
{
    unsigned int next_bus = 1;

    for (unsigned int d = 0; d < 32; d++) {
        uint32_t id = cfg_r32(0, d, 0, 0);
        uint64_t base;

        if ((id & 0xFFFF) == 0xFFFF || (cfg_r8(0, d, 0, 0x0E) & 0x7F) != 1)
            continue;
        base = MMIO_WINDOW + (uint64_t)(next_bus - 1) * WINDOW_SIZE;
        cfg_w8(0, d, 0, 0x18, 0);
        cfg_w8(0, d, 0, 0x19, (uint8_t)next_bus);
        cfg_w8(0, d, 0, 0x1A, (uint8_t)next_bus);
        cfg_w16(0, d, 0, 0x20, (uint16_t)(base >> 16));
        cfg_w16(0, d, 0, 0x22, (uint16_t)((base + WINDOW_SIZE - 1) >> 16 & 0xFFF0));
        cfg_w16(0, d, 0, 0x24, 0xFFF0);            /* prefetchable: closed */
        cfg_w16(0, d, 0, 0x26, 0x0000);
        cfg_w16(0, d, 0, 0x04, 0x0006);
        if ((cfg_r32(next_bus, 0, 0, 0) & 0xFFFF) != 0xFFFF) {
            *l = (struct loc){ next_bus, 0, 0 };
            *window = base;
            return true;
        }
        if (++next_bus > 8)
            break;
    }
    return false;
}

/* Size the memory BARs and place them in the window, biggest first (each
 * naturally aligned); decode and bus mastering on. */
static void place_bars(const struct loc *l, uint64_t window)
{
    uint64_t size[6] = { 0 }, addr[6] = { 0 }, next = window;
    bool is64[6] = { false };

    cfg_w16(l->bus, l->dev, l->fn, 0x04, 0);
    for (unsigned int i = 0; i < 6; i++) {
        uint32_t orig = cfg_r32(l->bus, l->dev, l->fn, 0x10 + 4 * i), lo;
        uint64_t sz;

        if (orig & 1)
            continue;                           /* I/O: not used here */
        is64[i] = (orig & 6) == 4;
        cfg_w32(l->bus, l->dev, l->fn, 0x10 + 4 * i, 0xFFFFFFFF);
        lo = cfg_r32(l->bus, l->dev, l->fn, 0x10 + 4 * i) & ~0xFu;
        sz = lo;
        if (is64[i] && i < 5) {
            cfg_w32(l->bus, l->dev, l->fn, 0x14 + 4 * i, 0xFFFFFFFF);
            sz |= (uint64_t)cfg_r32(l->bus, l->dev, l->fn, 0x14 + 4 * i) << 32;
        } else {
            sz |= 0xFFFFFFFF00000000ull;
        }
        /* An unimplemented BAR reads back 0 (PCI 3.0 §6.2.5.1). */
        size[i] = (uint32_t)sz || (is64[i] && (sz >> 32)) ? ~sz + 1 : 0;
        if (is64[i])
            i++;
    }
    for (;;) {
        unsigned int big = 6;

        for (unsigned int i = 0; i < 6; i++)
            if (size[i] && !addr[i] && (big == 6 || size[i] > size[big]))
                big = i;
        if (big == 6)
            break;
        next = (next + size[big] - 1) & ~(size[big] - 1);
        if (next + size[big] > window + WINDOW_SIZE)
            fail(EXIT_PROBE_BAR, "BAR%u (0x%lx bytes) does not fit the 16 MiB window", big,
                 size[big]);
        addr[big] = next;
        next += size[big];
        cfg_w32(l->bus, l->dev, l->fn, 0x10 + 4 * big, (uint32_t)addr[big]);
        if (is64[big])
            cfg_w32(l->bus, l->dev, l->fn, 0x14 + 4 * big, (uint32_t)(addr[big] >> 32));
    }
    if (!addr[0])
        fail(EXIT_PROBE_BAR, "BAR0 is no memory BAR");
    bar0 = addr[0];
    cfg_w16(l->bus, l->dev, l->fn, 0x04, 0x0006);
    printf("probe-device: %02x:%02x.%x %04x:%04x class %06x bar0 0x%lx bytes at 0x%lx\n",
           l->bus, l->dev, l->fn, cfg_r32(l->bus, l->dev, l->fn, 0) & 0xFFFF,
           cfg_r32(l->bus, l->dev, l->fn, 0) >> 16, cfg_r32(l->bus, l->dev, l->fn, 8) >> 8,
           size[0], bar0);
}

/* Interrupt delivery to this CPU on VEC_IRQ through the MSI capability. */
static bool msi_setup(const struct loc *l)
{
    unsigned int cap = find_cap(l->bus, l->dev, l->fn, 0x05);
    uint16_t ctl;

    if (!cap)
        return false;
    ctl = (uint16_t)(cfg_r32(l->bus, l->dev, l->fn, cap) >> 16);
    cfg_w32(l->bus, l->dev, l->fn, cap + 4, 0xFEE00000u | lapic_id() << 12);
    if (ctl & 0x80)
        cfg_w32(l->bus, l->dev, l->fn, cap + 8, 0);
    cfg_w16(l->bus, l->dev, l->fn, (ctl & 0x80) ? cap + 12 : cap + 8, VEC_IRQ);
    cfg_w16(l->bus, l->dev, l->fn, cap + 2, (uint16_t)((ctl & ~0x70) | 1));
    return true;
}

/* MSI-X entry 0 to this CPU on VEC_IRQ, enabled (PCI 3.0 §6.8.2). */
static bool msix_setup(const struct loc *l)
{
    unsigned int cap = find_cap(l->bus, l->dev, l->fn, 0x11);
    uint32_t table, bir;
    uint64_t base;

    if (!cap)
        return false;
    table = cfg_r32(l->bus, l->dev, l->fn, cap + 4);
    bir = table & 7;
    if (bir > 5)
        return false;
    base = cfg_r32(l->bus, l->dev, l->fn, 0x10 + 4 * bir) & ~0xFull;
    if ((cfg_r32(l->bus, l->dev, l->fn, 0x10 + 4 * bir) & 6) == 4)
        base |= (uint64_t)cfg_r32(l->bus, l->dev, l->fn, 0x14 + 4 * bir) << 32;
    base += table & ~7u;
    mmio_write32(base + 0, 0xFEE00000u | lapic_id() << 12);
    mmio_write32(base + 4, 0);
    mmio_write32(base + 8, VEC_IRQ);
    mmio_write32(base + 12, 0);                 /* unmasked */
    cfg_w16(l->bus, l->dev, l->fn, cap + 2,
            (uint16_t)((cfg_r32(l->bus, l->dev, l->fn, cap) >> 16 & 0x3FFF) | 0x8000));
    return true;
}

static bool wait_irq(uint32_t want)
{
    uint64_t t0 = rdtsc();

    while (irq_count < want)
        if (rdtsc() - t0 > WAIT_TSC)
            return false;
    return true;
}

static bool nvme_wait_ready(uint32_t want)
{
    uint64_t t0 = rdtsc();

    while ((mmio_read32(bar0 + 0x1C) & 1) != want)
        if (rdtsc() - t0 > WAIT_TSC)
            return false;
    return true;
}

/* NVMe 1.4 §7.6.1: disable, admin queues, enable. */
static void nvme_init(void)
{
    uint64_t cap = mmio_read64(bar0);

    nvme_db_stride = 4u << ((cap >> 32) & 0xF);
    cq_phase = 1;
    mmio_write32(bar0 + 0x14, 0);
    if (!nvme_wait_ready(0))
        fail(EXIT_PROBE_NVME, "NVMe: CSTS.RDY stays 1 after CC.EN = 0");
    memset((void *)NVME_ASQ, 0, 64 * NVME_QSIZE);
    memset((void *)NVME_ACQ, 0, 16 * NVME_QSIZE);
    mmio_write32(bar0 + 0x24, (NVME_QSIZE - 1) << 16 | (NVME_QSIZE - 1));
    mmio_write64(bar0 + 0x28, NVME_ASQ);
    mmio_write64(bar0 + 0x30, NVME_ACQ);
    /* EN, NVM command set, 4 KiB pages, SQ entries 2^6, CQ entries 2^4 */
    mmio_write32(bar0 + 0x14, 1u | 6u << 16 | 4u << 20);
    if (!nvme_wait_ready(1))
        fail(EXIT_PROBE_NVME, "NVMe: CSTS.RDY not 1 after CC.EN = 1 (CSTS 0x%x)",
             mmio_read32(bar0 + 0x1C));
}

/* GET FEATURES, Number of Queues (NVMe 1.4 §5.21.1.7): no data. */
static void nvme_submit(uint16_t cid)
{
    volatile uint32_t *sqe = (volatile uint32_t *)(NVME_ASQ + 64 * sq_tail);

    for (int i = 0; i < 16; i++)
        sqe[i] = 0;
    sqe[0] = 0x0A | (uint32_t)cid << 16;
    sqe[10] = 0x07;
    sq_tail = (sq_tail + 1) % NVME_QSIZE;
    mmio_write32(bar0 + 0x1000, sq_tail);
}

/* ---- the measures ----------------------------------------------------- */

static void measure_tsc(void)
{
    for (unsigned int i = 0; i < count; i++) {
        uint64_t t0 = rdtsc();

        SAMPLES[i] = clamp32(rdtsc() - t0);
    }
    report("tsc", count);
}

static void measure_bar(uint32_t reg)
{
    for (unsigned int i = 0; i < count; i++) {
        uint64_t t0 = rdtsc();

        (void)mmio_read32(bar0 + reg);
        SAMPLES[i] = clamp32(rdtsc() - t0);
    }
    report("bar-read", count);
}

static void measure_ecam(const struct loc *l)
{
    uint64_t a = ECAM_BASE + ((uint64_t)l->bus << 20 | l->dev << 15 | l->fn << 12);

    /* PCIEXBAR: 256 MiB at 0xB0000000, enabled (high dword first). */
    cfg_w32(0, 0, 0, MCH_PCIEXBAR + 4, 0);
    cfg_w32(0, 0, 0, MCH_PCIEXBAR, (uint32_t)ECAM_BASE | 1);
    if (mmio_read32(a) != cfg_r32(l->bus, l->dev, l->fn, 0))
        fail(EXIT_FAIL, "ECAM at 0x%lx does not show the device", a);
    for (unsigned int i = 0; i < count; i++) {
        uint64_t t0 = rdtsc();

        (void)mmio_read32(a);
        SAMPLES[i] = clamp32(rdtsc() - t0);
    }
    report("ecam-read", count);
}

static void measure_irq(const struct loc *l)
{
    unsigned int warm = count / 100 + 1;

    if (kind == KIND_EDU) {
        if (!msi_setup(l))
            fail(EXIT_PROBE_IRQ, "edu shows no MSI capability");
    } else if (kind == KIND_NVME) {
        if (!msix_setup(l))
            fail(EXIT_PROBE_IRQ, "NVMe shows no usable MSI-X capability");
        nvme_init();
    } else {
        printf("probe: no interrupt on request for this device: irq not measured\n");
        return;
    }
    __asm__ volatile("sti");
    for (unsigned int i = 0; i < warm + count; i++) {
        uint32_t want = irq_count + 1;
        uint64_t t0 = rdtsc();

        if (kind == KIND_EDU)
            mmio_write32(bar0 + 0x60, 1);
        else
            nvme_submit((uint16_t)i);
        if (!wait_irq(want))
            fail(EXIT_PROBE_IRQ, "interrupt %u never came", i);
        if (i >= warm)
            SAMPLES[i - warm] = clamp32(irq_tsc - t0);
    }
    __asm__ volatile("cli");
    report(kind == KIND_EDU ? "irq-msi" : "irq-nvme-msix", count);
    if (kind == KIND_NVME)
        mmio_write32(bar0 + 0x14, 0);           /* controller off again */
}

void bsp_main(void)
{
    struct loc l;
    uint64_t window;
    uint32_t id, class;

    printf("minivmm-guest probe: hello from 64-bit long mode\n");
    idt_init();
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, (lapic_read(LAPIC_SVR) & ~0xFFu) | 0x100 | VEC_SPURIOUS);
    count = 1000;
    read_params();
    if (!find_device(&l, &window))
        fail(EXIT_PROBE_NONE, "no device behind a root port on bus 0");
    place_bars(&l, window);
    id = cfg_r32(l.bus, l.dev, l.fn, 0);
    class = cfg_r32(l.bus, l.dev, l.fn, 8) >> 8;
    kind = id == 0x11e81234 ? KIND_EDU : class == 0x010802 ? KIND_NVME : KIND_OTHER;
    printf("probe-tsc-hz: %lu\n", tsc_hz());
    printf("probe: count=%u mode=%s\n", count, trapped ? "trapped" : "mapped");
    if (!trapped)
        measure_tsc();
    measure_bar(kind == KIND_NVME ? 0x08 : 0x00);
    if (!trapped) {
        measure_ecam(&l);
        measure_irq(&l);
    }
    printf("RESULT: PASS\n");
    exit_vm(EXIT_PASS);
}
