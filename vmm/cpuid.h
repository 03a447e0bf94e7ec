/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU CPUID: what KVM supports, the bits a VMM adds itself (as QEMU's
 * kvm_arch_get_supported_cpuid does for -cpu host), and the topology of
 * lib/topology.h (sockets of cores of threads; default one socket of
 * nr_vcpus cores of one thread, APIC ID = vCPU index).
 */
#ifndef MINIVMM_CPUID_H
#define MINIVMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct cpuid_topology {
	unsigned int apic_id;
	unsigned int nr_vcpus;
	/* Cores per socket and threads per core (lib/topology.h);
	 * 0: one socket of nr_vcpus cores of one thread. */
	unsigned int cores, threads;
	/* KVM_CAP_TSC_DEADLINE_TIMER: KVM emulates the LAPIC timer's
	 * TSC-deadline mode but leaves CPUID.1:ECX[24] to the VMM. */
	bool tsc_deadline;
	/* The host's own CPUID.(7,0):EBX/EDX and (7,1):EAX, for the fast
	 * string bits KVM does not report on older kernels. */
	uint32_t host_7_0_ebx, host_7_0_edx, host_7_1_eax;
	/* The host's brand string, CPUID 0x80000002-4 EAX..EDX (NULL: none),
	 * which KVM reports as zeros: QEMU's -cpu host model-id. */
	const uint32_t *host_brand;
	bool hide_kvm;		/* drop the KVMKVMKVM leaves (QEMU kvm=off) */
	/* Non-NULL: leaf 0x40000000 names this vendor (12 bytes at most)
	 * instead of "KVMKVMKVM", so drivers that refuse KVM do not see it
	 * (QEMU's hv-vendor-id); the leaves stay (APIC timer, steal time). */
	const char *hv_vendor_id;
};

/*
 * Build the CPUID table for one vCPU from KVM's supported table.
 * Returns a calloc'ed table (free() it) or NULL on allocation failure.
 */
struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *topo);

/* Lookup helper (NULL if absent). */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, unsigned int function,
				    unsigned int index);

#endif
