// SPDX-License-Identifier: MIT
/*
 * Stock OVMF: the code image and this VM's variable store. See ovmf.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "firmware/ovmf.h"
#include "lib/log.h"
#include "lib/sysfs.h"
#include "lib/memory.h"

const char *ovmf_state_dir(char *buf, size_t len)
{
	const char *env = getenv("MINIVMM_STATE_DIR");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, len, "/var/lib/minivmm");
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		snprintf(buf, len, "%s/minivmm", env);
	else
		snprintf(buf, len, "%s/.local/state/minivmm", getenv("HOME") ? getenv("HOME") : ".");
	return buf;
}

static int copy_file(const char *from, const char *to)
{
	char tmp[4200], buf[16384];
	int in, out, ret = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	/* Write a temporary and rename it, so a crash never leaves a
	 * half-copied store that later runs would take for the real one. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		goto close_in;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			ret = errno ? -errno : -EIO;
			break;
		}
	}
	if (n < 0)
		ret = -errno;
	if (!ret && fsync(out) < 0)
		ret = -errno;
	close(out);
	if (!ret && rename(tmp, to) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
close_in:
	close(in);
	return ret;
}

/* OVMF_CODE_4M.fd -> OVMF_VARS_4M.fd in the same directory, if it exists. */
static bool find_template(const char *code, char *out, size_t len)
{
	const char *base = strrchr(code, '/');
	const char *tag;

	base = base ? base + 1 : code;
	tag = strstr(base, "CODE");
	if (!tag)
		return false;
	snprintf(out, len, "%.*sVARS%s", (int)(tag - code), code, tag + 4);
	return access(out, R_OK) == 0;
}

static bool is_distro_template(const char *path)
{
	char real[4096];

	if (!realpath(path, real))
		return false;
	return !strncmp(real, "/usr/share/", 11) || !strncmp(real, "/usr/lib/", 9);
}

/*
 * The per-VM copy of template from is named OVMF_VARS plus the template's
 * tag: OVMF_VARS_4M.fd -> OVMF_VARS.fd, OVMF_VARS_4M.ms.fd ->
 * OVMF_VARS.ms.fd (everything from the first '.' of its name). A VM run
 * with and without Microsoft's keys thus keeps two stores, and neither
 * run ever boots on the other's.
 */
static void copy_name(const char *from, char *out, size_t len)
{
	const char *base = strrchr(from, '/');
	const char *dot;

	base = base ? base + 1 : from;
	dot = strchr(base, '.');
	snprintf(out, len, "OVMF_VARS%s", dot && strcmp(dot, ".fd") ? dot : ".fd");
}

/*
 * An OVMF build places its variable store at a fixed address: right below
 * the code, the two together filling a 2 MiB or 4 MiB flash. A store of
 * another size belongs to another build.
 */
static bool vars_fit(uint64_t code_size, uint64_t vars_size)
{
	uint64_t total = code_size + vars_size;

	return vars_size && !(vars_size % 4096) && (total == 2 * MiB || total == 4 * MiB);
}

static uint64_t vars_wanted(uint64_t code_size)
{
	return (code_size <= 2 * MiB ? 2 * MiB : 4 * MiB) - code_size;
}

static int ovmf_resolve_vars(struct ovmf *o, const char *code, const char *vars_arg,
			     const char *vars_template, const char *vm_name,
			     const char *state_dir)
{
	char template[2048], dir[2048], name[256];
	const char *from;
	struct stat st;
	int ret;

	if (vars_arg && !is_distro_template(vars_arg)) {
		snprintf(o->vars_path, sizeof(o->vars_path), "%s", vars_arg);
		return 0;
	}
	if (vars_arg) {
		from = vars_arg;
	} else if (vars_template) {
		from = vars_template;
	} else if (find_template(code, template, sizeof(template))) {
		from = template;
	} else {
		return 1;	/* a single image: no separate store */
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", state_dir, vm_name) >= sizeof(dir)) {
		pr_err("state directory %s: path too long (set MINIVMM_STATE_DIR to a shorter one)", state_dir);
		return -ENAMETOOLONG;
	}
	if (stat(from, &st) < 0 || access(from, R_OK) < 0) {
		ret = -errno;
		pr_err("UEFI variable template %s: %s (install the ovmf package, or give --ovmf-vars FILE)",
		       from, strerror(errno));
		return ret;
	}
	copy_name(from, name, sizeof(name));
	snprintf(o->vars_path, sizeof(o->vars_path), "%s/%s", dir, name);
	if (access(o->vars_path, F_OK) == 0) {
		pr_info("UEFI variables of VM '%s': %s", vm_name, o->vars_path);
		return 0;
	}
	/* Before the copy: a copy of the wrong template would be kept, and
	 * refused on every later run too. */
	if (!vars_fit(o->code.size, (uint64_t)st.st_size) && !vars_wanted(o->code.size)) {
		pr_err("%s is a single image that keeps its variables inside; a variable store needs a split OVMF_CODE*.fd (with --secure-boot, leave out --ovmf)",
		       code);
		return -EINVAL;
	}
	if (!vars_fit(o->code.size, (uint64_t)st.st_size)) {
		pr_err("UEFI variable template %s is %" PRIu64 " bytes, but %s (%" PRIu64 " bytes) needs %" PRIu64 " (use the VARS file that came with this CODE file%s)",
		       from, (uint64_t)st.st_size, code, o->code.size, vars_wanted(o->code.size),
		       from == vars_template ? "; --secure-boot's is for OVMF_CODE_4M.fd: give --ovmf-vars too" : "");
		return -EINVAL;
	}
	ret = host_mkdir_p(dir, 0700, 0700);
	if (!ret)
		ret = copy_file(from, o->vars_path);
	if (ret) {
		pr_err("cannot copy the UEFI variable template %s to %s: %s (set MINIVMM_STATE_DIR to a writable directory, or give --ovmf-vars FILE)",
		       from, o->vars_path, strerror(-ret));
		return ret;
	}
	pr_info("UEFI variables of VM '%s': %s (a copy of %s; the template is never written)",
		vm_name, o->vars_path, from);
	return 0;
}

int ovmf_open(struct ovmf *o, const char *code, const char *vars_arg,
	      const char *vars_template, const char *vm_name, const char *state_dir)
{
	struct stat st;
	int ret;

	memset(o, 0, sizeof(*o));
	o->vars_fd = -1;
	ret = fw_image_open(&o->code, code);
	if (ret)
		return ret;
	ret = ovmf_resolve_vars(o, code, vars_arg, vars_template, vm_name, state_dir);
	if (ret == 1)
		return 0;
	if (ret)
		goto close_code;

	/* Refuse a store marked read-only even when root could write it: the
	 * user said it must not change, and it would on the first setvar. */
	if (stat(o->vars_path, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 0222)) {
		ret = -EROFS;
		pr_err("UEFI variable store %s is read-only (mode %04o); minivmm must write it: chmod u+w it, or give --ovmf-vars a copy of your own",
		       o->vars_path, st.st_mode & 07777);
		goto close_code;
	}
	o->vars_fd = open(o->vars_path, O_RDWR | O_CLOEXEC);
	if (o->vars_fd < 0) {
		ret = -errno;
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			pr_err("UEFI variable store %s is read-only (%s); minivmm must write it: make it writable, or give --ovmf-vars a copy of your own",
			       o->vars_path, strerror(errno));
		else
			pr_err("UEFI variable store %s: %s (give --ovmf-vars the VM's OVMF_VARS file)",
			       o->vars_path, strerror(errno));
		goto close_code;
	}
	/* Two VMs on one store would corrupt it. */
	if (flock(o->vars_fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -EBUSY;
		pr_err("UEFI variable store %s is in use by another minivmm (give each VM its own --name or --ovmf-vars)",
		       o->vars_path);
		goto close_vars;
	}
	if (fstat(o->vars_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		pr_err("UEFI variable store %s: not a regular file", o->vars_path);
		goto close_vars;
	}
	o->vars_size = (uint64_t)st.st_size;
	if (!vars_fit(o->code.size, o->vars_size)) {
		ret = -EINVAL;
		pr_err("UEFI variable store %s is %" PRIu64 " bytes, but %s (%" PRIu64 " bytes) needs %" PRIu64 " (use the VARS file that came with this CODE file)",
		       o->vars_path, o->vars_size, code, o->code.size, vars_wanted(o->code.size));
		goto close_vars;
	}
	o->vars_gpa = o->code.gpa - o->vars_size;
	return 0;

close_vars:
	close(o->vars_fd);
	o->vars_fd = -1;
close_code:
	fw_image_close(&o->code);
	return ret;
}

int ovmf_map(struct ovmf *o, const struct vm_ops *ops, struct bus *mmio)
{
	int ret = fw_image_map(&o->code, ops, mmio);

	if (ret || o->vars_fd < 0)
		return ret;
	o->vars = pflash_create(ops, mmio, o->vars_gpa, o->vars_fd, o->vars_size, false);
	if (!o->vars) {
		ret = -errno;
		pr_err("UEFI variable store %s: cannot map it as flash at %#" PRIx64 ": %s",
		       o->vars_path, o->vars_gpa, strerror(errno));
	}
	return ret;
}

void ovmf_close(struct ovmf *o)
{
	if (o->vars)
		pflash_destroy(o->vars);
	o->vars = NULL;
	if (o->vars_fd >= 0)
		close(o->vars_fd);
	o->vars_fd = -1;
	fw_image_close(&o->code);
}
