/* SPDX-License-Identifier: MIT */
/*
 * A fake VM behind struct vm_ops: it records what a device asked for
 * (interrupt levels, MSIs, memslots, stop requests) so a unit test can
 * assert on it, with no /dev/kvm anywhere.
 */
#ifndef MINIVMM_TEST_FAKE_VM_H
#define MINIVMM_TEST_FAKE_VM_H

#include <stdint.h>

#include "devices/device.h"

#define FAKE_VM_MAX_GSI		64
#define FAKE_VM_MAX_MSI		64
#define FAKE_VM_MAX_SLOTS	32
#define FAKE_VM_MAX_ROUTES	64
#define FAKE_VM_FIRST_MSI_GSI	24
#define FAKE_VM_MAX_IRQFDS	64

struct fake_route {
	int used;
	uint64_t addr;
	uint32_t data;
	unsigned int updates;
};

struct fake_memslot {
	int used;
	uint64_t gpa, size;
	void *hva;
	unsigned int flags;
};

struct fake_vm {
	struct vm_ops ops;
	int irq_level[FAKE_VM_MAX_GSI];
	unsigned int irq_raises[FAKE_VM_MAX_GSI];	/* 0 -> 1 transitions */
	unsigned int nr_msi;
	struct { uint64_t addr; uint32_t data; } msi[FAKE_VM_MAX_MSI];
	struct fake_memslot slots[FAKE_VM_MAX_SLOTS];
	unsigned int nr_ioeventfds, nr_irqfds;
	/* the irqfds assigned now (used = 0: a free entry) */
	struct { int used; unsigned int gsi; int fd, resample_fd; } irqfds[FAKE_VM_MAX_IRQFDS];
	unsigned int irqfd_injected;	/* signalled before assignment: delivered then */
	struct fake_route routes[FAKE_VM_MAX_ROUTES];	/* GSI = 24 + index */
	unsigned int nr_vfio_groups;
	enum vm_stop_reason stop_reason;
	int stop_code;
	unsigned int nr_stops;
	struct device_list devices;	/* what registered, in order */
};

void fake_vm_init(struct fake_vm *fvm);

#endif
