// SPDX-License-Identifier: MIT
/*
 * lib/topology.c: --cpus shapes (QEMU's -smp derivation, bad input), APIC
 * ID layouts with and without gaps, and --pin against a fake host's SMT
 * siblings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/topology.h"
#include "tests/unit/fake_vfio.h"
#include "tests/unit/fakesys/fakesys.h"

struct parse_call {
	const char *arg;
	struct cpu_topology t;
	unsigned int n;
	int ret;
};

static void parse_fn(void *opaque)
{
	struct parse_call *c = opaque;

	c->ret = topo_parse(c->arg, 4096, &c->t, &c->n);
}

/* Parse arg; on success check the shape, on failure the message. */
static void expect_shape(const char *arg, unsigned int n, unsigned int s, unsigned int c,
			 unsigned int t)
{
	struct parse_call call = { .arg = arg };
	char err[512];

	fv_capture_stderr(parse_fn, &call, err, sizeof(err));
	if (call.ret)
		print_message("--cpus %s: %s", arg, err);
	assert_int_equal(call.ret, 0);
	assert_int_equal(call.n, n);
	assert_int_equal(call.t.sockets, s);
	assert_int_equal(call.t.cores, c);
	assert_int_equal(call.t.threads, t);
}

static void expect_error(const char *arg, const char *needle)
{
	struct parse_call call = { .arg = arg };
	char err[512];

	fv_capture_stderr(parse_fn, &call, err, sizeof(err));
	assert_int_equal(call.ret, -EINVAL);
	if (!strstr(err, needle)) {
		print_message("--cpus %s: '%s' lacks '%s'\n", arg, err, needle);
		fail();
	}
	/* One line, naming the option. */
	assert_non_null(strstr(err, "--cpus"));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
}

static void test_parse(void **state)
{
	expect_shape("4", 4, 1, 4, 1);				/* as before: cores */
	expect_shape("16,cores=8,threads=2", 16, 1, 8, 2);	/* the setup guide's */
	expect_shape("cpus=16,cores=8,threads=2,sockets=1", 16, 1, 8, 2);
	expect_shape("16,threads=2", 16, 1, 8, 2);		/* cores derived */
	expect_shape("16,sockets=2", 16, 2, 8, 1);
	expect_shape("16,sockets=2,threads=2", 16, 2, 4, 2);
	expect_shape("16,cores=4", 16, 4, 4, 1);		/* sockets derived */
	expect_shape("12,sockets=2,cores=3", 12, 2, 3, 2);	/* threads derived */
	expect_shape("sockets=2,cores=3,threads=2", 12, 2, 3, 2);	/* count derived */
	expect_shape("cores=4", 4, 1, 4, 1);
	expect_shape("6,cores=3,threads=2", 6, 1, 3, 2);
	expect_shape("4096", 4096, 1, 4096, 1);
}

static void test_parse_errors(void **state)
{
	expect_error("16,cores=3", "5 socket(s) x 3 core(s) x 1 thread(s) is not 16");
	expect_error("16,cores=8,threads=4", "0 socket(s) x 8 core(s) x 4 thread(s) is not 16");
	expect_error("16,sockets=1,cores=8,threads=4", "1 socket(s) x 8 core(s) x 4 thread(s) is not 16");
	expect_error("2,cores=4", "0 socket(s) x 4 core(s) x 1 thread(s) is not 2");
	expect_error("7,threads=2", "is not 7");
	expect_error("0", "cpus=0 is not a number from 1 to 4096");
	expect_error("two", "cpus=two");
	expect_error("-1", "cpus=-1");
	expect_error("4097", "from 1 to 4096");
	expect_error("16,threads=16", "threads=16 is not a number from 1 to 8");
	/* Derived, the same limit (found by fuzz_cli). */
	expect_error("60,sockets=1,cores=6", "that leaves 10 threads per core, more than 8");
	expect_error("16,cores=", "cores= is not a number");
	expect_error("16,cores=x", "cores=x");
	expect_error("16,dies=2", "unknown key 'dies'");
	expect_error("16,cores=8,cores=8", "cores given twice");
	expect_error("16,8", "'8' is not KEY=N");
	expect_error("", "write N or");
	expect_error("16,,cores=8", "an empty item");
	expect_error("16,", "an empty item");
	expect_error("sockets=64,cores=64,threads=2", "8192 vCPUs, more than minivmm supports");
}

/* Where every vCPU's APIC ID lands, for a shape. */
static void expect_ids(struct cpu_topology t, const uint32_t *ids, unsigned int n)
{
	assert_int_equal(topo_nr_cpus(&t), n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(topo_apic_id(&t, i), ids[i]);
	assert_int_equal(topo_apic_id_limit(&t), ids[n - 1] + 1);
}

static void test_apic_ids(void **state)
{
	struct cpu_topology t;
	struct cpu_place p;

	/* 1 socket x 4 cores x 2 threads: dense, thread in bit 0. */
	t = (struct cpu_topology){ 1, 4, 2 };
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8);
	assert_int_equal(topo_thread_bits(&t), 1);
	assert_int_equal(topo_core_bits(&t), 2);
	p = topo_place(&t, 5);
	assert_int_equal(p.core, 2);
	assert_int_equal(p.thread, 1);

	/* 2 sockets x 2 cores x 2 threads: socket in bit 2. */
	t = (struct cpu_topology){ 2, 2, 2 };
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8);
	assert_int_equal(topo_place(&t, 4).socket, 1);

	/* 6 CPUs, 3 cores x 2 threads: IDs 0-5, the core field's 3 unused. */
	t = (struct cpu_topology){ 1, 3, 2 };
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 3, 4, 5 }, 6);
	assert_int_equal(topo_pkg_bits(&t), 3);

	/* 2 sockets x 3 cores x 2 threads: socket 1 starts at 8 (gap 6-7). */
	t = (struct cpu_topology){ 2, 3, 2 };
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13 }, 12);

	/* 2 sockets x 3 cores x 1 thread: 0-2, 4-6. */
	t = (struct cpu_topology){ 2, 3, 1 };
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 4, 5, 6 }, 6);

	/* Flat (no shape): ID = index. */
	t = topo_flat(5);
	expect_ids(t, (const uint32_t[]){ 0, 1, 2, 3, 4 }, 5);
	assert_int_equal(topo_thread_bits(&t), 0);

	/* A topology for another count falls back to flat. */
	t = (struct cpu_topology){ 1, 2, 2 };
	assert_int_equal(topo_or_flat(&t, 4).threads, 2);
	assert_int_equal(topo_or_flat(&t, 2).threads, 1);
	assert_int_equal(topo_or_flat(&(struct cpu_topology){ 0 }, 3).cores, 3);
}

/* A host of 2 cores x 2 threads numbered like Linux on Intel: core 0 is
 * CPUs 0 and 2, core 1 CPUs 1 and 3. */
static void host_smt(struct fakesys *fs)
{
	fs_write(fs, "sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0,2\n");
	fs_write(fs, "sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "0,2\n");
	fs_write(fs, "sys/devices/system/cpu/cpu1/topology/thread_siblings_list", "1,3\n");
	fs_write(fs, "sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "1,3\n");
}

static void test_pin_siblings(void **state)
{
	struct fakesys *fs = *state;
	struct cpu_topology t = { 1, 2, 2 };
	char why[512];

	host_smt(fs);
	/* Guest core 0 on host CPUs 0+2, core 1 on 1+3: matches. */
	assert_true(topo_pin_matches_host(&t, (const int[]){ 0, 2, 1, 3 }, 4, fs->sys, why,
					  sizeof(why)));
	assert_true(topo_pin_matches_host(&t, (const int[]){ 3, 1, 2, 0 }, 4, fs->sys, why,
					  sizeof(why)));
	/* In host numbering order: guest core 0's threads on two host cores. */
	assert_false(topo_pin_matches_host(&t, (const int[]){ 0, 1, 2, 3 }, 4, fs->sys, why,
					   sizeof(why)));
	assert_non_null(strstr(why, "vCPUs 0 and 1 are threads of one guest core, but host CPUs 0 and 1 are not SMT siblings (host CPU 0's siblings: 0,2;"));
	/* Two guest cores on one host core (each thread alone on a host
	 * core would be the other failure first: make core 0 right). */
	t = (struct cpu_topology){ 1, 2, 2 };
	assert_false(topo_pin_matches_host(&t, (const int[]){ 0, 2, 0, 2 }, 4, fs->sys, why,
					   sizeof(why)));
	assert_non_null(strstr(why, "vCPUs 0 and 2 are on different guest cores, but host CPUs 0 and 0"));
	/* Range syntax in sysfs. */
	fs_write(fs, "sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0-1\n");
	fs_write(fs, "sys/devices/system/cpu/cpu1/topology/thread_siblings_list", "0-1\n");
	t = (struct cpu_topology){ 1, 1, 2 };
	assert_true(topo_pin_matches_host(&t, (const int[]){ 1, 0 }, 2, fs->sys, why,
					  sizeof(why)));
	/* A host that does not say (no topology directory): no complaint. */
	assert_true(topo_pin_matches_host(&t, (const int[]){ 7, 8 }, 2, fs->sys, why,
					  sizeof(why)));
}

/* No SMT on the host: two guest threads on one host CPU is the closest
 * fit; on two host CPUs it is not what the guest is told. */
static void test_pin_no_smt(void **state)
{
	struct fakesys *fs = *state;
	struct cpu_topology t = { 1, 2, 2 };
	char why[512];

	fs_write(fs, "sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0\n");
	fs_write(fs, "sys/devices/system/cpu/cpu1/topology/thread_siblings_list", "1\n");
	assert_true(topo_pin_matches_host(&t, (const int[]){ 0, 0, 1, 1 }, 4, fs->sys, why,
					  sizeof(why)));
	assert_false(topo_pin_matches_host(&t, (const int[]){ 0, 1, 0, 1 }, 4, fs->sys, why,
					   sizeof(why)));
	assert_non_null(strstr(why, "host CPUs 0 and 1 are not SMT siblings"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_apic_ids),
		cmocka_unit_test_setup_teardown(test_pin_siblings, fs_test_setup, fs_test_teardown),
		cmocka_unit_test_setup_teardown(test_pin_no_smt, fs_test_setup, fs_test_teardown),
	};

	return cmocka_run_group_tests_name("topology", tests, NULL, NULL);
}
