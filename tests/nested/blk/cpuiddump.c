// SPDX-License-Identifier: MIT
/*
 * cpuiddump: every CPUID leaf and subleaf of one CPU, for the Linux guest of
 * the nested tests (53-topology compares them with the shape given to
 * minivmm, and with QEMU's -cpu host). Built static on L0 by
 * tests/nested/blk/images.sh.
 *
 *   cpuiddump [CPU]      one line per (sub)leaf:
 *                        "LEAF.SUB EAX EBX ECX EDX" in hex
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static void dump(unsigned int leaf, unsigned int sub, unsigned int r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
	/* 0xD: only the state components there are. */
	if (leaf == 0xd && sub > 1 && !(r[0] | r[1] | r[2] | r[3]))
		return;
	printf("%08x.%02x %08x %08x %08x %08x\n", leaf, sub, r[0], r[1], r[2], r[3]);
}

/* Subleaves: 4 and 0x8000001D until a null cache type, 0xB and 0x1F until
 * a null level type, 7 as many as subleaf 0 says, 0xD those of the 64 that are not null. */
static void leaf(unsigned int l)
{
	unsigned int r[4], max = 0;

	for (unsigned int s = 0; s < 64; s++) {
		dump(l, s, r);
		if (l == 4 || l == 0x8000001d) {
			if (!(r[0] & 0x1f))
				break;
		} else if (l == 0xb || l == 0x1f) {
			if (!(r[2] & 0xff00))
				break;
		} else if (l == 7) {
			if (s == 0)
				max = r[0];
			if (s >= max)
				break;
		} else if (l != 0xd) {
			break;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned int r[4];

	if (argc > 1) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[1]), &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	for (unsigned int base = 0; base <= 0x80000000u; base += 0x40000000u) {
		unsigned int max;

		__cpuid(base, max, r[1], r[2], r[3]);
		if (base && (max < base || max > base + 0xff))
			continue;	/* no such range */
		for (unsigned int l = base; l <= max; l++)
			leaf(l);
		if (base == 0x80000000u)
			break;
	}
	return 0;
}
