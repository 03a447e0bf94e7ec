// SPDX-License-Identifier: MIT
/*
 * Debug console port, compatible with QEMU's isa-debugcon.
 *
 * OVMF's PlatformDebugLibIoPort reads the port first and only uses it if
 * it reads back 0xE9 (the Bochs "port E9 hack" signature), so reads must
 * return exactly that; everything written is console output.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "devices/legacy/debugcon.h"
#include "devices/legacy/fdout.h"
#include "lib/log.h"

#define DEBUGCON_READBACK	0xE9

struct debugcon {
	struct device dev;
	pthread_mutex_t lock;	/* keeps bytes from several vCPUs whole */
	int out_fd;
	bool out_stalled;	/* see fdout_write() */
	struct bus *pio;
	uint16_t base;
	bool attached;
};

static void debugcon_read(void *opaque, uint64_t offset, void *data,
			  unsigned int len)
{
	bus_data_put(data, len, DEBUGCON_READBACK);
}

static void debugcon_write(void *opaque, uint64_t offset, const void *data,
			   unsigned int len)
{
	struct debugcon *dc = opaque;
	uint8_t byte = (uint8_t)bus_data_get(data, len);
	int ret;

	pthread_mutex_lock(&dc->lock);
	ret = fdout_write(dc->out_fd, &byte, 1, &dc->out_stalled);
	pthread_mutex_unlock(&dc->lock);
	if (ret)
		pr_warn_once("debugcon: output dropped: %d (is the reader of the debug log still there?)",
			     ret);
}

static const struct bus_dev_ops debugcon_ops = {
	.read = debugcon_read,
	.write = debugcon_write,
};

/* A byte sink has no state to reset. */
static void debugcon_dev_destroy(struct device *dev)
{
	debugcon_destroy(container_of(dev, struct debugcon, dev));
}

static const struct device_ops debugcon_device_ops = {
	.destroy = debugcon_dev_destroy,
};

struct debugcon *debugcon_create(const struct vm_ops *ops, int out_fd)
{
	struct debugcon *dc = calloc(1, sizeof(*dc));
	int ret;

	if (!dc)
		return NULL;
	ret = pthread_mutex_init(&dc->lock, NULL);
	if (ret)
		goto free_dc;
	dc->out_fd = out_fd;
	device_register(ops, &dc->dev, "debugcon", &debugcon_device_ops);
	return dc;

free_dc:
	free(dc);
	errno = ret;
	return NULL;
}

int debugcon_attach(struct debugcon *dc, struct bus *pio, uint16_t base)
{
	int ret;

	if (dc->attached)
		return -EBUSY;
	/* One byte only: neighbouring ports belong to other devices. */
	ret = bus_register(pio, base, 1, &debugcon_ops, dc, "debugcon");
	if (ret)
		return ret;
	dc->pio = pio;
	dc->base = base;
	dc->attached = true;
	return 0;
}

void debugcon_destroy(struct debugcon *dc)
{
	if (!dc)
		return;
	device_unregister(&dc->dev);
	if (dc->attached)
		bus_unregister(dc->pio, dc->base);
	pthread_mutex_destroy(&dc->lock);
	free(dc);
}
