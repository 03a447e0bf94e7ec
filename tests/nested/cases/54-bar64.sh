#!/usr/bin/env bash
# 54-bar64: passed devices with big 64-bit prefetchable BARs, placed by the stock
# OVMF (2022.11: its 64-bit aperture is the top eighth of the guest's physical
# address space, 0xE0_0000_0000 with L1's 40 bits), are claimed by the guest
# where the firmware put them. Two QEMU ivshmem-plain devices in L1 (a 2 GiB
# BAR 2 like a GPU's BAR1, and a 32 GiB one), each backed by a file on L0, and an
# NVMe (a PCIe function, for its link), passed to OVMF + the Linux guest of
# tests/nested/blk (test "bar64"): minivmm rebuilds the ACPI tables when OVMF
# reads them, PCI0's 64-bit window covering what OVMF programmed; Linux logs no
# "can't claim" and moves no BAR; the guest writes a tag into the first and
# last page of each BAR 2 through sysfs resource2 mmap, and L0 finds the tags in
# the backing files. The root port in front of the NVMe reports the NVMe's own
# link: L1's QEMU (10.0) gives its emulated endpoints no link worth the name
# (the NVMe on L1's root bus is an integrated endpoint, LNKCAP 0, which minivmm
# presents as x1 2.5 GT/s; behind a pcie-root-port with x-speed/x-width it
# still reports x1 2.5 GT/s, as only QEMU's CXL type 3 device takes a link of
# its own), so this shows the port following the device's values; other
# speeds and widths are tests/unit/test_vfio_gpu.c's. Measured 2026-12-04: OVMF
# put the 32 GiB BAR at 0xE0_0000_0000, the 2 GiB one at 0xE8_0000_0000 (and
# the virtio disk's BAR 4 at 0xE8_8000_0000); PCI0's rebuilt 64-bit window was
# 0x8_0000_0000-0xE8_8000_3FFF; the case took 43 s.
# nested-seconds: 45
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

GiB=$((1 << 30))
TAG=MINIVMM-BAR64
SMALL=0000:00:10.0	# ivshmem, 2 GiB
BIG=0000:00:12.0	# ivshmem, 32 GiB
NVME=0000:00:11.0

if in_l1; then
	O=$MINIVMM_L1_OUT
	# The NVMe's link as L1 sees it (its PCIe capability's LNKCAP/LNKSTA).
	echo "L1: $NVME link $(cat /sys/bus/pci/devices/$NVME/current_link_speed) x$(cat /sys/bus/pci/devices/$NVME/current_link_width)," \
		"max $(cat /sys/bus/pci/devices/$NVME/max_link_speed) x$(cat /sys/bus/pci/devices/$NVME/max_link_width)"
	set +e
	timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 1 --verbose \
		--vfio 00:10.0 --vfio 00:11.0 --vfio 00:12.0 --disk "path=$O/esp.img,readonly=on" \
		--serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	grep -v "^minivmm: vcpu\|exit" "$O/minivmm.log" | sed 's/^/    /' | head -80
	grep -a 'MINIVMM-\|BAR\|bridge window\|resource' "$O/serial.txt" | tr -d '\033\r' | sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0: the guest powers off)"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" &&
		fail "the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the guest did not finish its checks"
	grep -q "ACPI: tables rebuilt for the firmware; PCI0 64-bit window" "$O/minivmm.log" ||
		fail "minivmm did not rebuild the ACPI tables when OVMF read them"
	echo "BAR64-OK"
	exit 0
fi

truncate -s 2G "$NESTED_OUT/small.mem"
truncate -s 32G "$NESTED_OUT/big.mem"
blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=bar64 minivmm.bar_tag=$TAG)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 900 \
	--qemu-arg -object --qemu-arg "memory-backend-file,id=small,size=2G,share=on,mem-path=$NESTED_OUT/small.mem" \
	--qemu-arg -object --qemu-arg "memory-backend-file,id=big,size=32G,share=on,mem-path=$NESTED_OUT/big.mem" \
	--pci-passthrough "ivshmem-plain,memdev=small@0x10" \
	--pci-passthrough "nvme,serial=bar64@0x11" \
	--pci-passthrough "ivshmem-plain,memdev=big@0x12" \
	-- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "BAR64-OK"
# Where the guest found each BAR, and that it is OVMF's top-of-address-space
# aperture (above 512 GiB), not the classic 32 GiB one.
grep -a "MINIVMM-GUEST: bar64: .* BAR 2 " "$L1_LOG" | sed 's/^.*bar64: /  /'
n=$(grep -a -c "MINIVMM-GUEST: bar64: .* BAR 2 0x000000[89a-f]" "$L1_LOG" || true)
[[ $n == 2 ]] || fail "expected both BAR 2s above 512 GiB (OVMF's dynamic aperture), found $n"
# The tags the guest wrote through the BARs, in the files behind them on L0.
check_tag() {
	local file=$1 size=$2 what got
	for what in START:0 END:$((size - 4096)); do
		got=$(dd if="$file" bs=4096 skip=$(( ${what#*:} / 4096 )) count=1 status=none | tr -d '\0')
		[[ $got == "$TAG-${what%%:*}-"* ]] || fail "$(basename "$file") at ${what#*:}: '$got', not the guest's $TAG-${what%%:*} tag"
		echo "ok: $(basename "$file") holds '$got' at offset ${what#*:}"
	done
}
check_tag "$NESTED_OUT/small.mem" $((2 * GiB))
check_tag "$NESTED_OUT/big.mem" $((32 * GiB))
# The root port in front of the NVMe reports the NVMe's link.
line=$(grep -a "MINIVMM-GUEST: link: .*0x1b36:0x0010" "$L1_LOG" | head -1 | tr -d '\r')
[[ -n $line ]] || fail "the guest printed no link line for the NVMe"
echo "  $line"
dev=$(sed 's/.* dev=\([^ ]*\) .*/\1/' <<< "$line")
port=$(sed 's/.* port=\([^ ]*\).*/\1/' <<< "$line")
echo "  NVMe in L1: $(grep -a "^L1: $NVME link" "$L1_LOG" | head -1 | tr -d '\r'); in the guest: $dev; its root port: $port"
[[ $port == "$dev" ]] || fail "the root port's link ($port) is not the NVMe's ($dev)"
