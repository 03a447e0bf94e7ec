# shellcheck shell=bash
# tests/nested/secboot/images.sh — build, on L0, the two disks of the nested
# Secure Boot test (tests/nested/cases/52-secure-boot.sh). Sourced by the case.
#
#   secboot_disks DIR
#       DIR/signed.img    GPT + ESP with Debian's signed boot chain, as an
#                         installed Debian has it on its ESP:
#                           \EFI\BOOT\BOOTX64.EFI  shimx64.efi.signed (Microsoft
#                                                  UEFI CA 2011, in OVMF's
#                                                  OVMF_VARS_4M.ms.fd db)
#                           \EFI\BOOT\grubx64.efi  grubx64.efi.signed (Debian's
#                                                  CA, which shim trusts), the
#                                                  loader shim starts
#                           \EFI\debian\grub.cfg   where signed GRUB looks (its
#                                                  built-in prefix /EFI/debian)
#                           \vmlinuz               the nested cache's Debian
#                                                  kernel, signed by Debian
#                           \initrd.img            busybox, efivarfs,
#                                                  guest-init.sh as /init
#       DIR/unsigned.img  GPT + ESP whose \EFI\BOOT\BOOTX64.EFI is a GRUB image
#                         made here by grub-mkimage, unsigned, that would print
#                         MINIVMM-UNSIGNED-RAN if it ever ran
#
# Needs shim-signed, grub-efi-amd64-signed, grub-efi-amd64-bin, sbsigntool
# (sbverify), dosfstools, mtools, fdisk, busybox-static (tests/deps.sh).

SECBOOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nested/blk/images.sh
source "$SECBOOT_DIR/../blk/images.sh"

SECBOOT_SHIM=/usr/lib/shim/shimx64.efi.signed
SECBOOT_GRUB=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed

# secboot_initramfs OUT: busybox, guest-init.sh as /init, efivarfs.
secboot_initramfs() {
	local r
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,lib/modules,proc,sys,dev,tmp}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$SECBOOT_DIR/guest-init.sh" "$r/init"
	modules_copy "$MINIVMM_L1_KROOT" "$MINIVMM_L1_KVER" "$r/lib/modules" efivarfs || return 1
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$1"
	rm -rf "$r"
}

# secboot_esp IMG DEST=SRC...: a 32 MiB GPT disk, one FAT ESP, each SRC
# copied to the ESP path DEST (directories made as needed).
secboot_esp() {
	local img=$1 start sectors off item dest dir i parts
	shift
	rm -f "$img"
	truncate -s 32M "$img"
	printf 'label: gpt\nstart=2048, type=U, name=ESP\n' | sfdisk -q "$img" || return 1
	read -r start sectors < <(sfdisk -d "$img" | sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p')
	mkfs.vfat -n ESP --offset "$start" "$img" $((sectors / 2)) > /dev/null 2>&1 || return 1
	off="$img@@$((start * 512))"
	for item in "$@"; do
		dest=${item%%=*}
		# mmd every parent directory of dest, top first (mmd fails on one
		# that exists: ignore that).
		dir=
		IFS=/ read -ra parts <<< "${dest#/}"
		for ((i = 0; i < ${#parts[@]} - 1; i++)); do
			dir=$dir/${parts[i]}
			mmd -i "$off" "::$dir" 2> /dev/null || true
		done
		mcopy -i "$off" "${item#*=}" "::$dest" || return 1
	done
}

secboot_disks() {
	local dir=$1 t
	[[ -r $SECBOOT_SHIM && -r $SECBOOT_GRUB ]] ||
		{ echo "secboot: $SECBOOT_SHIM or $SECBOOT_GRUB missing (make deps)" >&2; return 1; }
	# The kernel must be the signed one: GRUB checks it through shim.
	sbverify --list "$(blk_kernel)" 2>/dev/null | grep -q "Debian Secure Boot" ||
		{ echo "secboot: $(blk_kernel) carries no Debian signature (sbverify --list)" >&2; return 1; }
	t=$(mktemp -d)
	secboot_initramfs "$t/initrd.img" || return 1
	# quiet: the kernel's console through the emulated UART is slow; the
	# guest reads what it needs from dmesg.
	printf 'set timeout=0\nlinux /vmlinuz console=ttyS0 panic=-1 quiet\ninitrd /initrd.img\nboot\n' \
		> "$t/grub.cfg"
	secboot_esp "$dir/signed.img" /EFI/BOOT/BOOTX64.EFI="$SECBOOT_SHIM" \
		/EFI/BOOT/grubx64.efi="$SECBOOT_GRUB" /EFI/debian/grub.cfg="$t/grub.cfg" \
		/vmlinuz="$(blk_kernel)" /initrd.img="$t/initrd.img" || return 1
	# The unsigned image: GRUB's rescue parser runs the embedded config.
	printf 'echo MINIVMM-UNSIGNED-RAN\n' > "$t/early.cfg"
	grub-mkimage -O x86_64-efi -p /EFI/BOOT -c "$t/early.cfg" -o "$t/unsigned.efi" echo ||
		return 1
	if sbverify --list "$t/unsigned.efi" 2>&1 | grep -q "^signature [0-9]"; then
		echo "secboot: grub-mkimage's image is signed?" >&2
		return 1
	fi
	secboot_esp "$dir/unsigned.img" /EFI/BOOT/BOOTX64.EFI="$t/unsigned.efi" || return 1
	rm -rf "$t"
}
