#!/usr/bin/env bash
# 34-vfio-vga: QEMU's standard VGA (1234:1111), bound to vfio-pci in L1, passed to
# minivmm as a GPU (--gpu 00:12.0,vga=on). Stock OVMF inside minivmm binds its
# QemuVideoDxe to it through the root port and draws the UEFI shell on it. L0
# reads what the card shows with L1's QEMU `screendump`: the SeaBIOS text mode
# (720x400) before minivmm starts, a graphics mode with the shell's text once
# OVMF reaches Shell>, and nearly nothing after the shell's `cls`.
# nested-seconds: 50
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/vfio/monitor.sh

if in_l1; then
	source tests/nested/uefi-console.sh
	O=$MINIVMM_L1_OUT
	touch "$O/ready-before"
	wait_file "$O/dumped-before" 120 || fail "L0 took no screendump before the run"
	console_start vga ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M \
		--gpu 00:12.0,vga=on --verbose
	console_wait "Shell>" 300 || fail "no UEFI shell"
	sleep 2
	touch "$O/ready-shell"
	wait_file "$O/dumped-shell" 120 || fail "L0 took no screendump at Shell>"
	console_mark; console_send "cls"
	console_wait "Shell>" 60 || fail "cls did not return to the prompt"
	sleep 2
	touch "$O/ready-cls"
	wait_file "$O/dumped-cls" 120 || fail "L0 took no screendump after cls"
	console_mark; console_send "reset -s"
	console_finish 120
	cp "$CONSOLE_OUT" "$O/console.out"
	[[ $CONSOLE_RC == 0 ]] || fail "reset -s: minivmm status $CONSOLE_RC, expected 0"
	grep -q "1 function(s) behind the root port" "$O/console.out" || fail "no slot line"
	echo "VFIO-VGA-OK"
	exit 0
fi

SOCK=$(mktemp -u /tmp/minivmm-mon.XXXXXX)
shots() {
	local s
	for s in before shell cls; do
		wait_file "$NESTED_OUT/ready-$s" 600 || return 1
		hmp "$SOCK" "screendump $NESTED_CASE_DIR/$s.ppm" > /dev/null
		touch "$NESTED_OUT/dumped-$s"
	done
}
shots &
shots_pid=$!
# shellcheck disable=SC2046  # monitor_args prints separate options
l1_run --pci-passthrough VGA@0x12 $(monitor_args "$SOCK") --timeout 900 -- bash "$NESTED_CASE_FILE"
wait "$shots_pid" || true
rm -f "$SOCK"
assert_rc 0
assert_log_contains "VFIO-VGA-OK"
for s in before shell cls; do
	[[ -s $NESTED_CASE_DIR/$s.ppm ]] || fail "no screendump $s"
done
read -r w0 h0 n0 < <(ppm_stats "$NESTED_CASE_DIR/before.ppm")
read -r w1 h1 n1 < <(ppm_stats "$NESTED_CASE_DIR/shell.ppm")
read -r w2 h2 n2 < <(ppm_stats "$NESTED_CASE_DIR/cls.ppm")
echo "screen: before ${w0}x${h0} ($n0 lit), at Shell> ${w1}x${h1} ($n1 lit), after cls ${w2}x${h2} ($n2 lit)"
(( w1 >= 640 && h1 >= 480 && (w1 != w0 || h1 != h0) )) ||
	fail "OVMF set no graphics mode on the passed VGA (${w1}x${h1})"
(( n1 > 2000 )) || fail "the shell drew almost nothing ($n1 lit pixels)"
(( n2 * 4 < n1 )) || fail "cls did not clear the screen ($n2 lit pixels after, $n1 before)"
