// SPDX-License-Identifier: MIT
/* --boot and the fw_cfg "bootorder" file (firmware/bootorder.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "firmware/bootorder.h"

#define CD0	"/pci@i0cf8/pci8086,2922@1f,2/drive@0/disk@0\n"
#define CD1	"/pci@i0cf8/pci8086,2922@1f,2/drive@1/disk@0\n"
#define SATA2	"/pci@i0cf8/pci8086,2922@1f,2/drive@2/disk@0\n"
#define VD0	"/pci@i0cf8/scsi@1/disk@0,0\n"
#define VD1	"/pci@i0cf8/scsi@a/disk@0,0\n"

/* Two CD-ROMs on ports 0 and 1, disk0 a virtio-blk in slot 1, disk1 a
 * SATA disk on port 2, disk2 a virtio-blk in slot 10: the Windows set-up
 * (two ISOs, the target disk) plus a spare. */
static size_t machine(struct boot_device *d)
{
	bootorder_sata(&d[0], BOOT_CDROM, 0, 0);
	bootorder_sata(&d[1], BOOT_CDROM, 1, 1);
	bootorder_virtio_blk(&d[2], 0, 1);
	bootorder_sata(&d[3], BOOT_DISK, 1, 2);
	bootorder_virtio_blk(&d[4], 2, 10);
	return 5;
}

static char *build(const char *list, int want_ret)
{
	struct boot_device d[BOOT_MAX_DEVICES];
	size_t n = machine(d), len = 0;
	char *out = NULL;

	assert_int_equal(bootorder_build(list, d, n, &out, &len), want_ret);
	if (!want_ret)
		assert_int_equal(len, strlen(out));
	return out;
}

static void test_default_is_cdroms_then_disks(void **state)
{
	char *o = build(NULL, 0);

	assert_string_equal(o, CD0 CD1 VD0 SATA2 VD1);
	free(o);
}

static void test_kinds_and_devices(void **state)
{
	char *o = build("disk", 0);

	assert_string_equal(o, VD0 SATA2 VD1);
	free(o);
	o = build("cdrom1,disk0", 0);
	assert_string_equal(o, CD1 VD0);
	free(o);
	/* A device named twice, or by name and by kind, comes once. */
	o = build("disk1,disk,cdrom,disk1", 0);
	assert_string_equal(o, SATA2 VD0 VD1 CD0 CD1);
	free(o);
}

static void test_absent_devices(void **state)
{
	struct boot_device d[1];
	char *out = NULL;
	size_t len = 0;

	bootorder_virtio_blk(&d[0], 0, 3);
	assert_int_equal(bootorder_build("cdrom,disk", d, 1, &out, &len), -ENOENT);
	assert_null(out);
	assert_null(build("disk3", -ENOENT));
	assert_null(build("cdrom2", -ENOENT));
	/* Nothing bootable and nothing asked for: an empty file. */
	assert_int_equal(bootorder_build(NULL, d, 0, &out, &len), 0);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

static void test_parse(void **state)
{
	assert_int_equal(bootorder_parse("cdrom,disk"), 0);
	assert_int_equal(bootorder_parse("disk0"), 0);
	assert_int_equal(bootorder_parse("cdrom12,disk"), 0);
	assert_int_equal(bootorder_parse(""), -EINVAL);
	assert_int_equal(bootorder_parse("cdrom,"), -EINVAL);
	assert_int_equal(bootorder_parse(",disk"), -EINVAL);
	assert_int_equal(bootorder_parse("dc"), -EINVAL);
	assert_int_equal(bootorder_parse("net"), -EINVAL);
	assert_int_equal(bootorder_parse("disk-1"), -EINVAL);
	assert_int_equal(bootorder_parse("disk123"), -EINVAL);
	assert_int_equal(bootorder_parse("disks"), -EINVAL);
	assert_int_equal(bootorder_parse("diskdiskdiskdiskdiskdiskdiskdiskdisk"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_cdroms_then_disks),
		cmocka_unit_test(test_kinds_and_devices),
		cmocka_unit_test(test_absent_devices),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
