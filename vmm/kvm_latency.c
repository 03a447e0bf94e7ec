// SPDX-License-Identifier: MIT
/*
 * KVM_CAP_HALT_POLL and KVM_CAP_X86_DISABLE_EXITS (Linux
 * Documentation/virt/kvm/api.rst, "7.27 KVM_CAP_HALT_POLL" and "7.14
 * KVM_CAP_X86_DISABLE_EXITS"). Both are VM capabilities that KVM accepts
 * only before the first vCPU is created.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/kvm_latency.h"

/* Everything --cpu-pm on turns off when the host allows it: what QEMU's
 * -overcommit cpu-pm=on asks for too. */
#define CPU_PM_EXITS	(KVM_X86_DISABLE_EXITS_HLT | KVM_X86_DISABLE_EXITS_MWAIT | \
			 KVM_X86_DISABLE_EXITS_PAUSE | KVM_X86_DISABLE_EXITS_CSTATE)

const char *kvm_disable_exits_names(uint32_t mask, char *buf, unsigned int len)
{
	static const struct { uint32_t bit; const char *name; } bits[] = {
		{ KVM_X86_DISABLE_EXITS_HLT, "HLT" },
		{ KVM_X86_DISABLE_EXITS_MWAIT, "MWAIT" },
		{ KVM_X86_DISABLE_EXITS_PAUSE, "PAUSE" },
		{ KVM_X86_DISABLE_EXITS_CSTATE, "CSTATE" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int n;

		if (!(mask & bits[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", bits[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return used ? buf : "none";
}

static int enable_cap(int vm_fd, kvm_ioctl_fn io, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap ec = { .cap = cap, .args = { arg0 } };

	return io(vm_fd, KVM_ENABLE_CAP, (unsigned long)&ec) < 0 ? -errno : 0;
}

int kvm_latency_apply(int vm_fd, const struct kvm_latency *l, kvm_ioctl_fn io,
		      uint32_t *disabled)
{
	char names[64];
	int ret, mask;

	*disabled = 0;
	if (l->halt_poll_ns >= 0) {
		if (io(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0) {
			pr_err("--halt-poll: this kernel has no per-VM halt polling (KVM_CAP_HALT_POLL, Linux 5.15+): leave it out, or set /sys/module/kvm/parameters/halt_poll_ns for every VM");
			return -ENOTSUP;
		}
		ret = enable_cap(vm_fd, io, KVM_CAP_HALT_POLL, (uint64_t)l->halt_poll_ns);
		if (ret) {
			pr_err("--halt-poll %lld: KVM_ENABLE_CAP(KVM_CAP_HALT_POLL): %s",
			       (long long)l->halt_poll_ns, strerror(-ret));
			return ret;
		}
		pr_debug("halt polling: at most %lld ns per halt", (long long)l->halt_poll_ns);
	}
	if (!l->cpu_pm)
		return 0;
	/* KVM_CHECK_EXTENSION answers with the exits this host lets a
	 * guest keep: HLT and C-states not while kvm.mitigate_smt_rsb is
	 * set, MWAIT only where the host's MWAIT works in a guest. */
	mask = io(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
	if (mask <= 0 || !((uint32_t)mask & CPU_PM_EXITS)) {
		pr_err("--cpu-pm on: this host lets no idle exit be disabled (KVM_CAP_X86_DISABLE_EXITS %s; kvm.mitigate_smt_rsb=1 keeps HLT exits): leave --cpu-pm out",
		       mask <= 0 ? "missing" : "allows none of HLT, MWAIT, PAUSE, C-states");
		return -ENOTSUP;
	}
	mask &= CPU_PM_EXITS;
	ret = enable_cap(vm_fd, io, KVM_CAP_X86_DISABLE_EXITS, (uint64_t)mask);
	if (ret) {
		pr_err("--cpu-pm on: KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS, %s): %s",
		       kvm_disable_exits_names((uint32_t)mask, names, sizeof(names)), strerror(-ret));
		return ret;
	}
	*disabled = (uint32_t)mask;
	pr_info("cpu-pm: the guest's %s run without a VM exit",
		kvm_disable_exits_names((uint32_t)mask, names, sizeof(names)));
	return 0;
}
