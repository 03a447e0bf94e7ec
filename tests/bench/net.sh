# shellcheck shell=bash
# tests/bench/net.sh — the virtio-net rows of `make bench`: the same Linux guest
# (tests/nested/blk: Debian's kernel booted by OVMF from a read-only ESP, iperf3
# and tcprr in its initramfs) under minivmm and under QEMU+KVM, each with the
# in-kernel data path (vhost=on) and its own userspace one (vhost=off), on the
# multiqueue tap tapnb (10.0.60.1/24) of the same L1 run:
#
#   minivmm --net tap=tapnb,mac=M,queues=2,vhost=on|off
#   QEMU    -netdev tap,ifname=tapnb,script=no,downscript=no,queues=2,vhost=on|off
#           -device virtio-net-pci,netdev=n0,mac=M,mq=on,vectors=6,romfile=
#
# Both boot the disk only (minivmm --boot disk, QEMU bootindex=0 and no iPXE
# ROM): no network boot attempts before the shell runs startup.nsh.
# Both: stock OVMF.fd, 2 vCPUs, 512 MiB, two queue pairs, KVM's paravirtual
# interface only (minivmm --hyperv off, as QEMU without hv-* flags: with
# Hyper-V's, Linux takes Hyper-V's MSR EOI in place of KVM's PV EOI, an exit
# per interrupt that this interrupt-bound path would show). Rows, each for
# vhost (on) and user (off):
#   net-*-tx-mbits     iperf3 TCP guest -> L1, NET_BENCH_S seconds (Mbit/s)
#   net-*-rx-mbits     iperf3 TCP L1 -> guest (-R)
#   net-*-rr-us        median of NET_RR_N 1-byte TCP round trips guest <-> L1
#                      (tests/nested/blk/tcprr.c, TCP_NODELAY)
#   net-*-cpu-s-gib    CPU seconds (user + system) of the VMM process and its
#                      vhost workers (vhost-PID) over both iperf3 transfers, per
#                      GiB they moved: what the data path costs the host
#
# Sourced by tests/bench/run.sh (net_bench_prepare OUT on L0, net_bench VMM
# RESULTS in L1, net_bench_rows); run alone, only these rows in an L1 of their
# own:  bash tests/bench/net.sh

NET_BENCH_S=${NET_BENCH_S:-10}
NET_RR_N=${NET_RR_N:-2000}
NET_BENCH_MAC=52:54:00:60:00:02

net_bench_prepare() {
	local out=$1
	(
		set -e
		source tests/nested/blk/images.sh
		BLK_PATTERN=$out/pattern.bin
		blk_pattern "$BLK_PATTERN" $((1 << 20))
		mkdir -p "$out/net.files"
		BLK_EXTRA_MODULES=virtio_net blk_initramfs "$out/net.files/initrd.img" --iperf3
		cp "$(blk_kernel)" "$out/net.files/vmlinuz"
		blk_esp "$out/esp-net.img" 96 "$(blk_startup_linux minivmm.test=netbench \
			minivmm.net_mac=$NET_BENCH_MAC minivmm.net_ip=10.0.60.2 \
			minivmm.net_peer=10.0.60.1 minivmm.netbench_s="$NET_BENCH_S" \
			minivmm.rr_n="$NET_RR_N" loglevel=1)" "$out/net.files/vmlinuz" "$out/net.files/initrd.img"
		rm -rf "$out/net.files"
		gcc -static -O2 -o "$out/tcprr" tests/nested/blk/tcprr.c
	)
}

net_bench_l1_args() { :; }

# net_cpu_ticks PID: user + system clock ticks of PID's process and of its
# vhost workers (kernel threads "vhost-PID" before Linux 6.4, its own threads
# after: counted in the process then).
net_cpu_ticks() {
	local pid=$1 f t=0 s
	for f in /proc/"$pid"/stat $(grep -lx "vhost-$pid" /proc/[0-9]*/comm 2> /dev/null |
			sed 's/comm$/stat/'); do
		s=$(sed 's/.*) //' "$f" 2> /dev/null) || continue
		# fields 14 and 15 of stat, 12 and 13 after "pid (comm) "
		t=$((t + $(awk '{ print $12 + $13 }' <<< "$s")))
	done
	echo "$t"
}

# One guest under VMM with vhost=MODE; appends its result lines.
net_bench_one() {
	local vmm=$1 mode=$2 results=$3 out=$MINIVMM_L1_OUT serial pid watchdog t0=0 ticks=0 dir
	local limit=${BENCH_NET_TIMEOUT:-600} key
	key=$([[ $mode == on ]] && echo vhost || echo user)
	serial=$out/$vmm.net-$key.serial
	rm -f "$serial"
	case $vmm in
	minivmm|base)
		"$(bench_minivmm "$vmm")" --ovmf /usr/share/ovmf/OVMF.fd --cpus 2 \
			--memory 512M --boot disk --disk "path=$out/esp-net.img,readonly=on" \
			--net "tap=tapnb,mac=$NET_BENCH_MAC,queues=2,vhost=$mode" --hyperv off --verbose \
			--serial "file:$serial" < /dev/null > "$out/$vmm.net-$key.log" 2>&1 &
		;;
	qemu)
		"${QEMU_L2:-qemu-system-x86_64}" -accel kvm -machine q35 -cpu host \
			-smp 2 -m 512M -nodefaults -display none -bios /usr/share/ovmf/OVMF.fd \
			-serial "file:$serial" \
			-drive "file=$out/esp-net.img,if=none,id=d1,format=raw,readonly=on" \
			-device virtio-blk-pci,drive=d1,bootindex=0 \
			-netdev "tap,id=n0,ifname=tapnb,script=no,downscript=no,queues=2,vhost=$mode" \
			-device "virtio-net-pci,netdev=n0,mac=$NET_BENCH_MAC,mq=on,vectors=6,romfile=" \
			< /dev/null > "$out/$vmm.net-$key.log" 2>&1 &
		;;
	esac
	pid=$!
	# A guest that hangs costs BENCH_NET_TIMEOUT and its rows, not the run.
	(for ((w = 0; w < limit; w++)); do sleep 1; kill -0 "$pid" 2> /dev/null || exit 0; done
	 kill "$pid" 2> /dev/null) &
	watchdog=$!
	# Sample the VMM's CPU time as the guest starts and ends each transfer.
	for dir in tx rx; do
		while kill -0 "$pid" 2> /dev/null &&
			! grep -aq "NETBENCH-BEGIN $dir\|MINIVMM-GUEST-FAIL" "$serial" 2> /dev/null; do
			sleep 0.1
		done
		t0=$(net_cpu_ticks "$pid")
		while kill -0 "$pid" 2> /dev/null &&
			! grep -aq "NETBENCH-END $dir\|MINIVMM-GUEST-FAIL" "$serial" 2> /dev/null; do
			sleep 0.1
		done
		ticks=$((ticks + $(net_cpu_ticks "$pid") - t0))
	done
	wait "$pid" || true
	kill "$watchdog" 2> /dev/null || true
	if ! grep -aq "MINIVMM-GUEST-DONE" "$serial" || grep -aq "MINIVMM-GUEST-FAIL" "$serial"; then
		echo "bench: the net guest under $vmm (vhost=$mode) did not finish (see $serial)" >&2
		grep -a "MINIVMM-GUEST" "$serial" >&2 || true
		echo "$vmm net-$key-unfinished 1" >> "$results"
		return
	fi
	grep -a 'MINIVMM-GUEST: netbench ' "$serial" | python3 -c '
import sys
vmm, key, ticks, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
moved = 0
for line in sys.stdin:
    f = line.split()
    try:
        if f[2] == "rr":
            print(vmm, "net-%s-rr-us" % key, float(f[f.index("median-us") + 1]))
        elif f[2] in ("tx", "rx"):
            moved += int(f[f.index("bytes") + 1])
            bps = float(f[f.index("bps") + 1])
            print(vmm, "net-%s-%s-mbits" % (key, f[2]), round(bps / 1e6, 1))
    except (ValueError, IndexError):
        print("bench: %s: an unreadable result line: %s" % (vmm, line.strip()), file=sys.stderr)
# the raw figures too, for a second look at the results file
print(vmm, "net-%s-cpu-ticks" % key, ticks)
print(vmm, "net-%s-bytes" % key, moved)
if moved:
    print(vmm, "net-%s-cpu-s-gib" % key, round(ticks / hz / (moved / 2**30), 2))
' "$vmm" "$key" "$ticks" "$(getconf CLK_TCK)" >> "$results"
}

# net_bench VMM RESULTS (in L1): both data paths of VMM.
net_bench() {
	local vmm=$1 results=$2 out=$MINIVMM_L1_OUT
	if [[ ! -e /sys/class/net/tapnb ]]; then
		# as tests/nested/cases/59-vhost.sh: L1's initramfs may be
		# another tree's
		for m in tun vhost_net; do
			[[ -d /sys/module/$m ]] ||
				modprobe -d "${MINIVMM_CACHE:-/var/cache/minivmm}/kernel-$(uname -r)/root" "$m"
		done
		ip tuntap add dev tapnb mode tap multi_queue
		ip addr add 10.0.60.1/24 dev tapnb
		ip link set tapnb up
		ip link set lo up
		iperf3 -s -D -B 10.0.60.1 > /dev/null
		"$out/tcprr" server 10.0.60.1 8061 > /dev/null 2>&1 &
	fi
	[[ -c /dev/vhost-net ]] || echo "bench: no /dev/vhost-net in L1: the vhost rows will be missing" >&2
	net_bench_one "$vmm" on "$results"
	net_bench_one "$vmm" off "$results"
}

net_bench_rows() {
	local k
	for k in vhost user; do
		row net-$k-tx-mbits "net $k: TCP guest->L1 (Mbit/s)"
		row net-$k-rx-mbits "net $k: TCP L1->guest (Mbit/s)"
		row net-$k-rr-us "net $k: 1-byte TCP RR median (us)"
		row net-$k-cpu-s-gib "net $k: VMM CPU s per GiB"
	done
}

# Run alone: only the virtio-net rows, in an L1 of their own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	bench_alone net "virtio-net: minivmm vs QEMU+KVM, vhost=on and off, same guest and tap"
fi
