// SPDX-License-Identifier: MIT
/*
 * Emulated MSI-X (PCI 3.0 §6.8.2) delivered through KVM irqfds. See
 * msix.h for the model.
 *
 * The mask/pending hand-off between a device thread (msix_notify) and a
 * vCPU unmasking a vector (vector_update) needs no lock: the notifier
 * publishes pending, then re-reads blocked; the unmasker publishes
 * !blocked, then takes pending. Both use sequentially consistent atomics,
 * so at least one of them sees the other's store, and whichever clears
 * pending delivers the message exactly once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/virtio/msix.h"
#include "lib/log.h"

static void vector_fire(struct msix_vector *v)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: an interrupt is coming
	 * anyway. Nothing else can fail on an eventfd we own. */
	if (write(v->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("msix: signalling an irqfd failed: %s", strerror(errno));
}

int msix_init(struct msix *m, const struct vm_ops *ops, unsigned int nr, const char *name)
{
	int ret;

	memset(m, 0, sizeof(*m));
	if (!nr || nr > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->v = calloc(nr, sizeof(*m->v));
	if (!m->v)
		return -ENOMEM;
	ret = -pthread_mutex_init(&m->lock, NULL);
	if (ret)
		goto free_v;
	m->ops = ops;
	m->name = name;
	m->nr = nr;
	for (unsigned int i = 0; i < nr; i++)
		m->v[i].fd = -1;
	for (unsigned int i = 0; i < nr; i++) {
		m->v[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->v[i].fd < 0) {
			ret = -errno;
			goto close_fds;
		}
		m->v[i].entry[3] = MSIX_ENTRY_CTRL_MASKED;
		m->v[i].blocked = 1;
	}
	return 0;

close_fds:
	for (unsigned int i = 0; i < nr; i++)
		if (m->v[i].fd >= 0)
			close(m->v[i].fd);
	pthread_mutex_destroy(&m->lock);
free_v:
	free(m->v);
	m->v = NULL;
	return ret;
}

static void vector_unroute(struct msix *m, struct msix_vector *v)
{
	if (!v->routed)
		return;
	m->ops->remove_irqfd(m->ops->vm, v->gsi, v->fd);
	m->ops->remove_msi_route(m->ops->vm, v->gsi);
	v->routed = false;
}

void msix_exit(struct msix *m)
{
	if (!m->v)
		return;
	for (unsigned int i = 0; i < m->nr; i++) {
		vector_unroute(m, &m->v[i]);
		close(m->v[i].fd);
	}
	pthread_mutex_destroy(&m->lock);
	free(m->v);
	m->v = NULL;
}

/* Make the kernel route follow the entry; false if it cannot (logged). */
static bool vector_route(struct msix *m, struct msix_vector *v)
{
	uint64_t addr = v->entry[0] | (uint64_t)v->entry[1] << 32;
	uint32_t data = v->entry[2];
	int ret;

	if (v->routed) {
		if (addr == v->route_addr && data == v->route_data)
			return true;
		ret = m->ops->update_msi_route(m->ops->vm, v->gsi, addr, data);
		if (ret) {
			pr_warn_once("%s: cannot update an MSI-X route: %s", m->name, strerror(-ret));
			return false;
		}
	} else {
		ret = m->ops->add_msi_route(m->ops->vm, addr, data, &v->gsi);
		if (ret) {
			pr_warn_once("%s: cannot add an MSI-X route: %s (the vector stays masked)",
				     m->name, strerror(-ret));
			return false;
		}
		ret = m->ops->add_irqfd(m->ops->vm, v->gsi, v->fd, -1);
		if (ret) {
			pr_warn_once("%s: cannot attach an irqfd: %s (the vector stays masked)",
				     m->name, strerror(-ret));
			m->ops->remove_msi_route(m->ops->vm, v->gsi);
			return false;
		}
		v->routed = true;
	}
	v->route_addr = addr;
	v->route_data = data;
	return true;
}

/* Re-evaluate one vector after its entry or the control bits changed. */
static void vector_update(struct msix *m, struct msix_vector *v)
{
	bool masked = !m->enabled || m->fmask || (v->entry[3] & MSIX_ENTRY_CTRL_MASKED);

	if (masked || !vector_route(m, v)) {
		__atomic_store_n(&v->blocked, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_store_n(&v->blocked, 0, __ATOMIC_SEQ_CST);
	/* §6.8.2.9: a message pending while masked goes out on unmask. */
	if (__atomic_exchange_n(&v->pending, 0, __ATOMIC_SEQ_CST))
		vector_fire(v);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, false, __ATOMIC_RELEASE);
	m->fmask = false;
	for (unsigned int i = 0; i < m->nr; i++) {
		struct msix_vector *v = &m->v[i];

		__atomic_store_n(&v->blocked, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&v->pending, 0, __ATOMIC_SEQ_CST);
		memset(v->entry, 0, sizeof(v->entry));
		v->entry[3] = MSIX_ENTRY_CTRL_MASKED;
		vector_unroute(m, v);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_set_control(struct msix *m, bool enable, bool fmask)
{
	pthread_mutex_lock(&m->lock);
	if (m->enabled != enable || m->fmask != fmask) {
		__atomic_store_n(&m->enabled, enable, __ATOMIC_RELEASE);
		m->fmask = fmask;
		for (unsigned int i = 0; i < m->nr; i++)
			vector_update(m, &m->v[i]);
	}
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	return __atomic_load_n(&m->enabled, __ATOMIC_ACQUIRE);
}

/*
 * The table is an array of 16-byte entries; software uses dword or qword
 * accesses (§6.8.2), but any aligned-or-not access within the table is
 * served byte by byte so that nothing is lost. Offsets come from the bus,
 * which bounds them by the region, and are checked again anyway.
 */
void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	uint8_t *out = data;

	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t o = off + i;
		uint64_t vec = o / MSIX_ENTRY_SIZE;
		unsigned int word = (o % MSIX_ENTRY_SIZE) / 4, byte = o % 4;

		out[i] = vec < m->nr ? (uint8_t)(m->v[vec].entry[word] >> (8 * byte)) : 0;
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len)
{
	const uint8_t *in = data;
	uint64_t first = off / MSIX_ENTRY_SIZE, last = (off + len - 1) / MSIX_ENTRY_SIZE;

	if (!len)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t o = off + i;
		uint64_t vec = o / MSIX_ENTRY_SIZE;
		unsigned int word = (o % MSIX_ENTRY_SIZE) / 4, byte = o % 4;
		uint32_t *w;

		if (vec >= m->nr)
			continue;
		w = &m->v[vec].entry[word];
		*w = (*w & ~(0xffu << (8 * byte))) | (uint32_t)in[i] << (8 * byte);
	}
	for (uint64_t vec = first; vec <= last && vec < m->nr; vec++) {
		/* Only the mask bit of Vector Control is writable (§6.8.2.9);
		 * the low two address bits are reserved zero (§6.8.2.6). */
		m->v[vec].entry[3] &= MSIX_ENTRY_CTRL_MASKED;
		m->v[vec].entry[0] &= ~3u;
		vector_update(m, &m->v[vec]);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	uint8_t *out = data;

	for (unsigned int i = 0; i < len; i++) {
		uint8_t b = 0;

		for (unsigned int bit = 0; bit < 8; bit++) {
			uint64_t vec = (off + i) * 8 + bit;

			if (vec < m->nr && __atomic_load_n(&m->v[vec].pending, __ATOMIC_SEQ_CST))
				b |= (uint8_t)(1u << bit);
		}
		out[i] = b;
	}
}

void msix_notify(struct msix *m, unsigned int vec)
{
	struct msix_vector *v;

	if (vec >= m->nr)
		return;
	v = &m->v[vec];
	if (!__atomic_load_n(&v->blocked, __ATOMIC_SEQ_CST)) {
		vector_fire(v);
		return;
	}
	__atomic_store_n(&v->pending, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&v->blocked, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&v->pending, 0, __ATOMIC_SEQ_CST))
		vector_fire(v);
}
