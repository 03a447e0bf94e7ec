/* SPDX-License-Identifier: MIT */
/*
 * The q35-like platform around the vCPUs: PCI root complex (CF8/CFC, ECAM),
 * MCH at 00:00.0, ICH9 LPC at 00:1F.0 with the ACPI PM block, and the
 * firmware interface: fw_cfg with e820, SMBIOS and the ACPI tables.
 */
#ifndef MINIVMM_PLATFORM_H
#define MINIVMM_PLATFORM_H

struct vm;

/* After guest RAM exists and the legacy devices are attached. */
int platform_create(struct vm *vm);
void platform_destroy(struct vm *vm);

#endif
