/* SPDX-License-Identifier: MIT */
/*
 * The TPM behind the CRB interface: swtpm (https://github.com/stefanberger/swtpm),
 * driven through its control channel (swtpm_ioctls(3): CMD_INIT,
 * CMD_SET_BUFFERSIZE, CMD_CANCEL_TPM_CMD, CMD_SHUTDOWN...) and its data
 * channel (TPM 2.0 commands and responses), as QEMU's tpm-emulator
 * backend drives it. docs/tpm.md.
 *
 *   --tpm                 minivmm starts swtpm itself, its state in
 *                         state_dir (the VM's $MINIVMM_STATE_DIR/NAME/tpm),
 *                         both channels socket pairs made here: swtpm
 *                         ends when minivmm does, however minivmm ends.
 *   --tpm socket=PATH     a running swtpm's control socket
 *                         (swtpm socket --tpm2 --ctrl type=unixio,path=PATH);
 *                         the data channel goes to it as CMD_SET_DATAFD.
 *
 * Either way swtpm gets CMD_SHUTDOWN when the VM goes, as from QEMU.
 */
#ifndef MINIVMM_TPM_SWTPM_H
#define MINIVMM_TPM_SWTPM_H

#include "devices/tpm/tpm_backend.h"

struct swtpm_params {
	const char *socket;	/* --tpm socket=PATH; NULL: start swtpm */
	const char *state_dir;	/* where a started swtpm keeps its state */
	const char *binary;	/* NULL: "swtpm" from $PATH */
};

/* Connect (and for a started one, start) swtpm: 0, or -errno after one
 * line naming the problem and the fix. */
int swtpm_open(const struct swtpm_params *p, struct tpm_backend *out);

#endif
