#!/usr/bin/env bash
# 40-virtio-blk-uefi: stock OVMF inside minivmm finds two virtio-blk disks — a
# writable GPT disk with a FAT ESP and a readonly=on one — and runs startup.nsh
# from the ESP. The script reads a file from the read-only disk, writes a file
# to the ESP and powers off (reset -s); L0 then finds that file in the image and
# the read-only image unchanged. (A failed redirect would abort the script, so
# writes refused by a read-only disk are 41-virtio-blk-linux's.) OVMF's notifications
# never exit to userspace (ioeventfd), as minivmm's own count says.
# nested-seconds: 42
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

if in_l1; then
	O=$MINIVMM_L1_OUT
	set +e
	timeout 300 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 256M --cpus 2 --verbose \
		--disk "path=$O/esp.img,serial=ESP0" --disk "path=$O/ro.img,readonly=on" \
		--serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm.log"
	tr -d '\033' < "$O/serial.txt" | grep -a 'MINIVMM\|FS[0-9]:\|BLK[0-9]:\|Pci(' | sed 's/^/  serial: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0 from reset -s)"
	grep -aq "MINIVMM-UEFI-STARTUP" "$O/serial.txt" || fail "startup.nsh did not run"
	grep -aq "MINIVMM-RO-MARKER" "$O/serial.txt" || fail "the read-only disk's file was not read"
	grep -q "virtio-blk0: .* 0 notifications through MMIO exits" "$O/minivmm.log" ||
		fail "notifications exited to userspace (no ioeventfd?)"
	echo "UEFI-BLK-OK"
	exit 0
fi

echo "MINIVMM-RO-MARKER" > "$NESTED_OUT/ro-marker.txt"
blk_esp "$NESTED_OUT/esp.img" 64 '@echo -off
echo MINIVMM-UEFI-STARTUP
map -r
type fs1:\ro-marker.txt
echo written-by-the-uefi-shell >a fs0:\uefi.txt
ls fs0:\
reset -s'
blk_esp "$NESTED_OUT/ro.img" 34 'echo not-the-startup-script' "$NESTED_OUT/ro-marker.txt"
ro_sum=$(md5sum < "$NESTED_OUT/ro.img")

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "UEFI-BLK-OK"
# The shell wrote through virtio-blk into the FAT; the read-only disk is intact.
mtype -i "$NESTED_OUT/esp.img@@1M" ::/uefi.txt > "$NESTED_CASE_DIR/uefi.txt" ||
	fail "no uefi.txt on the ESP"
grep -q "written-by-the-uefi-shell" "$NESTED_CASE_DIR/uefi.txt" || fail "uefi.txt holds the wrong text"
[[ $(md5sum < "$NESTED_OUT/ro.img") == "$ro_sum" ]] || fail "the readonly=on image changed"
