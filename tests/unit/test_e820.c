// SPDX-License-Identifier: MIT
/*
 * Unit tests for the e820 map and the q35 default fw_cfg items, read back
 * through the fw_cfg ports the way OVMF reads them (no DMA here: that is
 * test_fw_cfg.c's business).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "firmware/e820.h"
#include "firmware/fw_cfg.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "lib/memory.h"

struct fixture {
	struct guest_mem mem;	/* a layout only: nothing here does DMA */
	struct bus pio;
	struct fw_cfg *fw;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mem_layout(&f->mem, 64 * MiB, 128 * KiB), 0);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	f->fw = fw_cfg_create(NULL, &f->mem);
	assert_non_null(f->fw);
	assert_int_equal(fw_cfg_attach(f->fw, &f->pio), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fw_cfg_destroy(f->fw);
	bus_exit(&f->pio);
	free(f);
	return 0;
}

static void sel(struct fixture *f, uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_SEL, b, 2), 0);
}

static void rd(struct fixture *f, void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DATA, (uint8_t *)buf + i, 1), 0);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- e820 ----------------------------------------------------------- */

static void check_e820(uint64_t ram, unsigned int flags,
		       const struct e820_entry *want, int n)
{
	struct guest_mem m;
	struct e820_entry e[E820_MAX_ENTRIES];

	assert_int_equal(mem_layout(&m, ram, 128 * KiB), 0);
	assert_int_equal(e820_build(&m, flags, e, E820_MAX_ENTRIES), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(e[i].addr, want[i].addr);
		assert_int_equal(e[i].len, want[i].len);
		assert_int_equal(e[i].type, want[i].type);
	}
	assert_int_equal(e820_build(&m, flags, e, 1), -ENOSPC);
}

static void test_e820_layouts(void **state)
{
	const struct e820_entry kvm = { LAYOUT_KVM_IDENTITY_MAP, 0x4000, E820_RESERVED };
	const struct e820_entry m512[] = { { 0, 512 * MiB, E820_RAM }, kvm };
	/* From 2.75 GiB on, low RAM stops at 2 GiB (q35's rule). */
	const struct e820_entry g3[] = {
		{ 0, 2 * GiB, E820_RAM }, kvm, { MEM_4G, 1 * GiB, E820_RAM },
	};
	const struct e820_entry g16[] = {
		{ 0, 2 * GiB, E820_RAM }, kvm, { MEM_4G, 14 * GiB, E820_RAM },
	};
	/* 2.5 GiB: all below 4 GiB, up to the ECAM's base at most. */
	const struct e820_entry g25[] = { { 0, 2560 * MiB, E820_RAM }, kvm };

	const struct e820_entry ht = { E820_AMD_HT_BASE, 12 * GiB, E820_RESERVED };
	const struct e820_entry g16_amd[] = {
		{ 0, 2 * GiB, E820_RAM }, kvm, { MEM_4G, 14 * GiB, E820_RAM }, ht,
	};
	/* RAM up to 1012 GiB: no room for the window, so none reported. */
	const struct e820_entry t1_amd[] = {
		{ 0, 2 * GiB, E820_RAM }, kvm, { MEM_4G, 1022 * GiB, E820_RAM },
	};

	check_e820(512 * MiB, 0, m512, 2);
	check_e820(3 * GiB, 0, g3, 3);
	check_e820(16 * GiB, 0, g16, 3);
	check_e820(2560 * MiB, 0, g25, 2);
	check_e820(16 * GiB, E820_F_AMD_HT, g16_amd, 4);
	check_e820(1024 * GiB, E820_F_AMD_HT, t1_amd, 3);
}

static void test_e820_file(void **state)
{
	struct fixture *f = *state;
	struct guest_mem m;
	uint8_t e[E820_MAX_ENTRIES * 20], hdr[4], ent[64];
	static const uint8_t want[60] = {
		/* {0, 2 GiB, RAM} */
		0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0x80, 0, 0, 0, 0,  1, 0, 0, 0,
		/* {0xFEFFC000, 0x4000, reserved} */
		0, 0xC0, 0xFF, 0xFE, 0, 0, 0, 0,  0, 0x40, 0, 0, 0, 0, 0, 0,  2, 0, 0, 0,
		/* {4 GiB, 14 GiB, RAM} */
		0, 0, 0, 0, 1, 0, 0, 0,  0, 0, 0, 0x80, 3, 0, 0, 0,  1, 0, 0, 0,
	};
	int key;

	/* The map of a 16 GiB guest, served by this fixture's device. */
	assert_int_equal(mem_layout(&m, 16 * GiB, 128 * KiB), 0);
	assert_int_equal(e820_install(f->fw, &m, 0), 0);
	key = fw_cfg_file_key(f->fw, "etc/e820");
	assert_true(key >= FW_CFG_FILE_FIRST);
	/* OVMF wants a whole number of 20-byte EFI_E820_ENTRY64s. */
	sel(f, FW_CFG_FILE_DIR);
	rd(f, hdr, 4);
	rd(f, ent, 64);
	assert_int_equal(be32(ent), 60);
	sel(f, (uint16_t)key);
	rd(f, e, 60);
	assert_memory_equal(e, want, 60);
}

/* ---- q35 defaults --------------------------------------------------- */

static int read_file(struct fixture *f, const char *name, uint8_t *buf, size_t max)
{
	uint8_t hdr[4], e[64];
	uint32_t count;

	sel(f, FW_CFG_FILE_DIR);
	rd(f, hdr, 4);
	count = be32(hdr);
	for (uint32_t i = 0; i < count; i++) {
		rd(f, e, 64);
		if (!strcmp((char *)e + 8, name)) {
			uint32_t size = be32(e);

			assert_true(size <= max);
			sel(f, (uint16_t)(e[4] << 8 | e[5]));
			rd(f, buf, size);
			return (int)size;
		}
	}
	return -1;
}

static void test_q35_defaults(void **state)
{
	struct fixture *f = *state;
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const struct fw_cfg_q35_config cfg = {
		.mem = &f->mem, .nr_cpus = 6, .uuid = uuid,
		.msr_feature_control = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX,
	};
	uint8_t b[64];

	assert_int_equal(fw_cfg_add_q35_defaults(f->fw, &cfg), 0);
	sel(f, FW_CFG_NB_CPUS);
	rd(f, b, 2);
	assert_int_equal(b[0] | b[1] << 8, 6);
	sel(f, FW_CFG_MAX_CPUS);
	rd(f, b, 2);
	assert_int_equal(b[0] | b[1] << 8, 6);
	sel(f, FW_CFG_RAM_SIZE);
	rd(f, b, 8);
	assert_memory_equal(b, "\0\0\0\x04\0\0\0\0", 8);	/* 64 MiB LE */
	sel(f, FW_CFG_UUID);
	rd(f, b, 16);
	assert_memory_equal(b, uuid, 16);
	sel(f, FW_CFG_BOOT_MENU);
	rd(f, b, 2);
	assert_int_equal(b[0] | b[1], 0);
	sel(f, FW_CFG_IRQ0_OVERRIDE);
	rd(f, b, 4);
	assert_memory_equal(b, "\1\0\0\0", 4);
	sel(f, FW_CFG_NUMA);
	rd(f, b, 7 * 8 + 1);
	for (int i = 0; i < 7 * 8 + 1; i++)
		assert_int_equal(b[i], 0);

	assert_int_equal(read_file(f, "etc/e820", b, sizeof(b)), 40);
	assert_int_equal(read_file(f, "etc/boot-fail-wait", b, sizeof(b)), 4);
	assert_memory_equal(b, "\xff\xff\xff\xff", 4);
	/* S3/S4 off: OVMF's QemuFwCfgS3Enabled() checks byte 3 bit 7. */
	assert_int_equal(read_file(f, "etc/system-states", b, sizeof(b)), 6);
	assert_memory_equal(b, "\x80\0\0\x01\x02\x80", 6);
	assert_int_equal(read_file(f, "bootorder", b, sizeof(b)), 0);
	assert_int_equal(read_file(f, "bios-geometry", b, sizeof(b)), 0);
	assert_int_equal(read_file(f, "etc/msr_feature_control", b, sizeof(b)), 8);
	assert_memory_equal(b, "\x05\0\0\0\0\0\0\0", 8);
	/* Twice is a conflict, not a silent overwrite. */
	assert_int_equal(fw_cfg_add_q35_defaults(f->fw, &cfg), -EEXIST);
}

static void test_q35_defaults_variants(void **state)
{
	struct fixture *f = *state;
	struct fw_cfg_q35_config cfg = {
		.mem = &f->mem, .nr_cpus = 2, .apic_id_limit = 4, .s3 = true, .s4 = true,
		.amd_ht_hole = true,
	};
	uint8_t b[64];

	assert_int_equal(fw_cfg_add_q35_defaults(f->fw, &(struct fw_cfg_q35_config){
		.mem = &f->mem, .nr_cpus = 4, .apic_id_limit = 2 }), -EINVAL);
	assert_int_equal(fw_cfg_add_q35_defaults(f->fw, &(struct fw_cfg_q35_config){
		.mem = &f->mem }), -EINVAL);
	assert_int_equal(fw_cfg_add_q35_defaults(f->fw, &cfg), 0);
	sel(f, FW_CFG_MAX_CPUS);
	rd(f, b, 2);
	assert_int_equal(b[0], 4);
	sel(f, FW_CFG_UUID);
	rd(f, b, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(read_file(f, "etc/system-states", b, sizeof(b)), 6);
	assert_memory_equal(b, "\x80\0\0\x81\x82\x80", 6);
	assert_int_equal(read_file(f, "etc/msr_feature_control", b, sizeof(b)), -1);
	/* RAM, the KVM pages, the HyperTransport window (as QEMU 7.2 on an
	 * AMD host gives a 512 MiB guest with KVM). */
	assert_int_equal(read_file(f, "etc/e820", b, sizeof(b)), 60);
	assert_memory_equal(b + 40, "\0\0\0\0\xfd\0\0\0\0\0\0\0\x03\0\0\0\x02\0\0\0", 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_layouts),
		cmocka_unit_test_setup_teardown(test_e820_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q35_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q35_defaults_variants, setup, teardown),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("e820", tests, NULL, NULL);
}
