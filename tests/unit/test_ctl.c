// SPDX-License-Identifier: MIT
/*
 * minivmm ctl (vmm/ctl.c) against a real control socket served from a
 * thread, as vm_run()'s loop serves it: the reply printed, exit status 0
 * for "ok":true, 1 for "ok":false, 2 for bad usage, 3 with one line when
 * no usable answer comes (nothing listens, a listener that never answers
 * or answers garbage, a stop whose VM does not go away in time); and a
 * stop that returns only once the server has closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "vmm/control.h"
#include "vmm/ctl.h"

static char dir[64], sock_path[128];

/* ---- a VM that only answers ---- */

struct server {
	pthread_t thread;
	struct control *c;
	int quit;		/* atomic: the test is done */
	int stops;		/* atomic: stop requests seen */
	bool close_on_stop;	/* a VM that stops: the server goes at once */
};

static int srv_status(void *opaque, struct control_status *out)
{
	out->running = true;
	out->vcpus = 2;
	out->devices[out->nr_devices++] = "uart";
	return 0;
}

static int srv_stop(void *opaque)
{
	struct server *s = opaque;

	__atomic_add_fetch(&s->stops, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void *serve(void *arg)
{
	struct server *s = arg;

	while (!__atomic_load_n(&s->quit, __ATOMIC_SEQ_CST) && s->c) {
		struct pollfd p[CONTROL_MAX_POLLFDS];
		unsigned int n = control_pollfds(s->c, p);

		if (poll(p, n, 10) > 0)
			control_handle(s->c, p, n);
		if (s->close_on_stop && __atomic_load_n(&s->stops, __ATOMIC_SEQ_CST)) {
			control_close(s->c);
			s->c = NULL;
		}
	}
	return NULL;
}

static struct server srv;

static void server_start(bool close_on_stop)
{
	static struct control_ops ops = { .status = srv_status, .stop = srv_stop };

	memset(&srv, 0, sizeof(srv));
	ops.opaque = &srv;
	srv.close_on_stop = close_on_stop;
	assert_int_equal(control_open(&srv.c, sock_path, &ops), 0);
	assert_int_equal(pthread_create(&srv.thread, NULL, serve, &srv), 0);
}

static void server_stop(void)
{
	__atomic_store_n(&srv.quit, 1, __ATOMIC_SEQ_CST);
	pthread_join(srv.thread, NULL);
	control_close(srv.c);
	srv.c = NULL;
}

/* ---- running ctl with its stdout caught ---- */

static char out[65536];

#define CTL(...) ctl((char *[]){ "ctl", __VA_ARGS__, NULL })

static int ctl(char **argv)
{
	int argc = 0, ret, saved, fd;
	char path[128];
	ssize_t n;

	while (argv[argc])
		argc++;
	snprintf(path, sizeof(path), "%s/stdout", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	ret = ctl_main(argc, argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return ret;
}

static int make_dir(void **state)
{
	strcpy(dir, "/tmp/minivmm-ctl.XXXXXX");
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

static void test_ok_and_refused(void **state)
{
	server_start(false);
	assert_int_equal(CTL(sock_path, "status"), CTL_EXIT_OK);
	assert_string_equal(out, "{\"ok\":true,\"running\":true,\"resets\":0,\"vcpus\":2,"
			    "\"devices\":[\"uart\"]}\n");
	/* the VM has no stats op here: it answers, ok:false */
	assert_int_equal(CTL(sock_path, "stats"), CTL_EXIT_REFUSED);
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_int_equal(CTL(sock_path, "nope"), CTL_EXIT_REFUSED);
	assert_non_null(strstr(out, "unknown command"));
	/* a name that needs escaping goes out as valid JSON */
	assert_int_equal(CTL(sock_path, "a\"b\\c"), CTL_EXIT_REFUSED);
	assert_non_null(strstr(out, "unknown command \\\"a\\\"b\\\\c\\\""));
	/* a whole request line, as is */
	assert_int_equal(CTL("--timeout", "2", sock_path, "{\"cmd\":\"status\"}"), CTL_EXIT_OK);
	assert_int_equal(CTL(sock_path, "{\"cmd\":\"status\",}"), CTL_EXIT_REFUSED);
	assert_non_null(strstr(out, "bad JSON"));
	assert_int_equal(CTL(sock_path, "--timeout=1.5", "{bad"), CTL_EXIT_REFUSED);
	server_stop();
}

static void test_stop_waits_for_the_end(void **state)
{
	struct stat st;

	server_start(true);
	assert_int_equal(CTL(sock_path, "stop"), CTL_EXIT_OK);
	assert_string_equal(out, "{\"ok\":true}\n");
	/* ctl returned: the server is gone, its socket file with it */
	assert_int_equal(stat(sock_path, &st), -1);
	assert_int_equal(__atomic_load_n(&srv.stops, __ATOMIC_SEQ_CST), 1);
	server_stop();
}

static void test_stop_that_hangs(void **state)
{
	/* the VM accepts the stop and never goes away: ctl says so */
	server_start(false);
	assert_int_equal(CTL("--timeout", "0.3", sock_path, "stop"), CTL_EXIT_NO_ANSWER);
	assert_string_equal(out, "{\"ok\":true}\n");
	/* a raw stop request is a stop too */
	assert_int_equal(CTL("--timeout", "0.3", sock_path, "{\"cmd\":\"stop\"}"), CTL_EXIT_NO_ANSWER);
	server_stop();
}

static void test_nobody_there(void **state)
{
	char path[160];
	int fd;

	assert_int_equal(CTL(sock_path, "status"), CTL_EXIT_NO_ANSWER);
	assert_string_equal(out, "");
	/* a file that is not a socket */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(CTL(path, "status"), CTL_EXIT_NO_ANSWER);
	/* a stale socket */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		strcpy(sa.sun_path, sock_path);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s);
		assert_int_equal(CTL(sock_path, "status"), CTL_EXIT_NO_ANSWER);
	}
}

/* A listener that accepts and then does what its thread says. */
static int rogue_fd;
static const char *rogue_says;

static void *rogue(void *arg)
{
	int fd = accept(rogue_fd, NULL, NULL);
	char buf[256];

	if (fd < 0)
		return NULL;
	if (rogue_says) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0 && send(fd, rogue_says, strlen(rogue_says), MSG_NOSIGNAL) < 0)
			buf[0] = 0;
	} else {
		usleep(600 * 1000);	/* longer than ctl waits */
	}
	close(fd);
	return NULL;
}

static void rogue_run(const char *says, int want, const char *timeout)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;

	unlink(sock_path);
	rogue_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, sock_path);
	assert_int_equal(bind(rogue_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(rogue_fd, 1), 0);
	rogue_says = says;
	assert_int_equal(pthread_create(&t, NULL, rogue, NULL), 0);
	assert_int_equal(CTL("--timeout", (char *)timeout, sock_path, "status"), want);
	pthread_join(t, NULL);
	close(rogue_fd);
}

static void test_bad_servers(void **state)
{
	rogue_run(NULL, CTL_EXIT_NO_ANSWER, "0.2");		/* silent: a timeout */
	rogue_run("hello\n", CTL_EXIT_NO_ANSWER, "2");		/* not a reply */
	rogue_run("{\"ok\":1}\n", CTL_EXIT_NO_ANSWER, "2");	/* "ok" not a bool */
	rogue_run("{\"ok\":true", CTL_EXIT_NO_ANSWER, "2");	/* closed mid-line */
	rogue_run("", CTL_EXIT_NO_ANSWER, "2");			/* closed, no answer */
	rogue_run("{\"ok\":true}\n", CTL_EXIT_OK, "2");
}

static void test_usage(void **state)
{
	char longpath[200];

	memset(longpath, 'a', 150);
	longpath[150] = '\0';
	assert_int_equal(CTL("--help"), 0);
	assert_non_null(strstr(out, "usage: minivmm ctl"));
	assert_int_equal(ctl((char *[]){ "ctl", NULL }), CTL_EXIT_USAGE);
	assert_int_equal(CTL(sock_path), CTL_EXIT_USAGE);
	assert_int_equal(CTL(sock_path, "status", "stats"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--timeout"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--timeout", "x", sock_path, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--timeout", "0", sock_path, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--timeout=5000", sock_path, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--timeout", "nan", sock_path, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("--wat", sock_path, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL(sock_path, "-x"), CTL_EXIT_USAGE);
	assert_int_equal(CTL(longpath, "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL("", "status"), CTL_EXIT_USAGE);
	assert_int_equal(CTL(sock_path, ""), CTL_EXIT_USAGE);
	assert_int_equal(CTL(sock_path, "sta\ntus"), CTL_EXIT_USAGE);
	assert_string_equal(out, "");
}

static void test_too_long_request(void **state)
{
	char *big = malloc(CONTROL_MAX_LINE + 16);

	assert_non_null(big);
	memset(big, 'a', CONTROL_MAX_LINE + 15);
	big[CONTROL_MAX_LINE + 15] = '\0';
	assert_int_equal(CTL(sock_path, big), CTL_EXIT_USAGE);
	big[0] = '{';
	assert_int_equal(CTL(sock_path, big), CTL_EXIT_USAGE);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_and_refused, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_stop_waits_for_the_end, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_stop_that_hangs, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_nobody_there, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bad_servers, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_usage, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_too_long_request, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
