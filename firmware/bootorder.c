// SPDX-License-Identifier: MIT
/* The fw_cfg "bootorder" file from --boot; see bootorder.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/bootorder.h"
#include "lib/log.h"

#define BOOT_ITEM_MAX	32

static const char *const kind_name[] = {
	[BOOT_CDROM] = "cdrom",
	[BOOT_DISK] = "disk",
};

void bootorder_virtio_blk(struct boot_device *d, unsigned int index, unsigned int slot)
{
	d->kind = BOOT_DISK;
	d->index = index;
	snprintf(d->ofw_path, sizeof(d->ofw_path), "/pci@i0cf8/scsi@%x/disk@0,0", slot & 0x1f);
}

void bootorder_sata(struct boot_device *d, enum boot_kind kind, unsigned int index,
		    unsigned int port)
{
	d->kind = kind;
	d->index = index;
	snprintf(d->ofw_path, sizeof(d->ofw_path), "/pci@i0cf8/pci8086,2922@1f,2/drive@%x/disk@0",
		 port & 0x1f);
}

/* "disk", "cdrom1": the kind, and the index or -1 for all of the kind. */
static int parse_item(const char *item, size_t len, enum boot_kind *kind, long *index)
{
	for (unsigned int k = 0; k < sizeof(kind_name) / sizeof(kind_name[0]); k++) {
		size_t n = strlen(kind_name[k]);
		char *end;

		if (len < n || strncmp(item, kind_name[k], n))
			continue;
		*kind = (enum boot_kind)k;
		if (len == n) {
			*index = -1;
			return 0;
		}
		if (!isdigit((unsigned char)item[n]) || len - n > 2)
			return -EINVAL;
		*index = strtol(item + n, &end, 10);
		return end == item + len ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Call fn for each item of list; stops at the first error. */
static int for_each_item(const char *list,
			 int (*fn)(void *ctx, const char *item, size_t len), void *ctx)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		int ret;

		if (!len || len >= BOOT_ITEM_MAX) {
			pr_err("--boot '%s': an empty or overlong item (give a comma-separated list of cdrom, disk, cdromN, diskN)",
			       list);
			return -EINVAL;
		}
		ret = fn(ctx, p, len);
		if (ret)
			return ret;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int check_item(void *ctx, const char *item, size_t len)
{
	enum boot_kind kind;
	long index;

	if (parse_item(item, len, &kind, &index) && strspn(item, "acdn") >= len) {
		pr_err("--boot: '%.*s' looks like QEMU's -boot letters; name the devices instead: --boot cdrom,disk",
		       (int)len, item);
		return -EINVAL;
	}
	if (parse_item(item, len, &kind, &index)) {
		pr_err("--boot: '%.*s' is not a boot device (use cdrom, disk, or cdromN/diskN for the N-th --cdrom/--disk, counting from 0)",
		       (int)len, item);
		return -EINVAL;
	}
	return 0;
}

int bootorder_parse(const char *list)
{
	return for_each_item(list, check_item, NULL);
}

struct build {
	const struct boot_device *devs;
	size_t n;
	bool used[BOOT_MAX_DEVICES];
	char *out;
	size_t len, cap;
};

static int append(struct build *b, const char *path)
{
	size_t need = strlen(path) + 1;

	if (b->len + need + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + need;
		char *p = realloc(b->out, cap);

		if (!p)
			return -ENOMEM;
		b->out = p;
		b->cap = cap;
	}
	memcpy(b->out + b->len, path, need - 1);
	b->len += need - 1;
	b->out[b->len++] = '\n';
	b->out[b->len] = '\0';
	return 0;
}

static int build_item(void *ctx, const char *item, size_t len)
{
	struct build *b = ctx;
	enum boot_kind kind;
	unsigned int found = 0;
	long index;
	int ret;

	if (parse_item(item, len, &kind, &index))
		return check_item(NULL, item, len);
	for (size_t i = 0; i < b->n && i < BOOT_MAX_DEVICES; i++) {
		const struct boot_device *d = &b->devs[i];

		if (d->kind != kind || (index >= 0 && d->index != (unsigned long)index))
			continue;
		found++;
		if (b->used[i])
			continue;
		b->used[i] = true;
		ret = append(b, d->ofw_path);
		if (ret)
			return ret;
	}
	if (!found) {
		if (index < 0)
			pr_err("--boot %.*s: no %s is attached (add --%s FILE, or drop %s from --boot)",
			       (int)len, item, kind == BOOT_CDROM ? "CD-ROM" : "disk",
			       kind_name[kind], kind_name[kind]);
		else
			pr_err("--boot %.*s: there is no %s number %ld (they count from 0, in --%s order)",
			       (int)len, item, kind == BOOT_CDROM ? "CD-ROM" : "disk", index,
			       kind_name[kind]);
		return -ENOENT;
	}
	return 0;
}

int bootorder_build(const char *list, const struct boot_device *devs, size_t n,
		    char **out, size_t *len)
{
	struct build b = { .devs = devs, .n = n };
	int ret = 0;

	if (list) {
		ret = for_each_item(list, build_item, &b);
	} else {
		/* QEMU's -boot dc: every CD-ROM, then every disk; an absent
		 * kind is no error here. */
		for (size_t i = 0; !ret && i < n && i < BOOT_MAX_DEVICES; i++)
			if (devs[i].kind == BOOT_CDROM)
				ret = append(&b, devs[i].ofw_path);
		for (size_t i = 0; !ret && i < n && i < BOOT_MAX_DEVICES; i++)
			if (devs[i].kind == BOOT_DISK)
				ret = append(&b, devs[i].ofw_path);
	}
	if (!ret && !b.out)
		ret = (b.out = calloc(1, 1)) ? 0 : -ENOMEM;
	if (ret) {
		free(b.out);
		return ret;
	}
	*out = b.out;
	*len = b.len;
	return 0;
}
