#!/usr/bin/env bash
# 48-install: issue 11's install flow — install an OS from a CD-ROM image with
# the CD first in the boot order (QEMU's `-boot dc`), through the reboots of
# Setup, then shut the VM down cleanly from the host. A small Linux "installer"
# CD stands in for the Windows DVD (tests/nested/install/images.sh):
#
#   boot 1   OVMF boots the CD: its GRUB finds no installed system and boots the
#            installer, which partitions and formats the empty target disk,
#            installs GRUB, a kernel and an initramfs on its ESP, and resets the
#            machine (reboot -f). minivmm reboots in place: same process,
#            "guest reset 1: rebooting in place".
#   boot 2   OVMF boots the CD again; its GRUB finds the installed system and
#            exits to the firmware (like Windows' "Press any key to boot from
#            CD" when no key comes), which boots the next device of the boot
#            order, the disk. The installed system reads the whole CD and checks
#            it against what the installer read, writes a pattern to the data
#            disk and reads it back, says READY and waits for the power button.
#   host     SIGTERM or `minivmm ctl SOCK powerdown` presses the ACPI power
#            button; the system unmounts its ESP and powers off: status 0.
#
# The CD is an ATAPI CD-ROM on minivmm's ICH9 AHCI at 00:1f.2 (--cdrom), first
# in the boot order (--boot cdrom,disk); the target a virtio-blk disk; the data
# disk a SATA disk on the same AHCI (--disk bus=sata).
#
# One L1 boot, four VM runs (tests/nested/install/flow.sh runs the VMs):
#   install    minivmm, the whole flow above, SIGTERM
#   qemu       the reference: the same CD and fresh disks under QEMU q35 + KVM
#              (its CD is ATAPI on the q35 AHCI; bootindex= for the order;
#              system_powerdown on its monitor), which must give the same
#              results (INSTALL_QEMU=0 in L0's environment leaves it out, for
#              a quicker run). `make bench` times the install under both
#              (tests/bench/install.sh).
#   boot       minivmm again on the installed disk, nothing to install: the CD's
#              GRUB exits at once; `minivmm ctl SOCK powerdown` (--control)
#   ignore     a copy of the installed disk whose GRUB environment adds
#              minivmm.pwrbtn=ignore: the system hears the button and goes on;
#              --shutdown-timeout 5 stops it (143), the data disk complete
# Every run's data disk is checked byte for byte, in L1 and on L0, and the ESP
# of every cleanly shut down system must be clean (fsck.vfat -n).
#
# INSTALL_FIRMWARE=code4m (in L0's environment) runs OVMF_CODE_4M.fd with
# persistent variable stores instead of OVMF.fd (flow.sh).
# nested-seconds: 330
set -euo pipefail
# shellcheck source=tests/nested/lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/nested/install/images.sh
source tests/nested/install/images.sh
# shellcheck source=tests/nested/install/flow.sh
source tests/nested/install/flow.sh

MiB=$((1 << 20))
PATTERN_OFF=128		# 64 KiB blocks: 8 MiB (guest-init.sh's default)
DATA_MB=16
TARGET_MB=64
INSTALL_QEMU=${INSTALL_QEMU:-1}

# The ESP of a disk the installer made (sfdisk start=2048), through fsck.vfat
# -n: no error and no dirty bit (a file system left mounted has it set).
esp_clean() {
	local img=$1 tmp out rc=0
	tmp=$(mktemp)
	dd if="$img" of="$tmp" bs=1M skip=1 status=none
	out=$(fsck.vfat -n "$tmp" 2>&1) || rc=$?
	rm -f "$tmp"
	if (( rc )) || grep -qi "dirty" <<< "$out"; then
		echo "    ${out//$'\n'/$'\n'    }"
		return 1
	fi
}

# The data disk: the pattern at PATTERN_OFF, 0xff everywhere else.
data_ok() {
	local img=$1 want
	want=$(mktemp)
	head -c $((DATA_MB * MiB)) /dev/zero | tr '\0' '\377' > "$want"
	dd if="$2" of="$want" bs=64k seek="$PATTERN_OFF" conv=notrunc status=none
	local rc=0
	cmp -s "$img" "$want" || rc=1
	rm -f "$want"
	return "$rc"
}

if in_l1; then
	O=$MINIVMM_L1_OUT
	ISO=$O/install.iso
	ISO_SUM="$(stat -c %s "$ISO") $(sha256sum < "$ISO" | cut -d' ' -f1)"
	summary=()

	# --- what every run checks in the guest's words ---
	check_installer() {
		serial_has "MINIVMM-CD: booting the installer"
		serial_has "MINIVMM-GUEST: INSTALLED on"
		echo "ok: $name: the CD booted the installer; it installed the system and reset the machine"
	}
	check_installed() {
		local boot=$1 line
		serial_has "MINIVMM-CD: an installed system is on"
		serial_has "MINIVMM-CD: not booting from the CD (GRUB exited)"
		serial_has "MINIVMM-DISK: booting the installed system"
		serial_has "MINIVMM-GUEST: INSTALLED SYSTEM boot $boot "
		echo "ok: $name: the CD's GRUB exited, the firmware booted the disk: installed system, boot $boot"
		line=$(grep -a "MINIVMM-GUEST: CD .*as at install" "$serial" | tr -d '\r') ||
			fail "$name: the installed system did not check the CD"
		[[ $line == *": ${ISO_SUM% *} bytes, sha256 ${ISO_SUM#* }: as at install" ]] ||
			fail "$name: the guest read the CD as '${line#*MINIVMM-GUEST: }', the ISO is '$ISO_SUM'"
		echo "ok: $name: the whole CD read back as the ISO ($ISO_SUM)"
		serial_has "read back O_DIRECT, identical"
	}
	check_data() {
		data_ok "$1" "$O/pattern.bin" || fail "$name: $(basename "$1") is not the pattern on 0xff"
		echo "ok: $name: $(basename "$1"): the pattern at block $PATTERN_OFF, 0xff elsewhere, byte for byte"
	}
	check_esp() {
		esp_clean "$1" || fail "$name: the ESP of $(basename "$1") is not clean"
		echo "ok: $name: the ESP of $(basename "$1") is clean (fsck.vfat -n)"
	}
	# The guest heard the power button, unmounted its ESP, powered off.
	check_down() {
		serial_has "MINIVMM-GUEST: power button pressed: shutting down"
		serial_has "MINIVMM-GUEST: DOWN"
	}

	# --- install: the whole flow with minivmm, SIGTERM at READY ---
	INSTALL_RUN_NAME=install install_run minivmm "$O/target.img" "$O/data-install.img"
	vm_show
	[[ $rc == 0 ]] || fail "install: minivmm ended with status $rc, expected 0"
	check_installer
	log_has "guest reset 1: rebooting in place"
	! grep -q "guest reset 2:" "$vlog" || fail "install: more than one guest reset"
	log_has "1 guest reset(s) rebooted in place"
	echo "ok: install: the installer's reset rebooted the VM in place: 'guest reset 1: rebooting in place', one process (pid $pid) from the installer to the installed system"
	check_installed 1
	log_has "signal 15: pressed the ACPI power button"
	check_down
	echo "ok: install: SIGTERM pressed the power button, the system shut down, minivmm exited 0 in $run_stop s"
	check_data "$O/data-install.img"
	check_esp "$O/target.img"
	summary+=("minivmm: installer up at $run_inst s, installed system at $run_sys s, READY at $run_ready s; exit $run_stop s after SIGTERM")

	# --- qemu (unless INSTALL_QEMU=0): the same under QEMU, system_powerdown at READY ---
	if (( INSTALL_QEMU )); then
		install_run qemu "$O/target-qemu.img" "$O/data-qemu.img"
		vm_show
		[[ $rc == 0 ]] || fail "qemu: QEMU ended with status $rc, expected 0"
		check_installer
		check_installed 1
		check_down
		echo "ok: qemu: system_powerdown pressed the power button, the system shut down, QEMU exited 0 in $run_stop s"
		check_data "$O/data-qemu.img"
		check_esp "$O/target-qemu.img"
		summary+=("QEMU:    installer up at $run_inst s, installed system at $run_sys s, READY at $run_ready s; exit $run_stop s after system_powerdown")
	fi

	# --- boot: minivmm on the installed disk; powerdown from the host ---
	sock=/tmp/minivmm-install.sock
	vm_new boot
	minivmm_cmd "$O/target.img" "$O/data-boot.img" --control "$sock"
	vm_start "${cmd[@]}"
	wait_serial b_ready "MINIVMM-GUEST: READY" 240
	t_sig=$(now)
	how="minivmm ctl $sock powerdown"
	reply=$(./minivmm ctl "$sock" powerdown) || fail "boot: $how: status $?, reply '$reply'"
	[[ $reply == '{"ok":true}' ]] || fail "boot: $how answered '$reply'"
	vm_end 60
	b_stop=$(secs "$t_sig" "$(now)")
	vm_show
	[[ $rc == 0 ]] || fail "boot: minivmm ended with status $rc, expected 0"
	! grep -q "guest reset" "$vlog" || fail "boot: the guest reset; nothing was to be installed"
	! grep -aqF "MINIVMM-CD: booting the installer" "$serial" || fail "boot: the CD booted the installer again"
	log_has "pressing the ACPI power button"
	check_installed 2
	check_down
	echo "ok: boot: no reset, no installer; $how: the system shut down, minivmm exited 0 in $b_stop s"
	check_data "$O/data-boot.img"
	check_esp "$O/target.img"
	summary+=("minivmm, installed disk: READY at $b_ready s; exit $b_stop s after $how")

	# --- ignore: a system that ignores the power button ---
	cp "$O/target.img" "$O/target-ignore.img"
	mcopy -o -i "$O/target-ignore.img@@$MiB" "$O/grubenv-ignore" ::/EFI/minivmm/grubenv
	vm_new ignore
	minivmm_cmd "$O/target-ignore.img" "$O/data-ignore.img" --shutdown-timeout 5
	vm_start "${cmd[@]}"
	wait_serial i_ready "MINIVMM-GUEST: READY (ignoring the power button)" 240
	t_sig=$(now)
	kill -TERM "$pid"
	vm_end 60
	i_stop=$(secs "$t_sig" "$(now)")
	vm_show
	serial_has "power button pressed: ignored"
	log_has "did not power off within 5 s of the power button"
	log_has "stopped by signal 15"
	[[ $rc == 143 ]] || fail "ignore: minivmm ended with status $rc, expected 143"
	echo "ok: ignore: the guest heard the power button and went on; minivmm stopped it after --shutdown-timeout 5: status 143, $i_stop s after SIGTERM"
	check_data "$O/data-ignore.img"
	# The other side of check_esp: a system stopped with its ESP mounted
	# leaves the dirty bit, and fsck.vfat -n shows it.
	! esp_clean "$O/target-ignore.img" > /dev/null ||
		fail "ignore: the ESP of a system stopped while it had it mounted looks clean"
	echo "ok: ignore: its ESP, mounted when minivmm stopped it, has the dirty bit (what check_esp looks for)"
	summary+=("minivmm, power button ignored: READY at $i_ready s; status 143, $i_stop s after SIGTERM (--shutdown-timeout 5)")

	printf 'INSTALL %s\n' "${summary[@]}"
	echo "INSTALL-OK"
	exit 0
fi

install_media "$NESTED_OUT" 2> >(grep -v "libburnia project" >&2)
runs="install boot ignore" targets=target
(( INSTALL_QEMU )) && runs+=" qemu" targets+=" target-qemu"
for img in $targets; do
	rm -f "$NESTED_OUT/$img.img"
	truncate -s $((TARGET_MB * MiB)) "$NESTED_OUT/$img.img"
done
for run in $runs; do
	head -c $((DATA_MB * MiB)) /dev/zero | tr '\0' '\377' > "$NESTED_OUT/data-$run.img"
done

l1_run --env "INSTALL_FIRMWARE=$INSTALL_FIRMWARE" --env "INSTALL_QEMU=$INSTALL_QEMU" --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "INSTALL-OK"
grep -a "^INSTALL " "$L1_LOG" | tr -d '\r' | sed 's/^/  /'
# What L1 checked is on L0 too, now that L1 is gone.
for run in $runs; do
	data_ok "$NESTED_OUT/data-$run.img" "$BLK_PATTERN" ||
		fail "data-$run.img on L0: not the pattern on 0xff"
done
echo "ok: every run's data disk holds the pattern, byte for byte, on L0"
for img in $targets; do
	esp_clean "$NESTED_OUT/$img.img" || fail "$img.img on L0: the ESP is not clean"
done
boots=$(mtype -i "$NESTED_OUT/target.img@@$MiB" ::/boot.log | tr -d '\r' | grep -c '^boot ')
[[ $boots == 2 ]] || fail "target.img's boot.log counts $boots boots, expected 2 (install, boot)"
echo "ok: on L0 the installed ESP ($targets) is clean; target.img's boot.log has the 2 boots of minivmm's runs"
