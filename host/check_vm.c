// SPDX-License-Identifier: MIT
/*
 * `minivmm check`, VM half: the named devices and their IOMMU groups,
 * hugepages for the guest RAM, RLIMIT_MEMLOCK and the OVMF files.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/check.h"
#include "lib/host_pci.h"
#include "lib/sysfs.h"

/* "8 GiB", "512 MiB": sizes in the report read like sizes. */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (u < 4 && bytes >= 1024 && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, unit[u]);
	return buf;
}

static bool has_reset(const struct host_env *env, const char *bdf)
{
	char path[HOST_PATH_MAX];

	/* The kernel creates reset (and reset_method, 5.15+) only when it
	 * knows a way to reset the function. */
	return (!host_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset", env->sysfs, bdf) &&
		host_exists(path)) ||
	       (!host_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset_method", env->sysfs, bdf) &&
		host_exists(path));
}

static void note_members(struct host_report *r, int group, const struct host_pci_dev *m,
			 size_t n)
{
	char cls[128];

	for (size_t i = 0; i < n; i++)
		host_note(r, "group %d: %s %s [%04x:%04x] driver %s%s", group, m[i].bdf,
			  host_pci_class_name(&m[i], cls, sizeof(cls)), m[i].vendor, m[i].device,
			  m[i].driver[0] ? m[i].driver : "none",
			  m[i].bridge ? " (bridge: may keep its driver)" :
			  !host_pci_vfio_ok(&m[i]) ? "  <- a host driver holds it: the group is not viable" : "");
}

/* /dev/vfio/N must exist and be ours to open. */
static bool check_group_node(const struct host_env *env, int group, struct host_report *r,
			     const struct host_pci_dev *dev, const char *desc)
{
	char path[HOST_PATH_MAX];

	if (host_path(path, sizeof(path), "%s/vfio/%d", env->devfs, group))
		return false;
	if (!host_exists(path)) {
		host_report(r, HOST_FAIL, "%s %s: vfio-pci, but %s is missing", dev->bdf, desc, path);
		host_fix(r, "modprobe vfio_iommu_type1, then: minivmm unbind %s && minivmm bind %s",
			 dev->bdf, dev->bdf);
		return false;
	}
	if (access(path, R_OK | W_OK)) {
		host_report(r, HOST_FAIL, "%s %s: %s: %s", dev->bdf, desc, path, strerror(errno));
		host_fix(r, "run minivmm as root, or: chown $USER %s (for good, a udev rule: SUBSYSTEM==\"vfio\", OWNER=\"$USER\")",
			 path);
		return false;
	}
	return true;
}

/*
 * One function. not_display: warn that a --gpu is no display controller.
 * members: list the group (once per group for a slot's functions).
 */
static void check_one(const struct host_env *env, const char *bdf, bool not_display,
		      bool members_shown, struct host_report *r)
{
	struct host_pci_dev dev, *members = NULL;
	bool viable = true;
	char desc[384];
	size_t n = 0;
	int ret;

	ret = host_pci_read(env, bdf, &dev);
	if (ret) {
		host_report(r, HOST_FAIL, "%s: cannot read its sysfs attributes: %s", bdf, strerror(-ret));
		host_fix(r, "check %s/bus/pci/devices/%s (run as root if access is denied)", env->sysfs, bdf);
		return;
	}
	host_pci_describe(&dev, desc, sizeof(desc));
	if (dev.bridge) {
		host_report(r, HOST_FAIL, "%s %s: a PCI bridge cannot be passed through", bdf, desc);
		host_fix(r, "name the device behind it instead (minivmm groups lists them)");
		return;
	}
	if (dev.group < 0) {
		host_report(r, HOST_FAIL, "%s %s: in no IOMMU group", bdf, desc);
		host_fix(r, "turn the IOMMU on: see the IOMMU line above");
		return;
	}
	ret = host_group_members(env, dev.group, &members, &n);
	if (ret) {
		host_report(r, HOST_FAIL, "%s %s: cannot list IOMMU group %d: %s", bdf, desc, dev.group,
			    strerror(-ret));
		host_fix(r, "check %s/kernel/iommu_groups/%d/devices", env->sysfs, dev.group);
		return;
	}
	for (size_t i = 0; i < n; i++)
		viable &= host_pci_vfio_ok(&members[i]);

	if (!viable || strcmp(dev.driver, "vfio-pci")) {
		host_report(r, HOST_FAIL, "%s %s: driver %s, IOMMU group %d %s", bdf, desc,
			    dev.driver[0] ? dev.driver : "none", dev.group,
			    viable ? "viable, but the device is not on vfio-pci" : "not viable for VFIO");
		host_fix(r, "minivmm bind %s   (moves every function of group %d to vfio-pci)",
			 bdf, dev.group);
		if (!members_shown)
			note_members(r, dev.group, members, n);
	} else if (check_group_node(env, dev.group, r, &dev, desc)) {
		host_report(r, HOST_OK, "%s %s: vfio-pci, IOMMU group %d viable, %s/vfio/%d", bdf,
			    desc, dev.group, env->devfs, dev.group);
		if (n > 1 && !members_shown)
			note_members(r, dev.group, members, n);
	}

	if (not_display)
		host_report(r, HOST_WARN, "%s: named with --gpu but its class %04x is not a display controller",
			    bdf, dev.class >> 8);
	if (dev.boot_vga) {
		host_report(r, HOST_WARN, "%s: is the boot display (boot_vga=1): the host's console and framebuffer sit on it",
			    bdf);
		host_note(r, "pass a secondary GPU if you can; else add video=efifb:off (or initcall_blacklist=sysfb_init) to the kernel command line");
	}
	if (!has_reset(env, bdf))
		host_report(r, HOST_WARN, "%s: the kernel knows no reset method for it: state survives guest reboots and some GPUs hang on the second start",
			    bdf);
	free(members);
}

void host_check_device(const struct host_env *env, const char *arg, bool gpu,
		       struct host_report *r)
{
	char (*bdfs)[HOST_BDF_LEN];
	size_t n;
	int ret;

	ret = host_bdf_expand(env, arg, &bdfs, &n);
	if (ret == -EINVAL) {
		host_report(r, HOST_FAIL, "%s: not a PCI address", arg);
		host_fix(r, "write it as 65:00.0, 0000:65:00.0, or 65:00 for every function of the slot");
		return;
	}
	if (ret) {
		host_report(r, HOST_FAIL, "%s: no such PCI device in %s/bus/pci/devices", arg, env->sysfs);
		host_fix(r, "list the devices with: minivmm groups (or lspci -D)");
		return;
	}
	/* A GPU's slot also holds its audio (and USB-C) functions: the class
	 * warning is for a --gpu without any display controller. */
	bool display = false;
	int shown[8];
	size_t nshown = 0;

	for (size_t i = 0; gpu && i < n; i++) {
		struct host_pci_dev dev;

		display |= !host_pci_read(env, bdfs[i], &dev) && (dev.class >> 16) == 0x03;
	}
	for (size_t i = 0; i < n; i++) {
		struct host_pci_dev dev;
		int group = host_pci_read(env, bdfs[i], &dev) ? -1 : dev.group;
		bool seen = false;

		for (size_t k = 0; k < nshown; k++)
			seen |= shown[k] == group;
		check_one(env, bdfs[i], gpu && !display && i == 0, seen, r);
		if (!seen && group >= 0 && nshown < sizeof(shown) / sizeof(shown[0]))
			shown[nshown++] = group;
	}
	free(bdfs);
}

/* ---- hugepages ------------------------------------------------------------ */

struct hp_pool {
	unsigned long kb, total, free;
};

static int hp_read(const struct host_env *env, unsigned long kb, struct hp_pool *p)
{
	char path[HOST_PATH_MAX];
	unsigned long resv;
	int ret;

	p->kb = kb;
	ret = host_path(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages",
			env->sysfs, kb);
	if (!ret)
		ret = host_read_ulong(path, &p->total, 10);
	if (!ret)
		ret = host_path(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%lukB/free_hugepages",
				env->sysfs, kb);
	if (!ret)
		ret = host_read_ulong(path, &p->free, 10);
	/* Reserved pages are promised to mappings already: free, but taken. */
	if (!ret && !host_path(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%lukB/resv_hugepages",
			       env->sysfs, kb) &&
	    !host_read_ulong(path, &resv, 10))
		p->free = resv < p->free ? p->free - resv : 0;
	return ret;
}

void host_check_hugepages(const struct host_env *env, uint64_t memory, uint64_t hugepage,
			  struct host_report *r)
{
	char path[HOST_PATH_MAX], summary[512] = "", size[32], item[96];
	unsigned long want_kb = (unsigned long)(hugepage >> 10), kb;
	struct hp_pool pool, want = { 0 };
	bool found = false;
	char **names;
	size_t n = 0;

	if (!host_path(path, sizeof(path), "%s/kernel/mm/hugepages", env->sysfs) &&
	    host_list_dir(path, &names, &n))
		n = 0, names = NULL;
	for (size_t i = 0; i < n; i++) {
		if (sscanf(names[i], "hugepages-%lukB", &kb) != 1 || hp_read(env, kb, &pool))
			continue;
		snprintf(item, sizeof(item), "%s%s: %lu free of %lu", summary[0] ? ", " : "",
			 human((uint64_t)kb << 10, size, sizeof(size)), pool.free, pool.total);
		if (strlen(summary) + strlen(item) < sizeof(summary))
			strcat(summary, item);
		if (kb == want_kb) {
			want = pool;
			found = true;
		}
	}
	host_free_list(names, n);
	if (!summary[0])
		strcpy(summary, "none configured");

	if (!hugepage) {
		host_report(r, HOST_OK, "hugepages: %s (not used: no --hugepages)", summary);
		return;
	}
	human(hugepage, size, sizeof(size));
	if (!found) {
		host_report(r, HOST_FAIL, "hugepages: no %s pool (%s/kernel/mm/hugepages/hugepages-%lukB)",
			    size, env->sysfs, want_kb);
		host_fix(r, "this CPU or kernel has no %s pages%s: use --hugepages 2M", size,
			 want_kb == (1UL << 20) ? " (CPU flag pdpe1gb)" : "");
		return;
	}
	if (!memory) {
		host_report(r, HOST_WARN, "hugepages: %s (--hugepages %s without --memory: nothing to compare)",
			    summary, size);
		return;
	}

	uint64_t need = (memory + hugepage - 1) / hugepage;
	char mem[32];

	human(memory, mem, sizeof(mem));
	if (want.free >= need) {
		host_report(r, HOST_OK, "hugepages: %s: %lu free, the VM needs %" PRIu64 " for %s",
			    size, want.free, need, mem);
		return;
	}
	/* The pool grows by what is missing; pages in use elsewhere stay counted. */
	uint64_t target = want.total + (need - want.free);

	host_report(r, HOST_FAIL, "hugepages: %s: %lu free of %lu, the VM needs %" PRIu64 " for %s",
		    size, want.free, want.total, need, mem);
	if (want_kb == (1UL << 20)) {
		/* 1G pages need 1 GiB of contiguous memory each: only reliable at boot. */
		host_fix(r, "add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: default_hugepagesz=1G hugepagesz=1G hugepages=%" PRIu64,
			 target);
		host_fix(r, "then run: update-grub && reboot  (at run time, echo %" PRIu64 " > %s/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages works only while memory is unfragmented)",
			 target, env->sysfs, want_kb);
	} else {
		host_fix(r, "echo %" PRIu64 " > %s/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages", target,
			 env->sysfs, want_kb);
		host_fix(r, "at every boot: add hugepagesz=2M hugepages=%" PRIu64 " to GRUB_CMDLINE_LINUX_DEFAULT, then update-grub",
			 target);
	}
}

/* ---- memlock ---------------------------------------------------------------- */

void host_check_memlock(const struct host_env *env, uint64_t memory, struct host_report *r)
{
	uint64_t need = memory ? memory + HOST_MEMLOCK_MARGIN : 0;
	char cur[32], hard[32], needs[32], mem[32];
	const char *user = getenv("SUDO_USER");
	struct passwd *pw;
	struct rlimit rl;

	if (host_memlock_limits(env, &rl)) {
		host_report(r, HOST_WARN, "memlock: cannot read RLIMIT_MEMLOCK");
		return;
	}
	if (rl.rlim_cur == RLIM_INFINITY) {
		host_report(r, HOST_OK, "memlock: unlimited");
		return;
	}
	human(rl.rlim_cur, cur, sizeof(cur));
	if (host_has_cap_ipc_lock(env)) {
		host_report(r, HOST_OK, "memlock: %s, but this process has CAP_IPC_LOCK (root), which VFIO's limit does not apply to",
			    cur);
		return;
	}
	if (!need) {
		host_report(r, HOST_OK, "memlock: %s (give --memory to compare it with the guest RAM VFIO pins)", cur);
		return;
	}
	human(memory, mem, sizeof(mem));
	human(need, needs, sizeof(needs));
	if (rl.rlim_cur >= need) {
		host_report(r, HOST_OK, "memlock: %s, enough for %s of guest RAM + 1 GiB", cur, mem);
		return;
	}
	if (!user && (pw = getpwuid(getuid())))
		user = pw->pw_name;
	if (!user)
		user = "USER";
	host_report(r, HOST_FAIL, "memlock: RLIMIT_MEMLOCK is %s; VFIO pins all guest RAM: %s needed (%s + 1 GiB)",
		    cur, needs, mem);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		human(rl.rlim_max, hard, sizeof(hard));
		host_fix(r, "in the shell that starts minivmm, as root (the hard limit is %s): ulimit -l %" PRIu64,
			 hard, need >> 10);
	} else {
		host_fix(r, "in the shell that starts minivmm: ulimit -l %" PRIu64, need >> 10);
	}
	host_fix(r, "for good, in /etc/security/limits.conf: %s soft memlock %" PRIu64 " and %s hard memlock %" PRIu64
		 " (or unlimited; systemd services: LimitMEMLOCK=)", user, need >> 10, user, need >> 10);
}

/* ---- OVMF ------------------------------------------------------------------- */

void host_check_ovmf(const struct host_env *env, const char *file, struct host_report *r)
{
	char single[HOST_PATH_MAX], code[HOST_PATH_MAX], vars[HOST_PATH_MAX];
	bool have_single, have_code, have_vars;

	if (file) {
		if (access(file, R_OK)) {
			host_report(r, HOST_FAIL, "OVMF: %s: %s", file, strerror(errno));
			host_fix(r, "apt-get install ovmf, or give --ovmf an existing file");
		} else {
			host_report(r, HOST_OK, "OVMF: %s", file);
		}
		return;
	}
	if (host_path(single, sizeof(single), "%s/ovmf/OVMF.fd", env->datadir) ||
	    host_path(code, sizeof(code), "%s/OVMF/OVMF_CODE_4M.fd", env->datadir) ||
	    host_path(vars, sizeof(vars), "%s/OVMF/OVMF_VARS_4M.fd", env->datadir))
		return;
	have_single = !access(single, R_OK);
	have_code = !access(code, R_OK);
	have_vars = !access(vars, R_OK);
	if (have_single || (have_code && have_vars)) {
		if (have_single && have_code && have_vars)
			host_report(r, HOST_OK, "OVMF: %s; %s + %s", single, code, vars);
		else if (have_single)
			host_report(r, HOST_OK, "OVMF: %s", single);
		else
			host_report(r, HOST_OK, "OVMF: %s + %s", code, vars);
		if (have_code != have_vars)
			host_report(r, HOST_WARN, "OVMF: %s without %s", have_code ? code : vars,
				    have_code ? vars : code);
		return;
	}
	host_report(r, HOST_FAIL, "OVMF: not found (%s, or %s + %s)", single, code, vars);
	host_fix(r, "apt-get install ovmf (or give --ovmf FILE)");
}
