// SPDX-License-Identifier: MIT
/*
 * Unit tests for the PCI core, function side: header defaults and
 * read-only fields, BAR sizing for every kind and activation on the
 * buses, hostile BAR addresses, host-memory BARs, capability lists, INTx
 * and reset. The host side (CF8/CFC, ECAM, bridges, threads, fuzz) is in
 * test_pci_host.c.
 */
#include "lib/log.h"
#include "tests/unit/pci_test.h"

/* ---- header ----------------------------------------------------------- */

static void test_header_defaults(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	uint8_t d = PCI_DEVFN(3, 0);

	t->dev.config[PCI_INTERRUPT_PIN] = 1;
	plug(f, t, NULL, d);
	assert_int_equal(cfg_rd(f, 0, d, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_rd(f, 0, d, PCI_DEVICE_ID, 2), 0x5678);
	assert_int_equal(cfg_rd(f, 0, d, 0, 4), 0x56781234);
	assert_int_equal(cfg_rd(f, 0, d, PCI_REVISION_ID, 4), 0x02000007);
	assert_int_equal(cfg_rd(f, 0, d, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(f, 0, d, PCI_COMMAND, 4), 0);
	assert_int_equal(cfg_rd(f, 0, d, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	assert_int_equal(cfg_rd(f, 0, d, PCI_CAPABILITY_LIST, 1), 0);
	assert_int_equal(cfg_rd(f, 0, d, PCI_INTERRUPT_PIN, 1), 1);
	/* Conventional: nothing above 0xff, and no function elsewhere. */
	assert_int_equal(cfg_rd(f, 0, d, 0x100, 4), 0xffffffff);
	assert_int_equal(cfg_rd(f, 0, PCI_DEVFN(4, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(f, 0, PCI_DEVFN(3, 1), 0, 2), 0xffff);
	assert_int_equal(cfg_rd(f, 7, d, 0, 4), 0xffffffff);
	/* Same devfn twice. */
	assert_int_equal(pci_bus_plug(pci_root_bus(f->root), &new_dev(f, 0, false)->dev, d),
			 -EBUSY);
}

static void test_read_only_fields(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	uint8_t d = PCI_DEVFN(3, 0);

	t->dev.config[PCI_INTERRUPT_PIN] = 2;
	plug(f, t, NULL, d);
	for (unsigned int off = 0; off < 0x40; off += 4)
		if (off != PCI_COMMAND && off != PCI_CACHE_LINE_SIZE && off != PCI_INTERRUPT_LINE)
			cfg_wr(f, 0, d, off, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, 0, d, 0, 4), 0x56781234);
	assert_int_equal(cfg_rd(f, 0, d, PCI_REVISION_ID, 4), 0x02000007);
	assert_int_equal(cfg_rd(f, 0, d, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	for (unsigned int off = PCI_BASE_ADDRESS_0; off <= PCI_ROM_ADDRESS; off += 4)
		if (off != PCI_SUBSYSTEM_VENDOR_ID)
			assert_int_equal(cfg_rd(f, 0, d, off, 4), 0);

	/* COMMAND: only the implemented bits. */
	cfg_wr(f, 0, d, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cfg_rd(f, 0, d, PCI_COMMAND, 2), 0x0547);
	/* STATUS: error bits are RW1C, the rest read-only. */
	pci_set16(t->dev.config, PCI_STATUS, 0xf910);
	cfg_wr(f, 0, d, PCI_STATUS, 0x0000, 2);
	assert_int_equal(cfg_rd(f, 0, d, PCI_STATUS, 2), 0xf910);
	cfg_wr(f, 0, d, PCI_STATUS, 0x8100, 2);
	assert_int_equal(cfg_rd(f, 0, d, PCI_STATUS, 2), 0x7810);
	cfg_wr(f, 0, d, PCI_STATUS, 0xffff, 2);
	assert_int_equal(cfg_rd(f, 0, d, PCI_STATUS, 2), 0x0010);
	/* Line writable, pin not; byte writes inside a dword. */
	cfg_wr(f, 0, d, PCI_INTERRUPT_LINE, 0xffff, 2);
	assert_int_equal(cfg_rd(f, 0, d, PCI_INTERRUPT_LINE, 2), 0x02ff);
	cfg_wr(f, 0, d, PCI_CACHE_LINE_SIZE, 0x10, 1);
	assert_int_equal(cfg_rd(f, 0, d, PCI_CACHE_LINE_SIZE, 1), 0x10);
	/* The device-specific area is storage. */
	cfg_wr(f, 0, d, 0x80, 0xdeadbeef, 4);
	assert_int_equal(cfg_rd(f, 0, d, 0x80, 4), 0xdeadbeef);
	assert_int_equal(cfg_rd(f, 0, d, 0x82, 2), 0xdead);
}

static void test_bad_accesses(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	uint8_t d = PCI_DEVFN(2, 0);
	uint32_t v = 0;

	plug(f, t, NULL, d);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 3, &v, 2), -EINVAL);
	assert_int_equal(v, 0xffff);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 2, &v, 4), -EINVAL);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 0, &v, 3), -EINVAL);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 0, &v, 0), -EINVAL);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 4096, &v, 1), -EINVAL);
	assert_int_equal(pci_cfg_read(f->root, 0, d, 0xffffffff, &v, 1), -EINVAL);
	assert_int_equal(pci_cfg_write(f->root, 0, d, 4094, 0, 4), -EINVAL);
	assert_int_equal(pci_cfg_write(f->root, 0, d, 0x41, 0xffffffff, 4), -EINVAL);
	assert_int_equal(pci_cfg_read(f->root, 0, PCI_DEVFN(9, 0), 0, &v, 4), -ENODEV);
	/* PCIe: the extended space exists; no capability there reads 0. */
	assert_int_equal(cfg_rd(f, 0, d, 0x100, 4), 0);
	assert_int_equal(cfg_rd(f, 0, d, 0xffc, 4), 0);
	cfg_wr(f, 0, d, 0xffc, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, 0, d, 0xffc, 4), 0);
	/* Default read/write ignore out-of-range requests. */
	assert_int_equal(pci_dev_default_cfg_read(&t->dev, 4095, 4), 0xffffffff);
	pci_dev_default_cfg_write(&t->dev, 4095, 0, 4);
}

/* ---- BARs ------------------------------------------------------------ */

static void test_bar_register_errors(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct tdev *b = new_dev(f, PCI_HEADER_TYPE_BRIDGE, false);
	struct pci_dev *d = &t->dev;
	const struct bus_dev_ops *o = &tdev_bar_ops;

	assert_int_equal(pci_dev_register_bar(d, 0, 0, 0x1001, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, 0, 0, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, 0, 8, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, PCI_BAR_IO, 2, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, PCI_BAR_IO, 0x20000, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, 0, 1ULL << 32, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, PCI_BAR_IO | PCI_BAR_MEM64, 16, o, t, NULL),
			 -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, 0x100, 16, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 5, PCI_BAR_MEM64, 16, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 7, 0, 16, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 0, 0, 16, NULL, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, PCI_ROM_BAR, 0, 1024, o, t, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, PCI_ROM_BAR, PCI_BAR_IO, 4096, o, t, NULL),
			 -EINVAL);
	assert_int_equal(pci_dev_register_bar(d, 2, PCI_BAR_MEM64, 4096, o, t, NULL), 0);
	assert_int_equal(pci_dev_register_bar(d, 2, 0, 4096, o, t, NULL), -EBUSY);
	assert_int_equal(pci_dev_register_bar(d, 3, 0, 4096, o, t, NULL), -EBUSY);
	assert_int_equal(pci_dev_register_bar(d, 1, PCI_BAR_MEM64, 4096, o, t, NULL), -EBUSY);
	/* Type 1: two BARs only. */
	assert_int_equal(pci_dev_register_bar(&b->dev, 2, 0, 4096, o, b, NULL), -EINVAL);
	assert_int_equal(pci_dev_register_bar(&b->dev, 1, PCI_BAR_MEM64, 4096, o, b, NULL),
			 -EINVAL);
	plug(f, t, NULL, PCI_DEVFN(1, 0));
	assert_int_equal(pci_dev_register_bar(d, 0, 0, 4096, o, t, NULL), -EBUSY);
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct pci_dev *d = &t->dev;
	const struct bus_dev_ops *o = &tdev_bar_ops;
	uint8_t df = PCI_DEVFN(5, 0);

	assert_int_equal(pci_dev_register_bar(d, 0, PCI_BAR_IO, 0x20, o, t, "io"), 0);
	assert_int_equal(pci_dev_register_bar(d, 1, 0, 0x1000, o, t, "m32"), 0);
	assert_int_equal(pci_dev_register_bar(d, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
					      1ULL << 33, o, t, "m64"), 0);
	assert_int_equal(pci_dev_register_bar(d, 4, PCI_BAR_PREFETCH, 0x100000, o, t, "pf"),
			 0);
	assert_int_equal(pci_dev_register_bar(d, PCI_ROM_BAR, 0, 0x10000, o, t, "rom"), 0);
	plug(f, t, NULL, df);

	/* Type bits before sizing. */
	assert_int_equal(cfg_rd(f, 0, df, 0x10, 4), 0x1);
	assert_int_equal(cfg_rd(f, 0, df, 0x14, 4), 0x0);
	assert_int_equal(cfg_rd(f, 0, df, 0x18, 4), 0xc);
	assert_int_equal(cfg_rd(f, 0, df, 0x20, 4), 0x8);
	/* The sizing protocol (PCI 3.0 §6.2.5.1). */
	for (unsigned int off = 0x10; off < 0x28; off += 4)
		cfg_wr(f, 0, df, off, 0xffffffff, 4);
	cfg_wr(f, 0, df, PCI_ROM_ADDRESS, 0xfffff800, 4);
	assert_int_equal(cfg_rd(f, 0, df, 0x10, 4), 0xffffffe1);
	assert_int_equal(cfg_rd(f, 0, df, 0x14, 4), 0xfffff000);
	assert_int_equal(cfg_rd(f, 0, df, 0x18, 4), 0x0000000c);	/* 8 GiB: low all 0 */
	assert_int_equal(cfg_rd(f, 0, df, 0x1c, 4), 0xfffffffe);
	assert_int_equal(cfg_rd(f, 0, df, 0x20, 4), 0xfff00008);
	assert_int_equal(cfg_rd(f, 0, df, 0x24, 4), 0);		/* unimplemented */
	assert_int_equal(cfg_rd(f, 0, df, PCI_ROM_ADDRESS, 4), 0xffff0000);
	/* Nothing decodes: COMMAND is 0. */
	assert_int_equal(f->pio.nr_ranges, 2);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* Byte-wise BAR writes land in the right byte. */
	cfg_wr(f, 0, df, 0x15, 0x00, 1);
	cfg_wr(f, 0, df, 0x16, 0x34, 1);
	cfg_wr(f, 0, df, 0x17, 0x12, 1);
	assert_int_equal(cfg_rd(f, 0, df, 0x14, 4), 0x12340000);
	assert_int_equal(pci_dev_bar_addr(d, 1), 0x12340000);
	cfg_wr(f, 0, df, 0x18, 0, 4);
	cfg_wr(f, 0, df, 0x1c, 0x3, 4);
	assert_int_equal(pci_dev_bar_addr(d, 2), 0x200000000ULL);
}

static void test_bar_relocation(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct pci_dev *d = &t->dev;
	const struct bus_dev_ops *o = &tdev_bar_ops;
	uint8_t df = PCI_DEVFN(6, 0);
	uint8_t buf[4] = { 1, 2, 3, 4 };
	int ret;

	assert_int_equal(pci_dev_register_bar(d, 0, PCI_BAR_IO, 0x40, o, t, "io"), 0);
	assert_int_equal(pci_dev_register_bar(d, 1, 0, 0x1000, o, t, "m32"), 0);
	assert_int_equal(pci_dev_register_bar(d, 2, PCI_BAR_MEM64, 0x4000, o, t, "m64"), 0);
	assert_int_equal(pci_dev_register_bar(d, PCI_ROM_BAR, 0, 0x800, o, t, "rom"), 0);
	plug(f, t, NULL, df);

	cfg_wr(f, 0, df, 0x10, 0xc000, 4);
	cfg_wr(f, 0, df, 0x14, 0xc0000000, 4);
	cfg_wr(f, 0, df, 0x18, 0x00010000, 4);
	cfg_wr(f, 0, df, 0x1c, 0x00000001, 4);		/* 0x1_0001_0000 */
	cfg_wr(f, 0, df, PCI_ROM_ADDRESS, 0xc0100001, 4);
	/* Decode off: nothing registered. */
	bus_rd(&f->pio, 0xc000, 1, &ret);
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(f->mmio.nr_ranges, 0);

	cfg_wr(f, 0, df, PCI_COMMAND, PCI_COMMAND_IO, 2);
	bus_rd(&f->pio, 0xc012, 2, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(t->last_off, 0x12);
	assert_int_equal(t->last_len, 2);
	assert_int_equal(f->mmio.nr_ranges, 0);

	cfg_wr(f, 0, df, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	assert_int_equal(f->mmio.nr_ranges, 3);
	assert_int_equal(bus_write(&f->mmio, 0xc0000ffc, buf, 4), 0);
	assert_int_equal(t->last_off, 0xffc);
	assert_int_equal(t->last_val, 0x04030201);
	bus_rd(&f->mmio, 0x100013ff8ULL, 8, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(t->last_off, 0x3ff8);
	bus_rd(&f->mmio, 0xc0100004, 4, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(t->last_off, 4);

	/* Move: the old place is gone, the new one answers. */
	cfg_wr(f, 0, df, 0x14, 0xd0000000, 4);
	bus_rd(&f->mmio, 0xc0000000, 4, &ret);
	assert_int_equal(ret, -ENOENT);
	bus_rd(&f->mmio, 0xd0000010, 4, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(t->last_off, 0x10);
	cfg_wr(f, 0, df, 0x10, 0xd001, 4);		/* low bits are read-only */
	assert_int_equal(cfg_rd(f, 0, df, 0x10, 4), 0xd001);
	bus_rd(&f->pio, 0xd03f, 1, &ret);
	assert_int_equal(ret, 0);
	bus_rd(&f->pio, 0xc000, 1, &ret);
	assert_int_equal(ret, -ENOENT);
	/* ROM enable bit. */
	cfg_wr(f, 0, df, PCI_ROM_ADDRESS, 0xc0100000, 4);
	bus_rd(&f->mmio, 0xc0100004, 4, &ret);
	assert_int_equal(ret, -ENOENT);

	/* Disable decode: everything unregisters. */
	cfg_wr(f, 0, df, PCI_COMMAND, 0, 2);
	assert_int_equal(f->mmio.nr_ranges, 0);
	assert_int_equal(f->pio.nr_ranges, 2);
}

static void test_bar_hostile(void **state)
{
	struct fixture *f = *state;
	struct tdev *a = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct tdev *b = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	const struct bus_dev_ops *o = &tdev_bar_ops;
	uint8_t da = PCI_DEVFN(1, 0), db = PCI_DEVFN(2, 0);
	int ret;

	assert_int_equal(pci_dev_register_bar(&a->dev, 0, 0, 0x1000, o, a, "a"), 0);
	assert_int_equal(pci_dev_register_bar(&a->dev, 1, PCI_BAR_IO, 0x100, o, a, "aio"), 0);
	assert_int_equal(pci_dev_register_bar(&a->dev, 2, PCI_BAR_MEM64, 0x1000, o, a, "a64"),
			 0);
	assert_int_equal(pci_dev_register_bar(&b->dev, 0, 0, 0x2000, o, b, "b"), 0);
	plug(f, a, NULL, da);
	plug(f, b, NULL, db);
	cfg_wr(f, 0, da, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	cfg_wr(f, 0, db, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

	/* Sizing with decode on: all-ones parks a 32-bit BAR at the top,
	 * which is refused (it would cover the reset vector). */
	for (unsigned int off = 0x10; off < 0x28; off += 4)
		cfg_wr(f, 0, da, off, 0xffffffff, 4);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* I/O at 0xffffff00 is outside the 64 KiB port space. */
	assert_int_equal(f->pio.nr_ranges, 2);
	/* 64-bit at 0xffff_ffff_ffff_f000: beyond any physical address. */
	assert_int_equal(pci_dev_bar_addr(&a->dev, 2), 0xfffffffffffff000ULL);
	/* I/O ending exactly at 0xffff is fine; one byte more is not. */
	cfg_wr(f, 0, da, 0x14, 0xff00, 4);
	assert_int_equal(f->pio.nr_ranges, 3);
	cfg_wr(f, 0, da, 0x14, 0x0, 4);
	assert_int_equal(f->pio.nr_ranges, 2);
	/* Address 0 never decodes. */
	cfg_wr(f, 0, da, 0x10, 0, 4);
	assert_int_equal(f->mmio.nr_ranges, 0);

	/* Overlap: b sits where a is; b stays off until a moves away. */
	cfg_wr(f, 0, da, 0x10, 0xe0000000, 4);
	cfg_wr(f, 0, db, 0x10, 0xe0000000, 4);
	assert_int_equal(f->mmio.nr_ranges, 1);
	bus_rd(&f->mmio, 0xe0000000, 4, &ret);
	assert_int_equal(a->reads, 1);
	assert_int_equal(b->reads, 0);
	cfg_wr(f, 0, da, 0x10, 0xe0100000, 4);
	assert_int_equal(f->mmio.nr_ranges, 2);
	bus_rd(&f->mmio, 0xe0001000, 4, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(b->reads, 1);
	/* Swap places in one step each: never a false overlap left behind. */
	cfg_wr(f, 0, db, 0x10, 0xe0100000, 4);
	cfg_wr(f, 0, da, 0x10, 0xe0000000, 4);
	assert_int_equal(f->mmio.nr_ranges, 2);
	/* A 64-bit BAR may end at 4 GiB - 1, unlike a 32-bit one. */
	cfg_wr(f, 0, da, 0x18, 0xfffff000, 4);
	cfg_wr(f, 0, da, 0x1c, 0x0, 4);
	assert_int_equal(f->mmio.nr_ranges, 3);
	bus_rd(&f->mmio, 0xfffff000, 4, &ret);
	assert_int_equal(ret, 0);
}

static void test_bar_hostmem(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	uint8_t df = PCI_DEVFN(7, 0);

	assert_int_equal(pci_dev_register_bar(&t->dev, 0, PCI_BAR_HOSTMEM | PCI_BAR_MEM64,
					      0x200000, NULL, NULL, "ram"), 0);
	plug(f, t, NULL, df);
	cfg_wr(f, 0, df, 0x10, 0x80000000, 4);
	cfg_wr(f, 0, df, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(t->maps, 1);
	assert_int_equal(t->map_addr, 0x80000000);
	assert_int_equal(f->mmio.nr_ranges, 0);
	cfg_wr(f, 0, df, 0x14, 1, 4);
	assert_int_equal(t->unmaps, 1);
	assert_int_equal(t->maps, 2);
	assert_int_equal(t->map_addr, 0x180000000ULL);
	/* A failing hook leaves it unmapped and retries on the next change. */
	t->map_ret = -EEXIST;
	cfg_wr(f, 0, df, 0x14, 2, 4);
	assert_int_equal(t->unmaps, 2);
	assert_int_equal(t->maps, 2);
	t->map_ret = 0;
	cfg_wr(f, 0, df, PCI_CACHE_LINE_SIZE, 0, 1);	/* no decode change */
	assert_int_equal(t->maps, 2);
	cfg_wr(f, 0, df, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_int_equal(t->maps, 3);
	cfg_wr(f, 0, df, PCI_COMMAND, 0, 2);
	assert_int_equal(t->unmaps, 3);
}

/* ---- capabilities ------------------------------------------------------ */

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	struct tdev *c = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct pci_dev *d = &t->dev;
	uint8_t df = PCI_DEVFN(8, 0);
	int a, b, e;

	assert_int_equal(pci_dev_reserve(d, 0x40, 0x10), 0);
	a = pci_dev_add_cap(d, 0x05, 0, 14);		/* MSI */
	assert_int_equal(a, 0x50);
	b = pci_dev_add_cap(d, 0x10, 0, 0x3c);		/* PCIe */
	assert_int_equal(b, 0x60);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0x62, 4), -EINVAL);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0x64, 4), -EEXIST);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0x3c, 4), -EINVAL);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0xfc, 8), -EINVAL);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0, 1), -EINVAL);
	assert_int_equal(pci_dev_add_cap(d, 0x11, 0xf0, 12), 0xf0);
	assert_int_equal(pci_dev_add_cap(d, 0x09, 0, 0x80), -ENOSPC);
	assert_int_equal(pci_dev_reserve(d, 0x30, 4), -EINVAL);
	assert_int_equal(pci_dev_find_cap(d, 0x05), 0x50);
	assert_int_equal(pci_dev_find_cap(d, 0x10), 0x60);
	assert_int_equal(pci_dev_find_cap(d, 0x11), 0xf0);
	assert_int_equal(pci_dev_find_cap(d, 0x01), 0);

	e = pci_dev_add_ext_cap(d, 0x0001, 2, 0, 0x40);		/* AER */
	assert_int_equal(e, 0x100);
	assert_int_equal(pci_dev_add_ext_cap(d, 0x000b, 1, 0x120, 8), -EINVAL);
	assert_int_equal(pci_dev_add_ext_cap(d, 0x000b, 1, 0x142, 8), -EINVAL);
	assert_int_equal(pci_dev_add_ext_cap(d, 0x000b, 1, 0x200, 8), 0x200);
	assert_int_equal(pci_dev_add_ext_cap(d, 0x000d, 1, 0, 8), 0x208);
	assert_int_equal(pci_dev_add_ext_cap(d, 0x000d, 1, 0xffc, 8), -EINVAL);
	assert_int_equal(pci_dev_add_ext_cap(&c->dev, 0x0001, 1, 0, 8), -EINVAL);
	plug(f, t, NULL, df);

	/* The chain as software walks it: last added first. */
	assert_true(cfg_rd(f, 0, df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(f, 0, df, PCI_CAPABILITY_LIST, 1), 0xf0);
	assert_int_equal(cfg_rd(f, 0, df, 0xf0, 2), 0x6011);
	assert_int_equal(cfg_rd(f, 0, df, 0x60, 2), 0x5010);
	assert_int_equal(cfg_rd(f, 0, df, 0x50, 2), 0x0005);
	assert_int_equal(cfg_rd(f, 0, df, 0x100, 4), 0x20020001);
	assert_int_equal(cfg_rd(f, 0, df, 0x200, 4), 0x2081000b);
	assert_int_equal(cfg_rd(f, 0, df, 0x208, 4), 0x0001000d);
	/* Capability headers are read-only; so is the pointer. */
	cfg_wr(f, 0, df, 0x60, 0xffffffff, 4);
	cfg_wr(f, 0, df, PCI_CAPABILITY_LIST, 0x44, 1);
	cfg_wr(f, 0, df, 0x100, 0, 4);
	assert_int_equal(cfg_rd(f, 0, df, 0x60, 2), 0x5010);
	assert_int_equal(cfg_rd(f, 0, df, PCI_CAPABILITY_LIST, 1), 0xf0);
	assert_int_equal(cfg_rd(f, 0, df, 0x100, 4), 0x20020001);
	/* A hostile loop in the list (only device code could make one)
	 * does not hang the walker. */
	d->config[0x51] = 0x50;
	assert_int_equal(pci_dev_find_cap(d, 0x77), 0);
}

/* ---- INTx and reset ------------------------------------------------------- */

static void test_intx(void **state)
{
	struct fixture *f = *state;
	struct tdev *a = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct tdev *br = new_dev(f, PCI_HEADER_TYPE_BRIDGE, false);
	struct tdev *leaf = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct tdev *nopin = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	uint8_t da = PCI_DEVFN(3, 0);

	a->dev.config[PCI_INTERRUPT_PIN] = 1;
	leaf->dev.config[PCI_INTERRUPT_PIN] = 2;	/* INTB */
	plug(f, a, NULL, da);
	plug(f, br, NULL, PCI_DEVFN(5, 0));
	plug(f, leaf, br->dev.secondary, PCI_DEVFN(2, 0));
	plug(f, nopin, NULL, PCI_DEVFN(6, 0));

	pci_dev_set_irq(&a->dev, true);
	assert_int_equal(f->intx_sum[3][0], 1);
	assert_true(cfg_rd(f, 0, da, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_dev_set_irq(&a->dev, true);			/* level, not counted twice */
	assert_int_equal(f->intx_sum[3][0], 1);
	/* INTx Disable masks the pin, not the status bit. */
	cfg_wr(f, 0, da, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(f->intx_sum[3][0], 0);
	assert_true(cfg_rd(f, 0, da, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_wr(f, 0, da, PCI_COMMAND, 0, 2);
	assert_int_equal(f->intx_sum[3][0], 1);
	pci_dev_set_irq(&a->dev, false);
	assert_int_equal(f->intx_sum[3][0], 0);
	assert_false(cfg_rd(f, 0, da, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Behind a bridge in slot 5: INTB of device 2 -> (1 + 2) % 4 = INTD. */
	pci_dev_set_irq(&leaf->dev, true);
	assert_int_equal(f->intx_sum[5][3], 1);
	/* Unplugging an asserting device deasserts it. */
	pci_bus_unplug(&leaf->dev);
	assert_int_equal(f->intx_sum[5][3], 0);
	/* No pin: nothing routed. */
	pci_dev_set_irq(&nopin->dev, true);
	for (unsigned int p = 0; p < 4; p++)
		assert_int_equal(f->intx_sum[6][p], 0);
	/* A system reset clears a stale assertion via the device hook;
	 * the test device keeps its line, so it stays routed. */
	pci_dev_set_irq(&a->dev, true);
	pci_root_reset(f->root);
	assert_int_equal(f->intx_sum[3][0], 1);
	pci_dev_set_irq(&a->dev, false);
	assert_int_equal(f->intx_sum[3][0], 0);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	uint8_t df = PCI_DEVFN(4, 0);

	assert_int_equal(pci_dev_register_bar(&t->dev, 0, 0, 0x1000, &tdev_bar_ops, t, "m"), 0);
	plug(f, t, NULL, df);
	cfg_wr(f, 0, df, 0x10, 0xc0000000, 4);
	cfg_wr(f, 0, df, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cfg_wr(f, 0, df, 0x90, 0x12345678, 4);
	assert_int_equal(f->mmio.nr_ranges, 1);
	pci_root_reset(f->root);
	assert_int_equal(t->resets, 1);
	assert_int_equal(f->mmio.nr_ranges, 0);
	assert_int_equal(cfg_rd(f, 0, df, 0x10, 4), 0);
	assert_int_equal(cfg_rd(f, 0, df, 0x90, 4), 0);
	assert_int_equal(cfg_rd(f, 0, df, 0, 4), 0x56781234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_header_defaults),
		T(test_read_only_fields),
		T(test_bad_accesses),
		T(test_bar_register_errors),
		T(test_bar_sizing),
		T(test_bar_relocation),
		T(test_bar_hostile),
		T(test_bar_hostmem),
		T(test_capabilities),
		T(test_intx),
		T(test_reset),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
