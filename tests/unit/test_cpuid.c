// SPDX-License-Identifier: MIT
/* CPUID topology, added feature bits and the KVM signature hiding, from a
 * fake supported table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/cpuid.h"

static struct kvm_cpuid2 *fake_supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 32 * sizeof(c->entries[0]));
	unsigned int n = 0;

	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f,
		.ebx = 0x68747541, .edx = 0x69746e65, .ecx = 0x444d4163 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x800f12,
		.ebx = 0xff0800, .ecx = 0, .edx = 0x178bfbff };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x121 };	/* L1d */
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x163 };	/* L3 */
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 6, .eax = 0 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .ebx = 1 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
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
	for (unsigned int f = 0x80000002; f <= 0x80000004; f++)
		c->entries[n++] = (struct kvm_cpuid_entry2){ .function = f };	/* KVM: no brand */
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x7007 };
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001d, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x4121 };	/* L1d */
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001d, .index = 3,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x3c163 };	/* L3 */
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


/* 1 socket x 4 cores x 2 threads, vCPU 5 (APIC ID 5: core 2, thread 1). */
static void test_shape_smt(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 5, .nr_vcpus = 8, .cores = 4, .threads = 2 };
	struct kvm_cpuid_entry2 *e;

	c = cpuid_build(sup, &t);
	assert_non_null(c);
	e = cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 5);
	assert_int_equal((e->ebx >> 16) & 0xff, 8);
	assert_true(e->edx & (1u << 28));
	e = cpuid_find(c, 4, 0);				/* L1d: a core's threads */
	assert_int_equal((e->eax >> 14) & 0xfff, 1);
	assert_int_equal(e->eax >> 26, 3);			/* 4 core IDs */
	assert_int_equal(e->eax & 0x3fff, 0x121);
	e = cpuid_find(c, 4, 3);				/* L3: the socket */
	assert_int_equal((e->eax >> 14) & 0xfff, 7);
	e = cpuid_find(c, 0xb, 0);
	assert_int_equal(e->eax, 1);
	assert_int_equal(e->ebx, 2);
	assert_int_equal(e->ecx, 0x100);
	assert_int_equal(e->edx, 5);
	e = cpuid_find(c, 0xb, 1);
	assert_int_equal(e->eax, 3);
	assert_int_equal(e->ebx, 8);
	assert_int_equal(e->ecx, 0x201);
	assert_int_equal(e->edx, 5);
	e = cpuid_find(c, 0x1f, 0);
	assert_int_equal(e->ebx, 2);
	e = cpuid_find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 7);
	assert_int_equal((e->ecx >> 12) & 0xf, 3);
	e = cpuid_find(c, 0x8000001d, 0);
	assert_int_equal((e->eax >> 14) & 0xfff, 1);
	assert_int_equal(e->eax & 0x3fff, 0x121);
	e = cpuid_find(c, 0x8000001d, 3);
	assert_int_equal((e->eax >> 14) & 0xfff, 7);
	e = cpuid_find(c, 0x8000001e, 0);
	assert_int_equal(e->eax, 5);
	assert_int_equal(e->ebx, 0x102);			/* 2 threads, core 2 */
	assert_int_equal(e->ecx, 0);
	free(c);
	free(sup);
}

/* 2 sockets x 3 cores x 2 threads: vCPU 7 is socket 1, core 0, thread 1,
 * APIC ID 9 (socket 1 starts at 8: the core field has room for 4). */
static void test_shape_sockets_gap(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 9, .nr_vcpus = 12, .cores = 3, .threads = 2 };
	struct kvm_cpuid_entry2 *e;

	c = cpuid_build(sup, &t);
	e = cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 9);
	assert_int_equal((e->ebx >> 16) & 0xff, 8);
	e = cpuid_find(c, 4, 3);
	assert_int_equal(e->eax >> 26, 3);
	assert_int_equal((e->eax >> 14) & 0xfff, 7);
	e = cpuid_find(c, 0xb, 0);
	assert_int_equal(e->eax, 1);
	assert_int_equal(e->ebx, 2);
	assert_int_equal(e->edx, 9);
	e = cpuid_find(c, 0xb, 1);
	assert_int_equal(e->eax, 3);
	assert_int_equal(e->ebx, 6);				/* per socket */
	e = cpuid_find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 5);
	assert_int_equal((e->ecx >> 12) & 0xf, 3);
	e = cpuid_find(c, 0x8000001d, 3);
	assert_int_equal((e->eax >> 14) & 0xfff, 5);
	e = cpuid_find(c, 0x8000001e, 0);
	assert_int_equal(e->eax, 9);
	assert_int_equal(e->ebx, 0x100);			/* core 0 */
	assert_int_equal(e->ecx, 1);				/* node = socket 1 */
	free(c);
	free(sup);
}

/* The bits QEMU adds to KVM_GET_SUPPORTED_CPUID for -cpu host. */
static void test_features(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 0, .nr_vcpus = 1, .tsc_deadline = true,
				    .host_7_0_ebx = 1u << 9 | 1u << 5, .host_7_0_edx = 1u << 4 | 1,
				    .host_7_1_eax = 7u << 10 | 1 };
	struct kvm_cpuid_entry2 *e;

	cpuid_find(sup, 1, 0)->edx &= ~0x15080u;		/* as kernels < 2.6.30 */
	c = cpuid_build(sup, &t);
	e = cpuid_find(c, 1, 0);
	assert_true(e->ecx & (1u << 24));			/* TSC-deadline */
	assert_int_equal(e->edx, 0x078bfbffu);			/* MCE MTRR MCA PAT back; 1 CPU: no HTT */
	assert_true(cpuid_find(c, 6, 0)->eax & (1u << 2));	/* ARAT */
	e = cpuid_find(c, 7, 0);
	assert_int_equal(e->ebx, 1u | 1u << 9);			/* ERMS, not the rest */
	assert_int_equal(e->edx, 1u << 4);			/* FSRM */
	assert_int_equal(cpuid_find(c, 7, 1)->eax, 7u << 10);	/* FZRM FSRS FSRC */
	e = cpuid_find(c, 0x80000001, 0);
	assert_int_equal(e->edx, 0x0183f3ffu & 0x178bfbffu);	/* AMD: leaf 1's aliases */
	assert_true(e->ecx & (1u << 22));			/* TopoExt */
	assert_int_equal(cpuid_find(c, 0x80000002, 0)->eax, 0);	/* no host brand given */
	free(c);

	/* The host's brand string fills KVM's empty 0x80000002-4. */
	{
		char brand[48] = "AMD EPYC Processor";
		uint32_t words[12];

		memcpy(words, brand, sizeof(words));
		t.host_brand = words;
		c = cpuid_build(sup, &t);
		for (unsigned int i = 0; i < 3; i++) {
			e = cpuid_find(c, 0x80000002 + i, 0);
			assert_memory_equal(&e->eax, &words[4 * i], 4);
			assert_memory_equal(&e->ebx, &words[4 * i + 1], 4);
			assert_memory_equal(&e->ecx, &words[4 * i + 2], 4);
			assert_memory_equal(&e->edx, &words[4 * i + 3], 4);
		}
		free(c);
		t.host_brand = NULL;
	}

	/* Without KVM_CAP_TSC_DEADLINE_TIMER: no bit. */
	t.tsc_deadline = false;
	c = cpuid_build(sup, &t);
	assert_false(cpuid_find(c, 1, 0)->ecx & (1u << 24));
	free(c);
	free(sup);
}

/* GenuineIntel: no AMD-only bits (CmpLegacy, aliases, TopoExt). */
static void test_intel(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct cpuid_topology t = { .apic_id = 1, .nr_vcpus = 4, .cores = 2, .threads = 2 };
	struct kvm_cpuid_entry2 *e;

	e = cpuid_find(sup, 0, 0);
	e->ebx = 0x756e6547;
	e->edx = 0x49656e69;
	e->ecx = 0x6c65746e;
	c = cpuid_build(sup, &t);
	e = cpuid_find(c, 0x80000001, 0);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(e->edx, 0);
	assert_true(cpuid_find(c, 1, 0)->edx & (1u << 28));	/* HTT */
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
		cmocka_unit_test(test_shape_smt),
		cmocka_unit_test(test_shape_sockets_gap),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_intel),
	};

	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
