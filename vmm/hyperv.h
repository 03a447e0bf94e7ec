/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V enlightenments (--hyperv): the CPUID leaves 0x40000000-0x40000005
 * a Hyper-V-aware guest (Windows; Linux) reads, built from what KVM
 * implements (KVM_GET_SUPPORTED_HV_CPUID) and filtered to the features
 * minivmm turns on; the per-vCPU KVM capabilities behind them (SynIC,
 * enforced CPUID); the guest's crash report through the crash MSRs.
 * Reference: Hyper-V Hypervisor Top Level Functional Specification (TLFS)
 * 6.0b, chapter "Feature and Interface Discovery", and the KVM API
 * (Documentation/virt/kvm/api.rst: KVM_GET_SUPPORTED_HV_CPUID,
 * KVM_CAP_HYPERV_SYNIC2, KVM_CAP_HYPERV_ENFORCE_CPUID, KVM_EXIT_HYPERV).
 * docs/windows.md ("Hyper-V enlightenments") says what a guest gets.
 */
#ifndef MINIVMM_HYPERV_H
#define MINIVMM_HYPERV_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define HV_CPUID_VENDOR		0x40000000u	/* max leaf, vendor id */
#define HV_CPUID_INTERFACE	0x40000001u	/* "Hv#1" */
#define HV_CPUID_VERSION	0x40000002u
#define HV_CPUID_FEATURES	0x40000003u
#define HV_CPUID_ENLIGHTENMENT	0x40000004u
#define HV_CPUID_LIMITS		0x40000005u
#define HV_CPUID_LEAVES		6		/* 0x40000000-0x40000005 */
#define HV_KVM_BASE		0x40000100u	/* where KVM's own leaves move (as QEMU does) */

#define HV_INTERFACE_SIGNATURE	0x31237648u	/* "Hv#1" */
#define HV_SPINLOCK_RETRIES	0x1fff

/* The crash MSRs (TLFS "Guest Crash Enlightenment"): P0-P4, then CTL. */
#define HV_X64_MSR_CRASH_P0	0x40000100u
#define HV_X64_MSR_CRASH_CTL	0x40000105u
#define HV_CRASH_CTL_CRASH_NOTIFY	(1ull << 63)

/* The features, by the names QEMU's hv-* flags and docs/windows.md use. */
enum hv_feature {
	HV_RELAXED, HV_VAPIC, HV_SPINLOCKS, HV_VPINDEX, HV_RUNTIME, HV_TIME,
	HV_CRASH, HV_RESET, HV_SYNIC, HV_STIMER, HV_STIMER_DIRECT,
	HV_FREQUENCIES, HV_REENLIGHTENMENT, HV_TLBFLUSH, HV_TLBFLUSH_EXT,
	HV_IPI, HV_AVIC, HV_NR_FEATURES
};

struct hyperv_config {
	const char *vendor_id;	/* NULL: "Microsoft Hv" (Linux needs exactly that) */
	/* The host runs APICv/AVIC: recommend no AutoEOI (HV_AVIC) so the
	 * SynIC does not turn it off; otherwise recommend the APIC MSRs. */
	bool apicv;
	bool kvm_synic2;	/* KVM has KVM_CAP_HYPERV_SYNIC2 (hyperv_vcpu_init fills it) */
};

/* The Hyper-V leaves one vCPU gets, and which features made it. */
struct hyperv_cpuid {
	struct kvm_cpuid_entry2 leaves[HV_CPUID_LEAVES];
	unsigned int nent;
	uint32_t enabled;	/* 1 << enum hv_feature */
	uint32_t missing;	/* wanted, but KVM does not implement it */
};

/* "relaxed" ... */
const char *hyperv_feature_name(enum hv_feature f);

/*
 * Pure: KVM's supported Hyper-V leaves (KVM_GET_SUPPORTED_HV_CPUID) in,
 * the guest's leaves out. A feature is on when KVM sets every bit it needs
 * and the features it depends on are on. -ENOTSUP when KVM reports no
 * Hyper-V interface at all.
 */
int hyperv_cpuid_build(const struct kvm_cpuid2 *kvm_hv, const struct hyperv_config *cfg,
		       struct hyperv_cpuid *out);

/*
 * Pure: base (a vCPU's table from cpuid_build) with its leaves in
 * [0x40000000, 0x40000100) — KVM's — moved up by 0x100, and hv's leaves
 * put at 0x40000000. calloc'ed (free()), NULL on allocation failure.
 */
struct kvm_cpuid2 *hyperv_cpuid_merge(const struct kvm_cpuid2 *base,
				      const struct hyperv_cpuid *hv);

/*
 * The KVM ioctls the set-up makes, through one call so that unit tests
 * answer them (tests/unit/fake_kvm.c). Returns what ioctl(2) returns, or
 * -errno.
 */
struct hyperv_kvm {
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	void *ctx;
	int sys_fd;		/* /dev/kvm */
};

/* The real one: ioctl(2). */
int hyperv_sys_ioctl(void *ctx, int fd, unsigned long req, void *arg);

/*
 * One vCPU, before KVM_SET_CPUID2: read KVM's Hyper-V leaves, build the
 * guest's into out, turn on the SynIC (KVM_CAP_HYPERV_SYNIC2) and, when
 * KVM has it, KVM_CAP_HYPERV_ENFORCE_CPUID. 0, -ENOTSUP (this KVM has no
 * KVM_GET_SUPPORTED_HV_CPUID), or -errno.
 */
int hyperv_vcpu_init(const struct hyperv_kvm *k, int vcpu_fd, const struct hyperv_config *cfg,
		     struct hyperv_cpuid *out);

/*
 * After KVM_SET_CPUID2 and before the vCPU's power-on state is saved:
 * HV_X64_MSR_CRASH_CTL says the guest may notify a crash (KVM lets the
 * guest read only what the host wrote). 0 or -errno.
 */
int hyperv_vcpu_set_msrs(const struct hyperv_kvm *k, int vcpu_fd, const struct hyperv_cpuid *hv);

/* KVM_SYSTEM_EVENT_CRASH: the five crash parameters P0-P4. 0 or -errno. */
int hyperv_read_crash(const struct hyperv_kvm *k, int vcpu_fd, uint64_t p[5]);

/*
 * KVM_EXIT_HYPERV (a Hyper-V guest's SynIC MSR write, or a hypercall KVM
 * leaves to userspace): minivmm has no VMBus, so a hypercall answers
 * HV_STATUS_INVALID_HYPERCALL_CODE and the rest is noted. Pure; returns 0
 * (resume the guest).
 */
int hyperv_handle_exit(struct kvm_hyperv_exit *e);

/* Does the host's KVM run APICv (Intel) or AVIC (AMD)? Reads the module
 * parameters under sysfs_root (/sys). */
bool hyperv_host_apicv(const char *sysfs_root);

/* "relaxed vapic spinlocks ..." for the log (buf of len bytes). */
void hyperv_feature_list(uint32_t mask, char *buf, unsigned long len);

#endif
