#!/usr/bin/env bash
# 20-host-tools: minivmm groups / check / bind / unbind on a real kernel with a
# real IOMMU (L1): QEMU's emulated nvme and edu devices, left on their host
# drivers by the harness (--no-bind), are listed with names, bound to vfio-pci
# (their /dev/vfio/N appears) and given back to their previous drivers.
# nested-seconds: 32
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

NVME=0000:00:11.0
EDU=0000:00:10.0

if in_l1; then
	driver() {
		local l
		l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l" || echo none
	}
	state=$(mktemp -d)

	./minivmm groups | tee /tmp/groups.txt
	check "groups names the nvme" grep -q "00:11.0.*Non-Volatile memory controller.*1b36:0010.*driver: nvme" /tmp/groups.txt
	check "groups names edu" grep -q "00:10.0.*1234:11e8.*driver: none" /tmp/groups.txt
	check "nvme starts on its host driver" test "$(driver $NVME)" = nvme

	set +e
	./minivmm check --vfio 00:11.0 --memory 256M | tee /tmp/check1.txt
	rc=$?
	set -e
	check "check before bind fails" test "$rc" = 1
	check "check names the fix for the nvme" grep -q "minivmm bind" /tmp/check1.txt

	./minivmm bind --state "$state" 00:11.0 00:10.0
	check "nvme is on vfio-pci" test "$(driver $NVME)" = vfio-pci
	check "edu is on vfio-pci" test "$(driver $EDU)" = vfio-pci
	group=$(basename "$(readlink /sys/bus/pci/devices/$NVME/iommu_group)")
	check "/dev/vfio/$group appeared" test -c /dev/vfio/$group
	./minivmm check --vfio 00:11.0 --memory 256M | tee /tmp/check2.txt || true
	check "check is happy with the nvme's group" grep -q "^OK .*00:11.0" /tmp/check2.txt

	# minivmm boots with the device it just bound: OVMF enumerates the
	# passed NVMe behind its root port.
	source tests/nested/uefi-console.sh
	console_start nvme ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --vfio 00:11.0
	console_wait "Shell>" 300 || fail "minivmm with the bound nvme: no UEFI shell"
	console_mark; console_send "pci"
	console_wait "Vendor 1B36 Device 0010" 60 || fail "the passed nvme is not on the guest's PCI bus"
	console_mark; console_send "reset -s"
	console_finish 120
	check "minivmm with the bound nvme powered off cleanly" test "$CONSOLE_RC" = 0

	./minivmm unbind --state "$state" 00:11.0 00:10.0
	check "nvme is back on nvme" test "$(driver $NVME)" = nvme
	check "edu is back on no driver" test "$(driver $EDU)" = none
	check "nvme's driver_override is cleared" \
		grep -qx '(null)' /sys/bus/pci/devices/$NVME/driver_override
	echo "HOST-TOOLS-OK"
	exit 0
fi

truncate -s 64M "$NESTED_OUT/nvme.img"
l1_run --no-bind --modprobe nvme --drive "file=$NESTED_OUT/nvme.img,if=none,id=nv0,format=raw" \
	--pci-passthrough "nvme,serial=minivmm0,drive=nv0@0x11" --pci-passthrough edu@0x10 \
	--timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "HOST-TOOLS-OK"
