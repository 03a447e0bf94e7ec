// SPDX-License-Identifier: MIT
/*
 * vmm/seccomp.c, in a forked child each (a filter cannot be taken off).
 *
 * The per-thread tables (seccomp_calls, seccomp_ioctls, the ones the code
 * installs): on each thread type, every call and ioctl its row allows goes
 * through and every one it does not is refused; a list of calls no thread
 * may make (openat, execve, socket, io_uring_setup, fork, executable
 * memory, ptrace, ...) is refused on each, with the SIGSYS handler's line
 * naming the call and the thread; creators' lists cover their children's;
 * a creator can start a thread that confines itself further.
 *
 * The main thread's extras for --control, --pidfile and --daemonize: what
 * they allow works — accept4 on the control socket, recv/send on a
 * connection, unlinkat in the pinned folders, dup3 onto 0-2 — and
 * everything next to it is still refused: accept4 on another socket,
 * unlinkat elsewhere or of a folder, dup3 onto another fd, and all of it
 * without the extras.
 *
 * A refused call ends the child through the filter's SIGSYS handler with
 * SECCOMP_EXIT_VIOLATION (and its one line on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <setjmp.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/seccomp.h"

static char dir[64], other[64];
static int listen_fd, other_listen_fd, dir_fd, other_dir_fd, pair[2];

static int listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static int setup(void **state)
{
	char path[128];

	strcpy(dir, "/tmp/minivmm-seccomp.XXXXXX");
	strcpy(other, "/tmp/minivmm-seccomp-other.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(other));
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	listen_fd = listening(path);
	snprintf(path, sizeof(path), "%s/other.sock", other);
	other_listen_fd = listening(path);
	dir_fd = open(dir, O_PATH | O_DIRECTORY);
	other_dir_fd = open(other, O_PATH | O_DIRECTORY);
	assert_true(dir_fd >= 0 && other_dir_fd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	close(listen_fd);
	close(other_listen_fd);
	close(dir_fd);
	close(other_dir_fd);
	close(pair[0]);
	close(pair[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void touch(int at, const char *name)
{
	int fd = openat(at, name, O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	close(fd);
}

enum probe {
	ALLOWED,		/* every call the extras allow: exit 0 */
	ACCEPT_OTHER,		/* accept4 on a socket that is not the control socket */
	UNLINK_CWD,		/* unlinkat(AT_FDCWD, ...) */
	UNLINK_OTHER_DIR,	/* unlinkat in a folder not pinned */
	UNLINK_RMDIR,		/* unlinkat(dir_fd, ..., AT_REMOVEDIR) */
	DUP3_HIGH,		/* dup3 onto fd 5 */
	NO_EXTRAS_ACCEPT,	/* without the extras: accept4 */
	NO_EXTRAS_SEND,		/* ... send */
	NO_EXTRAS_UNLINK,	/* ... unlinkat */
	NO_EXTRAS_DUP3,		/* ... dup3 */
};

/* The child's status after installing the filter and trying probe. */
static int run_probe(enum probe probe)
{
	struct seccomp_extra x;
	int status;
	pid_t pid;

	touch(dir_fd, "pidfile");
	touch(other_dir_fd, "pidfile");
	assert_int_equal(mkdirat(dir_fd, "sub", 0700), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c = 'x';
		int fd;

		seccomp_extra_init(&x);
		if (probe < NO_EXTRAS_ACCEPT) {
			x.accept_fd = listen_fd;
			x.unlink_dir_fd[0] = dir_fd;
			x.dup_stdio = true;
		}
		if (seccomp_confine(&x))
			_exit(20);
		switch (probe) {
		case ALLOWED:
			fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0 || errno != EAGAIN)
				_exit(21);
			if (send(pair[0], &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 ||
			    recv(pair[1], &c, 1, MSG_DONTWAIT) != 1)
				_exit(22);
			if (unlinkat(dir_fd, "pidfile", 0))
				_exit(23);
			if (dup3(pair[0], STDIN_FILENO, 0) != STDIN_FILENO)
				_exit(24);
			_exit(0);
		case ACCEPT_OTHER:
			accept4(other_listen_fd, NULL, NULL, SOCK_NONBLOCK);
			break;
		case UNLINK_CWD:
			unlinkat(AT_FDCWD, "/nonexistent", 0);
			break;
		case UNLINK_OTHER_DIR:
			unlinkat(other_dir_fd, "pidfile", 0);
			break;
		case UNLINK_RMDIR:
			unlinkat(dir_fd, "sub", AT_REMOVEDIR);
			break;
		case DUP3_HIGH:
			dup3(pair[0], 5, 0);
			break;
		case NO_EXTRAS_ACCEPT:
			accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK);
			break;
		case NO_EXTRAS_SEND:
			send(pair[0], &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		case NO_EXTRAS_UNLINK:
			unlinkat(dir_fd, "pidfile", 0);
			break;
		case NO_EXTRAS_DUP3:
			dup3(pair[0], STDIN_FILENO, 0);
			break;
		}
		_exit(30);	/* the call went through */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlinkat(dir_fd, "sub", AT_REMOVEDIR);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_allowed(void **state)
{
	struct stat st;

	assert_int_equal(run_probe(ALLOWED), 0);
	assert_int_equal(fstatat(dir_fd, "pidfile", &st, 0), -1);	/* it went */
}

static void test_refused(void **state)
{
	for (enum probe p = ACCEPT_OTHER; p <= NO_EXTRAS_DUP3; p++) {
		int status = run_probe(p);

		if (status != SECCOMP_EXIT_VIOLATION)
			fail_msg("probe %d: status %d, expected the filter's %d", p, status,
				 SECCOMP_EXIT_VIOLATION);
	}
}

/* ---- the per-thread tables ----------------------------------------------- */

#define TYPE_BIT(t)	(1u << (t))

/* Install type's filter on the calling process (a forked child), as in
 * minivmm: every thread but the main one starts under the main thread's
 * filter (or a vCPU's, a subset) and adds its own. */
static int confine_as(enum vmm_thread_type type)
{
	int ret = seccomp_confine(NULL);

	if (!ret && type != VMM_THREAD_MAIN)
		ret = seccomp_enter(type);
	return ret;
}

/*
 * Make system call name with arguments that make it fail (or do nothing)
 * without harm, but that its row's argument checks let through. false:
 * a call not to make here (leaving, returning from a signal, creating a
 * thread: those are tried for real elsewhere).
 */
static bool call_harmless(const char *name, long *res)
{
	int nr = seccomp_syscall_resolve_name(name);
	long a[6] = { -1, 0, 0, 0, 0, 0 };

	if (nr < 0 || !strcmp(name, "exit") || !strcmp(name, "exit_group") ||
	    !strcmp(name, "rt_sigreturn") || !strcmp(name, "clone") || !strcmp(name, "ioctl"))
		return false;
	if (!strcmp(name, "tgkill")) {
		a[0] = getpid();		/* this process, no such thread */
	} else if (!strcmp(name, "prctl")) {
		a[0] = PR_SET_NO_NEW_PRIVS;
		a[1] = 1;
	} else if (!strcmp(name, "seccomp")) {
		a[0] = SECCOMP_SET_MODE_FILTER;	/* no program: EFAULT */
		a[1] = 0;
	} else if (!strcmp(name, "mmap")) {
		a[0] = 0;			/* length 0: EINVAL */
		a[2] = PROT_READ;
		a[3] = MAP_PRIVATE | MAP_ANONYMOUS;
		a[4] = -1;
	} else if (!strcmp(name, "mprotect")) {
		a[0] = 0;
		a[2] = PROT_READ;
	} else if (!strcmp(name, "sched_setscheduler")) {
		a[0] = 0;			/* itself, SCHED_BATCH, no param: EINVAL */
		a[1] = SCHED_BATCH;
	} else if (!strcmp(name, "ppoll")) {
		a[0] = 0;			/* 1 fd at NULL: EFAULT */
		a[1] = 1;
		a[4] = 8;
	}
	*res = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return true;
}

/* A child of a creator thread, confining itself further (as I/O threads
 * started by a vCPU do). */
static void *grandchild(void *arg)
{
	if (seccomp_enter(*(enum vmm_thread_type *)arg))
		_exit(41);
	if (read(-1, NULL, 0) != -1)
		_exit(42);
	return NULL;
}

/* The child: everything type's rows allow is allowed. */
static void try_allowed(enum vmm_thread_type type)
{
	long res;

	for (size_t i = 0; i < seccomp_nr_calls; i++)
		if (seccomp_calls[i].types & TYPE_BIT(type))
			call_harmless(seccomp_calls[i].name, &res);
	for (size_t i = 0; i < seccomp_nr_ioctls; i++)
		if (seccomp_ioctls[i].types & TYPE_BIT(type))
			if (syscall(SYS_ioctl, -1, seccomp_ioctls[i].request, 0) != -1 || errno != EBADF)
				_exit(43);
	if (seccomp_calls[0].types & TYPE_BIT(type) &&
	    (type == VMM_THREAD_MAIN || type == VMM_THREAD_VCPU)) {
		/* clone3 says ENOSYS, glibc falls back to clone (CLONE_THREAD). */
		enum vmm_thread_type child = type == VMM_THREAD_MAIN ? VMM_THREAD_VCPU : VMM_THREAD_IO;
		pthread_t t;

		if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
			_exit(44);
		if (pthread_create(&t, NULL, grandchild, &child) || pthread_join(t, NULL))
			_exit(45);
	}
}

static pid_t parent;

static void *nothing(void *arg)
{
	return arg;
}

/* Run fn in a child confined as type; its status, stderr in err. */
static int in_child(enum vmm_thread_type type, void (*fn)(enum vmm_thread_type, const void *),
		    const void *arg, char *err, size_t err_size)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	parent = getpid();
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;

		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		/* As in minivmm, not the process's first thread: glibc sets
		 * up its thread signals (rt_sigaction) on the first. */
		if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
			_exit(21);
		if (confine_as(type))
			_exit(20);
		fn(type, arg);
		_exit(30);
	}
	close(p[1]);
	n = read(p[0], err, err_size - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("%s thread: the child died of signal %d", seccomp_thread_name(type),
			 WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void allowed_child(enum vmm_thread_type type, const void *arg)
{
	try_allowed(type);
	_exit(0);
}

static void test_thread_allows_its_rows(void **state)
{
	char err[1024];

	for (int t = 0; t < VMM_THREAD_TYPES; t++) {
		int status = in_child((enum vmm_thread_type)t, allowed_child, NULL, err, sizeof(err));

		if (status)
			fail_msg("%s thread: status %d: %s", seccomp_thread_name((enum vmm_thread_type)t),
				 status, err);
	}
}

/* What no thread may do, and the name the SIGSYS line gives it. */
enum forbidden {
	F_OPENAT, F_EXECVE, F_SOCKET, F_URING_SETUP, F_URING_REGISTER, F_FORK, F_MMAP_EXEC,
	F_MPROTECT_EXEC, F_TIOCSTI, F_KVM_CREATE_VM, F_PTRACE, F_PROCESS_VM_WRITEV,
	F_PRCTL_DUMPABLE, F_SECCOMP_TSYNC, F_TGKILL_OTHER, F_KILL, F_SCHED_FIFO, F_NR
};

static const char *const forbidden_name[F_NR] = {
	[F_OPENAT] = "system call openat", [F_EXECVE] = "system call execve",
	[F_SOCKET] = "system call socket", [F_URING_SETUP] = "system call io_uring_setup",
	[F_URING_REGISTER] = "system call io_uring_register", [F_FORK] = "system call clone",
	[F_MMAP_EXEC] = "system call mmap", [F_MPROTECT_EXEC] = "system call mprotect",
	[F_TIOCSTI] = "system call ioctl (16) request 0x5412",
	[F_KVM_CREATE_VM] = "system call ioctl (16) request 0xae01",
	[F_PTRACE] = "system call ptrace", [F_PROCESS_VM_WRITEV] = "system call process_vm_writev",
	[F_PRCTL_DUMPABLE] = "system call prctl", [F_SECCOMP_TSYNC] = "system call seccomp",
	[F_TGKILL_OTHER] = "system call tgkill", [F_KILL] = "system call kill",
	[F_SCHED_FIFO] = "system call sched_setscheduler",
};

static void forbidden_child(enum vmm_thread_type type, const void *arg)
{
	static char page[4096] __attribute__((aligned(4096)));
	char c = 0;
	struct iovec v = { &c, 1 };

	switch (*(const enum forbidden *)arg) {
	case F_OPENAT:
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
		break;
	case F_EXECVE:
		syscall(SYS_execve, "/bin/true", NULL, NULL);
		break;
	case F_SOCKET:
		syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		break;
	case F_URING_SETUP:
		syscall(SYS_io_uring_setup, 1, NULL);
		break;
	case F_URING_REGISTER:
		syscall(SYS_io_uring_register, -1, 0, NULL, 0);
		break;
	case F_FORK:
		if (syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0) == 0)
			_exit(30);	/* the new process */
		break;
	case F_MMAP_EXEC:
		syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case F_MPROTECT_EXEC:
		syscall(SYS_mprotect, page, sizeof(page), PROT_READ | PROT_EXEC);
		break;
	case F_TIOCSTI:
		syscall(SYS_ioctl, -1, TIOCSTI, &c);
		break;
	case F_KVM_CREATE_VM:
		syscall(SYS_ioctl, -1, KVM_CREATE_VM, 0);
		break;
	case F_PTRACE:
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
		break;
	case F_PROCESS_VM_WRITEV:
		syscall(SYS_process_vm_writev, parent, &v, 1, &v, 1, 0);
		break;
	case F_PRCTL_DUMPABLE:
		syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
		break;
	case F_SECCOMP_TSYNC:
		syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL);
		break;
	case F_TGKILL_OTHER:
		syscall(SYS_tgkill, parent, parent, 0);
		break;
	case F_KILL:
		syscall(SYS_kill, parent, 0);
		break;
	case F_SCHED_FIFO:
		syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, NULL);
		break;
	case F_NR:
		break;
	}
}

static void test_thread_refuses_forbidden(void **state)
{
	char err[1024], want[160];

	for (int t = 0; t < VMM_THREAD_TYPES; t++) {
		for (enum forbidden f = 0; f < F_NR; f++) {
			int status = in_child((enum vmm_thread_type)t, forbidden_child, &f, err,
					      sizeof(err));

			snprintf(want, sizeof(want), "the %s thread made %s",
				 seccomp_thread_name((enum vmm_thread_type)t), forbidden_name[f]);
			if (status != SECCOMP_EXIT_VIOLATION || !strstr(err, want) ||
			    !strstr(err, "--seccomp off"))
				fail_msg("%s thread, forbidden call %d: status %d, stderr '%s', wanted '%s'",
					 seccomp_thread_name((enum vmm_thread_type)t), f, status, err, want);
		}
	}
}

struct other_row {
	const char *call;	/* a call row, or NULL: an ioctl */
	unsigned long request;
};

static void other_row_child(enum vmm_thread_type type, const void *arg)
{
	const struct other_row *r = arg;
	long res;

	if (r->call)
		call_harmless(r->call, &res);
	else
		syscall(SYS_ioctl, -1, r->request, 0);
}

/* What a row allows other thread types, this type refuses. */
static void test_thread_refuses_other_rows(void **state)
{
	char err[1024];

	for (int t = 0; t < VMM_THREAD_TYPES; t++) {
		unsigned int bit = TYPE_BIT(t);

		for (size_t i = 0; i < seccomp_nr_calls; i++) {
			struct other_row r = { seccomp_calls[i].name, 0 };

			if (seccomp_calls[i].types & bit || seccomp_syscall_resolve_name(r.call) < 0 ||
			    !strcmp(r.call, "clone"))	/* F_FORK covers it */
				continue;
			if (in_child((enum vmm_thread_type)t, other_row_child, &r, err, sizeof(err)) !=
			    SECCOMP_EXIT_VIOLATION)
				fail_msg("%s thread: %s is not refused", seccomp_thread_name((enum vmm_thread_type)t),
					 r.call);
		}
		for (size_t i = 0; i < seccomp_nr_ioctls; i++) {
			struct other_row r = { NULL, seccomp_ioctls[i].request };

			if (seccomp_ioctls[i].types & bit)
				continue;
			if (in_child((enum vmm_thread_type)t, other_row_child, &r, err, sizeof(err)) !=
			    SECCOMP_EXIT_VIOLATION)
				fail_msg("%s thread: ioctl %s is not refused",
					 seccomp_thread_name((enum vmm_thread_type)t), seccomp_ioctls[i].name);
		}
	}
}

/* Filters stack: a thread creating another must allow all its child
 * needs (main creates vCPUs, a vCPU the I/O, timer, TPM and net threads). */
static void test_creators_cover_children(void **state)
{
	const unsigned int main_bit = TYPE_BIT(VMM_THREAD_MAIN), vcpu = TYPE_BIT(VMM_THREAD_VCPU);
	const unsigned int vcpu_children = TYPE_BIT(VMM_THREAD_IO) | TYPE_BIT(VMM_THREAD_TIMER) |
					    TYPE_BIT(VMM_THREAD_TPM) | TYPE_BIT(VMM_THREAD_NET);

	for (size_t i = 0; i < seccomp_nr_calls; i++) {
		unsigned int ty = seccomp_calls[i].types;

		if ((ty & vcpu_children && !(ty & vcpu)) || (ty & vcpu && !(ty & main_bit)))
			fail_msg("%s: allowed on a child thread type, not on its creator",
				 seccomp_calls[i].name);
	}
	for (size_t i = 0; i < seccomp_nr_ioctls; i++) {
		unsigned int ty = seccomp_ioctls[i].types;

		if ((ty & vcpu_children && !(ty & vcpu)) || (ty & vcpu && !(ty & main_bit)))
			fail_msg("ioctl %s: allowed on a child thread type, not on its creator",
				 seccomp_ioctls[i].name);
	}
}

static void test_test_mode_parse(void **state)
{
	struct seccomp_test t;

	assert_int_equal(seccomp_test_parse("vcpu:openat", &t), 0);
	assert_int_equal(t.thread, VMM_THREAD_VCPU);
	assert_int_equal(t.call, SECCOMP_TEST_OPENAT);
	assert_int_equal(seccomp_test_parse("io:uring-openat", &t), 0);
	assert_int_equal(t.thread, VMM_THREAD_IO);
	assert_int_equal(t.call, SECCOMP_TEST_URING_OPENAT);
	assert_int_equal(seccomp_test_parse("main:uring-openat", &t), -EINVAL);
	assert_int_equal(seccomp_test_parse("vcpu", &t), -EINVAL);
	assert_int_equal(seccomp_test_parse("gpu:openat", &t), -EINVAL);
	assert_int_equal(seccomp_test_parse("main:open", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creators_cover_children),
		cmocka_unit_test(test_thread_allows_its_rows),
		cmocka_unit_test(test_thread_refuses_forbidden),
		cmocka_unit_test(test_thread_refuses_other_rows),
		cmocka_unit_test(test_test_mode_parse),
		cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
