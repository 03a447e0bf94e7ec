// SPDX-License-Identifier: MIT
/*
 * Virtio over PCI, modern interface (virtio 1.2 §4.1). See virtio_pci.h
 * for the layout and the threading rules.
 *
 * Lock order: the PCI root lock (config hooks run under it), then vp->lock,
 * then the MSI-X lock; INTx (pci_dev_set_irq) takes only the function's
 * intx_lock and the router's line locks, which come after all of these,
 * so it may be raised or lowered from anywhere (docs/architecture.md).
 * BAR accesses take vp->lock without the root lock, so nothing here takes
 * the root lock while holding vp->lock.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/virtio/virtio_pci.h"
#include "lib/log.h"

#define VIRTIO_PCI_CAP_LEN	16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN	20

static struct virtio_pci *to_vp(struct pci_dev *dev)
{
	return (struct virtio_pci *)((char *)dev - offsetof(struct virtio_pci, pci));
}

static uint8_t status_get(struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE);
}

/* ---- interrupts -------------------------------------------------------- */

/*
 * INTx from an I/O thread, while a vCPU may hold the PCI root lock and be
 * resetting this device, waiting for that very thread: pci_dev_set_irq()
 * takes no configuration lock (devices/pci.h), so the thread never waits
 * for the vCPU. The reset joins the threads before it clears the ISR and
 * lowers the pin, so no raise from before the reset outlives it.
 */
static void intx_raise(struct virtio_pci *vp)
{
	pci_dev_set_irq(&vp->pci, true);
}

void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned int q)
{
	if (q >= vp->nr_queues)
		return;
	if (msix_enabled(&vp->msix)) {
		uint16_t vec = __atomic_load_n(&vp->queues[q].vector, __ATOMIC_RELAXED);

		if (vec != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vec);
		return;
	}
	__atomic_fetch_or(&vp->isr, VIRTIO_ISR_QUEUE, __ATOMIC_SEQ_CST);
	intx_raise(vp);
}

int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned int q)
{
	uint16_t vec;
	int fd;

	if (q >= vp->nr_queues || !msix_enabled(&vp->msix))
		return -1;
	vec = __atomic_load_n(&vp->queues[q].vector, __ATOMIC_RELAXED);
	if (vec == VIRTIO_MSI_NO_VECTOR)
		return -1;
	fd = msix_vector_fd(&vp->msix, vec);
	return fd < 0 ? -1 : fd;
}

/* vp->lock held: tell an active device its queues' interrupts moved. */
static void vectors_changed(struct virtio_pci *vp, unsigned int first, unsigned int end)
{
	if (!vp->active || !vp->dev_ops->queue_vector)
		return;
	for (unsigned int i = first; i < end && i < vp->nr_queues; i++)
		vp->dev_ops->queue_vector(vp->opaque, i);
}

static void config_notify(struct virtio_pci *vp)
{
	__atomic_fetch_or(&vp->isr, VIRTIO_ISR_CONFIG, __ATOMIC_SEQ_CST);
	if (msix_enabled(&vp->msix)) {
		uint16_t vec = __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED);

		if (vec != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vec);
		return;
	}
	intx_raise(vp);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	uint8_t old = __atomic_fetch_or(&vp->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);

	/* §2.1.2: with DRIVER_OK set, tell the driver. Once is enough. */
	if (!(old & VIRTIO_STATUS_NEEDS_RESET) && (old & VIRTIO_STATUS_DRIVER_OK))
		config_notify(vp);
}

/* ---- notifications (ioeventfds) ----------------------------------------- */

/* Make every queue's ioeventfd match (enabled, notify_base). vp->lock held. */
static void sync_ioeventfds(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];
		uint64_t want = q->enabled && vp->notify_base ?
				vp->notify_base + (uint64_t)i * VIRTIO_PCI_NOTIFY_MULT : 0;
		int ret;

		if (q->ioeventfd && q->ioeventfd_addr != want) {
			vp->ops->remove_ioeventfd(vp->ops->vm, q->ioeventfd_addr, 0, 0, 0,
						  q->kick_fd);
			q->ioeventfd = false;
		}
		if (!want || q->ioeventfd)
			continue;
		/* Length 0: any write to the address, whatever its width,
		 * and KVM's fast MMIO path where the CPU offers one. */
		ret = vp->ops->add_ioeventfd(vp->ops->vm, want, 0, 0, 0, q->kick_fd);
		if (ret) {
			/* Still correct, only slower: the write exits to
			 * notify_write(), which signals the same eventfd. */
			pr_warn_once("%s: no ioeventfd for queue %u at %#llx (%s); notifications take the slow path",
				     vp->name, i, (unsigned long long)want, strerror(-ret));
			continue;
		}
		q->ioeventfd = true;
		q->ioeventfd_addr = want;
	}
}

/* Config hooks (root lock held): follow BAR 4 wherever it decodes now. */
static void update_notify_base(struct virtio_pci *vp)
{
	const struct pci_bar *b = &vp->pci.bars[VIRTIO_PCI_BAR];
	uint64_t base = b->mapped ? b->addr + VIRTIO_PCI_NOTIFY_OFF : 0;

	pthread_mutex_lock(&vp->lock);
	if (base != vp->notify_base) {
		vp->notify_base = base;
		sync_ioeventfds(vp);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* ---- device status, features, reset (§2.1, §2.2, §3.1) ------------------ */

/* vp->lock held. Returns whether INTx must be lowered (after unlocking). */
static bool vp_reset(struct virtio_pci *vp)
{
	uint8_t isr;

	if (vp->dev_ops->reset)
		vp->dev_ops->reset(vp->opaque);
	vp->active = false;
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];
		uint64_t drain;

		q->size = q->max_size;
		__atomic_store_n(&q->vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
		/* A notification from before the reset means nothing now. */
		while (read(q->kick_fd, &drain, sizeof(drain)) > 0)
			;
	}
	sync_ioeventfds(vp);
	isr = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vp->status, 0, __ATOMIC_SEQ_CST);
	return isr != 0 || pci_dev_irq_level(&vp->pci);
}

/* §3.1.1 step 6 / §2.2.1: FEATURES_OK stays only for an acceptable set. */
static bool features_ok(struct virtio_pci *vp)
{
	uint64_t f = vp->guest_features;

	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_warn_once("%s: the driver did not accept VIRTIO_F_VERSION_1 (legacy virtio drivers are not supported; use a virtio 1.x driver)",
			     vp->name);
		return false;
	}
	if (f & ~vp->host_features) {
		pr_warn_once("%s: the driver accepted features that were not offered (%#llx); refusing FEATURES_OK",
			     vp->name, (unsigned long long)(f & ~vp->host_features));
		return false;
	}
	return !vp->dev_ops->set_features || !vp->dev_ops->set_features(vp->opaque, f);
}

/* vp->lock held. Returns whether INTx must be lowered. */
static bool set_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = status_get(vp), want, cur;
	bool failed = false;

	if (!val)
		return vp_reset(vp);
	/* NEEDS_RESET belongs to the device: the driver cannot set or clear it. */
	want = (uint8_t)(val & ~VIRTIO_STATUS_NEEDS_RESET);
	if ((want & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_ok(vp))
		want &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((want & VIRTIO_STATUS_DRIVER_OK) && !vp->active &&
	    !(old & VIRTIO_STATUS_NEEDS_RESET)) {
		if (!(want & VIRTIO_STATUS_FEATURES_OK)) {
			pr_warn_once("%s: DRIVER_OK without FEATURES_OK; the device stays idle",
				     vp->name);
		} else {
			int ret = vp->dev_ops->activate ? vp->dev_ops->activate(vp->opaque) : 0;

			if (ret) {
				pr_warn("%s: cannot start the device (%s); it needs a reset",
					vp->name, strerror(-ret));
				want |= VIRTIO_STATUS_NEEDS_RESET;
				failed = true;
			} else {
				vp->active = true;
			}
		}
	}
	cur = status_get(vp);
	while (!__atomic_compare_exchange_n(&vp->status, &cur,
					    (uint8_t)(want | (cur & VIRTIO_STATUS_NEEDS_RESET)),
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	if (failed && !(cur & VIRTIO_STATUS_NEEDS_RESET))
		config_notify(vp);
	return false;
}

/* ---- common configuration (§4.1.4.3) ------------------------------------ */

static uint16_t vector_ok(struct virtio_pci *vp, uint16_t v)
{
	/* §4.1.5.1.2: a vector the function does not have reads back as
	 * NO_VECTOR, which tells the driver the mapping failed. */
	return v < vp->msix.nr ? v : VIRTIO_MSI_NO_VECTOR;
}

static void common_snapshot(struct virtio_pci *vp, uint8_t *c)
{
	struct virtio_pci_queue *q = vp->queue_select < vp->nr_queues ?
				     &vp->queues[vp->queue_select] : NULL;
	uint32_t df = vp->dfselect == 0 ? (uint32_t)vp->host_features :
		      vp->dfselect == 1 ? (uint32_t)(vp->host_features >> 32) : 0;
	uint32_t gf = vp->gfselect == 0 ? (uint32_t)vp->guest_features :
		      vp->gfselect == 1 ? (uint32_t)(vp->guest_features >> 32) : 0;

	memset(c, 0, VIRTIO_PCI_COMMON_SIZE);
	pci_set32(c, VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect);
	pci_set32(c, VIRTIO_PCI_COMMON_DF, df);
	pci_set32(c, VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect);
	pci_set32(c, VIRTIO_PCI_COMMON_GF, gf);
	pci_set16(c, VIRTIO_PCI_COMMON_MSIX, __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED));
	pci_set16(c, VIRTIO_PCI_COMMON_NUMQ, (uint16_t)vp->nr_queues);
	pci_set8(c, VIRTIO_PCI_COMMON_STATUS, status_get(vp));
	pci_set8(c, VIRTIO_PCI_COMMON_CFGGEN, vp->config_generation);
	pci_set16(c, VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
	if (!q)
		return;		/* §4.1.4.3.1: queue_size 0 = no such queue */
	pci_set16(c, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
	pci_set16(c, VIRTIO_PCI_COMMON_Q_MSIX, __atomic_load_n(&q->vector, __ATOMIC_RELAXED));
	pci_set16(c, VIRTIO_PCI_COMMON_Q_ENABLE, q->enabled);
	pci_set16(c, VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select);
	pci_set32(c, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)q->desc);
	pci_set32(c, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(q->desc >> 32));
	pci_set32(c, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)q->driver);
	pci_set32(c, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(q->driver >> 32));
	pci_set32(c, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)q->device);
	pci_set32(c, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(q->device >> 32));
	pci_set16(c, VIRTIO_PCI_COMMON_Q_NDATA, vp->queue_select);
}

static void set_half(uint64_t *reg, bool hi, uint32_t v)
{
	if (hi)
		*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

/* vp->lock held; one field at its natural width. Returns "lower INTx". */
static bool common_write(struct virtio_pci *vp, uint64_t off, uint64_t v, unsigned int len)
{
	struct virtio_pci_queue *q = vp->queue_select < vp->nr_queues ?
				     &vp->queues[vp->queue_select] : NULL;
	bool locked_q = !q || q->enabled;	/* §4.1.4.3.2: fixed once enabled */

	if (len == 8 && (off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
			 off == VIRTIO_PCI_COMMON_Q_USEDLO)) {
		common_write(vp, off, (uint32_t)v, 4);
		return common_write(vp, off + 4, v >> 32, 4);
	}
	switch (off | (uint64_t)len << 8) {
	case VIRTIO_PCI_COMMON_DFSELECT | 4 << 8:
		vp->dfselect = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT | 4 << 8:
		vp->gfselect = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GF | 4 << 8:
		/* §2.2.1: features are fixed from FEATURES_OK on. */
		if (!(status_get(vp) & VIRTIO_STATUS_FEATURES_OK) && vp->gfselect < 2)
			set_half(&vp->guest_features, vp->gfselect == 1, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_MSIX | 2 << 8:
		__atomic_store_n(&vp->config_vector, vector_ok(vp, (uint16_t)v), __ATOMIC_RELAXED);
		break;
	case VIRTIO_PCI_COMMON_STATUS | 1 << 8:
		return set_status(vp, (uint8_t)v);
	case VIRTIO_PCI_COMMON_Q_SELECT | 2 << 8:
		vp->queue_select = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE | 2 << 8:
		/* Checked (power of two, <= max) when the queue starts. */
		if (!locked_q)
			q->size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX | 2 << 8:
		if (q) {
			__atomic_store_n(&q->vector, vector_ok(vp, (uint16_t)v), __ATOMIC_RELAXED);
			vectors_changed(vp, vp->queue_select, vp->queue_select + 1u);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE | 2 << 8:
		/* §4.1.4.3.2: the driver never writes 0 (that would be
		 * VIRTIO_F_RING_RESET, which we do not offer). */
		if (!locked_q && v == 1) {
			q->enabled = true;
			sync_ioeventfds(vp);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_DESCHI | 4 << 8:
		if (!locked_q)
			set_half(&q->desc, off == VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_AVAILHI | 4 << 8:
		if (!locked_q)
			set_half(&q->driver, off == VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_USEDHI | 4 << 8:
		if (!locked_q)
			set_half(&q->device, off == VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)v);
		break;
	default:
		/* Read-only fields, reserved space, odd widths (§4.1.3.1:
		 * the driver uses each field's natural width). */
		pr_warn_once("%s: ignoring a %u-byte write at common configuration offset %#llx",
			     vp->name, len, (unsigned long long)off);
		break;
	}
	return false;
}

/* ---- BAR 4 -------------------------------------------------------------- */

void virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, void *data, unsigned int len)
{
	uint64_t region = off / VIRTIO_PCI_REGION_SIZE, roff = off % VIRTIO_PCI_REGION_SIZE;
	uint8_t snap[VIRTIO_PCI_COMMON_SIZE];
	uint8_t isr;

	memset(data, 0, len);
	if (len > 8 || roff + len > VIRTIO_PCI_REGION_SIZE)
		return;
	switch (region * VIRTIO_PCI_REGION_SIZE) {
	case VIRTIO_PCI_COMMON_OFF:
		pthread_mutex_lock(&vp->lock);
		common_snapshot(vp, snap);
		pthread_mutex_unlock(&vp->lock);
		for (unsigned int i = 0; i < len; i++)
			if (roff + i < VIRTIO_PCI_COMMON_SIZE)
				((uint8_t *)data)[i] = snap[roff + i];
		break;
	case VIRTIO_PCI_ISR_OFF:
		/* §4.1.4.5.1: reading clears it and deasserts INTx. */
		if (roff)
			break;
		isr = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
		*(uint8_t *)data = isr;
		if (isr && !msix_enabled(&vp->msix))
			pci_dev_set_irq(&vp->pci, false);
		break;
	case VIRTIO_PCI_DEVICE_OFF:
		if (roff >= vp->config_size)
			break;
		if (len > vp->config_size - roff)
			len = (unsigned int)(vp->config_size - roff);
		pthread_mutex_lock(&vp->lock);
		vp->dev_ops->config_read(vp->opaque, roff, data, len);
		pthread_mutex_unlock(&vp->lock);
		break;
	default:
		break;		/* the notify region reads as zero */
	}
}

void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off, const void *data,
			  unsigned int len)
{
	uint64_t region = off / VIRTIO_PCI_REGION_SIZE, roff = off % VIRTIO_PCI_REGION_SIZE;
	uint64_t one = 1, q;
	bool lower = false;

	if (len > 8 || roff + len > VIRTIO_PCI_REGION_SIZE)
		return;
	switch (region * VIRTIO_PCI_REGION_SIZE) {
	case VIRTIO_PCI_COMMON_OFF:
		pthread_mutex_lock(&vp->lock);
		lower = common_write(vp, roff, bus_data_get(data, len), len);
		pthread_mutex_unlock(&vp->lock);
		break;
	case VIRTIO_PCI_DEVICE_OFF:
		if (roff >= vp->config_size || len > vp->config_size - roff ||
		    !vp->dev_ops->config_write)
			break;
		pthread_mutex_lock(&vp->lock);
		vp->dev_ops->config_write(vp->opaque, roff, data, len);
		pthread_mutex_unlock(&vp->lock);
		break;
	case VIRTIO_PCI_NOTIFY_OFF:
		/* The slow path of a notification (no ioeventfd there yet):
		 * the queue is the one whose notify_off it hit (§4.1.4.4). */
		q = roff / VIRTIO_PCI_NOTIFY_MULT;
		__atomic_fetch_add(&vp->slow_notifies, 1, __ATOMIC_RELAXED);
		if (q < vp->nr_queues && write(vp->queues[q].kick_fd, &one, sizeof(one)) < 0)
			pr_warn_once("%s: kick: %s", vp->name, strerror(errno));
		break;
	default:
		break;		/* ISR is read-only */
	}
	if (lower)
		pci_dev_set_irq(&vp->pci, false);
}

static void bar4_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	virtio_pci_bar_read(opaque, off, data, len);
}

static void bar4_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	virtio_pci_bar_write(opaque, off, data, len);
}

static const struct bus_dev_ops bar4_ops = { .read = bar4_read, .write = bar4_write };

static void msix_bar_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct virtio_pci *vp = opaque;

	if (off < VIRTIO_PCI_MSIX_PBA_OFF)
		msix_table_read(&vp->msix, off, data, len);
	else
		msix_pba_read(&vp->msix, off - VIRTIO_PCI_MSIX_PBA_OFF, data, len);
}

static void msix_bar_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct virtio_pci *vp = opaque;

	/* The PBA is read-only (§6.8.2.10). */
	if (off < VIRTIO_PCI_MSIX_PBA_OFF && len <= VIRTIO_PCI_MSIX_PBA_OFF - off)
		msix_table_write(&vp->msix, off, data, len);
}

static const struct bus_dev_ops msix_bar_ops = { .read = msix_bar_read, .write = msix_bar_write };

/* ---- PCI configuration space -------------------------------------------- */

/*
 * §4.1.4.9 VIRTIO_PCI_CAP_PCI_CFG: a window into BAR 4 through config
 * space, for firmware that cannot map BARs. The driver sets bar, offset
 * and length (1, 2 or 4, offset aligned to it), then accesses
 * pci_cfg_data. Anything else is ignored, as the spec allows.
 */
static bool cfg_window(struct virtio_pci *vp, uint32_t *off, unsigned int *len)
{
	const uint8_t *c = vp->pci.config + vp->cfg_cap;

	*off = pci_get32(c, 8);
	*len = pci_get32(c, 12);
	return c[4] == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
	       *off % *len == 0 && *off < VIRTIO_PCI_BAR_SIZE;
}

static uint32_t vp_cfg_read(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct virtio_pci *vp = to_vp(dev);
	unsigned int wlen;
	uint32_t woff;

	if (pci_range_overlaps(off, len, vp->cfg_cap + 16, 4) && cfg_window(vp, &woff, &wlen)) {
		uint8_t buf[4] = { 0 };

		virtio_pci_bar_read(vp, woff, buf, wlen);
		memcpy(dev->config + vp->cfg_cap + 16, buf, 4);
	}
	return pci_dev_default_cfg_read(dev, off, len);
}

static void vp_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int len)
{
	struct virtio_pci *vp = to_vp(dev);
	unsigned int wlen;
	uint32_t woff;

	pci_dev_default_cfg_write(dev, off, val, len);
	if (pci_range_overlaps(off, len, vp->msix_cap + 2, 2)) {
		uint16_t ctl = pci_get16(dev->config, vp->msix_cap + 2);

		msix_set_control(&vp->msix, ctl & PCI_MSIX_FLAGS_ENABLE,
				 ctl & PCI_MSIX_FLAGS_MASKALL);
		pthread_mutex_lock(&vp->lock);
		vectors_changed(vp, 0, vp->nr_queues);
		pthread_mutex_unlock(&vp->lock);
	}
	if (pci_range_overlaps(off, len, vp->cfg_cap + 16, 4) && cfg_window(vp, &woff, &wlen))
		virtio_pci_bar_write(vp, woff, dev->config + vp->cfg_cap + 16, wlen);
	update_notify_base(vp);
}

/* System or bus reset: the core restored the power-on header already. */
static void vp_pci_reset(struct pci_dev *dev)
{
	struct virtio_pci *vp = to_vp(dev);

	pthread_mutex_lock(&vp->lock);
	vp_reset(vp);
	vp->notify_base = 0;
	sync_ioeventfds(vp);
	pthread_mutex_unlock(&vp->lock);
	msix_reset(&vp->msix);
	pci_dev_set_irq(dev, false);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_read = vp_cfg_read,
	.cfg_write = vp_cfg_write,
	.reset = vp_pci_reset,
};

/* ---- set-up -------------------------------------------------------------- */

static int add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint8_t bar, uint32_t offset,
			  uint32_t length, unsigned int cap_len)
{
	int at = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, 0, cap_len);
	uint8_t *c;

	if (at < 0)
		return at;
	c = vp->pci.config + at;
	c[2] = (uint8_t)cap_len;
	c[3] = type;
	c[4] = bar;
	pci_set32(c, 8, offset);
	pci_set32(c, 12, length);
	return at;
}

static int add_caps(struct virtio_pci *vp)
{
	unsigned int nvec = vp->msix.nr;
	int at;

	/* Added in reverse: the core links each new one at the head, and
	 * this way the list reads common, notify, ISR, device, cfg, MSI-X. */
	at = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_MSIX, 0, PCI_MSIX_SIZEOF);
	if (at < 0)
		return at;
	vp->msix_cap = (unsigned int)at;
	pci_set16(vp->pci.config, at + 2, (uint16_t)(nvec - 1));
	pci_set16(vp->pci.wmask, at + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_set32(vp->pci.config, at + 4, 0 | VIRTIO_PCI_MSIX_BAR);
	pci_set32(vp->pci.config, at + 8, VIRTIO_PCI_MSIX_PBA_OFF | VIRTIO_PCI_MSIX_BAR);

	at = add_virtio_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, VIRTIO_PCI_CFG_CAP_LEN);
	if (at < 0)
		return at;
	vp->cfg_cap = (unsigned int)at;
	pci_set8(vp->pci.wmask, at + 4, 0xff);
	pci_set32(vp->pci.wmask, at + 8, 0xffffffff);
	pci_set32(vp->pci.wmask, at + 12, 0xffffffff);
	pci_set32(vp->pci.wmask, at + 16, 0xffffffff);

	at = add_virtio_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVICE_OFF,
			    vp->config_size, VIRTIO_PCI_CAP_LEN);
	if (at < 0)
		return at;
	at = add_virtio_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFF, 1,
			    VIRTIO_PCI_CAP_LEN);
	if (at < 0)
		return at;
	at = add_virtio_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_BAR, VIRTIO_PCI_NOTIFY_OFF,
			    VIRTIO_PCI_NOTIFY_MULT * vp->nr_queues, VIRTIO_PCI_NOTIFY_CAP_LEN);
	if (at < 0)
		return at;
	pci_set32(vp->pci.config, at + 16, VIRTIO_PCI_NOTIFY_MULT);
	at = add_virtio_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF,
			    VIRTIO_PCI_COMMON_SIZE, VIRTIO_PCI_CAP_LEN);
	return at < 0 ? at : 0;
}

int virtio_pci_init(struct virtio_pci *vp, const struct vm_ops *ops,
		    const struct virtio_pci_params *p)
{
	unsigned int i;
	int ret;

	if (!p->nr_queues || p->nr_queues > VIRTIO_PCI_MAX_QUEUES || !p->dev_ops ||
	    !p->dev_ops->config_read || !p->queue_size || p->queue_size & (p->queue_size - 1) ||
	    p->config_size > VIRTIO_PCI_REGION_SIZE)
		return -EINVAL;
	ret = pci_dev_init(&vp->pci, &vp_pci_ops, p->name, VIRTIO_PCI_VENDOR,
			   (uint16_t)(VIRTIO_PCI_DEVICE_BASE + p->device_id), p->class_code,
			   1 /* §4.1.2.1: revision 1 or more = modern */, PCI_HEADER_TYPE_NORMAL, false);
	if (ret)
		return ret;
	/* pci_dev_init cleared vp->pci only: set the rest explicitly. */
	vp->ops = ops;
	vp->dev_ops = p->dev_ops;
	vp->opaque = p->opaque;
	vp->name = p->name;
	vp->host_features = p->features | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->status = 0;
	vp->config_generation = 0;
	vp->active = false;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	vp->nr_queues = p->nr_queues;
	vp->config_size = p->config_size;
	vp->isr = 0;
	vp->notify_base = 0;
	vp->slow_notifies = 0;
	pci_set8(vp->pci.config, PCI_INTERRUPT_PIN, 1);		/* INTA# */

	ret = -pthread_mutex_init(&vp->lock, NULL);
	if (ret)
		goto exit_pci;
	vp->queues = calloc(p->nr_queues, sizeof(*vp->queues));
	if (!vp->queues) {
		ret = -ENOMEM;
		goto destroy_lock;
	}
	for (i = 0; i < p->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		q->size = q->max_size = p->queue_size;
		q->vector = VIRTIO_MSI_NO_VECTOR;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0) {
			ret = -errno;
			goto close_kicks;
		}
	}
	/* One vector per queue plus one for configuration changes, as
	 * Linux asks for first (it falls back to sharing if it must). GATED:
	 * the I/O threads signal them (msi_vector.h says why not detach);
	 * EXTERNAL when vhost does (devices/virtio/vhost_net.h). */
	ret = msix_init(&vp->msix, &(struct msix_params){
				.vm = ops, .name = p->name, .nr = p->nr_queues + 1,
				.mode = p->msix_external ? MSI_VECTOR_EXTERNAL : MSI_VECTOR_GATED });
	if (ret)
		goto close_kicks;
	ret = add_caps(vp);
	if (ret)
		goto exit_msix;
	ret = pci_dev_register_bar(&vp->pci, VIRTIO_PCI_MSIX_BAR, 0, VIRTIO_PCI_MSIX_BAR_SIZE,
				   &msix_bar_ops, vp, p->name);
	if (ret)
		goto exit_msix;
	ret = pci_dev_register_bar(&vp->pci, VIRTIO_PCI_BAR, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
				   VIRTIO_PCI_BAR_SIZE, &bar4_ops, vp, p->name);
	if (ret)
		goto exit_msix;
	return 0;

exit_msix:
	msix_exit(&vp->msix);
close_kicks:
	while (i--)
		close(vp->queues[i].kick_fd);
	free(vp->queues);
	vp->queues = NULL;
destroy_lock:
	pthread_mutex_destroy(&vp->lock);
exit_pci:
	pci_dev_exit(&vp->pci);
	return ret;
}

void virtio_pci_exit(struct virtio_pci *vp)
{
	bool lower;

	if (!vp->queues)
		return;
	pthread_mutex_lock(&vp->lock);
	lower = vp_reset(vp);
	vp->notify_base = 0;
	sync_ioeventfds(vp);
	pthread_mutex_unlock(&vp->lock);
	if (lower)
		pci_dev_set_irq(&vp->pci, false);
	pci_dev_exit(&vp->pci);
	msix_exit(&vp->msix);
	for (unsigned int i = 0; i < vp->nr_queues; i++)
		close(vp->queues[i].kick_fd);
	free(vp->queues);
	vp->queues = NULL;
	pthread_mutex_destroy(&vp->lock);
}
