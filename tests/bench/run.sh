#!/usr/bin/env bash
# make bench: minivmm and QEMU+KVM side by side on identical work, in one run
# of the nested environment (real KVM inside L1), printed as a table of
# ratios. Absolute times inside L1 are TCG-slow and mean little; the ratio
# of the two VMMs measured in the same L1 boot is the figure.
#
#   tests/bench/run.sh [--out FILE]    (default: print, and keep the raw
#                                       results in the artifacts dir)
set -euo pipefail
cd "$(dirname "$0")/../.."

QEMU_L2=${QEMU_L2:-qemu-system-x86_64}	# Debian's QEMU, run inside L1 with KVM

if [[ ${MINIVMM_L1:-} == 1 ]]; then
	out=$MINIVMM_L1_OUT
	# bench_payload NAME ARGS...: run tests/guest/bench.bin, keep its line.
	bench_minivmm() {
		./minivmm --firmware tests/guest/bench.bin --testdev --serial file:"$out/minivmm.serial" \
			< /dev/null || true
		grep -a '^bench: pio' "$out/minivmm.serial" | head -n1 > "$out/minivmm.bench"
	}
	bench_qemu() {
		# -machine q35 with the exact devices the payload uses, nothing else
		# that would exit: no VGA, no NIC, no default devices.
		"$QEMU_L2" -accel kvm -machine q35 -cpu host -m 512M -nodefaults -display none \
			-bios tests/guest/bench.bin -serial file:"$out/qemu.serial" \
			-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
			< /dev/null || true
		grep -a '^bench: pio' "$out/qemu.serial" | head -n1 > "$out/qemu.bench"
	}
	# Alternate the order so neither VMM always runs on a warmer L1.
	bench_minivmm
	bench_qemu
	cp "$out/minivmm.bench" "$out/minivmm.bench.1"; cp "$out/qemu.bench" "$out/qemu.bench.1"
	bench_qemu
	bench_minivmm
	cat "$out"/*.bench*
	exit 0
fi

artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench.XXXXXX")
mkdir -p "$artifacts/out"
make -s minivmm guest
tests/nested/run-l1.sh --quiet --timeout 1800 --log "$artifacts/l1.log" --out "$artifacts/out" \
	-- bash tests/bench/run.sh || { echo "bench: L1 run failed, see $artifacts/l1.log" >&2; exit 1; }

# "bench: pio P mmio-write W mmio-read R tsc-cycles iters N"
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }
avg() { awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n }'; }

printf '\nminivmm vs QEMU+KVM, same payload (tests/guest/bench.bin), same L1 run, %s\n' "$(date -u +%F)"
printf '%-28s %14s %14s %10s\n' "cost per operation" "minivmm" "QEMU+KVM" "ratio"
for k in pio mmio-write mmio-read; do
	m=$( { field "$artifacts/out/minivmm.bench" "$k"; field "$artifacts/out/minivmm.bench.1" "$k"; } | avg)
	q=$( { field "$artifacts/out/qemu.bench" "$k"; field "$artifacts/out/qemu.bench.1" "$k"; } | avg)
	r=$(awk -v m="$m" -v q="$q" 'BEGIN { if (q > 0) printf "%.2f", m / q; else print "n/a" }')
	printf '%-28s %10s cyc %10s cyc %10s\n' "$k exit round trip" "$m" "$q" "$r"
done
echo "(ratio = minivmm / QEMU; below 1.00 means minivmm is faster; TSC cycles in L2, mean of 2 runs each)"
echo "raw results: $artifacts/out"
