#!/usr/bin/env bash
# 43-virtio-blk-errors: every --disk mistake a user can make ends minivmm before
# the guest starts, with one line that names the problem and the fix: a missing
# image, a directory, an empty file, an image this user cannot read, or cannot
# write without readonly=on, an image another minivmm is using, and malformed
# options (unknown option, bad values, too long a serial, too many disks).
# (A guest writing to a readonly=on disk is 41-virtio-blk-linux's.)
# nested-seconds: 99
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	O=$MINIVMM_L1_OUT
	log=$O/minivmm.log
	base=(--ovmf /usr/share/ovmf/OVMF.fd --memory 128M)
	# expect STATUS LINE-FRAGMENT [setpriv...] -- minivmm-args...
	expect() {
		local want=$1 what=$2 pre=() rc; shift 2
		while [[ $1 != -- ]]; do pre+=("$1"); shift; done
		shift
		set +e
		timeout 120 "${pre[@]}" ./minivmm "${base[@]}" "$@" > "$log" 2>&1 < /dev/null
		rc=$?
		set -e
		echo "--- minivmm $* -> status $rc"
		sed 's/^/    /' "$log"
		[[ $rc == "$want" ]] || fail "minivmm $*: status $rc, expected $want"
		grep -qF -- "$what" "$log" || fail "minivmm $*: no line saying '$what'"
		[[ $(wc -l < "$log") == 1 ]] || fail "minivmm $*: more than one line"
	}
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	expect 1 "no such file (check the path, or create an image: truncate -s 10G" -- \
		--disk /tmp/missing.img
	mkdir -p /tmp/adir
	expect 1 "/tmp/adir: is a directory (give a disk image file)" -- --disk /tmp/adir
	: > /tmp/empty.img
	expect 1 "smaller than one 512-byte sector" -- --disk /tmp/empty.img
	truncate -s 16M /tmp/secret.img /tmp/ro.img
	chmod 0600 /tmp/secret.img
	chmod 0644 /tmp/ro.img
	chmod 0666 /dev/kvm	# nobody may run a VM, not read root's image
	expect 1 "/tmp/secret.img: permission denied (make it readable by this user)" \
		"${nobody[@]}" -- --disk /tmp/secret.img
	expect 1 "/tmp/ro.img: not writable (fix its permissions, or add readonly=on)" \
		"${nobody[@]}" -- --disk /tmp/ro.img
	# One writer per image: a second minivmm is refused while the first runs.
	truncate -s 16M /tmp/busy.img
	./minivmm "${base[@]}" --disk /tmp/busy.img --serial none < /dev/null > /dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[[ -n $(find /proc/$pid/fd -lname /tmp/busy.img 2>/dev/null) ]] && break
		sleep 0.1
	done
	expect 1 "/tmp/busy.img: in use by another process (stop it, or add readonly=on on both)" -- \
		--disk /tmp/busy.img
	kill -TERM $pid; wait $pid || true

	expect 2 "unknown disk option 'cache' (known: path, bus, readonly, direct, serial, queues, iothreads)" -- \
		--disk /tmp/ro.img,cache=none
	expect 2 "iothreads=3 is more than the disk's 2 queues" -- --disk /tmp/ro.img,queues=2,iothreads=3
	# One vCPU, so one queue by default: known only once the machine is built.
	expect 1 "iothreads=2 is more than the disk's 1 queue(s) (one per vCPU; set queues= or fewer threads)" -- \
		--disk /tmp/ro.img,readonly=on,iothreads=2
	expect 2 "readonly=maybe is neither on nor off" -- --disk path=/tmp/ro.img,readonly=maybe
	expect 2 "queues=0 is not a number from 1 to 64" -- --disk /tmp/ro.img,queues=0
	expect 2 "is longer than 20 characters" -- --disk /tmp/ro.img,serial=a-serial-far-too-long-for-it
	expect 2 "no image given (write --disk path=FILE or --disk FILE)" -- --disk readonly=on
	expect 2 "more than 8 disks" -- $(for i in $(seq 9); do echo --disk /tmp/ro.img,readonly=on; done)
	echo "BLK-ERRORS-OK"
	exit 0
fi

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "BLK-ERRORS-OK"
