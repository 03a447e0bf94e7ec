// SPDX-License-Identifier: MIT
/*
 * Interrupts of a passed function: INTx, MSI and MSI-X, one at a time
 * (VFIO enables one IRQ index at a time; so does a PCI function).
 *
 * Every vector has an eventfd that VFIO signals (VFIO_DEVICE_SET_IRQS,
 * ACTION_TRIGGER). While the guest has the vector unmasked, the eventfd
 * is a KVM irqfd on an MSI route with the guest's address/data, so the
 * interrupt goes device -> host IRQ -> eventfd -> KVM -> vCPU without
 * minivmm. Masking only detaches the irqfd: what the device signals then
 * piles up in the eventfd's counter, which is the Pending bit (PCI 3.0
 * §6.8.2.10: a masked vector's message is held pending) that the PBA and
 * MSI's Pending Bits read, and attaching the irqfd again on unmask makes
 * KVM deliver it at once (an irqfd polls its eventfd when it is assigned,
 * virt/kvm/eventfd.c). A vector changing address/data while unmasked has
 * its route updated in place: KVM delivers to the old or the new target.
 *
 * The device's own MSI-X table is programmed by the host kernel with host
 * vectors; the guest's table is emulated here.
 *
 * INTx is level-triggered: VFIO masks the line when it fires, KVM raises
 * the GSI through a resampling irqfd, and the guest's EOI makes KVM signal
 * the resample eventfd, which unmasks the line in VFIO (ACTION_UNMASK
 * bound to an eventfd) — again without minivmm.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"

static int efd_get(struct vfio_vector *vec)
{
	if (vec->efd < 0)
		vec->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vec->efd;
}

static bool efd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void efd_drain(int fd)
{
	uint64_t n;

	if (fd >= 0 && read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn_once("vfio: eventfd read: %s", strerror(errno));
}

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
	return ret;
}

static int irqs_disable(struct vfio_pci *v, unsigned int index)
{
	return set_irqs(v, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
}

/* ---- vectors ---------------------------------------------------------------- */

static void vector_set(struct vfio_pci *v, struct vfio_vector *vec, uint64_t addr,
		       uint32_t data, bool active)
{
	const struct vm_ops *vm = v->vm;
	unsigned int gsi;
	int ret;

	if (!active) {
		if (vec->irqfd && vm->remove_irqfd(vm->vm, (unsigned int)vec->gsi, vec->efd))
			pr_warn_once("vfio: %s: cannot detach an MSI irqfd", v->bdf);
		vec->irqfd = false;
		return;
	}
	if (vec->gsi < 0) {
		ret = vm->add_msi_route(vm->vm, addr, data, &gsi);
		if (ret) {
			pr_warn_once("vfio: %s: no KVM MSI route for a vector: %s (it stays silent)",
				     v->bdf, strerror(-ret));
			return;
		}
		vec->gsi = (int)gsi;
	} else if (vec->addr != addr || vec->data != data) {
		ret = vm->update_msi_route(vm->vm, (unsigned int)vec->gsi, addr, data);
		if (ret)
			pr_warn_once("vfio: %s: cannot update an MSI route: %s", v->bdf, strerror(-ret));
	}
	vec->addr = addr;
	vec->data = data;
	if (!vec->irqfd && efd_get(vec) >= 0) {
		ret = vm->add_irqfd(vm->vm, (unsigned int)vec->gsi, vec->efd, -1);
		if (ret)
			pr_warn_once("vfio: %s: cannot attach an MSI irqfd: %s", v->bdf, strerror(-ret));
		vec->irqfd = !ret;
	}
}

static void vector_release(struct vfio_pci *v, struct vfio_vector *vec)
{
	vector_set(v, vec, 0, 0, false);
	if (vec->gsi >= 0)
		v->vm->remove_msi_route(v->vm->vm, (unsigned int)vec->gsi);
	vec->gsi = -1;
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
	if (!v->msi.nvec && !v->msix.enabled)
		intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
}

/* ---- MSI (PCI 3.0 §6.8.1) ---------------------------------------------------- */

static void msi_disable(struct vfio_pci *v)
{
	struct vfio_msi *m = &v->msi;

	if (!m->nvec)
		return;
	for (unsigned int i = 0; i < m->nvec; i++)
		vector_release(v, &m->vec[i]);
	irqs_disable(v, VFIO_PCI_MSI_IRQ_INDEX);
	m->nvec = 0;
}

static void msix_disable(struct vfio_pci *v);

void vfio_msi_update(struct vfio_pci *v)
{
	struct vfio_msi *m = &v->msi;
	const uint8_t *cfg = v->dev.config;
	uint16_t flags = pci_get16(cfg, m->cap + PCI_MSI_FLAGS);
	unsigned int nvec = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
	int fds[VFIO_MSI_MAX_VECTORS];
	uint64_t addr;
	uint32_t data, mask;
	int ret;

	if (nvec > m->max_vec)
		nvec = m->max_vec;
	pthread_mutex_lock(&v->irq_lock);
	/* Software must not enable MSI and MSI-X together (§6.8.2): MSI-X,
	 * enabled first, keeps the function. */
	if (!(flags & PCI_MSI_FLAGS_ENABLE) || v->msix.enabled) {
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
		intx_disable(v);
		for (unsigned int i = 0; i < nvec; i++) {
			fds[i] = efd_get(&m->vec[i]);
			efd_drain(fds[i]);
		}
		ret = set_irqs(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, nvec, fds);
		if (ret) {
			pr_warn_once("vfio: %s: cannot enable %u MSI vector(s): %s", v->bdf, nvec,
				     strerror(-ret));
			intx_enable(v);
			goto out_unlock;
		}
		m->nvec = nvec;
	}
	addr = pci_get32(cfg, m->cap + PCI_MSI_ADDRESS_LO);
	if (m->is64)
		addr |= (uint64_t)pci_get32(cfg, m->cap + PCI_MSI_ADDRESS_LO + 4) << 32;
	data = pci_get16(cfg, m->data_off);
	mask = m->pvm ? pci_get32(cfg, m->mask_off) : 0;
	/* With n messages the function sets the low log2(n) data bits to
	 * the vector number (§6.8.1.6). */
	for (unsigned int i = 0; i < m->nvec; i++)
		vector_set(v, &m->vec[i], addr, (data & ~(m->nvec - 1)) | i, !(mask & (1u << i)));
out_unlock:
	pthread_mutex_unlock(&v->irq_lock);
}

uint32_t vfio_msi_pending(struct vfio_pci *v)
{
	uint32_t pending = 0;

	pthread_mutex_lock(&v->irq_lock);
	for (unsigned int i = 0; i < v->msi.nvec; i++)
		if (!v->msi.vec[i].irqfd && efd_readable(v->msi.vec[i].efd))
			pending |= 1u << i;
	pthread_mutex_unlock(&v->irq_lock);
	return pending;
}

/* ---- MSI-X (PCI 3.0 §6.8.2) -------------------------------------------------- */

/* Give VFIO vectors [0, count); -errno if the host cannot. */
static int msix_hw_set(struct vfio_pci *v, unsigned int count)
{
	struct vfio_msix *x = &v->msix;
	int *fds = calloc(count, sizeof(*fds));
	unsigned int start = 0;
	int ret;

	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		fds[i] = efd_get(&x->vec[i]);
		if (fds[i] < 0) {
			free(fds);
			return -EMFILE;
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
	free(fds);
	return ret;
}

static void msix_sync(struct vfio_pci *v, unsigned int i)
{
	struct vfio_msix *x = &v->msix;
	const struct vfio_msix_entry *e = &x->table[i];
	bool active = x->enabled && !x->fmask && !(e->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);

	if (active && i >= x->hw_count && msix_hw_set(v, i + 1)) {
		pr_warn_once("vfio: %s: the host cannot give MSI-X vector %u (it stays silent)",
			     v->bdf, i);
		active = false;
	}
	vector_set(v, &x->vec[i], (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data, active);
}

static void msix_disable(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;

	if (!x->enabled)
		return;
	for (unsigned int i = 0; i < x->nr; i++)
		vector_release(v, &x->vec[i]);
	irqs_disable(v, VFIO_PCI_MSIX_IRQ_INDEX);
	x->hw_count = 0;
	x->enabled = false;
}

static int msix_enable(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;
	unsigned int need = 1;
	int ret;

	for (unsigned int i = 0; i < x->nr; i++) {
		efd_drain(x->vec[i].efd);
		if (!(x->table[i].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			need = i + 1;
	}
	/* Every vector up front, as cloud-hypervisor does: no resizing (and
	 * no lost interrupt) later. A host short of vectors gets what the
	 * guest uses now, and more on demand. */
	ret = msix_hw_set(v, x->nr);
	if (ret && need < x->nr)
		ret = msix_hw_set(v, need);
	return ret;
}

void vfio_msix_update(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;
	uint16_t flags = pci_get16(v->dev.config, x->cap + PCI_MSIX_FLAGS);
	bool enable = flags & PCI_MSIX_FLAGS_ENABLE;
	int ret;

	pthread_mutex_lock(&v->irq_lock);
	x->fmask = flags & PCI_MSIX_FLAGS_MASKALL;
	if (enable && !x->enabled) {
		msi_disable(v);
		intx_disable(v);
		ret = msix_enable(v);
		if (ret) {
			pr_warn_once("vfio: %s: cannot enable MSI-X: %s", v->bdf, strerror(-ret));
			intx_enable(v);
			goto out_unlock;
		}
		x->enabled = true;
	} else if (!enable && x->enabled) {
		msix_disable(v);
		intx_enable(v);
		goto out_unlock;
	}
	if (x->enabled)
		for (unsigned int i = 0; i < x->nr; i++)
			msix_sync(v, i);
out_unlock:
	pthread_mutex_unlock(&v->irq_lock);
}

void vfio_msix_table_access(struct vfio_pci *v, uint64_t off, void *data,
			    unsigned int len, bool write)
{
	struct vfio_msix *x = &v->msix;
	unsigned int i = (unsigned int)(off / PCI_MSIX_ENTRY_SIZE), dw = (unsigned int)(off % 16) / 4;
	struct vfio_msix_entry *e;
	uint32_t *dws, old[4];
	uint64_t val;

	/* Aligned dwords and qwords only (§6.8.2): anything else is dropped
	 * (a read returns all-ones). */
	if ((len != 4 && len != 8) || off % len || i >= x->nr) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&v->irq_lock);
	e = &x->table[i];
	dws = &e->addr_lo;
	if (!write) {
		val = dws[dw];
		if (len == 8)
			val |= (uint64_t)dws[dw + 1] << 32;
		bus_data_put(data, len, val);
		goto out_unlock;
	}
	memcpy(old, dws, sizeof(old));
	val = bus_data_get(data, len);
	dws[dw] = (uint32_t)val;
	if (len == 8)
		dws[dw + 1] = (uint32_t)(val >> 32);
	/* Vector Control: only Mask Bit is defined (§6.8.2.9). */
	e->ctrl &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	if (x->enabled && memcmp(old, dws, sizeof(old)))
		msix_sync(v, i);
out_unlock:
	pthread_mutex_unlock(&v->irq_lock);
}

void vfio_msix_pba_read(struct vfio_pci *v, uint64_t off, void *data, unsigned int len)
{
	struct vfio_msix *x = &v->msix;
	uint8_t *p = data;

	pthread_mutex_lock(&v->irq_lock);
	for (unsigned int b = 0; b < len; b++) {
		p[b] = 0;
		for (unsigned int bit = 0; bit < 8; bit++) {
			uint64_t i = (off + b) * 8 + bit;

			if (x->enabled && i < x->hw_count && !x->vec[i].irqfd &&
			    efd_readable(x->vec[i].efd))
				p[b] |= (uint8_t)(1u << bit);
		}
	}
	pthread_mutex_unlock(&v->irq_lock);
}

/* ---- life cycle ------------------------------------------------------------------ */

static void vectors_init(struct vfio_vector *vec, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		vec[i] = (struct vfio_vector){ .efd = -1, .gsi = -1 };
}

static void msix_table_reset(struct vfio_msix *x)
{
	for (unsigned int i = 0; i < x->nr; i++)
		x->table[i] = (struct vfio_msix_entry){ .ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT };
	x->fmask = false;
}

int vfio_intr_init(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;
	int ret = -pthread_mutex_init(&v->irq_lock, NULL);

	if (ret)
		return ret;
	vectors_init(v->msi.vec, VFIO_MSI_MAX_VECTORS);
	v->intx.efd = v->intx.resample_fd = -1;
	v->intx.gsi = -1;
	if (x->cap) {
		x->table = calloc(x->nr, sizeof(*x->table));
		x->vec = calloc(x->nr, sizeof(*x->vec));
		if (!x->table || !x->vec)
			goto nomem;
		vectors_init(x->vec, x->nr);
		msix_table_reset(x);
	}
	if (v->intx.present) {
		v->intx.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		v->intx.resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->intx.efd < 0 || v->intx.resample_fd < 0) {
			ret = -errno;
			v->intr_ready = true;
			vfio_intr_exit(v);
			return ret;
		}
	}
	v->intr_ready = true;
	return 0;
nomem:
	v->intr_ready = true;
	vfio_intr_exit(v);
	return -ENOMEM;
}

void vfio_intr_reset(struct vfio_pci *v)
{
	if (!v->intr_ready)
		return;
	pthread_mutex_lock(&v->irq_lock);
	msix_disable(v);
	msi_disable(v);
	if (v->msix.table)
		msix_table_reset(&v->msix);
	intx_enable(v);
	pthread_mutex_unlock(&v->irq_lock);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vfio_intr_exit(struct vfio_pci *v)
{
	struct vfio_msix *x = &v->msix;

	if (!v->intr_ready)
		return;
	pthread_mutex_lock(&v->irq_lock);
	msix_disable(v);
	msi_disable(v);
	intx_disable(v);
	for (unsigned int i = 0; x->vec && i < x->nr; i++)
		close_fd(&x->vec[i].efd);
	for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		close_fd(&v->msi.vec[i].efd);
	close_fd(&v->intx.efd);
	close_fd(&v->intx.resample_fd);
	free(x->table);
	free(x->vec);
	x->table = NULL;
	x->vec = NULL;
	x->cap = 0;
	pthread_mutex_unlock(&v->irq_lock);
	pthread_mutex_destroy(&v->irq_lock);
	v->intr_ready = false;
}
