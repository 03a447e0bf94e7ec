/* SPDX-License-Identifier: MIT */
/*
 * The latency knobs set on the VM before its vCPUs exist (docs/latency.md):
 * --halt-poll NS (KVM_CAP_HALT_POLL: this VM's halt-polling window) and
 * --cpu-pm on (KVM_CAP_X86_DISABLE_EXITS: HLT, MWAIT, PAUSE and C-state
 * instructions run in the guest without a VM exit).
 */
#ifndef MINIVMM_KVM_LATENCY_H
#define MINIVMM_KVM_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_latency {
	int64_t halt_poll_ns;	/* -1: KVM's default (the kvm module's halt_poll_ns) */
	bool cpu_pm;		/* disable the idle exits the host allows */
};

/* ioctl(2) as kvm_latency_apply() calls it: the unit tests pass a fake. */
typedef int (*kvm_ioctl_fn)(int fd, unsigned long req, unsigned long arg);

/*
 * On vm_fd, before any KVM_CREATE_VCPU (KVM refuses both afterwards):
 * KVM_CHECK_EXTENSION then KVM_ENABLE_CAP for each knob asked for.
 * *disabled gets the KVM_X86_DISABLE_EXITS_* bits set (0 without
 * cpu_pm). A host that cannot: one line naming what is missing, -ENOTSUP.
 */
int kvm_latency_apply(int vm_fd, const struct kvm_latency *l, kvm_ioctl_fn io,
		      uint32_t *disabled);
/* "HLT MWAIT PAUSE CSTATE", the bits that are set, or "none". */
const char *kvm_disable_exits_names(uint32_t mask, char *buf, unsigned int len);

#endif
