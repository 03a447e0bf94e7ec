// SPDX-License-Identifier: MIT
/*
 * CPU topology: the shape's parsing and the APIC ID layout (lib/topology.h),
 * and how a --pin list sits on the host's SMT siblings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sysfs.h"
#include "lib/topology.h"

unsigned int topo_order_base_2(unsigned int n)
{
	unsigned int s = 0;

	while (s < 32 && (1ull << s) < n)
		s++;
	return s;
}

unsigned int topo_thread_bits(const struct cpu_topology *t)
{
	return topo_order_base_2(t->threads);
}

unsigned int topo_core_bits(const struct cpu_topology *t)
{
	return topo_order_base_2(t->cores);
}

unsigned int topo_pkg_bits(const struct cpu_topology *t)
{
	return topo_core_bits(t) + topo_thread_bits(t);
}

struct cpu_place topo_place(const struct cpu_topology *t, unsigned int index)
{
	return (struct cpu_place){
		.thread = index % t->threads,
		.core = index / t->threads % t->cores,
		.socket = index / (t->threads * t->cores),
	};
}

uint32_t topo_apic_id(const struct cpu_topology *t, unsigned int index)
{
	struct cpu_place p = topo_place(t, index);

	return p.socket << topo_pkg_bits(t) | p.core << topo_thread_bits(t) | p.thread;
}

uint32_t topo_apic_id_limit(const struct cpu_topology *t)
{
	return topo_apic_id(t, topo_nr_cpus(t) - 1) + 1;
}

/* One count of --cpus: 1..max, or 0 with a message. */
static unsigned int topo_count(const char *arg, const char *key, const char *val,
			       unsigned int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(val, &end, 10);
	if (errno || end == val || *end || !isdigit((unsigned char)*val) || n < 1 || n > max) {
		pr_err("--cpus %s: %s=%s is not a number from 1 to %u", arg, key, val, max);
		return 0;
	}
	return (unsigned int)n;
}

int topo_parse(const char *arg, unsigned int max_cpus, struct cpu_topology *t,
	       unsigned int *nr_cpus)
{
	unsigned int cpus = 0, sockets = 0, cores = 0, threads = 0;
	char buf[128], *item, *rest;
	unsigned long long product;
	bool first = true;

	if (strlen(arg) >= sizeof(buf) || !*arg) {
		pr_err("--cpus '%s': write N or N,sockets=S,cores=C,threads=T (e.g. 16,cores=8,threads=2)",
		       arg);
		return -EINVAL;
	}
	strcpy(buf, arg);
	rest = buf;
	for (; (item = strsep(&rest, ",")) != NULL; first = false) {
		char *val = strchr(item, '=');
		unsigned int *dst, max = max_cpus;
		const char *key = item;

		if (!*item) {
			pr_err("--cpus %s: an empty item (separate N and KEY=N with one comma)", arg);
			return -EINVAL;
		}
		if (val) {
			*val++ = '\0';
		} else if (first) {
			val = item;	/* the bare count */
			key = "cpus";
		} else {
			pr_err("--cpus %s: '%s' is not KEY=N (known: cpus, sockets, cores, threads)",
			       arg, item);
			return -EINVAL;
		}
		if (!strcmp(key, "cpus")) {
			dst = &cpus;
		} else if (!strcmp(key, "sockets")) {
			dst = &sockets;
		} else if (!strcmp(key, "cores")) {
			dst = &cores;
		} else if (!strcmp(key, "threads")) {
			dst = &threads;
			max = TOPO_MAX_THREADS;
		} else {
			pr_err("--cpus %s: unknown key '%s' (known: cpus, sockets, cores, threads)",
			       arg, key);
			return -EINVAL;
		}
		if (*dst) {
			pr_err("--cpus %s: %s given twice (give each count once)", arg, key);
			return -EINVAL;
		}
		*dst = topo_count(arg, key, val, max);
		if (!*dst)
			return -EINVAL;
	}
	/*
	 * QEMU's machine_parse_smp_config() (the "prefer cores" rule of
	 * machine types 6.2 and later; no maxcpus, minivmm has no CPU
	 * hotplug): omitted threads are 1, omitted cores take what the
	 * sockets leave, omitted sockets what the cores leave.
	 */
	if (!cpus) {
		sockets = sockets ? sockets : 1;
		cores = cores ? cores : 1;
		threads = threads ? threads : 1;
	} else if (!cores) {
		sockets = sockets ? sockets : 1;
		threads = threads ? threads : 1;
		cores = cpus / (sockets * threads);
	} else if (!sockets) {
		threads = threads ? threads : 1;
		sockets = cpus / (cores * threads);
	} else if (!threads) {
		threads = cpus / (sockets * cores);
		if (threads > TOPO_MAX_THREADS) {
			/* What threads= itself may not say, the division may
			 * not make either. */
			pr_err("--cpus %s: that leaves %u threads per core, more than %d (give more cores=, or sockets=)",
			       arg, threads, TOPO_MAX_THREADS);
			return -EINVAL;
		}
	}
	product = (unsigned long long)sockets * cores * threads;
	if (!cpus) {
		if (product > max_cpus) {
			pr_err("--cpus %s: %llu vCPUs, more than minivmm supports (at most %u)",
			       arg, product, max_cpus);
			return -EINVAL;
		}
		cpus = (unsigned int)product;
	}
	if (!sockets || !cores || !threads || product != cpus) {
		pr_err("--cpus %s: %u socket(s) x %u core(s) x %u thread(s) is not %u vCPUs (make sockets x cores x threads equal the count)",
		       arg, sockets, cores, threads, cpus);
		return -EINVAL;
	}
	*t = (struct cpu_topology){ .sockets = sockets, .cores = cores, .threads = threads };
	*nr_cpus = cpus;
	return 0;
}

/* Does a kernel CPU list ("0,8" or "0-1") name cpu? */
static bool topo_list_has(const char *list, int cpu)
{
	const char *p = list;

	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return false;
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			if (end == p + 1)
				return false;
			p = end;
		}
		if (cpu >= lo && cpu <= hi)
			return true;
		if (*p != ',')
			break;
		p++;
	}
	return false;
}

/* Host CPU cpu's SMT siblings (itself included); -errno if sysfs does not say. */
static int topo_host_siblings(const char *sysfs_root, int cpu, char *buf, size_t len)
{
	char path[HOST_PATH_MAX];
	int ret;

	ret = host_path(path, sizeof(path), "%s/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			sysfs_root, cpu);
	return ret ? ret : host_read_str(path, buf, len);
}

bool topo_pin_matches_host(const struct cpu_topology *t, const int *pin, unsigned int nr,
			   const char *sysfs_root, char *why, size_t why_len)
{
	char sib[256];

	for (unsigned int i = 0; i < nr; i++) {
		unsigned int core_i = i / t->threads;

		if (topo_host_siblings(sysfs_root, pin[i], sib, sizeof(sib)))
			return true;	/* the host cannot say: nothing to compare */
		for (unsigned int j = i + 1; j < nr; j++) {
			bool same_core = j / t->threads == core_i;
			bool siblings = topo_list_has(sib, pin[j]);

			if (pin[j] == pin[i] && !same_core)
				siblings = true;
			if (same_core && !siblings) {
				snprintf(why, why_len,
					 "vCPUs %u and %u are threads of one guest core, but host CPUs %d and %d are not SMT siblings (host CPU %d's siblings: %s; pin each guest core's threads on one host core's thread_siblings_list)",
					 i, j, pin[i], pin[j], pin[i], sib);
				return false;
			}
			if (!same_core && siblings) {
				snprintf(why, why_len,
					 "vCPUs %u and %u are on different guest cores, but host CPUs %d and %d are one host core's SMT threads (siblings: %s; give each guest core its own host core)",
					 i, j, pin[i], pin[j], sib);
				return false;
			}
		}
	}
	return true;
}
