# shellcheck shell=bash
# tests/nested/modules.sh — kernel modules for an initramfs, dependencies first.
# Sourced by tests/nested/prepare.sh (L1's initramfs), tests/nested/blk/images.sh
# and tests/nested/vfio/images.sh (the Linux guests' initramfs), whose /init
# insmods the files named in DIR/load-order, in that order (busybox: no modprobe).
#
#   modules_copy KROOT KVER DIR MODULE...
#       Resolves each MODULE of kernel KVER (its tree under KROOT/lib/modules/KVER,
#       with the modules.dep depmod made) by `modprobe --show-depends`, which
#       lists the modules it depends on first, then the module itself, and names
#       the built-in ones (skipped). Copies each .ko once into DIR, decompressed
#       (busybox insmod cannot read .ko.xz or .ko.zst), and writes their file
#       names, in load order, to DIR/load-order.
#       Status 1, with a line on stderr, for a module modprobe does not find,
#       output of modprobe it does not understand, or a copy that fails.

modules_copy() {
    local kroot=$1 kver=$2 dir=$3 m deps line path name
    shift 3
    local -A seen=()
    : > "$dir/load-order" || return 1
    for m in "$@"; do
        deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m") || {
            echo "modules_copy: module $m not found for kernel $kver" >&2
            return 1
        }
        while read -r line; do
            case $line in
                insmod\ *)
                    read -r _ path _ <<< "$line"
                    name=${path##*/}; name=${name%.xz}; name=${name%.zst}
                    [[ -n ${seen[$name]:-} ]] && continue
                    seen[$name]=1
                    case $path in
                        *.xz)  xz -dc "$path" > "$dir/$name" ;;
                        *.zst) zstd -qdc "$path" > "$dir/$name" ;;
                        *)     cp "$path" "$dir/$name" ;;
                    esac || { echo "modules_copy: could not copy $path" >&2; return 1; }
                    echo "$name" >> "$dir/load-order" ;;
                builtin\ *) ;;
                *) echo "modules_copy: unexpected modprobe output for $m: $line" >&2; return 1 ;;
            esac
        done <<< "$deps"
    done
}
