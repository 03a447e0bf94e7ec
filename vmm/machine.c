// SPDX-License-Identifier: MIT
/*
 * Machine assembly: the q35-like machine's devices, created once before
 * any vCPU runs, in the order they depend on each other, at the places
 * lib/layout.h states. Every device registers itself (devices/device.h),
 * so this file is the one place a new device is added: the registry
 * resets them in this order and destroys them in reverse, and each
 * device's contribution to the ACPI tables and fw_cfg is collected at the
 * end, when all of them exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ahci/ahci.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/debugcon.h"
#include "devices/legacy/port92.h"
#include "devices/legacy/reset.h"
#include "devices/legacy/rtc.h"
#include "devices/legacy/testdev.h"
#include "devices/legacy/uart.h"
#include "devices/pci.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "devices/tpm/crb.h"
#include "devices/tpm/swtpm.h"
#include "devices/vfio/vfio.h"
#include "devices/vfio/vfio_ops.h"
#include "devices/net/tap.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "devices/virtio/vhost_net.h"
#include "firmware/acpi.h"
#include "firmware/acpi_tables.h"
#include "firmware/fw_cfg.h"
#include "firmware/ovmf.h"
#include "firmware/smbios.h"
#include "lib/irq_posting.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "lib/topology.h"
#include "vmm/cpuid.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

/* The ISA devices behind the LPC bridge, and the PM block it decodes. */
static int machine_legacy(struct vm *vm, struct acpi_pm **pm_out)
{
	const struct vm_config *cfg = vm->cfg;
	struct rtc_config rtc_cfg = {
		.localtime = cfg->rtc_localtime,
		.ram_below_4g = vm->mem.low_end,
		.ram_above_4g = vm->mem.high_size,
		.nr_cpus = vm->nr_vcpus,
	};
	struct acpi_pm *pm;
	struct port92 *p92;
	struct rtc *rtc;
	int ret;

	vm->uart = uart_create(&vm->ops, LAYOUT_COM1_GSI, vm->serial_out_fd);
	if (!vm->uart)
		return -ENOMEM;
	ret = uart_attach(vm->uart, &vm->pio, LAYOUT_COM1_PORT);
	if (ret)
		return ret;
	if (cfg->debugcon) {
		struct debugcon *dc;

		vm->debugcon_fd = open(cfg->debugcon, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (vm->debugcon_fd < 0) {
			pr_err("--debugcon %s: %s (give a writable path)", cfg->debugcon,
			       strerror(errno));
			return -errno;
		}
		dc = debugcon_create(&vm->ops, vm->debugcon_fd);
		if (!dc)
			return -ENOMEM;
		ret = debugcon_attach(dc, &vm->pio, LAYOUT_DEBUGCON_PORT);
		if (ret)
			return ret;
	}
	if (cfg->testdev) {
		struct testdev *td = testdev_create(&vm->ops);

		if (!td)
			return -ENOMEM;
		testdev_configure(td, &vm->mem, cfg->testdev_qemu_exit);
		ret = testdev_attach(td, &vm->pio, &vm->mmio);
		if (ret)
			return ret;
	}
	p92 = port92_create(&vm->ops);
	if (!p92)
		return -errno;
	ret = port92_attach(p92, &vm->pio);
	if (ret)
		return ret;
	rtc = rtc_create(&vm->ops, &rtc_cfg);
	if (!rtc)
		return -ENOMEM;
	ret = rtc_attach(rtc, &vm->pio);
	if (ret)
		return ret;
	pm = acpi_pm_create(&vm->ops, LAYOUT_SCI_GSI);
	if (!pm)
		return -ENOMEM;
	/* No SMI: the FADT says SMI_CMD = 0, so by ACPI 6.4 §4.8.2.5 the
	 * platform is always in ACPI mode and SCI_EN reads as 1. */
	acpi_pm_set_acpi_mode(pm, true);
	ret = acpi_pm_attach(pm, &vm->pio, LAYOUT_PM_BASE);
	if (ret)
		return ret;
	vm->acpi_pm = pm;	/* its power button is the VM's (SIGTERM) */
	*pm_out = pm;
	return 0;
}

/* The root complex, the reset register in its 0xCF8 dword, the MCH at
 * 00:00.0 and the ICH9 LPC bridge at 00:1f.0, which routes INTx and owns
 * PMBASE (the PM block decodes only once the firmware programs it). */
static int machine_chipset(struct vm *vm, struct acpi_pm *pm, struct pci_root **root_out)
{
	struct reset_ctl *rc;
	struct pci_root *root;
	int ret;

	root = pci_root_create(&vm->ops, &vm->pio, &vm->mmio);
	if (!root)
		return -errno;
	*root_out = root;
	/* 0xCF9 shares its dword with CONFIG_ADDRESS: the root forwards
	 * non-dword accesses there to this bus. */
	rc = reset_ctl_create(&vm->ops);
	if (!rc)
		return -errno;
	ret = reset_ctl_attach(rc, pci_root_cf8_bus(root));
	if (ret)
		return ret;
	if (!mch_create(root))
		return -errno;
	if (!lpc_create(root, &vm->ops, &vm->pio, &vm->mmio, pm))
		return -errno;
	return 0;
}

/*
 * The ICH9 AHCI controller at 00:1f.2, always there as on QEMU's q35 (so
 * a guest sees the same hardware with or without drives, and Windows
 * keeps its driver bound across runs): --cdrom and --disk bus=sata take
 * its ports 0-5 in command-line order (docs/ahci.md).
 */
static int machine_ahci(struct vm *vm, struct pci_root *root)
{
	struct ahci_params p = { 0 };
	unsigned int port = 0;

	for (unsigned int i = 0; i < vm->cfg->nr_disks && port < AHCI_NR_PORTS; i++) {
		const struct disk_config *d = &vm->cfg->disks[i];

		if (d->bus != DISK_BUS_SATA)
			continue;
		if (i < BOOT_MAX_DEVICES)
			bootorder_sata(&vm->boot_devices[i], d->cdrom ? BOOT_CDROM : BOOT_DISK, 0, port);
		p.port[port++] = (struct ahci_drive_params){
			.kind = d->cdrom ? AHCI_DRIVE_CDROM : AHCI_DRIVE_DISK,
			.path = d->path, .readonly = d->readonly, .direct = d->direct,
			.serial = d->serial[0] ? d->serial : NULL,
		};
		pr_debug("ahci port %u: %s %s%s%s", port - 1, d->cdrom ? "CD-ROM" : "SATA disk",
			 d->path, d->readonly && !d->cdrom ? ", read-only" : "",
			 d->direct ? ", O_DIRECT" : "");
	}
	return ahci_create(&vm->ops, &vm->mem, root, &p) ? 0 : -errno;
}

/*
 * --disk (bus=virtio): a virtio-blk function each, on the root bus in the first free
 * slots after the chipset's (00:00.0 MCH; QEMU puts -device there too),
 * a queue per vCPU unless queues= says otherwise. Each disk's I/O
 * threads start when the guest driver does (DRIVER_OK).
 */
static int machine_disks(struct vm *vm, struct pci_root *root)
{
	struct pci_bus *bus0 = pci_root_bus(root);
	unsigned int slot = 1, n = 0;

	for (unsigned int i = 0; i < vm->cfg->nr_disks; i++) {
		const struct disk_config *d = &vm->cfg->disks[i];
		char name[16];
		struct vblk_params p = {
			.path = d->path, .readonly = d->readonly, .direct = d->direct,
			.serial = d->serial[0] ? d->serial : NULL,
			.queues = d->queues ? d->queues :
				  vm->nr_vcpus < VBLK_MAX_QUEUES ? vm->nr_vcpus : VBLK_MAX_QUEUES,
			/* Pinned memory is already resident: registering it
			 * as io_uring fixed buffers costs nothing more. */
			.register_ram = vm->cfg->backing != MEM_BACKING_ANON,
			.iothreads = d->iothreads,
			.name = name,
		};
		struct vblk *disk;
		int ret;

		if (d->bus != DISK_BUS_VIRTIO)
			continue;
		if (p.iothreads > p.queues) {
			pr_err("--disk %s: iothreads=%u is more than the disk's %u queue(s) (one per vCPU; "
			       "set queues= or fewer threads)", d->path, p.iothreads, p.queues);
			return -EINVAL;
		}
		/* n < CLI_MAX_DISKS; the mask tells gcc's -Wformat-truncation so. */
		snprintf(name, sizeof(name), "virtio-blk%u", n++ & 0xff);
		disk = vblk_create(&vm->ops, &vm->mem, &p);	/* copies the name */
		if (!disk)
			return -errno;	/* vblk_create said why */
		while (slot < 0x1f && bus0->devs[PCI_DEVFN(slot, 0)])
			slot++;
		ret = slot < 0x1f ? pci_bus_plug(bus0, vblk_pci(disk), PCI_DEVFN(slot, 0))
				  : -ENOSPC;
		if (ret) {
			pr_err("--disk %s: no free PCI slot on the root bus (%s)", d->path,
			       strerror(-ret));
			return ret;
		}
		if (i < BOOT_MAX_DEVICES)
			bootorder_virtio_blk(&vm->boot_devices[i], 0, slot);
		pr_debug("%s: %s at 00:%02x.0, %u queue(s), %u I/O thread(s)%s%s", name, d->path,
			 slot, p.queues, p.iothreads ? p.iothreads : 1,
			 d->readonly ? ", read-only" : "", d->direct ? ", O_DIRECT" : "");
	}
	return 0;
}

/*
 * A card's MAC when --net gives none: locally administered, QEMU's
 * 52:54:00 prefix, the rest a hash (FNV-1a) of what names the card
 * stably: the VM's name, the host interface and the card's index. A
 * bridge or macvtap card of an unnamed VM gets the process id too, so
 * two such VMs on one bridge do not collide (give --name or mac= for an
 * address that stays).
 */
static void default_mac(const struct vm_config *cfg, const struct net_config *nc,
			unsigned int nth, uint8_t mac[6])
{
	char key[128];
	uint32_t h = 2166136261u;
	bool unnamed = !strcmp(cfg->name, "minivmm") && nc->kind != NET_BACKEND_TAP;

	snprintf(key, sizeof(key), "%s/%d/%s/%u/%d", cfg->name, (int)nc->kind, nc->ifname, nth,
		 unnamed ? (int)getpid() : 0);
	for (const char *c = key; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/*
 * --net: a virtio-net function each, on the root bus after the disks,
 * over a tap, a bridge port or a macvtap of its own (devices/net/tap.h),
 * a queue pair per vCPU unless queues= says otherwise.
 */
static int machine_nics(struct vm *vm, struct pci_root *root)
{
	static const enum tap_kind kinds[] = {
		[NET_BACKEND_TAP] = TAP_EXISTING,
		[NET_BACKEND_BRIDGE] = TAP_BRIDGE,
		[NET_BACKEND_MACVTAP] = TAP_MACVTAP,
	};
	struct pci_bus *bus0 = pci_root_bus(root);
	unsigned int slot = 1;

	for (unsigned int i = 0; i < vm->cfg->nr_nics; i++) {
		const struct net_config *nc = &vm->cfg->nics[i];
		uint8_t mac[6];
		char name[16];
		struct vnet_params p = {
			.mac = mac,
			.queues = nc->queues ? nc->queues :
				  vm->nr_vcpus < VNET_MAX_PAIRS ? vm->nr_vcpus : VNET_MAX_PAIRS,
			.name = name,
		};
		struct tap tap;
		struct vnet *nic;
		int ret;

		snprintf(name, sizeof(name), "virtio-net%u", i & 0xff);
		/* vhost-net unless vhost=off; opened now, before seccomp. */
		p.backend = &net_user_backend;
		if (nc->vhost != NET_VHOST_MODE_OFF) {
			ret = net_vhost_probe();
			if (!ret) {
				p.backend = &net_vhost_backend;
			} else if (nc->vhost == NET_VHOST_MODE_ON) {
				pr_err("--net %s: vhost=on: %s (or vhost=off)", nc->ifname,
				       vhost_net_error(ret));
				return ret;
			} else {
				pr_info("%s: no vhost-net: %s; the userspace data path serves it",
					name, vhost_net_error(ret));
			}
		}
		if (nc->has_mac)
			memcpy(mac, nc->mac, 6);
		else
			default_mac(vm->cfg, nc, i, mac);
		ret = tap_open(&tap, kinds[nc->kind], nc->ifname, i, p.queues);
		if (ret)
			return ret;
		p.tap_fds = tap.fds;
		nic = vnet_create(&vm->ops, &vm->mem, &p);
		if (!nic) {
			ret = -errno;
			pr_err("--net %s: creating the virtio-net device: %s", nc->ifname, strerror(-ret));
			tap_close(&tap);
			return ret;
		}
		/* The device owns the queues now; a macvtap's reaper pipe
		 * stays open (never closed by us) until minivmm exits. */
		tap_release_fds(&tap);
		while (slot < 0x1f && bus0->devs[PCI_DEVFN(slot, 0)])
			slot++;
		ret = slot < 0x1f ? pci_bus_plug(bus0, vnet_pci(nic), PCI_DEVFN(slot, 0)) : -ENOSPC;
		if (ret) {
			pr_err("--net %s: no free PCI slot on the root bus (%s)", nc->ifname,
			       strerror(-ret));
			return ret;
		}
		pr_info("%s: %s %s at 00:%02x.0, MAC %02x:%02x:%02x:%02x:%02x:%02x, %u queue pair(s), %s data path",
			name, nc->kind == NET_BACKEND_TAP ? "tap" : nc->kind == NET_BACKEND_BRIDGE ?
			"bridge port" : "macvtap", tap.ifname, slot, mac[0], mac[1], mac[2], mac[3],
			mac[4], mac[5], p.queues, p.backend->name);
	}
	return 0;
}

/*
 * --tpm: a TPM 2.0 behind the CRB interface at LAYOUT_TPM_CRB_BASE, backed
 * by swtpm: one minivmm starts, its state in the VM's state directory
 * ($MINIVMM_STATE_DIR/NAME/tpm, next to its UEFI variables), or a running
 * one (--tpm socket=PATH). docs/tpm.md.
 */
static int machine_tpm(struct vm *vm)
{
	char state[4096], dir[4200];
	struct tpm_crb_params p = { .base = LAYOUT_TPM_CRB_BASE };
	struct swtpm_params sp = { .socket = vm->cfg->tpm_socket, .state_dir = dir };
	int ret;

	if (!vm->cfg->tpm)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s/tpm", ovmf_state_dir(state, sizeof(state)), vm->cfg->name);
	ret = swtpm_open(&sp, &p.be);
	if (ret)
		return ret;	/* said why */
	if (!tpm_crb_create(&vm->ops, &vm->mmio, &p))
		return -errno;	/* the backend said why */
	if (!sp.socket)
		pr_info("TPM state of VM '%s': %s", vm->cfg->name, dir);
	return 0;
}

/* The path every MSI of a passed device takes to the guest: posted to the
 * vCPU, or through the host with an exit (docs/latency.md, "Pitfalls").
 * Read now, while sysfs may be opened; said once the VM runs (vm.c). */
static void find_irq_posting(struct vm *vm)
{
	struct host_env env;

	host_env_init(&env);
	if (vm->cfg->sysfs_root)
		env.sysfs = vm->cfg->sysfs_root;
	host_irq_posting(&env, vm->irq_posting, sizeof(vm->irq_posting));
}

/*
 * --vfio/--gpu: after the chipset (the INTx router must be there), one
 * PCIe root port per device from slot 0x10 with the function(s) behind
 * it, then all guest RAM mapped for their DMA, once.
 */
static int machine_vfio(struct vm *vm, struct pci_root *root)
{
	const struct vm_config *cfg = vm->cfg;
	struct vfio_container *c;

	if (!cfg->nr_vfio)
		return 0;
	c = vfio_container_create(vfio_sys_ops(), &vm->ops, cfg->sysfs_root);
	if (!c)
		return -errno;
	for (unsigned int i = 0; i < cfg->nr_vfio; i++) {
		const struct vfio_dev_config *d = &cfg->vfio[i];
		struct vfio_slot_config sc = {
			.bdf = d->bdf,
			.romfile = d->romfile[0] ? d->romfile : NULL,
			.all_functions = d->gpu,
			.vga = d->vga,
			.no_mmap = d->no_mmap,
		};

		if (!vfio_slot_create(c, root, &sc))
			return -errno;	/* vfio_slot_create said why */
	}
	find_irq_posting(vm);
	return vfio_container_map_ram(c, &vm->mem);
}

/*
 * --dump-acpi: every table of "etc/acpi/tables" as DIR/SIG.dat (the form
 * acpidump/iasl use), so the tables the firmware receives can be checked
 * with a real validator. The blob is the tables back to back, each
 * starting with its signature and 32-bit length (ACPI 6.4 §5.2.6).
 */
static int machine_dump_acpi(const char *dir, const struct acpi_blob *tables)
{
	size_t off = 0;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		pr_err("--dump-acpi %s: %s", dir, strerror(errno));
		return -errno;
	}
	while (off + 8 <= tables->len) {
		const uint8_t *t = tables->data + off;
		uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
			       (uint32_t)t[7] << 24;
		char path[4200];
		FILE *f;

		if (len < 8 || len > tables->len - off)
			break;
		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
		f = fopen(path, "w");
		if (!f || fwrite(t, 1, len, f) != len) {
			pr_err("--dump-acpi: writing %s: %s", path, strerror(errno));
			if (f)
				fclose(f);
			return -EIO;
		}
		fclose(f);
		/* Tables are packed with the loader's alignment: skip zeros. */
		off += len;
		while (off < tables->len && tables->data[off] == 0)
			off++;
	}
	return 0;
}

/*
 * The ACPI tables (firmware/acpi_tables.h): built now, from what the
 * devices say of themselves and the memory map, and again whenever the
 * firmware selects them, with PCI0's 64-bit window widened to cover the
 * BARs it programmed under root. Created before the fw_cfg that serves
 * them, so that the registry destroys it after.
 */
static int machine_acpi(struct vm *vm, struct pci_root *root, struct acpi_tables **out)
{
	struct acpi_config cfg;
	struct acpi_tables *t;
	int ret;

	acpi_config_init(&cfg);
	/* What the devices say of themselves (the UART its COM1 node). */
	cfg.serial = false;
	ret = device_list_build_acpi(&vm->devices, &cfg);
	if (ret)
		return ret;
	cfg.nr_cpus = vm->nr_vcpus;
	cfg.topo = topo_or_flat(&vm->cfg->topo, vm->nr_vcpus);
	cfg.ram_low_end = vm->mem.low_end;
	cfg.ram_high_size = vm->mem.high_size;
	cfg.pci32_start = vm->mem.low_end;
	cfg.pci32_end = MEM_IOAPIC_BASE;
	/* Where the classic OVMF puts its aperture; what the firmware really
	 * programmed is added when it reads the tables. */
	acpi_ovmf_pci64_window(vm->mem.high_size, &cfg.pci64_base, &cfg.pci64_size);
	t = acpi_tables_create(&vm->ops, &cfg, root);
	if (!t) {
		ret = -errno;
		pr_err("building the ACPI tables: %s", strerror(-ret));
		return ret;
	}
	if (vm->cfg->dump_acpi) {
		ret = machine_dump_acpi(vm->cfg->dump_acpi, &acpi_tables_blobs(t)->tables);
		if (ret)
			return ret;	/* the registry frees t */
	}
	*out = t;
	return 0;
}

/*
 * --boot as the fw_cfg "bootorder" file OVMF follows (*order, malloc'd).
 * Without --boot and without a CD-ROM there is nothing to order: NULL,
 * and OVMF boots the disks in PCI order as it always did.
 */
static int machine_bootorder(struct vm *vm, char **order)
{
	unsigned int n[2] = { 0, 0 };
	bool cdrom = false;
	size_t len;
	int ret;

	*order = NULL;
	/* machine_ahci and machine_disks placed each --disk/--cdrom at its
	 * command-line index; number them per kind, as --boot counts them
	 * (cdrom0 is the first --cdrom, disk0 the first --disk, either bus). */
	vm->nr_boot_devices = vm->cfg->nr_disks < BOOT_MAX_DEVICES ? vm->cfg->nr_disks
								   : BOOT_MAX_DEVICES;
	for (unsigned int i = 0; i < vm->nr_boot_devices; i++) {
		struct boot_device *d = &vm->boot_devices[i];

		d->index = n[d->kind == BOOT_CDROM]++;
		cdrom |= d->kind == BOOT_CDROM;
	}
	if (!vm->cfg->boot_order && !cdrom)
		return 0;
	ret = bootorder_build(vm->cfg->boot_order, vm->boot_devices, vm->nr_boot_devices,
			      order, &len);
	if (!ret)
		pr_debug("bootorder:\n%s", *order);
	return ret;	/* bootorder_build said why */
}

static int machine_fw_cfg(struct vm *vm, struct pci_root *root)
{
	const struct vm_config *cfg = vm->cfg;
	struct kvm_cpuid2 *cpuid = vm->kvm.supported_cpuid;
	struct kvm_cpuid_entry2 *leaf1 = cpuid ? cpuid_find(cpuid, 1, 0) : NULL;
	struct kvm_cpuid_entry2 *leaf0 = cpuid ? cpuid_find(cpuid, 0, 0) : NULL;
	struct kvm_cpuid_entry2 *leaf88 = cpuid ? cpuid_find(cpuid, 0x80000008, 0) : NULL;
	struct cpu_topology topo = topo_or_flat(&cfg->topo, vm->nr_vcpus);
	struct smbios_config sm = {
		.nr_cpus = vm->nr_vcpus,
		/* Type 4 per socket: its cores and their threads. */
		.cores_per_socket = topo.cores,
		.threads_per_core = topo.threads,
		.mem = &vm->mem,
		.serial = cfg->serial_number,
		.cpuid_signature = leaf1 ? leaf1->eax : 0,
		.cpuid_features = leaf1 ? leaf1->edx : 0,
	};
	struct fw_cfg_q35_config q35 = {
		.mem = &vm->mem,
		.nr_cpus = vm->nr_vcpus,
		/* QEMU's apic_id_limit: the NUMA table has an entry per ID. */
		.apic_id_limit = topo_apic_id_limit(&topo),
		.uuid = sm.uuid,
		.nographic = true,
		/* QEMU's rule; without it OVMF's e820 and the guest's idea
		 * of the HyperTransport hole disagree on big AMD guests. */
		.amd_ht_hole = leaf0 && leaf0->ebx == 0x68747541 && leaf88 &&
			       (leaf88->eax & 0xff) >= 40,
	};
	struct acpi_tables *acpi = NULL;
	struct fw_cfg *fw_cfg;
	char *bootorder;
	int ret;

	ret = machine_acpi(vm, root, &acpi);
	if (ret)
		return ret;	/* said why */
	ret = machine_bootorder(vm, &bootorder);
	if (ret)
		return ret;	/* said why */
	q35.bootorder = bootorder;
	if (cfg->has_uuid) {
		memcpy(sm.uuid, cfg->uuid, sizeof(sm.uuid));
	} else {
		ret = smbios_uuid_generate(sm.uuid);
		if (ret)
			goto free_bootorder;
	}
	fw_cfg = fw_cfg_create(&vm->ops, &vm->mem);
	if (!fw_cfg) {
		ret = -errno;
		goto free_bootorder;
	}
	ret = fw_cfg_attach(fw_cfg, &vm->pio);
	if (!ret)
		ret = fw_cfg_add_q35_defaults(fw_cfg, &q35);
	if (!ret)
		ret = smbios_install(fw_cfg, &sm);
	if (!ret)
		ret = device_list_add_fw_cfg(&vm->devices, fw_cfg);
	if (!ret)
		ret = acpi_tables_add_fw_cfg(acpi, fw_cfg);
	if (ret)
		pr_err("setting up fw_cfg: %s", strerror(-ret));
	/* Last, after every file of minivmm's own (--fw-cfg names are
	 * "opt/..." and cannot take theirs). */
	for (unsigned int i = 0; !ret && i < cfg->nr_fw_cfg; i++)
		ret = fw_cfg_add_opt(fw_cfg, cfg->fw_cfg[i].name, cfg->fw_cfg[i].value,
				     cfg->fw_cfg[i].is_string);
free_bootorder:
	free(bootorder);
	return ret;
}

int machine_create(struct vm *vm)
{
	struct pci_root *root = NULL;
	struct acpi_pm *pm = NULL;
	int ret;

	ret = machine_legacy(vm, &pm);
	if (!ret) {
		ret = machine_chipset(vm, pm, &root);
		if (ret)
			pr_err("creating the q35 chipset: %s", strerror(-ret));
	}
	if (!ret)
		ret = machine_tpm(vm);
	if (!ret)
		ret = machine_ahci(vm, root);
	if (!ret)
		ret = machine_disks(vm, root);
	if (!ret)
		ret = machine_nics(vm, root);
	if (!ret)
		ret = machine_vfio(vm, root);
	/* Last: the tables describe every device. */
	if (!ret)
		ret = machine_fw_cfg(vm, root);
	return ret;
}
