// SPDX-License-Identifier: MIT
/*
 * System Control Port A, I/O 0x92 (IBM PS/2 and PC/AT compatibles; the
 * ICH9 datasheet §13.7.4 "Port 92h"):
 *   bit 0 ALT_RST   a 0 -> 1 transition resets the processor(s)
 *   bit 1 ALT_A20   the A20 gate
 * A reset request asks the VM to stop with VM_STOP_RESET, as the 0xCF9
 * register does (the VM reboots in place). KVM guests always run with A20
 * on, so ALT_A20 is only a bit that reads back what was written; so does
 * ALT_RST once the reset is done, like QEMU's port92, whose value OVMF and
 * Linux never depend on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "devices/legacy/port92.h"

#define PORT92_ALT_RST		(1u << 0)
#define PORT92_ALT_A20		(1u << 1)

struct port92 {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	uint8_t value;
	struct bus *pio;
	bool attached;
};

static void port92_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct port92 *p = opaque;
	uint8_t v;

	pthread_mutex_lock(&p->lock);
	v = p->value;
	pthread_mutex_unlock(&p->lock);
	bus_data_put(data, len, v);
}

static void port92_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct port92 *p = opaque;
	uint8_t v = (uint8_t)bus_data_get(data, len);
	bool reset;

	pthread_mutex_lock(&p->lock);
	reset = (v & PORT92_ALT_RST) && !(p->value & PORT92_ALT_RST);
	p->value = v & (PORT92_ALT_RST | PORT92_ALT_A20);
	pthread_mutex_unlock(&p->lock);
	if (reset)
		p->ops->request_stop(p->ops->vm, VM_STOP_RESET, 0);
}

static const struct bus_dev_ops port92_ops = {
	.read = port92_read,
	.write = port92_write,
};

/* After a reset both bits are 0: A20 as the firmware starts it (a KVM
 * guest sees A20 on whatever this says). */
static void port92_dev_reset(struct device *dev)
{
	struct port92 *p = container_of(dev, struct port92, dev);

	pthread_mutex_lock(&p->lock);
	p->value = 0;
	pthread_mutex_unlock(&p->lock);
}

static void port92_dev_destroy(struct device *dev)
{
	port92_destroy(container_of(dev, struct port92, dev));
}

static const struct device_ops port92_device_ops = {
	.reset = port92_dev_reset,
	.destroy = port92_dev_destroy,
};

struct port92 *port92_create(const struct vm_ops *ops)
{
	struct port92 *p;
	int ret;

	if (!ops || !ops->request_stop) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	ret = pthread_mutex_init(&p->lock, NULL);
	if (ret)
		goto free_p;
	p->ops = ops;
	device_register(ops, &p->dev, "port92", &port92_device_ops);
	return p;

free_p:
	free(p);
	errno = ret;
	return NULL;
}

int port92_attach(struct port92 *p, struct bus *pio)
{
	int ret;

	if (p->attached)
		return -EBUSY;
	ret = bus_register(pio, LAYOUT_PORT92, 1, &port92_ops, p, "port92");
	if (ret)
		return ret;
	p->pio = pio;
	p->attached = true;
	return 0;
}

void port92_destroy(struct port92 *p)
{
	if (!p)
		return;
	device_unregister(&p->dev);
	if (p->attached)
		bus_unregister(p->pio, LAYOUT_PORT92);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
