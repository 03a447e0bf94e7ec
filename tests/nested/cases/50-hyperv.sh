#!/usr/bin/env bash
# 50-hyperv: the Hyper-V enlightenments (--hyperv, vmm/hyperv.c) as a Linux guest
# takes them up. One L1 boot, two runs of OVMF booting the Linux guest of
# tests/nested/blk (test "hyperv") from a read-only virtio-blk ESP:
#   1. --hyperv on --hide-kvm: only Hyper-V's leaves at 0x40000000, so Linux says
#      "Hypervisor detected: Microsoft Hyper-V", runs on hyperv_clocksource_tsc_page
#      (the reference TSC page) and the "Hyper-V clockevent" (direct-mode
#      synthetic timer 0), uses the IPI and TLB-flush hypercalls and registers its
#      crash reporter (the crash MSRs); then it panics (sysrq c): its panic
#      notifier writes the crash MSRs, KVM exits with KVM_SYSTEM_EVENT_CRASH and
#      minivmm logs "guest crash reported: code ... params ..." (P1 is Linux's
#      guest OS id, 0x81... in its top bits) and ends with status 5.
#   2. --hyperv off: KVM's leaves at 0x40000000; Linux detects KVM, runs on
#      kvm-clock and powers off (status 0).
# With the default (--hyperv on, KVM's leaves at 0x40000100) Linux picks KVM
# (kvm-clock): the other Linux cases (41, 44, 46, 48) run that way.
# nested-seconds: 75
set -euo pipefail
# shellcheck source=tests/nested/lib.sh
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

if in_l1; then
	O=$MINIVMM_L1_OUT
	run_guest() {	# NAME WANT_RC minivmm options...
		local name=$1 want=$2 rc
		shift 2
		set +e
		timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
			--disk "path=$O/esp.img,readonly=on" --serial "file:$O/serial-$name.txt" "$@" \
			< /dev/null > "$O/minivmm-$name.log" 2>&1
		rc=$?
		set -e
		echo "--- run $name ($*): status $rc"
		sed 's/^/    /' "$O/minivmm-$name.log"
		tr -d '\033\r' < "$O/serial-$name.txt" | grep -a 'MINIVMM-\|Kernel panic\|sysrq' |
			sed 's/^/  guest: /' || true
		grep -aq "MINIVMM-GUEST-FAIL" "$O/serial-$name.txt" &&
			fail "$name: the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial-$name.txt" | head -1)"
		[[ $rc == "$want" ]] || fail "$name: minivmm ended with status $rc (expected $want)"
	}

	run_guest hyperv 5 --hyperv on --hide-kvm
	grep -aq "MINIVMM-GUEST: HYPERV-OK" "$O/serial-hyperv.txt" || fail "hyperv: the guest did not finish its checks"
	grep -Eq "guest crash reported: code 0x[0-9a-f]+ params 0x81[0-9a-f]{14} 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+$" \
		"$O/minivmm-hyperv.log" || fail "hyperv: minivmm logged no crash report with Linux's guest OS id"
	echo "HYPERV-ON-OK"

	run_guest off 0 --hyperv off
	grep -aq "MINIVMM-GUEST: KVM-OK" "$O/serial-off.txt" || fail "off: the guest did not finish its checks"
	echo "HYPERV-OFF-OK"
	exit 0
fi

blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 "$(blk_startup_linux minivmm.test=hyperv)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "HYPERV-ON-OK"
assert_log_contains "HYPERV-OFF-OK"
assert_log_contains "MINIVMM-GUEST: hypervisor 'Microsoft Hyper-V', clocksource hyperv_clocksource_tsc_page, clockevent0 'Hyper-V clockevent'"
assert_log_contains "MINIVMM-GUEST: hypervisor 'KVM', clocksource kvm-clock"
