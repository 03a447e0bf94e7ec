#!/usr/bin/env bash
# 52-secure-boot: UEFI Secure Boot with Debian's OVMF and Microsoft's keys, and
# the SMM builds of OVMF refused within seconds. One L1 boot, one guest boot:
#
#   secure     ./minivmm --secure-boot (OVMF_CODE_4M.fd, a per-VM copy of
#              OVMF_VARS_4M.ms.fd) with two disks in boot order: an unsigned EFI
#              binary as the first disk's \EFI\BOOT\BOOTX64.EFI, which the
#              firmware must refuse ("BdsDxe: failed to load Boot000N ...:
#              Access Denied", and its marker never printed), then Debian's
#              signed shim -> signed GRUB -> signed kernel on the second, whose
#              initramfs reports: the kernel's "Secure boot enabled", the
#              SecureBoot variable 1, lockdown [integrity] (and a signed module
#              loaded under it). The vars copy is $MINIVMM_STATE_DIR/sb/
#              OVMF_VARS.ms.fd; the template is untouched.
#   smm-4m     --ovmf OVMF_CODE_4M.secboot.fd --ovmf-vars OVMF_VARS_4M.ms.fd:
#              minivmm ends with status 1 and the one-line "built for SMM" error
#              within SMM_LIMIT seconds (it used to hang until killed).
#   smm-2m     the same for the 2 MiB OVMF_CODE.secboot.fd + OVMF_VARS.ms.fd.
# nested-seconds: 40
set -euo pipefail
# shellcheck source=tests/nested/lib.sh
source "$(dirname "$0")/../lib.sh"

SMM_LIMIT=30	# seconds; PlatformPei asks within a few, even nested

if in_l1; then
	O=$MINIVMM_L1_OUT
	export MINIVMM_STATE_DIR=$O/state
	tmpl=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
	tmpl_sum=$(md5sum < "$tmpl")

	# --- secure: one guest boot, both checks ---
	t0=$SECONDS
	set +e
	timeout 600 ./minivmm --secure-boot --name sb --memory 512M \
		--disk "path=$O/unsigned.img,readonly=on" --disk "path=$O/signed.img,readonly=on" \
		--serial "file:$O/serial.txt" < /dev/null > "$O/secure.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/secure.log"
	tr -d '\033\r' < "$O/serial.txt" | grep -a 'BdsDxe\|MINIVMM' | sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "--secure-boot: minivmm ended with status $rc (expected 0: the guest powers off)"
	echo "ok: --secure-boot run: $((SECONDS - t0)) s"
	grep -q "a copy of $tmpl" "$O/secure.log" || fail "--secure-boot did not copy $tmpl"
	[[ -f $MINIVMM_STATE_DIR/sb/OVMF_VARS.ms.fd ]] || fail "no per-VM copy at state/sb/OVMF_VARS.ms.fd"
	[[ $(md5sum < "$tmpl") == "$tmpl_sum" ]] || fail "the template changed"
	grep -aq "MINIVMM-UNSIGNED-RAN" "$O/serial.txt" && fail "the firmware ran the unsigned binary"
	grep -aq "BdsDxe: failed to load Boot.*PciRoot(0x0)/Pci(0x[0-9A-F]*,0x0).*: Access Denied" "$O/serial.txt" ||
		fail "the firmware did not refuse the unsigned binary with Access Denied"
	echo "ok: the unsigned BOOTX64.EFI was refused: $(grep -a -m1 'Access Denied' "$O/serial.txt" | tr -d '\r')"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" &&
		fail "the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the signed chain did not boot to the guest's checks"
	grep -aq "MINIVMM-SB: dmesg: Secure boot enabled" "$O/serial.txt" || fail "the kernel did not report Secure boot enabled"
	grep -aq "MINIVMM-SB: efivar SecureBoot=1" "$O/serial.txt" || fail "the SecureBoot variable is not 1"
	grep -aq "MINIVMM-SB: lockdown: .*\[integrity\]" "$O/serial.txt" || fail "the kernel is not locked down (integrity)"
	echo "ok: shim -> GRUB -> kernel booted with Secure Boot enabled, kernel locked down"

	# --- the SMM builds: a clear error within seconds, not a hang ---
	smm() {
		local name=$1 code=$2 vars=$3 t rc
		t=$EPOCHREALTIME
		set +e
		timeout 120 ./minivmm --ovmf "$code" --ovmf-vars "$vars" --name "$name" --memory 512M \
			--serial "file:$O/serial-$name.txt" < /dev/null > "$O/$name.log" 2>&1
		rc=$?
		set -e
		t=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		sed 's/^/    /' "$O/$name.log"
		[[ $rc == 1 ]] || fail "$name: minivmm ended with status $rc after $t s (expected 1)"
		grep -q "the firmware is built for SMM .*use --secure-boot" "$O/$name.log" ||
			fail "$name: no 'built for SMM' error"
		awk -v t="$t" -v l="$SMM_LIMIT" 'BEGIN { exit !(t < l) }' ||
			fail "$name: the error came after $t s (limit $SMM_LIMIT)"
		echo "ok: $name: $(basename "$code") refused in $t s"
	}
	smm smm-4m /usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/share/OVMF/OVMF_VARS_4M.ms.fd
	smm smm-2m /usr/share/OVMF/OVMF_CODE.secboot.fd /usr/share/OVMF/OVMF_VARS.ms.fd
	echo "SECURE-BOOT-OK"
	exit 0
fi

# shellcheck source=tests/nested/secboot/images.sh
source tests/nested/secboot/images.sh
secboot_disks "$NESTED_OUT" || fail "could not build the Secure Boot disks"
l1_run --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "SECURE-BOOT-OK"
