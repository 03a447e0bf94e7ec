// SPDX-License-Identifier: MIT
/*
 * Is the host using this PCI device? bind refuses to take the boot
 * display, a controller whose disks hold a mounted filesystem or active
 * swap, and a NIC whose interface is up, unless --force.
 *
 * The device's sysfs subtree names what hangs off it: block devices
 * (nvme/nvme0/nvme0n1, virtio1/block/vda, ata1/host0/.../block/sda) and
 * network interfaces (net/eth0). Directories are told apart by their
 * "subsystem" link, as udev does, with the parent's name as the fallback.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/inuse.h"
#include "lib/sysfs.h"

#define MAX_BLOCK 64
#define MAX_NET 16
#define WALK_DEPTH 8	/* ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1 */

struct found {
	struct { char name[64]; char dev[24]; } block[MAX_BLOCK];
	size_t nblock;
	struct { char name[64]; unsigned long flags; } net[MAX_NET];
	size_t nnet;
};

static void add_block(struct found *f, const char *name, const char *dev)
{
	for (size_t i = 0; i < f->nblock; i++)
		if (!strcmp(f->block[i].name, name))
			return;
	if (f->nblock == MAX_BLOCK || strlen(name) >= sizeof(f->block[0].name))
		return;
	strcpy(f->block[f->nblock].name, name);
	snprintf(f->block[f->nblock].dev, sizeof(f->block[0].dev), "%s", dev ? dev : "");
	f->nblock++;
}

/* dm-0, md0 ... stacked on a disk: mounted through them, the disk is in use. */
static void add_holders(const struct host_env *env, struct found *f, const char *dir, int depth)
{
	char path[HOST_PATH_MAX], dev[24], **names;
	size_t n;

	if (depth > 3 || host_path(path, sizeof(path), "%s/holders", dir) ||
	    host_list_dir(path, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char hdir[HOST_PATH_MAX];

		if (host_path(hdir, sizeof(hdir), "%s/class/block/%s", env->sysfs, names[i]))
			continue;
		if (host_path(path, sizeof(path), "%s/dev", hdir) || host_read_str(path, dev, sizeof(dev)))
			dev[0] = '\0';
		add_block(f, names[i], dev);
		add_holders(env, f, hdir, depth + 1);
	}
	host_free_list(names, n);
}

/*
 * With native NVMe multipath (Debian's default) the controller only holds
 * a hidden path device nvme0c0n1; the disk that gets mounted is the head
 * nvme0n1 under /sys/devices/virtual/nvme-subsystem. Same name, minus cN.
 */
static void add_nvme_head(const struct host_env *env, struct found *f, const char *path_name)
{
	char head[64], dir[HOST_PATH_MAX], path[HOST_PATH_MAX], dev[24], **names;
	unsigned s, c, ns;
	size_t n;

	if (sscanf(path_name, "nvme%uc%un%u", &s, &c, &ns) != 3)
		return;
	snprintf(head, sizeof(head), "nvme%un%u", s, ns);
	if (host_path(dir, sizeof(dir), "%s/class/block/%s", env->sysfs, head))
		return;
	if (host_path(path, sizeof(path), "%s/dev", dir) || host_read_str(path, dev, sizeof(dev)))
		dev[0] = '\0';
	add_block(f, head, dev);
	add_holders(env, f, dir, 0);
	if (host_list_dir(dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char part[HOST_PATH_MAX];

		/* Partitions are the subdirectories with a "partition" file. */
		if (host_path(part, sizeof(part), "%s/%s/partition", dir, names[i]) ||
		    !host_exists(part) ||
		    host_path(part, sizeof(part), "%s/%s/dev", dir, names[i]) ||
		    host_read_str(part, dev, sizeof(dev)))
			continue;
		add_block(f, names[i], dev);
		if (!host_path(part, sizeof(part), "%s/%s", dir, names[i]))
			add_holders(env, f, part, 0);
	}
	host_free_list(names, n);
}

static bool is_nvme_ns(const char *name)
{
	/* nvme0n1 (a namespace) or nvme0n1p2 (its partition), not nvme0 */
	return !strncmp(name, "nvme", 4) && strchr(name + 4, 'n');
}

static void walk(const struct host_env *env, struct found *f, const char *dir,
		 const char *parent, int depth)
{
	char path[HOST_PATH_MAX], sub[64], buf[24], **names;
	struct stat st;
	size_t n;

	if (depth > WALK_DEPTH || host_list_dir(dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char child[HOST_PATH_MAX];

		/* Links (driver, subsystem, iommu_group, ...) lead out of the subtree. */
		if (host_path(child, sizeof(child), "%s/%s", dir, names[i]) ||
		    lstat(child, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (host_path(path, sizeof(path), "%s/subsystem", child) ||
		    host_link_name(path, sub, sizeof(sub))) {
			bool part = !host_path(path, sizeof(path), "%s/partition", child) &&
				    host_exists(path);

			snprintf(sub, sizeof(sub), "%s",
				 part || !strcmp(parent, "block") ||
				 (is_nvme_ns(names[i]) && !strncmp(parent, "nvme", 4)) ? "block" :
				 !strcmp(parent, "net") ? "net" : "");
		}
		if (!strcmp(sub, "block")) {
			if (host_path(path, sizeof(path), "%s/dev", child) ||
			    host_read_str(path, buf, sizeof(buf)))
				buf[0] = '\0';
			add_block(f, names[i], buf);
			add_holders(env, f, child, 0);
			add_nvme_head(env, f, names[i]);
		} else if (!strcmp(sub, "net") && f->nnet < MAX_NET &&
			   strlen(names[i]) < sizeof(f->net[0].name)) {
			strcpy(f->net[f->nnet].name, names[i]);
			if (host_path(path, sizeof(path), "%s/flags", child) ||
			    host_read_ulong(path, &f->net[f->nnet].flags, 16))
				f->net[f->nnet].flags = 0;
			f->nnet++;
			continue;
		}
		walk(env, f, child, names[i], depth + 1);
	}
	host_free_list(names, n);
}

/* /dev/mapper/root -> dm-0, /dev/nvme0n1p2 -> nvme0n1p2 */
static void source_name(const struct host_env *env, const char *src, char *out, size_t len)
{
	char path[HOST_PATH_MAX], real[PATH_MAX];
	const char *base;

	out[0] = '\0';
	if (strncmp(src, "/dev/", 5))
		return;
	base = src;
	if (!host_path(path, sizeof(path), "%s/%s", env->devfs, src + 5) && realpath(path, real))
		base = real;
	base = strrchr(base, '/') + 1;
	snprintf(out, len, "%s", base);
}

static const char *block_match(const struct found *f, const char *name, const char *dev)
{
	for (size_t i = 0; i < f->nblock; i++)
		if ((name && name[0] && !strcmp(name, f->block[i].name)) ||
		    (dev && dev[0] && f->block[i].dev[0] && !strcmp(dev, f->block[i].dev)))
			return f->block[i].name;
	return NULL;
}

/* A mounted filesystem on one of the found block devices: its mount point. */
static bool mounted(const struct host_env *env, const struct found *f, char *why, size_t len)
{
	char path[HOST_PATH_MAX], *line = NULL, name[256];
	char devnum[24], mnt[512], src[512], fstype[64];
	bool info = true, hit = false;
	const char *blk;
	size_t cap = 0;
	FILE *fp;

	if (host_path(path, sizeof(path), "%s/self/mountinfo", env->procfs))
		return false;
	fp = fopen(path, "re");
	if (!fp) {
		/* /proc/mounts has the source and mount point only. */
		info = false;
		if (host_path(path, sizeof(path), "%s/mounts", env->procfs) || !(fp = fopen(path, "re")))
			return false;
	}
	while (!hit && getline(&line, &cap, fp) > 0) {
		if (info) {
			char *sep = strstr(line, " - ");

			if (!sep || sscanf(line, "%*s %*s %23s %*s %511s", devnum, mnt) != 2 ||
			    sscanf(sep + 3, "%63s %511s", fstype, src) != 2)
				continue;
		} else {
			devnum[0] = '\0';
			if (sscanf(line, "%511s %511s", src, mnt) != 2)
				continue;
		}
		source_name(env, src, name, sizeof(name));
		blk = block_match(f, name, devnum);
		if (blk) {
			snprintf(why, len, "%s is mounted on %s", blk, mnt);
			hit = true;
		}
	}
	free(line);
	fclose(fp);
	return hit;
}

static bool swapping(const struct host_env *env, const struct found *f, char *why, size_t len)
{
	char path[HOST_PATH_MAX], line[512], src[256], name[256];
	const char *blk;
	bool hit = false;
	FILE *fp;

	if (host_path(path, sizeof(path), "%s/swaps", env->procfs) || !(fp = fopen(path, "re")))
		return false;
	while (!hit && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%255s", src) != 1)
			continue;
		source_name(env, src, name, sizeof(name));
		blk = block_match(f, name, NULL);
		if (blk) {
			snprintf(why, len, "%s is in use as swap", blk);
			hit = true;
		}
	}
	fclose(fp);
	return hit;
}

bool host_pci_in_use(const struct host_env *env, const struct host_pci_dev *dev,
		     char *why, size_t len)
{
	char dir[HOST_PATH_MAX], real[PATH_MAX];
	struct found *f;
	bool busy = false;

	if (dev->bridge) {
		snprintf(why, len, "it is a PCI bridge (vfio-pci takes only endpoints; pass the devices behind it)");
		return true;
	}
	if (dev->boot_vga) {
		snprintf(why, len, "it is the boot display (boot_vga=1): the host's console runs on it");
		return true;
	}
	if (host_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", env->sysfs, dev->bdf))
		return false;
	/* Walk the real directory (/sys/devices/pci0000:00/...), not the bus link. */
	if (realpath(dir, real))
		snprintf(dir, sizeof(dir), "%s", real);
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(why, len, "out of memory while looking at it");
		return true;
	}
	walk(env, f, dir, "", 0);
	busy = mounted(env, f, why, len) || swapping(env, f, why, len);
	for (size_t i = 0; !busy && i < f->nnet; i++)
		if (f->net[i].flags & 0x1) {	/* IFF_UP */
			snprintf(why, len, "its network interface %s is up", f->net[i].name);
			busy = true;
		}
	free(f);
	return busy;
}
