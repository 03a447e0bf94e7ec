// SPDX-License-Identifier: MIT
/* The fake KVM of tests/unit/fake_kvm.h. */
#include <errno.h>
#include <string.h>

#include "tests/unit/fake_kvm.h"

struct kvm_cpuid_entry2 *fake_kvm_hv_leaf(struct fake_kvm *fk, uint32_t function)
{
	for (unsigned int i = 0; i < fk->nr_hv; i++)
		if (fk->hv[i].function == function)
			return &fk->hv[i];
	return NULL;
}

bool fake_kvm_cap_enabled(const struct fake_kvm *fk, uint32_t cap, uint64_t *arg0)
{
	for (unsigned int i = 0; i < fk->nr_enabled; i++) {
		if (fk->enabled[i].cap == cap) {
			if (arg0)
				*arg0 = fk->enabled[i].arg0;
			return true;
		}
	}
	return false;
}

bool fake_kvm_msr(const struct fake_kvm *fk, uint32_t index, uint64_t *data)
{
	for (unsigned int i = 0; i < fk->nr_msrs; i++) {
		if (fk->msrs[i].index == index) {
			*data = fk->msrs[i].data;
			return true;
		}
	}
	return false;
}

void fake_kvm_set_msr(struct fake_kvm *fk, uint32_t index, uint64_t data)
{
	for (unsigned int i = 0; i < fk->nr_msrs; i++) {
		if (fk->msrs[i].index == index) {
			fk->msrs[i].data = data;
			return;
		}
	}
	if (fk->nr_msrs < FK_MAX_MSRS) {
		fk->msrs[fk->nr_msrs].index = index;
		fk->msrs[fk->nr_msrs++].data = data;
	}
}

/* Only the Hyper-V MSRs: KVM_SET/GET_MSRS stop at the first other one. */
static bool fake_msr_known(uint32_t index)
{
	return index >= 0x40000000 && index < 0x40000200;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct fake_kvm *fk = ctx;

	if (fd != FK_SYS_FD && fd != FK_VCPU_FD)
		return -EBADF;
	switch (req) {
	case KVM_CHECK_EXTENSION: {
		long cap = (long)arg;

		return cap >= 0 && cap < FK_MAX_CAPS && fk->caps[cap] ? 1 : 0;
	}
	case KVM_GET_SUPPORTED_HV_CPUID: {
		struct kvm_cpuid2 *c = arg;

		fk->hv_calls++;
		fk->hv_fd = fd;
		if (fd == FK_SYS_FD && !fk->caps[KVM_CAP_SYS_HYPERV_CPUID])
			return -ENOTTY;
		if (c->nent < fk->nr_hv)
			return -E2BIG;	/* without the size, as KVM */
		c->nent = fk->nr_hv;
		memcpy(c->entries, fk->hv, fk->nr_hv * sizeof(fk->hv[0]));
		return 0;
	}
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap *ec = arg;

		if (fd != FK_VCPU_FD)
			return -EINVAL;
		if (fk->enable_err)
			return fk->enable_err;
		if (ec->cap >= FK_MAX_CAPS || !fk->caps[ec->cap])
			return -EINVAL;
		if (fk->nr_enabled < FK_MAX_ENABLED) {
			fk->enabled[fk->nr_enabled].fd = fd;
			fk->enabled[fk->nr_enabled].cap = ec->cap;
			fk->enabled[fk->nr_enabled++].arg0 = ec->args[0];
		}
		return 0;
	}
	case KVM_SET_MSRS:
	case KVM_GET_MSRS: {
		struct kvm_msrs *m = arg;
		unsigned int i;

		if (fd != FK_VCPU_FD)
			return -EINVAL;
		if (req == KVM_SET_MSRS)
			fk->set_msrs_calls++;
		for (i = 0; i < m->nmsrs && fake_msr_known(m->entries[i].index); i++) {
			if (req == KVM_SET_MSRS) {
				fake_kvm_set_msr(fk, m->entries[i].index, m->entries[i].data);
			} else {
				uint64_t v = 0;

				fake_kvm_msr(fk, m->entries[i].index, &v);
				m->entries[i].data = v;
			}
		}
		return (int)i;
	}
	default:
		return -ENOTTY;
	}
}

void fake_kvm_init(struct fake_kvm *fk)
{
	static const uint32_t caps[] = {
		KVM_CAP_HYPERV, KVM_CAP_HYPERV_VAPIC, KVM_CAP_HYPERV_SPIN, KVM_CAP_HYPERV_TIME,
		KVM_CAP_HYPERV_SYNIC, KVM_CAP_HYPERV_SYNIC2, KVM_CAP_HYPERV_VP_INDEX,
		KVM_CAP_HYPERV_TLBFLUSH, KVM_CAP_HYPERV_SEND_IPI, KVM_CAP_HYPERV_CPUID,
		KVM_CAP_SYS_HYPERV_CPUID, KVM_CAP_HYPERV_ENFORCE_CPUID,
	};
	unsigned int n = 0;

	memset(fk, 0, sizeof(*fk));
	fk->k = (struct hyperv_kvm){ .ioctl = fake_ioctl, .ctx = fk, .sys_fd = FK_SYS_FD };
	fk->hv_fd = -1;
	for (unsigned int i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		fk->caps[caps[i]] = true;
	/* arch/x86/kvm/hyperv.c kvm_get_hv_cpuid() of Linux 6.1 on AMD (no
	 * enlightened VMCS): what KVM_GET_SUPPORTED_HV_CPUID answers. */
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000082,
		.ebx = 0x756e694c, .ecx = 0x564b2078, .edx = 0x7648204d };	/* "Linux KVM Hv" */
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x31237648 };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000002, .eax = 0x00003839,
		.ebx = 0x000a0000 };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000003,
		.eax = 0xaaff,		/* runtime ... reference TSC, frequencies, reenlightenment,
					 * invariant TSC */
		.ebx = 0x100830,	/* post messages, signal events, debugging, extended hypercalls */
		.edx = 0x84d12 };	/* debugging, XMM input, frequencies, crash, debug MSRs,
					 * extended GVA ranges, stimer direct */
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000004,
		.eax = 0x40e2c,		/* remote TLB flush, APIC access, relaxed, deprecating AEOI,
					 * cluster IPI, ex processor masks, no non-arch core sharing */
		.ebx = 0xfff };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000005, .eax = 1024, .ebx = 64 };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000080,
		.ebx = 0x756e694c, .ecx = 0x564b2078, .edx = 0x7648204d };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000081, .eax = 0x31235356 };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000082, .eax = 2 };
	fk->hv[n++] = (struct kvm_cpuid_entry2){ .function = 0x4000000a, .eax = 0xa0000 };
	fk->nr_hv = n;
}
