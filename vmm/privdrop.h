/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_PRIVDROP_H
#define MINIVMM_PRIVDROP_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * --user, --group and --chroot (docs/security.md): once everything the VM
 * needs is open, created and mapped, minivmm leaves root for good — into a
 * private mount namespace and a chroot, then setgroups(0), setresgid,
 * setresuid, every capability set emptied (bounding and ambient too), no
 * new privileges — and checks that it cannot become root again.
 */
struct privdrop {
	bool change_user;	/* --user given */
	uid_t uid;
	gid_t gid;
	char user[64];		/* for messages: the name given, or the uid */
	int chroot_fd;		/* --chroot DIR, opened at start; -1: none */
	const char *chroot_dir;
};

/*
 * The system calls the drop makes, behind a table so that the unit tests
 * can record them and make any one fail (tests/unit/test_privdrop.c).
 */
struct privdrop_sys {
	int (*nr_threads)(void);		/* this process's; -errno if unknown */
	int (*unshare)(int flags);
	int (*make_root_private)(void);		/* mount --make-rprivate / */
	int (*chroot_fd)(int dir_fd);		/* fchdir + chroot(".") + chdir("/") */
	int (*prctl)(int op, unsigned long a2, unsigned long a3);
	int (*setgroups_none)(void);
	int (*setresgid)(gid_t r, gid_t e, gid_t s);
	int (*setresuid)(uid_t r, uid_t e, uid_t s);
	int (*capset_none)(void);
	int (*setuid)(uid_t uid);		/* the check: setuid(0) must fail */
	int (*getresuid)(uid_t *r, uid_t *e, uid_t *s);
	int (*getresgid)(gid_t *r, gid_t *e, gid_t *s);
};

extern const struct privdrop_sys privdrop_sys_real;

/*
 * Resolve --user NAME|UID and --group NAME|GID (group: NULL for the
 * user's primary group) into p, and --chroot DIR (NULL: none): open DIR.
 * euid is the caller's (only root can change users or chroot). 0, or
 * -errno after one line naming the problem and the fix.
 */
int privdrop_init(struct privdrop *p, const char *user, const char *group,
		  const char *chroot_dir, uid_t euid);
void privdrop_release(struct privdrop *p);
/* Whether anything is to be dropped at all. */
bool privdrop_active(const struct privdrop *p);

/*
 * A file minivmm creates before the drop and removes at exit (the
 * control socket, the pidfile) is removed by the dropped user: its folder
 * (dir, as fstat gave it) must let that uid/gid write, and if sticky be
 * theirs (the files stay root's). Pure, for the unit tests: permission
 * bits only (no ACLs).
 */
bool privdrop_dir_writable(const struct stat *dir, uid_t uid, gid_t gid);
/* The same for PATH's folder, with a message naming the option (what)
 * and the fix. 0 or -errno. */
int privdrop_check_removable(const struct privdrop *p, const char *what, const char *path);

/*
 * The drop itself, on the calling thread (threads created later inherit
 * it; setresuid and friends reach every thread through glibc). 0, or
 * -errno after a message; the caller must then not run the guest.
 */
int privdrop_apply(const struct privdrop *p, const struct privdrop_sys *sys);

#endif
