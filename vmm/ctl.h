/* SPDX-License-Identifier: MIT */
/*
 * minivmm ctl [--timeout SECONDS] PATH CMD: one request to a running VM's
 * control socket (docs/control.md). Prints the reply line; exit status 0
 * if the VM answered "ok":true (for stop: and has exited), 1 if it
 * answered "ok":false, 2 for bad usage, 3 when no usable answer came.
 */
#ifndef MINIVMM_CTL_H
#define MINIVMM_CTL_H

#define CTL_EXIT_OK		0
#define CTL_EXIT_REFUSED	1	/* the VM answered "ok":false */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_NO_ANSWER	3	/* no VM there, no answer in time, not a reply */

#define CTL_DEFAULT_TIMEOUT_MS	5000

/* argv[0] is "ctl". */
int ctl_main(int argc, char **argv);

#endif
