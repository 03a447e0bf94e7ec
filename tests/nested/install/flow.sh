# shellcheck shell=bash
# tests/nested/install/flow.sh — the install flow's VM runs, in L1: sourced by
# tests/nested/cases/48-install.sh (which checks what the guest did) and by
# tests/bench/install.sh (which times it under minivmm and QEMU).
#
# Needs: O (the L1 out dir holding install.iso, from images.sh's
# install_media), INSTALL_FIRMWARE (fd or code4m, below) and a fail function
# (tests/nested/lib.sh's, or the bench's).
#
#   install_run VMM TARGET DATA [ARGS...]
#       one VM (minivmm or qemu; ARGS go to minivmm) from an empty or an
#       installed TARGET to the installed system's READY, then the power
#       button (minivmm: SIGTERM; QEMU: system_powerdown on its monitor) and
#       the VM's exit. Sets run_inst, run_sys, run_ready (seconds from the
#       start to the installer, the installed system and READY; run_inst and
#       run_sys only when TARGET was empty), run_stop (seconds from the
#       button to the exit) and rc (the exit status); the vm_* state below.
#
# The firmware: OVMF.fd, variables in RAM, as QEMU's -bios (the default); or,
# with INSTALL_FIRMWARE=code4m, OVMF_CODE_4M.fd with a variable store that
# persists: one per VMM (minivmm's runs on the installed disk share one, as
# one VM would; QEMU has its own).
INSTALL_FIRMWARE=${INSTALL_FIRMWARE:-fd}
OVMF=/usr/share/ovmf/OVMF.fd
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- one VM run: start, follow the guest on its serial console, stop ---
# vm_new NAME: the next run's name, console file and log file.
vm_new() {
	name=$1 serial=$O/serial-$1.txt vlog=$O/$1.log
	: > "$serial"
}
# vm_start COMMAND...: in the background; its output in vlog.
vm_start() {
	t0=$(now)
	"$@" < /dev/null > "$vlog" 2>&1 &
	pid=$!
	echo "--- $name: pid $pid: $*"
}
# wait_serial VAR STRING SECS: once the guest said STRING, VAR is the
# seconds since vm_start. Fails when the guest fails, the VM ends, or
# SECS pass first.
wait_serial() {
	local -n at=$1
	local string=$2 end=$((SECONDS + $3)) line
	while ! grep -aqF -- "$string" "$serial"; do
		if line=$(grep -a -m1 "MINIVMM-GUEST-FAIL" "$serial"); then
			vm_show; fail "$name: the guest says: ${line#*MINIVMM-GUEST-FAIL: }"
		fi
		kill -0 "$pid" 2> /dev/null || { vm_show; fail "$name: the VM ended before '$string'"; }
		(( SECONDS < end )) || { vm_show; fail "$name: no '$string' within $3 s"; }
		sleep 0.2
	done
	# shellcheck disable=SC2034  # a nameref: the caller's variable
	at=$(secs "$t0" "$(now)")
}
# vm_end SECS: rc is the VM's exit status once it exits (a hang fails).
vm_end() {
	local end=$((SECONDS + $1))
	while kill -0 "$pid" 2> /dev/null && (( SECONDS < end )); do
		sleep 0.2
	done
	if kill -0 "$pid" 2> /dev/null; then
		kill -KILL "$pid"; wait "$pid" || true
		vm_show; fail "$name: the VM did not exit within $1 s"
	fi
	set +e
	wait "$pid"
	# shellcheck disable=SC2034  # for the caller
	rc=$?
	set -e
}
vm_show() {
	sed 's/^/    /' "$vlog"
	tr -d '\r' < "$serial" | grep -a 'MINIVMM\|Kernel panic\|reboot:' | sed 's/^/  guest: /' || true
}
serial_has() { grep -aqF -- "$1" "$serial" || { vm_show; fail "$name: the guest never said '$1'"; }; }
log_has() { grep -qF -- "$1" "$vlog" || { vm_show; fail "$name: the log lacks '$1'"; }; }

# --- the VMMs' command lines (cmd); their option values hold commas ---
# shellcheck disable=SC2054
minivmm_cmd() {
	local target=$1 data=$2; shift 2
	cmd=("${INSTALL_MINIVMM:-./minivmm}" --memory 512M --cpus 2 --verbose --serial "file:$serial" "$@")
	if [[ $INSTALL_FIRMWARE == code4m ]]; then
		[[ -e $O/vars-minivmm.fd ]] || cp "$OVMF_VARS" "$O/vars-minivmm.fd"
		cmd+=(--ovmf "$OVMF_CODE" --ovmf-vars "$O/vars-minivmm.fd")
	else
		cmd+=(--ovmf "$OVMF")
	fi
	cmd+=(--cdrom "$ISO" --disk "path=$target,serial=MINIVMM-TARGET"
		--disk "path=$data,bus=sata" --boot cdrom,disk)
}
# QEMU: -boot order= is for legacy BIOS only; OVMF follows bootindex.
# Its monitor is a pair of FIFOs (QEMU's "pipe" character device).
# shellcheck disable=SC2054
qemu_cmd() {
	local target=$1 data=$2 mon=$3
	cmd=(qemu-system-x86_64 -machine q35 -accel kvm -cpu host -smp 2 -m 512
		-nodefaults -display none -serial "file:$serial" -monitor "pipe:$mon")
	if [[ $INSTALL_FIRMWARE == code4m ]]; then
		cp "$OVMF_VARS" "$O/vars-qemu.fd"
		cmd+=(-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,file=$O/vars-qemu.fd")
	else
		cmd+=(-bios "$OVMF")
	fi
	cmd+=(
		-drive "file=$ISO,if=none,id=cd,media=cdrom,readonly=on"
		-device ide-cd,drive=cd,bus=ide.0,bootindex=0
		-drive "file=$target,if=none,id=target,format=raw"
		-device virtio-blk-pci,drive=target,serial=MINIVMM-TARGET,bootindex=1
		-drive "file=$data,if=none,id=data,format=raw"
		-device ide-hd,drive=data,bus=ide.1)
}

# install_run VMM TARGET DATA [ARGS...]: above.
install_run() {
	local vmm=$1 target=$2 data=$3 mon=/tmp/qemu-monitor cat_pid=""
	shift 3
	vm_new "${INSTALL_RUN_NAME:-$vmm}"
	if [[ $vmm == qemu ]]; then
		rm -f "$mon.in" "$mon.out"
		mkfifo "$mon.in" "$mon.out"
		cat "$mon.out" > "$O/$name-monitor.log" &
		cat_pid=$!
		qemu_cmd "$target" "$data" "$mon"
	else
		minivmm_cmd "$target" "$data" "$@"
	fi
	vm_start "${cmd[@]}"
	wait_serial run_inst "MINIVMM-GUEST: INSTALLER" 300
	wait_serial run_sys "MINIVMM-GUEST: INSTALLED SYSTEM" 300
	wait_serial run_ready "MINIVMM-GUEST: READY" 300
	t_sig=$(now)
	if [[ $vmm == qemu ]]; then
		echo system_powerdown > "$mon.in"
	else
		kill -0 "$pid" || fail "$name: minivmm (pid $pid) is gone"
		[[ $(readlink "/proc/$pid/exe") == */minivmm* ]] || fail "$name: pid $pid is not minivmm"
		kill -TERM "$pid"
	fi
	vm_end 60
	# shellcheck disable=SC2034  # for the caller
	run_stop=$(secs "$t_sig" "$(now)")
	[[ -z $cat_pid ]] || wait "$cat_pid" || true
}
