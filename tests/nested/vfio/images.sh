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
# shellcheck source=/dev/null
source "${MINIVMM_CACHE:-/var/cache/minivmm}/current.env"

vfio_kernel() { echo "$MINIVMM_L1_VMLINUZ"; }

# Copy MODULES and their dependencies, in load order, into $1/lib/modules.
_vfio_modules() {
	local r=$1 m line path name; shift
	declare -A seen=()
	: > "$r/lib/modules/load-order"
	for m in "$@"; do
		while read -r line; do
			case $line in
				insmod\ *)
					path=$(awk '{ print $2 }' <<< "$line")
					name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
					[[ -n ${seen[$name]:-} ]] && continue
					seen[$name]=1
					case $path in
						*.xz) xz -dc "$path" > "$r/lib/modules/$name" ;;
						*.zst) zstd -qdc "$path" > "$r/lib/modules/$name" ;;
						*) cp "$path" "$r/lib/modules/$name" ;;
					esac
					echo "$name" >> "$r/lib/modules/load-order" ;;
				builtin\ *) ;;
				*) echo "vfio images: unexpected modprobe output: $line" >&2; return 1 ;;
			esac
		done < <(modprobe -d "$MINIVMM_L1_KROOT" -S "$MINIVMM_L1_KVER" --show-depends "$m")
	done
}

vfio_nvme_initramfs() {
	local out=$1 r
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,lib/modules,proc,sys,dev,tmp}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$VFIO_DIR/nvme-init.sh" "$r/init"
	# t10-pi asks the crypto API for crc64-rocksoft at load time.
	_vfio_modules "$r" crc64_rocksoft_generic nvme vfat nls_cp437 nls_ascii nls_utf8 || return 1
	head -c $((1 << 20)) /dev/urandom > "$r/pattern.bin"
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out"
	rm -rf "$r"
}
