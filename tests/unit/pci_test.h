/* SPDX-License-Identifier: MIT */
/*
 * Shared by the PCI core tests (test_pci.c, test_pci_host.c): a test
 * function that records BAR accesses and can have a host-memory BAR, and
 * a fixture with a root complex on fake buses and an INTx router log.
 */
#ifndef MINIVMM_TEST_PCI_TEST_H
#define MINIVMM_TEST_PCI_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "tests/unit/fake_vm.h"

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

static inline void tdev_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct tdev *t = opaque;

	/* Atomics: test_concurrent_access reads from several threads. */
	__atomic_store_n(&t->last_off, off, __ATOMIC_RELAXED);
	__atomic_store_n(&t->last_len, len, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->reads, 1, __ATOMIC_RELAXED);
	bus_data_put(data, len, 0xa5a5a5a5a5a5a5a5ULL);
}

static inline void tdev_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct tdev *t = opaque;

	t->last_off = off;
	t->last_len = len;
	t->last_val = bus_data_get(data, len);
	t->writes++;
}

static const struct bus_dev_ops tdev_bar_ops = { .read = tdev_read, .write = tdev_write };

static inline struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, dev));
}

static inline int tdev_bar_map(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = to_tdev(d);

	if (t->map_ret)
		return t->map_ret;
	t->maps++;
	t->map_addr = addr;
	return 0;
}

static inline void tdev_bar_unmap(struct pci_dev *d, unsigned int bar, uint64_t addr, uint64_t size)
{
	to_tdev(d)->unmaps++;
}

static inline void tdev_reset(struct pci_dev *d)
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

static inline void router_change(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
	struct fixture *f = opaque;

	f->intx_sum[slot & 31][pin & 3] += delta;
}

static inline int setup(void **state)
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

static inline int teardown(void **state)
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

static inline struct tdev *new_dev(struct fixture *f, uint8_t header_type, bool express)
{
	struct tdev *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(pci_dev_init(&t->dev, &tdev_ops, "tdev", 0x1234, 0x5678, 0x020000,
				      0x07, header_type, express), 0);
	f->devs[f->nr_devs++] = t;
	return t;
}

static inline void plug(struct fixture *f, struct tdev *t, struct pci_bus *bus, uint8_t devfn)
{
	assert_int_equal(pci_bus_plug(bus ? bus : pci_root_bus(f->root), &t->dev, devfn), 0);
}

static inline uint32_t cfg_rd(struct fixture *f, uint8_t bus, uint8_t devfn, unsigned int off,
		       unsigned int len)
{
	uint32_t v;

	pci_cfg_read(f->root, bus, devfn, off, &v, len);
	return v;
}

static inline void cfg_wr(struct fixture *f, uint8_t bus, uint8_t devfn, unsigned int off,
		   uint32_t v, unsigned int len)
{
	pci_cfg_write(f->root, bus, devfn, off, v, len);
}

static inline uint64_t bus_rd(struct bus *b, uint64_t addr, unsigned int len, int *ret)
{
	uint8_t buf[8] = { 0 };
	int r = bus_read(b, addr, buf, len);

	if (ret)
		*ret = r;
	return bus_data_get(buf, len);
}

#endif
