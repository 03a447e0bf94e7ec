#!/usr/bin/env bash
# Run libFuzzer targets (tests/fuzz/build/fuzz_NAME) and finish with one
# summary line, "fuzz: N passed, N failed", counted over targets.
#
#   run.sh [--long] [--seconds N] [--jobs J] NAME...
#
# Default (make check-fuzz): each target for N seconds on a scratch copy of
# its committed seeds (tests/fuzz/corpus/NAME is never written), so the
# run is a short smoke test plus a replay of every seed and reproducer.
# --long (make fuzz): the corpus grows in tests/fuzz/build/corpus/NAME and
# survives between runs; merge what is worth keeping into the committed
# seeds by hand (docs/fuzzing.md).
#
# A target fails if libFuzzer reports a crash, a sanitizer error, a leak,
# a timeout or running out of memory; the input is saved under
# tests/fuzz/build/artifacts/NAME/ and the log under tests/fuzz/build/logs/.
set -u
cd "$(dirname "$0")/../.." || exit 2

long=0 seconds=10 jobs=2
while [ $# -gt 0 ]; do
	case "$1" in
	--long) long=1 ;;
	--seconds) seconds="$2"; shift ;;
	--jobs) jobs="$2"; shift ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || { echo "usage: run.sh [--long] [--seconds N] [--jobs J] NAME..." >&2; exit 2; }
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

build=tests/fuzz/build
mkdir -p "$build/logs"
# A smaller ASan quarantine than the default 256 MiB: two targets run at
# once on a 2-core CI machine, and a long run would otherwise grow to
# ~1 GiB each. Use-after-free detection keeps 64 MiB of freed memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}"

run_one() {
	local name=$1 bin=$build/fuzz_$1 seeds=tests/fuzz/corpus/$1 work
	local log=$build/logs/$1.log art=$build/artifacts/$1/

	mkdir -p "$art" "$seeds"
	if [ "$long" = 1 ]; then
		work=$build/corpus/$name
		mkdir -p "$work"
	else
		work=$build/check/$name
		rm -rf "$work"
		mkdir -p "$work"
	fi
	# -timeout: one input may not take 25 s (a hang); -rss_limit_mb: the
	# targets hold 64 MiB of guest RAM, far below the limit.
	"$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art" \
		"$work" "$seeds" >"$log" 2>&1
	echo $? >"$build/logs/$name.rc"
}

summary() {
	local name=$1 log=$build/logs/$1.log rc runs eps cov ft corp
	rc=$(cat "$build/logs/$name.rc" 2>/dev/null || echo 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	if [ "$rc" = 0 ]; then
		printf 'fuzz_%-11s ok: %s runs, %s exec/s, cov %s, ft %s, corpus %s\n' \
			"$name" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
		return 0
	fi
	printf 'fuzz_%-11s FAILED (status %s); log %s\n' "$name" "$rc" "$log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz invariant|.*runtime error)|Test unit written' \
		"$log" | head -n 8 | sed 's/^/    /'
	return 1
}

passed=0 failed=0 running=0
for name in "$@"; do
	if [ ! -x "$build/fuzz_$name" ]; then
		echo "fuzz_$name: not built (make fuzz-build)"
		echo 127 >"$build/logs/$name.rc"
		continue
	fi
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$name" &
	running=$((running + 1))
done
wait

for name in "$@"; do
	if summary "$name"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
