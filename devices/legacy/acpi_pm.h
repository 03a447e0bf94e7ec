/* SPDX-License-Identifier: MIT */
/*
 * ICH9 ACPI power-management I/O block (PMBASE, 128 bytes): PM1 event and
 * control registers, the 24-bit PM timer, GPE0, and the SCI.
 */
#ifndef MINIVMM_LEGACY_ACPI_PM_H
#define MINIVMM_LEGACY_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"

#define ACPI_PM_LEN		0x80
#define ACPI_PM_TIMER_HZ	3579545
#define ACPI_PM_NR_GPE		64	/* GPE0_STS/GPE0_EN are 64 bits */

struct acpi_pm;

/* NULL (errno set) on failure. ops must outlive the device. */
struct acpi_pm *acpi_pm_create(const struct vm_ops *ops, unsigned int sci_gsi);
/* Claims the 128 ports at base (rounded down to 128 bytes, as PMBASE
 * bits 6:0 are reserved): -EBUSY if already attached. */
int acpi_pm_attach(struct acpi_pm *pm, struct bus *pio, uint16_t base);
/*
 * For the LPC bridge when the guest writes PMBASE/ACPI_CNTL: moves the
 * block to base (rounded down to 128 bytes) on the bus it was attached
 * to, or just removes it if !enabled. Registers keep their values. If the
 * new place is taken, the block stays unmapped and the bus_register()
 * error is returned; -ENODEV if never attached.
 */
int acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled);
/* Unregisters the ports (so call it before bus_exit()) and frees. */
void acpi_pm_destroy(struct acpi_pm *pm);

/* Press the power button: sets PWRBTN_STS, asking an ACPI guest for an
 * orderly shutdown (via the SCI, if the guest enabled PWRBTN_EN). */
void acpi_pm_power_button(struct acpi_pm *pm);
/* Set a GPE0 status bit (0..63) on behalf of a device (hotplug, ...):
 * -EINVAL for a bad bit. The SCI follows GPE0_STS & GPE0_EN. */
int acpi_pm_gpe_raise(struct acpi_pm *pm, unsigned int bit);

/*
 * Enter (or leave) ACPI mode: set or clear PM1_CNT.SCI_EN. On ICH9 the
 * firmware's SMI handler does this when the OS writes the FADT's
 * ACPI_ENABLE value to SMI_CMD (APM_CNT, port 0xB2); whoever emulates
 * that port calls this. Guests may also write SCI_EN directly.
 */
void acpi_pm_set_acpi_mode(struct acpi_pm *pm, bool enable);

/* Replace CLOCK_MONOTONIC (ns) as the PM timer's source; for unit tests.
 * NULL restores the host clock. */
void acpi_pm_set_clock(struct acpi_pm *pm, int64_t (*now_ns)(void *opaque),
		       void *opaque);

#endif
