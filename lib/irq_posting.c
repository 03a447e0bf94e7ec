// SPDX-License-Identifier: MIT
/* Whether passed devices' interrupts are posted (lib/irq_posting.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/irq_posting.h"
#include "lib/sysfs.h"

/* A module parameter that is on: "Y", "1" (kvm_intel.enable_apicv,
 * kvm_amd.avic). */
static bool param_on(const struct host_env *env, const char *mod, const char *name)
{
	char path[HOST_PATH_MAX], val[16];

	if (host_path(path, sizeof(path), "%s/module/%s/parameters/%s", env->sysfs, mod, name) ||
	    host_read_str(path, val, sizeof(val)))
		return false;
	return val[0] == 'Y' || val[0] == '1';
}

/* An IOMMU unit whose capability (or feature) word has bit set; each unit
 * under /sys/class/iommu has its driver's folder (intel-iommu, amd-iommu). */
static bool iommu_bit(const struct host_env *env, const char *attr, unsigned int bit)
{
	char path[HOST_PATH_MAX], dir[HOST_PATH_MAX];
	unsigned long v;
	char **units;
	size_t n;
	bool on = false;

	if (host_path(dir, sizeof(dir), "%s/class/iommu", env->sysfs) ||
	    host_list_dir(dir, &units, &n))
		return false;
	for (size_t i = 0; i < n && !on; i++)
		if (!host_path(path, sizeof(path), "%s/%s/%s", dir, units[i], attr) &&
		    !host_read_ulong(path, &v, 16))
			on = v >> bit & 1;
	host_free_list(units, n);
	return on;
}

bool host_irq_posting(const struct host_env *env, char *why, size_t len)
{
	/* Intel VT-d 3.x §11.4.2: CAP_REG bit 59, Posted Interrupts Support.
	 * AMD IOMMU 3.x §3.4.1: Extended Feature Register bit 7, GASup. */
	char mod[HOST_PATH_MAX];
	bool intel = !host_path(mod, sizeof(mod), "%s/module/kvm_intel", env->sysfs) && host_exists(mod);
	bool vapic = intel ? param_on(env, "kvm_intel", "enable_apicv") : param_on(env, "kvm_amd", "avic");
	bool posted = intel ? iommu_bit(env, "intel-iommu/cap", 59) : iommu_bit(env, "amd-iommu/features", 7);

	if (vapic && posted)
		snprintf(why, len, "posted to the vCPU (%s, and the IOMMU posts)", intel ? "APICv" : "AVIC");
	else if (!vapic)
		snprintf(why, len, "through the host, one exit each (%s off: %s)",
			 intel ? "APICv" : "AVIC",
			 intel ? "kvm_intel.enable_apicv=1 turns it on" : "kvm_amd.avic=1 turns it on");
	else
		snprintf(why, len, "through the host, one exit each (%s on, but no IOMMU here posts interrupts)",
			 intel ? "APICv" : "AVIC");
	return vapic && posted;
}
