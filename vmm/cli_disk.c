// SPDX-License-Identifier: MIT
/*
 * --disk and --cdrom: an image's options parsed into the next disk slot,
 * and each bus's limit (CLI_MAX_VIRTIO_DISKS virtio-blk disks; the AHCI
 * ports, which --cdrom and --disk bus=sata share).
 * Split from cli.c, which parses the rest; docs/virtio-blk.md and
 * docs/ahci.md have the options.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/size.h"
#include "vmm/cli.h"

static int disk_bool(const char *arg, const char *key, const char *val, bool *out)
{
	if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1")) {
		*out = true;
	} else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false") ||
		   !strcmp(val, "0")) {
		*out = false;
	} else {
		pr_err("--disk %s: %s=%s is neither on nor off", arg, key, val);
		return -EINVAL;
	}
	return 0;
}

/* queues=, iothreads=: 1 to CLI_DISK_MAX_QUEUES. */
static int disk_count(const char *arg, const char *key, const char *val, unsigned int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(val, &end, 10);
	if (errno || end == val || *end || n < 1 || n > CLI_DISK_MAX_QUEUES) {
		pr_err("--disk %s: %s=%s is not a number from 1 to %d", arg, key, val,
		       CLI_DISK_MAX_QUEUES);
		return -EINVAL;
	}
	*out = (unsigned int)n;
	return 0;
}

/* One "key=value" (or, first, a bare path) of a --disk value. */
static int disk_item(const char *arg, char *item, bool first, struct disk_config *d)
{
	const char *key = item;
	char *val = strchr(item, '=');

	if (val) {
		*val++ = '\0';
	} else if (first && *item) {
		val = item;		/* --disk FILE */
		key = "path";
	} else if (!strcmp(item, "readonly") || !strcmp(item, "direct")) {
		pr_err("--disk %s: write %s=on (or =off)", arg, item);
		return -EINVAL;
	} else {
		goto unknown;
	}
	if (!strcmp(key, "path") || !strcmp(key, "file")) {
		if (strlen(val) >= sizeof(d->path)) {
			pr_err("--disk: the image path is longer than %zu characters", sizeof(d->path) - 1);
			return -EINVAL;
		}
		strcpy(d->path, val);
	} else if (!strcmp(key, "readonly")) {
		return disk_bool(arg, key, val, &d->readonly);
	} else if (!strcmp(key, "direct")) {
		return disk_bool(arg, key, val, &d->direct);
	} else if (!strcmp(key, "serial")) {
		if (strlen(val) > CLI_DISK_SERIAL_MAX) {
			pr_err("--disk %s: serial '%s' is longer than %d characters (a disk serial holds %d)",
			       arg, val, CLI_DISK_SERIAL_MAX, CLI_DISK_SERIAL_MAX);
			return -EINVAL;
		}
		strcpy(d->serial, val);
	} else if (!strcmp(key, "bus")) {
		if (!strcmp(val, "virtio")) {
			d->bus = DISK_BUS_VIRTIO;
		} else if (!strcmp(val, "sata")) {
			d->bus = DISK_BUS_SATA;
		} else {
			pr_err("--disk %s: bus=%s is not a disk bus (use virtio or sata)", arg, val);
			return -EINVAL;
		}
	} else if (!strcmp(key, "queues")) {
		return disk_count(arg, key, val, &d->queues);
	} else if (!strcmp(key, "iothreads")) {
		return disk_count(arg, key, val, &d->iothreads);
	} else {
		goto unknown;
	}
	return 0;
unknown:
	pr_err("--disk %s: unknown disk option '%s' (known: path, bus, readonly, direct, serial, queues, iothreads)",
	       arg, key);
	return -EINVAL;
}

int cli_next_item(const char **p, char *item, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	/* Items are comma-separated; ",," is a literal comma (as in QEMU),
	 * so any path can be written. */
	for (; *s && !(*s == ',' && s[1] != ','); s++) {
		if (*s == ',')
			s++;
		if (n == cap - 1)
			return -E2BIG;
		item[n++] = *s;
	}
	item[n] = '\0';
	if (*s == ',')
		s++;
	*p = s;
	return 0;
}

int cli_parse_disk(const char *arg, struct disk_config *d)
{
	char item[sizeof(d->path) + 16];
	const char *p = arg;
	bool first = true;

	memset(d, 0, sizeof(*d));
	while (*p) {
		if (cli_next_item(&p, item, sizeof(item))) {
			pr_err("--disk: option too long (the image path has at most %zu characters)",
			       sizeof(d->path) - 1);
			return -EINVAL;
		}
		if (disk_item(arg, item, first, d))
			return -EINVAL;
		first = false;
	}
	if (!d->path[0]) {
		pr_err("--disk %s: no image given (write --disk path=FILE or --disk FILE)", arg);
		return -EINVAL;
	}
	if (d->bus == DISK_BUS_SATA && d->queues) {
		pr_err("--disk %s: queues= is for virtio-blk disks (a SATA disk has one NCQ queue; drop queues=)",
		       arg);
		return -EINVAL;
	}
	if (d->bus == DISK_BUS_SATA && d->iothreads) {
		pr_err("--disk %s: iothreads= is for virtio-blk disks (a SATA port has its own thread; drop iothreads=)",
		       arg);
		return -EINVAL;
	}
	if (d->queues && d->iothreads > d->queues) {
		pr_err("--disk %s: iothreads=%u is more than the disk's %u queues (a thread serves one queue at least)",
		       arg, d->iothreads, d->queues);
		return -EINVAL;
	}
	return 0;
}

/* Count the disks of cfg on bus (CD-ROMs are on the AHCI bus). */
static unsigned int disks_on(const struct vm_config *cfg, enum disk_bus bus)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		n += cfg->disks[i].bus == bus;
	return n;
}

/* --disk or --cdrom: parsed into the next slot, then the bus's limit. */
int cli_add_disk(struct vm_config *cfg, const char *arg, bool cdrom)
{
	struct disk_config *d = &cfg->disks[cfg->nr_disks];

	if (cfg->nr_disks == CLI_MAX_DISKS) {
		pr_err("%s %s: more than %d disks and CD-ROMs (minivmm takes at most %d)",
		       cdrom ? "--cdrom" : "--disk", arg, CLI_MAX_DISKS, CLI_MAX_DISKS);
		return -EINVAL;
	}
	if (cdrom) {
		memset(d, 0, sizeof(*d));
		if (!*arg || strlen(arg) >= sizeof(d->path)) {
			pr_err("--cdrom '%s': give the ISO image's path (at most %zu characters)", arg,
			       sizeof(d->path) - 1);
			return -EINVAL;
		}
		strcpy(d->path, arg);
		d->bus = DISK_BUS_SATA;
		d->cdrom = true;
		d->readonly = true;
	} else if (cli_parse_disk(arg, d)) {
		return -EINVAL;
	}
	if (d->bus == DISK_BUS_VIRTIO && disks_on(cfg, DISK_BUS_VIRTIO) == CLI_MAX_VIRTIO_DISKS) {
		pr_err("--disk %s: more than %d disks (minivmm takes at most %d virtio-blk disks)",
		       arg, CLI_MAX_VIRTIO_DISKS, CLI_MAX_VIRTIO_DISKS);
		return -EINVAL;
	}
	if (d->bus == DISK_BUS_SATA && disks_on(cfg, DISK_BUS_SATA) == CLI_MAX_AHCI) {
		pr_err("%s %s: more than %d AHCI devices (the AHCI controller has %d ports, which --cdrom and --disk bus=sata share)",
		       cdrom ? "--cdrom" : "--disk", arg, CLI_MAX_AHCI, CLI_MAX_AHCI);
		return -EINVAL;
	}
	cfg->nr_disks++;
	return 0;
}

