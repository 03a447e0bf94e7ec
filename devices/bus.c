// SPDX-License-Identifier: MIT
/*
 * Address-range dispatch for port I/O and MMIO exits.
 *
 * Ranges live in an array sorted by base address and are found by binary
 * search: a handful of devices, looked up on every exit, changed only when
 * the guest moves a BAR. A rwlock lets all vCPUs look up concurrently.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "lib/log.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_exit(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr_ranges = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end is above addr. */
static size_t bus_lower_bound(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_dev_ops *ops, void *opaque, const char *name)
{
	struct bus_range *r;
	size_t i;
	int ret = 0;

	if (len == 0 || base + (len - 1) < base || !ops)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr_ranges && bus->ranges[i].base <= base + (len - 1)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (bus->nr_ranges == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;

		r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr_ranges - i) * sizeof(*bus->ranges));
	bus->ranges[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
		.name = name ? name : "?",
	};
	bus->nr_ranges++;
out_unlock:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr_ranges && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr_ranges - i - 1) * sizeof(*bus->ranges));
		bus->nr_ranges--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static int bus_access(struct bus *bus, uint64_t addr, void *data,
		      unsigned int len, bool is_write)
{
	struct bus_range r;
	bool found = false;
	size_t i;

	pthread_rwlock_rdlock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->nr_ranges && bus->ranges[i].base <= addr &&
	    len <= bus->ranges[i].len &&
	    addr - bus->ranges[i].base <= bus->ranges[i].len - len) {
		__atomic_add_fetch(&bus->ranges[i].accesses, 1, __ATOMIC_RELAXED);
		r = bus->ranges[i];
		found = true;
	}
	/*
	 * Call the device outside the lock: a config-space write may move a
	 * BAR, i.e. re-register a range on this very bus. Devices live until
	 * every vCPU has stopped, so the copied opaque pointer stays valid.
	 */
	pthread_rwlock_unlock(&bus->lock);

	if (!found) {
		__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
		if (!__atomic_exchange_n(&bus->warned, true, __ATOMIC_RELAXED))
			pr_warn("%s: %s of %u bytes at %#llx hits no device (ignored; further ones are only counted)",
				bus->name, is_write ? "write" : "read", len,
				(unsigned long long)addr);
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	if (is_write) {
		if (r.ops->write)
			r.ops->write(r.opaque, addr - r.base, data, len);
	} else if (r.ops->read) {
		r.ops->read(r.opaque, addr - r.base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return 0;
}

int bus_read(struct bus *bus, uint64_t addr, void *data, unsigned int len)
{
	return bus_access(bus, addr, data, len, false);
}

int bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned int len)
{
	return bus_access(bus, addr, (void *)data, len, true);
}
