// SPDX-License-Identifier: MIT
/*
 * `minivmm groups`: every IOMMU group with its devices — the well-known
 * `for g in /sys/kernel/iommu_groups/N` shell loop, sorted numerically, with
 * names from pci.ids and each device's driver.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "lib/host_pci.h"
#include "lib/log.h"
#include "lib/sysfs.h"

static void print_group(const struct host_env *env, int group,
			const struct host_pci_dev *m, size_t n)
{
	char node[HOST_PATH_MAX], desc[384];
	bool any_vfio = false, viable = true;

	for (size_t i = 0; i < n; i++) {
		any_vfio |= !strcmp(m[i].driver, "vfio-pci");
		viable &= host_pci_vfio_ok(&m[i]);
	}
	fprintf(env->out, "IOMMU group %d", group);
	/* Say what matters for passthrough only where it is in play. */
	if (any_vfio && !viable)
		fprintf(env->out, " (not viable: a member is on a host driver)");
	else if (any_vfio && !host_path(node, sizeof(node), "%s/vfio/%d", env->devfs, group))
		fprintf(env->out, host_exists(node) ? " (ready for VFIO: %s)" :
			" (on vfio-pci, but %s is missing)", node);
	fputs(":\n", env->out);
	if (!n)
		fputs("    (no PCI devices)\n", env->out);
	for (size_t i = 0; i < n; i++) {
		host_pci_describe(&m[i], desc, sizeof(desc));
		fprintf(env->out, "    %s %s", m[i].bdf, desc);
		if (m[i].revision)
			fprintf(env->out, " (rev %02x)", m[i].revision);
		fprintf(env->out, "  driver: %s%s\n", m[i].driver[0] ? m[i].driver : "none",
			m[i].boot_vga ? "  [boot display]" : "");
	}
}

int host_groups_list(const struct host_env *env)
{
	struct host_pci_dev *members;
	size_t n, nmembers;
	int *ids, ret;

	ret = host_group_ids(env, &ids, &n);
	if (ret)
		return ret;
	if (!n) {
		free(ids);
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		ret = host_group_members(env, ids[i], &members, &nmembers);
		if (ret) {
			pr_warn("groups: IOMMU group %d: %s", ids[i], strerror(-ret));
			continue;
		}
		print_group(env, ids[i], members, nmembers);
		free(members);
	}
	free(ids);
	return 0;
}

static void groups_usage(FILE *f)
{
	fprintf(f, "usage: minivmm groups [--sysfs DIR] [--procfs DIR] [--devfs DIR]\n");
}

int host_groups_main(int argc, char **argv)
{
	static const struct option longopts[] = { HOST_ENV_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct host_env env;
	int opt, ret;

	host_env_init(&env);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (host_env_option(&env, opt, optarg))
			continue;
		if (opt == HOST_OPT_HELP) {
			groups_usage(stdout);
			return HOST_EXIT_OK;
		}
		groups_usage(stderr);
		return HOST_EXIT_USAGE;
	}
	if (optind < argc) {
		pr_err("groups: unexpected argument '%s'", argv[optind]);
		groups_usage(stderr);
		return HOST_EXIT_USAGE;
	}
	ret = host_groups_list(&env);
	host_names_release();
	if (ret == -ENOENT) {
		pr_err("no IOMMU groups in %s/kernel/iommu_groups: the IOMMU is off (enable VT-d/AMD-Vi in the firmware setup, add intel_iommu=on iommu=pt to the kernel command line; minivmm check says more)",
		       env.sysfs);
		return HOST_EXIT_FAIL;
	}
	if (ret) {
		pr_err("groups: %s/kernel/iommu_groups: %s", env.sysfs, strerror(-ret));
		return HOST_EXIT_FAIL;
	}
	return HOST_EXIT_OK;
}
