/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

/*
 * Once the VM is set up, confine the process to the system calls a running
 * VMM makes (on every thread, present and future) and drop every
 * capability. A call outside the list ends minivmm with a message naming
 * it, not silently. Returns 0 or -errno (with a message).
 */
int seccomp_confine(void);
/* Drop all capabilities of all sets (after setup nothing needs them). */
int caps_drop_all(void);

#endif
