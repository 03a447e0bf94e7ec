// SPDX-License-Identifier: MIT
/*
 * vmm/daemon.c: the pidfile (written, locked, refused while a minivmm or
 * another live process holds it, a stale one replaced, removed only if
 * still ours, never through a symlink), and the fork of --daemonize: the
 * parent exits 0 only on the child's word that its VM runs, otherwise with
 * the child's own status; the child leads its own session, leaves the
 * working folder and ends with stdio on /dev/null and --log; a signal to
 * the waiting parent reaches the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/daemon.h"
#include "vmm/seccomp.h"

static char dir[64], pidfile[128];

static int make_dir(void **state)
{
	strcpy(dir, "/tmp/minivmm-daemon.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/vm.pid", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static long read_pid(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtol(buf, NULL, 10);
}

static void test_pidfile_written_and_removed(void **state)
{
	struct daemon d;
	struct stat st;

	daemon_init(&d);
	assert_int_equal(daemon_pidfile_create(&d, pidfile), 0);
	assert_int_equal(read_pid(pidfile), (long)getpid());
	assert_int_equal(stat(pidfile, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	daemon_pidfile_remove(&d);
	assert_int_equal(stat(pidfile, &st), -1);
	daemon_pidfile_remove(&d);	/* twice is fine */
}

static void test_pidfile_held(void **state)
{
	struct daemon a, b;

	/* a running minivmm holds its lock: refused, its file untouched */
	daemon_init(&a);
	daemon_init(&b);
	assert_int_equal(daemon_pidfile_create(&a, pidfile), 0);
	assert_int_equal(daemon_pidfile_create(&b, pidfile), -EBUSY);
	assert_int_equal(read_pid(pidfile), (long)getpid());
	daemon_pidfile_remove(&b);	/* b has nothing to remove */
	assert_int_equal(read_pid(pidfile), (long)getpid());
	daemon_pidfile_remove(&a);
}

static void test_pidfile_live_process(void **state)
{
	struct daemon d;
	char line[32];

	/* unlocked, but naming a live process (our parent): refused */
	snprintf(line, sizeof(line), "%ld\n", (long)getppid());
	write_file(pidfile, line);
	daemon_init(&d);
	assert_int_equal(daemon_pidfile_create(&d, pidfile), -EBUSY);
	assert_int_equal(read_pid(pidfile), (long)getppid());
}

static void test_pidfile_stale(void **state)
{
	static const char *const stale[] = { NULL, "", "garbage\n", "-5\n", "0\n", "12x\n" };
	struct daemon d;
	char line[32];
	pid_t child = fork();

	/* the pid of a process that has ended */
	if (!child)
		_exit(0);
	assert_true(child > 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	snprintf(line, sizeof(line), "%ld\n", (long)child);
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		write_file(pidfile, stale[i] ? stale[i] : line);
		daemon_init(&d);
		assert_int_equal(daemon_pidfile_create(&d, pidfile), 0);
		assert_int_equal(read_pid(pidfile), (long)getpid());
		daemon_pidfile_remove(&d);
	}
}

static void test_pidfile_not_ours_any_more(void **state)
{
	struct daemon d;

	daemon_init(&d);
	assert_int_equal(daemon_pidfile_create(&d, pidfile), 0);
	/* removed by hand, and another minivmm wrote its own */
	unlink(pidfile);
	write_file(pidfile, "1\n");
	daemon_pidfile_remove(&d);
	assert_int_equal(read_pid(pidfile), 1);
}

static void test_pidfile_bad_paths(void **state)
{
	char path[200];
	struct daemon d;
	struct stat st;

	daemon_init(&d);
	/* a symlink is not followed to overwrite its target */
	snprintf(path, sizeof(path), "%s/target", dir);
	write_file(path, "precious\n");
	assert_int_equal(symlink(path, pidfile), 0);
	assert_int_equal(daemon_pidfile_create(&d, pidfile), -ELOOP);
	assert_int_equal(lstat(pidfile, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(pidfile);
	snprintf(path, sizeof(path), "%s/none/vm.pid", dir);
	assert_int_equal(daemon_pidfile_create(&d, path), -ENOENT);
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(daemon_pidfile_create(&d, path), -EINVAL);
	assert_int_equal(d.pidfile_fd, -1);
	assert_int_equal(d.pidfile_dir_fd, -1);
}

static void test_seccomp_needs(void **state)
{
	struct seccomp_extra x;
	struct daemon d;

	seccomp_extra_init(&x);
	daemon_init(&d);
	daemon_seccomp(&d, &x);
	assert_int_equal(x.unlink_dir_fd[0], -1);
	assert_false(x.dup_stdio);
	assert_int_equal(daemon_pidfile_create(&d, pidfile), 0);
	x.unlink_dir_fd[0] = 99;	/* the control socket's folder */
	daemon_seccomp(&d, &x);
	assert_int_equal(x.unlink_dir_fd[0], 99);
	assert_int_equal(x.unlink_dir_fd[1], d.pidfile_dir_fd);
	d.detached = true;
	daemon_seccomp(&d, &x);
	assert_true(x.dup_stdio);
	d.detached = false;
	daemon_pidfile_remove(&d);
}

/* ---- the fork ---- */

/* In the child: set up as main() does, then what the test asks. */
enum child_end { RUN, EXIT_7, KILLED, CHECK_SESSION, WAIT_FOR_SIGNAL };

static int fork_and(enum child_end how, int *status)
{
	struct vm_config cfg = { .daemonize = true };
	char log[160];
	struct daemon d;
	int ret;

	snprintf(log, sizeof(log), "%s/log", dir);
	cfg.log = log;
	daemon_init(&d);
	ret = daemon_fork(&d, status);
	if (ret)
		return ret;
	/* the child: never back into cmocka */
	switch (how) {
	case RUN:
		if (daemon_open_stdio(&d, &cfg))
			_exit(20);
		daemon_running(&d);
		/* stdio has moved: to /dev/null and the log; the cwd is / */
		fprintf(stderr, "to the log\n");
		printf("to /dev/null\n");
		fflush(NULL);
		{
			char cwd[8];

			_exit(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/") ? 0 : 21);
		}
	case EXIT_7:
		_exit(7);
	case KILLED:
		raise(SIGKILL);
		_exit(22);
	case CHECK_SESSION:
		_exit(getsid(0) == getpid() && d.detached && d.ready_fd >= 0 ? 42 : 23);
	case WAIT_FOR_SIGNAL:
		/* a Ctrl-C on the terminal hits only the parent ... */
		kill(getppid(), SIGTERM);
		for (;;)
			pause();	/* ... which passes it on */
	}
	_exit(24);
}

static void test_fork_runs(void **state)
{
	char path[160], buf[64] = "";
	int status = -1;
	FILE *f;

	assert_int_equal(fork_and(RUN, &status), 1);
	assert_int_equal(status, 0);
	/* the parent returned on the word, before the child's end: the
	 * log line comes once the child gets there */
	snprintf(path, sizeof(path), "%s/log", dir);
	for (int i = 0; i < 200; i++) {
		f = fopen(path, "r");
		if (f && fgets(buf, sizeof(buf), f)) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	assert_string_equal(buf, "to the log\n");
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static void test_fork_child_fails(void **state)
{
	int status = -1;

	assert_int_equal(fork_and(EXIT_7, &status), 1);
	assert_int_equal(status, 7);
	assert_int_equal(fork_and(KILLED, &status), 1);
	assert_int_equal(status, 128 + SIGKILL);
	assert_int_equal(fork_and(CHECK_SESSION, &status), 1);
	assert_int_equal(status, 42);
}

static void test_fork_forwards_signals(void **state)
{
	struct sigaction before, after;
	int status = -1;

	sigaction(SIGTERM, NULL, &before);
	assert_int_equal(fork_and(WAIT_FOR_SIGNAL, &status), 1);
	assert_int_equal(status, 128 + SIGTERM);
	/* and the parent's own handling is as it was */
	sigaction(SIGTERM, NULL, &after);
	assert_ptr_equal(before.sa_handler, after.sa_handler);
}

static void test_stdio_without_daemonize(void **state)
{
	struct vm_config cfg = { 0 };
	struct daemon d;
	char path[160];

	daemon_init(&d);
	assert_int_equal(daemon_open_stdio(&d, &cfg), 0);
	assert_int_equal(d.null_fd, -1);
	assert_int_equal(d.log_fd, -1);
	daemon_running(&d);	/* nothing to do, nothing done */
	snprintf(path, sizeof(path), "%s/no/log", dir);
	cfg.log = path;
	assert_int_equal(daemon_open_stdio(&d, &cfg), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pidfile_written_and_removed, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pidfile_held, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pidfile_live_process, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pidfile_stale, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pidfile_not_ours_any_more, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pidfile_bad_paths, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_seccomp_needs, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_fork_runs, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_fork_child_fails, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_fork_forwards_signals, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_stdio_without_daemonize, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
