// SPDX-License-Identifier: MIT
/*
 * --user, --group, --chroot (vmm/privdrop.c): the options, the look-ups and
 * their errors, the folder check for files removed at exit, the drop's
 * order of system calls with each one failing in turn (a fake table), and
 * the real drop in a forked child when the tests run as root (as CI does):
 * afterwards the child has the uid and gid asked for, no groups, every
 * capability set empty, no_new_privs, a root of the chroot folder, and
 * setuid(0) fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/cli.h"
#include "vmm/privdrop.h"

#define ARGS(...) ((char *[]){ "minivmm", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "minivmm", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(cfg, ...) cli_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), cfg)
#define FW "--ovmf", "/usr/share/ovmf/OVMF.fd"

static void test_options(void **state)
{
	struct vm_config cfg;

	assert_int_equal(PARSE(&cfg, FW), 0);
	assert_null(cfg.user);
	assert_null(cfg.group);
	assert_null(cfg.chroot_dir);
	assert_int_equal(PARSE(&cfg, FW, "--user", "nobody", "--group", "nogroup",
			       "--chroot", "/var/empty"), 0);
	assert_string_equal(cfg.user, "nobody");
	assert_string_equal(cfg.group, "nogroup");
	assert_string_equal(cfg.chroot_dir, "/var/empty");
	assert_int_equal(PARSE(&cfg, FW, "--user", "65534"), 0);
	assert_string_equal(cfg.user, "65534");
	assert_int_equal(PARSE(&cfg, FW, "--chroot", "/var/empty"), 0);	/* root, chroot only */

	assert_int_equal(PARSE(&cfg, FW, "--user", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, FW, "--user", "nobody", "--group", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, FW, "--chroot", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, FW, "--group", "nogroup"), -EINVAL);
	assert_int_equal(PARSE(&cfg, FW, "--chroot", "/var/empty", "--tpm"), 0);	/* the TPM thread starts later */
	assert_int_equal(PARSE(&cfg, FW, "--user", "nobody", "--tpm"), 0);
	assert_int_equal(PARSE(&cfg, FW, "--user"), -EINVAL);	/* no value */
}

static void test_lookup(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct privdrop p;
	char dir[] = "/tmp/minivmm-privdrop.XXXXXX";

	if (!pw)
		skip();
	/* By name: the user's uid and primary group. */
	assert_int_equal(privdrop_init(&p, "nobody", NULL, NULL, 0), 0);
	assert_true(p.change_user);
	assert_int_equal(p.uid, pw->pw_uid);
	assert_int_equal(p.gid, pw->pw_gid);
	assert_int_equal(p.chroot_fd, -1);
	assert_true(privdrop_active(&p));
	privdrop_release(&p);
	/* By number, with a group by number and by name. */
	assert_int_equal(privdrop_init(&p, "65534", "4242", NULL, 0), 0);
	assert_int_equal(p.uid, 65534);
	assert_int_equal(p.gid, 4242);
	if (getgrnam("nogroup")) {
		assert_int_equal(privdrop_init(&p, "nobody", "nogroup", NULL, 0), 0);
		assert_int_equal(p.gid, getgrnam("nogroup")->gr_gid);
	}
	/* A uid the database does not know: only with --group. */
	if (!getpwuid(4242424)) {
		assert_int_equal(privdrop_init(&p, "4242424", NULL, NULL, 0), -EINVAL);
		assert_int_equal(privdrop_init(&p, "4242424", "4242424", NULL, 0), 0);
		assert_int_equal(p.uid, 4242424);
	}
	/* Nothing asked: nothing to do. */
	assert_int_equal(privdrop_init(&p, NULL, NULL, NULL, 1000), 0);
	assert_false(privdrop_active(&p));

	/* The refusals. */
	assert_int_equal(privdrop_init(&p, "no-such-user-minivmm", NULL, NULL, 0), -EINVAL);
	assert_int_equal(privdrop_init(&p, "nobody", "no-such-group-minivmm", NULL, 0), -EINVAL);
	assert_int_equal(privdrop_init(&p, "root", NULL, NULL, 0), -EINVAL);
	assert_int_equal(privdrop_init(&p, "0", NULL, NULL, 0), -EINVAL);
	assert_int_equal(privdrop_init(&p, "nobody", NULL, NULL, 1000), -EPERM);
	assert_int_equal(privdrop_init(&p, NULL, NULL, "/", 1000), -EPERM);
	assert_int_equal(privdrop_init(&p, NULL, "nogroup", NULL, 0), -EINVAL);
	assert_int_equal(privdrop_init(&p, "4294967295", NULL, NULL, 0), -EINVAL);	/* (uid_t)-1 */
	assert_int_equal(privdrop_init(&p, "12abc", NULL, NULL, 0), -EINVAL);

	/* --chroot: an existing folder is opened now; anything else refused. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(privdrop_init(&p, NULL, NULL, dir, 0), 0);
	assert_true(p.chroot_fd >= 0);
	assert_false(p.change_user);
	assert_true(privdrop_active(&p));
	privdrop_release(&p);
	assert_int_equal(p.chroot_fd, -1);
	assert_int_equal(privdrop_init(&p, NULL, NULL, "/nonexistent/minivmm", 0), -ENOENT);
	assert_int_equal(privdrop_init(&p, NULL, NULL, "/etc/passwd", 0), -ENOTDIR);
	rmdir(dir);
}

static void test_dir_writable(void **state)
{
	struct stat st = { .st_mode = S_IFDIR | 0755, .st_uid = 0, .st_gid = 0 };
	struct privdrop p = { .change_user = true, .uid = 1000, .gid = 1000, .chroot_fd = -1 };
	char dir[] = "/tmp/minivmm-privdrop.XXXXXX", path[64];

	assert_false(privdrop_dir_writable(&st, 1000, 1000));	/* root's 0755 */
	st.st_uid = 1000;
	assert_true(privdrop_dir_writable(&st, 1000, 1000));	/* the user's */
	st.st_mode = S_IFDIR | 0555;
	assert_false(privdrop_dir_writable(&st, 1000, 1000));	/* the user's, read-only */
	st.st_mode = S_IFDIR | 0075;	/* owner class decides, even if others may */
	assert_false(privdrop_dir_writable(&st, 1000, 1000));
	st.st_uid = 0;
	st.st_gid = 1000;
	st.st_mode = S_IFDIR | 0770;
	assert_true(privdrop_dir_writable(&st, 1000, 1000));	/* the group's */
	assert_false(privdrop_dir_writable(&st, 1000, 2000));
	st.st_mode = S_IFDIR | 0777;
	assert_true(privdrop_dir_writable(&st, 1000, 2000));	/* everyone's */
	st.st_mode = S_IFDIR | 01777;
	assert_false(privdrop_dir_writable(&st, 1000, 2000));	/* /tmp: sticky, root's */
	st.st_uid = 1000;
	assert_true(privdrop_dir_writable(&st, 1000, 2000));	/* sticky, the user's */
	st.st_mode = S_IFREG | 0777;
	assert_false(privdrop_dir_writable(&st, 1000, 1000));

	/* The check on a path: its folder, the name of the option in the
	 * message; without --user nothing is checked. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	assert_int_equal(chmod(dir, 0700), 0);
	if (geteuid() == 0) {
		assert_int_equal(privdrop_check_removable(&p, "--control", path), -EACCES);
		assert_int_equal(chown(dir, 1000, 1000), 0);
	}
	assert_int_equal(privdrop_check_removable(&p, "--control", path), geteuid() == 0 ? 0 : -EACCES);
	assert_int_equal(privdrop_check_removable(&p, "--control", NULL), 0);
	assert_int_equal(privdrop_check_removable(&p, "--pidfile", "/nonexistent/minivmm/vm.pid"), -ENOENT);
	p.change_user = false;
	assert_int_equal(privdrop_check_removable(&p, "--pidfile", "/nonexistent/minivmm/vm.pid"), 0);
	rmdir(dir);
}

/* ---- the drop, against a fake table -------------------------------------------- */

static char calls[2048];
static int fail_at;		/* the n-th call fails (1-based); 0: none */
static int n_calls;
static unsigned long capbset_limit = 41;	/* CAP_LAST_CAP + 1 of the fake kernel */
static bool setuid_works, ids_wrong;
static uid_t cur_uid;
static gid_t cur_gid;

static int record(const char *what)
{
	n_calls++;
	strncat(calls, what, sizeof(calls) - strlen(calls) - 2);
	strcat(calls, " ");
	return n_calls == fail_at ? -EIO : 0;
}

static int threads = 1;

static int f_nr_threads(void)
{
	return threads;
}

static int f_unshare(int flags)
{
	assert_int_equal(flags, CLONE_NEWNS);
	return record("unshare");
}

static int f_private(void) { return record("private"); }

static int f_chroot(int fd)
{
	assert_true(fd >= 0);
	return record("chroot");
}

static int f_prctl(int op, unsigned long a2, unsigned long a3)
{
	char buf[32];

	if (op == PR_CAPBSET_DROP) {
		if (a2 >= capbset_limit)
			return -EINVAL;	/* not counted: how the loop ends */
		if (a2 == 0 || a2 == capbset_limit - 1) {
			snprintf(buf, sizeof(buf), "bset%lu", a2);
			return record(buf);
		}
		n_calls++;
		return n_calls == fail_at ? -EIO : 0;
	}
	if (op == PR_CAP_AMBIENT) {
		assert_int_equal(a2, PR_CAP_AMBIENT_CLEAR_ALL);
		return record("ambient");
	}
	assert_int_equal(op, PR_SET_NO_NEW_PRIVS);
	assert_int_equal(a2, 1);
	return record("nnp");
}

static int f_setgroups(void) { return record("setgroups"); }

static int f_setresgid(gid_t r, gid_t e, gid_t s)
{
	assert_true(r == 4242 && e == 4242 && s == 4242);
	cur_gid = r;
	return record("setresgid");
}

static int f_setresuid(uid_t r, uid_t e, uid_t s)
{
	assert_true(r == 4343 && e == 4343 && s == 4343);
	cur_uid = r;
	return record("setresuid");
}

static int f_capset(void) { return record("capset"); }

static int f_setuid(uid_t uid)
{
	assert_int_equal(uid, 0);
	record("setuid0");
	return setuid_works ? 0 : -EPERM;
}

static int f_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
	*r = *e = *s = cur_uid;
	if (ids_wrong)
		*s = 0;	/* a saved uid still root */
	return record("getresuid");
}

static int f_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
	*r = *e = *s = cur_gid;
	return record("getresgid");
}

static const struct privdrop_sys fake = {
	.nr_threads = f_nr_threads, .unshare = f_unshare, .make_root_private = f_private, .chroot_fd = f_chroot,
	.prctl = f_prctl, .setgroups_none = f_setgroups, .setresgid = f_setresgid,
	.setresuid = f_setresuid, .capset_none = f_capset, .setuid = f_setuid,
	.getresuid = f_getresuid, .getresgid = f_getresgid,
};

static int apply(const struct privdrop *p, int fail)
{
	calls[0] = '\0';
	n_calls = 0;
	fail_at = fail;
	cur_uid = 0;
	cur_gid = 0;
	return privdrop_apply(p, &fake);
}

static void test_drop_order(void **state)
{
	struct privdrop p = { .change_user = true, .uid = 4343, .gid = 4242, .chroot_fd = 99,
			      .chroot_dir = "/var/empty" };
	struct privdrop none = { .chroot_fd = -1 };
	struct privdrop chroot_only = { .chroot_fd = 99, .chroot_dir = "/var/empty" };
	int total;

	setuid_works = false;
	assert_int_equal(apply(&p, 0), 0);
	assert_string_equal(calls, "unshare private chroot bset0 bset40 ambient setgroups setresgid setresuid capset nnp setuid0 getresuid getresgid ");
	total = n_calls;
	/* Every step that fails stops the drop there, with an error. */
	for (int i = 1; i <= total; i++) {
		if (i == total - 2)
			continue;	/* setuid(0): its failure is the success */
		assert_int_not_equal(apply(&p, i), 0);
		assert_int_equal(n_calls, i);
	}
	/* Root regained: an error, though every call "worked". */
	setuid_works = true;
	assert_int_equal(apply(&p, 0), -EPERM);
	setuid_works = false;
	/* Ids that did not take: an error, though every call "worked". */
	ids_wrong = true;
	assert_int_equal(apply(&p, 0), -EPERM);
	ids_wrong = false;
	/* --user alone: no namespace, no chroot. */
	{
		struct privdrop q = p;

		q.chroot_fd = -1;
		assert_int_equal(apply(&q, 0), 0);
		assert_string_equal(calls, "bset0 bset40 ambient setgroups setresgid setresuid capset nnp setuid0 getresuid getresgid ");
	}
	/* The kernel knows more capabilities than our headers: all dropped. */
	capbset_limit = 63;
	assert_int_equal(apply(&p, 0), 0);
	assert_non_null(strstr(calls, "bset62 "));
	capbset_limit = 41;
	/* A second thread before the chroot: refused before anything. */
	threads = 2;
	assert_int_equal(apply(&p, 0), -EBUSY);
	assert_string_equal(calls, "");
	threads = -ENOENT;	/* no /proc: cannot tell, refused */
	assert_int_equal(apply(&p, 0), -ENOENT);
	threads = 1;
	/* --chroot alone: no user change, no check of it. */
	assert_int_equal(apply(&chroot_only, 0), 0);
	assert_string_equal(calls, "unshare private chroot bset0 bset40 ambient capset nnp ");
	/* Nothing asked: no call. */
	assert_int_equal(apply(&none, 0), 0);
	assert_string_equal(calls, "");
	assert_int_equal(privdrop_apply(NULL, &fake), 0);
}

/* ---- the real drop, in a forked child ------------------------------------------ */

/* 0 if this process is what the drop promises, else the number of the
 * first check that failed. */
static int verify_dropped(uid_t uid, gid_t gid, const struct stat *root)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	struct stat st;

	if (getresuid(&ru, &eu, &su) || ru != uid || eu != uid || su != uid)
		return 10;
	if (getresgid(&rg, &eg, &sg) || rg != gid || eg != gid || sg != gid)
		return 11;
	if (getgroups(0, NULL) != 0)
		return 12;
	if (syscall(SYS_capget, &hdr, data))
		return 13;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return 14;
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			break;
		if (r != 0)
			return 15;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return 16;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 17;
	if (setuid(0) == 0 || errno != EPERM)
		return 18;
	if (setgid(0) == 0)
		return 19;
	if (root && (stat("/", &st) || st.st_dev != root->st_dev || st.st_ino != root->st_ino))
		return 20;
	return 0;
}

static int drop_in_child(const char *user, const char *chroot_dir, const struct stat *root)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct privdrop p;

		if (chroot_dir && privdrop_sys_real.nr_threads() != 1)
			_exit(77);
		if (privdrop_init(&p, user, NULL, chroot_dir, geteuid()))
			_exit(2);
		if (privdrop_apply(&p, &privdrop_sys_real))
			_exit(3);
		_exit(verify_dropped(p.uid, p.gid, root));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_real_drop(void **state)
{
	char dir[] = "/tmp/minivmm-privdrop-root.XXXXXX";
	struct stat root;
	int ret;

	if (geteuid() != 0 || !getpwnam("nobody"))
		skip();
	assert_int_equal(drop_in_child("nobody", NULL, NULL), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat(dir, &root), 0);
	ret = drop_in_child("nobody", dir, &root);
	/* 77: ThreadSanitizer starts a thread of its own in the child, and
	 * a chroot is then refused, rightly. */
	if (ret != 77)
		assert_int_equal(ret, 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_dir_writable),
		cmocka_unit_test(test_drop_order),
		cmocka_unit_test(test_real_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
