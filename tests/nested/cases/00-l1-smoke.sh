#!/usr/bin/env bash
# 00-l1-smoke: L1 itself is fit for testing minivmm — /dev/kvm with nested paging,
# an emulated PCI device (edu) bound to vfio-pci with its /dev/vfio group, 2 MiB
# hugepages, the results share, and KVM actually running an L2 guest.
# The case runs itself inside L1 (the in_l1 branch) and asserts on L0.
# nested-seconds: 9
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

EDU=0000:00:10.0
HUGEPAGES=16

if in_l1; then
    check "/dev/kvm exists" test -c /dev/kvm
    check "dmesg reports nested paging" bash -c 'dmesg | grep -q "Nested Paging enabled"'

    group=""
    for pair in $MINIVMM_L1_VFIO_GROUPS; do
        [[ ${pair%%=*} == "$EDU" ]] && group=${pair#*=}
    done
    check "harness reported a vfio group for $EDU" test -n "$group"
    check "edu ($EDU) is 1234:11e8" grep -qx 0x11e8 "/sys/bus/pci/devices/$EDU/device"
    check "edu is bound to vfio-pci" \
        test "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/driver")")" = vfio-pci
    check "$group exists" test -c "$group"
    check "$group is edu's IOMMU group" \
        test "${group##*/}" = "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/iommu_group")")"

    check "$HUGEPAGES 2M hugepages allocated" grep -qE "^HugePages_Total: +$HUGEPAGES\$" /proc/meminfo
    check "hugetlbfs mounted at /dev/hugepages" grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts

    # L2 on real KVM: Debian's QEMU runs a 64 KiB "BIOS" whose reset vector does
    # mov al,0x42; out 0xf4,al; hlt — isa-debug-exit turns that into status 0x85.
    { head -c 65520 /dev/zero; printf '\xb0\x42\xe6\xf4\xf4\xeb\xfd'; head -c 9 /dev/zero; } > /tmp/l2.bin
    set +e
    timeout 60 qemu-system-x86_64 -accel kvm -machine pc -nodefaults -display none -m 16 \
        -bios /tmp/l2.bin -device isa-debug-exit,iobase=0xf4,iosize=4
    l2=$?
    set -e
    check "QEMU+KVM ran an L2 guest to its exit port (status $l2)" test "$l2" = 133

    echo "written in L1" > "$MINIVMM_L1_OUT/smoke.txt"
    echo "SMOKE-OK"
    exit 0
fi

l1_run --pci-passthrough edu@0x10 --hugepages-2m "$HUGEPAGES" --timeout 300 \
    -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "SMOKE-OK"
assert_log_contains "pci $EDU [1234:11e8]"
assert_file_contains "$NESTED_OUT/smoke.txt" "written in L1"
