// SPDX-License-Identifier: MIT
/*
 * --daemonize, --pidfile and --log (daemon.h has why the fork comes
 * before the VM is created).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/daemon.h"
#include "vmm/seccomp.h"

#define READY	'R'

void daemon_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->ready_fd = d->null_fd = d->log_fd = -1;
	d->pidfile_fd = d->pidfile_dir_fd = -1;
}

/* ---- the fork ---- */

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	int saved = errno;

	if (forward_to > 0)
		kill(forward_to, sig);
	errno = saved;
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP };
#define NR_FORWARDED	(sizeof(forwarded) / sizeof(forwarded[0]))

/* The parent's side: wait for the child's word, or its end. The signals
 * passed on are blocked (since before the fork) until the handler that
 * passes them on is in place; mask is what to go back to. */
static int daemon_wait(pid_t child, int fd, const sigset_t *mask)
{
	struct sigaction sa = { .sa_handler = forward_signal }, old[NR_FORWARDED];
	int ws, status;
	ssize_t n;
	char c;

	/* The child has its own session: a Ctrl-C on the terminal reaches
	 * only this process. No SA_RESTART: read() returns EINTR and the
	 * loop reads on. */
	forward_to = child;
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < NR_FORWARDED; i++)
		sigaction(forwarded[i], &sa, &old[i]);
	sigprocmask(SIG_SETMASK, mask, NULL);
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && c == READY) {
		status = 0;
		goto restore;
	}
	/* The child ended before its VM ran; its own messages said why. */
	while (waitpid(child, &ws, 0) < 0) {
		if (errno != EINTR) {
			pr_err("--daemonize: waiting for minivmm (pid %d): %s", (int)child,
			       strerror(errno));
			status = 1;
			goto restore;
		}
	}
	if (WIFEXITED(ws)) {
		status = WEXITSTATUS(ws);
	} else {
		status = 128 + WTERMSIG(ws);
		pr_err("--daemonize: minivmm (pid %d) was killed by signal %d while it set the VM up",
		       (int)child, WTERMSIG(ws));
	}
restore:
	for (unsigned int i = 0; i < NR_FORWARDED; i++)
		sigaction(forwarded[i], &old[i], NULL);
	forward_to = 0;
	return status;
}

int daemon_fork(struct daemon *d, int *status)
{
	sigset_t block, mask;
	int fds[2], err;
	pid_t pid;

	/* Nothing buffered may be written twice, by both processes. */
	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC)) {
		err = errno;
		pr_err("--daemonize: pipe: %s", strerror(err));
		return -err;
	}
	/* A signal between the fork and the parent's handler must not be
	 * lost, nor kill the parent alone: held until then. */
	sigemptyset(&block);
	for (unsigned int i = 0; i < NR_FORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &mask);
	pid = fork();
	if (pid < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &mask, NULL);
		pr_err("--daemonize: fork: %s", strerror(err));
		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &mask, NULL);
		close(fds[0]);
		d->ready_fd = fds[1];
		d->detached = true;
		/* Cannot fail: a fresh child leads no process group. It
		 * leaves the terminal's session, so closing the terminal
		 * or Ctrl-C no longer reaches it (but for what the parent
		 * passes on while it waits). */
		setsid();
		return 0;
	}
	close(fds[1]);
	*status = daemon_wait(pid, fds[0], &mask);
	close(fds[0]);
	return 1;
}

/* ---- the pidfile ---- */

/* The pid a pidfile names, or 0. */
static long pidfile_read(int fd)
{
	char buf[32], *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 0 || (*end && *end != '\n'))
		return 0;
	return pid;
}

int daemon_pidfile_create(struct daemon *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char dir[4096], line[24];
	struct stat st;
	long pid;
	int ret, n;

	if (!*name || strlen(name) >= sizeof(d->pidfile_name)) {
		pr_err("--pidfile %s: not a file name (give a path like /run/minivmm/vm.pid)", path);
		return -EINVAL;
	}
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	strcpy(d->pidfile_name, name);
	/* The folder stays open: the file is removed through it at exit,
	 * which is all the seccomp filter lets minivmm remove. */
	d->pidfile_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->pidfile_dir_fd < 0) {
		ret = -errno;
		pr_err("--pidfile %s: the folder %s: %s (create it first)", path, dir, strerror(-ret));
		return ret;
	}
	/* O_NOFOLLOW: a symlink planted at the path is not followed to
	 * overwrite whatever it points at. */
	d->pidfile_fd = openat(d->pidfile_dir_fd, name,
			       O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (d->pidfile_fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			pr_err("--pidfile %s: a symbolic link, which minivmm does not follow (give the path of a plain file)",
			       path);
		else
			pr_err("--pidfile %s: %s (give a writable path)", path, strerror(-ret));
		goto close_dir;
	}
	/* The lock lives as long as the minivmm that took it: a pidfile
	 * left by a killed one is unlocked, a running one's is not. */
	if (flock(d->pidfile_fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY)
			pr_err("--pidfile %s: a running minivmm (pid %ld) holds it (stop it first, or choose another file)",
			       path, pidfile_read(d->pidfile_fd));
		else
			pr_err("--pidfile %s: cannot lock it: %s", path, strerror(-ret));
		goto close_file;
	}
	pid = pidfile_read(d->pidfile_fd);
	if (pid && pid != (long)getpid() && (!kill((pid_t)pid, 0) || errno == EPERM)) {
		pr_err("--pidfile %s: names process %ld, which is alive (stop it, or remove the file if that is not a minivmm)",
		       path, pid);
		ret = -EBUSY;
		goto close_file;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(d->pidfile_fd, 0) || pwrite(d->pidfile_fd, line, (size_t)n, 0) != n ||
	    fstat(d->pidfile_fd, &st)) {
		ret = -errno;
		pr_err("--pidfile %s: cannot write it: %s", path, strerror(-ret));
		goto unlink_file;
	}
	d->pidfile_dev = st.st_dev;
	d->pidfile_ino = st.st_ino;
	return 0;

unlink_file:
	unlinkat(d->pidfile_dir_fd, name, 0);
close_file:
	close(d->pidfile_fd);
	d->pidfile_fd = -1;
close_dir:
	close(d->pidfile_dir_fd);
	d->pidfile_dir_fd = -1;
	return ret;
}

int daemon_pidfile_unlink(const struct daemon *d)
{
	struct stat st;

	/* Only the file written: removed by hand and since written by
	 * another minivmm, it is that one's. (Async-signal-safe calls.) */
	if (d->pidfile_fd < 0 ||
	    fstatat(d->pidfile_dir_fd, d->pidfile_name, &st, AT_SYMLINK_NOFOLLOW) ||
	    st.st_dev != d->pidfile_dev || st.st_ino != d->pidfile_ino)
		return 0;
	return unlinkat(d->pidfile_dir_fd, d->pidfile_name, 0) ? -errno : 0;
}

void daemon_pidfile_remove(struct daemon *d)
{
	int ret;

	if (d->pidfile_fd < 0)
		return;
	ret = daemon_pidfile_unlink(d);
	if (ret)
		pr_warn("--pidfile %s: cannot remove it: %s", d->pidfile_name, strerror(-ret));
	close(d->pidfile_fd);	/* and with it the lock */
	close(d->pidfile_dir_fd);
	d->pidfile_fd = d->pidfile_dir_fd = -1;
}

/* ---- stdio ---- */

int daemon_open_stdio(struct daemon *d, const struct vm_config *cfg)
{
	int err;

	if (cfg->log) {
		d->log_fd = open(cfg->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (d->log_fd < 0) {
			err = errno;
			pr_err("--log %s: %s (give a writable path)", cfg->log, strerror(err));
			return -err;
		}
	}
	if (!d->detached)
		return 0;
	d->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (d->null_fd < 0) {
		err = errno;
		pr_err("--daemonize: /dev/null: %s", strerror(err));
		goto close_log;
	}
	/* Every file is open by now (relative paths included), and the
	 * control socket and the pidfile are removed through their folders'
	 * fds: nothing needs the working folder any more. */
	if (chdir("/")) {
		err = errno;
		pr_err("--daemonize: chdir /: %s", strerror(err));
		goto close_null;
	}
	return 0;

close_null:
	close(d->null_fd);
	d->null_fd = -1;
close_log:
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->log_fd = -1;
	return -err;
}

void daemon_close_stdio(struct daemon *d)
{
	if (d->null_fd >= 0)
		close(d->null_fd);
	if (d->log_fd >= 0)
		close(d->log_fd);
	if (d->ready_fd >= 0)
		close(d->ready_fd);
	d->null_fd = d->log_fd = d->ready_fd = -1;
}

void daemon_seccomp(const struct daemon *d, struct seccomp_extra *x)
{
	if (d->pidfile_dir_fd >= 0) {
		for (unsigned int i = 0; i < SECCOMP_MAX_UNLINK_DIRS; i++) {
			if (x->unlink_dir_fd[i] < 0) {
				x->unlink_dir_fd[i] = d->pidfile_dir_fd;
				break;
			}
		}
	}
	x->dup_stdio = d->detached || d->log_fd >= 0;
}

static void redirect(int from, int to)
{
	if (from >= 0 && from != to && dup3(from, to, 0) < 0)
		pr_warn("redirecting fd %d: %s", to, strerror(errno));
}

void daemon_running(void *opaque)
{
	struct daemon *d = opaque;
	char ready = READY;

	d->ran = true;
	/* stdio first: once the parent has exited, its terminal may be gone
	 * and nothing may write there any more. */
	if (d->detached) {
		redirect(d->null_fd, STDIN_FILENO);
		redirect(d->null_fd, STDOUT_FILENO);
		redirect(d->log_fd >= 0 ? d->log_fd : d->null_fd, STDERR_FILENO);
	} else {
		redirect(d->log_fd, STDERR_FILENO);
	}
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, &ready, 1) != 1)
			pr_warn("--daemonize: telling the parent the VM runs: %s", strerror(errno));
		close(d->ready_fd);
		d->ready_fd = -1;
	}
}
