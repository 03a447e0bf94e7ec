/* SPDX-License-Identifier: MIT */
/*
 * A TPM 2.0 behind the Command Response Buffer interface of the TCG PC
 * Client Platform TPM Profile (PTP) specification 1.05, §6.4-6.5, at
 * LAYOUT_TPM_CRB_BASE, as QEMU's tpm-crb presents it: what the stock
 * OVMF, Linux's tpm_crb and Windows' tpm.sys drive. The TPM itself is a
 * struct tpm_backend (swtpm; docs/tpm.md).
 *
 * Locality 0's page holds the registers and, from offset 0x80, the one
 * command/response buffer (TPM_CRB_BUF_SIZE bytes); the pages of
 * localities 1-4 only mirror the locality state and interface ID
 * (CapLocality = 0: one locality).
 */
#ifndef MINIVMM_TPM_CRB_H
#define MINIVMM_TPM_CRB_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "devices/tpm/tpm_backend.h"

/* Register offsets in a locality's page (PTP §6.5.3, Table 29). */
#define TPM_CRB_LOC_STATE	0x00
#define TPM_CRB_LOC_CTRL	0x08
#define TPM_CRB_LOC_STS		0x0C
#define TPM_CRB_INTF_ID		0x30	/* 64 bits */
#define TPM_CRB_CTRL_EXT	0x38	/* 64 bits */
#define TPM_CRB_CTRL_REQ	0x40	/* the control area starts here */
#define TPM_CRB_CTRL_STS	0x44
#define TPM_CRB_CTRL_CANCEL	0x48
#define TPM_CRB_CTRL_START	0x4C
#define TPM_CRB_INT_ENABLE	0x50
#define TPM_CRB_INT_STS		0x54
#define TPM_CRB_CMD_SIZE	0x58
#define TPM_CRB_CMD_LADDR	0x5C
#define TPM_CRB_CMD_HADDR	0x60
#define TPM_CRB_RSP_SIZE	0x64
#define TPM_CRB_RSP_ADDR	0x68	/* 64 bits */
#define TPM_CRB_DATA_BUFFER	0x80
#define TPM_CRB_PAGE		0x1000
#define TPM_CRB_BUF_SIZE	(TPM_CRB_PAGE - TPM_CRB_DATA_BUFFER)	/* 3968 */

/* Register bits. */
#define TPM_CRB_LOC_STATE_ESTABLISHED	(1u << 0)
#define TPM_CRB_LOC_STATE_ASSIGNED	(1u << 1)
#define TPM_CRB_LOC_STATE_VALID		(1u << 7)	/* tpmRegValidSts */
#define TPM_CRB_LOC_CTRL_REQUEST	(1u << 0)
#define TPM_CRB_LOC_CTRL_RELINQUISH	(1u << 1)
#define TPM_CRB_LOC_STS_GRANTED		(1u << 0)
#define TPM_CRB_CTRL_REQ_CMD_READY	(1u << 0)
#define TPM_CRB_CTRL_REQ_GO_IDLE	(1u << 1)
#define TPM_CRB_CTRL_STS_FATAL		(1u << 0)	/* tpmSts */
#define TPM_CRB_CTRL_STS_IDLE		(1u << 1)	/* tpmIdle */
#define TPM_CRB_START			(1u << 0)
#define TPM_CRB_CANCEL			(1u << 0)

struct tpm_crb_params {
	struct tpm_backend be;	/* the device owns it from now on */
	uint64_t base;		/* LAYOUT_TPM_CRB_BASE */
	/* No worker thread: a started command waits for
	 * tpm_crb_run_pending() (the fuzz target and some unit tests). */
	bool manual;
};

struct tpm_crb;

/*
 * Initialise the TPM (the backend's init), start the worker thread,
 * register the MMIO range and the device. NULL with errno set (and, for
 * a backend that failed, its message) on failure; the backend is
 * destroyed then too.
 */
struct tpm_crb *tpm_crb_create(const struct vm_ops *ops, struct bus *mmio,
			       const struct tpm_crb_params *p);
void tpm_crb_destroy(struct tpm_crb *c);

/* manual: run the started command, if there is one, as the worker thread
 * would. Returns whether there was one. */
bool tpm_crb_run_pending(struct tpm_crb *c);

#endif
