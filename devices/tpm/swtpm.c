// SPDX-License-Identifier: MIT
/*
 * swtpm as the TPM behind the CRB interface; see swtpm.h.
 *
 * The control channel's protocol (swtpm_ioctls(3), "control commands"):
 * a request is a 4-byte big-endian command code and its request
 * structure, the reply the response structure (most start with a 4-byte
 * result, 0 for success), all big-endian. The data channel carries TPM
 * 2.0 commands and responses as they are: a command in one write, the
 * response framed by its header's size.
 *
 * A started swtpm gets both channels as socket pairs on its fds 3
 * (--ctrl type=unixio,clientfd=3) and 4 (--fd 4, which implies
 * --terminate): when minivmm's ends close — at a clean exit after
 * CMD_SHUTDOWN, at an error, or because minivmm was killed — swtpm ends
 * too. It runs in a process group of its own, so a Ctrl-C on the
 * terminal is minivmm's to handle (the ACPI power button), not swtpm's.
 *
 * Locks: ctrl_lock serialises control-channel transactions (a vCPU's
 * cancel, the main thread's reset and shutdown); it is a leaf, taken with
 * no other lock held. The data channel is the CRB worker's alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices/tpm/swtpm.h"
#include "lib/log.h"
#include "lib/sysfs.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

/* Control commands (swtpm's include/swtpm/tpm_ioctl.h, "CMD_..."). */
enum {
	CMD_GET_CAPABILITY = 1,
	CMD_INIT = 2,
	CMD_SHUTDOWN = 3,
	CMD_GET_TPMESTABLISHED = 4,
	CMD_SET_LOCALITY = 5,
	CMD_CANCEL_TPM_CMD = 9,
	CMD_STOP = 14,
	CMD_SET_DATAFD = 16,
	CMD_SET_BUFFERSIZE = 17,
};

/* CMD_GET_CAPABILITY bits (PTM_CAP_...). */
#define CAP_INIT		(1u << 0)
#define CAP_SHUTDOWN		(1u << 1)
#define CAP_GET_TPMESTABLISHED	(1u << 2)
#define CAP_SET_LOCALITY	(1u << 3)
#define CAP_CANCEL_TPM_CMD	(1u << 5)
#define CAP_STOP		(1u << 10)
#define CAP_SET_DATAFD		(1u << 12)
#define CAP_SET_BUFFERSIZE	(1u << 13)
#define CAPS_NEEDED		(CAP_INIT | CAP_SHUTDOWN | CAP_GET_TPMESTABLISHED | \
				 CAP_SET_LOCALITY | CAP_CANCEL_TPM_CMD | CAP_STOP | \
				 CAP_SET_BUFFERSIZE)

#define INIT_FLAG_DELETE_VOLATILE	(1u << 0)

/* How long swtpm may take: a control command, and a TPM command (the
 * longest TPM 2.0 duration Linux allows, TPM2_DURATION_LONG_LONG). */
#define CTRL_TIMEOUT_MS		10000
#define EXEC_TIMEOUT_MS		300000
#define EXIT_TIMEOUT_MS		5000

#define CHILD_CTRL_FD	3
#define CHILD_DATA_FD	4

struct swtpm {
	int ctrl_fd, data_fd;
	int abort_fd;		/* eventfd: a blocked execute() gives up */
	pid_t pid;		/* a started swtpm, else 0 */
	int pidfd;
	pthread_mutex_t ctrl_lock;
	char what[160];		/* for messages: which swtpm */
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Wait for fd to be ready for events, or for the abort eventfd. */
static int io_wait(struct swtpm *s, int fd, short events, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = events },
		{ .fd = s->abort_fd, .events = POLLIN },
	};
	int n;

	do {
		n = poll(p, 2, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		return -ETIMEDOUT;
	if (p[1].revents & POLLIN)
		return -ECANCELED;
	return 0;
}

static int io_all(struct swtpm *s, int fd, bool out, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n;
		int ret = io_wait(s, fd, out ? POLLOUT : POLLIN, timeout_ms);

		if (ret)
			return ret;
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;	/* swtpm closed the channel */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One control transaction: cmd and req out, resp_len bytes of reply in.
 * Returns the reply's leading result (0: success) or -errno. */
static int ctrl_cmd(struct swtpm *s, uint32_t cmd, const void *req, size_t req_len,
		    void *resp, size_t resp_len, int timeout_ms)
{
	uint8_t out[16], in[16];
	int ret;

	if (req_len > sizeof(out) - 4 || resp_len > sizeof(in) || resp_len < 4)
		return -EINVAL;
	put_be32(out, cmd);
	if (req_len)
		memcpy(out + 4, req, req_len);
	pthread_mutex_lock(&s->ctrl_lock);
	ret = io_all(s, s->ctrl_fd, true, out, 4 + req_len, timeout_ms);
	if (!ret)
		ret = io_all(s, s->ctrl_fd, false, in, resp_len, timeout_ms);
	pthread_mutex_unlock(&s->ctrl_lock);
	if (ret)
		return ret;
	if (resp)
		memcpy(resp, in, resp_len);
	return (int)(get_be32(in) & 0x7fffffff);
}

static int swtpm_init(void *opaque, uint32_t buffer_size, bool *established)
{
	struct swtpm *s = opaque;
	uint8_t req[4], resp[16];
	uint8_t loc = 0;
	int ret;

	/* QEMU's order (tpm_emulator_startup_tpm_resume): the buffer size
	 * can only change while the TPM is stopped, then TPM_Init with the
	 * volatile state dropped, as a power cycle does. */
	ret = ctrl_cmd(s, CMD_STOP, NULL, 0, NULL, 4, CTRL_TIMEOUT_MS);
	if (ret)
		goto fail;
	put_be32(req, buffer_size);
	ret = ctrl_cmd(s, CMD_SET_BUFFERSIZE, req, 4, resp, 16, CTRL_TIMEOUT_MS);
	if (!ret && get_be32(resp + 4) > buffer_size)
		ret = -EMSGSIZE;
	if (ret)
		goto fail;
	put_be32(req, INIT_FLAG_DELETE_VOLATILE);
	ret = ctrl_cmd(s, CMD_INIT, req, 4, NULL, 4, CTRL_TIMEOUT_MS);
	if (ret > 0) {
		pr_err("--tpm: %s could not initialise the TPM (result %d; is another VM with this TPM state running? swtpm's own message is above)",
		       s->what, ret);
		return -EIO;
	}
	if (ret)
		goto fail;
	ret = ctrl_cmd(s, CMD_SET_LOCALITY, &loc, 1, NULL, 4, CTRL_TIMEOUT_MS);
	if (!ret)
		ret = ctrl_cmd(s, CMD_GET_TPMESTABLISHED, NULL, 0, resp, 8, CTRL_TIMEOUT_MS);
	if (ret)
		goto fail;
	*established = resp[4] & 1;
	return 0;
fail:
	pr_err("--tpm: %s: %s", s->what,
	       ret > 0 ? "a control command failed (swtpm's message is above)" : strerror(-ret));
	return ret > 0 ? -EIO : ret;
}

static long swtpm_execute(void *opaque, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
			  size_t rsp_cap)
{
	struct swtpm *s = opaque;
	uint8_t discard[256];
	uint32_t size;
	size_t got;
	int ret;

	if (rsp_cap < TPM2_HEADER_SIZE)
		return -EINVAL;
	ret = io_all(s, s->data_fd, true, (void *)cmd, cmd_len, EXEC_TIMEOUT_MS);
	if (!ret)
		ret = io_all(s, s->data_fd, false, rsp, TPM2_HEADER_SIZE, EXEC_TIMEOUT_MS);
	if (ret)
		return ret;
	size = get_be32(rsp + 2);
	if (size < TPM2_HEADER_SIZE)
		return -EPROTO;
	/* The rest of the response; past rsp_cap (swtpm was told the
	 * buffer size, so never) it is read and dropped, to stay framed. */
	got = TPM2_HEADER_SIZE;
	while (got < size) {
		size_t n = size - got;
		void *to = discard;

		if (got < rsp_cap) {
			n = n < rsp_cap - got ? n : rsp_cap - got;
			to = rsp + got;
		} else if (n > sizeof(discard)) {
			n = sizeof(discard);
		}
		ret = io_all(s, s->data_fd, false, to, n, EXEC_TIMEOUT_MS);
		if (ret)
			return ret;
		got += n;
	}
	return size <= rsp_cap ? (long)size : -EMSGSIZE;
}

static void swtpm_cancel(void *opaque)
{
	struct swtpm *s = opaque;
	int ret = ctrl_cmd(s, CMD_CANCEL_TPM_CMD, NULL, 0, NULL, 4, CTRL_TIMEOUT_MS);

	if (ret)
		pr_debug("tpm: CMD_CANCEL_TPM_CMD: %s", ret > 0 ? "refused" : strerror(-ret));
}

static void swtpm_abort(void *opaque)
{
	struct swtpm *s = opaque;
	uint64_t one = 1;

	if (write(s->abort_fd, &one, sizeof(one)) < 0)
		pr_debug("tpm: abort: %s", strerror(errno));
}

/* A started swtpm: wait for it to go (CMD_SHUTDOWN or the closed
 * channels end it), kill it if it will not, and reap it. */
static void swtpm_reap(struct swtpm *s)
{
	struct pollfd p = { .fd = s->pidfd, .events = POLLIN };
	siginfo_t info;

	if (s->pidfd < 0)
		return;
	if (poll(&p, 1, EXIT_TIMEOUT_MS) <= 0) {
		pr_warn("--tpm: swtpm (pid %d) did not exit within %d s; killing it", (int)s->pid,
			EXIT_TIMEOUT_MS / 1000);
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	}
	if (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &info, WEXITED) == 0 &&
	    (info.si_code != CLD_EXITED || info.si_status != 0))
		pr_debug("tpm: swtpm ended with %s %d",
			 info.si_code == CLD_EXITED ? "status" : "signal", info.si_status);
	close(s->pidfd);
	s->pidfd = -1;
}

static void swtpm_free(struct swtpm *s)
{
	if (s->ctrl_fd >= 0)
		close(s->ctrl_fd);
	if (s->data_fd >= 0)
		close(s->data_fd);
	swtpm_reap(s);
	if (s->abort_fd >= 0)
		close(s->abort_fd);
	pthread_mutex_destroy(&s->ctrl_lock);
	free(s);
}

static void swtpm_destroy(void *opaque)
{
	struct swtpm *s = opaque;
	uint64_t n;

	/* Teardown may follow an abort: clear it, so the shutdown goes out. */
	if (read(s->abort_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("tpm: %s", strerror(errno));
	if (ctrl_cmd(s, CMD_SHUTDOWN, NULL, 0, NULL, 4, CTRL_TIMEOUT_MS))
		pr_debug("tpm: CMD_SHUTDOWN to %s failed", s->what);
	swtpm_free(s);
}

static const struct tpm_backend_ops swtpm_ops = {
	.init = swtpm_init,
	.execute = swtpm_execute,
	.cancel = swtpm_cancel,
	.abort = swtpm_abort,
	.destroy = swtpm_destroy,
};

/* The child's ends of the two socket pairs on fds 3 and 4. */
static int swtpm_spawn(struct swtpm *s, const struct swtpm_params *p, int ctrl, int data)
{
	const char *bin = p->binary ? p->binary : "swtpm";
	char state[4200], ctrl_arg[64], data_arg[16];
	char *argv[] = {
		(char *)bin, "socket", "--tpm2", "--tpmstate", state,
		"--ctrl", ctrl_arg, "--fd", data_arg, NULL,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int hi_ctrl, hi_data, ret;

	snprintf(state, sizeof(state), "dir=%s,mode=0600", p->state_dir);
	snprintf(ctrl_arg, sizeof(ctrl_arg), "type=unixio,clientfd=%d", CHILD_CTRL_FD);
	snprintf(data_arg, sizeof(data_arg), "%d", CHILD_DATA_FD);
	/* Above 3 and 4, so that the two dup2s cannot clobber each other. */
	hi_ctrl = fcntl(ctrl, F_DUPFD_CLOEXEC, 16);
	hi_data = fcntl(data, F_DUPFD_CLOEXEC, 16);
	if (hi_ctrl < 0 || hi_data < 0) {
		ret = errno;
		goto close_hi;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, hi_ctrl, CHILD_CTRL_FD);
	posix_spawn_file_actions_adddup2(&fa, hi_data, CHILD_DATA_FD);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	ret = posix_spawnp(&s->pid, bin, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
close_hi:
	if (hi_ctrl >= 0)
		close(hi_ctrl);
	if (hi_data >= 0)
		close(hi_data);
	if (ret == ENOENT) {
		pr_err("--tpm: %s is not installed (install the Debian package swtpm, or give a running swtpm's control socket with --tpm socket=PATH)",
		       bin);
		return -ENOENT;
	}
	if (ret) {
		pr_err("--tpm: cannot start %s: %s", bin, strerror(ret));
		return -ret;
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0) {
		ret = -errno;
		pr_err("--tpm: pidfd_open for swtpm: %s (Linux 5.3 or later is needed)", strerror(errno));
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return ret;
	}
	snprintf(s->what, sizeof(s->what), "swtpm (pid %d, state in %s)", (int)s->pid, p->state_dir);
	return 0;
}

static int swtpm_start(struct swtpm *s, const struct swtpm_params *p)
{
	int ctrl[2], data[2], ret;

	ret = host_mkdir_p(p->state_dir, 0700, 0700);
	if (ret) {
		pr_err("--tpm: cannot create the TPM state directory %s: %s (set MINIVMM_STATE_DIR to a writable directory)",
		       p->state_dir, strerror(-ret));
		return ret;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctrl))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data)) {
		ret = -errno;
		close(ctrl[0]);
		close(ctrl[1]);
		return ret;
	}
	s->ctrl_fd = ctrl[0];
	s->data_fd = data[0];
	ret = swtpm_spawn(s, p, ctrl[1], data[1]);
	close(ctrl[1]);
	close(data[1]);
	return ret;
}

/* --tpm socket=PATH: its control channel, then ours as its data channel. */
static int swtpm_connect(struct swtpm *s, const struct swtpm_params *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	uint8_t cmd[4], resp[4];
	struct iovec iov = { .iov_base = cmd, .iov_len = sizeof(cmd) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int data[2], ret;

	snprintf(s->what, sizeof(s->what), "the swtpm at %s", p->socket);
	if (strlen(p->socket) >= sizeof(sa.sun_path)) {
		pr_err("--tpm socket=%s: longer than a Unix socket path (%zu bytes; use a shorter path)",
		       p->socket, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, p->socket);
	s->ctrl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->ctrl_fd < 0)
		return -errno;
	if (connect(s->ctrl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		pr_err("--tpm socket=%s: %s (start swtpm first: swtpm socket --tpm2 --tpmstate dir=DIR --ctrl type=unixio,path=%s --terminate)",
		       p->socket, ret == -ENOENT ? "no such socket" :
		       ret == -ECONNREFUSED ? "nothing listens there" : strerror(-ret), p->socket);
		return ret;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data))
		return -errno;
	s->data_fd = data[0];
	put_be32(cmd, CMD_SET_DATAFD);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &data[1], sizeof(int));
	ret = sendmsg(s->ctrl_fd, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(cmd) ? 0 : -errno;
	close(data[1]);
	if (!ret)
		ret = io_all(s, s->ctrl_fd, false, resp, sizeof(resp), CTRL_TIMEOUT_MS);
	if (!ret && get_be32(resp))
		ret = -EIO;
	if (ret)
		pr_err("--tpm socket=%s: handing swtpm the data channel (CMD_SET_DATAFD) failed: %s (is it a swtpm control socket, and is no other VM using it?)",
		       p->socket, strerror(-ret));
	return ret;
}

int swtpm_open(const struct swtpm_params *p, struct tpm_backend *out)
{
	uint8_t caps[8];
	uint32_t need = CAPS_NEEDED | (p->socket ? CAP_SET_DATAFD : 0);
	struct swtpm *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctrl_fd = s->data_fd = s->pidfd = -1;
	pthread_mutex_init(&s->ctrl_lock, NULL);
	s->abort_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->abort_fd < 0) {
		ret = -errno;
		goto free;
	}
	/* A swtpm that dies must cost the guest its TPM, not minivmm its
	 * life: writes to its channels then fail with EPIPE. vm_run()
	 * ignores SIGPIPE for the run anyway; this covers the set-up. */
	signal(SIGPIPE, SIG_IGN);
	ret = p->socket ? swtpm_connect(s, p) : swtpm_start(s, p);
	if (ret)
		goto free;
	/* Non-blocking: every transfer waits in poll(), where an abort or
	 * a timeout can end it. */
	fcntl(s->ctrl_fd, F_SETFL, fcntl(s->ctrl_fd, F_GETFL) | O_NONBLOCK);
	fcntl(s->data_fd, F_SETFL, fcntl(s->data_fd, F_GETFL) | O_NONBLOCK);
	/* CMD_GET_CAPABILITY answers with the 8-byte mask alone. */
	put_be32(caps, CMD_GET_CAPABILITY);
	ret = io_all(s, s->ctrl_fd, true, caps, 4, CTRL_TIMEOUT_MS);
	if (!ret)
		ret = io_all(s, s->ctrl_fd, false, caps, 8, CTRL_TIMEOUT_MS);
	if (ret) {
		pr_err("--tpm: %s does not answer on its control channel: %s (swtpm's message, if any, is above)",
		       s->what, strerror(-ret));
		goto free;
	}
	if ((get_be32(caps + 4) & need) != need) {
		pr_err("--tpm: %s lacks control commands minivmm needs (capabilities %#x, needs %#x: use swtpm 0.7 or later)",
		       s->what, get_be32(caps + 4), need);
		ret = -ENOTSUP;
		goto free;
	}
	*out = (struct tpm_backend){ .ops = &swtpm_ops, .opaque = s };
	pr_debug("tpm: %s", s->what);
	return 0;
free:
	swtpm_free(s);
	return ret;
}
