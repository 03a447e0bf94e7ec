#!/usr/bin/env bash
# tests/nested/prepare.sh — build/fetch everything the nested (L1) harness needs.
#
# The machines this project runs on have no usable /dev/kvm, so minivmm is tested
# inside "L1": a Debian kernel booted by a (patched) QEMU using TCG that emulates an
# AMD CPU with SVM and an Intel IOMMU. This script produces, into a cache outside
# the clone:
#   - a patched QEMU 10.0.2 (qemu-system-x86_64), built from bookworm-backports source
#   - a Debian bookworm 6.1 kernel (vmlinuz + its modules, unpacked)
#   - an initramfs: busybox-static + the modules L1 needs + our /init (l1-init.sh)
# and writes their paths to $CACHE/current.env, which run-l1.sh reads.
#
# Idempotent: every product is keyed by what it was made from and only rebuilt when
# that changes; on a warm cache the whole script takes about a second and runs no apt.
# Run as root on a fresh Debian 12 machine (apt-get, /var/cache).
#
# Environment:
#   MINIVMM_CACHE        cache directory (default /var/cache/minivmm)
#   MINIVMM_QEMU_VERSION upstream QEMU version to build (default 10.0.2)
# Options:
#   --quiet              print only errors (and the final paths unless --no-paths)
#   --no-paths           don't print the resulting paths
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${MINIVMM_CACHE:-/var/cache/minivmm}
QEMU_VERSION=${MINIVMM_QEMU_VERSION:-10.0.2}
# Applied in this order; see each file's header for the bug it fixes.
PATCH_FILES=("$HERE/qemu-bql-cr8.patch" "$HERE/qemu-svm-vmrun-inject.patch")
INIT_FILE=$HERE/l1-init.sh
# shellcheck source=tests/nested/modules.sh
source "$HERE/modules.sh"

QUIET=0
PRINT_PATHS=1
for arg in "$@"; do
    case $arg in
        --quiet) QUIET=1 ;;
        --no-paths) PRINT_PATHS=0 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "prepare.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

say() { [[ $QUIET == 1 ]] || echo "prepare: $*"; }
die() { echo "prepare: ERROR: $*" >&2; exit 1; }

# Packages the harness needs at run time. qemu-system-x86 is Debian's own QEMU: L1
# runs it (through the chroot into L0's /) on real KVM as the reference VMM for L2,
# and it brings qemu-system-data + seabios, whose ROMs our patched QEMU also uses
# (-L /usr/share/qemu -L /usr/share/seabios; we build without bundled blobs).
# ipxe-qemu: NIC option ROMs, so Debian's QEMU in L1 also starts with a default NIC.
RUNTIME_PKGS=(busybox-static kmod cpio xz-utils zstd qemu-system-x86 qemu-system-data
              seabios ipxe-qemu ovmf dosfstools mtools)
# Needed only to build QEMU (installed only when a build is actually needed).
BUILD_PKGS=(gcc make patch pkg-config ninja-build libglib2.0-dev libpixman-1-dev flex
            bison libattr1-dev libcap-ng-dev libfdt-dev python3 python3-venv)
# QEMU 10 needs meson >= 1.5 (bookworm has 1.0.1) and pycotap: bookworm-backports.
BACKPORTS_PKGS=(meson python3-pycotap)
BACKPORTS_LIST=/etc/apt/sources.list.d/minivmm-bookworm-backports.sources

# The modules L1 loads, in this order (dependencies are resolved from modules.dep and
# inserted before each). KVM on AMD + VFIO type1 (Debian's 6.1 has no IOMMUFD), then
# virtio-pci + 9p so /init can mount L0's / through virtfs; tun, bridge and
# macvtap for virtio-net's host ends (56-net); vhost_net for its in-kernel
# data path (59-vhost).
L1_MODULES=(irqbypass ccp kvm kvm-amd vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core
            vfio-pci virtio_pci 9pnet_virtio 9p tun bridge macvtap
            vhost_net)

mkdir -p "$CACHE"
# One lock for the whole script: a second concurrent run waits, then finds the
# products ready instead of building them twice.
exec 9>"$CACHE/.prepare.lock"
if ! flock -n 9; then
    say "another prepare.sh is running; waiting for it"
    flock 9
fi

short_hash() { sha256sum | cut -c1-12; }

# ---------------------------------------------------------------- apt -----------

APT_UPDATED=0
apt_update_once() {
    [[ $APT_UPDATED == 1 ]] && return 0
    say "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
}

# Packages from LIST that are not installed (one dpkg-query call: fast).
missing_pkgs() {
    local p st
    declare -A have=()
    while IFS=$'\t' read -r p st; do
        [[ $st == "install ok installed" ]] && have[$p]=1
    done < <(dpkg-query -W -f='${Package}\t${Status}\n' "$@" 2>/dev/null || true)
    for p in "$@"; do [[ -n ${have[$p]:-} ]] || echo "$p"; done
}

need_root() { [[ $(id -u) == 0 ]] || die "$* (run as root)"; }

# bookworm-backports is not among the machine's sources. Derive an entry from the
# existing Debian one (same URIs and keyring, suite bookworm-backports, with deb-src
# for the QEMU source) instead of writing a mirror address into the project.
ensure_backports_source() {
    if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return 0
    fi
    need_root "bookworm-backports must be added to apt sources"
    local entry uris signed
    # deb822 stanzas (paragraph mode): the one whose Suites has the word "bookworm".
    entry=$(awk 'BEGIN { RS = ""; FS = "\n" }
        {
            uris = ""; suites = ""; signed = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^[ \t]*#/) continue
                if ($i ~ /^URIs:/)      { uris = $i;   sub(/^URIs:[ \t]*/, "", uris) }
                if ($i ~ /^Suites:/)    { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
                if ($i ~ /^Signed-By:/) { signed = $i; sub(/^Signed-By:[ \t]*/, "", signed) }
            }
            n = split(suites, s, /[ \t]+/)
            for (j = 1; j <= n; j++) if (s[j] == "bookworm") { print uris "\t" signed; exit }
        }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [[ -n $entry ]]; then
        uris=${entry%%$'\t'*}
        signed=${entry#*$'\t'}
    else
        # One-line format fallback: "deb [opts] URI bookworm main ..."
        uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
               awk '$1 == "deb" { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == "bookworm") { print $2; exit } }')
        signed=""
    fi
    [[ -n $uris ]] || die "no Debian bookworm entry found in /etc/apt/sources.list.d/ to derive bookworm-backports from"
    say "adding bookworm-backports (URIs: $uris) as $BACKPORTS_LIST"
    {
        echo "# Added by minivmm tests/nested/prepare.sh (meson, pycotap and QEMU source)."
        echo "Types: deb deb-src"
        echo "URIs: $uris"
        echo "Suites: bookworm-backports"
        echo "Components: main"
        [[ -z $signed ]] || echo "Signed-By: $signed"
    } > "$BACKPORTS_LIST"
    APT_UPDATED=0   # the new source needs fetching
}

ensure_runtime_pkgs() {
    local missing
    missing=$(missing_pkgs "${RUNTIME_PKGS[@]}" | tr "\n" " ")
    [[ -z ${missing// /} ]] && return 0
    need_root "missing packages: $missing"
    apt_update_once
    say "installing: $missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

ensure_build_pkgs() {
    local missing meson_v
    missing=$(missing_pkgs "${BUILD_PKGS[@]}" | tr "\n" " ")
    meson_v=$(dpkg-query -W -f='${Version}' meson 2>/dev/null || true)
    if [[ -n $missing ]]; then
        need_root "missing build packages: $missing"
        apt_update_once
        say "installing build deps: $missing"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    if [[ -n $(missing_pkgs "${BACKPORTS_PKGS[@]}") ]] || ! dpkg --compare-versions "${meson_v:-0}" ge 1.5; then
        need_root "meson >= 1.5 and python3-pycotap are needed from bookworm-backports"
        ensure_backports_source
        apt_update_once
        say "installing from bookworm-backports: ${BACKPORTS_PKGS[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -t bookworm-backports "${BACKPORTS_PKGS[@]}" >/dev/null
    fi
}

# ---------------------------------------------------------------- QEMU ----------

# Flags from docs/nested-testing.md: the +ds tarball has no firmware blobs and no
# bundled Python wheels, so no blobs, system meson, system python (not a pyenv one).
# pixman: keeps display devices (VGA, screendump) usable for passthrough tests.
QEMU_CONFIGURE=(--python=/usr/bin/python3 --target-list=x86_64-softmmu
    --without-default-features --enable-tcg --enable-virtfs --enable-attr --enable-cap-ng
    --enable-fdt=system --enable-pixman --disable-install-blobs --disable-docs --disable-werror)
# Keyed by version + patch + configure flags: change any and a new binary is built.
QEMU_KEY=$( { cat "${PATCH_FILES[@]}"; echo "${QEMU_CONFIGURE[*]}"; } | short_hash)
QEMU_DIR=$CACHE/qemu-$QEMU_VERSION-$QEMU_KEY
QEMU_BIN=$QEMU_DIR/qemu-system-x86_64

# Sets QEMU_TARBALL (a global, not echoed: say() writes to stdout too).
fetch_qemu_source() {
    local tarball=$CACHE/src/qemu_$QEMU_VERSION+ds.orig.tar.xz debver
    QEMU_TARBALL=$tarball
    [[ -f $tarball ]] && return 0
    need_root "the QEMU source must be downloaded"
    ensure_backports_source
    apt_update_once
    debver=$(apt-cache showsrc qemu | awk '/^Version:/ { print $2 }' |
             grep -E "^([0-9]+:)?${QEMU_VERSION//./\\.}\+ds" | sort -V | tail -1 || true)
    [[ -n $debver ]] || die "no qemu $QEMU_VERSION source package in apt (bookworm-backports)"
    mkdir -p "$CACHE/src"
    say "downloading qemu source $debver"
    # The .dsc/.debian.tar.xz of this version may 404 on the mirror; apt still fetches
    # (and checksums) the orig tarball, which is all we need. Judge by its presence.
    (cd "$CACHE/src" && apt-get source --download-only -qq "qemu=$debver" >/dev/null 2>&1) || true
    rm -f "$CACHE/src"/*.dsc "$CACHE/src"/*.debian.tar.*
    [[ -f $tarball ]] || die "apt-get source did not produce $tarball"
}

build_qemu() {
    [[ -x $QEMU_BIN ]] && return 0
    ensure_build_pkgs
    local build
    fetch_qemu_source
    build=$CACHE/.build-qemu-$QEMU_KEY
    # Leftovers of interrupted builds (we hold the lock: none is in progress).
    rm -rf "$CACHE"/.build-qemu-* "$QEMU_DIR.tmp"
    mkdir -p "$build"
    say "building patched QEMU $QEMU_VERSION in $build (takes several minutes on 2 cores)"
    tar -C "$build" -xf "$QEMU_TARBALL"
    local src=$build/qemu-$QEMU_VERSION
    local p
    for p in "${PATCH_FILES[@]}"; do
        patch -d "$src" -p1 --quiet < "$p"
    done
    # The +ds tarball lacks the EDK2 blobs; meson would try to unpack them whenever
    # bzip2 is installed, even with --disable-install-blobs.
    sed -i 's/^    unpack_edk2_blobs = bzip2.found()$/    unpack_edk2_blobs = false/' "$src/meson.build"
    (
        cd "$src"
        mkdir build && cd build
        ../configure "${QEMU_CONFIGURE[@]}" > "$build/configure.log" 2>&1 ||
            { tail -30 "$build/configure.log" >&2; exit 1; }
        ninja qemu-system-x86_64 > "$build/ninja.log" 2>&1 ||
            { tail -40 "$build/ninja.log" >&2; exit 1; }
    ) || die "QEMU build failed (logs in $build)"
    mkdir -p "$QEMU_DIR.tmp"
    cp "$src/build/qemu-system-x86_64" "$QEMU_DIR.tmp/"
    cp "${PATCH_FILES[@]}" "$QEMU_DIR.tmp/"
    "$QEMU_DIR.tmp/qemu-system-x86_64" --version | head -1 > "$QEMU_DIR.tmp/VERSION"
    rm -rf "$QEMU_DIR"
    mv "$QEMU_DIR.tmp" "$QEMU_DIR"      # appears only when complete
    rm -rf "$build"
    say "QEMU ready: $QEMU_BIN"
}

# ---------------------------------------------------------------- kernel --------

# Newest bookworm 6.1 kernel image package (signed variant, name ends in -amd64).
pick_kernel_pkg() {
    apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
        grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -1 || true
}

fetch_kernel() {
    local pkg
    pkg=$(pick_kernel_pkg)
    if [[ -z $pkg ]]; then
        # Empty apt lists (fresh machine): fetch them and ask again.
        apt_update_once
        pkg=$(pick_kernel_pkg)
    fi
    [[ -n $pkg ]] || die "no linux-image-6.1.0-*-amd64 package found in apt"
    KVER=${pkg#linux-image-}
    KDIR=$CACHE/kernel-$KVER
    if [[ ! -f $KDIR/vmlinuz ]]; then
        local tmp=$KDIR.tmp
        rm -rf "$tmp"; mkdir -p "$tmp/root"
        say "downloading $pkg"
        (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
            { apt_update_once; (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1); } ||
            die "apt-get download $pkg failed"
        dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root"
        rm -f "$tmp"/*.deb
        # bookworm ships modules under /lib; be tolerant of a /usr/lib layout.
        if [[ ! -d $tmp/root/lib/modules/$KVER && -d $tmp/root/usr/lib/modules/$KVER ]]; then
            mkdir -p "$tmp/root/lib"; ln -s ../usr/lib/modules "$tmp/root/lib/modules"
        fi
        depmod -b "$tmp/root" "$KVER"
        cp "$tmp/root/boot/vmlinuz-$KVER" "$tmp/vmlinuz"
        rm -rf "$KDIR"; mv "$tmp" "$KDIR"
    fi
    KROOT=$KDIR/root
    KERNEL=$KDIR/vmlinuz
    if grep -qx 'CONFIG_PVH=y' "$KROOT/boot/config-$KVER" 2>/dev/null; then
        [[ -f $KDIR/vmlinux ]] || extract_vmlinux "$KDIR/vmlinuz" "$KDIR/vmlinux"
        [[ -f $KDIR/vmlinux ]] && KERNEL=$KDIR/vmlinux
    fi
}

# Boot speed: TCG spends ~2.5 s of every L1 boot decompressing the xz bzImage before
# the kernel even starts. The uncompressed ELF vmlinux boots straight into the PVH
# entry point instead (QEMU's pvh.bin option ROM). The bzImage setup header says where
# the compressed payload is; its last 4 bytes are the uncompressed size, which we check.
# On any surprise we keep booting vmlinuz.
extract_vmlinux() {
    local bz=$1 out=$2 sects off len start magic size tmp=$2.tmp
    sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
    (( sects == 0 )) && sects=4
    read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$bz")
    start=$(( (sects + 1) * 512 + off ))
    size=$(od -An -tu4 -j $((start + len - 4)) -N4 "$bz" | tr -d ' ')
    magic=$(od -An -tx1 -j "$start" -N4 "$bz" | tr -d ' ')
    local unpack
    case $magic in
        fd377a58) unpack=(xz -dc) ;;
        28b52ffd) unpack=(zstd -qdc) ;;
        1f8b*)    unpack=(gzip -dc) ;;
        *) say "kernel payload format $magic unknown: booting vmlinuz"; return 0 ;;
    esac
    # The decompressors complain about the size trailer after the stream; the size
    # check below is what tells a complete vmlinux.
    tail -c +$((start + 1)) "$bz" | head -c "$len" | "${unpack[@]}" > "$tmp" 2>/dev/null || true
    if [[ $(stat -c %s "$tmp") == "$size" && $(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
        mv "$tmp" "$out"
    else
        rm -f "$tmp"
        say "could not extract vmlinux from $bz: booting vmlinuz"
    fi
}

# ---------------------------------------------------------------- initramfs -----

build_initramfs() {
    local bb_version key
    bb_version=$(dpkg-query -W -f='${Version}' busybox-static)
    key=$( { cat "$INIT_FILE"; echo "${L1_MODULES[*]}"; echo "$KVER $bb_version"; } | short_hash)
    INITRD=$CACHE/initramfs-$KVER-$key.cpio
    [[ -f $INITRD ]] && return 0

    say "building initramfs $INITRD"
    # Leftovers of an interrupted build (we hold the lock, so none is in progress).
    rm -rf "$CACHE"/.initramfs.*
    local tmp
    tmp=$(mktemp -d "$CACHE/.initramfs.XXXXXX")
    local r=$tmp/root
    mkdir -p "$r"/{bin,dev,proc,sys,newroot,out,lib/modules}
    cp /bin/busybox "$r/bin/busybox"
    install -m 0755 "$INIT_FILE" "$r/init"

    modules_copy "$KROOT" "$KVER" "$r/lib/modules" "${L1_MODULES[@]}" ||
        die "could not put the modules of kernel $KVER into the initramfs"
    echo "$KVER" > "$r/lib/modules/kernel-version"

    (cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$tmp/initramfs.cpio"
    mv "$tmp/initramfs.cpio" "$INITRD"
    rm -rf "$tmp"
}

# ---------------------------------------------------------------- main ----------

ensure_runtime_pkgs
build_qemu
fetch_kernel
build_initramfs

# What run-l1.sh reads. Written atomically; values are plain paths.
cat > "$CACHE/current.env.tmp" <<EOF
MINIVMM_L1_QEMU=$QEMU_BIN
MINIVMM_L1_KERNEL=$KERNEL
MINIVMM_L1_VMLINUZ=$KDIR/vmlinuz
MINIVMM_L1_INITRD=$INITRD
MINIVMM_L1_KVER=$KVER
MINIVMM_L1_KROOT=$KROOT
EOF
mv "$CACHE/current.env.tmp" "$CACHE/current.env"

if [[ $PRINT_PATHS == 1 ]]; then
    cat "$CACHE/current.env"
fi
