/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "lib/stats.h"

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

struct vcpu {
	struct vm *vm;
	unsigned int index;	/* also its APIC ID */
	int fd;
	int host_cpu;		/* pinned to this host CPU, or -1 */
	struct kvm_run *run;
	pthread_t thread;
	int started;
	struct vcpu_stats stats;
};

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Make KVM_RUN return so the thread notices the VM is stopping. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* The signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)
void vcpu_signals_init(void);

#endif
