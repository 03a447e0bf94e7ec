// SPDX-License-Identifier: MIT
/*
 * Hyper-V enlightenments: the guest's CPUID leaves 0x40000000-0x40000005,
 * the per-vCPU KVM set-up behind them, the crash MSRs. KVM implements
 * every MSR and hypercall here (arch/x86/kvm/hyperv.c in Linux); minivmm
 * chooses what the guest is told and turns the SynIC on.
 *
 * Leaf layout, Hyper-V TLFS 6.0b, "Feature and Interface Discovery":
 *   0x40000000 "Hypervisor CPUID Leaf Range": max leaf, vendor id
 *   0x40000001 "Hypervisor Vendor-Neutral Interface Identification": Hv#1
 *   0x40000002 "Hypervisor System Identity": version (KVM's: 10.0.14393)
 *   0x40000003 "Hypervisor Feature Identification": EAX privileges (which
 *              synthetic MSRs exist), EBX more privileges, EDX features
 *   0x40000004 "Implementation Recommendations": EAX hints, EBX spinlock
 *              retries before HvCallNotifyLongSpinWait
 *   0x40000005 "Hypervisor Implementation Limits"
 * 0x40000006-0x4000000A describe nested virtualization (enlightened VMCS,
 * hardware features in use): not offered, so the max leaf is 0x40000005.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/sysfs.h"
#include "vmm/hyperv.h"

enum { R_EAX, R_EBX, R_ECX, R_EDX };

/* 0x40000003 EAX (TLFS "Partition Privilege Flags", low half) */
#define HV_VP_RUNTIME_AVAILABLE		(1u << 0)
#define HV_TIME_REF_COUNT_AVAILABLE	(1u << 1)
#define HV_SYNIC_AVAILABLE		(1u << 2)
#define HV_SYNTIMERS_AVAILABLE		(1u << 3)
#define HV_APIC_ACCESS_AVAILABLE	(1u << 4)
#define HV_HYPERCALL_AVAILABLE		(1u << 5)
#define HV_VP_INDEX_AVAILABLE		(1u << 6)
#define HV_RESET_AVAILABLE		(1u << 7)
#define HV_REFERENCE_TSC_AVAILABLE	(1u << 9)
#define HV_ACCESS_FREQUENCY_MSRS	(1u << 11)
#define HV_ACCESS_REENLIGHTENMENT	(1u << 13)
/* 0x40000003 EDX */
#define HV_FREQUENCY_MSRS_AVAILABLE	(1u << 8)
#define HV_GUEST_CRASH_MSR_AVAILABLE	(1u << 10)
#define HV_EXT_GVA_RANGES_FLUSH		(1u << 14)
#define HV_STIMER_DIRECT_MODE_AVAILABLE	(1u << 19)
/* 0x40000004 EAX */
#define HV_REMOTE_TLB_FLUSH_RECOMMENDED	(1u << 2)
#define HV_APIC_ACCESS_RECOMMENDED	(1u << 3)
#define HV_RELAXED_TIMING_RECOMMENDED	(1u << 5)
#define HV_DEPRECATING_AEOI_RECOMMENDED	(1u << 9)
#define HV_CLUSTER_IPI_RECOMMENDED	(1u << 10)
#define HV_EX_PROCESSOR_MASKS_RECOMMENDED (1u << 11)

#define HV_STATUS_INVALID_HYPERCALL_CODE 2

#define BIT(f)	(1u << (f))

/*
 * What each feature sets, and needs. KVM must report every bit for the
 * feature to be on; a feature whose dependency is off is off too (QEMU's
 * kvm_hyperv_properties[] has the same dependencies).
 */
static const struct hv_feature_def {
	const char *name;
	struct { uint32_t leaf; int reg; uint32_t bits; } set[2];
	uint32_t deps;
} hv_features[HV_NR_FEATURES] = {
	/* Timers may run late: no watchdog on interrupt delivery. */
	[HV_RELAXED] = { "relaxed", { { HV_CPUID_ENLIGHTENMENT, R_EAX, HV_RELAXED_TIMING_RECOMMENDED } } },
	/* EOI/ICR/TPR MSRs and the VP assist page (TLFS "Virtual Processor
	 * Assist Page", PV EOI). */
	[HV_VAPIC] = { "vapic", { { HV_CPUID_FEATURES, R_EAX, HV_APIC_ACCESS_AVAILABLE } } },
	/* No bit: 0x40000004 EBX, set below. */
	[HV_SPINLOCKS] = { "spinlocks", { { 0, 0, 0 } } },
	[HV_VPINDEX] = { "vpindex", { { HV_CPUID_FEATURES, R_EAX, HV_VP_INDEX_AVAILABLE } } },
	[HV_RUNTIME] = { "runtime", { { HV_CPUID_FEATURES, R_EAX, HV_VP_RUNTIME_AVAILABLE } } },
	/* The partition reference counter and the reference TSC page (TLFS
	 * "Partition Reference Time Enlightenment"). */
	[HV_TIME] = { "time", { { HV_CPUID_FEATURES, R_EAX,
				  HV_TIME_REF_COUNT_AVAILABLE | HV_REFERENCE_TSC_AVAILABLE } } },
	[HV_CRASH] = { "crash", { { HV_CPUID_FEATURES, R_EDX, HV_GUEST_CRASH_MSR_AVAILABLE } } },
	[HV_RESET] = { "reset", { { HV_CPUID_FEATURES, R_EAX, HV_RESET_AVAILABLE } } },
	/* TLFS "Synthetic Interrupt Controller (SynIC)". */
	[HV_SYNIC] = { "synic", { { HV_CPUID_FEATURES, R_EAX, HV_SYNIC_AVAILABLE } },
		       BIT(HV_VPINDEX) },
	/* TLFS "Timers": four synthetic timers per VP. */
	[HV_STIMER] = { "stimer", { { HV_CPUID_FEATURES, R_EAX, HV_SYNTIMERS_AVAILABLE } },
			BIT(HV_SYNIC) | BIT(HV_TIME) },
	/* Direct mode: a timer raises an APIC vector, no SynIC message. */
	[HV_STIMER_DIRECT] = { "stimer-direct",
			       { { HV_CPUID_FEATURES, R_EDX, HV_STIMER_DIRECT_MODE_AVAILABLE } },
			       BIT(HV_STIMER) },
	/* HV_X64_MSR_TSC_FREQUENCY and _APIC_FREQUENCY: no calibration. */
	[HV_FREQUENCIES] = { "frequencies", { { HV_CPUID_FEATURES, R_EAX, HV_ACCESS_FREQUENCY_MSRS },
					      { HV_CPUID_FEATURES, R_EDX, HV_FREQUENCY_MSRS_AVAILABLE } } },
	[HV_REENLIGHTENMENT] = { "reenlightenment",
				 { { HV_CPUID_FEATURES, R_EAX, HV_ACCESS_REENLIGHTENMENT } } },
	/* HvCallFlushVirtualAddressSpace/List(Ex) instead of IPIs. */
	[HV_TLBFLUSH] = { "tlbflush", { { HV_CPUID_ENLIGHTENMENT, R_EAX,
					  HV_REMOTE_TLB_FLUSH_RECOMMENDED | HV_EX_PROCESSOR_MASKS_RECOMMENDED } },
			  BIT(HV_VPINDEX) },
	[HV_TLBFLUSH_EXT] = { "tlbflush-ext", { { HV_CPUID_FEATURES, R_EDX, HV_EXT_GVA_RANGES_FLUSH } },
			      BIT(HV_TLBFLUSH) },
	/* HvCallSendSyntheticClusterIpi(Ex): one exit for many IPIs. */
	[HV_IPI] = { "ipi", { { HV_CPUID_ENLIGHTENMENT, R_EAX,
				HV_CLUSTER_IPI_RECOMMENDED | HV_EX_PROCESSOR_MASKS_RECOMMENDED } },
		     BIT(HV_VPINDEX) },
	/* No AutoEOI: KVM turns APICv/AVIC off while a SynIC source uses
	 * it (QEMU's hv-avic). */
	[HV_AVIC] = { "avic", { { HV_CPUID_ENLIGHTENMENT, R_EAX, HV_DEPRECATING_AEOI_RECOMMENDED } } },
};

const char *hyperv_feature_name(enum hv_feature f)
{
	return (unsigned int)f < HV_NR_FEATURES ? hv_features[f].name : "?";
}

void hyperv_feature_list(uint32_t mask, char *buf, unsigned long len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int f = 0; f < HV_NR_FEATURES && len; f++) {
		int w;

		if (!(mask & BIT(f)))
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n ? " " : "", hv_features[f].name);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, int reg)
{
	switch (reg) {
	case R_EAX: return &e->eax;
	case R_EBX: return &e->ebx;
	case R_ECX: return &e->ecx;
	default:    return &e->edx;
	}
}

static const struct kvm_cpuid_entry2 *hv_find(const struct kvm_cpuid2 *c, uint32_t function)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == function)
			return &c->entries[i];
	return NULL;
}

/* Does KVM set every bit feature f needs? */
static bool hv_kvm_has(const struct kvm_cpuid2 *kvm_hv, enum hv_feature f)
{
	for (unsigned int i = 0; i < 2; i++) {
		const typeof(hv_features[0].set[0]) *s = &hv_features[f].set[i];
		struct kvm_cpuid_entry2 e;

		if (!s->bits)
			continue;
		if (!hv_find(kvm_hv, s->leaf))
			return false;
		e = *hv_find(kvm_hv, s->leaf);
		if ((*reg_of(&e, s->reg) & s->bits) != s->bits)
			return false;
	}
	return true;
}

int hyperv_cpuid_build(const struct kvm_cpuid2 *kvm_hv, const struct hyperv_config *cfg,
		       struct hyperv_cpuid *out)
{
	const struct kvm_cpuid_entry2 *iface = hv_find(kvm_hv, HV_CPUID_INTERFACE);
	const struct kvm_cpuid_entry2 *feat = hv_find(kvm_hv, HV_CPUID_FEATURES);
	const struct kvm_cpuid_entry2 *k;
	const char *vendor = cfg->vendor_id ? cfg->vendor_id : "Microsoft Hv";
	uint32_t wanted = BIT(HV_NR_FEATURES) - 1, on = 0;
	char sig[12] = { 0 };
	bool changed = true;

	memset(out, 0, sizeof(*out));
	/* No Hv#1 interface or no hypercall page: KVM offers no Hyper-V. */
	if (!iface || iface->eax != HV_INTERFACE_SIGNATURE || !feat ||
	    !(feat->eax & HV_HYPERCALL_AVAILABLE))
		return -ENOTSUP;
	if (!cfg->apicv)
		wanted &= ~BIT(HV_AVIC);
	for (unsigned int f = 0; f < HV_NR_FEATURES; f++)
		if ((wanted & BIT(f)) && hv_kvm_has(kvm_hv, f))
			on |= BIT(f);
	if (!cfg->kvm_synic2)
		on &= ~BIT(HV_SYNIC);
	/* Drop what lost a dependency, until nothing changes. */
	while (changed) {
		changed = false;
		for (unsigned int f = 0; f < HV_NR_FEATURES; f++) {
			if ((on & BIT(f)) && (hv_features[f].deps & ~on)) {
				on &= ~BIT(f);
				changed = true;
			}
		}
	}
	out->enabled = on;
	out->missing = wanted & ~on;

	for (unsigned int i = 0; i < HV_CPUID_LEAVES; i++)
		out->leaves[i].function = HV_CPUID_VENDOR + i;
	out->nent = HV_CPUID_LEAVES;

	out->leaves[0].eax = HV_CPUID_LIMITS;
	memcpy(sig, vendor, strnlen(vendor, sizeof(sig)));
	memcpy(&out->leaves[0].ebx, sig, 4);
	memcpy(&out->leaves[0].ecx, sig + 4, 4);
	memcpy(&out->leaves[0].edx, sig + 8, 4);
	out->leaves[1] = *iface;
	/* The version and the limits are KVM's (QEMU's hv-passthrough
	 * takes them from KVM too). */
	k = hv_find(kvm_hv, HV_CPUID_VERSION);
	if (k)
		out->leaves[2] = *k;
	k = hv_find(kvm_hv, HV_CPUID_LIMITS);
	if (k)
		out->leaves[5] = *k;
	/* The hypercall MSRs come with any enlightenment. */
	out->leaves[3].eax = HV_HYPERCALL_AVAILABLE;
	for (unsigned int f = 0; f < HV_NR_FEATURES; f++) {
		if (!(on & BIT(f)))
			continue;
		for (unsigned int i = 0; i < 2; i++) {
			const typeof(hv_features[0].set[0]) *s = &hv_features[f].set[i];

			if (s->bits)
				*reg_of(&out->leaves[s->leaf - HV_CPUID_VENDOR], s->reg) |= s->bits;
		}
	}
	/* Without APICv/AVIC the APIC MSRs beat the MMIO page (one MSR exit,
	 * no instruction to decode); with it they would bypass the hardware. */
	if ((on & BIT(HV_VAPIC)) && !cfg->apicv)
		out->leaves[4].eax |= HV_APIC_ACCESS_RECOMMENDED;
	/* 0xffffffff would mean "never notify". */
	out->leaves[4].ebx = (on & BIT(HV_SPINLOCKS)) ? HV_SPINLOCK_RETRIES : 0xffffffffu;
	for (unsigned int i = 0; i < HV_CPUID_LEAVES; i++) {
		out->leaves[i].index = 0;
		out->leaves[i].flags = 0;
	}
	return 0;
}

struct kvm_cpuid2 *hyperv_cpuid_merge(const struct kvm_cpuid2 *base,
				      const struct hyperv_cpuid *hv)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (base->nent + hv->nent) * sizeof(c->entries[0]));
	unsigned int n = 0;

	if (!c)
		return NULL;
	for (unsigned int i = 0; i < base->nent; i++) {
		struct kvm_cpuid_entry2 e = base->entries[i];

		/* Where KVM's leaves go: nothing else may stay there. */
		if (e.function >= HV_KVM_BASE && e.function < HV_KVM_BASE + 0x100)
			continue;
		if (e.function >= HV_CPUID_VENDOR && e.function < HV_KVM_BASE) {
			/* KVMKVMKVM at 0x40000100: Linux finds it by scanning
			 * 0x40000000-0x4000ff00 in steps of 0x100; its max
			 * leaf moves with it. */
			if (e.function == HV_CPUID_VENDOR && e.eax >= HV_CPUID_VENDOR &&
			    e.eax < HV_KVM_BASE)
				e.eax += 0x100;
			e.function += 0x100;
		}
		c->entries[n++] = e;
	}
	for (unsigned int i = 0; i < hv->nent; i++)
		c->entries[n++] = hv->leaves[i];
	c->nent = n;
	return c;
}

int hyperv_sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static bool hv_has_cap(const struct hyperv_kvm *k, long cap)
{
	return k->ioctl(k->ctx, k->sys_fd, KVM_CHECK_EXTENSION, (void *)cap) > 0;
}

/* KVM_GET_SUPPORTED_HV_CPUID says E2BIG without the size: grow until it
 * fits (the system form when KVM has it, else the vCPU's). */
static int hv_get_supported(const struct hyperv_kvm *k, int vcpu_fd, struct kvm_cpuid2 **out)
{
	int fd = hv_has_cap(k, KVM_CAP_SYS_HYPERV_CPUID) ? k->sys_fd : vcpu_fd;

	for (unsigned int n = 16; n <= 256; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int r;

		if (!c)
			return -ENOMEM;
		c->nent = n;
		r = k->ioctl(k->ctx, fd, KVM_GET_SUPPORTED_HV_CPUID, c);
		if (r >= 0 && c->nent <= n) {
			*out = c;
			return 0;
		}
		free(c);
		if (r != -E2BIG)
			return r < 0 ? r : -EIO;
	}
	return -E2BIG;
}

static int hv_enable_cap(const struct hyperv_kvm *k, int vcpu_fd, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap ec = { .cap = cap, .args = { arg0 } };
	int r = k->ioctl(k->ctx, vcpu_fd, KVM_ENABLE_CAP, &ec);

	return r < 0 ? r : 0;
}

int hyperv_vcpu_init(const struct hyperv_kvm *k, int vcpu_fd, const struct hyperv_config *cfg,
		     struct hyperv_cpuid *out)
{
	struct hyperv_config c = *cfg;
	struct kvm_cpuid2 *sup = NULL;
	int ret;

	if (!hv_has_cap(k, KVM_CAP_HYPERV_CPUID))
		return -ENOTSUP;
	ret = hv_get_supported(k, vcpu_fd, &sup);
	if (ret)
		return ret;
	c.kvm_synic2 = hv_has_cap(k, KVM_CAP_HYPERV_SYNIC2);
	ret = hyperv_cpuid_build(sup, &c, out);
	free(sup);
	if (ret)
		return ret;
	/* SYNIC2: the SynIC pages are not zeroed when the guest enables
	 * them (the first version's bug); needs the in-kernel LAPIC. */
	if (out->enabled & BIT(HV_SYNIC)) {
		ret = hv_enable_cap(k, vcpu_fd, KVM_CAP_HYPERV_SYNIC2, 0);
		if (ret)
			return ret;
	}
	/* KVM then refuses every synthetic MSR and hypercall whose CPUID
	 * bit the guest was not given (otherwise all are open). */
	if (hv_has_cap(k, KVM_CAP_HYPERV_ENFORCE_CPUID)) {
		ret = hv_enable_cap(k, vcpu_fd, KVM_CAP_HYPERV_ENFORCE_CPUID, 1);
		if (ret)
			return ret;
	}
	return 0;
}

int hyperv_vcpu_set_msrs(const struct hyperv_kvm *k, int vcpu_fd, const struct hyperv_cpuid *hv)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m = { .hdr.nmsrs = 1, .e[0] = { .index = HV_X64_MSR_CRASH_CTL,
					   .data = HV_CRASH_CTL_CRASH_NOTIFY } };
	int r;

	if (!(hv->enabled & BIT(HV_CRASH)))
		return 0;
	/* Partition-wide in KVM; the guest reads it to learn that writing
	 * CRASH_NOTIFY is honoured (TLFS "Guest Crash Enlightenment"). */
	r = k->ioctl(k->ctx, vcpu_fd, KVM_SET_MSRS, &m);
	return r < 0 ? r : r == 1 ? 0 : -EIO;
}

int hyperv_read_crash(const struct hyperv_kvm *k, int vcpu_fd, uint64_t p[5])
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[5];
	} m = { .hdr.nmsrs = 5 };
	int r;

	for (unsigned int i = 0; i < 5; i++)
		m.e[i].index = HV_X64_MSR_CRASH_P0 + i;
	r = k->ioctl(k->ctx, vcpu_fd, KVM_GET_MSRS, &m);
	if (r < 0)
		return r;
	if (r != 5)
		return -EIO;
	for (unsigned int i = 0; i < 5; i++)
		p[i] = m.e[i].data;
	return 0;
}

int hyperv_handle_exit(struct kvm_hyperv_exit *e)
{
	switch (e->type) {
	case KVM_EXIT_HYPERV_HCALL:
		/* HvCallPostMessage/SignalEvent (VMBus) and the debugger
		 * calls: no VMBus host here (TLFS "Hypercall Status Codes"). */
		e->u.hcall.result = HV_STATUS_INVALID_HYPERCALL_CODE;
		break;
	case KVM_EXIT_HYPERV_SYNIC:
		/* KVM did the write; userspace would follow the message and
		 * event pages for VMBus. Nothing to do. */
	default:
		break;
	}
	return 0;
}

bool hyperv_host_apicv(const char *sysfs_root)
{
	static const char *const params[] = {
		"module/kvm_intel/parameters/enable_apicv",
		"module/kvm_amd/parameters/avic",
	};
	char path[HOST_PATH_MAX], val[16];

	for (unsigned int i = 0; i < 2; i++) {
		if (host_path(path, sizeof(path), "%s/%s", sysfs_root, params[i]) ||
		    host_read_str(path, val, sizeof(val)))
			continue;
		if (val[0] == 'Y' || val[0] == 'y' || val[0] == '1')
			return true;
	}
	return false;
}
