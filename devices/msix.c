// SPDX-License-Identifier: MIT
/*
 * The MSI-X table, PBA and Message Control (PCI 3.0 §6.8.2) over
 * msi_vector; msix.h has the model, the access rules and the lock order.
 *
 * One invariant keeps disable and reset simple: while MSI-X is disabled
 * no vector has a route or an irqfd (enabling routes the unmasked ones,
 * disabling releases them all), so a disabled function costs KVM nothing,
 * and its PBA reads zero once its signaller has stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/msix.h"
#include "lib/log.h"

static void entry_reset(struct msix_entry *e)
{
	/* §6.8.2.9: every entry comes out of reset masked. */
	*e = (struct msix_entry){ .dw[MSIX_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT };
}

int msix_init(struct msix *m, const struct msix_params *p)
{
	int ret;

	memset(m, 0, sizeof(*m));
	if (!p->vm || !p->nr || p->nr > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->entries = calloc(p->nr, sizeof(*m->entries));
	if (!m->entries)
		return -ENOMEM;
	m->vec = calloc(p->nr, sizeof(*m->vec));
	if (!m->vec) {
		ret = -ENOMEM;
		goto free_entries;
	}
	ret = -pthread_mutex_init(&m->lock, NULL);
	if (ret)
		goto free_vec;
	m->vm = p->vm;
	m->ops = p->ops;
	m->opaque = p->opaque;
	m->name = p->name;
	m->nr = p->nr;
	for (unsigned int i = 0; i < m->nr; i++) {
		entry_reset(&m->entries[i]);
		msi_vector_init(&m->vec[i], p->mode);
	}
	if (p->mode == MSI_VECTOR_GATED) {
		for (unsigned int i = 0; i < m->nr; i++) {
			ret = msi_vector_open(&m->vec[i]);
			if (ret < 0)
				goto close_fds;
		}
	}
	return 0;

close_fds:
	for (unsigned int i = 0; i < m->nr; i++)
		msi_vector_close(&m->vec[i], m->vm);
	pthread_mutex_destroy(&m->lock);
free_vec:
	free(m->vec);
free_entries:
	free(m->entries);
	memset(m, 0, sizeof(*m));
	return ret;
}

/* Table lock held: release vector i, telling an owner that traces. */
static void vector_release(struct msix *m, unsigned int i)
{
	struct msi_vector before;

	if (m->ops && m->ops->vector_changed) {
		before = m->vec[i];
		msi_vector_release(&m->vec[i], m->vm);
		m->ops->vector_changed(m->opaque, i, &before, &m->vec[i]);
		return;
	}
	msi_vector_release(&m->vec[i], m->vm);
}

/* Table lock held. Enable 1 -> 0: the owner stops signalling first, so
 * what the vectors still hold afterwards is stale and released with them. */
static void disable(struct msix *m)
{
	if (!m->enabled)
		return;
	__atomic_store_n(&m->enabled, false, __ATOMIC_RELEASE);
	if (m->ops && m->ops->disable)
		m->ops->disable(m->opaque);
	for (unsigned int i = 0; i < m->nr; i++)
		vector_release(m, i);
}

void msix_exit(struct msix *m)
{
	if (!m->vec)
		return;
	pthread_mutex_lock(&m->lock);
	disable(m);
	for (unsigned int i = 0; i < m->nr; i++)
		msi_vector_close(&m->vec[i], m->vm);
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_destroy(&m->lock);
	free(m->vec);
	free(m->entries);
	m->vec = NULL;
	m->entries = NULL;
}

void msix_reset(struct msix *m)
{
	if (!m->vec)
		return;
	pthread_mutex_lock(&m->lock);
	disable(m);
	m->fmask = false;
	for (unsigned int i = 0; i < m->nr; i++) {
		/* Released even when disabled: a GATED notification that
		 * raced the disable may have left a Pending bit. */
		vector_release(m, i);
		entry_reset(&m->entries[i]);
	}
	pthread_mutex_unlock(&m->lock);
}

/* Table lock held. Make vector i follow its entry and the control bits. */
static void vector_update(struct msix *m, unsigned int i)
{
	const uint32_t *e = m->entries[i].dw;
	bool masked = !m->enabled || m->fmask || (e[MSIX_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
	bool note = m->ops && m->ops->vector_changed;
	struct msi_vector before;
	int ret;

	if (!masked && m->ops && m->ops->vector_use) {
		ret = m->ops->vector_use(m->opaque, i);
		if (ret) {
			pr_warn_once("%s: MSI-X vector %u cannot be signalled: %s (it stays masked)",
				     m->name, i, strerror(-ret));
			masked = true;
		}
	}
	if (note)
		before = m->vec[i];
	ret = msi_vector_set(&m->vec[i], m->vm, (uint64_t)e[MSIX_ADDR_HI] << 32 | e[MSIX_ADDR_LO],
			     e[MSIX_DATA], masked);
	if (note)
		m->ops->vector_changed(m->opaque, i, &before, &m->vec[i]);
	if (ret)
		pr_warn_once("%s: KVM cannot route MSI-X vector %u: %s (it stays masked)",
			     m->name, i, strerror(-ret));
}

/* Table lock held: one past the last entry with its Mask Bit clear. */
static unsigned int nr_unmasked(const struct msix *m)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < m->nr; i++)
		if (!(m->entries[i].dw[MSIX_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			n = i + 1;
	return n;
}

int msix_set_control(struct msix *m, bool enable, bool fmask)
{
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (enable == m->enabled && fmask == m->fmask)
		goto unlock;
	m->fmask = fmask;
	if (!enable) {
		disable(m);
		goto unlock;
	}
	if (!m->enabled) {
		if (m->ops && m->ops->enable) {
			ret = m->ops->enable(m->opaque, nr_unmasked(m));
			if (ret) {
				pr_warn_once("%s: cannot enable MSI-X: %s", m->name, strerror(-ret));
				goto unlock;
			}
		}
		__atomic_store_n(&m->enabled, true, __ATOMIC_RELEASE);
	}
	/* Enabled, or the Function Mask flipped: every vector follows. */
	for (unsigned int i = 0; i < m->nr; i++)
		vector_update(m, i);
unlock:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool msix_enabled(struct msix *m)
{
	return __atomic_load_n(&m->enabled, __ATOMIC_ACQUIRE);
}

/* §6.8.2: aligned DWORD or QWORD inside the table; a QWORD never crosses
 * an entry (16 bytes). Offsets come bounded by the bus, and are checked
 * again for callers that are not. */
static bool table_access_ok(const struct msix *m, uint64_t off, unsigned int len)
{
	return (len == 4 || len == 8) && off % len == 0 && off < msix_table_size(m->nr);
}

void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	const uint32_t *dw;
	uint64_t val;

	if (!table_access_ok(m, off, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	dw = &m->entries[off / PCI_MSIX_ENTRY_SIZE].dw[off % PCI_MSIX_ENTRY_SIZE / 4];
	val = dw[0];
	if (len == 8)
		val |= (uint64_t)dw[1] << 32;
	pthread_mutex_unlock(&m->lock);
	bus_data_put(data, len, val);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len)
{
	unsigned int i = (unsigned int)(off / PCI_MSIX_ENTRY_SIZE);
	uint32_t *e;
	uint64_t val;

	if (!table_access_ok(m, off, len))
		return;
	val = bus_data_get(data, len);
	pthread_mutex_lock(&m->lock);
	e = m->entries[i].dw;
	e[off % PCI_MSIX_ENTRY_SIZE / 4] = (uint32_t)val;
	if (len == 8)
		e[off % PCI_MSIX_ENTRY_SIZE / 4 + 1] = (uint32_t)(val >> 32);
	/* Vector Control has only the Mask Bit, the rest reads 0
	 * (§6.8.2.9); the address is DWORD aligned, its bits 1:0 are not
	 * the guest's to set (§6.8.2.6). */
	e[MSIX_CTRL] &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	e[MSIX_ADDR_LO] &= ~3u;
	vector_update(m, i);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	uint8_t *out = data;

	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t byte = off + i;

		out[i] = 0;
		/* Bits past the last entry read 0 (§6.8.2.10); so does a
		 * byte whose offset wrapped around. */
		if (byte < off || byte >= msix_pba_size(m->nr))
			continue;
		for (unsigned int bit = 0; bit < 8; bit++) {
			uint64_t vec = byte * 8 + bit;

			if (vec < m->nr && msi_vector_pending(&m->vec[vec]))
				out[i] |= (uint8_t)(1u << bit);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_notify(struct msix *m, unsigned int vec)
{
	if (vec < m->nr)
		msi_vector_notify(&m->vec[vec]);
}

int msix_vector_eventfd(struct msix *m, unsigned int vec)
{
	return vec < m->nr ? msi_vector_open(&m->vec[vec]) : -EINVAL;
}

int msix_vector_fd(struct msix *m, unsigned int vec)
{
	int fd;

	pthread_mutex_lock(&m->lock);
	fd = msix_vector_eventfd(m, vec);
	pthread_mutex_unlock(&m->lock);
	return fd;
}
