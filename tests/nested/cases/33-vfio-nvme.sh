#!/usr/bin/env bash
# 33-vfio-nvme: QEMU's NVMe controller (1b36:0010), bound to vfio-pci in L1, passed
# to minivmm with --vfio. Stock OVMF inside minivmm finds it behind its root port,
# mounts the FAT on it and runs its startup.nsh, which reads a file, writes one
# (DMA through the IOMMU both ways) and boots Linux from the same disk. Linux's
# nvme driver then takes the controller over with MSI-X, reads the file OVMF
# wrote, writes a pattern and reads it back, and powers the VM off. On L0 both
# writes are found in the image; in L1, minivmm reset the device at start and exit.
# A second run reboots the VM in place three times (the guest resets the machine
# after each check): each reboot resets the NVMe through VFIO again, and Linux's
# nvme driver works after every one.
# nested-seconds: 184
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh
source tests/nested/vfio/images.sh

if in_l1; then
	O=$MINIVMM_L1_OUT
	set +e
	timeout 900 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--vfio 00:11.0 --serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm.log"
	tr -d '\033' < "$O/serial.txt" | grep -a 'MINIVMM\|MARKER\|NVMe(' | sed 's/^/  serial: /' || true
	grep -aq "MINIVMM-NVME-STARTUP" "$O/serial.txt" || fail "OVMF did not run startup.nsh from the NVMe"
	grep -aq "MARKER-FROM-NVME" "$O/serial.txt" || fail "OVMF could not read a file from the NVMe"
	echo "ok: OVMF mounted the FAT on the passed NVMe and ran its startup.nsh"
	if line=$(grep -a "MINIVMM-GUEST-FAIL" "$O/serial.txt"); then
		fail "Linux guest: ${line#*MINIVMM-GUEST-FAIL: }"
	fi
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the Linux guest did not finish"
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0: the guest powered off)"
	echo "ok: Linux's nvme driver read and wrote the disk with MSI-X; power-off ends minivmm with 0"
	! grep -q "no reset method worked" "$O/minivmm.log" || fail "the NVMe was not reset"
	[[ $(grep -c "0000:00:11.0: reset (" "$O/minivmm.log") == 2 ]] ||
		fail "the NVMe was not reset exactly twice (at start and at exit)"
	echo "ok: the NVMe was reset at start and at exit"
	grep -q "DMA-mapped 512 MiB" "$O/minivmm.log" || fail "no DMA map line"

	set +e
	timeout 900 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--vfio 00:11.0 --serial "file:$O/serial2.txt" < /dev/null > "$O/minivmm2.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm2.log"
	tr -d '\033' < "$O/serial2.txt" | grep -a 'MINIVMM-GUEST' | sed 's/^/  serial: /' || true
	if line=$(grep -a "MINIVMM-GUEST-FAIL" "$O/serial2.txt"); then
		fail "reboots: Linux guest: ${line#*MINIVMM-GUEST-FAIL: }"
	fi
	[[ $rc == 0 ]] || fail "reboots: minivmm ended with status $rc"
	[[ $(grep -ac "reboot(s) to go, resetting" "$O/serial2.txt") == 3 ]] ||
		fail "reboots: the guest did not reset the machine three times"
	grep -aq "reboot test: done" "$O/serial2.txt" || fail "reboots: the guest did not finish"
	[[ $(grep -ac "interrupts: .* MSI-X enabled" "$O/serial2.txt") == 4 ]] ||
		fail "reboots: Linux's nvme driver did not work (MSI-X, interrupts) on all four boots"
	for n in 1 2 3; do
		grep -q "guest reset $n: rebooting in place" "$O/minivmm2.log" ||
			fail "reboots: no in-place reboot $n"
	done
	grep -q "3 guest reset(s) rebooted in place" "$O/minivmm2.log" || fail "reboots: no reset count"
	[[ $(grep -c "0000:00:11.0: reset (" "$O/minivmm2.log") == 5 ]] ||
		fail "reboots: the NVMe was not reset at start, at each of the 3 reboots and at exit"
	echo "ok: three in-place reboots, the NVMe reset through VFIO at each; Linux's nvme driver worked after every one"
	echo "VFIO-NVME-OK"
	exit 0
fi

echo "MARKER-FROM-NVME" > "$NESTED_OUT/marker.txt"
cp "$(vfio_kernel)" "$NESTED_OUT/vmlinuz"
vfio_nvme_initramfs "$NESTED_OUT/initrd.img"
blk_esp "$NESTED_OUT/nvme.img" 128 '@echo -off
echo MINIVMM-NVME-STARTUP
type fs0:\marker.txt
echo written-through-vfio >a fs0:\nvme.txt
fs0:
\vmlinuz initrd=\initrd.img console=ttyS0 panic=-1 loglevel=4
echo MINIVMM-NVME-LINUX-DID-NOT-START
reset -s' "$NESTED_OUT/marker.txt" "$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --drive "file=$NESTED_OUT/nvme.img,if=none,id=nv0,format=raw" \
	--pci-passthrough "nvme,serial=minivmm0,drive=nv0@0x11" \
	--timeout 1200 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-NVME-OK"
# What OVMF wrote through the passed controller is in the image...
mtype -i "$NESTED_OUT/nvme.img@@1M" ::/nvme.txt > "$NESTED_CASE_DIR/nvme.txt" ||
	fail "no nvme.txt on the disk"
grep -q "written-through-vfio" "$NESTED_CASE_DIR/nvme.txt" || fail "nvme.txt holds the wrong text"
# ... and so is Linux's pattern, at 100 MiB.
want=$(grep -a -o "identical, md5 [0-9a-f]*" "$L1_LOG" | awk '{ print $3 }' | head -1)
[[ -n $want ]] || fail "the guest printed no pattern checksum"
got=$(dd if="$NESTED_OUT/nvme.img" bs=64k skip=1600 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
[[ $got == "$want" ]] || fail "the pattern in the image ($got) is not what the guest wrote ($want)"
