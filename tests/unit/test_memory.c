// SPDX-License-Identifier: MIT
/* The q35-style memory map and the bounds-checked guest memory API. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/memory.h"

static const struct mem_region *region_at(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned int i = 0; i < m->nr_regions; i++)
		if (m->regions[i].gpa == gpa)
			return &m->regions[i];
	return NULL;
}

static void test_layout_small(void **state)
{
	struct guest_mem m;

	assert_int_equal(mem_layout(&m, 512 * MiB, 64 * KiB), 0);
	assert_int_equal(m.low_end, 512 * MiB);
	assert_int_equal(m.high_size, 0);
	assert_int_equal(m.nr_regions, 3);
	assert_int_equal(m.regions[0].gpa, 0);
	assert_int_equal(m.regions[0].size, 0xA0000);
	/* VGA hole, then RAM up to the 64 KiB isa-bios alias. */
	assert_int_equal(m.regions[1].gpa, 0xC0000);
	assert_int_equal(m.regions[1].size, 0xF0000 - 0xC0000);
	assert_int_equal(m.regions[2].gpa, MiB);
	assert_int_equal(m.regions[2].size, 511 * MiB);
	assert_int_equal(m.regions[2].offset, MiB);
}

static void test_layout_full_isa_alias(void **state)
{
	struct guest_mem m;

	/* A 2 MiB image: only its last 128 KiB are aliased. */
	assert_int_equal(mem_layout(&m, 1 * GiB, 2 * MiB), 0);
	assert_non_null(region_at(&m, 0xC0000));
	assert_int_equal(region_at(&m, 0xC0000)->size, 0xE0000 - 0xC0000);
}

static void test_layout_no_alias(void **state)
{
	struct guest_mem m;

	assert_int_equal(mem_layout(&m, 1 * GiB, 0), 0);
	assert_int_equal(region_at(&m, 0xC0000)->size, 0x40000);
}

static void test_layout_below_pci_hole(void **state)
{
	struct guest_mem m;

	/* 2.5 GiB fits below the ECAM base: no high RAM. */
	assert_int_equal(mem_layout(&m, 2560 * MiB, 0), 0);
	assert_int_equal(m.low_end, 2560 * MiB);
	assert_int_equal(m.high_size, 0);
	/* 2.75 GiB would touch ECAM: split at 2 GiB like QEMU's q35. */
	assert_int_equal(mem_layout(&m, 0xB0000000ULL, 0), 0);
	assert_int_equal(m.low_end, 2 * GiB);
	assert_int_equal(m.high_size, 0xB0000000ULL - 2 * GiB);
}

static void test_layout_high(void **state)
{
	struct guest_mem m;
	const struct mem_region *hi;

	assert_int_equal(mem_layout(&m, 16 * GiB, 0), 0);
	assert_int_equal(m.low_end, 2 * GiB);
	assert_int_equal(m.high_size, 14 * GiB);
	hi = region_at(&m, 4 * GiB);
	assert_non_null(hi);
	assert_int_equal(hi->size, 14 * GiB);
	assert_int_equal(hi->offset, 2 * GiB);
	/* Nothing may map over ECAM, the 32-bit PCI window, IOAPIC, LAPIC
	 * or the firmware. */
	for (unsigned int i = 0; i < m.nr_regions; i++) {
		const struct mem_region *r = &m.regions[i];

		assert_true(r->gpa + r->size <= MEM_ECAM_BASE || r->gpa >= MEM_4G);
	}
}

static void test_layout_too_small(void **state)
{
	struct guest_mem m;

	assert_int_equal(mem_layout(&m, MEM_MIN_SIZE - 4096, 0), -EINVAL);
	assert_int_equal(mem_layout(&m, 0, 0), -EINVAL);
}

static void test_guest_mem_ptr(void **state)
{
	struct guest_mem m;
	void *p;

	assert_int_equal(mem_layout(&m, 6 * GiB, 64 * KiB), 0);
	m.base = (uint8_t *)0x10000000;	/* never dereferenced */

	assert_int_equal(guest_mem_ptr(&m, 0x1000, 16, &p), 0);
	assert_ptr_equal(p, m.base + 0x1000);
	/* Last byte of conventional memory, then across into the VGA hole. */
	assert_int_equal(guest_mem_ptr(&m, 0x9FFFF, 1, &p), 0);
	assert_int_equal(guest_mem_ptr(&m, 0x9FFFF, 2, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, 0xA0000, 1, &p), -EFAULT);
	/* The isa-bios alias is ROM, not RAM. */
	assert_int_equal(guest_mem_ptr(&m, 0xFFFF0, 4, &p), -EFAULT);
	/* High RAM maps to the backing right after low RAM. */
	assert_int_equal(guest_mem_ptr(&m, 4 * GiB + 8, 8, &p), 0);
	assert_ptr_equal(p, m.base + 2 * GiB + 8);
	/* The PCI hole, ECAM and the end of RAM. */
	assert_int_equal(guest_mem_ptr(&m, 2 * GiB, 1, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, MEM_ECAM_BASE, 4, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, 8 * GiB - 4, 4, &p), 0);
	assert_int_equal(guest_mem_ptr(&m, 8 * GiB - 4, 5, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, 8 * GiB, 0, &p), -EFAULT);
	/* Values a hostile guest picks to overflow gpa + len. */
	assert_int_equal(guest_mem_ptr(&m, 0x1000, UINT64_MAX, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, UINT64_MAX, 2, &p), -EFAULT);
	assert_int_equal(guest_mem_ptr(&m, UINT64_MAX - 0xfff, 0x1000, &p), -EFAULT);
}

static void test_guest_mem_copy(void **state)
{
	struct guest_mem m;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8] = { 0 };

	assert_int_equal(mem_layout(&m, 64 * MiB, 0), 0);
	assert_int_equal(mem_alloc(&m, MEM_BACKING_ANON, "/sys"), 0);
	assert_int_equal(guest_mem_write(&m, 0x2000, buf, sizeof(buf)), 0);
	assert_int_equal(guest_mem_read(&m, 0x2000, back, sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(guest_mem_write(&m, 64 * MiB - 4, buf, sizeof(buf)), -EFAULT);
	mem_free(&m);
}

static void test_hugepages_pool_short(void **state)
{
	struct guest_mem m;
	char dir[] = "/tmp/minivmm-sysfs-XXXXXX";
	char cmd[256];

	/* A fake sysfs with 10 free 2 MiB pages: 64 MiB needs 32. */
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/kernel/mm/hugepages/hugepages-2048kB && "
		 "echo 10 > %s/kernel/mm/hugepages/hugepages-2048kB/free_hugepages && "
		 "echo 0 > %s/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages",
		 dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mem_layout(&m, 64 * MiB, 0), 0);
	assert_int_equal(mem_alloc(&m, MEM_BACKING_HUGE_2M, dir), -ENOMEM);
	assert_null(m.base);
	/* No 1 GiB pool at all. */
	assert_int_equal(mem_layout(&m, 1 * GiB, 0), 0);
	assert_int_equal(mem_alloc(&m, MEM_BACKING_HUGE_1G, dir), -ENOMEM);
	/* Not a multiple of the page size. */
	assert_int_equal(mem_layout(&m, 65 * MiB, 0), 0);
	assert_int_equal(mem_alloc(&m, MEM_BACKING_HUGE_2M, dir), -EINVAL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_small),
		cmocka_unit_test(test_layout_full_isa_alias),
		cmocka_unit_test(test_layout_no_alias),
		cmocka_unit_test(test_layout_below_pci_hole),
		cmocka_unit_test(test_layout_high),
		cmocka_unit_test(test_layout_too_small),
		cmocka_unit_test(test_guest_mem_ptr),
		cmocka_unit_test(test_guest_mem_copy),
		cmocka_unit_test(test_hugepages_pool_short),
	};

	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
