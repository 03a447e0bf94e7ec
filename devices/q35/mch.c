// SPDX-License-Identifier: MIT
/*
 * Q35 MCH host bridge (00:00.0). Register names and layouts follow the
 * Intel 3 Series Express Chipset Family datasheet (316966, "the MCH
 * datasheet"), Host Bridge/DRAM Controller registers (D0:F0); the
 * paravirtual registers at 0x50 and 0x9C are QEMU's, as OVMF's
 * PlatformPei uses them (Q35TsegMbytesInitialization,
 * Q35SmramAtDefaultSmbaseInitialization).
 *
 * What OVMF 2022.11 does with 00:00.0, and how it is answered here:
 *  - reads the device ID: 0x29C0 selects its Q35 paths (PlatformPei);
 *  - writes PCIEXBAR: low dword 0, high dword 0, low dword 0xB0000001
 *    (PciExBarInitialization): the ECAM window appears at 0xB0000000;
 *  - SMM builds only (OVMF_CODE*.secboot.fd, built with SMM_REQUIRE):
 *    PlatformPei's Q35TsegMbytesInitialization writes the EXT_TSEG_MB
 *    query, then SmmAccessPei programs ESMRAMC, SMRAM, TSEGMB... and the
 *    boot later waits forever for an SMI that never comes. minivmm has no
 *    SMM, so that first write ends the VM with a one-line error naming
 *    the firmware to boot instead (mch_smm_firmware below).
 *  - PAM1 via QemuVideoDxe's VBE shim and the CSM (not in Debian's
 *    build): stored.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "devices/q35/mch.h"
#include "lib/log.h"

/* PCIEXBAR (D0:F0 60h): bit 0 PCIEXBAREN, bits 2:1 LENGTH (00 256 MiB,
 * 01 128 MiB, 10 64 MiB, 11 reserved), bits 35:26 the base, where 27
 * and 26 only count for the smaller lengths; 63:36 reserved. */
#define PCIEXBAR_EN		(1ULL << 0)
#define PCIEXBAR_LEN_MASK	(3ULL << 1)
#define PCIEXBAR_LEN_256M	(0ULL << 1)
#define PCIEXBAR_LEN_128M	(1ULL << 1)
#define PCIEXBAR_LEN_64M	(2ULL << 1)
#define PCIEXBAR_ADDR_256M	0x0000000ff0000000ULL	/* bits 35:28 */
#define PCIEXBAR_ADDR_128M	0x0000000ff8000000ULL	/* bits 35:27 */
#define PCIEXBAR_ADDR_64M	0x0000000ffc000000ULL	/* bits 35:26 */
#define PCIEXBAR_WMASK		(PCIEXBAR_ADDR_64M | PCIEXBAR_LEN_MASK | PCIEXBAR_EN)

/*
 * PAM0-PAM6 (D0:F0 90h-96h): the read/write enables of the 0xC0000-
 * 0xFFFFF segments. PAM0 only has HIENABLE (5:4, the 0xF0000 segment),
 * the others HIENABLE and LOENABLE (1:0).
 *
 * minivmm does not act on them: 0xC0000 up to the isa-bios alias is
 * always RAM and the last 128 KiB below 1 MiB always the read-only alias
 * of the firmware (docs/memory-map.md). PAM shadowing exists so a BIOS
 * can copy itself and option ROMs to RAM and write-protect them; OVMF
 * never runs from there (it only reads the reset-vector alias, and its
 * CSM, which would use PAM, is not in the Debian build), so the fixed
 * layout behaves the same for every value OVMF writes.
 */
#define MCH_NR_PAM		7
#define PAM0_WMASK		0x30
#define PAMX_WMASK		0x33

/* SMRAM (D0:F0 9Dh). C_BASE_SEG (2:0) is hardwired to 010b (0xA0000). */
#define SMRAM_D_OPEN		0x40
#define SMRAM_D_CLS		0x20
#define SMRAM_D_LCK		0x10
#define SMRAM_G_SMRAME		0x08
#define SMRAM_DEFAULT		0x02
#define SMRAM_WMASK		(SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)
/* ESMRAMC (D0:F0 9Eh): H_SMRAME, E_SMERR (RWC), SM_CACHE/L1/L2 (RO 1),
 * TSEG_SZ (2:1), T_EN. */
#define ESMRAMC_E_SMERR		0x40
#define ESMRAMC_DEFAULT		0x38
#define ESMRAMC_WMASK		0x87

struct mch {
	struct device device;
	struct pci_dev dev;
	struct pci_root *root;
	bool smm_reported;		/* mch_smm_firmware said it once */
};

static struct mch *to_mch(struct pci_dev *dev)
{
	return (struct mch *)((char *)dev - offsetof(struct mch, dev));
}

static void mch_update_pciexbar(struct mch *mch)
{
	uint64_t bar = (uint64_t)pci_get32(mch->dev.config, MCH_PCIEXBAR + 4) << 32 |
		       pci_get32(mch->dev.config, MCH_PCIEXBAR);
	uint64_t size, addr_mask;

	switch (bar & PCIEXBAR_LEN_MASK) {
	case PCIEXBAR_LEN_256M:
		size = 256ULL << 20;
		addr_mask = PCIEXBAR_ADDR_256M;
		break;
	case PCIEXBAR_LEN_128M:
		size = 128ULL << 20;
		addr_mask = PCIEXBAR_ADDR_128M;
		break;
	case PCIEXBAR_LEN_64M:
		size = 64ULL << 20;
		addr_mask = PCIEXBAR_ADDR_64M;
		break;
	default:
		/* Reserved length: decode nothing rather than guess. */
		pci_root_set_ecam(mch->root, 0, 0, false);
		return;
	}
	/* An ECAM window that cannot be placed stays off (logged once). */
	pci_root_set_ecam(mch->root, bar & addr_mask, size, bar & PCIEXBAR_EN);
}

/*
 * D_LCK (SMRAM bit 4) makes SMRAM except D_CLS, and ESMRAMC's
 * H_SMRAME/TSEG_SZ/T_EN, read-only until reset, and clears D_OPEN.
 */
static void mch_apply_smram_lock(struct mch *mch)
{
	uint8_t *c = mch->dev.config;

	if (c[MCH_SMRAM] & SMRAM_D_LCK) {
		c[MCH_SMRAM] &= (uint8_t)~SMRAM_D_OPEN;
		mch->dev.wmask[MCH_SMRAM] = SMRAM_D_CLS;
		mch->dev.wmask[MCH_ESMRAMC] = 0;
	} else {
		mch->dev.wmask[MCH_SMRAM] = SMRAM_WMASK;
		mch->dev.wmask[MCH_ESMRAMC] = ESMRAMC_WMASK;
	}
}

/*
 * The firmware wrote MCH_EXT_TSEG_MB_QUERY (0xFFFF) to EXT_TSEG_MB. Only
 * an OVMF built with SMM_REQUIRE does (edk2-stable202211 OvmfPkg/
 * PlatformPei/Platform.c calls Q35TsegMbytesInitialization only when
 * PcdSmmSmramRequire is set), and it does so in PlatformPei, within the
 * first second of the boot. Without SMM such a build never finishes
 * booting: SmmAccessPei/SmmControl2Dxe and the SMM variable driver wait on
 * SMRAM and SMIs (APM port 0xB2) minivmm does not emulate. Saying so now
 * beats a guest that hangs silently.
 */
static void mch_smm_firmware(struct mch *mch)
{
	if (mch->smm_reported)
		return;
	mch->smm_reported = true;
	pr_err("the firmware is built for SMM (OVMF_CODE*.secboot.fd, OVMF_CODE*.ms.fd), which minivmm does not emulate: "
	       "use --secure-boot, or --ovmf /usr/share/OVMF/OVMF_CODE_4M.fd --ovmf-vars /usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	mch->root->ops->request_stop(mch->root->ops->vm, VM_STOP_ERROR, 0);
}

static void mch_cfg_write(struct pci_dev *dev, unsigned int off, uint32_t val,
			  unsigned int len)
{
	struct mch *mch = to_mch(dev);

	pci_dev_default_cfg_write(dev, off, val, len);
	if (pci_range_overlaps(off, len, MCH_EXT_TSEG_MB, 2) &&
	    pci_get16(dev->config, MCH_EXT_TSEG_MB) == MCH_EXT_TSEG_MB_QUERY &&
	    mch->root->ops && mch->root->ops->request_stop)
		mch_smm_firmware(mch);
	if (pci_range_overlaps(off, len, MCH_PCIEXBAR, 8))
		mch_update_pciexbar(mch);
	if (pci_range_overlaps(off, len, MCH_SMRAM, 1))
		mch_apply_smram_lock(mch);
}

static void mch_reset(struct pci_dev *dev)
{
	struct mch *mch = to_mch(dev);

	/* config[] is back to its power-on values; the masks the lock
	 * changed and the ECAM window follow them. */
	mch_apply_smram_lock(mch);
	mch_update_pciexbar(mch);
	mch->smm_reported = false;
}

static const struct pci_dev_ops mch_ops = {
	.cfg_write = mch_cfg_write,
	.reset = mch_reset,
};

/* Reset through the root (PCI RST#): only its destroy is here. */
static void mch_dev_destroy(struct device *dev)
{
	mch_destroy(container_of(dev, struct mch, device));
}

static const struct device_ops mch_device_ops = {
	.destroy = mch_dev_destroy,
};

struct mch *mch_create(struct pci_root *root)
{
	struct mch *mch = calloc(1, sizeof(*mch));
	uint8_t *c, *w;
	int ret;

	if (!mch) {
		errno = ENOMEM;
		return NULL;
	}
	mch->root = root;
	ret = pci_dev_init(&mch->dev, &mch_ops, "q35-mch", MCH_VENDOR_ID, MCH_DEVICE_ID,
			   0x060000, 0x00, PCI_HEADER_TYPE_NORMAL, false);
	if (ret)
		goto free_mch;
	c = mch->dev.config;
	w = mch->dev.wmask;

	/*
	 * EXT_TSEG_MB (QEMU): OVMF writes 0xFFFF and reads back; the value
	 * unchanged means "no extended TSEG, use the 8 MiB default". With no
	 * SMM there is no TSEG to size, so the register is plain storage
	 * and the answer is "absent" (but the query itself stops the VM:
	 * mch_smm_firmware). F_SMBASE (9Ch) likewise: the query
	 * value 0xFF reads back as written, never 01h ("SMRAM at default
	 * SMBASE"), so OVMF reports it not found. Both are in the default
	 * read/write device area already.
	 */
	pci_set32(c, MCH_PCIEXBAR, (uint32_t)MCH_PCIEXBAR_DEFAULT);
	pci_set32(c, MCH_PCIEXBAR + 4, (uint32_t)(MCH_PCIEXBAR_DEFAULT >> 32));
	pci_set32(w, MCH_PCIEXBAR, (uint32_t)PCIEXBAR_WMASK);
	pci_set32(w, MCH_PCIEXBAR + 4, (uint32_t)(PCIEXBAR_WMASK >> 32));
	w[MCH_PAM0] = PAM0_WMASK;
	for (unsigned int i = 1; i < MCH_NR_PAM; i++)
		w[MCH_PAM0 + i] = PAMX_WMASK;
	c[MCH_SMRAM] = SMRAM_DEFAULT;
	w[MCH_SMRAM] = SMRAM_WMASK;
	c[MCH_ESMRAMC] = ESMRAMC_DEFAULT;
	w[MCH_ESMRAMC] = ESMRAMC_WMASK;
	mch->dev.w1cmask[MCH_ESMRAMC] = ESMRAMC_E_SMERR;
	/* No capabilities: keep them out of the chipset registers anyway. */
	pci_dev_reserve(&mch->dev, 0x40, PCI_CFG_SPACE_SIZE - 0x40);

	ret = pci_bus_plug(pci_root_bus(root), &mch->dev, MCH_DEVFN);
	if (ret)
		goto exit_dev;
	device_register(root->ops, &mch->device, "q35-mch", &mch_device_ops);
	return mch;

exit_dev:
	pci_dev_exit(&mch->dev);
free_mch:
	free(mch);
	errno = -ret;
	return NULL;
}

void mch_destroy(struct mch *mch)
{
	if (!mch)
		return;
	device_unregister(&mch->device);
	pci_root_set_ecam(mch->root, 0, 0, false);
	pci_dev_exit(&mch->dev);
	free(mch);
}
