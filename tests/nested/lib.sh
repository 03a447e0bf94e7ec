# shellcheck shell=bash
# tests/nested/lib.sh — helpers for nested test cases (tests/nested/cases/*.sh).
#
# A case is a bash script run ON L0 (by run-tests.sh, from the repo root) that boots
# L1 as often as it needs through l1_run and then asserts on the result:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   source "$(dirname "$0")/../lib.sh"
#   l1_run --pci-passthrough edu@0x10 -- ./minivmm --firmware tests/guest/x.bin --testdev
#   assert_rc 0
#   assert_log_contains "hello from L2"
#
# On L0 (the case itself):
#   l1_run [run-l1.sh options] -- COMMAND [ARGS...]
#       Boot L1 and run COMMAND there (see run-l1.sh for the options). Never fails by
#       itself: sets L1_RC (COMMAND's exit status; 124 = L1 timed out, 125 = L1 did
#       not run COMMAND) and L1_LOG (the console log of this run, which holds
#       COMMAND's stdout/stderr). Console is logged, not shown (NESTED_VERBOSE=1 shows).
#       --out is $NESTED_OUT and --log is $NESTED_CASE_DIR/l1-N.log unless given.
#   assert_rc N                     L1_RC must be N
#   assert_log_contains STRING      fixed STRING occurs in L1_LOG
#   assert_log_not_contains STRING
#   assert_log_matches REGEX        extended regex matches a line of L1_LOG
#   assert_file_contains FILE STRING
#   fail MESSAGE                    fail the case with this reason
#   NESTED_OUT      writable dir shared with L1 at the same path: put generated
#                   inputs (disk images, payloads) here; L1 writes results here
#   NESTED_CASE_DIR this case's artifacts dir (logs); NESTED_CASE its name
#   NESTED_CASE_FILE absolute path of the case script (to re-run it inside L1)
#
# Inside L1 (a case may run itself there: `l1_run -- bash "$NESTED_CASE_FILE"`, and
# branch on `if in_l1; then ...`):
#   in_l1                           true inside L1
#   check DESCRIPTION COMMAND...    run COMMAND; print "ok: DESCRIPTION" or fail
#   fail MESSAGE                    prints "NESTED-FAIL: MESSAGE" to the console and
#                                   exits 1; assert_rc on L0 quotes it as the reason
#
# The working directory is the repo root both on L0 and in L1.

NESTED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$NESTED_DIR/../.." && pwd)
# shellcheck disable=SC2034  # for the cases
NESTED_CASE_FILE=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

in_l1() { [[ ${MINIVMM_L1:-} == 1 ]]; }

fail() {
    if in_l1; then
        echo "NESTED-FAIL: $*"
    else
        echo "FAIL: $*" >&2
        printf '%s\n' "$*" > "$NESTED_REASON_FILE"
    fi
    exit 1
}

check() {
    local what=$1; shift
    if "$@"; then
        echo "ok: $what"
    else
        fail "$what (command: $*)"
    fi
}

cd "$REPO_ROOT"
if ! in_l1; then
    # run-tests.sh sets these; a case started by hand gets a fresh temp dir.
    NESTED_CASE=${NESTED_CASE:-$(basename "$0" .sh)}
    if [[ -z ${NESTED_CASE_DIR:-} ]]; then
        NESTED_CASE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-nested-$NESTED_CASE.XXXXXX")
        echo "case artifacts: $NESTED_CASE_DIR" >&2
    fi
    NESTED_REASON_FILE=${NESTED_REASON_FILE:-$NESTED_CASE_DIR/reason}
    NESTED_OUT=$NESTED_CASE_DIR/out
    mkdir -p "$NESTED_OUT"
fi
L1_RUNS=0
L1_RC=""
L1_LOG=""

l1_run() {
    L1_RUNS=$((L1_RUNS + 1))
    L1_LOG=$NESTED_CASE_DIR/l1-$L1_RUNS.log
    local quiet=(--quiet) errexit=0
    [[ ${NESTED_VERBOSE:-0} == 1 ]] && quiet=()
    [[ $- == *e* ]] && errexit=1
    set +e
    # Our --log/--out come first so that a case's own ones win.
    "$NESTED_DIR/run-l1.sh" "${quiet[@]}" --log "$L1_LOG" --out "$NESTED_OUT" "$@"
    L1_RC=$?
    (( errexit )) && set -e
    echo "l1_run #$L1_RUNS: status $L1_RC, console log $L1_LOG"
    return 0
}

# Why L1 did not give COMMAND's status, from the console log.
_l1_trouble() {
    local line
    if line=$(grep -a -m1 '^MINIVMM-L1-FAILED: ' "$L1_LOG"); then
        echo "L1 setup failed: ${line#MINIVMM-L1-FAILED: }"
    elif grep -aq 'Kernel panic' "$L1_LOG"; then
        echo "L1 kernel panicked"
    elif line=$(grep -a 'assertion failed\|^qemu-system-x86_64: ' "$L1_LOG" |
                grep -v "TCG doesn't support" | head -1) && [[ -n $line ]]; then
        echo "L1's QEMU failed: $line"
    else
        echo "L1 ended without running COMMAND to the end"
    fi
}

assert_rc() {
    local want=$1 why line
    [[ -n $L1_LOG ]] || fail "assert_rc before any l1_run"
    [[ $L1_RC == "$want" ]] && return 0
    case $L1_RC in
        124) why="L1 timed out" ;;
        125) why=$(_l1_trouble) ;;
        *)   why="COMMAND exit status $L1_RC, expected $want" ;;
    esac
    if line=$(grep -a -m1 '^NESTED-FAIL: ' "$L1_LOG"); then
        why+=": ${line#NESTED-FAIL: }"
    fi
    fail "$why, $L1_LOG"
}

assert_log_contains() {
    grep -aqF -- "$1" "$L1_LOG" || fail "console lacks '$1', $L1_LOG"
}

assert_log_not_contains() {
    ! grep -aqF -- "$1" "$L1_LOG" || fail "console has '$1', $L1_LOG"
}

assert_log_matches() {
    grep -aqE -- "$1" "$L1_LOG" || fail "console matches no /$1/, $L1_LOG"
}

assert_file_contains() {
    [[ -f $1 ]] || fail "$1 does not exist"
    grep -aqF -- "$2" "$1" || fail "$1 lacks '$2'"
}

# Inside L1: run minivmm and check what it did.
#   run_cmd EXPECTED_STATUS CMD...  CMD with stdin closed; its output goes to
#                                 $log (and, indented, to the console); fails
#                                 the case on another exit status
#   run EXPECTED_STATUS ARGS...   run_cmd EXPECTED_STATUS ./minivmm ARGS...
#   has STRING                    the last run's output holds STRING
log=${MINIVMM_L1_OUT:-/tmp}/minivmm.log
run_cmd() {
	local want=$1 rc; shift
	set +e
	timeout 300 "$@" > "$log" 2>&1 < /dev/null
	rc=$?
	set -e
	echo "--- $* -> status $rc"
	sed 's/^/    /' "$log"
	[[ $rc == "$want" ]] || fail "$*: status $rc, expected $want"
}
run() { local want=$1; shift; run_cmd "$want" ./minivmm "$@"; }
has() { grep -qF -- "$1" "$log" || fail "output of the last run lacks '$1'"; }
