// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "lib/host_pci.h"
#include "lib/log.h"
#include "lib/sysfs.h"

/* Parses 1..maxdigits hex digits; returns the end or NULL. */
static const char *parse_hex(const char *s, int maxdigits, unsigned *val)
{
	unsigned v = 0;
	int n = 0;

	while (isxdigit((unsigned char)*s) && n < maxdigits) {
		v = v * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0' :
					 tolower((unsigned char)*s) - 'a' + 10);
		s++;
		n++;
	}
	if (!n || isxdigit((unsigned char)*s))
		return NULL;
	*val = v;
	return s;
}

int host_bdf_parse(const char *arg, char *out, size_t len, bool *slot)
{
	unsigned f[3], domain = 0, fn = 0;
	int nf = 0, ret;
	const char *p = arg;

	/* Up to three colon-separated fields: [domain:]bus:dev, then .fn. */
	for (;;) {
		p = parse_hex(p, nf == 0 ? 4 : 2, &f[nf]);
		if (!p)
			return -EINVAL;
		nf++;
		if (*p != ':' || nf == 3)
			break;
		p++;
	}
	if (nf < 2)
		return -EINVAL;
	if (nf == 3) {
		domain = f[0];
		f[0] = f[1];
		f[1] = f[2];
	} else if (f[0] > 0xff) {
		return -EINVAL;		/* a 3-4 digit first field is a domain */
	}
	if (f[0] > 0xff || f[1] > 0x1f)
		return -EINVAL;
	*slot = (*p == '\0');
	if (!*slot) {
		if (*p != '.')
			return -EINVAL;
		p = parse_hex(p + 1, 1, &fn);
		if (!p || *p || fn > 7)
			return -EINVAL;
		ret = host_path(out, len, "%04x:%02x:%02x.%x", domain, f[0], f[1], fn);
	} else {
		ret = host_path(out, len, "%04x:%02x:%02x", domain, f[0], f[1]);
	}
	return ret;
}

int host_bdf_expand(const struct host_env *env, const char *arg,
		    char (**bdfs)[HOST_BDF_LEN], size_t *n)
{
	char want[HOST_BDF_LEN], path[HOST_PATH_MAX];
	char (*list)[HOST_BDF_LEN] = NULL;
	char **names;
	size_t count = 0, nnames;
	bool slot;
	int ret;

	ret = host_bdf_parse(arg, want, sizeof(want), &slot);
	if (ret)
		return ret;
	ret = host_path(path, sizeof(path), "%s/bus/pci/devices", env->sysfs);
	if (ret)
		return ret;
	ret = host_list_dir(path, &names, &nnames);
	if (ret == -ENOENT)
		return -ENODEV;
	if (ret)
		return ret;
	list = calloc(nnames ? nnames : 1, sizeof(*list));
	if (!list) {
		ret = -ENOMEM;
		goto free_names;
	}
	for (size_t i = 0; i < nnames; i++) {
		size_t wl = strlen(want);

		/* A slot "0000:65:00" matches "0000:65:00.N"; a BDF only itself. */
		if (slot ? (!strncmp(names[i], want, wl) && names[i][wl] == '.')
			 : !strcmp(names[i], want)) {
			if (strlen(names[i]) >= HOST_BDF_LEN)
				continue;
			strcpy(list[count++], names[i]);
		}
	}
	if (!count) {
		free(list);
		ret = -ENODEV;
		goto free_names;
	}
	*bdfs = list;
	*n = count;
free_names:
	host_free_list(names, nnames);
	return ret;
}

static int read_hex_attr(const char *dir, const char *attr, unsigned *val)
{
	char path[HOST_PATH_MAX];
	unsigned long v;
	int ret;

	ret = host_path(path, sizeof(path), "%s/%s", dir, attr);
	if (!ret)
		ret = host_read_ulong(path, &v, 16);
	if (!ret)
		*val = (unsigned)v;
	return ret;
}

/*
 * vfio-pci only takes header type 0 devices. The config space says it
 * exactly (byte 0x0e, readable without privileges); the class code is the
 * fallback for trees without a config file.
 */
static bool is_bridge(const char *dir, unsigned class)
{
	char path[HOST_PATH_MAX];
	unsigned char cfg[16];
	FILE *f;

	if (!host_path(path, sizeof(path), "%s/config", dir)) {
		f = fopen(path, "rb");
		if (f) {
			size_t got = fread(cfg, 1, sizeof(cfg), f);

			fclose(f);
			if (got == sizeof(cfg))
				return (cfg[0x0e] & 0x7f) != 0;
		}
	}
	/* PCI-to-PCI, CardBus and semi-transparent PCI-to-PCI bridges. */
	return (class >> 8) == 0x0604 || (class >> 8) == 0x0607 ||
	       (class >> 8) == 0x0609;
}

int host_pci_read(const struct host_env *env, const char *bdf,
		  struct host_pci_dev *dev)
{
	char dir[HOST_PATH_MAX], path[HOST_PATH_MAX], buf[HOST_DRV_LEN];
	int ret;

	memset(dev, 0, sizeof(*dev));
	if (strlen(bdf) >= sizeof(dev->bdf))
		return -EINVAL;
	strcpy(dev->bdf, bdf);
	ret = host_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", env->sysfs, bdf);
	if (ret)
		return ret;
	if (!host_is_dir(dir))
		return -ENODEV;
	ret = read_hex_attr(dir, "vendor", &dev->vendor);
	if (!ret)
		ret = read_hex_attr(dir, "device", &dev->device);
	if (!ret)
		ret = read_hex_attr(dir, "class", &dev->class);
	if (ret)
		return ret;
	if (read_hex_attr(dir, "revision", &dev->revision))
		dev->revision = 0;

	dev->group = -1;
	if (!host_path(path, sizeof(path), "%s/iommu_group", dir) &&
	    !host_link_name(path, buf, sizeof(buf))) {
		char *end;
		long g = strtol(buf, &end, 10);

		if (!*end && g >= 0 && g < 1000000)
			dev->group = (int)g;
	}
	if (host_path(path, sizeof(path), "%s/driver", dir) ||
	    host_link_name(path, dev->driver, sizeof(dev->driver)))
		dev->driver[0] = '\0';
	/* The kernel prints an unset override as "(null)". */
	if (host_path(path, sizeof(path), "%s/driver_override", dir) ||
	    host_read_str(path, dev->override, sizeof(dev->override)) ||
	    !strcmp(dev->override, "(null)"))
		dev->override[0] = '\0';
	if (!host_path(path, sizeof(path), "%s/boot_vga", dir) &&
	    !host_read_str(path, buf, sizeof(buf)))
		dev->boot_vga = !strcmp(buf, "1");
	dev->bridge = is_bridge(dir, dev->class);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int host_group_ids(const struct host_env *env, int **ids, size_t *n)
{
	char path[HOST_PATH_MAX], **names;
	size_t nnames, count = 0;
	int *list, ret;

	*ids = NULL;
	*n = 0;
	ret = host_path(path, sizeof(path), "%s/kernel/iommu_groups", env->sysfs);
	if (ret)
		return ret;
	ret = host_list_dir(path, &names, &nnames);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	list = calloc(nnames ? nnames : 1, sizeof(*list));
	if (!list) {
		host_free_list(names, nnames);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nnames; i++) {
		char *end;
		long g = strtol(names[i], &end, 10);

		if (*end || end == names[i] || g < 0 || g >= 1000000)
			continue;
		list[count++] = (int)g;
	}
	host_free_list(names, nnames);
	/* Directory order is string order: group 10 would come before 2. */
	qsort(list, count, sizeof(*list), cmp_int);
	*ids = list;
	*n = count;
	return 0;
}

int host_group_members(const struct host_env *env, int group,
		       struct host_pci_dev **devs, size_t *n)
{
	char path[HOST_PATH_MAX], **names;
	struct host_pci_dev *list;
	size_t nnames, count = 0;
	int ret;

	ret = host_path(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices",
			env->sysfs, group);
	if (ret)
		return ret;
	ret = host_list_dir(path, &names, &nnames);
	if (ret)
		return ret;
	list = calloc(nnames ? nnames : 1, sizeof(*list));
	if (!list) {
		host_free_list(names, nnames);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nnames; i++) {
		/* Groups can hold non-PCI devices (platform); only PCI ones count here. */
		if (host_pci_read(env, names[i], &list[count]))
			continue;
		count++;
	}
	host_free_list(names, nnames);
	*devs = list;
	*n = count;
	return 0;
}

bool host_pci_vfio_ok(const struct host_pci_dev *dev)
{
	return !dev->driver[0] || !strcmp(dev->driver, "vfio-pci") ||
	       !strcmp(dev->driver, "pci-stub") || dev->bridge;
}

/* --- names from pci.ids ------------------------------------------------ */

static struct pci_access *names_pacc;

static void __attribute__((noreturn, format(printf, 1, 2))) pacc_error(char *msg, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(line, sizeof(line), msg, ap);
	va_end(ap);
	/* libpci calls this only for fatal errors (out of memory). */
	pr_err("libpci: %s", line);
	exit(EXIT_FAILURE);
}

static void __attribute__((format(printf, 1, 2))) pacc_warning(char *msg, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(line, sizeof(line), msg, ap);
	va_end(ap);
	pr_warn("libpci: %s", line);
}

static void __attribute__((format(printf, 1, 2))) pacc_debug(char *msg, ...)
{
	(void)msg;
}

static struct pci_access *names(void)
{
	if (names_pacc)
		return names_pacc;
	/*
	 * No pci_init(): it would pick an access method and scan the real
	 * bus, which we neither need (sysfs is read directly, possibly a fake
	 * tree) nor may get. Name lookups only need the callbacks set.
	 */
	names_pacc = pci_alloc();
	if (!names_pacc)
		return NULL;
	names_pacc->error = pacc_error;
	names_pacc->warning = pacc_warning;
	names_pacc->debug = pacc_debug;
	return names_pacc;
}

void host_names_release(void)
{
	if (names_pacc)
		pci_cleanup(names_pacc);
	names_pacc = NULL;
}

/* udev's hwdb leaks on misses (libpci 3.9) and adds nothing for us. */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

const char *host_pci_class_name(const struct host_pci_dev *dev, char *buf,
				size_t len)
{
	struct pci_access *a = names();
	const char *s = NULL;

	if (a)
		s = pci_lookup_name(a, buf, (int)len, PCI_LOOKUP_CLASS | LOOKUP_FLAGS,
				    dev->class >> 8);
	if (!s) {
		snprintf(buf, len, "Class %04x", dev->class >> 8);
		s = buf;
	}
	return s;
}

void host_pci_describe(const struct host_pci_dev *dev, char *buf, size_t len)
{
	struct pci_access *a = names();
	char cls[128], vname[128], dname[192];
	const char *v = NULL, *d = NULL;

	host_pci_class_name(dev, cls, sizeof(cls));
	if (a) {
		v = pci_lookup_name(a, vname, sizeof(vname), PCI_LOOKUP_VENDOR | LOOKUP_FLAGS,
				    dev->vendor);
		d = pci_lookup_name(a, dname, sizeof(dname), PCI_LOOKUP_DEVICE | LOOKUP_FLAGS,
				    dev->vendor, dev->device);
	}
	/* lspci -nn's shape, so the line reads the same as what people know. */
	snprintf(buf, len, "%s [%04x]: %s %s [%04x:%04x]", cls, dev->class >> 8,
		 v ? v : "Vendor", d ? d : "Device", dev->vendor, dev->device);
}
