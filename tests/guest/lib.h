/*
 * lib.h - freestanding helpers for the 64-bit test payloads: port and MMIO
 * access, COM1 output with a cross-CPU spinlock, a tiny printf, exit.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

/* ---- port I/O --------------------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- MMIO (one instruction of exactly the given width each) ----------- */
static inline void mmio_write8(uint64_t a, uint8_t v)
{
    __asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)a) : "q"(v) : "memory");
}
static inline void mmio_write16(uint64_t a, uint16_t v)
{
    __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)a) : "r"(v) : "memory");
}
static inline void mmio_write32(uint64_t a, uint32_t v)
{
    __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)a) : "r"(v) : "memory");
}
static inline void mmio_write64(uint64_t a, uint64_t v)
{
    __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)a) : "r"(v) : "memory");
}
static inline uint8_t mmio_read8(uint64_t a)
{
    uint8_t v;
    __asm__ volatile("movb %1, %0" : "=q"(v) : "m"(*(volatile uint8_t *)a) : "memory");
    return v;
}
static inline uint16_t mmio_read16(uint64_t a)
{
    uint16_t v;
    __asm__ volatile("movw %1, %0" : "=r"(v) : "m"(*(volatile uint16_t *)a) : "memory");
    return v;
}
static inline uint32_t mmio_read32(uint64_t a)
{
    uint32_t v;
    __asm__ volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)a) : "memory");
    return v;
}
static inline uint64_t mmio_read64(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)a) : "memory");
    return v;
}

/* ---- CPU -------------------------------------------------------------- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" : : : "memory");
}
static inline uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(LAPIC_BASE + reg);
}
static inline void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(LAPIC_BASE + reg, v);
}
static inline uint32_t lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

/* ---- output / exit ---------------------------------------------------- */
void serial_lock(void);
void serial_unlock(void);
void serial_putc(char c);                     /* caller holds the lock */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf_locked(const char *fmt, va_list ap);
__attribute__((noreturn)) void exit_vm(uint32_t code);
__attribute__((noreturn, format(printf, 2, 3)))
void fail(uint32_t code, const char *fmt, ...);
void delay_tsc(uint64_t cycles);

/* CHECK(code, got, want, "what"): on mismatch "RESULT: FAIL what: got=.. want=.." */
#define CHECK(code, got, want, what)                                        \
    do {                                                                    \
        uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);          \
        if (got_ != want_)                                                  \
            fail((code), "%s: got=0x%lx want=0x%lx", (what), got_, want_);  \
    } while (0)

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
