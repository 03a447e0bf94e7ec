/* SPDX-License-Identifier: MIT */
/*
 * Byte output for the console-like legacy devices (uart, debugcon).
 * Header-only so each device stays in its own object file.
 */
#ifndef MINIVMM_LEGACY_FDOUT_H
#define MINIVMM_LEGACY_FDOUT_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/*
 * How long a write may wait for a non-blocking fd (a pty nobody reads) to
 * drain. The caller holds its device lock on a vCPU thread, so waiting
 * forever would wedge the guest. After one such timeout the fd counts as
 * stalled and later writes do not wait at all (their bytes are dropped)
 * until one goes through again: a console nobody reads must not slow the
 * guest to a byte per timeout.
 */
#define FDOUT_TIMEOUT_MS	1000

/*
 * Write buf[0..len) to fd, retrying on EINTR and on EAGAIN (after polling
 * for POLLOUT). Returns 0, -errno, or -ETIMEDOUT if the fd stayed full.
 * *stalled is the caller's per-fd state, false initially. An fd < 0 means
 * "no output configured": the bytes are dropped. If the VMM ignores
 * SIGPIPE (it should), a closed reader shows up here as -EPIPE.
 */
static inline int fdout_write(int fd, const void *buf, size_t len,
			      bool *stalled)
{
	const uint8_t *p = buf;

	if (fd < 0)
		return 0;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			*stalled = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int r;

			do {
				r = poll(&pfd, 1, *stalled ? 0 : FDOUT_TIMEOUT_MS);
			} while (r < 0 && errno == EINTR);
			if (r == 0) {
				*stalled = true;
				return -ETIMEDOUT;
			}
			if (r < 0)
				return -errno;
			/* A hung-up fd would otherwise spin on EAGAIN. */
			if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
				return -EIO;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

#endif
