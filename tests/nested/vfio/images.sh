# shellcheck shell=bash
# tests/nested/vfio/images.sh — what the nested VFIO cases boot, built on L0:
# the Linux guest for the passed NVMe (Debian's kernel from the nested cache,
# EFI stub, started by OVMF from the NVMe's own ESP; an initramfs of
# busybox-static, the nvme modules and nvme-init.sh as /init).
# Sourced by tests/nested/cases/3x-vfio-*.sh; disk images come from
# tests/nested/blk/images.sh (blk_esp).
#
#   vfio_nvme_initramfs FILE      the guest initramfs (gzip'd cpio)
#   vfio_kernel                   prints the guest kernel (bzImage with EFI stub)

VFIO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nested/modules.sh
source "$VFIO_DIR/../modules.sh"
# shellcheck source=/dev/null
source "${MINIVMM_CACHE:-/var/cache/minivmm}/current.env"

vfio_kernel() { echo "$MINIVMM_L1_VMLINUZ"; }

vfio_nvme_initramfs() {
	local out=$1 r
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,lib/modules,proc,sys,dev,tmp}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$VFIO_DIR/nvme-init.sh" "$r/init"
	# t10-pi asks the crypto API for crc64-rocksoft at load time.
	modules_copy "$MINIVMM_L1_KROOT" "$MINIVMM_L1_KVER" "$r/lib/modules" \
		crc64_rocksoft_generic nvme vfat nls_cp437 nls_ascii nls_utf8 || return 1
	head -c $((1 << 20)) /dev/urandom > "$r/pattern.bin"
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out"
	rm -rf "$r"
}
