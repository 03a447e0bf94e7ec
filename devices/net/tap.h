/* SPDX-License-Identifier: MIT */
/*
 * The host end of a virtio-net card (docs/networking.md): the queues of a
 * tap or macvtap, one file descriptor per queue pair, each non-blocking,
 * with the 12-byte virtio_net_hdr_v1 in front of every frame
 * (IFF_VNET_HDR, TUNSETVNETHDRSZ).
 *
 *   tap      an existing tap by name (ip tuntap add ... mode tap)
 *   bridge   a tap of minivmm's, mvmm<pid>-<n>, up and added to the bridge
 *            (SIOCBRADDIF); it is not persistent, so the kernel deletes it
 *            (and its bridge port) when the last descriptor closes: at
 *            minivmm's exit, whatever the path, SIGKILL included
 *   macvtap  a macvtap of minivmm's on a host interface (rtnetlink, mode
 *            bridge) opened as /dev/tapN; a macvtap outlives its
 *            descriptors, so a helper process forked at set-up (before
 *            minivmm drops its capabilities) waits for minivmm to end and
 *            deletes it then
 */
#ifndef MINIVMM_NET_TAP_H
#define MINIVMM_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

#define TAP_MAX_QUEUES	64
#define TAP_VNET_HDR_LEN 12	/* virtio_net_hdr_v1 */

enum tap_kind {
	TAP_EXISTING,
	TAP_BRIDGE,
	TAP_MACVTAP,
};

struct tap {
	char ifname[IFNAMSIZ];		/* the tap (or macvtap) interface */
	int fds[TAP_MAX_QUEUES];
	unsigned int nr_fds;
	pid_t reaper;			/* macvtap: the process that deletes it */
	int reaper_fd;			/* its pipe: closing it says "now" */
};

/*
 * Open queues descriptors on the interface name names (the tap; the
 * bridge; the macvtap's lower interface), nth is this card's index (for
 * the names minivmm makes). 0, or -errno after one line naming the
 * problem and the fix.
 */
int tap_open(struct tap *t, enum tap_kind kind, const char *name, unsigned int nth,
	     unsigned int queues);
/* The descriptors now belong to someone else (the virtio-net device). */
void tap_release_fds(struct tap *t);
/* Close what is still ours and, for a macvtap, have it deleted now. */
void tap_close(struct tap *t);

#endif
