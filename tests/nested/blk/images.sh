# shellcheck shell=bash
# tests/nested/blk/images.sh — build, on L0, what the nested virtio-blk tests and
# the virtio-blk benchmark boot: disk images with an EFI System Partition, and a
# small Linux guest (Debian's kernel from the nested cache, EFI stub, with an
# initramfs of busybox-static, the virtio modules and guest-init.sh as /init).
# Sourced by tests/nested/cases/4x-*.sh and tests/bench/run.sh.
#
#   blk_pattern FILE SIZE            SIZE random bytes (the pattern a guest writes)
#   blk_initramfs FILE [--fio|--iperf3]  the guest initramfs (gzip'd cpio); --iperf3
#                                    adds the host's iperf3 with its libraries; --fio adds
#                                    the host's fio with its libraries and the jobs
#                                    in tests/nested/blk/*.fio (only the ones named
#                                    in $BLK_FIO_JOBS, e.g. "rr-qd1", if set: the
#                                    guest runs all it holds); needs the pattern at
#                                    $BLK_PATTERN (default: 4 MiB, made here);
#                                    modules in $BLK_EXTRA_MODULES are added
#                                    (loaded after virtio_blk, e.g. nvme)
#   blk_esp FILE SIZE_MB STARTUP [FILE...]
#                                    a GPT disk of SIZE_MB with one FAT ESP (1 MiB
#                                    to the end) holding FILEs and startup.nsh with
#                                    the text STARTUP (UEFI shell script, taken
#                                    literally; lines get the CR the shell wants)
#   blk_guest_files DIR              what a case's ESP holds: DIR/pattern.bin (4 MiB,
#                                    also set as $BLK_PATTERN), DIR/initrd.img and
#                                    DIR/vmlinuz
#   blk_check_linux_image IMG OFF WANT
#                                    after test "linux": IMG (64 MiB, 0xff before)
#                                    holds the pattern at OFF (64 KiB blocks), the
#                                    zeroed MiB at 42 MiB and a uniform discarded MiB
#                                    at 40 MiB, and nothing else changed (WANT: a
#                                    scratch file for the expected image)
#   blk_copy_host_binary ROOT PATH   the host's binary PATH into the initramfs tree
#                                    ROOT at the same path, with every library it
#                                    links (ldd), so that it runs in the guest
#   blk_iso FILE ARGS [FILE...]      an El Torito ISO that UEFI boots (grub-mkrescue:
#                                    GRUB as \EFI\BOOT\BOOTX64.EFI in its EFI image),
#                                    whose grub.cfg starts /vmlinuz with /initrd.img
#                                    and ARGS; FILEs go to its root (46-ahci)
#   blk_kernel                       prints the guest kernel (bzImage with EFI stub)
#   blk_startup_linux ARGS           a startup.nsh text that boots \vmlinuz with
#                                    \initrd.img and ARGS on the kernel command line
#
# Needs dosfstools, mtools, fdisk (sfdisk), busybox-static, gcc, and for
# blk_iso xorriso and grub-efi-amd64-bin (tests/deps.sh).

BLK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nested/modules.sh
source "$BLK_DIR/../modules.sh"
# shellcheck source=/dev/null
source "${MINIVMM_CACHE:-/var/cache/minivmm}/current.env"

blk_kernel() { echo "$MINIVMM_L1_VMLINUZ"; }

blk_guest_files() {
	BLK_PATTERN=$1/pattern.bin
	blk_pattern "$BLK_PATTERN" $((4 << 20))
	blk_initramfs "$1/initrd.img" || return 1
	cp "$(blk_kernel)" "$1/vmlinuz"
}

# A discard is a hint, and the out share's file system cannot punch holes:
# the discarded MiB may read either way, but must be uniform.
blk_check_linux_image() {
	local img=$1 off=$2 want=$3 disc
	head -c $((64 << 20)) /dev/zero | tr '\0' '\377' > "$want"
	dd if="$BLK_PATTERN" of="$want" bs=64k seek="$off" conv=notrunc status=none
	dd if=/dev/zero of="$want" bs=1M seek=42 count=1 conv=notrunc status=none
	disc=$(dd if="$img" bs=1M skip=40 count=1 status=none | od -An -v -tx1 | tr -s ' \n' '\n' | sort -u | tr -d '\n')
	[[ $disc == ff || $disc == 00 ]] || fail "the discarded range holds mixed bytes ($disc)"
	[[ $disc == 00 ]] && dd if=/dev/zero of="$want" bs=1M seek=40 count=1 conv=notrunc status=none
	cmp "$img" "$want" || fail "$(basename "$img") differs from what the guest wrote (cmp above)"
	echo "$(basename "$img"): byte for byte as expected (discarded range: $disc)"
}

blk_pattern() {
	head -c "$2" /dev/urandom > "$1"
}

blk_initramfs() {
	local out=$1 fio=${2:-} r lib job
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,lib/modules,lib64,proc,sys,dev,tmp,fio}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$BLK_DIR/guest-init.sh" "$r/init"
	gcc -static -O2 -o "$r/bin/blkzero" "$BLK_DIR/blkzero.c" || return 1
	gcc -static -O2 -o "$r/bin/mmiojump" "$BLK_DIR/mmiojump.c" || return 1
	gcc -static -O2 -o "$r/bin/tpmnv" "$BLK_DIR/tpmnv.c" || return 1
	gcc -static -O2 -o "$r/bin/barpoke" "$BLK_DIR/barpoke.c" || return 1
	gcc -static -O2 -o "$r/bin/cpuiddump" "$BLK_DIR/cpuiddump.c" || return 1
	gcc -static -O2 -o "$r/bin/tcprr" "$BLK_DIR/tcprr.c" || return 1
	# shellcheck disable=SC2086  # a list of names
	modules_copy "$MINIVMM_L1_KROOT" "$MINIVMM_L1_KVER" "$r/lib/modules" \
		virtio_pci virtio_blk ${BLK_EXTRA_MODULES:-} || return 1
	if [[ -z ${BLK_PATTERN:-} ]]; then
		BLK_PATTERN=$(dirname "$out")/pattern.bin
		blk_pattern "$BLK_PATTERN" $((4 << 20))
	fi
	cp "$BLK_PATTERN" "$r/pattern.bin"
	if [[ $fio == --iperf3 ]]; then
		blk_copy_host_binary "$r" /usr/bin/iperf3 || return 1
	fi
	if [[ $fio == --fio ]]; then
		blk_copy_host_binary "$r" /usr/bin/fio || return 1
		if [[ -n ${BLK_FIO_JOBS:-} ]]; then
			for job in $BLK_FIO_JOBS; do
				cp "$BLK_DIR/$job.fio" "$r/fio/" || return 1
			done
		else
			cp "$BLK_DIR"/*.fio "$r/fio/"
		fi
	fi
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out"
	rm -rf "$r"
}

blk_copy_host_binary() {
	local root=$1 bin=$2 lib
	mkdir -p "$root$(dirname "$bin")"
	cp "$bin" "$root$bin" || return 1
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib" || return 1
	done < <(ldd "$bin" | grep -o '/[^ ]*')
}

blk_esp() {
	local img=$1 size=$2 startup=$3 start sectors tmp
	shift 3
	rm -f "$img"
	truncate -s "${size}M" "$img"
	printf 'label: gpt\nstart=2048, type=U, name=ESP\n' | sfdisk -q "$img" || return 1
	read -r start sectors < <(sfdisk -d "$img" | sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p')
	mkfs.vfat -n ESP --offset "$start" "$img" $((sectors / 2)) > /dev/null 2>&1 || return 1
	tmp=$(mktemp)
	printf '%s\n' "$startup" | sed 's/$/\r/' > "$tmp"
	mcopy -i "$img@@$((start * 512))" "$tmp" ::/startup.nsh || return 1
	rm -f "$tmp"
	for f in "$@"; do
		mcopy -i "$img@@$((start * 512))" "$f" "::/$(basename "$f")" || return 1
	done
}

blk_iso() {
	local out=$1 args=$2 r f
	shift 2
	r=$(mktemp -d)
	mkdir -p "$r/boot/grub"
	for f in "$@"; do
		cp "$f" "$r/"
	done
	# No menu, no wait: GRUB's EFI console is OVMF's, the serial port.
	printf 'set timeout=0\nlinux /vmlinuz %s\ninitrd /initrd.img\nboot\n' "$args" \
		> "$r/boot/grub/grub.cfg"
	grub-mkrescue -o "$out" "$r" > "$r.log" 2>&1 || { cat "$r.log" >&2; rm -rf "$r" "$r.log"; return 1; }
	rm -rf "$r" "$r.log"
}

blk_startup_linux() {
	printf '@echo -off\necho MINIVMM-UEFI-STARTUP\nfs0:\n%s\n' \
		"\\vmlinuz initrd=\\initrd.img console=ttyS0 panic=-1 loglevel=4 $*"
}
