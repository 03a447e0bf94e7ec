/* SPDX-License-Identifier: MIT */
/*
 * The machine the VFIO unit tests share: a fake sysfs with the device in
 * IOMMU group 7 on vfio-pci, a fake VFIO kernel with an NVMe-like
 * function, a PCI root with an INTx router, the fake VM, and the slot
 * (root port + function) vfio_slot_create builds. Included by
 * test_vfio_*.c after cmocka.h, fakesys.c and fake_vfio.c.
 *
 * The function (0000:01:00.0, 1b36:0010, class 010802):
 *   BAR0  16 KiB 64-bit memory, mmap: MSI-X table at 0x2000, PBA 0x3000
 *   BAR2  32 B I/O;  BAR4  256 B memory (smaller than a page);  ROM 64 KiB
 *   caps  PM 0x40 -> MSI 0x50 (64-bit, per-vector mask, 4 vectors) ->
 *         MSI-X 0x70 (8) -> PCIe 0x80 (v2, integrated endpoint, FLR) ->
 *         VPD 0xc0 (hidden) -> vendor 0xd0;  0xe0-0xff: device registers
 *   ext   AER 0x100 (hidden) -> DSN 0x148
 *   IRQs  INTx (pin A), MSI 4, MSI-X 8 (NORESIZE); FLR-capable
 */
#ifndef MINIVMM_TEST_VFIO_FIXTURE_H
#define MINIVMM_TEST_VFIO_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/pcie_port.h"
#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "devices/vfio/vfio.h"
#include "tests/unit/fake_vm.h"

#define FX_BDF		"0000:01:00.0"
#define FX_GROUP	7
#define FX_BUS		1		/* secondary bus we give the root port */
#define FX_MEM_BASE	0xc0000000u	/* its memory window: 0xc0000000-0xdfffffff */
#define FX_IO_BASE	0x1000u
#define FX_INTX_GSI(slot, pin)	(16 + ((slot) + (pin)) % 8)

struct fx {
	struct fakesys fs;
	struct fake_vfio fv;
	struct fake_vm vm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct vfio_container *c;
	struct vfio_slot *slot;
	struct fv_dev *d;
	uint8_t port_devfn;
	struct guest_mem mem;
	uint8_t ram[4096] __attribute__((aligned(4096)));
};

static __attribute__((unused)) int fx_intx_gsi(void *opaque, uint8_t slot, unsigned int pin)
{
	return FX_INTX_GSI(slot, pin);
}

static __attribute__((unused)) void fx_intx_change(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
}

static __attribute__((unused)) void fx_fill_device(struct fv_dev *d)
{
	uint8_t *c = d->config;

	pci_set16(c, PCI_VENDOR_ID, 0x1b36);
	pci_set16(c, PCI_DEVICE_ID, 0x0010);
	pci_set16(c, PCI_STATUS, PCI_STATUS_CAP_LIST | 0x0200);
	c[PCI_REVISION_ID] = 2;
	c[PCI_CLASS_PROG] = 0x02;
	pci_set16(c, PCI_CLASS_DEVICE, 0x0108);
	pci_set32(c, PCI_BASE_ADDRESS_0, 0x4);		/* 64-bit memory */
	pci_set32(c, PCI_BASE_ADDRESS_0 + 8, 0x1);	/* BAR2: I/O */
	pci_set32(c, PCI_BASE_ADDRESS_0 + 16, 0x0);	/* BAR4: 32-bit memory */
	pci_set16(c, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	pci_set16(c, PCI_SUBSYSTEM_ID, 0x1234);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[PCI_INTERRUPT_PIN] = 1;
	/* PM: D1/D2 and PME support, No_Soft_Reset */
	c[0x40] = PCI_CAP_ID_PM; c[0x41] = 0x50;
	pci_set16(c, 0x42, 0xfe03);
	pci_set16(c, 0x44, 0x0008);
	/* MSI: 64-bit, per-vector masking, 4 vectors capable */
	c[0x50] = PCI_CAP_ID_MSI; c[0x51] = 0x70;
	pci_set16(c, 0x52, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);
	/* MSI-X: 8 entries, table BAR0+0x2000, PBA BAR0+0x3000 */
	c[0x70] = PCI_CAP_ID_MSIX; c[0x71] = 0x80;
	pci_set16(c, 0x72, 7);
	pci_set32(c, 0x74, 0x2000);
	pci_set32(c, 0x78, 0x3000);
	/* PCIe v2, integrated endpoint, FLR, MRRS 512 / MPS 256 */
	c[0x80] = PCI_CAP_ID_EXP; c[0x81] = 0xc0;
	pci_set16(c, 0x82, 2 | PCI_EXP_TYPE_RC_END << 4);
	pci_set32(c, 0x84, PCI_EXP_DEVCAP_FLR | PCI_EXP_DEVCAP_RBER);
	pci_set16(c, 0x88, 0x2830);
	/* VPD (hidden), vendor-specific (kept) */
	c[0xc0] = PCI_CAP_ID_VPD; c[0xc1] = 0xd0;
	pci_set16(c, 0xc2, 0x1234);
	c[0xd0] = PCI_CAP_ID_VNDR; c[0xd1] = 0; c[0xd2] = 8;
	pci_set32(c, 0xd4, 0xcafe0001);
	memset(c + 0xe0, 0xab, 0x20);
	/* extended: AER at 0x100 -> DSN at 0x148 */
	pci_set32(c, 0x100, 0x0001 | 1 << 16 | 0x148 << 20);
	pci_set32(c, 0x104, 0xffffffff);
	pci_set32(c, 0x148, PCI_EXT_CAP_ID_DSN | 1 << 16);
	pci_set32(c, 0x14c, 0x55667788);
	pci_set32(c, 0x150, 0x11223344);

	fv_region_add(d, 0, 16384, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fv_region_add(d, 2, 32, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	fv_region_add(d, 4, 256, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fv_region_add(d, VFIO_PCI_ROM_REGION_INDEX, 65536, VFIO_REGION_INFO_FLAG_READ);
	d->regions[VFIO_PCI_ROM_REGION_INDEX].mem[0] = 0x55;
	d->regions[VFIO_PCI_ROM_REGION_INDEX].mem[1] = 0xaa;
	d->regions[VFIO_PCI_ROM_REGION_INDEX].mem[2] = 0x80;	/* 64 KiB image */
	for (uint32_t i = 0; i < 16384; i += 4) {
		uint32_t v = 0xb0000000u | i;

		memcpy(d->regions[0].mem + i, &v, 4);	/* pci_set32 stops at 4 KiB */
	}
	d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	d->irq_flags[VFIO_PCI_INTX_IRQ_INDEX] = VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
	d->irq_flags[VFIO_PCI_MSI_IRQ_INDEX] = VFIO_IRQ_INFO_NORESIZE;
	d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 8;
	d->irq_flags[VFIO_PCI_MSIX_IRQ_INDEX] = VFIO_IRQ_INFO_NORESIZE;
	d->has_reset = true;
}

/* Everything but the slot: the test may change the host first. */
static __attribute__((unused)) void fx_host(struct fx *f)
{
	struct pci_intx_router router = {
		.intx_change = fx_intx_change, .intx_gsi = fx_intx_gsi,
	};

	fs_setup(&f->fs);
	fs_write(&f->fs, "proc/self/limits",
		 "Max locked memory         unlimited            unlimited            bytes\n");
	fs_pci_add(&f->fs, FX_BDF, 0x1b36, 0x0010, 0x010802, FX_GROUP, "vfio-pci");
	fake_vfio_init(&f->fv);
	f->d = fake_vfio_add_dev(&f->fv, FX_BDF, FX_GROUP, 4096);
	fx_fill_device(f->d);
	fake_vm_init(&f->vm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	f->root = pci_root_create(&f->vm.ops, &f->pio, &f->mmio);
	assert_non_null(f->root);
	pci_root_set_intx_router(f->root, &router);
	f->c = vfio_container_create(&f->fv.ops, &f->vm.ops, f->fs.sys);
	assert_non_null(f->c);
	f->c->env = f->fs.env;
	/* guest RAM: one small region for DMA map tests */
	f->mem.base = f->ram;
	f->mem.ram_size = sizeof(f->ram);
	f->mem.regions[0] = (struct mem_region){ 0, sizeof(f->ram), 0, "ram" };
	f->mem.nr_regions = 1;
}

static __attribute__((unused)) uint32_t fx_rd(struct fx *f, uint8_t bus, uint8_t devfn, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	pci_cfg_read(f->root, bus, devfn, off, &v, len);
	return v;
}

static __attribute__((unused)) void fx_wr(struct fx *f, uint8_t bus, uint8_t devfn, unsigned int off, uint32_t v,
		  unsigned int len)
{
	pci_cfg_write(f->root, bus, devfn, off, v, len);
}

/* Config of the passed function (bus FX_BUS, devfn 0). */
static __attribute__((unused)) uint32_t dev_rd(struct fx *f, unsigned int off, unsigned int len)
{
	return fx_rd(f, FX_BUS, 0, off, len);
}

static __attribute__((unused)) void dev_wr(struct fx *f, unsigned int off, uint32_t v, unsigned int len)
{
	fx_wr(f, FX_BUS, 0, off, v, len);
}

/* Program the root port as firmware would: bus 1, windows, decode on. */
static __attribute__((unused)) void fx_program_port(struct fx *f)
{
	uint8_t p = f->port_devfn;

	fx_wr(f, 0, p, PCI_PRIMARY_BUS, 0, 1);
	fx_wr(f, 0, p, PCI_SECONDARY_BUS, FX_BUS, 1);
	fx_wr(f, 0, p, PCI_SUBORDINATE_BUS, FX_BUS, 1);
	fx_wr(f, 0, p, PCI_MEMORY_BASE, FX_MEM_BASE >> 16, 2);
	fx_wr(f, 0, p, PCI_MEMORY_LIMIT, 0xdff0, 2);
	fx_wr(f, 0, p, PCI_IO_BASE, FX_IO_BASE >> 8, 1);
	fx_wr(f, 0, p, PCI_IO_LIMIT, 0x10, 1);
	fx_wr(f, 0, p, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static __attribute__((unused)) void fx_slot(struct fx *f, const char *bdf)
{
	struct vfio_slot_config cfg = { .bdf = bdf };

	f->slot = vfio_slot_create(f->c, f->root, &cfg);
	assert_non_null(f->slot);
	f->port_devfn = vfio_slot_port(f->slot)->devfn;
	fx_program_port(f);
}

/* struct fx holds page-aligned RAM: calloc does not align that much. */
static __attribute__((unused)) struct fx *fx_alloc(void)
{
	struct fx *f = aligned_alloc(4096, (sizeof(*f) + 4095) & ~(size_t)4095);

	if (f)
		memset(f, 0, sizeof(*f));
	return f;
}

static __attribute__((unused)) int fx_setup(void **state)
{
	struct fx *f = fx_alloc();

	if (!f)
		return -1;
	fx_host(f);
	fx_slot(f, "01:00.0");
	*state = f;
	return 0;
}

static __attribute__((unused)) int fx_teardown(void **state)
{
	struct fx *f = *state;

	vfio_slot_destroy(f->slot);
	vfio_container_destroy(f->c);
	pci_root_destroy(f->root);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	fake_vfio_exit(&f->fv);
	fs_teardown(&f->fs);
	free(f);
	return 0;
}

/* The memslot at gpa, or NULL. */
static __attribute__((unused)) uint32_t mem32(const uint8_t *p, uint64_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static __attribute__((unused)) struct fake_memslot *fx_slot_at(struct fx *f, uint64_t gpa)
{
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		if (f->vm.slots[i].used && f->vm.slots[i].gpa == gpa)
			return &f->vm.slots[i];
	return NULL;
}

static __attribute__((unused)) unsigned int fx_nr_slots(struct fx *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		n += f->vm.slots[i].used != 0;
	return n;
}

/* Is fd assigned as an irqfd (to gsi, if gsi >= 0)? */
static __attribute__((unused)) bool fx_irqfd(struct fx *f, int fd, int gsi)
{
	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++)
		if (f->vm.irqfds[i].used && f->vm.irqfds[i].fd == fd &&
		    (gsi < 0 || f->vm.irqfds[i].gsi == (unsigned int)gsi))
			return true;
	return false;
}

static __attribute__((unused)) unsigned int fx_nr_routes(struct fx *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		n += f->vm.routes[i].used != 0;
	return n;
}

#endif
