#!/usr/bin/env bash
# tests/nested/run-l1.sh — run a command inside L1, a QEMU-TCG guest with SVM + IOMMU.
#
# Usage: tests/nested/run-l1.sh [options] -- COMMAND [ARGS...]
#
# Boots the prepared kernel + initramfs in the patched QEMU (AMD EPYC with SVM/NPT,
# intel-iommu), which loads kvm-amd and vfio-pci, mounts L0's / read-only through
# virtfs and chroots into it. COMMAND then runs with L0's own binaries, in the same
# directory this script was started from, with real /dev/kvm and /dev/vfio. Its exit
# status becomes this script's. L1 sees L0's files read-only, with fresh tmpfs on
# /tmp, /run and /dev/shm; the --out dir is the writable way back to L0.
#
# Options:
#   --log FILE              L1 console log (default: a new temp dir/console.log)
#   --out DIR               writable dir shared with L1 at the same path
#                           (default: a new temp dir/out)
#   --quiet                 don't stream the console to stdout (it is still logged)
#   --timeout SECONDS       give up on L1 after this long (default 600)
#   --mem SIZE              L1 memory (default 3G)
#   --smp N                 L1 vCPUs (default 2)
#   --hugepages-2m N        reserve N 2 MiB hugepages in L1 before COMMAND
#   --pci-passthrough DEV@SLOT
#                           add "-device DEV,addr=SLOT" on L1's root bus and bind
#                           0000:00:SLOT.0 to vfio-pci in L1 (repeatable), e.g.
#                           edu@0x10, "nvme,serial=t0,drive=nv0@0x11".
#                           Slots 0x1d-0x1f are the harness's (virtfs, ICH9).
#   --no-bind               attach the devices but don't bind them to vfio-pci
#   --drive SPEC            add "-drive SPEC" (e.g. file=nv.img,if=none,id=nv0,format=raw)
#   --qemu-arg ARG          add one raw argument to L1's QEMU command line (repeatable)
#   --env NAME=VALUE|NAME   set (or copy from here) an environment variable for COMMAND
#   --modprobe MODULE       load an extra module of the L1 kernel before COMMAND
#   --append ARGS           extra L1 kernel command line arguments
#
# Inside L1, COMMAND sees MINIVMM_L1=1, MINIVMM_L1_OUT (the --out dir),
# MINIVMM_L1_PCI ("BDF ...") and MINIVMM_L1_VFIO_GROUPS ("BDF=/dev/vfio/N ...").
#
# Exit status: COMMAND's; 124 if L1 timed out; 125 if L1 failed before or without
# running COMMAND (a message on stderr says which, and where the log is); 2 for a
# bad command line.
# Environment: MINIVMM_CACHE (see prepare.sh); MINIVMM_NESTED_PREPARED=1 skips the
# (~1 s) prepare.sh check, as run-tests.sh does after running it once.
# MINIVMM_L1_TCG_THREAD=multi runs L1 with a TCG thread per vCPU (default single);
# MINIVMM_L1_QEMU_OVERRIDE=PATH runs another L1 QEMU binary (a debug build, say).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${MINIVMM_CACHE:-/var/cache/minivmm}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "run-l1: $*" >&2; exit 125; }
bad_usage() { echo "run-l1: $*" >&2; exit 2; }

LOG="" OUT="" QUIET=0 TIMEOUT=600 MEM=3G SMP=2 HUGEPAGES="" BIND=1 APPEND=""
PCI_DEVS=() PCI_BDFS=() EXTRA_QEMU=() ENVS=() MODPROBE=()
while (( $# )); do
    case $1 in
        --log) LOG=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --quiet) QUIET=1; shift ;;
        --timeout) TIMEOUT=$2; shift 2
            [[ $TIMEOUT =~ ^[0-9]+$ ]] || bad_usage "--timeout needs a number of seconds" ;;
        --mem) MEM=$2; shift 2 ;;
        --smp) SMP=$2; shift 2 ;;
        --hugepages-2m) HUGEPAGES=$2; shift 2
            [[ $HUGEPAGES =~ ^[0-9]+$ ]] || bad_usage "--hugepages-2m needs a number" ;;
        --pci-passthrough)
            spec=$2; shift 2
            [[ $spec == *@* ]] || bad_usage "--pci-passthrough wants DEV@SLOT, got '$spec'"
            dev=${spec%@*} slot=${spec##*@}
            # QEMU reads addr= as hex; so do we ("0x10" and "10" are both slot 16).
            [[ $slot =~ ^(0x)?[0-9a-fA-F]{1,2}$ ]] || bad_usage "bad slot '$slot' in '$spec'"
            slotnum=$((16#${slot#0x}))
            (( slotnum >= 1 && slotnum <= 0x1c )) || bad_usage "slot '$slot' is not in 0x1-0x1c"
            PCI_DEVS+=(-device "$dev,addr=$(printf '0x%02x' "$slotnum")")
            PCI_BDFS+=("$(printf '0000:00:%02x.0' "$slotnum")") ;;
        --no-bind) BIND=0; shift ;;
        --drive) EXTRA_QEMU+=(-drive "$2"); shift 2 ;;
        --qemu-arg) EXTRA_QEMU+=("$2"); shift 2 ;;
        --env)
            [[ ${2%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || bad_usage "bad --env name in '$2'"
            if [[ $2 == *=* ]]; then ENVS+=("$2")
            else ENVS+=("$2=${!2-}"); fi
            shift 2 ;;
        --modprobe) MODPROBE+=("$2"); shift 2 ;;
        --append) APPEND+=" $2"; shift 2 ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        *) echo "run-l1: unknown option '$1' (COMMAND goes after --)" >&2; usage 2 ;;
    esac
done
(( $# )) || { echo "run-l1: no COMMAND given" >&2; usage 2; }

# The artifacts (QEMU, kernel, initramfs) come from prepare.sh; it is ~1 s when warm.
if [[ ${MINIVMM_NESTED_PREPARED:-0} != 1 || ! -f $CACHE/current.env ]]; then
    "$HERE/prepare.sh" --quiet --no-paths || die "prepare.sh failed"
fi
# shellcheck source=/dev/null
source "$CACHE/current.env"
# Another L1 QEMU binary (a debug build, another patch) for this run only.
MINIVMM_L1_QEMU=${MINIVMM_L1_QEMU_OVERRIDE:-$MINIVMM_L1_QEMU}
# One host thread runs both L1 vCPUs (MTTCG off): with a thread per vCPU, L1 now
# and then took an interrupt right after an emulated VMRUN, with L2's GS base
# still loaded (stack overflow, L1 panic), and L2 guests triple-faulted; with
# one thread neither happened, at the same speed. docs/nested-testing.md.
TCG_THREAD=${MINIVMM_L1_TCG_THREAD:-single}
for f in "$MINIVMM_L1_QEMU" "$MINIVMM_L1_KERNEL" "$MINIVMM_L1_INITRD"; do
    [[ -f $f ]] || die "$f missing: run tests/nested/prepare.sh"
done

WORK=""
if [[ -z $LOG || -z $OUT ]]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-l1.XXXXXX")
fi
LOG=${LOG:-$WORK/console.log}
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT" "$(dirname "$LOG")"
OUT=$(cd "$OUT" && pwd -P)
: > "$LOG"

# Control files for /init and l1-job.sh live in the out share itself.
CTL=$OUT/.minivmm-l1
rm -rf "$CTL"
mkdir -p "$CTL"
printf '%s\n' "$OUT" > "$CTL/out-path"
# The cwd and this harness must stay visible in L1 even if they live where L1 mounts
# a fresh tmpfs (/tmp, /run): list them for /init (outermost first, no nesting).
CWD=$PWD
keep=()
mapfile -t candidates < <(printf '%s\n' "$CWD" "$HERE" | LC_ALL=C sort -u)
for p in "${candidates[@]}"; do
    [[ $p == /tmp/* || $p == /run/* ]] || continue
    nested=0
    for k in "${keep[@]}"; do [[ $p == "$k"/* ]] && nested=1; done
    (( nested )) || keep+=("$p")
done
(( ${#keep[@]} == 0 )) || printf '%s\n' "${keep[@]}" > "$CTL/keep-paths"
# Print "NAME=( 'elem' ... )" with shell quoting (printf %q alone turns no elements
# into one empty one).
qarray() {
    local name=$1; shift
    printf '%s=(' "$name"
    (( $# )) && printf ' %q' "$@"
    echo ' )'
}
{
    echo "# Generated by run-l1.sh; run by /init in L1 as: chroot / bash THIS"
    printf 'L1_OUT=%q\n' "$OUT"
    printf 'L1_CWD=%q\n' "$CWD"
    printf 'L1_HUGEPAGES_2M=%q\n' "$HUGEPAGES"
    printf 'L1_BIND=%q\n' "$BIND"
    printf 'L1_KROOT=%q\n' "$MINIVMM_L1_KROOT"
    printf 'L1_KVER=%q\n' "$MINIVMM_L1_KVER"
    qarray L1_PCI "${PCI_BDFS[@]}"
    qarray L1_MODPROBE "${MODPROBE[@]}"
    qarray L1_ENV "${ENVS[@]}"
    qarray L1_CMD "$@"
    printf 'source %q\n' "$HERE/l1-job.sh"
} > "$CTL/job.sh"

# QEMU option values are comma-separated: a comma in a path must be doubled.
qpath() { printf '%s' "${1//,/,,}"; }
# shellcheck disable=SC2054  # the commas are QEMU's
QEMU_ARGS=(
    -machine q35 -accel "tcg,thread=$TCG_THREAD" -cpu EPYC,+svm,+npt -smp "$SMP" -m "$MEM"
    # First, so that it is in place before any PCI device is created.
    -device intel-iommu,intremap=on,caching-mode=on,aw-bits=48
    # Lean: no default VGA/NIC/CD-ROM, no monitor; the serial port is the console.
    -nodefaults -nic none -display none -monitor none -serial stdio -no-reboot
    -L /usr/share/qemu -L /usr/share/seabios
    -kernel "$MINIVMM_L1_KERNEL" -initrd "$MINIVMM_L1_INITRD"
    # no_timer_check: the kernel's boot-time check that the IO-APIC timer
    # ticks can time out when TCG runs slowly (two L1s on two busy cores),
    # and panics ("timer doesn't work through Interrupt-remapped IO-APIC").
    -append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 no_timer_check quiet$APPEND"
    # virtfs as explicit fsdev + device so their slots are fixed (0x1d/0x1e) and never
    # collide with --pci-passthrough slots. multidevs=remap: L0's / spans several
    # filesystems, whose inode numbers would otherwise clash in L1.
    -fsdev "local,id=hostfs,path=/,security_model=none,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=hostfs,mount_tag=host,addr=0x1d
    -fsdev "local,id=outfs,path=$(qpath "$OUT"),security_model=none,multidevs=remap"
    -device virtio-9p-pci,fsdev=outfs,mount_tag=out,addr=0x1e
    "${PCI_DEVS[@]}"
    "${EXTRA_QEMU[@]}"
)

[[ $QUIET == 1 ]] || echo "run-l1: console log $LOG, out dir $OUT" >&2
start=$(date +%s.%N)
# --foreground: QEMU stays in our process group, so Ctrl-C reaches it.
# The serial console ends lines with CRLF; strip the CR for the log and the greps.
set +e
if [[ $QUIET == 1 ]]; then
    timeout --foreground -k 10 "$TIMEOUT" "$MINIVMM_L1_QEMU" "${QEMU_ARGS[@]}" </dev/null 2>&1 |
        sed -u 's/\r$//' > "$LOG"
else
    timeout --foreground -k 10 "$TIMEOUT" "$MINIVMM_L1_QEMU" "${QEMU_ARGS[@]}" </dev/null 2>&1 |
        sed -u 's/\r$//' | tee "$LOG"
fi
qemu_status=${PIPESTATUS[0]}
set -e
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

# The status file is the primary channel; the console marker is the fallback (e.g.
# if the share misbehaved). A setup failure in L1 wins over both.
if failed=$(grep -m1 '^MINIVMM-L1-FAILED: ' "$LOG"); then
    die "L1 setup failed: ${failed#MINIVMM-L1-FAILED: } (log: $LOG)"
fi
rc=""
if [[ -s $CTL/rc ]]; then
    rc=$(<"$CTL/rc")
elif marker=$(grep -a -m1 -o 'MINIVMM-L1-RC=[0-9]*' "$LOG"); then
    rc=${marker#MINIVMM-L1-RC=}
fi
if [[ -z $rc ]]; then
    if (( qemu_status == 124 || qemu_status == 137 )); then
        echo "run-l1: L1 timed out after ${TIMEOUT}s without COMMAND finishing (log: $LOG)" >&2
        exit 124
    fi
    if grep -aq 'Kernel panic' "$LOG"; then
        die "L1 kernel panicked (log: $LOG)"
    fi
    # QEMU's own complaint (bad option, missing file, an abort), TCG warnings aside.
    if why=$(grep -a 'assertion failed\|^qemu-system-x86_64: ' "$LOG" | grep -v "TCG doesn't support" | head -1) &&
       [[ -n $why ]]; then
        die "L1's QEMU failed (status $qemu_status): $why (log: $LOG)"
    fi
    die "L1 ended (QEMU status $qemu_status) without reporting COMMAND's status (log: $LOG)"
fi
[[ $QUIET == 1 ]] || echo "run-l1: COMMAND exit status $rc, L1 ran ${elapsed}s (log: $LOG)" >&2
exit "$rc"
