// SPDX-License-Identifier: MIT
/*
 * --secure-boot and --fw-cfg: the command line (every form and bad input),
 * and fw_cfg_add_opt(), which serves a --fw-cfg entry to the guest: a string
 * without its NUL, a file byte for byte, each bad file refused.
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
#include <unistd.h>
#include <cmocka.h>

#include "firmware/fw_cfg.h"
#include "lib/size.h"
#include "vmm/cli.h"

#define ARGS(...) ((char *[]){ "minivmm", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "minivmm", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(cfg, ...) cli_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), cfg)

static struct vm_config cfg;

static void test_secure_boot(void **state)
{
	assert_int_equal(PARSE(&cfg, "--secure-boot"), 0);
	assert_true(cfg.secure_boot);
	assert_string_equal(cfg.ovmf, CLI_SECURE_BOOT_CODE);
	assert_null(cfg.ovmf_vars);
	assert_string_equal(cfg.ovmf_vars_template, CLI_SECURE_BOOT_VARS);
	/* The user's images win; the template is only a default. */
	assert_int_equal(PARSE(&cfg, "--secure-boot", "--ovmf", "code.fd"), 0);
	assert_string_equal(cfg.ovmf, "code.fd");
	assert_string_equal(cfg.ovmf_vars_template, CLI_SECURE_BOOT_VARS);
	assert_int_equal(PARSE(&cfg, "--ovmf-vars", "mine.fd", "--secure-boot"), 0);
	assert_string_equal(cfg.ovmf, CLI_SECURE_BOOT_CODE);
	assert_string_equal(cfg.ovmf_vars, "mine.fd");
	assert_null(cfg.ovmf_vars_template);
	/* Without it, nothing changes. */
	assert_int_equal(PARSE(&cfg, "--ovmf", "code.fd"), 0);
	assert_false(cfg.secure_boot);
	assert_null(cfg.ovmf_vars_template);
	assert_int_equal(PARSE(&cfg, "--secure-boot", "--firmware", "fw.bin"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--secure-boot=on"), -EINVAL);
}

static void test_fw_cfg_forms(void **state)
{
	struct fw_cfg_opt_config e;
	char name55[64];

	assert_int_equal(cli_parse_fw_cfg("name=opt/ovmf/X-PciMmio64Mb,string=65536", &e), 0);
	assert_string_equal(e.name, "opt/ovmf/X-PciMmio64Mb");
	assert_string_equal(e.value, "65536");
	assert_true(e.is_string);
	assert_int_equal(cli_parse_fw_cfg("file=/tmp/a,,b,name=opt/x", &e), 0);
	assert_string_equal(e.name, "opt/x");
	assert_string_equal(e.value, "/tmp/a,b");
	assert_false(e.is_string);
	assert_int_equal(cli_parse_fw_cfg("name=opt/s,string=a=b,,c", &e), 0);
	assert_string_equal(e.value, "a=b,c");
	/* 55 characters fit the directory's 56 bytes with the NUL. */
	snprintf(name55, sizeof(name55), "opt/%051d", 7);
	assert_int_equal(strlen(name55), CLI_FW_CFG_NAME_MAX);
	{
		char arg[128];

		snprintf(arg, sizeof(arg), "name=%s,string=1", name55);
		assert_int_equal(cli_parse_fw_cfg(arg, &e), 0);
		snprintf(arg, sizeof(arg), "name=%s8,string=1", name55);
		assert_int_equal(cli_parse_fw_cfg(arg, &e), -EINVAL);
	}
	assert_int_equal(PARSE(&cfg, "--ovmf", "a", "--fw-cfg", "name=opt/a,string=1",
			       "--fw-cfg", "name=opt/b,file=f"), 0);
	assert_int_equal(cfg.nr_fw_cfg, 2);
	assert_string_equal(cfg.fw_cfg[1].name, "opt/b");
	assert_string_equal(cfg.fw_cfg[1].value, "f");
}

static void test_fw_cfg_bad(void **state)
{
	static const char *const bad[] = {
		"", "opt/x", "name=opt/x", "string=1", "file=f",
		"name=etc/e820,string=1",	/* not opt/: could shadow minivmm's own */
		"name=bootorder,file=f", "name=opt/,string=1", "name=,string=1",
		"name=opt/x,string=", "name=opt/x,file=",
		"name=opt/x,file=f,string=s", "name=opt/x,string=s,string=t",
		"name=opt/x,name=opt/y,string=1", "name=opt/x,string=1,romfile=r",
		"name=opt/x,,string=1",	/* ",," is part of the name: no contents */
	};
	struct fw_cfg_opt_config e;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_fw_cfg(bad[i], &e) != -EINVAL)
			fail_msg("--fw-cfg '%s' was accepted", bad[i]);
	}
	big = malloc(8192);
	assert_non_null(big);
	memset(big, 'a', 8191);
	big[8191] = '\0';
	memcpy(big, "name=opt/x,file=", 16);
	assert_int_equal(cli_parse_fw_cfg(big, &e), -EINVAL);
	free(big);
	/* The same name twice, and one entry too many. */
	assert_int_equal(PARSE(&cfg, "--ovmf", "a", "--fw-cfg", "name=opt/a,string=1",
			       "--fw-cfg", "name=opt/a,file=f"), -EINVAL);
	{
		char *argv[4 + 2 * (CLI_MAX_FW_CFG + 1)], names[CLI_MAX_FW_CFG + 1][32];
		int n = 0;

		argv[n++] = "minivmm";
		argv[n++] = "--ovmf";
		argv[n++] = "a";
		for (int i = 0; i <= CLI_MAX_FW_CFG; i++) {
			snprintf(names[i], sizeof(names[i]), "name=opt/%d,string=1", i);
			argv[n++] = "--fw-cfg";
			argv[n++] = names[i];
		}
		argv[n] = NULL;
		assert_int_equal(cli_parse(n, argv, &cfg), -EINVAL);
		assert_int_equal(cli_parse(n - 2, argv, &cfg), 0);
		assert_int_equal(cfg.nr_fw_cfg, CLI_MAX_FW_CFG);
	}
}

/* ---- fw_cfg_add_opt: what the guest reads -------------------------------- */

struct fixture {
	struct guest_mem mem;
	struct bus pio;
	struct fw_cfg *fw;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mem_layout(&f->mem, 64 * MiB, 128 * KiB), 0);
	assert_int_equal(mem_alloc(&f->mem, MEM_BACKING_ANON, "/sys"), 0);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	f->fw = fw_cfg_create(NULL, &f->mem);
	assert_non_null(f->fw);
	assert_int_equal(fw_cfg_attach(f->fw, &f->pio), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/minivmm-fwcfg-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	fw_cfg_destroy(f->fw);
	bus_exit(&f->pio);
	mem_free(&f->mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The named file's contents as the guest reads them (selector + data port),
 * and its size from the directory. */
static size_t guest_read(struct fixture *f, const char *name, uint8_t *buf, size_t cap)
{
	uint8_t b[2], n[4], e[64];
	uint32_t count, size = 0;
	int key = fw_cfg_file_key(f->fw, name);

	assert_true(key >= FW_CFG_FILE_FIRST);
	bus_data_put(b, 2, FW_CFG_FILE_DIR);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_SEL, b, 2), 0);
	for (int i = 0; i < 4; i++)
		bus_read(&f->pio, FW_CFG_PORT_DATA, &n[i], 1);
	count = (uint32_t)n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
	for (uint32_t i = 0; i < count; i++) {
		for (int j = 0; j < 64; j++)
			bus_read(&f->pio, FW_CFG_PORT_DATA, &e[j], 1);
		if (!strcmp((char *)e + 8, name))
			size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
	}
	assert_true(size <= cap);
	bus_data_put(b, 2, (uint64_t)key);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_SEL, b, 2), 0);
	for (uint32_t i = 0; i < size; i++)
		bus_read(&f->pio, FW_CFG_PORT_DATA, &buf[i], 1);
	return size;
}

static void test_add_opt(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[256], blob[200];
	char path[128];
	int fd;

	/* string=: the text, no NUL (QEMU's -fw_cfg string=). */
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/ovmf/X-PciMmio64Mb", "65536", true), 0);
	assert_int_equal(guest_read(f, "opt/ovmf/X-PciMmio64Mb", buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "65536", 5);
	/* file=: every byte, NULs included. */
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	snprintf(path, sizeof(path), "%s/blob", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, blob, sizeof(blob)), sizeof(blob));
	close(fd);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/blob", path, false), 0);
	assert_int_equal(guest_read(f, "opt/blob", buf, sizeof(buf)), sizeof(blob));
	assert_memory_equal(buf, blob, sizeof(blob));
	/* An empty file is an empty item. */
	snprintf(path, sizeof(path), "%s/empty", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/empty", path, false), 0);
	assert_int_equal(guest_read(f, "opt/empty", buf, sizeof(buf)), 0);
}

static void test_add_opt_bad(void **state)
{
	struct fixture *f = *state;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/a", path, false), -ENOENT);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/a", f->dir, false), -EINVAL);	/* a directory */
	/* Larger than minivmm serves: refused before reading it. */
	snprintf(path, sizeof(path), "%s/huge", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)FW_CFG_OPT_MAX + 1), 0);
	close(fd);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/a", path, false), -EFBIG);
	/* A taken name, and a name that is not the user's to give. */
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/a", "1", true), 0);
	assert_int_equal(fw_cfg_add_opt(f->fw, "opt/a", "2", true), -EEXIST);
	assert_int_equal(fw_cfg_add_file(f->fw, "bootorder", NULL, 0), 0);
	assert_int_equal(fw_cfg_add_opt(f->fw, "bootorder", "x", true), -EINVAL);
	assert_int_equal(fw_cfg_add_opt(f->fw,
		"opt/0123456789012345678901234567890123456789012345678901", "x", true),
		-ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure_boot),
		cmocka_unit_test(test_fw_cfg_forms),
		cmocka_unit_test(test_fw_cfg_bad),
		cmocka_unit_test_setup_teardown(test_add_opt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_opt_bad, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli_fw_cfg", tests, NULL, NULL);
}
