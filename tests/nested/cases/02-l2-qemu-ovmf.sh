#!/usr/bin/env bash
# 02-l2-qemu-ovmf: the reference VMM works in L1 — Debian's QEMU on L1's KVM boots
# stock OVMF to the UEFI shell — and L1 survives OVMF running in L2 for a while.
# This is the regression test for tests/nested/qemu-bql-cr8.patch: an unpatched L1
# QEMU aborts ("tcg_handle_interrupt: assertion failed") about 40 s into such a run.
# nested-seconds: 50
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

RUN_FOR=45   # seconds of OVMF in L2 (the unpatched abort came at ~40 s)

if in_l1; then
    serial=/tmp/ovmf-serial.txt
    qemu-system-x86_64 -accel kvm -machine q35 -m 256 -bios /usr/share/ovmf/OVMF.fd \
        -nodefaults -display none -serial "file:$serial" -no-reboot &
    pid=$!
    shell_at="" start=$SECONDS
    while (( (t = SECONDS - start) < 120 )); do
        kill -0 "$pid" 2>/dev/null || break
        if [[ -z $shell_at ]] && grep -qa 'Shell>' "$serial"; then
            shell_at=$t
            echo "OVMF in L2 reached Shell> after ${t}s"
        fi
        [[ -n $shell_at ]] && (( t >= RUN_FOR )) && break
        sleep 1
    done
    check "QEMU+KVM in L1 is still running OVMF after ${t}s" kill -0 "$pid"
    kill "$pid"; wait "$pid" || true
    check "OVMF reached the UEFI shell" test -n "$shell_at"
    echo "L2-OVMF-OK"
    exit 0
fi

l1_run --timeout 300 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "L2-OVMF-OK"
assert_log_not_contains "assertion failed"
