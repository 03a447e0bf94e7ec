/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU CPUID: what KVM supports, with a topology of one socket and
 * nr_vcpus cores of one thread each (APIC ID = vCPU index).
 */
#ifndef MINIVMM_CPUID_H
#define MINIVMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

struct cpuid_topology {
	unsigned int apic_id;
	unsigned int nr_vcpus;
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
