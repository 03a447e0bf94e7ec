// SPDX-License-Identifier: MIT
/*
 * The control socket (vmm/control.c) as a hostile client sees it: the
 * input is what one client writes to a real Unix socket, in chunks,
 * served by the real server exactly as vm_run()'s loop serves it (poll on
 * control_pollfds(), control_handle()), with fake VM ops behind it.
 *
 * Input: byte 0 picks the chunk size (1 + 61 * byte: from 1 byte at a
 * time up to ~7.6 KiB) and, in its top bit, whether the client reads its
 * replies as it goes or only after writing everything (the server must
 * then hold back instead of blocking or buffering without bound). The
 * rest is the byte stream, where 0xFE c n stands for 64 * (n + 1) copies
 * of byte c, so that lines past the 4 KiB bound are cheap to reach.
 *
 * Invariants: the server never crashes, hangs or leaks (ASan, a bound on
 * the turns); every input line — up to each '\n', and a non-empty tail
 * the client ends with its shutdown — gets exactly one reply line, in
 * order; every reply parses (lib/json.c) as an object with a boolean
 * "ok" (and a string "error" when false); for a line within the bound,
 * the reply is byte for byte what control_dispatch() gives that line
 * alone (the socket layer changes nothing), and a longer line gets the
 * "longer than" error; when the client is gone, so is its slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/fuzz/fuzz.h"
#include "vmm/control.h"

#define ESCAPE		0xfe
#define MAX_STREAM	(24 * 1024)	/* expanded: past the 4 KiB bound a few times; beyond, time grows, not coverage */
#define MAX_WRITES	256		/* the chunks grow when a stream needs more */
#define MAX_TURNS	1000000

static int fake_status(void *opaque, struct control_status *out)
{
	out->running = true;
	out->resets = 1;
	out->vcpus = 3;
	out->devices[out->nr_devices++] = "uart";
	out->devices[out->nr_devices++] = "odd \"name\"\\\x01\xc3";
	return 0;
}

static int fake_powerdown(void *opaque)
{
	return -ENOTSUP;
}

static int fake_ok(void *opaque)
{
	return 0;
}

static int fake_stop(void *opaque)
{
	return -EBUSY;
}

static int fake_stats(void *opaque, struct json_out *o)
{
	json_out_key(o, "exits");
	json_out_open(o, '{');
	json_out_key(o, "total");
	json_out_u64(o, UINT64_MAX);
	json_out_close(o, '}');
	json_out_key(o, "buses");
	json_out_open(o, '[');
	json_out_string(o, "pio");
	json_out_fixed2(o, 1.5);
	json_out_close(o, ']');
	return 0;
}

static const struct control_ops ops = {
	.status = fake_status, .powerdown = fake_powerdown, .reset = fake_ok,
	.stop = fake_stop, .stats = fake_stats,
};

static struct control *server;
static char sock_dir[] = "/tmp/minivmm-fuzz-control.XXXXXX";
static char sock_path[108];

/* libFuzzer ends a run with exit(): leave no socket or folder behind. */
static void remove_server(void)
{
	control_close(server);
	server = NULL;
	rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!mkdtemp(sock_dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/vm.sock", sock_dir);
	if (control_open(&server, sock_path, &ops))
		abort();
	atexit(remove_server);
	return 0;
}

static void pump(void)
{
	struct pollfd p[CONTROL_MAX_POLLFDS];
	unsigned int n = control_pollfds(server, p);

	if (poll(p, n, 0) > 0)
		control_handle(server, p, n);
}

/* A growing byte buffer. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_room(struct buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		FZ_CHECK(b->p, "out of memory");
	}
}

static void buf_put(struct buf *b, const void *s, size_t n)
{
	if (!n)
		return;		/* b->p may still be NULL */
	buf_room(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* n copies of c (the loops of the harness stay out of the coverage
 * counters' way: memset and memchr, not byte loops) */
static void buf_fill(struct buf *b, uint8_t c, size_t n)
{
	if (!n)
		return;
	buf_room(b, n);
	memset(b->p + b->len, c, n);
	b->len += n;
}

/* Read what the server sent; true at the end of the stream. */
static bool drain(int fd, struct buf *replies)
{
	uint8_t tmp[65536];

	for (;;) {
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n > 0) {
			buf_put(replies, tmp, (size_t)n);
			continue;
		}
		if (n == 0)
			return true;
		FZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK, "recv: %s", strerror(errno));
		return false;
	}
}

/* The reply expected for one line. */
static size_t expected(const uint8_t *line, size_t len, char *out, size_t cap)
{
	static char err_buf[CONTROL_MAX_REPLY];
	size_t n;

	if (len <= CONTROL_MAX_LINE)
		return control_dispatch(&ops, (const char *)line, len, out, cap);
	/* too long: whatever the line said, the bound's error */
	n = control_dispatch(&ops, (const char *)line, len, err_buf, sizeof(err_buf));
	FZ_CHECK(n <= cap, "reply too long");
	memcpy(out, err_buf, n);
	return n;
}

static void check_reply(const uint8_t *r, size_t len)
{
	static char scratch[CONTROL_MAX_REPLY];
	struct json_object obj;
	struct json_error e;
	const struct json_field *ok, *err;

	FZ_CHECK(len >= 1 && r[len - 1] == '\n', "a reply without its newline");
	FZ_CHECK(!json_parse_object((const char *)r, len - 1, &obj, scratch, sizeof(scratch), &e),
		 "reply '%.*s' is not JSON: byte %zu: %s", (int)len, (const char *)r, e.offset,
		 e.what);
	ok = json_get(&obj, "ok");
	FZ_CHECK(ok && ok->type == JSON_BOOL, "a reply without a boolean \"ok\"");
	if (!ok->boolean) {
		err = json_get(&obj, "error");
		FZ_CHECK(err && err->type == JSON_STRING && err->len, "ok:false without an error");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char want[CONTROL_MAX_REPLY];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf in = { 0 }, replies = { 0 };
	size_t chunk, off = 0, pos = 0, line_start = 0, lines = 0;
	bool read_as_we_go, eof = false;
	long turns = 0;
	int fd;

	if (size < 1)
		return 0;
	chunk = 1 + (size_t)(data[0] & 0x7f) * 61;
	read_as_we_go = !(data[0] & 0x80);
	for (size_t i = 1; i < size && in.len < MAX_STREAM;) {
		const uint8_t *esc = memchr(data + i, ESCAPE, size - i);
		size_t plain = esc ? (size_t)(esc - data) - i : size - i, n;

		if (plain > MAX_STREAM - in.len)
			plain = MAX_STREAM - in.len;
		buf_put(&in, data + i, plain);
		i += plain;
		if (!esc || in.len == MAX_STREAM)
			break;
		if (i + 2 >= size) {		/* a plain 0xFE at the end */
			buf_put(&in, data + i, size - i);
			break;
		}
		n = 64 * ((size_t)data[i + 2] + 1);
		buf_fill(&in, data[i + 1], n < MAX_STREAM - in.len ? n : MAX_STREAM - in.len);
		i += 3;
	}
	if (chunk < in.len / MAX_WRITES)
		chunk = in.len / MAX_WRITES;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
	strcpy(sa.sun_path, sock_path);
	FZ_CHECK(!connect(fd, (struct sockaddr *)&sa, sizeof(sa)), "connect: %s", strerror(errno));
	FZ_CHECK(!fcntl(fd, F_SETFL, O_NONBLOCK), "fcntl");
	pump();		/* accept */

	/* Write it all, chunk by chunk, the server taking turns. */
	while (off < in.len) {
		size_t n = in.len - off < chunk ? in.len - off : chunk;
		ssize_t sent = send(fd, in.p + off, n, MSG_NOSIGNAL);

		if (sent > 0)
			off += (size_t)sent;
		else
			FZ_CHECK(errno == EAGAIN, "send: %s", strerror(errno));
		pump();
		if (read_as_we_go || sent <= 0)
			eof = drain(fd, &replies);
		FZ_CHECK(!eof, "the server closed a client that was still writing");
		FZ_CHECK(++turns < MAX_TURNS, "the server stalled with %zu of %zu bytes sent",
			 off, in.len);
	}
	/* The client is done: every line, the last one without its newline
	 * too, is answered, then the server closes. */
	FZ_CHECK(!shutdown(fd, SHUT_WR), "shutdown");
	while (!eof) {
		pump();
		eof = drain(fd, &replies);
		FZ_CHECK(++turns < MAX_TURNS, "the server never closed the connection");
	}
	close(fd);
	FZ_CHECK(control_nr_clients(server) == 0, "a closed client keeps its slot");

	/* One reply per line, in order, each the dispatcher's for it. */
	while (line_start < in.len) {
		const uint8_t *end = memchr(in.p + line_start, '\n', in.len - line_start);
		size_t i = end ? (size_t)(end - in.p) : in.len;	/* or an unterminated tail */
		size_t len, rlen, n;
		const uint8_t *nl;

		len = i - line_start;
		n = expected(in.p + line_start, len, want, sizeof(want));
		FZ_CHECK(n > 0, "the dispatcher gave no reply");
		FZ_CHECK(pos < replies.len, "line %zu (%zu bytes) got no reply", lines, len);
		nl = memchr(replies.p + pos, '\n', replies.len - pos);
		FZ_CHECK(nl, "reply %zu has no newline", lines);
		rlen = (size_t)(nl - (replies.p + pos)) + 1;
		check_reply(replies.p + pos, rlen);
		FZ_CHECK(rlen == n && !memcmp(replies.p + pos, want, n),
			 "line %zu: the socket answered '%.*s', the dispatcher '%.*s'", lines,
			 (int)rlen, (const char *)replies.p + pos, (int)n, want);
		pos += rlen;
		lines++;
		line_start = i + 1;
	}
	FZ_CHECK(pos == replies.len, "%zu bytes of replies for no line", replies.len - pos);
	free(in.p);
	free(replies.p);
	return 0;
}
