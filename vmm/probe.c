// SPDX-License-Identifier: MIT
/*
 * minivmm probe --vfio BDF [--count N] [--payload FILE] [--verbose]: the
 * latency of a passed device as the guest sees it (docs/latency.md).
 *
 * The guest side is tests/guest/probe.bin, built into minivmm
 * (vmm/probe_payload.S), so nothing has to be installed beside the
 * binary; --payload runs another build of it. The probe runs minivmm
 * itself twice, as a user would (the same code, seccomp and all):
 *
 *   minivmm --firmware PAYLOAD --testdev --memory 128M --serial stdio
 *       --vfio BDF[,mmap=off] --fw-cfg name=opt/minivmm/probe,string="count=N mode=M"
 *
 * first with the BARs mapped (TSC overhead, BAR read, ECAM read,
 * interrupt round trip), then with mmap=off (the BAR read trapped), reads
 * the payload's "probe-" lines from its console and prints each measure
 * (min, median, p99, max in TSC cycles and ns) for people, then one JSON
 * line per measure. Exit status: 0, 1 when a run failed (its console's
 * last lines are shown), 2 for a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/host_pci.h"
#include "lib/json.h"
#include "lib/log.h"
#include "vmm/probe.h"

/* vmm/probe_payload.S, linked into minivmm only: weak, so that the unit
 * tests (tests/unit/test_probe.c) link this file without it. */
extern const unsigned char probe_payload[] __attribute__((weak));
extern const unsigned char probe_payload_end[] __attribute__((weak));

#define PROBE_MAX_MEASURES	8
#define PROBE_TAIL_LINES	20

int probe_parse_line(const char *line, struct probe_result *r, uint64_t *tsc_hz)
{
	char name[sizeof(r->name)], mode[sizeof(r->mode)];
	unsigned long long hz;

	if (sscanf(line, "probe-tsc-hz: %llu", &hz) == 1) {
		*tsc_hz = hz;
		return 0;
	}
	if (sscanf(line, "probe-result: name=%31s mode=%15s n=%" SCNu32 " min=%" SCNu32
		   " median=%" SCNu32 " p99=%" SCNu32 " max=%" SCNu32, name, mode, &r->n,
		   &r->min, &r->median, &r->p99, &r->max) != 7)
		return -EINVAL;
	/* bar-read is the one measure taken both ways: name it by the way. */
	if (!strcmp(name, "bar-read"))
		snprintf(r->name, sizeof(r->name), "bar-read-%s", mode);
	else
		snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->mode, sizeof(r->mode), "%s", mode);
	return 1;
}

static uint64_t to_ns(uint32_t cycles, uint64_t tsc_hz)
{
	return tsc_hz ? (uint64_t)((double)cycles * 1e9 / (double)tsc_hz + 0.5) : 0;
}

int probe_json_line(const struct probe_result *r, const char *bdf, uint64_t tsc_hz,
		    char *buf, size_t len)
{
	const uint32_t c[4] = { r->min, r->median, r->p99, r->max };
	static const char *const keys[4] = { "min", "median", "p99", "max" };
	struct json_out o;

	json_out_init(&o, buf, len);
	json_out_open(&o, '{');
	json_out_key(&o, "measure");
	json_out_string(&o, r->name);
	json_out_key(&o, "bdf");
	json_out_string(&o, bdf);
	json_out_key(&o, "n");
	json_out_u64(&o, r->n);
	json_out_key(&o, "tsc_hz");
	json_out_u64(&o, tsc_hz);
	json_out_key(&o, "cycles");
	json_out_open(&o, '{');
	for (int i = 0; i < 4; i++) {
		json_out_key(&o, keys[i]);
		json_out_u64(&o, c[i]);
	}
	json_out_close(&o, '}');
	/* ns only with a known TSC frequency */
	if (tsc_hz) {
		json_out_key(&o, "ns");
		json_out_open(&o, '{');
		for (int i = 0; i < 4; i++) {
			json_out_key(&o, keys[i]);
			json_out_u64(&o, to_ns(c[i], tsc_hz));
		}
		json_out_close(&o, '}');
	}
	json_out_close(&o, '}');
	return o.overflow ? -E2BIG : 0;
}

void probe_human_line(const struct probe_result *r, uint64_t tsc_hz, char *buf, size_t len)
{
	const uint32_t c[4] = { r->min, r->median, r->p99, r->max };
	size_t n = (size_t)snprintf(buf, len, "%-18s %6" PRIu32, r->name, r->n);

	for (int i = 0; i < 4 && n < len; i++) {
		if (tsc_hz)
			n += (size_t)snprintf(buf + n, len - n, " %10" PRIu32 " %9" PRIu64, c[i],
					      to_ns(c[i], tsc_hz));
		else
			n += (size_t)snprintf(buf + n, len - n, " %10" PRIu32 " %9s", c[i], "-");
	}
}

static void usage(void)
{
	fputs("usage: minivmm probe --vfio BDF [--count N] [--payload FILE] [--verbose]\n"
	      "  read latency of the device's BAR0 mapped and trapped (mmap=off), of its\n"
	      "  config space through ECAM, and (edu, NVMe) its interrupt round trip;\n"
	      "  N samples each (default 1000, at most 100000); docs/latency.md\n", stdout);
}

struct probe_run {
	struct probe_result res[PROBE_MAX_MEASURES];
	unsigned int nr;
	uint64_t tsc_hz;
	char device[128];
};

/* One VM run; 0, or -1 after saying why. */
static int probe_run(const char *payload, const char *bdf, unsigned int count, bool trapped,
		     bool verbose, struct probe_run *out)
{
	char vfio[96], params[64], tail[PROBE_TAIL_LINES][160], line[512];
	const char *argv[] = {
		"minivmm", "--firmware", payload, "--testdev", "--memory", "128M",
		"--serial", "stdio", "--vfio", vfio, "--fw-cfg", params, NULL,
	};
	unsigned int nr_tail = 0;
	int pfd[2], status;
	pid_t pid;
	FILE *in;

	snprintf(vfio, sizeof(vfio), "%s%s", bdf, trapped ? ",mmap=off" : "");
	snprintf(params, sizeof(params), "name=opt/minivmm/probe,string=count=%u mode=%s", count,
		 trapped ? "trapped" : "mapped");
	if (pipe2(pfd, O_CLOEXEC)) {
		pr_err("probe: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		pr_err("probe: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* The guest's console to the pipe; no terminal to take over. */
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(1);
		execv("/proc/self/exe", (char *const *)argv);
		fprintf(stderr, "minivmm probe: cannot run /proc/self/exe: %s\n", strerror(errno));
		_exit(1);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	if (!in) {
		close(pfd[0]);
		waitpid(pid, &status, 0);
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		struct probe_result r;
		int ret;

		line[strcspn(line, "\r\n")] = '\0';
		if (verbose)
			printf("  | %s\n", line);
		snprintf(tail[nr_tail++ % PROBE_TAIL_LINES], sizeof(tail[0]), "%.*s",
			 (int)sizeof(tail[0]) - 1, line);
		if (!strncmp(line, "probe-device: ", 14))
			snprintf(out->device, sizeof(out->device), "%.*s",
				 (int)sizeof(out->device) - 1, line + 14);
		ret = probe_parse_line(line, &r, &out->tsc_hz);
		if (ret == 1 && out->nr < PROBE_MAX_MEASURES)
			out->res[out->nr++] = r;
	}
	fclose(in);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_err("probe: the %s run of %s failed (status %d)%s",
		       trapped ? "trapped" : "mapped", bdf,
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		       nr_tail ? "; its console ended with:" : "");
		for (unsigned int i = nr_tail > PROBE_TAIL_LINES ? nr_tail - PROBE_TAIL_LINES : 0;
		     i < nr_tail; i++)
			fprintf(stderr, "  | %s\n", tail[i % PROBE_TAIL_LINES]);
		return -1;
	}
	return 0;
}

/* The embedded payload as a file the child can open: a memfd it inherits. */
static int payload_memfd(char *path, size_t len)
{
	size_t size = (size_t)(probe_payload_end - probe_payload);
	int fd;

	if (!probe_payload || !size) {
		pr_err("probe: this minivmm has no built-in payload (give --payload tests/guest/probe.bin)");
		return -1;
	}
	fd = memfd_create("minivmm-probe.bin", 0);

	if (fd < 0 || write(fd, probe_payload, size) != (ssize_t)size) {
		pr_err("probe: cannot stage the built-in payload: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int probe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vfio", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'c' },
		{ "payload", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL, *payload = NULL;
	char norm[HOST_BDF_LEN], path[64], human[256], json[1024];
	struct probe_run runs[2];
	unsigned long count = 1000;
	bool verbose = false, slot;
	int opt, fd = -1, status = 1;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'v':
			bdf = optarg;
			break;
		case 'c':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || count < 1 || count > 100000) {
				pr_err("probe --count '%s': give a number of samples from 1 to 100000",
				       optarg);
				return 2;
			}
			break;
		case 'p':
			payload = optarg;
			break;
		case 'V':
			verbose = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			pr_err("probe: unknown option or missing value '%s' (minivmm probe --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (!bdf || optind < argc) {
		pr_err("probe: name one device: minivmm probe --vfio BDF (like 65:00.0)");
		return 2;
	}
	if (host_bdf_parse(bdf, norm, sizeof(norm), &slot) || slot) {
		pr_err("probe --vfio %s: not the address of one PCI function (like 65:00.0)", bdf);
		return 2;
	}
	if (!payload) {
		fd = payload_memfd(path, sizeof(path));
		if (fd < 0)
			return 1;
		payload = path;
	}
	memset(runs, 0, sizeof(runs));
	for (int t = 0; t < 2; t++)
		if (probe_run(payload, bdf, (unsigned int)count, t == 1, verbose, &runs[t]))
			goto close_fd;
	printf("minivmm probe: %s (in the guest: %s)\n", norm, runs[0].device);
	if (runs[0].tsc_hz)
		printf("guest TSC: %.3f GHz; %lu samples per measure\n",
		       (double)runs[0].tsc_hz / 1e9, count);
	else
		printf("guest TSC frequency unknown (no Hyper-V frequency MSR, no CPUID 0x15): cycles only\n");
	printf("%-18s %6s %10s %9s %10s %9s %10s %9s %10s %9s\n", "measure", "n", "min cyc", "ns",
	       "median", "ns", "p99", "ns", "max", "ns");
	for (int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < runs[t].nr; i++) {
			probe_human_line(&runs[t].res[i], runs[0].tsc_hz, human, sizeof(human));
			puts(human);
		}
	for (int t = 0; t < 2; t++)
		for (unsigned int i = 0; i < runs[t].nr; i++)
			if (!probe_json_line(&runs[t].res[i], norm, runs[0].tsc_hz, json,
					     sizeof(json)))
				puts(json);
	status = 0;
close_fd:
	if (fd >= 0)
		close(fd);
	return status;
}
