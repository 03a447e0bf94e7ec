// SPDX-License-Identifier: MIT
/* The host environment: its defaults, and what limits this process has. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/host_env.h"
#include "lib/sysfs.h"

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

/* "Max locked memory   8388608   8388608   bytes" from /proc/self/limits. */
int host_memlock_limits(const struct host_env *env, struct rlimit *rl)
{
	char path[HOST_PATH_MAX], line[256], soft[64], hard[64];
	int ret = -ENOENT;
	FILE *f;

	if (!host_path(path, sizeof(path), "%s/self/limits", env->procfs) &&
	    (f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Max locked memory", 17) ||
			    sscanf(line + 17, "%63s %63s", soft, hard) != 2)
				continue;
			rl->rlim_cur = strcmp(soft, "unlimited") ? strtoull(soft, NULL, 10) : RLIM_INFINITY;
			rl->rlim_max = strcmp(hard, "unlimited") ? strtoull(hard, NULL, 10) : RLIM_INFINITY;
			ret = 0;
			break;
		}
		fclose(f);
	}
	if (ret && !getrlimit(RLIMIT_MEMLOCK, rl))
		ret = 0;
	return ret;
}

/* VFIO's locked-memory accounting skips tasks with CAP_IPC_LOCK (14). */
bool host_has_cap_ipc_lock(const struct host_env *env)
{
	char path[HOST_PATH_MAX], line[256];
	unsigned long long caps = 0;
	bool found = false;
	FILE *f;

	if (host_path(path, sizeof(path), "%s/self/status", env->procfs) || !(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			found = sscanf(line + 7, "%llx", &caps) == 1;
			break;
		}
	fclose(f);
	return found && (caps & (1ULL << 14));
}
