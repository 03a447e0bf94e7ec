// SPDX-License-Identifier: MIT
/*
 * GPU-facing details of passthrough, against the fake VFIO kernel: the
 * root port in front of a passed device reports the device's own PCIe link
 * (devices/pcie_port.c, devices/vfio/pci.c), and NVIDIA's mirrors of config
 * space in BAR0 are trapped and served by the virtual config space
 * (devices/vfio/quirks.c).
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

#define EXP	0x80		/* the fixture device's PCIe capability */
#define PEXP	PCIE_PORT_EXP_CAP
#define GPU_BAR0	(16u << 20)

static uint32_t port_rd(struct fx *f, unsigned int off, unsigned int len)
{
	return fx_rd(f, 0, f->port_devfn, off, len);
}

/* A x16 card at 16 GT/s, trained at 8 GT/s x8 right now, 2.5-16 GT/s. */
static void test_link_from_device(void **state)
{
	struct fx *f = fx_alloc();
	uint32_t lnkcap;

	fx_host(f);
	*state = f;
	pci_set16(f->d->config, EXP + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_ENDPOINT << 4);
	pci_set32(f->d->config, EXP + PCI_EXP_LNKCAP, 0x0040e000 | 16 << 4 | 4);
	pci_set16(f->d->config, EXP + PCI_EXP_LNKSTA, 8 << 4 | 3);
	pci_set32(f->d->config, EXP + PCI_EXP_LNKCAP2, 0x1e);
	fx_slot(f, "01:00.0");

	lnkcap = port_rd(f, PEXP + PCI_EXP_LNKCAP, 4);
	assert_int_equal(lnkcap & 0x3ff, 16 << 4 | 4);
	/* The port's own fields stay: port number 1, DLL Link Active
	 * reporting. */
	assert_int_equal(lnkcap >> 24, 1);
	assert_true(lnkcap & PCI_EXP_LNKCAP_DLLLARC);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKSTA, 2), PCI_EXP_LNKSTA_DLLLA | 8 << 4 | 3);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP2, 4), 0x1e);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCTL2, 2) & 0xf, 4);
	/* The device says the same in its own capability. */
	assert_int_equal(dev_rd(f, EXP + PCI_EXP_LNKCAP, 4) & 0x3ff, 16 << 4 | 4);
	assert_int_equal(dev_rd(f, EXP + PCI_EXP_LNKSTA, 2) & 0x3ff, 8 << 4 | 3);
	/* A reset of the hierarchy keeps it (it is the port's power-on
	 * value); the guest cannot write it. */
	fx_wr(f, 0, f->port_devfn, PEXP + PCI_EXP_LNKCAP, 0, 4);
	fx_wr(f, 0, f->port_devfn, PEXP + PCI_EXP_LNKSTA, 0, 2);
	pci_root_reset(f->root);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP, 4) & 0x3ff, 16 << 4 | 4);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKSTA, 2), PCI_EXP_LNKSTA_DLLLA | 8 << 4 | 3);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP2, 4), 0x1e);
}

/* A PCIe 2.x device (capability version 1, no LNKCAP2): the port's
 * supported speeds are every one up to the maximum; a link that reads as
 * down (width 0) shows the maximum. */
static void test_link_v1_device(void **state)
{
	struct fx *f = fx_alloc();

	fx_host(f);
	*state = f;
	pci_set16(f->d->config, EXP + PCI_EXP_FLAGS, 1 | PCI_EXP_TYPE_ENDPOINT << 4);
	pci_set32(f->d->config, EXP + PCI_EXP_LNKCAP, 4 << 4 | 2);
	pci_set16(f->d->config, EXP + PCI_EXP_LNKSTA, 0);
	pci_set32(f->d->config, EXP + PCI_EXP_LNKCAP2, 0xfe);	/* not a v2 register */
	fx_slot(f, "01:00.0");
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP, 4) & 0x3ff, 4 << 4 | 2);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKSTA, 2), PCI_EXP_LNKSTA_DLLLA | 4 << 4 | 2);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP2, 4), 0x06);
}

/* No link worth the name (the fixture's integrated endpoint gets x1
 * 2.5 GT/s; a width of 0 or 64): the port keeps x1 2.5 GT/s. */
static void test_link_default(void **state)
{
	struct fx *f = *state;
	struct pcie_port *port;

	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x11);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKSTA, 2), PCI_EXP_LNKSTA_DLLLA | 0x11);
	assert_int_equal(port_rd(f, PEXP + PCI_EXP_LNKCAP2, 4), 0x02);

	port = pcie_root_port_create(pci_root_bus(f->root), PCI_DEVFN(0x1c, 0), 9);
	assert_non_null(port);
	pcie_root_port_set_link(port, 0 << 4 | 3, 0, 0);	/* width 0 */
	pcie_root_port_set_link(port, 32u << 4 | 8, 0, 0);	/* speed 8 */
	pcie_root_port_set_link(port, 0x3f << 4 | 1, 0, 0);	/* x63 */
	assert_int_equal(fx_rd(f, 0, PCI_DEVFN(0x1c, 0), PEXP + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x11);
	/* A vector that forgets the maximum gets it. */
	pcie_root_port_set_link(port, 8 << 4 | 3, 8 << 4 | 1, 0x02);
	assert_int_equal(fx_rd(f, 0, PCI_DEVFN(0x1c, 0), PEXP + PCI_EXP_LNKCAP2, 4), 0x0a);
	assert_int_equal(fx_rd(f, 0, PCI_DEVFN(0x1c, 0), PEXP + PCI_EXP_LNKSTA, 2),
			 PCI_EXP_LNKSTA_DLLLA | 8 << 4 | 1);
	pcie_root_port_destroy(port);
}

/* ---- NVIDIA's BAR0 config mirrors --------------------------------------------- */

/* The fixture device as an NVIDIA GPU: 10de:1b80, VGA class, a 16 MiB
 * mmap-able BAR0 whose bytes are a pattern (what the real mirror holds). */
static struct fx *gpu_host(void **state, bool vga)
{
	struct fx *f = fx_alloc();
	struct fv_region *r;

	fx_host(f);
	*state = f;
	pci_set16(f->d->config, PCI_VENDOR_ID, 0x10de);
	pci_set16(f->d->config, PCI_DEVICE_ID, 0x1b80);
	pci_set16(f->d->config, PCI_CLASS_DEVICE, 0x0300);
	f->d->config[PCI_CLASS_PROG] = 0;
	pci_set32(f->d->config, PCI_BASE_ADDRESS_0, 0x0);	/* 32-bit memory */
	r = &f->d->regions[0];
	free(r->mem);
	fv_region_add(f->d, 0, GPU_BAR0, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	memset(r->mem, 0x5a, GPU_BAR0);
	if (vga)
		fv_region_add(f->d, VFIO_PCI_VGA_REGION_INDEX, 0xc0000,
			      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	fs_pci_add(&f->fs, FX_BDF, 0x10de, 0x1b80, 0x030000, FX_GROUP, "vfio-pci");
	{
		struct vfio_slot_config cfg = { .bdf = "01:00.0", .vga = vga };

		f->slot = vfio_slot_create(f->c, f->root, &cfg);
	}
	return f;
}

static void gpu_decode(struct fx *f)
{
	f->port_devfn = vfio_slot_port(f->slot)->devfn;
	fx_program_port(f);
	dev_wr(f, PCI_BASE_ADDRESS_0, FX_MEM_BASE, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
}

static uint32_t mmio_rd(struct fx *f, uint64_t off, unsigned int len)
{
	uint32_t v = 0;

	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + off, &v, len), 0);
	return v;
}

static void mmio_wr(struct fx *f, uint64_t off, uint64_t v, unsigned int len)
{
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + off, &v, len), 0);
}

static void test_nvidia_mirror(void **state)
{
	struct fx *f = gpu_host(state, false);
	struct fv_region *r;
	unsigned int cfg_writes;
	uint64_t q = 0;

	assert_non_null(f->slot);
	gpu_decode(f);
	r = &f->d->regions[0];
	/* The mirror's page is no memslot; the pages around it are. */
	assert_non_null(fx_slot_at(f, FX_MEM_BASE));
	assert_ptr_equal(fx_slot_at(f, FX_MEM_BASE)->hva, r->mem);
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE)->size, 0x2000);	/* MSI-X at 0x2000 */
	assert_non_null(fx_slot_at(f, FX_MEM_BASE + 0x89000));
	assert_ptr_equal(fx_slot_at(f, FX_MEM_BASE + 0x89000)->hva, r->mem + 0x89000);
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		struct fake_memslot *s = &f->vm.slots[i];

		if (s->used)
			assert_false(s->gpa < FX_MEM_BASE + 0x89000 &&
				     s->gpa + s->size > FX_MEM_BASE + 0x88000);
	}
	/* Reads: the virtual config space — the guest's BAR0, not the host's. */
	assert_int_equal(mmio_rd(f, 0x88000, 4), 0x1b8010de);
	assert_int_equal(mmio_rd(f, 0x88000 + PCI_BASE_ADDRESS_0, 4), FX_MEM_BASE);
	assert_int_equal(mmio_rd(f, 0x88000 + PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(f, 0x88000 + 0x148, 4), PCI_EXT_CAP_ID_DSN | 1 << 16);
	/* AER at 0x100 is hidden in the virtual space, and so in the mirror. */
	assert_int_not_equal(mmio_rd(f, 0x88000 + 0x100, 2), 0x0001);
	/* An 8-byte read: two config dwords. */
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x88000, &q, 8), 0);
	assert_int_equal((uint32_t)q, 0x1b8010de);
	assert_int_equal((uint32_t)(q >> 32), dev_rd(f, 4, 4));
	/* Writes: the virtual config space, never the real mirror. */
	mmio_wr(f, 0x88000 + PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, PCI_BASE_ADDRESS_0, 4), ~(GPU_BAR0 - 1));
	dev_wr(f, PCI_BASE_ADDRESS_0, FX_MEM_BASE, 4);
	assert_int_equal(r->mem[0x88010], 0x5a);
	/* The MSI capability's ID byte (the driver's MSI acknowledgement):
	 * to the virtual space (read-only there) and to the real mirror. */
	cfg_writes = f->d->cfg_writes;
	mmio_wr(f, 0x88000 + 0x50, 0xff, 1);
	assert_int_equal(r->mem[0x88050], 0xff);
	assert_int_equal(dev_rd(f, 0x50, 1), PCI_CAP_ID_MSI);
	assert_int_equal(f->d->cfg_writes, cfg_writes);
	/* A wider write that also covers Message Control: only the
	 * virtual space (the device's MSI Enable is minivmm's to set). */
	r->mem[0x88050] = 0x5a;
	mmio_wr(f, 0x88000 + 0x50, 0x000000ff, 4);
	assert_int_equal(mem32(r->mem, 0x88050), 0x5a5a5a5a);
	/* Any other mirror byte stays off the device. */
	mmio_wr(f, 0x88000 + 0x54, 0x12345678, 4);
	assert_int_equal(mem32(r->mem, 0x88054), 0x5a5a5a5a);
	/* The legacy mirror is not there without vga=on: 0x1800 is mapped. */
	assert_non_null(fx_slot_at(f, FX_MEM_BASE));
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE)->size, 0x2000);
}

/* vga=on: the 256-byte mirror at 0x1800 too; the rest of its page still
 * reaches the device (pread/pwrite). */
static void test_nvidia_legacy_mirror(void **state)
{
	struct fx *f = gpu_host(state, true);
	struct fv_region *r;

	assert_non_null(f->slot);
	gpu_decode(f);
	r = &f->d->regions[0];
	assert_non_null(fx_slot_at(f, FX_MEM_BASE));
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE)->size, 0x1000);
	assert_int_equal(mmio_rd(f, 0x1800, 4), 0x1b8010de);
	assert_int_equal(mmio_rd(f, 0x1800 + 0x10, 4), FX_MEM_BASE);
	assert_int_equal(mmio_rd(f, 0x1900, 4), 0x5a5a5a5a);	/* past the mirror */
	mmio_wr(f, 0x1904, 0x01020304, 4);
	assert_int_equal(mem32(r->mem, 0x1904), 0x01020304);
	mmio_wr(f, 0x1800 + 0x3c, 0x0b, 1);			/* Interrupt Line */
	assert_int_equal(dev_rd(f, 0x3c, 1), 0x0b);
	assert_int_equal(r->mem[0x183c], 0x5a);
	/* Straddling the mirror's end: dropped, as no device would answer. */
	assert_int_equal(mmio_rd(f, 0x18fe, 4), 0xffffffff);
	mmio_wr(f, 0x18fe, 0x01020304, 4);
	assert_int_equal(mem32(r->mem, 0x18fc), 0x5a5a5a5a);
	assert_int_equal(mem32(r->mem, 0x1900), 0x5a5a5a5a);
	assert_int_equal(mmio_rd(f, 0x88000, 4), 0x1b8010de);
}

/* Not NVIDIA, or NVIDIA but no display controller: BAR0 mapped whole. */
static void test_no_mirror_elsewhere(void **state)
{
	struct fx *f = gpu_host(state, false);

	vfio_slot_destroy(f->slot);
	f->d->config[PCI_CLASS_DEVICE + 1] = 0x04;	/* multimedia (HDMI audio) */
	f->slot = vfio_slot_create(f->c, f->root, &(struct vfio_slot_config){ .bdf = "01:00.0" });
	assert_non_null(f->slot);
	gpu_decode(f);
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE)->size, 0x2000);
	assert_non_null(fx_slot_at(f, FX_MEM_BASE + 0x4000));
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE + 0x4000)->size, GPU_BAR0 - 0x4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_link_from_device, fx_teardown),
		cmocka_unit_test_teardown(test_link_v1_device, fx_teardown),
		cmocka_unit_test_setup_teardown(test_link_default, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_nvidia_mirror, fx_teardown),
		cmocka_unit_test_teardown(test_nvidia_legacy_mirror, fx_teardown),
		cmocka_unit_test_teardown(test_no_mirror_elsewhere, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
