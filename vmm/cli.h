/* SPDX-License-Identifier: MIT */
/* Command line -> struct vm_config. Pure parsing: no device is opened here. */
#ifndef MINIVMM_CLI_H
#define MINIVMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memory.h"
#include "lib/topology.h"

#define CLI_MAX_CPUS	8192	/* what a cpu list may name; KVM's own limit is checked later */
#define CLI_MAX_VCPUS	4096	/* KVM_CAP_MAX_VCPUS is the real limit, checked later */

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_PTY, SERIAL_NONE };

#define CLI_MAX_VIRTIO_DISKS	8
#define CLI_MAX_AHCI		6	/* the ICH9 AHCI controller's ports */
#define CLI_MAX_DISKS		(CLI_MAX_VIRTIO_DISKS + CLI_MAX_AHCI)
#define CLI_DISK_SERIAL_MAX	20	/* virtio-blk GET_ID and ATA IDENTIFY: 20 bytes */
#define CLI_DISK_MAX_QUEUES	64

enum disk_bus {
	DISK_BUS_VIRTIO,		/* a virtio-blk PCI function */
	DISK_BUS_SATA,			/* a port of the AHCI controller at 00:1f.2 */
};

/*
 * --disk path=FILE[,bus=virtio|sata][,readonly=on][,direct=on][,serial=S][,queues=N]
 *        [,iothreads=N]
 * --cdrom FILE: bus sata, cdrom, readonly
 */
struct disk_config {
	char path[4096];
	char serial[CLI_DISK_SERIAL_MAX + 1];
	enum disk_bus bus;
	bool cdrom;			/* an ATAPI CD/DVD-ROM drive (--cdrom) */
	bool readonly;
	bool direct;			/* O_DIRECT: no host page cache */
	unsigned int queues;		/* 0: one per vCPU (virtio only) */
	unsigned int iothreads;		/* 0: one (virtio only) */
};

#define CLI_MAX_NICS		8
#define CLI_NET_MAX_QUEUES	64	/* VNET_MAX_PAIRS */
#define CLI_IFNAME_MAX		15	/* IFNAMSIZ less its NUL */

enum net_backend_kind {
	NET_BACKEND_TAP,		/* tap=NAME: an existing tap */
	NET_BACKEND_BRIDGE,		/* bridge=BR: a tap of ours on BR */
	NET_BACKEND_MACVTAP,		/* macvtap=IFACE: a macvtap of ours on IFACE */
};

enum net_vhost_mode {
	NET_VHOST_MODE_AUTO,		/* vhost-net when /dev/vhost-net is usable */
	NET_VHOST_MODE_ON,
	NET_VHOST_MODE_OFF,
};

/* --net tap=NAME|bridge=BR|macvtap=IFACE[,mac=XX:..][,queues=N][,vhost=on|off] */
struct net_config {
	enum net_backend_kind kind;
	char ifname[CLI_IFNAME_MAX + 1];
	uint8_t mac[6];
	bool has_mac;
	unsigned int queues;		/* 0: one pair per vCPU */
	enum net_vhost_mode vhost;
};

#define CLI_CONTROL_PATH_MAX	107	/* sockaddr_un's sun_path, less its NUL */

#define CLI_MAX_VFIO		8
#define CLI_BDF_MAX		32

/* --vfio BDF[,romfile=FILE] and --gpu BDF[,vga=on][,romfile=FILE] */
struct vfio_dev_config {
	char bdf[CLI_BDF_MAX];		/* as typed: 65:00.0, 0000:65:00.0, 65:00 */
	char romfile[4096];		/* "": the device's own ROM */
	bool gpu;			/* --gpu: every function of the slot */
	bool vga;			/* vga=on: legacy VGA ranges to it */
	bool no_mmap;			/* mmap=off: every BAR access trapped */
};

#define CLI_MAX_FW_CFG		16
#define CLI_FW_CFG_NAME_MAX	55	/* fw_cfg directory name[56], NUL included */

/* --fw-cfg name=opt/NAME,file=FILE | name=opt/NAME,string=TEXT */
struct fw_cfg_opt_config {
	char name[CLI_FW_CFG_NAME_MAX + 1];
	char value[4096];		/* the file's path, or the string itself */
	bool is_string;			/* string=: the text, without its NUL */
};

/* --secure-boot: Debian's non-SMM code image with Microsoft's keys. */
#define CLI_SECURE_BOOT_CODE	"/usr/share/OVMF/OVMF_CODE_4M.fd"
#define CLI_SECURE_BOOT_VARS	"/usr/share/OVMF/OVMF_VARS_4M.ms.fd"

struct vm_config {
	uint64_t mem_size;
	enum mem_backing backing;
	unsigned int nr_cpus;
	struct cpu_topology topo;	/* --cpus N,sockets=,cores=,threads= */
	int pin[CLI_MAX_VCPUS];		/* host CPU per vCPU, when nr_pin > 0 */
	unsigned int nr_pin;
	/* --pin-io: host CPUs for the main thread and the I/O threads */
	int pin_io[CLI_MAX_CPUS];
	unsigned int nr_pin_io;
	const char *firmware;		/* --firmware: raw image at the top of 4 GiB */
	const char *ovmf;		/* --ovmf: OVMF.fd or OVMF_CODE*.fd */
	const char *ovmf_vars;		/* --ovmf-vars: this VM's variable store */
	/* --secure-boot: the template copied per VM when there is no
	 * --ovmf-vars (CLI_SECURE_BOOT_VARS); NULL: the one next to --ovmf */
	const char *ovmf_vars_template;
	bool secure_boot;
	struct fw_cfg_opt_config fw_cfg[CLI_MAX_FW_CFG];	/* --fw-cfg, in order */
	unsigned int nr_fw_cfg;
	const char *name;		/* --name: per-VM state lives under it */
	bool tpm;			/* --tpm: a TPM 2.0 (CRB) backed by swtpm */
	const char *tpm_socket;		/* --tpm socket=PATH: a running swtpm's
					 * control socket; NULL: minivmm starts one */
	bool rtc_localtime;
	uint8_t uuid[16];
	bool has_uuid;
	const char *serial_number;
	const char *dump_acpi;		/* --dump-acpi: write the tables here */
	bool no_seccomp;		/* --seccomp off */
	const char *test_forbidden;	/* --test-forbidden THREAD:CALL (tests only) */
	/* --disk and --cdrom, in command-line order; AHCI devices take
	 * ports 0-5 in that order (docs/ahci.md) */
	struct disk_config disks[CLI_MAX_DISKS];
	unsigned int nr_disks;
	struct net_config nics[CLI_MAX_NICS];	/* --net, in order */
	unsigned int nr_nics;
	struct vfio_dev_config vfio[CLI_MAX_VFIO];	/* --vfio and --gpu, in order */
	unsigned int nr_vfio;
	enum serial_kind serial;
	const char *serial_path;
	const char *debugcon;		/* file for port 0x402 output */
	bool testdev;
	bool testdev_qemu_exit;		/* --testdev exit=qemu: status (v << 1) | 1 */
	bool hide_kvm;
	/* --hyperv on|off: the Hyper-V enlightenments (default on); given
	 * says it was asked for (then a KVM without them is an error). */
	bool hyperv;
	bool hyperv_given;
	/* --hv-vendor-id: CPUID 0x40000000 vendor (Hyper-V's with --hyperv
	 * on, instead of "Microsoft Hv"; KVM's with --hyperv off) */
	const char *hv_vendor_id;
	bool stats;
	unsigned int trace_mask;	/* --trace: TRACE_* categories (lib/trace.h) */
	const char *trace_file;		/* --trace ...,file=PATH; NULL: stderr */
	int64_t halt_poll_ns;		/* --halt-poll: -1 leaves KVM's default */
	bool cpu_pm;			/* --cpu-pm on: HLT/MWAIT/PAUSE do not exit */
	bool no_reboot;			/* --no-reboot: a guest reset ends minivmm (3) */
	const char *boot_order;		/* --boot: NULL for CD-ROMs, then disks */
	unsigned int shutdown_timeout;	/* --shutdown-timeout: s after the power button */
	int verbose;
	const char *control;		/* --control: the control socket's path */
	bool daemonize;			/* --daemonize */
	const char *pidfile;		/* --pidfile */
	const char *log;		/* --log: minivmm's messages once the VM runs */
	const char *user;		/* --user: NAME or UID to run as once set up */
	const char *group;		/* --group: NAME or GID (default: the user's) */
	const char *chroot_dir;		/* --chroot: DIR to chroot into once set up */
	const char *sysfs_root;		/* for tests: where /sys is */
};

/*
 * Parse argv into cfg. Returns 0 to run a VM, 1 when --help/--version was
 * printed (exit 0), or -EINVAL after printing one line that names the bad
 * input and the fix.
 */
int cli_parse(int argc, char **argv, struct vm_config *cfg);
/* --disk or --cdrom (cdrom true): parsed into cfg's next disk slot, each
 * bus's limit checked (vmm/cli_disk.c). 0 or -EINVAL, after one line. */
int cli_add_disk(struct vm_config *cfg, const char *arg, bool cdrom);

void cli_usage(void);

/* "6b1f3c2e-8a9d-4f10-b2c3-0123456789ab" -> 16 bytes in written order. */
int cli_parse_uuid(const char *s, uint8_t uuid[16]);

/*
 * taskset-style list "14-17,32-35" into cpus[], in order, at most max.
 * Returns the count or -EINVAL (malformed) / -E2BIG (more than max).
 */
int cli_parse_cpu_list(const char *s, int *cpus, unsigned int max);

/*
 * The next comma-separated item of an option value at *p into item (cap
 * bytes, NUL included), ",," standing for a literal comma as in QEMU; *p
 * moves past the item and its comma. -E2BIG if the item does not fit.
 */
int cli_next_item(const char **p, char *item, size_t cap);

/* One --disk value into d: 0, or -EINVAL after printing one line. */
int cli_parse_disk(const char *arg, struct disk_config *d);

/* One --net value into n: 0, or -EINVAL after printing one line. */
int cli_parse_net(const char *arg, struct net_config *n);
/* A MAC address "xx:xx:xx:xx:xx:xx": 0, or -EINVAL (nothing printed). */
int cli_parse_mac(const char *s, uint8_t mac[6]);

/* One --vfio (gpu false) or --gpu value into d: 0, or -EINVAL after one line. */
int cli_parse_vfio(const char *arg, bool gpu, struct vfio_dev_config *d);

/* One --trace value (vfio[,file=PATH]) into cfg: 0, or -EINVAL after one line. */
int cli_parse_trace(const char *arg, struct vm_config *cfg);

/* One --fw-cfg value into e: 0, or -EINVAL after one line. */
int cli_parse_fw_cfg(const char *arg, struct fw_cfg_opt_config *e);

/* Is host CPU cpu online according to a kernel "online" list (e.g. "0-3,8")? */
bool cli_cpu_in_list(const char *online_list, int cpu);

#endif
