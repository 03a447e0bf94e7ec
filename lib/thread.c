// SPDX-License-Identifier: MIT
/* Thread attributes shared by every minivmm thread (lib/thread.h). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>

#include "lib/thread.h"

/* Written by the main thread before any other thread exists (vm_create),
 * read by threads created later: pthread_create orders the two. */
static cpu_set_t io_cpus, vcpu_cpus;
static bool io_cpus_set, vcpu_cpus_set;

int vmm_thread_attr_init(pthread_attr_t *attr)
{
	int ret = pthread_attr_init(attr);

	if (!ret)
		ret = pthread_attr_setstacksize(attr, VMM_THREAD_STACK_SIZE);
	if (!ret && io_cpus_set)
		ret = pthread_attr_setaffinity_np(attr, sizeof(io_cpus), &io_cpus);
	return -ret;
}

int vmm_thread_start_worker(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	ret = vmm_thread_attr_init(&attr);
	if (ret)
		return ret;
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(thread, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret;
}

int vmm_thread_set_io_cpus(const int *cpus, unsigned int nr)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_ZERO(&vcpu_cpus);
	if (sched_getaffinity(0, sizeof(vcpu_cpus), &vcpu_cpus))
		return -errno;
	if (!cpus) {
		set = vcpu_cpus;
	} else {
		if (!nr)
			return -EINVAL;
		for (unsigned int i = 0; i < nr; i++) {
			if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE)
				return -EINVAL;
			CPU_SET(cpus[i], &set);
		}
		if (sched_setaffinity(0, sizeof(set), &set))
			return -errno;
		/* What is left for the vCPUs, unless --pin-io took it all. */
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				CPU_CLR(c, &vcpu_cpus);
		vcpu_cpus_set = CPU_COUNT(&vcpu_cpus) > 0;
	}
	io_cpus = set;
	io_cpus_set = true;
	return 0;
}

bool vmm_thread_vcpu_cpus(cpu_set_t *set)
{
	if (vcpu_cpus_set)
		*set = vcpu_cpus;
	return vcpu_cpus_set;
}

/* Set by the main thread before any other thread exists. */
static void (*enter_hook)(enum vmm_thread_type type);
static void (*uring_test_done)(int res);
static bool uring_test_armed;

void vmm_thread_set_enter_hook(void (*hook)(enum vmm_thread_type type))
{
	enter_hook = hook;
}

int vmm_thread_no_wakeup_preemption(void)
{
	struct sched_param p = { .sched_priority = 0 };

	/* Linux's CFS (and EEVDF) do not let a waking SCHED_BATCH task
	 * preempt the running one (check_preempt_wakeup). */
	return sched_setscheduler(0, SCHED_BATCH, &p) ? -errno : 0;
}

void vmm_thread_enter(enum vmm_thread_type type)
{
	if (enter_hook)
		enter_hook(type);
}

void vmm_thread_set_uring_test(void (*done)(int res))
{
	uring_test_done = done;
	uring_test_armed = done != NULL;
}

bool vmm_thread_uring_test_pending(void)
{
	return uring_test_armed && __atomic_exchange_n(&uring_test_armed, false, __ATOMIC_ACQ_REL);
}

void vmm_thread_uring_test_done(int res)
{
	if (uring_test_done)
		uring_test_done(res);
}
