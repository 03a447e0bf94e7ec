// SPDX-License-Identifier: MIT
/* See fakesys.h. Test code: failures to build the tree abort the test. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/fakesys/fakesys.h"

static void fs_die(const char *what, const char *path)
{
	fprintf(stderr, "fakesys: %s %s: %s\n", what, path, strerror(errno));
	abort();
}

/* Bounded copy; snprintf("%s") draws -Wformat-truncation at -O3. */
static void fs_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void abs_path(struct fakesys *fs, const char *rel, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", fs->root, rel) >= len)
		abort();
}

static void mkdirs(const char *path)
{
	char tmp[1024];

	if (strlen(path) >= sizeof(tmp))
		abort();
	fs_copy(tmp, sizeof(tmp), path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			fs_die("mkdir", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		fs_die("mkdir", tmp);
}

static void parent_dirs(const char *path)
{
	char tmp[1024], *slash;

	fs_copy(tmp, sizeof(tmp), path);
	slash = strrchr(tmp, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(tmp);
	}
}

void fs_mkdir(struct fakesys *fs, const char *rel)
{
	char path[1024];

	abs_path(fs, rel, path, sizeof(path));
	mkdirs(path);
}

void fs_write_bin(struct fakesys *fs, const char *rel, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	abs_path(fs, rel, path, sizeof(path));
	parent_dirs(path);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len)
		fs_die("write", path);
	fclose(f);
}

void fs_write(struct fakesys *fs, const char *rel, const char *content)
{
	char path[1024];
	FILE *f;

	abs_path(fs, rel, path, sizeof(path));
	parent_dirs(path);
	f = fopen(path, "w");
	if (!f)
		fs_die("create", path);
	fputs(content, f);
	fclose(f);
}

void fs_symlink(struct fakesys *fs, const char *target, const char *rel)
{
	char path[1024];

	abs_path(fs, rel, path, sizeof(path));
	parent_dirs(path);
	unlink(path);
	if (symlink(target, path))
		fs_die("symlink", path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void fs_remove(struct fakesys *fs, const char *rel)
{
	char path[1024];
	struct stat st;

	abs_path(fs, rel, path, sizeof(path));
	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode))
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		unlink(path);
}

bool fs_exists(struct fakesys *fs, const char *rel)
{
	char path[1024];
	struct stat st;

	abs_path(fs, rel, path, sizeof(path));
	return lstat(path, &st) == 0;
}

const char *fs_read(struct fakesys *fs, const char *rel, char *buf, size_t len)
{
	char path[1024];
	size_t n = 0;
	FILE *f;

	abs_path(fs, rel, path, sizeof(path));
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

const char *fs_driver(struct fakesys *fs, const char *bdf, char *buf, size_t len)
{
	char path[1024], target[1024];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", fs->sys, bdf);
	buf[0] = '\0';
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return buf;
	target[n] = '\0';
	base = strrchr(target, '/');
	fs_copy(buf, len, base ? base + 1 : target);
	return buf;
}

void fs_driver_add(struct fakesys *fs, const char *name)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/bind", name);
	fs_write(fs, rel, "");
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/unbind", name);
	fs_write(fs, rel, "");
}

static void link_driver(struct fakesys *fs, const char *bdf, const char *driver)
{
	char rel[600], target[512], path[1024];
	const char *group;
	ssize_t n;

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", bdf);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	fs_symlink(fs, target, rel);
	/* vfio creates the group's node when a vfio driver takes a member. */
	if (strcmp(driver, "vfio-pci"))
		return;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/iommu_group", bdf);
	abs_path(fs, rel, path, sizeof(path));
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	group = strrchr(target, '/');
	snprintf(rel, sizeof(rel), "dev/vfio/%s", group ? group + 1 : target);
	if (!fs_exists(fs, rel))
		fs_write(fs, rel, "");
}

struct fs_dev *fs_dev(struct fakesys *fs, const char *bdf)
{
	for (size_t i = 0; i < fs->ndevs; i++)
		if (!strcmp(fs->devs[i].bdf, bdf))
			return &fs->devs[i];
	return NULL;
}

void fs_pci_add(struct fakesys *fs, const char *bdf, unsigned vendor, unsigned device,
		unsigned class, int group, const char *driver)
{
	char rel[512], target[512], val[32], dir[300];
	struct fs_dev *d;

	snprintf(dir, sizeof(dir), "sys/devices/pci0000:00/%s", bdf);
	snprintf(rel, sizeof(rel), "%s/vendor", dir);
	snprintf(val, sizeof(val), "0x%04x\n", vendor);
	fs_write(fs, rel, val);
	snprintf(rel, sizeof(rel), "%s/device", dir);
	snprintf(val, sizeof(val), "0x%04x\n", device);
	fs_write(fs, rel, val);
	snprintf(rel, sizeof(rel), "%s/class", dir);
	snprintf(val, sizeof(val), "0x%06x\n", class);
	fs_write(fs, rel, val);
	snprintf(rel, sizeof(rel), "%s/revision", dir);
	fs_write(fs, rel, "0x01\n");
	snprintf(rel, sizeof(rel), "%s/driver_override", dir);
	fs_write(fs, rel, "(null)\n");
	snprintf(rel, sizeof(rel), "%s/reset", dir);
	fs_write(fs, rel, "");
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	fs_symlink(fs, target, rel);
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "%s/iommu_group", dir);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		fs_symlink(fs, target, rel);
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
		snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
		fs_symlink(fs, target, rel);
	}
	if (driver) {
		fs_driver_add(fs, driver);
		link_driver(fs, bdf, driver);
	}
	if (fs->ndevs == FS_MAX_DEVS)
		abort();
	d = &fs->devs[fs->ndevs++];
	memset(d, 0, sizeof(*d));
	fs_copy(d->bdf, sizeof(d->bdf), bdf);
	fs_copy(d->natural, sizeof(d->natural), driver ? driver : "");
}

/* ---- the kernel's side of a write ------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool driver_exists(struct fakesys *fs, const char *name)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", name);
	return fs_exists(fs, rel);
}

static int fake_kernel(const struct host_env *env, const char *path, const char *value)
{
	struct fakesys *fs = env->hook_data;
	char rel[256], drv[64], ov[64], bdf[64], file[512];
	size_t rl = strlen(fs->root);
	struct fs_dev *d;

	fs_copy(rel, sizeof(rel), !strncmp(path, fs->root, rl) ? path + rl + 1 : path);
	if (fs->nlog < FS_MAX_LOG) {
		fs_copy(fs->log[fs->nlog].path, sizeof(fs->log[0].path), rel);
		fs_copy(fs->log[fs->nlog].value, sizeof(fs->log[0].value), value);
		fs->nlog++;
	}
	if (fs->fail_suffix && fs->fail_count > 0 && ends_with(rel, fs->fail_suffix)) {
		fs->fail_count--;
		return -fs->fail_errno;
	}
	fs_copy(bdf, sizeof(bdf), value);
	bdf[strcspn(bdf, "\n")] = '\0';

	if (sscanf(rel, "sys/bus/pci/drivers/%63[^/]/unbind", drv) == 1) {
		fs_driver(fs, bdf, ov, sizeof(ov));
		if (strcmp(ov, drv))
			return -ENODEV;
		snprintf(file, sizeof(file), "sys/devices/pci0000:00/%s/driver", bdf);
		fs_remove(fs, file);
		return 0;
	}
	if (sscanf(rel, "sys/bus/pci/drivers/%63[^/]/bind", drv) == 1) {
		fs_driver(fs, bdf, ov, sizeof(ov));
		if (ov[0])
			return -EBUSY;
		d = fs_dev(fs, bdf);
		if (!strcmp(drv, "vfio-pci") && d && d->refuse_vfio)
			return -EINVAL;
		link_driver(fs, bdf, drv);
		return 0;
	}
	if (!strcmp(rel, "sys/bus/pci/drivers_probe")) {
		d = fs_dev(fs, bdf);
		if (!d)
			return -ENODEV;
		fs_driver(fs, bdf, ov, sizeof(ov));
		if (ov[0])
			return 0;	/* already bound: nothing to probe */
		snprintf(file, sizeof(file), "sys/devices/pci0000:00/%s/driver_override", bdf);
		fs_read(fs, file, ov, sizeof(ov));
		if (ov[0] && strcmp(ov, "(null)")) {
			/* An override limits matching to that one driver. */
			if (driver_exists(fs, ov) &&
			    !(!strcmp(ov, "vfio-pci") && d->refuse_vfio))
				link_driver(fs, bdf, ov);
			return 0;
		}
		if (d->natural[0] && driver_exists(fs, d->natural))
			link_driver(fs, bdf, d->natural);
		return 0;
	}
	return 0;
}

/* ---- setup -------------------------------------------------------------------- */

void fs_setup(struct fakesys *fs)
{
	memset(fs, 0, sizeof(*fs));
	snprintf(fs->root, sizeof(fs->root), "/tmp/minivmm-fakesys-XXXXXX");
	if (!mkdtemp(fs->root))
		fs_die("mkdtemp", fs->root);
	snprintf(fs->sys, sizeof(fs->sys), "%s/sys", fs->root);
	snprintf(fs->proc, sizeof(fs->proc), "%s/proc", fs->root);
	snprintf(fs->dev, sizeof(fs->dev), "%s/dev", fs->root);
	snprintf(fs->share, sizeof(fs->share), "%s/share", fs->root);
	snprintf(fs->state, sizeof(fs->state), "%s/state", fs->root);
	fs_mkdir(fs, "sys/bus/pci/devices");
	fs_mkdir(fs, "sys/module");
	fs_mkdir(fs, "proc/self");
	fs_mkdir(fs, "dev");
	fs_mkdir(fs, "share");
	fs_write(fs, "sys/bus/pci/drivers_probe", "");
	fs_write(fs, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n");
	fs_write(fs, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2\n");
	fs_write(fs, "proc/interrupts", "           CPU0\n  0:  10  IO-APIC   2-edge      timer\n");
	fs_write(fs, "proc/self/limits", "Max locked memory         8388608              8388608              bytes\n");
	fs_write(fs, "proc/self/status", "Name:\ttest\nCapEff:\t0000000000000000\n");
	fs_write(fs, "proc/self/mountinfo", "");
	fs_write(fs, "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");

	host_env_init(&fs->env);
	fs->env.sysfs = fs->sys;
	fs->env.procfs = fs->proc;
	fs->env.devfs = fs->dev;
	fs->env.datadir = fs->share;
	fs->env.statedir = fs->state;
	fs->env.settle_ms = 0;		/* the fake kernel answers at once */
	fs->env.modprobe = "/nonexistent/modprobe";
	fs->env.sysfs_written = fake_kernel;
	fs->env.hook_data = fs;
	fs->out = open_memstream(&fs->outbuf, &fs->outlen);
	if (!fs->out)
		abort();
	fs->env.out = fs->out;
	host_report_init(&fs->rep, fs->out);
}

void fs_teardown(struct fakesys *fs)
{
	nftw(fs->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	fclose(fs->out);
	free(fs->outbuf);
	host_names_release();
}

const char *fs_output(struct fakesys *fs)
{
	fflush(fs->out);
	return fs->outbuf ? fs->outbuf : "";
}

void fs_clear_output(struct fakesys *fs)
{
	fclose(fs->out);
	free(fs->outbuf);
	fs->outbuf = NULL;
	fs->outlen = 0;
	fs->out = open_memstream(&fs->outbuf, &fs->outlen);
	if (!fs->out)
		abort();
	fs->env.out = fs->out;
	host_report_init(&fs->rep, fs->out);
}

int fs_test_setup(void **state)
{
	struct fakesys *fs = malloc(sizeof(*fs));

	if (!fs)
		return -1;
	fs_setup(fs);
	*state = fs;
	return 0;
}

int fs_test_teardown(void **state)
{
	struct fakesys *fs = *state;

	fs_teardown(fs);
	free(fs);
	return 0;
}

int fs_log_find(struct fakesys *fs, const char *suffix, const char *value, int from)
{
	for (size_t i = from < 0 ? 0 : (size_t)from; i < fs->nlog; i++)
		if (ends_with(fs->log[i].path, suffix) && (!value || !strcmp(fs->log[i].value, value)))
			return (int)i;
	return -1;
}

void fs_host_ready(struct fakesys *fs)
{
	fs_write(fs, "proc/cpuinfo",
		 "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme pse sse2 vmx ept pdpe1gb\n");
	fs_write(fs, "dev/kvm", "");
	/* ecap 0xf0205a: bit 3 (IR) set, as on real VT-d units */
	fs_write(fs, "sys/class/iommu/dmar0/intel-iommu/ecap", "f0205a\n");
	fs_write(fs, "proc/interrupts",
		 "           CPU0\n  0:  10  IR-IO-APIC   2-edge      timer\n"
		 " 120:  5  IR-PCI-MSIX-0000:02:00.0   0-edge  nvme0q0\n");
	fs_write(fs, "proc/cmdline",
		 "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on iommu=pt\n");
	fs_mkdir(fs, "sys/module/vfio/parameters");
	fs_mkdir(fs, "sys/module/vfio_pci/parameters");
	fs_write(fs, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	fs_write(fs, "proc/modules", "vfio_pci 16384 0 - Live 0x0\n");
	fs_driver_add(fs, "vfio-pci");
	fs_write(fs, "dev/vfio/vfio", "");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4096\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "4096\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "16\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "16\n");
	fs_write(fs, "proc/self/limits",
		 "Max locked memory         unlimited            unlimited            bytes\n");
	fs_write(fs, "share/ovmf/OVMF.fd", "ovmf");
	fs_write(fs, "share/OVMF/OVMF_CODE_4M.fd", "code");
	fs_write(fs, "share/OVMF/OVMF_VARS_4M.fd", "vars");
}

int fs_run_main(int (*fn)(int, char **), char *out, size_t len, int argc, char **argv)
{
	char tmpl[] = "/tmp/minivmm-fakesys-out-XXXXXX";
	int fd, saved_out, saved_err, status;
	ssize_t n;

	fd = mkstemp(tmpl);
	if (fd < 0)
		fs_die("mkstemp", tmpl);
	unlink(tmpl);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	status = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	if (out && len) {
		n = pread(fd, out, len - 1, 0);
		out[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	return status;
}
