#!/usr/bin/env bash
# 10-payloads: minivmm on real KVM (inside L1) runs the test payloads of
# tests/guest on 1 and 4 vCPUs, pinned, on anonymous memory and on 2 MiB
# hugepages; the exit status carries the payload's verdict (and a payload
# that fails makes minivmm fail); guest reset, SIGTERM and every bad-input
# case that needs a real /dev/kvm end with the right status and one line.
# nested-seconds: 18
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

HUGEPAGES=80	# 160 MiB of 2 MiB pages: a 128M guest fits, a 1G one does not

if in_l1; then

	for p in realmode longmode; do
		run 0 --firmware tests/guest/$p.bin --testdev --cpus 1 --pin 1
		has "cpus: 1 up"; has "RESULT: PASS"
		run 0 --firmware tests/guest/$p.bin --testdev --cpus 4 --pin 0,1,0,1 --memory 256M
		has "cpus: 4 up"; has "RESULT: PASS"
	done
	run 0 --firmware tests/guest/longmode.bin --testdev --cpus 2 --memory 128M --hugepages 2M
	has "cpus: 2 up"; has "RESULT: PASS"
	echo "ok: payloads pass on 1 and 4 pinned vCPUs and on hugepages"

	# A failing payload fails minivmm with its own code.
	run 33 --firmware tests/guest/longmode-fail.bin --testdev --cpus 2
	has "RESULT: FAIL"
	# Guest-initiated reset (0xCF9) ends minivmm with status 3 under
	# --no-reboot ...
	run 3 --firmware tests/guest/longmode-reset.bin --testdev --no-reboot
	has "guest reset"; has "reset: boot 1"
	echo "ok: failure and reset statuses"
	# ... and by default reboots the VM in place: 0xCF9, port 0x92 and a
	# triple fault each restart the firmware on every vCPU, the devices
	# back at power-on, CMOS kept; the fourth boot passes.
	run 0 --firmware tests/guest/longmode-reset.bin --testdev --cpus 4
	has "reset: fast reset through port 0x92"; has "reset: triple fault"
	has "reset: booted 4 times"; has "RESULT: PASS"
	has "3 guest reset(s) rebooted in place"
	[[ $(grep -c "cpus: 4 up" "$log") == 4 ]] || fail "reboot in place: not all 4 vCPUs came up on every boot"
	echo "ok: three in-place reboots (0xCF9, port 0x92, triple fault) on 4 vCPUs"

	# SIGTERM: a guest that halts forever; minivmm presses the power
	# button, which this guest ignores, and after --shutdown-timeout ends
	# with 128+15.
	{ head -c 4080 /dev/zero; printf '\xfa\xf4\xeb\xfd'; head -c 12 /dev/zero; } > /tmp/hlt.bin
	./minivmm --firmware /tmp/hlt.bin --shutdown-timeout 2 > "$log" 2>&1 < /dev/null &
	pid=$!
	# Signal it only once the vCPU thread runs (signals are set up by
	# then): starting a binary over 9p under TCG can take seconds.
	for _ in $(seq 600); do
		[[ $(ls /proc/$pid/task 2>/dev/null | wc -l) -ge 2 ]] && break
		sleep 0.1
	done
	kill -TERM $pid
	set +e; wait $pid; rc=$?; set -e
	[[ $rc == 143 ]] || fail "SIGTERM: status $rc, expected 143"
	has "pressed the ACPI power button"
	has "did not power off within 2 s of the power button"
	has "stopped by signal 15"
	echo "ok: SIGTERM presses the power button, a guest that ignores it is stopped after --shutdown-timeout, status 143"

	# Bad input that needs the real host: each one line, non-zero.
	run 1 --firmware tests/guest/longmode.bin --memory 1G --hugepages 2M
	has "only 80 free (echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
	run 1 --firmware tests/guest/longmode.bin --memory 1G --hugepages 1G
	has "guest RAM needs 1 pages of 1G, only 0 free"
	run 1 --firmware tests/guest/longmode.bin --cpus 2000
	has "KVM on this host allows at most"
	run 1 --firmware tests/guest/longmode.bin --cpus 2 --pin 0,7
	has "host CPU 7 (for vCPU 1) is offline or does not exist"
	run 1 --firmware tests/guest/does-not-exist.bin
	has "No such file or directory"
	# No /dev/kvm at all.
	mv /dev/kvm /dev/kvm.hidden
	run 1 --firmware tests/guest/longmode.bin
	mv /dev/kvm.hidden /dev/kvm
	has "/dev/kvm does not exist: no KVM on this host (enable VT-x/AMD-V"
	# No permission on /dev/kvm.
	chmod 0600 /dev/kvm
	set +e
	setpriv --reuid=65534 --regid=65534 --clear-groups ./minivmm \
		--firmware tests/guest/longmode.bin > "$log" 2>&1 < /dev/null
	rc=$?
	set -e
	[[ $rc == 1 ]] || fail "non-root without access to /dev/kvm: status $rc, expected 1"
	has "/dev/kvm: permission denied (add yourself to the 'kvm' group"
	echo "ok: bad input gives one line and a non-zero status"
	echo "PAYLOADS-OK"
	exit 0
fi

l1_run --hugepages-2m "$HUGEPAGES" --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "PAYLOADS-OK"
assert_log_contains "apic ids: 0 1 2 3"
