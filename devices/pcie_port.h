/* SPDX-License-Identifier: MIT */
/*
 * PCIe root port: a Type-1 function on the root bus with a PCI Express
 * Capability of type Root Port, as QEMU's pcie-root-port (1b36:000c) that
 * the usual passthrough guides put every passed device behind. The
 * firmware (OVMF's PCI bus driver, or a test payload) programs its bus
 * numbers and windows; the core forwards config cycles and decodes
 * through it, and its Secondary Bus Reset resets what sits behind.
 */
#ifndef MINIVMM_PCIE_PORT_H
#define MINIVMM_PCIE_PORT_H

#include <stdint.h>

#include "devices/pci.h"

#define PCIE_PORT_VENDOR_ID	0x1b36	/* Red Hat, QEMU's pcie-root-port */
#define PCIE_PORT_DEVICE_ID	0x000c
#define PCIE_PORT_EXP_CAP	0x40	/* where the PCIe capability sits */

struct pcie_port;

/*
 * Plug a root port into bus (the root bus) at devfn. port_nr becomes the
 * Link Capabilities port number and the physical slot number (unique per
 * machine, as PCIe 4.0 §7.5.3.9 wants for slots). NULL (errno set) on
 * failure.
 */
struct pcie_port *pcie_root_port_create(struct pci_bus *bus, uint8_t devfn,
					unsigned int port_nr);
/*
 * Give the port the link of the device behind it (PCIe 4.0 §7.5.3.6,
 * §7.5.3.8, §7.5.3.18, §7.5.3.19): lnkcap's Max Link Speed and Width,
 * lnksta's current speed and width, lnkcap2's Supported Link Speeds
 * (0, as before PCIe 3.0: every speed up to the maximum); Target Link
 * Speed becomes the maximum. The port number, Data Link Layer Link Active
 * and the link's control bits stay. Nonsense (no speed, width 0 or above
 * x32) leaves the x1 2.5 GT/s link; a current speed or width above the
 * maximum (a link down or in training) reads as the maximum. Before the
 * guest runs: it is also the port's value after a reset.
 */
void pcie_root_port_set_link(struct pcie_port *port, uint32_t lnkcap, uint16_t lnksta,
			     uint32_t lnkcap2);
/* Unplugs whatever is behind it first. */
void pcie_root_port_destroy(struct pcie_port *port);
/* The bus behind the port: plug the device here at devfn PCI_DEVFN(0, f). */
struct pci_bus *pcie_port_bus(struct pcie_port *port);
struct pci_dev *pcie_port_dev(struct pcie_port *port);

/* The first free slot >= first on bus (function 0 free), or -ENOSPC. */
int pci_bus_free_slot(struct pci_bus *bus, unsigned int first);

#endif
