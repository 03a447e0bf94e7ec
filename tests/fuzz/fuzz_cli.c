// SPDX-License-Identifier: MIT
/*
 * The command line: cli_parse() on a fuzzed argv, and the value parsers on
 * their own (parse_size, cli_parse_cpu_list, cli_parse_uuid,
 * cli_parse_disk, cli_parse_vfio, cli_parse_fw_cfg, cli_cpu_in_list, and
 * --boot's bootorder_parse/bootorder_build).
 *
 * Input: the first byte picks the parser; the rest is split at NUL bytes
 * into strings (argv[1..] for cli_parse, each in its own allocation of
 * exactly its length so ASan sees any overread). The same argv is parsed
 * twice, with a known-good command line before and after: the parser
 * must keep no state between calls (its getopt state included) and give
 * the same answer every time.
 *
 * Invariants: whatever cli_parse accepts is consistent (at least one
 * firmware, not both; memory within limits; vCPUs 1..4096; pins for
 * every vCPU; NUL-terminated strings that fit their fields); sizes are
 * exact multiples; CPU lists stay within what was asked and in range;
 * UUID round-trips through its text form; an --fw-cfg entry that parses
 * has an "opt/" name that fits the fw_cfg directory, unique among the
 * entries, and contents; --secure-boot always leaves an OVMF to boot and
 * a variable store or template; a --boot list that parses
 * builds (or names an absent device), and the file lists only the
 * machine's devices, each at most once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "firmware/bootorder.h"
#include "lib/size.h"
#include "tests/fuzz/fuzz.h"
#include "vmm/cli.h"

#define MAX_ARGS	64

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* --help and --version print to stdout. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

/* Split data at NULs into at most max heap strings. */
static int split(const uint8_t *data, size_t size, char **out, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < size && n < max) {
		size_t len = strnlen((const char *)data + i, size - i);

		out[n] = malloc(len + 1);
		FZ_CHECK(out[n], "out of memory");
		memcpy(out[n], data + i, len);
		out[n][len] = '\0';
		n++;
		i += len + 1;
	}
	return n;
}

static void check_str(const char *s, size_t cap, const char *what)
{
	FZ_CHECK(strnlen(s, cap) < cap, "%s not NUL-terminated within %zu bytes", what, cap);
}

static void check_fw_cfg(const struct fw_cfg_opt_config *e)
{
	check_str(e->name, sizeof(e->name), "fw_cfg name");
	check_str(e->value, sizeof(e->value), "fw_cfg value");
	FZ_CHECK(!strncmp(e->name, "opt/", 4) && e->name[4], "fw_cfg name '%s'", e->name);
	FZ_CHECK(strlen(e->name) <= CLI_FW_CFG_NAME_MAX, "fw_cfg name too long");
	FZ_CHECK(e->value[0], "fw_cfg without contents");
}

static void check_config(const struct vm_config *c)
{
	FZ_CHECK((c->firmware != NULL) != (c->ovmf != NULL), "firmware %p, ovmf %p",
		 (const void *)c->firmware, (const void *)c->ovmf);
	FZ_CHECK(!c->ovmf_vars || c->ovmf, "vars without ovmf");
	FZ_CHECK(c->mem_size >= MEM_MIN_SIZE && c->mem_size <= (1ULL << 46),
		 "memory %llu", (unsigned long long)c->mem_size);
	FZ_CHECK(c->nr_cpus >= 1 && c->nr_cpus <= CLI_MAX_VCPUS, "cpus %u", c->nr_cpus);
	FZ_CHECK(!c->nr_pin || (c->nr_pin >= c->nr_cpus && c->nr_pin <= CLI_MAX_VCPUS),
		 "%u pins for %u cpus", c->nr_pin, c->nr_cpus);
	for (unsigned int i = 0; i < c->nr_pin; i++)
		FZ_CHECK(c->pin[i] >= 0 && c->pin[i] < CLI_MAX_CPUS, "pin %d", c->pin[i]);
	FZ_CHECK(c->nr_disks <= CLI_MAX_DISKS, "%u disks", c->nr_disks);
	for (unsigned int i = 0; i < c->nr_disks; i++) {
		check_str(c->disks[i].path, sizeof(c->disks[i].path), "disk path");
		check_str(c->disks[i].serial, sizeof(c->disks[i].serial), "disk serial");
		FZ_CHECK(c->disks[i].path[0], "disk without a path");
		FZ_CHECK(c->disks[i].queues <= CLI_DISK_MAX_QUEUES, "queues %u",
			 c->disks[i].queues);
	}
	FZ_CHECK(c->nr_vfio <= CLI_MAX_VFIO, "%u vfio", c->nr_vfio);
	for (unsigned int i = 0; i < c->nr_vfio; i++) {
		check_str(c->vfio[i].bdf, sizeof(c->vfio[i].bdf), "bdf");
		check_str(c->vfio[i].romfile, sizeof(c->vfio[i].romfile), "romfile");
		FZ_CHECK(c->vfio[i].bdf[0], "vfio without a BDF");
		FZ_CHECK(!c->vfio[i].vga || c->vfio[i].gpu, "vga=on without --gpu");
	}
	FZ_CHECK(c->nr_fw_cfg <= CLI_MAX_FW_CFG, "%u fw_cfg files", c->nr_fw_cfg);
	for (unsigned int i = 0; i < c->nr_fw_cfg; i++) {
		check_fw_cfg(&c->fw_cfg[i]);
		for (unsigned int j = 0; j < i; j++)
			FZ_CHECK(strcmp(c->fw_cfg[i].name, c->fw_cfg[j].name), "fw_cfg %s twice",
				 c->fw_cfg[i].name);
	}
	FZ_CHECK(!c->secure_boot || (c->ovmf && !c->firmware && (c->ovmf_vars || c->ovmf_vars_template)),
		 "--secure-boot without a firmware and variables");
	FZ_CHECK(c->serial != SERIAL_FILE || (c->serial_path && *c->serial_path),
		 "file serial without a path");
	FZ_CHECK(c->name && *c->name && !strchr(c->name, '/'), "bad name accepted");
	FZ_CHECK(!c->serial_number || strlen(c->serial_number) <= 64, "long serial number");
}

/* A good command line must parse the same whatever came before it: the
 * parser keeps no state between calls (getopt's included). */
static void parse_reference(void)
{
	char a0[] = "minivmm", a1[] = "--firmware", a2[] = "fw.bin", a3[] = "--cpus", a4[] = "2";
	char *argv[] = { a0, a1, a2, a3, a4, NULL };
	static struct vm_config cfg;
	int ret = cli_parse(5, argv, &cfg);

	FZ_CHECK(ret == 0 && cfg.nr_cpus == 2 && cfg.firmware == a2,
		 "'minivmm --firmware fw.bin --cpus 2' after a fuzzed command line: %d", ret);
}

/* The strings stay allocated until the reference parse after them is
 * done: getopt state left pointing into them is then still readable,
 * and shows as a wrong answer instead of an unchecked read of freed
 * memory inside the C library. */
static char *args[2][MAX_ARGS + 2];
static int nargs[2];

static void free_args(int round)
{
	for (int i = 0; i < nargs[round]; i++)
		free(args[round][i]);
	nargs[round] = 0;
}

static int parse_once(const uint8_t *data, size_t size, struct vm_config *cfg, int round)
{
	char **a = args[round], *argv[MAX_ARGS + 2];
	int n, ret;

	a[0] = strdup("minivmm");
	n = split(data, size, a + 1, MAX_ARGS) + 1;
	a[n] = NULL;
	nargs[round] = n;
	/* getopt may permute argv: it gets its own copy of the pointers. */
	memcpy(argv, a, sizeof(*argv) * (n + 1));
	ret = cli_parse(n, argv, cfg);
	FZ_CHECK(ret == 0 || ret == 1 || ret == -EINVAL, "cli_parse returned %d", ret);
	if (ret == 0)
		check_config(cfg);
	return ret;
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	static struct vm_config cfg[2];
	int ret[2];

	ret[0] = parse_once(data, size, &cfg[0], 0);
	parse_reference();
	free_args(0);
	ret[1] = parse_once(data, size, &cfg[1], 1);
	FZ_CHECK(ret[0] == ret[1], "the same command line parsed %d, then %d", ret[0], ret[1]);
	if (ret[0] == 0)
		FZ_CHECK(cfg[0].mem_size == cfg[1].mem_size && cfg[0].nr_cpus == cfg[1].nr_cpus &&
			 cfg[0].nr_disks == cfg[1].nr_disks && cfg[0].nr_vfio == cfg[1].nr_vfio,
			 "the same command line parsed differently");
	parse_reference();
	free_args(1);
}

static void fuzz_size(const char *s)
{
	uint64_t v;

	if (parse_size(s, &v))
		return;
	FZ_CHECK(s[0] >= '0' && s[0] <= '9', "size '%s' without a leading digit", s);
}

static void fuzz_cpu_list(const char *s, unsigned int max)
{
	static int cpus[CLI_MAX_CPUS + 1];
	int n;

	cpus[max] = -12345;
	n = cli_parse_cpu_list(s, cpus, max);
	FZ_CHECK(n == -EINVAL || n == -E2BIG || (n >= 1 && (unsigned int)n <= max),
		 "cpu list '%s' gave %d (max %u)", s, n, max);
	FZ_CHECK(cpus[max] == -12345, "cpu list wrote past max %u", max);
	for (int i = 0; i < n; i++) {
		FZ_CHECK(cpus[i] >= 0 && cpus[i] < CLI_MAX_CPUS, "cpu %d", cpus[i]);
		FZ_CHECK(cli_cpu_in_list(s, cpus[i]), "cpu %d of '%s' not in the list", cpus[i], s);
	}
}

static void fuzz_bootorder(const char *s)
{
	struct boot_device d[4];
	bool seen[4] = { false };
	size_t len, lines = 0;
	char *out, *p;
	int ret;

	if (bootorder_parse(s))
		return;
	bootorder_sata(&d[0], BOOT_CDROM, 0, 0);
	bootorder_sata(&d[1], BOOT_CDROM, 1, 1);
	bootorder_virtio_blk(&d[2], 0, 1);
	bootorder_sata(&d[3], BOOT_DISK, 1, 2);
	ret = bootorder_build(s, d, 4, &out, &len);
	FZ_CHECK(ret == 0 || ret == -ENOENT, "--boot '%s' parsed, then built %d", s, ret);
	if (ret)
		return;
	FZ_CHECK(strlen(out) == len, "bootorder length");
	for (p = out; *p; lines++) {
		char *nl = strchr(p, '\n');
		int found = -1;

		FZ_CHECK(nl, "bootorder line without a newline");
		for (unsigned int i = 0; i < 4; i++)
			if (strlen(d[i].ofw_path) == (size_t)(nl - p) &&
			    !strncmp(d[i].ofw_path, p, (size_t)(nl - p)))
				found = (int)i;
		FZ_CHECK(found >= 0, "bootorder line '%.*s' is no device", (int)(nl - p), p);
		FZ_CHECK(!seen[found], "device %d listed twice", found);
		seen[found] = true;
		p = nl + 1;
	}
	FZ_CHECK(lines <= 4, "%zu bootorder lines for 4 devices", lines);
	free(out);
}

static void fuzz_uuid(const char *s)
{
	uint8_t u[16], v[16];
	char text[37];

	if (cli_parse_uuid(s, u))
		return;
	snprintf(text, sizeof(text),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
	FZ_CHECK(strcasecmp(text, s) == 0, "uuid '%s' came back as '%s'", s, text);
	FZ_CHECK(cli_parse_uuid(text, v) == 0 && !memcmp(u, v, 16), "uuid round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	uint8_t sel;

	if (!size)
		return 0;
	sel = data[0];
	data++;
	size--;
	if (sel % 8 == 0) {
		fuzz_parse(data, size);
		return 0;
	}
	/* One string, exactly as long as it is. */
	s = malloc(size + 1);
	FZ_CHECK(s, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	switch (sel % 8) {
	case 1:
		if (sel & 0x80)
			fuzz_bootorder(s);
		else
			fuzz_size(s);
		break;
	case 2:
		fuzz_cpu_list(s, 1 + (sel >> 3) % 64);
		break;
	case 3:
		fuzz_cpu_list(s, CLI_MAX_CPUS);
		break;
	case 4:
		if (sel & 0x80) {
			static struct fw_cfg_opt_config e;

			if (!cli_parse_fw_cfg(s, &e))
				check_fw_cfg(&e);
		} else {
			fuzz_uuid(s);
		}
		break;
	case 5: {
		static struct disk_config d;

		if (!cli_parse_disk(s, &d)) {
			check_str(d.path, sizeof(d.path), "disk path");
			check_str(d.serial, sizeof(d.serial), "disk serial");
		}
		break;
	}
	case 6:
	case 7: {
		static struct vfio_dev_config d;

		if (!cli_parse_vfio(s, sel % 8 == 7, &d)) {
			check_str(d.bdf, sizeof(d.bdf), "bdf");
			check_str(d.romfile, sizeof(d.romfile), "romfile");
		}
		break;
	}
	}
	free(s);
	return 0;
}
