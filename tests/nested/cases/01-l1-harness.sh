#!/usr/bin/env bash
# 01-l1-harness: the harness's own promises — COMMAND's exit status comes back, the
# cwd and --env reach COMMAND, L0's tree is read-only but /tmp is writable,
# --no-bind leaves a device off vfio-pci, and a setup failure in L1 is reported
# as status 125 with its reason instead of running COMMAND.
# nested-seconds: 9
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
    check "cwd is the repo root, as on L0" test "$PWD" = "$REPO_ROOT"
    check "--env NAME=VALUE arrives intact" test "$GREETING" = "hello  L1 'quoted'"
    check "--env NAME copies L0's value" test "$FROM_L0" = "l0-value"
    # shellcheck disable=SC2016  # $1 is expanded by the inner bash
    check "L0's tree is read-only" bash -c '! touch "$1/.l1-write-test" 2>/dev/null' _ "$REPO_ROOT"
    check "/tmp is writable" bash -c 'echo x > /tmp/x && test -s /tmp/x'
    check "MINIVMM_L1_PCI lists the device" test "$MINIVMM_L1_PCI" = "0000:00:10.0"
    check "--no-bind left edu unbound" test ! -e /sys/bus/pci/devices/0000:00:10.0/driver
    echo "HARNESS-IN-L1"
    exit 7
fi

export FROM_L0=l0-value
l1_run --no-bind --pci-passthrough edu@0x10 --env "GREETING=hello  L1 'quoted'" \
    --env FROM_L0 -- bash "$NESTED_CASE_FILE"
assert_rc 7
assert_log_contains "HARNESS-IN-L1"
assert_log_contains "pci 0000:00:10.0 [1234:11e8] iommu_group"

# A module that does not exist: L1 must say so and not run COMMAND.
l1_run --modprobe no_such_module -- echo "SHOULD-NOT-RUN"
assert_rc 125
assert_log_contains "MINIVMM-L1-FAILED: modprobe no_such_module failed"
assert_log_not_contains "SHOULD-NOT-RUN"
