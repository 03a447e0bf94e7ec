#!/usr/bin/env bash
# 45-teardown: every way minivmm ends leaves the host as it found it. One L1 boot,
# five minivmm runs, one per exit path: the guest powers off (status 0), resets
# (3, with --no-reboot), minivmm gets SIGINT (130) or SIGTERM (143) while the
# guest writes — the first presses the ACPI power button, which this guest
# ignores, the second stops it, a third comes once teardown began — or the guest
# crashes: KVM cannot run it any more (4). Each run boots OVMF and the Linux guest of tests/nested/blk
# (test "teardown", minivmm.end=poweroff|reboot|wait|crash) with a writable
# virtio-blk data disk and two passed devices: QEMU's edu, which has no reset
# method (minivmm tries, and turns bus mastering off), and an NVMe controller,
# whose reset (FLR) is real and shows in the log. The guest writes a pattern,
# flushes it, says FLUSHED, keeps unflushed O_DIRECT writes in flight elsewhere on
# the disk, and ends its way. Each run must leave:
#   * the exit status of its path, within a bounded time (a hang fails the case);
#   * the flushed pattern in the image, byte for byte (in L1 right after the run,
#     and on L0 once L1 is gone);
#   * every passed device reset (edu: the reset tried) at start and at exit, with
#     bus mastering off, and its IOMMU group free: opened again at once, and by
#     the next run; after the last run both are still on vfio-pci;
#   * the virtio-blk disk's I/O thread (one per disk: both queues) stopped only
#     after the I/O it had in flight at the stop completed ("waited for them:
#     0 left"), then the image flushed. A guest
#     that shuts down orderly (power-off, reboot) resets its disks itself (Linux's
#     virtio_dev_shutdown), so those stops come before the end; after a signal or
#     a crash minivmm's teardown stops the running queues.
# The crash: a guest kernel fetching instructions from MMIO (the VGA window, no
# memory slot) is an emulation failure KVM reports as KVM_EXIT_INTERNAL_ERROR. A
# guest *process* doing the same only dies of SIGILL (KVM injects #UD outside
# CPL 0, so no guest user can kill the VM): the guest tries that first, then
# panics into a crash kernel that jumps there — CPL 0, and no device shut down
# (tests/nested/blk/mmiojump.c).
# nested-seconds: 644
set -euo pipefail
# shellcheck source=tests/nested/lib.sh
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MiB=$((1 << 20))
PATTERN_OFF=256		# 64 KiB blocks: 16 MiB
EDU=0000:00:10.0
NVME=0000:00:11.0
# name, minivmm.end, expected status, signal the host sends (- = none)
RUNS=("poweroff poweroff 0 -" "crash crash 4 -" "reboot reboot 3 -"
	"sigint wait 130 INT" "sigterm wait 143 TERM")

if in_l1; then
	O=$MINIVMM_L1_OUT
	group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
	host_cmd() { od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '; }
	now() { date +%s.%N; }
	secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
	# Poll up to $1 tenths of a second for COMMAND to succeed.
	poll() {
		local n=$1 i; shift
		for ((i = 0; i < n * 5; i++)); do
			"$@" && return 0
			sleep 0.02
		done
		return 1
	}
	serial_has() { grep -aq -- "$1" "$serial"; }
	# shellcheck disable=SC2317  # called through poll
	guest_ended() { serial_has "MINIVMM-GUEST: END" || serial_has "MINIVMM-GUEST-FAIL" || ! kill -0 "$pid" 2> /dev/null; }
	# shellcheck disable=SC2317
	gone() { ! kill -0 "$pid" 2> /dev/null; }
	can_open() { { : 3<> "$1"; } 2> /dev/null; }
	summary=()

	for r in "${RUNS[@]}"; do
		read -r name end want sig <<< "$r"
		img=$O/data-$name.img serial=$O/serial-$name.txt mlog=$O/minivmm-$name.log
		rm -f "$img"
		truncate -s $((64 * MiB)) "$img"
		: > "$serial"
		t0=$(now)
		# SIGINT at its default disposition, as from a terminal (bash would
		# start a background command with SIGINT ignored).
		env --default-signal=INT ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M \
			--cpus 2 --verbose --no-reboot --disk "path=$img" --disk "path=$O/esp-$end.img,readonly=on" \
			--vfio 00:10.0 --vfio 00:11.0 --serial "file:$serial" < /dev/null > "$mlog" 2>&1 &
		pid=$!
		poll 1500 guest_ended || true
		t_end=$(now) again=0 early=0
		if [[ $sig != - ]]; then
			sleep 1		# the background writes go on
			t_end=$(now)
			kill -s "$sig" "$pid" 2> /dev/null || early=1
			# The first presses the power button (this guest does not
			# act on it); the second stops the VM at once.
			if (( !early )) && poll 100 grep -q "pressed the ACPI power button" "$mlog"; then
				kill -s "$sig" "$pid" 2> /dev/null || early=1
			else
				fail "$name: SIG$sig did not press the power button"
			fi
			# And again once teardown began (Ctrl-C three times, an
			# impatient supervisor): it must not cut the teardown short.
			if (( !early )) && poll 100 grep -q "stopped by signal" "$mlog"; then
				kill -s "$sig" "$pid" 2> /dev/null && again=1
			fi
		fi
		hung=0
		poll 600 gone || hung=1
		t1=$(now)
		if (( hung )); then
			echo "--- minivmm ($name) still runs 60 s after the guest's end: its threads"
			for t in "/proc/$pid/task/"*; do
				echo "    $(cat "$t/comm") $(cat "$t/wchan" 2> /dev/null)"
				sed 's/^/        /' "$t/stack" 2> /dev/null || true
			done
			kill -KILL "$pid"
		fi
		set +e; wait "$pid"; rc=$?; set -e
		by="the guest's end"
		[[ $sig == - ]] || by=SIG$sig
		(( !again )) || by+=" (sent again during teardown)"
		echo "--- run $name (minivmm.end=$end, stopped by $by): status $rc"
		sed 's/^/    /' "$mlog"
		tr -d '\r' < "$serial" | grep -a 'MINIVMM\|mmiojump\|Kernel panic' | sed 's/^/  guest: /' || true
		(( !hung )) || fail "$name: minivmm did not end (hang at teardown?)"
		# Not this case's subject, but it would spoil it: say so plainly.
		if line=$(grep -m1 "triple fault" "$mlog"); then
			fail "$name: the guest triple-faulted ('${line#minivmm: }'), status $rc"
		fi
		if line=$(grep -a "MINIVMM-GUEST-FAIL" "$serial"); then
			fail "$name: Linux guest: ${line#*MINIVMM-GUEST-FAIL: }"
		fi
		(( !early )) || fail "$name: minivmm ended by itself (status $rc) before SIG$sig"
		serial_has "MINIVMM-GUEST: FLUSHED" || fail "$name: the guest never flushed"
		serial_has "MINIVMM-GUEST: END $end" || fail "$name: the guest never reached its end"
		[[ $rc == "$want" ]] || fail "$name: minivmm ended with status $rc, expected $want"
		total=$(secs "$t0" "$t1") stop=$(secs "$t_end" "$t1")
		echo "ok: $name: status $rc, $total s in all, $stop s from $by to exit"

		# The end itself.
		case $name in
		poweroff) marker="guest powered off" ;;
		reboot) marker="guest reset" ;;
		sigint) marker="stopped by signal 2" ;;
		sigterm) marker="stopped by signal 15" ;;
		crash)
			marker="KVM internal error"
			grep -aq "CPL 3 jump into MMIO: status 132 (the VM lives)" "$serial" ||
				fail "crash: a guest process jumping into MMIO did not (only) die of SIGILL"
			echo "ok: crash: a guest process fetching from MMIO died of SIGILL (KVM injects #UD at CPL 3), the VM lived"
			grep -q "KVM internal error, suberror 1 " "$mlog" || fail "crash: no emulation failure (suberror 1)"
			grep -q "rip=0xa0000 " "$mlog" || fail "crash: the vCPU was not at the MMIO address"
			grep -aq "Kernel panic - not syncing: sysrq triggered crash" "$serial" ||
				fail "crash: the guest kernel did not panic"
			echo "ok: crash: the guest kernel panicked; its crash kernel's fetch from MMIO (CPL 0) ended KVM_RUN with KVM_EXIT_INTERNAL_ERROR at rip 0xa0000" ;;
		esac
		grep -qF "$marker" "$mlog" || fail "$name: minivmm did not log '$marker'"
		teardown=$(sed -n "/$marker/,\$p" "$mlog")

		# The flushed pattern, byte for byte.
		dd if="$img" of=/tmp/got bs=64k skip=$PATTERN_OFF count=64 status=none
		cmp /tmp/got "$O/pattern.bin" || fail "$name: the flushed pattern is not in the image"
		echo "ok: $name: the flushed pattern is in the image"

		# io_uring drained: every stop of a virtio-blk I/O thread waits for
		# the I/O it has in flight, and minivmm stops every running thread
		# at teardown. A guest that shuts down orderly resets its disks
		# itself (Linux's virtio_dev_shutdown); after a signal or a crash
		# the thread still runs, and teardown stops it.
		! grep -E "stop with .* waited for them: [1-9][0-9]* left" "$mlog" ||
			fail "$name: a virtio-blk I/O thread stopped with I/O still in flight"
		inflight="" where=""
		re="virtio-blk0: I/O thread 0: stop with [0-9]+ I/O\(s\) in flight; waited for them: 0 left"
		grep -qE "$re" "$mlog" || fail "$name: virtio-blk0's I/O thread never stopped cleanly"
		n=$(grep -E "$re" "$mlog" | tail -1 | grep -oE "stop with [0-9]+" | cut -d' ' -f3)
		if grep -qE "$re" <<< "$teardown"; then
			where="at teardown"
		else
			[[ $sig == - && $end != crash ]] ||
				fail "$name: virtio-blk0's I/O thread was not stopped at teardown"
			where="by the guest's reset"
		fi
		inflight=$n
		! grep -q "flushing the image at exit" "$mlog" || fail "$name: the image flush at exit failed"
		echo "ok: $name: virtio-blk0's I/O thread (both queues) stopped $where after its I/O (in flight at the stop: $inflight), 0 left"
		summary+=("$name: status $rc, $total s, $stop s from $by to exit; the disk's I/O thread stopped $where, I/O in flight then: $inflight")

		# Resets at start and exit; released; bus mastering off.
		[[ $(grep -c "$NVME: reset (" "$mlog") == 2 ]] || fail "$name: the NVMe was not reset exactly twice"
		grep -q "$NVME: reset (" <<< "$teardown" || fail "$name: the NVMe was not reset at exit"
		[[ $(grep -c "$EDU: reset (\|$EDU: no reset method worked" "$mlog") == 2 ]] ||
			fail "$name: minivmm did not try to reset edu exactly twice"
		grep -q "$EDU: reset (\|$EDU: no reset method worked" <<< "$teardown" ||
			fail "$name: minivmm did not try to reset edu at exit"
		for d in $EDU $NVME; do
			cmd=$(host_cmd "$d")
			(( (0x$cmd & 0x4) == 0 )) || fail "$name: $d left with bus mastering on (COMMAND 0x$cmd)"
			can_open "/dev/vfio/$(group "$d")" || fail "$name: /dev/vfio/$(group "$d") ($d) is still held"
		done
		echo "ok: $name: NVMe reset (FLR) at start and exit, edu reset tried (it has no method); both released with bus mastering off"
	done

	for d in $EDU $NVME; do
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$d/driver")")
		[[ $drv == vfio-pci ]] || fail "after the last run $d is on '$drv', not vfio-pci"
		can_open "/dev/vfio/$(group "$d")" || fail "cannot open /dev/vfio/$(group "$d") after the last run"
	done
	echo "ok: after the last run both devices are on vfio-pci and their groups open"
	printf 'TEARDOWN %s\n' "${summary[@]}"
	echo "TEARDOWN-OK"
	exit 0
fi

blk_guest_files "$NESTED_OUT"
for end in poweroff reboot wait crash; do
	args="minivmm.test=teardown minivmm.end=$end minivmm.pattern_off=$PATTERN_OFF"
	[[ $end == crash ]] && args+=" crashkernel=16M"
	blk_esp "$NESTED_OUT/esp-$end.img" 64 "$(blk_startup_linux "$args")" \
		"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"
done
truncate -s $((16 * MiB)) "$NESTED_OUT/nvme.img"

l1_run --drive "file=$NESTED_OUT/nvme.img,if=none,id=nv0,format=raw" \
	--pci-passthrough edu@0x10 --pci-passthrough "nvme,serial=teardown0,drive=nv0@0x11" \
	--timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "TEARDOWN-OK"
grep -a "^TEARDOWN " "$L1_LOG" | tr -d '\r' | sed 's/^/  /'
# What L1 read back is on L0 too, now that L1 is gone.
for r in "${RUNS[@]}"; do
	read -r name _ <<< "$r"
	cmp <(dd if="$NESTED_OUT/data-$name.img" bs=64k skip=$PATTERN_OFF count=64 status=none) \
		"$BLK_PATTERN" || fail "data-$name.img on L0: the flushed pattern is not there"
done
echo "ok: every run's flushed pattern is in its image on L0"
