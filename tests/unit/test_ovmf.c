// SPDX-License-Identifier: MIT
/*
 * Loading OVMF: the code image checks, the per-VM copy of the variable
 * template, and every bad-input case (one error line, non-zero return).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "firmware/ovmf.h"
#include "lib/memory.h"

static char dir[64];

static void make_file(const char *name, size_t size, int fill)
{
	char path[256];
	uint8_t *buf = malloc(size ? size : 1);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(buf, fill, size);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	fclose(f);
	free(buf);
}

static const char *at(const char *name)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/minivmm-ovmf-XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* A 4M split build: 3653632 + 540672 = 4 MiB, as Debian's. */
	make_file("OVMF_CODE_4M.fd", 3653632, 0xc0);
	make_file("OVMF_VARS_4M.fd", 540672, 0xff);
	make_file("OVMF.fd", 2 * MiB, 0xc0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
	return system(cmd);
}

static void test_single_image(void **state)
{
	struct ovmf o;

	assert_int_equal(ovmf_open(&o, at("OVMF.fd"), NULL, NULL, "vm", at("state")), 0);
	assert_int_equal(o.vars_fd, -1);
	assert_int_equal(o.code.size, 2 * MiB);
	assert_int_equal(o.code.gpa, MEM_4G - 2 * MiB);
	assert_int_equal(o.code.isa_size, 128 * KiB);
	ovmf_close(&o);
}

static void test_split_copies_template_once(void **state)
{
	struct ovmf o;
	struct stat st;
	int fd;

	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, NULL, "vm1", at("state")), 0);
	assert_string_equal(o.vars_path, at("state/vm1/OVMF_VARS.fd"));
	assert_int_equal(o.vars_size, 540672);
	assert_int_equal(o.vars_gpa, MEM_4G - 4 * MiB);
	/* The VM writes its copy... */
	assert_int_equal(pwrite(o.vars_fd, "minivmm", 7, 0), 7);
	ovmf_close(&o);
	/* ...and the next run gets that copy back, not a fresh template. */
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, NULL, "vm1", at("state")), 0);
	{
		char buf[8] = { 0 };

		assert_int_equal(pread(o.vars_fd, buf, 7, 0), 7);
		assert_string_equal(buf, "minivmm");
	}
	ovmf_close(&o);
	/* The template itself is untouched. */
	fd = open(at("OVMF_VARS_4M.fd"), O_RDONLY);
	{
		uint8_t b;

		assert_int_equal(pread(fd, &b, 1, 0), 1);
		assert_int_equal(b, 0xff);
	}
	close(fd);
	/* Another VM name gets its own copy. */
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, NULL, "vm2", at("state")), 0);
	assert_int_equal(stat(at("state/vm2/OVMF_VARS.fd"), &st), 0);
	ovmf_close(&o);
}

/* --secure-boot: a copy of the Microsoft-keys template, under its own
 * name, made once; the plain store of the same VM is left alone. */
static void test_secure_boot_template(void **state)
{
	struct ovmf o;

	make_file("OVMF_VARS_4M.ms.fd", 540672, 0x5b);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, NULL, "sb", at("state")), 0);
	assert_string_equal(o.vars_path, at("state/sb/OVMF_VARS.fd"));
	ovmf_close(&o);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, at("OVMF_VARS_4M.ms.fd"), "sb",
				   at("state")), 0);
	assert_string_equal(o.vars_path, at("state/sb/OVMF_VARS.ms.fd"));
	{
		uint8_t b = 0;

		assert_int_equal(pread(o.vars_fd, &b, 1, 0), 1);
		assert_int_equal(b, 0x5b);
		/* The VM enrols something; the next run keeps it. */
		assert_int_equal(pwrite(o.vars_fd, "K", 1, 0), 1);
	}
	ovmf_close(&o);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, at("OVMF_VARS_4M.ms.fd"), "sb",
				   at("state")), 0);
	{
		uint8_t b = 0;

		assert_int_equal(pread(o.vars_fd, &b, 1, 0), 1);
		assert_int_equal(b, 'K');
	}
	ovmf_close(&o);
	/* The user's own store wins over the template. */
	make_file("own.fd", 540672, 0xff);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), at("own.fd"), at("OVMF_VARS_4M.ms.fd"),
				   "sb", at("state")), 0);
	assert_string_equal(o.vars_path, at("own.fd"));
	ovmf_close(&o);
	/* A template that does not fit the code image is refused before
	 * anything is copied (else the bad copy would be kept). */
	make_file("OVMF_VARS.ms.fd", 131072, 0xff);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, at("OVMF_VARS.ms.fd"), "sb3",
				   at("state")), -EINVAL);
	assert_int_equal(ovmf_open(&o, at("OVMF.fd"), NULL, at("OVMF_VARS_4M.ms.fd"), "sb3",
				   at("state")), -EINVAL);
	{
		struct stat st;

		assert_int_equal(stat(at("state/sb3/OVMF_VARS.ms.fd"), &st), -1);
	}
	/* A missing template is named. */
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, at("OVMF_VARS_4M.none.fd"),
				   "sb2", at("state")), -ENOENT);
}

static void test_own_vars_file(void **state)
{
	struct ovmf o;

	make_file("my-vars.fd", 540672, 0xff);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), at("my-vars.fd"), NULL, "vm", at("state")), 0);
	assert_string_equal(o.vars_path, at("my-vars.fd"));
	ovmf_close(&o);
}

static void test_vars_in_use(void **state)
{
	struct ovmf a, b;

	make_file("shared.fd", 540672, 0xff);
	assert_int_equal(ovmf_open(&a, at("OVMF_CODE_4M.fd"), at("shared.fd"), NULL, "a", at("state")), 0);
	assert_int_equal(ovmf_open(&b, at("OVMF_CODE_4M.fd"), at("shared.fd"), NULL, "b", at("state")), -EBUSY);
	ovmf_close(&a);
}

static void test_bad_input(void **state)
{
	struct ovmf o;

	assert_int_equal(ovmf_open(&o, at("missing.fd"), NULL, NULL, "vm", at("state")), -ENOENT);
	make_file("odd.fd", 2 * MiB + 100, 0);
	assert_int_equal(ovmf_open(&o, at("odd.fd"), NULL, NULL, "vm", at("state")), -EINVAL);
	make_file("empty.fd", 0, 0);
	assert_int_equal(ovmf_open(&o, at("empty.fd"), NULL, NULL, "vm", at("state")), -EINVAL);
	make_file("huge.fd", 16 * MiB, 0);
	assert_int_equal(ovmf_open(&o, at("huge.fd"), NULL, NULL, "vm", at("state")), -EFBIG);
	assert_int_equal(ovmf_open(&o, dir, NULL, NULL, "vm", at("state")), -EINVAL);	/* a directory */
	/* A store of another build's size. */
	make_file("wrong-vars.fd", 128 * KiB, 0xff);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), at("wrong-vars.fd"), NULL, "vm", at("state")),
			 -EINVAL);
	/* A read-only store, even for root. */
	make_file("ro-vars.fd", 540672, 0xff);
	assert_int_equal(chmod(at("ro-vars.fd"), 0444), 0);
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), at("ro-vars.fd"), NULL, "vm", at("state")),
			 -EROFS);
	/* State directory that cannot be created. */
	assert_int_equal(ovmf_open(&o, at("OVMF_CODE_4M.fd"), NULL, NULL, "vm", "/proc/minivmm-no"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_image),
		cmocka_unit_test(test_split_copies_template_once),
		cmocka_unit_test(test_secure_boot_template),
		cmocka_unit_test(test_own_vars_file),
		cmocka_unit_test(test_vars_in_use),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests_name("ovmf", tests, setup, teardown);
}
