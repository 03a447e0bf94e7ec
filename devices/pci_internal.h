/* SPDX-License-Identifier: MIT */
/* Shared between devices/pci*.c only; devices use devices/pci.h. */
#ifndef MINIVMM_PCI_INTERNAL_H
#define MINIVMM_PCI_INTERNAL_H

#include "devices/pci.h"

static inline bool pci_is_bridge(const struct pci_dev *dev)
{
	return (dev->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
}

/* All of these expect the root lock held. */
/* Re-read COMMAND.INTX_DISABLE and the route (bus, swizzle, router)
 * after a config write, plug, unplug, reset or a new router. */
void pci_dev_intx_sync(struct pci_dev *dev);
void pci_bus_intx_sync(struct pci_bus *bus);
void pci_bus_reset(struct pci_bus *bus);
void pci_dev_unmap_bars(struct pci_dev *dev);

#endif
