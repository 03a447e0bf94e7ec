// SPDX-License-Identifier: MIT
/* --disk and --cdrom parsing: every form the issues promise, and every bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/log.h"
#include "vmm/cli.h"

#define ARGS(...) ((char *[]){ "minivmm", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "minivmm", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(cfg, ...) cli_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), cfg)

static struct vm_config cfg;

static void test_forms(void **state)
{
	struct disk_config d;

	assert_int_equal(cli_parse_disk("win10.img", &d), 0);
	assert_string_equal(d.path, "win10.img");
	assert_false(d.readonly);
	assert_false(d.direct);
	assert_int_equal(d.queues, 0);
	assert_string_equal(d.serial, "");
	assert_int_equal(cli_parse_disk("path=win10.img,direct=on", &d), 0);
	assert_string_equal(d.path, "win10.img");
	assert_true(d.direct);
	assert_int_equal(cli_parse_disk("path=/iso/d.iso,readonly=on,serial=CD0,queues=4", &d), 0);
	assert_true(d.readonly);
	assert_string_equal(d.serial, "CD0");
	assert_int_equal(d.queues, 4);
	assert_int_equal(d.iothreads, 0);
	assert_int_equal(cli_parse_disk("d.img,queues=4,iothreads=2", &d), 0);
	assert_int_equal(d.iothreads, 2);
	assert_int_equal(cli_parse_disk("d.img,iothreads=4", &d), 0);	/* queues: per vCPU */
	assert_int_equal(d.iothreads, 4);
	/* A bare path first, then options; file= as QEMU spells it. */
	assert_int_equal(cli_parse_disk("a.img,readonly=yes,direct=off", &d), 0);
	assert_string_equal(d.path, "a.img");
	assert_true(d.readonly);
	assert_int_equal(cli_parse_disk("file=b.img", &d), 0);
	assert_string_equal(d.path, "b.img");
	/* ",," is a comma inside a value. */
	assert_int_equal(cli_parse_disk("path=odd,,name.img,serial=x,,y", &d), 0);
	assert_string_equal(d.path, "odd,name.img");
	assert_string_equal(d.serial, "x,y");
	/* 20 characters is the most a serial holds. */
	assert_int_equal(cli_parse_disk("d.img,serial=01234567890123456789", &d), 0);
}

static void test_bad(void **state)
{
	struct disk_config d;
	char longpath[5000];

	assert_int_equal(cli_parse_disk("", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("readonly=on", &d), -EINVAL);		/* no image */
	assert_int_equal(cli_parse_disk("path=", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,cache=none", &d), -EINVAL);	/* unknown */
	assert_int_equal(cli_parse_disk("d.img,readonly", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,readonly=maybe", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,queues=0", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,queues=65", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,queues=2x", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,iothreads=0", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,iothreads=65", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,queues=2,iothreads=3", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,bus=sata,iothreads=1", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("d.img,serial=012345678901234567890", &d), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(cli_parse_disk(longpath, &d), -EINVAL);
}

static void test_repeatable(void **state)
{
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--disk", "a.img", "--disk",
			       "path=b.iso,readonly=on"), 0);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, "a.img");
	assert_string_equal(cfg.disks[1].path, "b.iso");
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--disk", "a,b=c"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "OVMF.fd", "--disk"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--disk", "1", "--disk", "2", "--disk", "3",
			       "--disk", "4", "--disk", "5", "--disk", "6", "--disk", "7",
			       "--disk", "8", "--disk", "9"), -EINVAL);
}

/* bus=virtio|sata, --cdrom; AHCI ports in command-line order, six at most. */
static void test_sata_and_cdrom(void **state)
{
	struct disk_config d;

	assert_int_equal(cli_parse_disk("win.img", &d), 0);
	assert_int_equal(d.bus, DISK_BUS_VIRTIO);
	assert_int_equal(cli_parse_disk("path=win.img,bus=sata,serial=WD-1,direct=on", &d), 0);
	assert_int_equal(d.bus, DISK_BUS_SATA);
	assert_false(d.cdrom);
	assert_true(d.direct);
	assert_string_equal(d.serial, "WD-1");
	assert_int_equal(cli_parse_disk("path=v.img,bus=virtio,queues=2", &d), 0);
	assert_int_equal(d.bus, DISK_BUS_VIRTIO);
	assert_int_equal(cli_parse_disk("w.img,bus=scsi", &d), -EINVAL);
	assert_int_equal(cli_parse_disk("w.img,bus=sata,queues=2", &d), -EINVAL);

	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--disk", "path=w.img,bus=sata", "--cdrom",
			       "win,10.iso", "--disk", "v.img", "--cdrom", "virtio-win.iso"), 0);
	assert_int_equal(cfg.nr_disks, 4);
	assert_int_equal(cfg.disks[0].bus, DISK_BUS_SATA);
	assert_string_equal(cfg.disks[1].path, "win,10.iso");	/* taken literally */
	assert_true(cfg.disks[1].cdrom);
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(cfg.disks[1].bus, DISK_BUS_SATA);
	assert_int_equal(cfg.disks[2].bus, DISK_BUS_VIRTIO);
	assert_true(cfg.disks[3].cdrom);
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--cdrom"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--cdrom", ""), -EINVAL);
	/* Six AHCI devices fit, with eight virtio disks; a seventh does not. */
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--cdrom", "1", "--cdrom", "2", "--cdrom", "3",
			       "--disk", "4,bus=sata", "--disk", "5,bus=sata", "--cdrom", "6",
			       "--disk", "a", "--disk", "b", "--disk", "c", "--disk", "d",
			       "--disk", "e", "--disk", "f", "--disk", "g", "--disk", "h"), 0);
	assert_int_equal(cfg.nr_disks, 14);
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--cdrom", "1", "--cdrom", "2", "--cdrom", "3",
			       "--cdrom", "4", "--cdrom", "5", "--cdrom", "6", "--cdrom", "7"),
			 -EINVAL);
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--cdrom", "1", "--cdrom", "2", "--cdrom", "3",
			       "--cdrom", "4", "--cdrom", "5", "--cdrom", "6",
			       "--disk", "x,bus=sata"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_sata_and_cdrom),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
