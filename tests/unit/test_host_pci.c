// SPDX-License-Identifier: MIT
/*
 * PCI addresses, IOMMU groups and devices on fake sysfs trees: BDF forms,
 * `minivmm groups`, and check's per-device verdicts.
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
#include <cmocka.h>

#include "host/host.h"
#include "lib/host_pci.h"
#include "tests/unit/fakesys/fakesys.h"
#include "tests/unit/fakesys/fakesys.h"

/*
 * A workstation: root ports, a GPU with its audio function, an NVMe
 * drive, a NIC and a USB controller sharing a chipset group, spread over
 * groups 0, 1, 2, 10 and 11 (10 and 11 sort after 2 only numerically).
 */
static void workstation(struct fakesys *fs)
{
	fs_host_ready(fs);
	fs_pci_add(fs, "0000:00:00.0", 0x8086, 0x3e30, 0x060000, 0, NULL);
	fs_pci_add(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport");
	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "nvidia");
	fs_pci_add(fs, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, 1, "snd_hda_intel");
	fs_pci_add(fs, "0000:02:00.0", 0x144d, 0xa808, 0x010802, 2, "nvme");
	fs_pci_add(fs, "0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, 10, "xhci_hcd");
	fs_pci_add(fs, "0000:00:14.2", 0x8086, 0xa36f, 0x050000, 10, NULL);
	fs_pci_add(fs, "0000:03:00.0", 0x8086, 0x1533, 0x020000, 11, "igb");
}

/* ---- BDF forms ------------------------------------------------------------ */

static void test_bdf_parse(void **state)
{
	char out[HOST_BDF_LEN];
	bool slot;

	(void)state;
	assert_int_equal(host_bdf_parse("65:00.0", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "0000:65:00.0");
	assert_false(slot);
	assert_int_equal(host_bdf_parse("0000:65:00.1", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "0000:65:00.1");
	assert_int_equal(host_bdf_parse("65:00", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "0000:65:00");
	assert_true(slot);
	assert_int_equal(host_bdf_parse("1:2.3", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "0000:01:02.3");
	assert_int_equal(host_bdf_parse("10000:0A:1f.7", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("ABCD:0A:1F.7", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "abcd:0a:1f.7");
	assert_int_equal(host_bdf_parse("0000:0a:1f", out, sizeof(out), &slot), 0);
	assert_string_equal(out, "0000:0a:1f");
	assert_true(slot);
	/* device > 0x1f, function > 7, junk, missing parts */
	assert_int_equal(host_bdf_parse("65:20.0", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("65:00.8", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("65", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("65:00.0x", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("g5:00.0", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("123:00.0", out, sizeof(out), &slot), -EINVAL);
	assert_int_equal(host_bdf_parse("0:0:0:0.0", out, sizeof(out), &slot), -EINVAL);
}

static void test_bdf_expand(void **state)
{
	struct fakesys *fs = *state;
	char (*bdfs)[HOST_BDF_LEN];
	size_t n;

	workstation(fs);
	assert_int_equal(host_bdf_expand(&fs->env, "01:00", &bdfs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(bdfs[0], "0000:01:00.0");
	assert_string_equal(bdfs[1], "0000:01:00.1");
	free(bdfs);
	assert_int_equal(host_bdf_expand(&fs->env, "2:0.0", &bdfs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(bdfs[0], "0000:02:00.0");
	free(bdfs);
	assert_int_equal(host_bdf_expand(&fs->env, "09:00.0", &bdfs, &n), -ENODEV);
	assert_int_equal(host_bdf_expand(&fs->env, "09:00", &bdfs, &n), -ENODEV);
	assert_int_equal(host_bdf_expand(&fs->env, "nonsense", &bdfs, &n), -EINVAL);
}

/* ---- devices and groups ------------------------------------------------------ */

static void test_pci_read(void **state)
{
	struct fakesys *fs = *state;
	struct host_pci_dev d;
	char desc[384];

	workstation(fs);
	fs_write(fs, "sys/devices/pci0000:00/0000:01:00.0/boot_vga", "1\n");
	assert_int_equal(host_pci_read(&fs->env, "0000:01:00.0", &d), 0);
	assert_int_equal(d.vendor, 0x10de);
	assert_int_equal(d.device, 0x2204);
	assert_int_equal(d.class, 0x030000);
	assert_int_equal(d.group, 1);
	assert_string_equal(d.driver, "nvidia");
	assert_string_equal(d.override, "");
	assert_true(d.boot_vga);
	assert_false(d.bridge);
	host_pci_describe(&d, desc, sizeof(desc));
	assert_string_equal(desc, "VGA compatible controller [0300]: NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]");

	assert_int_equal(host_pci_read(&fs->env, "0000:00:01.0", &d), 0);
	assert_true(d.bridge);
	assert_true(host_pci_vfio_ok(&d));	/* pcieport may stay */
	assert_int_equal(host_pci_read(&fs->env, "0000:00:14.2", &d), 0);
	assert_string_equal(d.driver, "");
	assert_true(host_pci_vfio_ok(&d));
	assert_int_equal(host_pci_read(&fs->env, "0000:03:00.0", &d), 0);
	assert_false(host_pci_vfio_ok(&d));
	assert_int_equal(host_pci_read(&fs->env, "0000:09:00.0", &d), -ENODEV);

	/* A config space says bridge or not regardless of the class code. */
	fs_write_bin(fs, "sys/devices/pci0000:00/0000:03:00.0/config",
		     "\x86\x80\x33\x15\0\0\0\0\0\0\0\0\0\0\x01\0", 16);
	assert_int_equal(host_pci_read(&fs->env, "0000:03:00.0", &d), 0);
	assert_true(d.bridge);
}

static void test_unknown_ids_named_by_number(void **state)
{
	struct fakesys *fs = *state;
	struct host_pci_dev d;
	char desc[384];

	fs_pci_add(fs, "0000:05:00.0", 0xfffe, 0x0001, 0xff0000, 3, NULL);
	assert_int_equal(host_pci_read(&fs->env, "0000:05:00.0", &d), 0);
	host_pci_describe(&d, desc, sizeof(desc));
	assert_non_null(strstr(desc, "[fffe:0001]"));
}

static void test_group_ids_sorted(void **state)
{
	struct fakesys *fs = *state;
	struct host_pci_dev *m;
	size_t n;
	int *ids;

	workstation(fs);
	assert_int_equal(host_group_ids(&fs->env, &ids, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);
	assert_int_equal(ids[3], 10);
	assert_int_equal(ids[4], 11);
	free(ids);
	assert_int_equal(host_group_members(&fs->env, 1, &m, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].bdf, "0000:00:01.0");
	assert_string_equal(m[1].bdf, "0000:01:00.0");
	assert_string_equal(m[2].bdf, "0000:01:00.1");
	free(m);
}

static void test_groups_list(void **state)
{
	struct fakesys *fs = *state;
	const char *o, *g2, *g10;

	workstation(fs);
	assert_int_equal(host_groups_list(&fs->env), 0);
	o = fs_output(fs);
	assert_out(fs, "IOMMU group 0:\n    0000:00:00.0 Host bridge [0600]: Intel Corporation");
	assert_out(fs, "    0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204] (rev 01)  driver: nvidia\n");
	assert_out(fs, "    0000:01:00.1 Audio device [0403]: NVIDIA Corporation GA102 High Definition Audio Controller [10de:1aef] (rev 01)  driver: snd_hda_intel\n");
	assert_out(fs, "    0000:00:14.2 RAM memory [0500]");
	assert_out(fs, "driver: none\n");
	assert_out(fs, "    0000:03:00.0 Ethernet controller [0200]: Intel Corporation I210 Gigabit Network Connection [8086:1533] (rev 01)  driver: igb\n");
	/* numeric order: 2 before 10 */
	g2 = strstr(o, "IOMMU group 2:");
	g10 = strstr(o, "IOMMU group 10:");
	assert_non_null(g2);
	assert_non_null(g10);
	assert_true(g2 < g10);
	refute_out(fs, "ready for VFIO");
}

static void test_groups_list_vfio_state(void **state)
{
	struct fakesys *fs = *state;

	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "vfio-pci");
	fs_pci_add(fs, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, 1, "vfio-pci");
	fs_pci_add(fs, "0000:02:00.0", 0x144d, 0xa808, 0x010802, 2, "vfio-pci");
	fs_pci_add(fs, "0000:02:00.1", 0x144d, 0xa808, 0x010802, 2, "nvme");
	fs_pci_add(fs, "0000:03:00.0", 0x1b36, 0x0010, 0x010802, 3, "vfio-pci");
	fs_remove(fs, "dev/vfio/3");
	assert_int_equal(host_groups_list(&fs->env), 0);
	assert_out(fs, "IOMMU group 1 (ready for VFIO: ");
	assert_out(fs, "IOMMU group 3 (on vfio-pci, but ");
	assert_out(fs, "IOMMU group 2 (not viable: a member is on a host driver):");
}

static void test_groups_no_iommu(void **state)
{
	struct fakesys *fs = *state;
	char out[4096];
	char *argv[] = { "groups", "--sysfs", fs->sys, NULL };
	char *bad[] = { "groups", "extra", NULL };

	assert_int_equal(host_groups_list(&fs->env), -ENOENT);
	fs_mkdir(fs, "sys/kernel/iommu_groups");
	assert_int_equal(host_groups_list(&fs->env), -ENOENT);
	assert_int_equal(fs_run_main(host_groups_main, out, sizeof(out), 3, argv), 1);
	assert_non_null(strstr(out, "no IOMMU groups in "));
	assert_non_null(strstr(out, "intel_iommu=on iommu=pt"));
	assert_null(strchr(strchr(out, '\n') + 1, '\n'));	/* one line */
	assert_int_equal(fs_run_main(host_groups_main, NULL, 0, 2, bad), 2);
}

static void test_groups_main_ok(void **state)
{
	struct fakesys *fs = *state;
	char out[16384];
	char *argv[] = { "groups", "--sysfs", fs->sys, "--devfs", fs->dev, NULL };

	workstation(fs);
	assert_int_equal(fs_run_main(host_groups_main, out, sizeof(out), 5, argv), 0);
	assert_non_null(strstr(out, "IOMMU group 11:\n    0000:03:00.0"));
}

/* ---- check's per-device verdicts ------------------------------------------------ */

static void test_device_other_drivers_fail(void **state)
{
	struct fakesys *fs = *state;

	workstation(fs);
	host_check_device(&fs->env, "01:00.0", true, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL 0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]: driver nvidia, IOMMU group 1 not viable for VFIO");
	assert_out(fs, "fix: minivmm bind 0000:01:00.0   (moves every function of group 1 to vfio-pci)");
	assert_out(fs, "group 1: 0000:00:01.0 PCI bridge [8086:1901] driver pcieport (bridge: may keep its driver)");
	assert_out(fs, "group 1: 0000:01:00.1 Audio device [10de:1aef] driver snd_hda_intel  <- a host driver holds it");
}

static void test_device_viable_but_unbound(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_pci_add(fs, "0000:04:00.0", 0x1b36, 0x0010, 0x010802, 4, NULL);
	host_check_device(&fs->env, "4:0.0", false, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "driver none, IOMMU group 4 viable, but the device is not on vfio-pci");
	assert_out(fs, "fix: minivmm bind 0000:04:00.0");
}

static void test_device_ready_and_node(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_pci_add(fs, "0000:04:00.0", 0x1b36, 0x0010, 0x010802, 4, "vfio-pci");
	fs_remove(fs, "dev/vfio/4");
	host_check_device(&fs->env, "0000:04:00.0", false, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "/dev/vfio/4 is missing");
	assert_out(fs, "fix: modprobe vfio_iommu_type1");
	fs_clear_output(fs);
	fs_write(fs, "dev/vfio/4", "");
	host_check_device(&fs->env, "0000:04:00.0", false, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_int_equal(fs->rep.n_warn, 0);
	assert_out(fs, "OK   0000:04:00.0 Non-Volatile memory controller [0108]: Red Hat, Inc. QEMU NVM Express Controller [1b36:0010]: vfio-pci, IOMMU group 4 viable");
}

static void test_device_bridge_missing_bad(void **state)
{
	struct fakesys *fs = *state;

	workstation(fs);
	host_check_device(&fs->env, "00:01.0", false, &fs->rep);
	assert_out(fs, "a PCI bridge cannot be passed through");
	assert_out(fs, "fix: name the device behind it instead");
	host_check_device(&fs->env, "07:00.0", false, &fs->rep);
	assert_out(fs, "FAIL 07:00.0: no such PCI device");
	assert_out(fs, "fix: list the devices with: minivmm groups");
	host_check_device(&fs->env, "65-00.0", false, &fs->rep);
	assert_out(fs, "FAIL 65-00.0: not a PCI address");
	assert_out(fs, "fix: write it as 65:00.0, 0000:65:00.0, or 65:00");
	assert_int_equal(fs->rep.n_fail, 3);
}

static void test_device_no_group(void **state)
{
	struct fakesys *fs = *state;

	fs_pci_add(fs, "0000:00:03.0", 0x1af4, 0x1041, 0x020000, -1, "virtio-pci");
	host_check_device(&fs->env, "00:03.0", false, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "in no IOMMU group");
	assert_out(fs, "fix: turn the IOMMU on");
}

static void test_device_gpu_warnings(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "vfio-pci");
	fs_pci_add(fs, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, 1, "vfio-pci");
	fs_pci_add(fs, "0000:04:00.0", 0x1b36, 0x0010, 0x010802, 4, "vfio-pci");
	fs_write(fs, "dev/vfio/1", "");
	fs_write(fs, "dev/vfio/4", "");
	fs_write(fs, "sys/devices/pci0000:00/0000:01:00.0/boot_vga", "1\n");
	fs_remove(fs, "sys/devices/pci0000:00/0000:01:00.0/reset");
	host_check_device(&fs->env, "01:00", true, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "WARN 0000:01:00.0: is the boot display (boot_vga=1)");
	assert_out(fs, "video=efifb:off");
	assert_out(fs, "WARN 0000:01:00.0: the kernel knows no reset method");
	/* the slot has a display function: no class warning for its audio */
	refute_out(fs, "not a display controller");
	host_check_device(&fs->env, "04:00.0", true, &fs->rep);
	assert_out(fs, "WARN 0000:04:00.0: named with --gpu but its class 0108 is not a display controller");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fs_test_setup, fs_test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bdf_parse), T(test_bdf_expand),
		T(test_pci_read), T(test_unknown_ids_named_by_number), T(test_group_ids_sorted),
		T(test_groups_list), T(test_groups_list_vfio_state), T(test_groups_no_iommu),
		T(test_groups_main_ok),
		T(test_device_other_drivers_fail), T(test_device_viable_but_unbound),
		T(test_device_ready_and_node), T(test_device_bridge_missing_bad),
		T(test_device_no_group), T(test_device_gpu_warnings),
	};

	return cmocka_run_group_tests_name("host_pci", tests, NULL, NULL);
}
