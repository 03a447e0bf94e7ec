# shellcheck shell=bash
# tests/bench/virtio-blk.sh — the virtio-blk rows of `make bench`: fio inside the
# same Linux guest (tests/nested/blk: Debian's kernel booted by OVMF from a
# read-only ESP disk, fio and its libraries in the initramfs) under minivmm and
# under QEMU+KVM, on the same image in the same L1 run: a disk of L1's QEMU
# (raw file on L0, cache=none), /dev/vda in L1, opened with O_DIRECT by both:
#
#   minivmm --disk path=/dev/vda,direct=on
#   QEMU    -drive file=/dev/vda,if=none,format=raw,aio=io_uring,cache=none
#           -device virtio-blk-pci
#
# Both: stock OVMF.fd, 2 vCPUs, 512 MiB, default queue counts (one per vCPU).
# Jobs (tests/nested/blk/*.fio, libaio, O_DIRECT on the guest's /dev/vda):
# 4 KiB random read at QD 1 and QD 32, 128 KiB sequential write at QD 8;
# with BENCH_ROWS=core, the QD 1 job only.
#
# Sourced by tests/bench/run.sh, which calls, on L0, vblk_bench_prepare OUT
# (images) and passes $(vblk_bench_l1_args OUT) to run-l1.sh; in L1,
# vblk_bench VMM RESULTS appends "VMM key value" lines; back on L0,
# vblk_bench_rows prints the table rows. Run alone, this file does all of
# that for the virtio-blk rows only:  bash tests/bench/virtio-blk.sh

VBLK_FIO_RUNTIME=${VBLK_FIO_RUNTIME:-20}	# seconds per job

# fio_guest_esp OUT ESP-NAME DISK-NAME KERNEL-ARGS...: the fio guest's ESP
# (OUT/ESP-NAME) booting Linux with KERNEL-ARGS, and the disk fio runs on
# (OUT/DISK-NAME, 512 MiB). $BLK_EXTRA_MODULES go into the initramfs.
fio_guest_esp() {
	local out=$1 esp=$2 disk=$3
	shift 3
	(
		set -e
		source tests/nested/blk/images.sh
		BLK_PATTERN=$out/pattern.bin
		[[ -f $BLK_PATTERN ]] || blk_pattern "$BLK_PATTERN" $((1 << 20))
		mkdir -p "$out/$esp.files"
		blk_initramfs "$out/$esp.files/initrd.img" --fio
		cp "$(blk_kernel)" "$out/$esp.files/vmlinuz"
		blk_esp "$out/$esp" 160 "$(blk_startup_linux minivmm.test=fio "$@")" \
			"$out/$esp.files/vmlinuz" "$out/$esp.files/initrd.img"
		rm -rf "$out/$esp.files"
		# Written, not sparse: reads hit real blocks in L0's file.
		head -c $((512 << 20)) /dev/zero > "$out/$disk"
	)
}

vblk_bench_prepare() {
	# The guest runs every job its initramfs holds.
	local jobs=""
	if bench_core; then jobs=rr-qd1; fi
	BLK_FIO_JOBS=$jobs fio_guest_esp "$1" esp-fio.img bench-disk.img minivmm.fio_runtime="$VBLK_FIO_RUNTIME"
}

vblk_bench_l1_args() {
	local out=$1
	echo --modprobe virtio_blk \
		--drive "file=$out/bench-disk.img,if=none,id=vbench,format=raw,cache=none" \
		--qemu-arg -device --qemu-arg virtio-blk-pci,drive=vbench,addr=0x14
}

# vblk_bench VMM RESULTS (in L1): boot the fio guest under VMM (minivmm, base:
# the same with run.sh's BENCH_BASE binary, or qemu), keep its rows.
vblk_bench() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT serial
	serial=$out/$vmm.fio.serial
	[[ -b /dev/vda ]] || { echo "bench: no /dev/vda in L1 for the virtio-blk rows" >&2; return; }
	rm -f "$serial"
	# A guest that hangs costs BENCH_FIO_TIMEOUT (15 minutes) and its rows, not
	# the whole run.
	local limit=${BENCH_FIO_TIMEOUT:-900}
	case $vmm in
	minivmm|base)
		timeout "$limit" "$(bench_minivmm "$vmm")" --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M --verbose --stats \
			--disk path=/dev/vda,direct=on --disk "path=$out/esp-fio.img,readonly=on" \
			--serial "file:$serial" < /dev/null > "$out/$vmm.fio.log" 2>&1 || true ;;
	qemu)
		timeout "$limit" "${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu host -smp 2 \
			-m 512M -nodefaults -display none -bios /usr/share/ovmf/OVMF.fd \
			-serial "file:$serial" \
			-drive file=/dev/vda,if=none,id=d0,format=raw,aio=io_uring,cache=none \
			-device virtio-blk-pci,drive=d0 \
			-drive "file=$out/esp-fio.img,if=none,id=d1,format=raw,readonly=on" \
			-device virtio-blk-pci,drive=d1 < /dev/null > "$out/$vmm.fio.log" 2>&1 || true ;;
	esac
	fio_results "$vmm" fio "$serial" >> "$results"
}

# fio_results VMM PREFIX SERIAL: the guest's "MINIVMM-FIO job {json}" lines
# as "VMM PREFIX-job-iops|mibs|lat-us value" result lines, if it finished. Text
# after the JSON on its line is ignored: the kernel's "reboot: Power down" goes
# straight to the UART and has landed there. A line that still does not parse
# counts as an unfinished run, so the table says why its rows are missing.
fio_results() {
	local boots

	# A guest reset midway (a triple fault: QEMU reboots in place unless told
	# not to) would count some jobs twice and cut others short.
	boots=$(grep -ac "MINIVMM-GUEST: kernel" "$3" || true)
	if (( boots > 1 )); then
		echo "bench: the fio guest under $1 booted $boots times (reset midway; see $3): its results are left out" >&2
		echo "$1 $2-unfinished 1"
		return
	fi
	if ! grep -aq "MINIVMM-GUEST-DONE" "$3"; then
		echo "bench: the fio guest under $1 did not finish (see $3)" >&2
		grep -a "MINIVMM-GUEST" "$3" >&2 || true
		echo "$1 $2-unfinished 1"
		return
	fi
	grep -a '^MINIVMM-FIO ' "$3" | python3 -c '
import json, sys
vmm, prefix = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    try:
        _, name, blob = line.split(" ", 2)
        job = json.JSONDecoder().raw_decode(blob)[0]["jobs"][0]
    except (ValueError, KeyError, IndexError) as e:
        print("bench: %s: an unreadable fio result line (%s)" % (vmm, e), file=sys.stderr)
        print(vmm, "%s-unfinished" % prefix, 1)
        continue
    rd, wr = job["read"], job["write"]
    if name.startswith("rr-"):
        print(vmm, "%s-%s-iops" % (prefix, name), round(rd["iops"]))
        print(vmm, "%s-%s-lat-us" % (prefix, name), round(rd["lat_ns"]["mean"] / 1000, 1))
    else:
        print(vmm, "%s-%s-mibs" % (prefix, name), round(wr["bw"] / 1024, 1))
        print(vmm, "%s-%s-lat-us" % (prefix, name), round(wr["lat_ns"]["mean"] / 1000, 1))
' "$1" "$2"
}

# The rows, for run.sh's row() (key, label).
vblk_bench_rows() {
	row fio-rr-qd1-iops "fio 4k randread QD1 (IOPS)"
	row fio-rr-qd1-lat-us "fio 4k randread QD1 latency (us)"
	if bench_core; then return; fi
	row fio-rr-qd32-iops "fio 4k randread QD32 (IOPS)"
	row fio-rr-qd32-lat-us "fio 4k randread QD32 latency (us)"
	row fio-sw-128k-mibs "fio 128k seq write QD8 (MiB/s)"
	row fio-sw-128k-lat-us "fio 128k seq write QD8 lat (us)"
}

# Run alone: only the virtio-blk rows, in an L1 of their own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	bench_alone vblk "virtio-blk: minivmm vs QEMU+KVM, same guest and image"
fi
