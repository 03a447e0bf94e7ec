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
# Sourced by tests/bench/run.sh: hv_bench_prepare OUT on L0, hv_bench VMM
# RESULTS in L1, hv_bench_rows on L0. Alone: bash tests/bench/hyperv.sh

HV_IDLE_WINDOW=${HV_IDLE_WINDOW:-10}	# seconds counted

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
}

hv_bench_l1_args() { :; }

# hv_idle VMM MODE RESULTS (in L1): boot the idle guest, count its exits.
hv_idle() {
	local vmm=$1 mode=$2 results=$3 out=$MINIVMM_L1_OUT serial pid d e0 e1 i
	serial=$out/$vmm.idle-$mode.serial
	rm -f "$serial"
	case $vmm-$mode in
	minivmm-hv)  set -- ./minivmm --hyperv on --hide-kvm ;;
	minivmm-kvm) set -- ./minivmm --hyperv off ;;
	qemu-*)
		local cpu=host
		[[ $mode == kvm ]] || cpu=host,kvm=off,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,hv-stimer-direct,hv-frequencies,hv-reenlightenment,hv-tlbflush,hv-ipi,hv-reset,hv-crash
		set -- "${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu "$cpu" -smp 2 -m 512M \
			-nodefaults -display none -bios /usr/share/ovmf/OVMF.fd -serial "file:$serial" \
			-drive "file=$out/esp-idle.img,if=none,id=d0,format=raw,readonly=on" \
			-device virtio-blk-pci,drive=d0 ;;
	esac
	if [[ $vmm == minivmm ]]; then
		set -- "$@" --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M \
			--disk "path=$out/esp-idle.img,readonly=on" --serial "file:$serial"
	fi
	"$@" < /dev/null > "$out/$vmm.idle-$mode.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 3000; i++)); do
		grep -aq "MINIVMM-GUEST: IDLE" "$serial" 2> /dev/null && break
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.1
	done
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	d=$(echo /sys/kernel/debug/kvm/"$pid"-*)
	if grep -aq "MINIVMM-GUEST: IDLE" "$serial" 2> /dev/null && [[ -f $d/exits ]]; then
		sleep 1		# the console's last line out
		e0=$(cat "$d/exits")
		sleep "$HV_IDLE_WINDOW"
		e1=$(cat "$d/exits")
		echo "$vmm idle-exits-$mode $(( (e1 - e0) / HV_IDLE_WINDOW ))" >> "$results"
		grep -a "MINIVMM-GUEST: IDLE" "$serial" | tr -d '\r' | sed "s/^/bench: $vmm $mode: /" >&2
	else
		echo "$vmm idle-$mode-unfinished 1" >> "$results"
	fi
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
}

hv_bench() {
	hv_idle "$1" hv "$2"
	hv_idle "$1" kvm "$2"
}

hv_bench_rows() {
	row idle-exits-hv "idle Linux guest, KVM exits/s: on Hyper-V's interface"
	row idle-exits-kvm "  the same guest on KVM's (--hyperv off; QEMU -cpu host)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	bench_alone hv "idle exits, Hyper-V vs KVM interface, minivmm vs QEMU+KVM"
fi
