// SPDX-License-Identifier: MIT
/*
 * The interrupt layer (devices/irq.h) and PCI INTx on top of it: wired-OR
 * counting, and the property the I/O threads rely on — INTx can be raised
 * from a thread while a vCPU holds the PCI configuration (root) lock and
 * waits for that very thread, as a virtio reset does when it joins its
 * queue threads. Run under ThreadSanitizer by `make SANITIZE=thread
 * check-unit`, which also checks the lock order (lock-order inversions).
 * Nothing here sleeps: a deadlock hangs the test instead of timing out.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/pci.h"
#include "devices/q35/lpc.h"
#include "lib/layout.h"
#include "tests/unit/fake_vm.h"

/* ---- irq_line ---------------------------------------------------------------- */

struct sink_log {
	unsigned int calls;
	bool level;
};

static void log_sink(void *opaque, bool level)
{
	struct sink_log *log = opaque;

	log->calls++;
	log->level = level;
}

/* vmm/kvm.c's OR of the sources of one GSI (each reports transitions). */
static void test_gsi_wired_or(void **state)
{
	unsigned int n = 0;

	assert_false(irq_wired_or(&n, false));	/* nothing asserted: ignored */
	assert_int_equal(n, 0);
	assert_true(irq_wired_or(&n, true));	/* UART raises: tell KVM */
	assert_false(irq_wired_or(&n, true));	/* test device too: already high */
	assert_false(irq_wired_or(&n, false));	/* UART lowers: testdev still holds it */
	assert_int_equal(n, 1);
	assert_true(irq_wired_or(&n, false));	/* the last one: KVM lowers */
	assert_int_equal(n, 0);
}

static void test_line_wired_or(void **state)
{
	struct sink_log log = { 0 };
	struct irq_line line;

	assert_int_equal(irq_line_init(&line, log_sink, &log), 0);
	irq_line_lower(&line);			/* nothing asserted: ignored */
	assert_int_equal(log.calls, 0);
	irq_line_raise(&line);
	irq_line_raise(&line);			/* a second source */
	assert_int_equal(log.calls, 1);		/* only the 0 -> 1 edge */
	assert_true(log.level);
	irq_line_lower(&line);
	assert_true(irq_line_level(&line));	/* the other still asserts */
	irq_line_lower(&line);
	assert_int_equal(log.calls, 2);
	assert_false(log.level);
	irq_line_raise(&line);
	irq_line_reset(&line);			/* power-on: low, count gone */
	assert_false(irq_line_level(&line));
	irq_line_raise(&line);
	assert_true(irq_line_level(&line));	/* one raise is enough again */
	irq_line_exit(&line);
}

/* ---- INTx through the real ICH9 router ----------------------------------------- */

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct lpc *lpc;
	struct pci_dev a, b;	/* INTA of slots 3 and 7: both PIRQH, GSI 23 */
	pthread_t io_thread;
};

#define GSI_H	(LAYOUT_PIRQ_GSI_BASE + 7)

static void io_raise(struct pci_dev *dev)
{
	pci_dev_set_irq(dev, true);
}

static void *io_thread_raise(void *arg)
{
	io_raise(arg);
	return NULL;
}

static struct fixture *fixture_of(struct pci_dev *dev);

/* A device reset that waits for its I/O thread, as virtio's does: it runs
 * with the root lock held (pci_root_reset). */
static void reset_joining_io_thread(struct pci_dev *dev)
{
	struct fixture *f = fixture_of(dev);

	assert_int_equal(pthread_create(&f->io_thread, NULL, io_thread_raise, dev), 0);
	assert_int_equal(pthread_join(f->io_thread, NULL), 0);
}

static const struct pci_dev_ops joining_ops = { .reset = reset_joining_io_thread };

static struct fixture *fixture_of(struct pci_dev *dev)
{
	return (struct fixture *)((char *)dev - offsetof(struct fixture, a));
}

static void plug(struct fixture *f, struct pci_dev *d, const struct pci_dev_ops *ops,
		 uint8_t slot)
{
	assert_int_equal(pci_dev_init(d, ops, "intx", 0x1234, 0x5678, 0xff0000, 0,
				      PCI_HEADER_TYPE_NORMAL, false), 0);
	pci_set8(d->config, PCI_INTERRUPT_PIN, 1);
	assert_int_equal(pci_bus_plug(pci_root_bus(f->root), d, PCI_DEVFN(slot, 0)), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	f->root = pci_root_create(&f->fvm.ops, &f->pio, &f->mmio);
	assert_non_null(f->root);
	f->lpc = lpc_create(f->root, &f->fvm.ops, &f->pio, &f->mmio, NULL);
	assert_non_null(f->lpc);
	plug(f, &f->a, &joining_ops, 3);
	plug(f, &f->b, NULL, 7);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_dev_exit(&f->a);
	pci_dev_exit(&f->b);
	lpc_destroy(f->lpc);
	pci_root_destroy(f->root);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

/* The vCPU side by hand: the root lock held across a join of a thread
 * that raises INTx. With INTx under the root lock this never returns. */
static void test_intx_raised_while_root_locked(void **state)
{
	struct fixture *f = *state;
	pthread_t t;

	pthread_mutex_lock(&f->root->lock);
	assert_int_equal(pthread_create(&t, NULL, io_thread_raise, &f->b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_mutex_unlock(&f->root->lock);
	assert_int_equal(f->fvm.irq_level[GSI_H], 1);
	pci_dev_set_irq(&f->b, false);
	assert_int_equal(f->fvm.irq_level[GSI_H], 0);
}

/* The real path: a system reset (root lock held) whose device hook joins
 * an I/O thread that raises INTx on its way out. */
static void test_intx_raised_during_reset(void **state)
{
	struct fixture *f = *state;

	pci_root_reset(f->root);
	assert_true(pci_dev_irq_level(&f->a));
	assert_int_equal(f->fvm.irq_level[GSI_H], 1);
	pci_dev_set_irq(&f->a, false);
	assert_int_equal(f->fvm.irq_level[GSI_H], 0);
}

/* Two functions sharing PIRQH toggled from two threads while a third
 * rewrites the PIRQ routing and INTx Disable through config space: the
 * GSI and the PIC input end low, and every transition reached KVM in
 * order (the line's level is what the fake VM was last told). */
#define TOGGLES 20000

static void *toggler(void *arg)
{
	struct pci_dev *dev = arg;

	for (unsigned int i = 0; i < TOGGLES; i++)
		pci_dev_set_irq(dev, !(i & 1));
	pci_dev_set_irq(dev, false);
	return NULL;
}

static void test_intx_concurrent(void **state)
{
	struct fixture *f = *state;
	pthread_t ta, tb;

	assert_int_equal(pthread_create(&ta, NULL, toggler, &f->a), 0);
	assert_int_equal(pthread_create(&tb, NULL, toggler, &f->b), 0);
	for (unsigned int i = 0; i < 2000; i++) {
		/* PIRQH_ROUT: PIC IRQ 10 or 11, or not routed to the PIC. */
		static const uint8_t routes[] = { 0x0a, 0x0b, 0x80 };

		pci_cfg_write(f->root, 0, LPC_DEVFN, LPC_PIRQE_ROUT + 3, routes[i % 3], 1);
		pci_cfg_write(f->root, 0, PCI_DEVFN(7, 0), PCI_COMMAND,
			      i & 1 ? PCI_COMMAND_INTX_DISABLE : 0, 2);
	}
	pci_cfg_write(f->root, 0, PCI_DEVFN(7, 0), PCI_COMMAND, 0, 2);
	pci_cfg_write(f->root, 0, LPC_DEVFN, LPC_PIRQE_ROUT + 3, 0x0a, 1);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(f->fvm.irq_level[GSI_H], 0);
	assert_int_equal(f->fvm.irq_level[10], 0);
	assert_int_equal(f->fvm.irq_level[11], 0);
	/* And the line still works. */
	pci_dev_set_irq(&f->b, true);
	assert_int_equal(f->fvm.irq_level[GSI_H], 1);
	assert_int_equal(f->fvm.irq_level[10], 1);
	pci_dev_set_irq(&f->b, false);
	assert_int_equal(f->fvm.irq_level[GSI_H], 0);
	assert_int_equal(f->fvm.irq_level[10], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_wired_or),
		cmocka_unit_test(test_gsi_wired_or),
		cmocka_unit_test_setup_teardown(test_intx_raised_while_root_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_raised_during_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
