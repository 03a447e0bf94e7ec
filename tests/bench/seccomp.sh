# shellcheck shell=bash
# tests/bench/seccomp.sh — the confinement rows of `make bench`: what the
# seccomp filters (and the io_uring rings' restrictions, which are set up with
# them) cost on the two hottest paths, minivmm with `--seccomp on` against
# `--seccomp off` in the same L1 run:
#
#   sc-pio-MODE, sc-mmio-write-MODE, sc-mmio-read-MODE   the exit round trips of
#                                 tests/guest/bench.bin (TSC cycles in the
#                                 guest, 100000 each), as the pio rows
#   scfio-MODE-rr-qd1-iops / -lat-us   the fio guest of tests/bench/virtio-blk.sh,
#                                 its 4 KiB random read at QD 1 on L1's
#                                 /dev/vda (direct=on): every request crosses
#                                 a filtered io_uring_enter and an eventfd write
#   uring-restrict                on L0, tests/bench/uring_restrict: 4 KiB cached
#                                 reads on a ring set up as the block engine's,
#                                 restricted vs not (the restrictions stay on
#                                 with --seccomp off, so the rows above do not
#                                 see them); ns per read and the ratio
#
# The two modes alternate which goes first from round to round. QEMU has no
# part in these rows (the ratio is on/off; 1.00 is free).
#
# Sourced by tests/bench/run.sh (after virtio-blk.sh, whose fio_guest_esp,
# fio_results and /dev/vda it uses): sc_bench_prepare OUT on L0, sc_bench VMM
# RESULTS in L1 (minivmm only), sc_bench_rows on L0. Alone:
# bash tests/bench/seccomp.sh

SC_ROUND=0

sc_bench_prepare() {
	BLK_FIO_JOBS=rr-qd1 fio_guest_esp "$1" esp-scfio.img bench-disk.img \
		minivmm.fio_runtime="${VBLK_FIO_RUNTIME:-20}"
}

sc_bench_l1_args() { vblk_bench_l1_args "$1"; }

# sc_payload MODE RESULTS (in L1): the exit round trips with --seccomp MODE.
sc_payload() {
	local mode=$1 results=$2 serial=$MINIVMM_L1_OUT/sc-$1.payload.serial
	rm -f "$serial"
	./minivmm --firmware tests/guest/bench.bin --testdev --memory 512M --serial "file:$serial" \
		--seccomp "$mode" < /dev/null > /dev/null 2>&1 || true
	grep -a '^bench: pio' "$serial" | head -n1 |
		awk -v m="$mode" '{ for (i = 2; i < NF; i += 2) if ($i ~ /^(pio|mmio-write|mmio-read)$/) print "minivmm", "sc-" $i "-" m, $(i + 1) }' \
		>> "$results"
}

# sc_fio MODE RESULTS (in L1): the fio guest with --seccomp MODE.
sc_fio() {
	local mode=$1 results=$2 out=$MINIVMM_L1_OUT serial
	serial=$out/sc-$mode.fio.serial
	[[ -b /dev/vda ]] || { echo "bench: no /dev/vda in L1 for the seccomp fio rows" >&2; return; }
	rm -f "$serial"
	timeout "${BENCH_FIO_TIMEOUT:-900}" ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 --memory 512M \
		--disk path=/dev/vda,direct=on --disk "path=$out/esp-scfio.img,readonly=on" \
		--serial "file:$serial" --seccomp "$mode" < /dev/null > "$out/sc-$mode.fio.log" 2>&1 || true
	fio_results minivmm "scfio-$mode" "$serial" >> "$results"
}

sc_bench() {
	local modes=(on off) m
	[[ $1 == minivmm ]] || return 0
	(( SC_ROUND++ % 2 )) && modes=(off on)
	for m in "${modes[@]}"; do sc_payload "$m" "$2"; done
	for m in "${modes[@]}"; do sc_fio "$m" "$2"; done
}

# sc_row ON-KEY OFF-KEY LABEL: the two keys' means (minivmm) and on / off.
sc_row() {
	local on off
	on=$(bench_mean minivmm "$1"); off=$(bench_mean minivmm "$2")
	printf '%-38s %14s %14s %8s\n' "$3" "$on" "$off" "$(bench_ratio "$on" "$off")"
}

sc_bench_rows() {
	printf '\n%s\n' "confinement: minivmm --seccomp on vs off, same L1 run"
	printf '%-38s %14s %14s %8s\n' "row" "seccomp on" "seccomp off" "on/off"
	sc_row sc-pio-on sc-pio-off "PIO exit round trip (cycles)"
	sc_row sc-mmio-write-on sc-mmio-write-off "MMIO write round trip (cycles)"
	sc_row sc-mmio-read-on sc-mmio-read-off "MMIO read round trip (cycles)"
	sc_row scfio-on-rr-qd1-iops scfio-off-rr-qd1-iops "fio 4k randread QD1 (IOPS)"
	sc_row scfio-on-rr-qd1-lat-us scfio-off-rr-qd1-lat-us "fio 4k randread QD1 latency (us)"
	sc_uring_row
}

# The io_uring restrictions alone, on L0 (no KVM needed): a 128 MiB file in
# the page cache, 9 alternating rounds, the medians.
sc_uring_row() {
	local f line
	make -s tests/bench/uring_restrict || return 1
	f=$(mktemp /tmp/minivmm-uring-restrict.XXXXXX)
	head -c $((128 << 20)) /dev/urandom > "$f"
	line=$(tests/bench/uring_restrict "$f" 9) || line=
	rm -f "$f"
	read -r _ _ plain _ restricted _ ratio _ <<< "${line:-x x - x - x - x}"
	printf '%-38s %14s %14s %8s\n' "io_uring 4k read, restricted ring (ns)" "$restricted" "$plain" "$ratio"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	source tests/bench/virtio-blk.sh
	bench_alone sc "minivmm --seccomp on vs off"
fi
