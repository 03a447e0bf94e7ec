/* SPDX-License-Identifier: MIT */
/* Helpers shared by the halves of `minivmm check` (check.c, check_vm.c). */
#ifndef MINIVMM_HOST_CHECK_H
#define MINIVMM_HOST_CHECK_H

#include <stddef.h>

#include "host/host.h"

/* /proc/cmdline without what follows " -- " (init's arguments). */
int host_cmdline_read(const struct host_env *env, char *buf, size_t len);
/* Value of the last key=value (or "" for a bare key); NULL when absent. */
const char *host_cmdline_value(const char *cmdline, const char *key, char *buf,
			       size_t len);

/* Entries in a directory (0 when absent); names space-separated into first. */
size_t host_dir_count(const char *path, char *first, size_t len);
size_t host_iommu_group_count(const struct host_env *env);

/* The two fix lines for a kernel parameter: the grub line, update-grub. */
void host_fix_grub(struct host_report *r, const char *params);

#endif
