/*
 * lib.c - freestanding helpers for the 64-bit test payloads.
 */
#include "lib.h"

static volatile uint32_t serial_spin;       /* .bss, zeroed by boot64.S */

void serial_lock(void)
{
    /* Bounded (~2^33 TSC cycles, or 2^30 spins should the TSC not tick):
     * an exception taken while this CPU holds the lock must still print. */
    uint64_t start = rdtsc();

    for (uint64_t spins = 0; spins < (1ull << 30); spins++) {
        if (!serial_spin && !__atomic_exchange_n(&serial_spin, 1, __ATOMIC_ACQUIRE))
            return;
        cpu_relax();
        if ((spins & 0xff) == 0 && rdtsc() - start > (1ull << 33))
            return;
    }
}

void serial_unlock(void)
{
    __atomic_store_n(&serial_spin, 0, __ATOMIC_RELEASE);
}

void serial_putc(char c)
{
    for (int i = 0; i < 100000; i++)     /* don't hang on a broken UART */
        if (inb(COM1_LSR) & LSR_THRE)
            break;
    outb(COM1, (uint8_t)c);
}

static void put_str(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && n < (int)sizeof(buf));
    while (width-- > n)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

/* %s %c %d %u %x with optional '0', width and 'l'/'ll'; "%%" */
void vprintf_locked(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(s ? s : "(null)");
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                serial_putc('-');
                v = -v;
            }
            put_num((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_num(v, *fmt == 'u' ? 10 : 16, width, pad);
            break;
        }
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default:
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
}

void printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    serial_lock();
    vprintf_locked(fmt, ap);
    serial_unlock();
    va_end(ap);
}

void exit_vm(uint32_t code)
{
    outl(PORT_EXIT, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void fail(uint32_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    serial_lock();
    put_str("RESULT: FAIL ");
    vprintf_locked(fmt, ap);
    put_str("\n");
    serial_unlock();
    va_end(ap);
    exit_vm(code);
}

void delay_tsc(uint64_t cycles)
{
    uint64_t start = rdtsc();

    /* the spin cap keeps this bounded should the TSC not tick */
    for (uint64_t spins = 0; spins < (1ull << 30); spins++) {
        if (rdtsc() - start >= cycles)
            break;
        cpu_relax();
    }
}

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;

    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    while (n--)
        *dp++ = *sp++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *pa = a, *pb = b;

    for (; n; n--, pa++, pb++)
        if (*pa != *pb)
            return *pa - *pb;
    return 0;
}
