// SPDX-License-Identifier: MIT
/*
 * bind / unbind on a fake sysfs whose "kernel" is fakesys's write hook:
 * the sequence written (driver_override, unbind, drivers_probe), whole
 * groups, restore, refusals, rollback and loading vfio-pci.
 */
#include <errno.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "host/bind.h"
#include "host/host.h"
#include "tests/unit/fakesys/fakesys.h"
#include "tests/unit/fakesys/fakesys.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__ })
#define NARGS(...) (sizeof(ARGS(__VA_ARGS__)) / sizeof(char *))
#define BIND(fs, force, ...) host_bind(&(fs)->env, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), force)
#define UNBIND(fs, ...) host_unbind(&(fs)->env, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))

static char drv[64], buf[512];

#define assert_driver(fs, bdf, want) assert_string_equal(fs_driver(fs, bdf, drv, sizeof(drv)), want)

/* Group 1: root port + GPU + its audio; group 2: an NVMe drive; group 3:
 * a device with no driver; group 4: a NIC. */
static void host(struct fakesys *fs)
{
	fs_host_ready(fs);
	fs_pci_add(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport");
	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "nvidia");
	fs_pci_add(fs, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, 1, "snd_hda_intel");
	fs_pci_add(fs, "0000:02:00.0", 0x144d, 0xa808, 0x010802, 2, "nvme");
	fs_pci_add(fs, "0000:03:00.0", 0x1234, 0x11e8, 0x00ff00, 3, NULL);
	fs_pci_add(fs, "0000:04:00.0", 0x8086, 0x1533, 0x020000, 4, "igb");
	fs_write(fs, "dev/vfio/1", "");
}

static void test_bind_group_sequence(void **state)
{
	struct fakesys *fs = *state;
	int ov, unb, probe;

	host(fs);
	assert_int_equal(BIND(fs, false, "01:00.0"), 0);
	assert_driver(fs, "0000:01:00.0", "vfio-pci");
	assert_driver(fs, "0000:01:00.1", "vfio-pci");	/* the rest of the group */
	assert_driver(fs, "0000:00:01.0", "pcieport");	/* bridges stay */

	/* override, then unbind from the old driver, then reprobe */
	ov = fs_log_find(fs, "devices/0000:01:00.0/driver_override", "vfio-pci", 0);
	unb = fs_log_find(fs, "drivers/nvidia/unbind", "0000:01:00.0", 0);
	probe = fs_log_find(fs, "sys/bus/pci/drivers_probe", "0000:01:00.0", 0);
	assert_true(ov >= 0 && unb > ov && probe > unb);
	ov = fs_log_find(fs, "devices/0000:01:00.1/driver_override", "vfio-pci", 0);
	unb = fs_log_find(fs, "drivers/snd_hda_intel/unbind", "0000:01:00.1", 0);
	probe = fs_log_find(fs, "sys/bus/pci/drivers_probe", "0000:01:00.1", 0);
	assert_true(ov >= 0 && unb > ov && probe > unb);
	assert_int_equal(fs->nlog, 6);		/* nothing else: no new_id, no bridge */
	assert_int_equal(fs_log_find(fs, "new_id", NULL, 0), -1);
	assert_int_equal(fs_log_find(fs, "0000:00:01.0/driver_override", NULL, 0), -1);

	assert_string_equal(fs_read(fs, "state/0000:01:00.0", buf, sizeof(buf)),
			    "driver=nvidia\noverride=");
	assert_string_equal(fs_read(fs, "state/0000:01:00.1", buf, sizeof(buf)),
			    "driver=snd_hda_intel\noverride=");
	assert_out(fs, "0000:01:00.0: nvidia -> vfio-pci\n");
	assert_out(fs, "0000:01:00.1: snd_hda_intel -> vfio-pci\n");
	assert_out(fs, "IOMMU group 1: ready, ");
}

static void test_unbind_restores(void **state)
{
	struct fakesys *fs = *state;
	struct host_bind_rec rec;
	int ov, unb, probe;
	size_t before;

	host(fs);
	assert_int_equal(BIND(fs, false, "0000:01:00.0"), 0);
	before = fs->nlog;
	/* Any function of the group brings the whole group back. */
	assert_int_equal(UNBIND(fs, "01:00.1"), 0);
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_driver(fs, "0000:01:00.1", "snd_hda_intel");
	ov = fs_log_find(fs, "devices/0000:01:00.0/driver_override", "\n", (int)before);
	unb = fs_log_find(fs, "drivers/vfio-pci/unbind", "0000:01:00.0", (int)before);
	probe = fs_log_find(fs, "sys/bus/pci/drivers_probe", "0000:01:00.0", (int)before);
	assert_true(ov >= 0 && unb > ov && probe > unb);
	assert_string_equal(fs_read(fs, "sys/devices/pci0000:00/0000:01:00.0/driver_override",
				    buf, sizeof(buf)), "");
	assert_int_equal(host_bind_state_load(&fs->env, "0000:01:00.0", &rec), -ENOENT);
	assert_int_equal(host_bind_state_load(&fs->env, "0000:01:00.1", &rec), -ENOENT);
	assert_out(fs, "0000:01:00.0: vfio-pci -> nvidia\n");
	assert_out(fs, "0000:01:00.1: vfio-pci -> snd_hda_intel\n");
}

static void test_no_driver_round_trip(void **state)
{
	struct fakesys *fs = *state;
	size_t before;

	host(fs);
	assert_int_equal(BIND(fs, false, "03:00.0"), 0);
	assert_driver(fs, "0000:03:00.0", "vfio-pci");
	assert_int_equal(fs_log_find(fs, "/unbind", NULL, 0), -1);	/* nothing to unbind */
	assert_string_equal(fs_read(fs, "state/0000:03:00.0", buf, sizeof(buf)),
			    "driver=\noverride=");
	assert_out(fs, "IOMMU group 3: ready, ");
	assert_true(fs_exists(fs, "dev/vfio/3"));
	before = fs->nlog;
	assert_int_equal(UNBIND(fs, "03:00.0"), 0);
	assert_driver(fs, "0000:03:00.0", "");
	/* no reprobe: it had no driver and must not gain one */
	assert_int_equal(fs_log_find(fs, "drivers_probe", NULL, (int)before), -1);
	assert_out(fs, "0000:03:00.0: vfio-pci -> no driver (as before bind)");
}

static void test_keeps_existing_override(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs_write(fs, "sys/devices/pci0000:00/0000:02:00.0/driver_override", "nvme\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), 0);
	assert_string_equal(fs_read(fs, "state/0000:02:00.0", buf, sizeof(buf)),
			    "driver=nvme\noverride=nvme");
	assert_int_equal(UNBIND(fs, "02:00.0"), 0);
	assert_string_equal(fs_read(fs, "sys/devices/pci0000:00/0000:02:00.0/driver_override",
				    buf, sizeof(buf)), "nvme");
	assert_driver(fs, "0000:02:00.0", "nvme");
}

static void test_refuse_boot_vga(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs_write(fs, "sys/devices/pci0000:00/0000:01:00.0/boot_vga", "1\n");
	assert_int_equal(BIND(fs, false, "01:00.0"), -EBUSY);
	assert_int_equal(fs->nlog, 0);			/* nothing touched */
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_int_equal(BIND(fs, true, "01:00.0"), 0);	/* --force */
	assert_driver(fs, "0000:01:00.0", "vfio-pci");
}

/* nvme/nvme0/nvme0n1/nvme0n1p2 under the controller, with dev numbers */
static void nvme_disk(struct fakesys *fs, const char *bdf)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/nvme/nvme0/nvme0n1/dev", bdf);
	fs_write(fs, rel, "259:0\n");
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/nvme/nvme0/nvme0n1/nvme0n1p2/dev", bdf);
	fs_write(fs, rel, "259:2\n");
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/nvme/nvme0/nvme0n1/nvme0n1p2/partition", bdf);
	fs_write(fs, rel, "2\n");
}

static void test_refuse_mounted_nvme(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	nvme_disk(fs, "0000:02:00.0");
	/* not mounted: fine */
	fs_write(fs, "proc/self/mountinfo",
		 "22 27 0:21 / /proc rw,relatime - proc proc rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), 0);
	assert_int_equal(UNBIND(fs, "02:00.0"), 0);
	fs->nlog = 0;
	fs_write(fs, "proc/self/mountinfo",
		 "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		 "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);
	assert_int_equal(fs->nlog, 0);
	assert_driver(fs, "0000:02:00.0", "nvme");
	/* btrfs: the mount's dev number is anonymous, the source still names it */
	fs_write(fs, "proc/self/mountinfo",
		 "29 1 0:33 /@home /home rw - btrfs /dev/nvme0n1p2 rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);
	/* and by dev number alone */
	fs_write(fs, "proc/self/mountinfo", "29 1 259:2 / /data rw - xfs /dev/root rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);
	/* swap */
	fs_write(fs, "proc/self/mountinfo", "");
	fs_write(fs, "proc/swaps", "Filename Type Size Used Priority\n/dev/nvme0n1p2 partition 100 0 -2\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);
	assert_int_equal(fs->nlog, 0);
}

static void test_refuse_mounted_through_dm_and_multipath(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	/* native multipath: the controller holds nvme0c0n1, the head is nvme0n1 */
	fs_write(fs, "sys/devices/pci0000:00/0000:02:00.0/nvme/nvme0/nvme0c0n1/dev", "259:5\n");
	fs_write(fs, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/dev", "259:0\n");
	fs_write(fs, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1/dev", "259:1\n");
	fs_write(fs, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1/partition", "1\n");
	fs_symlink(fs, "../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", "sys/class/block/nvme0n1");
	/* LVM on the partition: dm-0 holds nvme0n1p1 and is what is mounted */
	fs_write(fs, "sys/devices/virtual/block/dm-0/dev", "253:0\n");
	fs_symlink(fs, "../../devices/virtual/block/dm-0", "sys/class/block/dm-0");
	fs_symlink(fs, "../../../../../../devices/virtual/block/dm-0",
		   "sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1/nvme0n1p1/holders/dm-0");
	fs_write(fs, "dev/dm-0", "");
	fs_symlink(fs, "../dm-0", "dev/mapper/vg-root");
	fs_write(fs, "proc/self/mountinfo", "29 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);
	fs_write(fs, "proc/self/mountinfo", "29 1 0:99 / / rw - ext4 /dev/mapper/vg-root rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), -EBUSY);	/* by name via realpath */
	assert_int_equal(fs->nlog, 0);
	fs_write(fs, "proc/self/mountinfo", "29 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	assert_int_equal(BIND(fs, false, "02:00.0"), 0);
}

static void test_refuse_block_under_virtio(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs_pci_add(fs, "0000:05:00.0", 0x1af4, 0x1042, 0x010000, 5, "virtio-pci");
	fs_write(fs, "sys/devices/pci0000:00/0000:05:00.0/virtio2/block/vda/dev", "254:0\n");
	fs_write(fs, "sys/devices/pci0000:00/0000:05:00.0/virtio2/block/vda/vda1/dev", "254:1\n");
	fs_write(fs, "sys/devices/pci0000:00/0000:05:00.0/virtio2/block/vda/vda1/partition", "1\n");
	fs_write(fs, "proc/self/mountinfo", "29 1 254:1 / /boot rw - ext4 /dev/vda1 rw\n");
	assert_int_equal(BIND(fs, false, "05:00.0"), -EBUSY);
}

static void test_refuse_network_up(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs_write(fs, "sys/devices/pci0000:00/0000:04:00.0/net/eth0/flags", "0x1003\n");
	assert_int_equal(BIND(fs, false, "04:00.0"), -EBUSY);
	assert_int_equal(fs->nlog, 0);
	fs_write(fs, "sys/devices/pci0000:00/0000:04:00.0/net/eth0/flags", "0x1002\n");	/* down */
	assert_int_equal(BIND(fs, false, "04:00.0"), 0);
	assert_driver(fs, "0000:04:00.0", "vfio-pci");
}

static void test_refuse_busy_group_member(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	/* a NIC that is up shares group 3 with the device asked for */
	fs_pci_add(fs, "0000:03:00.1", 0x8086, 0x1533, 0x020000, 3, "igb");
	fs_write(fs, "sys/devices/pci0000:00/0000:03:00.1/net/enp3s0f1/flags", "0x1003\n");
	assert_int_equal(BIND(fs, false, "03:00.0"), -EBUSY);
	assert_driver(fs, "0000:03:00.0", "");
	assert_int_equal(fs->nlog, 0);
}

static void test_refuse_bridge(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	assert_int_equal(BIND(fs, false, "00:01.0"), -EINVAL);
	assert_int_equal(BIND(fs, true, "00:01.0"), -EINVAL);	/* vfio-pci would refuse it anyway */
	assert_int_equal(fs->nlog, 0);
	assert_driver(fs, "0000:00:01.0", "pcieport");
}

static void test_rollback_when_vfio_refuses(void **state)
{
	struct fakesys *fs = *state;
	struct host_bind_rec rec;

	host(fs);
	fs_dev(fs, "0000:01:00.1")->refuse_vfio = true;
	assert_int_equal(BIND(fs, false, "01:00.0"), -EIO);
	/* the GPU, which had made it, and the audio function are back */
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_driver(fs, "0000:01:00.1", "snd_hda_intel");
	assert_string_equal(fs_read(fs, "sys/devices/pci0000:00/0000:01:00.0/driver_override",
				    buf, sizeof(buf)), "");
	assert_string_equal(fs_read(fs, "sys/devices/pci0000:00/0000:01:00.1/driver_override",
				    buf, sizeof(buf)), "");
	assert_true(fs_log_find(fs, "drivers/vfio-pci/unbind", "0000:01:00.0", 0) >= 0);
	assert_int_equal(host_bind_state_load(&fs->env, "0000:01:00.0", &rec), -ENOENT);
	assert_int_equal(host_bind_state_load(&fs->env, "0000:01:00.1", &rec), -ENOENT);
}

static void test_rollback_when_a_write_fails(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs->fail_suffix = "drivers/snd_hda_intel/unbind";
	fs->fail_errno = EBUSY;
	fs->fail_count = 1;
	assert_int_equal(BIND(fs, false, "01:00"), -EBUSY);
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_driver(fs, "0000:01:00.1", "snd_hda_intel");
	assert_string_equal(fs_read(fs, "sys/devices/pci0000:00/0000:01:00.1/driver_override",
				    buf, sizeof(buf)), "");
	assert_false(fs_exists(fs, "state/0000:01:00.0"));
	assert_false(fs_exists(fs, "state/0000:01:00.1"));
}

static void test_rollback_spans_groups(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	fs_dev(fs, "0000:02:00.0")->refuse_vfio = true;
	assert_int_equal(BIND(fs, false, "01:00.0", "02:00.0"), -EIO);
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_driver(fs, "0000:01:00.1", "snd_hda_intel");
	assert_driver(fs, "0000:02:00.0", "nvme");
}

static void modprobe_script(struct fakesys *fs, const char *body)
{
	static char path[600];
	char script[2048];

	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$@\" >> %s/modprobe.log\n%s\n", fs->root, body);
	fs_write(fs, "modprobe", script);
	snprintf(path, sizeof(path), "%s/modprobe", fs->root);
	chmod(path, 0755);
	fs->env.modprobe = path;
}

static void test_loads_vfio_pci(void **state)
{
	struct fakesys *fs = *state;
	char body[1024];

	host(fs);
	fs_remove(fs, "sys/bus/pci/drivers/vfio-pci");
	snprintf(body, sizeof(body),
		 "mkdir -p %s/bus/pci/drivers/vfio-pci && : > %s/bus/pci/drivers/vfio-pci/bind && : > %s/bus/pci/drivers/vfio-pci/unbind",
		 fs->sys, fs->sys, fs->sys);
	modprobe_script(fs, body);
	assert_int_equal(BIND(fs, false, "03:00.0"), 0);
	assert_string_equal(fs_read(fs, "modprobe.log", buf, sizeof(buf)), "vfio-pci");
	assert_driver(fs, "0000:03:00.0", "vfio-pci");
}

static void test_modprobe_fails_nothing_done(void **state)
{
	struct fakesys *fs = *state;
	struct host_bind_rec rec;

	host(fs);
	fs_remove(fs, "sys/bus/pci/drivers/vfio-pci");
	modprobe_script(fs, "exit 1");
	assert_int_equal(BIND(fs, false, "01:00.0"), -ENODEV);
	assert_int_equal(fs->nlog, 0);
	assert_driver(fs, "0000:01:00.0", "nvidia");
	assert_int_equal(host_bind_state_load(&fs->env, "0000:01:00.0", &rec), -ENOENT);
}

static void test_already_bound_and_rebind(void **state)
{
	struct fakesys *fs = *state;
	size_t before;

	host(fs);
	assert_int_equal(BIND(fs, false, "01:00.0"), 0);
	before = fs->nlog;
	assert_int_equal(BIND(fs, false, "01:00.1"), 0);
	assert_int_equal(fs->nlog, before);	/* nothing to do */
	assert_out(fs, "0000:01:00.0: already on vfio-pci");
	/* the record still names the original driver */
	assert_string_equal(fs_read(fs, "state/0000:01:00.0", buf, sizeof(buf)),
			    "driver=nvidia\noverride=");
	assert_int_equal(UNBIND(fs, "01:00.0"), 0);
	assert_driver(fs, "0000:01:00.0", "nvidia");
}

static void test_unbind_without_record(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_driver_add(fs, "nvme");
	fs_pci_add(fs, "0000:02:00.0", 0x144d, 0xa808, 0x010802, 2, "vfio-pci");
	snprintf(fs_dev(fs, "0000:02:00.0")->natural, sizeof(fs->devs[0].natural), "nvme");
	assert_int_equal(UNBIND(fs, "02:00.0"), 0);
	assert_driver(fs, "0000:02:00.0", "nvme");
	assert_out(fs, "no record of its old driver: the kernel chose");
}

static void test_unbind_untouched_is_noop(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	assert_int_equal(UNBIND(fs, "02:00.0"), 0);
	assert_int_equal(fs->nlog, 0);
	assert_driver(fs, "0000:02:00.0", "nvme");
}

static void test_bad_addresses(void **state)
{
	struct fakesys *fs = *state;

	host(fs);
	assert_int_equal(BIND(fs, false, "zz:00.0"), -EINVAL);
	assert_int_equal(BIND(fs, false, "09:00.0"), -ENODEV);
	assert_int_equal(UNBIND(fs, "09:00"), -ENODEV);
	fs_pci_add(fs, "0000:06:00.0", 0x1af4, 0x1041, 0x020000, -1, "virtio-pci");
	assert_int_equal(BIND(fs, false, "06:00.0"), -ENODEV);	/* no IOMMU group */
	assert_int_equal(fs->nlog, 0);
}

static void test_cli(void **state)
{
	struct fakesys *fs = *state;
	char out[4096];
	char *none[] = { "bind", NULL };
	char *bad[] = { "bind", "--bogus", "01:00.0", NULL };
	char *unb_force[] = { "unbind", "--force", "01:00.0", NULL };
	char *refused[] = { "bind", "--sysfs", fs->sys, "--procfs", fs->proc, "--devfs", fs->dev,
			    "--state", fs->state, "01:00.0", NULL };
	char *help[] = { "unbind", "--help", NULL };

	host(fs);
	fs_write(fs, "sys/devices/pci0000:00/0000:01:00.0/boot_vga", "1\n");
	assert_int_equal(fs_run_main(host_bind_main, out, sizeof(out), 1, none), 2);
	assert_int_equal(fs_run_main(host_bind_main, out, sizeof(out), 3, bad), 2);
	assert_int_equal(fs_run_main(host_unbind_main, out, sizeof(out), 3, unb_force), 2);
	assert_int_equal(fs_run_main(host_unbind_main, out, sizeof(out), 2, help), 0);
	assert_non_null(strstr(out, "usage: minivmm unbind"));
	assert_int_equal(fs_run_main(host_bind_main, out, sizeof(out), 10, refused), 1);
	assert_non_null(strstr(out, "0000:01:00.0 (IOMMU group 1): refusing: it is the boot display (boot_vga=1)"));
	assert_non_null(strstr(out, "use --force"));
	assert_driver(fs, "0000:01:00.0", "nvidia");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fs_test_setup, fs_test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bind_group_sequence), T(test_unbind_restores), T(test_no_driver_round_trip),
		T(test_keeps_existing_override),
		T(test_refuse_boot_vga), T(test_refuse_mounted_nvme),
		T(test_refuse_mounted_through_dm_and_multipath), T(test_refuse_block_under_virtio),
		T(test_refuse_network_up), T(test_refuse_busy_group_member), T(test_refuse_bridge),
		T(test_rollback_when_vfio_refuses), T(test_rollback_when_a_write_fails),
		T(test_rollback_spans_groups),
		T(test_loads_vfio_pci), T(test_modprobe_fails_nothing_done),
		T(test_already_bound_and_rebind), T(test_unbind_without_record),
		T(test_unbind_untouched_is_noop), T(test_bad_addresses), T(test_cli),
	};

	return cmocka_run_group_tests_name("host_bind", tests, NULL, NULL);
}
