/*
 * latency.c - latency.bin: the idle and interrupt paths that
 * docs/latency.md is about, for minivmm's --stats, --cpu-pm and
 * --halt-poll (tests/nested/cases/55-latency.sh).
 *
 *   - halts: the LAPIC timer in periodic mode (vector 0x50), then
 *     HALTS times "sti; hlt": each HLT is a VM exit that KVM counts
 *     (halt_exits), unless --cpu-pm on keeps HLT in the guest;
 *   - the test device's IRQ ports (0x2000 + n, QEMU pc-testdev): line
 *     TESTDEV_LINE routed through the IOAPIC (level, active high) to
 *     vector 0x51, raised by a write of 1, lowered by the handler with a
 *     write of 0 before its EOI; several times, each one needing the
 *     previous EOI. The 8259 PICs are masked (the same GSI reaches them);
 *     the IOAPIC path is the one passthrough guests use.
 *
 * Exit codes: 0x40 the timer never woke a HLT, 0x41 a testdev IRQ did not
 * arrive (README.md).
 */
#include "idt.h"
#include "lib.h"

#define GUEST_NAME      "latency"
#define IOAPIC_BASE     0xFEC00000ull
#define VEC_TIMER       0x50
#define VEC_TESTDEV     0x51
#define VEC_SPURIOUS    0xFF
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0B0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TMR_INIT  0x380
#define LAPIC_TMR_DIV   0x3E0
#define LVT_PERIODIC    (1u << 17)
#define LVT_MASKED      (1u << 16)
#define HALTS           200
#define TIMER_COUNT     200000          /* KVM's APIC bus: 1 GHz, so 200 us */
#define TESTDEV_IRQ     0x2000
#define TESTDEV_LINE    10              /* an ISA line no minivmm device uses */
#define TESTDEV_ROUNDS  3
#define WAIT_TSC        (1ull << 35)
#define EXIT_LAT_TIMER  0x40
#define EXIT_LAT_IRQ    0x41

void bsp_main(void);
void ap_main(uint32_t index);
void exception(const uint64_t *frame);

volatile uint32_t ap_next_index;
volatile uint32_t ap_no_stack;

struct interrupt_frame;

static volatile uint32_t ticks, testdev_irqs, spurious;
static volatile uint64_t timer_tsc;             /* when the last tick's handler ran */

__attribute__((interrupt)) static void timer_handler(struct interrupt_frame *f __attribute__((unused)))
{
    timer_tsc = rdtsc();
    ticks++;
    lapic_write(LAPIC_EOI, 0);
}

__attribute__((interrupt)) static void testdev_handler(struct interrupt_frame *f __attribute__((unused)))
{
    /* Lower the line before the EOI, or the level-triggered entry
     * fires again at once. */
    outb(TESTDEV_IRQ + TESTDEV_LINE, 0);
    testdev_irqs++;
    lapic_write(LAPIC_EOI, 0);
}

__attribute__((interrupt)) static void spurious_handler(struct interrupt_frame *f __attribute__((unused)))
{
    spurious++;
}

static void idt_init(void)
{
    idt_set(VEC_TIMER, (const void *)timer_handler);
    idt_set(VEC_TESTDEV, (const void *)testdev_handler);
    idt_set(VEC_SPURIOUS, (const void *)spurious_handler);
    idt_load();
}

/* frame: vector, error code, rip, cs, rflags, rsp, ss */
void exception(const uint64_t *f)
{
    fail(EXIT_EXCEPTION, "exception vector %lu error 0x%lx rip 0x%lx", f[0], f[1], f[2]);
}

void ap_main(uint32_t index)
{
    (void)index;                /* latency.bin runs on one vCPU */
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void check_halts(void)
{
    uint64_t t0 = rdtsc(), t1;
    uint32_t halts = 0;

    lapic_write(LAPIC_TMR_DIV, 0xB);            /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
    lapic_write(LAPIC_TMR_INIT, TIMER_COUNT);
    while (halts < HALTS && rdtsc() - t0 < WAIT_TSC) {
        /* sti's shadow: the interrupt is taken after hlt, not before */
        __asm__ volatile("sti; hlt; cli" : : : "memory");
        halts++;
    }
    t1 = rdtsc();
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TMR_INIT, 0);
    if (halts < HALTS || !ticks)
        fail(EXIT_LAT_TIMER, "%u HLTs in time, %u timer interrupts; expected %u HLTs", halts,
             ticks, HALTS);
    printf("halt: %u HLTs woken by %u timer interrupts in %lu tsc-cycles\n", halts, ticks, t1 - t0);
}

/*
 * Wake-up latency of a halted vCPU: WAKES one-shot TSC-deadline timers, each
 * armed WAKE_DELAY cycles ahead, the vCPU halted until it fires; the latency
 * is the handler's TSC minus the deadline. The path: KVM's hrtimer fires on
 * the host, the vCPU is woken (from its halt-poll loop, or from sleep), the
 * interrupt is injected. --halt-poll and --cpu-pm change it (docs/latency.md).
 * Skipped without CPUID's TSC-deadline bit.
 */
#define WAKES           64
#define WAKE_DELAY      (1ull << 20)
#define MSR_TSC_DEADLINE 0x6E0
#define LVT_TSC_DEADLINE (2u << 17)

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void measure_wake(void)
{
    uint64_t lat[WAKES], sum = 0, deadline;
    uint32_t eax = 1, ebx, ecx = 0, edx, n = 0;

    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    if (!(ecx & (1u << 24))) {
        printf("wake: no TSC-deadline timer, not measured\n");
        return;
    }
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | LVT_TSC_DEADLINE);
    for (uint32_t i = 0; i < WAKES; i++) {
        uint32_t seen = ticks;
        uint64_t t0 = rdtsc();

        deadline = t0 + WAKE_DELAY;
        wrmsr(MSR_TSC_DEADLINE, deadline);
        while (ticks == seen && rdtsc() - t0 < WAIT_TSC)
            __asm__ volatile("sti; hlt; cli" : : : "memory");
        if (ticks == seen)
            break;
        /* KVM may fire early (lapic_timer_advance_ns): 0 then */
        lat[n++] = timer_tsc > deadline ? timer_tsc - deadline : 0;
    }
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    if (n < WAKES)
        fail(EXIT_LAT_TIMER, "wake: %u of %u TSC-deadline timers fired", n, WAKES);
    for (uint32_t i = 1; i < n; i++)            /* insertion sort: 64 values */
        for (uint32_t j = i; j && lat[j - 1] > lat[j]; j--) {
            uint64_t t = lat[j];
            lat[j] = lat[j - 1];
            lat[j - 1] = t;
        }
    for (uint32_t i = 0; i < n; i++)
        sum += lat[i];
    printf("wake: halted vCPU woken by its TSC-deadline timer: min %lu median %lu mean %lu max %lu tsc-cycles (%u wakes)\n",
           lat[0], lat[n / 2], sum / n, lat[n - 1], n);
}

static void check_testdev_irq(void)
{
    uint32_t pin = TESTDEV_LINE;

    ioapic_write(0x11 + 2 * pin, lapic_id() << 24);
    ioapic_write(0x10 + 2 * pin, VEC_TESTDEV | 1u << 15);       /* level, high */
    __asm__ volatile("sti");
    for (uint32_t i = 1; i <= TESTDEV_ROUNDS; i++) {
        uint64_t t0 = rdtsc();

        outb(TESTDEV_IRQ + TESTDEV_LINE, 1);
        while (testdev_irqs < i && rdtsc() - t0 < WAIT_TSC)
            cpu_relax();
        if (testdev_irqs < i)
            fail(EXIT_LAT_IRQ, "testdev IRQ line %u: interrupt %u never arrived", pin, i);
    }
    __asm__ volatile("cli");
    ioapic_write(0x10 + 2 * pin, 1u << 16);                     /* masked again */
    printf("testdev-irq: %u interrupts on line %u through the IOAPIC\n", testdev_irqs, pin);
}

void bsp_main(void)
{
    printf("minivmm-guest " GUEST_NAME ": hello from 64-bit long mode\n");
    idt_init();
    /* The IRQ ports drive the 8259 inputs too (GSI 0-15 are both): mask
     * both PICs, whose vector base is still 0 without initialisation, so
     * that line 10 does not also arrive through ExtINT as vector 2. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, (lapic_read(LAPIC_SVR) & ~0xFFu) | 0x100 | VEC_SPURIOUS);
    check_halts();
    measure_wake();
    check_testdev_irq();
    if (spurious)
        printf("note: %u spurious interrupts\n", spurious);
    printf("RESULT: PASS\n");
    exit_vm(EXIT_PASS);
}
