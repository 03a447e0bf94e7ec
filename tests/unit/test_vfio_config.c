// SPDX-License-Identifier: MIT
/*
 * VFIO passthrough against a fake VFIO kernel: the container and group
 * checks, the virtual config space (header, capability filtering, what
 * reaches the device), BAR sizing and relocation (memslots follow the
 * guest), trapped BAR parts, the ROM BAR, resets, multi-function slots.
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

/* ---- header and capabilities ------------------------------------------------- */

static void test_header(void **state)
{
	struct fx *f = *state;
	uint8_t p = f->port_devfn;

	/* The root port: QEMU's pcie-root-port IDs, a bridge, PCIe Root Port. */
	assert_int_equal(fx_rd(f, 0, p, PCI_VENDOR_ID, 4), 0x000c1b36);
	assert_int_equal(fx_rd(f, 0, p, PCI_CLASS_DEVICE, 2), 0x0604);
	assert_int_equal(fx_rd(f, 0, p, PCI_HEADER_TYPE, 1), 1);
	assert_int_equal(PCI_SLOT(p), 0x10);
	assert_int_equal(fx_rd(f, 0, p, PCIE_PORT_EXP_CAP, 1), PCI_CAP_ID_EXP);
	assert_int_equal((fx_rd(f, 0, p, PCIE_PORT_EXP_CAP + PCI_EXP_FLAGS, 2) >> 4) & 0xf,
			 PCI_EXP_TYPE_ROOT_PORT);
	assert_true(fx_rd(f, 0, p, PCIE_PORT_EXP_CAP + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);

	/* The function behind it: the device's identity, our header. */
	assert_int_equal(dev_rd(f, PCI_VENDOR_ID, 4), 0x00101b36);
	assert_int_equal(dev_rd(f, PCI_CLASS_PROG, 1), 0x02);
	assert_int_equal(dev_rd(f, PCI_CLASS_DEVICE, 2), 0x0108);
	assert_int_equal(dev_rd(f, PCI_REVISION_ID, 1), 2);
	assert_int_equal(dev_rd(f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x12348086);
	assert_int_equal(dev_rd(f, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(dev_rd(f, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(dev_rd(f, PCI_COMMAND, 2), 0);
	assert_true(dev_rd(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* Nothing at other functions or slots of the secondary bus. */
	assert_int_equal(fx_rd(f, FX_BUS, PCI_DEVFN(0, 1), 0, 4), 0xffffffff);
	assert_int_equal(fx_rd(f, FX_BUS, PCI_DEVFN(1, 0), 0, 4), 0xffffffff);
}

static void test_capability_list(void **state)
{
	struct fx *f = *state;
	static const uint8_t want[][2] = {
		{ 0x40, PCI_CAP_ID_PM }, { 0x50, PCI_CAP_ID_MSI }, { 0x70, PCI_CAP_ID_MSIX },
		{ 0x80, PCI_CAP_ID_EXP }, { 0xd0, PCI_CAP_ID_VNDR },
	};
	unsigned int off = dev_rd(f, PCI_CAPABILITY_LIST, 1), n = 0;

	for (; off && n < 16; n++) {
		assert_true(n < 5);
		assert_int_equal(off, want[n][0]);
		assert_int_equal(dev_rd(f, off, 1), want[n][1]);
		off = dev_rd(f, off + 1, 1);
	}
	assert_int_equal(n, 5);
	/* VPD is cut out: its bytes read 0 and writes stay here. */
	assert_int_equal(dev_rd(f, 0xc0, 4), 0);
	f->d->cfg_writes = 0;
	dev_wr(f, 0xc2, 0x8000, 2);
	assert_int_equal(f->d->cfg_writes, 0);
	assert_int_equal(pci_get16(f->d->config, 0xc2), 0x1234);
	/* PM: no PME support advertised, D0, No_Soft_Reset kept; the power
	 * state is the guest's view only. */
	assert_int_equal(dev_rd(f, 0x42, 2), 0x0603);
	assert_int_equal(dev_rd(f, 0x44, 2), PCI_PM_CTRL_NO_SOFT_RESET);
	dev_wr(f, 0x44, 3, 2);
	assert_int_equal(dev_rd(f, 0x44, 2) & 3, 3);
	assert_int_equal(pci_get16(f->d->config, 0x44), 0x0008);
	/* MSI: 4 vectors capable, disabled, 64-bit and maskable. */
	assert_int_equal(dev_rd(f, 0x52, 2), PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);
	/* MSI-X: 8 entries, table/PBA where the device has them. */
	assert_int_equal(dev_rd(f, 0x72, 2), 7);
	assert_int_equal(dev_rd(f, 0x74, 4), 0x2000);
	assert_int_equal(dev_rd(f, 0x78, 4), 0x3000);
	dev_wr(f, 0x74, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, 0x74, 4), 0x2000);
	/* PCIe: an integrated endpoint behind a root port is an endpoint
	 * with a link. */
	assert_int_equal(dev_rd(f, 0x82, 2), 2);
	assert_int_equal(dev_rd(f, 0x80 + PCI_EXP_LNKCAP, 4), 0x11);
	/* Vendor capability: read-only copy. */
	assert_int_equal(dev_rd(f, 0xd4, 4), 0xcafe0001);
	dev_wr(f, 0xd4, 0, 4);
	assert_int_equal(dev_rd(f, 0xd4, 4), 0xcafe0001);
}

static void test_extended_caps(void **state)
{
	struct fx *f = *state;
	uint32_t hdr = dev_rd(f, 0x100, 4);

	/* AER is hidden: a null capability at 0x100 leads to the DSN. */
	assert_int_equal(PCI_EXT_CAP_ID(hdr), 0);
	assert_int_equal(PCI_EXT_CAP_NEXT(hdr), 0x148);
	hdr = dev_rd(f, 0x148, 4);
	assert_int_equal(PCI_EXT_CAP_ID(hdr), PCI_EXT_CAP_ID_DSN);
	assert_int_equal(PCI_EXT_CAP_NEXT(hdr), 0);
	assert_int_equal(dev_rd(f, 0x14c, 4), 0x55667788);
	assert_int_equal(dev_rd(f, 0x104, 4), 0);
	f->d->cfg_writes = 0;
	dev_wr(f, 0x104, 0, 4);
	assert_int_equal(f->d->cfg_writes, 0);
	assert_int_equal(pci_get32(f->d->config, 0x104), 0xffffffff);
}

static void test_device_registers_pass(void **state)
{
	struct fx *f = *state;

	/* 0xe0-0xff is outside every capability: the device's own. */
	assert_int_equal(dev_rd(f, 0xe0, 4), 0xabababab);
	dev_wr(f, 0xe4, 0x12345678, 4);
	assert_int_equal(pci_get32(f->d->config, 0xe4), 0x12345678);
	assert_int_equal(dev_rd(f, 0xe4, 2), 0x5678);
	dev_wr(f, 0xe9, 0x77, 1);
	assert_int_equal(f->d->config[0xe9], 0x77);
	assert_int_equal(f->d->config[0xe8], 0xab);
}

static void test_devctl_and_flr(void **state)
{
	struct fx *f = *state;
	unsigned int devctl = 0x80 + PCI_EXP_DEVCTL, resets = f->d->resets;

	/* The guest sees the host's values; its writes stay virtual. */
	assert_int_equal(dev_rd(f, devctl, 2), 0x2830);
	dev_wr(f, devctl, 0x5000, 2);
	assert_int_equal(dev_rd(f, devctl, 2), 0x5000);
	assert_int_equal(pci_get16(f->d->config, 0x88), 0x2830);
	/* Initiate FLR: a VFIO reset, the config back to reset values, the
	 * bit reads 0, the BAR memslots gone, DMA off in the device at once
	 * (its decode goes off with the guest's next COMMAND write). */
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_int_equal(fx_nr_slots(f), 1);
	dev_wr(f, devctl, PCI_EXP_DEVCTL_BCR_FLR, 2);
	assert_int_equal(f->d->resets, resets + 1);
	assert_int_equal(dev_rd(f, PCI_COMMAND, 2), 0);
	assert_int_equal(dev_rd(f, 0x10, 4), 0x4);
	assert_int_equal(dev_rd(f, devctl, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0);
	assert_int_equal(fx_nr_slots(f), 0);
	assert_int_equal(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MASTER, 0);
	dev_wr(f, PCI_COMMAND, 0, 2);
	assert_int_equal(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MEMORY, 0);
}

/* Found by fuzz_vfio (tests/fuzz/corpus/vfio/crash-flr-without-capability):
 * Initiate FLR reset a function whose Device Capabilities have no FLR,
 * for which the bit is RsvdP (PCIe 4.0 §7.5.3.4). */
static void test_flr_needs_capability(void **state)
{
	struct fx *f = fx_alloc();
	unsigned int devctl = 0x80 + PCI_EXP_DEVCTL, resets;

	*state = f;
	fx_host(f);
	pci_set32(f->d->config, 0x84, PCI_EXP_DEVCAP_RBER);
	fx_slot(f, "01:00.0");
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	resets = f->d->resets + f->d->hot_resets;
	f->d->nr_cfg_log = 0;
	dev_wr(f, devctl, PCI_EXP_DEVCTL_BCR_FLR | 0x2000, 2);
	assert_int_equal(f->d->resets + f->d->hot_resets, resets);
	assert_int_equal(f->d->nr_cfg_log, 0);
	assert_int_equal(dev_rd(f, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(dev_rd(f, devctl, 2), 0x2000);
	assert_int_equal(fx_nr_slots(f), 1);
}

/* ---- BARs -------------------------------------------------------------------------- */

static void test_bar_sizing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dev_rd(f, 0x10, 4), 0x4);
	dev_wr(f, 0x10, 0xffffffff, 4);
	dev_wr(f, 0x14, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, 0x10, 4), 0xffffc004);	/* 16 KiB, 64-bit */
	assert_int_equal(dev_rd(f, 0x14, 4), 0xffffffff);
	dev_wr(f, 0x18, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, 0x18, 4), 0xffffffe1);	/* 32 B I/O */
	dev_wr(f, 0x1c, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, 0x1c, 4), 0);		/* none */
	dev_wr(f, 0x20, 0xffffffff, 4);
	assert_int_equal(dev_rd(f, 0x20, 4), 0xffffff00);	/* 256 B */
	dev_wr(f, PCI_ROM_ADDRESS, 0xfffff800, 4);
	assert_int_equal(dev_rd(f, PCI_ROM_ADDRESS, 4), 0xffff0000);	/* 64 KiB */
	/* The device's own BARs never see the guest's values. */
	assert_int_equal(pci_get32(f->d->config, 0x10), 0x4);
}

static void test_bar_relocation(void **state)
{
	struct fx *f = *state;
	struct fake_memslot *s;
	uint32_t v = 0;

	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, 0x14, 0, 4);
	assert_int_equal(fx_nr_slots(f), 0);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	/* Decode on in the device too. */
	assert_true(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	/* BAR0: the first 8 KiB are a memslot on the mmap; the MSI-X table
	 * and PBA pages are trapped. */
	s = fx_slot_at(f, FX_MEM_BASE);
	assert_non_null(s);
	assert_int_equal(s->size, 0x2000);
	assert_ptr_equal(s->hva, f->d->regions[0].mem);
	assert_int_equal(s->flags, 0);
	assert_null(fx_slot_at(f, FX_MEM_BASE + 0x2000));
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x3000, &v, 4), 0);
	assert_int_equal(v, 0);	/* PBA: nothing pending */
	/* The guest moves it: the memslot follows. */
	dev_wr(f, 0x10, FX_MEM_BASE + 0x100000, 4);
	assert_null(fx_slot_at(f, FX_MEM_BASE));
	s = fx_slot_at(f, FX_MEM_BASE + 0x100000);
	assert_non_null(s);
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x3000, &v, 4), -ENOENT);
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x103000, &v, 4), 0);
	/* Out of the root port's window: not decoded. */
	dev_wr(f, 0x10, 0xe0000000, 4);
	assert_int_equal(fx_nr_slots(f), 0);
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	assert_int_equal(fx_nr_slots(f), 1);
	/* Decode off: memslot gone first, then the device stops decoding. */
	dev_wr(f, PCI_COMMAND, 0, 2);
	assert_int_equal(fx_nr_slots(f), 0);
	assert_false(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x3000, &v, 4), -ENOENT);
}

static void test_trapped_parts(void **state)
{
	struct fx *f = *state;
	uint32_t v = 0;
	unsigned int reads;

	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, 0x14, 0, 4);
	dev_wr(f, 0x20, FX_MEM_BASE + 0x10100, 4);	/* 256 B BAR, not page aligned */
	dev_wr(f, 0x18, FX_IO_BASE + 0x20, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	/* Beyond the MSI-X table (8 entries = 128 bytes) on its page: the
	 * device's registers, through pread/pwrite. */
	reads = f->d->regions[0].reads;
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x2100, &v, 4), 0);
	assert_int_equal(v, 0xb0002100);
	assert_int_equal(f->d->regions[0].reads, reads + 1);
	v = 0x11223344;
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2104, &v, 4), 0);
	assert_int_equal(mem32(f->d->regions[0].mem, 0x2104), 0x11223344);
	/* The table itself never reaches the device. */
	v = 0xfee00000;
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2000, &v, 4), 0);
	assert_int_equal(mem32(f->d->regions[0].mem, 0x2000), 0xb0002000);
	/* The small BAR: no memslot, all trapped. */
	assert_null(fx_slot_at(f, FX_MEM_BASE + 0x10000));
	v = 0xdeadbeef;
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x10104, &v, 4), 0);
	assert_int_equal(mem32(f->d->regions[4].mem, 4), 0xdeadbeef);
	v = 0;
	assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x10104, &v, 4), 0);
	assert_int_equal(v, 0xdeadbeef);
	/* The I/O BAR. */
	v = 0x5a;
	assert_int_equal(bus_write(&f->pio, FX_IO_BASE + 0x21, &v, 1), 0);
	assert_int_equal(f->d->regions[2].mem[1], 0x5a);
}

static void test_sparse_mmap(void **state)
{
	struct fx *f = fx_alloc();
	struct fv_region *r;

	fx_host(f);
	*state = f;
	/* VFIO lets us map only [0x1000, 0x2000) and [0x3000, 0x4000). */
	r = &f->d->regions[0];
	r->sparse[0] = (struct vfio_region_sparse_mmap_area){ 0x1000, 0x1000 };
	r->sparse[1] = (struct vfio_region_sparse_mmap_area){ 0x3000, 0x1000 };
	r->nr_sparse = 2;
	fx_slot(f, "01:00.0");
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	/* 0x3000 holds the PBA: only [0x1000, 0x2000) becomes a memslot. */
	assert_int_equal(fx_nr_slots(f), 1);
	assert_non_null(fx_slot_at(f, FX_MEM_BASE + 0x1000));
	assert_ptr_equal(fx_slot_at(f, FX_MEM_BASE + 0x1000)->hva, r->mem + 0x1000);
	assert_int_equal(fx_slot_at(f, FX_MEM_BASE + 0x1000)->size, 0x1000);
	{
		uint32_t v = 0;

		assert_int_equal(bus_read(&f->mmio, FX_MEM_BASE + 0x10, &v, 4), 0);
		assert_int_equal(v, 0xb0000010);
	}
}

static void test_rom_bar(void **state)
{
	struct fx *f = *state;
	struct fake_memslot *s;

	dev_wr(f, PCI_ROM_ADDRESS, FX_MEM_BASE + 0x40000, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_null(fx_slot_at(f, FX_MEM_BASE + 0x40000));	/* enable bit clear */
	dev_wr(f, PCI_ROM_ADDRESS, FX_MEM_BASE + 0x40000 + 1, 4);
	s = fx_slot_at(f, FX_MEM_BASE + 0x40000);
	assert_non_null(s);
	assert_int_equal(s->size, 65536);
	assert_int_equal(s->flags, VM_MEMSLOT_READONLY);
	assert_int_equal(((uint8_t *)s->hva)[0], 0x55);
	assert_int_equal(((uint8_t *)s->hva)[1], 0xaa);
}

static void write_rom(const char *path, unsigned int len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputc(0x55, fp);
	fputc(0xaa, fp);
	for (unsigned int i = 2; i < len; i++)
		fputc(0x42, fp);
	fclose(fp);
}

static void test_romfile(void **state)
{
	struct fx *f = fx_alloc();
	char path[512];
	struct vfio_slot_config cfg = { .bdf = "01:00.0", .romfile = path };
	struct fake_memslot *s;

	fx_host(f);
	*state = f;
	snprintf(path, sizeof(path), "%s/gop.rom", f->fs.root);
	write_rom(path, 70000);			/* > 64 KiB: a 128 KiB ROM BAR */
	f->slot = vfio_slot_create(f->c, f->root, &cfg);
	assert_non_null(f->slot);
	f->port_devfn = vfio_slot_port(f->slot)->devfn;
	fx_program_port(f);
	dev_wr(f, PCI_ROM_ADDRESS, 0xfffff800, 4);
	assert_int_equal(dev_rd(f, PCI_ROM_ADDRESS, 4), 0xfffe0000);
	dev_wr(f, PCI_ROM_ADDRESS, FX_MEM_BASE + 0x100001, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	s = fx_slot_at(f, FX_MEM_BASE + 0x100000);
	assert_non_null(s);
	assert_int_equal(((uint8_t *)s->hva)[69999], 0x42);
	assert_int_equal(((uint8_t *)s->hva)[70000], 0xff);
}

/* ---- life cycle, host checks, DMA ---------------------------------------------------- */

static void test_resets(void **state)
{
	struct fx *f = fx_alloc();

	fx_host(f);
	*state = f;
	fx_slot(f, "01:00.0");
	assert_int_equal(f->d->resets, 1);		/* at open */
	assert_int_equal(f->vm.nr_vfio_groups, 1);
	/* Secondary Bus Reset on the root port resets the device. */
	fx_wr(f, 0, f->port_devfn, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	fx_wr(f, 0, f->port_devfn, PCI_BRIDGE_CONTROL, 0, 2);
	assert_int_equal(f->d->resets, 2);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_true(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MASTER);
	vfio_slot_destroy(f->slot);
	f->slot = NULL;
	assert_int_equal(f->d->resets, 3);		/* at release */
	assert_int_equal(pci_get16(f->d->config, PCI_COMMAND) & PCI_COMMAND_MASTER, 0);
	assert_int_equal(f->d->fd, -1);
	assert_int_equal(f->fv.groups_open, 0);
	assert_int_equal(f->vm.nr_vfio_groups, 0);
	assert_int_equal(fx_nr_slots(f), 0);
	/* Without FLR: a hot reset of the bus (all its groups are ours). */
	f->d->has_reset = false;
	fx_slot(f, "01:00.0");
	assert_int_equal(f->d->hot_resets, 1);
}

static void test_dma_map(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vfio_container_map_ram(f->c, &f->mem), 0);
	assert_int_equal(f->fv.nr_maps, 1);
	assert_int_equal(f->fv.maps[0].iova, 0);
	assert_int_equal(f->fv.maps[0].size, 4096);
	assert_ptr_equal(f->fv.maps[0].vaddr, f->ram);
	assert_int_equal(f->fv.iommu_type, VFIO_TYPE1v2_IOMMU);
	/* Once only. */
	assert_int_equal(vfio_container_map_ram(f->c, &f->mem), 0);
	assert_int_equal(f->fv.nr_maps, 1);
	vfio_slot_destroy(f->slot);
	f->slot = NULL;
	assert_int_equal(f->fv.nr_maps, 0);
	assert_int_equal(f->fv.unset_container_calls, 1);
}

struct call {
	struct fx *f;
	int ret;
	struct vfio_slot *slot;
	const char *bdf;
};

static void call_slot_create(void *arg)
{
	struct call *c = arg;
	struct vfio_slot_config cfg = { .bdf = c->bdf };

	c->slot = vfio_slot_create(c->f->c, c->f->root, &cfg);
}

static void call_map_ram(void *arg)
{
	struct call *c = arg;

	c->ret = vfio_container_map_ram(c->f->c, &c->f->mem);
}

static void test_group_offender(void **state)
{
	struct fx *f = fx_alloc();
	struct call c = { .f = f, .bdf = "01:00.0" };
	char err[2048];

	fx_host(f);
	*state = f;
	fs_pci_add(&f->fs, "0000:01:00.1", 0x8086, 0x1111, 0x040300, FX_GROUP, "snd_hda_intel");
	fv_capture_stderr(call_slot_create, &c, err, sizeof(err));
	assert_null(c.slot);
	assert_non_null(strstr(err, "IOMMU group 7 also holds 0000:01:00.1 (driver snd_hda_intel)"));
	assert_non_null(strstr(err, "minivmm bind 0000:01:00.0"));
	assert_int_equal(f->fv.groups_open, 0);
	assert_int_equal(f->d->fd, -1);
}

static void test_bad_devices(void **state)
{
	struct fx *f = fx_alloc();
	struct call c = { .f = f, .bdf = "02:00.0" };
	char err[2048];

	fx_host(f);
	*state = f;
	fv_capture_stderr(call_slot_create, &c, err, sizeof(err));
	assert_null(c.slot);
	assert_non_null(strstr(err, "0000:02:00.0: no such PCI device"));
	c.bdf = "zz:00.0";
	fv_capture_stderr(call_slot_create, &c, err, sizeof(err));
	assert_null(c.slot);
	assert_non_null(strstr(err, "'zz:00.0' is not a PCI address"));
	/* On its host driver. */
	fs_pci_add(&f->fs, "0000:03:00.0", 0x144d, 0xa808, 0x010802, 9, "nvme");
	c.bdf = "03:00.0";
	fv_capture_stderr(call_slot_create, &c, err, sizeof(err));
	assert_null(c.slot);
	assert_non_null(strstr(err, "0000:03:00.0 is on driver nvme, not on vfio-pci (minivmm bind 0000:03:00.0)"));
	/* Group node busy (another VM). */
	f->fv.open_group_err = -EBUSY;
	c.bdf = "01:00.0";
	fv_capture_stderr(call_slot_create, &c, err, sizeof(err));
	assert_null(c.slot);
	assert_non_null(strstr(err, "IOMMU group 7 is in use"));
}

static void test_memlock(void **state)
{
	struct fx *f = *state;
	struct call c = { .f = f };
	char err[2048];

	fs_write(&f->fs, "proc/self/limits",
		 "Max locked memory         2048                 2048                 bytes\n");
	fv_capture_stderr(call_map_ram, &c, err, sizeof(err));
	assert_int_equal(c.ret, -ENOMEM);
	assert_int_equal(f->fv.nr_maps, 0);
	assert_non_null(strstr(err, "RLIMIT_MEMLOCK is 2 KiB, but VFIO pins all guest RAM for device DMA: 4 KiB needed (ulimit -l 1024 "));
	/* CAP_IPC_LOCK lifts the limit. */
	fs_write(&f->fs, "proc/self/status", "Name:\ttest\nCapEff:\t0000000000004000\n");
	assert_int_equal(vfio_container_map_ram(f->c, &f->mem), 0);
	assert_int_equal(f->fv.nr_maps, 1);
}

static void test_multifunction(void **state)
{
	struct fx *f = fx_alloc();
	struct fv_dev *d1;

	fx_host(f);
	*state = f;
	/* A GPU's HDMI audio function in the same group. */
	fs_pci_add(&f->fs, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, FX_GROUP, "vfio-pci");
	d1 = fake_vfio_add_dev(&f->fv, "0000:01:00.1", FX_GROUP, 256);
	pci_set16(d1->config, PCI_VENDOR_ID, 0x10de);
	pci_set16(d1->config, PCI_DEVICE_ID, 0x10f0);
	pci_set16(d1->config, PCI_CLASS_DEVICE, 0x0403);
	d1->config[PCI_INTERRUPT_PIN] = 2;
	d1->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	fv_region_add(d1, 0, 16384, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fx_slot(f, "01:00");
	assert_int_equal(dev_rd(f, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_MULTI);
	assert_int_equal(fx_rd(f, FX_BUS, PCI_DEVFN(0, 1), PCI_VENDOR_ID, 4), 0x10f010de);
	assert_int_equal(fx_rd(f, FX_BUS, PCI_DEVFN(0, 1), PCI_CLASS_DEVICE, 2), 0x0403);
	assert_int_equal(fx_rd(f, FX_BUS, PCI_DEVFN(0, 1), PCI_CAPABILITY_LIST, 1), 0);
	assert_int_equal(f->fv.groups_open, 1);	/* one group, opened once */
	/* One guest slot for both: INTB of function 1 swizzles like INTB. */
	assert_true(fx_irqfd(f, to_vfio(vfio_slot_function(f->slot, 1))->intx.efd,
			     FX_INTX_GSI(PCI_SLOT(f->port_devfn), 1)));
}

/* A guest writing anything anywhere must not crash us (ASan/UBSan run). */
static void test_hostile_config(void **state)
{
	struct fx *f = *state;
	uint32_t seed = 12345;

	for (unsigned int i = 0; i < 20000; i++) {
		unsigned int off, len;
		uint32_t val, dummy = 0;

		seed = seed * 1103515245 + 12345;
		len = 1u << ((seed >> 8) % 3);
		off = ((seed >> 12) % 4096) & ~(len - 1);
		seed = seed * 1103515245 + 12345;
		val = seed ^ (seed << 7);
		if (i % 3 == 0)
			off = 0x04 + ((seed >> 3) % 0x90);	/* header and caps */
		off &= ~(len - 1);
		if (pci_range_overlaps(off, len, 0x88, 2) && (val & 0x8000))
			val &= ~0x8000u;	/* FLR is tested elsewhere */
		dev_wr(f, off, val, len);
		dev_rd(f, off, len);
		bus_read(&f->mmio, FX_MEM_BASE + ((seed >> 5) & 0x3ffc), &dummy, 4);
		bus_write(&f->mmio, FX_MEM_BASE + ((seed >> 9) & 0x3ff8), &val, 4);
	}
	vfio_slot_destroy(f->slot);
	f->slot = NULL;
	assert_int_equal(fx_nr_slots(f), 0);
	assert_int_equal(fx_nr_routes(f), 0);
	assert_int_equal(f->vm.nr_irqfds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_capability_list, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extended_caps, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_device_registers_pass, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_devctl_and_flr, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_flr_needs_capability, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bar_relocation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_trapped_parts, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_sparse_mmap, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rom_bar, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_romfile, fx_teardown),
		cmocka_unit_test_teardown(test_resets, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dma_map, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_group_offender, fx_teardown),
		cmocka_unit_test_teardown(test_bad_devices, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memlock, fx_setup, fx_teardown),
		cmocka_unit_test_teardown(test_multifunction, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_config, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
