// SPDX-License-Identifier: MIT
/*
 * `minivmm bind` / `minivmm unbind`: move every function of a device's
 * IOMMU group to vfio-pci and back.
 *
 * Binding goes through driver_override, not new_id: new_id would make
 * vfio-pci grab every device with the same vendor:device ID (the host's
 * second identical NIC or GPU). Per function:
 *   echo vfio-pci > .../devices/BDF/driver_override
 *   echo BDF > .../drivers/OLD/unbind
 *   echo BDF > /sys/bus/pci/drivers_probe
 * The old driver and override are recorded in a state directory first, so
 * unbind can put each function back where it was; if any step fails, what
 * this run changed is undone, so no group is left half on vfio-pci.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/bind.h"
#include "host/inuse.h"
#include "lib/log.h"
#include "lib/sysfs.h"

extern char **environ;

#define VFIO_DRV "vfio-pci"

/* ---- state records: STATEDIR/BDF holds "driver=X\noverride=Y\n" ------------ */

static int state_file(const struct host_env *env, const char *bdf, char *buf, size_t len)
{
	return host_path(buf, len, "%s/%s", env->statedir, bdf);
}

int host_bind_state_load(const struct host_env *env, const char *bdf, struct host_bind_rec *rec)
{
	char path[HOST_PATH_MAX], line[256];
	FILE *f;
	int ret;

	memset(rec, 0, sizeof(*rec));
	ret = state_file(env, bdf, path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "driver=", 7))
			host_copy(rec->driver, sizeof(rec->driver), line + 7);
		else if (!strncmp(line, "override=", 9))
			host_copy(rec->override, sizeof(rec->override), line + 9);
	}
	fclose(f);
	return 0;
}

static int state_save(const struct host_env *env, const char *bdf, const struct host_bind_rec *rec)
{
	char path[HOST_PATH_MAX], tmp[HOST_PATH_MAX];
	FILE *f;
	int ret;

	ret = host_mkdir_p(env->statedir, 0755, 0700);
	if (!ret)
		ret = state_file(env, bdf, path, sizeof(path));
	if (!ret)
		ret = host_path(tmp, sizeof(tmp), "%s.tmp", path);
	if (ret)
		return ret;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "driver=%s\noverride=%s\n", rec->driver, rec->override);
	if (fflush(f) || fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	/* Written whole or not at all: a crash leaves the old record or none. */
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static void state_drop(const struct host_env *env, const char *bdf)
{
	char path[HOST_PATH_MAX];

	if (!state_file(env, bdf, path, sizeof(path)) && unlink(path) && errno != ENOENT)
		pr_warn("%s: cannot remove %s: %s", bdf, path, strerror(errno));
}

/* Two binds at once would record each other's vfio-pci as "previous". */
static int state_lock(const struct host_env *env)
{
	char path[HOST_PATH_MAX];
	int fd, ret;

	ret = host_mkdir_p(env->statedir, 0755, 0700);
	if (!ret)
		ret = host_path(path, sizeof(path), "%s/.lock", env->statedir);
	if (ret) {
		pr_err("cannot create the state directory %s: %s (run as root, or give --state DIR)",
		       env->statedir, strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		ret = -errno;
		pr_err("cannot lock %s: %s", path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* ---- sysfs steps ------------------------------------------------------------ */

static int current_driver(const struct host_env *env, const char *bdf, char *drv, size_t len)
{
	char path[HOST_PATH_MAX];
	int ret;

	ret = host_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver", env->sysfs, bdf);
	if (ret)
		return ret;
	ret = host_link_name(path, drv, len);
	if (ret == -ENOENT) {
		drv[0] = '\0';
		ret = 0;
	}
	return ret;
}

/* Poll for an asynchronous probe; want "" means no driver. */
static bool wait_driver(const struct host_env *env, const char *bdf, const char *want,
			char *got, size_t len)
{
	for (unsigned waited = 0;; waited += 10) {
		if (!current_driver(env, bdf, got, len) && !strcmp(got, want))
			return true;
		if (waited >= env->settle_ms)
			return false;
		host_sleep_ms(10);
	}
}

static int write_attr(const struct host_env *env, const char *bdf, const char *path,
		      const char *val)
{
	int ret = host_write_str(env, path, val);

	if (ret)
		pr_err("%s: writing '%s' to %s: %s%s", bdf, val[0] == '\n' ? "\\n" : val, path,
		       strerror(-ret), ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	return ret;
}

static int set_override(const struct host_env *env, const char *bdf, const char *drv)
{
	char path[HOST_PATH_MAX];
	int ret;

	ret = host_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", env->sysfs, bdf);
	/* A lone newline clears the override. */
	return ret ? ret : write_attr(env, bdf, path, drv[0] ? drv : "\n");
}

static int unbind_from(const struct host_env *env, const char *bdf, const char *drv)
{
	char path[HOST_PATH_MAX];
	int ret;

	ret = host_path(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", env->sysfs, drv);
	return ret ? ret : write_attr(env, bdf, path, bdf);
}

static int probe(const struct host_env *env, const char *bdf)
{
	char path[HOST_PATH_MAX];
	int ret;

	ret = host_path(path, sizeof(path), "%s/bus/pci/drivers_probe", env->sysfs);
	return ret ? ret : write_attr(env, bdf, path, bdf);
}

/* Back onto drv: a reprobe, which picks it again now the override is gone;
 * else the driver's own bind file. */
static bool return_to(const struct host_env *env, const char *bdf, const char *drv)
{
	char got[HOST_DRV_LEN], path[HOST_PATH_MAX];

	if (!probe(env, bdf) && wait_driver(env, bdf, drv, got, sizeof(got)))
		return true;
	if (!got[0] && !host_path(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", env->sysfs, drv) &&
	    host_exists(path) && !write_attr(env, bdf, path, bdf) &&
	    wait_driver(env, bdf, drv, got, sizeof(got)))
		return true;
	return false;
}

static int ensure_vfio_pci(const struct host_env *env)
{
	char dir[HOST_PATH_MAX], *argv[] = { (char *)"modprobe", (char *)VFIO_DRV, NULL };
	int ret, status;
	pid_t pid;

	ret = host_path(dir, sizeof(dir), "%s/bus/pci/drivers/%s", env->sysfs, VFIO_DRV);
	if (ret)
		return ret;
	if (host_is_dir(dir))
		return 0;
	pr_info("loading vfio-pci: %s %s", env->modprobe, VFIO_DRV);
	ret = posix_spawn(&pid, env->modprobe, NULL, NULL, argv, environ);
	if (ret) {
		pr_err("cannot run %s: %s (install kmod, or load vfio-pci by hand)", env->modprobe,
		       strerror(ret));
		return -ret;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	for (unsigned waited = 0; !host_is_dir(dir) && waited < env->settle_ms; waited += 10)
		host_sleep_ms(10);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !host_is_dir(dir)) {
		pr_err("vfio-pci is not available: %s %s %s, and %s is missing (minivmm check says why)",
		       env->modprobe, VFIO_DRV,
		       WIFEXITED(status) && !WEXITSTATUS(status) ? "succeeded" : "failed", dir);
		return -ENODEV;
	}
	return 0;
}

/* ---- bind ------------------------------------------------------------------- */

struct bind_step {
	struct host_pci_dev dev;
	struct host_bind_rec old;
	bool recorded, override_set, unbound;
};

/* Puts one function back as it was before this run touched it. */
static bool rollback_step(const struct host_env *env, const struct bind_step *s)
{
	char cur[HOST_DRV_LEN] = "";
	bool ok = true;

	/* Before the override, nothing but the record was changed. */
	if (!s->override_set)
		goto drop_record;
	if (set_override(env, s->dev.bdf, s->old.override))
		ok = false;
	if (current_driver(env, s->dev.bdf, cur, sizeof(cur)))
		cur[0] = '\0';
	if (!strcmp(cur, VFIO_DRV)) {
		if (unbind_from(env, s->dev.bdf, VFIO_DRV))
			ok = false;
		else
			cur[0] = '\0';
	}
	if (s->old.driver[0] && strcmp(cur, s->old.driver) &&
	    !return_to(env, s->dev.bdf, s->old.driver)) {
		pr_err("%s: could not give it back to %s (try: echo %s > %s/bus/pci/drivers/%s/bind)",
		       s->dev.bdf, s->old.driver, s->dev.bdf, env->sysfs, s->old.driver);
		ok = false;
	}
drop_record:
	/* A failed rollback keeps the record: unbind can finish the job. */
	if (s->recorded && ok)
		state_drop(env, s->dev.bdf);
	return ok;
}

static int bind_step(const struct host_env *env, struct bind_step *s)
{
	char got[HOST_DRV_LEN], path[HOST_PATH_MAX], bdf[HOST_BDF_LEN];
	struct host_bind_rec existing;
	int ret;

	/* Read again under the lock: what was seen before may have changed. */
	host_copy(bdf, sizeof(bdf), s->dev.bdf);
	ret = host_pci_read(env, bdf, &s->dev);
	if (ret) {
		pr_err("%s: cannot read it: %s", bdf, strerror(-ret));
		return ret;
	}
	host_copy(s->old.driver, sizeof(s->old.driver), s->dev.driver);
	host_copy(s->old.override, sizeof(s->old.override), s->dev.override);
	/* Whoever put it there (vfio-pci.ids, an earlier run) keeps it there. */
	if (!strcmp(s->dev.driver, VFIO_DRV)) {
		fprintf(env->out, "%s: already on vfio-pci\n", s->dev.bdf);
		return 0;
	}
	/* A record from an earlier bind keeps the original driver. */
	if (host_bind_state_load(env, s->dev.bdf, &existing)) {
		ret = state_save(env, s->dev.bdf, &s->old);
		if (ret) {
			state_file(env, s->dev.bdf, path, sizeof(path));
			pr_err("%s: cannot record its driver in %s: %s", s->dev.bdf, path, strerror(-ret));
			return ret;
		}
		s->recorded = true;
	}
	ret = set_override(env, s->dev.bdf, VFIO_DRV);
	if (ret)
		return ret;
	s->override_set = true;
	if (s->dev.driver[0]) {
		ret = unbind_from(env, s->dev.bdf, s->dev.driver);
		if (ret)
			return ret;
		s->unbound = true;
	}
	ret = probe(env, s->dev.bdf);
	if (ret)
		return ret;
	if (!wait_driver(env, s->dev.bdf, VFIO_DRV, got, sizeof(got))) {
		pr_err("%s: vfio-pci did not take it (driver now: %s; see dmesg)", s->dev.bdf,
		       got[0] ? got : "none");
		return -EIO;
	}
	fprintf(env->out, "%s: %s -> vfio-pci\n", s->dev.bdf,
		s->dev.driver[0] ? s->dev.driver : "no driver");
	return 0;
}

/* Adds the groups of the devices arg names; refuses bridges. */
static int collect_groups(const struct host_env *env, const char *arg, int *groups,
			  size_t *ngroups, size_t max, const char *cmd)
{
	char (*bdfs)[HOST_BDF_LEN];
	struct host_pci_dev dev;
	size_t n;
	int ret;

	ret = host_bdf_expand(env, arg, &bdfs, &n);
	if (ret) {
		pr_err("%s %s: %s (write 65:00.0, 0000:65:00.0 or 65:00; minivmm groups lists devices)",
		       cmd, arg, ret == -EINVAL ? "not a PCI address" : "no such PCI device");
		return ret;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		ret = host_pci_read(env, bdfs[i], &dev);
		if (ret) {
			pr_err("%s: cannot read it: %s", bdfs[i], strerror(-ret));
			break;
		}
		if (dev.bridge && !strcmp(cmd, "bind")) {
			/* --force cannot help: vfio-pci's probe rejects bridges. */
			pr_err("%s: refusing: it is a PCI bridge; vfio-pci takes only endpoints (name the devices behind it)",
			       dev.bdf);
			ret = -EINVAL;
			break;
		}
		if (dev.group < 0) {
			pr_err("%s: in no IOMMU group: the IOMMU is off (minivmm check says how to turn it on)",
			       dev.bdf);
			ret = -ENODEV;
			break;
		}
		bool seen = false;

		for (size_t g = 0; g < *ngroups; g++)
			seen |= groups[g] == dev.group;
		if (!seen && *ngroups < max)
			groups[(*ngroups)++] = dev.group;
	}
	free(bdfs);
	return ret;
}

int host_bind(const struct host_env *env, const char *const *args, size_t nargs, bool force)
{
	struct bind_step *steps = NULL, *grown;
	size_t nsteps = 0, ngroups = 0, done = 0;
	char why[512], node[HOST_PATH_MAX];
	int *groups, lock, ret = 0;
	unsigned refused = 0;

	groups = calloc(nargs * 8 + 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (size_t i = 0; i < nargs && !ret; i++)
		ret = collect_groups(env, args[i], groups, &ngroups, nargs * 8, "bind");
	if (ret)
		goto free_groups;

	/* Every endpoint of each group: vfio needs the whole group. */
	for (size_t g = 0; g < ngroups; g++) {
		struct host_pci_dev *m;
		size_t n;

		ret = host_group_members(env, groups[g], &m, &n);
		if (ret) {
			pr_err("IOMMU group %d: %s", groups[g], strerror(-ret));
			goto free_steps;
		}
		grown = realloc(steps, (nsteps + n + 1) * sizeof(*steps));
		if (!grown) {
			free(m);
			ret = -ENOMEM;
			goto free_steps;
		}
		steps = grown;
		for (size_t i = 0; i < n; i++) {
			if (m[i].bridge)
				continue;	/* vfio lets bridges keep pcieport */
			if (strcmp(m[i].driver, VFIO_DRV) && host_pci_in_use(env, &m[i], why, sizeof(why))) {
				if (force) {
					pr_warn("%s: %s; taking it anyway (--force)", m[i].bdf, why);
				} else {
					pr_err("%s (IOMMU group %d): refusing: %s (use --force to take it anyway)",
					       m[i].bdf, groups[g], why);
					refused++;
				}
			}
			memset(&steps[nsteps], 0, sizeof(*steps));
			steps[nsteps++].dev = m[i];
		}
		free(m);
	}
	if (refused) {
		ret = -EBUSY;
		goto free_steps;
	}

	lock = state_lock(env);
	if (lock < 0) {
		ret = lock;
		goto free_steps;
	}
	ret = ensure_vfio_pci(env);
	if (ret)
		goto unlock;
	for (done = 0; done < nsteps; done++) {
		ret = bind_step(env, &steps[done]);
		if (ret)
			break;
	}
	if (ret) {
		bool clean = true;

		/* The failed function too: it may be half done. */
		for (size_t i = done + 1; i-- > 0;)
			clean &= rollback_step(env, &steps[i]);
		pr_err("bind failed; %s", clean ? "rolled back: every device is on its old driver again" :
			"rollback incomplete: see the errors above");
		goto unlock;
	}
	for (size_t g = 0; g < ngroups; g++) {
		if (!host_path(node, sizeof(node), "%s/vfio/%d", env->devfs, groups[g]) &&
		    host_exists(node))
			fprintf(env->out, "IOMMU group %d: ready, %s\n", groups[g], node);
		else
			fprintf(env->out, "IOMMU group %d: on vfio-pci, but %s/vfio/%d is missing (modprobe vfio_iommu_type1)\n",
				groups[g], env->devfs, groups[g]);
	}
unlock:
	close(lock);
free_steps:
	free(steps);
free_groups:
	free(groups);
	return ret;
}

/* ---- unbind ----------------------------------------------------------------- */

static int restore(const struct host_env *env, const struct host_pci_dev *dev,
		   const struct host_bind_rec *rec)
{
	char cur[HOST_DRV_LEN] = "", got[HOST_DRV_LEN] = "";
	int ret;

	ret = set_override(env, dev->bdf, rec ? rec->override : "");
	if (ret)
		return ret;
	if (!current_driver(env, dev->bdf, cur, sizeof(cur)) && cur[0] && strcmp(cur, VFIO_DRV)) {
		/* Someone moved it since: that driver stays. */
		fprintf(env->out, "%s: on %s, not vfio-pci: left there\n", dev->bdf, cur);
		if (rec)
			state_drop(env, dev->bdf);
		return 0;
	}
	if (!strcmp(cur, VFIO_DRV)) {
		ret = unbind_from(env, dev->bdf, VFIO_DRV);
		if (ret)
			return ret;
	}
	if (rec && !rec->driver[0]) {
		/* It had no driver: a reprobe could hand it to one now. */
		fprintf(env->out, "%s: vfio-pci -> no driver (as before bind)\n", dev->bdf);
	} else if (rec) {
		if (!return_to(env, dev->bdf, rec->driver)) {
			pr_err("%s: could not give it back to %s (try: echo %s > %s/bus/pci/drivers/%s/bind)",
			       dev->bdf, rec->driver, dev->bdf, env->sysfs, rec->driver);
			return -EIO;
		}
		fprintf(env->out, "%s: vfio-pci -> %s\n", dev->bdf, rec->driver);
	} else {
		ret = probe(env, dev->bdf);
		if (ret)
			return ret;
		for (unsigned waited = 0;; waited += 10) {
			if (current_driver(env, dev->bdf, got, sizeof(got)) || got[0] ||
			    waited >= env->settle_ms)
				break;
			host_sleep_ms(10);
		}
		fprintf(env->out, "%s: vfio-pci -> %s (no record of its old driver: the kernel chose)\n",
			dev->bdf, got[0] ? got : "no driver");
	}
	if (rec)
		state_drop(env, dev->bdf);
	return 0;
}

int host_unbind(const struct host_env *env, const char *const *args, size_t nargs)
{
	size_t ngroups = 0, n;
	struct host_bind_rec rec;
	struct host_pci_dev *m;
	int *groups, lock, ret = 0, err = 0;

	groups = calloc(nargs * 8 + 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (size_t i = 0; i < nargs && !ret; i++)
		ret = collect_groups(env, args[i], groups, &ngroups, nargs * 8, "unbind");
	if (ret)
		goto free_groups;
	lock = state_lock(env);
	if (lock < 0) {
		ret = lock;
		goto free_groups;
	}
	for (size_t g = 0; g < ngroups; g++) {
		ret = host_group_members(env, groups[g], &m, &n);
		if (ret) {
			pr_err("IOMMU group %d: %s", groups[g], strerror(-ret));
			err = ret;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			bool have = !host_bind_state_load(env, m[i].bdf, &rec);

			if (!have && strcmp(m[i].driver, VFIO_DRV))
				continue;	/* bind never touched it */
			if (!have)
				pr_warn("%s: on vfio-pci with no record in %s", m[i].bdf, env->statedir);
			/* One failure does not stop the others: each goes back if it can. */
			ret = restore(env, &m[i], have ? &rec : NULL);
			if (ret)
				err = ret;
		}
		free(m);
	}
	ret = err;
	close(lock);
free_groups:
	free(groups);
	return ret;
}

/* ---- CLI -------------------------------------------------------------------- */

static int bind_cli(int argc, char **argv, bool is_bind)
{
	static const struct option longopts[] = {
		HOST_ENV_LONGOPTS,
		{ "state", 1, NULL, HOST_OPT_STATE },
		{ "force", 0, NULL, HOST_OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = is_bind ? "bind" : "unbind";
	struct host_env env;
	bool force = false;
	int opt, ret;

	host_env_init(&env);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (host_env_option(&env, opt, optarg))
			continue;
		if (opt == HOST_OPT_STATE) {
			env.statedir = optarg;
		} else if (opt == HOST_OPT_FORCE && is_bind) {
			force = true;
		} else {
			fprintf(opt == HOST_OPT_HELP ? stdout : stderr,
				"usage: minivmm %s %sBDF... [--state DIR] [--sysfs DIR] [--procfs DIR] [--devfs DIR]\n"
				"  BDF: 65:00.0, 0000:65:00.0, or 65:00 for every function of the slot;\n"
				"  every other function of its IOMMU group goes along\n",
				cmd, is_bind ? "[--force] " : "");
			return opt == HOST_OPT_HELP ? HOST_EXIT_OK : HOST_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pr_err("%s: name at least one device (minivmm groups lists them)", cmd);
		return HOST_EXIT_USAGE;
	}
	ret = is_bind ? host_bind(&env, (const char *const *)argv + optind, (size_t)(argc - optind), force)
		      : host_unbind(&env, (const char *const *)argv + optind, (size_t)(argc - optind));
	return ret ? HOST_EXIT_FAIL : HOST_EXIT_OK;
}

int host_bind_main(int argc, char **argv)
{
	return bind_cli(argc, argv, true);
}

int host_unbind_main(int argc, char **argv)
{
	return bind_cli(argc, argv, false);
}
