// SPDX-License-Identifier: MIT
/*
 * lib/irq_posting.c against a made-up /sys: AVIC or APICv on or off, an
 * IOMMU whose capability word has the posting bit or not (AMD IOMMU
 * Extended Feature Register bit 7, GASup; VT-d CAP_REG bit 59), and the
 * phrase that says which path a passed device's MSIs take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/irq_posting.h"
#include "lib/sysfs.h"

static char root[64];

static void put(const char *rel, const char *val)
{
	char path[256], dir[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = 0;
	assert_int_equal(host_mkdir_p(dir, 0755, 0755), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test-irq-posting.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static bool ask(char *why, size_t len)
{
	struct host_env env;

	host_env_init(&env);
	env.sysfs = root;
	return host_irq_posting(&env, why, len);
}

static void test_amd(void **state)
{
	char why[160];

	put("module/kvm_amd/parameters/avic", "0");
	put("class/iommu/ivhd0/amd-iommu/features", "0x80");
	assert_false(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "AVIC off"));
	assert_non_null(strstr(why, "kvm_amd.avic=1"));

	put("module/kvm_amd/parameters/avic", "1");
	assert_true(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "posted to the vCPU (AVIC"));

	put("class/iommu/ivhd0/amd-iommu/features", "0x7f");	/* no GASup */
	assert_false(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "no IOMMU here posts"));
}

static void test_intel(void **state)
{
	char why[160];

	put("module/kvm_intel/parameters/enable_apicv", "Y");
	put("class/iommu/dmar0/intel-iommu/cap", "d2008c40660462");	/* bit 59 clear */
	assert_false(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "APICv on, but no IOMMU"));

	put("class/iommu/dmar1/intel-iommu/cap", "8d2008c40660462");	/* bit 59 set */
	assert_true(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "posted to the vCPU (APICv"));

	put("module/kvm_intel/parameters/enable_apicv", "N");
	assert_false(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "APICv off"));
}

static void test_nothing_there(void **state)
{
	char why[160];

	/* No KVM module, no IOMMU: not posted, and the phrase still says so. */
	assert_false(ask(why, sizeof(why)));
	assert_non_null(strstr(why, "through the host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_amd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_there, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
