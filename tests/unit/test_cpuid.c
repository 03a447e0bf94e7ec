// SPDX-License-Identifier: MIT
/* CPUID topology and the KVM signature hiding, from a fake supported table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/cpuid.h"

static struct kvm_cpuid2 *fake_supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 16 * sizeof(c->entries[0]));
	unsigned int n = 0;

	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f,
		.ebx = 0x68747541, .edx = 0x69746e65, .ecx = 0x444d4163 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x800f12,
		.ebx = 0xff0800, .ecx = 0, .edx = 0x178bfbff };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x163 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .ebx = 2, .ecx = 0x100 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 4, .ebx = 16, .ecx = 0x201 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x1f, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000,
		.eax = 0x40000001, .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x1 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000001 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x7007 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 9 };
	c->nent = n;
	return c;
}

static void test_topology(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 5, .nr_vcpus = 6 };
	struct kvm_cpuid_entry2 *e;

	c = cpuid_build(sup, &t);
	assert_non_null(c);
	e = cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 5);			/* APIC ID */
	assert_int_equal((e->ebx >> 16) & 0xff, 8);		/* 2^3 >= 6 */
	assert_true(e->edx & (1u << 28));			/* HTT */
	assert_int_equal(e->ebx & 0xffff, 0x0800);		/* rest kept */
	assert_true(e->ecx & (1u << 31));			/* hypervisor present */
	e = cpuid_find(c, 4, 3);
	assert_int_equal(e->eax >> 26, 7);
	e = cpuid_find(c, 0xb, 0);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->ecx, 0x100);
	assert_int_equal(e->edx, 5);
	e = cpuid_find(c, 0xb, 1);
	assert_int_equal(e->eax, 3);
	assert_int_equal(e->ebx, 6);
	assert_int_equal(e->ecx, 0x201);
	assert_int_equal(e->edx, 5);
	e = cpuid_find(c, 0xb, 2);
	assert_non_null(e);
	assert_int_equal((e->ecx >> 8) & 0xff, 0);		/* end of levels */
	e = cpuid_find(c, 0x1f, 1);
	assert_non_null(e);
	assert_int_equal(e->ebx, 6);
	e = cpuid_find(c, 0x80000001, 0);
	assert_true(e->ecx & 2);				/* CmpLegacy */
	e = cpuid_find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 5);
	assert_int_equal((e->ecx >> 12) & 0xf, 3);
	e = cpuid_find(c, 0x8000001e, 0);
	assert_int_equal(e->eax, 5);
	/* KVM signature present by default. */
	assert_non_null(cpuid_find(c, 0x40000000, 0));
	free(c);
	free(sup);
}

static void test_single_vcpu(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 0, .nr_vcpus = 1 };
	struct kvm_cpuid_entry2 *e;

	c = cpuid_build(sup, &t);
	e = cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 0);
	assert_false(e->edx & (1u << 28));
	e = cpuid_find(c, 0xb, 1);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	e = cpuid_find(c, 0x80000001, 0);
	assert_false(e->ecx & 2);
	free(c);
	free(sup);
}

static void test_hide_kvm(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 0, .nr_vcpus = 2, .hide_kvm = true };

	c = cpuid_build(sup, &t);
	assert_null(cpuid_find(c, 0x40000000, 0));
	assert_null(cpuid_find(c, 0x40000001, 0));
	/* The hypervisor bit stays, as with QEMU's kvm=off. */
	assert_true(cpuid_find(c, 1, 0)->ecx & (1u << 31));
	free(c);
	free(sup);
}

static void test_hv_vendor_id(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 0, .nr_vcpus = 1, .hv_vendor_id = "minivmm" };
	struct kvm_cpuid_entry2 *e;

	c = cpuid_build(sup, &t);
	e = cpuid_find(c, 0x40000000, 0);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000001);		/* the leaves stay */
	assert_int_equal(e->ebx, 0x696e696d);		/* "mini" */
	assert_int_equal(e->ecx, 0x006d6d76);		/* "vmm\0" */
	assert_int_equal(e->edx, 0);
	assert_non_null(cpuid_find(c, 0x40000001, 0));
	free(c);
	free(sup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_single_vcpu),
		cmocka_unit_test(test_hide_kvm),
		cmocka_unit_test(test_hv_vendor_id),
	};

	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
