/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/thread.h"

#define SECCOMP_MAX_UNLINK_DIRS	2

/* Exit statuses: a refused system call (the SIGSYS handler), and the
 * test mode's io:uring-openat refused by the ring as it should be. */
#define SECCOMP_EXIT_VIOLATION		97
#define SECCOMP_EXIT_URING_REFUSED	96

/*
 * What the options add to the main thread's list, each only as far as it
 * needs. -1 and false (seccomp_extra_init()) add nothing.
 */
struct seccomp_extra {
	/* --control: accept4() on this listening socket and on no other;
	 * recv and send on the connections (recvfrom, sendto). */
	int accept_fd;
	/* The control socket's and the pidfile's folders: the files are
	 * removed at exit, unlinkat(fd, name, 0) with this fd and no other
	 * (a path cannot be checked by seccomp; the folder can). */
	int unlink_dir_fd[SECCOMP_MAX_UNLINK_DIRS];
	/* --daemonize or --log: dup3() onto fds 0-2 once the VM runs. */
	bool dup_stdio;
};

void seccomp_extra_init(struct seccomp_extra *x);

/* How a call's arguments are checked (vmm/seccomp.c's table). */
enum seccomp_arg {
	SECCOMP_ARG_ANY,
	SECCOMP_ARG_IOCTL,	/* only the thread type's request numbers */
	SECCOMP_ARG_CLONE_THREAD, /* clone: a thread of this process */
	SECCOMP_ARG_ENOSYS,	/* clone3: fails with ENOSYS (glibc falls back to clone) */
	SECCOMP_ARG_NO_EXEC,	/* mmap, mprotect: prot without PROT_EXEC */
	SECCOMP_ARG_NNP,	/* prctl(PR_SET_NO_NEW_PRIVS) only */
	SECCOMP_ARG_FILTER,	/* seccomp(SECCOMP_SET_MODE_FILTER, 0, ...) only */
	SECCOMP_ARG_OWN_TGID,	/* tgkill to this process's threads only */
	SECCOMP_ARG_SCHED_BATCH, /* sched_setscheduler(0, SCHED_BATCH, ...) only */
};

/* One row of the allow-list: the thread types (1 << VMM_THREAD_*) it is
 * allowed on. The code installs these; tests/unit/test_seccomp.c checks
 * them. */
struct seccomp_call {
	const char *name;
	enum seccomp_arg arg;
	unsigned int types;
};

struct seccomp_ioctl {
	const char *name;
	unsigned long request;
	unsigned int types;
};

extern const struct seccomp_call seccomp_calls[];
extern const size_t seccomp_nr_calls;
extern const struct seccomp_ioctl seccomp_ioctls[];
extern const size_t seccomp_nr_ioctls;

const char *seccomp_thread_name(enum vmm_thread_type type);

/* --test-forbidden THREAD:CALL (test only). */
enum seccomp_test_call {
	SECCOMP_TEST_NONE,
	SECCOMP_TEST_OPENAT,
	SECCOMP_TEST_EXECVE,
	SECCOMP_TEST_IOCTL,
	SECCOMP_TEST_URING_OPENAT,
};

struct seccomp_test {
	enum vmm_thread_type thread;
	enum seccomp_test_call call;
};

/* Parse "THREAD:CALL"; 0 or -EINVAL (with a message). */
int seccomp_test_parse(const char *spec, struct seccomp_test *t);

/*
 * Before the first thread other than the main one starts: build every
 * thread type's filter (as BPF, so that a new thread installs its own with
 * two system calls and no malloc), the table of system call names for the
 * SIGSYS handler, and set the hook every thread calls first
 * (vmm_thread_enter). test may be NULL. 0 or -errno (with a message).
 */
int seccomp_prepare(const struct seccomp_test *test);

/*
 * Once the VM is set up, confine the main thread to its list plus extra
 * (may be NULL), and drop every capability. A call outside the list ends
 * minivmm with a message naming it, not silently. Threads the main thread
 * creates afterwards start under this filter and add their own. Returns 0
 * or -errno (with a message).
 */
int seccomp_confine(const struct seccomp_extra *extra);

/* Install type's filter on the calling thread (what vmm_thread_enter
 * does): 0 or -errno. For tests. */
int seccomp_enter(enum vmm_thread_type type);

/* Drop all capabilities of all sets (after setup nothing needs them). */
int caps_drop_all(void);

#endif
