/* SPDX-License-Identifier: MIT */
/*
 * A fake KVM behind the one ioctl call vmm/hyperv.c makes (struct
 * hyperv_kvm): KVM_CHECK_EXTENSION answers from a table of capabilities,
 * KVM_GET_SUPPORTED_HV_CPUID hands out a table the test sets (E2BIG while
 * the buffer is smaller, as KVM does), KVM_ENABLE_CAP is recorded,
 * KVM_SET_MSRS/KVM_GET_MSRS go to a small MSR store. Every call is
 * counted, with the fd it went to, so a test can say which file (system
 * or vCPU) an ioctl must use.
 */
#ifndef MINIVMM_TEST_FAKE_KVM_H
#define MINIVMM_TEST_FAKE_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/hyperv.h"

#define FK_SYS_FD	500	/* fake fds: never real ones */
#define FK_VCPU_FD	501
#define FK_MAX_CAPS	256
#define FK_MAX_ENABLED	16
#define FK_MAX_MSRS	32

struct fake_kvm {
	struct hyperv_kvm k;		/* what the code under test gets */
	bool caps[FK_MAX_CAPS];		/* KVM_CHECK_EXTENSION answers */
	struct kvm_cpuid_entry2 hv[32];	/* KVM_GET_SUPPORTED_HV_CPUID */
	unsigned int nr_hv;
	int hv_fd;			/* the fd it was asked on, -1: never */
	unsigned int hv_calls;
	struct { int fd; uint32_t cap; uint64_t arg0; } enabled[FK_MAX_ENABLED];
	unsigned int nr_enabled;
	int enable_err;			/* non-zero: KVM_ENABLE_CAP fails so */
	struct { uint32_t index; uint64_t data; } msrs[FK_MAX_MSRS];
	unsigned int nr_msrs;
	unsigned int set_msrs_calls;
};

/* A KVM like Linux 6.1's on AMD: every capability, its Hyper-V leaves. */
void fake_kvm_init(struct fake_kvm *fk);
/* The supported Hyper-V leaf function, NULL if absent. */
struct kvm_cpuid_entry2 *fake_kvm_hv_leaf(struct fake_kvm *fk, uint32_t function);
bool fake_kvm_cap_enabled(const struct fake_kvm *fk, uint32_t cap, uint64_t *arg0);
bool fake_kvm_msr(const struct fake_kvm *fk, uint32_t index, uint64_t *data);
void fake_kvm_set_msr(struct fake_kvm *fk, uint32_t index, uint64_t data);

#endif
