# shellcheck shell=bash
# tests/bench/table.sh — the table of `make bench` and of the benchmark
# scripts run alone: "VMM key value" lines in $results in, rows out.
#
#   bench_mean VMM KEY    the mean of KEY's values for VMM ("n/a" if none)
#   row KEY LABEL         one row: LABEL, minivmm's mean, QEMU's, and the ratio
#   row_header TITLE      the title and the column heads

# $results: the raw results file, set by the script that sources this one.
bench_mean() {
	# shellcheck disable=SC2154
	awk -v v="$1" -v k="$2" '$1 == v && $2 == k { s += $3; n++ }
		END { if (!n) print "n/a"; else if (s / n < 100) printf "%.1f", s / n; else printf "%.0f", s / n }' "$results"
}

row() {
	local m q r
	m=$(bench_mean minivmm "$1"); q=$(bench_mean qemu "$1")
	r=$(awk -v m="$m" -v q="$q" 'BEGIN { if (q > 0 && m != "n/a") printf "%.2f", m / q; else print "n/a" }')
	printf '%-38s %14s %14s %8s\n' "$2" "$m" "$q" "$r"
}

row_header() {
	printf '\n%s\n' "$1"
	printf '%-38s %14s %14s %8s\n' "row" "minivmm" "QEMU+KVM" "ratio"
}
