#!/usr/bin/env bash
# 55-latency: the latency lab on real KVM (inside L1; docs/latency.md).
# tests/guest/latency.bin halts 200 times on the LAPIC timer and takes
# three interrupts from the test device's IRQ port (line 10, IOAPIC):
#   - --stats shows KVM's binary statistics (exits, halt_exits >= 200);
#   - --halt-poll 0 leaves halt_attempted_poll at 0 (default: reported);
#   - --cpu-pm on --pin 1 removes the HLT exits, where L1's KVM allows it
#     (the line says which way it went);
#   - --testdev exit=qemu ends a passing payload with QEMU's status 1;
#   - minivmm check reports what the host supports.
# nested-seconds: 12
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# The value of a "stats: kvm vcpu NAME N" line of the last run (0: absent,
# as --stats leaves zeros out).
kstat() { sed -n "s/^stats: kvm vcpu $1 \([0-9]*\).*/\1/p" "$log" | head -n1 | grep . || echo 0; }

if in_l1; then
	./minivmm check 2>&1 | grep "KVM latency" || fail "minivmm check has no 'KVM latency' line"

	run 0 --firmware tests/guest/latency.bin --testdev --stats
	has "RESULT: PASS"; has "testdev-irq: 3 interrupts on line 10"
	has "stats: kvm vcpu exits "
	halts=$(kstat halt_exits); polls=$(kstat halt_attempted_poll)
	(( halts >= 200 )) || fail "KVM counted $halts HLT exits, expected >= 200"
	echo "ok: KVM's stats: $(kstat exits) exits, $halts halt_exits, $polls halt_attempted_poll, $(kstat irq_injections) irq_injections"

	run 0 --firmware tests/guest/latency.bin --testdev --stats --halt-poll 0
	has "RESULT: PASS"
	(( $(kstat halt_attempted_poll) == 0 )) || fail "--halt-poll 0: KVM still polled ($(kstat halt_attempted_poll))"
	(( $(kstat halt_exits) >= 200 )) || fail "--halt-poll 0: halt_exits $(kstat halt_exits)"
	echo "ok: --halt-poll 0: halt_attempted_poll 0 (default run: $polls)"

	set +e
	./minivmm --firmware tests/guest/latency.bin --testdev --stats --cpu-pm on --pin 1 > "$log" 2>&1 < /dev/null
	rc=$?
	set -e
	sed 's/^/    /' "$log"
	if [[ $rc == 0 ]]; then
		has "RESULT: PASS"
		grep -q "cpu-pm: the guest's .*HLT" "$log" || fail "--cpu-pm on ran but did not say HLT stays in the guest"
		(( $(kstat halt_exits) < 10 )) || fail "--cpu-pm on: still $(kstat halt_exits) HLT exits"
		echo "ok: --cpu-pm on: halt_exits $(kstat halt_exits) (vs $halts without)"
	else
		has "--cpu-pm on: this host lets no idle exit be disabled"
		echo "ok: --cpu-pm on: refused here in one line (L1's KVM cannot disable HLT exits), status $rc"
	fi
	run 2 --firmware tests/guest/latency.bin --cpu-pm on
	has "--cpu-pm on needs --pin"

	run 1 --firmware tests/guest/latency.bin --testdev exit=qemu
	has "RESULT: PASS"
	echo "ok: --testdev exit=qemu: a pass ends with status 1, as under QEMU"
	echo "LATENCY-OK"
	exit 0
fi

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "LATENCY-OK"
