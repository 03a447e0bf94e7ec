#!/usr/bin/env bash
# 47-control: the control socket, minivmm ctl and running in the background, on
# real KVM with the seccomp filter on (docs/control.md). One L1 boot, three
# minivmm runs:
#   1. OVMF to its shell with --control, --daemonize, --pidfile and --log: the
#      parent returns 0 once the VM runs, the child leads its own session, the
#      socket is 0600 and the pidfile names the child; `ctl status` says running
#      with 2 vCPUs, `ctl stats` answers, bad requests get ok:false; a second
#      VM on the same socket, or on the same pidfile, is refused at once with
#      one line on the terminal and status 1 (and leaves no file behind), and
#      so is a daemon whose firmware is missing; `ctl stop` returns once the VM
#      is gone: status 0 in its log, after the full teardown, socket and
#      pidfile removed.
#   2. In the foreground: `ctl stop` gives the exit status 0 to `wait`.
#   3. A daemon ended by SIGTERM: status 143 in its log, both files removed.
# (powerdown and reset are tested once they work: issue 11.)
# nested-seconds: 150
set -euo pipefail
# shellcheck source=tests/nested/lib.sh
source "$(dirname "$0")/../lib.sh"

if in_l1; then
	O=$MINIVMM_L1_OUT
	D=/run/minivmm-47
	S=$D/vm.sock P=$D/vm.pid
	mkdir -p "$D"
	OVMF=(--ovmf /usr/share/ovmf/OVMF.fd --memory 256M --cpus 2)
	# Poll up to $1 tenths of a second for COMMAND to succeed.
	poll() {
		local n=$1 i; shift
		for ((i = 0; i < n * 5; i++)); do
			"$@" && return 0
			sleep 0.02
		done
		return 1
	}
	alive() { kill -0 "$1" 2> /dev/null; }
	gone() { ! kill -0 "$1" 2> /dev/null; }
	# ctl EXPECTED-STATUS ARGS...: run minivmm ctl; its reply in $reply
	ctl() {
		local want=$1 rc; shift
		set +e
		reply=$(./minivmm ctl --timeout 60 "$@" 2> "$O/ctl.err")
		rc=$?
		set -e
		echo "--- minivmm ctl $* -> status $rc: $reply"
		sed 's/^/    /' "$O/ctl.err"
		[[ $rc == "$want" ]] || fail "minivmm ctl $*: status $rc, expected $want"
	}
	# start NAME EXPECTED-STATUS ARGS...: a minivmm that daemonizes (or fails)
	start() {
		local name=$1 want=$2 rc; shift 2
		set +e
		timeout 300 ./minivmm "$@" < /dev/null > "$O/$name.out" 2>&1
		rc=$?
		set -e
		echo "--- minivmm $* -> status $rc"
		sed 's/^/    /' "$O/$name.out"
		[[ $rc == "$want" ]] || fail "$name: minivmm status $rc, expected $want"
	}

	# 1. In the background.
	serial=$O/serial-daemon.txt
	t0=$(date +%s.%N)
	start daemon 0 "${OVMF[@]}" --serial "file:$serial" --control "$S" --daemonize \
		--pidfile "$P" --log "$O/daemon.log"
	echo "ok: --daemonize returned 0 after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	[[ -f $P ]] || fail "no pidfile once the parent returned"
	pid=$(cat "$P")
	alive "$pid" || fail "the pidfile names $pid, which is not running"
	[[ $(awk '{ print $6 }' "/proc/$pid/stat") == "$pid" ]] || fail "the daemon does not lead its own session"
	[[ $(readlink "/proc/$pid/cwd") == / ]] || fail "the daemon's working folder is not /"
	[[ $(readlink "/proc/$pid/fd/0") == /dev/null ]] || fail "the daemon's stdin is not /dev/null"
	echo "ok: the daemon (pid $pid) leads its own session, in /, stdin /dev/null"
	[[ -S $S ]] || fail "no control socket at $S"
	[[ $(stat -c %a "$S") == 600 ]] || fail "the control socket is mode $(stat -c %a "$S"), not 600"
	echo "ok: the control socket is 0600"

	ctl 0 "$S" status
	[[ $reply == *'"ok":true'* && $reply == *'"running":true'* ]] || fail "status: not running: $reply"
	[[ $reply == *'"vcpus":2'* ]] || fail "status: not 2 vCPUs: $reply"
	[[ $reply == *'"resets":0'* && $reply == *'"uart"'* && $reply == *'"pci-root"'* ]] ||
		fail "status: resets or devices missing: $reply"
	ctl 0 "$S" stats
	for f in '"exits":{"total":' '"interrupts":{"irq_line_raises":' '"exit_handling_us":' \
		 '"buses":{"pio":{"devices":[' '"name":"uart","base":"0x3f8"'; do
		[[ $reply == *"$f"* ]] || fail "stats: no $f in $reply"
	done
	echo "ok: status (running, 2 vCPUs, the devices) and stats (exits, interrupts, buses) answer"

	ctl 1 "$S" nope
	[[ $reply == *'"ok":false'*'unknown command'* ]] || fail "an unknown command: $reply"
	ctl 1 "$S" '{"cmd":'
	[[ $reply == *'bad JSON'* ]] || fail "bad JSON: $reply"
	ctl 1 "$S" '{"cmd":"status","id":1}'
	[[ $reply == *'unknown member'* ]] || fail "an unknown member: $reply"
	ctl 1 "$S" '{"cmd":true}'
	ctl 0 "$S" status		# and the VM still answers
	ctl 2 "$S"
	ctl 3 "$D/nothing.sock" status
	grep -q "no VM listens there (is it running with --control $D/nothing.sock?)" "$O/ctl.err" ||
		fail "ctl to no socket: no one-line reason"
	echo "ok: bad requests get ok:false (status 1), bad usage 2, no VM 3; the VM still answers"

	start second-socket 1 "${OVMF[@]}" --serial none --control "$S" --daemonize
	grep -q "a control socket path in use" "$O/second-socket.out" || fail "a second VM on the socket: no reason"
	start second-pidfile 1 "${OVMF[@]}" --serial none --control "$D/other.sock" --daemonize \
		--pidfile "$P"
	grep -q "holds it" "$O/second-pidfile.out" || fail "a second VM on the pidfile: no reason"
	[[ ! -e $D/other.sock ]] || fail "a start that failed left its socket behind"
	start no-firmware 1 --ovmf /nonexistent/OVMF.fd --control "$D/other.sock" --daemonize \
		--pidfile "$D/other.pid"
	grep -q "/nonexistent/OVMF.fd" "$O/no-firmware.out" || fail "a daemon's start-up error did not reach the terminal"
	[[ ! -e $D/other.sock && ! -e $D/other.pid ]] || fail "a failed start left a file behind"
	[[ $(cat "$P") == "$pid" ]] && alive "$pid" || fail "the first VM suffered"
	echo "ok: a second VM on the same socket or pidfile, and a daemon without firmware, fail at once (status 1, one line on the terminal)"

	poll 2400 grep -aq "Shell>" "$serial" || fail "OVMF did not reach its shell"
	echo "ok: OVMF reached Shell> in the background"
	ctl 0 "$S" status
	ctl 0 --timeout 120 "$S" stop
	[[ $reply == '{"ok":true}' ]] || fail "stop: $reply"
	# ctl stop returned: the VM has torn down, the files are gone
	[[ ! -e $S ]] || fail "the control socket is still there after stop"
	[[ ! -e $P ]] || fail "the pidfile is still there after stop"
	poll 100 gone "$pid" || fail "minivmm $pid still runs 10 s after stop"
	sed 's/^/    log: /' "$O/daemon.log"
	grep -q "stopped through the control socket" "$O/daemon.log" || fail "the log does not say how it stopped"
	grep -q "minivmm: exit status 0" "$O/daemon.log" || fail "the daemon did not exit with status 0"
	! grep -q "seccomp" "$O/daemon.log" || fail "the seccomp filter stopped minivmm"
	echo "ok: ctl stop returned once the VM was gone: exit status 0, socket and pidfile removed"

	# 2. In the foreground: the status reaches wait.
	./minivmm "${OVMF[@]}" --serial none --control "$S" < /dev/null > "$O/fg.log" 2>&1 &
	fg=$!
	poll 600 test -S "$S" || fail "the foreground VM made no socket"
	ctl 0 "$S" status
	ctl 0 --timeout 120 "$S" stop
	set +e; wait "$fg"; rc=$?; set -e
	sed 's/^/    fg: /' "$O/fg.log"
	[[ $rc == 0 ]] || fail "the foreground VM stopped with status $rc, expected 0"
	[[ ! -e $S ]] || fail "the foreground VM left its socket"
	echo "ok: in the foreground, ctl stop gives status 0 to wait"

	# 3. A daemon that a signal stops.
	start sigterm 0 "${OVMF[@]}" --control "$S" --daemonize --pidfile "$P" --log "$O/sigterm.log"
	pid=$(cat "$P")
	ctl 0 "$S" status
	kill -TERM "$pid"
	poll 600 gone "$pid" || fail "SIGTERM did not end the daemon"
	sed 's/^/    log: /' "$O/sigterm.log"
	grep -q "minivmm: exit status 143" "$O/sigterm.log" || fail "SIGTERM: not status 143"
	[[ ! -e $S && ! -e $P ]] || fail "SIGTERM left the socket or the pidfile"
	echo "ok: SIGTERM ends a daemon with status 143, socket and pidfile removed"
	echo "CONTROL-OK"
	exit 0
fi

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "CONTROL-OK"
