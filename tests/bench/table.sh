# shellcheck shell=bash
# tests/bench/table.sh — the table of `make bench` and of the benchmark
# scripts run alone: "VMM key value" lines in $results in, rows out.
#
#   bench_mean VMM KEY    the mean of KEY's values for VMM ("n/a" if none)
#   row KEY LABEL         one row: LABEL, minivmm's mean, QEMU's, and the ratio;
#                         with $BENCH_BASE_DESC set (run.sh, BENCH_BASE=REV),
#                         also the base binary's mean and minivmm/base, for a
#                         row that has base values
#   row_header TITLE      the title and the column heads
#   bench_order R VMM...  the VMMs of round R: the list rotated left by R, so
#                         that none always goes first (on a warmer or a colder L1)
#   bench_core            true for BENCH_ROWS=core (only the short core rows)
#   bench_minivmm VMM     the binary VMM "minivmm" or "base" runs (in L1)

# $results: the raw results file, set by the script that sources this one.
bench_mean() {
	# shellcheck disable=SC2154
	awk -v v="$1" -v k="$2" '$1 == v && $2 == k { s += $3; n++ }
		END { if (!n) print "n/a"; else if (s / n < 100) printf "%.1f", s / n; else printf "%.0f", s / n }' "$results"
}

# bench_ratio A B: A / B to two places, "n/a" if either is missing (a
# missing B once gave "inf": "n/a" > 0 is a string comparison in awk).
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "n/a" && b != "n/a" && b > 0) printf "%.2f", a / b; else print "n/a" }'
}

row() {
	local m q b
	m=$(bench_mean minivmm "$1"); q=$(bench_mean qemu "$1")
	printf '%-38s %14s %14s %8s' "$2" "$m" "$q" "$(bench_ratio "$m" "$q")"
	# The base columns only where the base binary ran (not the VFIO rows).
	if [[ -n ${BENCH_BASE_DESC:-} ]] && b=$(bench_mean base "$1") && [[ $b != n/a ]]; then
		printf ' %14s %12s' "$b" "$(bench_ratio "$m" "$b")"
	fi
	printf '\n'
}

row_header() {
	printf '\n%s\n' "$1"
	if [[ -n ${BENCH_BASE_DESC:-} ]]; then
		printf 'base: %s\n' "$BENCH_BASE_DESC"
		printf '%-38s %14s %14s %8s %14s %12s\n' "row" "minivmm" "QEMU+KVM" "ratio" "base" "minivmm/base"
	else
		printf '%-38s %14s %14s %8s\n' "row" "minivmm" "QEMU+KVM" "ratio"
	fi
}

bench_order() {
	local r=$1 i
	shift
	local vmms=("$@")
	for ((i = 0; i < ${#vmms[@]}; i++)); do
		printf '%s ' "${vmms[(i + r) % ${#vmms[@]}]}"
	done
}

bench_core() { [[ ${BENCH_ROWS:-full} == core ]]; }

# $BENCH_BASE_BIN: the base revision's minivmm, given to L1 by run.sh.
bench_minivmm() {
	if [[ $1 == base ]]; then echo "$BENCH_BASE_BIN"; else echo ./minivmm; fi
}

# bench_alone PREFIX TITLE: run one benchmark script's rows alone, in an L1 of
# their own, the script being $0 (sourced by it, run from the repository's
# top). PREFIX names its functions: PREFIX_bench_prepare OUT (on L0),
# PREFIX_bench_l1_args OUT, PREFIX_bench VMM RESULTS (in L1, run BENCH_RUNS
# times per VMM, alternating which goes first), PREFIX_bench_rows.
bench_alone() {
	local prefix=$1 title=$2 runs=${BENCH_RUNS:-2} artifacts order r v
	if [[ ${MINIVMM_L1:-} == 1 ]]; then
		results=$MINIVMM_L1_OUT/results.txt
		: > "$results"
		for ((r = 0; r < runs; r++)); do
			order=$(bench_order "$r" minivmm qemu)
			for v in $order; do "${prefix}_bench" "$v" "$results"; done
		done
		cat "$results"
		return 0
	fi
	artifacts=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-bench-$prefix.XXXXXX")
	mkdir -p "$artifacts/out"
	make -s minivmm
	"${prefix}_bench_prepare" "$artifacts/out"
	# shellcheck disable=SC2046  # the L1 arguments are separate options
	tests/nested/run-l1.sh --quiet --timeout 3000 --log "$artifacts/l1.log" --out "$artifacts/out" \
		--env BENCH_RUNS="$runs" --env BENCH_FIO_TIMEOUT="${BENCH_FIO_TIMEOUT:-900}" \
		$("${prefix}_bench_l1_args" "$artifacts/out") \
		-- bash "$0" ||
		{ echo "bench: L1 run failed, see $artifacts/l1.log" >&2; return 1; }
	results=$artifacts/out/results.txt
	row_header "$title, same L1 run, mean of $runs runs"
	"${prefix}_bench_rows"
	bench_unfinished
	echo "raw results: $artifacts/out (ratio = minivmm / QEMU)"
}

# bench_unfinished: a line for each guest run that did not finish (its rows
# are missing from the means above: they are of the runs that finished).
bench_unfinished() {
	awk '$2 ~ /-unfinished$/ { n[$1 " " $2]++ }
		END { for (k in n) { split(k, a, " "); sub(/-unfinished$/, "", a[2])
			printf "note: %d %s guest run(s) under %s did not finish: the %s-* means are of the other runs\n", n[k], a[2], a[1], a[2] } }' "$results"
}
