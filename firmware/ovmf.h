/* SPDX-License-Identifier: MIT */
/*
 * The stock distribution OVMF, as QEMU's q35 machine maps it:
 *
 *   --ovmf OVMF.fd            one image, read-only at 4 GiB - size (like
 *                             QEMU's -bios): OVMF finds no flash and keeps
 *                             its variables in RAM for the run.
 *   --ovmf OVMF_CODE*.fd      code read-only at the top, the VM's own
 *   [--ovmf-vars VARS.fd]     copy of the variable store as CFI pflash
 *                             right below it (QEMU's pflash0/pflash1):
 *                             variables persist from run to run.
 *
 * The distribution's template VARS file is never written: it is copied
 * once per VM (--name) into minivmm's state directory, and that copy is
 * used from then on. --secure-boot is OVMF_CODE_4M.fd with a copy of
 * OVMF_VARS_4M.ms.fd (Microsoft's and the distribution's keys enrolled).
 */
#ifndef MINIVMM_OVMF_H
#define MINIVMM_OVMF_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "firmware/image.h"

struct pflash;

struct ovmf {
	struct fw_image code;		/* read-only, reset vector at its end */
	int vars_fd;			/* -1: single image, no flash */
	uint64_t vars_size;
	uint64_t vars_gpa;
	char vars_path[4096];
	struct pflash *vars;
};

/*
 * Open the code image and, for a split build, find or make this VM's
 * variable store: vars_arg if the user named a file of their own, else a
 * per-VM copy of vars_arg (a template under /usr/share), of vars_template
 * (--secure-boot's OVMF_VARS_4M.ms.fd) or of the template next to the
 * code image. The copy is state_dir/vm_name/OVMF_VARS<tag>, the tag being
 * the template's (OVMF_VARS.fd, OVMF_VARS.ms.fd), made once and never
 * overwritten (ovmf_state_dir() gives the default state_dir). One-line
 * errors for each problem.
 */
int ovmf_open(struct ovmf *o, const char *code, const char *vars_arg,
	      const char *vars_template, const char *vm_name, const char *state_dir);
/* Map code (ROM + isa-bios alias) and vars (pflash) into the guest. */
int ovmf_map(struct ovmf *o, const struct vm_ops *ops, struct bus *mmio);
void ovmf_close(struct ovmf *o);

/* $MINIVMM_STATE_DIR, else $XDG_STATE_HOME/minivmm, else
 * ~/.local/state/minivmm (root: /var/lib/minivmm). */
const char *ovmf_state_dir(char *buf, size_t len);

#endif
