/* SPDX-License-Identifier: MIT */
/*
 * QEMU-style debug console ("isa-debugcon", port 0x402 on OVMF builds,
 * 0xE9 for Bochs/SeaBIOS): every byte the guest writes goes to an fd.
 */
#ifndef MINIVMM_LEGACY_DEBUGCON_H
#define MINIVMM_LEGACY_DEBUGCON_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"

struct debugcon;

/* out_fd < 0 drops the output. NULL (errno set) on failure. */
struct debugcon *debugcon_create(const struct vm_ops *ops, int out_fd);
/* Claims the single port at base: -EBUSY if already attached, else
 * bus_register()'s error. */
int debugcon_attach(struct debugcon *dc, struct bus *pio, uint16_t base);
/* Unregisters the port (so call it before bus_exit()) and frees. */
void debugcon_destroy(struct debugcon *dc);

#endif
