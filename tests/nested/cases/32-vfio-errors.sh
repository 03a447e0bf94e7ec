#!/usr/bin/env bash
# 32-vfio-errors: passthrough that cannot work fails at start with one clear line,
# on a real kernel and IOMMU (L1), and leaves nothing held:
#   - an IOMMU group with another device still on its host driver: an edu and a
#     virtio-rng behind one PCIe-to-PCI bridge share a group; only the edu is on
#     vfio-pci, the error names the virtio-rng and its driver;
#   - the device itself on its host driver (nvme);
#   - a BDF that does not exist, and one that is not an address at all;
#   - RLIMIT_MEMLOCK too low for the guest RAM VFIO must pin (a root process
#     without CAP_IPC_LOCK), with the amount needed;
#   - the group already in use by another minivmm (which, stopped by SIGTERM,
#     resets the device on its way out).
# nested-seconds: 78
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	lines() { [[ $(grep -c . "$log") == "$1" ]] || fail "expected $1 line(s) of output"; }
	bdf_of() {	# VENDOR DEVICE [DEVICE2] -> the first such function
		local d
		for d in /sys/bus/pci/devices/*; do
			if [[ $(cat "$d/vendor") == "$1" && ( $(cat "$d/device") == "$2" ||
			      $(cat "$d/device") == "${3:-}" ) ]]; then
				basename "$d"
				return
			fi
		done
		fail "no $1:$2 in L1"
	}
	driver() { local l; l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l" || echo none; }
	FW=(--firmware tests/guest/edu.bin --testdev)

	edu=$(bdf_of 0x1234 0x11e8)
	rng=$(bdf_of 0x1af4 0x1005 0x1044)	# virtio-rng, transitional or modern
	group=$(basename "$(readlink /sys/bus/pci/devices/$edu/iommu_group)")
	echo "edu $edu and virtio-rng $rng ($(driver "$rng")) in group $group:"
	ls /sys/kernel/iommu_groups/$group/devices
	[[ -e /sys/kernel/iommu_groups/$group/devices/$rng ]] || fail "edu and virtio-rng are not in one group"
	# Only the edu to vfio-pci, by hand (minivmm bind would take the group).
	echo vfio-pci > /sys/bus/pci/devices/$edu/driver_override
	echo "$edu" > /sys/bus/pci/drivers_probe
	[[ $(driver "$edu") == vfio-pci ]] || fail "edu did not bind to vfio-pci"

	run_cmd 1 ./minivmm "${FW[@]}" --vfio "$edu"
	has "IOMMU group $group also holds $rng (driver $(driver "$rng"))"
	has "minivmm bind $edu binds the whole group"
	lines 1
	echo "ok: a group member on a host driver is named"

	run_cmd 1 ./minivmm "${FW[@]}" --vfio 00:11.0
	has "0000:00:11.0 is on driver nvme, not on vfio-pci (minivmm bind 0000:00:11.0)"
	lines 1
	echo "ok: a device on its host driver is named"

	run_cmd 1 ./minivmm "${FW[@]}" --vfio 00:1a.0
	has "0000:00:1a.0: no such PCI device on this host"
	lines 1
	run_cmd 2 ./minivmm "${FW[@]}" --vfio 00:1a.9
	has "is not a PCI address"
	echo "ok: a BDF that does not exist"

	# The nvme to vfio-pci for the rest (its own group).
	./minivmm bind 00:11.0 > /dev/null
	run_cmd 1 prlimit --memlock=65536:65536 \
		setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
		./minivmm "${FW[@]}" --vfio 00:11.0 --memory 512M
	has "RLIMIT_MEMLOCK is 64 KiB, but VFIO pins all guest RAM for device DMA: 512 MiB needed (ulimit -l 524288"
	lines 1
	# Enough of it and the same process works.
	run_cmd 48 prlimit --memlock=$((600 * 1024 * 1024)) \
		setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
		./minivmm "${FW[@]}" --vfio 00:11.0 --memory 512M
	has "no edu device"
	echo "ok: too low a memlock limit says how much is needed"

	# Held by another minivmm (a guest that halts forever).
	{ head -c 4080 /dev/zero; printf '\xfa\xf4\xeb\xfd'; head -c 12 /dev/zero; } > /tmp/hlt.bin
	./minivmm --firmware /tmp/hlt.bin --vfio 00:11.0 --verbose > /tmp/first.log 2>&1 < /dev/null &
	pid=$!
	# Running (its vCPU thread exists), so set-up is over and SIGTERM
	# goes through the VM's orderly stop.
	for _ in $(seq 600); do
		[[ $(ls /proc/$pid/task 2>/dev/null | wc -l) -ge 2 ]] && break
		sleep 0.1
	done
	ls -l /proc/$pid/fd | grep -q /dev/vfio/ || fail "the first minivmm holds no /dev/vfio node"
	run_cmd 1 ./minivmm "${FW[@]}" --vfio 00:11.0
	has "is in use: another VM or program has /dev/vfio/"
	kill -TERM $pid
	wait $pid || true
	echo "ok: a group in use by another VM"
	# The first one, stopped by SIGTERM, reset the NVMe (FLR) at start and
	# again on its way out.
	cat /tmp/first.log
	[[ $(grep -c "0000:00:11.0: reset (" /tmp/first.log) == 2 ]] ||
		fail "SIGTERM: the NVMe was not reset at start and at exit"
	echo "ok: SIGTERM resets the device on the way out"
	echo "VFIO-ERRORS-OK"
	exit 0
fi

truncate -s 16M "$NESTED_OUT/nvme.img"
l1_run --no-bind --modprobe nvme \
	--drive "file=$NESTED_OUT/nvme.img,if=none,id=nv0,format=raw" \
	--pci-passthrough "nvme,serial=minivmm0,drive=nv0@0x11" \
	--qemu-arg -device --qemu-arg pcie-pci-bridge,id=pbr,bus=pcie.0,addr=0x12 \
	--qemu-arg -device --qemu-arg edu,bus=pbr,addr=0x1 \
	--qemu-arg -device --qemu-arg virtio-rng-pci,bus=pbr,addr=0x2 \
	--timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-ERRORS-OK"
