// SPDX-License-Identifier: MIT
/*
 * Test device: QEMU's pc-testdev (hw/misc/pc-testdev.c) and isa-debug-exit
 * (hw/misc/debugexit.c) behaviour, which guest test payloads are written
 * against.
 *
 * One difference from isa-debug-exit on purpose: QEMU exits with status
 * (v << 1) | 1, so that a guest can never fake a clean exit; minivmm
 * reports VM_STOP_TESTDEV with code v & 0xff and its exit status is v
 * (README.md, Command line), which is what our payloads check.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/testdev.h"

#define TESTDEV_PORT_LEN	4

struct testdev {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	uint32_t scratch;		/* the 0xE0 / 0xE8 register */
	uint8_t mem[TESTDEV_MMIO_SIZE];	/* the MMIO scratch window */
	struct bus *pio, *mmio;
	bool attached;
};

/*
 * The scratch register behaves like a little-endian dword whose bytes are
 * addressed individually: an access of len bytes at offset touches lanes
 * offset .. offset+len-1, as pc-testdev's mask-and-shift does. The bus
 * guarantees offset + len <= 4; lanes past 3 are still ignored defensively.
 */
static void testdev_scratch_read(void *opaque, uint64_t offset, void *data,
				 unsigned int len)
{
	struct testdev *td = opaque;
	uint8_t *out = data;
	uint32_t v;

	pthread_mutex_lock(&td->lock);
	v = td->scratch;
	pthread_mutex_unlock(&td->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t lane = offset + i;

		out[i] = lane < TESTDEV_PORT_LEN ? (uint8_t)(v >> (8 * lane)) : 0xff;
	}
}

static void testdev_scratch_write(void *opaque, uint64_t offset,
				  const void *data, unsigned int len)
{
	struct testdev *td = opaque;
	const uint8_t *in = data;

	pthread_mutex_lock(&td->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t lane = offset + i;

		if (lane >= TESTDEV_PORT_LEN)
			break;
		td->scratch &= ~(0xffu << (8 * lane));
		td->scratch |= (uint32_t)in[i] << (8 * lane);
	}
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_dev_ops testdev_scratch_ops = {
	.read = testdev_scratch_read,
	.write = testdev_scratch_write,
};

/*
 * pc-testdev's "flush page" makes QEMU mprotect() the page the guest
 * named, to shake out stale TLB entries in QEMU's own softmmu. KVM has no
 * such TLB, so there is nothing to flush.
 */
static void testdev_flush_read(void *opaque, uint64_t offset, void *data,
			       unsigned int len)
{
	memset(data, 0, len);
}

static void testdev_flush_write(void *opaque, uint64_t offset,
				const void *data, unsigned int len)
{
}

static const struct bus_dev_ops testdev_flush_ops = {
	.read = testdev_flush_read,
	.write = testdev_flush_write,
};

/* isa-debug-exit: any write at any width ends the run; reads return 0. */
static void testdev_exit_read(void *opaque, uint64_t offset, void *data,
			      unsigned int len)
{
	memset(data, 0, len);
}

static void testdev_exit_write(void *opaque, uint64_t offset,
			       const void *data, unsigned int len)
{
	struct testdev *td = opaque;
	uint64_t v = bus_data_get(data, len);

	td->ops->request_stop(td->ops->vm, VM_STOP_TESTDEV, (int)(v & 0xff));
}

static const struct bus_dev_ops testdev_exit_ops = {
	.read = testdev_exit_read,
	.write = testdev_exit_write,
};

/*
 * The MMIO window is plain memory. The bus never passes an access that
 * runs past the range, but offset and len come from the guest, so check
 * again instead of trusting every future caller.
 */
static bool testdev_mem_ok(uint64_t offset, unsigned int len)
{
	return len <= 8 && len <= TESTDEV_MMIO_SIZE &&
	       offset <= TESTDEV_MMIO_SIZE - len;
}

static void testdev_mem_read(void *opaque, uint64_t offset, void *data,
			     unsigned int len)
{
	struct testdev *td = opaque;

	if (!testdev_mem_ok(offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&td->lock);
	memcpy(data, &td->mem[offset], len);
	pthread_mutex_unlock(&td->lock);
}

static void testdev_mem_write(void *opaque, uint64_t offset, const void *data,
			      unsigned int len)
{
	struct testdev *td = opaque;

	if (!testdev_mem_ok(offset, len))
		return;
	pthread_mutex_lock(&td->lock);
	memcpy(&td->mem[offset], data, len);
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_dev_ops testdev_mem_ops = {
	.read = testdev_mem_read,
	.write = testdev_mem_write,
};

static void testdev_dev_reset(struct device *dev)
{
	struct testdev *td = container_of(dev, struct testdev, dev);

	pthread_mutex_lock(&td->lock);
	td->scratch = 0;
	memset(td->mem, 0, sizeof(td->mem));
	pthread_mutex_unlock(&td->lock);
}

static void testdev_dev_destroy(struct device *dev)
{
	testdev_destroy(container_of(dev, struct testdev, dev));
}

static const struct device_ops testdev_device_ops = {
	.reset = testdev_dev_reset,
	.destroy = testdev_dev_destroy,
};

struct testdev *testdev_create(const struct vm_ops *ops)
{
	struct testdev *td;
	int ret;

	if (!ops || !ops->request_stop) {
		errno = EINVAL;
		return NULL;
	}
	td = calloc(1, sizeof(*td));
	if (!td)
		return NULL;
	ret = pthread_mutex_init(&td->lock, NULL);
	if (ret)
		goto free_td;
	td->ops = ops;
	device_register(ops, &td->dev, "testdev", &testdev_device_ops);
	return td;

free_td:
	free(td);
	errno = ret;
	return NULL;
}

int testdev_attach(struct testdev *td, struct bus *pio, struct bus *mmio)
{
	int ret;

	if (td->attached)
		return -EBUSY;
	ret = bus_register(pio, TESTDEV_PORT_SCRATCH, TESTDEV_PORT_LEN,
			   &testdev_scratch_ops, td, "pc-testdev");
	if (ret)
		return ret;
	ret = bus_register(pio, TESTDEV_PORT_FLUSH, TESTDEV_PORT_LEN,
			   &testdev_flush_ops, td, "pc-testdev-flush-page");
	if (ret)
		goto unregister_scratch;
	ret = bus_register(pio, TESTDEV_PORT_BYTES, TESTDEV_PORT_LEN,
			   &testdev_scratch_ops, td, "pc-testdev-byte");
	if (ret)
		goto unregister_flush;
	ret = bus_register(pio, TESTDEV_PORT_EXIT, TESTDEV_PORT_LEN,
			   &testdev_exit_ops, td, "isa-debug-exit");
	if (ret)
		goto unregister_bytes;
	ret = bus_register(mmio, TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE,
			   &testdev_mem_ops, td, "pc-testdev-mem");
	if (ret)
		goto unregister_exit;
	td->pio = pio;
	td->mmio = mmio;
	td->attached = true;
	return 0;

unregister_exit:
	bus_unregister(pio, TESTDEV_PORT_EXIT);
unregister_bytes:
	bus_unregister(pio, TESTDEV_PORT_BYTES);
unregister_flush:
	bus_unregister(pio, TESTDEV_PORT_FLUSH);
unregister_scratch:
	bus_unregister(pio, TESTDEV_PORT_SCRATCH);
	return ret;
}

void testdev_destroy(struct testdev *td)
{
	if (!td)
		return;
	device_unregister(&td->dev);
	if (td->attached) {
		bus_unregister(td->mmio, TESTDEV_MMIO_BASE);
		bus_unregister(td->pio, TESTDEV_PORT_EXIT);
		bus_unregister(td->pio, TESTDEV_PORT_BYTES);
		bus_unregister(td->pio, TESTDEV_PORT_FLUSH);
		bus_unregister(td->pio, TESTDEV_PORT_SCRATCH);
	}
	pthread_mutex_destroy(&td->lock);
	free(td);
}
