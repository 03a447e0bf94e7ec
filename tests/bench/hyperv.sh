# shellcheck shell=bash
# tests/bench/hyperv.sh — the idle-exits rows of `make bench`: KVM exits per
# second of an idle Linux guest (tests/nested/blk's, test "idle": booted by
# OVMF from a read-only virtio-blk ESP, then asleep), counted by KVM in L1's
# debugfs over HV_IDLE_WINDOW seconds, once on Hyper-V's interface and once on
# KVM's, under minivmm and under QEMU+KVM in the same L1 run:
#
#   Hyper-V  minivmm --hyperv on --hide-kvm
#            QEMU    -cpu host,kvm=off,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,
#                    hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,
#                    hv-stimer-direct,hv-frequencies,hv-reenlightenment,
#                    hv-tlbflush,hv-ipi,hv-reset,hv-crash
#   KVM      minivmm --hyperv off;  QEMU -cpu host
#
# --hide-kvm (kvm=off) because a Linux guest that sees KVM's leaves as well
# picks KVM (docs/windows.md, "Hyper-V enlightenments"): with the default
# --hyperv on it runs exactly as the KVM row. Both: stock OVMF.fd, 2 vCPUs,
# 512 MiB. The Linux guest is the stand-in: Windows' idle exits need a
# Windows host.
#
# Then the same two interfaces under load: the fio guest of
# tests/bench/virtio-blk.sh (its 4 KiB random read at QD 1 only, for
# HV_FIO_WINDOW + 4 seconds, on L1's /dev/vda with direct=on / cache=none as
# there), its exits counted over HV_FIO_WINDOW seconds from the end of fio's
# ramp_time, after the guest's "fio rr-qd1.fio" line; a window that the job's
# result line beat is left out. Its IOPS are kept too: exits per second
# follow the I/O rate.
#
# Sourced by tests/bench/run.sh (after virtio-blk.sh, whose fio_guest_esp,
# fio_results and /dev/vda it uses): hv_bench_prepare OUT on L0, hv_bench VMM
# RESULTS in L1, hv_bench_rows on L0. Alone: bash tests/bench/hyperv.sh

HV_IDLE_WINDOW=${HV_IDLE_WINDOW:-10}	# seconds counted, idle
HV_FIO_WINDOW=${HV_FIO_WINDOW:-10}	# seconds counted, under fio

hv_bench_prepare() {
	(
		set -e
		source tests/nested/blk/images.sh
		BLK_PATTERN=$1/pattern.bin
		[[ -f $BLK_PATTERN ]] || blk_pattern "$BLK_PATTERN" $((1 << 20))
		mkdir -p "$1/esp-idle.files"
		blk_initramfs "$1/esp-idle.files/initrd.img"
		cp "$(blk_kernel)" "$1/esp-idle.files/vmlinuz"
		blk_esp "$1/esp-idle.img" 64 \
			"$(blk_startup_linux minivmm.test=idle minivmm.idle_s=$((HV_IDLE_WINDOW + 8)))" \
			"$1/esp-idle.files/vmlinuz" "$1/esp-idle.files/initrd.img"
		rm -rf "$1/esp-idle.files"
	)
	# fio's ramp_time (2 s) and the window, with 2 s to spare.
	BLK_FIO_JOBS=rr-qd1 fio_guest_esp "$1" esp-hvfio.img bench-disk.img \
		minivmm.fio_runtime=$((HV_FIO_WINDOW + 2))
}

# run.sh gives L1 the virtio-blk rows' disk; alone, the same.
hv_bench_l1_args() { vblk_bench_l1_args "$1"; }

# hv_cmd VMM MODE SERIAL: CMD, the VMM on the interface MODE (hv or kvm),
# without its disks.
hv_cmd() {
	local vmm=$1 mode=$2 serial=$3
	case $vmm-$mode in
	minivmm-hv)  CMD=(./minivmm --hyperv on --hide-kvm) ;;
	minivmm-kvm) CMD=(./minivmm --hyperv off) ;;
	qemu-*)
		local cpu=host
		[[ $mode == kvm ]] || cpu=host,kvm=off,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,hv-stimer-direct,hv-frequencies,hv-reenlightenment,hv-tlbflush,hv-ipi,hv-reset,hv-crash
		CMD=("${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu "$cpu" -smp 2 -m 512M \
			-nodefaults -display none -bios /usr/share/ovmf/OVMF.fd -serial "file:$serial") ;;
	esac
	if [[ $vmm == minivmm ]]; then
		CMD+=(--ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M --serial "file:$serial")
	fi
}

# hv_wait_line SERIAL PATTERN PID TENTHS: wait until SERIAL has PATTERN, PID
# has ended or TENTHS tenths of a second have passed; true if it has PATTERN.
hv_wait_line() {
	local i
	for ((i = 0; i < $4; i++)); do
		grep -aq "$2" "$1" 2> /dev/null && break
		kill -0 "$3" 2> /dev/null || break
		sleep 0.1
	done
	grep -aq "$2" "$1" 2> /dev/null
}

# hv_exits PID: KVM's count of exits of the VM of process PID (L1's debugfs),
# nothing if it has none (gone).
hv_exits() {
	local d
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	d=$(echo /sys/kernel/debug/kvm/"$1"-*)
	if [[ -f $d/exits ]]; then cat "$d/exits" 2> /dev/null || true; fi
}

# hv_idle VMM MODE RESULTS (in L1): boot the idle guest, count its exits.
hv_idle() {
	local vmm=$1 mode=$2 results=$3 out=$MINIVMM_L1_OUT serial pid e0='' e1=''
	serial=$out/$vmm.idle-$mode.serial
	rm -f "$serial"
	hv_cmd "$vmm" "$mode" "$serial"
	if [[ $vmm == minivmm ]]; then
		CMD+=(--disk "path=$out/esp-idle.img,readonly=on")
	else
		CMD+=(-drive "file=$out/esp-idle.img,if=none,id=d0,format=raw,readonly=on"
			-device "virtio-blk-pci,drive=d0")
	fi
	"${CMD[@]}" < /dev/null > "$out/$vmm.idle-$mode.log" 2>&1 &
	pid=$!
	if hv_wait_line "$serial" "MINIVMM-GUEST: IDLE" "$pid" 3000 && [[ -n $(hv_exits "$pid") ]]; then
		sleep 1		# the console's last line out
		e0=$(hv_exits "$pid")
		sleep "$HV_IDLE_WINDOW"
		e1=$(hv_exits "$pid")
	fi
	if [[ -n ${e0:-} && -n ${e1:-} ]]; then
		echo "$vmm idle-exits-$mode $(( (e1 - e0) / HV_IDLE_WINDOW ))" >> "$results"
		grep -a "MINIVMM-GUEST: IDLE" "$serial" | tr -d '\r' | sed "s/^/bench: $vmm $mode: /" >&2
	else
		echo "$vmm idle-$mode-unfinished 1" >> "$results"
	fi
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
}

# hv_fio VMM MODE RESULTS (in L1): boot the fio guest, count its exits while
# fio runs, keep its IOPS.
hv_fio() {
	local vmm=$1 mode=$2 results=$3 out=$MINIVMM_L1_OUT serial pid e0='' e1='' i ok=''
	serial=$out/$vmm.hvfio-$mode.serial
	[[ -b /dev/vda ]] || { echo "bench: no /dev/vda in L1 for the fio exits rows" >&2; return; }
	rm -f "$serial"
	hv_cmd "$vmm" "$mode" "$serial"
	if [[ $vmm == minivmm ]]; then
		CMD+=(--disk "path=/dev/vda,direct=on" --disk "path=$out/esp-hvfio.img,readonly=on")
	else
		CMD+=(-drive "file=/dev/vda,if=none,id=d0,format=raw,aio=io_uring,cache=none"
			-device "virtio-blk-pci,drive=d0"
			-drive "file=$out/esp-hvfio.img,if=none,id=d1,format=raw,readonly=on"
			-device "virtio-blk-pci,drive=d1")
	fi
	"${CMD[@]}" < /dev/null > "$out/$vmm.hvfio-$mode.log" 2>&1 &
	pid=$!
	# The job's start, then its ramp_time (rr-qd1.fio: 2 s) and fio's start-up.
	if hv_wait_line "$serial" "MINIVMM-GUEST: fio rr-qd1" "$pid" 3000 && [[ -n $(hv_exits "$pid") ]]; then
		sleep 2.5
		e0=$(hv_exits "$pid")
		sleep "$HV_FIO_WINDOW"
		e1=$(hv_exits "$pid")
		# Inside the job only if its result line is not out yet.
		if [[ -n $e0 && -n $e1 ]] && ! grep -aq "^MINIVMM-FIO rr-qd1" "$serial"; then
			ok=1
			echo "$vmm fio-exits-$mode $(( (e1 - e0) / HV_FIO_WINDOW ))" >> "$results"
		else
			echo "bench: $vmm $mode: the fio job ended inside the exits window (see $serial)" >&2
		fi
		# The result line, the console's drain and the power-off.
		hv_wait_line "$serial" "MINIVMM-GUEST-DONE" "$pid" 1200 || true
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
	fi
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	{ grep -a "MINIVMM-GUEST: kernel" "$serial" 2> /dev/null || true; } | tr -d '\r' | sed "s/^/bench: $vmm $mode fio: /" >&2
	if [[ -n $ok ]]; then
		fio_results "$vmm" "hvfio-$mode" "$serial" >> "$results"
	else
		echo "$vmm hvfio-$mode-unfinished 1" >> "$results"
	fi
}

hv_bench() {
	hv_idle "$1" hv "$2"
	hv_idle "$1" kvm "$2"
	hv_fio "$1" hv "$2"
	hv_fio "$1" kvm "$2"
}

hv_bench_rows() {
	row idle-exits-hv "idle Linux guest, KVM exits/s: on Hyper-V's interface"
	row idle-exits-kvm "  the same guest on KVM's (--hyperv off; QEMU -cpu host)"
	row fio-exits-hv "guest under fio 4k randread QD1, KVM exits/s: Hyper-V's"
	row hvfio-hv-rr-qd1-iops "  its IOPS"
	row fio-exits-kvm "  the same on KVM's interface"
	row hvfio-kvm-rr-qd1-iops "  its IOPS"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	source tests/bench/virtio-blk.sh
	bench_alone hv "idle exits, Hyper-V vs KVM interface, minivmm vs QEMU+KVM"
fi
