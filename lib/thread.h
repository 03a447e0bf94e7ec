/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_VMM_THREAD_H
#define MINIVMM_VMM_THREAD_H

#include <pthread.h>

/*
 * The stack of every minivmm thread (vCPUs, virtio-blk queues, the RTC): 1 MiB,
 * a size no 2 MiB transparent huge page fits in. With THP "always", glibc's
 * default 8 MiB stack takes a huge page on its first touch: 2 MiB resident
 * per thread, most of the VMM's own memory. The deepest path (a vCPU exit
 * through a device model) uses a few KiB.
 */
#define VMM_THREAD_STACK_SIZE	(1u << 20)

static inline int vmm_thread_attr_init(pthread_attr_t *attr)
{
	int ret = pthread_attr_init(attr);

	if (!ret)
		ret = pthread_attr_setstacksize(attr, VMM_THREAD_STACK_SIZE);
	return -ret;
}

#endif
