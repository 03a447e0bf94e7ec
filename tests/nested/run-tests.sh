#!/usr/bin/env bash
# tests/nested/run-tests.sh — run the nested test cases (tests/nested/cases/*.sh).
#
# Usage: tests/nested/run-tests.sh [-v] [-k] [-j N] [PATTERN...]
#   PATTERN   run only cases whose name contains one of these (e.g. smoke, 00-)
#   -v        verbose: show each case's output (and L1 consoles) as it runs (-j 1)
#   -k        keep the artifacts of passing cases too (failing ones are always kept)
#   -j N      run N cases at a time, each with its own L1 (default NESTED_JOBS, or
#             2 on a machine with 2 CPUs or more: an L1 runs on one TCG thread, so
#             two keep two cores busy); the longest cases first (each case's
#             "# nested-seconds: N" line, 60 where there is none)
#
# Each case runs on L0 from the repo root and boots L1 itself (through lib.sh's
# l1_run). Prints "PASS name (N s)" or "FAIL name (reason, log; N s)" per case, then the line
# "N passed, N failed"; exits non-zero if any case failed (or none matched). With -j,
# the lines come in the order the cases end.
# Environment: NESTED_ARTIFACTS (where case artifacts go; default a new temp dir),
# NESTED_CASE_TIMEOUT (seconds per case, default 1800), MINIVMM_CACHE (prepare.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
VERBOSE=0 KEEP=0 PATTERNS=() JOBS=${NESTED_JOBS:-}
while (( $# )); do
    case $1 in
        -v) VERBOSE=1 ;;
        -k) KEEP=1 ;;
        -j) JOBS=${2:-}; shift ;;
        -j*) JOBS=${1#-j} ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run-tests: unknown option $1" >&2; exit 2 ;;
        *) PATTERNS+=("$1") ;;
    esac
    shift
done

matches() {
    local name=$1 p
    (( ${#PATTERNS[@]} == 0 )) && return 0
    for p in "${PATTERNS[@]}"; do [[ $name == *"$p"* ]] && return 0; done
    return 1
}

cases=()
for f in "$HERE"/cases/*.sh; do
    [[ -f $f ]] && matches "$(basename "$f" .sh)" && cases+=("$f")
done
if [[ -z $JOBS ]]; then
    JOBS=1
    (( $(nproc) >= 2 )) && JOBS=2
fi
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "run-tests: -j $JOBS: want a number of cases at a time, 1 or more" >&2; exit 2; }
(( VERBOSE )) && JOBS=1
if (( JOBS > 1 )); then
    # Longest first, so the last ones to start are short (the suite ends
    # when its last case does).
    mapfile -t cases < <(for f in "${cases[@]}"; do
        s=$(sed -n 's/^# nested-seconds: \([0-9]*\).*/\1/p' "$f" | head -1)
        echo "${s:-60} $f"
    done | sort -k1,1nr -k2 | cut -d' ' -f2-)
fi
if (( ${#cases[@]} == 0 )); then
    echo "run-tests: no case matches '${PATTERNS[*]}'" >&2
    echo "0 passed, 0 failed"
    exit 1
fi

# Once for the whole run (builds QEMU on a cold cache, ~1 s when warm); the cases'
# run-l1.sh calls then skip it.
if ! "$HERE/prepare.sh" --quiet --no-paths; then
    echo "FAIL prepare (tests/nested/prepare.sh failed)"
    echo "0 passed, 1 failed"
    exit 1
fi
export MINIVMM_NESTED_PREPARED=1

ARTIFACTS=${NESTED_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/minivmm-nested.XXXXXX")}
mkdir -p "$ARTIFACTS"
echo "nested tests: ${#cases[@]} case(s), $JOBS at a time, artifacts in $ARTIFACTS"

# run_case FILE DIR: run one case with its artifacts in DIR; its status.
run_case() {
    local f=$1 dir=$2 rc
    rm -rf "$dir"; mkdir -p "$dir"
    export NESTED_CASE=$name NESTED_CASE_DIR=$dir NESTED_REASON_FILE=$dir/reason
    export NESTED_VERBOSE=$VERBOSE
    set +e
    if (( VERBOSE )); then
        (cd "$REPO_ROOT" && timeout -k 10 "${NESTED_CASE_TIMEOUT:-1800}" bash "$f") 2>&1 | tee "$dir/case.log"
        rc=${PIPESTATUS[0]}
    else
        (cd "$REPO_ROOT" && timeout -k 10 "${NESTED_CASE_TIMEOUT:-1800}" bash "$f") > "$dir/case.log" 2>&1
        rc=$?
    fi
    set -e
    return "$rc"
}

# A guest that triple-faulted. In this environment (nested SVM emulated by
# TCG) a guest now and then triple-faults while idle — OVMF at its shell
# countdown, Linux in its idle loop — in no case in particular and never
# twice in a row (docs/nested-testing.md, "Known flake"). minivmm ends on a
# guest reset (status 3) where QEMU would reboot the guest, so such a case
# fails; it gets one more try, and the output says so.
triple_faulted() {
    grep -rqa --include='*.log' --include='*.out' --include='*.txt' "triple fault" "$1"
}

# case_job FILE: run one case (and its retry), print its PASS/FAIL line, leave
# its outcome in ARTIFACTS/NAME.outcome ("pass", "fail" and/or "retried").
case_job() {
    local f=$1 name dir t0=$SECONDS rc retry="" reason
    name=$(basename "$f" .sh)
    dir=$ARTIFACTS/$name
    : > "$dir.outcome"
    rc=0; run_case "$f" "$dir" || rc=$?
    if (( rc != 0 )) && triple_faulted "$dir"; then
        echo "RETRY $name (the guest triple-faulted: a known flake of this environment; first try kept in $dir.try1)"
        rm -rf "$dir.try1"; mv "$dir" "$dir.try1"
        echo retried >> "$dir.outcome"
        retry=" (on a second try)"
        rc=0; run_case "$f" "$dir" || rc=$?
    fi
    if (( rc == 0 )); then
        echo pass >> "$dir.outcome"
        echo "PASS $name$retry ($((SECONDS - t0)) s)"
        (( KEEP )) || rm -rf "$dir"
    else
        echo fail >> "$dir.outcome"
        if [[ -s $dir/reason ]]; then
            reason=$(head -1 "$dir/reason")
            [[ $reason == *"$dir"* ]] || reason+=", $dir/case.log"
        elif (( rc == 124 )); then
            reason="case timed out after ${NESTED_CASE_TIMEOUT:-1800}s, $dir/case.log"
        else
            reason="exit status $rc: $(tail -1 "$dir/case.log"), $dir/case.log"
        fi
        echo "FAIL $name$retry ($reason; $((SECONDS - t0)) s)"
    fi
}

start=$SECONDS running=0
for f in "${cases[@]}"; do
    if (( running >= JOBS )); then
        wait -n || true
        running=$((running - 1))
    fi
    case_job "$f" &
    running=$((running + 1))
done
wait
passed=0 failed=0 retried=0 failed_dirs=()
for f in "${cases[@]}"; do
    dir=$ARTIFACTS/$(basename "$f" .sh)
    grep -qx retried "$dir.outcome" && retried=$((retried + 1))
    if grep -qx pass "$dir.outcome"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_dirs+=("$dir")
    fi
    rm -f "$dir.outcome"
done
# What a failure looked like, right above the summary: CI shows the end of
# the output, and the artifacts stay on the CI machine.
for dir in "${failed_dirs[@]}"; do
    log=$dir/case.log
    for f in "$dir"/l1-*.log; do [[ -f $f ]] && log=$f; done	# the last L1 boot
    echo "--- $(basename "$dir"): the last lines of $(basename "$log") ---"
    tr -d '\033' < "$log" | sed 's/\[[0-9;]*[A-Za-z]//g' | tr '\r' '\n' |
        { grep -av '^[[:space:]]*$' || true; } | tail -n 30 | cut -c1-200 | sed 's/^/  /'
done
echo "nested tests took $((SECONDS - start))s"
(( retried )) && echo "$retried case(s) retried after a guest triple fault (see RETRY above)"
echo "$passed passed, $failed failed"
(( failed == 0 ))
