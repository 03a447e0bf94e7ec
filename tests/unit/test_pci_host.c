// SPDX-License-Identifier: MIT
/*
 * Unit tests for the PCI core, host side: config mechanism #1 at every
 * width and byte offset (and the 0xCF8-0xCFB passthrough), ECAM through
 * the MCH's PCIEXBAR, Type-1 bridges (bus-number routing, windows,
 * secondary bus reset), several vCPU threads at once, and a hostile
 * config-space fuzz over MCH, LPC, a bridge and every BAR kind.
 */
#include <pthread.h>

#include "devices/legacy/acpi_pm.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "lib/log.h"
#include "tests/unit/pci_test.h"

/* ---- mechanism #1 ------------------------------------------------------- */

struct passthrough_dev {
	uint8_t last;
	unsigned int writes, reads;
};

static void pt_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct passthrough_dev *p = opaque;

	p->reads++;
	memset(data, 0x5a, len);
}

static void pt_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct passthrough_dev *p = opaque;

	p->writes++;
	p->last = *(const uint8_t *)data;
}

static const struct bus_dev_ops pt_ops = { .read = pt_read, .write = pt_write };

static void cf8_set(struct fixture *f, uint32_t v)
{
	uint8_t b[4];

	bus_data_put(b, 4, v);
	assert_int_equal(bus_write(&f->pio, 0xcf8, b, 4), 0);
}

static void test_cf8_cfc(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	struct passthrough_dev pt = { 0 };
	uint8_t df = PCI_DEVFN(3, 2);
	uint32_t addr = 0x80000000u | 3u << 11 | 2u << 8;
	uint8_t b[4];
	int ret;

	plug(f, t, NULL, df);
	/* 0xCF9 belongs to whoever attaches to the passthrough bus. */
	assert_int_equal(bus_register(pci_root_cf8_bus(f->root), 0xcf9, 1, &pt_ops, &pt, "rst"),
			 0);
	cf8_set(f, addr);
	assert_int_equal(bus_rd(&f->pio, 0xcf8, 4, NULL), addr);
	/* Every width at every byte offset of CONFIG_DATA. */
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 4, NULL), 0x56781234);
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 2, NULL), 0x1234);
	assert_int_equal(bus_rd(&f->pio, 0xcfe, 2, NULL), 0x5678);
	assert_int_equal(bus_rd(&f->pio, 0xcfd, 2, NULL), 0x7812);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(bus_rd(&f->pio, 0xcfc + i, 1, NULL), (0x56781234 >> (8 * i)) & 0xff);
	bus_rd(&f->pio, 0xcfe, 4, &ret);		/* straddles 0xCFF */
	assert_int_equal(ret, -ENOENT);
	/* Register field: dword 0x3C, byte writes at each offset. */
	cf8_set(f, addr | 0x3c);
	b[0] = 0x0b;
	assert_int_equal(bus_write(&f->pio, 0xcfc, b, 1), 0);
	assert_int_equal(t->dev.config[PCI_INTERRUPT_LINE], 0x0b);
	cf8_set(f, addr | 0x80);
	bus_data_put(b, 2, 0xbeef);
	bus_write(&f->pio, 0xcfe, b, 2);
	b[0] = 0x11;
	bus_write(&f->pio, 0xcfd, b, 1);
	assert_int_equal(pci_get32(t->dev.config, 0x80), 0xbeef1100);
	/* CONFIG_ADDRESS: reserved and low bits read as 0. */
	cf8_set(f, 0xffffffff);
	assert_int_equal(bus_rd(&f->pio, 0xcf8, 4, NULL), 0x80fffffc);
	/* Enable bit clear: CONFIG_DATA is not a config access. */
	cf8_set(f, addr & ~0x80000000u);
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 4, NULL), 0xffffffff);
	b[0] = 0x22;
	cf8_set(f, (addr & ~0x80000000u) | 0x3c);
	bus_write(&f->pio, 0xcfc, b, 1);
	assert_int_equal(t->dev.config[PCI_INTERRUPT_LINE], 0x0b);
	/* No device / function / bus there. */
	cf8_set(f, 0x80000000u | 4u << 11);
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 4, NULL), 0xffffffff);
	assert_int_equal(bus_rd(&f->pio, 0xcfd, 1, NULL), 0xff);
	cf8_set(f, 0x80000000u | 3u << 11 | 1u << 8);
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 2, NULL), 0xffff);
	cf8_set(f, 0x80ff0000u | 3u << 11 | 2u << 8);
	assert_int_equal(bus_rd(&f->pio, 0xcfc, 4, NULL), 0xffffffff);

	/* Non-dword accesses to 0xCF8-0xCFB pass through byte by byte and
	 * leave CONFIG_ADDRESS alone (Linux's type-1 probe writes 0xCFB). */
	cf8_set(f, addr);
	b[0] = 0x06;
	assert_int_equal(bus_write(&f->pio, 0xcf9, b, 1), 0);
	assert_int_equal(pt.writes, 1);
	assert_int_equal(pt.last, 0x06);
	assert_int_equal(bus_rd(&f->pio, 0xcf9, 1, NULL), 0x5a);
	assert_int_equal(bus_rd(&f->pio, 0xcf8, 2, NULL), 0x5aff);
	b[0] = 0x01;
	bus_write(&f->pio, 0xcfb, b, 1);
	bus_data_put(b, 2, 0x0700);
	bus_write(&f->pio, 0xcf8, b, 2);
	assert_int_equal(pt.writes, 2);
	assert_int_equal(pt.last, 0x07);
	assert_int_equal(bus_rd(&f->pio, 0xcf8, 4, NULL), addr);
	bus_unregister(pci_root_cf8_bus(f->root), 0xcf9);
}

static void test_cf8_ports_taken(void **state)
{
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct passthrough_dev pt = { 0 };

	fake_vm_init(&fvm);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	/* The reset register on the port bus itself: the root cannot own
	 * CONFIG_ADDRESS and says so. */
	assert_int_equal(bus_register(&pio, 0xcf9, 1, &pt_ops, &pt, "rst"), 0);
	assert_null(pci_root_create(&fvm.ops, &pio, &mmio));
	assert_int_equal(errno, EEXIST);
	bus_unregister(&pio, 0xcf9);
	assert_int_equal(bus_register(&pio, 0xcfe, 1, &pt_ops, &pt, "x"), 0);
	assert_null(pci_root_create(&fvm.ops, &pio, &mmio));
	assert_int_equal(pio.nr_ranges, 1);
	bus_unregister(&pio, 0xcfe);
	bus_exit(&pio);
	bus_exit(&mmio);
}

/* ---- ECAM through the MCH ------------------------------------------------ */

static void pciexbar(struct fixture *f, uint64_t v)
{
	/* OVMF's order: low 0, high, low with the enable bit. */
	cfg_wr(f, 0, 0, 0x60, 0, 4);
	cfg_wr(f, 0, 0, 0x64, (uint32_t)(v >> 32), 4);
	cfg_wr(f, 0, 0, 0x60, (uint32_t)v, 4);
}

static void test_ecam(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	struct mch *mch = mch_create(f->root);
	uint8_t b[8];
	int ret;

	assert_non_null(mch);
	plug(f, t, NULL, PCI_DEVFN(0x1f, 3));
	assert_int_equal(f->mmio.nr_ranges, 0);		/* off out of reset */

	pciexbar(f, 0xb0000001);
	assert_int_equal(f->mmio.nr_ranges, 1);
	assert_int_equal(bus_rd(&f->mmio, 0xb0000000, 4, NULL), 0x29c08086);
	assert_int_equal(bus_rd(&f->mmio, 0xb0000002, 2, NULL), 0x29c0);
	assert_int_equal(bus_rd(&f->mmio, 0xb0000003, 1, NULL), 0x29);
	assert_int_equal(bus_rd(&f->mmio, 0xb00fb000, 4, NULL), 0x56781234);
	assert_int_equal(bus_rd(&f->mmio, 0xb00fb000, 8, NULL), 0x56781234ULL);
	assert_int_equal(bus_rd(&f->mmio, 0xb00fb008, 8, NULL), 0x02000007ULL);
	/* Extended space of the PCIe function, and of the conventional MCH. */
	bus_data_put(b, 4, 0x12345678);
	bus_write(&f->mmio, 0xb00fb800, b, 4);
	assert_int_equal(bus_rd(&f->mmio, 0xb00fb800, 4, NULL), 0);
	assert_int_equal(bus_rd(&f->mmio, 0xb0000100, 4, NULL), 0xffffffff);
	/* Cross-dword and misaligned qword accesses are not config requests. */
	assert_int_equal(bus_rd(&f->mmio, 0xb0000002, 4, NULL), 0xffffffff);
	assert_int_equal(bus_rd(&f->mmio, 0xb0000004, 8, NULL), 0xffffffffffffffffULL);
	/* ECAM writes, 8 bytes wide too. */
	bus_data_put(b, 8, 0x1122334455667788ULL);
	assert_int_equal(bus_write(&f->mmio, 0xb00fb080, b, 8), 0);
	assert_int_equal(pci_get32(t->dev.config, 0x80), 0x55667788);
	assert_int_equal(pci_get32(t->dev.config, 0x84), 0x11223344);
	bus_write(&f->mmio, 0xb00fb0c2, b, 4);
	assert_int_equal(pci_get32(t->dev.config, 0xc0), 0);
	/* Absent bus / device. */
	assert_int_equal(bus_rd(&f->mmio, 0xb0100000, 4, NULL), 0xffffffff);
	assert_int_equal(bus_rd(&f->mmio, 0xbff00000, 4, NULL), 0xffffffff);
	assert_int_equal(bus_rd(&f->mmio, 0xb0008000, 2, NULL), 0xffff);

	/* Off. */
	pciexbar(f, 0xb0000000);
	bus_rd(&f->mmio, 0xb0000000, 4, &ret);
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* Moved, 64 MiB (64 buses): the 128 MiB/64 MiB address bits count. */
	pciexbar(f, 0xe4000005);
	assert_int_equal(bus_rd(&f->mmio, 0xe4000000, 2, NULL), 0x8086);
	assert_int_equal(bus_rd(&f->mmio, 0xe40fb000, 2, NULL), 0x1234);
	bus_rd(&f->mmio, 0xe8000000, 4, &ret);
	assert_int_equal(ret, -ENOENT);
	/* Above 4 GiB through the high dword (bits 35:32 only). */
	pciexbar(f, 0xf00000000ULL | 0x1);
	assert_int_equal(bus_rd(&f->mmio, 0xf00000000ULL, 2, NULL), 0x8086);
	cfg_wr(f, 0, 0, 0x64, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, 0, 0, 0x64, 4), 0xf);
	/* Reserved length: nothing decodes. */
	pciexbar(f, 0xb0000007);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* Over another MMIO range: stays off, comes back when moved. */
	assert_int_equal(bus_register(&f->mmio, 0xc0000000, 0x1000, &tdev_bar_ops, t, "x"), 0);
	pciexbar(f, 0xc0000001);
	assert_int_equal(f->mmio.nr_ranges, 1);
	pciexbar(f, 0xb0000001);
	assert_int_equal(f->mmio.nr_ranges, 2);
	bus_unregister(&f->mmio, 0xc0000000);
	/* Reset: back to the disabled default. */
	pci_root_reset(f->root);
	assert_int_equal(f->mmio.nr_ranges, 0);
	assert_int_equal(cfg_rd(f, 0, 0, 0x60, 4), 0xb0000000);
	mch_destroy(mch);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* The root API validates sizes itself. */
	assert_int_equal(pci_root_set_ecam(f->root, 0, 0x1000, true), -EINVAL);
	assert_int_equal(pci_root_set_ecam(f->root, 0, 512ULL << 20, true), -EINVAL);
	assert_int_equal(pci_root_set_ecam(f->root, 0xfffffffffff00000ULL, 2 << 20, true),
			 -EINVAL);
}

/* ---- bridges ------------------------------------------------------------ */

static void test_bridge_routing(void **state)
{
	struct fixture *f = *state;
	struct tdev *br = new_dev(f, PCI_HEADER_TYPE_BRIDGE, true);
	struct tdev *br2 = new_dev(f, PCI_HEADER_TYPE_BRIDGE, true);
	struct tdev *leaf = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	struct tdev *deep = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	uint8_t dbr = PCI_DEVFN(0x1c, 0);

	pci_set16(br->dev.config, PCI_CLASS_DEVICE, 0x0604);
	plug(f, br, NULL, dbr);
	plug(f, leaf, br->dev.secondary, PCI_DEVFN(0, 0));
	plug(f, br2, br->dev.secondary, PCI_DEVFN(1, 0));
	plug(f, deep, br2->dev.secondary, PCI_DEVFN(0, 0));

	assert_int_equal(cfg_rd(f, 0, dbr, PCI_HEADER_TYPE, 1), 1);
	assert_int_equal(cfg_rd(f, 0, dbr, PCI_IO_BASE, 2), 0x0101);
	assert_int_equal(cfg_rd(f, 0, dbr, PCI_PREF_MEMORY_BASE, 4), 0x00010001);
	/* Unprogrammed: nothing behind it is reachable. */
	assert_null(pci_find_bus(f->root, 1));
	assert_int_equal(cfg_rd(f, 1, 0, 0, 4), 0xffffffff);
	/* Program bus numbers as firmware does. */
	cfg_wr(f, 0, dbr, PCI_PRIMARY_BUS, 0x00050100, 4);	/* pri 0, sec 1, sub 5 */
	assert_int_equal(cfg_rd(f, 0, dbr, PCI_PRIMARY_BUS, 4), 0x00050100);
	assert_int_equal(cfg_rd(f, 1, 0, 0, 4), 0x56781234);
	assert_int_equal(cfg_rd(f, 1, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1), 1);
	assert_int_equal(cfg_rd(f, 2, 0, 0, 4), 0xffffffff);
	cfg_wr(f, 1, PCI_DEVFN(1, 0), PCI_PRIMARY_BUS, 0x00030201, 4);
	assert_int_equal(cfg_rd(f, 2, 0, 0, 2), 0x1234);
	assert_ptr_equal(pci_find_bus(f->root, 2), br2->dev.secondary);
	assert_null(pci_find_bus(f->root, 4));
	assert_null(pci_find_bus(f->root, 6));
	/* Hostile numbering: sub below sec, secondary equal to own bus. */
	cfg_wr(f, 0, dbr, PCI_PRIMARY_BUS, 0x00000000, 4);
	assert_null(pci_find_bus(f->root, 1));
	cfg_wr(f, 0, dbr, PCI_PRIMARY_BUS, 0x00ff0100, 4);
	cfg_wr(f, 1, PCI_DEVFN(1, 0), PCI_PRIMARY_BUS, 0x00ff0101, 4);
	assert_ptr_equal(pci_find_bus(f->root, 1), br->dev.secondary);
	assert_null(pci_find_bus(f->root, 0x80));
	cfg_wr(f, 1, PCI_DEVFN(1, 0), PCI_PRIMARY_BUS, 0x00ff0201, 4);
	assert_null(pci_find_bus(f->root, 0x80));
	assert_ptr_equal(pci_find_bus(f->root, 2), br2->dev.secondary);
}

static void test_bridge_windows(void **state)
{
	struct fixture *f = *state;
	struct tdev *br = new_dev(f, PCI_HEADER_TYPE_BRIDGE, true);
	struct tdev *leaf = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	const struct bus_dev_ops *o = &tdev_bar_ops;
	uint8_t dbr = PCI_DEVFN(2, 0);

	assert_int_equal(pci_dev_register_bar(&leaf->dev, 0, 0, 0x1000, o, leaf, "m"), 0);
	assert_int_equal(pci_dev_register_bar(&leaf->dev, 1, PCI_BAR_IO, 0x100, o, leaf, "io"),
			 0);
	assert_int_equal(pci_dev_register_bar(&leaf->dev, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
					      0x100000, o, leaf, "pf"), 0);
	plug(f, br, NULL, dbr);
	plug(f, leaf, br->dev.secondary, 0);
	cfg_wr(f, 0, dbr, PCI_PRIMARY_BUS, 0x00010100, 4);
	cfg_wr(f, 1, 0, 0x10, 0xc0200000, 4);
	cfg_wr(f, 1, 0, 0x14, 0x7000, 4);
	cfg_wr(f, 1, 0, 0x18, 0x00000000, 4);
	cfg_wr(f, 1, 0, 0x1c, 0x8, 4);			/* 0x8_0000_0000 */
	cfg_wr(f, 1, 0, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	/* The bridge forwards nothing yet. */
	assert_int_equal(f->mmio.nr_ranges, 0);
	assert_int_equal(f->pio.nr_ranges, 2);
	/* Windows: mem 0xc0000000-0xc03fffff, I/O 0x7000-0x7fff,
	 * prefetchable 0x8_0000_0000-0x8_000f_ffff; still COMMAND off. */
	cfg_wr(f, 0, dbr, PCI_MEMORY_BASE, 0xc030c000, 4);
	cfg_wr(f, 0, dbr, PCI_IO_BASE, 0x7070, 2);
	cfg_wr(f, 0, dbr, PCI_PREF_MEMORY_BASE, 0x00000000, 4);
	cfg_wr(f, 0, dbr, PCI_PREF_BASE_UPPER32, 8, 4);
	cfg_wr(f, 0, dbr, PCI_PREF_LIMIT_UPPER32, 8, 4);
	assert_int_equal(cfg_rd(f, 0, dbr, PCI_IO_BASE, 2), 0x7171);
	assert_int_equal(f->mmio.nr_ranges, 0);
	cfg_wr(f, 0, dbr, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(f->mmio.nr_ranges, 2);
	assert_int_equal(f->pio.nr_ranges, 2);
	cfg_wr(f, 0, dbr, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_int_equal(f->pio.nr_ranges, 3);
	/* Shrink the memory window below the BAR: it stops decoding. */
	cfg_wr(f, 0, dbr, PCI_MEMORY_LIMIT, 0xc010, 2);
	assert_int_equal(f->mmio.nr_ranges, 1);
	/* I/O window above 64 KiB via the upper 16 bits: unreachable. */
	cfg_wr(f, 0, dbr, PCI_IO_BASE_UPPER16, 0x00010001, 4);
	assert_int_equal(f->pio.nr_ranges, 2);
	/* Secondary bus reset returns the leaf to power-on state. */
	cfg_wr(f, 0, dbr, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	assert_int_equal(leaf->resets, 1);
	assert_int_equal(cfg_rd(f, 1, 0, PCI_COMMAND, 2), 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	cfg_wr(f, 0, dbr, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
	assert_int_equal(leaf->resets, 1);		/* edge, not level */
	cfg_wr(f, 0, dbr, PCI_BRIDGE_CONTROL, 0xffff, 2);
	assert_int_equal(cfg_rd(f, 0, dbr, PCI_BRIDGE_CONTROL, 2), 0x0bff);
	/* Unplug the bridge while the leaf is still behind it. */
	pci_bus_unplug(&br->dev);
	assert_null(pci_find_bus(f->root, 1));
}

/* ---- several vCPUs at once --------------------------------------------- */

struct race {
	struct fixture *f;
	struct mch *mch;
	int stop;
	unsigned long hits;
};

static void *race_mover(void *arg)
{
	struct race *r = arg;
	uint8_t b[4];

	for (unsigned int i = 0; i < 20000; i++) {
		/* Through ECAM, the way a vCPU would: BAR0 toggles between two
		 * places, decode flips, PCIEXBAR is rewritten in place. */
		bus_data_put(b, 4, i & 1 ? 0xd0000000 : 0xd0100000);
		bus_write(&r->f->mmio, 0xb0008010, b, 4);
		bus_data_put(b, 2, i % 7 == 3 ? 0 : PCI_COMMAND_MEMORY);
		bus_write(&r->f->mmio, 0xb0008004, b, 2);
		if (i % 101 == 0) {
			bus_data_put(b, 4, 0xb0000001);
			bus_write(&r->f->mmio, 0xb0000060, b, 4);
		}
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	unsigned long hits = 0;
	uint8_t b[4];

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		hits += bus_read(&r->f->mmio, 0xd0000004, b, 4) == 0;
		hits += bus_read(&r->f->mmio, 0xd0100ffc, b, 4) == 0;
		bus_read(&r->f->mmio, 0xb0008000, b, 4);
		pci_cfg_read(r->f->root, 0, PCI_DEVFN(1, 0), 0x10, &(uint32_t){ 0 }, 4);
	}
	__atomic_add_fetch(&r->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

static void test_concurrent_access(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	struct race r = { .f = f };
	pthread_t th[4];

	assert_int_equal(pci_dev_register_bar(&t->dev, 0, 0, 0x1000, &tdev_bar_ops, t, "m"), 0);
	plug(f, t, NULL, PCI_DEVFN(1, 0));
	r.mch = mch_create(f->root);
	assert_non_null(r.mch);
	cfg_wr(f, 0, 0, 0x60, 0xb0000001, 4);
	assert_int_equal(pthread_create(&th[0], NULL, race_mover, &r), 0);
	for (unsigned int i = 1; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
	for (unsigned int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* The BAR ended where the last write put it, decoding. */
	assert_int_equal(pci_dev_bar_addr(&t->dev, 0), 0xd0000000);
	assert_int_equal(f->mmio.nr_ranges, 2);
	mch_destroy(r.mch);
}

/*
 * A hostile guest: random config writes of every width at every offset
 * of every function (MCH, LPC with a PM block, a bridge, a device with
 * every BAR kind), through CF8/CFC, ECAM and the API, then random bus
 * accesses. Nothing may crash, and what is registered must be sane.
 */
static void test_hostile_config_fuzz(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = new_dev(f, PCI_HEADER_TYPE_NORMAL, true);
	struct tdev *br = new_dev(f, PCI_HEADER_TYPE_BRIDGE, true);
	struct tdev *leaf = new_dev(f, PCI_HEADER_TYPE_NORMAL, false);
	const struct bus_dev_ops *o = &tdev_bar_ops;
	struct acpi_pm *pm = acpi_pm_create(&f->fvm.ops, 9);
	struct mch *mch;
	struct lpc *lpc;
	static const uint8_t devfns[] = { 0x00, 0x08, 0x10, 0xf8, 0xff };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	assert_int_equal(pci_dev_register_bar(&t->dev, 0, PCI_BAR_IO, 0x100, o, t, "io"), 0);
	assert_int_equal(pci_dev_register_bar(&t->dev, 1, 0, 0x1000, o, t, "m32"), 0);
	assert_int_equal(pci_dev_register_bar(&t->dev, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
					      0x100000, o, t, "m64"), 0);
	assert_int_equal(pci_dev_register_bar(&t->dev, 4, PCI_BAR_MEM64 | PCI_BAR_HOSTMEM,
					      0x200000, NULL, NULL, "host"), 0);
	assert_int_equal(pci_dev_register_bar(&t->dev, PCI_ROM_BAR, 0, 0x10000, o, t, "rom"), 0);
	assert_int_equal(pci_dev_register_bar(&leaf->dev, 0, 0, 0x4000, o, leaf, "leaf"), 0);
	t->dev.config[PCI_INTERRUPT_PIN] = 1;
	leaf->dev.config[PCI_INTERRUPT_PIN] = 3;
	plug(f, t, NULL, PCI_DEVFN(1, 0));
	plug(f, br, NULL, PCI_DEVFN(2, 0));
	plug(f, leaf, br->dev.secondary, 0);
	assert_non_null(pm);
	assert_int_equal(acpi_pm_attach(pm, &f->pio, 0x600), 0);
	mch = mch_create(f->root);
	lpc = lpc_create(f->root, &f->fvm.ops, &f->pio, &f->mmio, pm);
	assert_non_null(mch);
	assert_non_null(lpc);
	cfg_wr(f, 0, 0, 0x60, 0xb0000001, 4);

	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t r;
		unsigned int len, off;
		uint8_t b[8], busnr, devfn;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		r = seed;
		len = 1u << (r & 3);			/* 1, 2, 4, 8 */
		off = (unsigned int)(r >> 8) & 0xfff;
		busnr = (r >> 20) & 1 ? 1 : 0;
		devfn = devfns[(r >> 24) % sizeof(devfns)];
		bus_data_put(b, 8, (r >> 32) * 0x100000001ULL ^ ((r & 0x30) ? 0 : ~0ULL));
		switch ((r >> 28) & 7) {
		case 0: {
			uint8_t a[4];

			bus_data_put(a, 4, 0x80000000u | (uint32_t)busnr << 16 |
				     (uint32_t)devfn << 8 | (off & 0xfc));
			bus_write(&f->pio, 0xcf8, a, 4);
			if (len <= 4)
				bus_write(&f->pio, 0xcfc + (off & 3), b, len);
			break;
		}
		case 1:
		case 2:
			bus_write(&f->mmio, 0xb0000000 + ((uint64_t)busnr << 20) +
				  ((uint64_t)devfn << 12) + off, b, len);
			break;
		case 3:
			pci_cfg_write(f->root, busnr, devfn, off & 0xff, (uint32_t)bus_data_get(b, 4),
				      len > 4 ? 4 : len);
			break;
		case 4:
			bus_read(&f->mmio, (r >> 16) & 0xffffffffULL, b, len);
			break;
		case 5:
			bus_read(&f->pio, (r >> 16) & 0xffff, b, len > 4 ? 4 : len);
			break;
		case 6:
			pci_dev_set_irq(&t->dev, r & 0x100);
			pci_dev_set_irq(&leaf->dev, r & 0x200);
			break;
		default:
			if ((r & 0xfff) == 0)
				pci_root_reset(f->root);
			break;
		}
	}
	/* Whatever got registered is in range and ordered (bus.c keeps it
	 * non-overlapping); ports stay in the 64 KiB space. */
	for (size_t i = 0; i < f->pio.nr_ranges; i++)
		assert_true(f->pio.ranges[i].base + f->pio.ranges[i].len <= 0x10000);
	for (size_t i = 0; i < f->mmio.nr_ranges; i++)
		assert_true(f->mmio.ranges[i].base + (f->mmio.ranges[i].len - 1) >=
			    f->mmio.ranges[i].base);
	lpc_destroy(lpc);
	mch_destroy(mch);
	acpi_pm_destroy(pm);
	pci_dev_set_irq(&t->dev, false);
	pci_dev_set_irq(&leaf->dev, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_cf8_cfc),
		cmocka_unit_test(test_cf8_ports_taken),
		T(test_ecam),
		T(test_bridge_routing),
		T(test_bridge_windows),
		T(test_concurrent_access),
		T(test_hostile_config_fuzz),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("pci_host", tests, NULL, NULL);
}
