#!/usr/bin/env bash
# 30-ovmf-shell: minivmm boots Debian's stock OVMF — the single OVMF.fd and the
# split OVMF_CODE_4M.fd + a per-VM copy of OVMF_VARS_4M.fd — to the UEFI shell
# on real KVM (inside L1). Commands typed into the serial console run (pci,
# memmap, acpiview), `reset -s` ends minivmm with status 0, and a variable set
# in one run of the split images is there in the next.
# nested-seconds: 134
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

GUID=6d696e69-766d-4d2d-9465-737476617221

if in_l1; then
	source tests/nested/uefi-console.sh
	export MINIVMM_STATE_DIR=$MINIVMM_L1_OUT/state

	# 1. The single image: no flash, variables in RAM.
	t0=$(now_ms)
	console_start single ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 \
		--debugcon "$MINIVMM_L1_OUT/ovmf-debug.log" --stats --dump-acpi /tmp/acpi
	console_wait "Shell>" 300 || fail "OVMF.fd: no UEFI shell"
	echo "ok: OVMF.fd reached Shell> in $(( $(now_ms) - t0 )) ms"
	console_mark; console_send "pci"
	console_wait "Device 2918" 60 || fail "pci: the ICH9 LPC (8086:2918) is not listed"
	console_wait "Shell>" 60 || fail "pci did not return to the prompt"
	console_mark; console_send "memmap"
	console_wait "Total Memory" 60 || fail "memmap printed no total"
	console_mark; console_send "reset -s"
	console_finish 120
	[[ $CONSOLE_RC == 0 ]] || fail "reset -s: minivmm status $CONSOLE_RC, expected 0"
	echo "ok: pci and memmap ran; reset -s ended minivmm with status 0"

	# The ACPI tables this VM served through fw_cfg pass iasl: every
	# table disassembles, and the DSDT recompiles with no errors.
	(
		cd /tmp/acpi
		for t in *.dat; do
			iasl -d "$t" > "${t%.dat}.iasl-d.log" 2>&1 || fail "iasl -d $t failed"
		done
		iasl DSDT.dsl > dsdt-compile.log 2>&1 || fail "the DSDT does not recompile"
		grep -q "Compilation successful. 0 Errors" dsdt-compile.log || fail "iasl: $(tail -1 dsdt-compile.log)"
		grep -h "Compilation successful\|ACPI tables\|Errors" dsdt-compile.log
		cp -r /tmp/acpi "$MINIVMM_L1_OUT/acpi"
	)
	echo "ok: iasl disassembles $(ls /tmp/acpi/*.dat | wc -l) tables and recompiles the DSDT with 0 errors"

	# 2. The split images: the template is copied once per VM, and a
	#    variable set in the first run survives into the second.
	tmpl_sum=$(md5sum < /usr/share/OVMF/OVMF_VARS_4M.fd)
	console_start split1 ./minivmm --ovmf /usr/share/OVMF/OVMF_CODE_4M.fd --name t30 --memory 512M
	console_wait "Shell>" 300 || fail "OVMF_CODE_4M: no UEFI shell"
	grep -q "a copy of /usr/share/OVMF/OVMF_VARS_4M.fd" "$CONSOLE_OUT" ||
		fail "the vars template was not copied per VM"
	console_mark; console_send "setvar MinivmmTest -guid $GUID -nv -bs =6d696e69766d6d"
	console_wait "Shell>" 60 || fail "setvar did not return"
	console_mark; console_send "reset -s"
	console_finish 120
	[[ $CONSOLE_RC == 0 ]] || fail "split run 1: status $CONSOLE_RC"
	[[ $(md5sum < /usr/share/OVMF/OVMF_VARS_4M.fd) == "$tmpl_sum" ]] || fail "the template changed"

	console_start split2 ./minivmm --ovmf /usr/share/OVMF/OVMF_CODE_4M.fd --name t30 --memory 512M
	console_wait "Shell>" 300 || fail "split run 2: no UEFI shell"
	grep -q "UEFI variables of VM 't30': $MINIVMM_STATE_DIR/t30/OVMF_VARS.fd" "$CONSOLE_OUT" ||
		fail "run 2 did not reuse the VM's own vars file"
	console_mark; console_send "dmpstore MinivmmTest -guid $GUID"
	console_wait "minivmm" 60 || fail "the variable set in run 1 is gone"
	console_mark; console_send "reset -s"
	console_finish 120
	[[ $CONSOLE_RC == 0 ]] || fail "split run 2: status $CONSOLE_RC"
	echo "ok: the variable set in run 1 was there in run 2"
	echo "OVMF-SHELL-OK"
	exit 0
fi

l1_run --timeout 1500 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "OVMF-SHELL-OK"
