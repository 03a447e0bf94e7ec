/* SPDX-License-Identifier: MIT */
/*
 * The guest's CPU topology: sockets of cores of threads, and the APIC ID
 * of each vCPU. vCPU i is thread i % threads of core (i / threads) % cores
 * of socket i / (threads * cores), as QEMU numbers them; its APIC ID packs
 * (socket, core, thread) into bit fields each wide enough for its count
 * (Intel SDM vol. 3A §10.12.8.1 "Hierarchical Mapping of Shared
 * Resources"), so a shape whose counts are not powers of two leaves gaps
 * in the APIC ID space (3 cores: IDs of a socket's cores 0, 1, 2, never 3).
 * CPUID (vmm/cpuid.c), the MADT (firmware/acpi.c), SMBIOS type 4 and
 * KVM's vCPU ids all follow from this one description.
 */
#ifndef MINIVMM_LIB_TOPOLOGY_H
#define MINIVMM_LIB_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPO_MAX_THREADS	8	/* threads per core, as on any x86 part */

struct cpu_topology {
	unsigned int sockets;
	unsigned int cores;		/* per socket */
	unsigned int threads;		/* per core */
};

/* Where one vCPU sits. */
struct cpu_place {
	unsigned int socket, core, thread;
};

/* One socket of n cores of one thread: what --cpus N means. */
static inline struct cpu_topology topo_flat(unsigned int n)
{
	return (struct cpu_topology){ .sockets = 1, .cores = n, .threads = 1 };
}

static inline unsigned int topo_nr_cpus(const struct cpu_topology *t)
{
	return t->sockets * t->cores * t->threads;
}

/* t if it describes n CPUs; otherwise (a zeroed topology, a config that
 * names none) topo_flat(n). */
static inline struct cpu_topology topo_or_flat(const struct cpu_topology *t, unsigned int n)
{
	return t && t->sockets && t->cores && t->threads && topo_nr_cpus(t) == n ? *t
										 : topo_flat(n);
}

/* Bits needed to number n items: 1 -> 0, 2 -> 1, 3..4 -> 2, ... */
unsigned int topo_order_base_2(unsigned int n);

/* APIC ID field widths: thread within core, core within socket, and the
 * two together (the socket's share of the ID, CPUID 0x80000008 ApicIdSize). */
unsigned int topo_thread_bits(const struct cpu_topology *t);
unsigned int topo_core_bits(const struct cpu_topology *t);
unsigned int topo_pkg_bits(const struct cpu_topology *t);

struct cpu_place topo_place(const struct cpu_topology *t, unsigned int index);
uint32_t topo_apic_id(const struct cpu_topology *t, unsigned int index);
/* Highest APIC ID + 1 (QEMU's apic_id_limit: fw_cfg MAX_CPUS, KVM vCPU ids). */
uint32_t topo_apic_id_limit(const struct cpu_topology *t);

/*
 * --cpus N[,sockets=S][,cores=C][,threads=T] (also cpus=N; QEMU's -smp
 * syntax). Missing counts are derived as QEMU does since 6.2 (threads 1,
 * then cores before sockets); the product must equal N. *t gets the
 * shape and *nr_cpus the count; -EINVAL after printing one line naming
 * the problem and the fix.
 */
int topo_parse(const char *arg, unsigned int max_cpus, struct cpu_topology *t,
	       unsigned int *nr_cpus);

/*
 * --pin with threads > 1: do vCPUs on one guest core sit on one host
 * core's SMT siblings, and vCPUs of different guest cores on different
 * host cores? Reads sysfs_root/devices/system/cpu/cpuN/topology/
 * thread_siblings_list. Returns true if they do (or the host cannot say);
 * false with a one-line explanation in why otherwise.
 */
bool topo_pin_matches_host(const struct cpu_topology *t, const int *pin, unsigned int nr,
			   const char *sysfs_root, char *why, size_t why_len);

#endif
