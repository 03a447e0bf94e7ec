/* SPDX-License-Identifier: MIT */
/*
 * The KVM VM: /dev/kvm, the VM file descriptor, the in-kernel irqchip and
 * PIT, memslots, irqfd/ioeventfd. Everything a device may use is offered
 * through struct vm_ops (devices/device.h); only vmm/ calls ioctl(2) on KVM.
 */
#ifndef MINIVMM_KVM_H
#define MINIVMM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "lib/layout.h"
#include "vmm/kvm_stats.h"

#define KVM_MAX_SLOTS		512
#define KVM_WIRED_GSIS		24	/* the in-kernel IOAPIC's pins */
/* Below the flash and the testdev window, like QEMU's choice. */

struct kvm {
	int dev_fd;			/* /dev/kvm */
	int vm_fd;
	int vcpu_mmap_size;
	unsigned int max_vcpus;
	unsigned int max_vcpu_id;	/* vCPU ids (= APIC IDs) stay below */
	struct kvm_cpuid2 *supported_cpuid;
	bool tsc_deadline;		/* KVM_CAP_TSC_DEADLINE_TIMER */
	/* The host's CPUID.(7,0):EBX/EDX and (7,1):EAX (vmm/cpuid.h) */
	uint32_t host_7_0_ebx, host_7_0_edx, host_7_1_eax;
	uint32_t host_brand[12];	/* CPUID 0x80000002-4: the brand string */
	pthread_mutex_t slot_lock;
	uint64_t slot_used[KVM_MAX_SLOTS / 64];
	unsigned int nr_slots;		/* what KVM allows */
	/* GSI routing: the whole table is handed to KVM on every change */
	pthread_mutex_t route_lock;
	struct kvm_irq_routing *routes;
	unsigned int nr_routes, route_cap;
	unsigned int next_msi_gsi;
	int vfio_dev_fd;		/* KVM_DEV_TYPE_VFIO, created on first use */
	/* Interrupts injected from userspace (irqfd ones never pass here). */
	uint64_t irq_line_raises;
	/* KVM_IRQ_LINE's GSIs (IOAPIC pins): sources asserting each, ORed
	 * by irq_wired_or() under irq_lock (devices/irq.h). */
	pthread_mutex_t irq_lock;
	unsigned int gsi_sources[KVM_WIRED_GSIS];
	uint64_t msis_signalled;
	/* request_stop lands here (vm.c decides what stopping means) */
	void (*stop)(void *opaque, enum vm_stop_reason reason, int code);
	void *stop_opaque;
	/* The in-kernel PIC pair, IOAPIC and PIT as created: their power-on
	 * state, put back by kvm_reset_irqchip() on a guest reset. */
	struct kvm_irqchip reset_chip[3];
	struct kvm_pit_state2 reset_pit;
	/* MSRs KVM saves and restores for a vCPU (KVM_GET_MSR_INDEX_LIST). */
	struct kvm_msr_list *msr_list;
	/* KVM's binary statistics (vmm/kvm_stats.h) of the VM; each vCPU
	 * has its own. Not open without KVM_CAP_BINARY_STATS_FD. */
	bool has_stats;
	struct kvm_stats stats;
};

/*
 * Open kvm_path (normally /dev/kvm), check the API version and every
 * capability minivmm uses, create the VM with in-kernel PIC/IOAPIC/LAPIC
 * and PIT. Each failure is one line naming the cause and the fix.
 */
int kvm_init(struct kvm *kvm, const char *kvm_path);
void kvm_exit(struct kvm *kvm);

/* A guest reset: the PICs, the IOAPIC and the PIT back to how they were
 * created (their reset state). With every vCPU stopped. */
int kvm_reset_irqchip(struct kvm *kvm);

/* Fill ops with this VM's implementations. */
void kvm_vm_ops(struct kvm *kvm, struct vm_ops *ops);

/* Direct forms, for vmm/ itself. */
int kvm_add_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva,
		    unsigned int flags, int *slot);
int kvm_remove_memslot(struct kvm *kvm, int slot);

#endif
