// SPDX-License-Identifier: MIT
/*
 * The control socket (vmm/control.c) with fake VM ops: the dispatcher
 * (every command, every error, every reply a valid JSON object with "ok"),
 * then the real Unix socket in a temporary folder: its mode, a path in
 * use, a stale socket replaced, garbage before a good request, a ninth
 * client, a 1 MiB line, a client that disconnects mid-line, one that
 * pipelines requests without reading the replies, and removal at close.
 * The server is driven the way vm_run()'s loop drives it: poll() on
 * control_pollfds(), then control_handle().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/json.h"
#include "vmm/control.h"

/* ---- fake ops ---- */

struct fake {
	int ret_status, ret_powerdown, ret_reset, ret_stop, ret_stats;
	unsigned int n_status, n_powerdown, n_reset, n_stop, n_stats;
	bool huge_stats;	/* write more than any reply holds */
	bool open_stats;	/* leave an object open */
};

static int fake_status(void *opaque, struct control_status *out)
{
	struct fake *f = opaque;

	f->n_status++;
	if (f->ret_status)
		return f->ret_status;
	out->running = true;
	out->resets = 2;
	out->vcpus = 4;
	out->devices[out->nr_devices++] = "uart";
	out->devices[out->nr_devices++] = "rtc";
	out->devices[out->nr_devices++] = "we\"ird\\\n\xff";
	return 0;
}

static int fake_powerdown(void *opaque)
{
	struct fake *f = opaque;

	f->n_powerdown++;
	return f->ret_powerdown;
}

static int fake_reset(void *opaque)
{
	struct fake *f = opaque;

	f->n_reset++;
	return f->ret_reset;
}

static int fake_stop(void *opaque)
{
	struct fake *f = opaque;

	f->n_stop++;
	return f->ret_stop;
}

static int fake_stats(void *opaque, struct json_out *o)
{
	struct fake *f = opaque;

	f->n_stats++;
	if (f->ret_stats)
		return f->ret_stats;
	json_out_key(o, "exits");
	json_out_open(o, '{');
	json_out_key(o, "total");
	json_out_u64(o, 42);
	if (f->open_stats)
		return 0;
	json_out_close(o, '}');
	for (int i = 0; f->huge_stats && i < CONTROL_MAX_REPLY; i++) {
		json_out_key(o, "padding");
		json_out_u64(o, (uint64_t)i);
	}
	return 0;
}

static struct fake fake;
static struct control_ops ops = {
	.opaque = &fake, .status = fake_status, .powerdown = fake_powerdown,
	.reset = fake_reset, .stop = fake_stop, .stats = fake_stats,
};

/* A reply: exactly one line, which parses as an object with a boolean
 * "ok" (and, when false, a string "error"). Returns ok; the parsed reply
 * stays in *obj. */
static char reply[CONTROL_MAX_REPLY], reply_buf[CONTROL_MAX_REPLY];

static bool check_reply(const char *r, size_t len, struct json_object *obj)
{
	struct json_error e;
	const struct json_field *ok, *err;

	assert_true(len > 0);
	assert_int_equal(r[len - 1], '\n');
	assert_null(memchr(r, '\n', len - 1));
	if (json_parse_object(r, len - 1, obj, reply_buf, sizeof(reply_buf), &e))
		fail_msg("reply '%.*s' is not JSON: byte %zu: %s", (int)len, r, e.offset, e.what);
	ok = json_get(obj, "ok");
	assert_non_null(ok);
	assert_int_equal(ok->type, JSON_BOOL);
	if (!ok->boolean) {
		err = json_get(obj, "error");
		assert_non_null(err);
		assert_int_equal(err->type, JSON_STRING);
		assert_true(err->len > 0);
	}
	return ok->boolean;
}

static size_t dispatch_n(const char *req, size_t len)
{
	return control_dispatch(&ops, req, len, reply, sizeof(reply));
}

/* Dispatch req; assert what "ok" says; the error text (or "") back. */
static const char *dispatch(const char *req, bool want_ok)
{
	struct json_object obj;
	size_t n = dispatch_n(req, strlen(req));

	assert_int_equal(check_reply(reply, n, &obj), want_ok);
	reply[n] = '\0';
	return want_ok ? "" : json_get(&obj, "error")->str;
}

static int reset_fake(void **state)
{
	memset(&fake, 0, sizeof(fake));
	return 0;
}

/* ---- the dispatcher ---- */

static void test_status(void **state)
{
	dispatch("{\"cmd\":\"status\"}", true);
	assert_string_equal(reply, "{\"ok\":true,\"running\":true,\"resets\":2,\"vcpus\":4,"
			    "\"devices\":[\"uart\",\"rtc\",\"we\\\"ird\\\\\\n\\ufffd\"]}\n");
	assert_int_equal(fake.n_status, 1);
	/* whitespace around anything, and a CR before the newline */
	dispatch("  { \"cmd\" : \"status\" }\r", true);
	assert_int_equal(fake.n_status, 2);
}

static void test_stats(void **state)
{
	dispatch("{\"cmd\":\"stats\"}", true);
	assert_string_equal(reply, "{\"ok\":true,\"exits\":{\"total\":42}}\n");
	assert_int_equal(fake.n_stats, 1);
}

static void test_actions(void **state)
{
	dispatch("{\"cmd\":\"powerdown\"}", true);
	assert_string_equal(reply, "{\"ok\":true}\n");
	dispatch("{\"cmd\":\"reset\"}", true);
	assert_string_equal(reply, "{\"ok\":true}\n");
	dispatch("{\"cmd\":\"stop\"}", true);
	assert_string_equal(reply, "{\"ok\":true}\n");
	assert_int_equal(fake.n_powerdown, 1);
	assert_int_equal(fake.n_reset, 1);
	assert_int_equal(fake.n_stop, 1);
}

static void test_op_errors(void **state)
{
	struct control_ops none = { .opaque = &fake };

	fake.ret_powerdown = -ENOTSUP;
	assert_string_equal(dispatch("{\"cmd\":\"powerdown\"}", false),
			    "powerdown: not supported by this minivmm yet");
	fake.ret_reset = -EIO;
	assert_string_equal(dispatch("{\"cmd\":\"reset\"}", false),
			    "reset failed: Input/output error");
	fake.ret_stop = -EBUSY;
	assert_non_null(strstr(dispatch("{\"cmd\":\"stop\"}", false), "stop failed"));
	fake.ret_status = -ENOMEM;
	assert_non_null(strstr(dispatch("{\"cmd\":\"status\"}", false), "status failed"));
	fake.ret_stats = -EINVAL;
	assert_non_null(strstr(dispatch("{\"cmd\":\"stats\"}", false), "stats failed"));

	/* a VM without the op: every command answers, none crashes */
	for (const char *const *c = (const char *const[]){ "status", "stats", "powerdown",
							  "reset", "stop", NULL }; *c; c++) {
		char req[64];
		struct json_object obj;
		size_t n;

		snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}", *c);
		n = control_dispatch(&none, req, strlen(req), reply, sizeof(reply));
		assert_false(check_reply(reply, n, &obj));
		assert_non_null(strstr(json_get(&obj, "error")->str, "not supported"));
	}
}

static void test_stats_too_big(void **state)
{
	fake.huge_stats = true;
	assert_non_null(strstr(dispatch("{\"cmd\":\"stats\"}", false), "does not fit"));
	fake.huge_stats = false;
	fake.open_stats = true;		/* a broken op cannot send broken JSON */
	dispatch("{\"cmd\":\"stats\"}", false);
}

static void test_request_errors(void **state)
{
	static const struct {
		const char *req, *error;
	} cases[] = {
		{ "{\"cmd\":\"nope\"}", "unknown command \"nope\"" },
		{ "{\"cmd\":\"STATUS\"}", "unknown command" },
		{ "{\"cmd\":\"\"}", "unknown command" },
		{ "garbage", "bad JSON at byte 0" },
		{ "{\"cmd\":\"status\"", "bad JSON at byte 15: expected ',' or '}'" },
		{ "{\"cmd\":\"status\",}", "bad JSON" },
		{ "{\"cmd\":'status'}", "bad JSON" },
		{ "", "bad JSON at byte 0: no JSON object" },
		{ "   ", "bad JSON" },
		{ "[\"status\"]", "not a JSON object" },
		{ "\"status\"", "not a JSON object" },
		{ "42", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "{}", "no \"cmd\"" },
		{ "{\"command\":\"status\"}", "no \"cmd\"" },
		{ "{\"cmd\":1}", "\"cmd\" must be a string" },
		{ "{\"cmd\":true}", "\"cmd\" must be a string" },
		{ "{\"cmd\":null}", "\"cmd\" must be a string" },
		{ "{\"cmd\":[\"status\"]}", "\"cmd\" must be a string" },
		{ "{\"cmd\":{\"x\":1}}", "\"cmd\" must be a string" },
		{ "{\"cmd\":\"status\",\"id\":1}", "unknown member \"id\"" },
		{ "{\"cmd\":\"status\",\"cmd\":\"stop\"}", "a key given twice" },
		{ "{\"cmd\":\"status\"}{\"cmd\":\"stop\"}", "text after the object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = dispatch(cases[i].req, false);

		if (!strstr(err, cases[i].error))
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].req, err, cases[i].error);
	}
	/* nothing reached the VM */
	assert_int_equal(fake.n_status + fake.n_stop + fake.n_stats, 0);
}

static void test_hostile_bytes(void **state)
{
	static const char nul[] = "{\"cmd\":\"st\0atus\"}";
	struct json_object obj;
	char big[CONTROL_MAX_LINE + 2];
	size_t n;

	/* a NUL inside: not JSON, and not cut short into a good request */
	n = dispatch_n(nul, sizeof(nul) - 1);
	assert_false(check_reply(reply, n, &obj));
	/* a command name that is not UTF-8 is refused by the reader; one
	 * that is valid but odd comes back escaped and cut */
	dispatch("{\"cmd\":\"\xff\"}", false);
	snprintf(big, sizeof(big), "{\"cmd\":\"%0200d\\n\\\"\"}", 0);
	{
		const char *err = dispatch(big, false);

		assert_non_null(strstr(err, "unknown command"));
		assert_true(strlen(err) < 150);		/* the name is cut */
	}
	/* over the bound: refused before parsing */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	n = dispatch_n(big, CONTROL_MAX_LINE + 1);
	assert_false(check_reply(reply, n, &obj));
	assert_non_null(strstr(json_get(&obj, "error")->str, "longer than 4096"));
	/* exactly at the bound: fine */
	n = dispatch_n(big, CONTROL_MAX_LINE);
	assert_true(check_reply(reply, n, &obj));
}

static void test_small_reply_buffer(void **state)
{
	char small[64];
	size_t n;

	/* too small for the status: an error that fits instead */
	n = control_dispatch(&ops, "{\"cmd\":\"status\"}", 16, small, sizeof(small));
	assert_true(n > 0 && n <= sizeof(small));
	assert_int_equal(small[n - 1], '\n');
	assert_memory_equal(small, "{\"ok\":false", 11);
	/* too small for anything: nothing, and nothing written past it */
	small[10] = 'X';
	assert_int_equal(control_dispatch(&ops, "{\"cmd\":\"status\"}", 16, small, 10), 0);
	assert_int_equal(small[10], 'X');
}

/* ---- the socket ---- */

static char dir[64], sock_path[128];

static int make_dir(void **state)
{
	reset_fake(state);
	strcpy(dir, "/tmp/minivmm-control.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/vm.sock", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* One turn of vm_run()'s loop, waiting up to ms for something. */
static void pump(struct control *c, int ms)
{
	struct pollfd p[CONTROL_MAX_POLLFDS];
	unsigned int n = control_pollfds(c, p);

	assert_true(n >= 1 && n <= CONTROL_MAX_POLLFDS);
	if (poll(p, n, ms) > 0)
		control_handle(c, p, n);
}

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		return -err;
	}
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void client_write(struct control *c, int fd, const char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			fail_msg("send: %s", strerror(errno));
		pump(c, 0);
	}
}

static void client_say(struct control *c, int fd, const char *s)
{
	client_write(c, fd, s, strlen(s));
}

/* Read until `lines` newlines came (or the end, or 5 s): what came. */
static size_t client_read(struct control *c, int fd, char *buf, size_t cap, unsigned int lines,
			  bool *eof)
{
	size_t len = 0;
	unsigned int seen = 0;
	time_t end = time(NULL) + 5;

	*eof = false;
	while (seen < lines && time(NULL) < end) {
		ssize_t n;

		pump(c, 10);
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == 0) {
			*eof = true;
			break;
		}
		if (n < 0) {
			assert_true(errno == EAGAIN);
			continue;
		}
		for (ssize_t i = 0; i < n; i++)
			seen += buf[len + (size_t)i] == '\n';
		len += (size_t)n;
		assert_true(len < cap - 1);
	}
	buf[len] = '\0';
	return len;
}

/* The next reply line on fd, read a byte at a time so that the line
 * after it stays in the socket: its "ok". */
static bool next_reply(struct control *c, int fd, struct json_object *obj)
{
	static char line[CONTROL_MAX_REPLY];
	time_t end = time(NULL) + 5;
	size_t n = 0;

	while (time(NULL) < end) {
		ssize_t r = recv(fd, line + n, 1, 0);

		if (r == 1 && line[n++] == '\n')
			return check_reply(line, n, obj);
		if (r == 1)
			continue;
		assert_true(r < 0 && errno == EAGAIN);
		pump(c, 10);
	}
	fail_msg("no reply within 5 s");
	return false;
}

static struct control *open_ok(void)
{
	struct control *c;

	assert_int_equal(control_open(&c, sock_path, &ops), 0);
	assert_non_null(c);
	return c;
}

static void test_socket_mode(void **state)
{
	struct control *c;
	struct stat st;
	mode_t before = umask(0);

	umask(0);		/* the most permissive: the file must still be 0600 */
	c = open_ok();
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(umask(before), 0);	/* and the umask is given back */
	control_close(c);
	assert_int_equal(stat(sock_path, &st), -1);	/* removed at close */
	assert_int_equal(errno, ENOENT);
}

static void test_status_over_socket(void **state)
{
	struct control *c = open_ok();
	struct json_object obj;
	uint64_t v;
	int fd = client(sock_path);

	assert_true(fd >= 0);
	client_say(c, fd, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, fd, &obj));
	assert_true(json_get(&obj, "running")->boolean);
	assert_int_equal(json_field_u64(json_get(&obj, "vcpus"), &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(json_get(&obj, "devices")->type, JSON_ARRAY);
	/* the same connection, again */
	client_say(c, fd, "{\"cmd\":\"stop\"}\n");
	assert_true(next_reply(c, fd, &obj));
	assert_int_equal(fake.n_stop, 1);
	close(fd);
	control_close(c);
}

static void test_path_in_use(void **state)
{
	struct control *c = open_ok(), *c2 = (struct control *)1;
	struct json_object obj;
	int fd;

	assert_int_equal(control_open(&c2, sock_path, &ops), -EADDRINUSE);
	assert_null(c2);
	/* the first one still serves */
	fd = client(sock_path);
	assert_true(fd >= 0);
	client_say(c, fd, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, fd, &obj));
	close(fd);
	control_close(c);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object obj;
	struct control *c;
	struct stat st;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	/* what a killed minivmm leaves: a socket file nobody listens on */
	strcpy(sa.sun_path, sock_path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(client(sock_path), -ECONNREFUSED);

	c = open_ok();
	fd = client(sock_path);
	assert_true(fd >= 0);
	client_say(c, fd, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, fd, &obj));
	close(fd);
	control_close(c);
}

static void test_bad_paths(void **state)
{
	char path[256];
	struct control *c;
	struct stat st;
	int fd;

	/* a regular file is never removed to make room */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(control_open(&c, sock_path, &ops), -EEXIST);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock_path);
	/* nor a symlink, even to a stale socket */
	assert_int_equal(symlink("/nonexistent", sock_path), 0);
	assert_int_equal(control_open(&c, sock_path, &ops), -EEXIST);
	assert_int_equal(lstat(sock_path, &st), 0);
	unlink(sock_path);
	/* a folder that does not exist */
	snprintf(path, sizeof(path), "%s/no/such.sock", dir);
	assert_int_equal(control_open(&c, path, &ops), -ENOENT);
	/* a folder, not a file */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(control_open(&c, path, &ops), -EINVAL);
	/* longer than sun_path holds, and empty */
	memset(path, 'a', 120);
	path[120] = '\0';
	assert_int_equal(control_open(&c, path, &ops), -ENAMETOOLONG);
	assert_int_equal(control_open(&c, "", &ops), -ENAMETOOLONG);
	assert_null(c);
}

static void test_relative_path(void **state)
{
	char cwd[4096];
	struct control *c;
	struct stat st;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(control_open(&c, "rel.sock", &ops), 0);
	/* removed through its folder even from elsewhere (a daemon's cwd is /) */
	assert_int_equal(chdir("/"), 0);
	control_close(c);
	assert_int_equal(chdir(cwd), 0);
	snprintf(cwd, sizeof(cwd), "%s/rel.sock", dir);
	assert_int_equal(stat(cwd, &st), -1);
}

static void test_close_leaves_others_file(void **state)
{
	struct control *c = open_ok();
	struct stat st;
	int fd;

	/* someone removed our socket and something else took the path */
	unlink(sock_path);
	fd = open(sock_path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	control_close(c);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock_path);
}

static void test_garbage_then_valid(void **state)
{
	struct control *c = open_ok();
	struct json_object obj;
	int fd = client(sock_path);

	client_say(c, fd, "garbage\n\x01\x02\xff\xfe\n{\"cmd\":\n{\"cmd\":\"status\"}\n");
	assert_false(next_reply(c, fd, &obj));
	assert_false(next_reply(c, fd, &obj));
	assert_false(next_reply(c, fd, &obj));
	assert_true(next_reply(c, fd, &obj));
	/* an empty line is a request too: one reply each, always */
	client_say(c, fd, "\n{\"cmd\":\"status\"}\n");
	assert_false(next_reply(c, fd, &obj));
	assert_true(next_reply(c, fd, &obj));
	assert_int_equal(fake.n_status, 2);
	close(fd);
	control_close(c);
}

static void test_split_writes(void **state)
{
	const char *req = "{\"cmd\":\"status\"}\n";
	struct control *c = open_ok();
	struct json_object obj;
	int fd = client(sock_path);

	/* a byte at a time: nothing is answered before the newline */
	for (size_t i = 0; req[i]; i++) {
		client_write(c, fd, req + i, 1);
		pump(c, 0);
		if (req[i + 1])
			assert_int_equal(fake.n_status, 0);
	}
	assert_true(next_reply(c, fd, &obj));
	close(fd);
	control_close(c);
}

static void test_nine_clients(void **state)
{
	struct control *c = open_ok();
	struct json_object obj;
	int fds[CONTROL_MAX_CLIENTS + 1], extra;
	char buf[512];
	bool eof;

	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++) {
		fds[i] = client(sock_path);
		assert_true(fds[i] >= 0);
		pump(c, 10);
	}
	/* the ninth: told why, and closed */
	client_read(c, fds[CONTROL_MAX_CLIENTS], buf, sizeof(buf), 2, &eof);
	assert_true(eof);
	assert_false(check_reply(buf, strlen(buf), &obj));
	assert_non_null(strstr(json_get(&obj, "error")->str, "too many"));
	assert_int_equal(control_nr_clients(c), CONTROL_MAX_CLIENTS);
	/* the eight are served */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		client_say(c, fds[i], "{\"cmd\":\"status\"}\n");
		assert_true(next_reply(c, fds[i], &obj));
	}
	/* one leaves: a new one is welcome */
	close(fds[0]);
	for (int i = 0; i < 10 && control_nr_clients(c) == CONTROL_MAX_CLIENTS; i++)
		pump(c, 10);
	assert_int_equal(control_nr_clients(c), CONTROL_MAX_CLIENTS - 1);
	extra = client(sock_path);
	client_say(c, extra, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, extra, &obj));
	close(extra);
	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		if (i)
			close(fds[i]);
	control_close(c);
}

static void test_long_line(void **state)
{
	size_t big = 1 << 20;
	char *line = malloc(big);
	struct control *c = open_ok();
	struct json_object obj;
	int fd = client(sock_path);

	assert_non_null(line);
	memset(line, 'x', big);
	memcpy(line, "{\"cmd\":\"status\",\"pad\":\"", 23);
	/* 1 MiB without a newline: one error as soon as it is too long,
	 * and the rest of the line is dropped, not buffered */
	client_write(c, fd, line, big);
	assert_false(next_reply(c, fd, &obj));
	assert_non_null(strstr(json_get(&obj, "error")->str, "longer than 4096"));
	client_say(c, fd, "\"}\n");
	/* the line's end is not a second request; the next one is served */
	client_say(c, fd, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, fd, &obj));
	assert_int_equal(fake.n_status, 1);

	/* a line of exactly CONTROL_MAX_LINE bytes is still a request */
	memset(line, ' ', CONTROL_MAX_LINE);
	memcpy(line, "{\"cmd\":\"status\"}", 16);
	line[CONTROL_MAX_LINE] = '\n';
	client_write(c, fd, line, CONTROL_MAX_LINE + 1);
	assert_true(next_reply(c, fd, &obj));
	/* and one byte more is not */
	memset(line, ' ', CONTROL_MAX_LINE + 1);
	memcpy(line, "{\"cmd\":\"status\"}", 16);
	line[CONTROL_MAX_LINE + 1] = '\n';
	client_write(c, fd, line, CONTROL_MAX_LINE + 2);
	assert_false(next_reply(c, fd, &obj));
	client_say(c, fd, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, fd, &obj));
	close(fd);
	control_close(c);
	free(line);
}

static void test_disconnect_mid_line(void **state)
{
	struct control *c = open_ok();
	struct json_object obj;
	int fd = client(sock_path), other = client(sock_path);

	pump(c, 10);
	assert_int_equal(control_nr_clients(c), 2);
	client_say(c, fd, "{\"cmd\":\"sto");
	close(fd);
	for (int i = 0; i < 20 && control_nr_clients(c) == 2; i++)
		pump(c, 10);
	assert_int_equal(control_nr_clients(c), 1);
	assert_int_equal(fake.n_stop, 0);		/* half a stop is no stop */
	/* the other client never noticed */
	client_say(c, other, "{\"cmd\":\"status\"}\n");
	assert_true(next_reply(c, other, &obj));
	/* one that goes away with its reply unread */
	client_say(c, other, "{\"cmd\":\"status\"}\n{\"cmd\":\"status\"}\n");
	close(other);
	for (int i = 0; i < 20 && control_nr_clients(c); i++)
		pump(c, 10);
	assert_int_equal(control_nr_clients(c), 0);
	control_close(c);
}

static void test_last_line_at_eof(void **state)
{
	struct control *c = open_ok();
	struct json_object obj;
	char buf[512];
	bool eof;
	int fd = client(sock_path);

	/* written, then its side shut: the answer still comes, then the end */
	client_say(c, fd, "{\"cmd\":\"status\"}");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	client_read(c, fd, buf, sizeof(buf), 2, &eof);
	assert_true(eof);
	assert_true(check_reply(buf, strlen(buf), &obj));
	close(fd);
	control_close(c);
}

static void test_pipelined_unread(void **state)
{
	enum { N = 3000 };
	static char all[N * 20], *got;
	struct control *c = open_ok();
	size_t len = 0, n;
	int fd = client(sock_path), lines = 0;
	bool eof;

	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(all + len, "{\"cmd\":\"status\"}\n");
	/* Written without reading a reply: the replies fill the socket,
	 * and minivmm stops reading instead of blocking or buffering. */
	client_write(c, fd, all, len);
	for (int i = 0; i < 50; i++)
		pump(c, 0);
	assert_true(fake.n_status < N);
	/* then read: every request answered, once, in order */
	got = malloc((size_t)N * 200);
	assert_non_null(got);
	n = client_read(c, fd, got, (size_t)N * 200, N, &eof);
	for (size_t i = 0; i < n; i++)
		lines += got[i] == '\n';
	assert_int_equal(lines, N);
	assert_int_equal(fake.n_status, N);
	free(got);
	close(fd);
	control_close(c);
}

static void test_close_with_clients(void **state)
{
	struct control *c = open_ok();
	char buf[64];
	int fd = client(sock_path);

	pump(c, 10);
	assert_int_equal(control_nr_clients(c), 1);
	control_close(c);
	/* the connection ends with the server */
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	control_close(NULL);
	assert_int_equal(control_pollfds(NULL, NULL), 0);
	control_handle(NULL, NULL, 0);
	assert_int_equal(control_listen_fd(NULL), -1);
	assert_int_equal(control_dir_fd(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status, reset_fake),
		cmocka_unit_test_setup(test_stats, reset_fake),
		cmocka_unit_test_setup(test_actions, reset_fake),
		cmocka_unit_test_setup(test_op_errors, reset_fake),
		cmocka_unit_test_setup(test_stats_too_big, reset_fake),
		cmocka_unit_test_setup(test_request_errors, reset_fake),
		cmocka_unit_test_setup(test_hostile_bytes, reset_fake),
		cmocka_unit_test_setup(test_small_reply_buffer, reset_fake),
		cmocka_unit_test_setup_teardown(test_socket_mode, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_status_over_socket, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_path_in_use, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bad_paths, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_relative_path, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_close_leaves_others_file, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_garbage_then_valid, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_split_writes, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_nine_clients, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_long_line, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_line, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_last_line_at_eof, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_pipelined_unread, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_close_with_clients, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
