#!/bin/bash
# run-qemu.sh IMAGE [CPUS] [extra QEMU arguments...]
#
# Runs a tests/guest payload under QEMU as README.md describes (q35,
# -bios IMAGE, COM1 on stdout, pc-testdev + isa-debug-exit at 0xf4,
# -no-reboot) and exits with the status minivmm gives for the same run:
#   v      the payload wrote v to port 0xf4 (QEMU itself exits (v << 1) | 1)
#   3      the payload reset the machine (QEMU exits 0 with -no-reboot)
#   124    timed out (GUEST_TIMEOUT seconds, default 120)
#   125    QEMU failed: any other status, or status 1 without a
#          "RESULT: PASS" line (QEMU's own error status 1 is
#          indistinguishable from an exit-port write of 0)
# Environment: QEMU (default qemu-system-x86_64), GUEST_ACCEL (default tcg),
# GUEST_MEM (default 256M), GUEST_TIMEOUT (default 120).
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE [CPUS] [QEMU args...]" >&2
    exit 2
fi
image=$1
cpus=${2:-1}
shift $(( $# >= 2 ? 2 : 1 ))
out=$(mktemp) || exit 125
trap 'rm -f "$out"' EXIT

timeout "${GUEST_TIMEOUT:-120}" "${QEMU:-qemu-system-x86_64}" \
    -machine q35 -accel "${GUEST_ACCEL:-tcg}" -bios "$image" \
    -smp "$cpus" -m "${GUEST_MEM:-256M}" -display none -serial stdio \
    -no-reboot -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
    "$@" </dev/null | tee "$out"
status=${PIPESTATUS[0]}

case $status in
0)   exit 3 ;;                                   # reset (or power-off)
124) echo "run-qemu.sh: timed out" >&2; exit 124 ;;
1)   grep -q '^RESULT: PASS$' "$out" && exit 0
     echo "run-qemu.sh: QEMU exited 1 without RESULT: PASS" >&2; exit 125 ;;
*)   if [ $((status & 1)) -eq 1 ]; then exit $((status >> 1)); fi
     echo "run-qemu.sh: QEMU exited $status" >&2; exit 125 ;;
esac
