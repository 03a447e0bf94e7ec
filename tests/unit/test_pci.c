// SPDX-License-Identifier: MIT
/*
 * Unit tests for the PCI core: header defaults and read-only fields, BAR
 * sizing and activation on the buses, capability lists, Type-1 bridges
 * and bus-number routing, INTx, reset, and the host side (CF8/CFC at
 * every width, ECAM through the MCH's PCIEXBAR), with hostile values.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "tests/unit/fake_vm.h"
#include "vmm/log.h"

/* A test function: records BAR accesses, optional host-memory BAR. */
struct tdev {
	struct pci_dev dev;
	uint64_t last_off;
	unsigned int last_len, reads, writes;
	uint64_t last_val;
	int maps, unmaps, map_ret;
	uint64_t map_addr;
	int resets;
};

static void tdev_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct tdev *t = opaque;

	/* Atomics: test_concurrent_access reads from several threads. */
	__atomic_store_n(&t->last_off, off, __ATOMIC_RELAXED);
	__atomic_store_n(&t->last_len, len, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->reads, 1, __ATOMIC_RELAXED);
	bus_data_put(data, len, 0xa5a5a5a5a5a5a5a5ULL);
}

static void tdev_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct tdev *t = opaque;

	t->last_off = off;
	t->last_len = len;
	t->last_val = bus_data_get(data, len);
	t->writes++;
}

static const struct bus_dev_ops tdev_bar_ops = { .read = tdev_read, .write = tdev_write };

static struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, dev));
}

static int tdev_bar_map(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = to_tdev(d);

	if (t->map_ret)
		return t->map_ret;
	t->maps++;
	t->map_addr = addr;
	return 0;
}

static void tdev_bar_unmap(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	to_tdev(d)->unmaps++;
}

static void tdev_reset(struct pci_dev *d)
{
	to_tdev(d)->resets++;
}

static const struct pci_dev_ops tdev_ops = {
	.reset = tdev_reset, .bar_map = tdev_bar_map, .bar_unmap = tdev_bar_unmap,
};

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct tdev *devs[8];
	unsigned int nr_devs;
	/* INTx router log */
	int intx_sum[32][4];
};

static void router_change(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
	struct fixture *f = opaque;

	f->intx_sum[slot & 31][pin & 3] += delta;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pci_intx_router r = { .intx_change = router_change };

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	f->root = pci_root_create(&f->fvm.ops, &f->pio, &f->mmio);
	assert_non_null(f->root);
	r.opaque = f;
	pci_root_set_intx_router(f->root, &r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < f->nr_devs; i++) {
		pci_dev_exit(&f->devs[i]->dev);
		free(f->devs[i]);
	}
	pci_root_destroy(f->root);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

static struct tdev *new_dev(struct fixture *f, uint8_t header_type, bool express)
{
	struct tdev *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(pci_dev_init(&t->dev, &tdev_ops, "tdev", 0x1234, 0x5678, 0x020000,
				      0x07, header_type, express), 0);
	f->devs[f->nr_devs++] = t;
	return t;
}

static void plug(struct fixture *f, struct tdev *t, struct pci_bus *bus, uint8_t devfn)
{
	assert_int_equal(pci_bus_plug(bus ? bus : pci_root_bus(f->root), &t->dev, devfn), 0);
}

static uint32_t cfg_rd(struct fixture *f, uint8_t bus, uint8_t devfn, unsigned int off,
		       unsigned int len)
{
	uint32_t v;

	pci_cfg_read(f->root, bus, devfn, off, &v, len);
	return v;
}

static void cfg_wr(struct fixture *f, uint8_t bus, uint8_t devfn, unsigned int off,
		   uint32_t v, unsigned int len)
{
	pci_cfg_write(f->root, bus, devfn, off, v, len);
}

static uint64_t bus_rd(struct bus *b, uint64_t addr, unsigned int len, int *ret)
{
	uint8_t buf[8] = { 0 };
	int r = bus_read(b, addr, buf, len);

	if (ret)
		*ret = r;
	return bus_data_get(buf, len);
}

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
		T(test_header_defaults),
		T(test_read_only_fields),
		T(test_bad_accesses),
		T(test_bar_register_errors),
		T(test_bar_sizing),
		T(test_bar_relocation),
		T(test_bar_hostile),
		T(test_bar_hostmem),
		T(test_capabilities),
		T(test_cf8_cfc),
		cmocka_unit_test(test_cf8_ports_taken),
		T(test_ecam),
		T(test_bridge_routing),
		T(test_bridge_windows),
		T(test_intx),
		T(test_reset),
		T(test_concurrent_access),
		T(test_hostile_config_fuzz),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
