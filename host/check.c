// SPDX-License-Identifier: MIT
/*
 * `minivmm check`, host half: CPU virtualization, /dev/kvm, the IOMMU and
 * interrupt remapping, the kernel command line and the vfio modules.
 * The VM half (devices, hugepages, memlock, OVMF) is in check_vm.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "host/check.h"
#include "lib/host_pci.h"
#include "lib/irq_posting.h"
#include "lib/log.h"
#include "lib/size.h"
#include "lib/sysfs.h"

/* ---- small readers ------------------------------------------------------ */

/* Whether the first "flags" line of /proc/cpuinfo has this flag. */
static bool cpu_has_flag(const struct host_env *env, const char *flag)
{
	char path[HOST_PATH_MAX], *line = NULL, *tok, *save;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	if (host_path(path, sizeof(path), "%s/cpuinfo", env->procfs))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5))
			continue;
		tok = strchr(line, ':');
		for (tok = tok ? strtok_r(tok + 1, " \t\n", &save) : NULL; tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, flag))
				found = true;
		break;
	}
	free(line);
	fclose(f);
	return found;
}

int host_cmdline_read(const struct host_env *env, char *buf, size_t len)
{
	char path[HOST_PATH_MAX], *dashes;
	int ret;

	ret = host_path(path, sizeof(path), "%s/cmdline", env->procfs);
	if (!ret)
		ret = host_read_str(path, buf, len);
	if (ret)
		return ret;
	/* What follows " -- " goes to init, not to the kernel. */
	dashes = strstr(buf, " -- ");
	if (dashes)
		*dashes = '\0';
	return 0;
}

/* The value of the last "key=..." in the command line, as the kernel takes it. */
const char *host_cmdline_value(const char *cmdline, const char *key, char *buf,
			       size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline, *found = NULL;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' || p[klen] == ' ' || !p[klen]))
			found = p;
		while (*p && *p != ' ')
			p++;
	}
	if (!found)
		return NULL;
	found += klen;
	if (*found == '=')
		found++;
	for (klen = 0; found[klen] && found[klen] != ' ' && klen + 1 < len; klen++)
		buf[klen] = found[klen];
	buf[klen] = '\0';
	return buf;
}

/* Whether a comma-separated option value holds this word ("on,sm_on"). */
static bool value_has(const char *value, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = value; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, wl) && (p[wl] == ',' || !p[wl]))
			return true;
	return false;
}

size_t host_dir_count(const char *path, char *first, size_t len)
{
	char **names;
	size_t n;

	if (first && len)
		first[0] = '\0';
	if (host_list_dir(path, &names, &n))
		return 0;
	if (first && len) {
		for (size_t i = 0; i < n; i++) {
			if (strlen(first) + strlen(names[i]) + 2 > len)
				break;
			if (i)
				strcat(first, " ");
			strcat(first, names[i]);
		}
	}
	host_free_list(names, n);
	return n;
}

static size_t iommu_units(const struct host_env *env, char *names, size_t len)
{
	char path[HOST_PATH_MAX];

	if (host_path(path, sizeof(path), "%s/class/iommu", env->sysfs))
		return 0;
	return host_dir_count(path, names, len);
}

size_t host_iommu_group_count(const struct host_env *env)
{
	char path[HOST_PATH_MAX];

	if (host_path(path, sizeof(path), "%s/kernel/iommu_groups", env->sysfs))
		return 0;
	return host_dir_count(path, NULL, 0);
}

static bool in_vm(const struct host_env *env)
{
	return cpu_has_flag(env, "hypervisor");
}

void host_fix_grub(struct host_report *r, const char *params)
{
	host_fix(r, "add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: %s", params);
	host_fix(r, "then run: update-grub && reboot");
}

/* How to turn the IOMMU on, for this CPU vendor. */
static void fix_iommu_on(const struct host_env *env, struct host_report *r)
{
	enum host_cpu_vendor vendor = host_cpu_vendor(env);

	/* A VM has no firmware setup to visit: its IOMMU comes from its host. */
	if (in_vm(env))
		host_fix(r, "this host is itself a VM: give it a virtual IOMMU (QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on)");
	else if (vendor == HOST_CPU_INTEL)
		host_fix(r, "enable VT-d in the firmware (BIOS/UEFI) setup");
	else if (vendor == HOST_CPU_AMD)
		host_fix(r, "enable the IOMMU (AMD-Vi, \"IOMMU\" in the chipset/NBIO menu) in the firmware (BIOS/UEFI) setup");
	else
		host_fix(r, "enable the IOMMU (Intel VT-d / AMD-Vi) in the firmware (BIOS/UEFI) setup");
	/* QEMU's intel-iommu is VT-d whatever the CPU: it needs intel_iommu=on. */
	if (vendor == HOST_CPU_AMD && !in_vm(env)) {
		/* amd_iommu has no "on": the kernel enables AMD-Vi whenever the
		 * firmware describes it (IVRS), unless told amd_iommu=off. */
		host_fix_grub(r, "iommu=pt");
		host_note(r, "(AMD-Vi needs no kernel parameter to turn on; remove any amd_iommu=off or iommu=off)");
	} else {
		host_fix_grub(r, "intel_iommu=on iommu=pt");
	}
}

/* ---- the checks ----------------------------------------------------------- */

void host_check_cpu(const struct host_env *env, struct host_report *r)
{
	char path[HOST_PATH_MAX];
	bool pvm;

	if (cpu_has_flag(env, "vmx")) {
		host_report(r, HOST_OK, "CPU virtualization: vmx (Intel VT-x)");
		return;
	}
	if (cpu_has_flag(env, "svm")) {
		host_report(r, HOST_OK, "CPU virtualization: svm (AMD-V)");
		return;
	}
	pvm = !host_path(path, sizeof(path), "%s/module/kvm_pvm", env->sysfs) &&
	      host_is_dir(path);
	if (pvm) {
		/* PVM runs guests without VT-x/AMD-V, but only PVM-aware Linux
		 * kernels: not OVMF, not a stock guest. */
		host_report(r, HOST_FAIL, "CPU virtualization: no vmx/svm flag in /proc/cpuinfo; "
			    "the KVM here is kvm_pvm (PVM), which runs only PVM-aware Linux guests, not OVMF");
		host_fix(r, "run minivmm on bare metal, or in a VM that is given vmx/svm (nested virtualization: -cpu host, kvm_intel nested=1 / kvm_amd nested=1 on its host)");
	} else if (in_vm(env)) {
		host_report(r, HOST_FAIL, "CPU virtualization: no vmx/svm flag in /proc/cpuinfo: this is a VM without nested virtualization");
		host_fix(r, "on its host: enable nested virtualization (kvm_intel nested=1 / kvm_amd nested=1) and give this VM the flag (-cpu host)");
	} else {
		host_report(r, HOST_FAIL, "CPU virtualization: no vmx/svm flag in /proc/cpuinfo: VT-x/AMD-V is off or absent");
		host_fix(r, "enable Intel VT-x / AMD SVM in the firmware (BIOS/UEFI) setup, then power-cycle");
	}
}

/*
 * What the latency options can use on this host (docs/latency.md): an
 * answer, never a failure — each is optional. Asked on a VM, as KVM
 * answers for VMs.
 */
static void check_kvm_latency(const struct host_env *env, struct host_report *r, int vm)
{
	char posting[160];
	int poll = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL);
	int exits = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
	int stats = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD);
	char names[64] = "";

	if (exits > 0) {
		static const struct { int bit; const char *name; } bits[] = {
			{ KVM_X86_DISABLE_EXITS_HLT, "HLT" }, { KVM_X86_DISABLE_EXITS_MWAIT, "MWAIT" },
			{ KVM_X86_DISABLE_EXITS_PAUSE, "PAUSE" }, { KVM_X86_DISABLE_EXITS_CSTATE, "CSTATE" },
		};

		for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
			if (exits & bits[i].bit) {
				strcat(names, names[0] ? "," : "");
				strcat(names, bits[i].name);
			}
	}
	host_report(r, HOST_OK, "KVM latency: --halt-poll %s; --cpu-pm on can keep in the guest: %s; binary statistics for --stats: %s",
		    poll > 0 ? "yes" : "no (KVM_CAP_HALT_POLL, Linux 5.15+)",
		    names[0] ? names : "nothing (no KVM_CAP_X86_DISABLE_EXITS, or kvm.mitigate_smt_rsb=1)",
		    stats > 0 ? "yes" : "no (Linux 5.14+)");
	host_irq_posting(env, posting, sizeof(posting));
	host_report(r, HOST_OK, "KVM latency: a passed device's MSIs go %s", posting);
}

void host_check_kvm(const struct host_env *env, struct host_report *r)
{
	char path[HOST_PATH_MAX], mod[HOST_PATH_MAX];
	const char *how = "";
	struct stat st;
	int fd, vm, api;

	if (host_path(path, sizeof(path), "%s/kvm", env->devfs))
		return;
	if (stat(path, &st)) {
		host_report(r, HOST_FAIL, "KVM: %s: %s", path, strerror(errno));
		host_fix(r, "modprobe %s (after the CPU line above is OK)",
			 host_cpu_vendor(env) == HOST_CPU_AMD ? "kvm_amd" : "kvm_intel");
		return;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		struct group *g = getgrgid(st.st_gid);

		host_report(r, HOST_FAIL, "KVM: %s: %s (mode %04o, group %s)", path, strerror(err),
			    (unsigned)(st.st_mode & 07777), g ? g->gr_name : "?");
		host_fix(r, "run as root, or: usermod -aG %s $USER, then log in again",
			 g ? g->gr_name : "kvm");
		return;
	}
	if (!host_path(mod, sizeof(mod), "%s/module/kvm_pvm", env->sysfs) && host_is_dir(mod))
		how = " (kvm_pvm)";
	/* A fake tree's /dev/kvm is a plain file: there is no KVM to ask. */
	if (!S_ISCHR(st.st_mode)) {
		host_report(r, HOST_OK, "KVM: %s opens read-write%s", path, how);
		goto close_fd;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		host_report(r, HOST_FAIL, "KVM: %s: API version %d, minivmm needs %d", path, api,
			    KVM_API_VERSION);
		host_fix(r, "boot a kernel with a working KVM (Debian's stock kernel)");
		goto close_fd;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		host_report(r, HOST_FAIL, "KVM: %s: cannot create a VM: %s", path, strerror(errno));
		host_fix(r, "another hypervisor (VirtualBox, VMware) may hold VT-x/AMD-V: stop it; see dmesg for kvm errors");
		goto close_fd;
	}
	host_report(r, HOST_OK, "KVM: %s opens read-write, API %d, creates VMs%s", path, api, how);
	check_kvm_latency(env, r, vm);
	close(vm);
close_fd:
	close(fd);
}

void host_check_iommu(const struct host_env *env, struct host_report *r)
{
	char units[256] = "";
	size_t nunits = iommu_units(env, units, sizeof(units));
	size_t ngroups = host_iommu_group_count(env);
	const char *kind = !strncmp(units, "dmar", 4) ? "Intel VT-d (DMAR)" :
			   !strncmp(units, "ivhd", 4) ? "AMD-Vi" : "IOMMU";

	if (nunits && ngroups) {
		host_report(r, HOST_OK, "IOMMU: %s active (%s), %zu IOMMU groups", kind, units, ngroups);
	} else if (!nunits && !ngroups) {
		host_report(r, HOST_FAIL, "IOMMU: none active: %s/class/iommu and %s/kernel/iommu_groups are empty",
			    env->sysfs, env->sysfs);
		fix_iommu_on(env, r);
	} else if (nunits) {
		host_report(r, HOST_FAIL, "IOMMU: %s present (%s) but no IOMMU groups: DMA remapping is off",
			    kind, units);
		fix_iommu_on(env, r);
	} else {
		/* Groups without a unit in /sys/class/iommu: virtio-iommu or
		 * an IOMMU driver that does not register there. */
		host_report(r, HOST_WARN, "IOMMU: %zu IOMMU groups, but no unit in %s/class/iommu",
			    ngroups, env->sysfs);
	}
}

/* Any "IR-IO-APIC" / "IR-PCI-MSI..." interrupt domain: remapping is on. */
static bool irq_remap_active(const struct host_env *env)
{
	char path[HOST_PATH_MAX], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	if (host_path(path, sizeof(path), "%s/interrupts", env->procfs))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, " IR-") != NULL;
	free(line);
	fclose(f);
	return found;
}

/* Intel: bit 3 (IR) of a DMAR unit's extended capability register. */
static bool dmar_ir_capable(const struct host_env *env)
{
	char path[HOST_PATH_MAX], **names;
	unsigned long ecap;
	bool capable = false;
	size_t n;

	if (host_path(path, sizeof(path), "%s/class/iommu", env->sysfs) ||
	    host_list_dir(path, &names, &n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!host_path(path, sizeof(path), "%s/class/iommu/%s/intel-iommu/ecap",
			       env->sysfs, names[i]) &&
		    !host_read_ulong(path, &ecap, 16) && (ecap & (1UL << 3)))
			capable = true;
	host_free_list(names, n);
	return capable;
}

void host_check_irq_remap(const struct host_env *env, struct host_report *r)
{
	char path[HOST_PATH_MAX], val[16], cmdline[4096], off[64];
	bool unsafe = false, have_iommu = iommu_units(env, NULL, 0) > 0;

	if (irq_remap_active(env)) {
		host_report(r, HOST_OK, "interrupt remapping: active (IR- interrupt domains in %s/interrupts)",
			    env->procfs);
		return;
	}
	if (!host_path(path, sizeof(path),
		       "%s/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", env->sysfs) &&
	    !host_read_str(path, val, sizeof(val)))
		unsafe = !strcmp(val, "Y") || !strcmp(val, "1");
	if (unsafe && have_iommu) {
		host_report(r, HOST_WARN, "interrupt remapping: off; vfio_iommu_type1 allow_unsafe_interrupts=Y lets VFIO run anyway");
		host_note(r, "a guest can then program its device to send any MSI and so raise arbitrary interrupts on the host: trusted guests only");
		return;
	}
	if (host_cmdline_read(env, cmdline, sizeof(cmdline)))
		cmdline[0] = '\0';
	off[0] = '\0';
	if (host_cmdline_value(cmdline, "intremap", val, sizeof(val)) && !strcmp(val, "off"))
		strcpy(off, "intremap=off");
	else if (host_cmdline_value(cmdline, "nointremap", val, sizeof(val)))
		strcpy(off, "nointremap");

	host_report(r, HOST_FAIL, "interrupt remapping: not active%s",
		    have_iommu ? "" : " (there is no IOMMU)");
	host_note(r, "without it a guest can make its passed-through device send any MSI write and inject interrupts into the host;");
	host_note(r, "vfio_iommu_type1 then refuses to attach devices unless allow_unsafe_interrupts=1 says you accept that");
	if (!have_iommu)
		host_fix(r, "it comes with the IOMMU (VT-d / AMD-Vi): fix the IOMMU line above");
	else if (off[0])
		host_fix(r, "remove %s from GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: update-grub && reboot", off);
	else if (dmar_ir_capable(env))
		host_fix(r, "the IOMMU supports it (ecap bit 3) but the kernel left it off: enable x2APIC in the firmware setup and look for \"DMAR-IR\" in dmesg");
	else
		host_fix(r, "the hardware has none; only if every guest is trusted: echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' > /etc/modprobe.d/vfio-unsafe.conf, then reload vfio_iommu_type1");
}

void host_check_cmdline(const struct host_env *env, struct host_report *r)
{
	static const char *const hp_keys[] = { "default_hugepagesz", "hugepagesz", "hugepages" };
	static const struct { const char *key, *value; } offs[] = {
		{ "intel_iommu", "off" }, { "amd_iommu", "off" }, { "iommu", "off" },
	};
	char cmdline[4096], val[128], shown[512] = "", word[1024];
	enum host_cpu_vendor vendor = host_cpu_vendor(env);
	unsigned bad = 0;
	bool pt;

	if (host_cmdline_read(env, cmdline, sizeof(cmdline))) {
		host_report(r, HOST_WARN, "kernel command line: cannot read %s/cmdline", env->procfs);
		return;
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (!host_cmdline_value(cmdline, offs[i].key, val, sizeof(val)) ||
		    !value_has(val, offs[i].value))
			continue;
		host_report(r, HOST_FAIL, "kernel command line: %s=%s turns the IOMMU off", offs[i].key, val);
		host_fix(r, "remove %s=%s from GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: update-grub && reboot",
			 offs[i].key, val);
		bad++;
	}
	if (host_cmdline_value(cmdline, "intel_iommu", val, sizeof(val)) && value_has(val, "on"))
		strcat(shown, " intel_iommu=on");
	else if (vendor == HOST_CPU_INTEL && !bad && !host_iommu_group_count(env)) {
		/* Many distribution kernels still default VT-d to off. */
		host_report(r, HOST_FAIL, "kernel command line: no intel_iommu=on");
		host_fix_grub(r, "intel_iommu=on iommu=pt");
		bad++;
	}
	pt = host_cmdline_value(cmdline, "iommu", val, sizeof(val)) && !strcmp(val, "pt");
	if (pt)
		strcat(shown, " iommu=pt");
	for (size_t i = 0; i < sizeof(hp_keys) / sizeof(hp_keys[0]); i++)
		if (host_cmdline_value(cmdline, hp_keys[i], val, sizeof(val)) &&
		    strlen(shown) + strlen(hp_keys[i]) + strlen(val) + 3 < sizeof(shown)) {
			snprintf(word, sizeof(word), " %s=%s", hp_keys[i], val);
			strcat(shown, word);
		}
	if (host_cmdline_value(cmdline, "vfio-pci.ids", val, sizeof(val)) &&
	    strlen(shown) + strlen(val) + 16 < sizeof(shown)) {
		snprintf(word, sizeof(word), " vfio-pci.ids=%s", val);
		strcat(shown, word);
	}
	if (bad)
		return;
	if (!pt) {
		host_report(r, HOST_WARN, "kernel command line:%s no iommu=pt: the host's own devices pay for DMA translation too",
			    shown);
		host_fix(r, "add iommu=pt to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: update-grub && reboot");
		return;
	}
	host_report(r, HOST_OK, "kernel command line:%s", shown);
}

void host_check_vfio_modules(const struct host_env *env, struct host_report *r)
{
	static const char *const mods[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
	char path[HOST_PATH_MAX], missing[128] = "";
	unsigned long disabled = 0;

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		/* Built-in modules with parameters show up in /sys/module too. */
		if (!host_path(path, sizeof(path), "%s/module/%s", env->sysfs, mods[i]) &&
		    host_is_dir(path))
			continue;
		strcat(missing, " ");
		strcat(missing, mods[i]);
	}
	if (!missing[0]) {
		if (!host_path(path, sizeof(path), "%s/vfio/vfio", env->devfs) && host_exists(path)) {
			host_report(r, HOST_OK, "vfio: vfio, vfio_pci, vfio_iommu_type1 loaded, %s present", path);
		} else {
			host_report(r, HOST_FAIL, "vfio: modules loaded but %s/vfio/vfio is missing", env->devfs);
			host_fix(r, "check that udev/devtmpfs is running: mknod %s/vfio/vfio c 10 196", env->devfs);
		}
		return;
	}
	host_report(r, HOST_FAIL, "vfio: not loaded:%s", missing);
	if (host_path(path, sizeof(path), "%s/modules", env->procfs) || !host_exists(path)) {
		host_fix(r, "this kernel cannot load modules (no %s/modules): boot one built with CONFIG_VFIO=y CONFIG_VFIO_PCI=y CONFIG_VFIO_IOMMU_TYPE1=y, or with module support (Debian's stock kernel)",
			 env->procfs);
		return;
	}
	if (!host_path(path, sizeof(path), "%s/sys/kernel/modules_disabled", env->procfs) &&
	    !host_read_ulong(path, &disabled, 10) && disabled) {
		host_fix(r, "module loading is off until reboot (kernel.modules_disabled=1): printf 'vfio-pci\\nvfio_iommu_type1\\n' > /etc/modules-load.d/vfio.conf and reboot");
		return;
	}
	host_fix(r, "modprobe -a vfio-pci vfio_iommu_type1");
	host_fix(r, "at every boot: printf 'vfio-pci\\nvfio_iommu_type1\\n' > /etc/modules-load.d/vfio.conf");
}

void host_check(const struct host_env *env, const struct host_check_opts *o,
		struct host_report *r)
{
	host_check_cpu(env, r);
	host_check_kvm(env, r);
	host_check_iommu(env, r);
	host_check_irq_remap(env, r);
	host_check_cmdline(env, r);
	host_check_vfio_modules(env, r);
	for (size_t i = 0; i < o->n_gpus; i++)
		host_check_device(env, o->gpus[i], true, r);
	for (size_t i = 0; i < o->n_vfio; i++)
		host_check_device(env, o->vfio[i], false, r);
	host_check_hugepages(env, o->memory, o->hugepage, r);
	host_check_memlock(env, o->memory, r);
	host_check_ovmf(env, o->ovmf, r);
	host_check_user(env, o, r);
}

/* ---- CLI -------------------------------------------------------------------- */

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: minivmm check [--gpu BDF]... [--vfio BDF]... [--memory SIZE [--hugepages 1G|2M]]\n"
		"                     [--ovmf FILE] [--user NAME] [--sysfs DIR] [--procfs DIR] [--devfs DIR]\n"
		"                     [--datadir DIR]\n"
		"  --user NAME: also what NAME needs to run minivmm without root (run by\n"
		"  another user than root: that user's needs, always)\n"
		"  BDF: 65:00.0, 0000:65:00.0, or 65:00 for every function of the slot\n"
		"  SIZE: 8G, 512M, or a number of MiB\n"
		"  exit status 0 only when the VM described could start on this host\n");
}

int host_check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HOST_ENV_LONGOPTS,
		{ "gpu", 1, NULL, HOST_OPT_GPU },
		{ "vfio", 1, NULL, HOST_OPT_VFIO },
		{ "memory", 1, NULL, HOST_OPT_MEMORY },
		{ "hugepages", 1, NULL, HOST_OPT_HUGEPAGES },
		{ "ovmf", 1, NULL, HOST_OPT_OVMF },
		{ "datadir", 1, NULL, HOST_OPT_DATADIR },
		{ "user", 1, NULL, HOST_OPT_USER },
		{ NULL, 0, NULL, 0 },
	};
	struct host_check_opts o = { 0 };
	const char **gpus, **vfio;
	struct host_report r;
	struct host_env env;
	int opt, status = HOST_EXIT_USAGE;

	host_env_init(&env);
	/* Every argument could be a --gpu or --vfio: argc bounds both lists. */
	gpus = calloc((size_t)argc + 1, sizeof(*gpus));
	vfio = calloc((size_t)argc + 1, sizeof(*vfio));
	if (!gpus || !vfio) {
		pr_err("check: out of memory");
		status = HOST_EXIT_FAIL;
		goto free_lists;
	}
	o.gpus = gpus;
	o.vfio = vfio;
	optind = 0;	/* GNU: reinitialise, the dispatcher may have used getopt */
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (host_env_option(&env, opt, optarg))
			continue;
		switch (opt) {
		case HOST_OPT_GPU:
			gpus[o.n_gpus++] = optarg;
			break;
		case HOST_OPT_VFIO:
			vfio[o.n_vfio++] = optarg;
			break;
		case HOST_OPT_MEMORY:
			if (parse_size(optarg, &o.memory)) {
				pr_err("check: --memory %s: not a size (use e.g. 8G or 4096M)", optarg);
				goto free_lists;
			}
			break;
		case HOST_OPT_HUGEPAGES:
			if (!strcasecmp(optarg, "1G") || !strcasecmp(optarg, "1GB")) {
				o.hugepage = 1ULL << 30;
			} else if (!strcasecmp(optarg, "2M") || !strcasecmp(optarg, "2MB")) {
				o.hugepage = 2ULL << 20;
			} else {
				pr_err("check: --hugepages %s: use 1G or 2M", optarg);
				goto free_lists;
			}
			break;
		case HOST_OPT_OVMF:
			o.ovmf = optarg;
			break;
		case HOST_OPT_DATADIR:
			env.datadir = optarg;
			break;
		case HOST_OPT_USER:
			o.user = optarg;
			break;
		case HOST_OPT_HELP:
			check_usage(stdout);
			status = HOST_EXIT_OK;
			goto free_lists;
		default:
			check_usage(stderr);
			goto free_lists;
		}
	}
	if (optind < argc) {
		pr_err("check: unexpected argument '%s' (name devices with --gpu or --vfio)", argv[optind]);
		check_usage(stderr);
		goto free_lists;
	}

	host_report_init(&r, env.out);
	host_check(&env, &o, &r);
	if (r.n_fail)
		fprintf(env.out, "\n%u FAIL, %u WARN: this host cannot start the VM yet; fix the FAIL lines above, then run minivmm check again\n",
			r.n_fail, r.n_warn);
	else
		fprintf(env.out, "\nready: %u OK, %u WARN\n", r.n_ok, r.n_warn);
	status = r.n_fail ? HOST_EXIT_FAIL : HOST_EXIT_OK;
	host_names_release();
free_lists:
	free(gpus);
	free(vfio);
	return status;
}
