// SPDX-License-Identifier: MIT
/*
 * Command-line parsing. Every bad input gets one line that names the
 * option, what is wrong and what would be right, and exit status 2.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/bootorder.h"
#include "lib/log.h"
#include "lib/size.h"
#include "vmm/cli.h"

#define MINIVMM_VERSION "0.1.0"

enum {
	OPT_MEMORY = 0x100, OPT_CPUS, OPT_PIN, OPT_HUGEPAGES, OPT_FIRMWARE,
	OPT_SERIAL, OPT_DEBUGCON, OPT_TESTDEV, OPT_HIDE_KVM, OPT_STATS,
	OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_SYSFS, OPT_OVMF, OPT_OVMF_VARS,
	OPT_RTC, OPT_UUID, OPT_SERIAL_NUMBER, OPT_NAME, OPT_DUMP_ACPI, OPT_SECCOMP, OPT_DISK,
	OPT_VFIO, OPT_GPU, OPT_HV_VENDOR_ID, OPT_NO_REBOOT, OPT_SHUTDOWN_TIMEOUT, OPT_BOOT,
	OPT_CONTROL, OPT_DAEMONIZE, OPT_PIDFILE, OPT_LOG, OPT_CDROM, OPT_TPM,
	OPT_SECURE_BOOT, OPT_FW_CFG, OPT_HYPERV, OPT_PIN_IO, OPT_HALT_POLL, OPT_CPU_PM,
	OPT_TEST_FORBIDDEN,
	OPT_USER, OPT_GROUP, OPT_CHROOT,
	OPT_NET,
	OPT_TRACE,
};

static const struct option cli_options[] = {
	{ "memory",    required_argument, NULL, OPT_MEMORY },
	{ "cpus",      required_argument, NULL, OPT_CPUS },
	{ "pin",       required_argument, NULL, OPT_PIN },
	{ "pin-io",    required_argument, NULL, OPT_PIN_IO },
	{ "hugepages", required_argument, NULL, OPT_HUGEPAGES },
	{ "firmware",  required_argument, NULL, OPT_FIRMWARE },
	{ "serial",    required_argument, NULL, OPT_SERIAL },
	{ "debugcon",  required_argument, NULL, OPT_DEBUGCON },
	{ "testdev",   optional_argument, NULL, OPT_TESTDEV },
	{ "hide-kvm",  no_argument,       NULL, OPT_HIDE_KVM },
	{ "stats",     no_argument,       NULL, OPT_STATS },
	{ "verbose",   no_argument,       NULL, OPT_VERBOSE },
	{ "help",      no_argument,       NULL, OPT_HELP },
	{ "version",   no_argument,       NULL, OPT_VERSION },
	{ "sysfs",     required_argument, NULL, OPT_SYSFS },
	{ "ovmf",      required_argument, NULL, OPT_OVMF },
	{ "ovmf-vars", required_argument, NULL, OPT_OVMF_VARS },
	{ "secure-boot", no_argument,     NULL, OPT_SECURE_BOOT },
	{ "fw-cfg",    required_argument, NULL, OPT_FW_CFG },
	{ "rtc",       required_argument, NULL, OPT_RTC },
	{ "uuid",      required_argument, NULL, OPT_UUID },
	{ "serial-number", required_argument, NULL, OPT_SERIAL_NUMBER },
	{ "name",      required_argument, NULL, OPT_NAME },
	{ "dump-acpi", required_argument, NULL, OPT_DUMP_ACPI },
	{ "seccomp",   required_argument, NULL, OPT_SECCOMP },
	/* test only, not in --help (docs/seccomp.md) */
	{ "test-forbidden", required_argument, NULL, OPT_TEST_FORBIDDEN },
	{ "disk",      required_argument, NULL, OPT_DISK },
	{ "cdrom",     required_argument, NULL, OPT_CDROM },
	{ "net",       required_argument, NULL, OPT_NET },
	{ "vfio",      required_argument, NULL, OPT_VFIO },
	{ "gpu",       required_argument, NULL, OPT_GPU },
	{ "hv-vendor-id", required_argument, NULL, OPT_HV_VENDOR_ID },
	{ "hyperv",    required_argument, NULL, OPT_HYPERV },
	{ "no-reboot", no_argument,       NULL, OPT_NO_REBOOT },
	{ "boot",      required_argument, NULL, OPT_BOOT },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "control",   required_argument, NULL, OPT_CONTROL },
	{ "daemonize", no_argument,       NULL, OPT_DAEMONIZE },
	{ "pidfile",   required_argument, NULL, OPT_PIDFILE },
	{ "log",       required_argument, NULL, OPT_LOG },
	{ "tpm",       optional_argument, NULL, OPT_TPM },
	{ "halt-poll", required_argument, NULL, OPT_HALT_POLL },
	{ "cpu-pm",    required_argument, NULL, OPT_CPU_PM },
	{ "user",      required_argument, NULL, OPT_USER },
	{ "group",     required_argument, NULL, OPT_GROUP },
	{ "chroot",    required_argument, NULL, OPT_CHROOT },
	{ "trace",     required_argument, NULL, OPT_TRACE },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(void)
{
	fputs(
"usage: minivmm [options]\n"
"       minivmm check|groups|bind|unbind ...   (host preparation, see docs/host-setup.md)\n"
"       minivmm ctl PATH status|stats|powerdown|reset|stop   (a running VM, docs/control.md)\n"
"       minivmm probe --vfio BDF [--count N]   (passthrough latency, docs/latency.md)\n"
"\n"
"  --memory SIZE        guest RAM, e.g. 512M, 16G (default 512M; bare number = MiB)\n"
"  --cpus N[,sockets=S][,cores=C][,threads=T]\n"
"                       number of vCPUs (default 1) and their shape, as QEMU's\n"
"                       -smp: 16,cores=8,threads=2 (default: N cores, 1 thread)\n"
"  --pin LIST           pin vCPU i to the i-th host CPU of LIST, e.g. 14-17,32-35\n"
"                       (with threads=2: a guest core's threads on host siblings)\n"
"  --pin-io LIST        run the main and I/O threads on these host CPUs only\n"
"  --hugepages 2M|1G    back guest RAM with preallocated, locked hugetlb pages\n"
"  --ovmf FILE          UEFI firmware: OVMF.fd, or OVMF_CODE*.fd with its vars\n"
"  --ovmf-vars FILE     this VM's UEFI variable store (writable, persistent); a\n"
"                       distribution template is copied per VM first\n"
"  --secure-boot        UEFI Secure Boot: OVMF_CODE_4M.fd (unless --ovmf) with a\n"
"                       per-VM copy of OVMF_VARS_4M.ms.fd (Microsoft's keys;\n"
"                       unless --ovmf-vars), kept as NAME/OVMF_VARS.ms.fd\n"
"  --fw-cfg name=opt/NAME,file=FILE | name=opt/NAME,string=TEXT\n"
"                       a file for the firmware, e.g. opt/ovmf/X-PciMmio64Mb\n"
"                       (repeatable; FILE is read at start)\n"
"  --net tap=NAME|bridge=BR|macvtap=IFACE[,mac=52:54:00:..][,queues=N][,vhost=on|off]\n"
"                       a virtio-net card (repeatable) on an existing tap, on a\n"
"                       tap of minivmm's added to bridge BR, or on a macvtap of\n"
"                       minivmm's on IFACE; queue pairs (default one per vCPU);\n"
"                       docs/networking.md\n"
"  --name NAME          VM name: where per-VM state (the vars copy, the TPM) is kept\n"
"  --tpm [socket=PATH]  a TPM 2.0 (CRB interface, as Windows 11 wants): minivmm\n"
"                       starts swtpm with its state in the VM's state directory,\n"
"                       or uses the running swtpm whose control socket is PATH\n"
"                       (docs/tpm.md)\n"
"  --rtc utc|localtime  what the guest's RTC shows (Windows wants localtime)\n"
"  --uuid UUID          SMBIOS system UUID (default: random)\n"
"  --serial-number S    SMBIOS system serial number\n"
"  --firmware FILE      raw firmware image, mapped read-only below 4 GiB and\n"
"                       started at the reset vector\n"
"  --disk path=FILE[,bus=virtio|sata][,readonly=on][,direct=on][,serial=S][,queues=N]\n"
"              [,iothreads=N]\n"
"                       a disk (repeatable; --disk FILE for short): virtio-blk\n"
"                       (default) or a SATA disk on the AHCI controller (bus=sata,\n"
"                       for guests without virtio drivers); readonly=on, direct=on\n"
"                       bypasses the host page cache, queues (virtio) defaults to\n"
"                       one per vCPU, served by iothreads I/O threads (default 1)\n"
"  --cdrom FILE         a CD/DVD-ROM drive (ATAPI, read-only) with the ISO image\n"
"                       FILE on the AHCI controller (repeatable); --cdrom and\n"
"                       --disk bus=sata take AHCI ports 0-5 in command-line order\n"
"  --vfio BDF[,romfile=FILE][,mmap=off]\n"
"                       pass a host PCI function (65:00.0) or every function of\n"
"                       a device (65:00) through VFIO, behind its own PCIe root\n"
"                       port (repeatable; 'minivmm bind BDF' first); mmap=off:\n"
"                       trap every BAR access instead of mapping the BARs\n"
"  --gpu BDF[,vga=on][,romfile=FILE]\n"
"                       a GPU: every function of its slot (video + HDMI audio);\n"
"                       vga=on also routes the legacy VGA ranges to it;\n"
"                       romfile= replaces the device's option ROM\n"
"  --serial stdio|pty|file:PATH|none\n"
"                       where COM1 (0x3f8) goes (default stdio)\n"
"  --debugcon FILE      write the debug console port 0x402 to FILE\n"
"  --testdev [exit=qemu]\n"
"                       test device: exit port 0xf4, scratch port 0xe0, IRQ\n"
"                       ports 0x2000-0x2017, scratch MMIO at 0xff000000 (as\n"
"                       QEMU's pc-testdev); exit=qemu: exit status (v << 1) | 1\n"
"  --hyperv on|off      Hyper-V enlightenments for Windows (default on): Hyper-V\n"
"                       CPUID at 0x40000000, KVM's moved to 0x40000100; the\n"
"                       reference TSC page, synthetic timers, PV IPIs and TLB\n"
"                       flushes, crash reports (docs/windows.md)\n"
"  --hide-kvm           hide the KVM CPUID signature (QEMU's kvm=off)\n"
"  --hv-vendor-id ID    hypervisor vendor in CPUID 0x40000000: Hyper-V's with\n"
"                       --hyperv on, else instead of KVM's (1-12 characters;\n"
"                       for GPU drivers that refuse KVM)\n"
"  --trace vfio[,file=PATH]\n"
"                       one JSON line per VFIO event (config writes, BAR\n"
"                       placements, MSI routes, resets, DMA maps) to PATH\n"
"                       (default stderr); docs/latency.md\n"
"  --stats              print exit statistics (minivmm's and KVM's) when the VM stops\n"
"  --halt-poll NS       KVM polls a halted vCPU up to NS ns before sleeping it\n"
"                       (0: never; default: the kvm module's halt_poll_ns)\n"
"  --cpu-pm on|off      HLT, MWAIT, PAUSE run in the guest without a VM exit\n"
"                       (default off; needs --pin with one host CPU per vCPU)\n"
"  --boot LIST          boot order for the firmware: cdrom, disk, cdromN, diskN\n"
"                       (the N-th --cdrom/--disk from 0), comma-separated;\n"
"                       default: CD-ROMs, then disks (QEMU's -boot dc)\n"
"  --no-reboot          a guest reset ends minivmm (status 3) instead of\n"
"                       rebooting the VM in place\n"
"  --shutdown-timeout S SIGINT/SIGTERM press the ACPI power button; a guest\n"
"                       still running S seconds later is stopped (default 60;\n"
"                       a second signal stops it at once)\n"
"  --dump-acpi DIR      also write the ACPI tables served to the firmware to DIR\n"
"  --seccomp on|off     confine the running VMM to its system calls and drop all\n"
"                       capabilities once set up (default on)\n"
"  --user NAME|UID      once set up, run as this user: no root, no capabilities\n"
"                       (docs/security.md)\n"
"  --group NAME|GID     with --user: this group instead of the user's own\n"
"  --chroot DIR         once set up, chroot into DIR (an existing folder; an\n"
"                       empty one will do) in a mount namespace of its own\n"
"  --control PATH       a control socket (mode 0600) for minivmm ctl: one JSON\n"
"                       request per line, one reply per line (docs/control.md)\n"
"  --daemonize          run in the background once the VM runs (start-up errors\n"
"                       still reach the terminal); serial defaults to none\n"
"  --pidfile FILE       write minivmm's pid to FILE while it runs\n"
"  --log FILE           minivmm's own messages go to FILE once the VM runs\n"
"                       (with --daemonize, else to /dev/null)\n"
"  --verbose            more log lines\n"
"  --help, --version\n"
"\n"
"exit status: 0 guest powered off (or test passed), 1 error, 2 bad command line,\n"
"3 guest reset (with --no-reboot), 4 guest crashed, 5 the guest reported a crash\n"
"(Hyper-V crash MSRs: a Windows bugcheck, a Linux panic), 128+N stopped by signal N,\n"
"a test payload's own code written to the --testdev exit port; 0 too after\n"
"minivmm ctl PATH stop\n", stdout);
}

int cli_parse_uuid(const char *s, uint8_t uuid[16])
{
	/* 8-4-4-4-12 hex digits, stored in the order written (SMBIOS 3.x
	 * §7.2.1 wants the first three fields little-endian: that is the
	 * SMBIOS encoder's business, not the parser's). */
	static const int dash[] = { 8, 13, 18, 23 };
	unsigned int n = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (int i = 0, d = 0; i < 36; i++) {
		int hi, lo;

		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return -EINVAL;
			d++;
			continue;
		}
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
			return -EINVAL;
		hi = isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10;
		lo = isdigit((unsigned char)s[i + 1]) ? s[i + 1] - '0' : tolower((unsigned char)s[i + 1]) - 'a' + 10;
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == 16 ? 0 : -EINVAL;
}

/* Parse a decimal CPU number; -1 if there is none. */
static long cpu_number(const char **p)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || v >= CLI_MAX_CPUS)
		return -1;
	*p = end;
	return v;
}

int cli_parse_cpu_list(const char *s, int *cpus, unsigned int max)
{
	unsigned int n = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		long lo = cpu_number(&p), hi = lo;

		if (lo < 0)
			return -EINVAL;
		if (*p == '-') {
			p++;
			hi = cpu_number(&p);
			if (hi < lo)
				return -EINVAL;
		}
		for (long c = lo; c <= hi; c++) {
			if (n == max)
				return -E2BIG;
			cpus[n++] = (int)c;
		}
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	return (int)n;
}

bool cli_cpu_in_list(const char *online_list, int cpu)
{
	const char *p = online_list;

	while (p && *p) {
		long lo = cpu_number(&p), hi = lo;

		if (lo < 0)
			return false;
		if (*p == '-') {
			p++;
			hi = cpu_number(&p);
		}
		if (cpu >= lo && cpu <= hi)
			return true;
		if (*p != ',')
			break;
		p++;
	}
	return false;
}

static int parse_serial(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "pty")) {
		cfg->serial = SERIAL_PTY;
	} else if (!strcmp(arg, "none")) {
		cfg->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial = SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else {
		pr_err("--serial '%s': unknown serial backend (use stdio, pty, none or file:PATH)", arg);
		return -EINVAL;
	}
	return 0;
}

/* --fw-cfg: parsed into the next slot; a name given twice is refused
 * (fw_cfg names are unique, and the second would silently lose). */
static int add_fw_cfg(struct vm_config *cfg, const char *arg)
{
	struct fw_cfg_opt_config *e = &cfg->fw_cfg[cfg->nr_fw_cfg];

	if (cfg->nr_fw_cfg == CLI_MAX_FW_CFG) {
		pr_err("--fw-cfg %s: more than %d fw_cfg files (minivmm takes at most %d)", arg,
		       CLI_MAX_FW_CFG, CLI_MAX_FW_CFG);
		return -EINVAL;
	}
	if (cli_parse_fw_cfg(arg, e))
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_fw_cfg; i++) {
		if (!strcmp(cfg->fw_cfg[i].name, e->name)) {
			pr_err("--fw-cfg %s: %s is given twice (give each fw_cfg file once)", arg,
			       e->name);
			return -EINVAL;
		}
	}
	cfg->nr_fw_cfg++;
	return 0;
}

/* Where --daemonize meets the other options: after every option is read. */
static int cli_check_daemonize(struct vm_config *cfg, bool serial_given)
{
	if (!cfg->daemonize)
		return 0;
	if (cfg->serial == SERIAL_STDIO && serial_given) {
		pr_err("--serial stdio with --daemonize: a VM in the background has no terminal (use --serial pty, file:PATH or none)");
		return -EINVAL;
	}
	/* The default console is the terminal, which a daemon lets go of. */
	if (!serial_given)
		cfg->serial = SERIAL_NONE;
	return 0;
}

/*
 * --tpm, --tpm=socket=PATH or --tpm socket=PATH: getopt takes an optional
 * value only when attached with '=', so a following "socket=..." word is
 * taken here (*consumed: it was argv[optind]).
 */
static int cli_tpm(const char *arg, const char *next, bool *consumed, struct vm_config *cfg)
{
	*consumed = false;
	if (!arg && next && !strncmp(next, "socket=", 7)) {
		arg = next;
		*consumed = true;
	}
	cfg->tpm = true;
	cfg->tpm_socket = NULL;
	if (!arg)
		return 0;
	if (strncmp(arg, "socket=", 7) || !arg[7]) {
		pr_err("--tpm '%s': unknown TPM backend (use --tpm to have minivmm start swtpm, or --tpm socket=PATH for a running swtpm's control socket)",
		       arg);
		return -EINVAL;
	}
	if (strlen(arg + 7) > CLI_CONTROL_PATH_MAX) {
		pr_err("--tpm %s: a Unix socket path holds at most %d bytes (use a shorter path)", arg,
		       CLI_CONTROL_PATH_MAX);
		return -EINVAL;
	}
	cfg->tpm_socket = arg + 7;
	return 0;
}

/* A non-empty file name for a --OPTION FILE. */
static int cli_path(const char *opt, const char *arg, const char **out)
{
	if (!*arg) {
		pr_err("--%s '': give a file name", opt);
		return -EINVAL;
	}
	*out = arg;
	return 0;
}

/* --halt-poll NS: KVM takes an unsigned int of nanoseconds. */
static int parse_halt_poll(const char *arg, struct vm_config *cfg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)arg[0]) || *end || errno || v > UINT32_MAX) {
		pr_err("--halt-poll '%s': not a time in nanoseconds from 0 to %u (e.g. 200000; 0 disables polling)",
		       arg, UINT32_MAX);
		return -EINVAL;
	}
	cfg->halt_poll_ns = (int64_t)v;
	return 0;
}

/*
 * With HLT not exiting, an idle vCPU keeps its host CPU busy: another
 * vCPU (or anything else) sharing that CPU would only run when the
 * scheduler tick takes it away. So every vCPU needs a host CPU of its own.
 */
static int cli_check_cpu_pm(const struct vm_config *cfg)
{
	if (!cfg->nr_pin) {
		pr_err("--cpu-pm on needs --pin giving each vCPU its own host CPU (an idle vCPU then keeps its CPU busy), e.g. --pin %s%u",
		       cfg->nr_cpus > 1 ? "2-" : "", cfg->nr_cpus + 1);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nr_cpus; i++)
		for (unsigned int j = 0; j < i; j++)
			if (cfg->pin[i] == cfg->pin[j]) {
				pr_err("--cpu-pm on: --pin puts vCPUs %u and %u on host CPU %d (give each vCPU its own host CPU)",
				       j, i, cfg->pin[i]);
				return -EINVAL;
			}
	return 0;
}

/*
 * --user, --group and --chroot (vmm/privdrop.c; the user database is read
 * when the VM starts, not here). What cannot work together is refused.
 */
static int cli_check_privdrop(const struct vm_config *cfg)
{
	if (cfg->group && !cfg->user) {
		pr_err("--group '%s' without --user (give the user too: --user NAME --group %s)",
		       cfg->group, cfg->group);
		return -EINVAL;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct vm_config *cfg)
{
	const char *pin = NULL;
	bool serial_given = false;
	int opt, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = 512 * MiB;
	cfg->nr_cpus = 1;
	cfg->topo = topo_flat(1);
	cfg->shutdown_timeout = 60;
	cfg->halt_poll_ns = -1;
	cfg->serial = SERIAL_STDIO;
	cfg->sysfs_root = "/sys";
	cfg->name = "minivmm";
	cfg->hyperv = true;

	opterr = 0;	/* our own messages, one line each */
	/*
	 * 0, not 1: glibc (and musl) then reset all of getopt's state. With
	 * 1, a previous call that stopped inside a group of short options
	 * ("-ab") leaves getopt pointing into that old argv, and this call
	 * would carry on from there (found by tests/fuzz/fuzz_cli.c).
	 */
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", cli_options, NULL)) != -1) {
		const char *arg = optarg;

		switch (opt) {
		case OPT_MEMORY:
			if (parse_size(arg, &cfg->mem_size)) {
				pr_err("--memory '%s': not a size (write it like 512M or 16G)", arg);
				return -EINVAL;
			}
			if (cfg->mem_size < MEM_MIN_SIZE) {
				pr_err("--memory %s: too small, the guest needs at least %" PRIu64 " MiB",
				       arg, MEM_MIN_SIZE / MiB);
				return -EINVAL;
			}
			if (cfg->mem_size > (1ULL << 46)) {
				pr_err("--memory %s: larger than the 64 TiB minivmm can map", arg);
				return -EINVAL;
			}
			break;
		case OPT_CPUS:
			if (topo_parse(arg, CLI_MAX_VCPUS, &cfg->topo, &cfg->nr_cpus))
				return -EINVAL;
			break;
		case OPT_PIN:
			pin = arg;
			break;
		case OPT_PIN_IO:
			ret = cli_parse_cpu_list(arg, cfg->pin_io, CLI_MAX_CPUS);
			if (ret < 0) {
				pr_err("--pin-io '%s': not a CPU list (write it like 0-1 or 0,16)", arg);
				return -EINVAL;
			}
			cfg->nr_pin_io = (unsigned int)ret;
			break;
		case OPT_HUGEPAGES:
			if (!strcasecmp(arg, "2M") || !strcasecmp(arg, "2MB")) {
				cfg->backing = MEM_BACKING_HUGE_2M;
			} else if (!strcasecmp(arg, "1G") || !strcasecmp(arg, "1GB")) {
				cfg->backing = MEM_BACKING_HUGE_1G;
			} else {
				pr_err("--hugepages '%s': unknown page size (use 2M or 1G)", arg);
				return -EINVAL;
			}
			break;
		case OPT_FIRMWARE:
			cfg->firmware = arg;
			break;
		case OPT_SERIAL:
			if (parse_serial(arg, cfg))
				return -EINVAL;
			serial_given = true;
			break;
		case OPT_CONTROL:
			/* struct sockaddr_un's sun_path: 108 bytes, its NUL included */
			if (!*arg || strlen(arg) > CLI_CONTROL_PATH_MAX) {
				pr_err("--control '%s': a Unix socket path holds 1 to %d bytes (use a shorter path)",
				       arg, CLI_CONTROL_PATH_MAX);
				return -EINVAL;
			}
			cfg->control = arg;
			break;
		case OPT_DAEMONIZE:
			cfg->daemonize = true;
			break;
		case OPT_PIDFILE:
			if (cli_path("pidfile", arg, &cfg->pidfile))
				return -EINVAL;
			break;
		case OPT_LOG:
			if (cli_path("log", arg, &cfg->log))
				return -EINVAL;
			break;
		case OPT_USER:
		case OPT_GROUP:
			if (!*arg) {
				pr_err("--%s '': give a name or a number (e.g. --user nobody)",
				       opt == OPT_USER ? "user" : "group");
				return -EINVAL;
			}
			*(opt == OPT_USER ? &cfg->user : &cfg->group) = arg;
			break;
		case OPT_CHROOT:
			if (!*arg) {
				pr_err("--chroot '': give a folder (an empty one will do)");
				return -EINVAL;
			}
			cfg->chroot_dir = arg;
			break;
		case OPT_TPM: {
			bool consumed;

			if (cli_tpm(arg, optind < argc ? argv[optind] : NULL, &consumed, cfg))
				return -EINVAL;
			optind += consumed;
			break;
		}
		case OPT_DEBUGCON:
			cfg->debugcon = arg;
			break;
		case OPT_TESTDEV:
			/* --testdev, --testdev exit=qemu or --testdev=exit=qemu */
			if (!arg && optind < argc && !strncmp(argv[optind], "exit=", 5))
				arg = argv[optind++];
			cfg->testdev = true;
			if (!arg)
				break;
			if (!strcmp(arg, "exit=qemu")) {
				cfg->testdev_qemu_exit = true;
			} else if (!strcmp(arg, "exit=minivmm")) {
				cfg->testdev_qemu_exit = false;
			} else {
				pr_err("--testdev '%s': unknown setting (use exit=qemu for QEMU's (v << 1) | 1 exit status, or exit=minivmm)",
				       arg);
				return -EINVAL;
			}
			break;
		case OPT_HIDE_KVM:
			cfg->hide_kvm = true;
			break;
		case OPT_HYPERV:
			if (!strcmp(arg, "on")) {
				cfg->hyperv = true;
			} else if (!strcmp(arg, "off")) {
				cfg->hyperv = false;
			} else {
				pr_err("--hyperv '%s': use on or off", arg);
				return -EINVAL;
			}
			cfg->hyperv_given = true;
			break;
		case OPT_HV_VENDOR_ID:
			if (!*arg || strlen(arg) > 12) {
				pr_err("--hv-vendor-id '%s': give 1 to 12 characters (CPUID holds 12 bytes)", arg);
				return -EINVAL;
			}
			cfg->hv_vendor_id = arg;
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_TRACE:
			if (cli_parse_trace(arg, cfg))
				return -EINVAL;
			break;
		case OPT_HALT_POLL:
			if (parse_halt_poll(arg, cfg))
				return -EINVAL;
			break;
		case OPT_CPU_PM:
			if (!strcmp(arg, "on")) {
				cfg->cpu_pm = true;
			} else if (!strcmp(arg, "off")) {
				cfg->cpu_pm = false;
			} else {
				pr_err("--cpu-pm '%s': use on or off", arg);
				return -EINVAL;
			}
			break;
		case OPT_VERBOSE:
			cfg->verbose++;
			break;
		case OPT_SYSFS:
			cfg->sysfs_root = arg;
			break;
		case OPT_OVMF:
			cfg->ovmf = arg;
			break;
		case OPT_OVMF_VARS:
			cfg->ovmf_vars = arg;
			break;
		case OPT_SECURE_BOOT:
			cfg->secure_boot = true;
			break;
		case OPT_FW_CFG:
			if (add_fw_cfg(cfg, arg))
				return -EINVAL;
			break;
		case OPT_DISK:
		case OPT_CDROM:
			if (cli_add_disk(cfg, arg, opt == OPT_CDROM))
				return -EINVAL;
			break;
		case OPT_NET:
			if (cfg->nr_nics == CLI_MAX_NICS) {
				pr_err("--net %s: more than %d network cards (minivmm takes at most %d)",
				       arg, CLI_MAX_NICS, CLI_MAX_NICS);
				return -EINVAL;
			}
			if (cli_parse_net(arg, &cfg->nics[cfg->nr_nics]))
				return -EINVAL;
			cfg->nr_nics++;
			break;
		case OPT_VFIO:
		case OPT_GPU:
			if (cfg->nr_vfio == CLI_MAX_VFIO) {
				pr_err("%s %s: more than %d passed devices (minivmm takes at most %d)",
				       opt == OPT_GPU ? "--gpu" : "--vfio", arg, CLI_MAX_VFIO,
				       CLI_MAX_VFIO);
				return -EINVAL;
			}
			if (cli_parse_vfio(arg, opt == OPT_GPU, &cfg->vfio[cfg->nr_vfio]))
				return -EINVAL;
			cfg->nr_vfio++;
			break;
		case OPT_BOOT:
			if (bootorder_parse(arg))
				return -EINVAL;
			cfg->boot_order = arg;
			break;
		case OPT_NO_REBOOT:
			cfg->no_reboot = true;
			break;
		case OPT_SHUTDOWN_TIMEOUT: {
			char *end;
			unsigned long s;

			errno = 0;
			s = strtoul(arg, &end, 10);
			if (errno || end == arg || *end || !isdigit((unsigned char)*arg) || s > 86400) {
				pr_err("--shutdown-timeout '%s': give whole seconds, 0-86400 (0: stop at once)",
				       arg);
				return -EINVAL;
			}
			cfg->shutdown_timeout = (unsigned int)s;
			break;
		}
		case OPT_TEST_FORBIDDEN:
			cfg->test_forbidden = arg;	/* checked by vmm/seccomp.c */
			break;
		case OPT_SECCOMP:
			if (!strcmp(arg, "on")) {
				cfg->no_seccomp = false;
			} else if (!strcmp(arg, "off")) {
				cfg->no_seccomp = true;
			} else {
				pr_err("--seccomp '%s': use on or off", arg);
				return -EINVAL;
			}
			break;
		case OPT_DUMP_ACPI:
			cfg->dump_acpi = arg;
			break;
		case OPT_NAME:
			if (!*arg || strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, "..")) {
				pr_err("--name '%s': not a usable VM name (use letters, digits, - and _)", arg);
				return -EINVAL;
			}
			cfg->name = arg;
			break;
		case OPT_RTC:
			if (!strcmp(arg, "utc")) {
				cfg->rtc_localtime = false;
			} else if (!strcmp(arg, "localtime")) {
				cfg->rtc_localtime = true;
			} else {
				pr_err("--rtc '%s': unknown clock base (use utc or localtime)", arg);
				return -EINVAL;
			}
			break;
		case OPT_UUID:
			if (cli_parse_uuid(arg, cfg->uuid)) {
				pr_err("--uuid '%s': not a UUID (write it like 6b1f3c2e-8a9d-4f10-b2c3-0123456789ab)", arg);
				return -EINVAL;
			}
			cfg->has_uuid = true;
			break;
		case OPT_SERIAL_NUMBER:
			if (strlen(arg) > 64) {
				pr_err("--serial-number: longer than 64 characters (shorten it)");
				return -EINVAL;
			}
			cfg->serial_number = arg;
			break;
		case OPT_HELP:
			cli_usage();
			return 1;
		case OPT_VERSION:
			printf("minivmm %s\n", MINIVMM_VERSION);
			return 1;
		case ':':
			pr_err("option '%s' needs a value (see minivmm --help)", argv[optind - 1]);
			return -EINVAL;
		default:
			pr_err("unknown option '%s' (see minivmm --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (options start with --; see minivmm --help)",
		       argv[optind]);
		return -EINVAL;
	}

	if (pin) {
		ret = cli_parse_cpu_list(pin, cfg->pin, CLI_MAX_VCPUS);
		if (ret == -E2BIG) {
			pr_err("--pin '%s': lists more host CPUs than the %d vCPUs minivmm supports",
			       pin, CLI_MAX_VCPUS);
			return -EINVAL;
		}
		if (ret < 0) {
			pr_err("--pin '%s': not a CPU list (write it like 2-5 or 14-17,32-35)", pin);
			return -EINVAL;
		}
		if ((unsigned int)ret < cfg->nr_cpus) {
			pr_err("--pin '%s': names %d host CPUs for %u vCPUs (give one host CPU per vCPU)",
			       pin, ret, cfg->nr_cpus);
			return -EINVAL;
		}
		cfg->nr_pin = (unsigned int)ret;
	}
	if (cfg->cpu_pm && cli_check_cpu_pm(cfg))
		return -EINVAL;
	if (cfg->secure_boot) {
		if (cfg->firmware) {
			pr_err("--secure-boot with --firmware (Secure Boot is OVMF's: drop --firmware)");
			return -EINVAL;
		}
		if (!cfg->ovmf)
			cfg->ovmf = CLI_SECURE_BOOT_CODE;
		if (!cfg->ovmf_vars)
			cfg->ovmf_vars_template = CLI_SECURE_BOOT_VARS;
	}
	if (cfg->firmware && cfg->ovmf) {
		pr_err("--firmware and --ovmf both given (boot one firmware: --ovmf for UEFI, --firmware for a raw image)");
		return -EINVAL;
	}
	if (cfg->ovmf_vars && !cfg->ovmf) {
		pr_err("--ovmf-vars without --ovmf (name the code image too: --ovmf OVMF_CODE_4M.fd)");
		return -EINVAL;
	}
	if (!cfg->firmware && !cfg->ovmf) {
		pr_err("no firmware to boot (give --ovmf /usr/share/ovmf/OVMF.fd, --secure-boot, or --firmware FILE)");
		return -EINVAL;
	}
	if (cli_check_privdrop(cfg))
		return -EINVAL;
	return cli_check_daemonize(cfg, serial_given);
}
