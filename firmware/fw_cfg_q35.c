// SPDX-License-Identifier: MIT
/*
 * The fw_cfg items a q35 guest finds under QEMU, minus ACPI and SMBIOS
 * (their own modules). Each comment names where QEMU adds the item and
 * whether OVMF (edk2-stable202211) reads it; items only SeaBIOS or other
 * firmware reads are kept because their absence is a difference a guest
 * could observe, and they cost nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/e820.h"
#include "firmware/fw_cfg.h"

int fw_cfg_add_q35_defaults(struct fw_cfg *fw, const struct fw_cfg_q35_config *cfg)
{
	static const uint8_t zero_uuid[16];
	unsigned int apic_limit;
	uint8_t fail_wait[4], states[6], msr[8];
	uint64_t *numa;
	size_t numa_len;
	int ret;

	if (!cfg || !cfg->mem || !cfg->nr_cpus || cfg->nr_cpus > 0xFFFF)
		return -EINVAL;
	apic_limit = cfg->apic_id_limit ? cfg->apic_id_limit : cfg->nr_cpus;
	if (apic_limit < cfg->nr_cpus || apic_limit > 0xFFFF)
		return -EINVAL;

	/* fw_cfg_common_realize(): the UUID as raw RFC 4122 bytes (OVMF
	 * does not read it; SMBIOS type 1 is where it looks), "graphics
	 * off" and "no boot menu" as LE16. OVMF's QemuBootOrderLib reads
	 * FW_CFG_BOOT_MENU: 0 keeps its own front-page timeout. */
	ret = fw_cfg_add_item(fw, FW_CFG_UUID, cfg->uuid ? cfg->uuid : zero_uuid, 16);
	if (!ret)
		ret = fw_cfg_add_i16(fw, FW_CFG_NOGRAPHIC, cfg->nographic);
	if (!ret)
		ret = fw_cfg_add_i16(fw, FW_CFG_BOOT_MENU, 0);
	/* fw_cfg_reboot(): no reboot timeout is -1 (SeaBIOS reads it). */
	bus_data_put(fail_wait, sizeof(fail_wait), UINT32_MAX);
	if (!ret)
		ret = fw_cfg_add_file(fw, "etc/boot-fail-wait", fail_wait, sizeof(fail_wait));

	/* fw_cfg_arch_create(): OVMF's PlatformMaxCpuCountInitialization
	 * reads NB_CPUS (LE16) and counts exactly that many APs; MAX_CPUS
	 * is really QEMU's APIC ID limit and only SeaBIOS reads it. */
	if (!ret)
		ret = fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, (uint16_t)cfg->nr_cpus);
	if (!ret)
		ret = fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, (uint16_t)apic_limit);
	if (!ret)
		ret = fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, cfg->mem->ram_size);
	if (!ret)
		ret = fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1);
	if (ret)
		return ret;
	/* The NUMA channel: node count, a node per APIC ID, memory per
	 * node, all LE64. One node-less machine: all zeros. */
	numa_len = (1 + (size_t)apic_limit) * sizeof(*numa);
	numa = calloc(1, numa_len);
	if (!numa)
		return -ENOMEM;
	ret = fw_cfg_add_item(fw, FW_CFG_NUMA, numa, numa_len);
	free(numa);

	/* pc_memory_init() + kvm_arch_init(); OVMF's MemDetect.c reads it. */
	if (!ret)
		ret = e820_install(fw, cfg->mem, cfg->amd_ht_hole ? E820_F_AMD_HT : 0);

	/* acpi_pm1_cnt_init(): per state S0..S5, bit 7 "supported" and the
	 * SLP_TYP value below it (ICH9: S3 = 1, S4 = 2). */
	states[0] = 0x80;
	states[1] = 0;
	states[2] = 0;
	states[3] = (uint8_t)(0x01 | (cfg->s3 ? 0x80 : 0));
	states[4] = (uint8_t)(0x02 | (cfg->s4 ? 0x80 : 0));
	states[5] = 0x80;
	if (!ret)
		ret = fw_cfg_add_file(fw, "etc/system-states", states, sizeof(states));

	/* fw_cfg_machine_reset(): the bootindex list (empty: OVMF keeps its
	 * default order), NUL included as QemuBootOrderLib checks; and the
	 * disk geometries, empty (SeaBIOS only). */
	if (!ret)
		ret = cfg->bootorder ? fw_cfg_add_file(fw, "bootorder", cfg->bootorder,
						       strlen(cfg->bootorder) + 1)
				     : fw_cfg_add_file(fw, "bootorder", NULL, 0);
	if (!ret)
		ret = fw_cfg_add_file(fw, "bios-geometry", NULL, 0);

	/* fw_cfg_build_feature_control(). */
	if (!ret && cfg->msr_feature_control) {
		bus_data_put(msr, sizeof(msr), cfg->msr_feature_control);
		ret = fw_cfg_add_file(fw, "etc/msr_feature_control", msr, sizeof(msr));
	}
	return ret;
}
