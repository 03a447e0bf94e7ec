#!/usr/bin/env bash
# 31-vfio-edu: QEMU's edu device (1234:11e8), bound to vfio-pci in L1, passed to
# minivmm with --vfio. tests/guest/edu.bin finds it behind its PCIe root port by
# scanning config space, places the BAR, and checks registers, MSI (5 times), DMA
# RAM -> device -> RAM through the IOMMU with completion MSIs, and INTx through the
# IOAPIC with EOI resampling. Then: a second run right after (the device was
# released), 2 vCPUs on hugepages, SIGTERM in the middle of a run (released again),
# and minivmm left the device with bus mastering off.
# nested-seconds: 78
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

EDU=0000:00:10.0

if in_l1; then
	# COMMAND register of the host function, from sysfs config space.
	host_cmd() { od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$EDU/config" | tr -d ' '; }

	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.0 --memory 256M --verbose
	has "RESULT: PASS"; has "dma: 2048 bytes RAM -> edu -> RAM ok"
	has "msi: 5 interrupts"; has "intx: 3 interrupts on GSI 20"
	has "DMA-mapped 256 MiB of guest RAM"
	echo "ok: edu payload passes (MSI, DMA, INTx)"
	cmd=$(host_cmd)
	# Bus mastering off: no DMA from a device nobody drives (vfio-pci then
	# puts back the decode bits the host had before it was bound).
	(( (0x$cmd & 0x4) == 0 )) || fail "after exit the device's COMMAND is 0x$cmd (bus master left on)"
	echo "ok: the device is left with bus mastering off (COMMAND 0x$cmd)"

	run 0 --firmware tests/guest/edu.bin --testdev --vfio 0000:00:10.0 --memory 256M
	has "RESULT: PASS"
	echo "ok: a second run right after works"

	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.0 --memory 256M \
		--hugepages 2M --cpus 2 --verbose
	has "RESULT: PASS"; has "(hugetlb 2M pages)"
	echo "ok: on 2 MiB hugepages with 2 vCPUs"

	# SIGTERM while the VM runs: a guest that halts forever, the device held.
	{ head -c 4080 /dev/zero; printf '\xfa\xf4\xeb\xfd'; head -c 12 /dev/zero; } > /tmp/hlt.bin
	./minivmm --firmware /tmp/hlt.bin --vfio 00:10.0 > "$log" 2>&1 < /dev/null &
	pid=$!
	for _ in $(seq 600); do
		[[ $(ls /proc/$pid/task 2>/dev/null | wc -l) -ge 2 ]] && break
		sleep 0.1
	done
	ls -l /proc/$pid/fd | grep -q /dev/vfio/ || fail "minivmm does not hold /dev/vfio after start"
	kill -TERM $pid
	set +e; wait $pid; rc=$?; set -e
	cat "$log"
	[[ $rc == 143 ]] || fail "SIGTERM: status $rc, expected 143"
	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.0
	has "RESULT: PASS"
	echo "ok: SIGTERM releases the device; the next run gets it"
	echo "VFIO-EDU-OK"
	exit 0
fi

l1_run --hugepages-2m 160 --pci-passthrough edu@0x10 --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-EDU-OK"
