/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_VMM_THREAD_H
#define MINIVMM_VMM_THREAD_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

/*
 * The stack of every minivmm thread (vCPUs, virtio-blk I/O threads, the RTC): 1 MiB,
 * a size no 2 MiB transparent huge page fits in. With THP "always", glibc's
 * default 8 MiB stack takes a huge page on its first touch: 2 MiB resident
 * per thread, most of the VMM's own memory. The deepest path (a vCPU exit
 * through a device model) uses a few KiB.
 */
#define VMM_THREAD_STACK_SIZE	(1u << 20)

/*
 * Attributes for a new minivmm thread: its stack size and, once
 * vmm_thread_set_io_cpus() ran, the I/O CPU set. I/O threads (virtio-blk
 * disks, AHCI ports, the RTC) are started from whichever thread the
 * guest's write arrived on, a pinned vCPU's more often than not, and would
 * otherwise inherit that one host CPU. A vCPU sets its own CPU afterwards.
 * 0 or -errno.
 */
int vmm_thread_attr_init(pthread_attr_t *attr);

/*
 * Start a device's worker thread (a virtio-blk I/O thread, an AHCI port, a
 * virtio-net queue pair or control queue, the vhost forwarder, the TPM's
 * command thread) with vmm_thread_attr_init's attributes and only the
 * synchronous signals deliverable: asynchronous ones are the main
 * thread's, while a fault or a call seccomp traps (SIGSYS) must reach its
 * handler, not kill the process unexplained. 0 or -errno.
 */
int vmm_thread_start_worker(pthread_t *thread, void *(*fn)(void *), void *arg);

/*
 * The host CPUs the calling (main) thread and every thread created
 * afterwards run on (--pin-io); cpus NULL: the calling thread's current
 * affinity, so that threads started on a pinned vCPU thread do not
 * inherit its CPU (--pin alone). 0 or -errno (-EINVAL: a CPU out of
 * range or none given).
 */
int vmm_thread_set_io_cpus(const int *cpus, unsigned int nr);

/*
 * For an unpinned vCPU after --pin-io: the CPUs the process could use
 * before, less the I/O CPUs (false: no such set, keep the attributes).
 */
bool vmm_thread_vcpu_cpus(cpu_set_t *set);

/*
 * What a thread is, for its confinement (vmm/seccomp.c keeps a filter per
 * type). Every minivmm thread names its type first thing, before it runs
 * anything the guest influences.
 */
enum vmm_thread_type {
	VMM_THREAD_MAIN,	/* event loop, control socket, reset, teardown */
	VMM_THREAD_VCPU,	/* KVM_RUN and the device models behind exits */
	VMM_THREAD_IO,		/* a virtio-blk I/O thread or an AHCI port */
	VMM_THREAD_TIMER,	/* the RTC's interrupt thread */
	VMM_THREAD_TPM,		/* the TPM CRB's command worker */
	VMM_THREAD_NET,		/* a virtio-net queue pair, its control queue, the vhost forwarder */
	VMM_THREAD_TYPES
};

/*
 * Called by a new thread before anything else: installs its type's filter
 * when the VMM confines itself (vmm_thread_set_enter_hook; a no-op in unit
 * tests and with --seccomp off). A thread that cannot be confined ends the
 * process there.
 */
void vmm_thread_enter(enum vmm_thread_type type);
void vmm_thread_set_enter_hook(void (*hook)(enum vmm_thread_type type));

/*
 * For a thread that serves the vCPUs' I/O (virtio-blk's): SCHED_BATCH, so
 * that its wake-ups never preempt a running vCPU. It runs on an idle CPU
 * at once, else when a vCPU halts or its time slice ends (a few ms on a
 * host whose CPUs are all busy). The weight stays that of nice 0: its
 * share of a busy CPU is a vCPU's. Called by the thread itself, before
 * vmm_thread_enter (the creating vCPU's filter allows exactly this call).
 * 0 or -errno; a failure only costs the preemptions, the caller goes on.
 */
int vmm_thread_no_wakeup_preemption(void);

/*
 * Test mode (--test-forbidden io:uring-openat): true once, on the first
 * I/O thread that asks, which then forges an openat SQE on its ring and
 * reports the result with vmm_thread_uring_test_done (which ends the
 * process).
 */
bool vmm_thread_uring_test_pending(void);
void vmm_thread_set_uring_test(void (*done)(int res));
void vmm_thread_uring_test_done(int res);

#endif
