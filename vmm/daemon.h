/* SPDX-License-Identifier: MIT */
/*
 * Running in the background: --daemonize, --pidfile FILE, --log FILE
 * (docs/control.md, "Running in the background").
 *
 * The fork comes first, before the VM exists: KVM ties a VM to the
 * memory of the process that created it (every ioctl from another mm
 * fails with EIO), VFIO pins that process's pages for DMA (a fork would
 * leave the child's guest RAM copied away from them), and every vCPU and
 * I/O thread would be lost (fork copies only the calling thread). So the
 * child sets the VM up while its parent waits on a pipe with the
 * terminal: the child's messages still reach it, the child's start-up
 * failure is the parent's exit status, and only once the vCPUs run does
 * the child let go of the terminal and tell its parent, which exits 0.
 */
#ifndef MINIVMM_DAEMON_H
#define MINIVMM_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmm/cli.h"

struct seccomp_extra;

struct daemon {
	bool detached;		/* the child of daemon_fork(), in its own session */
	bool ran;		/* daemon_running() was called: the VM ran */
	int ready_fd;		/* the child's end of the pipe its parent reads; -1 */
	int null_fd;		/* /dev/null, opened while opening is allowed */
	int log_fd;		/* --log FILE, or -1 */
	/* --pidfile: kept open and locked while minivmm runs */
	int pidfile_fd, pidfile_dir_fd;
	char pidfile_name[256];
	dev_t pidfile_dev;
	ino_t pidfile_ino;
};

void daemon_init(struct daemon *d);

/*
 * --daemonize: fork. Returns 0 in the child (now a session leader, its
 * stdio still the terminal's), 1 in the parent once the child runs its VM
 * (*status 0) or ended before it did (*status: the child's exit status,
 * or 128 + the signal that killed it), or -errno (with a message).
 * SIGINT, SIGTERM and SIGHUP that reach the parent meanwhile are passed
 * on to the child, so Ctrl-C still stops a start that takes long.
 */
int daemon_fork(struct daemon *d, int *status);

/*
 * --pidfile: write this process's pid to path, and keep the file locked
 * while minivmm runs. A file that a running minivmm holds, or that names
 * a live process, is refused (one line, -EBUSY); a stale one is replaced.
 */
int daemon_pidfile_create(struct daemon *d, const char *path);
/* Remove it, if it is still the file written, and let go of it
 * (idempotent). */
void daemon_pidfile_remove(struct daemon *d);
/* Only remove the file (if still ours): 0 or -errno. Async-signal-safe. */
int daemon_pidfile_unlink(const struct daemon *d);

/* Open what daemon_running() will need (/dev/null, --log) while files can
 * still be opened; with --daemonize, leave the working folder for "/" so
 * that it does not stay busy. 0 or -errno (with a message). */
int daemon_open_stdio(struct daemon *d, const struct vm_config *cfg);

/* Close what daemon_open_stdio() opened (and the pipe to a parent still
 * waiting, which then hears that the start failed). */
void daemon_close_stdio(struct daemon *d);

/* What the seccomp filter must allow for the above (vmm/seccomp.h). */
void daemon_seccomp(const struct daemon *d, struct seccomp_extra *x);

/* The VM runs (struct vm's running hook): stdio to /dev/null and --log,
 * then the word to the waiting parent. */
void daemon_running(void *opaque);

#endif
