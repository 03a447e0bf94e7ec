// SPDX-License-Identifier: MIT
/*
 * CPUID topology. References: Intel SDM vol. 2A "CPUID" (leaves 1, 4, 0xB,
 * 0x1F), AMD APM vol. 3 appendix E (0x80000001, 0x80000008, 0x8000001E).
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/cpuid.h"

#define KVM_SIGNATURE_BASE	0x40000000u
#define KVM_SIGNATURE_END	0x40000100u

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, unsigned int function,
				    unsigned int index)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

/* Bits needed to number n items: 1 -> 0, 2 -> 1, 3..4 -> 2, ... */
static unsigned int order_base_2(unsigned int n)
{
	unsigned int s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

/*
 * Leaves 0xB and 0x1F: extended topology. Subleaf 0 is the SMT level
 * (one thread per core), subleaf 1 the core level, then an invalid level.
 * KVM reports a single template entry; we write exactly three.
 */
static unsigned int cpuid_put_ext_topology(struct kvm_cpuid_entry2 *out,
					   unsigned int function,
					   const struct cpuid_topology *t)
{
	unsigned int core_shift = order_base_2(t->nr_vcpus);

	for (unsigned int sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *e = &out[sub];

		memset(e, 0, sizeof(*e));
		e->function = function;
		e->index = sub;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e->edx = t->apic_id;
		e->ecx = sub;
		if (sub == 0) {
			e->eax = 0;		/* SMT: no bits, 1 thread */
			e->ebx = 1;
			e->ecx |= 1u << 8;	/* level type 1 = SMT */
		} else if (sub == 1) {
			e->eax = core_shift;
			e->ebx = t->nr_vcpus;
			e->ecx |= 2u << 8;	/* level type 2 = core */
		}
	}
	return 3;
}

struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *t)
{
	unsigned int core_shift = order_base_2(t->nr_vcpus);
	struct kvm_cpuid2 *c;
	unsigned int n = 0;

	/* Room for the extra subleaves of 0xB and 0x1F. */
	c = calloc(1, sizeof(*c) + (supported->nent + 8) * sizeof(c->entries[0]));
	if (!c)
		return NULL;

	for (unsigned int i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *s = &supported->entries[i];
		struct kvm_cpuid_entry2 *e = &c->entries[n];

		if (t->hide_kvm && s->function >= KVM_SIGNATURE_BASE &&
		    s->function < KVM_SIGNATURE_END)
			continue;
		if (s->function == 0xB || s->function == 0x1F) {
			/* Write each once, from the first template entry. */
			if (s->index == 0)
				n += cpuid_put_ext_topology(e, s->function, t);
			continue;
		}
		*e = *s;
		n++;

		switch (e->function) {
		case 0x40000000:
			if (t->hv_vendor_id) {
				char sig[12] = { 0 };

				memcpy(sig, t->hv_vendor_id, strnlen(t->hv_vendor_id, 12));
				memcpy(&e->ebx, sig, 4);
				memcpy(&e->ecx, sig + 4, 4);
				memcpy(&e->edx, sig + 8, 4);
			}
			break;
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] addressable
			 * logical processors per package. EDX[28] HTT says
			 * that field is valid. */
			e->ebx &= 0x0000ffff;
			e->ebx |= t->apic_id << 24;
			e->ebx |= (1u << core_shift) << 16;
			if (t->nr_vcpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			/* ECX[31]: "running under a hypervisor". KVM does not
			 * report it; without it Linux never looks at 0x40000000,
			 * so no kvm-clock: its TSC calibration fails under
			 * nesting and it falls back to the ACPI PM timer, one
			 * exit to userspace per clock read. QEMU sets it too. */
			e->ecx |= 1u << 31;
			break;
		case 4:
			/* EAX[31:26] cores per package - 1, [25:14] logical
			 * processors sharing this cache - 1 (L3: all). */
			if ((e->eax & 0x1f) == 0)
				break;	/* no cache at this subleaf */
			e->eax &= 0x3fff;
			e->eax |= ((1u << core_shift) - 1) << 26;
			if (((e->eax >> 5) & 7) == 3)
				e->eax |= ((1u << core_shift) - 1) << 14;
			break;
		case 0x80000001:
			/* ECX[1] CmpLegacy: AMD's "cores are not threads". */
			if (t->nr_vcpus > 1)
				e->ecx |= 1u << 1;
			else
				e->ecx &= ~(1u << 1);
			break;
		case 0x80000008:
			/* ECX[15:12] ApicIdSize, [7:0] cores - 1. */
			e->ecx &= ~0xf0ffu;
			e->ecx |= core_shift << 12;
			e->ecx |= t->nr_vcpus - 1;
			break;
		case 0x8000001E:
			/* Extended APIC ID, core ID, one thread per core,
			 * node 0. */
			e->eax = t->apic_id;
			e->ebx = t->apic_id & 0xff;
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
	c->nent = n;
	return c;
}
