#!/usr/bin/env bash
# 60-vfio-trace: --trace vfio of an NVMe passthrough run (QEMU's 1b36:0010,
# bound to vfio-pci in L1). minivmm runs tests/guest/probe.bin on it, which
# places the BARs, enables MSI-X and completes admin commands through it;
# the trace (docs/latency.md) must list, in this order: the reset at open,
# the DMA map of guest RAM, the guest's config writes (COMMAND reaching the
# device, the BARs virtualized), BAR0's placement with its memslots and its
# trapped MSI-X pages, the MSI-X route and unmask of vector 0, and the reset
# at exit; every line is one JSON object with ts (increasing) and bdf. A
# run without --trace writes no trace line.
# nested-seconds: 15
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	O=$MINIVMM_L1_OUT
	P=(--firmware tests/guest/probe.bin --testdev --memory 128M --vfio 00:11.0
	   --fw-cfg "name=opt/minivmm/probe,string=count=20 mode=mapped")
	run 0 "${P[@]}" --trace "vfio,file=$O/trace.json"
	has "RESULT: PASS"; has "probe-result: name=irq-nvme-msix"
	echo "ok: the probe payload drove the NVMe (MSI-X) with --trace vfio; $(wc -l < "$O/trace.json") trace lines"
	run 0 "${P[@]}"
	grep -q '"event":' "$log" && fail "a run without --trace printed trace lines"
	echo "ok: no trace without --trace"
	echo "VFIO-TRACE-OK"
	exit 0
fi

truncate -s 16M "$NESTED_OUT/nv.img"
l1_run --drive "file=$NESTED_OUT/nv.img,if=none,id=nv0,format=raw" \
	--pci-passthrough 'nvme,serial=trace0,drive=nv0@0x11' --timeout 300 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VFIO-TRACE-OK"
python3 - "$NESTED_OUT/trace.json" <<'PY' || fail "the trace is not what an NVMe run must show (see above)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ts = [e["ts"] for e in ev]
assert ts == sorted(ts), "timestamps not increasing"
assert all(e["bdf"] in ("0000:00:11.0", None) for e in ev), "a line names another device"
def first(pred, after=-1, what=""):
    for i, e in enumerate(ev):
        if i > after and pred(e):
            return i
    raise AssertionError("missing after line %d: %s" % (after + 1, what))
name = lambda n: (lambda e: e["event"] == n)
i = first(lambda e: e["event"] == "reset" and e["why"] == "open" and e["ok"], what="reset at open")
i = first(name("dma-map"), i, "DMA map of guest RAM")
i = first(lambda e: e["event"] == "cfg-write" and e["off"] == "0x10" and e["hw"] == "virtualized", i, "BAR0 written, virtualized")
i = first(lambda e: e["event"] == "bar-map" and e["bar"] == 0, i, "BAR0 placed")
i = first(lambda e: e["event"] == "memslot-add" and e["bar"] == 0, i, "BAR0 memslot")
first(lambda e: e["event"] == "trap-add" and e["bar"] == 0, i, "BAR0's MSI-X pages trapped")
first(lambda e: e["event"] == "cfg-write" and e["off"] == "0x4" and isinstance(e["hw"], list), what="COMMAND reaching the device")
i = first(lambda e: e["event"] == "set-irqs" and e["index"] == "msix" and e["count"] > 0, i, "MSI-X vectors from VFIO")
i = first(lambda e: e["event"] == "msi-route-add" and e["type"] == "msix" and e["vector"] == 0, i, "MSI-X vector 0 routed")
i = first(lambda e: e["event"] == "vector-unmask" and e["type"] == "msix" and e["vector"] == 0, i, "MSI-X vector 0 unmasked")
i = first(lambda e: e["event"] == "reset" and e["why"] == "exit", i, "reset at exit")
print("ok: trace of %d events in order: reset (open, %s), DMA map, BAR0 placed (memslot + trapped MSI-X pages), MSI-X vector 0 routed and unmasked, reset (exit, %s)"
      % (len(ev), ev[0].get("method"), ev[i].get("method")))
PY
