# shellcheck shell=bash
# tests/bench/floor.sh — the floor rows of `make bench`: what the rows of the
# two VMMs are measured against, in the same L1 run.
#
#   floor pio / mmio-write / mmio-read
#       tests/bench/kvm_floor (a bare KVM_RUN loop: one VM, one vCPU, the
#       payload's ports and MMIO scratch answered inline) running the same
#       tests/guest/bench.bin as the exit rows: the least an exit costs here.
#   floor fio-JOB-iops|mibs|lat-us
#       fio run directly in L1 on /dev/vda, the disk both VMMs give their
#       guest, with the guest's job files (tests/nested/blk/*.fio: same block
#       size, queue depth, O_DIRECT, runtime) and ioengine=io_uring, the
#       engine both VMMs use on it: the most a VMM could pass through.
#   minivmm msi-cpupm-off|on
#       tests/guest/edu-bench.bin (passed edu), --pin 1, without and with
#       --cpu-pm on; "msi-cpupm-refused 1" where L1's KVM keeps HLT exits.
#   minivmm wake-hp-default|0|big-median|mean, wake-cpupm-median|mean,
#   minivmm hp-poll-ok-KNOB, hp-poll-tries-KNOB
#       tests/guest/latency.bin's wake-up latency of a halted vCPU (TSC
#       cycles past its TSC-deadline timer) with the kvm module's halt-poll
#       window, --halt-poll 0, --halt-poll 1000000 (1 ms), and --cpu-pm on
#       --pin 1; with KVM's halt_successful_poll / halt_attempted_poll.
#
# Sourced by tests/bench/run.sh (in L1 each round: floor_payload RESULTS after
# the VMMs' exit rows, floor_fio RESULTS after their virtio-blk rows,
# floor_knob_bench RESULTS; on L0 floor_bench_rows; the virtio-blk floor needs
# vblk_bench_l1_args' disk, the MSI rows its edu). Run alone, it also runs the
# VMMs' exit and virtio-blk rows it is compared with, and profiles both VMMs'
# QD 32 and 128 KiB jobs in L1 (KVM's counters, threads' CPU time and
# context switches: _floor_profile; FLOOR_PROFILE=0 to skip):
#     bash tests/bench/floor.sh

# floor_fio RESULTS: the guest's fio jobs, run in L1 on /dev/vda.
floor_fio() {
	local results=$1 out=$MINIVMM_L1_OUT j name log
	[[ -b /dev/vda ]] || { echo "bench: no /dev/vda in L1 for the fio floor" >&2; return; }
	log=$out/floor.fio.log
	: > "$log"
	for j in tests/nested/blk/*.fio; do
		name=$(basename "$j" .fio)
		bench_core && [[ $name != rr-qd1 ]] && continue
		sed 's/^ioengine=libaio/ioengine=io_uring/' "$j" > "$out/floor-$name.fio"
		if FIO_DEV=vda FIO_RUNTIME=${VBLK_FIO_RUNTIME:-20} \
			fio --output-format=json "$out/floor-$name.fio" > "$out/floor-$name.json" 2>> "$log"; then
			echo "MINIVMM-FIO $name $(tr -d '\n\t' < "$out/floor-$name.json")" >> "$log"
		fi
	done
	echo "MINIVMM-GUEST-DONE" >> "$log"
	fio_results floor fio "$log" >> "$results"
}

# floor_payload RESULTS: kvm_floor on the exit rows' payload. Run it next to
# the VMMs' own runs of it: on a loaded L0, minutes apart is another machine.
floor_payload() {
	local results=$1 serial=$MINIVMM_L1_OUT/floor.payload.serial
	tests/bench/kvm_floor tests/guest/bench.bin < /dev/null > "$serial" 2>&1 || true
	grep -a '^bench: pio' "$serial" | head -n1 |
		awk '{ for (i = 2; i < NF; i += 2) if ($i ~ /^(pio|mmio-write|mmio-read)$/) print "floor", $i, $(i + 1) }' \
		>> "$results"
}

# _floor_kstat LOG NAME: a "stats: kvm vcpu NAME N" value (0: absent).
_floor_kstat() { sed -n "s/^stats: kvm vcpu $2 \([0-9]*\).*/\1/p" "$1" | head -n1 | grep . || echo 0; }

floor_knob_bench() {
	local results=$1 out=$MINIVMM_L1_OUT knob log args
	# MSI round trip, --cpu-pm off and on (both pinned: only the knob differs).
	if [[ -e /sys/bus/pci/drivers/vfio-pci/$VFIO_BENCH_BDF ]]; then
		for knob in off on; do
			log=$out/msi-cpupm-$knob.log
			./minivmm --firmware tests/guest/edu-bench.bin --testdev --memory 256M --pin 1 \
				--cpu-pm "$knob" --vfio "$VFIO_BENCH_BDF" --serial "file:$log.serial" \
				< /dev/null > "$log" 2>&1 || true
			if grep -q "this host lets no idle exit be disabled" "$log"; then
				echo "minivmm msi-cpupm-refused 1" >> "$results"
				continue
			fi
			grep -a '^edu-bench: msi-roundtrip' "$log.serial" | head -n1 |
				awk -v k="$knob" '{ print "minivmm msi-cpupm-" k, $3 }' >> "$results"
		done
	fi
	# Wake-up latency of a halted vCPU under each halt knob.
	for knob in default 0 big cpupm; do
		case $knob in
		default) args=() ;;
		0) args=(--halt-poll 0) ;;
		big) args=(--halt-poll 1000000) ;;
		cpupm) args=(--cpu-pm on --pin 1) ;;
		esac
		log=$out/wake-$knob.log
		./minivmm --firmware tests/guest/latency.bin --testdev --stats "${args[@]}" \
			< /dev/null > "$log" 2>&1 || true
		grep -q "this host lets no idle exit be disabled" "$log" &&
			{ echo "minivmm wake-cpupm-refused 1" >> "$results"; continue; }
		{
			grep -a '^wake: ' "$log" | head -n1 |
				awk -v k="$knob" '{ for (i = 1; i < NF; i++) if ($i == "median" || $i == "mean") print "minivmm wake-" k "-" $i, $(i + 1) }'
			echo "minivmm hp-poll-ok-$knob $(_floor_kstat "$log" halt_successful_poll)"
			echo "minivmm hp-poll-tries-$knob $(_floor_kstat "$log" halt_attempted_poll)"
			echo "minivmm hp-halt-exits-$knob $(_floor_kstat "$log" halt_exits)"
		} >> "$results"
	done
}

# floor_row KEY LABEL: minivmm, QEMU, the floor, and the three ratios.
floor_row() {
	local m q f
	m=$(bench_mean minivmm "$1"); q=$(bench_mean qemu "$1"); f=$(bench_mean floor "$1")
	printf '%-34s %10s %10s %10s %8s %8s %8s\n' "$2" "$m" "$q" "$f" \
		"$(bench_ratio "$m" "$q")" "$(bench_ratio "$m" "$f")" "$(bench_ratio "$q" "$f")"
}

# knob_row KEY BASE-KEY LABEL: minivmm's KEY against its BASE-KEY run.
knob_row() {
	local a b
	a=$(bench_mean minivmm "$1"); b=$(bench_mean minivmm "$2")
	printf '%-50s %12s %12s %8s\n' "$3" "$a" "$b" "$(bench_ratio "$a" "$b")"
}

floor_bench_rows() {
	local k
	printf '\n%-34s %10s %10s %10s %8s %8s %8s\n' "against the floor" minivmm QEMU+KVM floor \
		"m/QEMU" "m/floor" "Q/floor"
	floor_row pio "PIO exit round trip (cycles)"
	floor_row mmio-write "MMIO write round trip (cycles)"
	floor_row mmio-read "MMIO read round trip (cycles)"
	floor_row fio-rr-qd1-iops "virtio-blk 4k randread QD1 (IOPS)"
	if ! bench_core; then
		floor_row fio-rr-qd32-iops "virtio-blk 4k randread QD32 (IOPS)"
		floor_row fio-sw-128k-mibs "virtio-blk 128k seq write QD8 (MiB/s)"
	fi
	printf '\n%-50s %12s %12s %8s\n' "minivmm's latency knobs" "with" "without" "ratio"
	if [[ $(bench_mean minivmm msi-cpupm-refused) != n/a ]]; then
		echo "edu MSI round trip, --cpu-pm on: refused by L1's KVM (no idle exit can be disabled)"
	else
		knob_row msi-cpupm-on msi-cpupm-off "edu MSI round trip (cycles), --cpu-pm on / off"
	fi
	for k in 0 big cpupm; do
		knob_row "wake-$k-median" wake-default-median "halted vCPU wake-up, median (cycles), $k / default"
	done
	for k in default 0 big cpupm; do
		printf '%-50s %12s %12s %8s\n' "  KVM halt polls ok / tried / halt exits, $k" \
			"$(bench_mean minivmm "hp-poll-ok-$k")" "$(bench_mean minivmm "hp-poll-tries-$k")" \
			"$(bench_mean minivmm "hp-halt-exits-$k")"
	done
}

# ---- run alone: the floor with the rows it is compared with --------------

# _floor_snap PID: "key value" lines: KVM's per-VM counters (debugfs) of
# PID's VM, CPU ticks (user+system) and context switches (voluntary,
# involuntary) of each of PID's threads, and L1's idle ticks.
_floor_snap() {
	local pid=$1 d f t
	for d in /sys/kernel/debug/kvm/"$pid"-*; do
		[[ -f $d/exits ]] || continue
		for f in "$d"/*; do
			[[ -f $f ]] && read -r t < "$f" 2> /dev/null && [[ $t =~ ^[0-9]+$ ]] && echo "kvm.${f##*/} $t"
		done
		break
	done
	for t in /proc/"$pid"/task/*; do
		awk -v t="${t##*/}" '{ sub(/^.*\) /, ""); print "cpu-ticks." t, $12 + $13 }' "$t/stat"
		awk -v t="${t##*/}" '/^voluntary_ctxt/ { print "csw-vol." t, $2 } /^nonvoluntary_ctxt/ { print "csw-invol." t, $2 }' "$t/status"
	done
	awk '$1 == "cpu" { print "l1.idle-ticks", $5; print "l1.busy-ticks", $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# _floor_profile VMM JOB: what 10 s of the guest's fio JOB under VMM cost in
# L1 (from 3 s after the guest announced the job): the differences of
# _floor_snap's counters, into OUT/prof-VMM-JOB.txt; with FLOOR_PERF=1 also
# a system-wide perf profile of the same 10 s (heavy under TCG: it slows
# the job it watches).
_floor_profile() {
	local vmm=$1 job=$2 out=$MINIVMM_L1_OUT serial i pid
	serial=$out/$vmm.fio.serial
	for ((i = 0; i < 1800; i++)); do
		grep -aq "fio $job.fio for" "$serial" 2>/dev/null && break
		sleep 1
	done
	sleep 3
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2> /dev/null || true
	case $vmm in
	qemu) pid=$(pgrep -n -x qemu-system-x86) || pid=$(pgrep -n -f "^${QEMU_L2:-qemu-system-x86_64} ") ;;
	*) pid=$(pgrep -n -x minivmm) ;;
	esac
	[[ -n $pid ]] || return 0
	_floor_snap "$pid" > "$out/prof-$vmm-$job.a"
	if [[ ${FLOOR_PERF:-0} == 1 ]]; then
		perf record -a -e cpu-clock -F 499 -o "$out/perf-$vmm-$job.data" -- sleep 10 \
			> /dev/null 2>> "$out/perf.log" || true
		perf report -i "$out/perf-$vmm-$job.data" --stdio --sort pid,comm,sym --percent-limit 0.5 \
			> "$out/perf-$vmm-$job.txt" 2>> "$out/perf.log" || true
		rm -f "$out/perf-$vmm-$job.data"
	else
		sleep 10
	fi
	_floor_snap "$pid" > "$out/prof-$vmm-$job.b"
	awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d) print $1, d }' \
		"$out/prof-$vmm-$job.a" "$out/prof-$vmm-$job.b" > "$out/prof-$vmm-$job.txt"
}

floor_vmm_payload() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT
	payload_cmd "$vmm" "$out/$vmm.payload.serial"
	"${CMD[@]}" < /dev/null > /dev/null 2>&1 || true
	grep -a '^bench: pio' "$out/$vmm.payload.serial" | head -n1 |
		awk -v v="$vmm" '{ for (i = 2; i < NF; i += 2) if ($i ~ /^(pio|mmio-write|mmio-read)$/) print v, $i, $(i + 1) }' \
		>> "$results"
}

floor_vmm_fio() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT pids=() job
	rm -f "$out/$vmm.fio.serial"
	if [[ ${FLOOR_PROFILE:-1} == 1 ]]; then
		for job in rr-qd32 sw-128k; do
			_floor_profile "$vmm" "$job" &
			pids+=($!)
		done
	fi
	vblk_bench "$vmm" "$results"
	for job in "${pids[@]}"; do kill "$job" 2> /dev/null || true; wait "$job" 2> /dev/null || true; done
	cp "$out/$vmm.fio.log" "$out/$vmm.fio.log.$(date +%s)" 2> /dev/null || true
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	QEMU_L2=${QEMU_L2:-qemu-system-x86_64}
	source tests/bench/table.sh
	source tests/bench/vfio.sh
	source tests/bench/virtio-blk.sh
	runs=${BENCH_RUNS:-2}
	if [[ ${MINIVMM_L1:-} == 1 ]]; then
		results=$MINIVMM_L1_OUT/results.txt
		: > "$results"
		# shellcheck disable=SC2054  # QEMU's options have commas
		payload_cmd() {
			case $1 in
			minivmm) CMD=(./minivmm --firmware tests/guest/bench.bin --testdev --memory 512M --serial file:"$2") ;;
			qemu)	 CMD=("$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -nodefaults
					-display none -bios tests/guest/bench.bin -serial file:"$2"
					-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4) ;;
			esac
		}
		for ((r = 0; r < runs; r++)); do
			# The floor between the two VMMs, alternately before and after each.
			for v in $(bench_order "$r" minivmm floor qemu); do
				if [[ $v == floor ]]; then floor_payload "$results"; else floor_vmm_payload "$v" "$results"; fi
			done
			for v in $(bench_order "$r" minivmm floor qemu); do
				if [[ $v == floor ]]; then floor_fio "$results"; else floor_vmm_fio "$v" "$results"; fi
			done
			floor_knob_bench "$results"
		done
		cat "$results"
		exit 0
	fi
	artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench-floor.XXXXXX")
	mkdir -p "$artifacts/out"
	make -s minivmm guest tests/bench/kvm_floor
	vblk_bench_prepare "$artifacts/out"
	# shellcheck disable=SC2046  # the L1 arguments are separate options
	tests/nested/run-l1.sh --quiet --timeout 5400 --log "$artifacts/l1.log" --out "$artifacts/out" \
		--env BENCH_RUNS="$runs" --env BENCH_FIO_TIMEOUT="${BENCH_FIO_TIMEOUT:-900}" \
		--env FLOOR_PROFILE="${FLOOR_PROFILE:-1}" --env FLOOR_PERF="${FLOOR_PERF:-0}" --env VBLK_FIO_RUNTIME="$VBLK_FIO_RUNTIME" \
		--pci-passthrough edu@0x10 $(vblk_bench_l1_args "$artifacts/out") \
		-- bash "$0" ||
		{ echo "bench: L1 run failed, see $artifacts/l1.log" >&2; exit 1; }
	results=$artifacts/out/results.txt
	row_header "floor rows with what they bound, same L1 run, mean of $runs runs"
	row fio-rr-qd32-lat-us "virtio-blk 4k randread QD32 latency (us)"
	row fio-sw-128k-lat-us "virtio-blk 128k seq write QD8 lat (us)"
	floor_bench_rows
	bench_unfinished
	echo "raw results: $artifacts/out (profiles: prof-VMM-JOB.txt)"
fi
