/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/stats.h"
#include "vmm/kvm_stats.h"

struct vm;

/* Exit counters, by KVM exit reason we handle in userspace. */
struct vcpu_stats {
	uint64_t exits;
	uint64_t io;
	uint64_t mmio;
	uint64_t intr;		/* KVM_RUN interrupted by a signal */
	uint64_t other;
	/* Time from KVM_RUN returning with an exit to the next KVM_RUN:
	 * what userspace adds to every exit it handles. */
	struct stats_hist io_lat;
	struct stats_hist mmio_lat;
};

/*
 * A vCPU's state right after KVM_CREATE_VCPU and KVM_SET_CPUID2: its
 * power-on (RESET) state, which a guest reset puts back. The BSP is
 * runnable at the reset vector; the APs wait for INIT/SIPI.
 */
struct vcpu_reset_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave;	/* NULL: KVM has no XSAVE, fpu is used */
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	bool has_xcrs;
	struct kvm_msrs *msrs;
	struct kvm_mp_state mp_state;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
};

struct vcpu {
	struct vm *vm;
	unsigned int index;	/* 0..n-1; its APIC ID follows lib/topology.h */
	int fd;
	int host_cpu;		/* pinned to this host CPU, or -1 */
	struct kvm_run *run;
	pthread_t thread;
	int started;
	struct vcpu_stats stats;
	struct kvm_stats kstats;	/* KVM's own (vmm/kvm_stats.h), if it has them */
	struct vcpu_reset_state reset;
};

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Make KVM_RUN return so the thread notices the VM is stopping. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
/* Back to the power-on state, its thread stopped (a guest reset). */
int vcpu_reset(struct vcpu *vcpu);

/* The signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)
void vcpu_signals_init(void);

#endif
