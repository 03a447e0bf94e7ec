#!/usr/bin/env bash
# Run every cmocka unit-test binary given on the command line and finish with
# one summary line, "N passed, N failed", counted over all test cases.
set -u
passed=0 failed=0 broken=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# A binary that crashed or exited non-zero without reporting a
	# failure still fails the run.
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		# 66: ThreadSanitizer's exit status after a report
		# (make SANITIZE=thread); the report is printed above.
		if [ "$rc" -eq 66 ]; then
			echo "unit: $bin exited with status 66 (ThreadSanitizer reported a race above)"
		else
			echo "unit: $bin exited with status $rc"
		fi
		broken=$((broken + 1))
	fi
done
failed=$((failed + broken))
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
