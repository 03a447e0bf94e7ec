/* SPDX-License-Identifier: MIT */
/*
 * What a device model may ask of the VM. Only vmm/ issues KVM ioctls; a
 * device gets this small table instead, so every model can be unit-tested
 * against a fake (tests/unit/fake_vm.c) without /dev/kvm.
 */
#ifndef MINIVMM_DEVICE_H
#define MINIVMM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

/* Why the VM stops. The value is also minivmm's exit status (README.md). */
enum vm_stop_reason {
	VM_STOP_NONE = -1,
	VM_STOP_POWEROFF = 0,	/* ACPI S5 or a passing test payload   */
	VM_STOP_ERROR = 1,	/* minivmm itself failed               */
	VM_STOP_USAGE = 2,	/* bad command line                     */
	VM_STOP_RESET = 3,	/* guest asked for a reset / triple fault */
	VM_STOP_CRASH = 4,	/* KVM could not run the guest          */
	VM_STOP_TESTDEV = 5,	/* test payload verdict: status = code  */
	VM_STOP_SIGNAL = 6,	/* SIGINT/SIGTERM: status = 128 + sig   */
};

/* Flags for vm_ops.add_memslot. */
#define VM_MEMSLOT_READONLY	(1u << 0)	/* writes exit as MMIO (ROM, pflash) */
#define VM_MEMSLOT_LOG_DIRTY	(1u << 1)

/* Flags for vm_ops.add_ioeventfd. */
#define VM_IOEVENTFD_PIO	(1u << 0)
#define VM_IOEVENTFD_DATAMATCH	(1u << 1)

struct vm_ops {
	void *vm;
	/* Level of an IOAPIC/PIC input (GSI); edge devices pulse 1 then 0. */
	int (*set_irq_line)(void *vm, unsigned int gsi, int level);
	/* Deliver one MSI (address/data as the guest programmed them). */
	int (*signal_msi)(void *vm, uint64_t addr, uint32_t data);
	/* Map host memory into the guest; *slot identifies it for removal. */
	int (*add_memslot)(void *vm, uint64_t gpa, uint64_t size, void *hva,
			   unsigned int flags, int *slot);
	int (*remove_memslot)(void *vm, int slot);
	/* A guest write to addr signals fd, with no exit to userspace. */
	int (*add_ioeventfd)(void *vm, uint64_t addr, unsigned int len,
			     uint64_t datamatch, unsigned int flags, int fd);
	int (*remove_ioeventfd)(void *vm, uint64_t addr, unsigned int len,
				uint64_t datamatch, unsigned int flags, int fd);
	/* Signalling fd raises gsi in the kernel; resample_fd >= 0 makes it a
	 * level interrupt that KVM lowers on EOI and reports on resample_fd. */
	int (*add_irqfd)(void *vm, unsigned int gsi, int fd, int resample_fd);
	int (*remove_irqfd)(void *vm, unsigned int gsi, int fd);
	/* MSI routes: a GSI whose irqfd delivers this MSI, all in the kernel
	 * (virtio and VFIO MSI/MSI-X vectors). Updating a route is atomic for
	 * the guest: an interrupt is delivered to the old or the new target. */
	int (*add_msi_route)(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi);
	int (*update_msi_route)(void *vm, unsigned int gsi, uint64_t addr, uint32_t data);
	int (*remove_msi_route)(void *vm, unsigned int gsi);
	/* Register a VFIO group with KVM's VFIO pseudo-device (lets KVM know
	 * DMA may be non-coherent, and backs VFIO's KVM features). */
	int (*vfio_group_add)(void *vm, int group_fd);
	int (*vfio_group_del)(void *vm, int group_fd);
	/* Ask the VM to stop (reset, power-off, test verdict). Safe from any
	 * thread; the first request wins. */
	void (*request_stop)(void *vm, enum vm_stop_reason reason, int code);
};

#endif
