# shellcheck shell=bash
# tests/nested/uefi-console.sh — drive a VMM's serial console from bash, inside L1.
# Sourced by nested cases and benchmarks that boot OVMF to the UEFI shell.
#
#   console_start NAME COMMAND...   start COMMAND with its stdin on a FIFO and its
#                                   output in $CONSOLE_DIR/NAME.out; sets CONSOLE_PID
#   console_wait STRING [SECONDS]   wait until the output holds STRING (since the
#                                   last console_mark); fails on timeout or exit
#   console_mark                    later waits only look at output after this point
#   console_send TEXT               type TEXT and Enter (CR, what a terminal sends)
#   console_finish [SECONDS]        wait for COMMAND to exit; sets CONSOLE_RC
#   kvm_exit_stats PID              "exits io mmio" of PID's VM from KVM's debugfs
#   vmm_rss_kib PID RAM_BYTES       resident KiB of PID without guest RAM (every
#                                   mapping at least RAM_BYTES long is left out)
#   now_ms                          monotonic milliseconds

CONSOLE_DIR=${CONSOLE_DIR:-${MINIVMM_L1_OUT:-$(mktemp -d)}}	# kept with the artifacts

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

console_start() {
	local name=$1; shift
	CONSOLE_OUT=$CONSOLE_DIR/$name.out
	CONSOLE_FIFO=$CONSOLE_DIR/$name.in
	rm -f "$CONSOLE_FIFO"; mkfifo "$CONSOLE_FIFO"
	: > "$CONSOLE_OUT"
	"$@" < "$CONSOLE_FIFO" > "$CONSOLE_OUT" 2>&1 &
	CONSOLE_PID=$!
	# Hold the FIFO open for writing so the VMM never sees EOF.
	exec {CONSOLE_FD}> "$CONSOLE_FIFO"
	CONSOLE_MARK=0
}

console_mark() { CONSOLE_MARK=$(stat -c %s "$CONSOLE_OUT"); }

# The console's last lines, without the firmware's escape sequences: what a
# failure report shows.
console_tail() {
	local t
	# A minivmm still running: where its threads wait, and its exit
	# counts (SIGUSR1 prints them), to tell a stuck VMM from a slow guest.
	if [[ $(cat "/proc/$CONSOLE_PID/comm" 2>/dev/null) == minivmm ]]; then
		echo "console: minivmm's threads (name state wchan):"
		for t in /proc/"$CONSOLE_PID"/task/*; do
			echo "  $(cat "$t/comm") $(awk '{ print $3 }' "$t/stat") $(cat "$t/wchan")"
		done 2>/dev/null
		kill -USR1 "$CONSOLE_PID" 2>/dev/null && sleep 1
		grep -ao "stats: userspace exits.*" "$CONSOLE_OUT" | tail -n 1
	fi
	echo "console: its last lines ($CONSOLE_OUT):"
	tr -d '\033' < "$CONSOLE_OUT" | sed 's/\[[0-9;]*[A-Za-z]//g' | tr '\r' '\n' |
		grep -av '^[[:space:]]*$' | grep -av '^stats: ' | tail -n 12 | sed 's/^/  | /'
}

console_wait() {
	local what=$1 secs=${2:-300} end
	end=$(( $(date +%s) + secs ))
	while :; do
		if tail -c +$((CONSOLE_MARK + 1)) "$CONSOLE_OUT" | grep -aqF -- "$what"; then
			return 0
		fi
		if ! kill -0 "$CONSOLE_PID" 2>/dev/null; then
			echo "console: the VMM exited before printing '$what'" >&2
			console_tail >&2
			return 1
		fi
		if (( $(date +%s) >= end )); then
			echo "console: no '$what' within ${secs}s" >&2
			console_tail >&2
			return 1
		fi
		sleep 0.2
	done
}

console_send() {
	# One character at a time, as a person types: the UART model has a
	# 16-byte FIFO and the firmware polls it.
	local text=$1 i
	# Nothing to a VMM that has gone: the FIFO has no reader, and the
	# write would kill this shell with SIGPIPE.
	kill -0 "$CONSOLE_PID" 2>/dev/null || return 0
	for (( i = 0; i < ${#text}; i++ )); do
		printf '%s' "${text:i:1}" >&"$CONSOLE_FD"
		sleep 0.02
	done
	printf '\r' >&"$CONSOLE_FD"
}

console_finish() {
	local secs=${1:-120} i
	for (( i = 0; i < secs * 5; i++ )); do
		kill -0 "$CONSOLE_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$CONSOLE_PID" 2>/dev/null; then
		kill -KILL "$CONSOLE_PID" 2>/dev/null
		echo "console: the VMM did not exit within ${secs}s" >&2
	fi
	set +e; wait "$CONSOLE_PID"; CONSOLE_RC=$?; set -e
	export CONSOLE_RC	# for the caller
	exec {CONSOLE_FD}>&-
}

kvm_exit_stats() {
	local pid=$1 d
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	for d in /sys/kernel/debug/kvm/"$pid"-*; do
		[[ -f $d/exits ]] || continue
		echo "$(cat "$d/exits") $(cat "$d/io_exits") $(cat "$d/mmio_exits")"
		return 0
	done
	echo "? ? ?"
}

vmm_rss_kib() {
	local pid=$1 ram_kib=$(( $2 / 1024 ))
	# Each mapping's "Size:" (kB) comes before its "Rss:".
	awk -v ram="$ram_kib" '
		/^Size:/ { big = ($2 >= ram) }
		/^Rss:/ && !big { sum += $2 }
		END { print sum + 0 }' "/proc/$pid/smaps"
}
