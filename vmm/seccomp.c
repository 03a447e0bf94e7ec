// SPDX-License-Identifier: MIT
/*
 * The seccomp allow-list of a running minivmm (libseccomp). Everything that
 * opens devices, files or memory happens before; what is left is KVM_RUN and
 * VFIO/KVM ioctls, I/O on fds already open, io_uring, eventfds, futexes,
 * thread start-up (devices start helper threads lazily) and exit; and, per
 * option, what the control socket, the pidfile and --daemonize need at run
 * time and at exit (struct seccomp_extra, each rule as narrow as seccomp
 * can make it).
 */
#include <errno.h>
#include <malloc.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/seccomp.h"

static const char *const allowed[] = {
	/* vCPUs, VFIO, KVM: every device ioctl goes through the fds opened
	 * during setup */
	"ioctl",
	/* I/O on open fds: consoles, eventfds, signalfd, disk images, flash,
	 * VFIO regions */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "fsync", "fdatasync",
	"poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_ctl", "select",
	"pselect6", "close", "fstat", "newfstatat", "fcntl", "dup",
	"io_uring_enter", "io_uring_register", "io_uring_setup",
	/* disk images let go of their locks at exit (devices/block/blk_io.c) */
	"flock",
	"timerfd_settime", "timerfd_gettime", "timerfd_create", "eventfd2",
	/* memory: malloc arenas, thread stacks, BAR remaps */
	"mmap", "munmap", "mprotect", "madvise", "brk", "mremap",
	/* threads and their synchronisation */
	"futex", "clone", "clone3", "set_robust_list", "rseq", "gettid",
	"getpid", "tgkill", "sched_yield", "sched_getaffinity",
	"sched_setaffinity", "membarrier",
	/* signals and time */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"restart_syscall", "getrandom",
	/* --tpm: the swtpm minivmm started is reaped at exit, killed if it
	 * hangs; both only reach processes minivmm holds a pidfd of (its
	 * children: swtpm alone) */
	"waitid", "pidfd_send_signal",
	/* leaving */
	"exit", "exit_group",
};

static void seccomp_violation(int sig, siginfo_t *si, void *uctx)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "minivmm: seccomp: system call %d is not on the allow-list (rerun with --seccomp off, and report it)\n",
			 si->si_syscall);

	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

int caps_drop_all(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		pr_err("dropping capabilities: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void seccomp_extra_init(struct seccomp_extra *x)
{
	x->accept_fd = -1;
	for (unsigned int i = 0; i < SECCOMP_MAX_UNLINK_DIRS; i++)
		x->unlink_dir_fd[i] = -1;
	x->dup_stdio = false;
}

/* The rules of struct seccomp_extra, each with its arguments pinned down
 * as far as seccomp can see them (pointers it cannot follow). */
static int seccomp_add_extra(scmp_filter_ctx ctx, const struct seccomp_extra *x)
{
	int ret = 0;

	if (x->accept_fd >= 0) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x->accept_fd));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvfrom), 0);
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 0);
	}
	for (unsigned int i = 0; !ret && i < SECCOMP_MAX_UNLINK_DIRS; i++)
		if (x->unlink_dir_fd[i] >= 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 2,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x->unlink_dir_fd[i]),
					       SCMP_A2(SCMP_CMP_EQ, 0));
	if (!ret && x->dup_stdio)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(dup3), 2,
				       SCMP_A1(SCMP_CMP_LE, STDERR_FILENO), SCMP_A2(SCMP_CMP_EQ, 0));
	return ret;
}

int seccomp_confine(const struct seccomp_extra *extra)
{
	struct sigaction sa = { .sa_sigaction = seccomp_violation, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	/* glibc sizes its malloc arena limit lazily, on the first malloc of
	 * a thread once there are more than 8 arenas, by opening
	 * /sys/devices/system/cpu/online: with many vCPUs and I/O threads
	 * that happens after confinement and openat is (rightly) not
	 * allowed. A fixed limit skips that look-up. */
	mallopt(M_ARENA_MAX, 8);
	/* SIGSYS with the call's number, so the message can name it. */
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		pr_err("seccomp: cannot create a filter (libseccomp)");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret)
			goto release;
	}
	if (extra) {
		ret = seccomp_add_extra(ctx, extra);
		if (ret)
			goto release;
	}
	/* Every thread, including those devices started during setup. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_load(ctx);
release:
	seccomp_release(ctx);
	if (ret)
		pr_err("seccomp: cannot install the filter: %s (run with --seccomp off)", strerror(-ret));
	return ret;
}
