// SPDX-License-Identifier: MIT
/*
 * The device registry (device.h). Devices are registered and destroyed
 * on the main thread, before the vCPUs start and after they stop; a reset
 * runs with the vCPUs parked. So the list needs no lock of its own.
 */
#include <stddef.h>

#include "devices/device.h"

void device_register(const struct vm_ops *ops, struct device *dev, const char *name,
		     const struct device_ops *dev_ops)
{
	dev->name = name;
	dev->ops = dev_ops;
	dev->list = NULL;
	dev->prev = dev->next = NULL;
	if (ops && ops->register_device)
		ops->register_device(ops->vm, dev);
}

void device_list_add(struct device_list *list, struct device *dev)
{
	device_unregister(dev);
	dev->list = list;
	dev->prev = list->last;
	dev->next = NULL;
	if (list->last)
		list->last->next = dev;
	else
		list->first = dev;
	list->last = dev;
}

void device_unregister(struct device *dev)
{
	struct device_list *list = dev->list;

	if (!list)
		return;
	if (dev->prev)
		dev->prev->next = dev->next;
	else
		list->first = dev->next;
	if (dev->next)
		dev->next->prev = dev->prev;
	else
		list->last = dev->prev;
	dev->list = NULL;
	dev->prev = dev->next = NULL;
}

void device_list_reset(struct device_list *list)
{
	for (struct device *d = list->first; d; d = d->next)
		if (d->ops && d->ops->reset)
			d->ops->reset(d);
}

void device_list_destroy(struct device_list *list)
{
	while (list->last) {
		struct device *d = list->last;

		device_unregister(d);
		if (d->ops && d->ops->destroy)
			d->ops->destroy(d);
	}
}

int device_list_build_acpi(struct device_list *list, struct acpi_config *cfg)
{
	for (struct device *d = list->first; d; d = d->next) {
		int ret = d->ops && d->ops->build_acpi ? d->ops->build_acpi(d, cfg) : 0;

		if (ret)
			return ret;
	}
	return 0;
}

int device_list_add_fw_cfg(struct device_list *list, struct fw_cfg *fw)
{
	for (struct device *d = list->first; d; d = d->next) {
		int ret = d->ops && d->ops->add_fw_cfg ? d->ops->add_fw_cfg(d, fw) : 0;

		if (ret)
			return ret;
	}
	return 0;
}
