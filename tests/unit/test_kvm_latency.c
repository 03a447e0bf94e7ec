// SPDX-License-Identifier: MIT
/*
 * vmm/kvm_latency.c against a fake ioctl(2): the sequence of
 * KVM_CHECK_EXTENSION and KVM_ENABLE_CAP calls on the VM fd for
 * --halt-poll and --cpu-pm, what each asks for, and the refusals when the
 * host lacks a capability or KVM_ENABLE_CAP fails (nothing after a refusal).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/kvm_latency.h"

#define VM_FD	77
#define MAX_CALLS	8

struct call {
	unsigned long req;
	unsigned long ext;		/* KVM_CHECK_EXTENSION's argument */
	struct kvm_enable_cap cap;	/* KVM_ENABLE_CAP's */
};

static struct {
	int halt_poll;			/* CHECK_EXTENSION answers */
	int disable_exits;
	int enable_errno;		/* KVM_ENABLE_CAP fails with this */
	struct call calls[MAX_CALLS];
	unsigned int n;
} fk;

static int fake_ioctl(int fd, unsigned long req, unsigned long arg)
{
	struct call *c = &fk.calls[fk.n];

	assert_int_equal(fd, VM_FD);
	assert_true(fk.n < MAX_CALLS);
	fk.n++;
	*c = (struct call){ .req = req };
	if (req == KVM_CHECK_EXTENSION) {
		c->ext = arg;
		return arg == KVM_CAP_HALT_POLL ? fk.halt_poll :
		       arg == KVM_CAP_X86_DISABLE_EXITS ? fk.disable_exits : 0;
	}
	assert_int_equal(req, KVM_ENABLE_CAP);
	memcpy(&c->cap, (const void *)arg, sizeof(c->cap));
	if (fk.enable_errno) {
		errno = fk.enable_errno;
		return -1;
	}
	return 0;
}

static int reset(void **state)
{
	memset(&fk, 0, sizeof(fk));
	fk.halt_poll = 1;
	fk.disable_exits = KVM_X86_DISABLE_EXITS_MWAIT | KVM_X86_DISABLE_EXITS_HLT |
			   KVM_X86_DISABLE_EXITS_PAUSE | KVM_X86_DISABLE_EXITS_CSTATE;
	return 0;
}

static void test_nothing_asked(void **state)
{
	struct kvm_latency l = { .halt_poll_ns = -1 };
	uint32_t dis = 99;

	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.n, 0);	/* the defaults touch nothing */
	assert_int_equal(dis, 0);
}

static void test_halt_poll(void **state)
{
	struct kvm_latency l = { .halt_poll_ns = 0 };
	uint32_t dis;

	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.n, 2);
	assert_int_equal(fk.calls[0].req, KVM_CHECK_EXTENSION);
	assert_int_equal(fk.calls[0].ext, KVM_CAP_HALT_POLL);
	assert_int_equal(fk.calls[1].req, KVM_ENABLE_CAP);
	assert_int_equal(fk.calls[1].cap.cap, KVM_CAP_HALT_POLL);
	assert_int_equal(fk.calls[1].cap.args[0], 0);
	assert_int_equal(dis, 0);

	reset(state);
	l.halt_poll_ns = 4294967295LL;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.calls[1].cap.args[0], 4294967295ULL);

	/* a kernel without it (before 5.15) */
	reset(state);
	fk.halt_poll = 0;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), -ENOTSUP);
	assert_int_equal(fk.n, 1);
	/* KVM_ENABLE_CAP refused */
	reset(state);
	fk.enable_errno = EINVAL;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), -EINVAL);
}

static void test_cpu_pm(void **state)
{
	struct kvm_latency l = { .halt_poll_ns = 100, .cpu_pm = true };
	uint32_t dis;

	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.n, 4);	/* halt poll first, then the exits */
	assert_int_equal(fk.calls[2].req, KVM_CHECK_EXTENSION);
	assert_int_equal(fk.calls[2].ext, KVM_CAP_X86_DISABLE_EXITS);
	assert_int_equal(fk.calls[3].req, KVM_ENABLE_CAP);
	assert_int_equal(fk.calls[3].cap.cap, KVM_CAP_X86_DISABLE_EXITS);
	assert_int_equal(fk.calls[3].cap.args[0], 0xf);
	assert_int_equal(dis, 0xf);

	/* A host whose MWAIT does not work in a guest: the rest only. */
	reset(state);
	l.halt_poll_ns = -1;
	fk.disable_exits = KVM_X86_DISABLE_EXITS_HLT | KVM_X86_DISABLE_EXITS_PAUSE |
			   KVM_X86_DISABLE_EXITS_CSTATE;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.n, 2);
	assert_int_equal(fk.calls[1].cap.args[0], fk.disable_exits);
	assert_int_equal(dis, (uint32_t)fk.disable_exits);
	/* A future bit KVM reports is not asked for. */
	reset(state);
	fk.disable_exits |= 1 << 7;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), 0);
	assert_int_equal(fk.calls[1].cap.args[0], 0xf);
	/* None allowed, or the capability missing: refused, nothing enabled. */
	reset(state);
	fk.disable_exits = 0;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), -ENOTSUP);
	assert_int_equal(fk.n, 1);
	assert_int_equal(dis, 0);
	reset(state);
	fk.disable_exits = 1 << 7;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), -ENOTSUP);
	/* vCPUs already created: KVM says EINVAL */
	reset(state);
	fk.enable_errno = EINVAL;
	assert_int_equal(kvm_latency_apply(VM_FD, &l, fake_ioctl, &dis), -EINVAL);
	assert_int_equal(dis, 0);
}

static void test_names(void **state)
{
	char buf[64];

	assert_string_equal(kvm_disable_exits_names(0xf, buf, sizeof(buf)), "HLT MWAIT PAUSE CSTATE");
	assert_string_equal(kvm_disable_exits_names(KVM_X86_DISABLE_EXITS_PAUSE, buf, sizeof(buf)), "PAUSE");
	assert_string_equal(kvm_disable_exits_names(0, buf, sizeof(buf)), "none");
	assert_string_equal(kvm_disable_exits_names(0xf, buf, 10), "HLT MWAIT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_nothing_asked, reset),
		cmocka_unit_test_setup(test_halt_poll, reset),
		cmocka_unit_test_setup(test_cpu_pm, reset),
		cmocka_unit_test_setup(test_names, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
