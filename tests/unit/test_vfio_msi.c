// SPDX-License-Identifier: MIT
/*
 * Interrupts of a passed function against the fake VFIO kernel: INTx
 * through a resampling irqfd on the swizzled GSI, MSI (multi-message,
 * per-vector masking, pending bits), the emulated MSI-X table and PBA,
 * KVM route updates, masking without losing interrupts, and the hand-over
 * between INTx, MSI and MSI-X.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/fake_vfio.h"
#include "tests/unit/fakesys/fakesys.h"
#include "tests/unit/vfio_fixture.h"

#define MSI	0x50		/* capability offsets of the fixture device */
#define MSIX	0x70
#define MSI_ADDR(apic)	(0xfee00000u | (apic) << 12)

static struct vfio_pci *vp(struct fx *f)
{
	return to_vfio(vfio_slot_function(f->slot, 0));
}

static struct fake_route *route(struct fx *f, int gsi)
{
	if (gsi < FAKE_VM_FIRST_MSI_GSI || gsi >= FAKE_VM_FIRST_MSI_GSI + FAKE_VM_MAX_ROUTES)
		return NULL;
	return &f->vm.routes[gsi - FAKE_VM_FIRST_MSI_GSI];
}

/* ---- INTx --------------------------------------------------------------------- */

static void test_intx(void **state)
{
	struct fx *f = *state;
	struct vfio_pci *v = vp(f);
	int gsi = FX_INTX_GSI(PCI_SLOT(f->port_devfn), 0);

	/* INTA of 01:00.0 behind the root port in slot 0x10: the port's
	 * INTA (swizzle with device 0), GSI from the router. */
	assert_int_equal(v->intx.gsi, gsi);
	assert_true(v->intx.enabled);
	assert_int_equal(f->d->trig_count[VFIO_PCI_INTX_IRQ_INDEX], 1);
	assert_int_equal(f->d->trig[VFIO_PCI_INTX_IRQ_INDEX][0], v->intx.efd);
	assert_int_equal(f->d->intx_unmask_fd, v->intx.resample_fd);
	assert_true(fx_irqfd(f, v->intx.efd, gsi));
	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++)
		if (f->vm.irqfds[i].used && f->vm.irqfds[i].fd == v->intx.efd)
			assert_int_equal(f->vm.irqfds[i].resample_fd, v->intx.resample_fd);
}

/* ---- MSI ---------------------------------------------------------------------- */

static void msi_program(struct fx *f, uint32_t addr, uint16_t data, uint32_t mask)
{
	dev_wr(f, MSI + 4, addr, 4);
	dev_wr(f, MSI + 8, 0, 4);
	dev_wr(f, MSI + 12, data, 2);
	dev_wr(f, MSI + 16, mask, 4);
}

static void test_msi(void **state)
{
	struct fx *f = *state;
	struct vfio_pci *v = vp(f);
	struct fake_route *r;
	uint32_t pending;

	msi_program(f, MSI_ADDR(1), 0x40, 0);
	/* Enable with 4 messages (MME = 2): INTx off, 4 VFIO vectors, one
	 * route per vector with the vector number in the low data bits. */
	dev_wr(f, MSI + 2, PCI_MSI_FLAGS_ENABLE | 2 << 4, 2);
	assert_false(v->intx.enabled);
	assert_int_equal(f->d->trig_count[VFIO_PCI_INTX_IRQ_INDEX], 0);
	assert_false(fx_irqfd(f, v->intx.efd, -1));
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 4);
	assert_int_equal(fx_nr_routes(f), 4);
	for (unsigned int i = 0; i < 4; i++) {
		r = route(f, v->msi.vec[i].gsi);
		assert_non_null(r);
		assert_int_equal(r->addr, MSI_ADDR(1));
		assert_int_equal(r->data, 0x40 + i);
		assert_int_equal(f->d->trig[VFIO_PCI_MSI_IRQ_INDEX][i], v->msi.vec[i].fd);
		assert_true(fx_irqfd(f, v->msi.vec[i].fd, v->msi.vec[i].gsi));
	}
	/* Mask vector 2: its irqfd goes; what the device sends meanwhile
	 * shows as pending, and the irqfd comes back on unmask (KVM then
	 * delivers the pending count). */
	dev_wr(f, MSI + 16, 1u << 2, 4);
	assert_false(fx_irqfd(f, v->msi.vec[2].fd, -1));
	assert_int_equal(dev_rd(f, MSI + 20, 4), 0);
	assert_true(fake_vfio_fire(f->d, VFIO_PCI_MSI_IRQ_INDEX, 2));
	pending = dev_rd(f, MSI + 20, 4);
	assert_int_equal(pending, 1u << 2);
	dev_wr(f, MSI + 16, 0, 4);
	assert_true(fx_irqfd(f, v->msi.vec[2].fd, v->msi.vec[2].gsi));
	assert_int_equal(f->vm.irqfd_injected, 1);
	assert_int_equal(dev_rd(f, MSI + 20, 4), 0);
	/* The guest retargets while enabled: routes updated in place. */
	dev_wr(f, MSI + 4, MSI_ADDR(3), 4);
	r = route(f, v->msi.vec[0].gsi);
	assert_int_equal(r->addr, MSI_ADDR(3));
	assert_true(r->updates >= 1);
	assert_int_equal(fx_nr_routes(f), 4);
	/* Disable: routes and irqfds gone, INTx back. */
	dev_wr(f, MSI + 2, 0, 2);
	assert_int_equal(fx_nr_routes(f), 0);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 0);
	assert_true(v->intx.enabled);
	assert_int_equal(f->vm.nr_irqfds, 1);
}

static void test_msi_mme_capped(void **state)
{
	struct fx *f = *state;

	/* MME 5 (32 messages) on a 4-capable function: 4 it is. */
	msi_program(f, MSI_ADDR(0), 0x30, 0);
	dev_wr(f, MSI + 2, PCI_MSI_FLAGS_ENABLE | 5 << 4, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 4);
	/* Switching MME while enabled starts over with the new count. */
	dev_wr(f, MSI + 2, PCI_MSI_FLAGS_ENABLE | 0 << 4, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 1);
	assert_int_equal(fx_nr_routes(f), 1);
}

/* ---- MSI-X -------------------------------------------------------------------- */

static void bar0_on(struct fx *f)
{
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, 0x14, 0, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void tbl_wr(struct fx *f, unsigned int entry, unsigned int dw, uint32_t v)
{
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2000 + entry * 16 + dw * 4, &v, 4), 0);
}

static uint32_t tbl_rd(struct fx *f, unsigned int entry, unsigned int dw)
{
	uint32_t v = 0;

	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x2000 + entry * 16 + dw * 4, &v, 4), 0);
	return v;
}

static uint64_t pba(struct fx *f)
{
	uint64_t v = 0;

	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x3000, &v, 8), 0);
	return v;
}

static void test_msix(void **state)
{
	struct fx *f = *state;
	struct vfio_pci *v = vp(f);
	struct fake_route *r;
	unsigned int injected;

	bar0_on(f);
	/* Reset state: every entry masked, all else 0. */
	assert_int_equal(tbl_rd(f, 3, 3), 1);
	assert_int_equal(tbl_rd(f, 3, 0), 0);
	/* Linux's order: enable with the function masked, program, unmask. */
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	assert_false(v->intx.enabled);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX], 8);
	assert_int_equal(fx_nr_routes(f), 0);
	for (unsigned int i = 0; i < 3; i++) {
		tbl_wr(f, i, 0, MSI_ADDR(i));
		tbl_wr(f, i, 1, 0);
		tbl_wr(f, i, 2, 0x50 + i);
		tbl_wr(f, i, 3, 0);
	}
	assert_int_equal(tbl_rd(f, 1, 2), 0x51);
	assert_int_equal(fx_nr_routes(f), 0);	/* the function is masked */
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(fx_nr_routes(f), 3);
	for (unsigned int i = 0; i < 3; i++) {
		r = route(f, v->msix.emu.vec[i].gsi);
		assert_non_null(r);
		assert_int_equal(r->addr, MSI_ADDR(i));
		assert_int_equal(r->data, 0x50 + i);
		assert_true(fx_irqfd(f, v->msix.emu.vec[i].fd, v->msix.emu.vec[i].gsi));
	}
	/* Mask entry 1; the device fires it: pending in the PBA, not lost. */
	tbl_wr(f, 1, 3, 1);
	assert_false(fx_irqfd(f, v->msix.emu.vec[1].fd, -1));
	assert_int_equal(pba(f), 0);
	assert_true(fake_vfio_fire(f->d, VFIO_PCI_MSIX_IRQ_INDEX, 1));
	assert_int_equal(pba(f), 1u << 1);
	/* The guest may retarget a masked entry; the route follows on unmask. */
	tbl_wr(f, 1, 0, MSI_ADDR(7));
	injected = f->vm.irqfd_injected;
	tbl_wr(f, 1, 3, 0);
	assert_int_equal(f->vm.irqfd_injected, injected + 1);	/* delivered on unmask */
	r = route(f, v->msix.emu.vec[1].gsi);
	assert_int_equal(r->addr, MSI_ADDR(7));
	assert_true(fx_irqfd(f, v->msix.emu.vec[1].fd, v->msix.emu.vec[1].gsi));
	assert_int_equal(pba(f), 0);	/* KVM owns the pending count now */
	/* Data change of an unmasked entry: updated in place, same GSI. */
	{
		int gsi = v->msix.emu.vec[0].gsi;
		unsigned int updates = route(f, gsi)->updates;

		tbl_wr(f, 0, 2, 0x77);
		assert_int_equal(v->msix.emu.vec[0].gsi, gsi);
		assert_int_equal(route(f, gsi)->data, 0x77);
		assert_int_equal(route(f, gsi)->updates, updates + 1);
	}
	/* Function mask: every irqfd off, routes kept. */
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	assert_int_equal(f->vm.nr_irqfds, 0);
	assert_int_equal(fx_nr_routes(f), 3);
	assert_true(fake_vfio_fire(f->d, VFIO_PCI_MSIX_IRQ_INDEX, 2));
	assert_int_equal(pba(f), 1u << 2);
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(f->vm.nr_irqfds, 3);
	/* Disable: all gone, INTx back. */
	dev_wr(f, MSIX + 2, 0, 2);
	assert_int_equal(fx_nr_routes(f), 0);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX], 0);
	assert_true(v->intx.enabled);
	assert_int_equal(f->vm.nr_irqfds, 1);
	/* The table keeps what the guest wrote. */
	assert_int_equal(tbl_rd(f, 2, 2), 0x52);
}

static void test_msix_qword_and_hostile(void **state)
{
	struct fx *f = *state;
	uint64_t q = (uint64_t)0x1 << 32 | MSI_ADDR(2);
	uint32_t v = 0;
	uint16_t w = 0;

	bar0_on(f);
	/* A qword write of address low + high. */
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2000 + 5 * 16, &q, 8), 0);
	assert_int_equal(tbl_rd(f, 5, 0), MSI_ADDR(2));
	assert_int_equal(tbl_rd(f, 5, 1), 1);
	q = 0;
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x2000 + 5 * 16, &q, 8), 0);
	assert_int_equal(q, (uint64_t)0x1 << 32 | MSI_ADDR(2));
	/* Unaligned or narrow accesses are dropped, reads all-ones. */
	v = 0x12345678;
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2000 + 5 * 16 + 2, &v, 4), 0);
	assert_int_equal(tbl_rd(f, 5, 0), MSI_ADDR(2));
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x2000, &w, 2), 0);
	assert_int_equal(w, 0xffff);
	/* Reserved Vector Control bits do not stick. */
	tbl_wr(f, 4, 3, 0xfffffffe);
	assert_int_equal(tbl_rd(f, 4, 3), 0);
	/* Past the 8 entries, still in the trapped page: the device. */
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x2000 + 8 * 16, &v, 4), 0);
	assert_int_equal(v, 0xb0002080);
	/* PBA writes are ignored. */
	q = ~0ULL;
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x3000, &q, 8), 0);
	assert_int_equal(pba(f), 0);
	assert_int_equal(mem32(f->d->regions[0].mem, 0x3000), 0xb0003000);
}

static void test_msix_wins_over_msi(void **state)
{
	struct fx *f = *state;

	bar0_on(f);
	msi_program(f, MSI_ADDR(0), 0x30, 0);
	dev_wr(f, MSI + 2, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 1);
	/* Enabling MSI-X on top: MSI is switched off in VFIO first (one
	 * index at a time), MSI-X takes over. */
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 0);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX], 8);
	/* MSI rewritten while MSI-X is on: ignored. */
	dev_wr(f, MSI + 2, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSI_IRQ_INDEX], 0);
}

static void test_msix_grows_when_short(void **state)
{
	struct fx *f = *state;
	struct vfio_pci *v = vp(f);

	bar0_on(f);
	/* A host that cannot give 8 vectors at once: limit the index to 2
	 * for the first attempt by making enable-all fail. */
	f->d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 2;
	tbl_wr(f, 0, 0, MSI_ADDR(0));
	tbl_wr(f, 0, 3, 0);
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_true(msix_enabled(&v->msix.emu));
	assert_int_equal(v->msix.hw_count, 1);
	assert_int_equal(fx_nr_routes(f), 1);
	/* Unmasking entry 1 grows VFIO's vectors (disable + enable for a
	 * NORESIZE index). */
	tbl_wr(f, 1, 0, MSI_ADDR(1));
	tbl_wr(f, 1, 3, 0);
	assert_int_equal(v->msix.hw_count, 2);
	assert_int_equal(f->d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX], 2);
	assert_int_equal(fx_nr_routes(f), 2);
	/* Entry 5: the host has no more; it stays silent, nothing breaks. */
	tbl_wr(f, 5, 0, MSI_ADDR(1));
	tbl_wr(f, 5, 3, 0);
	assert_int_equal(fx_nr_routes(f), 2);
	assert_false(fx_irqfd(f, v->msix.emu.vec[5].fd, -1));
}

static void test_reset_clears(void **state)
{
	struct fx *f = *state;
	struct vfio_pci *v = vp(f);

	bar0_on(f);
	tbl_wr(f, 0, 0, MSI_ADDR(0));
	tbl_wr(f, 0, 3, 0);
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(fx_nr_routes(f), 1);
	/* FLR: interrupts off, the table back to masked, INTx on again. */
	dev_wr(f, 0x80 + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR, 2);
	assert_int_equal(fx_nr_routes(f), 0);
	assert_false(msix_enabled(&v->msix.emu));
	assert_int_equal(dev_rd(f, MSIX + 2, 2), 7);
	assert_true(v->intx.enabled);
	assert_int_equal(f->vm.nr_irqfds, 1);
	bar0_on(f);
	assert_int_equal(tbl_rd(f, 0, 3), 1);
	assert_int_equal(tbl_rd(f, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intx, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msi, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msi_mme_capped, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msix, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msix_qword_and_hostile, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msix_wins_over_msi, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_msix_grows_when_short, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reset_clears, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
