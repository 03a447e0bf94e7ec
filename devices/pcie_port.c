// SPDX-License-Identifier: MIT
/*
 * PCIe root port (see pcie_port.h). The bridge part (bus numbers,
 * windows, Secondary Bus Reset, config routing and decode forwarding) is
 * the core's Type-1 header; this file adds the PCI Express Capability
 * (PCIe 4.0 §7.5.3) that makes it a Root Port to the guest: version 2,
 * a link that is up (Data Link Layer Link Active, so drivers that wait for
 * the link see it trained), and a slot with a card present. The link is
 * x1 2.5 GT/s until pcie_root_port_set_link() gives it the speeds and
 * width of the device behind it, as a real port would have trained them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pcie_port.h"
#include "devices/pcie_regs.h"

struct pcie_port {
	struct pci_dev dev;
	char name[24];
};

#define PCI_CLASS_BRIDGE_PCI	0x060400

/* Link: 2.5 GT/s (speed code 1), x1 (PCIe 4.0 §7.5.3.6, §7.5.3.8). */
#define LNK_SPEED_2_5GT		0x1
#define LNK_WIDTH_X1		(1u << 4)
#define LNK_SPEED_MASK		0x000f
#define LNK_WIDTH_MASK		0x03f0
#define LNKCAP2_SPEEDS_MASK	0x00fe

static int pcie_port_add_exp_cap(struct pci_dev *dev, unsigned int port_nr)
{
	unsigned int c = PCIE_PORT_EXP_CAP;
	int ret = pci_dev_add_cap(dev, PCI_CAP_ID_EXP, c, PCI_EXP_SIZEOF_V2);

	if (ret < 0)
		return ret;
	pci_set16(dev->config, c + PCI_EXP_FLAGS,
		  2 | PCI_EXP_TYPE_ROOT_PORT << 4 | PCI_EXP_FLAGS_SLOT);
	/* 128-byte max payload, role-based error reporting (required since
	 * PCIe 1.1 for everything but legacy devices). */
	pci_set32(dev->config, c + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
	pci_set16(dev->wmask, c + PCI_EXP_DEVCTL, 0xffff);
	pci_set16(dev->w1cmask, c + PCI_EXP_DEVSTA, 0x000f);
	pci_set32(dev->config, c + PCI_EXP_LNKCAP,
		  (port_nr & 0xff) << 24 | PCI_EXP_LNKCAP_DLLLARC | LNK_WIDTH_X1 |
		  LNK_SPEED_2_5GT);
	/* ASPM control, RCB, common clock, ... are storage: nothing here
	 * has a link to train. Retrain (bit 5) completes at once: Link
	 * Training (LNKSTA bit 11) never reads 1. */
	pci_set16(dev->wmask, c + PCI_EXP_LNKCTL, 0x0fdb);
	pci_set16(dev->config, c + PCI_EXP_LNKSTA,
		  PCI_EXP_LNKSTA_DLLLA | LNK_WIDTH_X1 | LNK_SPEED_2_5GT);
	/* A slot without any hot-plug capability, physical slot number. */
	pci_set32(dev->config, c + PCI_EXP_SLTCAP, (port_nr & 0x1fff) << 19);
	pci_set16(dev->config, c + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
	/* Root Control: the error/PME interrupt enables, storage. */
	pci_set16(dev->wmask, c + PCI_EXP_RTCTL, 0x001f);
	pci_set32(dev->w1cmask, c + PCI_EXP_RTSTA, 0x00010000);
	/* Version 2 registers: ARI forwarding and the completion timeout
	 * value are the only Device Control 2 fields a root port honours. */
	pci_set16(dev->wmask, c + PCI_EXP_DEVCTL2, 0x003f);
	pci_set32(dev->config, c + PCI_EXP_LNKCAP2, 1u << 1);	/* 2.5 GT/s */
	pci_set16(dev->config, c + PCI_EXP_LNKCTL2, LNK_SPEED_2_5GT);
	pci_set16(dev->wmask, c + PCI_EXP_LNKCTL2, 0x0fff);
	pci_set16(dev->config, c + PCI_EXP_LNKSTA2, 0);
	return 0;
}

/* Link Capabilities 2's Supported Link Speeds Vector (bits 7:1, §7.5.3.18)
 * for a device whose LNKCAP2 is 0 (before PCIe 3.0): every speed up to
 * its Max Link Speed, which then indexes 2.5, 5.0 GT/s (§7.5.3.6). */
static uint32_t speeds_upto(unsigned int max)
{
	return (uint32_t)((1u << (max + 1)) - 2);
}

void pcie_root_port_set_link(struct pcie_port *port, uint32_t lnkcap, uint16_t lnksta,
			     uint32_t lnkcap2)
{
	uint8_t *cfg = port->dev.config;
	unsigned int c = PCIE_PORT_EXP_CAP, max = lnkcap & LNK_SPEED_MASK;
	unsigned int width = (lnkcap & LNK_WIDTH_MASK) >> 4;
	unsigned int cur = lnksta & LNK_SPEED_MASK, cur_width = (lnksta & LNK_WIDTH_MASK) >> 4;
	uint32_t vector = lnkcap2 & LNKCAP2_SPEEDS_MASK;

	/* Speeds 1-7 index the vector; widths are x1-x32 (§7.5.3.6). A
	 * device that says nothing sensible keeps the x1 2.5 GT/s link. */
	if (max < 1 || max > 7 || width < 1 || width > 32)
		return;
	if (!vector)
		vector = speeds_upto(max);
	if (!(vector & (1u << max)))
		vector |= 1u << max;
	/* A link that is down or mid-training reads as the maximum. */
	if (cur < 1 || cur > max || cur_width < 1 || cur_width > width) {
		cur = max;
		cur_width = width;
	}
	pci_set32(cfg, c + PCI_EXP_LNKCAP,
		  (pci_get32(cfg, c + PCI_EXP_LNKCAP) & ~(LNK_SPEED_MASK | LNK_WIDTH_MASK)) |
		  width << 4 | max);
	pci_set16(cfg, c + PCI_EXP_LNKSTA, (uint16_t)(PCI_EXP_LNKSTA_DLLLA | cur_width << 4 | cur));
	pci_set32(cfg, c + PCI_EXP_LNKCAP2, vector);
	/* Target Link Speed: the highest supported, its reset value. */
	pci_set16(cfg, c + PCI_EXP_LNKCTL2,
		  (uint16_t)((pci_get16(cfg, c + PCI_EXP_LNKCTL2) & ~LNK_SPEED_MASK) | max));
	/* What a reset of the hierarchy restores. */
	memcpy(port->dev.reset_config + c + PCI_EXP_LNKCAP, cfg + c + PCI_EXP_LNKCAP, 4);
	memcpy(port->dev.reset_config + c + PCI_EXP_LNKSTA, cfg + c + PCI_EXP_LNKSTA, 2);
	memcpy(port->dev.reset_config + c + PCI_EXP_LNKCAP2, cfg + c + PCI_EXP_LNKCAP2, 4);
	memcpy(port->dev.reset_config + c + PCI_EXP_LNKCTL2, cfg + c + PCI_EXP_LNKCTL2, 2);
}

struct pcie_port *pcie_root_port_create(struct pci_bus *bus, uint8_t devfn,
					unsigned int port_nr)
{
	struct pcie_port *port = calloc(1, sizeof(*port));
	int ret;

	if (!port) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(port->name, sizeof(port->name), "pcie-root-port.%u", port_nr);
	ret = pci_dev_init(&port->dev, NULL, port->name, PCIE_PORT_VENDOR_ID,
			   PCIE_PORT_DEVICE_ID, PCI_CLASS_BRIDGE_PCI, 0,
			   PCI_HEADER_TYPE_BRIDGE, true);
	if (ret)
		goto free_port;
	ret = pcie_port_add_exp_cap(&port->dev, port_nr);
	if (ret)
		goto exit_dev;
	ret = pci_bus_plug(bus, &port->dev, devfn);
	if (ret)
		goto exit_dev;
	return port;

exit_dev:
	pci_dev_exit(&port->dev);
free_port:
	free(port);
	errno = -ret;
	return NULL;
}

void pcie_root_port_destroy(struct pcie_port *port)
{
	if (!port)
		return;
	pci_dev_exit(&port->dev);
	free(port);
}

struct pci_bus *pcie_port_bus(struct pcie_port *port)
{
	return port->dev.secondary;
}

struct pci_dev *pcie_port_dev(struct pcie_port *port)
{
	return &port->dev;
}

int pci_bus_free_slot(struct pci_bus *bus, unsigned int first)
{
	int ret = -ENOSPC;

	if (bus->root)
		pthread_mutex_lock(&bus->root->lock);
	for (unsigned int s = first; s < 32; s++) {
		if (!bus->devs[PCI_DEVFN(s, 0)]) {
			ret = (int)s;
			break;
		}
	}
	if (bus->root)
		pthread_mutex_unlock(&bus->root->lock);
	return ret;
}
