// SPDX-License-Identifier: MIT
/*
 * The control socket's server (control.h, docs/control.md): the request
 * dispatcher, then the Unix socket around it.
 *
 * It runs on the main thread, inside its poll loop, so nothing here may
 * block: every socket is non-blocking, a client gets at most one recv()
 * per wake-up (CONTROL_MAX_LINE bytes), and a client that does not read
 * its replies is not read from either until they are out — so one reply
 * is all that is ever buffered for it, and a client can cost minivmm
 * neither time nor memory beyond its slot. A line longer than
 * CONTROL_MAX_LINE is answered with an error as soon as it is too long
 * and then skipped up to its newline; the connection stays usable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/control.h"

/* ---- the dispatcher ---- */

#define CONTROL_COMMANDS "status, stats, powerdown, reset, stop"

/* {"ok":false,"error":"..."} and its newline into reply[0..cap). */
__attribute__((format(printf, 3, 4)))
static size_t error_reply(char *reply, size_t cap, const char *fmt, ...)
{
	static const char last_resort[] = "{\"ok\":false,\"error\":\"no room for the reply\"}\n";
	struct json_out o;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_out_init(&o, reply, cap ? cap - 1 : 0);	/* room for the newline */
	json_out_open(&o, '{');
	json_out_key(&o, "ok");
	json_out_bool(&o, false);
	json_out_key(&o, "error");
	json_out_string(&o, msg);
	json_out_close(&o, '}');
	if (o.overflow) {
		if (cap < sizeof(last_resort))
			return 0;
		memcpy(reply, last_resort, sizeof(last_resort));
		return sizeof(last_resort) - 1;
	}
	reply[o.len] = '\n';
	return o.len + 1;
}

static int run_status(const struct control_ops *ops, struct json_out *o)
{
	struct control_status st;
	int ret;

	if (!ops->status)
		return -ENOTSUP;
	memset(&st, 0, sizeof(st));
	ret = ops->status(ops->opaque, &st);
	if (ret)
		return ret;
	json_out_key(o, "running");
	json_out_bool(o, st.running);
	json_out_key(o, "resets");
	json_out_u64(o, st.resets);
	json_out_key(o, "vcpus");
	json_out_u64(o, st.vcpus);
	json_out_key(o, "devices");
	json_out_open(o, '[');
	for (unsigned int i = 0; i < st.nr_devices && i < CONTROL_MAX_DEVICES; i++)
		json_out_string(o, st.devices[i] ? st.devices[i] : "");
	json_out_close(o, ']');
	return 0;
}

static int run_stats(const struct control_ops *ops, struct json_out *o)
{
	return ops->stats ? ops->stats(ops->opaque, o) : -ENOTSUP;
}

static int run_powerdown(const struct control_ops *ops, struct json_out *o)
{
	return ops->powerdown ? ops->powerdown(ops->opaque) : -ENOTSUP;
}

static int run_reset(const struct control_ops *ops, struct json_out *o)
{
	return ops->reset ? ops->reset(ops->opaque) : -ENOTSUP;
}

static int run_stop(const struct control_ops *ops, struct json_out *o)
{
	return ops->stop ? ops->stop(ops->opaque) : -ENOTSUP;
}

static const struct {
	const char *name;
	int (*run)(const struct control_ops *ops, struct json_out *o);
} commands[] = {
	{ "status", run_status },
	{ "stats", run_stats },
	{ "powerdown", run_powerdown },
	{ "reset", run_reset },
	{ "stop", run_stop },
};

size_t control_dispatch(const struct control_ops *ops, const char *line, size_t len,
			char *reply, size_t cap)
{
	char buf[CONTROL_MAX_LINE + 1];
	struct json_object req;
	struct json_error err;
	const struct json_field *cmd;
	struct json_out o;
	int ret;

	if (len > CONTROL_MAX_LINE)
		return error_reply(reply, cap, "a request longer than %d bytes (send one short JSON object per line)",
				   CONTROL_MAX_LINE);
	ret = json_parse_object(line, len, &req, buf, sizeof(buf), &err);
	if (ret)
		return error_reply(reply, cap, "bad JSON at byte %zu: %s (send one object per line, e.g. {\"cmd\":\"status\"})",
				   err.offset, err.what);
	cmd = json_get(&req, "cmd");
	if (!cmd)
		return error_reply(reply, cap, "no \"cmd\" in the request (e.g. {\"cmd\":\"status\"}; commands: "
				   CONTROL_COMMANDS ")");
	if (cmd->type != JSON_STRING)
		return error_reply(reply, cap, "\"cmd\" must be a string (e.g. {\"cmd\":\"status\"})");
	/* Strict, so that a client's typo ("cmd" misspelt as a second key,
	 * an argument a later version may take) is not silently ignored. */
	for (unsigned int i = 0; i < req.nr; i++)
		if (strcmp(req.field[i].key, "cmd"))
			return error_reply(reply, cap, "unknown member \"%.64s\" (a request has only \"cmd\")",
					   req.field[i].key);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd->str, commands[i].name))
			continue;
		json_out_init(&o, reply, cap ? cap - 1 : 0);
		json_out_open(&o, '{');
		json_out_key(&o, "ok");
		json_out_bool(&o, true);
		ret = commands[i].run(ops, &o);
		json_out_close(&o, '}');
		if (ret == -ENOTSUP)
			return error_reply(reply, cap, "%s: not supported by this minivmm yet",
					   commands[i].name);
		if (ret)
			return error_reply(reply, cap, "%s failed: %s", commands[i].name, strerror(-ret));
		if (o.overflow || o.depth)
			return error_reply(reply, cap, "%s: the reply does not fit in %zu bytes",
					   commands[i].name, cap);
		reply[o.len] = '\n';
		return o.len + 1;
	}
	return error_reply(reply, cap, "unknown command \"%.64s\" (known: " CONTROL_COMMANDS ")",
			   cmd->str);
}

/* ---- the socket ---- */

struct client {
	int fd;			/* -1: a free slot */
	bool discarding;	/* inside a line past CONTROL_MAX_LINE, answered already:
				 * dropped up to its newline */
	bool eof;		/* the client has sent all it will */
	size_t in_len;
	char *out;		/* CONTROL_MAX_REPLY bytes; out[out_off..out_len) not sent yet */
	size_t out_len, out_off;
	char in[CONTROL_MAX_LINE + 1];	/* a whole line and its newline fit */
};

struct control {
	struct control_ops ops;
	int listen_fd;
	int dir_fd;		/* the socket's folder: the file is unlinked from it */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* the socket file made, so that only it is removed */
	ino_t ino;
	struct client clients[CONTROL_MAX_CLIENTS];
	/* The client slot behind each pollfd after the first, as
	 * control_pollfds() handed them out. */
	unsigned int polled[CONTROL_MAX_CLIENTS];
	unsigned int nr_polled;
};

static void client_close(struct client *cl)
{
	if (cl->fd < 0)
		return;
	close(cl->fd);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* Send what is pending: 0 once all is out, -EAGAIN while the socket is
 * full (wait for POLLOUT), another -errno when the client is gone. */
static int client_flush(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		cl->out_off += (size_t)n;
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

/* Answer the complete lines in cl->in, one at a time, each reply sent
 * before the next line is looked at. */
static int client_process(struct control *c, struct client *cl)
{
	for (;;) {
		char *nl;
		size_t line;
		int ret;

		if (cl->out_len) {
			ret = client_flush(cl);
			if (ret)
				return ret;
		}
		nl = memchr(cl->in, '\n', cl->in_len);
		if (!nl) {
			if (cl->in_len == sizeof(cl->in)) {
				/* No newline in a full buffer: the line is
				 * too long. Say so now, once. */
				if (!cl->discarding)
					cl->out_len = error_reply(cl->out, CONTROL_MAX_REPLY,
								  "a request longer than %d bytes (send one short JSON object per line)",
								  CONTROL_MAX_LINE);
				cl->discarding = true;
				cl->in_len = 0;
				continue;
			}
			if (cl->eof && cl->in_len) {
				/* The last line may end with the connection
				 * (a client that shut its side down after
				 * writing) instead of a newline. */
				if (!cl->discarding)
					cl->out_len = control_dispatch(&c->ops, cl->in, cl->in_len,
								       cl->out, CONTROL_MAX_REPLY);
				cl->discarding = false;
				cl->in_len = 0;
				continue;
			}
			return 0;
		}
		line = (size_t)(nl - cl->in);
		if (cl->discarding)
			cl->discarding = false;	/* the end of an over-long line */
		else
			cl->out_len = control_dispatch(&c->ops, cl->in, line, cl->out,
						       CONTROL_MAX_REPLY);
		cl->in_len -= line + 1;
		memmove(cl->in, nl + 1, cl->in_len);
	}
}

static void client_event(struct control *c, struct client *cl, short revents)
{
	int ret;

	if (revents & (POLLERR | POLLNVAL) || (revents & POLLHUP && !(revents & POLLIN))) {
		client_close(cl);
		return;
	}
	/* Read only when the last reply is out (backpressure) and there is
	 * room: a zero-length recv() would look like the end. */
	if (revents & POLLIN && !cl->out_len && !cl->eof && cl->in_len < sizeof(cl->in)) {
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len,
				 MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			client_close(cl);
			return;
		}
		if (n == 0)
			cl->eof = true;
		else if (n > 0)
			cl->in_len += (size_t)n;
	}
	ret = client_process(c, cl);
	if (ret == -EAGAIN)
		return;
	if (ret || cl->eof)
		client_close(cl);	/* gone, or everything it sent is answered */
}

static void control_accept(struct control *c)
{
	static const char busy[] = "{\"ok\":false,\"error\":\"too many control connections (at most "
		"8 at a time): close one and retry\"}\n";

	_Static_assert(CONTROL_MAX_CLIENTS == 8, "the message above names the limit");
	/* Bounded, so that a flood of connections cannot hold the loop. */
	for (int k = 0; k <= CONTROL_MAX_CLIENTS; k++) {
		struct client *cl = NULL;
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_warn_once("control socket: accept: %s", strerror(errno));
			return;
		}
		for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
			if (c->clients[i].fd < 0)
				cl = &c->clients[i];
		if (!cl) {
			if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				pr_debug("control socket: refusing a connection: %s", strerror(errno));
			close(fd);
			continue;
		}
		cl->out = malloc(CONTROL_MAX_REPLY);
		if (!cl->out) {
			close(fd);
			continue;
		}
		cl->fd = fd;
	}
}

unsigned int control_pollfds(struct control *c, struct pollfd *p)
{
	unsigned int n = 0;

	if (!c)
		return 0;
	p[n++] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
	c->nr_polled = 0;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd < 0)
			continue;
		p[n++] = (struct pollfd){
			.fd = cl->fd,
			.events = cl->out_len ? POLLOUT : cl->eof ? 0 : POLLIN,
		};
		c->polled[c->nr_polled++] = i;
	}
	return n;
}

void control_handle(struct control *c, const struct pollfd *p, unsigned int n)
{
	if (!c || !n)
		return;
	for (unsigned int k = 1; k < n && k - 1 < c->nr_polled; k++) {
		struct client *cl = &c->clients[c->polled[k - 1]];

		if (cl->fd == p[k].fd && p[k].revents)
			client_event(c, cl, p[k].revents);
	}
	/* New connections last: a slot freed above is theirs. */
	if (p[0].revents & POLLIN)
		control_accept(c);
}

int control_listen_fd(const struct control *c)
{
	return c ? c->listen_fd : -1;
}

int control_dir_fd(const struct control *c)
{
	return c ? c->dir_fd : -1;
}

unsigned int control_nr_clients(const struct control *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; c && i < CONTROL_MAX_CLIENTS; i++)
		n += c->clients[i].fd >= 0;
	return n;
}

/* The socket's folder, opened so the file can be removed at exit by name
 * relative to it (the seccomp filter allows unlinkat on it alone), and
 * the file's name in it. */
static int control_open_dir(struct control *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char dir[sizeof(c->name)];

	if (!*name) {
		pr_err("--control %s: names a folder, not a socket (add a file name, e.g. %svm.sock)",
		       path, path);
		return -EINVAL;
	}
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	strcpy(c->name, name);
	c->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0) {
		int err = errno;

		pr_err("--control %s: the folder %s: %s (create it first)", path, dir, strerror(err));
		return -err;
	}
	return 0;
}

/* The path is free, or holds a stale socket (removed here), or is in use. */
static int control_claim_path(struct control *c, const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int probe, ret, err;

	if (fstatat(c->dir_fd, c->name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		err = errno;
		pr_err("--control %s: %s (choose another path)", path, strerror(err));
		return -err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("--control %s: exists and is not a socket (remove it, or choose another path)",
		       path);
		return -EEXIST;
	}
	/* Non-blocking: a listener whose backlog is full answers EAGAIN
	 * instead of holding us; it is in use all the same. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	ret = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	close(probe);
	if (!ret || err == EAGAIN) {
		pr_err("--control %s: a control socket path in use: a running VM (or another program) listens there (stop it, or choose another path)",
		       path);
		return -EADDRINUSE;
	}
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED) {
		pr_err("--control %s: %s (choose another path)", path, strerror(err));
		return -err;
	}
	/* Nobody listens: left over from a minivmm that was killed. */
	if (unlinkat(c->dir_fd, c->name, 0) && errno != ENOENT) {
		err = errno;
		pr_err("--control %s: a stale socket nobody listens on, which cannot be removed: %s (remove it by hand)",
		       path, strerror(err));
		return -err;
	}
	pr_debug("--control %s: replaced a stale socket nobody listened on", path);
	return 0;
}

int control_open(struct control **out, const char *path, const struct control_ops *ops)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	struct stat st;
	mode_t old_umask;
	int ret;

	*out = NULL;
	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("--control '%s': a Unix socket path holds 1 to %zu bytes (use a shorter path)",
		       path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ops = *ops;
	c->listen_fd = -1;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	ret = control_open_dir(c, path);
	if (ret)
		goto free_control;
	ret = control_claim_path(c, path, &sa);
	if (ret)
		goto close_dir;

	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		ret = -errno;
		pr_err("--control %s: socket: %s", path, strerror(-ret));
		goto close_dir;
	}
	/* The file is created 0600 by bind() itself: a chmod afterwards
	 * would leave a moment in which anyone could connect and stop the
	 * VM. (fchmod on a socket fd does not reach the file.) minivmm has
	 * one thread here, so the process-wide umask is ours to change. */
	old_umask = umask(0177);
	ret = bind(c->listen_fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (ret) {
		ret = -errno;
		if (ret == -EADDRINUSE)
			pr_err("--control %s: a control socket path in use: another program took it just now (choose another path)",
			       path);
		else
			pr_err("--control %s: %s (give a path in a writable folder)", path,
			       strerror(-ret));
		goto close_listen;
	}
	if (fstatat(c->dir_fd, c->name, &st, AT_SYMLINK_NOFOLLOW)) {
		ret = -errno;
		goto unlink_socket;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->listen_fd, CONTROL_MAX_CLIENTS)) {
		ret = -errno;
		pr_err("--control %s: listen: %s", path, strerror(-ret));
		goto unlink_socket;
	}
	*out = c;
	return 0;

unlink_socket:
	unlinkat(c->dir_fd, c->name, 0);
close_listen:
	close(c->listen_fd);
close_dir:
	close(c->dir_fd);
free_control:
	free(c);
	return ret;
}

int control_remove_file(const struct control *c)
{
	struct stat st;

	/* Only our own socket: after someone removed it, the path may be
	 * another VM's by now. (fstatat and unlinkat only: a signal handler
	 * calls this.) */
	if (!c || fstatat(c->dir_fd, c->name, &st, AT_SYMLINK_NOFOLLOW) ||
	    st.st_dev != c->dev || st.st_ino != c->ino)
		return 0;
	return unlinkat(c->dir_fd, c->name, 0) ? -errno : 0;
}

void control_close(struct control *c)
{
	int ret;

	if (!c)
		return;
	/* The file first: a client waiting for its connection to close
	 * (minivmm ctl PATH stop) then finds it gone. */
	ret = control_remove_file(c);
	if (ret)
		pr_warn("control socket %s: cannot remove it: %s", c->name, strerror(-ret));
	close(c->dir_fd);
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_close(&c->clients[i]);
	close(c->listen_fd);
	free(c);
}
