# tests/nested/vfio/monitor.sh — talk to L1's QEMU monitor from L0, while L1 runs.
# Sourced by nested cases that look at or type into L1's devices (screendump of
# a passed display, sendkey to a USB keyboard behind a passed xHCI).
#
#   monitor_args SOCK        prints the run-l1.sh options that give L1's QEMU an
#                            HMP monitor on the unix socket SOCK
#   hmp SOCK COMMAND         run one HMP command, print its output
#   wait_file FILE [SECONDS] wait until FILE exists (L1 signals through --out)
#   ppm_stats FILE           "WIDTH HEIGHT NONBLACK" of a binary PPM (P6)

monitor_args() { echo "--qemu-arg -monitor --qemu-arg unix:$1,server=on,wait=off"; }

hmp() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(100):
    try:
        s.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.1)
s.settimeout(60)
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
out = until_prompt().decode(errors="replace")
# The monitor echoes the command line with terminal escapes: keep the rest.
print("\n".join(l for l in out.splitlines()[1:] if not l.startswith("(qemu)")))
PY
}

wait_file() {
	local f=$1 secs=${2:-600} i
	for (( i = 0; i < secs * 5; i++ )); do
		[[ -e $f ]] && return 0
		sleep 0.2
	done
	return 1
}

ppm_stats() {
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# P6\n<w> <h>\n<max>\n<pixels>
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    end = pos
    while not data[end:end + 1].isspace():
        end += 1
    fields.append(data[pos:end])
    pos = end
pos += 1
w, h = int(fields[1]), int(fields[2])
px = data[pos:pos + w * h * 3]
nonblack = sum(1 for i in range(0, len(px), 3) if px[i] or px[i + 1] or px[i + 2])
print(w, h, nonblack)
PY
}
