#!/usr/bin/env bash
# 35-vfio-xhci-kbd: QEMU's xHCI controller (qemu-xhci, 1b36:000d) with a USB
# keyboard on it, the controller bound to vfio-pci in L1 and passed to minivmm.
# Stock OVMF inside minivmm drives the controller (its rings live in guest RAM:
# DMA through the IOMMU) and the keyboard; L0 types "echo usbkbd-ok" + Enter
# on L1's keyboard with the monitor's sendkey, and the UEFI shell runs it: the
# output appears on the serial console, where nothing was typed.
# nested-seconds: 77
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/vfio/monitor.sh

if in_l1; then
	source tests/nested/uefi-console.sh
	O=$MINIVMM_L1_OUT
	console_start kbd ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M \
		--vfio 00:13.0 --verbose
	console_wait "Shell>" 300 || fail "no UEFI shell"
	sleep 2
	console_mark
	touch "$O/ready-keys"
	wait_file "$O/typed" 300 || fail "L0 typed nothing"
	console_wait "usbkbd-ok" 120 || fail "the keys typed on the USB keyboard did not reach the shell"
	echo "ok: the shell ran what was typed on the USB keyboard behind the passed xHCI"
	console_mark; console_send "reset -s"
	console_finish 120
	cp "$CONSOLE_OUT" "$O/console.out"
	[[ $CONSOLE_RC == 0 ]] || fail "reset -s: minivmm status $CONSOLE_RC, expected 0"
	echo "VFIO-XHCI-OK"
	exit 0
fi

SOCK=$(mktemp -u /tmp/minivmm-mon.XXXXXX)
typist() {
	local k
	wait_file "$NESTED_OUT/ready-keys" 600 || return 1
	for k in e c h o spc u s b k b d minus o k ret; do
		hmp "$SOCK" "sendkey $k" > /dev/null
		sleep 0.3
	done
	touch "$NESTED_OUT/typed"
}
typist &
typist_pid=$!
# shellcheck disable=SC2046  # monitor_args prints separate options
l1_run --pci-passthrough qemu-xhci@0x13 --qemu-arg -device --qemu-arg usb-kbd \
	$(monitor_args "$SOCK") --timeout 900 -- bash "$NESTED_CASE_FILE"
wait "$typist_pid" || true
rm -f "$SOCK"
assert_rc 0
assert_log_contains "VFIO-XHCI-OK"
