/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

#include <stdbool.h>

#define SECCOMP_MAX_UNLINK_DIRS	2

/*
 * What the options add to the list, each only as far as it needs. -1 and
 * false (seccomp_extra_init()) add nothing.
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

/*
 * Once the VM is set up, confine the process to the system calls a running
 * VMM makes (on every thread, present and future), plus extra (may be
 * NULL), and drop every capability. A call outside the list ends minivmm
 * with a message naming it, not silently. Returns 0 or -errno (with a
 * message).
 */
int seccomp_confine(const struct seccomp_extra *extra);
/* Drop all capabilities of all sets (after setup nothing needs them). */
int caps_drop_all(void);

#endif
