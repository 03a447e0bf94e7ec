/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_LIB_SIZE_H
#define MINIVMM_LIB_SIZE_H

#include <stdint.h>

/*
 * "512M", "16G", "2GiB", "65536K", "1T" -> bytes; a bare number is MiB,
 * as QEMU's -m reads it. -EINVAL for anything else or an overflow.
 */
int parse_size(const char *s, uint64_t *bytes);

#endif
