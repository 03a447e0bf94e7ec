// SPDX-License-Identifier: MIT
/*
 * minivmm ctl: the client half of the control socket (ctl.h). One
 * connection, one request line, one reply line, all within one deadline;
 * each way it can fail is one line naming the cause and the fix.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/log.h"
#include "vmm/control.h"
#include "vmm/ctl.h"

struct ctl_conn {
	const char *path;
	int fd;
	struct timespec deadline;
};

static void ctl_usage(void)
{
	fputs(
"usage: minivmm ctl [--timeout SECONDS] PATH CMD\n"
"\n"
"Send CMD to the VM whose control socket is PATH (minivmm --control PATH)\n"
"and print its reply, one JSON object on one line (docs/control.md).\n"
"\n"
"  CMD                  status, stats, powerdown, reset or stop; or a whole\n"
"                       request line, e.g. '{\"cmd\":\"status\"}'\n"
"  --timeout SECONDS    how long to wait for the VM (default 5); stop waits\n"
"                       that long for the VM to finish its teardown too\n"
"\n"
"exit status: 0 the VM answered \"ok\":true (stop: and has exited), 1 it answered\n"
"\"ok\":false, 2 bad command line, 3 no usable answer (no VM listens at PATH,\n"
"none in time, or not a reply)\n", stdout);
}

static int ms_left(const struct ctl_conn *c)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000 +
	     (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Wait for events on the socket until the deadline: 0 or -ETIMEDOUT. */
static int ctl_wait(const struct ctl_conn *c, short events)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		int left = ms_left(c), n;

		if (!left)
			return -ETIMEDOUT;
		n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int ctl_connect(struct ctl_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	for (;;) {
		struct timespec pause = { .tv_nsec = 10 * 1000000 };

		if (!connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		if (errno == EINTR)
			continue;
		/* A Unix socket's full backlog: the VM is busy, retry. */
		if (errno != EAGAIN)
			return -errno;
		if (!ms_left(c))
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

static int ctl_send(struct ctl_conn *c, const char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		int ret;

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = ctl_wait(c, POLLOUT);
		if (ret)
			return ret;
	}
	return 0;
}

/* One line into buf (NUL-terminated, newline dropped): its length, or
 * -ETIMEDOUT, -ECONNRESET (closed first), -EMSGSIZE (longer than buf). */
static ssize_t ctl_read_line(struct ctl_conn *c, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;
		int ret;

		if (nl) {
			*nl = '\0';
			return nl - buf;
		}
		if (len == cap - 1)
			return -EMSGSIZE;
		n = recv(c->fd, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = ctl_wait(c, POLLIN);
		if (ret)
			return ret;
	}
}

/* After "stop" was accepted: the VM closes every connection once it has
 * torn down, right before it exits. 0 then, or -ETIMEDOUT. */
static int ctl_wait_closed(struct ctl_conn *c)
{
	char buf[256];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		int ret;

		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return 0;	/* reset: gone all the same */
		ret = ctl_wait(c, POLLIN);
		if (ret)
			return ret;
	}
}

static int ctl_parse_timeout(const char *arg, int *ms)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !(s >= 0.1 && s <= 3600)) {
		pr_err("ctl: --timeout '%s': not a number of seconds (give 0.1 to 3600, e.g. --timeout 10)",
		       arg);
		return -EINVAL;
	}
	*ms = (int)(s * 1000);
	return 0;
}

/* The request line for CMD: a command name, or a whole request as is. */
static int ctl_request_line(const char *cmd, char *line, size_t cap)
{
	struct json_out o;

	if (!*cmd) {
		pr_err("ctl: an empty command (give status, stats, powerdown, reset or stop)");
		return -EINVAL;
	}
	if (strchr(cmd, '\n')) {
		pr_err("ctl: the request holds a newline (a request is one line)");
		return -EINVAL;
	}
	if (cmd[0] == '{') {
		if (strlen(cmd) + 2 > cap) {
			pr_err("ctl: the request is longer than %d bytes (the VM takes no more)",
			       CONTROL_MAX_LINE);
			return -EINVAL;
		}
		snprintf(line, cap, "%s\n", cmd);
		return 0;
	}
	json_out_init(&o, line, cap - 1);
	json_out_open(&o, '{');
	json_out_key(&o, "cmd");
	json_out_string(&o, cmd);
	json_out_close(&o, '}');
	if (o.overflow) {
		pr_err("ctl: the command is longer than %d bytes (the VM takes no more)",
		       CONTROL_MAX_LINE);
		return -EINVAL;
	}
	line[o.len] = '\n';
	line[o.len + 1] = '\0';
	return 0;
}

/* Why no answer came, in one line; the exit status. */
static int ctl_no_answer(const char *path, int err, int timeout_ms)
{
	switch (-err) {
	case ENOENT:
	case ECONNREFUSED:
	case ENOTSOCK:
		pr_err("ctl %s: no VM listens there (is it running with --control %s?)", path, path);
		break;
	case EACCES:
	case EPERM:
		pr_err("ctl %s: permission denied (the socket is 0600: run as the user that started the VM)",
		       path);
		break;
	case ETIMEDOUT:
		pr_err("ctl %s: no answer within %.1f s (the VM may be busy: give --timeout longer)",
		       path, timeout_ms / 1000.0);
		break;
	case ECONNRESET:
	case EPIPE:
		pr_err("ctl %s: the VM closed the connection without an answer (is it stopping?)",
		       path);
		break;
	case EMSGSIZE:
		pr_err("ctl %s: the answer is longer than %d bytes (not a minivmm control socket?)",
		       path, CONTROL_MAX_REPLY);
		break;
	default:
		pr_err("ctl %s: %s", path, strerror(-err));
		break;
	}
	return CTL_EXIT_NO_ANSWER;
}

/* Is the request line (newline-terminated) a stop? */
static bool ctl_is_stop(const char *line)
{
	char buf[CONTROL_MAX_LINE + 2];
	struct json_object req;
	struct json_error err;
	const struct json_field *cmd;

	if (json_parse_object(line, strlen(line), &req, buf, sizeof(buf), &err))
		return false;
	cmd = json_get(&req, "cmd");
	return cmd && cmd->type == JSON_STRING && !strcmp(cmd->str, "stop");
}

static int ctl_run(const char *path, const char *cmd, int timeout_ms)
{
	struct ctl_conn c = { .path = path, .fd = -1 };
	char line[CONTROL_MAX_LINE + 2];
	struct json_object obj;
	struct json_error jerr;
	const struct json_field *ok;
	char *reply, *buf;
	ssize_t len;
	int ret, status;

	if (ctl_request_line(cmd, line, sizeof(line)))
		return CTL_EXIT_USAGE;
	reply = malloc(CONTROL_MAX_REPLY + 1);
	buf = malloc(CONTROL_MAX_REPLY + 1);
	if (!reply || !buf) {
		free(reply);
		free(buf);
		pr_err("ctl: out of memory");
		return CTL_EXIT_NO_ANSWER;
	}
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += timeout_ms / 1000;
	c.deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (c.deadline.tv_nsec >= 1000000000) {
		c.deadline.tv_sec++;
		c.deadline.tv_nsec -= 1000000000;
	}

	ret = ctl_connect(&c);
	if (!ret)
		ret = ctl_send(&c, line, strlen(line));
	len = ret ? ret : ctl_read_line(&c, reply, CONTROL_MAX_REPLY + 1);
	if (len < 0) {
		status = ctl_no_answer(path, (int)len, timeout_ms);
		goto out;
	}
	printf("%s\n", reply);
	fflush(stdout);
	if (json_parse_object(reply, (size_t)len, &obj, buf, CONTROL_MAX_REPLY + 1, &jerr) ||
	    !(ok = json_get(&obj, "ok")) || ok->type != JSON_BOOL) {
		pr_err("ctl %s: the answer is not a control-socket reply (is a minivmm listening there?)",
		       path);
		status = CTL_EXIT_NO_ANSWER;
		goto out;
	}
	status = ok->boolean ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
	/* A stop that returns only once the VM is gone: a script can start
	 * the next one (same devices, same socket) right after. */
	if (ok->boolean && ctl_is_stop(line) && ctl_wait_closed(&c)) {
		pr_err("ctl %s: the VM accepted stop but had not exited within %.1f s (it may still be tearing down; give --timeout longer)",
		       path, timeout_ms / 1000.0);
		status = CTL_EXIT_NO_ANSWER;
	}
out:
	if (c.fd >= 0)
		close(c.fd);
	free(reply);
	free(buf);
	return status;
}

int ctl_main(int argc, char **argv)
{
	const char *pos[2] = { NULL, NULL };
	int timeout_ms = CTL_DEFAULT_TIMEOUT_MS, npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			ctl_usage();
			return 0;
		} else if (!strcmp(a, "--timeout") || !strncmp(a, "--timeout=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : argv[++i];

			if (!v) {
				pr_err("ctl: --timeout needs a number of seconds (e.g. --timeout 10)");
				return CTL_EXIT_USAGE;
			}
			if (ctl_parse_timeout(v, &timeout_ms))
				return CTL_EXIT_USAGE;
		} else if (a[0] == '-' && a[1]) {
			pr_err("ctl: unknown option '%s' (see minivmm ctl --help)", a);
			return CTL_EXIT_USAGE;
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			pr_err("ctl: unexpected argument '%s' (minivmm ctl PATH CMD: one command at a time)",
			       a);
			return CTL_EXIT_USAGE;
		}
	}
	if (npos < 2) {
		pr_err("ctl: give the control socket and a command (minivmm ctl PATH status|stats|powerdown|reset|stop)");
		return CTL_EXIT_USAGE;
	}
	if (!*pos[0] || strlen(pos[0]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		pr_err("ctl '%s': a Unix socket path holds 1 to %zu bytes (use the path given to --control)",
		       pos[0], sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return CTL_EXIT_USAGE;
	}
	return ctl_run(pos[0], pos[1], timeout_ms);
}
