// SPDX-License-Identifier: MIT
/*
 * vmm/seccomp.c's extras for --control, --pidfile and --daemonize, in a
 * forked child each (a filter cannot be taken off): what they allow
 * works — accept4 on the control socket, recv/send on a connection,
 * unlinkat in the pinned folders, dup3 onto 0-2 — and everything next
 * to it is still refused: accept4 on another socket, unlinkat elsewhere
 * or of a folder, dup3 onto another fd, and all of it without the extras.
 * A refused call ends the child through the filter's SIGSYS handler with
 * status 1 (and its one line on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

		if (status != 1)
			fail_msg("probe %d: status %d, expected the filter's 1", p, status);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
