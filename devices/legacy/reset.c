// SPDX-License-Identifier: MIT
/*
 * Reset Control register, ICH9 datasheet §13.7.5 "RST_CNT—Reset Control
 * Register" (I/O 0xCF9, one byte):
 *   bit 3 FULL_RST  choose a full reset (power cycle) over a hard reset
 *   bit 2 RST_CPU   0->1 starts the reset selected by bits 1 and 3
 *   bit 1 SYS_RST   hard (platform) reset rather than soft (INIT) reset
 * Any requested reset, whatever its flavour, asks the VM to stop with
 * VM_STOP_RESET; the VM then reboots in place (or, with --no-reboot,
 * exits with status 3).
 *
 * Only 0xCF9 is claimed: 0xCF8-0xCFB as a dword is the PCI CONFIG_ADDRESS
 * register, which the PCI host bridge owns. The bus never hands us a wider
 * access to a one-byte range, so partial overlap cannot happen.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "devices/legacy/reset.h"
#include "lib/layout.h"

#define RST_CNT_SYS_RST		(1u << 1)
#define RST_CNT_RST_CPU		(1u << 2)
#define RST_CNT_FULL_RST	(1u << 3)
/* RST_CPU is a trigger, not state: only bits 1 and 3 read back (QEMU's
 * ich9 LPC model does the same). */
#define RST_CNT_KEPT		(RST_CNT_SYS_RST | RST_CNT_FULL_RST)

struct reset_ctl {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	uint8_t rst_cnt;
	struct bus *pio;
	bool attached;
};

static void reset_ctl_read(void *opaque, uint64_t offset, void *data,
			   unsigned int len)
{
	struct reset_ctl *rc = opaque;
	uint8_t v;

	pthread_mutex_lock(&rc->lock);
	v = rc->rst_cnt;
	pthread_mutex_unlock(&rc->lock);
	bus_data_put(data, len, v);
}

static void reset_ctl_write(void *opaque, uint64_t offset, const void *data,
			    unsigned int len)
{
	struct reset_ctl *rc = opaque;
	uint8_t v = (uint8_t)bus_data_get(data, len);

	pthread_mutex_lock(&rc->lock);
	rc->rst_cnt = v & RST_CNT_KEPT;
	pthread_mutex_unlock(&rc->lock);
	/* request_stop is safe from any thread; the first request wins. */
	if (v & RST_CNT_RST_CPU)
		rc->ops->request_stop(rc->ops->vm, VM_STOP_RESET, 0);
}

static const struct bus_dev_ops reset_ctl_ops = {
	.read = reset_ctl_read,
	.write = reset_ctl_write,
};

/* ICH9 §13.7.5: RST_CNT is 0 after a reset (the one it may have asked
 * for included). */
static void reset_ctl_dev_reset(struct device *dev)
{
	struct reset_ctl *rc = container_of(dev, struct reset_ctl, dev);

	pthread_mutex_lock(&rc->lock);
	rc->rst_cnt = 0;
	pthread_mutex_unlock(&rc->lock);
}

static void reset_ctl_dev_destroy(struct device *dev)
{
	reset_ctl_destroy(container_of(dev, struct reset_ctl, dev));
}

static const struct device_ops reset_ctl_device_ops = {
	.reset = reset_ctl_dev_reset,
	.destroy = reset_ctl_dev_destroy,
};

struct reset_ctl *reset_ctl_create(const struct vm_ops *ops)
{
	struct reset_ctl *rc;
	int ret;

	if (!ops || !ops->request_stop) {
		errno = EINVAL;
		return NULL;
	}
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return NULL;
	ret = pthread_mutex_init(&rc->lock, NULL);
	if (ret)
		goto free_rc;
	rc->ops = ops;
	device_register(ops, &rc->dev, "reset-ctl", &reset_ctl_device_ops);
	return rc;

free_rc:
	free(rc);
	errno = ret;
	return NULL;
}

int reset_ctl_attach(struct reset_ctl *rc, struct bus *pio)
{
	int ret;

	if (rc->attached)
		return -EBUSY;
	ret = bus_register(pio, LAYOUT_RESET_PORT, 1, &reset_ctl_ops, rc, "reset");
	if (ret)
		return ret;
	rc->pio = pio;
	rc->attached = true;
	return 0;
}

void reset_ctl_destroy(struct reset_ctl *rc)
{
	if (!rc)
		return;
	device_unregister(&rc->dev);
	if (rc->attached)
		bus_unregister(rc->pio, LAYOUT_RESET_PORT);
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}
