/* SPDX-License-Identifier: MIT */
/*
 * The control socket (--control PATH; docs/control.md): a Unix stream
 * socket, one JSON object per line in, one per line out.
 *
 * The server knows nothing of KVM: it reaches the VM through struct
 * control_ops, so the dispatcher and the socket handling are unit-tested
 * with fake ops (tests/unit/test_control.c) and fuzzed
 * (tests/fuzz/fuzz_control.c). vmm/vm_control.c has the real ops; the
 * main thread's poll loop (vmm/vm.c) polls the fds control_pollfds()
 * gives and calls control_handle() with what poll() said. Everything
 * runs on that one thread, non-blocking: no client can stall it.
 */
#ifndef MINIVMM_CONTROL_H
#define MINIVMM_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/json.h"

#define CONTROL_MAX_CLIENTS	8
#define CONTROL_MAX_LINE	4096	/* bytes of one request, its newline not counted */
#define CONTROL_MAX_REPLY	65536	/* bytes of one reply line, its newline counted */
#define CONTROL_MAX_DEVICES	128	/* names a status reply lists */
/* The listening socket and every client. */
#define CONTROL_MAX_POLLFDS	(1 + CONTROL_MAX_CLIENTS)

struct control_status {
	bool running;
	unsigned int resets;
	unsigned int vcpus;
	unsigned int nr_devices;
	const char *devices[CONTROL_MAX_DEVICES];
};

/* What a request may do to the VM. Each returns 0 or -errno; a NULL
 * entry answers "not supported". */
struct control_ops {
	void *opaque;
	int (*status)(void *opaque, struct control_status *out);
	int (*powerdown)(void *opaque);	/* press the ACPI power button */
	int (*reset)(void *opaque);	/* a hard reset of the guest */
	int (*stop)(void *opaque);	/* a hard stop: minivmm tears down and exits */
	/* The statistics, as members of the reply object that is open in
	 * out ("ok":true is already there): json_out_key() then a value. */
	int (*stats)(void *opaque, struct json_out *out);
};

/*
 * One request line (without its newline; any bytes) to one reply line,
 * '\n' included, in reply[0..cap). Returns the reply's length. Needs no
 * socket: the socket server and the fuzzer both come through here.
 */
size_t control_dispatch(const struct control_ops *ops, const char *line, size_t len,
			char *reply, size_t cap);

struct control;

/*
 * Create the socket at path, mode 0600, listening. A stale socket file
 * that nobody listens on is replaced; a path where something listens, or
 * that is not a socket, is refused. Each failure is one line naming the
 * problem and the fix. Returns 0 or -errno.
 */
int control_open(struct control **out, const char *path, const struct control_ops *ops);
/* Close every connection and the socket, and remove the socket file if it
 * is still the one control_open() made. NULL is fine. */
void control_close(struct control *c);
/* Only remove the file (if still ours): 0 or -errno. Async-signal-safe,
 * for a signal that ends minivmm during set-up. NULL is fine. */
int control_remove_file(const struct control *c);

/* Fill p[0..CONTROL_MAX_POLLFDS) with what to poll now; returns how many
 * (0 for NULL). control_handle() then takes the same entries back. */
unsigned int control_pollfds(struct control *c, struct pollfd *p);
void control_handle(struct control *c, const struct pollfd *p, unsigned int n);

/* For the seccomp filter (vmm/seccomp.c): the listening socket, and the
 * folder the socket file is unlinked from at exit. */
int control_listen_fd(const struct control *c);
int control_dir_fd(const struct control *c);
/* Connections open now (tests). */
unsigned int control_nr_clients(const struct control *c);

#endif
