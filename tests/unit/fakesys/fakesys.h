/* SPDX-License-Identifier: MIT */
/*
 * Fake /sys, /proc and /dev trees in a temporary directory, for the host/
 * unit tests, and a stand-in for the kernel's side of driver binding:
 * host_env's sysfs_written hook logs every write and reacts the way the
 * PCI core would (unbind drops the driver link, drivers_probe binds the
 * override or the device's natural driver).
 *
 * The unit-test rule links one test source with fake_vm.o and
 * libminivmm.a, so each test_host_*.c includes fakesys.c directly.
 */
#ifndef MINIVMM_TEST_FAKESYS_H
#define MINIVMM_TEST_FAKESYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "host/host.h"
#include "lib/host_pci.h"

#define FS_MAX_LOG 256
#define FS_MAX_DEVS 32

struct fs_dev {
	char bdf[16];
	char natural[64];	/* the driver drivers_probe picks without an override */
	bool refuse_vfio;	/* vfio-pci's probe fails on it */
};

struct fakesys {
	char root[256];
	char sys[300], proc[300], dev[300], share[300], state[300];
	struct host_env env;
	struct host_report rep;		/* a check report writing to out */
	FILE *out;
	char *outbuf;
	size_t outlen;
	/* every sysfs write, in order, path relative to root */
	struct { char path[256]; char value[64]; } log[FS_MAX_LOG];
	size_t nlog;
	struct fs_dev devs[FS_MAX_DEVS];
	size_t ndevs;
	/* a write to a path ending so fails with -fail_errno, fail_count times */
	const char *fail_suffix;
	int fail_errno;
	int fail_count;
};

/* A new empty tree; env points at it with the fake kernel hooked in. */
void fs_setup(struct fakesys *fs);
void fs_teardown(struct fakesys *fs);

/* Paths relative to fs->root ("sys/class/iommu/dmar0/..."); parents made. */
void fs_write(struct fakesys *fs, const char *rel, const char *content);
void fs_write_bin(struct fakesys *fs, const char *rel, const void *data, size_t len);
void fs_mkdir(struct fakesys *fs, const char *rel);
void fs_symlink(struct fakesys *fs, const char *target, const char *rel);
void fs_remove(struct fakesys *fs, const char *rel);
bool fs_exists(struct fakesys *fs, const char *rel);
/* File content with trailing newline stripped ("" when missing). */
const char *fs_read(struct fakesys *fs, const char *rel, char *buf, size_t len);
/* Basename of the device's driver link, "" when none. */
const char *fs_driver(struct fakesys *fs, const char *bdf, char *buf, size_t len);

/* sys/bus/pci/drivers/NAME with bind and unbind files. */
void fs_driver_add(struct fakesys *fs, const char *name);
/*
 * A PCI function under sys/devices/pci0000:00 with its bus link, in IOMMU
 * group `group` (-1: none), bound to `driver` (NULL: none), which is also
 * what drivers_probe gives it back to.
 */
void fs_pci_add(struct fakesys *fs, const char *bdf, unsigned vendor, unsigned device,
		unsigned class, int group, const char *driver);
struct fs_dev *fs_dev(struct fakesys *fs, const char *bdf);

/*
 * A passthrough-ready Intel host: vmx, /dev/kvm, dmar0 with interrupt
 * remapping, intel_iommu=on iommu=pt, vfio modules, free 2M and 1G pages,
 * memlock unlimited, OVMF. Devices are added by the test.
 */
void fs_host_ready(struct fakesys *fs);

/* cmocka setup/teardown: *state is a fresh tree (struct fakesys *). */
int fs_test_setup(void **state);
int fs_test_teardown(void **state);

/* What the code printed on env.out (and rep) so far; fs_clear_output
 * forgets it and starts a new report. */
const char *fs_output(struct fakesys *fs);
void fs_clear_output(struct fakesys *fs);

/* Index in the write log of a write to a path ending in suffix with value
 * (NULL: any value), searching from `from`; -1 when absent. */
int fs_log_find(struct fakesys *fs, const char *suffix, const char *value, int from);

/*
 * Output assertions that print what was there when they fail (include
 * <cmocka.h> before this header to use them).
 */
#ifdef fail
#define assert_out(fs, needle) do {                                            \
	const char *o_ = fs_output(fs);                                        \
	if (!strstr(o_, needle)) {                                             \
		print_message("--- output:\n%s--- lacks: %s\n", o_, needle);    \
		fail();                                                        \
	}                                                                      \
} while (0)
#define refute_out(fs, needle) do {                                            \
	const char *o_ = fs_output(fs);                                        \
	if (strstr(o_, needle)) {                                              \
		print_message("--- output:\n%s--- has: %s\n", o_, needle);      \
		fail();                                                        \
	}                                                                      \
} while (0)
#endif

/* Runs a CLI entry point with stdout/stderr captured into out (may be NULL). */
int fs_run_main(int (*fn)(int, char **), char *out, size_t len, int argc, char **argv);

#endif
