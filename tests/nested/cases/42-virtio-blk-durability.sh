#!/usr/bin/env bash
# 42-virtio-blk-durability: a flush the guest saw complete is on stable storage,
# whatever happens next. The Linux guest (test "durability") writes a pattern to
# each writable disk, fsyncs the block device (VIRTIO_BLK_T_FLUSH) and says
# FLUSHED; at that moment:
#   1. minivmm is killed with SIGKILL (the image is a file on the out share): the
#      pattern must be in the image;
#   2. minivmm is killed AND L1 loses power (sysrq b: no sync, no unmount), with
#      the images as files on an ext4 file system on L1's own virtio disk (a file
#      on L0), one opened buffered, one with direct=on: the pattern must be in
#      both (L0 reads them out of the ext4 image with debugfs). A flush that
#      returned before fdatasync would lose it here: data in L1's page cache, or
#      the new extents in an uncommitted journal. (Files, not block devices:
#      the last close of a block device syncs it, which would hide the bug.)
# nested-seconds: 374
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MiB=$((1 << 20))
PATTERN_OFF=256		# 64 KiB blocks: 16 MiB

# run_until_flushed DISK-ARGS...: boot the guest, SIGKILL minivmm once it flushed.
run_until_flushed() {
	local O=$MINIVMM_L1_OUT pid
	: > "$O/serial.txt"
	./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 "$@" \
		--disk "path=$O/esp.img,readonly=on" --serial "file:$O/serial.txt" \
		< /dev/null > "$O/minivmm.log" 2>&1 &
	pid=$!
	local t0=$SECONDS ended=timeout
	while (( SECONDS - t0 < 600 )); do
		grep -aq "MINIVMM-GUEST: FLUSHED" "$O/serial.txt" && { ended=flushed; break; }
		grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" && { ended="guest failed"; break; }
		kill -0 $pid 2>/dev/null || { ended="minivmm exited"; break; }
		sleep 0.05
	done
	kill -KILL $pid 2>/dev/null || true
	wait $pid || true
	grep -a "MINIVMM-" "$O/serial.txt" | tr -d '\r' | sed 's/^/  guest: /'
	if ! grep -aq "MINIVMM-GUEST: FLUSHED" "$O/serial.txt"; then
		echo "after $((SECONDS - t0)) s ($ended); minivmm's log, then the serial console:"
		tail -n 8 "$O/minivmm.log"
		tr -d '\033' < "$O/serial.txt" | tr '\r' '\n' | grep -av '^[[:space:]]*$' | tail -n 12
		fail "the guest never flushed ($ended)"
	fi
	echo "ok: minivmm killed with SIGKILL right after the guest's flush"
}

if in_l1; then
	if [[ ${1:-} == power-cut ]]; then
		mkfs.ext4 -q /dev/vda
		mkdir -p /tmp/l1fs
		mount /dev/vda /tmp/l1fs
		truncate -s 64M /tmp/l1fs/buffered.img /tmp/l1fs/direct.img
		sync
		run_until_flushed --disk /tmp/l1fs/buffered.img --disk /tmp/l1fs/direct.img,direct=on
		echo "POWER-CUT: sysrq b"
		sleep 1		# let the console line out first
		echo b > /proc/sysrq-trigger
		sleep 30
		fail "still running after sysrq b"
	fi
	run_until_flushed --disk "path=$MINIVMM_L1_OUT/data.img"
	echo "SIGKILL-RUN-OK"
	exit 0
fi

blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=durability minivmm.pattern_off=$PATTERN_OFF)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"
truncate -s $((64 * MiB)) "$NESTED_OUT/data.img"

# has_pattern IMAGE: the pattern sits at PATTERN_OFF, byte for byte.
has_pattern() {
	cmp <(dd if="$1" bs=64k skip=$PATTERN_OFF count=64 status=none) "$BLK_PATTERN" ||
		fail "$(basename "$1"): the flushed pattern is not there"
	echo "$(basename "$1"): the flushed pattern is there"
}

l1_run --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "SIGKILL-RUN-OK"
has_pattern "$NESTED_OUT/data.img"

# L1's own disk: virtio-blk in L1's QEMU, writeback cache (a flush from L1 is an
# fdatasync on L0), a file in the out dir that L1 formats.
truncate -s $((256 * MiB)) "$NESTED_OUT/l1disk.img"
l1_run --timeout 900 --modprobe virtio_blk --modprobe ext4 \
	--drive "file=$NESTED_OUT/l1disk.img,if=none,id=pc0,format=raw,cache=writeback" \
	--qemu-arg -device --qemu-arg virtio-blk-pci,drive=pc0,addr=0x12 \
	-- bash "$NESTED_CASE_FILE" power-cut
assert_log_contains "POWER-CUT: sysrq b"
assert_log_not_contains "NESTED-FAIL"
[[ $L1_RC == 125 || $L1_RC == 124 ]] || fail "L1 reported status $L1_RC after its power cut"
# As L1 would find it on the next boot: the journal replayed (e2fsck), then
# the files read out of the file system.
e2fsck -fy "$NESTED_OUT/l1disk.img" > "$NESTED_CASE_DIR/e2fsck.log" 2>&1 ||
	(( $? <= 1 )) || fail "e2fsck cannot repair L1's file system ($NESTED_CASE_DIR/e2fsck.log)"
for f in buffered direct; do
	debugfs -R "dump /$f.img $NESTED_OUT/l1-$f.img" "$NESTED_OUT/l1disk.img" 2>/dev/null
	[[ -s $NESTED_OUT/l1-$f.img ]] || fail "$f.img is not in L1's file system"
	has_pattern "$NESTED_OUT/l1-$f.img"
done
