/* SPDX-License-Identifier: MIT */
/*
 * Test device for guest payloads, compatible with what kvm-unit-tests and
 * similar payloads expect from QEMU's "-device pc-testdev" plus
 * "-device isa-debug-exit,iobase=0xf4,iosize=0x4":
 *
 *   PIO  0xE0-0xE3  32-bit scratch register, byte-lane accurate
 *   PIO  0xE4-0xE7  "flush page": write a guest-physical address; KVM
 *                   drops its mapping of that page (see testdev.c)
 *   PIO  0xE8-0xEB  byte-granular view of the same scratch register
 *   PIO  0xF4-0xF7  exit: writing v stops the VM, exit status v & 0xff
 *                   (QEMU's (v << 1) | 1 with testdev_configure(qemu_exit))
 *   PIO  0x2000-0x2017  IRQ lines: a write of non-zero / zero at
 *                   0x2000 + n raises / lowers GSI n
 *   MMIO 0xFF000000 + 64 KiB scratch memory, accesses of 1/2/4/8 bytes
 *
 * The addresses are lib/layout.h's LAYOUT_TESTDEV_*.
 */
#ifndef MINIVMM_LEGACY_TESTDEV_H
#define MINIVMM_LEGACY_TESTDEV_H

#include "devices/bus.h"
#include "devices/device.h"
#include "lib/layout.h"
#include "lib/memory.h"

#define TESTDEV_NR_IRQ		24	/* the IOAPIC's pins */

struct testdev;

/* NULL (errno set) on failure. ops must outlive the device. */
struct testdev *testdev_create(const struct vm_ops *ops);
/* Optional: mem for the flush-page port (NULL: writes there are
 * ignored); qemu_exit for isa-debug-exit's status encoding. */
void testdev_configure(struct testdev *td, const struct guest_mem *mem, bool qemu_exit);
/* Registers every range above; on failure none stays registered. */
int testdev_attach(struct testdev *td, struct bus *pio, struct bus *mmio);
/* Unregisters the ranges (so call it before bus_exit()) and frees. */
void testdev_destroy(struct testdev *td);

#endif
