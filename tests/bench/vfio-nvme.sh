# shellcheck shell=bash
# tests/bench/vfio-nvme.sh — the passed-NVMe rows of `make bench`: fio inside
# the same Linux guest (tests/nested/blk's guest, with the nvme driver added)
# on QEMU's NVMe controller (1b36:0010) of L1, bound to vfio-pci there and
# passed through, behind a PCIe root port, to minivmm and to QEMU+KVM in the
# same L1 run:
#
#   minivmm --vfio 00:11.0
#   QEMU    -device pcie-root-port,id=rp1,chassis=2,addr=0x11
#           -device vfio-pci,host=0000:00:11.0,bus=rp1
#
# Both: stock OVMF.fd, 2 vCPUs, 512 MiB, the guest booted from a read-only
# virtio-blk ESP. The controller's doorbells sit in its BAR 0, mapped into the
# guest (no exit), its completions arrive as MSI-X through irqfd: what differs
# between the VMMs is the interrupt path and the vCPU's exits, which QD1
# latency shows best. The NVMe's disk is a raw file on L0 (cache=none).
# Jobs: tests/nested/blk/*.fio on /dev/nvme0n1 (4 KiB random read QD 1 and
# QD 32, 128 KiB sequential write QD 8).
#
# Sourced by tests/bench/run.sh, which calls, on L0, vnvme_bench_prepare OUT and
# passes $(vnvme_bench_l1_args OUT) to run-l1.sh; in L1, vnvme_bench VMM
# RESULTS appends "VMM key value" lines; on L0, vnvme_bench_rows prints the
# rows (fio_guest_esp and fio_results come from tests/bench/virtio-blk.sh).
# Run alone, this file does all of that for these rows only:
#   bash tests/bench/vfio-nvme.sh

VNVME_BDF=0000:00:11.0
VNVME_FIO_RUNTIME=${VNVME_FIO_RUNTIME:-${VBLK_FIO_RUNTIME:-20}}	# seconds per job

vnvme_bench_prepare() {
	# t10-pi asks the crypto API for crc64-rocksoft when nvme loads.
	BLK_EXTRA_MODULES="crc64_rocksoft_generic nvme" \
		fio_guest_esp "$1" esp-nvme-fio.img nvme-bench.img \
		minivmm.fio_dev=nvme0n1 minivmm.fio_runtime="$VNVME_FIO_RUNTIME"
}

vnvme_bench_l1_args() {
	local out=$1
	echo --drive "file=$out/nvme-bench.img,if=none,id=nvbench,format=raw,cache=none" \
		--pci-passthrough "nvme,serial=minivmm-bench,drive=nvbench@0x11"
}

# vnvme_bench VMM RESULTS (in L1): boot the fio guest under VMM, keep its rows.
vnvme_bench() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT serial
	serial=$out/$vmm.nvme-fio.serial
	[[ -e /sys/bus/pci/drivers/vfio-pci/$VNVME_BDF ]] ||
		{ echo "bench: no NVMe on vfio-pci at $VNVME_BDF in L1 for the passed-NVMe rows" >&2; return; }
	rm -f "$serial"
	# A guest that hangs costs BENCH_FIO_TIMEOUT (15 minutes) and its rows, not
	# the whole run.
	local limit=${BENCH_FIO_TIMEOUT:-900}
	case $vmm in
	minivmm)
		timeout "$limit" ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M --verbose \
			--vfio "${VNVME_BDF#0000:}" --disk "path=$out/esp-nvme-fio.img,readonly=on" \
			--serial "file:$serial" < /dev/null > "$out/$vmm.nvme-fio.log" 2>&1 || true ;;
	qemu)
		timeout "$limit" "${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu host -smp 2 \
			-m 512M -nodefaults -display none -bios /usr/share/ovmf/OVMF.fd \
			-serial "file:$serial" \
			-device pcie-root-port,id=rp1,chassis=2,addr=0x11 \
			-device "vfio-pci,host=$VNVME_BDF,bus=rp1" \
			-drive "file=$out/esp-nvme-fio.img,if=none,id=d1,format=raw,readonly=on" \
			-device virtio-blk-pci,drive=d1 < /dev/null > "$out/$vmm.nvme-fio.log" 2>&1 || true ;;
	esac
	fio_results "$vmm" nvme-fio "$serial" >> "$results"
}

# The rows, for run.sh's row() (key, label).
vnvme_bench_rows() {
	row nvme-fio-rr-qd1-iops "passed NVMe: fio 4k randread QD1 (IOPS)"
	row nvme-fio-rr-qd1-lat-us "  4k randread QD1 latency (us)"
	row nvme-fio-rr-qd32-iops "  fio 4k randread QD32 (IOPS)"
	row nvme-fio-rr-qd32-lat-us "  4k randread QD32 latency (us)"
	row nvme-fio-sw-128k-mibs "  fio 128k seq write QD8 (MiB/s)"
	row nvme-fio-sw-128k-lat-us "  128k seq write QD8 latency (us)"
}

# Run alone: only these rows, in an L1 of their own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/virtio-blk.sh	# fio_results
	source tests/bench/table.sh
	bench_alone vnvme "passed NVMe: minivmm vs QEMU+KVM, same guest and disk"
fi
