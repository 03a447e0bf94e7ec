/* SPDX-License-Identifier: MIT */
/*
 * Level-triggered interrupt lines that any thread may raise: a vCPU in a
 * register write, an I/O thread completing a request, a timer thread.
 *
 * An irq_line is a wired-OR input (PCI 3.0 §2.2.6: INTx# pins are shared,
 * open-drain): it counts the sources asserting it and tells its sink only
 * on the 0 -> 1 and 1 -> 0 transitions. The count and the sink call sit
 * under the line's own small mutex, so two threads cannot reorder a raise
 * and a lower on their way to KVM, and no configuration lock is needed:
 * the I/O threads never take the PCI root lock (see the lock order in
 * docs/architecture.md, "Locks").
 *
 * MSI and MSI-X vectors are edge messages that need no count; they live in
 * devices/msi_vector.h and devices/msix.h (eventfds bound to KVM irqfds).
 */
#ifndef MINIVMM_DEVICES_IRQ_H
#define MINIVMM_DEVICES_IRQ_H

#include <pthread.h>
#include <stdbool.h>

#include "devices/device.h"

/* Told the line's new level, with the line's lock held (so in order). It
 * may take locks that come after irq_line in the lock order, no other. */
typedef void (*irq_sink_fn)(void *opaque, bool level);

struct irq_line {
	pthread_mutex_t lock;
	unsigned int count;	/* sources asserting the line */
	bool level;		/* what the sink was last told; atomic reads */
	irq_sink_fn sink;
	void *opaque;
};

int irq_line_init(struct irq_line *line, irq_sink_fn sink, void *opaque);
void irq_line_exit(struct irq_line *line);

/* One source asserts / deasserts. A lower with nothing asserted is
 * ignored (a device's reset may lower what it never raised). */
void irq_line_raise(struct irq_line *line);
void irq_line_lower(struct irq_line *line);
/* Power-on state: nothing asserted, the sink told so if it was high. */
void irq_line_reset(struct irq_line *line);
/* The level as last driven (for status registers and tests). */
bool irq_line_level(struct irq_line *line);

/*
 * The wired-OR of the sources of one GSI that each report only their own
 * transitions (as every user of vm_ops.set_irq_line does): KVM_IRQ_LINE
 * keeps one level per GSI for all of userspace, so two devices on one
 * line (the test device's IRQ ports and the UART, or a PIRQ) are ORed
 * here. Updates *count (sources asserting); true when the OR changed,
 * i.e. when KVM must be told. A lower with nothing asserted is ignored.
 */
bool irq_wired_or(unsigned int *count, bool level);

/* A sink that drives an in-kernel IOAPIC/PIC input through vm_ops. */
struct irq_gsi {
	const struct vm_ops *ops;
	unsigned int gsi;
};
void irq_gsi_sink(void *irq_gsi, bool level);

#endif
