#!/usr/bin/env bash
# 57-confine: the per-thread seccomp filters and the io_uring restrictions
# hold on real KVM (inside L1). With the test-only --test-forbidden
# THREAD:CALL (docs/seccomp.md), the chosen thread, once confined,
# makes a call its filter refuses — openat, execve, or an ioctl not on its
# list (TIOCSTI) — on the main thread (right after confinement), a vCPU
# thread (a long-mode payload) and a virtio-blk I/O thread (OVMF starting
# the queue of a blank disk): each run ends with status 97 and the SIGSYS
# handler's line naming the thread and the call (and the ioctl's request).
# io:uring-openat forges an openat SQE on the I/O thread's ring: the kernel
# refuses it with EACCES (the ring's restrictions) and minivmm says so and
# ends with 96. Then the same payloads with the filters on and no test mode
# pass: 4 vCPUs rebooted in place three times (the main thread's reset
# ioctls, vCPU threads re-created under its filter).
# nested-seconds: 35
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	O=$MINIVMM_L1_OUT
	truncate -s 4M "$O/blank.img"
	payload=(--firmware tests/guest/longmode.bin --testdev --cpus 2 --memory 128M)
	ovmf=(--ovmf /usr/share/ovmf/OVMF.fd --memory 256M --cpus 1 --disk "$O/blank.img")

	for call in openat execve ioctl; do
		want="system call $call"
		[[ $call == ioctl ]] && want="system call ioctl (16) request 0x5412"
		run 97 "${payload[@]}" --test-forbidden main:$call
		has "the main thread made $want"; has "rerun with --seccomp off"
		run 97 "${payload[@]}" --test-forbidden vcpu:$call
		has "the vcpu thread made $want"
		run 97 "${ovmf[@]}" --test-forbidden io:$call
		has "the io thread made $want"
		echo "ok: $call: refused on the main, vCPU and I/O threads, named in the log"
	done

	run 96 "${ovmf[@]}" --test-forbidden io:uring-openat
	has "the ring refused the openat SQE (EACCES)"
	echo "ok: an openat SQE on an I/O thread's ring: EACCES"

	run 0 --firmware tests/guest/longmode-reset.bin --testdev --cpus 4
	has "reset: booted 4 times"; has "RESULT: PASS"
	echo "ok: the filters on, 4 vCPUs, three in-place reboots: PASS"
	echo "CONFINE-OK"
	exit 0
fi

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "CONFINE-OK"
