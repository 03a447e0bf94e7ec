/* SPDX-License-Identifier: MIT */
/*
 * System Control Port A (I/O 0x92), the PC/AT "fast reset" and A20 gate
 * that the ICH9 LPC decodes: some boot loaders and OSes reset through it.
 */
#ifndef MINIVMM_LEGACY_PORT92_H
#define MINIVMM_LEGACY_PORT92_H

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"

struct port92;

/* NULL (errno set) on failure. ops must outlive the device. */
struct port92 *port92_create(const struct vm_ops *ops);
/* Claims the byte at LAYOUT_PORT92; -EBUSY if already attached. */
int port92_attach(struct port92 *p, struct bus *pio);
/* Unregisters the port (before bus_exit()) and frees. */
void port92_destroy(struct port92 *p);

#endif
