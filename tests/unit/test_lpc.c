// SPDX-License-Identifier: MIT
/*
 * Unit tests for the ICH9 LPC bridge: identity, PMBASE/ACPI_EN moving
 * the real acpi_pm block on the port bus (OVMF's PlatformPei sequence),
 * PIRQ routing and the INTx -> GSI / PIC wiring, RCBA, APM_CNT, reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/pci.h"
#include "devices/q35/lpc.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define D31	LPC_DEVFN

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct acpi_pm *pm;
	struct lpc *lpc;
	struct pci_dev devs[4];
	unsigned int nr_devs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	f->root = pci_root_create(&f->fvm.ops, &f->pio, &f->mmio);
	assert_non_null(f->root);
	f->pm = acpi_pm_create(&f->fvm.ops, LAYOUT_SCI_GSI);
	assert_non_null(f->pm);
	assert_int_equal(acpi_pm_attach(f->pm, &f->pio, LAYOUT_PM_BASE), 0);
	f->lpc = lpc_create(f->root, &f->fvm.ops, &f->pio, &f->mmio, f->pm);
	assert_non_null(f->lpc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < f->nr_devs; i++)
		pci_dev_exit(&f->devs[i]);
	lpc_destroy(f->lpc);
	acpi_pm_destroy(f->pm);
	pci_root_destroy(f->root);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, unsigned int off, unsigned int len)
{
	uint32_t v;

	assert_int_equal(pci_cfg_read(f->root, 0, D31, off, &v, len), 0);
	return v;
}

static void wr(struct fixture *f, unsigned int off, uint32_t v, unsigned int len)
{
	assert_int_equal(pci_cfg_write(f->root, 0, D31, off, v, len), 0);
}

static bool port_decodes(struct fixture *f, uint16_t port)
{
	uint8_t b[4];

	return bus_read(&f->pio, port, b, 1) == 0;
}

static uint32_t port_rd(struct fixture *f, uint16_t port, unsigned int len)
{
	uint8_t b[4];

	assert_int_equal(bus_read(&f->pio, port, b, len), 0);
	return (uint32_t)bus_data_get(b, len);
}

static void port_wr(struct fixture *f, uint16_t port, uint32_t v, unsigned int len)
{
	uint8_t b[4];

	bus_data_put(b, len, v);
	assert_int_equal(bus_write(&f->pio, port, b, len), 0);
}

static struct pci_dev *add_dev(struct fixture *f, uint8_t devfn, uint8_t pin)
{
	struct pci_dev *d = &f->devs[f->nr_devs++];

	assert_int_equal(pci_dev_init(d, NULL, "intx", 0x1af4, 0x1000, 0x020000, 0,
				      PCI_HEADER_TYPE_NORMAL, false), 0);
	d->config[PCI_INTERRUPT_PIN] = pin;
	assert_int_equal(pci_bus_plug(pci_root_bus(f->root), d, devfn), 0);
	return d;
}

static void test_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, 0x00, 4), 0x29188086);
	assert_int_equal(rd(f, 0x08, 4), 0x06010002);
	assert_int_equal(rd(f, PCI_HEADER_TYPE, 1), 0x80);	/* multifunction */
	assert_int_equal(rd(f, LPC_PMBASE, 4), 0x00000001);
	assert_int_equal(rd(f, LPC_ACPI_CNTL, 1), 0);
	assert_int_equal(rd(f, LPC_LPC_EN, 1) & 1, 1);		/* COM1 decodes */
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(rd(f, LPC_PIRQA_ROUT + i, 1), 0x80);
		assert_int_equal(rd(f, LPC_PIRQE_ROUT + i, 1), 0x80);
	}
	assert_int_equal(rd(f, LPC_RCBA, 4), 0);
	/* Out of reset ACPI_EN = 0: the PM block is nowhere. */
	assert_false(port_decodes(f, 0x600));
	assert_true(port_decodes(f, LPC_APM_CNT));
}

static void test_pmbase_ovmf(void **state)
{
	struct fixture *f = *state;

	/* PlatformMiscInitialization: PciAndThenOr32(PMBASE), PCICMD.IOSE,
	 * ACPI_CNTL.ACPI_EN. */
	assert_int_equal(rd(f, LPC_ACPI_CNTL, 1) & LPC_ACPI_CNTL_ACPI_EN, 0);
	wr(f, LPC_PMBASE, (rd(f, LPC_PMBASE, 4) & ~0xff80u) | 0x600, 4);
	assert_false(port_decodes(f, 0x600));			/* not yet enabled */
	wr(f, PCI_COMMAND, rd(f, PCI_COMMAND, 1) | PCI_COMMAND_IO, 1);
	wr(f, LPC_ACPI_CNTL, rd(f, LPC_ACPI_CNTL, 1) | LPC_ACPI_CNTL_ACPI_EN, 1);
	assert_int_equal(rd(f, LPC_PMBASE, 4), 0x601);
	assert_true(port_decodes(f, 0x608));			/* PM1_TMR */
	/* BdsPlatform: IoOr16((PciRead32(PMBASE) & ~1) + 4, SCI_EN). */
	port_wr(f, (uint16_t)((rd(f, LPC_PMBASE, 4) & ~1u) + 4), 1, 2);
	assert_int_equal(port_rd(f, 0x604, 2) & 1, 1);

	/* Relocation keeps the registers; the old ports go away. */
	wr(f, LPC_PMBASE, 0xb000 | 0x7f, 4);			/* low bits read-only */
	assert_int_equal(rd(f, LPC_PMBASE, 4), 0xb001);
	assert_false(port_decodes(f, 0x600));
	assert_true(port_decodes(f, 0xb008));
	assert_int_equal(port_rd(f, 0xb004, 2) & 1, 1);
	/* Byte-wise update of the base. */
	wr(f, LPC_PMBASE + 1, 0x07, 1);
	assert_int_equal(rd(f, LPC_PMBASE, 4), 0x0701);
	assert_true(port_decodes(f, 0x0708));
	assert_false(port_decodes(f, 0xb000));
	/* Hostile: PMBASE over another device leaves it off, a later good
	 * value brings it back; base 0 decodes nothing. */
	wr(f, LPC_PMBASE, 0xc80, 4);				/* over 0xcf8-0xcff */
	assert_false(port_decodes(f, 0x708));
	assert_true(port_decodes(f, 0xcfc));
	wr(f, LPC_PMBASE, 0x600, 4);
	assert_true(port_decodes(f, 0x600));
	wr(f, LPC_PMBASE, 0, 4);
	assert_false(port_decodes(f, 0x0));
	wr(f, LPC_PMBASE, 0xffffffff, 4);
	assert_int_equal(rd(f, LPC_PMBASE, 4), 0xff81);
	assert_true(port_decodes(f, 0xff80));
	/* ACPI_EN off: gone. SCI_IRQ_SEL is read-only (IRQ 9). */
	wr(f, LPC_ACPI_CNTL, 0x07, 1);
	assert_int_equal(rd(f, LPC_ACPI_CNTL, 1), 0);
	assert_false(port_decodes(f, 0xff80));
	/* Reset: disabled again. */
	wr(f, LPC_PMBASE, 0x600, 4);
	wr(f, LPC_ACPI_CNTL, 0x80, 1);
	assert_true(port_decodes(f, 0x600));
	pci_root_reset(f->root);
	assert_false(port_decodes(f, 0x600));
	assert_int_equal(rd(f, LPC_PMBASE, 4), 1);
}

static void test_pirq_registers(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ovmf[4] = { 0x0a, 0x0a, 0x0b, 0x0b };

	/* PciAcpiInitialization. */
	for (unsigned int i = 0; i < 4; i++) {
		wr(f, LPC_PIRQA_ROUT + i, ovmf[i], 1);
		wr(f, LPC_PIRQE_ROUT + i, ovmf[i], 1);
	}
	assert_int_equal(rd(f, LPC_PIRQA_ROUT, 4), 0x0b0b0a0a);
	assert_int_equal(rd(f, LPC_PIRQE_ROUT, 4), 0x0b0b0a0a);
	/* Reserved bits 6:4 read as 0. */
	wr(f, LPC_PIRQA_ROUT, 0xffffffff, 4);
	assert_int_equal(rd(f, LPC_PIRQA_ROUT, 4), 0x8f8f8f8f);
	/* No PIC line moved without an interrupt pending. */
	for (unsigned int i = 0; i < 24; i++)
		assert_int_equal(f->fvm.irq_raises[i], 0);
}

static void test_slot_pirq_table(void **state)
{
	/* Slots 0-24 rotate over E-H, as OVMF's SetPciIntLine assumes. */
	assert_int_equal(lpc_slot_pirq(0, 0), 4);
	assert_int_equal(lpc_slot_pirq(1, 0), 5);
	assert_int_equal(lpc_slot_pirq(3, 0), 7);
	assert_int_equal(lpc_slot_pirq(3, 1), 4);
	assert_int_equal(lpc_slot_pirq(24, 3), 7);
	/* D25-D29, D31: A-D; D30: E-H. */
	assert_int_equal(lpc_slot_pirq(25, 0), 0);
	assert_int_equal(lpc_slot_pirq(29, 3), 3);
	assert_int_equal(lpc_slot_pirq(31, 1), 1);
	assert_int_equal(lpc_slot_pirq(30, 2), 6);
	assert_int_equal(lpc_slot_pirq(2, 7), lpc_slot_pirq(2, 3));
}

static void test_intx_wiring(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *a = add_dev(f, PCI_DEVFN(3, 0), 1);	/* INTA -> PIRQH, GSI 23 */
	struct pci_dev *b = add_dev(f, PCI_DEVFN(7, 0), 1);	/* (7+0)%4 = 3: PIRQH too */
	struct pci_dev *c = add_dev(f, PCI_DEVFN(31, 3), 2);	/* INTB -> PIRQB, GSI 17 */

	/* APIC side: always GSI 16 + PIRQ. */
	pci_dev_set_irq(a, true);
	assert_int_equal(f->fvm.irq_level[23], 1);
	pci_dev_set_irq(b, true);
	pci_dev_set_irq(a, false);
	assert_int_equal(f->fvm.irq_level[23], 1);	/* shared: b still asserts */
	pci_dev_set_irq(b, false);
	assert_int_equal(f->fvm.irq_level[23], 0);
	pci_dev_set_irq(c, true);
	assert_int_equal(f->fvm.irq_level[17], 1);
	/* PIC side: none while PIRQB_ROUT is disabled (0x80). */
	assert_int_equal(f->fvm.irq_raises[10], 0);
	/* Route PIRQB to IRQ 10 while asserted: the line follows. */
	wr(f, LPC_PIRQA_ROUT + 1, 0x0a, 1);
	assert_int_equal(f->fvm.irq_level[10], 1);
	/* Move to IRQ 11: 10 drops, 11 rises. */
	wr(f, LPC_PIRQA_ROUT + 1, 0x0b, 1);
	assert_int_equal(f->fvm.irq_level[10], 0);
	assert_int_equal(f->fvm.irq_level[11], 1);
	/* Reserved IRQs (0, 1, 2, 8, 13) reach nothing. */
	wr(f, LPC_PIRQA_ROUT + 1, 0x08, 1);
	assert_int_equal(f->fvm.irq_level[11], 0);
	assert_int_equal(f->fvm.irq_raises[8], 0);
	wr(f, LPC_PIRQA_ROUT + 1, 0x02, 1);
	assert_int_equal(f->fvm.irq_raises[2], 0);
	/* Two PIRQs on one IRQ: wired-OR. */
	wr(f, LPC_PIRQA_ROUT + 1, 0x0b, 1);
	wr(f, LPC_PIRQE_ROUT + 3, 0x0b, 1);
	pci_dev_set_irq(a, true);
	pci_dev_set_irq(c, false);
	assert_int_equal(f->fvm.irq_level[11], 1);
	assert_int_equal(f->fvm.irq_level[17], 0);
	pci_dev_set_irq(a, false);
	assert_int_equal(f->fvm.irq_level[11], 0);
	/* INTx Disable in the device masks it at the router. */
	pci_dev_set_irq(c, true);
	assert_int_equal(f->fvm.irq_level[11], 1);
	assert_int_equal(pci_cfg_write(f->root, 0, PCI_DEVFN(31, 3), PCI_COMMAND,
				       PCI_COMMAND_INTX_DISABLE, 2), 0);
	assert_int_equal(f->fvm.irq_level[17], 0);
	assert_int_equal(f->fvm.irq_level[11], 0);
	assert_int_equal(pci_cfg_write(f->root, 0, PCI_DEVFN(31, 3), PCI_COMMAND, 0, 2), 0);
	assert_int_equal(f->fvm.irq_level[17], 1);
	/* Reset lowers the PIC routes (PIRQx_ROUT back to 0x80). */
	pci_root_reset(f->root);
	assert_int_equal(f->fvm.irq_level[11], 0);
	assert_int_equal(f->fvm.irq_level[17], 1);
	pci_dev_set_irq(c, false);
	assert_int_equal(f->fvm.irq_level[17], 0);
}

static void test_rcba(void **state)
{
	struct fixture *f = *state;
	uint8_t b[4];

	assert_int_equal(f->mmio.nr_ranges, 0);
	/* PlatformMiscInitialization: RCBA = 0xFED1C000 | EN. */
	wr(f, LPC_RCBA, 0xfed1c001, 4);
	assert_int_equal(rd(f, LPC_RCBA, 4), 0xfed1c001);
	assert_int_equal(f->mmio.nr_ranges, 1);
	bus_data_put(b, 4, 0x12345678);
	assert_int_equal(bus_write(&f->mmio, 0xfed1f410, b, 4), 0);
	assert_int_equal(bus_read(&f->mmio, 0xfed1f412, b, 2), 0);
	assert_int_equal(bus_data_get(b, 2), 0x1234);
	assert_int_not_equal(bus_read(&f->mmio, 0xfed20000, b, 4), 0);
	/* Bits 13:1 read-only. */
	wr(f, LPC_RCBA, 0xffffffff, 4);
	assert_int_equal(rd(f, LPC_RCBA, 4), 0xffffc001);
	assert_int_equal(f->mmio.nr_ranges, 1);
	assert_int_equal(bus_read(&f->mmio, 0xffffc000 + 0x3410, b, 2), 0);
	assert_int_equal(bus_data_get(b, 2), 0x5678);	/* contents kept */
	wr(f, LPC_RCBA, 0xfed1c000, 4);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* Reset clears it. */
	wr(f, LPC_RCBA, 0xfed1c001, 4);
	pci_root_reset(f->root);
	assert_int_equal(f->mmio.nr_ranges, 0);
	wr(f, LPC_RCBA, 0xfed1c001, 4);
	bus_read(&f->mmio, 0xfed1f410, b, 4);
	assert_int_equal(bus_data_get(b, 4), 0);
}

static void test_apm(void **state)
{
	struct fixture *f = *state;

	wr(f, LPC_PMBASE, 0x600, 4);
	wr(f, LPC_ACPI_CNTL, LPC_ACPI_CNTL_ACPI_EN, 1);
	assert_int_equal(port_rd(f, 0x604, 2) & 1, 0);
	/* OSPM: write FADT.ACPI_ENABLE to SMI_CMD, poll SCI_EN. */
	port_wr(f, LPC_APM_CNT, LPC_APM_ACPI_ENABLE, 1);
	assert_int_equal(port_rd(f, 0x604, 2) & 1, 1);
	assert_int_equal(port_rd(f, LPC_APM_CNT, 1), LPC_APM_ACPI_ENABLE);
	port_wr(f, LPC_APM_CNT, LPC_APM_ACPI_DISABLE, 1);
	assert_int_equal(port_rd(f, 0x604, 2) & 1, 0);
	/* APM_STS is a scratch byte; a word write covers both. */
	port_wr(f, LPC_APM_STS, 0x5a, 1);
	assert_int_equal(port_rd(f, LPC_APM_CNT, 2), 0x5a03);
	port_wr(f, LPC_APM_CNT, 0xa502, 2);
	assert_int_equal(port_rd(f, LPC_APM_CNT, 2), 0xa502);
	assert_int_equal(port_rd(f, 0x604, 2) & 1, 1);
}

static void test_create_errors(void **state)
{
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct lpc *lpc;
	struct acpi_pm *pm;

	fake_vm_init(&fvm);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	root = pci_root_create(&fvm.ops, &pio, &mmio);
	assert_non_null(root);
	/* No PM block at all is fine (the PM register decode is a no-op);
	 * a second bridge cannot take 0xB2 or 00:1F.0. */
	lpc = lpc_create(root, &fvm.ops, &pio, &mmio, NULL);
	assert_non_null(lpc);
	assert_null(lpc_create(root, &fvm.ops, &pio, &mmio, NULL));
	assert_int_equal(errno, EEXIST);
	assert_null(lpc_create(root, &fvm.ops, NULL, &mmio, NULL));
	assert_int_equal(errno, EBUSY);
	assert_int_equal(pci_cfg_write(root, 0, D31, LPC_ACPI_CNTL, 0x80, 1), 0);
	assert_int_equal(pci_cfg_write(root, 0, D31, LPC_PMBASE, 0x600, 4), 0);
	lpc_destroy(lpc);
	/* A PM block that was never attached: the LPC still comes up. */
	pm = acpi_pm_create(&fvm.ops, 9);
	lpc = lpc_create(root, &fvm.ops, &pio, &mmio, pm);
	assert_non_null(lpc);
	assert_int_equal(pci_cfg_write(root, 0, D31, LPC_ACPI_CNTL, 0x80, 1), 0);
	assert_int_equal(pci_cfg_write(root, 0, D31, LPC_PMBASE, 0x600, 4), 0);
	lpc_destroy(lpc);
	acpi_pm_destroy(pm);
	pci_root_destroy(root);
	assert_int_equal(pio.nr_ranges, 0);
	bus_exit(&pio);
	bus_exit(&mmio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_identity),
		T(test_pmbase_ovmf),
		T(test_pirq_registers),
		cmocka_unit_test(test_slot_pirq_table),
		T(test_intx_wiring),
		T(test_rcba),
		T(test_apm),
		cmocka_unit_test(test_create_errors),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("lpc", tests, NULL, NULL);
}
