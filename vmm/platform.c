// SPDX-License-Identifier: MIT
/*
 * Assembling the q35-like chipset and what the firmware reads through
 * fw_cfg. Everything here happens once, before any vCPU runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/reset.h"
#include "devices/pci.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "firmware/acpi.h"
#include "firmware/fw_cfg.h"
#include "firmware/smbios.h"
#include "lib/log.h"
#include "vmm/cpuid.h"
#include "vmm/platform.h"
#include "vmm/vm.h"

static int platform_chipset(struct vm *vm)
{
	int ret;

	vm->pci = pci_root_create(&vm->ops, &vm->pio, &vm->mmio);
	if (!vm->pci)
		return -errno;
	/* 0xCF9 shares its dword with CONFIG_ADDRESS: the root forwards
	 * non-dword accesses there to this bus. */
	ret = reset_ctl_attach(vm->reset, pci_root_cf8_bus(vm->pci));
	if (ret)
		return ret;
	vm->mch = mch_create(vm->pci);
	if (!vm->mch)
		return -errno;
	/* The LPC bridge owns PMBASE: the PM block decodes only once the
	 * firmware programs PMBASE and sets ACPI_EN, as on an ICH9. */
	vm->lpc = lpc_create(vm->pci, &vm->ops, &vm->pio, &vm->mmio, vm->acpi_pm);
	if (!vm->lpc)
		return -errno;
	return 0;
}

/*
 * --dump-acpi: every table of "etc/acpi/tables" as DIR/SIG.dat (the form
 * acpidump/iasl use), so the tables the firmware receives can be checked
 * with a real validator. The blob is the tables back to back, each
 * starting with its signature and 32-bit length (ACPI 6.4 §5.2.6).
 */
static int platform_dump_acpi(const char *dir, const struct acpi_blob *tables)
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

static int platform_acpi(struct vm *vm)
{
	struct acpi_config cfg;
	struct acpi_blobs blobs = { 0 };
	int ret;

	acpi_config_init(&cfg);
	cfg.nr_cpus = vm->nr_vcpus;
	cfg.ram_low_end = vm->mem.low_end;
	cfg.ram_high_size = vm->mem.high_size;
	cfg.pci32_start = vm->mem.low_end;
	cfg.pci32_end = MEM_IOAPIC_BASE;
	acpi_ovmf_pci64_window(vm->mem.high_size, &cfg.pci64_base, &cfg.pci64_size);
	ret = acpi_build(&cfg, &blobs);
	if (ret) {
		pr_err("building the ACPI tables: %s", strerror(-ret));
		return ret;
	}
	if (vm->cfg->dump_acpi) {
		ret = platform_dump_acpi(vm->cfg->dump_acpi, &blobs.tables);
		if (ret)
			goto free_blobs;
	}
	ret = fw_cfg_add_file(vm->fw_cfg, "etc/acpi/tables", blobs.tables.data, blobs.tables.len);
	if (!ret)
		ret = fw_cfg_add_file(vm->fw_cfg, "etc/acpi/rsdp", blobs.rsdp.data, blobs.rsdp.len);
	if (!ret)
		ret = fw_cfg_add_file(vm->fw_cfg, "etc/table-loader", blobs.loader.data,
				      blobs.loader.len);
free_blobs:
	acpi_blobs_free(&blobs);
	return ret;
}

static int platform_fw_cfg(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct kvm_cpuid_entry2 *leaf1 = cpuid_find(vm->kvm.supported_cpuid, 1, 0);
	struct kvm_cpuid_entry2 *leaf0 = cpuid_find(vm->kvm.supported_cpuid, 0, 0);
	struct kvm_cpuid_entry2 *leaf88 = cpuid_find(vm->kvm.supported_cpuid, 0x80000008, 0);
	struct smbios_config sm = {
		.nr_cpus = vm->nr_vcpus,
		.mem = &vm->mem,
		.serial = cfg->serial_number,
		.cpuid_signature = leaf1 ? leaf1->eax : 0,
		.cpuid_features = leaf1 ? leaf1->edx : 0,
	};
	struct fw_cfg_q35_config q35 = {
		.mem = &vm->mem,
		.nr_cpus = vm->nr_vcpus,
		.uuid = sm.uuid,
		.nographic = true,
		/* QEMU's rule; without it OVMF's e820 and the guest's idea
		 * of the HyperTransport hole disagree on big AMD guests. */
		.amd_ht_hole = leaf0 && leaf0->ebx == 0x68747541 && leaf88 &&
			       (leaf88->eax & 0xff) >= 40,
	};
	int ret;

	if (cfg->has_uuid) {
		memcpy(sm.uuid, cfg->uuid, sizeof(sm.uuid));
	} else {
		ret = smbios_uuid_generate(sm.uuid);
		if (ret)
			return ret;
	}
	vm->fw_cfg = fw_cfg_create(&vm->mem);
	if (!vm->fw_cfg)
		return -errno;
	ret = fw_cfg_attach(vm->fw_cfg, &vm->pio);
	if (!ret)
		ret = fw_cfg_add_q35_defaults(vm->fw_cfg, &q35);
	if (!ret)
		ret = smbios_install(vm->fw_cfg, &sm);
	if (!ret)
		ret = platform_acpi(vm);
	if (ret)
		pr_err("setting up fw_cfg: %s", strerror(-ret));
	return ret;
}

int platform_create(struct vm *vm)
{
	int ret = platform_chipset(vm);

	if (ret) {
		pr_err("creating the q35 chipset: %s", strerror(-ret));
		return ret;
	}
	return platform_fw_cfg(vm);
}

void platform_destroy(struct vm *vm)
{
	if (vm->fw_cfg)
		fw_cfg_destroy(vm->fw_cfg);
	if (vm->lpc)
		lpc_destroy(vm->lpc);
	if (vm->mch)
		mch_destroy(vm->mch);
	if (vm->pci)
		pci_root_destroy(vm->pci);
	vm->fw_cfg = NULL;
	vm->lpc = NULL;
	vm->mch = NULL;
	vm->pci = NULL;
}
