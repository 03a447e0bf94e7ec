// SPDX-License-Identifier: MIT
/*
 * Interrupts of a passed function: INTx, MSI and MSI-X, one at a time
 * (VFIO enables one IRQ index at a time; so does a PCI function).
 *
 * Every MSI and MSI-X vector is a struct msi_vector (devices/msi_vector.h)
 * in MSI_VECTOR_EXTERNAL mode: VFIO signals its eventfd
 * (VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER), which is a KVM irqfd on an MSI
 * route with the guest's address/data while the guest has the vector
 * unmasked, so the interrupt goes device -> host IRQ -> eventfd -> KVM ->
 * vCPU without minivmm. Masking detaches the irqfd and the eventfd's
 * counter holds the Pending bit (PCI 3.0 §6.8.1.8, §6.8.2.10).
 *
 * The guest's MSI-X table, PBA and Enable/Function Mask are emulated by
 * devices/msix.c; what only VFIO needs sits here as its hooks: asking the
 * host for vectors (all at enable, or more on demand when the host is
 * short, NORESIZE included), giving them back at disable, and switching
 * the function between INTx, MSI and MSI-X. The device's own MSI-X table
 * is programmed by the host kernel with host vectors.
 *
 * INTx is level-triggered: VFIO masks the line when it fires, KVM raises
 * the GSI through a resampling irqfd, and the guest's EOI makes KVM signal
 * the resample eventfd, which unmasks the line in VFIO (ACTION_UNMASK
 * bound to an eventfd) — again without minivmm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"
#include "lib/trace.h"

/* VFIO_DEVICE_SET_IRQS with eventfds (fds NULL, count 0: disable the index). */
static int set_irqs(struct vfio_pci *v, unsigned int index, uint32_t action,
		    unsigned int start, unsigned int count, const int *fds)
{
	size_t size = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, size);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)size;
	set->flags = action | (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	set->index = index;
	set->start = start;
	set->count = count;
	for (unsigned int i = 0; i < count; i++) {
		int32_t fd = fds[i];

		memcpy(set->data + i * sizeof(int32_t), &fd, sizeof(fd));
	}
	ret = v->ops->set_irqs(v->ops->ctx, v->fd, set);
	free(set);
	if (trace_on(TRACE_VFIO))
		vfio_trace_set_irqs(v, index, action, start, count, ret);
	return ret;
}

static int irqs_disable(struct vfio_pci *v, unsigned int index)
{
	return set_irqs(v, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
}

/* ---- INTx ---------------------------------------------------------------------- */

static void intx_enable(struct vfio_pci *v)
{
	struct vfio_intx *ix = &v->intx;
	const struct vm_ops *vm = v->vm;
	int ret;

	if (!ix->present || ix->enabled || ix->gsi < 0)
		return;
	ret = set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &ix->efd);
	if (!ret)
		ret = set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
			       &ix->resample_fd);
	if (!ret)
		ret = vm->add_irqfd(vm->vm, (unsigned int)ix->gsi, ix->efd, ix->resample_fd);
	if (trace_on(TRACE_VFIO))
		vfio_trace_intx(v, true, ret);
	if (ret) {
		pr_warn_once("vfio: %s: cannot wire INTx to GSI %d: %s", v->bdf, ix->gsi,
			     strerror(-ret));
		irqs_disable(v, VFIO_PCI_INTX_IRQ_INDEX);
		return;
	}
	ix->enabled = true;
}

static void intx_disable(struct vfio_pci *v)
{
	struct vfio_intx *ix = &v->intx;

	if (!ix->enabled)
		return;
	if (trace_on(TRACE_VFIO))
		vfio_trace_intx(v, false, 0);
	/* KVM lowers the line when the last resampler of a GSI goes. */
	v->vm->remove_irqfd(v->vm->vm, (unsigned int)ix->gsi, ix->efd);
	irqs_disable(v, VFIO_PCI_INTX_IRQ_INDEX);
	ix->enabled = false;
}

void vfio_intx_start(struct vfio_pci *v)
{
	int gsi = v->intx.present ? pci_dev_intx_gsi(&v->dev) : -1;

	pthread_mutex_lock(&v->irq_lock);
	v->intx.gsi = gsi < 0 ? -1 : gsi;
	if (v->intx.present && gsi < 0)
		pr_debug("vfio: %s: no GSI for its INTx pin: INTx unused", v->bdf);
	if (!v->msi.nvec && !msix_enabled(&v->msix.emu))
		intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
}

/* ---- MSI (PCI 3.0 §6.8.1) ---------------------------------------------------- */

/* msi_vector_release, traced. */
static void msi_vec_release(struct vfio_pci *v, unsigned int i)
{
	struct msi_vector before = v->msi.vec[i];

	msi_vector_release(&v->msi.vec[i], v->vm);
	if (trace_on(TRACE_VFIO))
		vfio_trace_vector(v, "msi", i, &before, &v->msi.vec[i]);
}

/* msi_vector_set, traced. */
static int msi_vec_set(struct vfio_pci *v, unsigned int i, uint64_t addr, uint32_t data,
		       bool masked)
{
	struct msi_vector before = v->msi.vec[i];
	int ret = msi_vector_set(&v->msi.vec[i], v->vm, addr, data, masked);

	if (trace_on(TRACE_VFIO))
		vfio_trace_vector(v, "msi", i, &before, &v->msi.vec[i]);
	return ret;
}

static void msi_disable(struct vfio_pci *v)
{
	struct vfio_msi *m = &v->msi;

	if (!m->nvec)
		return;
	/* The device stops signalling first, so that what its eventfds
	 * still hold is stale and goes with the release. */
	irqs_disable(v, VFIO_PCI_MSI_IRQ_INDEX);
	for (unsigned int i = 0; i < m->nvec; i++)
		msi_vec_release(v, i);
	m->nvec = 0;
}

/* irq_lock held, MSI off: give VFIO nvec vectors, INTx off meanwhile. */
static int msi_enable(struct vfio_pci *v, unsigned int nvec)
{
	int fds[VFIO_MSI_MAX_VECTORS];
	int ret;

	for (unsigned int i = 0; i < nvec; i++) {
		fds[i] = msi_vector_open(&v->msi.vec[i]);
		if (fds[i] < 0)
			return fds[i];
	}
	intx_disable(v);
	ret = set_irqs(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, nvec, fds);
	if (ret) {
		intx_enable(v);
		return ret;
	}
	v->msi.nvec = nvec;
	return 0;
}

void vfio_msi_update(struct vfio_pci *v)
{
	struct vfio_msi *m = &v->msi;
	const uint8_t *cfg = v->dev.config;
	uint16_t flags = pci_get16(cfg, m->cap + PCI_MSI_FLAGS);
	unsigned int nvec = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
	uint64_t addr;
	uint32_t data, mask;
	int ret;

	if (nvec > m->max_vec)
		nvec = m->max_vec;
	pthread_mutex_lock(&v->irq_lock);
	/* Software must not enable MSI and MSI-X together (§6.8.2): MSI-X,
	 * enabled first, keeps the function. */
	if (!(flags & PCI_MSI_FLAGS_ENABLE) || msix_enabled(&v->msix.emu)) {
		if (m->nvec) {
			msi_disable(v);
			intx_enable(v);
		}
		goto out_unlock;
	}
	/* Multiple Message Enable changed while enabled: start over. */
	if (m->nvec && m->nvec != nvec)
		msi_disable(v);
	if (!m->nvec) {
		ret = msi_enable(v, nvec);
		if (ret) {
			pr_warn_once("vfio: %s: cannot enable %u MSI vector(s): %s", v->bdf, nvec,
				     strerror(-ret));
			goto out_unlock;
		}
	}
	addr = pci_get32(cfg, m->cap + PCI_MSI_ADDRESS_LO);
	if (m->is64)
		addr |= (uint64_t)pci_get32(cfg, m->cap + PCI_MSI_ADDRESS_LO + 4) << 32;
	data = pci_get16(cfg, m->data_off);
	mask = m->pvm ? pci_get32(cfg, m->mask_off) : 0;
	/* With n messages the function sets the low log2(n) data bits to
	 * the vector number (§6.8.1.6). */
	for (unsigned int i = 0; i < m->nvec; i++) {
		ret = msi_vec_set(v, i, addr, (data & ~(m->nvec - 1)) | i, mask & (1u << i));
		if (ret)
			pr_warn_once("vfio: %s: KVM cannot route MSI vector %u: %s (it stays masked)",
				     v->bdf, i, strerror(-ret));
	}
out_unlock:
	pthread_mutex_unlock(&v->irq_lock);
}

uint32_t vfio_msi_pending(struct vfio_pci *v)
{
	uint32_t pending = 0;

	pthread_mutex_lock(&v->irq_lock);
	for (unsigned int i = 0; i < v->msi.nvec; i++)
		if (msi_vector_pending(&v->msi.vec[i]))
			pending |= 1u << i;
	pthread_mutex_unlock(&v->irq_lock);
	return pending;
}

/* ---- MSI-X (PCI 3.0 §6.8.2): the hooks of devices/msix.c ------------------- */

/* Table lock held. Give VFIO vectors [0, count); -errno if the host cannot. */
static int msix_hw_set(struct vfio_pci *v, unsigned int count)
{
	struct vfio_msix *x = &v->msix;
	int *fds = calloc(count, sizeof(*fds));
	unsigned int start = 0;
	int ret;

	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		fds[i] = msix_vector_eventfd(&x->emu, i);
		if (fds[i] < 0) {
			ret = fds[i];
			goto free_fds;
		}
	}
	if (x->hw_count) {
		/* Growing: an index that cannot be resized must be turned
		 * off and on again (the NORESIZE flag of vfio.h). */
		if (x->noresize)
			irqs_disable(v, VFIO_PCI_MSIX_IRQ_INDEX);
		else
			start = x->hw_count;
	}
	ret = set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, start,
		       count - start, fds + start);
	if (!ret)
		x->hw_count = count;
	else if (x->hw_count && x->noresize &&
		 set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0,
			  x->hw_count, fds))
		x->hw_count = 0;	/* and not even the old ones came back */
free_fds:
	free(fds);
	return ret;
}

/* Enable 0 -> 1: MSI and INTx off (one index at a time), MSI-X on in VFIO. */
static int msix_hook_enable(void *opaque, unsigned int nr_unmasked)
{
	struct vfio_pci *v = opaque;
	struct vfio_msix *x = &v->msix;
	int ret;

	pthread_mutex_lock(&v->irq_lock);
	msi_disable(v);
	intx_disable(v);
	/* Every vector up front, as cloud-hypervisor does: no resizing (and
	 * no lost interrupt) later. A host short of vectors gets what the
	 * guest unmasked already, and more on demand (msix_hook_vector_use). */
	ret = msix_hw_set(v, x->nr);
	if (ret && nr_unmasked < x->nr)
		ret = msix_hw_set(v, nr_unmasked ? nr_unmasked : 1);
	if (ret)
		intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
	return ret;
}

/* Enable 1 -> 0, reset or exit: VFIO lets go of the MSI-X index. INTx
 * comes back in the callers (vfio_msix_update, vfio_intr_reset), not on
 * the way out at exit. */
static void msix_hook_disable(void *opaque)
{
	struct vfio_pci *v = opaque;

	irqs_disable(v, VFIO_PCI_MSIX_IRQ_INDEX);
	v->msix.hw_count = 0;
}

/* Vector i about to be unmasked: the host must have given it. */
static int msix_hook_vector_use(void *opaque, unsigned int i)
{
	struct vfio_pci *v = opaque;

	return i < v->msix.hw_count ? 0 : msix_hw_set(v, i + 1);
}

static void msix_hook_vector_changed(void *opaque, unsigned int i,
				     const struct msi_vector *before,
				     const struct msi_vector *after)
{
	vfio_trace_vector(opaque, "msix", i, before, after);
}

static const struct msix_ops vfio_msix_ops = {
	.enable = msix_hook_enable,
	.disable = msix_hook_disable,
	.vector_use = msix_hook_vector_use,
};

/* With --trace vfio: the same, and every vector change logged. */
static const struct msix_ops vfio_msix_ops_traced = {
	.enable = msix_hook_enable,
	.disable = msix_hook_disable,
	.vector_use = msix_hook_vector_use,
	.vector_changed = msix_hook_vector_changed,
};

void vfio_msix_update(struct vfio_pci *v)
{
	uint16_t flags = pci_get16(v->dev.config, v->msix.cap + PCI_MSIX_FLAGS);

	msix_set_control(&v->msix.emu, flags & PCI_MSIX_FLAGS_ENABLE,
			 flags & PCI_MSIX_FLAGS_MASKALL);
	/* MSI-X off, or refused by the host: INTx is the function's
	 * interrupt again unless MSI took over. */
	pthread_mutex_lock(&v->irq_lock);
	if (!msix_enabled(&v->msix.emu) && !v->msi.nvec)
		intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
}

/* ---- life cycle ------------------------------------------------------------------ */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int vfio_intr_init(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;
	int ret = -pthread_mutex_init(&v->irq_lock, NULL);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		msi_vector_init(&v->msi.vec[i], MSI_VECTOR_EXTERNAL);
	v->intx.efd = v->intx.resample_fd = -1;
	v->intx.gsi = -1;
	if (v->intx.present) {
		v->intx.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->intx.efd < 0) {
			ret = -errno;
			goto destroy_lock;
		}
		v->intx.resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->intx.resample_fd < 0) {
			ret = -errno;
			goto close_intx;
		}
	}
	if (x->cap) {
		ret = msix_init(&x->emu, &(struct msix_params){
					.vm = v->vm, .name = v->name, .nr = x->nr,
					.mode = MSI_VECTOR_EXTERNAL,
					.ops = trace_on(TRACE_VFIO) ? &vfio_msix_ops_traced
								    : &vfio_msix_ops,
					.opaque = v });
		if (ret)
			goto close_intx;
	}
	v->intr_ready = true;
	return 0;

close_intx:
	close_fd(&v->intx.resample_fd);
	close_fd(&v->intx.efd);
destroy_lock:
	pthread_mutex_destroy(&v->irq_lock);
	return ret;
}

void vfio_intr_reset(struct vfio_pci *v)
{
	if (!v->intr_ready)
		return;
	msix_reset(&v->msix.emu);
	pthread_mutex_lock(&v->irq_lock);
	msi_disable(v);
	intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
}

void vfio_intr_exit(struct vfio_pci *v)
{
	if (!v->intr_ready)
		return;
	/* Table and PBA accesses stop reaching the table first (bar.c). */
	v->msix.cap = 0;
	msix_exit(&v->msix.emu);
	pthread_mutex_lock(&v->irq_lock);
	msi_disable(v);
	intx_disable(v);
	for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		msi_vector_close(&v->msi.vec[i], v->vm);
	close_fd(&v->intx.efd);
	close_fd(&v->intx.resample_fd);
	pthread_mutex_unlock(&v->irq_lock);
	pthread_mutex_destroy(&v->irq_lock);
	v->intr_ready = false;
}
