/* SPDX-License-Identifier: MIT */
/* Helpers shared by acpi.c, acpi_loader.c and dsdt.c only. */
#ifndef MINIVMM_ACPI_INTERNAL_H
#define MINIVMM_ACPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/acpi.h"

/* Append len bytes (data NULL: zeros): 0 or -ENOMEM. */
int acpi_blob_put(struct acpi_blob *b, const void *data, size_t len);
void acpi_blob_free(struct acpi_blob *b);
/* 0 if cfg describes a machine we can build tables for, else -EINVAL. */
int acpi_config_check(const struct acpi_config *cfg);
/* The ECAM's decoded range [*lo, *hi): bus_start..bus_end, 1 MiB each. */
void acpi_ecam_range(const struct acpi_config *cfg, uint64_t *lo, uint64_t *hi);

static inline void acpi_le_store(uint8_t *p, uint64_t v, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

#endif
