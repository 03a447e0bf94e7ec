// SPDX-License-Identifier: MIT
/*
 * --vfio BDF[,romfile=FILE][,mmap=off] and --gpu BDF[,vga=on][,romfile=FILE]: the
 * host devices handed to the guest (devices/vfio). Pure parsing, like the
 * rest of the command line; whether the device exists and is on vfio-pci
 * is checked when the VM is built.
 */
#include <errno.h>
#include <string.h>

#include "lib/host_pci.h"
#include "lib/log.h"
#include "lib/trace.h"
#include "vmm/cli.h"

static int vfio_item(const char *opt, const char *arg, char *item, bool first,
		     struct vfio_dev_config *d)
{
	char *val = strchr(item, '=');
	const char *key = item;
	char norm[HOST_BDF_LEN];
	bool slot;

	if (val)
		*val++ = '\0';
	if (first && !val) {
		val = item;	/* the bare BDF */
		key = "host";
	}
	if (!val) {
		pr_err("%s %s: '%s' needs a value (like vga=on)", opt, arg, item);
		return -EINVAL;
	}
	if (!strcmp(key, "host")) {
		if (host_bdf_parse(val, norm, sizeof(norm), &slot)) {
			pr_err("%s %s: '%s' is not a PCI address (like 65:00.0, 0000:65:00.0, or 65:00 for the whole device)",
			       opt, arg, val);
			return -EINVAL;
		}
		strcpy(d->bdf, val);
	} else if (!strcmp(key, "romfile")) {
		if (!*val || strlen(val) >= sizeof(d->romfile)) {
			pr_err("%s %s: romfile= needs a file name (at most %zu characters)", opt, arg,
			       sizeof(d->romfile) - 1);
			return -EINVAL;
		}
		strcpy(d->romfile, val);
	} else if (!strcmp(key, "mmap")) {
		/* off: no BAR memslots, every access an exit and a
		 * pread/pwrite (docs/latency.md: mapped vs trapped) */
		if (!strcmp(val, "on")) {
			d->no_mmap = false;
		} else if (!strcmp(val, "off")) {
			d->no_mmap = true;
		} else {
			pr_err("%s %s: mmap=%s is neither on nor off", opt, arg, val);
			return -EINVAL;
		}
	} else if (!strcmp(key, "vga") && d->gpu) {
		if (!strcmp(val, "on")) {
			d->vga = true;
		} else if (!strcmp(val, "off")) {
			d->vga = false;
		} else {
			pr_err("%s %s: vga=%s is neither on nor off", opt, arg, val);
			return -EINVAL;
		}
	} else {
		pr_err("%s %s: unknown option '%s' (known: %s)", opt, arg, key,
		       d->gpu ? "romfile, mmap, vga" : "romfile, mmap; vga= belongs to --gpu");
		return -EINVAL;
	}
	return 0;
}

int cli_parse_vfio(const char *arg, bool gpu, struct vfio_dev_config *d)
{
	const char *opt = gpu ? "--gpu" : "--vfio";
	char item[sizeof(d->romfile) + 16];
	const char *p = arg;
	bool first = true;

	memset(d, 0, sizeof(*d));
	d->gpu = gpu;
	while (*p) {
		if (cli_next_item(&p, item, sizeof(item))) {
			pr_err("%s: option too long", opt);
			return -EINVAL;
		}
		if (vfio_item(opt, arg, item, first, d))
			return -EINVAL;
		first = false;
	}
	if (!d->bdf[0]) {
		pr_err("%s %s: no host device given (write %s 65:00.0)", opt, arg, opt);
		return -EINVAL;
	}
	return 0;
}

int cli_parse_trace(const char *arg, struct vm_config *cfg)
{
	char item[16];
	const char *p = arg;
	unsigned int mask = 0;

	cfg->trace_file = NULL;
	while (*p) {
		unsigned int bit;

		/* file= is last and takes the rest, commas and all. */
		if (!strncmp(p, "file=", 5)) {
			if (!p[5]) {
				pr_err("--trace %s: file= needs a file name (like file=/tmp/vfio.trace)", arg);
				return -EINVAL;
			}
			cfg->trace_file = p + 5;
			break;
		}
		if (cli_next_item(&p, item, sizeof(item))) {
			pr_err("--trace %s: unknown trace (known: vfio)", arg);
			return -EINVAL;
		}
		bit = trace_category(item);
		if (!bit) {
			pr_err("--trace %s: unknown trace '%s' (known: vfio)", arg, item);
			return -EINVAL;
		}
		mask |= bit;
	}
	if (!mask) {
		pr_err("--trace %s: name what to trace (--trace vfio[,file=PATH])", arg);
		return -EINVAL;
	}
	cfg->trace_mask = mask;
	return 0;
}
