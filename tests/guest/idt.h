/*
 * idt.h - the IDT of the payloads that take interrupts (edu, latency,
 * probe): 256 64-bit interrupt gates, vectors 0-31 on boot64.S's exception
 * stubs, the others set by the payload.
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

/* Vector vec to fn (an interrupt gate in the 64-bit code segment). */
void idt_set(unsigned int vec, const void *fn);

/* The exception vectors set, then the IDT loaded (lidt). */
void idt_load(void);

#endif
