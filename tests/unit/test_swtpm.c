// SPDX-License-Identifier: MIT
/*
 * The swtpm backend (devices/tpm/swtpm.c) against the real swtpm (Debian
 * package swtpm, in tests/deps.sh): started by minivmm (TPM_Init, TPM 2.0
 * commands, its state kept across runs, one VM per state, swtpm gone
 * after a clean end and after the VMM is killed), or running already
 * (--tpm socket=PATH: the data channel handed over, CMD_SHUTDOWN at the
 * end); and the one-line errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/tpm/swtpm.h"

#define SWTPM_MISSING "swtpm not found in PATH: the TPM tests need the Debian package swtpm (make deps)"

extern char **environ;

static char dir[] = "/tmp/minivmm-swtpm-XXXXXX";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	if (system("command -v swtpm > /dev/null") != 0)
		fail_msg(SWTPM_MISSING);
	strcpy(dir, "/tmp/minivmm-swtpm-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TPM2_Startup(SU_CLEAR), then TPM2_GetRandom(8): both succeed. */
static void exercise(struct tpm_backend *be)
{
	static const uint8_t startup[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0 };
	static const uint8_t getrandom[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8 };
	uint8_t rsp[4096];
	bool est = true;
	long n;

	assert_int_equal(be->ops->init(be->opaque, 3968, &est), 0);
	assert_false(est);
	n = be->ops->execute(be->opaque, startup, sizeof(startup), rsp, sizeof(rsp));
	assert_int_equal(n, 10);
	assert_int_equal(be32(rsp + 6), 0);
	be->ops->cancel(be->opaque);	/* nothing runs: harmless */
	n = be->ops->execute(be->opaque, getrandom, sizeof(getrandom), rsp, sizeof(rsp));
	assert_int_equal(n, 20);
	assert_int_equal(be32(rsp + 6), 0);
	assert_int_equal(rsp[10] << 8 | rsp[11], 8);
	/* A response bigger than the room given: an error, not an overrun. */
	n = be->ops->execute(be->opaque, getrandom, sizeof(getrandom), rsp, 12);
	assert_int_equal(n, -EMSGSIZE);
}

static int open_started(const char *state, struct tpm_backend *be)
{
	struct swtpm_params p = { .state_dir = state };

	return swtpm_open(&p, be);
}

/* Started by minivmm: works, keeps its state, a second VM on the same
 * state is refused, a platform reset (init again) works. */
static void test_started(void **state)
{
	char st[256];
	struct tpm_backend a, b;
	bool est;

	snprintf(st, sizeof(st), "%s/vm/tpm", dir);
	assert_int_equal(open_started(st, &a), 0);
	exercise(&a);
	assert_int_equal(a.ops->init(a.opaque, 3968, &est), 0);	/* a reboot */
	/* The same state in use: swtpm's lock refuses TPM_Init. */
	assert_int_equal(open_started(st, &b), 0);
	assert_int_equal(b.ops->init(b.opaque, 3968, &est), -EIO);
	b.ops->destroy(b.opaque);
	a.ops->destroy(a.opaque);
	/* The state stayed; the next run uses it (and gets the lock, so
	 * the first swtpm is gone). */
	assert_int_equal(access(strcat(st, "/tpm2-00.permall"), R_OK), 0);
	st[strlen(st) - strlen("/tpm2-00.permall")] = '\0';
	assert_int_equal(open_started(st, &a), 0);
	exercise(&a);
	a.ops->destroy(a.opaque);
}

/* The VMM killed (no destroy, its fds closed by the kernel): swtpm ends
 * by itself, so the state is free again within seconds. */
static void test_killed(void **state)
{
	char st[256];
	struct tpm_backend be;
	bool est;
	pid_t pid;
	int status, i;

	snprintf(st, sizeof(st), "%s/killed", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (open_started(st, &be) || be.ops->init(be.opaque, 3968, &est))
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	for (i = 0; i < 50; i++) {
		int ret;

		assert_int_equal(open_started(st, &be), 0);
		ret = be.ops->init(be.opaque, 3968, &est);
		be.ops->destroy(be.opaque);
		if (!ret)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	assert_true(i < 50);
}

static bool listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* --tpm socket=PATH: a running swtpm, shut down at the end. */
static void test_socket(void **state)
{
	char sock[256], st[256], st_arg[300], ctrl_arg[300];
	char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", st_arg, "--ctrl", ctrl_arg,
			 "--terminate", NULL };
	struct swtpm_params p = { .socket = sock };
	struct tpm_backend be;
	pid_t pid;
	int status, i;

	snprintf(sock, sizeof(sock), "%s/ctrl.sock", dir);
	snprintf(st, sizeof(st), "%s/ext", dir);
	mkdir(st, 0700);
	snprintf(st_arg, sizeof(st_arg), "dir=%s", st);
	snprintf(ctrl_arg, sizeof(ctrl_arg), "type=unixio,path=%s", sock);
	assert_int_equal(posix_spawnp(&pid, "swtpm", NULL, NULL, argv, environ), 0);
	/* Until it listens (the socket file comes first, at bind). A probe
	 * connection that closes does not end swtpm. */
	for (i = 0; i < 250 && !listening(sock); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	if (swtpm_open(&p, &be)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("--tpm socket=%s: cannot use the swtpm started there", sock);
	}
	exercise(&be);
	be.ops->destroy(be.opaque);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
}

/* One line each, and an error: no swtpm, no socket. */
static void test_errors(void **state)
{
	char sock[256], st[256];
	struct swtpm_params p = { .binary = "/nonexistent/swtpm", .state_dir = st };
	struct tpm_backend be;

	snprintf(st, sizeof(st), "%s/x", dir);
	assert_int_equal(swtpm_open(&p, &be), -ENOENT);
	snprintf(sock, sizeof(sock), "%s/none.sock", dir);
	p = (struct swtpm_params){ .socket = sock };
	assert_int_equal(swtpm_open(&p, &be), -ENOENT);
	/* A state directory that cannot be made. */
	p = (struct swtpm_params){ .state_dir = "/proc/minivmm/tpm" };
	assert_true(swtpm_open(&p, &be) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_started, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
