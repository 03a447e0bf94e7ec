// SPDX-License-Identifier: MIT
/* The common options (which trees to read) and the check report's format. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host/host.h"
#include "lib/sysfs.h"

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

static void __attribute__((format(printf, 3, 0)))
vline(FILE *out, const char *prefix, const char *fmt, va_list ap)
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
