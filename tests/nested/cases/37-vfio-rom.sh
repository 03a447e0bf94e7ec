#!/usr/bin/env bash
# 37-vfio-rom: option ROMs of passed devices. An e1000e NIC in L1 carries iPXE's
# UEFI driver in its ROM BAR (QEMU's efi-e1000e.rom); passed to minivmm, stock
# OVMF finds the driver in the ROM minivmm exposes, runs it, and iPXE drives the
# NIC through the passthrough (its banner names the 82574L it found). Then
# romfile=: the edu device has no ROM of its own; with romfile= the payload
# finds that image behind its ROM BAR (55 AA, the PCIR structure of the e1000e
# image), and without it no ROM at all.
# nested-seconds: 98
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

ROM=/usr/lib/ipxe/qemu/efi-e1000e.rom

if in_l1; then
	source tests/nested/uefi-console.sh

	run 0 --firmware tests/guest/edu.bin --testdev --vfio "00:10.0,romfile=$ROM"
	has "rom: 256 KiB, 55 AA, PCIR for 8086:10d3"; has "RESULT: PASS"
	run 0 --firmware tests/guest/edu.bin --testdev --vfio 00:10.0
	has "rom: none"; has "RESULT: PASS"
	echo "ok: romfile= gives the device a ROM BAR with that image"

	console_start ipxe ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --vfio 00:14.0
	console_wait "using 82574l on 0000:01:00.0" 300 ||
		fail "OVMF did not run iPXE from the NIC's option ROM"
	echo "ok: OVMF ran the UEFI driver in the passed NIC's ROM; iPXE drives the NIC"
	# OVMF would now try PXE and HTTP boot on the cable-less NIC for
	# minutes: stop it here.
	kill -TERM "$CONSOLE_PID"
	console_finish 60
	[[ $CONSOLE_RC == 143 ]] || fail "SIGTERM: status $CONSOLE_RC, expected 143"
	echo "VFIO-ROM-OK"
	exit 0
fi

[[ -r $ROM ]] || fail "$ROM is missing (package ipxe-qemu)"
l1_run --pci-passthrough edu@0x10 --pci-passthrough "e1000e,romfile=$ROM@0x14" \
	--timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-ROM-OK"
