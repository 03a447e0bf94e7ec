// SPDX-License-Identifier: MIT
/*
 * The Hyper-V enlightenments (vmm/hyperv.c): KVM's supported leaves in,
 * the guest's leaves out; KVM's own leaves moved to 0x40000100; the
 * per-vCPU set-up (SynIC2, enforced CPUID, the crash MSR) and the crash
 * report against the fake KVM (tests/unit/fake_kvm.c); KVM_EXIT_HYPERV.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/fake_kvm.h"
#include "vmm/cpuid.h"
#include "vmm/hyperv.h"

#define F(x)	(1u << (x))
#define ALL_BUT_AVIC	((F(HV_NR_FEATURES) - 1) & ~F(HV_AVIC))

static struct kvm_cpuid2 *table_of(struct fake_kvm *fk)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + fk->nr_hv * sizeof(c->entries[0]));

	c->nent = fk->nr_hv;
	memcpy(c->entries, fk->hv, fk->nr_hv * sizeof(fk->hv[0]));
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct hyperv_cpuid *hv, uint32_t f)
{
	for (unsigned int i = 0; i < hv->nent; i++)
		if (hv->leaves[i].function == f)
			return &hv->leaves[i];
	return NULL;
}

/* Linux 6.1's KVM, no APICv: every feature but the AutoEOI hint. */
static void test_build_all(void **state)
{
	struct hyperv_config cfg = { .kvm_synic2 = true };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	struct kvm_cpuid2 *sup;
	char list[256];

	fake_kvm_init(&fk);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), 0);
	assert_int_equal(hv.enabled, ALL_BUT_AVIC);
	assert_int_equal(hv.missing, 0);
	assert_int_equal(hv.nent, 6);
	/* 0x40000000: max leaf 5 (no nested leaves), "Microsoft Hv". */
	assert_int_equal(leaf(&hv, 0x40000000)->eax, 0x40000005);
	assert_memory_equal(&leaf(&hv, 0x40000000)->ebx, "Micr", 4);
	assert_memory_equal(&leaf(&hv, 0x40000000)->ecx, "osof", 4);
	assert_memory_equal(&leaf(&hv, 0x40000000)->edx, "t Hv", 4);
	assert_int_equal(leaf(&hv, 0x40000001)->eax, 0x31237648);	/* Hv#1 */
	assert_int_equal(leaf(&hv, 0x40000002)->eax, 0x3839);		/* KVM's version */
	assert_int_equal(leaf(&hv, 0x40000002)->ebx, 0xa0000);
	/* Privileges: runtime, refcount, SynIC, stimers, APIC MSRs, hypercall,
	 * VP index, reset, TSC page, frequencies, reenlightenment; not the
	 * invariant TSC (bit 15) nor the stats pages. */
	assert_int_equal(leaf(&hv, 0x40000003)->eax, 0x2aff);
	/* No VMBus: no PostMessage/SignalEvent, nor debugging privileges. */
	assert_int_equal(leaf(&hv, 0x40000003)->ebx, 0);
	/* Frequencies, crash MSRs, extended GVA ranges, direct stimers; no
	 * debugging, no XMM input. */
	assert_int_equal(leaf(&hv, 0x40000003)->edx, 0x84500);
	/* Remote TLB flush, APIC MSRs (no APICv here), relaxed, cluster IPI,
	 * ex processor masks; no AutoEOI hint, no core-sharing claim. */
	assert_int_equal(leaf(&hv, 0x40000004)->eax, 0xc2c);
	assert_int_equal(leaf(&hv, 0x40000004)->ebx, 0x1fff);
	assert_int_equal(leaf(&hv, 0x40000005)->eax, 1024);
	assert_int_equal(leaf(&hv, 0x40000005)->ebx, 64);
	for (unsigned int i = 0; i < hv.nent; i++)
		assert_int_equal(hv.leaves[i].flags, 0);
	hyperv_feature_list(hv.enabled, list, sizeof(list));
	assert_string_equal(list, "relaxed vapic spinlocks vpindex runtime time crash reset synic "
			    "stimer stimer-direct frequencies reenlightenment tlbflush tlbflush-ext ipi");
	assert_string_equal(hyperv_feature_name(HV_AVIC), "avic");
	assert_string_equal(hyperv_feature_name(HV_NR_FEATURES), "?");
	free(sup);
}

/* With APICv/AVIC on the host: no AutoEOI (so KVM keeps it on), and the
 * APIC MSRs are available but not recommended. */
static void test_build_apicv(void **state)
{
	struct hyperv_config cfg = { .apicv = true, .kvm_synic2 = true };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	struct kvm_cpuid2 *sup;

	fake_kvm_init(&fk);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), 0);
	assert_true(hv.enabled & F(HV_AVIC));
	assert_true(leaf(&hv, 0x40000004)->eax & (1u << 9));
	assert_false(leaf(&hv, 0x40000004)->eax & (1u << 3));
	assert_true(leaf(&hv, 0x40000003)->eax & (1u << 4));
	free(sup);
}

/* An older KVM: no direct stimers, no SYNIC2, no reference TSC page. What
 * depends on a missing feature goes too, and is reported. */
static void test_build_missing(void **state)
{
	struct hyperv_config cfg = { .kvm_synic2 = false };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	struct kvm_cpuid2 *sup;
	char list[256];

	fake_kvm_init(&fk);
	fake_kvm_hv_leaf(&fk, 0x40000003)->edx &= ~(1u << 19);
	fake_kvm_hv_leaf(&fk, 0x40000003)->eax &= ~(1u << 9);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), 0);
	hyperv_feature_list(hv.missing, list, sizeof(list));
	assert_string_equal(list, "time synic stimer stimer-direct");
	assert_false(leaf(&hv, 0x40000003)->eax & ((1u << 1) | (1u << 2) | (1u << 3)));
	assert_false(leaf(&hv, 0x40000003)->edx & (1u << 19));
	assert_true(hv.enabled & F(HV_CRASH));
	free(sup);
}

/* No Hv#1, or no hypercall MSRs: no Hyper-V at all. */
static void test_build_none(void **state)
{
	struct hyperv_config cfg = { .kvm_synic2 = true };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	struct kvm_cpuid2 *sup;

	fake_kvm_init(&fk);
	fake_kvm_hv_leaf(&fk, 0x40000001)->eax = 0;
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), -ENOTSUP);
	free(sup);
	fake_kvm_init(&fk);
	fake_kvm_hv_leaf(&fk, 0x40000003)->eax &= ~(1u << 5);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), -ENOTSUP);
	free(sup);
}

static void test_vendor_id(void **state)
{
	struct hyperv_config cfg = { .vendor_id = "minivmm", .kvm_synic2 = true };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	struct kvm_cpuid2 *sup;

	fake_kvm_init(&fk);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), 0);
	assert_int_equal(leaf(&hv, 0x40000000)->ebx, 0x696e696d);	/* "mini" */
	assert_int_equal(leaf(&hv, 0x40000000)->ecx, 0x006d6d76);	/* "vmm\0" */
	assert_int_equal(leaf(&hv, 0x40000000)->edx, 0);
	assert_int_equal(leaf(&hv, 0x40000001)->eax, 0x31237648);	/* still Hv#1 */
	free(sup);
}

static const struct kvm_cpuid_entry2 *find2(const struct kvm_cpuid2 *c, uint32_t f)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == f)
			return &c->entries[i];
	return NULL;
}

/* A vCPU's table (topology from vmm/cpuid.c) with the Hyper-V leaves:
 * KVM's at 0x40000100, Hyper-V's at 0x40000000, nothing else moved. */
static void test_merge(void **state)
{
	struct kvm_cpuid2 *base = calloc(1, sizeof(*base) + 8 * sizeof(base->entries[0]));
	struct hyperv_config cfg = { .kvm_synic2 = true };
	struct cpuid_topology topo = { .apic_id = 1, .nr_vcpus = 2 };
	struct kvm_cpuid2 *sup, *c, *m;
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	const struct kvm_cpuid_entry2 *e;

	base->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	base->entries[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x800 };
	base->entries[2] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001,
		.ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d };	/* KVMKVMKVM */
	base->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x01007afb };
	base->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000008 };
	base->nent = 5;
	fake_kvm_init(&fk);
	sup = table_of(&fk);
	assert_int_equal(hyperv_cpuid_build(sup, &cfg, &hv), 0);

	c = cpuid_build(base, &topo);
	m = hyperv_cpuid_merge(c, &hv);
	assert_non_null(m);
	assert_int_equal(m->nent, c->nent + 6);
	e = find2(m, 0x40000100);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000101);
	assert_int_equal(e->ebx, 0x4b4d564b);
	assert_int_equal(find2(m, 0x40000101)->eax, 0x01007afb);
	assert_memory_equal(&find2(m, 0x40000000)->ebx, "Micr", 4);
	assert_int_equal(find2(m, 0x40000001)->eax, 0x31237648);
	assert_int_equal(find2(m, 1)->ebx >> 24, 1);		/* topology kept */
	assert_non_null(find2(m, 0x80000000));
	free(m);
	free(c);

	/* --hide-kvm: no KVM leaves to move, only Hyper-V's. */
	topo.hide_kvm = true;
	c = cpuid_build(base, &topo);
	m = hyperv_cpuid_merge(c, &hv);
	assert_null(find2(m, 0x40000100));
	assert_null(find2(m, 0x40000101));
	assert_int_equal(find2(m, 0x40000000)->eax, 0x40000005);
	free(m);
	free(c);
	free(sup);
	free(base);
}

/* One vCPU's set-up against the fake KVM: the system ioctl for the leaves,
 * SYNIC2 and ENFORCE_CPUID on the vCPU, CRASH_CTL written. */
static void test_vcpu_setup(void **state)
{
	struct hyperv_config cfg = { 0 };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;
	uint64_t v, p[5];

	fake_kvm_init(&fk);
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), 0);
	assert_int_equal(fk.hv_fd, FK_SYS_FD);
	assert_int_equal(hv.enabled, ALL_BUT_AVIC);
	assert_true(fake_kvm_cap_enabled(&fk, KVM_CAP_HYPERV_SYNIC2, NULL));
	assert_true(fake_kvm_cap_enabled(&fk, KVM_CAP_HYPERV_ENFORCE_CPUID, &v));
	assert_int_equal(v, 1);
	assert_int_equal(hyperv_vcpu_set_msrs(&fk.k, FK_VCPU_FD, &hv), 0);
	assert_true(fake_kvm_msr(&fk, 0x40000105, &v));
	assert_int_equal(v, 1ull << 63);

	/* What Linux's hyperv_report_panic writes, read back for the log. */
	for (unsigned int i = 0; i < 5; i++)
		fake_kvm_set_msr(&fk, 0x40000100 + i, 0x1111 * (i + 1));
	assert_int_equal(hyperv_read_crash(&fk.k, FK_VCPU_FD, p), 0);
	assert_int_equal(p[0], 0x1111);
	assert_int_equal(p[4], 0x5555);

	/* Without the crash feature, no MSR is written. */
	hv.enabled &= ~F(HV_CRASH);
	fk.set_msrs_calls = 0;
	assert_int_equal(hyperv_vcpu_set_msrs(&fk.k, FK_VCPU_FD, &hv), 0);
	assert_int_equal(fk.set_msrs_calls, 0);
}

/* Older kernels: no system ioctl (the vCPU's is used), no enforcement,
 * no Hyper-V CPUID at all (-ENOTSUP, nothing enabled); a refused cap. */
static void test_vcpu_old_kvm(void **state)
{
	struct hyperv_config cfg = { 0 };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;

	fake_kvm_init(&fk);
	fk.caps[KVM_CAP_SYS_HYPERV_CPUID] = false;
	fk.caps[KVM_CAP_HYPERV_ENFORCE_CPUID] = false;
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), 0);
	assert_int_equal(fk.hv_fd, FK_VCPU_FD);
	assert_true(fk.hv_calls >= 1);
	assert_true(fake_kvm_cap_enabled(&fk, KVM_CAP_HYPERV_SYNIC2, NULL));
	assert_false(fake_kvm_cap_enabled(&fk, KVM_CAP_HYPERV_ENFORCE_CPUID, NULL));

	fake_kvm_init(&fk);
	fk.caps[KVM_CAP_HYPERV_SYNIC2] = false;
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), 0);
	assert_false(hv.enabled & F(HV_STIMER));
	assert_false(fake_kvm_cap_enabled(&fk, KVM_CAP_HYPERV_SYNIC2, NULL));

	fake_kvm_init(&fk);
	fk.caps[KVM_CAP_HYPERV_CPUID] = false;
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), -ENOTSUP);
	assert_int_equal(fk.hv_calls, 0);
	assert_int_equal(fk.nr_enabled, 0);

	fake_kvm_init(&fk);
	fk.enable_err = -EBUSY;
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), -EBUSY);
}

/* KVM_GET_SUPPORTED_HV_CPUID fails with E2BIG and no size: the buffer
 * grows until the table fits. */
static void test_vcpu_e2big(void **state)
{
	struct hyperv_config cfg = { 0 };
	struct fake_kvm fk;
	struct hyperv_cpuid hv;

	fake_kvm_init(&fk);
	/* The first buffer holds 16: give it 17 (leaves a newer KVM might add). */
	for (uint32_t f = 0x40000083; fk.nr_hv < 17; f++)
		fk.hv[fk.nr_hv++] = (struct kvm_cpuid_entry2){ .function = f };
	assert_int_equal(hyperv_vcpu_init(&fk.k, FK_VCPU_FD, &cfg, &hv), 0);
	assert_int_equal(fk.hv_calls, 2);
	assert_int_equal(hv.enabled, ALL_BUT_AVIC);
}

static void test_handle_exit(void **state)
{
	struct kvm_hyperv_exit e = { .type = KVM_EXIT_HYPERV_HCALL };

	e.u.hcall.input = 0x5c;		/* HvCallPostMessage */
	assert_int_equal(hyperv_handle_exit(&e), 0);
	assert_int_equal(e.u.hcall.result, 2);	/* HV_STATUS_INVALID_HYPERCALL_CODE */
	memset(&e, 0, sizeof(e));
	e.type = KVM_EXIT_HYPERV_SYNIC;
	e.u.synic.msr = 0x40000080;
	assert_int_equal(hyperv_handle_exit(&e), 0);
	e.type = 77;
	assert_int_equal(hyperv_handle_exit(&e), 0);
}

static void put(const char *root, const char *rel, const char *val)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p $(dirname %s/%s)", root, rel);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static void test_host_apicv(void **state)
{
	char root[] = "/tmp/minivmm-hv-XXXXXX", cmd[64];

	assert_non_null(mkdtemp(root));
	assert_false(hyperv_host_apicv(root));		/* no KVM module */
	put(root, "module/kvm_amd/parameters/avic", "N");
	assert_false(hyperv_host_apicv(root));
	put(root, "module/kvm_amd/parameters/avic", "1");
	assert_true(hyperv_host_apicv(root));
	put(root, "module/kvm_amd/parameters/avic", "0");
	put(root, "module/kvm_intel/parameters/enable_apicv", "Y");
	assert_true(hyperv_host_apicv(root));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_all),
		cmocka_unit_test(test_build_apicv),
		cmocka_unit_test(test_build_missing),
		cmocka_unit_test(test_build_none),
		cmocka_unit_test(test_vendor_id),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_vcpu_setup),
		cmocka_unit_test(test_vcpu_old_kvm),
		cmocka_unit_test(test_vcpu_e2big),
		cmocka_unit_test(test_handle_exit),
		cmocka_unit_test(test_host_apicv),
	};

	return cmocka_run_group_tests_name("hyperv", tests, NULL, NULL);
}
