// SPDX-License-Identifier: MIT
/*
 * Device quirks of passed functions: NVIDIA's mirrors of PCI config space
 * in BAR0.
 *
 * NVIDIA GPUs (vendor 0x10de) decode their whole PCI configuration space
 * again at BAR0 + 0x88000 (4 KiB), and older ones the first 256 bytes at
 * BAR0 + 0x1800; their drivers use these mirrors, e.g. to acknowledge an
 * MSI by writing the MSI capability's ID byte. Mapped straight through, a
 * guest would reach the device's real config space there, past minivmm's
 * virtualization of it (BARs, MSI address and data, COMMAND). So the pages
 * holding the mirrors are never mapped (bar.c keeps them out of the
 * memslots), and an access inside a mirror is a config access to the
 * virtual config space instead, as QEMU's "nvidia-bar0-88000-mirror-quirk"
 * does. One exception, also QEMU's: a write that lies within the MSI
 * capability's ID and next pointer (read-only bytes, so harmless) reaches
 * the real mirror too, because that is how the driver re-arms MSI on the
 * device. The rest of each trapped page goes to the device (pread/pwrite).
 *
 * Which devices: NVIDIA display controllers (class 03xx), BAR0; the 0x1800
 * mirror only with the legacy VGA ranges forwarded (vga=on), the only
 * setting in which drivers are known to use it (QEMU does the same).
 */
#include <string.h>

#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"

#define NVIDIA_VENDOR_ID	0x10de
#define PCI_BASE_CLASS_DISPLAY	0x03

void vfio_quirks_probe(struct vfio_pci *v, bool legacy_vga)
{
	const uint8_t *hw = v->hw_config;
	uint64_t bar0 = v->bars[0].r.size;

	v->nr_mirrors = 0;
	if (pci_get16(hw, PCI_VENDOR_ID) != NVIDIA_VENDOR_ID ||
	    hw[PCI_CLASS_DEVICE + 1] != PCI_BASE_CLASS_DISPLAY)
		return;
	if (bar0 >= VFIO_NV_MIRROR_OFF + PCI_CFG_SPACE_EXP_SIZE)
		v->mirrors[v->nr_mirrors++] = (struct vfio_mirror){
			.bar = 0, .off = VFIO_NV_MIRROR_OFF, .len = v->dev.cfg_size,
		};
	if (legacy_vga && bar0 >= VFIO_NV_LEGACY_MIRROR_OFF + PCI_CFG_SPACE_SIZE)
		v->mirrors[v->nr_mirrors++] = (struct vfio_mirror){
			.bar = 0, .off = VFIO_NV_LEGACY_MIRROR_OFF, .len = PCI_CFG_SPACE_SIZE,
		};
	if (v->nr_mirrors)
		pr_debug("vfio: %s: NVIDIA config space mirror(s) in BAR0 trapped (%u)", v->bdf,
			 v->nr_mirrors);
}

/* One config access of 1, 2 or 4 bytes at a dword-internal offset. */
static void mirror_cfg(struct vfio_pci *v, unsigned int off, uint8_t *data, unsigned int len,
		       bool write)
{
	uint32_t val = 0;

	if (write) {
		for (unsigned int i = 0; i < len; i++)
			val |= (uint32_t)data[i] << (8 * i);
		pci_dev_cfg_write(&v->dev, off, val, len);
		return;
	}
	val = pci_dev_cfg_read(&v->dev, off, len);
	for (unsigned int i = 0; i < len; i++)
		data[i] = (uint8_t)(val >> (8 * i));
}

bool vfio_quirk_access(struct vfio_pci *v, unsigned int bar, uint64_t off, void *data,
		       unsigned int len, bool write)
{
	for (unsigned int i = 0; i < v->nr_mirrors; i++) {
		const struct vfio_mirror *m = &v->mirrors[i];
		uint8_t *p = data;
		uint64_t at;

		if (bar != m->bar || off >= m->off + m->len || off + len <= m->off)
			continue;
		/* Straddling the mirror's edge: no such access on a real
		 * device; dropped. */
		if (off < m->off || off + len > m->off + m->len) {
			if (!write)
				memset(data, 0xff, len);
			return true;
		}
		at = off - m->off;
		/* In dword-internal pieces (an 8-byte access is two). */
		for (unsigned int done = 0; done < len;) {
			unsigned int n = len - done, room = 4 - (unsigned int)((at + done) & 3);

			if (n > room)
				n = room;
			if (n == 3)
				n = 2;
			mirror_cfg(v, (unsigned int)(at + done), p + done, n, write);
			done += n;
		}
		/* Only a write within the ID and next pointer: a wider one
		 * would carry Message Control to the device too. */
		if (write && v->msi.cap && at >= v->msi.cap && at + len <= v->msi.cap + 2) {
			/* The MSI acknowledgement: to the real mirror too. */
			ssize_t r = v->ops->pwrite(v->ops->ctx, v->fd, data, len,
						   v->bars[bar].r.offset + off);

			if (r != (ssize_t)len)
				pr_warn_once("vfio: %s: MSI acknowledgement through the BAR0 mirror failed",
					     v->bdf);
		}
		return true;
	}
	return false;
}
