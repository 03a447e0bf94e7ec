# shellcheck shell=bash
# tests/nested/install/images.sh — build, on L0, the installer CD of the nested
# install test (tests/nested/cases/48-install.sh): the stand-in for a Windows
# installation DVD. Sourced by the case.
#
#   install_media DIR
#       DIR/install.iso    the CD (below)
#       DIR/pattern.bin    4 MiB the installed system writes to the data disk
#                          (also $BLK_PATTERN)
#       DIR/grubenv-ignore a GRUB environment block that adds
#                          minivmm.pwrbtn=ignore to the installed system's
#                          kernel command line (put on its ESP for a guest
#                          that ignores the power button)
#
# The CD, ISO 9660 with Rock Ridge, volume MINIVMM_INSTALL:
#   El Torito EFI boot image (also appended as a GPT partition, so that the
#   ISO boots as a disk image too, e.g. a read-only virtio-blk disk):
#     \EFI\BOOT\BOOTX64.EFI   cdboot.efi: starts GRUB, turns its `exit` into
#                             an error status (cdboot.c says why)
#     \EFI\BOOT\grubx64.efi   GRUB with grub-cd.cfg: installer, or exit when
#                             the disk is installed
#   /minivmm-installer        what the CD's GRUB and the installer know it by
#   /vmlinuz, /initrd.img     the L1 kernel (EFI stub) and the guest initramfs
#                             (guest-init.sh as /init: installer and installed
#                             system in one)
#   /install/BOOTX64.EFI      GRUB with grub-disk.cfg, for the installed ESP
#   /install/grubenv          its environment block (minivmm_args empty)
#
# Needs grub-efi-amd64-bin, grub-common, gnu-efi, xorriso, dosfstools, mtools,
# fdisk, busybox-static, gcc (tests/deps.sh).

INSTALL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nested/blk/images.sh
source "$INSTALL_DIR/../blk/images.sh"

# GRUB modules the two configs use, all built into the image (grub-mkimage adds
# their dependencies). GRUB's own grub-mkstandalone would put every module in
# the memdisk with the list of all file systems, and `search` would then try
# to load each file system module it lacks: one error line per module, when
# only some are there.
INSTALL_GRUB_MODULES="normal memdisk tar search search_fs_file iso9660 part_gpt part_msdos
	fat linux boot echo test minicmd loadenv"
# Kernel modules of the guest: the disks (virtio; AHCI for an ATAPI CD-ROM and
# SATA disks: QEMU's CD is one, minivmm's --cdrom too), the CD's and the ESP's
# file systems, and the power button as an input device.
INSTALL_KMODS="virtio_pci virtio_blk ahci sr_mod sd_mod isofs vfat nls_cp437 nls_ascii
	nls_utf8 button evdev"

# install_grub OUT CFG: a GRUB EFI image whose normal mode runs CFG: its prefix
# is a memdisk that holds CFG as grub.cfg and nothing else. (An embedded -c
# config would run in the rescue parser, which has no `if`.)
install_grub() {
	local t ret=0
	t=$(mktemp -d)
	mkdir -p "$t/boot/grub"
	cp "$2" "$t/boot/grub/grub.cfg"
	# shellcheck disable=SC2086  # a list of names
	tar -cf "$t/memdisk.tar" -C "$t" boot/grub/grub.cfg &&
		grub-mkimage -O x86_64-efi -p '(memdisk)/boot/grub' -m "$t/memdisk.tar" \
			-o "$1" $INSTALL_GRUB_MODULES || ret=1
	rm -rf "$t"
	return "$ret"
}

# install_cdboot OUT: cdboot.c as an EFI application (gnu-efi's usual recipe:
# a position-independent ELF with gnu-efi's self-relocating start code, its
# sections copied into a PE32+ image).
install_cdboot() {
	local tmp ret=0
	tmp=$(mktemp -d)
	gcc -I/usr/include/efi -I/usr/include/efi/x86_64 -DEFI_FUNCTION_WRAPPER -O2 -Wall \
		-fpic -ffreestanding -fno-stack-protector -fno-stack-check -fshort-wchar \
		-mno-red-zone -maccumulate-outgoing-args -c "$INSTALL_DIR/cdboot.c" -o "$tmp/cdboot.o" &&
		ld -nostdlib -znocombreloc -shared -Bsymbolic -T /usr/lib/elf_x86_64_efi.lds \
			/usr/lib/crt0-efi-x86_64.o "$tmp/cdboot.o" -o "$tmp/cdboot.so" \
			-L/usr/lib -lefi -lgnuefi &&
		objcopy -j .text -j .sdata -j .data -j .rodata -j .dynamic -j .dynsym -j .rel \
			-j .rela -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 \
			--subsystem=10 "$tmp/cdboot.so" "$1" || ret=1
	rm -rf "$tmp"
	return "$ret"
}

# install_initramfs OUT: busybox, guest-init.sh as /init, the modules, the
# host's sfdisk and mkfs.vfat with their libraries, pwrbtn, the pattern.
install_initramfs() {
	local out=$1 r
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,lib/modules,proc,sys,dev,tmp}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$INSTALL_DIR/guest-init.sh" "$r/init"
	gcc -static -O2 -Wall -o "$r/bin/pwrbtn" "$INSTALL_DIR/pwrbtn.c" || return 1
	# shellcheck disable=SC2086  # a list of names
	modules_copy "$MINIVMM_L1_KROOT" "$MINIVMM_L1_KVER" "$r/lib/modules" $INSTALL_KMODS ||
		return 1
	blk_copy_host_binary "$r" "$(command -v sfdisk)" || return 1
	blk_copy_host_binary "$r" "$(command -v mkfs.vfat)" || return 1
	cp "$BLK_PATTERN" "$r/pattern.bin"
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out"
	rm -rf "$r"
}

# install_efi_image OUT CDBOOT GRUB: the FAT image El Torito boots.
install_efi_image() {
	rm -f "$1"
	mkfs.vfat -C -n CDBOOT "$1" 2048 > /dev/null || return 1
	mmd -i "$1" ::/EFI ::/EFI/BOOT &&
		mcopy -i "$1" "$2" ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i "$1" "$3" ::/EFI/BOOT/grubx64.efi
}

install_media() {
	local dir=$1 t iso
	t=$(mktemp -d)
	iso=$t/iso
	mkdir -p "$iso/install"
	BLK_PATTERN=$dir/pattern.bin
	blk_pattern "$BLK_PATTERN" $((4 << 20))
	install_initramfs "$iso/initrd.img" || return 1
	cp "$(blk_kernel)" "$iso/vmlinuz"
	echo "minivmm install CD" > "$iso/minivmm-installer"
	install_grub "$iso/install/BOOTX64.EFI" "$INSTALL_DIR/grub-disk.cfg" || return 1
	grub-editenv "$iso/install/grubenv" create || return 1
	grub-editenv "$dir/grubenv-ignore" create &&
		grub-editenv "$dir/grubenv-ignore" set minivmm_args=minivmm.pwrbtn=ignore || return 1
	install_cdboot "$t/cdboot.efi" || return 1
	install_grub "$t/grubx64.efi" "$INSTALL_DIR/grub-cd.cfg" || return 1
	install_efi_image "$t/efi.img" "$t/cdboot.efi" "$t/grubx64.efi" || return 1
	# El Torito for a CD drive, and the same image as a GPT partition for a
	# disk (the firmware looks for El Torito on 2048-byte-block devices).
	xorriso -as mkisofs -quiet -o "$dir/install.iso" -V MINIVMM_INSTALL -R \
		-append_partition 2 0xef "$t/efi.img" -appended_part_as_gpt \
		-e --interval:appended_partition_2:all:: -no-emul-boot \
		"$iso" || return 1
	rm -rf "$t"
}
