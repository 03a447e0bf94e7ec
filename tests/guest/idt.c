/*
 * idt.c - the IDT of the payloads that take interrupts (idt.h).
 */
#include <stdint.h>

#include "guest.h"
#include "idt.h"

/* Intel SDM vol. 3A §6.14.1: a 64-bit IDT gate descriptor. */
struct idt_entry {
    uint16_t off0;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off1;
    uint32_t off2;
    uint32_t rsvd;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern const char exc_stubs[];

void idt_set(unsigned int vec, const void *fn)
{
    uint64_t a = (uint64_t)fn;

    idt[vec] = (struct idt_entry){
        .off0 = (uint16_t)a, .sel = SEL_CODE64, .type = 0x8E,
        .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32),
    };
}

void idt_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)idt };

    for (unsigned int i = 0; i < 32; i++)
        idt_set(i, exc_stubs + 16 * i);
    __asm__ volatile("lidt %0" : : "m"(d));
}
