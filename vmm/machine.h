/* SPDX-License-Identifier: MIT */
/*
 * The q35-like machine: the legacy devices, the PCI root complex with the
 * MCH at 00:00.0 and the ICH9 LPC at 00:1F.0 with the ACPI PM block,
 * virtio-blk disks, passed-through devices, and the firmware interface:
 * fw_cfg with e820, SMBIOS and the ACPI tables.
 */
#ifndef MINIVMM_MACHINE_H
#define MINIVMM_MACHINE_H

struct vm;

/*
 * After guest RAM exists and the firmware is mapped. Every device it
 * creates is in vm->devices, also on failure (0 or -errno, said why):
 * the caller destroys the registry either way.
 */
int machine_create(struct vm *vm);

#endif
