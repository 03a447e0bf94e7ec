/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_VMM_THREAD_H
#define MINIVMM_VMM_THREAD_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

/*
 * The stack of every minivmm thread (vCPUs, virtio-blk queues, the RTC): 1 MiB,
 * a size no 2 MiB transparent huge page fits in. With THP "always", glibc's
 * default 8 MiB stack takes a huge page on its first touch: 2 MiB resident
 * per thread, most of the VMM's own memory. The deepest path (a vCPU exit
 * through a device model) uses a few KiB.
 */
#define VMM_THREAD_STACK_SIZE	(1u << 20)

/*
 * Attributes for a new minivmm thread: its stack size and, once
 * vmm_thread_set_io_cpus() ran, the I/O CPU set. I/O threads (virtio-blk
 * queues, AHCI ports, the RTC) are started from whichever thread the
 * guest's write arrived on, a pinned vCPU's more often than not, and would
 * otherwise inherit that one host CPU. A vCPU sets its own CPU afterwards.
 * 0 or -errno.
 */
int vmm_thread_attr_init(pthread_attr_t *attr);

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

#endif
