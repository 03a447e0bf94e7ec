/* SPDX-License-Identifier: MIT */
/* One virtual machine: KVM, memory, buses, devices, vCPUs. */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <stdbool.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "firmware/bootorder.h"
#include "firmware/image.h"
#include "firmware/ovmf.h"
#include "lib/memory.h"
#include "vmm/cli.h"
#include "vmm/kvm.h"
#include "vmm/vcpu.h"

struct control;
struct control_ops;
struct seccomp_extra;
struct privdrop;
struct uart;
struct acpi_pm;

struct vm {
	const struct vm_config *cfg;
	struct kvm kvm;
	struct vm_ops ops;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct fw_image fw;		/* --firmware */
	struct ovmf ovmf;		/* --ovmf */
	bool use_ovmf;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;
	/* The Hyper-V enlightenments are on: --hyperv on and this KVM has
	 * them (vCPU 0's set-up decides, vmm/vcpu.c). */
	bool hyperv;

	/* Every device, in creation order (devices/device.h): reset in
	 * this order, destroyed in reverse. vmm/machine.c creates them. */
	struct device_list devices;
	struct uart *uart;		/* COM1, which the console feeds */
	struct acpi_pm *acpi_pm;	/* its power button, which SIGTERM presses */
	int serial_in_fd, serial_out_fd, debugcon_fd;

	uint32_t exits_disabled;	/* --cpu-pm: KVM_X86_DISABLE_EXITS_* in effect */
	unsigned int resets;		/* guest resets rebooted in place */
	/* What the firmware may boot from, for the "bootorder" file. */
	struct boot_device boot_devices[BOOT_MAX_DEVICES];
	unsigned int nr_boot_devices;
	/* Graceful shutdown: the signal that pressed the power button (0:
	 * not pressed) and the deadline for the guest to power off. */
	int powerdown_signal;
	int shutdown_timer_fd;

	/* stopping: the first request wins; stop_fd wakes the main loop */
	int stop_fd;
	int stop_reason;	/* enum vm_stop_reason, atomic */
	int stop_code;

	/* Set by main.c after vm_create, each optional (NULL: none). */
	struct control *control;	/* --control: polled by the main loop */
	const struct seccomp_extra *seccomp_extra;	/* what the options add to the filter */
	const struct privdrop *privdrop;	/* --user, --chroot: dropped before the filter */
	char irq_posting[160];			/* --vfio: where their MSIs go (lib/irq_posting.h) */
	void (*running)(void *opaque);	/* the vCPUs run (--daemonize detaches here) */
	void *running_opaque;
};

int vm_create(struct vm *vm, const struct vm_config *cfg);
/* Run until the guest or a signal stops the VM; returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int code);
/* Press the ACPI power button; the guest then has --shutdown-timeout
 * seconds to power off before a hard stop. Main thread only. */
int vm_request_powerdown(struct vm *vm);
/* The control socket's view of this VM (vmm/vm_control.c): ops->opaque is
 * vm, which need not be created yet. */
void vm_control_ops(struct vm *vm, struct control_ops *ops);
/* Each vCPU's KVM stats (vmm/kvm_stats.h), for kvm_stats_*_all(); NULL
 * when there are none. Free it. */
struct kvm_stats **vm_vcpu_kstats(struct vm *vm);
static inline bool vm_stopping(const struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) != VM_STOP_NONE;
}

#endif
