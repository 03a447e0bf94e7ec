#!/usr/bin/env bash
# 41-virtio-blk-linux: OVMF inside minivmm boots a Linux kernel (Debian's, EFI
# stub) and its initramfs from a FAT ESP on a readonly=on virtio-blk disk. The
# guest (tests/nested/blk/guest-init.sh, test "linux") sees /dev/vda (writable,
# serial MINIVMM-DATA, one queue per vCPU) and the read-only /dev/vdb; writes a
# random pattern to vda and syncs, reads it back with O_DIRECT, discards and
# zeroes ranges, has writes to vdb refused, and sees its writes to /dev/vdc — an
# image on a full tmpfs in L1 — fail with I/O errors (the host's ENOSPC as
# IOERR, never dropped), then powers off. L0 then checks the data image byte
# for byte and the read-only image for not one changed byte.
# nested-seconds: 127
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MiB=$((1 << 20))
PATTERN_OFF=128		# 64 KiB blocks: 8 MiB

if in_l1; then
	O=$MINIVMM_L1_OUT
	mkdir -p /tmp/full
	mount -t tmpfs -o size=1m tmpfs /tmp/full
	truncate -s 64M /tmp/full/full.img
	set +e
	timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--disk "path=$O/data.img,serial=MINIVMM-DATA" --disk "path=$O/esp.img,readonly=on" \
		--disk /tmp/full/full.img \
		--serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm.log"
	grep -a 'MINIVMM-\|virtio\|vd[ab]\|I/O error' "$O/serial.txt" | tr -d '\033\r' | sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0: the guest powers off)"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" &&
		fail "the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the guest did not finish its checks"
	# The ACPI tables minivmm generated, as Linux reads them: no error,
	# exception or warning from ACPICA at loglevel 5 (warnings included).
	if grep -a "ACPI.*\(Error\|Exception\|Warning\|BIOS bug\)" "$O/serial.txt"; then
		fail "the Linux guest reports ACPI problems"
	fi
	echo "ok: the Linux guest logged no ACPI error or warning"
	grep -q "virtio-blk0: .* 0 notifications through MMIO exits" "$O/minivmm.log" ||
		fail "notifications exited to userspace (no ioeventfd?)"
	grep -q "virtio-blk2: I/O error .*No space left on device (reported to the guest as IOERR)" \
		"$O/minivmm.log" || fail "minivmm did not report the host write error"
	echo "LINUX-BLK-OK"
	exit 0
fi

# The data disk starts all 0xff, so every byte the guest changes shows.
head -c $((64 * MiB)) /dev/zero | tr '\0' '\377' > "$NESTED_OUT/data.img"
blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=linux minivmm.serial=MINIVMM-DATA minivmm.pattern_off=$PATTERN_OFF loglevel=5)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"
esp_sum=$(md5sum < "$NESTED_OUT/esp.img")

l1_run --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "LINUX-BLK-OK"
assert_log_contains "MINIVMM-GUEST: vda: 131072 sectors, serial 'MINIVMM-DATA', 2 queues, ro=0"

# Byte for byte: 0xff everywhere but the pattern at 8 MiB and the zeroed MiB at
# 42 MiB; the discarded MiB at 40 MiB may read either way (a discard is a hint,
# and the out share's file system cannot punch holes) but must be uniform.
blk_check_linux_image "$NESTED_OUT/data.img" "$PATTERN_OFF" "$NESTED_CASE_DIR/expected.img"
[[ $(md5sum < "$NESTED_OUT/esp.img") == "$esp_sum" ]] || fail "the readonly=on image changed"
