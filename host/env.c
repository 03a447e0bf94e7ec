// SPDX-License-Identifier: MIT
/* The environment (which trees to read) and the check report's format. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "host/sysfs.h"

void host_env_init(struct host_env *env)
{
	memset(env, 0, sizeof(*env));
	env->sysfs = "/sys";
	env->procfs = "/proc";
	env->devfs = "/dev";
	env->datadir = "/usr/share";
	env->statedir = "/run/minivmm/bind";
	env->modprobe = "/sbin/modprobe";
	/* nvme and others probe asynchronously; 5 s covers a slow controller. */
	env->settle_ms = 5000;
	env->out = stdout;
}

int host_env_option(struct host_env *env, int opt, const char *arg)
{
	switch (opt) {
	case HOST_OPT_SYSFS:
		env->sysfs = arg;
		return 1;
	case HOST_OPT_PROCFS:
		env->procfs = arg;
		return 1;
	case HOST_OPT_DEVFS:
		env->devfs = arg;
		return 1;
	default:
		return 0;
	}
}

void host_report_init(struct host_report *r, FILE *out)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
}

static void vline(FILE *out, const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, out);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
}

void host_report(struct host_report *r, enum host_verdict v, const char *fmt, ...)
{
	static const char *const tag[] = {
		[HOST_OK] = "OK   ", [HOST_WARN] = "WARN ", [HOST_FAIL] = "FAIL ",
	};
	va_list ap;

	if (v == HOST_OK)
		r->n_ok++;
	else if (v == HOST_WARN)
		r->n_warn++;
	else
		r->n_fail++;
	va_start(ap, fmt);
	vline(r->out, tag[v], fmt, ap);
	va_end(ap);
}

void host_fix(struct host_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(r->out, "     fix: ", fmt, ap);
	va_end(ap);
}

void host_note(struct host_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(r->out, "          ", fmt, ap);
	va_end(ap);
}

int host_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned shift;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '\0': shift = 20; break;	/* a bare number is MiB, as QEMU's -m */
	default: return -EINVAL;
	}
	/* Accept "8G", "8GB" and "8GiB". */
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

enum host_cpu_vendor host_cpu_vendor(const struct host_env *env)
{
	enum host_cpu_vendor vendor = HOST_CPU_OTHER;
	char path[HOST_PATH_MAX], line[512];
	FILE *f;

	if (host_path(path, sizeof(path), "%s/cpuinfo", env->procfs))
		return vendor;
	f = fopen(path, "re");
	if (!f)
		return vendor;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "vendor_id", 9))
			continue;
		if (strstr(line, "GenuineIntel"))
			vendor = HOST_CPU_INTEL;
		else if (strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine"))
			vendor = HOST_CPU_AMD;
		break;
	}
	fclose(f);
	return vendor;
}
