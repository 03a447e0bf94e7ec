#!/usr/bin/env bash
# make bench: minivmm and QEMU+KVM side by side on identical work, in one run
# of the nested environment (real KVM inside L1), printed as a table of
# ratios. Absolute times inside L1 are TCG-slow and mean little; the ratio
# of the two VMMs measured in the same L1 boot is the figure.
#
# Rows:
#   pio / mmio-write / mmio-read   exit round trip, TSC cycles in the guest
#                                  (tests/guest/bench.bin, 100000 each)
#   ovmf-shell-ms                  VMM start to the UEFI "Shell>" prompt, stock
#                                  OVMF.fd, 2 vCPUs, 512 MiB
#   ovmf-exits / -io / -mmio       KVM's own count of exits (debugfs) up to the
#                                  prompt: all, port I/O and MMIO to userspace
#   ovmf-rss-kib                   the VMM's resident memory at the prompt,
#                                  guest RAM left out
#   empty-ms                       VMM start to exit for tests/guest/bench-empty.bin
#                                  (reset vector -> long mode -> exit port): the
#                                  VMM's start-up and tear-down cost
#
#   msi-roundtrip, vfio-*          VFIO passthrough of QEMU's edu device: see
#                                  tests/bench/vfio.sh
#   fio-*                          virtio-blk: fio in a Linux guest booted from a
#                                  virtio-blk ESP, same image for both: see
#                                  tests/bench/virtio-blk.sh
#   nvme-fio-*                     the same fio jobs on an NVMe controller passed
#                                  through with VFIO: see tests/bench/vfio-nvme.sh
#
#   tests/bench/run.sh             the table on stdout; raw results are kept
#   BENCH_RUNS=N                   repetitions per VMM (default 2, alternating)
#   BENCH_FIO_TIMEOUT=S            seconds a fio guest may take (default 900)
set -euo pipefail
cd "$(dirname "$0")/../.."

QEMU_L2=${QEMU_L2:-qemu-system-x86_64}	# Debian's QEMU, run inside L1 with KVM
RUNS=${BENCH_RUNS:-2}
source tests/bench/vfio.sh
source tests/bench/virtio-blk.sh
source tests/bench/vfio-nvme.sh

if [[ ${MINIVMM_L1:-} == 1 ]]; then
	out=$MINIVMM_L1_OUT
	results=$out/results.txt
	: > "$results"
	source tests/nested/uefi-console.sh
	CONSOLE_DIR=$out

	# The same payload and the same devices for both: the payload's
	# serial, its test device, and nothing else that could exit.
	# payload_cmd VMM SERIAL [BIN]: the command line, in CMD.
	# shellcheck disable=SC2054  # QEMU's options have commas
	payload_cmd() {
		local bin=${3:-tests/guest/bench.bin}
		case $1 in
		minivmm) CMD=(./minivmm --firmware "$bin" --testdev --memory 512M --serial file:"$2") ;;
		qemu)	 CMD=("$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -nodefaults
				-display none -bios "$bin" -serial file:"$2"
				-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4) ;;
		esac
	}
	bench_empty() {
		local vmm=$1 t0
		payload_cmd "$vmm" "$out/$vmm.empty.serial" tests/guest/bench-empty.bin
		t0=$(now_ms)
		"${CMD[@]}" < /dev/null > /dev/null 2>&1 || true
		echo "$vmm empty-ms $(( $(now_ms) - t0 ))" >> "$results"
	}
	ovmf_cmd() {
		case $1 in
		minivmm) CMD=(./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2) ;;
		qemu)	 CMD=("$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -smp 2 -nodefaults
				-display none -serial stdio -bios /usr/share/ovmf/OVMF.fd) ;;
		esac
	}
	bench_payload() {
		local vmm=$1 serial=$out/$1.payload.serial
		payload_cmd "$vmm" "$serial"
		"${CMD[@]}" < /dev/null > /dev/null 2>&1 || true
		grep -a '^bench: pio' "$serial" | head -n1 |
			awk -v v="$vmm" '{ for (i = 2; i < NF; i += 2) if ($i ~ /^(pio|mmio-write|mmio-read)$/) print v, $i, $(i + 1) }' \
			>> "$results"
	}
	bench_ovmf() {
		local vmm=$1 t0 ms stats
		ovmf_cmd "$vmm"
		t0=$(now_ms)
		console_start "$vmm.ovmf" "${CMD[@]}"
		if ! console_wait "Shell>" 300; then
			console_send "reset -s"; console_finish 30
			echo "bench: $vmm did not reach Shell>" >&2
			return
		fi
		ms=$(( $(now_ms) - t0 ))
		stats=$(kvm_exit_stats "$CONSOLE_PID")
		echo "$vmm ovmf-rss-kib $(vmm_rss_kib "$CONSOLE_PID" $((512 << 20)))" >> "$results"
		console_send "reset -s"
		console_finish 60
		read -r all io mmio <<< "$stats"
		{
			echo "$vmm ovmf-shell-ms $ms"
			echo "$vmm ovmf-exits $all"
			echo "$vmm ovmf-exits-io $io"
			echo "$vmm ovmf-exits-mmio $mmio"
		} >> "$results"
	}
	# Alternate the order so neither VMM always runs on a warmer L1.
	for ((r = 0; r < RUNS; r++)); do
		if ((r % 2 == 0)); then order="minivmm qemu"; else order="qemu minivmm"; fi
		for v in $order; do bench_empty "$v"; done
		for v in $order; do bench_payload "$v"; done
		for v in $order; do bench_ovmf "$v"; done
		for v in $order; do vfio_bench "$v" "$results"; done
		for v in $order; do vblk_bench "$v" "$results"; done
		for v in $order; do vnvme_bench "$v" "$results"; done
	done
	cat "$results"
	exit 0
fi

# L1 on one TCG thread, as the tests (docs/nested-testing.md). The price: when
# a busy vCPU and a VMM's I/O thread both need L1, they take turns in 100 ms
# slices (a virtio-blk fio job at QD 32 once fell from 8 806 IOPS to 1 456
# between two rounds). MINIVMM_L1_TCG_THREAD=multi gives a thread per vCPU,
# where L2 guests of both VMMs were reset or stalled in every run
# (docs/benchmarks.md).
export MINIVMM_L1_TCG_THREAD=${MINIVMM_L1_TCG_THREAD:-single}
artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench.XXXXXX")
mkdir -p "$artifacts/out"
make -s minivmm guest
vblk_bench_prepare "$artifacts/out"
vnvme_bench_prepare "$artifacts/out"
# shellcheck disable=SC2046  # the *_l1_args print separate options
tests/nested/run-l1.sh --quiet --timeout 7200 --log "$artifacts/l1.log" --out "$artifacts/out" \
	--env BENCH_RUNS="$RUNS" --env BENCH_FIO_TIMEOUT="${BENCH_FIO_TIMEOUT:-900}" \
	$(vfio_bench_l1_args) $(vblk_bench_l1_args "$artifacts/out") $(vnvme_bench_l1_args "$artifacts/out") \
	-- bash tests/bench/run.sh ||
	{ echo "bench: L1 run failed, see $artifacts/l1.log" >&2; exit 1; }

results=$artifacts/out/results.txt
source tests/bench/table.sh
row_header "minivmm vs QEMU+KVM ($(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }')), same L1 run, $(date -u +%F), mean of $RUNS runs each"
row pio "PIO exit round trip (cycles)"
row mmio-write "MMIO write round trip (cycles)"
row mmio-read "MMIO read round trip (cycles)"
row ovmf-shell-ms "OVMF.fd to Shell> (ms)"
row ovmf-exits "  KVM exits until Shell>"
row ovmf-exits-io "  port-I/O exits to userspace"
row ovmf-exits-mmio "  MMIO exits to userspace"
row ovmf-rss-kib "VMM resident memory at Shell> (KiB)"
row empty-ms "start to exit, empty payload (ms)"
vfio_bench_rows
vblk_bench_rows
vnvme_bench_rows
bench_unfinished
echo "(ratio = minivmm / QEMU: below 1.00, minivmm costs less; for IOPS and MiB/s, above 1.00 is better)"
echo "raw results: $results"
