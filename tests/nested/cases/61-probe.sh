#!/usr/bin/env bash
# 61-probe: minivmm probe on QEMU's edu (1234:11e8) and NVMe (1b36:0010),
# bound to vfio-pci in L1 (docs/latency.md). For each it runs the built-in
# payload (tests/guest/probe.bin) twice, BARs mapped and trapped
# (mmap=off), and prints min/median/p99/max in TSC cycles and ns: the
# BAR0 read both ways, the ECAM config read, the TSC overhead, and the
# interrupt round trip (edu: MSI on request; NVMe: an admin GET FEATURES
# completed through MSI-X); one JSON line per measure. A trapped read must
# cost more than a mapped one. Figures from here are nested (KVM in TCG),
# not bare metal.
# nested-seconds: 25
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	O=$MINIVMM_L1_OUT
	for dev in 00:10.0:edu 00:11.0:nvme; do
		bdf=${dev%:*}; name=${dev##*:}
		set +e
		./minivmm probe --vfio "$bdf" --count 200 > "$O/probe-$name.txt" 2> "$O/probe-$name.err" < /dev/null
		rc=$?
		set -e
		sed 's/^/    /' "$O/probe-$name.txt" "$O/probe-$name.err"
		[[ $rc == 0 ]] || fail "minivmm probe --vfio $bdf ($name): status $rc"
		irq=irq-msi; [[ $name == nvme ]] && irq=irq-nvme-msix
		for m in tsc bar-read-mapped bar-read-trapped ecam-read $irq; do
			grep -q "^{\"measure\":\"$m\"" "$O/probe-$name.txt" ||
				fail "probe $name: no JSON line for $m"
			grep -q "^$m " "$O/probe-$name.txt" || fail "probe $name: no table row for $m"
		done
		echo "ok: minivmm probe on $name: every measure, table and JSON"
	done
	echo "PROBE-OK"
	exit 0
fi

truncate -s 16M "$NESTED_OUT/nv.img"
l1_run --pci-passthrough edu@0x10 --drive "file=$NESTED_OUT/nv.img,if=none,id=nv0,format=raw" \
	--pci-passthrough 'nvme,serial=probe0,drive=nv0@0x11' --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "PROBE-OK"
# On L0: the JSON lines parse, and trapped BAR reads cost more than mapped ones.
for name in edu nvme; do
	python3 - "$NESTED_OUT/probe-$name.txt" "$name" <<'PY' || fail "probe $name: JSON lines or figures wrong"
import json, sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        m[d["measure"]] = d
for k, d in m.items():
    c = d["cycles"]
    assert d["n"] == 200 and c["min"] <= c["median"] <= c["p99"] <= c["max"], (k, d)
mapped, trapped = m["bar-read-mapped"]["cycles"]["median"], m["bar-read-trapped"]["cycles"]["median"]
assert trapped > mapped, ("trapped read not slower", mapped, trapped)
print("ok: %s: %d measures; BAR read median %d cycles mapped, %d trapped" % (sys.argv[2], len(m), mapped, trapped))
PY
done
