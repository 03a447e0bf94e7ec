// SPDX-License-Identifier: MIT
/*
 * vCPU threads and exit dispatch.
 *
 * Each vCPU is one thread looping on KVM_RUN. An exit KVM cannot finish in
 * the kernel (port I/O or MMIO to a userspace device) is handed to the
 * matching bus; the device callback runs right here on the vCPU thread and
 * KVM_RUN resumes the guest with the result. docs/architecture.md follows
 * this path step by step.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/thread.h"
#include "lib/topology.h"
#include "vmm/cpuid.h"
#include "vmm/hyperv.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static void vcpu_kick_handler(int sig)
{
	/* Nothing: the signal's only job is to make KVM_RUN return EINTR. */
}

void vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/* MSRs a reset leaves alone: the TSC keeps counting (KVM keeps the vCPUs'
 * TSCs in step; writing back each one's creation-time value would not). */
static bool vcpu_msr_kept(uint32_t index)
{
	return index == 0x10;	/* IA32_TIME_STAMP_COUNTER */
}

static void vcpu_free_reset_state(struct vcpu *vcpu)
{
	free(vcpu->reset.xsave);
	free(vcpu->reset.msrs);
	vcpu->reset.xsave = NULL;
	vcpu->reset.msrs = NULL;
}

static int vcpu_save_msrs(struct vcpu *vcpu)
{
	const struct kvm_msr_list *list = vcpu->vm->kvm.msr_list;
	unsigned int max = list ? list->nmsrs : 0, n = 0;
	size_t size = sizeof(struct kvm_msrs) + max * sizeof(struct kvm_msr_entry);
	struct kvm_msrs *msrs = calloc(1, size), *rest = calloc(1, size);
	int got, ret = 0;

	if (!msrs || !rest) {
		ret = -ENOMEM;
		goto free_bufs;
	}
	/*
	 * KVM_GET_MSRS stops at the first MSR it cannot read and says how many
	 * it did: keep those, skip that one, ask again for the rest.
	 */
	for (unsigned int i = 0; i < max;) {
		rest->nmsrs = 0;
		for (unsigned int k = i; k < max; k++)
			if (!vcpu_msr_kept(list->indices[k]))
				rest->entries[rest->nmsrs++].index = list->indices[k];
		if (!rest->nmsrs)
			break;
		got = ioctl(vcpu->fd, KVM_GET_MSRS, rest);
		if (got < 0) {
			ret = -errno;
			goto free_bufs;
		}
		memcpy(&msrs->entries[n], rest->entries, (size_t)got * sizeof(rest->entries[0]));
		n += (unsigned int)got;
		/* Past what was read and the one refused, in list order. */
		for (unsigned int seen = 0; i < max && seen <= (unsigned int)got; i++)
			if (!vcpu_msr_kept(list->indices[i]))
				seen++;
	}
	msrs->nmsrs = n;
	vcpu->reset.msrs = msrs;
	msrs = NULL;
free_bufs:
	free(rest);
	free(msrs);
	return ret;
}

static int vcpu_save_reset_state(struct vcpu *vcpu)
{
	struct vcpu_reset_state *r = &vcpu->reset;
	struct kvm *kvm = &vcpu->vm->kvm;
	int ret;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &r->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_FPU, &r->fpu) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_MP_STATE, &r->mp_state) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_LAPIC, &r->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &r->events) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &r->debugregs) < 0)
		return -errno;
	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		r->xsave = calloc(1, sizeof(*r->xsave));
		if (!r->xsave)
			return -ENOMEM;
		if (ioctl(vcpu->fd, KVM_GET_XSAVE, r->xsave) < 0)
			return -errno;
	}
	r->has_xcrs = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
		      ioctl(vcpu->fd, KVM_GET_XCRS, &r->xcrs) == 0;
	ret = vcpu_save_msrs(vcpu);
	return ret;
}

/*
 * In QEMU's order (kvm_arch_put_registers): registers, extended state,
 * XCRs, segments and control registers, MSRs (APIC base among them), then
 * the multiprocessing state and the LAPIC, pending events, debug registers.
 */
int vcpu_reset(struct vcpu *vcpu)
{
	struct vcpu_reset_state *r = &vcpu->reset;
	int set;

	if (ioctl(vcpu->fd, KVM_SET_REGS, &r->regs) < 0)
		goto fail;
	if (r->xsave ? ioctl(vcpu->fd, KVM_SET_XSAVE, r->xsave) < 0 :
		       ioctl(vcpu->fd, KVM_SET_FPU, &r->fpu) < 0)
		goto fail;
	if (r->has_xcrs && ioctl(vcpu->fd, KVM_SET_XCRS, &r->xcrs) < 0)
		goto fail;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &r->sregs) < 0)
		goto fail;
	set = ioctl(vcpu->fd, KVM_SET_MSRS, r->msrs);
	if (set < 0)
		goto fail;
	if ((unsigned int)set < r->msrs->nmsrs)
		pr_warn_once("vCPU %u: KVM took %d of %u MSRs back at reset (MSR %#x refused)",
			     vcpu->index, set, r->msrs->nmsrs, r->msrs->entries[set].index);
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &r->mp_state) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_LAPIC, &r->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &r->events) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &r->debugregs) < 0)
		goto fail;
	vcpu->run->immediate_exit = 0;
	return 0;
fail:
	pr_err("vCPU %u: cannot put back its power-on state: %s", vcpu->index, strerror(errno));
	return -errno;
}

static struct hyperv_kvm vcpu_hyperv_kvm(struct vm *vm)
{
	return (struct hyperv_kvm){ .ioctl = hyperv_sys_ioctl, .sys_fd = vm->kvm.dev_fd };
}

/*
 * The Hyper-V leaves and KVM's SynIC for this vCPU (vmm/hyperv.c). vCPU 0
 * decides whether the VM has them: a KVM without Hyper-V support is an
 * error with --hyperv on given, a note with the default.
 */
static int vcpu_hyperv_init(struct vcpu *vcpu, struct hyperv_cpuid *hv)
{
	struct vm *vm = vcpu->vm;
	struct hyperv_kvm k = vcpu_hyperv_kvm(vm);
	struct hyperv_config cfg = {
		.vendor_id = vm->cfg->hv_vendor_id,
		.apicv = hyperv_host_apicv(vm->cfg->sysfs_root),
	};
	char list[256];
	int ret;

	if (vcpu->index == 0)
		vm->hyperv = vm->cfg->hyperv;
	if (!vm->hyperv)
		return 0;
	ret = hyperv_vcpu_init(&k, vcpu->fd, &cfg, hv);
	if (ret == -ENOTSUP && vcpu->index == 0 && !vm->cfg->hyperv_given) {
		pr_info("this kernel's KVM offers no Hyper-V enlightenments (KVM_GET_SUPPORTED_HV_CPUID, Linux 5.0+): running without them");
		vm->hyperv = false;
		return 0;
	}
	if (ret == -ENOTSUP) {
		pr_err("--hyperv on: this kernel's KVM offers no Hyper-V enlightenments (use Linux 5.0 or newer, or --hyperv off)");
		return ret;
	}
	if (ret) {
		pr_err("vCPU %u: Hyper-V set-up: %s", vcpu->index, strerror(-ret));
		return ret;
	}
	if (vcpu->index == 0) {
		hyperv_feature_list(hv->enabled, list, sizeof(list));
		pr_debug("Hyper-V enlightenments: %s", list);
		if (hv->missing) {
			hyperv_feature_list(hv->missing, list, sizeof(list));
			pr_info("Hyper-V enlightenments this KVM lacks (left out): %s", list);
		}
	}
	return 0;
}

/* KVM_SET_CPUID2 with the topology (vmm/cpuid.c) and, with Hyper-V, its
 * leaves at 0x40000000 and KVM's at 0x40000100. */
static int vcpu_set_cpuid(struct vcpu *vcpu, const struct hyperv_cpuid *hv)
{
	struct vm *vm = vcpu->vm;
	struct cpu_topology shape = topo_or_flat(&vm->cfg->topo, vm->nr_vcpus);
	struct cpuid_topology topo = {
		.apic_id = topo_apic_id(&shape, vcpu->index),
		.nr_vcpus = vm->nr_vcpus,
		.cores = shape.cores,
		.threads = shape.threads,
		.tsc_deadline = vm->kvm.tsc_deadline,
		.host_7_0_ebx = vm->kvm.host_7_0_ebx,
		.host_7_0_edx = vm->kvm.host_7_0_edx,
		.host_7_1_eax = vm->kvm.host_7_1_eax,
		.host_brand = vm->kvm.host_brand,
		.hide_kvm = vm->cfg->hide_kvm,
		/* With Hyper-V the vendor id names Hyper-V (its leaf). */
		.hv_vendor_id = vm->hyperv ? NULL : vm->cfg->hv_vendor_id,
	};
	struct kvm_cpuid2 *cpuid, *merged;
	int ret;

	cpuid = cpuid_build(vm->kvm.supported_cpuid, &topo);
	if (!cpuid)
		return -ENOMEM;
	if (vm->hyperv) {
		merged = hyperv_cpuid_merge(cpuid, hv);
		free(cpuid);
		cpuid = merged;
		if (!cpuid)
			return -ENOMEM;
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (ret < 0) {
		ret = -errno;
		pr_err("KVM_SET_CPUID2 on vCPU %u: %s", vcpu->index, strerror(errno));
		return ret;
	}
	if (vm->hyperv) {
		struct hyperv_kvm k = vcpu_hyperv_kvm(vm);

		ret = hyperv_vcpu_set_msrs(&k, vcpu->fd, hv);
		if (ret)
			pr_err("vCPU %u: the Hyper-V crash MSR: %s", vcpu->index, strerror(-ret));
	}
	return ret;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index)
{
	struct cpu_topology shape = topo_or_flat(&vm->cfg->topo, vm->nr_vcpus);
	unsigned int apic_id = topo_apic_id(&shape, index);
	struct hyperv_cpuid hv;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->host_cpu = vm->cfg->nr_pin ? vm->cfg->pin[index] : -1;
	/* The vCPU id is its APIC ID (lib/topology.h); id 0 (vCPU 0) is the
	 * BSP, the others wait in the in-kernel LAPIC for INIT/SIPI. */
	vcpu->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)apic_id);
	if (vcpu->fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VCPU %u (vCPU %u): %s", apic_id, index, strerror(errno));
		return ret;
	}
	vcpu->run = mmap(NULL, (size_t)vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		pr_err("mmap of vCPU %u's kvm_run: %s", index, strerror(errno));
		goto close_fd;
	}
	ret = vcpu_hyperv_init(vcpu, &hv);
	if (ret)
		goto unmap_run;
	ret = vcpu_set_cpuid(vcpu, &hv);
	if (ret)
		goto unmap_run;
	ret = vcpu_save_reset_state(vcpu);
	if (ret) {
		pr_err("vCPU %u: cannot read its power-on state: %s", index, strerror(-ret));
		goto free_reset_state;
	}
	if (vm->kvm.has_stats) {
		ret = kvm_stats_get(&vcpu->kstats, vcpu->fd);
		if (ret)	/* then --stats leaves KVM's vCPU stats out */
			pr_debug("KVM_GET_STATS_FD on vCPU %u: %s", index, strerror(-ret));
	}
	return 0;

free_reset_state:
	vcpu_free_reset_state(vcpu);

unmap_run:
	munmap(vcpu->run, (size_t)vm->kvm.vcpu_mmap_size);
close_fd:
	close(vcpu->fd);
	vcpu->fd = -1;
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	kvm_stats_close(&vcpu->kstats);
	vcpu_free_reset_state(vcpu);
	if (vcpu->run && vcpu->run != MAP_FAILED)
		munmap(vcpu->run, (size_t)vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
	vcpu->run = NULL;
}

static void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	pr_err("vCPU %u: rip=%#llx rsp=%#llx rax=%#llx cs=%#x(base %#llx) cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
	       vcpu->index, r.rip, r.rsp, r.rax, s.cs.selector, s.cs.base,
	       s.cr0, s.cr3, s.cr4, s.efer);
}

/*
 * KVM_EXIT_IO: count > 1 for string instructions (rep ins/outs); the data
 * for all of them sits in the kvm_run page at data_offset.
 */
static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;
	struct bus *pio = &vcpu->vm->pio;

	vcpu->stats.io++;
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(pio, run->io.port, data, size);
		else
			bus_read(pio, run->io.port, data, size);
	}
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len;

	vcpu->stats.mmio++;
	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (run->mmio.is_write)
		bus_write(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

/*
 * The guest wrote CRASH_NOTIFY to HV_X64_MSR_CRASH_CTL (a Windows bugcheck:
 * code and four parameters; Linux's hyperv_report_panic: the die/panic
 * code, its guest OS id, RIP, RAX, RSP). x86 KVM passes no data with the
 * event (system_event.ndata is 0): the values are in the crash MSRs.
 */
static void vcpu_guest_crash(struct vcpu *vcpu)
{
	struct hyperv_kvm k = vcpu_hyperv_kvm(vcpu->vm);
	uint64_t p[5];
	int ret = hyperv_read_crash(&k, vcpu->fd, p);

	if (ret)
		pr_err("vCPU %u: guest crash reported (its parameters unreadable: %s)",
		       vcpu->index, strerror(-ret));
	else
		/* 0x on zeroes too: one format for whoever parses it. */
		pr_err("vCPU %u: guest crash reported: code 0x%" PRIx64 " params 0x%" PRIx64
		       " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64,
		       vcpu->index, p[0], p[1], p[2], p[3], p[4]);
	vm_request_stop(vcpu->vm, VM_STOP_GUEST_CRASH, 0);
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (vcpu->run->system_event.type == KVM_SYSTEM_EVENT_CRASH && vm->hyperv) {
		vcpu_guest_crash(vcpu);
		return;
	}
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vm, VM_STOP_POWEROFF, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vm, VM_STOP_RESET, 0);
		break;
	default:
		pr_err("vCPU %u: guest crashed (system event %u)", vcpu->index,
		       vcpu->run->system_event.type);
		vm_request_stop(vm, VM_STOP_CRASH, 0);
		break;
	}
}

/* Returns false when the loop must end. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		vcpu->stats.intr++;
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: a PC resets, and some guests reboot
		 * exactly this way. */
		pr_info("vCPU %u: triple fault, resetting", vcpu->index);
		vm_request_stop(vm, VM_STOP_RESET, 0);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	case KVM_EXIT_HYPERV:
		/* A SynIC MSR write or a VMBus hypercall (vmm/hyperv.c). */
		vcpu->stats.other++;
		hyperv_handle_exit(&run->hyperv);
		return true;
	case KVM_EXIT_HLT:
		/* Only reached without an in-kernel LAPIC; keep going. */
		vcpu->stats.other++;
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: KVM could not enter the guest (hardware reason %#llx)",
		       vcpu->index,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %u: KVM internal error, suberror %u (the guest ran something KVM cannot emulate)",
		       vcpu->index, run->internal.suberror);
		break;
	default:
		pr_err("vCPU %u: unexpected KVM exit reason %u", vcpu->index,
		       run->exit_reason);
		break;
	}
	vcpu_dump(vcpu);
	vm_request_stop(vm, VM_STOP_CRASH, 0);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	uint64_t t0;
	sigset_t set;

	vmm_thread_enter(VMM_THREAD_VCPU);
	/* Only this thread takes the kick signal; SIGINT/SIGTERM go to the
	 * main thread's signalfd. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vm_stopping(vm)) {
		vcpu->stats.exits++;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->stats.intr++;
				vcpu->run->immediate_exit = 0;
				continue;
			}
			pr_err("vCPU %u: KVM_RUN: %s", vcpu->index, strerror(errno));
			vcpu_dump(vcpu);
			vm_request_stop(vm, VM_STOP_CRASH, 0);
			break;
		}
		t0 = stats_now();
		if (!vcpu_handle_exit(vcpu))
			break;
		if (vcpu->run->exit_reason == KVM_EXIT_IO)
			stats_hist_add(&vcpu->stats.io_lat, stats_now() - t0);
		else if (vcpu->run->exit_reason == KVM_EXIT_MMIO)
			stats_hist_add(&vcpu->stats.mmio_lat, stats_now() - t0);
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int ret;

	ret = vmm_thread_attr_init(&attr);
	if (ret)
		return ret;
	if (vcpu->host_cpu >= 0) {
		/* Pin before the thread runs guest code: no migration
		 * window, and the kernel refuses offline CPUs here. */
		CPU_ZERO(&cpus);
		CPU_SET(vcpu->host_cpu, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	} else if (vmm_thread_vcpu_cpus(&cpus)) {
		/* --pin-io without --pin: anywhere but the I/O CPUs. */
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	ret = -pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (ret) {
		pr_err("cannot start vCPU %u%s: %s", vcpu->index,
		       vcpu->host_cpu >= 0 ? " on its pinned host CPU" : "",
		       strerror(-ret));
		return ret;
	}
	vcpu->started = 1;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit covers the window between the thread's stop check
	 * and its next KVM_RUN; the signal covers a thread inside KVM_RUN. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = 0;
}
