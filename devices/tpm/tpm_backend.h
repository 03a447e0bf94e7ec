/* SPDX-License-Identifier: MIT */
/*
 * What the TPM CRB interface (devices/tpm/crb.c) asks of the TPM behind it:
 * swtpm in production (devices/tpm/swtpm.c), a fake in the unit tests and
 * the fuzz target. Every call may block on I/O to that TPM; the device
 * never calls one with a lock of its own held (docs/architecture.md,
 * "Locks").
 */
#ifndef MINIVMM_TPM_BACKEND_H
#define MINIVMM_TPM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A TPM 2.0 command or response header: tag (2), size (4), code (4),
 * big-endian (TPM 2.0 Library Part 1 §18). */
#define TPM2_HEADER_SIZE	10
#define TPM2_ST_NO_SESSIONS	0x8001
#define TPM2_RC_FAILURE		0x101	/* the TPM is in failure mode */
#define TPM2_RC_COMMAND_SIZE	0x142	/* commandSize inconsistent */

struct tpm_backend_ops {
	/*
	 * Power-on or platform reset (TPM_Init, TCG PC Client PTP §5.5):
	 * the TPM takes commands of up to buffer_size bytes and answers in
	 * as many, its volatile state gone. *established: the TPM-established
	 * flag. 0 or -errno (with a message).
	 */
	int (*init)(void *be, uint32_t buffer_size, bool *established);
	/*
	 * Execute the command cmd[0..cmd_len) at locality 0 and put the
	 * response in rsp[0..rsp_cap): its length, or -errno (the TPM is
	 * gone or timed out; the device then reports a fatal error). Called
	 * by the device's worker thread only, one command at a time.
	 */
	long (*execute)(void *be, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
			size_t rsp_cap);
	/* Ask the TPM to cancel the command execute() is running, if any
	 * (PTP §6.5.2.4 TPM_CRB_CTRL_CANCEL). Any thread. */
	void (*cancel)(void *be);
	/* Make a blocked execute() return -ECANCELED soon (teardown). */
	void (*abort)(void *be);
	/* Shut the TPM down (its state saved) and free the backend. */
	void (*destroy)(void *be);
};

struct tpm_backend {
	const struct tpm_backend_ops *ops;
	void *opaque;
};

#endif
