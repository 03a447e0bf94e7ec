#!/usr/bin/env bash
# 54-bar64: passed devices with big 64-bit prefetchable BARs, placed by the stock
# OVMF (2022.11: its 64-bit aperture is the top eighth of the guest's physical
# address space, 0xE0_0000_0000 with L1's 40 bits), are claimed by the guest
# where the firmware put them. Two QEMU ivshmem-plain devices in L1 (a 2 GiB
# BAR 2 like a GPU's BAR1, and a 32 GiB one), each backed by a file on L0, and a
# CXL type 3 device (a PCIe function with a link of 8 GT/s x4), passed to OVMF +
# the Linux guest of tests/nested/blk (test "bar64"): minivmm rebuilds the ACPI
# tables when OVMF reads them, PCI0's 64-bit window covering what OVMF
# programmed; Linux logs no "can't claim" and moves no BAR; the guest writes a
# tag into the first and last page of each BAR 2 through sysfs resource2 mmap,
# and L0 finds the tags in the backing files. The root port in front of the
# CXL device reports the device's own link, 8 GT/s x4 as in L1, not minivmm's
# x1 2.5 GT/s default. It is a CXL device because QEMU (10.0) gives only those
# a link of their own (cxl-type3's x-speed/x-width): its other endpoints report
# x1 2.5 GT/s even behind a pcie-root-port set to more. Measured 2026-12-04:
# OVMF put the 32 GiB BAR at 0xE0_0000_0000, the 2 GiB one at 0xE8_0000_0000
# (and the virtio disk's BAR 4 at 0xE8_8000_0000); PCI0's rebuilt 64-bit
# window was 0x8_0000_0000-0xE8_8000_3FFF; the guest's root port and the CXL
# device both showed 8.0 GT/s PCIe x4 (current and max); the case took 52 s.
# nested-seconds: 55
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

GiB=$((1 << 30))
TAG=MINIVMM-BAR64
SMALL=0000:00:10.0	# ivshmem, 2 GiB
BIG=0000:00:12.0	# ivshmem, 32 GiB
CXL_ID=0x8086:0x0d93	# QEMU's cxl-type3, behind a CXL root port in L1
LINK=8.0_GT/s_PCIe/x4/8.0_GT/s_PCIe/x4	# current/max, as guest-init.sh's link()

# A function's link as sysfs shows it, in guest-init.sh's link() format.
link() {
	echo "$(cat "$1/current_link_speed")/x$(cat "$1/current_link_width")/$(cat "$1/max_link_speed")/x$(cat "$1/max_link_width")" | tr ' ' _
}

if in_l1; then
	O=$MINIVMM_L1_OUT
	# The CXL device is behind a port, not on the root bus where run-l1.sh
	# binds: find it by its IDs and bind it here.
	cxl=""
	for p in /sys/bus/pci/devices/*; do
		if [[ $(cat "$p/vendor"):$(cat "$p/device") == "$CXL_ID" ]]; then cxl=$(basename "$p"); fi
	done
	[[ -n $cxl ]] || fail "no CXL type 3 device ($CXL_ID) in L1"
	./minivmm bind "$cxl" > "$O/bind.log" 2>&1 || fail "minivmm bind $cxl: $(cat "$O/bind.log")"
	# Its link as L1 sees it (its PCIe capability's LNKSTA/LNKCAP).
	l1link=$(link "/sys/bus/pci/devices/$cxl")
	echo "L1: CXL device $cxl link $l1link"
	[[ $l1link == "$LINK" ]] ||
		fail "L1's CXL device link is $l1link, not its $LINK (x-speed=8,x-width=4)"
	set +e
	timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 1 --verbose \
		--vfio 00:10.0 --vfio "$cxl" --vfio 00:12.0 --disk "path=$O/esp.img,readonly=on" \
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

# The CXL device: QEMU wants cxl=on, a CXL host bridge (pxb-cxl) with a root
# port, a memory backend and a fixed memory window for it.
l1_run --timeout 900 \
	--qemu-arg -object --qemu-arg "memory-backend-file,id=small,size=2G,share=on,mem-path=$NESTED_OUT/small.mem" \
	--qemu-arg -object --qemu-arg "memory-backend-file,id=big,size=32G,share=on,mem-path=$NESTED_OUT/big.mem" \
	--pci-passthrough "ivshmem-plain,memdev=small@0x10" \
	--qemu-arg -machine --qemu-arg cxl=on \
	--qemu-arg -object --qemu-arg memory-backend-ram,id=cxlmem,size=256M \
	--qemu-arg -device --qemu-arg pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1,addr=0x14 \
	--qemu-arg -device --qemu-arg cxl-rp,port=0,bus=cxl.1,id=crp0,chassis=0,slot=2,x-speed=8,x-width=4 \
	--qemu-arg -device --qemu-arg cxl-type3,bus=crp0,volatile-memdev=cxlmem,id=cxlvm0,x-speed=8,x-width=4 \
	--qemu-arg -M --qemu-arg cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G \
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
# The root port in front of the CXL device reports the device's link, which is
# L1's 8 GT/s x4.
l1=$(grep -a "^L1: CXL device .* link " "$L1_LOG" | head -1 | tr -d '\r')
line=$(grep -a "MINIVMM-GUEST: link: .*$CXL_ID" "$L1_LOG" | head -1 | tr -d '\r')
[[ -n $line ]] || fail "the guest printed no link line for the CXL device"
echo "  $l1"
echo "  $line"
l1=${l1##* }
dev=$(sed 's/.* dev=\([^ ]*\) .*/\1/' <<< "$line")
port=$(sed 's/.* port=\([^ ]*\).*/\1/' <<< "$line")
[[ $l1 == "$LINK" ]] || fail "L1's CXL device link is $l1, not its $LINK (x-speed=8,x-width=4)"
[[ $dev == "$l1" ]] || fail "the guest's CXL device link ($dev) is not L1's ($l1)"
[[ $port == "$dev" ]] || fail "the root port's link ($port) is not the CXL device's ($dev)"
echo "ok: the guest's root port reports the CXL device's $port"
