// SPDX-License-Identifier: MIT
/* Command-line parsing: the good forms and every bad-input case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/size.h"
#include "lib/trace.h"
#include "vmm/cli.h"

#define ARGS(...) ((char *[]){ "minivmm", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "minivmm", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(cfg, ...) cli_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), cfg)

static void test_size(void **state)
{
	uint64_t b;

	assert_int_equal(parse_size("512M", &b), 0);
	assert_int_equal(b, 512 * MiB);
	assert_int_equal(parse_size("16G", &b), 0);
	assert_int_equal(b, 16 * GiB);
	assert_int_equal(parse_size("16g", &b), 0);
	assert_int_equal(parse_size("2GiB", &b), 0);
	assert_int_equal(b, 2 * GiB);
	assert_int_equal(parse_size("1024", &b), 0);	/* MiB, like QEMU */
	assert_int_equal(b, GiB);
	assert_int_equal(parse_size("65536K", &b), 0);
	assert_int_equal(b, 64 * MiB);
	assert_int_equal(parse_size("1T", &b), 0);
	assert_int_equal(b, 1024 * GiB);
	assert_int_equal(parse_size("", &b), -EINVAL);
	assert_int_equal(parse_size("G", &b), -EINVAL);
	assert_int_equal(parse_size("-1G", &b), -EINVAL);
	assert_int_equal(parse_size("1.5G", &b), -EINVAL);
	assert_int_equal(parse_size("12X", &b), -EINVAL);
	assert_int_equal(parse_size("1GG", &b), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &b), -EINVAL);
	assert_int_equal(parse_size("17179869184T", &b), -EINVAL);	/* overflow */
}

static void test_cpu_list(void **state)
{
	int cpus[16];

	assert_int_equal(cli_parse_cpu_list("14-17,32-35", cpus, 16), 8);
	assert_int_equal(cpus[0], 14);
	assert_int_equal(cpus[3], 17);
	assert_int_equal(cpus[4], 32);
	assert_int_equal(cpus[7], 35);
	assert_int_equal(cli_parse_cpu_list("3", cpus, 16), 1);
	assert_int_equal(cli_parse_cpu_list("0,2,4", cpus, 16), 3);
	assert_int_equal(cpus[2], 4);
	assert_int_equal(cli_parse_cpu_list("", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("1-", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("-3", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("5-2", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("1,,2", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("1,", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("a", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("1 2", cpus, 16), -EINVAL);
	assert_int_equal(cli_parse_cpu_list("0-100", cpus, 16), -E2BIG);
	assert_int_equal(cli_parse_cpu_list("99999", cpus, 16), -EINVAL);
}

static void test_cpu_online(void **state)
{
	assert_true(cli_cpu_in_list("0-3,8", 0));
	assert_true(cli_cpu_in_list("0-3,8", 3));
	assert_true(cli_cpu_in_list("0-3,8", 8));
	assert_false(cli_cpu_in_list("0-3,8", 4));
	assert_false(cli_cpu_in_list("0-3,8", 9));
	assert_true(cli_cpu_in_list("0", 0));
	assert_false(cli_cpu_in_list("", 0));
}

static void test_defaults_and_full(void **state)
{
	struct vm_config c;

	assert_int_equal(PARSE(&c, "--firmware", "fw.bin"), 0);
	assert_int_equal(c.mem_size, 512 * MiB);
	assert_int_equal(c.nr_cpus, 1);
	assert_int_equal(c.backing, MEM_BACKING_ANON);
	assert_int_equal(c.serial, SERIAL_STDIO);
	assert_string_equal(c.firmware, "fw.bin");

	assert_int_equal(PARSE(&c, "--memory", "16G", "--cpus", "4", "--pin", "14-17,32-35",
			       "--hugepages", "1G", "--firmware=fw.bin", "--serial", "file:/tmp/s",
			       "--debugcon", "/tmp/d", "--testdev", "--hide-kvm", "--stats"), 0);
	assert_int_equal(c.mem_size, 16 * GiB);
	assert_int_equal(c.nr_cpus, 4);
	assert_int_equal(c.nr_pin, 8);
	assert_int_equal(c.pin[3], 17);
	assert_int_equal(c.backing, MEM_BACKING_HUGE_1G);
	assert_int_equal(c.serial, SERIAL_FILE);
	assert_string_equal(c.serial_path, "/tmp/s");
	assert_string_equal(c.debugcon, "/tmp/d");
	assert_true(c.testdev);
	assert_true(c.hide_kvm);
	assert_true(c.stats);

	/* No shape: one socket of N cores of one thread, as before. */
	assert_int_equal(c.topo.sockets, 1);
	assert_int_equal(c.topo.cores, 4);
	assert_int_equal(c.topo.threads, 1);
	assert_int_equal(c.nr_pin_io, 0);

	/* The setup guide's -smp cpus=16,cores=8,threads=2, and --pin-io. */
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "16,cores=8,threads=2",
			       "--pin", "2-9,18-25", "--pin-io", "0,16"), 0);
	assert_int_equal(c.nr_cpus, 16);
	assert_int_equal(c.topo.sockets, 1);
	assert_int_equal(c.topo.cores, 8);
	assert_int_equal(c.topo.threads, 2);
	assert_int_equal(c.nr_pin, 16);
	assert_int_equal(c.nr_pin_io, 2);
	assert_int_equal(c.pin_io[1], 16);
	/* The last --cpus wins, shape and all. */
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "16,threads=2", "--cpus", "2"), 0);
	assert_int_equal(c.topo.threads, 1);
	assert_int_equal(c.topo.cores, 2);

	assert_int_equal(PARSE(&c, "--firmware", "f", "--hugepages", "2M", "--serial", "none"), 0);
	assert_int_equal(c.backing, MEM_BACKING_HUGE_2M);
	assert_int_equal(c.serial, SERIAL_NONE);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--serial", "pty"), 0);
	assert_int_equal(c.serial, SERIAL_PTY);
}

static void test_uuid(void **state)
{
	uint8_t u[16];

	assert_int_equal(cli_parse_uuid("6b1f3c2e-8a9d-4f10-b2c3-0123456789AB", u), 0);
	assert_int_equal(u[0], 0x6b);
	assert_int_equal(u[4], 0x8a);
	assert_int_equal(u[15], 0xab);
	assert_int_equal(cli_parse_uuid("6b1f3c2e8a9d4f10b2c30123456789ab", u), -EINVAL);
	assert_int_equal(cli_parse_uuid("6b1f3c2e-8a9d-4f10-b2c3-0123456789ag", u), -EINVAL);
	assert_int_equal(cli_parse_uuid("6b1f3c2e-8a9d-4f10-b2c3-0123456789a", u), -EINVAL);
	assert_int_equal(cli_parse_uuid("6b1f3c2e-8a9d-4f10-b2c30-123456789ab", u), -EINVAL);
}

static void test_ovmf_options(void **state)
{
	struct vm_config c;

	assert_int_equal(PARSE(&c, "--ovmf", "/usr/share/ovmf/OVMF.fd"), 0);
	assert_string_equal(c.ovmf, "/usr/share/ovmf/OVMF.fd");
	assert_null(c.firmware);
	assert_string_equal(c.name, "minivmm");
	assert_false(c.rtc_localtime);
	assert_int_equal(PARSE(&c, "--ovmf", "code.fd", "--ovmf-vars", "vars.fd", "--name", "win10",
			       "--rtc", "localtime", "--uuid", "6b1f3c2e-8a9d-4f10-b2c3-0123456789ab",
			       "--serial-number", "SN42"), 0);
	assert_string_equal(c.ovmf_vars, "vars.fd");
	assert_string_equal(c.name, "win10");
	assert_true(c.rtc_localtime);
	assert_true(c.has_uuid);
	assert_string_equal(c.serial_number, "SN42");

	assert_int_equal(PARSE(&c, "--ovmf", "a", "--firmware", "b"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf-vars", "v"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--rtc", "gmt"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--uuid", "xyz"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--name", "../etc"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--name", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "a"), 0);
	assert_false(c.no_seccomp);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--seccomp", "off"), 0);
	assert_true(c.no_seccomp);
	assert_int_equal(PARSE(&c, "--ovmf", "a", "--seccomp", "maybe"), -EINVAL);
}

static void test_help_version(void **state)
{
	struct vm_config c;

	assert_int_equal(PARSE(&c, "--help"), 1);
	assert_int_equal(PARSE(&c, "--version"), 1);
}

static void test_bad_input(void **state)
{
	struct vm_config c;

	/* Each prints one line to stderr and returns -EINVAL. */
	assert_int_equal(PARSE(&c, "--frobnicate"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "-x"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware"), -EINVAL);		/* no value */
	assert_int_equal(PARSE(&c, "--firmware", "f", "stray"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--memory", "lots"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--memory", "1.5G"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--memory", "16M"), -EINVAL);	/* too small */
	assert_int_equal(PARSE(&c, "--firmware", "f", "--memory", "0"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--memory", "128T"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "0"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "two"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "-1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "100000"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "16,cores=3"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "4,threads=16"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "4,dies=2"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "4,cores=2,threads=2",
			       "--pin", "0-2"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--pin-io", "1-"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--pin-io", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--pin", "1-x"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--pin", "3-1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--cpus", "4", "--pin", "0-2"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--pin", "0-9000"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--hugepages", "4K"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--serial", "tcp:1234"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f", "--serial", "file:"), -EINVAL);
	assert_int_equal(PARSE(&c, "--memory", "1G"), -EINVAL);	/* no firmware */
}

/*
 * Found by fuzz_cli (tests/fuzz/corpus/cli/crash-getopt-state): a bad
 * group of short options ("-ab") left getopt in the middle of that
 * argument, and the next cli_parse() in the same process carried on
 * reading it, from an argv that may be gone, and refused a good command
 * line. Every call must start getopt afresh.
 */
static void test_parse_is_repeatable(void **state)
{
	static struct vm_config c;
	char fuzzed[] = "-\x11\xaa";

	assert_int_equal(PARSE(&c, fuzzed), -EINVAL);
	memset(fuzzed, 0, sizeof(fuzzed));	/* as if that argv were freed */
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--cpus", "2"), 0);
	assert_int_equal(c.nr_cpus, 2);
	assert_int_equal(PARSE(&c, "--firmware", "f", "-abc"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "f"), 0);
	assert_int_equal(PARSE(&c, "-xy", "--firmware", "f"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--memory", "1G"), 0);
	assert_int_equal(c.mem_size, GiB);
}

/* Reboot in place by default; the power button's grace period. */
static void test_reset_and_shutdown_options(void **state)
{
	struct vm_config c;

	assert_int_equal(PARSE(&c, "--firmware", "fw.bin"), 0);
	assert_false(c.no_reboot);
	assert_int_equal(c.shutdown_timeout, 60);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--no-reboot", "--shutdown-timeout", "0"), 0);
	assert_true(c.no_reboot);
	assert_int_equal(c.shutdown_timeout, 0);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--shutdown-timeout", "300"), 0);
	assert_int_equal(c.shutdown_timeout, 300);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--shutdown-timeout", "-1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--shutdown-timeout", "1m"), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--shutdown-timeout", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--firmware", "fw.bin", "--shutdown-timeout", "86401"), -EINVAL);
}

static void test_vfio_options(void **state)
{
	static struct vm_config cfg;
	struct vfio_dev_config d;

	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--vfio", "b4:00.0", "--gpu",
			       "65:00,vga=on,romfile=/tmp/a,,b.rom", "--vfio",
			       "host=0000:03:00.1,romfile=x.rom"), 0);
	assert_int_equal(cfg.nr_vfio, 3);
	assert_string_equal(cfg.vfio[0].bdf, "b4:00.0");
	assert_false(cfg.vfio[0].gpu);
	assert_string_equal(cfg.vfio[0].romfile, "");
	assert_string_equal(cfg.vfio[1].bdf, "65:00");
	assert_true(cfg.vfio[1].gpu);
	assert_true(cfg.vfio[1].vga);
	assert_string_equal(cfg.vfio[1].romfile, "/tmp/a,b.rom");
	assert_string_equal(cfg.vfio[2].bdf, "0000:03:00.1");
	assert_string_equal(cfg.vfio[2].romfile, "x.rom");

	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hv-vendor-id", "1234567890ab"), 0);
	assert_string_equal(cfg.hv_vendor_id, "1234567890ab");
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hv-vendor-id", "1234567890abc"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hv-vendor-id", ""), -EINVAL);

	/* --hyperv: on unless said otherwise; "given" makes a KVM without
	 * Hyper-V support an error instead of a note. */
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd"), 0);
	assert_true(cfg.hyperv);
	assert_false(cfg.hyperv_given);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv", "off"), 0);
	assert_false(cfg.hyperv);
	assert_true(cfg.hyperv_given);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv=on", "--hide-kvm",
			       "--hv-vendor-id", "Microsoft Hv"), 0);
	assert_true(cfg.hyperv);
	assert_true(cfg.hyperv_given);
	assert_true(cfg.hide_kvm);
	assert_string_equal(cfg.hv_vendor_id, "Microsoft Hv");
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv", "yes"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv", "ON"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--hyperv"), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,vga=off", true, &d), 0);
	assert_false(d.vga);
	assert_int_equal(cli_parse_vfio("zz:00.0", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.9", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,vga=on", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,vga=yes", true, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,rombar=0", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,romfile=", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("romfile=a.rom", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,vga", true, &d), -EINVAL);
	/* mmap=off: every BAR access trapped (docs/latency.md) */
	assert_int_equal(cli_parse_vfio("65:00.0,mmap=off", false, &d), 0);
	assert_true(d.no_mmap);
	assert_int_equal(cli_parse_vfio("65:00,mmap=on,vga=on", true, &d), 0);
	assert_false(d.no_mmap);
	assert_int_equal(cli_parse_vfio("65:00.0,mmap=no", false, &d), -EINVAL);
	assert_int_equal(cli_parse_vfio("65:00.0,mmap", false, &d), -EINVAL);
	/* --trace vfio[,file=PATH] */
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd"), 0);
	assert_int_equal(cfg.trace_mask, 0);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", "vfio"), 0);
	assert_int_equal(cfg.trace_mask, TRACE_VFIO);
	assert_null(cfg.trace_file);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", "vfio,file=/tmp/t,x.json"), 0);
	assert_int_equal(cfg.trace_mask, TRACE_VFIO);
	assert_string_equal(cfg.trace_file, "/tmp/t,x.json");
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", "kvm"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", "file=/tmp/t"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--trace", "vfio,file="), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--vfio", "1:0.0", "--vfio", "1:0.1",
			       "--vfio", "1:0.2", "--vfio", "1:0.3", "--vfio", "1:0.4", "--vfio",
			       "1:0.5", "--vfio", "1:0.6", "--vfio", "1:0.7", "--vfio", "2:0.0"),
			 -EINVAL);
}

/* --control, --daemonize, --pidfile, --log (docs/control.md). */
static void test_control_and_daemon_options(void **state)
{
	static struct vm_config c;
	char longpath[160];

	assert_int_equal(PARSE(&c, "--ovmf", "o.fd"), 0);
	assert_null(c.control);
	assert_false(c.daemonize);
	assert_null(c.pidfile);
	assert_null(c.log);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--control", "/run/vm.sock", "--daemonize",
			       "--pidfile", "/run/vm.pid", "--log", "/var/log/vm.log",
			       "--serial", "pty"), 0);
	assert_string_equal(c.control, "/run/vm.sock");
	assert_true(c.daemonize);
	assert_string_equal(c.pidfile, "/run/vm.pid");
	assert_string_equal(c.log, "/var/log/vm.log");
	assert_int_equal(c.serial, SERIAL_PTY);
	/* a daemon lets go of the terminal: no console there by default ... */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--daemonize"), 0);
	assert_int_equal(c.serial, SERIAL_NONE);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--daemonize", "--serial", "file:/tmp/s"), 0);
	assert_int_equal(c.serial, SERIAL_FILE);
	/* ... and asking for one there is an error, whatever the order */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--daemonize", "--serial", "stdio"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--serial", "stdio", "--daemonize"), -EINVAL);
	/* without --daemonize the default stays the terminal */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--pidfile", "p", "--log", "l"), 0);
	assert_int_equal(c.serial, SERIAL_STDIO);

	/* a socket path fits sockaddr_un's 108 bytes with its NUL */
	memset(longpath, 'a', CLI_CONTROL_PATH_MAX);
	longpath[CLI_CONTROL_PATH_MAX] = '\0';
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--control", longpath), 0);
	longpath[CLI_CONTROL_PATH_MAX] = 'a';
	longpath[CLI_CONTROL_PATH_MAX + 1] = '\0';
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--control", longpath), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--control", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--control"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--pidfile", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--log", ""), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--daemonize=yes"), -EINVAL);
}

/* --halt-poll NS and --cpu-pm on|off (docs/latency.md). */
static void test_latency_options(void **state)
{
	static struct vm_config c;

	assert_int_equal(PARSE(&c, "--ovmf", "o.fd"), 0);
	assert_int_equal(c.halt_poll_ns, -1);	/* KVM's default */
	assert_false(c.cpu_pm);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "0"), 0);
	assert_int_equal(c.halt_poll_ns, 0);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "200000"), 0);
	assert_int_equal(c.halt_poll_ns, 200000);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "4294967295"), 0);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "4294967296"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "-1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "+5"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", "10us"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--halt-poll", ""), -EINVAL);

	/* --cpu-pm on: each vCPU on a host CPU of its own */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpus", "2", "--pin", "2,3", "--cpu-pm", "on"), 0);
	assert_true(c.cpu_pm);
	assert_int_equal(PARSE(&c, "--cpu-pm", "on", "--pin", "5", "--ovmf", "o.fd"), 0);
	assert_true(c.cpu_pm);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpu-pm", "off"), 0);
	assert_false(c.cpu_pm);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpu-pm", "on"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpus", "2", "--pin", "3,3", "--cpu-pm", "on"),
			 -EINVAL);
	/* a list longer than --cpus: only the vCPUs' entries must differ */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpus", "2", "--pin", "1,2,1", "--cpu-pm", "on"), 0);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpu-pm", "yes", "--pin", "1"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--cpu-pm"), -EINVAL);

	/* --testdev [exit=qemu|minivmm], as a separate word or after = */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--testdev"), 0);
	assert_true(c.testdev);
	assert_false(c.testdev_qemu_exit);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--testdev", "exit=qemu"), 0);
	assert_true(c.testdev && c.testdev_qemu_exit);
	assert_int_equal(PARSE(&c, "--testdev=exit=qemu", "--ovmf", "o.fd"), 0);
	assert_true(c.testdev_qemu_exit);
	assert_int_equal(PARSE(&c, "--testdev", "exit=minivmm", "--ovmf", "o.fd"), 0);
	assert_false(c.testdev_qemu_exit);
	assert_int_equal(PARSE(&c, "--testdev", "--ovmf", "o.fd"), 0);	/* next option: not its value */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--testdev", "exit=bochs"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--testdev=qemu"), -EINVAL);
}

/* --tpm, --tpm socket=PATH (the value as the next word too), mistakes. */
static void test_tpm_option(void **state)
{
	static struct vm_config c;
	char longpath[160];

	assert_int_equal(PARSE(&c, "--ovmf", "o.fd"), 0);
	assert_false(c.tpm);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm"), 0);
	assert_true(c.tpm);
	assert_null(c.tpm_socket);
	assert_int_equal(PARSE(&c, "--tpm", "--ovmf", "o.fd"), 0);
	assert_true(c.tpm);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", "socket=/run/swtpm.ctrl"), 0);
	assert_string_equal(c.tpm_socket, "/run/swtpm.ctrl");
	assert_int_equal(PARSE(&c, "--tpm=socket=/run/s", "--ovmf", "o.fd", "--name", "w"), 0);
	assert_string_equal(c.tpm_socket, "/run/s");
	assert_string_equal(c.name, "w");
	/* the last --tpm counts */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", "socket=/a", "--tpm"), 0);
	assert_null(c.tpm_socket);
	/* a word that is no TPM value is left alone: here, an error of its own */
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", "swtpm"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm=swtpm"), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm=socket="), -EINVAL);
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", "socket="), -EINVAL);
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "socket=", 7);
	longpath[7 + CLI_CONTROL_PATH_MAX] = '\0';
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", longpath), 0);
	longpath[7 + CLI_CONTROL_PATH_MAX] = 'a';
	longpath[8 + CLI_CONTROL_PATH_MAX] = '\0';
	assert_int_equal(PARSE(&c, "--ovmf", "o.fd", "--tpm", longpath), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_and_daemon_options),
		cmocka_unit_test(test_tpm_option),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_cpu_online),
		cmocka_unit_test(test_defaults_and_full),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_ovmf_options),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_reset_and_shutdown_options),
		cmocka_unit_test(test_vfio_options),
		cmocka_unit_test(test_parse_is_repeatable),
		cmocka_unit_test(test_latency_options),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
