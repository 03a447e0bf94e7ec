/*
 * edu.c - edu.bin: drive QEMU's "edu" educational device (1234:11e8,
 * qemu/docs/specs/edu.rst) passed through to the guest by VFIO.
 *
 * There is no firmware: the payload finds the device itself by scanning
 * PCI config space through 0xCF8/0xCFC, gives every PCI-PCI bridge on
 * bus 0 (a PCIe root port) a bus number and a memory window, sizes and
 * places the edu BAR, then checks
 *   - identification and liveness registers, the factorial unit (BAR
 *     access, which minivmm maps straight into the guest: no exit),
 *   - the expansion ROM BAR, if there is one (romfile=): header and PCIR,
 *   - MSI: programmed in the capability, raised by the device (0x60),
 *     received on vector 0x40, acknowledged (0x64), several times,
 *   - DMA: RAM -> device buffer -> RAM through the IOMMU, each transfer
 *     completed by an MSI (command bit 2),
 *   - INTx: MSI off, the interrupt pin routed through the IOAPIC at the
 *     GSI the q35 swizzle gives (level, EOI resamples the line), received
 *     several times (each one needs the previous EOI to have unmasked it).
 *
 * -DEDU_BENCH -DBENCH_N=n (edu-bench.bin): only MSI, timed: n round trips
 * "device raises -> handler ran" in TSC cycles; the same file runs under
 * QEMU with vfio-pci for the comparison (tests/bench/run.sh).
 *
 * Exit codes: 0x30 no device, 0x31 register check, 0x32 MSI, 0x33 DMA,
 * 0x34 INTx, 0x35 enumeration (no room, no bridge). See README.md.
 */
#include "idt.h"
#include "lib.h"

#ifdef EDU_BENCH
# ifndef BENCH_N
#  define BENCH_N 10000
# endif
# define GUEST_NAME "edu-bench"
#else
# define GUEST_NAME "edu"
#endif

#define EXIT_EDU_NONE   0x30
#define EXIT_EDU_REGS   0x31
#define EXIT_EDU_MSI    0x32
#define EXIT_EDU_DMA    0x33
#define EXIT_EDU_INTX   0x34
#define EXIT_EDU_ENUM   0x35

#define PCI_CF8         0xCF8
#define PCI_CFC         0xCFC
#define EDU_VENDOR      0x1234
#define EDU_DEVICE      0x11e8

/* edu registers (edu.rst) */
#define EDU_ID          0x00            /* 0xRRrr00ed */
#define EDU_LIVE        0x04            /* reads back the inverse */
#define EDU_FACT        0x08
#define EDU_STATUS      0x20            /* bit 0: computing */
#define EDU_IRQ_STATUS  0x24
#define EDU_IRQ_RAISE   0x60
#define EDU_IRQ_ACK     0x64
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_CNT     0x90
#define EDU_DMA_CMD     0x98
#define EDU_DMA_START   0x1
#define EDU_DMA_TO_RAM  0x2
#define EDU_DMA_IRQ     0x4
#define EDU_DMA_BUF     0x40000         /* the device's buffer address */
#define EDU_DMA_IRQ_BIT 0x100           /* IRQ status after a DMA */

#define MMIO_WINDOW     0xC0000000ull   /* where we put BARs and windows */
#define IOAPIC_BASE     0xFEC00000ull
#define VEC_MSI         0x40
#define VEC_INTX        0x41
#define VEC_SPURIOUS    0xFF
#define LAPIC_EOI       0x0B0
#define LAPIC_TPR       0x080
#define WAIT_TSC        (1ull << 35)    /* tens of seconds: nested TCG is slow */
#define WAIT_SPINS      (1ull << 31)
#define DMA_LEN         2048            /* < 4 KiB: some QEMUs refuse the full buffer */

void bsp_main(void);
void ap_main(uint32_t index);
void exception(const uint64_t *frame);

/* used by boot64.S */
volatile uint32_t ap_next_index;
volatile uint32_t ap_no_stack;

struct interrupt_frame;

#define UNUSED __attribute__((unused))    /* the bench build skips the checks */


static uint64_t bar;                    /* edu BAR0, guest physical */
static volatile uint32_t msi_count, intx_count, spurious_count;
static volatile uint32_t last_status;
static uint8_t dma_src[DMA_LEN] __attribute__((aligned(4096)));
static uint8_t dma_dst[DMA_LEN] __attribute__((aligned(4096)));

/* ---- interrupts ------------------------------------------------------- */

static void edu_w32(uint32_t reg, uint32_t v) { mmio_write32(bar + reg, v); }
static uint32_t edu_r32(uint32_t reg) { return mmio_read32(bar + reg); }

__attribute__((interrupt)) static void msi_handler(struct interrupt_frame *f __attribute__((unused)))
{
    uint32_t st = edu_r32(EDU_IRQ_STATUS);

    last_status = st;
    edu_w32(EDU_IRQ_ACK, st);
    msi_count++;
    lapic_write(LAPIC_EOI, 0);
}

__attribute__((interrupt)) static void intx_handler(struct interrupt_frame *f __attribute__((unused)))
{
    uint32_t st = edu_r32(EDU_IRQ_STATUS);

    /* Acknowledge first: the line must be low before the EOI, or the
     * level-triggered IOAPIC entry fires again at once. */
    last_status = st;
    edu_w32(EDU_IRQ_ACK, st);
    (void)edu_r32(EDU_IRQ_STATUS);
    intx_count++;
    lapic_write(LAPIC_EOI, 0);
}

__attribute__((interrupt)) static void spurious_handler(struct interrupt_frame *f __attribute__((unused)))
{
    spurious_count++;
}

static void idt_init(void)
{
    idt_set(VEC_MSI, (const void *)msi_handler);
    idt_set(VEC_INTX, (const void *)intx_handler);
    idt_set(VEC_SPURIOUS, (const void *)spurious_handler);
    idt_load();
}

/* frame: vector, error code, rip, cs, rflags, rsp, ss */
void exception(const uint64_t *f)
{
    uint64_t cr2;

    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    fail(EXIT_EXCEPTION, "exception vector %lu error 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx on cpu %u",
         f[0], f[1], f[2], f[5], cr2, lapic_id());
}

void ap_main(uint32_t index)
{
    (void)index;                /* edu.bin starts no APs */
}

/* Wait until *counter reaches want; false on timeout. */
static bool wait_count(volatile uint32_t *counter, uint32_t want)
{
    uint64_t t0 = rdtsc();

    for (uint64_t spins = 0; spins < WAIT_SPINS; spins++) {
        if (*counter >= want)
            return true;
        if (rdtsc() - t0 > WAIT_TSC)
            break;
        cpu_relax();
    }
    return *counter >= want;
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

static uint16_t cfg_r16(unsigned int b, unsigned int d, unsigned int f, unsigned int off)
{
    outl(PCI_CF8, cfg_addr(b, d, f, off));
    return inw((uint16_t)(PCI_CFC + (off & 2)));
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

struct pci_loc {
    unsigned int bus, dev, fn;
    unsigned int root_slot;     /* slot on bus 0 its INTx arrives at */
    unsigned int bridge_dev;    /* the bridge on bus 0 above it, or ~0 */
};

static bool find_edu_on(unsigned int bus, struct pci_loc *loc)
{
    for (unsigned int d = 0; d < 32; d++) {
        for (unsigned int f = 0; f < 8; f++) {
            uint32_t id = cfg_r32(bus, d, f, 0);

            if ((id & 0xFFFF) == 0xFFFF) {
                if (f == 0)
                    break;
                continue;
            }
            if (id == (EDU_DEVICE << 16 | EDU_VENDOR)) {
                loc->bus = bus;
                loc->dev = d;
                loc->fn = f;
                return true;
            }
            if (f == 0 && !(cfg_r8(bus, d, 0, 0x0E) & 0x80))
                break;          /* not multi-function */
        }
    }
    return false;
}

/* How many functions of the device at loc are edu (a multi-function slot
 * passed whole shows them all; PCI 3.0 §6.2.1: look past function 0 only
 * when its header says multi-function). */
static unsigned int count_edu_functions(const struct pci_loc *loc)
{
    unsigned int n = 0;
    bool multi = cfg_r8(loc->bus, loc->dev, 0, 0x0E) & 0x80;

    for (unsigned int f = 0; f < (multi ? 8u : 1u); f++)
        if (cfg_r32(loc->bus, loc->dev, f, 0) == (EDU_DEVICE << 16 | EDU_VENDOR))
            n++;
    return n;
}

/*
 * Bus 0 directly, then behind each PCI-PCI bridge on bus 0 (one level, as
 * minivmm and a q35 QEMU with root ports build it): bus numbers from 1,
 * each bridge forwarding [MMIO_WINDOW + n * 16 MiB, + 16 MiB).
 */
static bool find_edu(struct pci_loc *loc)
{
    unsigned int next_bus = 1;

    loc->bridge_dev = ~0u;
    if (find_edu_on(0, loc)) {
        loc->root_slot = loc->dev;
        return true;
    }
    for (unsigned int d = 0; d < 32; d++) {
        uint32_t id = cfg_r32(0, d, 0, 0);
        uint64_t base;

        if ((id & 0xFFFF) == 0xFFFF || (cfg_r8(0, d, 0, 0x0E) & 0x7F) != 1)
            continue;
        base = MMIO_WINDOW + (uint64_t)(next_bus - 1) * 0x1000000;
        cfg_w8(0, d, 0, 0x18, 0);                  /* primary */
        cfg_w8(0, d, 0, 0x19, (uint8_t)next_bus);  /* secondary */
        cfg_w8(0, d, 0, 0x1A, (uint8_t)next_bus);  /* subordinate */
        cfg_w16(0, d, 0, 0x20, (uint16_t)(base >> 16));                  /* memory base */
        cfg_w16(0, d, 0, 0x22, (uint16_t)((base + 0xFFFFFF) >> 16 & 0xFFF0)); /* limit */
        cfg_w16(0, d, 0, 0x24, 0xFFF0);            /* prefetchable: closed */
        cfg_w16(0, d, 0, 0x26, 0x0000);
        cfg_w16(0, d, 0, 0x04, 0x0006);            /* memory, bus master */
        printf("pci: bridge 00:%02x.0 [%04x:%04x] -> bus %u, window 0x%lx\n",
               d, id & 0xFFFF, id >> 16, next_bus, base);
        if (find_edu_on(next_bus, loc)) {
            loc->bridge_dev = d;
            /* INTx swizzle (PCI-PCI bridge spec 1.2 table 9-1) */
            loc->root_slot = d;
            return true;
        }
        if (++next_bus > 8)
            break;
    }
    return false;
}

static unsigned int find_cap(const struct pci_loc *l, uint8_t id)
{
    unsigned int off = cfg_r8(l->bus, l->dev, l->fn, 0x34) & 0xFC;

    for (int n = 0; off >= 0x40 && n < 48; n++) {
        if (cfg_r8(l->bus, l->dev, l->fn, off) == id)
            return off;
        off = cfg_r8(l->bus, l->dev, l->fn, off + 1) & 0xFC;
    }
    return 0;
}

/* Size BAR0 and put it at the start of the window above it. */
static void place_bar(const struct pci_loc *l)
{
    uint32_t orig = cfg_r32(l->bus, l->dev, l->fn, 0x10), sz;
    uint64_t base = MMIO_WINDOW;

    if (l->bridge_dev != ~0u)
        base = (uint64_t)(cfg_r16(0, l->bridge_dev, 0, 0x20) & 0xFFF0) << 16;
    cfg_w16(l->bus, l->dev, l->fn, 0x04, 0);
    cfg_w32(l->bus, l->dev, l->fn, 0x10, 0xFFFFFFFF);
    sz = ~(cfg_r32(l->bus, l->dev, l->fn, 0x10) & ~0xFu) + 1;
    if ((orig & 1) || sz < 16 || sz > 0x1000000)
        fail(EXIT_EDU_ENUM, "edu BAR0 is %s of 0x%x bytes", orig & 1 ? "I/O" : "memory", sz);
    cfg_w32(l->bus, l->dev, l->fn, 0x10, (uint32_t)base);
    if ((orig & 6) == 4)
        cfg_w32(l->bus, l->dev, l->fn, 0x14, 0);
    cfg_w16(l->bus, l->dev, l->fn, 0x04, 0x0006);  /* memory, bus master */
    bar = base;
    printf("edu: BAR0 0x%x bytes at 0x%lx\n", sz, bar);
}

/* ---- IOAPIC ----------------------------------------------------------- */

static UNUSED void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

/*
 * The GSI of a root-bus slot's INTx pin on q35 (QEMU's ICH9 defaults,
 * as minivmm's LPC and DSDT): slots 0-24 rotate over PIRQ E-H = GSI 20-23.
 */
static UNUSED unsigned int q35_gsi(unsigned int slot, unsigned int pin)
{
    if (slot <= 24)
        return 20 + (slot + pin) % 4;
    return (slot == 30 ? 20 : 16) + pin;
}

/* ---- the checks ------------------------------------------------------- */

/*
 * The expansion ROM BAR (PCI 3.0 §6.2.5.2, §6.3.1): edu has none, but
 * minivmm's romfile= gives it one. Size it, map it 8 MiB into the window,
 * read the image header (55 AA, the PCI data structure "PCIR" with the
 * vendor and device it is for), unmap it.
 */
static UNUSED void check_rom(const struct pci_loc *l)
{
    uint64_t base = bar + 0x800000;
    uint32_t sz;
    uint16_t pcir;

    cfg_w32(l->bus, l->dev, l->fn, 0x30, 0xFFFFF800);
    sz = cfg_r32(l->bus, l->dev, l->fn, 0x30) & 0xFFFFF800;
    if (!sz) {
        printf("rom: none\n");
        return;
    }
    sz = ~sz + 1;
    cfg_w32(l->bus, l->dev, l->fn, 0x30, (uint32_t)base | 1);
    if (mmio_read8(base) != 0x55 || mmio_read8(base + 1) != 0xAA)
        fail(EXIT_EDU_REGS, "ROM at 0x%lx starts 0x%x 0x%x, not 55 AA", base,
             mmio_read8(base), mmio_read8(base + 1));
    pcir = mmio_read16(base + 0x18);
    if (pcir + 8u > sz || mmio_read32(base + pcir) != 0x52494350)  /* "PCIR" */
        fail(EXIT_EDU_REGS, "ROM has no PCI data structure at 0x%x", pcir);
    printf("rom: %u KiB, 55 AA, PCIR for %04x:%04x\n", sz >> 10,
           mmio_read16(base + pcir + 4), mmio_read16(base + pcir + 6));
    cfg_w32(l->bus, l->dev, l->fn, 0x30, (uint32_t)base);
}

static UNUSED void check_regs(void)
{
    uint32_t id = edu_r32(EDU_ID);

    if ((id & 0xFFFF) != 0x00ED)
        fail(EXIT_EDU_REGS, "edu id register 0x%x (want 0x....00ed)", id);
    printf("edu: id 0x%x (version %u.%u)\n", id, id >> 24, (id >> 16) & 0xFF);
    edu_w32(EDU_LIVE, 0x12345678);
    CHECK(EXIT_EDU_REGS, edu_r32(EDU_LIVE), ~0x12345678u, "edu liveness");
    edu_w32(EDU_FACT, 10);
    for (int i = 0; i < 1000000 && (edu_r32(EDU_STATUS) & 1); i++)
        cpu_relax();
    CHECK(EXIT_EDU_REGS, edu_r32(EDU_FACT), 3628800, "edu factorial(10)");
    printf("edu: registers ok\n");
}

static void msi_enable(const struct pci_loc *l, unsigned int cap)
{
    uint16_t ctl = cfg_r16(l->bus, l->dev, l->fn, cap + 2);
    unsigned int data = (ctl & 0x80) ? cap + 12 : cap + 8;

    cfg_w32(l->bus, l->dev, l->fn, cap + 4, 0xFEE00000u | lapic_id() << 12);
    if (ctl & 0x80)
        cfg_w32(l->bus, l->dev, l->fn, cap + 8, 0);
    cfg_w16(l->bus, l->dev, l->fn, data, VEC_MSI);
    cfg_w16(l->bus, l->dev, l->fn, cap + 2, (uint16_t)((ctl & ~0x70) | 1));
}

static void raise_and_wait(volatile uint32_t *counter, uint32_t code, const char *what)
{
    uint32_t want = *counter + 1;

    edu_w32(EDU_IRQ_RAISE, 0x1);
    if (!wait_count(counter, want))
        fail(code, "%s: no interrupt (irq status 0x%x)", what, edu_r32(EDU_IRQ_STATUS));
    CHECK(code, last_status & 1, 1, what);
}

static void dma(uint64_t src, uint64_t dst, uint32_t cmd)
{
    uint32_t want = msi_count + 1;

    mmio_write64(bar + EDU_DMA_SRC, src);
    mmio_write64(bar + EDU_DMA_DST, dst);
    mmio_write64(bar + EDU_DMA_CNT, DMA_LEN);
    mmio_write64(bar + EDU_DMA_CMD, cmd | EDU_DMA_START | EDU_DMA_IRQ);
    if (!wait_count(&msi_count, want))
        fail(EXIT_EDU_DMA, "DMA %s: no completion interrupt (cmd 0x%lx)",
             cmd & EDU_DMA_TO_RAM ? "to RAM" : "from RAM", mmio_read64(bar + EDU_DMA_CMD));
    CHECK(EXIT_EDU_DMA, last_status & EDU_DMA_IRQ_BIT, EDU_DMA_IRQ_BIT, "DMA irq status");
}

static UNUSED void check_dma(void)
{
    for (int i = 0; i < DMA_LEN; i++) {
        dma_src[i] = (uint8_t)(i * 7 + 3);
        dma_dst[i] = 0xEE;
    }
    dma((uint64_t)dma_src, EDU_DMA_BUF, 0);
    dma(EDU_DMA_BUF, (uint64_t)dma_dst, EDU_DMA_TO_RAM);
    for (int i = 0; i < DMA_LEN; i++)
        if (dma_dst[i] != dma_src[i])
            fail(EXIT_EDU_DMA, "DMA round trip: byte %d is 0x%x, want 0x%x", i, dma_dst[i],
                 dma_src[i]);
    printf("dma: %d bytes RAM -> edu -> RAM ok, 2 completion MSIs\n", DMA_LEN);
}

static UNUSED void check_intx(const struct pci_loc *l, unsigned int msi_cap)
{
    unsigned int pin = cfg_r8(l->bus, l->dev, l->fn, 0x3D), gsi;

    if (pin < 1 || pin > 4)
        fail(EXIT_EDU_INTX, "edu has no interrupt pin (%u)", pin);
    pin -= 1;
    if (l->bridge_dev != ~0u)
        pin = (pin + l->dev) % 4;
    gsi = q35_gsi(l->root_slot, pin);
    /* MSI off: the device signals INTx again (PCI 3.0 §6.8.1.3). */
    cfg_w16(l->bus, l->dev, l->fn, msi_cap + 2,
            (uint16_t)(cfg_r16(l->bus, l->dev, l->fn, msi_cap + 2) & ~1));
    /* Level-triggered, active high (the DSDT's _PRT GSI entries), fixed,
     * physical destination: this CPU. */
    ioapic_write(0x11 + 2 * gsi, lapic_id() << 24);
    ioapic_write(0x10 + 2 * gsi, VEC_INTX | 1u << 15);
    __asm__ volatile("sti");
    for (int i = 0; i < 3; i++)
        raise_and_wait(&intx_count, EXIT_EDU_INTX, "INTx");
    ioapic_write(0x10 + 2 * gsi, 1u << 16);    /* masked again */
    printf("intx: 3 interrupts on GSI %u (INT%c at root slot %u), each resampled after EOI\n",
           gsi, 'A' + pin, l->root_slot);
}

void bsp_main(void)
{
    struct pci_loc loc;
    unsigned int msi;

    printf("minivmm-guest " GUEST_NAME ": hello from 64-bit long mode\n");
    idt_init();
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, (lapic_read(LAPIC_SVR) & ~0xFFu) | 0x100 | VEC_SPURIOUS);
    if (!find_edu(&loc))
        fail(EXIT_EDU_NONE, "no edu device (1234:11e8) on bus 0 or behind a bridge on bus 0");
    printf("edu: found at %02x:%02x.%x (%u edu function(s) in the slot)\n", loc.bus, loc.dev,
           loc.fn, count_edu_functions(&loc));
    place_bar(&loc);
    msi = find_cap(&loc, 0x05);
    if (!msi)
        fail(EXIT_EDU_MSI, "edu shows no MSI capability");
#ifndef EDU_BENCH
    check_regs();
    check_rom(&loc);
#endif
    msi_enable(&loc, msi);
    __asm__ volatile("sti");
#ifdef EDU_BENCH
    {
        uint64_t t0, total;

        for (int i = 0; i < BENCH_N / 100; i++)     /* warm-up */
            raise_and_wait(&msi_count, EXIT_EDU_MSI, "MSI");
        t0 = rdtsc();
        for (int i = 0; i < BENCH_N; i++)
            raise_and_wait(&msi_count, EXIT_EDU_MSI, "MSI");
        total = rdtsc() - t0;
        printf("edu-bench: msi-roundtrip %lu tsc-cycles iters %d\n",
               BENCH_N ? total / BENCH_N : 0, BENCH_N);
    }
#else
    for (int i = 0; i < 5; i++)
        raise_and_wait(&msi_count, EXIT_EDU_MSI, "MSI");
    printf("msi: 5 interrupts on vector 0x%x\n", VEC_MSI);
    check_dma();
    check_intx(&loc, msi);
    if (spurious_count)
        printf("note: %u spurious interrupts\n", spurious_count);
#endif
    printf("RESULT: PASS\n");
    exit_vm(EXIT_PASS);
}
