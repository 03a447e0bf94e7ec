// SPDX-License-Identifier: MIT
/*
 * CPUID: topology and the feature bits KVM leaves to the VMM. References:
 * Intel SDM vol. 2A "CPUID" (leaves 1, 4, 6, 7, 0xB, 0x1F), AMD APM vol. 3
 * appendix E (0x80000001, 0x80000008, 0x8000001D, 0x8000001E).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/topology.h"
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

/* The shape one vCPU's leaves describe, and where in it the vCPU sits. */
struct cpuid_shape {
	unsigned int threads;		/* per core */
	unsigned int per_pkg;		/* cores x threads in a socket */
	unsigned int thread_bits;	/* APIC ID bits of the thread in its core */
	unsigned int core_bits;		/* ... of the core in its socket */
	unsigned int pkg_bits;		/* both: the socket's share of the ID */
	unsigned int core, socket;	/* this vCPU's */
	bool amd;			/* AuthenticAMD or HygonGenuine */
	bool intel;			/* GenuineIntel */
};

static void cpuid_shape_init(struct cpuid_shape *sh, const struct kvm_cpuid2 *supported,
			     const struct cpuid_topology *t)
{
	struct cpu_topology topo = { .sockets = 1, .cores = t->cores, .threads = t->threads };

	if (!topo.cores || !topo.threads)
		topo = topo_flat(t->nr_vcpus);
	memset(sh, 0, sizeof(*sh));
	sh->threads = topo.threads;
	sh->per_pkg = topo.cores * topo.threads;
	sh->thread_bits = topo_thread_bits(&topo);
	sh->core_bits = topo_core_bits(&topo);
	sh->pkg_bits = topo_pkg_bits(&topo);
	sh->core = (t->apic_id >> sh->thread_bits) & ((1u << sh->core_bits) - 1);
	sh->socket = sh->pkg_bits < 32 ? t->apic_id >> sh->pkg_bits : 0;
	for (unsigned int i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &supported->entries[i];

		if (e->function != 0)
			continue;
		sh->intel = e->ebx == 0x756e6547;			/* "Genu" */
		sh->amd = e->ebx == 0x68747541 || e->ebx == 0x6f677948;	/* "Auth", "Hygo" */
	}
}

static uint32_t cap(uint32_t v, uint32_t max)
{
	return v < max ? v : max;
}

/*
 * Leaves 0xB and 0x1F: extended topology (SDM vol. 2A, CPUID leaf 0BH).
 * Subleaf 0 is the SMT level (EAX: APIC ID bits of the thread, EBX:
 * threads per core), subleaf 1 the core level (EAX: bits up to the
 * socket, EBX: logical processors per socket), then an invalid level;
 * EDX is the x2APIC ID everywhere. KVM reports a single template entry;
 * we write exactly three.
 */
static unsigned int cpuid_put_ext_topology(struct kvm_cpuid_entry2 *out,
					   unsigned int function,
					   const struct cpuid_topology *t,
					   const struct cpuid_shape *sh)
{
	for (unsigned int sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *e = &out[sub];

		memset(e, 0, sizeof(*e));
		e->function = function;
		e->index = sub;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e->edx = t->apic_id;
		e->ecx = sub;
		if (sub == 0) {
			e->eax = sh->thread_bits;
			e->ebx = sh->threads;
			e->ecx |= 1u << 8;	/* level type 1 = SMT */
		} else if (sub == 1) {
			e->eax = sh->pkg_bits;
			e->ebx = cap(sh->per_pkg, 0xffff);
			e->ecx |= 2u << 8;	/* level type 2 = core */
		}
	}
	return 3;
}

/*
 * Bits QEMU's kvm_arch_get_supported_cpuid() adds to what KVM reports,
 * for -cpu host (docs/cpuid.md compares the two leaf by leaf).
 */
static void cpuid_add_features(struct kvm_cpuid_entry2 *e, const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *t, const struct cpuid_shape *sh)
{
	const struct kvm_cpuid_entry2 *l1;

	switch (e->function) {
	case 1:
		/* ECX[24] TSC-deadline: the in-kernel LAPIC emulates it,
		 * but KVM_GET_SUPPORTED_CPUID never says so. */
		if (t->tsc_deadline)
			e->ecx |= 1u << 24;
		/* EDX MCE(7), MTRR(12), MCA(14), PAT(16): KVM emulates the
		 * MSRs; kernels before 2.6.30 left the bits out. */
		e->edx |= 1u << 7 | 1u << 12 | 1u << 14 | 1u << 16;
		break;
	case 6:
		/* EAX[2] ARAT: the emulated LAPIC timer runs in every C-state. */
		e->eax |= 1u << 2;
		break;
	case 7:
		/* Fast string operations are no new instructions, only
		 * hints: take the host's, as QEMU does. EBX[9] ERMS,
		 * EDX[4] FSRM; subleaf 1 EAX[10-12] FZRM, FSRS, FSRC. */
		if (e->index == 0) {
			e->ebx |= t->host_7_0_ebx & (1u << 9);
			e->edx |= t->host_7_0_edx & (1u << 4);
		} else if (e->index == 1) {
			e->eax |= t->host_7_1_eax & (7u << 10);
		}
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		/* The brand string (what Windows' Task Manager and
		 * /proc/cpuinfo's "model name" show): KVM reports none. */
		if (t->host_brand && !(e->eax | e->ebx | e->ecx | e->edx)) {
			const uint32_t *b = &t->host_brand[4 * (e->function - 0x80000002)];

			e->eax = b[0];
			e->ebx = b[1];
			e->ecx = b[2];
			e->edx = b[3];
		}
		break;
	case 0x80000001:
		/* AMD APM: EDX bits 0-9, 12-17, 23, 24 repeat CPUID.1:EDX;
		 * KVM on an Intel host reports them as Intel does (clear). */
		l1 = cpuid_find((struct kvm_cpuid2 *)supported, 1, 0);
		if (sh->amd && l1)
			e->edx |= (l1->edx | 1u << 7 | 1u << 12 | 1u << 14 | 1u << 16) &
				  0x0183f3ffu;
		/* ECX[22] TopoExt: leaves 0x8000001D/E, which we fill. */
		if (sh->amd && cpuid_find((struct kvm_cpuid2 *)supported, 0x8000001e, 0))
			e->ecx |= 1u << 22;
		break;
	default:
		break;
	}
}

struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported,
			       const struct cpuid_topology *t)
{
	struct cpuid_shape sh;
	struct kvm_cpuid2 *c;
	unsigned int n = 0;

	cpuid_shape_init(&sh, supported, t);

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
				n += cpuid_put_ext_topology(e, s->function, t, &sh);
			continue;
		}
		*e = *s;
		n++;
		cpuid_add_features(e, supported, t, &sh);

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
			 * logical processor IDs per package (a power of two
			 * covering the socket's APIC IDs, 8 bits). EDX[28]
			 * HTT says that field is valid. */
			e->ebx &= 0x0000ffff;
			e->ebx |= (t->apic_id & 0xff) << 24;
			e->ebx |= cap(1u << sh.pkg_bits, 0xff) << 16;
			if (sh.per_pkg > 1)
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
			/* EAX[31:26] addressable core IDs per package - 1,
			 * [25:14] addressable logical processor IDs sharing
			 * this cache - 1: L1 and L2 a core's threads, L3 the
			 * socket. */
			if ((e->eax & 0x1f) == 0)
				break;	/* no cache at this subleaf */
			e->eax &= 0x3fff;
			e->eax |= cap((1u << sh.core_bits) - 1, 0x3f) << 26;
			if (((e->eax >> 5) & 7) == 3)
				e->eax |= cap((1u << sh.pkg_bits) - 1, 0xfff) << 14;
			else
				e->eax |= ((1u << sh.thread_bits) - 1) << 14;
			break;
		case 0x80000001:
			/* ECX[1] CmpLegacy: AMD's "cores are not threads".
			 * Intel calls the bit reserved; Linux would drop the
			 * thread information (QEMU leaves it clear there). */
			if (sh.per_pkg > 1 && !sh.intel)
				e->ecx |= 1u << 1;
			else
				e->ecx &= ~(1u << 1);
			break;
		case 0x80000008:
			/* ECX[15:12] ApicIdSize: the socket's APIC ID bits,
			 * [7:0] NC: logical processors per socket - 1. */
			e->ecx &= ~0xf0ffu;
			e->ecx |= cap(sh.pkg_bits, 0xf) << 12;
			e->ecx |= cap(sh.per_pkg - 1, 0xff);
			break;
		case 0x8000001D:
			/* EAX[25:14] NumSharingCache - 1: L1 and L2 are a
			 * core's, L3 the socket's. */
			if ((e->eax & 0x1f) == 0)
				break;
			e->eax &= ~(0xfffu << 14);
			if (((e->eax >> 5) & 7) == 3)
				e->eax |= cap(sh.per_pkg - 1, 0xfff) << 14;
			else
				e->eax |= (sh.threads - 1) << 14;
			break;
		case 0x8000001E:
			/* EAX extended APIC ID; EBX[15:8] threads per core
			 * - 1, [7:0] core ID in the socket; ECX[10:8] nodes
			 * per socket - 1 (one), [7:0] node ID: the socket. */
			e->eax = t->apic_id;
			e->ebx = (sh.threads - 1) << 8 | (sh.core & 0xff);
			e->ecx = sh.socket & 0xff;
			e->edx = 0;
			break;
		default:
			break;
		}
	}
	c->nent = n;
	return c;
}
