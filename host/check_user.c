// SPDX-License-Identifier: MIT
/*
 * `minivmm check`, run by a user other than root or with --user NAME: what
 * that user needs to run minivmm without root at all — /dev/kvm, the VFIO
 * container and each named device's /dev/vfio/N, RLIMIT_MEMLOCK for the
 * pinned guest RAM (and locked hugetlb pages), /dev/net/tun and
 * /dev/vhost-net for network devices — each with the command that grants
 * it. (Started as root with `minivmm --user NAME`, minivmm opens all of it
 * before it drops to NAME, and NAME needs none of it; docs/security.md.)
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/check.h"
#include "lib/host_pci.h"
#include "lib/sysfs.h"

#define MAX_GROUPS 256

struct who {
	char name[64];
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int n_groups;
};

bool host_user_may_rw(const struct stat *st, uid_t uid, const gid_t *groups, int n_groups)
{
	mode_t need;

	if (uid == 0)
		return true;
	/* The first class that matches decides (inode(7)). */
	if (st->st_uid == uid) {
		need = S_IRUSR | S_IWUSR;
	} else {
		need = S_IROTH | S_IWOTH;
		for (int i = 0; i < n_groups; i++)
			if (groups[i] == st->st_gid) {
				need = S_IRGRP | S_IWGRP;
				break;
			}
	}
	return (st->st_mode & need) == need;
}

static int who_resolve(const char *user, struct who *w)
{
	struct passwd *pw;
	char *end;

	if (user) {
		unsigned long id;

		errno = 0;
		id = strtoul(user, &end, 10);
		pw = (!*end && *user) ? getpwuid((uid_t)id) : getpwnam(user);
	} else {
		pw = getpwuid(geteuid());
	}
	if (!pw)
		return -ENOENT;
	snprintf(w->name, sizeof(w->name), "%s", pw->pw_name);
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
	w->n_groups = MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, w->groups, &w->n_groups) < 0)
		w->n_groups = 0;
	return 0;
}

static const char *group_name(gid_t gid, char *buf, size_t len)
{
	struct group *g = getgrgid(gid);

	if (g)
		snprintf(buf, len, "%s", g->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned int)gid);
	return buf;
}

/* One device node: OK, or verdict v with the fixes; -1: absent. */
static int node(const struct host_env *env, const struct who *w, const char *name,
		struct stat *st, char *path, size_t len)
{
	if (host_path(path, len, "%s/%s", env->devfs, name) || stat(path, st))
		return -1;
	return host_user_may_rw(st, w->uid, w->groups, w->n_groups);
}

static void check_kvm_node(const struct host_env *env, const struct who *w, struct host_report *r)
{
	char path[HOST_PATH_MAX], grp[64];
	struct stat st;
	int ok = node(env, w, "kvm", &st, path, sizeof(path));

	if (ok < 0)
		return;		/* the KVM line above says what to do */
	group_name(st.st_gid, grp, sizeof(grp));
	if (ok) {
		host_report(r, HOST_OK, "user %s: may open %s", w->name, path);
		return;
	}
	host_report(r, HOST_FAIL, "user %s: cannot open %s (mode %04o, group %s)", w->name, path,
		    (unsigned int)(st.st_mode & 07777), grp);
	if (st.st_gid == 0)
		host_fix(r, "echo 'KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"' > /etc/udev/rules.d/90-minivmm-kvm.rules && udevadm control --reload && udevadm trigger --name-match=kvm; usermod -aG kvm %s, then log in again",
			 w->name);
	else
		host_fix(r, "usermod -aG %s %s, then log in again", grp, w->name);
}

static void check_vfio_nodes(const struct host_env *env, const struct host_check_opts *o,
			     const struct who *w, struct host_report *r)
{
	char path[HOST_PATH_MAX];
	struct stat st;
	int done[64], n_done = 0;

	if (!o->n_gpus && !o->n_vfio)
		return;
	if (node(env, w, "vfio/vfio", &st, path, sizeof(path)) == 0) {
		host_report(r, HOST_FAIL, "user %s: cannot open %s (mode %04o)", w->name, path,
			    (unsigned int)(st.st_mode & 07777));
		host_fix(r, "chmod 0666 %s (the kernel's default: the container grants nothing by itself)", path);
	}
	for (size_t i = 0; i < o->n_gpus + o->n_vfio; i++) {
		const char *arg = i < o->n_gpus ? o->gpus[i] : o->vfio[i - o->n_gpus];
		char (*bdfs)[HOST_BDF_LEN];
		struct host_pci_dev dev;
		char name[32];
		bool seen = false;
		size_t n;
		int ok;

		/* A slot's functions share a group: its first one's. */
		if (host_bdf_expand(env, arg, &bdfs, &n))
			continue;	/* the device lines above say why */
		ok = n && !host_pci_read(env, bdfs[0], &dev) && dev.group >= 0;
		free(bdfs);
		if (!ok)
			continue;
		for (int k = 0; k < n_done; k++)
			seen |= done[k] == dev.group;
		if (seen)
			continue;
		if (n_done < 64)
			done[n_done++] = dev.group;
		snprintf(name, sizeof(name), "vfio/%d", dev.group);
		ok = node(env, w, name, &st, path, sizeof(path));
		if (ok < 0)
			continue;	/* not on vfio-pci yet: minivmm bind first */
		if (ok) {
			host_report(r, HOST_OK, "user %s: may open %s (IOMMU group of %s)", w->name, path, arg);
			continue;
		}
		host_report(r, HOST_FAIL, "user %s: cannot open %s, the IOMMU group of %s (owner uid %u, mode %04o)",
			    w->name, path, arg, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		host_fix(r, "until the next bind or reboot: chown %s %s", w->name, path);
		host_fix(r, "for good: echo 'SUBSYSTEM==\"vfio\", KERNEL==\"%d\", OWNER=\"%s\"' > /etc/udev/rules.d/90-minivmm-vfio.rules && udevadm control --reload && udevadm trigger --name-match=vfio/%d",
			 dev.group, w->name, dev.group);
	}
}

static void check_memlock_of(const struct host_check_opts *o, const struct who *w,
			     struct host_report *r)
{
	uint64_t need_kib;

	if (!o->memory || (!o->n_gpus && !o->n_vfio && !o->hugepage))
		return;
	/* The limit of another user's sessions is not ours to read (PAM
	 * sets it at login): say what to set. Our own is the memlock line
	 * above. */
	need_kib = (o->memory + ((o->n_gpus || o->n_vfio) ? HOST_MEMLOCK_MARGIN : 0)) >> 10;
	host_note(r, "user %s: VFIO pins %sthe guest RAM: RLIMIT_MEMLOCK must be at least %" PRIu64 " KiB in %s's session",
		  w->name, o->hugepage ? "and --hugepages locks " : "", need_kib, w->name);
	host_fix(r, "echo '%s - memlock %" PRIu64 "' > /etc/security/limits.d/90-minivmm.conf (takes effect at the next login; systemd services: LimitMEMLOCK=%" PRIu64 "K)",
		 w->name, need_kib, need_kib);
}

static void check_net_nodes(const struct host_env *env, const struct who *w, struct host_report *r)
{
	char path[HOST_PATH_MAX], grp[64];
	struct stat st;
	int ok;

	ok = node(env, w, "net/tun", &st, path, sizeof(path));
	if (ok > 0) {
		host_report(r, HOST_OK, "user %s: may open %s (network devices; the tap itself must be %s's: ip tuntap add dev tap0 mode tap user %s)",
			    w->name, path, w->name, w->name);
	} else if (ok == 0) {
		host_report(r, HOST_WARN, "user %s: cannot open %s (mode %04o): no network devices",
			    w->name, path, (unsigned int)(st.st_mode & 07777));
		host_fix(r, "chmod 0666 %s (the kernel's default), and give %s a tap: ip tuntap add dev tap0 mode tap user %s",
			 path, w->name, w->name);
	}
	ok = node(env, w, "vhost-net", &st, path, sizeof(path));
	if (ok > 0) {
		host_report(r, HOST_OK, "user %s: may open %s", w->name, path);
	} else if (ok == 0) {
		group_name(st.st_gid, grp, sizeof(grp));
		host_report(r, HOST_WARN, "user %s: cannot open %s (mode %04o, group %s): network devices without vhost-net",
			    w->name, path, (unsigned int)(st.st_mode & 07777), grp);
		host_fix(r, "echo 'KERNEL==\"vhost-net\", GROUP=\"kvm\", MODE=\"0660\"' > /etc/udev/rules.d/90-minivmm-vhost.rules && udevadm control --reload && udevadm trigger --name-match=vhost-net; usermod -aG kvm %s",
			 w->name);
	}
}

void host_check_user(const struct host_env *env, const struct host_check_opts *o,
		     struct host_report *r)
{
	struct who w;

	if (!o->user && geteuid() == 0) {
		host_note(r, "running as root: 'minivmm --user NAME' drops to NAME once the VM is set up (NAME needs nothing of the above); 'minivmm check --user NAME' tells what NAME needs to run minivmm without root");
		return;
	}
	if (who_resolve(o->user, &w)) {
		host_report(r, HOST_FAIL, "user %s: no such user", o->user ? o->user : "(this uid)");
		host_fix(r, "give a name 'getent passwd' lists");
		return;
	}
	if (w.uid == 0)
		return;
	host_note(r, "what user %s needs to run minivmm without root (started by root with --user %s instead, minivmm opens all of this before it drops to %s):",
		  w.name, w.name, w.name);
	check_kvm_node(env, &w, r);
	check_vfio_nodes(env, o, &w, r);
	if (o->user)
		check_memlock_of(o, &w, r);
	check_net_nodes(env, &w, r);
}
