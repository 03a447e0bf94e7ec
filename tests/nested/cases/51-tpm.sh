#!/usr/bin/env bash
# 51-tpm: --tpm (docs/tpm.md). One L1 boot, two guest boots and one failed start.
# In L1, minivmm starts swtpm (L0's binary, through the read-only root) with
# the VM's state under $MINIVMM_STATE_DIR/NAME/tpm and boots the stock OVMF and
# the Linux guest of tests/nested/blk (test "tpm") twice, same image, same
# --uuid. Each boot: Linux's tpm_crb binds the MSFT0101 device (/dev/tpm0), PCRs
# 0-7 (SHA-256) hold OVMF's measurements (none zero) and are equal in both
# boots; the first boot defines an NV index and writes a random value, the
# second reads it back (swtpm's state persisted in the state dir). After each
# run, and after a start that fails once swtpm is up (a --disk that does not
# exist: status 1), no swtpm process is left. The guest kernel logs no ACPI or
# TPM complaint ("[Firmware Bug]" included) at loglevel 5.
# nested-seconds: 68
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

NV_INDEX=0x01500017

if in_l1; then
	O=$MINIVMM_L1_OUT
	export MINIVMM_STATE_DIR=/tmp/state
	no_swtpm() {
		local p
		for _ in $(seq 50); do
			p=$(pgrep -a -x swtpm || true)
			[[ -z $p ]] && return 0
			sleep 0.1
		done
		fail "swtpm is still running after minivmm $1: $p"
	}
	for run in 1 2; do
		set +e
		timeout 600 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
			--name tpmvm --tpm --uuid 6b1f3c2e-8a9d-4f10-b2c3-0123456789ab \
			--disk "path=$O/esp.img,readonly=on" \
			--serial "file:$O/serial-$run.txt" < /dev/null > "$O/minivmm-$run.log" 2>&1
		rc=$?
		set -e
		sed 's/^/    /' "$O/minivmm-$run.log"
		grep -a 'MINIVMM-\|tpm\|TPM' "$O/serial-$run.txt" | tr -d '\033\r' | sed "s/^/  guest $run: /" || true
		[[ $rc == 0 ]] || fail "run $run: minivmm ended with status $rc (expected 0: the guest powers off)"
		grep -aq "MINIVMM-GUEST-FAIL" "$O/serial-$run.txt" &&
			fail "run $run: the guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial-$run.txt" | head -1)"
		grep -aq "MINIVMM-GUEST-DONE" "$O/serial-$run.txt" || fail "run $run: the guest did not finish its checks"
		# What Linux says of the TPM2 table, the MSFT0101 device and the
		# CRB (loglevel 5: warnings included): nothing to complain about.
		if grep -a "Firmware Bug\|ACPI.*\(Error\|Exception\|Warning\)\|tpm.*\(error\|fail\)" \
			"$O/serial-$run.txt"; then
			fail "run $run: the Linux guest reports TPM or ACPI problems (above)"
		fi
		no_swtpm "run $run's power-off"
		echo "ok: run $run: no swtpm left after the guest powered off"
	done
	ls -l /tmp/state/tpmvm/tpm
	[[ -s /tmp/state/tpmvm/tpm/tpm2-00.permall ]] || fail "no TPM state in /tmp/state/tpmvm/tpm"
	grep -a "^MINIVMM-PCR" "$O/serial-1.txt" | tr -d '\r' > "$O/pcr-1"
	grep -a "^MINIVMM-PCR" "$O/serial-2.txt" | tr -d '\r' > "$O/pcr-2"
	[[ $(wc -l < "$O/pcr-1") == 8 ]] || fail "run 1 printed $(wc -l < "$O/pcr-1") PCRs, not 8"
	cmp "$O/pcr-1" "$O/pcr-2" || fail "PCRs 0-7 differ between the two boots of the same image"
	echo "ok: PCRs 0-7 equal in both boots"

	set +e
	./minivmm --ovmf /usr/share/ovmf/OVMF.fd --name tpmvm --tpm --disk /nonexistent.img \
		< /dev/null > "$O/minivmm-err.log" 2>&1
	rc=$?
	set -e
	sed 's/^/    /' "$O/minivmm-err.log"
	[[ $rc == 1 ]] || fail "a start with a missing disk ended with status $rc, not 1"
	no_swtpm "a failed start"
	echo "ok: a failed start leaves no swtpm"
	echo "TPM-OK"
	exit 0
fi

nv=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
blk_guest_files "$NESTED_OUT"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=tpm minivmm.nv_index=$NV_INDEX minivmm.nv=$nv loglevel=5)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 900 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "TPM-OK"
assert_log_contains "guest 1: MINIVMM-GUEST: tpm: MSFT0101:00, TPM 2"
assert_log_contains "guest 1: MINIVMM-GUEST: NV-WRITTEN $nv"
assert_log_contains "guest 2: MINIVMM-GUEST: NV-READ $nv"
