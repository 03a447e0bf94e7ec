#!/usr/bin/env bash
# 44-virtio-blk-fixed-mq: the other engine paths under a real Linux guest — guest
# RAM on 2 MiB hugepages (registered as io_uring fixed buffers: single-segment
# requests are READ_FIXED/WRITE_FIXED), 4 vCPUs with 4 request queues on 2 I/O
# threads (iothreads=2: queues 0 and 2 on one, 1 and 3 on the other), and the
# data disk opened with O_DIRECT on a block device (L1's own virtio disk, whose
# backing file L0 then checks byte for byte). Same guest checks as
# 41-virtio-blk-linux (test "linux").
# nested-seconds: 173
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MiB=$((1 << 20))
PATTERN_OFF=128		# 64 KiB blocks: 8 MiB

if in_l1; then
	O=$MINIVMM_L1_OUT
	[[ -b /dev/vda ]] || fail "L1 has no /dev/vda (its own virtio disk)"
	mkdir -p /tmp/full
	mount -t tmpfs -o size=1m tmpfs /tmp/full
	truncate -s 64M /tmp/full/full.img
	set +e
	timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 4 --verbose \
		--hugepages 2M --disk "path=/dev/vda,direct=on,serial=MINIVMM-DATA,queues=4,iothreads=2" \
		--disk "path=$O/esp.img,readonly=on" --disk /tmp/full/full.img \
		--serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm.log"
	grep -a 'MINIVMM-' "$O/serial.txt" | tr -d '\033\r' | sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0: the guest powers off)"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" &&
		fail "the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the guest did not finish its checks"
	grep -q "virtio-blk0: /dev/vda at 00:01.0, 4 queue(s), 2 I/O thread(s), O_DIRECT" "$O/minivmm.log" ||
		fail "the data disk is not O_DIRECT with 4 queues on 2 I/O threads"
	grep -q "virtio-blk0: .* 0 notifications through MMIO exits" "$O/minivmm.log" ||
		fail "notifications exited to userspace (no ioeventfd?)"
	grep -q "virtio-blk0: [1-9][0-9]* reads/writes on fixed buffers" "$O/minivmm.log" ||
		fail "no request used the registered guest RAM"
	echo "FIXED-MQ-OK"
	exit 0
fi

head -c $((64 * MiB)) /dev/zero | tr '\0' '\377' > "$NESTED_OUT/data.img"
blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=linux minivmm.serial=MINIVMM-DATA minivmm.pattern_off=$PATTERN_OFF)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 900 --hugepages-2m 300 --modprobe virtio_blk \
	--drive "file=$NESTED_OUT/data.img,if=none,id=data,format=raw,cache=writeback" \
	--qemu-arg -device --qemu-arg virtio-blk-pci,drive=data,addr=0x12 \
	-- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "FIXED-MQ-OK"
assert_log_contains "MINIVMM-GUEST: vda: 131072 sectors, serial 'MINIVMM-DATA', 4 queues, ro=0"

# Byte for byte, as in 41 (L1 wrote it through its own disk on shutdown).
blk_check_linux_image "$NESTED_OUT/data.img" "$PATTERN_OFF" "$NESTED_CASE_DIR/expected.img"
