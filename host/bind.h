/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_HOST_BIND_H
#define MINIVMM_HOST_BIND_H

#include "host/host.h"
#include "lib/host_pci.h"

/* What bind found on a function, kept in STATEDIR/BDF for unbind. */
struct host_bind_rec {
	char driver[HOST_DRV_LEN];	/* "" when it had no driver */
	char override[HOST_DRV_LEN];	/* its driver_override before, "" if unset */
};

/* 0, or -errno (-ENOENT: bind left no record for it). */
int host_bind_state_load(const struct host_env *env, const char *bdf,
			 struct host_bind_rec *rec);

#endif
