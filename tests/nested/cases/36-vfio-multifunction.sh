#!/usr/bin/env bash
# 36-vfio-multifunction: a two-function device (edu at 00:10.0 with multifunction=on,
# and edu at 00:10.1), like a GPU with its HDMI audio: both functions share one
# IOMMU group. `minivmm bind 00:10` moves the slot to vfio-pci; `--gpu 00:10.0`
# passes every function of the slot as one guest device (functions 0 and 1 behind
# one root port, function 0 multi-function); `--vfio 00:10.1` alone becomes
# function 0 of its own guest slot.
# nested-seconds: 32
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	g0=$(basename "$(readlink /sys/bus/pci/devices/0000:00:10.0/iommu_group)")
	g1=$(basename "$(readlink /sys/bus/pci/devices/0000:00:10.1/iommu_group)")
	[[ $g0 == "$g1" ]] || fail "the two functions are in groups $g0 and $g1, not one"
	./minivmm bind 00:10

	run 0 --firmware tests/guest/edu.bin --testdev --gpu 00:10.0 --verbose
	has "RESULT: PASS"; has "edu: found at 01:00.0 (2 edu function(s) in the slot)"
	has "2 function(s) behind the root port"
	echo "ok: --gpu passes both functions of the slot as one device"

	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.1
	has "RESULT: PASS"; has "edu: found at 01:00.0 (1 edu function(s) in the slot)"
	echo "ok: --vfio of function 1 alone is function 0 of its guest slot"

	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.0 --vfio 00:10.1 --verbose
	has "RESULT: PASS"
	[[ $(grep -c "function(s) behind the root port" "$log") == 2 ]] || fail "expected two slots"
	echo "ok: two functions of one group as two guest devices"
	echo "VFIO-MULTIFUNCTION-OK"
	exit 0
fi

l1_run --no-bind --qemu-arg -device --qemu-arg edu,addr=0x10.0,multifunction=on \
	--qemu-arg -device --qemu-arg edu,addr=0x10.1 --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-MULTIFUNCTION-OK"
