# shellcheck shell=bash
# tests/bench/sata.sh — the SATA rows of `make bench`: fio inside the same
# Linux guest (tests/nested/blk's, with Linux's ahci driver added) on a disk
# of the ICH9 AHCI controller at 00:1f.2, under minivmm and under QEMU+KVM in
# the same L1 run, on the same L1 disk the virtio-blk rows use (/dev/vda in
# L1, a raw file on L0, cache=none), opened with O_DIRECT by both:
#
#   minivmm --disk path=/dev/vda,bus=sata,direct=on
#   QEMU    -drive file=/dev/vda,if=none,format=raw,aio=io_uring,cache=none
#           -device ide-hd,bus=ide.0     (QEMU's q35 ich9-ahci, port 0)
#
# Both: stock OVMF.fd, 2 vCPUs, 512 MiB, the guest booted from a read-only
# virtio-blk ESP. The disk a guest without virtio drivers installs onto
# (Windows Setup): every command is a register write that exits, its data
# moves off the vCPU thread (minivmm: the port's I/O thread on io_uring).
# Jobs (tests/nested/blk/*.fio on the guest's /dev/sda): 4 KiB random read at
# QD 1 and QD 32 (NCQ), 128 KiB sequential write at QD 8; with
# BENCH_ROWS=core, not run.
#
# Sourced by tests/bench/run.sh: sata_bench_prepare OUT on L0, sata_bench VMM
# RESULTS in L1, sata_bench_rows on L0 (fio_guest_esp and fio_results come
# from tests/bench/virtio-blk.sh).

SATA_FIO_RUNTIME=${SATA_FIO_RUNTIME:-${VBLK_FIO_RUNTIME:-20}}	# seconds per job

sata_bench_prepare() {
	BLK_EXTRA_MODULES="ahci sd_mod" fio_guest_esp "$1" esp-sata-fio.img sata-unused.img \
		minivmm.fio_dev=sda minivmm.fio_runtime="$SATA_FIO_RUNTIME"
	rm -f "$1/sata-unused.img"	# the disk is L1's /dev/vda
}

# sata_bench VMM RESULTS (in L1): boot the fio guest under VMM, keep its rows.
sata_bench() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT serial
	serial=$out/$vmm.sata-fio.serial
	[[ -b /dev/vda ]] || { echo "bench: no /dev/vda in L1 for the SATA rows" >&2; return; }
	rm -f "$serial"
	local limit=${BENCH_FIO_TIMEOUT:-900}
	case $vmm in
	minivmm|base)
		timeout "$limit" "$(bench_minivmm "$vmm")" --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M --verbose \
			--disk path=/dev/vda,bus=sata,direct=on --disk "path=$out/esp-sata-fio.img,readonly=on" \
			--serial "file:$serial" < /dev/null > "$out/$vmm.sata-fio.log" 2>&1 || true ;;
	qemu)
		timeout "$limit" "${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu host -smp 2 \
			-m 512M -nodefaults -display none -bios /usr/share/ovmf/OVMF.fd \
			-serial "file:$serial" \
			-drive file=/dev/vda,if=none,id=s0,format=raw,aio=io_uring,cache=none \
			-device ide-hd,drive=s0,bus=ide.0 \
			-drive "file=$out/esp-sata-fio.img,if=none,id=d1,format=raw,readonly=on" \
			-device virtio-blk-pci,drive=d1 < /dev/null > "$out/$vmm.sata-fio.log" 2>&1 || true ;;
	esac
	fio_results "$vmm" sata-fio "$serial" >> "$results"
}

# The rows, for run.sh's row() (key, label).
sata_bench_rows() {
	row sata-fio-rr-qd1-iops "SATA (AHCI): fio 4k randread QD1 (IOPS)"
	row sata-fio-rr-qd1-lat-us "  4k randread QD1 latency (us)"
	row sata-fio-rr-qd32-iops "  fio 4k randread QD32 NCQ (IOPS)"
	row sata-fio-rr-qd32-lat-us "  4k randread QD32 latency (us)"
	row sata-fio-sw-128k-mibs "  fio 128k seq write QD8 (MiB/s)"
	row sata-fio-sw-128k-lat-us "  128k seq write QD8 latency (us)"
}
