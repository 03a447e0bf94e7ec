/* SPDX-License-Identifier: MIT */
/*
 * CFI parallel flash with the Intel command set, behaving like QEMU's
 * pflash_cfi01 as the x86 machines configure it (one x8 device, 4 KiB
 * erase blocks, IDs 89h/18h) and as OVMF's QemuFlashFvbServicesRuntimeDxe
 * drives it. Used for OVMF's variable store (OVMF_VARS*.fd, read/write)
 * and optionally for its code (OVMF_CODE*.fd, read-only).
 *
 * In read-array mode the contents are a read-only KVM memslot: reads
 * never exit, writes exit as MMIO and reach the command state machine.
 * Any other mode removes the memslot so that reads reach the device
 * (status, IDs, CFI); returning to read-array puts it back (QEMU's
 * "romd" mode). Program and erase go to the backing file at once
 * (pwrite), and are made durable (fdatasync) when the guest completes an
 * erase or a buffered write, or returns to read-array after programming.
 */
#ifndef MINIVMM_PFLASH_H
#define MINIVMM_PFLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"

#define PFLASH_SECTOR_SIZE	4096ULL		/* OVMF's PcdOvmfFirmwareBlockSize */
#define PFLASH_MAX_SIZE		(65536ULL * PFLASH_SECTOR_SIZE)	/* CFI block count is 16 bits */

struct pflash;

/*
 * Map size bytes of fd (from offset 0) at guest-physical gpa. size: a
 * non-zero multiple of PFLASH_SECTOR_SIZE, at most PFLASH_MAX_SIZE, and
 * the file at least that long; gpa 4 KiB aligned; [gpa, gpa+size) must
 * not wrap. fd is duplicated (the caller may close its own); readonly
 * flash never writes it and fails program/erase in the status register
 * the way real locked flash does. A writable flash needs fd opened
 * O_RDWR. NULL with errno set on failure (EINVAL, EBADF, EEXIST, ...).
 */
struct pflash *pflash_create(const struct vm_ops *ops, struct bus *mmio, uint64_t gpa,
			     int fd, uint64_t size, bool readonly);
/* Removes the memslot and the MMIO range, syncs the file, frees. */
void pflash_destroy(struct pflash *pf);

/* The host copy of the contents (size bytes). For a read-only flash it
 * never changes, so vm.c may alias its last 128 KiB below 1 MiB. */
const void *pflash_data(const struct pflash *pf);
uint64_t pflash_size(const struct pflash *pf);

#endif
