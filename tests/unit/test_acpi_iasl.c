// SPDX-License-Identifier: MIT
/*
 * A real validator for the ACPI tables: iasl, the ACPICA compiler and
 * disassembler (Debian package acpica-tools, a declared dependency of the
 * unit tests). For a few machine shapes, the tables as OVMF would install
 * them (after the loader script, tests/unit/acpi_ovmf.h) are
 *
 *   1. disassembled, iasl -d X.dat: exit 0 and nothing flagged in the
 *      output (incorrect checksums, truncated structures, unknown types);
 *   2. compiled back, iasl -oa X.dsl: "0 Errors, 0 Warnings, 0 Remarks";
 *   3. compared: the recompiled table must equal ours byte for byte,
 *      except the checksum and the compiler ID/revision iasl stamps.
 *
 * Step 3 is what makes the round trip a test of the encoder: iasl
 * re-encodes every PkgLength, integer and name from the ASL, and -oa
 * turns off its size optimisations so it has no reason to differ.
 * The RSDP is not an SDT and iasl cannot disassemble it on its own; the
 * checksum tests in test_acpi.c cover it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "firmware/acpi.h"
#include "firmware/aml.h"
#include "tests/unit/acpi_ovmf.h"

extern char **environ;

#define IASL_MISSING \
	"iasl not found in PATH: the ACPI tests need acpica-tools " \
	"(apt-get install acpica-tools; make deps installs it)"

/* Run argv with stdout and stderr to log: the exit status, or -errno if
 * it could not be started. */
static int run(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	int ret, status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)size;
	return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A line of text, for messages. */
static const char *line_with(const char *text, const char *needle, char *out, size_t size)
{
	const char *p = strcasestr(text, needle), *start, *end;

	if (!p)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	snprintf(out, size, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
	return out;
}

static void iasl_check_table(const char *dir, const char *name,
			     const uint8_t *table, size_t len)
{
	static const char *const flagged[] = {
		"Incorrect", "Invalid", "****", "Unknown", "Error", "Warning",
	};
	char dat[512], dsl[512], re[512], aml[512], log[512], line[256];
	char *argv_d[] = { "iasl", "-d", dat, NULL };
	char *argv_c[] = { "iasl", "-oa", "-p", re, dsl, NULL };
	char *text, *out;
	size_t out_len;
	int ret;

	snprintf(dat, sizeof(dat), "%s/%s.dat", dir, name);
	snprintf(dsl, sizeof(dsl), "%s/%s.dsl", dir, name);
	snprintf(re, sizeof(re), "%s/%s_re", dir, name);
	snprintf(aml, sizeof(aml), "%s/%s_re.aml", dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	spit(dat, table, len);

	ret = run(argv_d, log);
	if (ret == -ENOENT)
		fail_msg(IASL_MISSING);
	if (ret)
		fail_msg("iasl -d %s exited with %d, see %s", dat, ret, log);
	text = slurp(dsl, NULL);
	for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++)
		if (line_with(text, flagged[i], line, sizeof(line)))
			fail_msg("%s: iasl -d flags \"%s\"", dsl, line);
	free(text);

	ret = run(argv_c, log);
	text = slurp(log, NULL);
	if (ret || !line_with(text, "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks",
			      line, sizeof(line)))
		fail_msg("iasl %s exited with %d:\n%s", dsl, ret, text);
	print_message("iasl %-4s: %s\n", name, line);
	free(text);

	/* Same bytes but the checksum (9) and Compiler ID/Revision (28-35),
	 * which iasl sets to its own. The FACS has none of those. */
	out = slurp(aml, &out_len);
	assert_int_equal(out_len, len);
	for (size_t i = 0; i < len; i++) {
		if (strcmp(name, "facs") && (i == 9 || (i >= 28 && i < 36)))
			continue;
		if ((uint8_t)out[i] != table[i])
			fail_msg("%s: recompiled byte %zu is %#x, ours %#x",
				 name, i, (uint8_t)out[i], table[i]);
	}
	free(out);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/*
 * Check every table of cfg's build in a fresh directory, which is
 * removed when all is well and kept (its path is in the failure
 * message) otherwise.
 */
static void iasl_check(const struct acpi_config *cfg)
{
	char dir[] = "/tmp/minivmm-acpi-XXXXXX", name[8];
	char *argv_v[] = { "iasl", "-v", NULL };
	struct acpi_blobs b;
	struct blob *tables;
	struct ovmf o;
	size_t off;

	if (run(argv_v, "/dev/null") == -ENOENT)
		fail_msg(IASL_MISSING);
	b = build_ok(cfg);
	assert_non_null(mkdtemp(dir));
	ovmf_load(&o, &b);
	/* Every table in the blob: what OVMF installs plus RSDT and XSDT,
	 * which a BIOS hands to the OS as they are. */
	tables = find_blob(&o, ACPI_FILE_TABLES);
	assert_non_null(tables);
	iasl_check_table(dir, "facs", tables->data, 64);
	for (off = 64; off < tables->size; off += le(tables->data + off + 4, 4)) {
		for (int i = 0; i < 4; i++)
			name[i] = (char)(tables->data[off + i] | 0x20);	/* lower */
		name[4] = '\0';
		iasl_check_table(dir, name, tables->data + off,
				 le(tables->data + off + 4, 4));
	}
	ovmf_free(&o);
	acpi_blobs_free(&b);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int root_port(struct aml *pci0, void *opaque)
{
	struct aml *dev = aml_device("RP00");

	aml_append(dev, aml_name_decl("_ADR", aml_int(0x00010000)));
	aml_append(pci0, dev);
	return 0;
}

/* The lead's q35 shape: 4 vCPUs, 8 GiB, a GPU root port hooked in. */
static void test_iasl_q35(void **state)
{
	struct acpi_dsdt_hook hook = { root_port, NULL };
	struct acpi_config cfg;

	q35_config(&cfg, 4);
	cfg.pci0_hooks = &hook;
	cfg.nr_pci0_hooks = 1;
	iasl_check(&cfg);
}

/* With a TPM: the TPM2 table and \_SB.TPM (MSFT0101). */
static void test_iasl_tpm(void **state)
{
	struct acpi_config cfg;

	q35_config(&cfg, 2);
	cfg.tpm_crb = true;
	iasl_check(&cfg);
}

/* Small: 1 vCPU, no COM1, no 64-bit window, the ACPI 2.0 FADT. */
static void test_iasl_small_rev3(void **state)
{
	struct acpi_config cfg;

	q35_config(&cfg, 1);
	cfg.serial = false;
	cfg.pci64_size = 0;
	cfg.fadt_revision = 3;
	iasl_check(&cfg);
}

/* Large: x2APIC structures past APIC ID 254, cluster model, RAM above
 * 2.75 GiB (the 32-bit window starts after the ECAM). */
static void test_iasl_large(void **state)
{
	struct acpi_config cfg;

	q35_config(&cfg, 300);
	cfg.ram_low_end = 0xb0000000;
	cfg.pci32_start = 0xc0000000;
	cfg.ram_high_size = 1000 * GiB;
	acpi_ovmf_pci64_window(cfg.ram_high_size, &cfg.pci64_base, &cfg.pci64_size);
	iasl_check(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iasl_q35),
		cmocka_unit_test(test_iasl_small_rev3),
		cmocka_unit_test(test_iasl_tpm),
		cmocka_unit_test(test_iasl_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
