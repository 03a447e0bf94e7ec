#!/usr/bin/env bash
# 58-user: minivmm leaves root once the VM is set up (--user, --group, --chroot;
# docs/security.md). In L1, QEMU's NVMe is bound with `minivmm bind`; then
# 1. `--user nobody` runs stock OVMF with the NVMe passed through: OVMF reads and
#    writes the FAT on it (DMA through the IOMMU, the RAM pinned before the drop)
#    and waits at Shell>; meanwhile /proc/PID/status says uid and gid nobody, no
#    supplementary groups, every capability set (inheritable, permitted,
#    effective, bounding, ambient) empty, no_new_privs and the seccomp filter,
#    for every thread; `setpriv` cannot get root back either. `minivmm ctl`
#    (root) reaches the control socket; `reset -s` ends minivmm with 0, the
#    NVMe reset at exit, the socket and pidfile (in a folder nobody may write)
#    removed; `minivmm unbind` gives the NVMe back to the host's nvme driver.
# 2. `--user nobody --group nogroup --chroot DIR --tpm` (an empty folder) runs
#    the split OVMF with its variable store and a TPM: /proc/PID/root is DIR,
#    every thread (the TPM's, started by OVMF's first command, included) runs
#    as nobody, and a variable set in the shell is written to the store
#    through the fd held since start.
# 3. The refusals, one line each: --user as a non-root user, an unknown user,
#    a control socket nobody could not remove, a missing chroot folder,
#    --group without --user.
# nested-seconds: 150
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

NVME=0000:00:11.0
GUID=6d696e69-766d-4d2d-9465-737476617221

# Every thread of PID: uid/gid $2, no groups, no capabilities at all.
check_dropped() {
	local pid=$1 id=$2 gid=$3 t s
	for t in /proc/"$pid"/task/*; do
		s=$(cat "$t/status")
		grep -q "^Uid:[[:space:]]*${id}[[:space:]]*${id}[[:space:]]*${id}[[:space:]]*${id}$" <<< "$s" ||
			fail "$t: $(grep ^Uid: <<< "$s")"
		grep -q "^Gid:[[:space:]]*${gid}[[:space:]]*${gid}[[:space:]]*${gid}[[:space:]]*${gid}$" <<< "$s" ||
			fail "$t: $(grep ^Gid: <<< "$s")"
		grep -q "^Groups:[[:space:]]*$" <<< "$s" || fail "$t: $(grep ^Groups: <<< "$s")"
		for c in CapInh CapPrm CapEff CapBnd CapAmb; do
			grep -q "^$c:[[:space:]]*0000000000000000$" <<< "$s" || fail "$t: $(grep "^$c:" <<< "$s")"
		done
		grep -q "^NoNewPrivs:[[:space:]]*1$" <<< "$s" || fail "$t: no_new_privs not set"
	done
	grep -E '^(Uid|Gid|Groups|Cap...|NoNewPrivs|Seccomp):' "/proc/$pid/status" | sed 's/^/    /'
	echo "ok: all $(ls /proc/"$pid"/task | wc -l) threads of minivmm: uid $id gid $gid, no groups, every capability set empty, no_new_privs"
}

if in_l1; then
	source tests/nested/uefi-console.sh
	export MINIVMM_STATE_DIR=$MINIVMM_L1_OUT/state
	driver() {
		local l
		l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l" || echo none
	}
	nobody=$(id -u nobody)
	nogroup=$(getent group nogroup | cut -d: -f3)
	ngid=$(id -g nobody)
	state=$(mktemp -d)
	run=/run/t58-vm
	install -d -o nobody -g "$ngid" -m 0700 "$run"

	check "nvme starts on its host driver" test "$(driver $NVME)" = nvme
	./minivmm bind --state "$state" 00:11.0
	check "nvme is on vfio-pci" test "$(driver $NVME)" = vfio-pci

	# 1. --user nobody, the NVMe passed through.
	ulimit -l 64	# memlock: the pinning is done as root, before the drop
	console_start user ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 \
		--vfio 00:11.0 --user nobody --control "$run/vm.sock" --pidfile "$run/vm.pid" --verbose
	console_wait "MINIVMM-USER-STARTUP-DONE" 300 || fail "OVMF did not run startup.nsh from the NVMe"
	console_wait "Shell>" 60 || fail "no Shell> after startup.nsh"
	grep -aq "MARKER-FROM-NVME" "$CONSOLE_OUT" || fail "OVMF could not read the file on the NVMe"
	grep -q "DMA-mapped 512 MiB" "$CONSOLE_OUT" || fail "no DMA map line"
	echo "ok: as nobody, OVMF read the FAT on the passed NVMe (RAM DMA-mapped with ulimit -l 64 KiB)"
	check_dropped "$CONSOLE_PID" "$nobody" "$ngid"
	grep -q "^Seccomp:[[:space:]]*2$" "/proc/$CONSOLE_PID/status" || fail "no seccomp filter"
	check "the pidfile holds minivmm's pid" test "$(cat "$run/vm.pid")" = "$CONSOLE_PID"
	./minivmm ctl "$run/vm.sock" status | tee /tmp/ctl-status.txt
	check "root's minivmm ctl reaches the control socket" grep -q '"ok":true' /tmp/ctl-status.txt
	console_mark; console_send "reset -s"
	console_finish 120
	sed 's/^/    /' "$CONSOLE_OUT" | grep -a "minivmm:" || true
	check "reset -s as nobody ends minivmm with 0" test "$CONSOLE_RC" = 0
	check "the control socket is gone" test ! -e "$run/vm.sock"
	check "the pidfile is gone" test ! -e "$run/vm.pid"
	check "the NVMe was reset at start and at exit" \
		test "$(grep -c "$NVME: reset (" "$CONSOLE_OUT")" = 2
	./minivmm unbind --state "$state" 00:11.0
	check "nvme is back on its host driver" test "$(driver $NVME)" = nvme

	# 2. --chroot into an empty folder, the split OVMF with its store and a TPM.
	root=$(mktemp -d /tmp/t58-root.XXXXXX)
	console_start chroot ./minivmm --ovmf /usr/share/OVMF/OVMF_CODE_4M.fd --name t58 \
		--memory 256M --user nobody --group nogroup --chroot "$root" --tpm
	console_wait "Shell>" 300 || fail "--chroot: no UEFI shell"
	check "/proc/PID/root is the chroot folder" test "$(readlink "/proc/$CONSOLE_PID/root")" = "$root"
	check_dropped "$CONSOLE_PID" "$nobody" "$nogroup"
	console_mark; console_send "setvar MinivmmUser -guid $GUID -nv -bs =6d696e69766d6d"
	console_wait "Shell>" 60 || fail "setvar did not return"
	console_mark; console_send "reset -s"
	console_finish 120
	check "reset -s in the chroot ends minivmm with 0" test "$CONSOLE_RC" = 0
	check "the variable reached the store through the held fd" \
		grep -aqP 'M\x00i\x00n\x00i\x00v\x00m\x00m\x00U\x00s\x00e\x00r\x00' "$MINIVMM_STATE_DIR/t58/OVMF_VARS.fd"
	check "the chroot folder is still empty" test -z "$(ls -A "$root")"

	# 3. The refusals.
	refused() {	# refused WHAT STATUS TEXT COMMAND...
		local what=$1 want=$2 text=$3 rc; shift 3
		set +e; "$@" > /tmp/refused.txt 2>&1; rc=$?; set -e
		sed 's/^/    /' /tmp/refused.txt
		[[ $rc == "$want" ]] || fail "$what: status $rc, expected $want"
		[[ $(wc -l < /tmp/refused.txt) == 1 ]] || fail "$what: not one line"
		grep -q -- "$text" /tmp/refused.txt || fail "$what: no '$text'"
		echo "ok: refused: $what"
	}
	fw=(--ovmf /usr/share/ovmf/OVMF.fd --memory 128M)
	install -m 0755 ./minivmm /tmp/minivmm-58	# where nobody may run it
	refused "--user when not root" 1 "only root can switch" \
		setpriv --reuid="$nobody" --regid="$ngid" --clear-groups /tmp/minivmm-58 "${fw[@]}" --user nobody
	refused "an unknown user" 1 "no such user" ./minivmm "${fw[@]}" --user no-such-user-58
	install -d -m 0755 /run/t58-rootonly
	refused "a control socket nobody cannot remove" 1 "could not remove it at exit" \
		./minivmm "${fw[@]}" --user nobody --control /run/t58-rootonly/vm.sock
	refused "a missing chroot folder" 1 "give an existing folder" \
		./minivmm "${fw[@]}" --user nobody --chroot /run/t58-missing
	refused "--group without --user" 2 "without --user" ./minivmm "${fw[@]}" --group nogroup
	echo "USER-OK"
	exit 0
fi

echo "MARKER-FROM-NVME" > "$NESTED_OUT/marker.txt"
blk_esp "$NESTED_OUT/nvme.img" 64 '@echo -off
type fs0:\marker.txt
echo written-as-nobody >a fs0:\user.txt
echo MINIVMM-USER-STARTUP-DONE' "$NESTED_OUT/marker.txt"
l1_run --no-bind --modprobe nvme --drive "file=$NESTED_OUT/nvme.img,if=none,id=nv0,format=raw" \
	--pci-passthrough "nvme,serial=minivmm0,drive=nv0@0x11" \
	--timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "USER-OK"
mtype -i "$NESTED_OUT/nvme.img@@1M" ::/user.txt > "$NESTED_CASE_DIR/user.txt" ||
	fail "no user.txt on the NVMe: OVMF's write did not reach it"
grep -q "written-as-nobody" "$NESTED_CASE_DIR/user.txt" || fail "user.txt holds the wrong text"
