// SPDX-License-Identifier: MIT
/*
 * Unit tests for the Q35 MCH host bridge: the registers OVMF 2022.11
 * touches, driven through config mechanism #1 the way PlatformPei does
 * (PciCf8Lib), and through ECAM once PCIEXBAR is on (DXE's PciExpressLib).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/q35/mch.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

struct fixture {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct mch *mch;
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
	f->mch = mch_create(f->root);
	assert_non_null(f->mch);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mch_destroy(f->mch);
	pci_root_destroy(f->root);
	assert_int_equal(f->pio.nr_ranges, 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->pio);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

/* PciCf8Lib: CONFIG_ADDRESS as a dword, CONFIG_DATA at 0xCFC + (reg & 3). */
static uint32_t cf8_read(struct fixture *f, unsigned int reg, unsigned int len)
{
	uint8_t b[4];

	bus_data_put(b, 4, 0x80000000u | (reg & 0xfc));
	assert_int_equal(bus_write(&f->pio, 0xcf8, b, 4), 0);
	assert_int_equal(bus_read(&f->pio, 0xcfc + (reg & 3), b, len), 0);
	return (uint32_t)bus_data_get(b, len);
}

static void cf8_write(struct fixture *f, unsigned int reg, uint32_t v, unsigned int len)
{
	uint8_t b[4];

	bus_data_put(b, 4, 0x80000000u | (reg & 0xfc));
	assert_int_equal(bus_write(&f->pio, 0xcf8, b, 4), 0);
	bus_data_put(b, len, v);
	assert_int_equal(bus_write(&f->pio, 0xcfc + (reg & 3), b, len), 0);
}

static void test_identity(void **state)
{
	struct fixture *f = *state;

	/* PlatformPei: HostBridgeDevId = PciRead16 (OVMF_HOSTBRIDGE_DID). */
	assert_int_equal(cf8_read(f, 0x02, 2), MCH_DEVICE_ID);
	assert_int_equal(cf8_read(f, 0x00, 4), 0x29c08086);
	assert_int_equal(cf8_read(f, 0x08, 4), 0x06000000);
	assert_int_equal(cf8_read(f, 0x0e, 1), 0x00);
	assert_int_equal(cf8_read(f, 0x2c, 4), 0x11001af4);
	assert_int_equal(cf8_read(f, 0x3d, 1), 0);	/* no interrupt pin */
	assert_int_equal(cf8_read(f, 0x34, 1), 0);	/* no capabilities */
	assert_null(mch_create(f->root));		/* 00:00.0 is taken */
	assert_int_equal(errno, EBUSY);
}

static void test_pciexbar_ovmf(void **state)
{
	struct fixture *f = *state;
	uint8_t b[4];
	int ret;

	/* Reset value: QEMU's base, disabled. */
	assert_int_equal(cf8_read(f, MCH_PCIEXBAR, 4), 0xb0000000);
	assert_int_equal(cf8_read(f, MCH_PCIEXBAR + 4, 4), 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
	/* PciExBarInitialization(). */
	cf8_write(f, MCH_PCIEXBAR, 0, 4);
	cf8_write(f, MCH_PCIEXBAR + 4, 0, 4);
	cf8_write(f, MCH_PCIEXBAR, 0xb0000001, 4);
	assert_int_equal(f->mmio.nr_ranges, 1);
	assert_int_equal(f->mmio.ranges[0].base, 0xb0000000);
	assert_int_equal(f->mmio.ranges[0].len, 256 << 20);
	/* MdePkg PciExpressLib: MMIO at base + (bus << 20 | dev << 15 | ...). */
	assert_int_equal(bus_read(&f->mmio, 0xb0000002, b, 2), 0);
	assert_int_equal(bus_data_get(b, 2), MCH_DEVICE_ID);
	/* Reserved bits 63:36 and 25:3 are read-only 0. */
	cf8_write(f, MCH_PCIEXBAR + 4, 0xffffffff, 4);
	assert_int_equal(cf8_read(f, MCH_PCIEXBAR + 4, 4), 0xf);
	cf8_write(f, MCH_PCIEXBAR + 4, 0, 4);
	cf8_write(f, MCH_PCIEXBAR, 0xb3fffff9, 4);
	assert_int_equal(cf8_read(f, MCH_PCIEXBAR, 4), 0xb0000001);
	/* Byte writes to the enable byte work too. */
	cf8_write(f, MCH_PCIEXBAR, 0x00, 1);
	bus_read(&f->mmio, 0xb0000000, b, 4);
	assert_int_equal(f->mmio.nr_ranges, 0);
	cf8_write(f, MCH_PCIEXBAR, 0x03, 1);		/* 128 MiB, enabled */
	assert_int_equal(f->mmio.ranges[0].len, 128 << 20);
	ret = bus_read(&f->mmio, 0xb8000000, b, 4);
	assert_int_equal(ret, -ENOENT);
	/* A write through ECAM that turns ECAM off. */
	bus_data_put(b, 4, 0);
	assert_int_equal(bus_write(&f->mmio, 0xb0000060, b, 4), 0);
	assert_int_equal(f->mmio.nr_ranges, 0);
}

static void test_pam(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < 7; i++)
		assert_int_equal(cf8_read(f, MCH_PAM0 + i, 1), 0);
	cf8_write(f, MCH_PAM0, 0xffffffff, 4);
	cf8_write(f, MCH_PAM0 + 4, 0xffffffff, 4);
	/* PAM0 has only HIENABLE; PAM1-6 HIENABLE and LOENABLE. */
	assert_int_equal(cf8_read(f, MCH_PAM0, 4), 0x33333330);
	assert_int_equal(cf8_read(f, MCH_PAM0 + 4, 4) & 0x00ffffff, 0x00333333);
	/* The CSM/VBE-shim pattern: read-modify-write of one PAM byte. */
	cf8_write(f, MCH_PAM0 + 1, 0x11, 1);
	assert_int_equal(cf8_read(f, MCH_PAM0 + 1, 1), 0x11);
	/* Nothing was mapped or unmapped for it. */
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		assert_false(f->fvm.slots[i].used);
}

static void test_smram(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x02);
	assert_int_equal(cf8_read(f, MCH_ESMRAMC, 1), 0x38);
	/* C_BASE_SEG and the cache bits are read-only. */
	cf8_write(f, MCH_SMRAM, 0xef, 1);	/* everything but D_LCK */
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x6a);
	cf8_write(f, MCH_ESMRAMC, 0xff, 1);
	assert_int_equal(cf8_read(f, MCH_ESMRAMC, 1), 0xbf);
	/* SmmAccessPei: TSEG 8 MiB + T_EN, then lock. */
	cf8_write(f, MCH_ESMRAMC, 0x05, 1);
	assert_int_equal(cf8_read(f, MCH_ESMRAMC, 1), 0x3d);
	cf8_write(f, MCH_SMRAM, 0x58, 1);	/* D_OPEN | D_LCK | G_SMRAME */
	/* D_LCK clears D_OPEN and freezes everything but D_CLS. */
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x1a);
	cf8_write(f, MCH_SMRAM, 0x60, 1);
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x3a);
	cf8_write(f, MCH_SMRAM, 0x00, 1);
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x1a);
	cf8_write(f, MCH_ESMRAMC, 0x00, 1);
	assert_int_equal(cf8_read(f, MCH_ESMRAMC, 1), 0x3d);
	/* Reset unlocks. */
	pci_root_reset(f->root);
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x02);
	cf8_write(f, MCH_SMRAM, 0x48, 1);
	assert_int_equal(cf8_read(f, MCH_SMRAM, 1), 0x4a);
	cf8_write(f, MCH_ESMRAMC, 0x01, 1);
	assert_int_equal(cf8_read(f, MCH_ESMRAMC, 1), 0x39);
}

static void test_qemu_queries(void **state)
{
	struct fixture *f = *state;

	/* Q35TsegMbytesInitialization: the query value reads back
	 * unchanged = "no extended TSEG"; but only an SMM build asks, and
	 * the VM stops with an error, once. */
	assert_int_equal(f->fvm.nr_stops, 0);
	cf8_write(f, MCH_EXT_TSEG_MB, 0xffff, 2);
	assert_int_equal(cf8_read(f, MCH_EXT_TSEG_MB, 2), 0xffff);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_ERROR);
	cf8_write(f, MCH_EXT_TSEG_MB, 0xffff, 2);
	assert_int_equal(f->fvm.nr_stops, 1);
	/* Q35SmramAtDefaultSmbaseInitialization: anything but 01h =
	 * "not found". */
	cf8_write(f, MCH_F_SMBASE, 0xff, 1);
	assert_int_not_equal(cf8_read(f, MCH_F_SMBASE, 1), 0x01);
	/* SmmAccessPei stores these and reads some back. */
	cf8_write(f, MCH_GGC, 0x0002, 2);
	cf8_write(f, MCH_TOLUD, 0x7ff0, 2);
	cf8_write(f, MCH_TSEGMB, 0x7f800000, 4);
	assert_int_equal(cf8_read(f, MCH_GGC, 2), 0x0002);
	assert_int_equal(cf8_read(f, MCH_TOLUD, 2), 0x7ff0);
	assert_int_equal(cf8_read(f, MCH_TSEGMB, 4), 0x7f800000);
	/* A conventional function: no extended config space. */
	cf8_write(f, MCH_PCIEXBAR, 0xb0000001, 4);
	{
		uint8_t b[4];

		bus_read(&f->mmio, 0xb0000100, b, 4);
		assert_int_equal(bus_data_get(b, 4), 0xffffffff);
		bus_read(&f->mmio, 0xb0000ffc, b, 4);
		assert_int_equal(bus_data_get(b, 4), 0xffffffff);
	}
}

/* The SMM-build detection: only the query value, however it is written,
 * and again after a reset (the next boot of the same firmware). */
static void test_smm_firmware_detected(void **state)
{
	struct fixture *f = *state;

	/* Other values and neighbours are storage, as before. */
	cf8_write(f, MCH_EXT_TSEG_MB, 0x0010, 2);
	cf8_write(f, MCH_EXT_TSEG_MB, 0xff, 1);
	cf8_write(f, MCH_GGC, 0xffff, 2);
	cf8_write(f, 0x4c, 0x0000ffff, 4);
	assert_int_equal(f->fvm.nr_stops, 0);
	/* Byte by byte: the second byte completes the query. */
	cf8_write(f, MCH_EXT_TSEG_MB + 1, 0xff, 1);
	assert_int_equal(f->fvm.nr_stops, 1);
	assert_int_equal(f->fvm.stop_reason, VM_STOP_ERROR);
	/* A dword write through ECAM after a reset. */
	pci_root_reset(f->root);
	cf8_write(f, MCH_PCIEXBAR, 0xb0000001, 4);
	{
		uint8_t b[4];

		bus_data_put(b, 4, 0x1234ffff);
		assert_int_equal(bus_write(&f->mmio, 0xb0000000 + MCH_EXT_TSEG_MB, b, 4), 0);
	}
	assert_int_equal(f->fvm.nr_stops, 2);
}

static void test_header_read_only(void **state)
{
	struct fixture *f = *state;

	cf8_write(f, 0x00, 0xffffffff, 4);
	cf8_write(f, 0x08, 0xffffffff, 4);
	for (unsigned int off = 0x10; off < 0x28; off += 4) {
		cf8_write(f, off, 0xffffffff, 4);
		assert_int_equal(cf8_read(f, off, 4), 0);	/* no BARs */
	}
	assert_int_equal(cf8_read(f, 0x00, 4), 0x29c08086);
	assert_int_equal(cf8_read(f, 0x08, 4), 0x06000000);
	cf8_write(f, PCI_COMMAND, 0x0006, 2);
	assert_int_equal(cf8_read(f, PCI_COMMAND, 2), 0x0006);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_identity),
		T(test_pciexbar_ovmf),
		T(test_pam),
		T(test_smram),
		T(test_qemu_queries),
		T(test_smm_firmware_detected),
		T(test_header_read_only),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("mch", tests, NULL, NULL);
}
