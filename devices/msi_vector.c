// SPDX-License-Identifier: MIT
/*
 * MSI/MSI-X vectors as KVM irqfds on MSI routes; msi_vector.h has the two
 * masking modes and why there are two.
 *
 * The GATED hand-off between a notifier (msi_vector_notify) and the owner
 * unmasking (msi_vector_set) needs no lock: the notifier publishes
 * pending, then re-reads blocked; the unmasker publishes !blocked, then
 * takes pending. Both use sequentially consistent atomics, so at least
 * one of them sees the other's store, and whichever clears pending
 * delivers the message: exactly once (PCI 3.0 §6.8.2.9).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/msi_vector.h"
#include "lib/log.h"

static void fd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, an interrupt is coming anyway.
	 * Nothing else can fail on an eventfd we own. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("msi: signalling an irqfd failed: %s", strerror(errno));
}

static void fd_drain(int fd)
{
	uint64_t n;

	if (fd >= 0 && read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn_once("msi: reading an eventfd failed: %s", strerror(errno));
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void msi_vector_init(struct msi_vector *v, enum msi_vector_mode mode)
{
	*v = (struct msi_vector){ .mode = mode, .fd = -1, .blocked = 1 };
}

int msi_vector_open(struct msi_vector *v)
{
	if (v->fd < 0) {
		v->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->fd < 0)
			return -errno;
	}
	return v->fd;
}

static void detach(struct msi_vector *v, const struct vm_ops *vm)
{
	int ret;

	if (!v->attached)
		return;
	/* KVM reads the counter as it lets go (eventfd_ctx_remove_wait_queue):
	 * what was signalled before this point has been delivered. */
	ret = vm->remove_irqfd(vm->vm, v->gsi, v->fd);
	if (ret)
		pr_warn_once("msi: cannot detach an irqfd from GSI %u: %s", v->gsi, strerror(-ret));
	v->attached = false;
}

/* Masked (§6.8.2.9): from now on messages are held, not sent. */
static void hold(struct msi_vector *v, const struct vm_ops *vm)
{
	if (v->mode == MSI_VECTOR_GATED)
		__atomic_store_n(&v->blocked, 1, __ATOMIC_SEQ_CST);
	else
		detach(v, vm);
}

int msi_vector_set(struct msi_vector *v, const struct vm_ops *vm, uint64_t addr,
		   uint32_t data, bool masked)
{
	unsigned int gsi;
	int ret;

	if (masked) {
		hold(v, vm);
		return 0;
	}
	ret = msi_vector_open(v);
	if (ret < 0)
		goto keep_masked;
	if (!v->routed) {
		ret = vm->add_msi_route(vm->vm, addr, data, &gsi);
		if (ret)
			goto keep_masked;
		v->gsi = gsi;
		v->routed = true;
	} else if (v->addr != addr || v->data != data) {
		/* In place: a message in flight goes to the old or the new
		 * target (vm_ops), and the irqfd need not move. */
		ret = vm->update_msi_route(vm->vm, v->gsi, addr, data);
		if (ret)
			goto keep_masked;
	}
	v->addr = addr;
	v->data = data;
	if (!v->attached) {
		/* A GATED count left here can only be a notification that
		 * raced a release (disable, reset): stale; the Pending flag
		 * holds what counts. An EXTERNAL count is the pending
		 * message, which KVM delivers as it attaches. */
		if (v->mode == MSI_VECTOR_GATED)
			fd_drain(v->fd);
		ret = vm->add_irqfd(vm->vm, v->gsi, v->fd, -1);
		if (ret)
			goto keep_masked;
		v->attached = true;
	}
	if (v->mode == MSI_VECTOR_GATED) {
		__atomic_store_n(&v->blocked, 0, __ATOMIC_SEQ_CST);
		/* §6.8.2.9: a message pending while masked goes out on unmask. */
		if (__atomic_exchange_n(&v->pending, 0, __ATOMIC_SEQ_CST))
			fd_signal(v->fd);
	}
	return 0;

keep_masked:
	hold(v, vm);
	return ret;
}

void msi_vector_release(struct msi_vector *v, const struct vm_ops *vm)
{
	int ret;

	if (v->mode == MSI_VECTOR_GATED) {
		__atomic_store_n(&v->blocked, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&v->pending, 0, __ATOMIC_SEQ_CST);
	}
	detach(v, vm);
	if (v->routed) {
		ret = vm->remove_msi_route(vm->vm, v->gsi);
		if (ret)
			pr_warn_once("msi: cannot remove MSI route %u: %s", v->gsi, strerror(-ret));
		v->routed = false;
	}
	/* The owner stopped the signaller first (VFIO_DEVICE_SET_IRQS off):
	 * what the counter holds belongs to the disabled function. */
	if (v->mode == MSI_VECTOR_EXTERNAL)
		fd_drain(v->fd);
}

void msi_vector_close(struct msi_vector *v, const struct vm_ops *vm)
{
	msi_vector_release(v, vm);
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

bool msi_vector_pending(const struct msi_vector *v)
{
	if (v->mode == MSI_VECTOR_GATED)
		return __atomic_load_n(&v->pending, __ATOMIC_SEQ_CST);
	/* Attached, KVM consumes the counter at once: nothing is held. */
	return !v->attached && fd_readable(v->fd);
}

void msi_vector_notify(struct msi_vector *v)
{
	if (v->fd < 0)
		return;
	if (v->mode == MSI_VECTOR_EXTERNAL ||
	    !__atomic_load_n(&v->blocked, __ATOMIC_SEQ_CST)) {
		fd_signal(v->fd);
		return;
	}
	__atomic_store_n(&v->pending, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&v->blocked, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&v->pending, 0, __ATOMIC_SEQ_CST))
		fd_signal(v->fd);
}
