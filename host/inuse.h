/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_HOST_INUSE_H
#define MINIVMM_HOST_INUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"
#include "lib/host_pci.h"

/*
 * Whether taking this device away would pull something from under the
 * host: a bridge, the boot display, a mounted filesystem or active swap
 * on one of its disks, an interface that is up. why says which.
 */
bool host_pci_in_use(const struct host_env *env, const struct host_pci_dev *dev,
		     char *why, size_t len);

#endif
