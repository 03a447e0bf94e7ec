// SPDX-License-Identifier: MIT
/*
 * The seccomp allow-lists of a running minivmm (libseccomp), one per thread
 * type (lib/thread.h). Everything that opens devices, files or memory
 * happens before; what is left is KVM_RUN and a few KVM/VFIO ioctls, I/O
 * on fds already open, io_uring_enter on rings already set up and locked
 * down (devices/block/blk_io.c), eventfds, futexes, thread start-up and
 * exit; and, on the main thread, per option, what the control socket, the
 * pidfile and --daemonize need at run time and at exit (struct
 * seccomp_extra, each rule as narrow as seccomp can make it).
 *
 * The table below is the whole design: a row per system call, with how
 * its arguments are checked and the thread types it is allowed on;
 * seccomp_ioctls the same for ioctl request numbers.
 *
 * How threads get their filter. A filter is per thread, inherited by the
 * threads it creates, and filters stack: a thread runs under the
 * intersection of its own and its creator's. So:
 * - seccomp_prepare, before any thread but the main one exists, compiles
 *   each type's filter to BPF and sets the hook every thread calls first
 *   (vmm_thread_enter: no_new_privs, then seccomp(SET_MODE_FILTER) with
 *   its type's program; no malloc, no libseccomp). A thread started during
 *   set-up would confine itself at once and drop its capabilities (capset
 *   is per thread); none is: every thread but main starts at run time.
 * - seccomp_confine confines the main thread once the VM is set up,
 *   before the vCPUs start; no TSYNC: other threads keep their own list.
 * - Who creates whom at run time: the main thread creates the vCPU
 *   threads (at every boot, in-place reboots included); a vCPU thread
 *   creates the I/O threads (virtio-blk's at DRIVER_OK, AHCI ports at
 *   PxCMD.ST), the RTC's timer thread, the TPM's command thread (the first
 *   CTRL_START) and virtio-net's queue-pair, control-queue and vhost
 *   forwarder threads (DRIVER_OK), on the guest's register write; and
 *   virtio-net's control-queue thread starts and stops queue pairs (their
 *   threads, vhost's rings, a vector's irqfd) on the guest's VQ_PAIRS_SET,
 *   so the net type may create net threads as a vCPU does.
 *   A creator's list is therefore a superset of its children's (main ⊇
 *   vcpu ⊇ io, timer, tpm, net; the unit test checks it), and it allows what a new
 *   thread does before its own filter: clone with CLONE_THREAD (clone3
 *   fails with ENOSYS, as its flags sit in memory seccomp cannot read, and
 *   glibc falls back to clone), set_robust_list, rseq, sched_setaffinity,
 *   prctl(PR_SET_NO_NEW_PRIVS) and seccomp(SET_MODE_FILTER, 0) — which can
 *   only add restrictions. Threads that create none (io, timer, tpm) have
 *   no clone at all.
 *
 * A refused call raises SIGSYS (SECCOMP_RET_TRAP); the handler writes one
 * line naming the call (from a table resolved at seccomp_prepare: the
 * handler may not malloc), the thread type and, for an ioctl, the request,
 * and exits with SECCOMP_EXIT_VIOLATION.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <linux/vhost.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/seccomp.h"

#define M	(1u << VMM_THREAD_MAIN)
#define V	(1u << VMM_THREAD_VCPU)
#define I	(1u << VMM_THREAD_IO)
#define T	(1u << VMM_THREAD_TIMER)
#define P	(1u << VMM_THREAD_TPM)
#define N	(1u << VMM_THREAD_NET)
#define ALL	(M | V | I | T | P | N)

const struct seccomp_call seccomp_calls[] = {
	/* I/O on open fds: consoles, eventfds, disk images, flash, VFIO
	 * regions, the swtpm sockets */
	{ "read", SECCOMP_ARG_ANY, ALL },
	{ "write", SECCOMP_ARG_ANY, ALL },
	{ "readv", SECCOMP_ARG_ANY, ALL },
	{ "writev", SECCOMP_ARG_ANY, ALL },
	{ "pread64", SECCOMP_ARG_ANY, ALL },
	{ "pwrite64", SECCOMP_ARG_ANY, ALL },
	{ "preadv", SECCOMP_ARG_ANY, ALL },
	{ "pwritev", SECCOMP_ARG_ANY, ALL },
	{ "preadv2", SECCOMP_ARG_ANY, ALL },
	{ "pwritev2", SECCOMP_ARG_ANY, ALL },
	{ "lseek", SECCOMP_ARG_ANY, ALL },
	{ "close", SECCOMP_ARG_ANY, ALL },
	{ "fstat", SECCOMP_ARG_ANY, ALL },	/* stdio's first write */
	{ "newfstatat", SECCOMP_ARG_ANY, ALL },
	{ "poll", SECCOMP_ARG_ANY, ALL },	/* the swtpm transfers */
	{ "ppoll", SECCOMP_ARG_ANY, ALL },
	/* the device ioctls, each thread type's own (seccomp_ioctls) */
	{ "ioctl", SECCOMP_ARG_IOCTL, ALL },
	/* the rings, set up and restricted before (blk_io.c): no
	 * io_uring_setup nor io_uring_register after set-up */
	{ "io_uring_enter", SECCOMP_ARG_ANY, M | V | I },
	/* flash and images flushed from a device model */
	{ "fsync", SECCOMP_ARG_ANY, M | V },
	{ "fdatasync", SECCOMP_ARG_ANY, M | V },
	/* MSI and MSI-X vectors get their irqfd when the guest enables
	 * them (devices/msi_vector.c, devices/vfio/msi.c) */
	{ "eventfd2", SECCOMP_ARG_ANY, M | V | N },
	{ "timerfd_settime", SECCOMP_ARG_ANY, M | V },
	{ "timerfd_gettime", SECCOMP_ARG_ANY, M | V },
	/* the main thread's event loop and teardown */
	{ "epoll_wait", SECCOMP_ARG_ANY, M },
	{ "epoll_pwait", SECCOMP_ARG_ANY, M },
	{ "epoll_ctl", SECCOMP_ARG_ANY, M },
	{ "select", SECCOMP_ARG_ANY, M },
	{ "pselect6", SECCOMP_ARG_ANY, M },
	{ "fcntl", SECCOMP_ARG_ANY, M },
	{ "dup", SECCOMP_ARG_ANY, M },
	{ "timerfd_create", SECCOMP_ARG_ANY, M },
	/* disk images let go of their locks at exit (blk_io.c) */
	{ "flock", SECCOMP_ARG_ANY, M },
	{ "rt_sigaction", SECCOMP_ARG_ANY, M },

	/* --tpm: the swtpm minivmm started is reaped at exit, killed if it
	 * hangs; both only reach processes minivmm holds a pidfd of */
	{ "waitid", SECCOMP_ARG_ANY, M },
	{ "pidfd_send_signal", SECCOMP_ARG_ANY, M },
	/* memory: malloc arenas, thread stacks, BAR remaps; never executable */
	{ "mmap", SECCOMP_ARG_NO_EXEC, ALL },
	{ "mprotect", SECCOMP_ARG_NO_EXEC, ALL },
	{ "munmap", SECCOMP_ARG_ANY, ALL },
	{ "madvise", SECCOMP_ARG_ANY, ALL },
	{ "brk", SECCOMP_ARG_ANY, ALL },
	{ "mremap", SECCOMP_ARG_ANY, ALL },
	/* threads: synchronisation, and their start in the creator's filter */
	{ "futex", SECCOMP_ARG_ANY, ALL },
	{ "set_robust_list", SECCOMP_ARG_ANY, ALL },
	{ "rseq", SECCOMP_ARG_ANY, ALL },
	{ "gettid", SECCOMP_ARG_ANY, ALL },
	{ "getpid", SECCOMP_ARG_ANY, ALL },
	{ "tgkill", SECCOMP_ARG_OWN_TGID, ALL },	/* vCPU kicks, abort() */
	{ "sched_yield", SECCOMP_ARG_ANY, ALL },
	{ "clone", SECCOMP_ARG_CLONE_THREAD, M | V | N },
	{ "clone3", SECCOMP_ARG_ENOSYS, M | V | N },
	{ "sched_getaffinity", SECCOMP_ARG_ANY, M | V | N },
	{ "sched_setaffinity", SECCOMP_ARG_ANY, M | V | N },
	{ "membarrier", SECCOMP_ARG_ANY, M | V | N },
	{ "prctl", SECCOMP_ARG_NNP, M | V | N },
	/* a virtio-blk I/O thread, before it confines itself (its
	 * creator's filter): no real-time policy, no other thread's */
	{ "sched_setscheduler", SECCOMP_ARG_SCHED_BATCH, M | V | I },
	{ "seccomp", SECCOMP_ARG_FILTER, M | V | N },
	/* signals and time */
	{ "rt_sigprocmask", SECCOMP_ARG_ANY, ALL },
	{ "rt_sigreturn", SECCOMP_ARG_ANY, ALL },
	/* sanitizer builds set a signal stack per thread, and take it
	 * down at the thread's exit */
	{ "sigaltstack", SECCOMP_ARG_ANY, ALL },
	{ "restart_syscall", SECCOMP_ARG_ANY, ALL },
	{ "clock_gettime", SECCOMP_ARG_ANY, ALL },
	{ "clock_nanosleep", SECCOMP_ARG_ANY, ALL },
	{ "nanosleep", SECCOMP_ARG_ANY, ALL },
	{ "gettimeofday", SECCOMP_ARG_ANY, ALL },
	{ "getrandom", SECCOMP_ARG_ANY, ALL },
	/* leaving */
	{ "exit", SECCOMP_ARG_ANY, ALL },
	{ "exit_group", SECCOMP_ARG_ANY, ALL },
};
const size_t seccomp_nr_calls = sizeof(seccomp_calls) / sizeof(seccomp_calls[0]);

#define IOCTL(req, types)	{ #req, req, types }

const struct seccomp_ioctl seccomp_ioctls[] = {
	/* the vCPU loop (vmm/vcpu.c): its register dump on a crash, ... */
	IOCTL(KVM_RUN, M | V),
	IOCTL(KVM_GET_REGS, M | V),
	IOCTL(KVM_GET_SREGS, M | V),
	/* a guest's crash report through the Hyper-V crash MSRs (vmm/hyperv.c) */
	IOCTL(KVM_GET_MSRS, M | V),
	/* interrupts, from wherever a device raises one (devices/irq.c) */
	IOCTL(KVM_IRQ_LINE, ALL),
	IOCTL(KVM_SIGNAL_MSI, ALL),
	/* device models behind a vCPU exit: MSI/MSI-X routes and irqfds,
	 * virtio notify eventfds, BAR moves, a passed device's interrupts
	 * and resets (devices/vfio/) */
	IOCTL(KVM_IOEVENTFD, M | V),
	IOCTL(KVM_IRQFD, M | V | N),
	IOCTL(KVM_SET_GSI_ROUTING, M | V | N),
	IOCTL(KVM_SET_USER_MEMORY_REGION, M | V),
	IOCTL(VFIO_DEVICE_SET_IRQS, M | V),
	IOCTL(VFIO_DEVICE_RESET, M | V),
	IOCTL(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, M | V),
	IOCTL(VFIO_DEVICE_PCI_HOT_RESET, M | V),
	IOCTL(VFIO_DEVICE_GET_REGION_INFO, M | V),
	IOCTL(VFIO_DEVICE_GET_IRQ_INFO, M | V),
	/* virtio-net (devices/virtio/net.c): the tap's offloads follow the
	 * features the driver accepted, and its queues the pairs in use
	 * (DRIVER_OK, a reset, the control queue's VQ_PAIRS_SET) */
	IOCTL(TUNSETOFFLOAD, M | V),
	IOCTL(TUNSETQUEUE, M | V | N),
	/* vhost-net (devices/virtio/vhost_net.c): rings handed over at
	 * DRIVER_OK or the control queue's VQ_PAIRS_SET, taken back at a
	 * reset, the call fd moved with the queue's MSI-X vector;
	 * /dev/vhost-net opened and owned at set-up */
	IOCTL(VHOST_SET_FEATURES, M | V | N),
	IOCTL(VHOST_SET_MEM_TABLE, M | V | N),
	IOCTL(VHOST_SET_VRING_NUM, M | V | N),
	IOCTL(VHOST_SET_VRING_BASE, M | V | N),
	IOCTL(VHOST_GET_VRING_BASE, M | V | N),
	IOCTL(VHOST_SET_VRING_ADDR, M | V | N),
	IOCTL(VHOST_SET_VRING_KICK, M | V | N),
	IOCTL(VHOST_SET_VRING_CALL, M | V | N),
	IOCTL(VHOST_NET_SET_BACKEND, M | V | N),
	/* in-place reboot (vm_reboot: kvm_reset_irqchip, vcpu_reset) */
	IOCTL(KVM_SET_IRQCHIP, M),
	IOCTL(KVM_SET_PIT2, M),
	IOCTL(KVM_SET_REGS, M),
	IOCTL(KVM_SET_SREGS, M),
	IOCTL(KVM_SET_FPU, M),
	IOCTL(KVM_SET_XSAVE, M),
	IOCTL(KVM_SET_XCRS, M),
	IOCTL(KVM_SET_MSRS, M),
	IOCTL(KVM_SET_MP_STATE, M),
	IOCTL(KVM_SET_LAPIC, M),
	IOCTL(KVM_SET_VCPU_EVENTS, M),
	IOCTL(KVM_SET_DEBUGREGS, M),
	/* teardown: DMA maps and groups let go (devices/vfio/container.c) */
	IOCTL(VFIO_IOMMU_UNMAP_DMA, M),
	IOCTL(VFIO_GROUP_UNSET_CONTAINER, M),
	/* ... and KVM's VFIO device (KVM_DEV_VFIO_GROUP_DEL, vmm/kvm.c) */
	IOCTL(KVM_SET_DEVICE_ATTR, M),
	/* the terminal back to how it was (vm.c, terminal_restore) */
	IOCTL(TCGETS, M),
	IOCTL(TCSETS, M),
};
const size_t seccomp_nr_ioctls = sizeof(seccomp_ioctls) / sizeof(seccomp_ioctls[0]);

static const char *const thread_names[VMM_THREAD_TYPES] = {
	[VMM_THREAD_MAIN] = "main",
	[VMM_THREAD_VCPU] = "vcpu",
	[VMM_THREAD_IO] = "io",
	[VMM_THREAD_TIMER] = "timer",
	[VMM_THREAD_TPM] = "tpm",
	[VMM_THREAD_NET] = "net",
};

const char *seccomp_thread_name(enum vmm_thread_type type)
{
	return (unsigned int)type < VMM_THREAD_TYPES ? thread_names[type] : "unknown";
}

/* ---- the SIGSYS handler --------------------------------------------------- */

#define NR_NAMES	512

/* Resolved at seccomp_prepare: libseccomp's look-up mallocs. */
static const char *syscall_names[NR_NAMES];
/* The calling thread's type, for the message (-1: not yet confined). */
static __thread int thread_type = -1;

struct line {
	char buf[400];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, unsigned long v, unsigned int base)
{
	char tmp[24];
	int n = 0;

	if (base == 16)
		put(l, "0x");
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[--n];
}

/* Async-signal-safe: no stdio, no malloc, only write and _exit. */
static void seccomp_violation(int sig, siginfo_t *si, void *uctx)
{
	unsigned int nr = (unsigned int)si->si_syscall;
	const char *name = nr < NR_NAMES ? syscall_names[nr] : NULL;
	struct line l = { .len = 0 };
#ifdef __x86_64__
	const greg_t *regs = ((const ucontext_t *)uctx)->uc_mcontext.gregs;
#endif

	put(&l, "minivmm: seccomp: the ");
	put(&l, thread_type >= 0 ? thread_names[thread_type] : "unconfined");
	put(&l, " thread made system call ");
	put(&l, name ? name : "?");
	put(&l, " (");
	put_num(&l, nr, 10);
	put(&l, ")");
#ifdef __x86_64__
	/* The arguments in the registers of the trapped call. */
	if (nr == __NR_ioctl) {
		put(&l, " request ");
		put_num(&l, (unsigned long)regs[REG_RSI], 16);
	} else if (nr == __NR_clone) {
		put(&l, " flags ");
		put_num(&l, (unsigned long)regs[REG_RDI], 16);
	} else if (nr == __NR_mmap || nr == __NR_mprotect || nr == __NR_prctl) {
		put(&l, " argument ");
		put_num(&l, (unsigned long)regs[nr == __NR_prctl ? REG_RDI : REG_RDX], 16);
	}
#endif
	put(&l, ", which that thread's allow-list refuses: minivmm stops. "
		"Unless this is a test (--test-forbidden), rerun with --seccomp off and report this line.\n");
	if (write(STDERR_FILENO, l.buf, l.len) < 0)
		_exit(SECCOMP_EXIT_VIOLATION);
	_exit(SECCOMP_EXIT_VIOLATION);
}

int caps_drop_all(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		pr_err("dropping capabilities: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void seccomp_extra_init(struct seccomp_extra *x)
{
	x->accept_fd = -1;
	for (unsigned int i = 0; i < SECCOMP_MAX_UNLINK_DIRS; i++)
		x->unlink_dir_fd[i] = -1;
	x->dup_stdio = false;
}

/* ---- building the filters ------------------------------------------------- */

/* The rules of struct seccomp_extra, each with its arguments pinned down
 * as far as seccomp can see them (pointers it cannot follow). */
static int seccomp_add_extra(scmp_filter_ctx ctx, const struct seccomp_extra *x)
{
	int ret = 0;

	if (x->accept_fd >= 0) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x->accept_fd));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvfrom), 0);
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 0);
	}
	for (unsigned int i = 0; !ret && i < SECCOMP_MAX_UNLINK_DIRS; i++)
		if (x->unlink_dir_fd[i] >= 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 2,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)x->unlink_dir_fd[i]),
					       SCMP_A2(SCMP_CMP_EQ, 0));
	if (!ret && x->dup_stdio)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(dup3), 2,
				       SCMP_A1(SCMP_CMP_LE, STDERR_FILENO), SCMP_A2(SCMP_CMP_EQ, 0));
	return ret;
}

static int add_call(scmp_filter_ctx ctx, const struct seccomp_call *c, int nr,
		    enum vmm_thread_type type)
{
	const uint64_t thread = CLONE_THREAD | CLONE_VM | CLONE_SIGHAND;
	int ret = 0;

	switch (c->arg) {
	case SECCOMP_ARG_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case SECCOMP_ARG_IOCTL:
		for (size_t i = 0; !ret && i < seccomp_nr_ioctls; i++)
			if (seccomp_ioctls[i].types & (1u << type))
				ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
						       SCMP_A1(SCMP_CMP_EQ, seccomp_ioctls[i].request));
		return ret;
	case SECCOMP_ARG_CLONE_THREAD:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ, thread, thread));
	case SECCOMP_ARG_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	case SECCOMP_ARG_NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case SECCOMP_ARG_NNP:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
	case SECCOMP_ARG_FILTER:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2,
					SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
					SCMP_A1(SCMP_CMP_EQ, 0));
	case SECCOMP_ARG_OWN_TGID:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	case SECCOMP_ARG_SCHED_BATCH:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_A0(SCMP_CMP_EQ, 0),
					SCMP_A1(SCMP_CMP_EQ, SCHED_BATCH));
	}
	return -EINVAL;
}

/* type's filter, with extra on the main thread's (may be NULL). */
static scmp_filter_ctx build(enum vmm_thread_type type, const struct seccomp_extra *extra)
{
	/* SIGSYS with the call's number, so the message can name it. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret = 0;

	if (!ctx)
		return NULL;
	for (size_t i = 0; !ret && i < seccomp_nr_calls; i++) {
		int nr = seccomp_syscall_resolve_name(seccomp_calls[i].name);

		if (nr == __NR_SCMP_ERROR || !(seccomp_calls[i].types & (1u << type)))
			continue;	/* not on this architecture, or not this thread's */
		ret = add_call(ctx, &seccomp_calls[i], nr, type);
	}
	if (!ret && extra && type == VMM_THREAD_MAIN)
		ret = seccomp_add_extra(ctx, extra);
	/* no_new_privs is set by the thread itself (install). */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- per-thread installation ---------------------------------------------- */

static struct sock_fprog progs[VMM_THREAD_TYPES];
static bool prepared, main_confined;
static struct seccomp_test test;
static bool test_fired;

/* The BPF program of ctx, in memory (libseccomp 2.5 only exports to an fd). */
static int export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("minivmm-seccomp", MFD_CLOEXEC);
	off_t size;
	int ret;

	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	size = ret ? -1 : lseek(fd, 0, SEEK_END);
	if (!ret && (size <= 0 || size % sizeof(struct sock_filter)))
		ret = -EINVAL;
	if (!ret) {
		prog->filter = malloc((size_t)size);
		prog->len = (unsigned short)(size / sizeof(struct sock_filter));
		if (!prog->filter)
			ret = -ENOMEM;
		else if (pread(fd, prog->filter, (size_t)size, 0) != size)
			ret = -EIO;
	}
	close(fd);
	return ret;
}

static int install(enum vmm_thread_type type, const struct sock_fprog *prog)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))
		return -errno;
	thread_type = (int)type;
	return 0;
}

static void test_uring_done(int res)
{
	if (res == -EACCES) {
		pr_err("test-forbidden io:uring-openat: the ring refused the openat SQE (EACCES), as it must");
		_exit(SECCOMP_EXIT_URING_REFUSED);
	}
	pr_err("test-forbidden io:uring-openat: the openat SQE was not refused (result %d): the ring is not restricted",
	       res);
	_exit(1);
}

/* The test mode: the forbidden call, on the thread just confined. */
static void test_forbidden(enum vmm_thread_type type)
{
	static const char *const argv[] = { "/bin/true", NULL };
	const char *what = "?";

	if (test.call == SECCOMP_TEST_NONE || test.call == SECCOMP_TEST_URING_OPENAT ||
	    test.thread != type || __atomic_exchange_n(&test_fired, true, __ATOMIC_ACQ_REL))
		return;
	pr_info("test-forbidden: the %s thread makes a forbidden call", thread_names[type]);
	switch (test.call) {
	case SECCOMP_TEST_OPENAT:
		what = "openat";
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
		break;
	case SECCOMP_TEST_EXECVE:
		what = "execve";
		syscall(SYS_execve, argv[0], argv, NULL);
		break;
	case SECCOMP_TEST_IOCTL:
		/* TIOCSTI: typing into the terminal, the classic one. */
		what = "ioctl";
		syscall(SYS_ioctl, -1, TIOCSTI, "x");
		break;
	default:
		break;
	}
	pr_err("test-forbidden: %s went through on the %s thread: its filter does not refuse it",
	       what, thread_names[type]);
	_exit(1);
}

int seccomp_enter(enum vmm_thread_type type)
{
	if ((unsigned int)type >= VMM_THREAD_TYPES || !progs[type].filter)
		return -EINVAL;
	/* A thread started during set-up holds the capabilities the main
	 * thread had; capset is per thread. Later ones inherit none. */
	if (!__atomic_load_n(&main_confined, __ATOMIC_ACQUIRE) && caps_drop_all())
		return -EPERM;
	return install(type, &progs[type]);
}

static void thread_hook(enum vmm_thread_type type)
{
	int ret = seccomp_enter(type);

	if (ret) {
		pr_err("seccomp: cannot confine a new %s thread: %s (run with --seccomp off)",
		       seccomp_thread_name(type), strerror(-ret));
		_exit(1);
	}
	test_forbidden(type);
}

int seccomp_test_parse(const char *spec, struct seccomp_test *t)
{
	static const char *const calls[] = {
		[SECCOMP_TEST_OPENAT] = "openat", [SECCOMP_TEST_EXECVE] = "execve",
		[SECCOMP_TEST_IOCTL] = "ioctl", [SECCOMP_TEST_URING_OPENAT] = "uring-openat",
	};
	const char *colon = strchr(spec, ':');

	memset(t, 0, sizeof(*t));
	for (int i = 0; colon && i < VMM_THREAD_TYPES; i++)
		if (strlen(thread_names[i]) == (size_t)(colon - spec) &&
		    !strncmp(spec, thread_names[i], (size_t)(colon - spec)))
			t->thread = (enum vmm_thread_type)i + 1;	/* +1: found */
	for (unsigned int i = 1; colon && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(colon + 1, calls[i]))
			t->call = (enum seccomp_test_call)i;
	if (!t->thread || !t->call ||
	    (t->call == SECCOMP_TEST_URING_OPENAT && t->thread - 1 != VMM_THREAD_IO)) {
		pr_err("--test-forbidden '%s': give THREAD:CALL, THREAD main, vcpu, io, timer, tpm or net, "
		       "CALL openat, execve, ioctl, or uring-openat (io only)", spec);
		memset(t, 0, sizeof(*t));
		return -EINVAL;
	}
	t->thread = (enum vmm_thread_type)(t->thread - 1);
	return 0;
}

int seccomp_prepare(const struct seccomp_test *t)
{
	struct sigaction sa = { .sa_sigaction = seccomp_violation, .sa_flags = SA_SIGINFO };
	int ret = 0;

	if (prepared)
		return 0;
	for (int nr = 0; nr < NR_NAMES; nr++)
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	/* glibc sizes its malloc arena limit lazily, on the first malloc of
	 * a thread once there are more than 8 arenas, by opening
	 * /sys/devices/system/cpu/online: with many vCPUs and I/O threads
	 * that happens after confinement and openat is (rightly) not
	 * allowed. A fixed limit skips that look-up. */
	mallopt(M_ARENA_MAX, 8);
	for (int type = VMM_THREAD_VCPU; !ret && type < VMM_THREAD_TYPES; type++) {
		scmp_filter_ctx ctx = build((enum vmm_thread_type)type, NULL);

		ret = ctx ? export(ctx, &progs[type]) : -ENOMEM;
		seccomp_release(ctx);
	}
	if (ret) {
		pr_err("seccomp: cannot build the filters: %s (run with --seccomp off)", strerror(-ret));
		return ret;
	}
	if (t)
		test = *t;
	if (test.call == SECCOMP_TEST_URING_OPENAT)
		vmm_thread_set_uring_test(test_uring_done);
	prepared = true;
	vmm_thread_set_enter_hook(thread_hook);
	return 0;
}

int seccomp_confine(const struct seccomp_extra *extra)
{
	scmp_filter_ctx ctx;
	int ret;

	ret = seccomp_prepare(NULL);
	if (ret)
		return ret;
	ctx = build(VMM_THREAD_MAIN, extra);
	if (!ctx) {
		pr_err("seccomp: cannot create the main thread's filter (libseccomp)");
		return -ENOMEM;
	}
	ret = export(ctx, &progs[VMM_THREAD_MAIN]);
	seccomp_release(ctx);
	if (!ret)
		ret = install(VMM_THREAD_MAIN, &progs[VMM_THREAD_MAIN]);
	if (ret) {
		pr_err("seccomp: cannot install the filter: %s (run with --seccomp off)", strerror(-ret));
		return ret;
	}
	__atomic_store_n(&main_confined, true, __ATOMIC_RELEASE);
	test_forbidden(VMM_THREAD_MAIN);
	return 0;
}
