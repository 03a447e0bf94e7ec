#!/usr/bin/env bash
# 46-ahci: the ICH9 AHCI controller with a CD-ROM and a SATA disk, as a
# Windows install uses them. Stock OVMF inside minivmm boots an El Torito ISO
# (GRUB from its EFI image, the Linux guest of the virtio-blk cases from its
# ISO 9660 file system) given with --cdrom, through AHCI port 0 and ATAPI. The
# guest (tests/nested/blk/guest-init.sh, test "ahci") loads ahci, sr_mod and
# sd_mod, reads all of /dev/sr0 and prints its md5, which must be the ISO's;
# writes a pattern to the SATA disk (--disk bus=sata, port 1) and reads it back
# through queued commands; then powers off, and L0 checks the disk image byte
# for byte. Debian's QEMU (q35, ich9-ahci with ide-cd and ide-hd on the same
# ports) boots the same ISO in the same L1 and must give the same results;
# both runs are timed (QEMU with -cpu host: the guest modules want what the
# host CPU has, as minivmm passes it). Before that, --cdrom's mistakes (a missing image, one
# not a whole number of 2 KiB blocks, a seventh AHCI device) end minivmm with
# one line each.
# nested-seconds: 150
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MiB=$((1 << 20))
PATTERN_OFF=128		# 64 KiB blocks: 8 MiB

if in_l1; then
	O=$MINIVMM_L1_OUT
	iso_md5=$(md5sum < "$O/boot.iso")
	iso_md5=${iso_md5%% *}

	# --cdrom mistakes: one line each, before any guest runs.
	expect() {
		local want=$1 what=$2 rc; shift 2
		set +e
		timeout 120 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 128M "$@" \
			> "$O/err.log" 2>&1 < /dev/null
		rc=$?
		set -e
		echo "--- minivmm $* -> status $rc"
		sed 's/^/    /' "$O/err.log"
		[[ $rc == "$want" ]] || fail "minivmm $*: status $rc, expected $want"
		grep -qF -- "$what" "$O/err.log" || fail "minivmm $*: no line saying '$what'"
		[[ $(wc -l < "$O/err.log") == 1 ]] || fail "minivmm $*: more than one line"
	}
	expect 1 "--cdrom /tmp/missing.iso: no such file (check the path)" --cdrom /tmp/missing.iso
	head -c 3000 /dev/zero > /tmp/odd.iso
	expect 1 "is not a multiple of the 2048-byte CD-ROM block" --cdrom /tmp/odd.iso
	seven=()
	for _ in $(seq 7); do seven+=(--cdrom /tmp/odd.iso); done
	expect 2 "more than 6 AHCI devices" "${seven[@]}"

	# (a)+(b): minivmm.
	start=$SECONDS
	set +e
	timeout 400 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--cdrom "$O/boot.iso" --disk "path=$O/sata-minivmm.img,bus=sata,serial=MINIVMM-SATA" \
		--serial "file:$O/serial-minivmm.txt" < /dev/null > "$O/minivmm.log" 2>&1
	rc=$?
	set -e
	t_minivmm=$((SECONDS - start))
	sed 's/^/    /' "$O/minivmm.log"
	tr -d '\033\r' < "$O/serial-minivmm.txt" | grep -a 'MINIVMM-\|BdsDxe\|ata[0-9]\|scsi\|sr0\|sda' |
		sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with status $rc (expected 0: the guest powers off)"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial-minivmm.txt" &&
		fail "the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial-minivmm.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial-minivmm.txt" || fail "the guest did not finish"
	grep -aq "MINIVMM-GUEST: sr0 md5 $iso_md5 " "$O/serial-minivmm.txt" ||
		fail "the guest read /dev/sr0 with another md5 than the ISO's ($iso_md5)"
	grep -aqE "MINIVMM-GUEST: sda: .*'ATA +MINIVMM HARDDISK *', queue depth 3[12]," "$O/serial-minivmm.txt" ||
		fail "the SATA disk is not minivmm's NCQ disk (depth 31-32)"
	echo "ok: minivmm: OVMF booted the ISO, the guest read it whole (md5 $iso_md5) and wrote sda, ${t_minivmm}s"

	# (c): QEMU, the same ISO on ich9-ahci port 0, the disk on port 1.
	start=$SECONDS
	set +e
	timeout 400 qemu-system-x86_64 -accel kvm -cpu host -machine q35 -m 512 -smp 2 \
		-bios /usr/share/ovmf/OVMF.fd -nodefaults -display none -no-reboot \
		-serial "file:$O/serial-qemu.txt" \
		-drive if=none,id=cd,file="$O/boot.iso",media=cdrom,readonly=on,format=raw \
		-device ide-cd,drive=cd,bus=ide.0 \
		-drive if=none,id=hd,file="$O/sata-qemu.img",format=raw \
		-device ide-hd,drive=hd,bus=ide.1,serial=MINIVMM-SATA < /dev/null > "$O/qemu.log" 2>&1
	rc=$?
	set -e
	t_qemu=$((SECONDS - start))
	sed 's/^/    /' "$O/qemu.log"
	tr -d '\033\r' < "$O/serial-qemu.txt" | grep -a 'MINIVMM-' | sed 's/^/  qemu guest: /' || true
	[[ $rc == 0 ]] || fail "QEMU ended with status $rc"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial-qemu.txt" || fail "the guest under QEMU did not finish"
	grep -aq "MINIVMM-GUEST: sr0 md5 $iso_md5 " "$O/serial-qemu.txt" ||
		fail "under QEMU the guest read /dev/sr0 with another md5"
	echo "ok: QEMU: the same ISO and disk give the same results, ${t_qemu}s"
	echo "AHCI-TIMES minivmm ${t_minivmm}s qemu ${t_qemu}s"
	echo "AHCI-OK"
	exit 0
fi

# The guest's files, the ISO with them (the kernel command line in its
# grub.cfg), two blank SATA disks (0xff, so every byte the guest changes shows).
BLK_EXTRA_MODULES="ahci sr_mod sd_mod"
blk_guest_files "$NESTED_OUT"
blk_iso "$NESTED_OUT/boot.iso" \
	"console=ttyS0 panic=-1 loglevel=4 minivmm.test=ahci minivmm.pattern_off=$PATTERN_OFF" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img" || fail "grub-mkrescue failed"
(( $(stat -c %s "$NESTED_OUT/boot.iso") % 2048 == 0 )) || fail "the ISO is not whole 2 KiB blocks"
for v in minivmm qemu; do
	head -c $((64 * MiB)) /dev/zero | tr '\0' '\377' > "$NESTED_OUT/sata-$v.img"
done
iso_sum=$(md5sum < "$NESTED_OUT/boot.iso")

l1_run --timeout 1000 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "AHCI-OK"
grep -a "AHCI-TIMES" "$L1_LOG" | tail -1

# Byte for byte: 0xff everywhere but the pattern at 8 MiB (and a MiB at
# 40 MiB that a TRIM may have zeroed: uniform either way).
want=$NESTED_CASE_DIR/expected.img
for v in minivmm qemu; do
	img=$NESTED_OUT/sata-$v.img
	head -c $((64 * MiB)) /dev/zero | tr '\0' '\377' > "$want"
	dd if="$BLK_PATTERN" of="$want" bs=64k seek="$PATTERN_OFF" conv=notrunc status=none
	disc=$(dd if="$img" bs=1M skip=40 count=1 status=none | od -An -v -tx1 | tr -s ' \n' '\n' | sort -u | tr -d '\n')
	[[ $disc == ff || $disc == 00 ]] || fail "$v: the discarded range holds mixed bytes"
	[[ $disc == 00 ]] && dd if=/dev/zero of="$want" bs=1M seek=40 count=1 conv=notrunc status=none
	cmp "$img" "$want" || fail "$v: the SATA image differs from what the guest wrote"
	echo "$v: SATA image byte for byte as expected (discarded MiB: $disc)"
done
[[ $(md5sum < "$NESTED_OUT/boot.iso") == "$iso_sum" ]] || fail "the ISO changed"
