/* SPDX-License-Identifier: MIT */
/*
 * Small file helpers for reading /sys and /proc and writing sysfs
 * attributes. Every path is built from a root (env->sysfs, env->procfs,
 * env->devfs) so the same code runs on the real trees and on fake ones
 * that unit tests build in a temporary directory.
 */
#ifndef MINIVMM_HOST_SYSFS_H
#define MINIVMM_HOST_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/host_env.h"

#define HOST_PATH_MAX 4096

/* snprintf into buf; -ENAMETOOLONG instead of a silently cut path. */
int host_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whole (small) file into buf, trailing whitespace stripped. 0 or -errno. */
int host_read_str(const char *path, char *buf, size_t len);
int host_read_ulong(const char *path, unsigned long *val, int base);

/*
 * Write one value the way `echo VALUE > PATH` does, then give the
 * environment's kernel stand-in (unit tests) a chance to react.
 */
int host_write_str(const struct host_env *env, const char *path, const char *val);

/* Last component of a symlink's target ("vfio-pci" for .../driver). */
int host_link_name(const char *path, char *buf, size_t len);

/* strcpy that fails with -ENAMETOOLONG instead of overflowing or cutting. */
int host_copy(char *dst, size_t len, const char *src);

/*
 * mkdir -p: the missing parents with parent_mode, the last directory with
 * mode (0700 where it will hold secrets: variable stores, TPM seeds).
 */
int host_mkdir_p(const char *path, unsigned int parent_mode, unsigned int mode);

bool host_exists(const char *path);
bool host_is_dir(const char *path);

/* Directory entries except "." and "..", sorted with strcmp. */
int host_list_dir(const char *path, char ***names, size_t *n);
void host_free_list(char **names, size_t n);

/* Milliseconds of sleep, for waiting on asynchronous driver probes. */
void host_sleep_ms(unsigned ms);

#endif
