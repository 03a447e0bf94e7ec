/* SPDX-License-Identifier: MIT */
/*
 * ICH9 Reset Control register (RST_CNT, I/O port 0xCF9): how firmware and
 * Linux (reboot=pci, the ACPI FADT RESET_REG on q35) reset the machine.
 */
#ifndef MINIVMM_LEGACY_RESET_H
#define MINIVMM_LEGACY_RESET_H

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"


struct reset_ctl;

/* NULL (errno set) on failure. ops must outlive the device. */
struct reset_ctl *reset_ctl_create(const struct vm_ops *ops);
/* Claims exactly the byte at 0xCF9; -EBUSY if already attached. */
int reset_ctl_attach(struct reset_ctl *rc, struct bus *pio);
/* Unregisters the port (so call it before bus_exit()) and frees. */
void reset_ctl_destroy(struct reset_ctl *rc);

#endif
