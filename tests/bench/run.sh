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
#   ovmf-reboot-ms                 the shell's "reset" to the next Shell>: a guest
#                                  reboot in place (both VMMs reboot in place)
#   sata-fio-*                     fio on a SATA disk of the ICH9 AHCI controller:
#                                  see tests/bench/sata.sh
#   install-*                      the nested install test's flow (installer
#                                  CD, reboot, installed system, power button):
#                                  see tests/bench/install.sh
#   msi-roundtrip, vfio-*          VFIO passthrough of QEMU's edu device: see
#                                  tests/bench/vfio.sh
#   fio-*                          virtio-blk: fio in a Linux guest booted from a
#                                  virtio-blk ESP, same image for both: see
#                                  tests/bench/virtio-blk.sh
#   nvme-fio-*                     the same fio jobs on an NVMe controller passed
#                                  through with VFIO: see tests/bench/vfio-nvme.sh
#   floor rows                     the exit rows against a bare KVM_RUN loop, the
#                                  virtio-blk rows against fio in L1 on the same
#                                  disk, and minivmm's --cpu-pm / --halt-poll
#                                  knobs: see tests/bench/floor.sh
#   idle-exits-*, fio-exits-*      KVM exits per second of a Linux guest, idle
#                                  and under fio, on Hyper-V's interface and
#                                  on KVM's: see tests/bench/hyperv.sh
#   sc-*, scfio-*                  what the confinement costs: the exit round
#                                  trips and the virtio-blk fio QD 1 job with
#                                  --seccomp on vs off (minivmm alone, ratio
#                                  on/off): see tests/bench/seccomp.sh
#   net-*                          virtio-net, vhost=on and off: iperf3 each way,
#                                  TCP request/response, VMM CPU per GiB: see
#                                  tests/bench/net.sh
#
#   tests/bench/run.sh             the table on stdout; raw results are kept
#   BENCH_RUNS=N                   repetitions per VMM (default 2, the order
#                                  of the VMMs rotated each round)
#   BENCH_FIO_TIMEOUT=S            seconds a fio guest may take (default 900)
#   BENCH_ROWS=core                only the short rows: the exit round trips,
#                                  ovmf-* (time, exits, RSS), empty-ms and the
#                                  virtio-blk fio QD 1 job; no VFIO edu, no
#                                  passed NVMe, no QD 32 or 128k write (and L1
#                                  without their devices and hugepages).
#                                  Default BENCH_ROWS=full: every row
#   BENCH_BASE=REV                 before/after: a third VMM, "base", REV's
#                                  minivmm (built on L0 from `git archive REV`,
#                                  nothing else of REV is used) doing what
#                                  minivmm does in the rows above but the VFIO
#                                  and NVMe ones; the table gains the columns
#                                  base and minivmm/base. A refactoring that
#                                  costs nothing shows minivmm/base near 1.00.
#                                  E.g. BENCH_BASE=main BENCH_ROWS=core (with
#                                  BENCH_RUNS=1 quicker, but one round is noisy)
set -euo pipefail
cd "$(dirname "$0")/../.."

QEMU_L2=${QEMU_L2:-qemu-system-x86_64}	# Debian's QEMU, run inside L1 with KVM
RUNS=${BENCH_RUNS:-2}
source tests/bench/table.sh
source tests/bench/vfio.sh
source tests/bench/virtio-blk.sh
source tests/bench/vfio-nvme.sh
source tests/bench/sata.sh
source tests/bench/install.sh
source tests/bench/hyperv.sh
source tests/bench/seccomp.sh
source tests/bench/net.sh
source tests/bench/floor.sh

if [[ ${MINIVMM_L1:-} == 1 ]]; then
	out=$MINIVMM_L1_OUT
	results=$out/results.txt
	: > "$results"
	source tests/nested/uefi-console.sh
	CONSOLE_DIR=$out

	# The same payload and the same devices for all: the payload's
	# serial, its test device, and nothing else that could exit.
	# payload_cmd VMM SERIAL [BIN]: the command line, in CMD. VMM "base"
	# is minivmm with BENCH_BASE's binary (bench_minivmm).
	# shellcheck disable=SC2054  # QEMU's options have commas
	payload_cmd() {
		local bin=${3:-tests/guest/bench.bin}
		case $1 in
		minivmm|base) CMD=("$(bench_minivmm "$1")" --firmware "$bin" --testdev --memory 512M --serial file:"$2") ;;
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
		minivmm|base) CMD=("$(bench_minivmm "$1")" --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2) ;;
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
		# The shell's "reset" (a cold reset through OVMF's ResetSystem):
		# both VMMs reboot in place; the time to the next prompt is what a
		# guest reboot costs (Windows Setup reboots several times).
		console_mark
		t0=$(now_ms)
		console_send "reset"
		if console_wait "Shell>" 300; then
			echo "$vmm ovmf-reboot-ms $(( $(now_ms) - t0 ))" >> "$results"
		else
			echo "bench: $vmm did not come back to Shell> after a reset" >&2
		fi
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
	# warm_up VMM: one start of VMM on the empty payload, kept out of the
	# results (its time goes to warm-up.txt), and OVMF.fd read once: the
	# first start in L1 reads the binary, its libraries and the payload
	# through virtfs, and without this the first VMM of round 1 alone paid
	# for it (BENCH_RUNS=1, BENCH_BASE=HEAD~3: empty-ms of minivmm, first,
	# 566 ms, of base, second, 310, with no C change between the two).
	warm_up() {
		local t0
		payload_cmd "$1" "$out/$1.warm-up.serial" tests/guest/bench-empty.bin
		t0=$(now_ms)
		"${CMD[@]}" < /dev/null > /dev/null 2>&1 || true
		echo "$1 warm-up-empty-ms $(( $(now_ms) - t0 ))" >> "$out/warm-up.txt"
		cat /usr/share/ovmf/OVMF.fd > /dev/null
	}
	vmms=(minivmm qemu)
	[[ -z ${BENCH_BASE_BIN:-} ]] || vmms=(minivmm base qemu)
	for v in "${vmms[@]}"; do warm_up "$v"; done
	# Rotate the order so no VMM always runs on a warmer (or colder) L1.
	# The VFIO and NVMe rows compare minivmm with QEMU only: base skips them.
	for ((r = 0; r < RUNS; r++)); do
		order=$(bench_order "$r" "${vmms[@]}")
		pair=$(bench_order "$r" minivmm qemu)
		for v in $order; do bench_empty "$v"; done
		for v in $order; do bench_payload "$v"; done
		floor_payload "$results"
		for v in $order; do bench_ovmf "$v"; done
		bench_core || for v in $pair; do vfio_bench "$v" "$results"; done
		for v in $order; do vblk_bench "$v" "$results"; done
		sc_bench minivmm "$results"
		floor_fio "$results"
		floor_knob_bench "$results"
		bench_core || for v in $pair; do sata_bench "$v" "$results"; done
		bench_core || for v in $order; do install_bench "$v" "$results"; done
		bench_core || for v in $pair; do vnvme_bench "$v" "$results"; done
		bench_core || for v in $pair; do hv_bench "$v" "$results"; done
		bench_core || for v in $pair; do net_bench "$v" "$results"; done
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
case ${BENCH_ROWS:=full} in
full|core) ;;
*) echo "bench: BENCH_ROWS=$BENCH_ROWS: want full or core" >&2; exit 1 ;;
esac
if [[ -n ${BENCH_BASE:-} ]]; then
	base_hash=$(git rev-parse --verify --quiet "$BENCH_BASE^{commit}") ||
		{ echo "bench: BENCH_BASE=$BENCH_BASE is not a revision of this repository" >&2; exit 1; }
	# For the table's header.
	BENCH_BASE_DESC="$BENCH_BASE = $(git log -1 --format='%h %s' "$base_hash")"
fi

# base_build COMMIT DIR: COMMIT's minivmm as DIR/minivmm, built in DIR/src
# from `git archive` (no worktree to prune if the run is cut short; removed
# after) with this make's flags; DIR/build.log keeps the build's output. Only
# the binary comes from COMMIT: the payloads, the fio guest and the scripts
# are this tree's, so both binaries run the same work.
base_build() {
	local commit=$1 dir=$2
	mkdir -p "$dir/src"
	git archive "$commit" | tar -x -C "$dir/src"
	if ! make -C "$dir/src" -j2 minivmm > "$dir/build.log" 2>&1; then
		rm -rf "$dir/src"
		echo "bench: BENCH_BASE=$BENCH_BASE_DESC does not build (make minivmm), see $dir/build.log" >&2
		exit 1
	fi
	cp "$dir/src/minivmm" "$dir/minivmm"
	rm -rf "$dir/src"
}

artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench.XXXXXX")
mkdir -p "$artifacts/out"
base_env=()
if [[ -n ${BENCH_BASE:-} ]]; then
	base_build "$base_hash" "$artifacts/base"
	# L1 runs it from the working tree, next to ./minivmm: the same
	# read-only, cached share (the out dir has no caching, which would
	# tilt start-up times). Ignored by git; gone after the run.
	cp "$artifacts/base/minivmm" minivmm-base
	trap 'rm -f minivmm-base' EXIT
	base_env=(--env BENCH_BASE_BIN=./minivmm-base)
fi
make -s minivmm guest tests/bench/kvm_floor tests/bench/uring_restrict
vblk_bench_prepare "$artifacts/out"
sc_bench_prepare "$artifacts/out"
bench_core || vnvme_bench_prepare "$artifacts/out"
bench_core || sata_bench_prepare "$artifacts/out"
bench_core || install_bench_prepare "$artifacts/out"
bench_core || hv_bench_prepare "$artifacts/out"
bench_core || net_bench_prepare "$artifacts/out"
# The core rows need neither edu nor the NVMe (nor 6 GiB and hugepages).
l1_args=$(vblk_bench_l1_args "$artifacts/out")
bench_core || l1_args="$(vfio_bench_l1_args) $l1_args $(vnvme_bench_l1_args "$artifacts/out")"
# shellcheck disable=SC2086  # the *_l1_args print separate options
tests/nested/run-l1.sh --quiet --timeout 7200 --log "$artifacts/l1.log" --out "$artifacts/out" \
	--env BENCH_RUNS="$RUNS" --env BENCH_FIO_TIMEOUT="${BENCH_FIO_TIMEOUT:-900}" \
	--env BENCH_ROWS="$BENCH_ROWS" "${base_env[@]}" $l1_args \
	-- bash tests/bench/run.sh ||
	{ echo "bench: L1 run failed, see $artifacts/l1.log" >&2; exit 1; }

results=$artifacts/out/results.txt
row_header "minivmm vs QEMU+KVM ($(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }')), same L1 run, $(date -u +%F), mean of $RUNS runs each"
row pio "PIO exit round trip (cycles)"
row mmio-write "MMIO write round trip (cycles)"
row mmio-read "MMIO read round trip (cycles)"
row ovmf-shell-ms "OVMF.fd to Shell> (ms)"
row ovmf-reboot-ms "  shell reset to Shell> again, in place (ms)"
row ovmf-exits "  KVM exits until Shell>"
row ovmf-exits-io "  port-I/O exits to userspace"
row ovmf-exits-mmio "  MMIO exits to userspace"
row ovmf-rss-kib "VMM resident memory at Shell> (KiB)"
row empty-ms "start to exit, empty payload (ms)"
bench_core || vfio_bench_rows
vblk_bench_rows
bench_core || sata_bench_rows
bench_core || install_bench_rows
bench_core || vnvme_bench_rows
bench_core || hv_bench_rows
sc_bench_rows
bench_core || net_bench_rows
floor_bench_rows
bench_unfinished
echo "(ratio = minivmm / QEMU: below 1.00, minivmm costs less; for IOPS and MiB/s, above 1.00 is better)"
[[ -z ${BENCH_BASE_DESC:-} ]] ||
	echo "(minivmm/base = this tree's minivmm / BENCH_BASE=$BENCH_BASE's, same reading; base binary: $artifacts/base/minivmm)"
echo "raw results: $results"
