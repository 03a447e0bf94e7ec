// SPDX-License-Identifier: MIT
/*
 * minivmm check on fake /sys, /proc and /dev trees: every check's OK and
 * FAIL path, with the fix each FAIL must print.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "tests/unit/fakesys/fakesys.h"
#include "tests/unit/fakesys/fakesys.h"

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)

/* ---- CPU and KVM ---------------------------------------------------------- */

static void test_cpu_vmx_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_cpu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   CPU virtualization: vmx (Intel VT-x)");
}

static void test_cpu_svm_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm npt\n");
	host_check_cpu(&fs->env, &fs->rep);
	assert_out(fs, "OK   CPU virtualization: svm (AMD-V)");
}

static void test_cpu_none_fail(void **state)
{
	struct fakesys *fs = *state;

	host_check_cpu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL CPU virtualization: no vmx/svm flag");
	assert_out(fs, "fix: enable Intel VT-x / AMD SVM in the firmware");
}

static void test_cpu_vm_without_nesting(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cpuinfo", "vendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n");
	host_check_cpu(&fs->env, &fs->rep);
	assert_out(fs, "a VM without nested virtualization");
	assert_out(fs, "fix: on its host: enable nested virtualization");
}

static void test_cpu_pvm_fail(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n");
	fs_mkdir(fs, "sys/module/kvm_pvm/parameters");
	host_check_cpu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "kvm_pvm (PVM), which runs only PVM-aware Linux guests");
	assert_out(fs, "fix: run minivmm on bare metal");
}

static void test_kvm_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "dev/kvm", "");
	host_check_kvm(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   KVM: ");
	assert_out(fs, "/dev/kvm opens read-write");
}

static void test_kvm_missing_fail(void **state)
{
	struct fakesys *fs = *state;

	host_check_kvm(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "No such file or directory");
	assert_out(fs, "fix: modprobe kvm_intel");
	fs_clear_output(fs);
	fs_write(fs, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: svm\n");
	host_check_kvm(&fs->env, &fs->rep);
	assert_out(fs, "fix: modprobe kvm_amd");
}

/* ---- IOMMU and interrupt remapping ------------------------------------------- */

static void test_iommu_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_pci_add(fs, "0000:00:00.0", 0x8086, 0x3e30, 0x060000, 0, NULL);
	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "nvidia");
	host_check_iommu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   IOMMU: Intel VT-d (DMAR) active (dmar0), 2 IOMMU groups");
}

static void test_iommu_missing_intel(void **state)
{
	struct fakesys *fs = *state;

	host_check_iommu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL IOMMU: none active");
	assert_out(fs, "fix: enable VT-d in the firmware");
	assert_out(fs, "fix: add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: intel_iommu=on iommu=pt");
	assert_out(fs, "fix: then run: update-grub && reboot");
	refute_out(fs, "virtual IOMMU");
}

static void test_iommu_missing_amd_in_vm(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: svm\n");
	host_check_iommu(&fs->env, &fs->rep);
	assert_out(fs, "AMD-Vi");
	assert_out(fs, "GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: iommu=pt\n");
	refute_out(fs, "intel_iommu=on");
	refute_out(fs, "virtual IOMMU");
	/* in a VM the advice is QEMU's intel-iommu, which is VT-d */
	fs_clear_output(fs);
	fs_write(fs, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: svm hypervisor\n");
	host_check_iommu(&fs->env, &fs->rep);
	refute_out(fs, "firmware (BIOS/UEFI) setup");
	assert_out(fs, "give it a virtual IOMMU");
	assert_out(fs, "intel_iommu=on iommu=pt");
}

static void test_iommu_units_without_groups(void **state)
{
	struct fakesys *fs = *state;

	fs_mkdir(fs, "sys/class/iommu/dmar0");
	fs_mkdir(fs, "sys/kernel/iommu_groups");
	host_check_iommu(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "present (dmar0) but no IOMMU groups");
	assert_out(fs, "intel_iommu=on");
}

static void test_irq_remap_active(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_irq_remap(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   interrupt remapping: active");
}

static void test_irq_remap_unsafe_warn(void **state)
{
	struct fakesys *fs = *state;

	fs_mkdir(fs, "sys/class/iommu/dmar0");
	fs_write(fs, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
	host_check_irq_remap(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_int_equal(fs->rep.n_warn, 1);
	assert_out(fs, "allow_unsafe_interrupts=Y");
	assert_out(fs, "raise arbitrary interrupts on the host");
}

static void test_irq_remap_absent_fail(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "sys/class/iommu/dmar0/intel-iommu/ecap", "f02052\n");	/* no bit 3 */
	host_check_irq_remap(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL interrupt remapping: not active");
	assert_out(fs, "unless allow_unsafe_interrupts=1 says you accept that");
	assert_out(fs, "fix: the hardware has none; only if every guest is trusted: echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1'");
}

static void test_irq_remap_capable_but_off(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "sys/class/iommu/dmar0/intel-iommu/ecap", "f0205a\n");
	host_check_irq_remap(&fs->env, &fs->rep);
	assert_out(fs, "supports it (ecap bit 3)");
	fs_clear_output(fs);
	fs_write(fs, "proc/cmdline", "root=/dev/sda1 intel_iommu=on intremap=off\n");
	host_check_irq_remap(&fs->env, &fs->rep);
	assert_out(fs, "fix: remove intremap=off from GRUB_CMDLINE_LINUX_DEFAULT");
}

static void test_irq_remap_no_iommu(void **state)
{
	struct fakesys *fs = *state;

	host_check_irq_remap(&fs->env, &fs->rep);
	assert_out(fs, "not active (there is no IOMMU)");
	assert_out(fs, "fix: it comes with the IOMMU");
}

/* ---- kernel command line and modules ------------------------------------------ */

static void test_cmdline_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	fs_write(fs, "proc/cmdline", "ro intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=16 -- init=x iommu=off\n");
	host_check_cmdline(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail + fs->rep.n_warn, 0);
	assert_out(fs, "OK   kernel command line: intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=16");
}

static void test_cmdline_iommu_off(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cmdline", "ro intel_iommu=off iommu=pt\n");
	host_check_cmdline(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL kernel command line: intel_iommu=off turns the IOMMU off");
	assert_out(fs, "fix: remove intel_iommu=off from GRUB_CMDLINE_LINUX_DEFAULT");
}

static void test_cmdline_missing_intel_iommu(void **state)
{
	struct fakesys *fs = *state;

	host_check_cmdline(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL kernel command line: no intel_iommu=on");
	assert_out(fs, "fix: add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: intel_iommu=on iommu=pt");
	assert_out(fs, "update-grub");
}

static void test_cmdline_no_pt_warn(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/cmdline", "ro intel_iommu=on,sm_on\n");
	host_check_cmdline(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_int_equal(fs->rep.n_warn, 1);
	assert_out(fs, "WARN kernel command line: intel_iommu=on no iommu=pt");
}

static void test_vfio_modules_ok(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_vfio_modules(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   vfio: vfio, vfio_pci, vfio_iommu_type1 loaded");
}

static void test_vfio_modules_missing(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/modules", "");
	fs_mkdir(fs, "sys/module/vfio");
	host_check_vfio_modules(&fs->env, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL vfio: not loaded: vfio_pci vfio_iommu_type1");
	assert_out(fs, "fix: modprobe -a vfio-pci vfio_iommu_type1");
	assert_out(fs, "/etc/modules-load.d/vfio.conf");
}

static void test_vfio_modules_no_module_support(void **state)
{
	struct fakesys *fs = *state;

	host_check_vfio_modules(&fs->env, &fs->rep);
	assert_out(fs, "FAIL vfio: not loaded: vfio vfio_pci vfio_iommu_type1");
	assert_out(fs, "this kernel cannot load modules");
	assert_out(fs, "CONFIG_VFIO_PCI=y");
	fs_clear_output(fs);
	fs_write(fs, "proc/modules", "");
	fs_write(fs, "proc/sys/kernel/modules_disabled", "1\n");
	host_check_vfio_modules(&fs->env, &fs->rep);
	assert_out(fs, "module loading is off until reboot");
}

/* ---- hugepages ------------------------------------------------------------------ */

static void test_hugepages_not_used(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_hugepages(&fs->env, 8 * GiB, 0, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   hugepages: 1 GiB: 16 free of 16, 2 MiB: 4096 free of 4096 (not used");
}

static void test_hugepages_enough(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_hugepages(&fs->env, 8 * GiB, GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   hugepages: 1 GiB: 16 free, the VM needs 8 for 8 GiB");
	fs_clear_output(fs);
	host_check_hugepages(&fs->env, 8 * GiB, 2 * MiB, &fs->rep);
	assert_out(fs, "OK   hugepages: 2 MiB: 4096 free, the VM needs 4096 for 8 GiB");
}

static void test_hugepages_none_2m(void **state)
{
	struct fakesys *fs = *state;
	char fix[512];

	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "100\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "34\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "10\n");
	host_check_hugepages(&fs->env, 4 * GiB, 2 * MiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL hugepages: 2 MiB: 24 free of 100, the VM needs 2048 for 4 GiB");
	/* 100 in the pool, 66 in use and 10 reserved elsewhere: grow to 2124 */
	snprintf(fix, sizeof(fix), "fix: echo 2124 > %s/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
		 fs->sys);
	assert_out(fs, fix);
	assert_out(fs, "hugepagesz=2M hugepages=2124");
}

static void test_hugepages_none_1g(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
	fs_write(fs, "sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
	host_check_hugepages(&fs->env, 6 * GiB + 1, GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "the VM needs 7 for");
	assert_out(fs, "fix: add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub: default_hugepagesz=1G hugepagesz=1G hugepages=7");
	assert_out(fs, "update-grub && reboot");
}

static void test_hugepages_no_pool(void **state)
{
	struct fakesys *fs = *state;

	host_check_hugepages(&fs->env, GiB, GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL hugepages: no 1 GiB pool");
	assert_out(fs, "fix: this CPU or kernel has no 1 GiB pages (CPU flag pdpe1gb): use --hugepages 2M");
	fs_clear_output(fs);
	host_check_hugepages(&fs->env, 0, 2 * MiB, &fs->rep);
	assert_out(fs, "FAIL hugepages: no 2 MiB pool");
}

static void test_hugepages_without_memory_warn(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_hugepages(&fs->env, 0, GiB, &fs->rep);
	assert_int_equal(fs->rep.n_warn, 1);
	assert_out(fs, "without --memory");
}

/* ---- memlock ------------------------------------------------------------------------ */

static void test_memlock_unlimited(void **state)
{
	struct fakesys *fs = *state;

	fs_host_ready(fs);
	host_check_memlock(&fs->env, 64 * GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   memlock: unlimited");
}

static void test_memlock_enough(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/self/limits", "Max locked memory         10737418240          10737418240          bytes\n");
	host_check_memlock(&fs->env, 8 * GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OK   memlock: 10 GiB, enough for 8 GiB of guest RAM + 1 GiB");
}

static void test_memlock_too_small(void **state)
{
	struct fakesys *fs = *state;

	host_check_memlock(&fs->env, 8 * GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL memlock: RLIMIT_MEMLOCK is 8 MiB; VFIO pins all guest RAM: 9 GiB needed (8 GiB + 1 GiB)");
	assert_out(fs, "(the hard limit is 8 MiB): ulimit -l 9437184");
	assert_out(fs, "in /etc/security/limits.conf:");
	assert_out(fs, "soft memlock 9437184");
}

static void test_memlock_cap_ipc_lock(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "proc/self/status", "Name:\tx\nCapEff:\t000001ffffffffff\n");
	host_check_memlock(&fs->env, 8 * GiB, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "CAP_IPC_LOCK");
}

/* ---- OVMF ------------------------------------------------------------------------- */

static void test_ovmf_found(void **state)
{
	struct fakesys *fs = *state;

	fs_write(fs, "share/OVMF/OVMF_CODE_4M.fd", "c");
	fs_write(fs, "share/OVMF/OVMF_VARS_4M.fd", "v");
	host_check_ovmf(&fs->env, NULL, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_out(fs, "OVMF_CODE_4M.fd + ");
	fs_clear_output(fs);
	fs_write(fs, "share/ovmf/OVMF.fd", "o");
	host_check_ovmf(&fs->env, NULL, &fs->rep);
	assert_out(fs, "/ovmf/OVMF.fd; ");
}

static void test_ovmf_missing(void **state)
{
	struct fakesys *fs = *state;

	host_check_ovmf(&fs->env, NULL, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL OVMF: not found");
	assert_out(fs, "fix: apt-get install ovmf");
	fs_clear_output(fs);
	fs_write(fs, "share/OVMF/OVMF_CODE_4M.fd", "c");	/* half a pair is no firmware */
	host_check_ovmf(&fs->env, NULL, &fs->rep);
	assert_out(fs, "FAIL OVMF: not found");
}

static void test_ovmf_named(void **state)
{
	struct fakesys *fs = *state;
	char path[512];

	snprintf(path, sizeof(path), "%s/share/mine.fd", fs->root);
	host_check_ovmf(&fs->env, path, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "fix: apt-get install ovmf, or give --ovmf an existing file");
	fs_write(fs, "share/mine.fd", "x");
	host_check_ovmf(&fs->env, path, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_int_equal(fs->rep.n_ok, 1);
}

/* ---- whole runs -------------------------------------------------------------------- */

static void ready_with_gpu(struct fakesys *fs)
{
	fs_host_ready(fs);
	fs_pci_add(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport");
	fs_pci_add(fs, "0000:01:00.0", 0x10de, 0x2204, 0x030000, 1, "vfio-pci");
	fs_pci_add(fs, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, 1, "vfio-pci");
	fs_write(fs, "dev/vfio/1", "");
}

static void test_check_ready_host(void **state)
{
	struct fakesys *fs = *state;
	const char *gpus[] = { "01:00" };
	struct host_check_opts o = { .gpus = gpus, .n_gpus = 1, .memory = 8 * GiB,
				     .hugepage = GiB };

	ready_with_gpu(fs);
	host_check(&fs->env, &o, &fs->rep);
	if (fs->rep.n_fail || fs->rep.n_warn)
		fprintf(stderr, "%s", fs_output(fs));
	assert_int_equal(fs->rep.n_fail, 0);
	assert_int_equal(fs->rep.n_warn, 0);
	assert_out(fs, "OK   0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]: vfio-pci, IOMMU group 1 viable");
	assert_out(fs, "OK   0000:01:00.1 Audio device [0403]");
}

static void test_check_main_exit_status(void **state)
{
	struct fakesys *fs = *state;
	char out[16384];
	char *ready[] = { "check", "--sysfs", fs->sys, "--procfs", fs->proc, "--devfs", fs->dev,
			  "--datadir", fs->share, "--gpu", "0000:01:00.0", "--vfio", "1:0.1",
			  "--memory", "8G", "--hugepages", "1G", NULL };
	char *bad_size[] = { "check", "--memory", "lots", NULL };
	char *bad_hp[] = { "check", "--memory", "8G", "--hugepages", "4M", NULL };
	char *stray[] = { "check", "01:00.0", NULL };

	/* An empty tree: nothing is there, and the fixes say so. */
	assert_int_equal(fs_run_main(host_check_main, out, sizeof(out), 17, ready), 1);
	assert_non_null(strstr(out, "FAIL IOMMU: none active"));
	assert_non_null(strstr(out, "this host cannot start the VM yet"));

	ready_with_gpu(fs);
	assert_int_equal(fs_run_main(host_check_main, out, sizeof(out), 17, ready), 0);
	assert_non_null(strstr(out, "ready: "));

	/* One member of the GPU's group back on a host driver: not viable. */
	fs_remove(fs, "sys/devices/pci0000:00/0000:01:00.1/driver");
	fs_driver_add(fs, "snd_hda_intel");
	fs_symlink(fs, "../../../bus/pci/drivers/snd_hda_intel",
		   "sys/devices/pci0000:00/0000:01:00.1/driver");
	assert_int_equal(fs_run_main(host_check_main, out, sizeof(out), 17, ready), 1);
	assert_non_null(strstr(out, "not viable for VFIO"));
	assert_non_null(strstr(out, "fix: minivmm bind 0000:01:00.0"));

	assert_int_equal(fs_run_main(host_check_main, NULL, 0, 3, bad_size), 2);
	assert_int_equal(fs_run_main(host_check_main, NULL, 0, 5, bad_hp), 2);
	assert_int_equal(fs_run_main(host_check_main, NULL, 0, 2, stray), 2);
}

/* ---- a user other than root (host/check_user.c) ----------------------------- */

static void test_user_may_rw(void **state)
{
	struct stat st = { .st_mode = S_IFCHR | 0660, .st_uid = 0, .st_gid = 36 };
	gid_t kvm[] = { 100, 36 }, none[] = { 100 };

	assert_true(host_user_may_rw(&st, 0, NULL, 0));		/* root */
	assert_true(host_user_may_rw(&st, 1000, kvm, 2));	/* in group kvm */
	assert_false(host_user_may_rw(&st, 1000, none, 1));
	st.st_mode = S_IFCHR | 0600;
	assert_false(host_user_may_rw(&st, 1000, kvm, 2));
	st.st_uid = 1000;
	assert_true(host_user_may_rw(&st, 1000, none, 1));	/* chowned to the user */
	st.st_mode = S_IFCHR | 0066;	/* the owner class decides */
	assert_false(host_user_may_rw(&st, 1000, kvm, 2));
	st.st_uid = 0;
	st.st_mode = S_IFCHR | 0666;
	assert_true(host_user_may_rw(&st, 1000, none, 1));	/* /dev/net/tun */
	st.st_mode = S_IFCHR | 0664;
	assert_false(host_user_may_rw(&st, 1000, none, 1));
}

static void test_user_needs(void **state)
{
	struct fakesys *fs = *state;
	const char *gpus[] = { "01:00" };
	struct host_check_opts o = { .gpus = gpus, .n_gpus = 1, .memory = 8 * GiB,
				     .user = "nobody" };
	char path[512];
	struct passwd *pw = getpwnam("nobody");

	if (!pw)
		skip();
	ready_with_gpu(fs);
	fs_write(fs, "dev/net/tun", "");
	fs_write(fs, "dev/vhost-net", "");
	snprintf(path, sizeof(path), "%s/kvm", fs->dev);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/vfio/1", fs->dev);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/vfio/vfio", fs->dev);
	if (fs_exists(fs, "dev/vfio/vfio"))
		assert_int_equal(chmod(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/net/tun", fs->dev);
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/vhost-net", fs->dev);
	assert_int_equal(chmod(path, 0600), 0);
	host_check_user(&fs->env, &o, &fs->rep);
	assert_out(fs, "what user nobody needs to run minivmm without root");
	assert_out(fs, "FAIL user nobody: cannot open");
	assert_out(fs, "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"");
	assert_out(fs, "usermod -aG kvm nobody");
	assert_out(fs, "/vfio/1, the IOMMU group of 01:00");
	assert_out(fs, "fix: until the next bind or reboot: chown nobody ");
	assert_out(fs, "SUBSYSTEM==\"vfio\", KERNEL==\"1\", OWNER=\"nobody\"");
	assert_out(fs, "RLIMIT_MEMLOCK must be at least 9437184 KiB");
	assert_out(fs, "fix: echo 'nobody - memlock 9437184' > /etc/security/limits.d/90-minivmm.conf");
	assert_out(fs, "/net/tun (network devices; the tap itself must be nobody's: ip tuntap add dev tap0 mode tap user nobody)");
	assert_out(fs, "WARN user nobody: cannot open");
	assert_out(fs, "KERNEL==\"vhost-net\", GROUP=\"kvm\"");
	if (fs->rep.n_fail != 2 || fs->rep.n_warn != 1)
		fprintf(stderr, "%s", fs_output(fs));
	assert_int_equal(fs->rep.n_fail, 2);
	assert_int_equal(fs->rep.n_warn, 1);

	/* Granted as the fixes say (as root: chown), all is OK. */
	if (geteuid() != 0)
		return;
	fs_clear_output(fs);
	host_report_init(&fs->rep, fs->rep.out);
	snprintf(path, sizeof(path), "%s/kvm", fs->dev);
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/vfio/1", fs->dev);
	assert_int_equal(chown(path, pw->pw_uid, (gid_t)-1), 0);
	snprintf(path, sizeof(path), "%s/vhost-net", fs->dev);
	assert_int_equal(chmod(path, 0666), 0);
	host_check_user(&fs->env, &o, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 0);
	assert_int_equal(fs->rep.n_warn, 0);
	assert_out(fs, "/vfio/1 (IOMMU group of 01:00)");

	/* An unknown user: one FAIL. */
	fs_clear_output(fs);
	host_report_init(&fs->rep, fs->rep.out);
	o.user = "no-such-user-minivmm";
	host_check_user(&fs->env, &o, &fs->rep);
	assert_int_equal(fs->rep.n_fail, 1);
	assert_out(fs, "FAIL user no-such-user-minivmm: no such user");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fs_test_setup, fs_test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cpu_vmx_ok), T(test_cpu_svm_ok), T(test_cpu_none_fail),
		T(test_cpu_vm_without_nesting), T(test_cpu_pvm_fail),
		T(test_kvm_ok), T(test_kvm_missing_fail),
		T(test_iommu_ok), T(test_iommu_missing_intel), T(test_iommu_missing_amd_in_vm),
		T(test_iommu_units_without_groups),
		T(test_irq_remap_active), T(test_irq_remap_unsafe_warn), T(test_irq_remap_absent_fail),
		T(test_irq_remap_capable_but_off), T(test_irq_remap_no_iommu),
		T(test_cmdline_ok), T(test_cmdline_iommu_off), T(test_cmdline_missing_intel_iommu),
		T(test_cmdline_no_pt_warn),
		T(test_vfio_modules_ok), T(test_vfio_modules_missing),
		T(test_vfio_modules_no_module_support),
		T(test_hugepages_not_used), T(test_hugepages_enough), T(test_hugepages_none_2m),
		T(test_hugepages_none_1g), T(test_hugepages_no_pool),
		T(test_hugepages_without_memory_warn),
		T(test_memlock_unlimited), T(test_memlock_enough), T(test_memlock_too_small),
		T(test_memlock_cap_ipc_lock),
		T(test_ovmf_found), T(test_ovmf_missing), T(test_ovmf_named),
		T(test_check_ready_host), T(test_check_main_exit_status),
		cmocka_unit_test(test_user_may_rw), T(test_user_needs),
	};

	return cmocka_run_group_tests_name("host_check", tests, NULL, NULL);
}
