/* SPDX-License-Identifier: MIT */
/*
 * Boot order for the firmware: the fw_cfg file "bootorder", one
 * OpenFirmware device path per line, most preferred first, as QEMU
 * writes it and OVMF's QemuBootOrderLib reads it (it turns each path into
 * a UEFI device path prefix and moves the matching Boot#### options to the
 * front of BootOrder, in this order).
 */
#ifndef MINIVMM_FIRMWARE_BOOTORDER_H
#define MINIVMM_FIRMWARE_BOOTORDER_H

#include <stddef.h>

enum boot_kind {
	BOOT_CDROM,
	BOOT_DISK,
};

#define BOOT_MAX_DEVICES	16
#define BOOT_OFW_MAX		96

/* One bootable device: its kind, its index among the devices of that kind
 * on the command line (--cdrom / --disk order), where it sits. */
struct boot_device {
	enum boot_kind kind;
	unsigned int index;
	char ofw_path[BOOT_OFW_MAX];
};

/* The paths QemuBootOrderLib translates (OvmfPkg/Library/QemuBootOrderLib):
 * a virtio-blk function in root-bus slot "/pci@i0cf8/scsi@SLOT/disk@0,0",
 * a device on port PORT of the q35 AHCI controller at 00:1f.2
 * "/pci@i0cf8/pci8086,2922@1f,2/drive@PORT/disk@0". */
void bootorder_virtio_blk(struct boot_device *d, unsigned int index, unsigned int slot);
void bootorder_sata(struct boot_device *d, enum boot_kind kind, unsigned int index,
		    unsigned int port);

/*
 * Check a --boot list: comma-separated items, each a kind ("cdrom",
 * "disk": every device of that kind, in command-line order) or one
 * device ("cdrom0", "disk1": the n-th --cdrom / --disk). 0, or -EINVAL
 * after one line naming the bad item.
 */
int bootorder_parse(const char *list);

/*
 * The "bootorder" file for list (NULL: QEMU's -boot dc, CD-ROMs first,
 * then disks) over the devices present: each listed item's devices in
 * turn, a device at most once. An item naming nothing present is an error
 * (-ENOENT, one line saying what to attach or drop). *out is malloc'd,
 * "" (len 0) when no device is bootable.
 */
int bootorder_build(const char *list, const struct boot_device *devs, size_t n,
		    char **out, size_t *len);

#endif
