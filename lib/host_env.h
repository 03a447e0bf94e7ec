/* SPDX-License-Identifier: MIT */
/*
 * Which host trees to read: /sys, /proc and /dev by default, fake trees in
 * the unit tests (tests/unit/fakesys). Shared by the host commands (host/)
 * and the VFIO device model (devices/vfio), which reads the same sysfs.
 */
#ifndef MINIVMM_LIB_HOST_ENV_H
#define MINIVMM_LIB_HOST_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct host_env {
	const char *sysfs;	/* "/sys" */
	const char *procfs;	/* "/proc" */
	const char *devfs;	/* "/dev" */
	const char *datadir;	/* "/usr/share": where OVMF is looked for */
	const char *statedir;	/* "/run/minivmm/bind": drivers to restore on unbind */
	const char *modprobe;	/* "/sbin/modprobe" */
	unsigned settle_ms;	/* how long to wait for an asynchronous driver probe */
	FILE *out;		/* where reports and listings go: stdout */
	/*
	 * Called after every successful sysfs write with the path and value
	 * written; returns 0 or the -errno the kernel would have failed the
	 * write with. NULL on a real host; unit tests play the kernel here.
	 */
	int (*sysfs_written)(const struct host_env *env, const char *path,
			     const char *value);
	void *hook_data;
};

/* Defaults above; env->out = stdout. */
void host_env_init(struct host_env *env);

/* RLIMIT_MEMLOCK of this process (from env->procfs, else getrlimit). */
struct rlimit;
int host_memlock_limits(const struct host_env *env, struct rlimit *rl);
/* Whether this process has CAP_IPC_LOCK, which lifts VFIO's pin limit. */
bool host_has_cap_ipc_lock(const struct host_env *env);

/* Memory needed locked beyond guest RAM when devices are passed through. */
#define HOST_MEMLOCK_MARGIN (1ULL << 30)

#endif
