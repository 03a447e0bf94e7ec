// SPDX-License-Identifier: MIT
/*
 * Leaving root once the VM is set up: --user, --group, --chroot
 * (docs/security.md). The order matters (capabilities(7), credentials(7)):
 *
 *   1. unshare(CLONE_NEWNS), / made private (no mount of ours reaches the
 *      host, none of the host's reaches us), chroot into the held DIR fd —
 *      these need CAP_SYS_ADMIN and CAP_SYS_CHROOT, and reach only the
 *      calling thread and those it starts later: no other may run yet;
 *   2. every capability out of the bounding set (PR_CAPBSET_DROP needs
 *      CAP_SETPCAP) and the ambient set cleared;
 *   3. setgroups(0), setresgid, setresuid — in this order: once the uid is
 *      not 0, CAP_SETGID is gone and the groups could not change any more;
 *   4. permitted, effective and inheritable emptied (setresuid already
 *      clears the first two when every uid leaves 0; this says so
 *      explicitly, and covers --chroot without --user), no_new_privs;
 *   5. setuid(0) must fail, and every uid and gid must be the new ones.
 *
 * Everything is checked: a step that fails ends the start with a message,
 * never a VM that runs with more than was asked.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/privdrop.h"

/* ---- the real system calls ----------------------------------------------------- */

static int sys_nr_threads(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");
	int n = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int sys_unshare(int flags)
{
	return unshare(flags) ? -errno : 0;
}

static int sys_make_root_private(void)
{
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ? -errno : 0;
}

static int sys_chroot_fd(int dir_fd)
{
	if (fchdir(dir_fd) || chroot(".") || chdir("/"))
		return -errno;
	return 0;
}

static int sys_prctl(int op, unsigned long a2, unsigned long a3)
{
	return prctl(op, a2, a3, 0UL, 0UL) < 0 ? -errno : 0;
}

static int sys_setgroups_none(void)
{
	return setgroups(0, NULL) ? -errno : 0;
}

/* glibc's wrappers: they change every thread of the process, not only the
 * caller (nptl's setxid broadcast). */
static int sys_setresgid(gid_t r, gid_t e, gid_t s)
{
	return setresgid(r, e, s) ? -errno : 0;
}

static int sys_setresuid(uid_t r, uid_t e, uid_t s)
{
	return setresuid(r, e, s) ? -errno : 0;
}

static int sys_capset_none(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* The raw call: glibc's setuid would also try it on every other thread. */
static int sys_setuid(uid_t uid)
{
	return syscall(SYS_setuid, uid) ? -errno : 0;
}

static int sys_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
	return getresuid(r, e, s) ? -errno : 0;
}

static int sys_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
	return getresgid(r, e, s) ? -errno : 0;
}

const struct privdrop_sys privdrop_sys_real = {
	.nr_threads = sys_nr_threads,
	.unshare = sys_unshare,
	.make_root_private = sys_make_root_private,
	.chroot_fd = sys_chroot_fd,
	.prctl = sys_prctl,
	.setgroups_none = sys_setgroups_none,
	.setresgid = sys_setresgid,
	.setresuid = sys_setresuid,
	.capset_none = sys_capset_none,
	.setuid = sys_setuid,
	.getresuid = sys_getresuid,
	.getresgid = sys_getresgid,
};

/* ---- resolving the options ----------------------------------------------------- */

/* "1000" -> 1000; anything but digits (or more than 32 bits): false. */
static bool parse_id(const char *s, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= 0xffffffffUL)	/* (uid_t)-1 means "unchanged" */
		return false;
	*id = (unsigned int)v;
	return true;
}

static int resolve_user(struct privdrop *p, const char *user, bool *have_gid)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	unsigned int id;
	int err;

	if (!*user) {
		pr_err("--user '': give a user name or a numeric uid (e.g. --user nobody)");
		return -EINVAL;
	}
	if (parse_id(user, &id)) {
		p->uid = id;
		err = getpwuid_r(id, &pw, buf, sizeof(buf), &res);
	} else {
		err = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
		if (!res) {
			pr_err("--user '%s': no such user on this host%s%s (give a name 'getent passwd' lists, or a numeric uid with --group)",
			       user, err ? ": " : "", err ? strerror(err) : "");
			return -EINVAL;
		}
		p->uid = pw.pw_uid;
	}
	/* A uid with no passwd entry is fine, but then the group must be
	 * given: there is no primary group to take. */
	if (res) {
		p->gid = pw.pw_gid;
		*have_gid = true;
	}
	snprintf(p->user, sizeof(p->user), "%s", user);
	if (p->uid == 0) {
		pr_err("--user '%s' is root: minivmm would keep every privilege (give an unprivileged user, e.g. --user nobody)",
		       user);
		return -EINVAL;
	}
	return 0;
}

static int resolve_group(struct privdrop *p, const char *group)
{
	char buf[4096];
	struct group gr, *res = NULL;
	unsigned int id;
	int err;

	if (parse_id(group, &id)) {
		p->gid = id;
		return 0;
	}
	err = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (!*group || !res) {
		pr_err("--group '%s': no such group on this host%s%s (give a name 'getent group' lists, or a numeric gid)",
		       group, err ? ": " : "", err ? strerror(err) : "");
		return -EINVAL;
	}
	p->gid = gr.gr_gid;
	return 0;
}

int privdrop_init(struct privdrop *p, const char *user, const char *group,
		  const char *chroot_dir, uid_t euid)
{
	bool have_gid = false;
	struct stat st;
	int ret;

	memset(p, 0, sizeof(*p));
	p->chroot_fd = -1;
	if (group && !user) {
		pr_err("--group '%s' without --user (give the user too: --user NAME --group %s)", group, group);
		return -EINVAL;
	}
	if (!user && !chroot_dir)
		return 0;
	if (euid != 0) {
		pr_err("%s: only root can %s (minivmm runs as uid %u: start it as root, or leave the option out)",
		       user ? "--user" : "--chroot", user ? "switch to another user" : "chroot",
		       (unsigned int)euid);
		return -EPERM;
	}
	if (user) {
		ret = resolve_user(p, user, &have_gid);
		if (ret)
			return ret;
		if (group) {
			ret = resolve_group(p, group);
			if (ret)
				return ret;
		} else if (!have_gid) {
			pr_err("--user %s: uid %u has no entry in the user database, so no primary group (give --group GID too)",
			       user, (unsigned int)p->uid);
			return -EINVAL;
		}
		p->change_user = true;
	}
	if (chroot_dir) {
		/* Opened now, used at the drop: the folder checked is the one
		 * entered, whatever happens to the path in between. */
		p->chroot_fd = open(chroot_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p->chroot_fd < 0 || fstat(p->chroot_fd, &st)) {
			ret = -errno;
			pr_err("--chroot %s: %s (give an existing folder, e.g. an empty one: mkdir -m 0755 %s)",
			       chroot_dir, strerror(errno), chroot_dir);
			privdrop_release(p);
			return ret;
		}
		p->chroot_dir = chroot_dir;
	}
	return 0;
}

void privdrop_release(struct privdrop *p)
{
	if (p->chroot_fd >= 0)
		close(p->chroot_fd);
	p->chroot_fd = -1;
}

bool privdrop_active(const struct privdrop *p)
{
	return p && (p->change_user || p->chroot_fd >= 0);
}

/* ---- the files minivmm removes at exit ----------------------------------------- */

bool privdrop_dir_writable(const struct stat *dir, uid_t uid, gid_t gid)
{
	mode_t need;

	if (!S_ISDIR(dir->st_mode))
		return false;
	/* Sticky (/tmp): only a file's or the folder's owner may remove it,
	 * and the files stay root's: giving them to the user would let every
	 * process of that uid (nobody!) use the control socket. */
	if ((dir->st_mode & S_ISVTX) && dir->st_uid != uid)
		return false;
	/* The first class that matches decides (inode(7)), even if a later
	 * one would allow more. setgroups(0) leaves only gid. */
	if (dir->st_uid == uid)
		need = S_IWUSR | S_IXUSR;
	else if (dir->st_gid == gid)
		need = S_IWGRP | S_IXGRP;
	else
		need = S_IWOTH | S_IXOTH;
	return (dir->st_mode & need) == need;
}

int privdrop_check_removable(const struct privdrop *p, const char *what, const char *path)
{
	char dir[4096];
	const char *slash;
	struct stat st;

	if (!p || !p->change_user || !path)
		return 0;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st)) {
		pr_err("%s %s: folder %s: %s (create it, writable by %s: install -d -o %u -g %u %s)",
		       what, path, dir, strerror(errno), p->user, (unsigned int)p->uid,
		       (unsigned int)p->gid, dir);
		return -errno;
	}
	if (!privdrop_dir_writable(&st, p->uid, p->gid)) {
		pr_err("%s %s: --user %s could not remove it at exit (%s is not writable by uid %u gid %u, or sticky and not theirs; put it in a folder that is: install -d -o %u -g %u /run/minivmm-%s)",
		       what, path, p->user, dir, (unsigned int)p->uid, (unsigned int)p->gid,
		       (unsigned int)p->uid, (unsigned int)p->gid, p->user);
		return -EACCES;
	}
	return 0;
}

/* ---- the drop ------------------------------------------------------------------ */

static int step(int ret, const char *what)
{
	if (ret)
		pr_err("dropping privileges: %s: %s (leave out --user/--chroot to run without)",
		       what, strerror(-ret));
	return ret;
}

static int drop_bounding_set(const struct privdrop_sys *sys)
{
	int ret;

	/* Up to the first number the kernel does not know (EINVAL): that
	 * is CAP_LAST_CAP + 1 of the running kernel, not of our headers. */
	for (unsigned long cap = 0; cap < 64; cap++) {
		ret = sys->prctl(PR_CAPBSET_DROP, cap, 0);
		if (ret == -EINVAL && cap > 0)
			return 0;
		if (ret)
			return ret;
	}
	return 0;
}

int privdrop_apply(const struct privdrop *p, const struct privdrop_sys *sys)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int ret;

	if (!privdrop_active(p))
		return 0;
	if (p->chroot_fd >= 0) {
		/* unshare(CLONE_NEWNS) and chroot reach the calling thread
		 * (and those it starts later) only: one started before would
		 * keep the host's root. */
		ret = sys->nr_threads();
		if (ret != 1)
			return step(ret < 0 ? ret : -EBUSY,
				    "--chroot: a thread started before the chroot (only one may run then)");
		if ((ret = step(sys->unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")) ||
		    (ret = step(sys->make_root_private(), "making / private in the new mount namespace")) ||
		    (ret = step(sys->chroot_fd(p->chroot_fd), p->chroot_dir)))
			return ret;
	}
	if ((ret = step(drop_bounding_set(sys), "PR_CAPBSET_DROP")) ||
	    (ret = step(sys->prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0), "clearing the ambient capabilities")))
		return ret;
	if (p->change_user) {
		if ((ret = step(sys->setgroups_none(), "setgroups(0)")) ||
		    (ret = step(sys->setresgid(p->gid, p->gid, p->gid), "setresgid")) ||
		    (ret = step(sys->setresuid(p->uid, p->uid, p->uid), "setresuid")))
			return ret;
	}
	if ((ret = step(sys->capset_none(), "emptying the capability sets")) ||
	    (ret = step(sys->prctl(PR_SET_NO_NEW_PRIVS, 1, 0), "PR_SET_NO_NEW_PRIVS")))
		return ret;
	if (!p->change_user)
		return 0;
	/* Verify, not trust: root must be out of reach now. */
	if (sys->setuid(0) != -EPERM)
		return step(-EPERM, "setuid(0) did not fail: root could be regained");
	if ((ret = step(sys->getresuid(&ru, &eu, &su), "getresuid")) ||
	    (ret = step(sys->getresgid(&rg, &eg, &sg), "getresgid")))
		return ret;
	if (ru != p->uid || eu != p->uid || su != p->uid ||
	    rg != p->gid || eg != p->gid || sg != p->gid)
		return step(-EPERM, "the uids or gids are not the ones asked for");
	pr_debug("running as uid %u gid %u, no capabilities%s%s", (unsigned int)p->uid,
		 (unsigned int)p->gid, p->chroot_dir ? ", chroot " : "",
		 p->chroot_dir ? p->chroot_dir : "");
	return 0;
}
