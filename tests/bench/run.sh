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
#
#   msi-roundtrip, vfio-*          VFIO passthrough of QEMU's edu device: see
#                                  tests/bench/vfio.sh
#   fio-*                          virtio-blk: fio in a Linux guest booted from a
#                                  virtio-blk ESP, same image for both: see
#                                  tests/bench/virtio-blk.sh
#
#   tests/bench/run.sh             the table on stdout; raw results are kept
#   BENCH_RUNS=N                   repetitions per VMM (default 2, alternating)
set -euo pipefail
cd "$(dirname "$0")/../.."

QEMU_L2=${QEMU_L2:-qemu-system-x86_64}	# Debian's QEMU, run inside L1 with KVM
RUNS=${BENCH_RUNS:-2}
source tests/bench/vfio.sh
source tests/bench/virtio-blk.sh

if [[ ${MINIVMM_L1:-} == 1 ]]; then
	out=$MINIVMM_L1_OUT
	results=$out/results.txt
	: > "$results"
	source tests/nested/uefi-console.sh
	CONSOLE_DIR=$out

	# The same payload and the same devices for both: the payload's
	# serial, its test device, and nothing else that could exit.
	payload_cmd() {
		case $1 in
		minivmm) echo ./minivmm --firmware tests/guest/bench.bin --testdev --serial file:"$2" ;;
		qemu)	 echo "$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -nodefaults \
				-display none -bios tests/guest/bench.bin -serial file:"$2" \
				-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 ;;
		esac
	}
	ovmf_cmd() {
		case $1 in
		minivmm) echo ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 ;;
		qemu)	 echo "$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -smp 2 -nodefaults \
				-display none -serial stdio -bios /usr/share/ovmf/OVMF.fd ;;
		esac
	}
	bench_payload() {
		local vmm=$1 serial=$out/$1.payload.serial
		$(payload_cmd "$vmm" "$serial") < /dev/null > /dev/null 2>&1 || true
		grep -a '^bench: pio' "$serial" | head -n1 |
			awk -v v="$vmm" '{ for (i = 2; i < NF; i += 2) if ($i ~ /^(pio|mmio-write|mmio-read)$/) print v, $i, $(i + 1) }' \
			>> "$results"
	}
	bench_ovmf() {
		local vmm=$1 t0 ms stats
		t0=$(now_ms)
		console_start "$vmm.ovmf" $(ovmf_cmd "$vmm")
		if ! console_wait "Shell>" 300; then
			console_send "reset -s"; console_finish 30
			echo "bench: $vmm did not reach Shell>" >&2
			return
		fi
		ms=$(( $(now_ms) - t0 ))
		stats=$(kvm_exit_stats "$CONSOLE_PID")
		console_send "reset -s"
		console_finish 60
		echo "$vmm ovmf-shell-ms $ms" >> "$results"
		read -r all io mmio <<< "$stats"
		echo "$vmm ovmf-exits $all" >> "$results"
		echo "$vmm ovmf-exits-io $io" >> "$results"
		echo "$vmm ovmf-exits-mmio $mmio" >> "$results"
	}
	# Alternate the order so neither VMM always runs on a warmer L1.
	for ((r = 0; r < RUNS; r++)); do
		if ((r % 2 == 0)); then order="minivmm qemu"; else order="qemu minivmm"; fi
		for v in $order; do bench_payload "$v"; done
		for v in $order; do bench_ovmf "$v"; done
		for v in $order; do vfio_bench "$v" "$results"; done
		for v in $order; do vblk_bench "$v" "$results"; done
	done
	cat "$results"
	exit 0
fi

artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench.XXXXXX")
mkdir -p "$artifacts/out"
make -s minivmm guest
vblk_bench_prepare "$artifacts/out"
tests/nested/run-l1.sh --quiet --timeout 5400 --log "$artifacts/l1.log" --out "$artifacts/out" \
	--env BENCH_RUNS="$RUNS" $(vfio_bench_l1_args) $(vblk_bench_l1_args "$artifacts/out") \
	-- bash tests/bench/run.sh ||
	{ echo "bench: L1 run failed, see $artifacts/l1.log" >&2; exit 1; }

results=$artifacts/out/results.txt
mean() { awk -v v="$1" -v k="$2" '$1 == v && $2 == k { s += $3; n++ } END { if (n) printf "%.0f", s / n; else print "n/a" }' "$results"; }

printf '\nminivmm vs QEMU+KVM (%s), same L1 run, %s, mean of %s runs each\n' \
	"$(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }')" "$(date -u +%F)" "$RUNS"
printf '%-34s %14s %14s %8s\n' "row" "minivmm" "QEMU+KVM" "ratio"
row() {
	local m q r
	m=$(mean minivmm "$1"); q=$(mean qemu "$1")
	r=$(awk -v m="$m" -v q="$q" 'BEGIN { if (q > 0 && m != "n/a") printf "%.2f", m / q; else print "n/a" }')
	printf '%-34s %14s %14s %8s\n' "$2" "$m" "$q" "$r"
}
row pio "PIO exit round trip (cycles)"
row mmio-write "MMIO write round trip (cycles)"
row mmio-read "MMIO read round trip (cycles)"
row ovmf-shell-ms "OVMF.fd to Shell> (ms)"
row ovmf-exits "  KVM exits until Shell>"
row ovmf-exits-io "  port-I/O exits to userspace"
row ovmf-exits-mmio "  MMIO exits to userspace"
vfio_bench_rows
vblk_bench_rows
echo "(ratio = minivmm / QEMU: below 1.00, minivmm costs less; for IOPS and MiB/s, above 1.00 is better)"
echo "raw results: $results"
